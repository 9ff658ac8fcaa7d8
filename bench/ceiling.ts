/**
 * `npm run bench:ceiling`: the measured ceiling of the products of our
 * training step, side by side with PyTorch's, and the whole-step ratio it
 * allows.
 *
 * For each seed model (vanilla 784-64-784, stacked 784-64-36 with its tied
 * decoder) and batch size:
 *   1. our step, trained for a few batches with the engine's profiler on,
 *      gives the exact products it runs (shapes, which operand transposed,
 *      calls per batch);
 *   2. each product is timed alone (medians over repeats, GFLOP/s): our
 *      engine's packing-free product on 1 thread and on every core, plain
 *      SIMD and fused multiply-add; XNNPACK through tfjs-backend-wasm's
 *      `_FusedMatMul` (operands as stored, untransposed; B packed once and cached, and repacked on every call
 *      as training pays it: the weights change every step); PyTorch's
 *      `torch.mm` on each thread count, with OpenBLAS's native kernel (the
 *      peer's command alone runs without OPENBLAS_CORETYPE and
 *      OPENBLAS_L2_SIZE, as in `npm run bench`; the kernel it runs is printed);
 *   3. the whole step, timed: ours in each configuration (short fits, median
 *      µs per batch) and PyTorch's step (bench/peers/torch_mm.py: gather,
 *      forward, loss, backward, Adam, loss read back) on each thread count.
 * Then per model and batch: the products' time per step at their ceiling,
 * ours and PyTorch's, and what it implies for ours / best PyTorch: the ratio
 * measured now, and the ratio ours would reach if everything in our step but
 * the products took no time at all (PyTorch's best step ÷ our products at
 * their best), which no other change to the step can pass.
 *
 *   npm run bench:ceiling -- [--models vanilla,stacked] [--batch 32,256] [--repeats 7] [--threads 1,2] [--no-torch]
 *                            [--out bench/results/ceiling.json]
 *
 * Relaxed SIMD needs a V8 flag in Node 20: the benchmark restarts itself with
 * it when it is missing. The numbers are only as quiet as the machine: run it
 * alone.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/lib/backend';
import { describeCompute, setComputeOptions } from '../src/lib/compute';
import { loadRaw } from '../src/lib/data';
import { defaultThreadCount, Engine, relaxedSimdNodeFlags, relaxedSimdSupported, startProfile, stopProfile } from '../src/lib/engine';
import { Autoencoder, StackedAutoencoder, type AutoencoderModel } from '../src/lib/models';
import { wasmInternals } from '../src/lib/wasm-train-step';
import { chooseKernel } from './openblas';

type ModelKind = 'vanilla' | 'stacked';
const PEER: Record<ModelKind, { model: ModelKind; layers: number[]; alpha: number }> = {
  vanilla: { model: 'vanilla', layers: [64], alpha: 0.3 },
  stacked: { model: 'stacked', layers: [64, 36], alpha: 0.2 },
};

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Median milliseconds per call over `repeats` timings (each of enough calls to take ~50 ms). */
function timed(f: () => void, repeats: number): number {
  for (let i = 0; i < 5; i++) f();
  const t0 = performance.now();
  f();
  const reps = Math.max(3, Math.round(50 / Math.max(performance.now() - t0, 1e-3)));
  const out: number[] = [];
  for (let t = 0; t < repeats; t++) {
    const s = performance.now();
    for (let i = 0; i < reps; i++) f();
    out.push((performance.now() - s) / reps);
  }
  return median(out);
}

interface Product { m: number; n: number; k: number; transA: boolean; transB: boolean; perBatch: number }
interface OursConfig { threads: number; fma: boolean }
interface StepArgs { model: ModelKind; batch: number; repeats: number; configs: OursConfig[] }
interface StepResult { products: Product[]; transposesPerBatch: number; steps: { config: OursConfig; text: string; usPerBatch: number }[] }

function makeModel(kind: ModelKind): AutoencoderModel {
  return kind === 'vanilla'
    ? new Autoencoder({ inputShape: [28, 28], latentDim: 64, seed: 1 })
    : new StackedAutoencoder({ inputShape: [28, 28], layers: [64, 36], seed: 1 });
}

/** Child process: our step's products (from the profiler) and the whole step's time in each configuration. */
async function stepChild(a: StepArgs): Promise<StepResult> {
  const info = await initBackend('wasm');
  if (info.name !== 'wasm') throw new Error(`wasm did not start: ${info.reason}`);
  const raw = await loadRaw(a.model === 'vanilla' ? 'mnist' : 'fashion-mnist', { download: false });
  const batches = a.batch >= 256 ? 60 : 200;
  const count = a.batch * batches;
  const x = tf.tidy(() => tf.div(tf.tensor3d(raw.train.images.subarray(0, count * 784), [count, 28, 28], 'float32'), 255)) as tf.Tensor3D;
  const result: StepResult = { products: [], transposesPerBatch: 0, steps: [] };
  for (const config of a.configs) {
    setComputeOptions({ threads: config.threads, fma: config.fma });
    const ae = makeModel(a.model);
    ae.compile({ loss: 'binaryCrossentropy', optimizer: 'adam' });
    await ae.fit(x, x, { epochs: 1, batchSize: a.batch, verbose: 0, seed: 1 });
    if (config.threads > 1 && result.products.length === 0) {
      startProfile();
      await ae.fit(x, x, { epochs: 1, batchSize: a.batch, verbose: 0, seed: 2 });
      for (const [label, e] of stopProfile()) {
        const m = /^gemm (\d+)x(\d+)x(\d+)( Aᵀ)?( Bᵀ)?$/.exec(label);
        if (m) result.products.push({ m: Number(m[1]), n: Number(m[2]), k: Number(m[3]), transA: Boolean(m[4]), transB: Boolean(m[5]), perBatch: e.count / batches });
        if (label === 'transpose') result.transposesPerBatch = e.count / batches;
      }
    }
    const us: number[] = [];
    for (let r = 0; r < a.repeats; r++) {
      const t0 = performance.now();
      await ae.fit(x, x, { epochs: 1, batchSize: a.batch, verbose: 0, seed: 3 + r });
      us.push(((performance.now() - t0) * 1000) / batches);
    }
    result.steps.push({ config, text: describeCompute(), usPerBatch: median(us) });
    ae.dispose();
  }
  x.dispose();
  return result;
}

interface TorchOut { torch: string; threads: number; blas: { openblas?: string; openblasCore?: string }; products: number[]; steps: number[]; verboseCore?: string }

function runTorch(python: string, env: NodeJS.ProcessEnv, threads: number, input: unknown): TorchOut | string {
  const script = path.join(__dirname, '..', '..', 'bench', 'peers', 'torch_mm.py');
  if (!existsSync(script)) return `missing ${script}`;
  const r = spawnSync(python, [script], {
    input: JSON.stringify(input),
    encoding: 'utf8',
    maxBuffer: 16 << 20,
    env: { ...env, OPENBLAS_VERBOSE: '2', OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) },
  });
  try {
    const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as TorchOut;
    out.verboseCore = /^Core: (\S+)/m.exec(r.stderr ?? '')?.[1];
    return out;
  } catch {
    return `PyTorch failed (status ${r.status}): ${(r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' | ')}`;
  }
}

function table(header: string[], rows: string[][], left = 1): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmtRow = (r: string[]) => r.map((c, i) => (i < left ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(fmtRow(header));
  for (const r of rows) console.log(fmtRow(r));
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    process.stdout.write(JSON.stringify(await stepChild(JSON.parse(process.argv[3]) as StepArgs)) + '\n');
    return;
  }
  const models = (option('models') ?? 'vanilla,stacked').split(',') as ModelKind[];
  for (const m of models) if (!PEER[m]) throw new Error(`--models: ${m} is not vanilla or stacked`);
  const batches = (option('batch') ?? '32,256').split(',').map(Number);
  const repeats = Number(option('repeats') ?? 7);
  const cores = defaultThreadCount();
  const torchThreads = (option('threads') ?? [...new Set([1, cores])].join(',')).split(',').map(Number);
  const withTorch = !process.argv.includes('--no-torch');
  const outFile = option('out') ?? path.join('bench', 'results', 'ceiling.json');
  const python = process.env.AENB_TORCH_PYTHON || '/usr/bin/python3';

  await initBackend('wasm');
  const backend = wasmInternals();
  if (!backend) throw new Error('the wasm backend internals are not available');
  const asm = backend.wasm.asm;
  const fmaAvailable = relaxedSimdSupported();
  const cpu = os.cpus();
  console.log(`Product ceiling, ours vs XNNPACK vs PyTorch — ${new Date().toISOString()}`);
  console.log(`machine: ${cpu.length} × ${cpu[0]?.model}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; node ${process.version}; relaxed SIMD ${fmaAvailable ? 'on' : 'off'}; medians of ${repeats} timings`);

  const oursConfigs: OursConfig[] = [{ threads: 1, fma: false }, ...(cores > 1 ? [{ threads: cores, fma: false }] : []), ...(fmaAvailable ? [{ threads: cores, fma: true }] : [])];
  const variants: { name: string; threads: number; fma: boolean; engine: Engine }[] = [];
  for (const fma of fmaAvailable ? [false, true] : [false]) {
    for (const t of [...new Set([1, cores])]) {
      const engine = Engine.create({ threads: t, fma });
      await engine.ready();
      variants.push({ name: `${fma ? 'FMA' : 'SIMD'} ${t}t`, threads: t, fma, engine });
    }
  }

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

  const blas = withTorch ? chooseKernel(python, path.join(__dirname, '..', '..', 'bench', 'peers', 'torch_ae.py')) : undefined;
  if (blas) console.log(blas.note);

  const json: Record<string, unknown>[] = [];
  const kernels = new Map<number, string>();
  const summary: string[][] = [];
  for (const model of models) {
    for (const batch of batches) {
      const args: StepArgs = { model, batch, repeats: Math.max(3, Math.min(repeats, 5)), configs: oursConfigs };
      const r = spawnSync(process.execPath, [...process.execArgv, ...relaxedSimdNodeFlags(), __filename, '--child', JSON.stringify(args)], { encoding: 'utf8', maxBuffer: 64 << 20 });
      let step: StepResult;
      try {
        step = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as StepResult;
      } catch {
        console.log(`\n${model} b${batch}: our step failed (status ${r.status}): ${(r.stderr || r.stdout).trim().split('\n').slice(-5).join(' | ')}`);
        continue;
      }
      const flop = (p: Product) => 2 * p.m * p.n * p.k;
      // Ours and XNNPACK, each product alone.
      const ours = step.products.map((p) =>
        variants.map(({ engine }) => {
          const a = engine.alloc(p.m * p.k);
          const b = engine.alloc(p.k * p.n);
          const c = engine.alloc(p.m * p.n);
          const h = engine.f32;
          for (let i = 0; i < a.size; i++) h[a.off + i] = Math.random() - 0.5;
          for (let i = 0; i < b.size; i++) h[b.off + i] = Math.random() - 0.5;
          return flop(p) / timed(() => engine.gemm({ m: p.m, n: p.n, k: p.k, a: a.ptr, transA: p.transA, b: b.ptr, transB: p.transB, c: c.ptr }), repeats) / 1e6;
        }),
      );
      const xnnpack = step.products.map((p) => {
        const [xa, xb, xo] = [xbuf(p.m * p.k), xbuf(p.k * p.n), xbuf(p.m * p.n)];
        return {
          cached: flop(p) / timed(() => xnn(xa, p.m, p.k, xb, p.n, xo, false), repeats) / 1e6,
          repacked: flop(p) / timed(() => xnn(xa, p.m, p.k, xb, p.n, xo, true), repeats) / 1e6,
        };
      });
      // PyTorch, each thread count in its own process.
      const torch = new Map<number, TorchOut>();
      if (blas) {
        for (const t of torchThreads) {
          const out = runTorch(python, blas.env, t, { threads: t, repeats, products: step.products, steps: [{ ...PEER[model], batch }] });
          if (typeof out === 'string') console.log(`PyTorch ${t} thread(s): ${out}`);
          else {
            torch.set(t, out);
            if (!kernels.has(t)) kernels.set(t, `PyTorch ${out.torch}, ${out.threads} thread(s): ${out.blas.openblas ?? 'BLAS ?'}${out.blas.openblasCore ? `, kernel ${out.blas.openblasCore}` : ''}${out.verboseCore ? ` (OPENBLAS_VERBOSE: "Core: ${out.verboseCore}")` : ''}`);
          }
        }
      }

      console.log(`\n== ${model} b${batch}: products of one step, GFLOP/s (median of ${repeats})`);
      const header = ['product (m x k x n)', '/step', ...variants.map((v) => `ours ${v.name}`), 'XNNPACK cached', 'XNNPACK repacked', ...[...torch.keys()].map((t) => `torch.mm ${t}t`)];
      const rows = step.products.map((p, i) => [
        `${p.m}x${p.k}x${p.n}${p.transA ? ' (Aᵀ)' : ''}${p.transB ? ' (Bᵀ)' : ''}`,
        p.perBatch.toFixed(0),
        ...ours[i].map((g) => g.toFixed(1)),
        xnnpack[i].cached.toFixed(1),
        xnnpack[i].repacked.toFixed(1),
        ...[...torch.values()].map((o) => o.products[i].toFixed(1)),
      ]);
      // µs per step of all products at each one's rate.
      const usAt = (rates: number[]) => step.products.reduce((s, p, i) => s + (p.perBatch * flop(p)) / (rates[i] * 1e3), 0);
      const oursUs = variants.map((_, v) => usAt(ours.map((o) => o[v])));
      const xnnUs = usAt(xnnpack.map((x) => x.repacked));
      const torchUs = [...torch.values()].map((o) => usAt(o.products));
      rows.push(['all, µs per step', '', ...oursUs.map((u) => u.toFixed(0)), usAt(xnnpack.map((x) => x.cached)).toFixed(0), xnnUs.toFixed(0), ...torchUs.map((u) => u.toFixed(0))]);
      table(header, rows);

      const torchSteps = [...torch.entries()].map(([t, o]) => ({ t, us: o.steps[0] }));
      const bestTorch = torchSteps.reduce((b, s) => (s.us < b.us ? s : b), { t: 0, us: Infinity });
      const bestOurs = step.steps.reduce((b, s) => (s.usPerBatch < b.usPerBatch ? s : b));
      const bestOursProducts = Math.min(...oursUs);
      console.log(`whole step, µs per batch: ${step.steps.map((s) => `ours ${s.text} ${s.usPerBatch.toFixed(0)}`).join('; ')}${torchSteps.length ? `; ${torchSteps.map((s) => `PyTorch ${s.t}t ${s.us.toFixed(0)}`).join('; ')}` : ''}`);
      if (step.transposesPerBatch) console.log(`(our engine step also runs ${step.transposesPerBatch.toFixed(0)} transpose(s) per batch, not counted above)`);
      const nowRatio = bestTorch.us / bestOurs.usPerBatch;
      const ceilingRatio = bestTorch.us / bestOursProducts;
      const bestTorchProducts = Math.min(...torchUs);
      if (torchSteps.length) {
        console.log(
          `ours / best PyTorch: now ${nowRatio.toFixed(2)} (ours ${bestOurs.text} vs PyTorch ${bestTorch.t}t); ` +
            `ceiling ${ceilingRatio.toFixed(2)} (if all but our products took no time: PyTorch's step ${bestTorch.us.toFixed(0)} µs ÷ our products at their best ${bestOursProducts.toFixed(0)} µs); ` +
            `products alone ${(bestTorchProducts / bestOursProducts).toFixed(2)} (PyTorch's ${bestTorchProducts.toFixed(0)} µs ÷ ours)`,
        );
      }
      summary.push([
        model,
        String(batch),
        bestOursProducts.toFixed(0),
        Number.isFinite(bestTorchProducts) ? bestTorchProducts.toFixed(0) : '—',
        bestOurs.usPerBatch.toFixed(0),
        Number.isFinite(bestTorch.us) ? `${bestTorch.us.toFixed(0)} (${bestTorch.t}t)` : '—',
        Number.isFinite(nowRatio) ? nowRatio.toFixed(2) : '—',
        Number.isFinite(ceilingRatio) ? ceilingRatio.toFixed(2) : '—',
      ]);
      json.push({
        model, batch, products: step.products.map((p, i) => ({ ...p, gflops: { ...Object.fromEntries(variants.map((v, j) => [`ours ${v.name}`, ours[i][j]])), xnnpackCached: xnnpack[i].cached, xnnpackRepacked: xnnpack[i].repacked, ...Object.fromEntries([...torch].map(([t, o]) => [`torch ${t}t`, o.products[i]])) } })),
        productsUsPerStep: { ...Object.fromEntries(variants.map((v, j) => [`ours ${v.name}`, oursUs[j]])), xnnpackRepacked: xnnUs, ...Object.fromEntries([...torch.keys()].map((t, j) => [`torch ${t}t`, torchUs[j]])) },
        stepUs: { ours: step.steps, torch: torchSteps }, transposesPerBatch: step.transposesPerBatch, ratioNow: nowRatio, ratioCeiling: ceilingRatio,
      });
    }
  }
  console.log('\nSummary (µs per batch; ratios = ours / best PyTorch in samples per second)');
  table(['model', 'batch', 'our products at best', 'PyTorch products at best', 'our step', 'PyTorch step (best)', 'ratio now', 'ceiling (products only)'], summary, 2);
  if (blas) console.log(`PyTorch peer: ${blas.note}`);
  for (const k of kernels.values()) console.log(k);
  for (const v of variants) await v.engine.dispose();
  mkdirSync(path.dirname(outFile), { recursive: true });
  writeFileSync(outFile, JSON.stringify({ date: new Date().toISOString(), machine: { cpus: cpu.length, model: cpu[0]?.model, loadAverage: os.loadavg(), node: process.version }, fmaAvailable, openblas: blas ? { core: blas.core, note: blas.note } : undefined, rows: json }, null, 2) + '\n');
  console.log(`written: ${outFile}`);
  tf.disposeVariables();
}

if (!relaxedSimdSupported() && relaxedSimdNodeFlags().length && !process.env.AENB_BENCH_CEILING_CHILD) {
  const r = spawnSync(process.execPath, [...relaxedSimdNodeFlags(), ...process.execArgv, __filename, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, AENB_BENCH_CEILING_CHILD: '1' },
  });
  process.exit(r.status ?? 1);
} else {
  main().catch((e) => {
    console.error(e instanceof Error ? e.stack : e);
    process.exit(1);
  });
}
