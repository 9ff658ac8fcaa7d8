/**
 * The parallel engine (src/lib/engine) (its compiled kernels against their
 * source: wasm-build.test.ts): its products and element-wise jobs
 * give, on every thread count, the results of one thread bit for bit (and
 * the float64 reference within float32 tolerance); worker errors come back
 * as errors; every worker thread ends with its engine.
 *
 * The whole file runs twice: here with plain SIMD, and again (the test
 * "the same suite with fused multiply-add") in a child process started with
 * relaxed SIMD turned on, where every engine is created with `fma: true`.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { allWorkersExited, Engine, type EngineBuf, liveWorkers, relaxedSimdNodeFlags, relaxedSimdSupported } from '../../src/lib/engine';
import { SimdKernels } from '../../src/lib/wasm-simd';
import { cKernels, convWords, poolWords } from '../../src/lib/wasm/kernels';

const FMA_RUN = process.env.AENB_ENGINE_TEST_FMA === '1';
const FMA = FMA_RUN;
const f32 = Math.fround;

/** A deterministic generator of floats in [-1, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

const engines: Engine[] = [];
function engine(threads: number, gemmOrder: 0 | 1 | 'auto' = 'auto', parts?: { partsPerThread: number; partMadds: number }): Engine {
  const e = Engine.create({ threads, fma: FMA, spin: 2000, smallJob: 0, gemmOrder, ...parts });
  engines.push(e);
  return e;
}

after(async () => {
  await Promise.all(engines.map((e) => e.dispose()));
});

function fill(e: Engine, b: EngineBuf, seed: number, scale = 1): void {
  const r = rng(seed);
  const h = e.f32;
  for (let i = 0; i < b.size; i++) h[b.off + i] = f32(r() * scale);
}

function read(e: Engine, b: EngineBuf): Float32Array {
  return e.f32.slice(b.off, b.off + b.size);
}

describe(`engine (${FMA ? 'fused multiply-add' : 'plain SIMD'})`, () => {
  test('relaxed SIMD detection agrees with how the process was started', { skip: FMA_RUN }, () => {
    const flags = relaxedSimdNodeFlags();
    assert.equal(flags.length === 0, relaxedSimdSupported() || Number(process.versions.v8.split('.')[0]) < 9);
    const probe = (args: string[]) =>
      spawnSync(process.execPath, [...args, '-e', 'process.stdout.write(String(WebAssembly.validate(new Uint8Array([0,97,115,109,1,0,0,0,1,8,1,96,3,123,123,123,1,123,3,2,1,0,10,13,1,11,0,32,0,32,1,32,2,253,133,2,11]))))'], { encoding: 'utf8' }).stdout;
    assert.equal(probe(flags), 'true', 'a process started with relaxedSimdNodeFlags() has relaxed SIMD');
    assert.equal(probe([]), String(relaxedSimdSupported()), 'the detection reads what this runtime does by default');
  });

  test('matrix products (A or B transposed or neither): every shape, layout, loop order, thread count and number of parts against a float64 reference, and bit for bit against one thread', async () => {
    const r = rng(7);
    const sizes = () => 1 + Math.floor(((r() + 1) / 2) * 70);
    const cases = [
      { m: 32, k: 784, n: 64, transA: false, transB: false },
      { m: 64, k: 32, n: 784, transA: true, transB: false },
      { m: 32, k: 784, n: 64, transA: false, transB: true },
      { m: 256, k: 36, n: 64, transA: false, transB: true },
      { m: 5, k: 3, n: 1, transA: false, transB: false },
      { m: 1, k: 1, n: 9, transA: true, transB: false },
      { m: 3, k: 7, n: 6, transA: false, transB: true },
      ...Array.from({ length: 24 }, (_, i) => ({ m: sizes(), k: sizes(), n: sizes(), transA: i % 3 === 1, transB: i % 3 === 2 })),
    ];
    const one = engine(1, 0);
    // The last two cut every product into many more parts than threads (as large products are): each part is computed once (C is accumulated into in half the cases), by whichever thread claims it.
    const many = [engine(2, 1), engine(3, 'auto'), engine(2, 0), engine(2, 'auto', { partsPerThread: 8, partMadds: 1 }), engine(3, 1, { partsPerThread: 5, partMadds: 1 })];
    await Promise.all(many.map((e) => e.ready()));
    for (const [ci, c] of cases.entries()) {
      for (const opts of [{ bias: false, acc: false, pad: 0 }, { bias: true, acc: true, pad: 3 }]) {
        const lda = (c.transA ? c.m : c.k) + opts.pad;
        const ldb = (c.transB ? c.k : c.n) + opts.pad;
        const ldc = c.n + opts.pad;
        const results: Float32Array[] = [];
        let inputs: { a: Float32Array; b: Float32Array; c0: Float32Array; bias: Float32Array } | undefined;
        for (const e of [one, ...many]) {
          const a = e.alloc((c.transA ? c.k : c.m) * lda);
          const b = e.alloc((c.transB ? c.n : c.k) * ldb);
          const out = e.alloc(c.m * ldc);
          const bias = e.alloc(c.n);
          fill(e, a, ci * 10 + 1);
          fill(e, b, ci * 10 + 2);
          fill(e, out, ci * 10 + 3);
          fill(e, bias, ci * 10 + 4);
          inputs ??= { a: read(e, a), b: read(e, b), c0: read(e, out), bias: read(e, bias) };
          e.gemm({ m: c.m, n: c.n, k: c.k, a: a.ptr, transA: c.transA, lda, b: b.ptr, transB: c.transB, ldb, c: out.ptr, ldc, bias: opts.bias ? bias.ptr : 0, accumulate: opts.acc });
          // Up to 8 parts per thread (5 for the last engine), each of at least 250,000 multiply-adds (1 for the last two engines).
          const [perThread, partMadds] = e === many[3] ? [8, 1] : e === many[4] ? [5, 1] : [8, 250_000];
          const expected = e.threads === 1 ? 1 : e.threads * Math.max(1, Math.min(perThread, Math.floor((c.m * c.n * c.k) / (e.threads * partMadds))));
          assert.equal(e.lastParts, expected, `parts of the product on ${e.threads} threads`);
          results.push(read(e, out));
        }
        const { a, b, c0, bias } = inputs!;
        let worst = 0;
        for (let i = 0; i < c.m; i++) {
          for (let j = 0; j < c.n; j++) {
            let s = 0;
            let mag = 0;
            for (let p = 0; p < c.k; p++) {
              const av = c.transA ? a[p * lda + i] : a[i * lda + p];
              const bv = c.transB ? b[j * ldb + p] : b[p * ldb + j];
              s += av * bv;
              mag += Math.abs(av * bv);
            }
            if (opts.bias) s += bias[j];
            if (opts.acc) s += c0[i * ldc + j];
            worst = Math.max(worst, Math.abs(results[0][i * ldc + j] - s) / (mag + 1));
          }
          // Padding between rows is never written.
          for (let j = c.n; j < ldc && i < c.m; j++) assert.equal(results[0][i * ldc + j], c0[i * ldc + j], 'gemm wrote outside C');
        }
        assert.ok(worst < 1e-6, `case ${JSON.stringify(c)} ${JSON.stringify(opts)}: error ${worst} against float64`);
        for (let t = 1; t < results.length; t++) assert.deepEqual(results[t], results[0], `case ${JSON.stringify(c)}: ${t + 1} threads differ from 1`);
      }
    }
  });

  test('element-wise jobs, transposes and column sums: every thread count gives one thread\'s result', async () => {
    const one = engine(1);
    const many = [engine(2), engine(3)];
    await Promise.all(many.map((e) => e.ready()));
    const n = 4099; // not a multiple of 4, nor of the parts
    type Job = (e: Engine, bufs: EngineBuf[]) => number | void;
    const jobs: [string, number, Job][] = [
      ['adam', 4, (e, [w, g, m, v]) => e.adam(w.ptr, g.ptr, m.ptr, v.ptr, n, f32(0.9), f32(0.999), f32(0.1), f32(0.001), f32(0.19), f32(0.002), f32(1e-7), f32(-1e-3))],
      ['sgd', 2, (e, [w, g]) => e.sgd(w.ptr, g.ptr, n, f32(-0.01))],
      ['leakyRelu', 1, (e, [x]) => e.leakyReluForward(x.ptr, n, f32(0.3))],
      ['relu', 1, (e, [x]) => e.reluForward(x.ptr, n)],
      ['leakyReluBackward', 2, (e, [d, a]) => e.leakyReluBackward(d.ptr, a.ptr, n, f32(0.2))],
      ['reluBackward', 2, (e, [d, a]) => e.reluBackward(d.ptr, a.ptr, n)],
      ['sigmoidBackward', 2, (e, [d, a]) => e.sigmoidBackward(d.ptr, a.ptr, n)],
      ['add', 2, (e, [d, s]) => e.add(d.ptr, s.ptr, n)],
      ['mul', 3, (e, [d, a, b]) => e.mul(d.ptr, a.ptr, b.ptr, n)],
      ['tanhBackward', 2, (e, [d, a]) => e.tanhBackward(d.ptr, a.ptr, n)],
      ['rmsprop', 4, (e, [w, g, ms, mom]) => e.rmsprop(w.ptr, g.ptr, ms.ptr, mom.ptr, 0, n, f32(0.9), f32(0.1), f32(0), f32(1e-3), f32(1e-7))],
      ['rmspropCentered', 5, (e, [w, g, ms, mom, mg]) => e.rmsprop(w.ptr, g.ptr, ms.ptr, mom.ptr, mg.ptr, n, f32(0.9), f32(0.1), f32(0.5), f32(1e-3), f32(1e-7))],
      ['bceLogits', 3, (e, [z, t, d]) => e.bceLogits(z.ptr, t.ptr, d.ptr, n, f32(1 / n))],
      ['mse', 3, (e, [y, t, d]) => e.mse(y.ptr, t.ptr, d.ptr, n, f32(2 / n))],
      ['transpose', 2, (e, [s, d]) => e.transpose(s.ptr, 37, 103, d.ptr)],
      ['colSums', 2, (e, [x, o]) => e.colSums(x.ptr, 37, 103, o.ptr)],
      ['addRowBias', 2, (e, [x, b]) => e.addRowBias(x.ptr, 37, 103, b.ptr)],
    ];
    for (const [name, count, job] of jobs) {
      const outs: Float32Array[][] = [];
      const values: number[] = [];
      let reference: Float32Array[] | undefined;
      let inputs: Float32Array[] | undefined;
      for (const e of [one, ...many]) {
        const bufs = Array.from({ length: count }, () => e.alloc(n));
        bufs.forEach((b, i) => fill(e, b, 100 + i, i === 1 && name === 'bceLogits' ? 0.5 : 4));
        if (name === 'bceLogits') for (let i = 0; i < n; i++) e.f32[bufs[1].off + i] = f32(e.f32[bufs[1].off + i] + 0.5);
        if (name === 'adam') for (let i = 0; i < n; i++) e.f32[bufs[3].off + i] = Math.abs(e.f32[bufs[3].off + i]);
        if (name.startsWith('rmsprop')) for (let i = 0; i < n; i++) e.f32[bufs[2].off + i] = Math.abs(e.f32[bufs[2].off + i]);
        inputs ??= bufs.map((b) => read(e, b));
        if (!reference) {
          // The same job on the main thread's own kernels, one call over everything.
          const mem = new WebAssembly.Memory({ initial: Math.ceil((count * n * 4 + 64) / 65536) + 1 });
          const heap = new Float32Array(mem.buffer);
          bufs.forEach((b, i) => heap.set(read(e, b), i * n));
          const k = SimdKernels.for(mem, () => new Float32Array(mem.buffer));
          const p = (i: number) => i * n * 4;
          switch (name) {
            case 'adam': k.adam(p(0), p(1), p(2), p(3), n, f32(0.9), f32(0.999), f32(0.1), f32(0.001), f32(0.19), f32(0.002), f32(1e-7), f32(-1e-3)); break;
            case 'sgd': k.sgd(p(0), p(1), n, f32(-0.01)); break;
            case 'leakyRelu': k.leakyReluForward(p(0), n, f32(0.3)); break;
            case 'relu': k.reluForward(p(0), n); break;
            case 'leakyReluBackward': k.leakyReluBackward(p(0), p(1), n, f32(0.2)); break;
            case 'reluBackward': k.reluBackward(p(0), p(1), n); break;
            case 'sigmoidBackward': k.sigmoidBackward(p(0), p(1), n); break;
            case 'add': k.add(p(0), p(1), n); break;
            case 'mul': k.mul(p(0), p(1), p(2), n); break;
            case 'tanhBackward': k.tanhBackward(p(0), p(1), n); break;
            case 'rmsprop': k.rmsprop(p(0), p(1), p(2), p(3), 0, n, f32(0.9), f32(0.1), f32(0), f32(1e-3), f32(1e-7)); break;
            case 'rmspropCentered': k.rmsprop(p(0), p(1), p(2), p(3), p(4), n, f32(0.9), f32(0.1), f32(0.5), f32(1e-3), f32(1e-7)); break;
            case 'bceLogits': k.bceLogits(p(0), p(1), p(2), n, f32(1 / n)); break;
            case 'mse': k.mse(p(0), p(1), p(2), n, f32(2 / n)); break;
            case 'transpose': k.transpose(p(0), 37, 103, p(1)); break;
            case 'colSums': k.colSums(p(0), 37, 103, p(1)); break;
            case 'addRowBias': k.addRowBias(p(0), 37, 103, p(1)); break;
          }
          reference = bufs.map((_, i) => heap.slice(i * n, (i + 1) * n));
        }
        const v = job(e, bufs);
        if (typeof v === 'number') values.push(v);
        outs.push(bufs.map((b) => read(e, b)));
      }
      // With FMA the engine computes the cross-entropy in C with fused multiply-adds: close to the SIMD kernel, not equal.
      const fused = FMA && name === 'bceLogits';
      for (let t = 0; t < outs.length; t++) {
        for (let i = 0; i < count; i++) {
          if (fused) {
            assert.deepEqual(outs[t][i], outs[0][i], `${name}: buffer ${i} on ${[1, 2, 3][t]} thread(s) differs from 1 thread`);
            let worst = 0;
            for (let j = 0; j < n; j++) worst = Math.max(worst, Math.abs(outs[t][i][j] - reference![i][j]) / (Math.abs(reference![i][j]) + 1e-3 / n));
            assert.ok(worst < 1e-5, `${name}: buffer ${i} differs from the SIMD kernel's by ${worst} (relative)`);
            continue;
          }
          // A transpose and column sums touch only their [37, 103] block; the rest stays as filled.
          assert.deepEqual(outs[t][i], reference![i], `${name}: buffer ${i} on ${[1, 2, 3][t]} thread(s) differs from the single-threaded kernels`);
        }
      }

      for (const v of values) assert.ok(Math.abs(v - values[0]) <= 1e-12 * Math.abs(values[0]), `${name}: sums ${values.join(', ')}`);
      if (name === 'bceLogits' || name === 'mse') {
        // The loss against float64 arithmetic on the same inputs (sums are float64 on both sides).
        const [zv, tv] = [inputs![0], inputs![1]];
        let want = 0;
        for (let j = 0; j < n; j++) {
          const z = zv[j];
          const t = tv[j];
          if (name === 'mse') want += f32(z - t) ** 2;
          else {
            const p = Math.min(Math.max(1 / (1 + Math.exp(-z)), f32(1e-7)), f32(1 - 1e-7));
            want += -(t * Math.log(p) + (1 - t) * Math.log(1 - p));
          }
        }
        assert.ok(Math.abs(values[0] - want) <= 1e-6 * want, `${name}: Σ ${values[0]} vs float64 ${want}`);
      }
    }
  });

  test('Adam over a group of variables in one job: the same values as one Adam job per variable, on every thread count', async () => {
    // Seven variables (more than one group's worth: the engine runs two jobs), of sizes that are no multiple of a vector or of the parts.
    const sizes = [784 * 64, 64, 3, 64 * 784, 784, 36, 4099];
    const hyper = [f32(0.9), f32(0.999), f32(0.1), f32(0.001), f32(0.19), f32(0.002), f32(1e-7), f32(-1e-3)] as const;
    const results: Float32Array[][] = [];
    for (const [threads, grouped] of [[1, false], [1, true], [2, false], [2, true], [3, true]] as const) {
      const e = engine(threads);
      await e.ready();
      const vars = sizes.map((n, i) => {
        const [w, g, m, v] = [e.alloc(n), e.alloc(n), e.alloc(n), e.alloc(n)];
        [w, g, m, v].forEach((b, j) => fill(e, b, 500 + 10 * i + j, 2));
        for (let j = 0; j < n; j++) e.f32[v.off + j] = Math.abs(e.f32[v.off + j]);
        return { bufs: [w, g, m, v], w: w.ptr, g: g.ptr, m: m.ptr, v: v.ptr, n };
      });
      for (let step = 0; step < 3; step++) {
        if (grouped) e.adamGroup(vars, ...hyper);
        else for (const x of vars) e.adam(x.w, x.g, x.m, x.v, x.n, ...hyper);
      }
      results.push(vars.flatMap((x) => [x.bufs[0], x.bufs[2], x.bufs[3]].map((b) => read(e, b))));
    }
    for (let r = 1; r < results.length; r++) {
      results[r].forEach((buf, i) => assert.deepEqual(buf, results[0][i], `configuration ${r}: buffer ${i} (weights, m, v of variable ${Math.floor(i / 3)}) differs from per-variable Adam on 1 thread`));
    }
    // And the update did something.
    assert.notDeepEqual(results[0][0], (() => { const e = engine(1); const b = e.alloc(sizes[0]); fill(e, b, 500, 2); return read(e, b); })());
  });

  test('sigmoid + cross-entropy at signed zeros, saturated logits and NaN: float64 values, a NaN loss for a NaN logit', async () => {
    const zs = [0, -0, 0, -0, 1e-8, -1e-8, 16.6, -16.6, 30, -30, 87, -87, 87.5, -87.5, 100, -100, 1e4, -1e4, 3, -3, 0.5];
    const ts = [0, 0, 1, 1, 0.5, 0.5, 1, 0, 0, 1, 1, 0, 0.25, 0.75, 1, 0, 0, 1, 0.3, 0.7, 1];
    const n = zs.length;
    const lo = f32(1e-7);
    const hi = f32(1 - 1e-7);
    for (const threads of [1, 2]) {
      const e = engine(threads);
      const [z, t, d] = [e.alloc(n), e.alloc(n), e.alloc(n)];
      e.f32.set(zs, z.off);
      e.f32.set(ts, t.off);
      const sum = e.bceLogits(z.ptr, t.ptr, d.ptr, n, f32(1 / n));
      let want = 0;
      for (let i = 0; i < n; i++) {
        const s = 1 / (1 + Math.exp(-zs[i]));
        const p = Math.min(Math.max(s, lo), hi);
        want += -(ts[i] * Math.log(p) + (1 - ts[i]) * Math.log(1 - p));
        // dL/dz = (σ(z) − t)/n inside the clip, 0 where the clip holds the prediction (to float32's rounding of σ(z) − t).
        const dz = e.f32[d.off + i];
        const expected = s >= lo && s <= hi ? (s - ts[i]) / n : 0;
        assert.ok(Math.abs(dz - expected) <= (2e-7 * (s + ts[i])) / n, `${threads} thread(s): dz at z = ${zs[i]}, t = ${ts[i]}: ${dz} vs ${expected}`);
      }
      assert.ok(Math.abs(sum - want) <= 1e-6 * want, `${threads} thread(s): Σ ${sum} vs float64 ${want}`);
      // −0 and +0 are the same logit.
      assert.equal(e.f32[d.off + 1], e.f32[d.off]);
      assert.equal(e.f32[d.off + 3], e.f32[d.off + 2]);
      // A NaN logit makes the loss NaN (the training loop reports it), whatever its sign bit.
      for (const nan of [NaN, -NaN]) {
        e.f32[z.off + 5] = nan;
        assert.ok(Number.isNaN(e.bceLogits(z.ptr, t.ptr, d.ptr, n, f32(1 / n))), `${threads} thread(s): a NaN logit gives a NaN loss`);
      }
    }
  });

  test('activations: sigmoid, tanh, ELU and its gradient against Math, bit for bit across thread counts', async () => {
    const one = engine(1);
    const two = engine(2);
    await two.ready();
    const n = 10_003;
    const r = rng(11);
    const xs = Float32Array.from({ length: n }, (_, i) => f32(i < 8 ? [0, -0, 1e-8, -1e-8, 90, -90, 0.625, -0.625][i] : r() * 12));
    const results: Float32Array[][] = [];
    for (const e of [one, two]) {
      const [x, y, t, el, g] = [e.alloc(n), e.alloc(n), e.alloc(n), e.alloc(n), e.alloc(n)];
      e.f32.set(xs, x.off);
      e.sigmoid(x.ptr, y.ptr, n);
      e.tanh(x.ptr, t.ptr, n);
      e.elu(x.ptr, el.ptr, n);
      e.copy(g.ptr, x.ptr, n);
      e.eluGrad(el.ptr, g.ptr, g.ptr, n); // in place: dx = dy
      results.push([read(e, y), read(e, t), read(e, el), read(e, g)]);
    }
    assert.deepEqual(results[1], results[0], '2 threads differ from 1');
    const [sig, tanh, elu, grad] = results[0];
    let worst = [0, 0, 0];
    for (let i = 0; i < n; i++) {
      const x = xs[i];
      const errs = [Math.abs(sig[i] - 1 / (1 + Math.exp(-x))), Math.abs(tanh[i] - Math.tanh(x)) / Math.max(Math.abs(Math.tanh(x)), 1e-30), Math.abs(elu[i] - (x > 0 ? x : Math.expm1(x)))];
      worst = worst.map((w, j) => Math.max(w, errs[j]));
      assert.equal(grad[i], elu[i] >= 0 ? x : f32(x * f32(elu[i] + 1)), `eluGrad at ${x}`);
    }
    assert.ok(worst[0] < 3e-7, `sigmoid error ${worst[0]}`);
    assert.ok(worst[1] < 5e-7, `tanh relative error ${worst[1]}`);
    assert.ok(worst[2] < 3e-7, `elu error ${worst[2]}`);
    assert.ok(Object.is(tanh[1], -0) && tanh[0] === 0, 'tanh keeps the sign of zero');
    // NaN in, NaN out; infinities saturate.
    const special = [NaN, Infinity, -Infinity];
    const e = two;
    const [x, y] = [e.alloc(8), e.alloc(8)];
    for (const [name, f, expected] of [
      ['sigmoid', (a: number, b: number) => e.sigmoid(a, b, 3), [NaN, 1, 0]],
      ['tanh', (a: number, b: number) => e.tanh(a, b, 3), [NaN, 1, -1]],
      ['elu', (a: number, b: number) => e.elu(a, b, 3), [NaN, Infinity, -1]],
    ] as [string, (a: number, b: number) => void, number[]][]) {
      e.f32.set(special, x.off);
      f(x.ptr, y.ptr);
      assert.deepEqual(Array.from(e.f32.subarray(y.off, y.off + 3)), expected, name);
    }
  });

  test('convolutions, pooling and up-sampling cut by images: every thread count gives one thread\'s result (filter gradients within float32 rounding)', async () => {
    // The sample's layers (3x3 same, 28x28 and 14x14), a strided valid one, pooling with same padding on odd sizes.
    const convs = [
      { batch: 7, inH: 28, inW: 28, inC: 1, outH: 28, outW: 28, outC: 16, kH: 3, kW: 3, strideH: 1, strideW: 1, dilH: 1, dilW: 1, padTop: 1, padLeft: 1 },
      { batch: 5, inH: 14, inW: 14, inC: 16, outH: 14, outW: 14, outC: 8, kH: 3, kW: 3, strideH: 1, strideW: 1, dilH: 1, dilW: 1, padTop: 1, padLeft: 1 },
      { batch: 6, inH: 9, inW: 8, inC: 3, outH: 4, outW: 4, outC: 5, kH: 3, kW: 2, strideH: 2, strideW: 2, dilH: 1, dilW: 1, padTop: 0, padLeft: 0 },
    ];
    const pool = { batch: 5, inH: 7, inW: 5, channels: 6, outH: 4, outW: 3, kH: 3, kW: 3, strideH: 2, strideW: 2, padTop: 1, padLeft: 1 };
    const run = (threads: number) => {
      const e = engine(threads);
      // smallJob 0: every job is shared, however small.
      const out: Float32Array[] = [];
      const words = (w: number[]) => {
        const b = e.alloc(w.length);
        new Int32Array(e.memory.buffer).set(w, b.off);
        return b.ptr;
      };
      const filled = (n: number, seed: number) => {
        const b = e.alloc(n);
        fill(e, b, seed);
        return b;
      };
      for (const [i, g] of convs.entries()) {
        const geom = words(convWords(g));
        const x = filled(g.batch * g.inH * g.inW * g.inC, 100 + i);
        const w = filled(g.kH * g.kW * g.inC * g.outC, 200 + i);
        const bias = filled(g.outC, 300 + i);
        const dy = filled(g.batch * g.outH * g.outW * g.outC, 400 + i);
        const y = e.alloc(dy.size);
        const dx = e.alloc(x.size);
        const dw = filled(w.size, 500 + i); // the gradient is added to what is there
        e.conv2dForward(geom, x.ptr, w.ptr, bias.ptr, y.ptr, 1, g.batch); // image 0 untouched
        e.conv2dBackpropInput(geom, dy.ptr, w.ptr, dx.ptr, 0, g.batch);
        e.conv2dBackpropFilter(geom, x.ptr, dy.ptr, dw.ptr, 0, g.batch);
        out.push(read(e, y), read(e, dx), read(e, dw));
      }
      const geom = words(poolWords(pool));
      const x = filled(pool.batch * pool.inH * pool.inW * pool.channels, 600);
      const y = e.alloc(pool.batch * pool.outH * pool.outW * pool.channels);
      const argmax = e.alloc(y.size);
      const dy = filled(y.size, 601);
      const dx = e.alloc(x.size);
      e.maxPoolForward(geom, x.ptr, y.ptr, argmax.ptr, 0, pool.batch);
      e.maxPoolBackward(geom, dy.ptr, argmax.ptr, dx.ptr, 0, pool.batch);
      out.push(read(e, y), read(e, dx));
      e.avgPoolForward(geom, x.ptr, y.ptr, 0, pool.batch);
      e.avgPoolBackward(geom, dy.ptr, dx.ptr, 0.25, 0, pool.batch);
      out.push(read(e, y), read(e, dx));
      const up = e.alloc(x.size * 6);
      e.upsample(false, x.ptr, pool.inH, pool.inW, pool.channels, 2, 3, up.ptr, 0, pool.batch);
      const back = e.alloc(x.size);
      e.upsample(true, up.ptr, pool.inH, pool.inW, pool.channels, 2, 3, back.ptr, 0, pool.batch);
      out.push(read(e, up), read(e, back));
      return { out, shared: e.jobCounts.shared };
    };
    const one = run(1);
    // The single thread's results against the C kernels called directly on a memory of their own.
    {
      const memory = new WebAssembly.Memory({ initial: 256 });
      let top = 1 << 16;
      const alloc = (floats: number) => ((top += floats * 4 + 64), top - floats * 4 - 64);
      const c = cKernels(memory, (bytes) => alloc(Math.ceil(bytes / 4)));
      const g = convs[0];
      const put = (v: Float32Array | number[], ints = false) => {
        const p = alloc(v.length);
        (ints ? new Int32Array(memory.buffer, p, v.length) : new Float32Array(memory.buffer, p, v.length)).set(v as number[]);
        return p;
      };
      const seeded = (n: number, seed: number) => {
        const f = rng(seed);
        return Float32Array.from({ length: n }, () => f32(f()));
      };
      const geom = put(convWords(g), true);
      const x = put(seeded(g.batch * g.inH * g.inW * g.inC, 100));
      const w = put(seeded(g.kH * g.kW * g.inC * g.outC, 200));
      const bias = put(seeded(g.outC, 300));
      const y = alloc(g.batch * g.outH * g.outW * g.outC);
      const work = alloc(c.conv2d_work_floats(geom));
      c.conv2d_forward(geom, x, w, bias, y, work, 1, g.batch);
      assert.deepEqual(new Float32Array(memory.buffer, y, one.out[0].length), one.out[0]);
    }
    for (const threads of [2, 3]) {
      const many = run(threads);
      assert.ok(many.shared > 0, 'the jobs went to the worker threads');
      many.out.forEach((v, i) => {
        const isFilter = i < 9 && i % 3 === 2;
        if (!isFilter) assert.deepEqual(v, one.out[i], `result ${i} on ${threads} threads`);
        else {
          let worst = 0;
          for (let j = 0; j < v.length; j++) worst = Math.max(worst, Math.abs(v[j] - one.out[i][j]) / (1 + Math.abs(one.out[i][j])));
          assert.ok(worst < 1e-5, `filter gradient ${i} on ${threads} threads: relative difference ${worst}`);
        }
      });
    }
  });

  test('a large product is cut into several parts per thread, a small one into one per thread; bad part settings are refused', () => {
    const e = Engine.create({ threads: 2, fma: FMA, spin: 2000 });
    engines.push(e);
    const run = (m: number, k: number, n: number) => {
      const a = e.alloc(m * k), b = e.alloc(k * n), c = e.alloc(m * n);
      e.gemm({ m, n, k, a: a.ptr, b: b.ptr, c: c.ptr });
      return e.lastParts;
    };
    assert.equal(run(256, 784, 128), 16, "the deep model's first product at batch 256: 8 parts per thread");
    assert.equal(run(256, 784, 64), 16);
    assert.equal(run(32, 784, 64), 2 * Math.floor((32 * 784 * 64) / (2 * 250_000)), 'parts of at least 250,000 multiply-adds');
    assert.equal(run(32, 64, 36), 2, 'a small product: one part per thread');
    assert.throws(() => Engine.create({ threads: 2, partsPerThread: 0 }), /partsPerThread must be a whole number from 1 to 127 for 2 threads, got 0/);
    assert.throws(() => Engine.create({ threads: 4, partsPerThread: 64 }), /from 1 to 63 for 4 threads/);
    assert.throws(() => Engine.create({ threads: 2, partMadds: 0 }), /partMadds must be at least 1/);
    const wide = Engine.create({ threads: 64 });
    engines.push(wide);
    assert.equal(wide.threads, 64, 'the default parts per thread fit any thread count');
  });

  test('small jobs stay on the calling thread, with the same results', async () => {
    const quiet = Engine.create({ threads: 2, fma: FMA, spin: 2000 });
    engines.push(quiet);
    const busy = engine(2);
    await Promise.all([quiet.ready(), busy.ready()]);
    const outs: Float32Array[] = [];
    const shared: number[] = [];
    for (const e of [quiet, busy]) {
      const [a, b, c] = [e.alloc(8 * 16), e.alloc(16 * 24), e.alloc(8 * 24)];
      fill(e, a, 1);
      fill(e, b, 2);
      const before = e.jobCounts.shared;
      e.gemm({ m: 8, n: 24, k: 16, a: a.ptr, b: b.ptr, c: c.ptr });
      shared.push(e.jobCounts.shared - before);
      outs.push(read(e, c));
    }
    assert.deepEqual(shared, [0, 1], 'the small product stays on this thread by default, and is shared with smallJob 0');
    assert.deepEqual(outs[0], outs[1]);
  });

  test('a worker\'s error comes back as the job\'s error, and the engine still ends cleanly', async () => {
    const e = engine(2);
    await e.ready();
    // A job code no thread knows: the worker that claims it throws; so does the main thread.
    const internals = e as unknown as { run(op: number, work: number): void };
    assert.throws(() => internals.run(999, 1e9), /unknown job 999/);
    await e.dispose();
    assert.throws(() => e.alloc(4), /disposed/);
  });

  test('an engine starts its threads on its first shared job, not before', async () => {
    const before = liveWorkers();
    const e = engine(3);
    const b = e.alloc(64 * 64);
    assert.equal(liveWorkers(), before, 'no thread yet');
    e.transpose(b.ptr, 64, 64, e.alloc(64 * 64).ptr);
    assert.equal(liveWorkers(), before + 2);
    await e.dispose();
    assert.equal(liveWorkers(), before);
  });

  test('every worker thread has exited once its engines are disposed', async () => {
    const a = engine(3);
    const b = engine(2);
    await Promise.all([a.ready(), b.ready()]);
    assert.ok(liveWorkers() >= 3);
    await Promise.all(engines.map((e) => e.dispose()));
    await allWorkersExited();
    assert.equal(liveWorkers(), 0);
  });

  test('the same suite with fused multiply-add (relaxed SIMD), in a process that has it', { skip: FMA_RUN }, () => {
    const flags = relaxedSimdNodeFlags();
    // A test runner of its own (NODE_TEST_CONTEXT would make it report to ours instead of printing).
    const env: NodeJS.ProcessEnv = { ...process.env, AENB_ENGINE_TEST_FMA: '1' };
    delete env.NODE_TEST_CONTEXT;
    const r = spawnSync(process.execPath, [...flags, '--enable-source-maps', '--test', '--test-reporter=spec', __filename], {
      encoding: 'utf8',
      env,
      timeout: 300_000,
    });
    assert.equal(r.status, 0, `the FMA run failed:\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /engine \(fused multiply-add\)/);
    assert.doesNotMatch(r.stdout, /# fail [1-9]/);
  });
});
