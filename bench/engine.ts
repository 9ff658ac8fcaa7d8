/**
 * `npm run bench:engine`: the parallel engine's kernels (src/lib/engine)
 * against XNNPACK's, on the products of a training step of the seed models.
 *
 * For each product: XNNPACK through tfjs-backend-wasm's `_FusedMatMul`,
 * with its packed copy of B cached (the ceiling `npm run bench` reports: B
 * is packed once) and repacked on every call (what training pays: the
 * weights change every step); then the engine's packing-free product with
 * plain SIMD and with fused multiply-add, on 1 thread and on every core.
 * Then the element-wise work of a step (Adam over the vanilla model's
 * 101,200 parameters; sigmoid + cross-entropy over a batch's outputs).
 * Best of 5 timings each; GFLOP/s (products) or ns per element.
 *
 *   npm run bench:engine -- [--batch 32,256] [--threads N] [--out bench/results/engine.json]
 *
 * Relaxed SIMD needs a V8 flag in Node 20: the benchmark restarts itself
 * with it when it is missing.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/lib/backend';
import { defaultThreadCount, Engine, relaxedSimdNodeFlags, relaxedSimdSupported } from '../src/lib/engine';
import { wasmInternals } from '../src/lib/wasm-train-step';

if (!relaxedSimdSupported() && relaxedSimdNodeFlags().length && !process.env.AENB_BENCH_ENGINE_CHILD) {
  const r = spawnSync(process.execPath, [...relaxedSimdNodeFlags(), ...process.execArgv, __filename, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, AENB_BENCH_ENGINE_CHILD: '1' },
  });
  process.exit(r.status ?? 1);
}

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const batches = (option('batch') ?? '32,256').split(',').map(Number);
const threads = Number(option('threads') ?? defaultThreadCount());
const outFile = option('out') ?? path.join('bench', 'results', 'engine.json');

function best(f: () => void, flop: number): number {
  for (let i = 0; i < 10; i++) f();
  const reps = Math.max(10, Math.round(1e9 / flop));
  let ms = Infinity;
  for (let t = 0; t < 5; t++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) f();
    ms = Math.min(ms, (performance.now() - t0) / reps);
  }
  return ms;
}

interface Product { label: string; m: number; k: number; n: number; transA: boolean }

/** The products of one step of the vanilla 784-64-784 model (the tied one's are the same kinds, smaller). */
function products(batch: number): Product[] {
  return [
    { label: 'forward x·W1', m: batch, k: 784, n: 64, transA: false },
    { label: 'forward h·W2', m: batch, k: 64, n: 784, transA: false },
    { label: 'dW2 = hᵀ·dz', m: 64, k: batch, n: 784, transA: true },
    { label: 'dh = dz·W2ᵀ', m: batch, k: 784, n: 64, transA: false },
    { label: 'dW1 = xᵀ·dh', m: 784, k: batch, n: 64, transA: true },
  ];
}

async function main(): Promise<void> {
  await initBackend('wasm');
  const backend = wasmInternals();
  if (!backend) throw new Error('the wasm backend internals are not available');
  const asm = backend.wasm.asm;
  const fmaAvailable = relaxedSimdSupported();
  const cpu = os.cpus();
  console.log(`Engine kernels vs XNNPACK — ${new Date().toISOString()}`);
  console.log(`machine: ${cpu.length} × ${cpu[0]?.model}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; node ${process.version} (V8 ${process.versions.v8}); relaxed SIMD ${fmaAvailable ? 'on' : 'off'}; ${threads} thread(s)`);

  // XNNPACK on the backend's heap.
  const dims = asm.malloc(24) >>> 0;
  const xbuf = (n: number) => {
    const ptr = asm.malloc(n * 4) >>> 0;
    const id = backend.dataIdNextNumber++;
    asm.register_tensor(id, n, ptr);
    const h = backend.wasm.HEAPF32;
    for (let i = 0; i < n; i++) h[(ptr >>> 2) + i] = Math.random() - 0.5;
    return { id, ptr, n };
  };
  const xnn = (a: { id: number }, m: number, k: number, b: { id: number; ptr: number; n: number }, n: number, out: { id: number }, repack: boolean) => {
    const h = backend.wasm.HEAP32;
    const d = dims >>> 2;
    h[d] = 1; h[d + 1] = m; h[d + 2] = k; h[d + 3] = 1; h[d + 4] = k; h[d + 5] = n;
    asm._FusedMatMul(a.id, dims, 3, b.id, dims + 12, 3, 0, 0, 0, 0, 0, 0, out.id);
    if (repack) {
      asm.dispose_data(b.id);
      asm.register_tensor(b.id, b.n, b.ptr);
    }
  };

  const variants: { name: string; engine: Engine }[] = [];
  for (const fma of fmaAvailable ? [false, true] : [false]) {
    for (const t of [...new Set([1, threads])]) {
      const engine = Engine.create({ threads: t, fma });
      await engine.ready();
      variants.push({ name: `${fma ? 'FMA' : 'SIMD'} ${t}thr`, engine });
    }
  }
  const header = ['batch', 'product', 'shape', 'XNNPACK cached', 'XNNPACK repacked', ...variants.map((v) => v.name)];
  const rows: string[][] = [];
  const json: Record<string, unknown>[] = [];
  for (const batch of batches) {
    for (const p of products(batch)) {
      const flop = 2 * p.m * p.k * p.n;
      const gf = (ms: number) => flop / ms / 1e6;
      // XNNPACK takes A as [m, k]: a transposed operand is transposed first in training (not timed here).
      const xa = xbuf(p.m * p.k);
      const xb = xbuf(p.k * p.n);
      const xo = xbuf(p.m * p.n);
      const cached = gf(best(() => xnn(xa, p.m, p.k, xb, p.n, xo, false), flop));
      const repacked = gf(best(() => xnn(xa, p.m, p.k, xb, p.n, xo, true), flop));
      const ours = variants.map(({ engine }) => {
        const a = engine.alloc(p.m * p.k);
        const b = engine.alloc(p.k * p.n);
        const c = engine.alloc(p.m * p.n);
        const h = engine.f32;
        for (let i = 0; i < a.size; i++) h[a.off + i] = Math.random() - 0.5;
        for (let i = 0; i < b.size; i++) h[b.off + i] = Math.random() - 0.5;
        return gf(best(() => engine.gemm({ m: p.m, n: p.n, k: p.k, a: a.ptr, transA: p.transA, b: b.ptr, c: c.ptr }), flop));
      });
      rows.push([String(batch), p.label, `${p.m}x${p.k}x${p.n}${p.transA ? ' (Aᵀ)' : ''}`, cached.toFixed(1), repacked.toFixed(1), ...ours.map((v) => v.toFixed(1))]);
      json.push({ batch, ...p, gflops: { xnnpackCached: cached, xnnpackRepacked: repacked, ...Object.fromEntries(variants.map((v, i) => [v.name, ours[i]])) } });
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  console.log('\nMatrix products, GFLOP/s (best of 5)');
  console.log(header.map((h, i) => (i < 3 ? h.padEnd(widths[i]) : h.padStart(widths[i]))).join('  '));
  for (const r of rows) console.log(r.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));

  // Element-wise work of a step.
  console.log('\nElement-wise, ns per element (best of 5)');
  const ew: Record<string, Record<string, number>> = {};
  for (const { name, engine } of variants) {
    const n = 101_200;
    const [w, g, m, v] = [engine.alloc(n), engine.alloc(n), engine.alloc(n), engine.alloc(n)];
    const adam = best(() => engine.adam(w.ptr, g.ptr, m.ptr, v.ptr, n, 0.9, 0.999, 0.1, 0.001, 0.5, 0.5, 1e-7, -1e-3), n * 20) * 1e6 / n;
    const z = 256 * 784;
    const [zb, tb, db] = [engine.alloc(z), engine.alloc(z), engine.alloc(z)];
    const bce = best(() => engine.bceLogits(zb.ptr, tb.ptr, db.ptr, z, 1 / z), z * 30) * 1e6 / z;
    ew[name] = { adam, bce };
    console.log(`${name.padEnd(10)}  Adam ${adam.toFixed(2)}  sigmoid+BCE ${bce.toFixed(2)}`);
  }
  for (const v of variants) await v.engine.dispose();
  mkdirSync(path.dirname(outFile), { recursive: true });
  writeFileSync(outFile, JSON.stringify({ date: new Date().toISOString(), machine: { cpus: cpu.length, model: cpu[0]?.model, loadAverage: os.loadavg(), node: process.version, v8: process.versions.v8 }, threads, fmaAvailable, products: json, elementwise: ew }, null, 2) + '\n');
  console.log(`\nwritten: ${outFile}`);
  tf.disposeVariables();
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
