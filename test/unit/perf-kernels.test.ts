/**
 * The training speed-ups on the wasm backend: the SIMD element-wise kernels,
 * the row-copying GatherV2, and the lean training step. Each one against a
 * reference (plain loops, the stock kernel, the generic tfjs training path):
 * same results (bit for bit where the arithmetic is the same, float32
 * tolerance where rounding differs), gradients included, no leaks, no stale
 * caches, and a fallback to the generic path whenever something is outside
 * what the lean step handles.
 */
import { test, before, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/lib/backend';
import { Autoencoder, StackedAutoencoder, type AutoencoderModel } from '../../src/lib/models';
import { addNoise } from '../../src/lib/noise';
import { binaryCrossentropy } from '../../src/lib/losses';
import { type History, lastTrainingPath, lastTrainingPathReason, setLeanTraining } from '../../src/lib/training';
import { installWasmGatherFix, wasmGatherFixInstalled } from '../../src/lib/wasm-kernels';
import { SimdKernels, simdModuleBytes } from '../../src/lib/wasm-simd';
import { createLeanStep, wasmInternals } from '../../src/lib/wasm-train-step';

const f32 = Math.fround;

before(async () => {
  await initBackend('wasm');
  installWasmGatherFix();
});

after(() => setLeanTraining(true));

/** Smooth blobs in [0, 1]: n images of 8x8. */
function blobs(n: number, seed: number): tf.Tensor3D {
  return tf.tidy(() => {
    const centres = tf.randomUniform([n, 1, 1], 2, 6, 'float32', seed);
    const d = tf.add(tf.square(tf.sub(tf.range(0, 8).reshape([1, 8, 1]), centres)), tf.square(tf.sub(tf.range(0, 8).reshape([1, 1, 8]), centres)));
    return tf.exp(tf.mul(d, -0.3)) as tf.Tensor3D;
  });
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function weightsOf(m: AutoencoderModel): Float32Array[] {
  return m.uniqueWeights().map((w) => w.read().dataSync() as Float32Array).map((d) => d.slice());
}

// ---------------------------------------------------------------------------

describe('SIMD element-wise kernels', () => {
  const memory = new WebAssembly.Memory({ initial: 64 });
  const heap = () => new Float32Array(memory.buffer);
  const simd = SimdKernels.for(memory, heap);
  const js = SimdKernels.for(memory, heap, true);
  const rand = (n: number, f: () => number) => Float32Array.from({ length: n }, () => f32(f()));
  const put = (at: number, values: Float32Array) => heap().set(values, at >>> 2);
  const get = (at: number, n: number) => heap().slice(at >>> 2, (at >>> 2) + n);

  test('range: the minimum and maximum in one pass, remainders and NaNs included', () => {
    for (const n of [1, 3, 4, 7, 1001]) {
      const v = rand(n, () => Math.random() * 10 - 3);
      put(64, v);
      const want = [Math.min(...v), Math.max(...v)];
      assert.deepEqual(simd.range(64, n, 0), want, `n=${n}`);
      assert.deepEqual(js.range(64, n, 0), want, `n=${n}, JS`);
    }
    put(64, Float32Array.from([0, 1, NaN, 2, 3, 4, 5, 6, 7]));
    assert.ok(simd.range(64, 9, 0).every(Number.isNaN), 'a NaN anywhere makes both NaN');
    // The kernel reads 16 floats a step, then 4, then the caller the last 0-3: a NaN, the minimum and the maximum in each part.
    const n = 16 * 5 + 4 * 2 + 3;
    for (let at = 0; at < n; at++) {
      const v = rand(n, () => Math.random() * 2 - 1);
      v[at] = -7;
      v[(at + 37) % n] = 9;
      put(64, v);
      assert.deepEqual(simd.range(64, n, 0), [-7, 9], `minimum at ${at}`);
      v[at] = NaN;
      put(64, v);
      assert.ok(simd.range(64, n, 0).every(Number.isNaN), `a NaN at ${at}`);
    }
  });

  test('the module validates and this engine runs it', () => {
    assert.ok(WebAssembly.validate(simdModuleBytes() as BufferSource));
    assert.equal(simd.simd, true);
    assert.equal(js.simd, false);
  });

  for (const n of [1, 3, 4, 5, 64, 1003]) {
    test(`sigmoid + cross-entropy from the logits, n = ${n}: loss and gradient within float32 tolerance, clipping exact`, () => {
      const [z, t, dz] = [4096, 4096 + 8192, 4096 + 16384];
      // Logits over the whole range, some beyond the clipping points (|z| > 16), and exact 0 / 1 targets.
      const zv = rand(n, () => (Math.random() < 0.1 ? (Math.random() < 0.5 ? -30 : 30) * Math.random() : (Math.random() - 0.5) * 20));
      const tv = rand(n, () => (Math.random() < 0.6 ? 0 : Math.random() < 0.2 ? 1 : Math.random()));
      const lo = f32(1e-7);
      const hi = f32(1 - 1e-7);
      const invN = f32(1 / n);
      let ref = 0;
      let magnitude = 0;
      for (let i = 0; i < n; i++) {
        // Exact: the clipped sigmoid's cross-entropy, in float64.
        const s = 1 / (1 + Math.exp(-zv[i]));
        const p = Math.min(Math.max(s, lo), hi);
        const term = -(tv[i] * Math.log(p) + (1 - tv[i]) * Math.log(1 - p));
        ref += term;
        magnitude += Math.abs(term);
      }
      for (const k of [simd, js]) {
        put(z, zv);
        put(t, tv);
        const sum = k.bceLogits(z, t, dz, n, invN);
        assert.ok(Math.abs(sum - ref) <= 2e-6 * magnitude + 1e-6, `${k.simd ? 'simd' : 'js'}: ${sum} vs ${ref}`);
        const got = get(dz, n);
        for (let i = 0; i < n; i++) {
          const s = 1 / (1 + Math.exp(-zv[i]));
          const clipped = f32(s) < lo || f32(s) > hi;
          if (clipped) assert.equal(got[i], 0, `clipped element ${i} (z ${zv[i]}) has zero gradient`);
          else assert.ok(Math.abs(got[i] - (s - tv[i]) * invN) <= 4e-7 * invN, `dz[${i}] = ${got[i]}, want ${(s - tv[i]) * invN}`);
        }
      }
    });

    test(`Adam and SGD, n = ${n}: bit-identical to tfjs's float32 arithmetic`, () => {
      const [w, g, m, v] = [4096, 4096 + 8192, 4096 + 16384, 4096 + 24576];
      const W = rand(n, () => Math.random() - 0.5);
      const G = rand(n, () => (Math.random() - 0.5) * 1e-2);
      const M = rand(n, () => Math.random() * 1e-3);
      const V = rand(n, () => Math.random() * 1e-5);
      const [b1, b2, omb1, omb2, oma1, oma2, eps, nlr] = [0.9, 0.999, 1 - 0.9, 1 - 0.999, 1 - 0.9 ** 4, 1 - 0.999 ** 4, 1e-7, -1e-3].map(f32);
      const refW = new Float32Array(n);
      const refM = new Float32Array(n);
      const refV = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        refM[i] = f32(f32(M[i] * b1) + f32(G[i] * omb1));
        refV[i] = f32(f32(V[i] * b2) + f32(f32(G[i] * G[i]) * omb2));
        refW[i] = f32(f32(f32(f32(refM[i] / oma1) / f32(f32(Math.sqrt(f32(refV[i] / oma2))) + eps)) * nlr) + W[i]);
      }
      for (const k of [simd, js]) {
        put(w, W);
        put(g, G);
        put(m, M);
        put(v, V);
        k.adam(w, g, m, v, n, b1, b2, omb1, omb2, oma1, oma2, eps, nlr);
        assert.deepEqual(get(w, n), refW);
        assert.deepEqual(get(m, n), refM);
        assert.deepEqual(get(v, n), refV);
        put(w, W);
        k.sgd(w, g, n, nlr);
        assert.deepEqual(get(w, n), W.map((x, i) => f32(f32(nlr * G[i]) + x)));
      }
    });

    test(`activations forward / backward, MSE, add, n = ${n}: exact`, () => {
      const [x, a, dz, t] = [4096, 4096 + 8192, 4096 + 16384, 4096 + 24576];
      const X = rand(n, () => Math.random() * 2 - 1);
      const A = rand(n, () => (Math.random() < 0.1 ? 0 : Math.random() * 2 - 1));
      const D = rand(n, () => Math.random() - 0.5);
      const alpha = f32(0.3);
      for (const k of [simd, js]) {
        put(x, X);
        k.leakyReluForward(x, n, alpha);
        assert.deepEqual(get(x, n), X.map((v) => (v < 0 ? f32(v * alpha) : v)));
        put(x, X);
        k.reluForward(x, n);
        assert.deepEqual(get(x, n), X.map((v) => (v > 0 ? v : 0)));
        put(a, A);
        put(dz, D);
        k.leakyReluBackward(dz, a, n, alpha);
        assert.deepEqual(get(dz, n), D.map((d, i) => (A[i] > 0 ? d : f32(d * alpha))));
        put(dz, D);
        k.reluBackward(dz, a, n);
        assert.deepEqual(get(dz, n), D.map((d, i) => (A[i] > 0 ? d : 0)));
        put(dz, D);
        k.sigmoidBackward(dz, a, n);
        assert.deepEqual(get(dz, n), D.map((d, i) => f32(d * f32(A[i] * f32(1 - A[i])))));
        put(x, X);
        put(t, A);
        const sum = k.mse(x, t, dz, n, f32(2 / n));
        const diff = X.map((v, i) => f32(v - A[i]));
        assert.deepEqual(get(dz, n), diff.map((d) => f32(d * f32(2 / n))));
        assert.ok(Math.abs(sum - diff.reduce((s, d) => s + f32(d * d), 0)) < 1e-9 * n);
        put(x, X);
        put(a, A);
        k.add(x, a, n);
        assert.deepEqual(get(x, n), X.map((v, i) => f32(v + A[i])));
      }
    });
  }

  for (const [rows, cols] of [[1, 1], [4, 4], [3, 5], [8, 12], [9, 13], [32, 784], [96, 64], [256, 36]]) {
    test(`transpose and column sums of ${rows}x${cols}: exact`, () => {
      const [src, dst, out] = [4096, 4096 + rows * cols * 4 + 64, 4096 + 2 * rows * cols * 4 + 128];
      const X = rand(rows * cols, () => Math.random() - 0.5);
      const sums = new Float32Array(cols);
      for (let j = 0; j < cols; j++) for (let r = 0; r < rows; r++) sums[j] = f32(sums[j] + X[r * cols + j]);
      for (const k of [simd, js]) {
        put(src, X);
        k.transpose(src, rows, cols, dst);
        const T = get(dst, rows * cols);
        for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) assert.equal(T[c * rows + r], X[r * cols + c]);
        k.colSums(src, rows, cols, out);
        assert.deepEqual(get(out, cols), sums);
      }
    });
  }
});

// ---------------------------------------------------------------------------

describe('GatherV2 along axis 0 (row copies)', () => {
  test('is installed, and gives what the element-wise definition gives, for every dtype and index shape', () => {
    assert.ok(wasmGatherFixInstalled());
    const before = tf.memory().numTensors;
    const values = Array.from({ length: 10 * 3 * 2 }, (_, i) => i * 1.5 - 7);
    for (const dtype of ['float32', 'int32', 'bool'] as const) {
      const data = dtype === 'bool' ? values.map((v) => (v > 0 ? 1 : 0)) : dtype === 'int32' ? values.map(Math.round) : values;
      const x = tf.tensor3d(data, [10, 3, 2], dtype);
      for (const [idx, shape] of [[[3, 0, 9, 3], [4]], [[1, 2, 3, 4], [2, 2]], [[], [0]], [[9], [1]]] as [number[], number[]][]) {
        const indices = tf.tensor(idx, shape, 'int32');
        for (const axis of [0, -3]) {
          const got = tf.gather(x, indices, axis);
          assert.deepEqual(got.shape, [...shape, 3, 2]);
          assert.equal(got.dtype, dtype);
          const want = idx.flatMap((i) => data.slice(i * 6, i * 6 + 6));
          assert.deepEqual(Array.from(got.dataSync()), want);
          got.dispose();
        }
        indices.dispose();
      }
      x.dispose();
    }
    assert.equal(tf.memory().numTensors, before);
  });

  test('other axes go to the stock kernel; out-of-range indices are refused as before', () => {
    // (The stock kernel is also what runs for batchDims > 0, which tfjs-backend-wasm 4.22 gets wrong on its own.)
    const x = tf.tensor3d(Array.from({ length: 24 }, (_, i) => i), [2, 3, 4]);
    const g1 = tf.gather(x, [2, 0], 1);
    assert.deepEqual(g1.arraySync(), [[[8, 9, 10, 11], [0, 1, 2, 3]], [[20, 21, 22, 23], [12, 13, 14, 15]]]);
    const g2 = tf.gather(x, [3, 0], 2);
    assert.deepEqual(g2.arraySync(), [[[3, 0], [7, 4], [11, 8]], [[15, 12], [19, 16], [23, 20]]]);
    assert.throws(() => tf.gather(x, [2], 0), /GatherV2: the index value 2 is not in \[0, 1\]/);
    assert.throws(() => tf.gather(x, [-1], 0), /GatherV2: the index value -1 is not in \[0, 1\]/);
    tf.dispose([x, g1, g2]);
  });
});

// ---------------------------------------------------------------------------

type Make = () => AutoencoderModel;

const makers: [string, Make][] = [
  ['vanilla', () => new Autoencoder({ inputShape: [8, 8], latentDim: 6, seed: 4 })],
  ['stacked (tied)', () => new StackedAutoencoder({ inputShape: [8, 8], layers: [12, 5], seed: 4 })],
];

/** Trains two identical models, one per path, and returns both with their histories. */
async function bothPaths(make: Make, fit: (m: AutoencoderModel) => Promise<History>, compile: (m: AutoencoderModel) => void = (m) => m.compile()) {
  const lean = make();
  const generic = make();
  compile(lean);
  compile(generic);
  setLeanTraining(true);
  const leanHistory = await fit(lean);
  const leanPath = lastTrainingPath();
  setLeanTraining(false);
  let genericHistory: History;
  try {
    genericHistory = await fit(generic);
  } finally {
    setLeanTraining(true);
  }
  const genericPath = lastTrainingPath();
  return { lean, generic, leanPath, genericPath, leanHistory, genericHistory };
}

describe('lean training step: same results as the generic path', () => {
  for (const [label, make] of makers) {
    test(`${label}: one Adam step gives the same weights and optimizer state (float32 tolerance)`, async () => {
      const x = blobs(24, 1);
      const optimizers: tf.AdamOptimizer[] = [];
      const { lean, generic, leanPath, genericPath } = await bothPaths(
        make,
        (m) => m.fit(x, x, { epochs: 1, batchSize: 24, shuffle: false, verbose: 0 }),
        (m) => {
          const opt = tf.train.adam(0.01, 0.9, 0.999, 1e-7);
          optimizers.push(opt);
          m.compile({ optimizer: opt });
        },
      );
      assert.equal(leanPath, 'lean-wasm');
      assert.equal(genericPath, 'generic');
      const [wl, wg] = [weightsOf(lean), weightsOf(generic)];
      const initial = weightsOf(make());
      wl.forEach((w, i) => {
        assert.ok(maxAbsDiff(w, wg[i]) < 1e-6, `weight ${i} differs by ${maxAbsDiff(w, wg[i])}`);
        assert.ok(maxAbsDiff(w, initial[i]) > 1e-3, `weight ${i} was trained`);
      });
      const [sl, sg] = await Promise.all(optimizers.map((o) => o.getWeights()));
      assert.equal(sl.length, sg.length);
      assert.equal(sl.length, 1 + 2 * wl.length, 'iterations, then m and v of each variable');
      // Slots named and ordered as tfjs's Adam does: iterations, then m of each variable, then v of each.
      const names = lean.trainableVariables().map((v) => v.name);
      assert.deepEqual(sl.map((s) => s.name), ['iter', ...names.map((n) => `${n}/m`), ...names.map((n) => `${n}/v`)]);
      sl.forEach((s, i) => assert.ok(maxAbsDiff(s.tensor.dataSync(), sg[i].tensor.dataSync()) < 1e-7, `${s.name}`));
      assert.equal(optimizers[0].iterations, 1);
      const acc = optimizers.map((o) => (o as unknown as { accBeta1: tf.Tensor }).accBeta1.dataSync()[0]);
      assert.equal(acc[0], acc[1]);
      lean.dispose();
      generic.dispose();
      x.dispose();
    });

    test(`${label}: three epochs, shuffled, with a partial last batch: per-batch losses agree`, async () => {
      const x = blobs(100, 2);
      const { lean, generic, leanHistory: hl, genericHistory: hg } = await bothPaths(make, (m) => m.fit(x, x, { epochs: 3, batchSize: 16, seed: 5, verbose: 0 }));
      assert.equal(hl.batchLosses.length, 3 * 7);
      const rel = hl.batchLosses.map((l, i) => Math.abs(l - hg.batchLosses[i]) / hg.batchLosses[i]);
      assert.ok(Math.max(...rel) < 1e-4, `worst relative difference ${Math.max(...rel)}`);
      assert.ok(hl.history.loss[2] < hl.history.loss[0], 'it learns');
      lean.dispose();
      generic.dispose();
      x.dispose();
    });
  }

  test('SGD through the tied kernel matches tf.grad of the loss (gradient check)', async () => {
    const sae = new StackedAutoencoder({ inputShape: [10], layers: [7, 3], seed: 9 });
    sae.compile({ loss: 'binaryCrossentropy', optimizer: tf.train.sgd(0.1) });
    const x = tf.randomUniform([12, 10], 0, 1, 'float32', 3);
    const vars = sae.trainableVariables();
    const initial = vars.map((v) => v.clone());
    const grads = tf.tidy(() => {
      const f = (...ws: tf.Tensor[]) => {
        const [k1, b1, k2, b2, c2, c1] = ws;
        const h1 = tf.leakyRelu(tf.add(tf.matMul(x, k1), b1), 0.2);
        const z = tf.leakyRelu(tf.add(tf.matMul(h1, k2), b2), 0.2);
        const d1 = tf.leakyRelu(tf.add(tf.matMul(z, k2, false, true), c2), 0.2);
        return binaryCrossentropy(x, tf.sigmoid(tf.add(tf.matMul(d1, k1, false, true), c1)));
      };
      return tf.grads(f)(initial);
    });
    await sae.fit(x, x, { epochs: 1, batchSize: 12, shuffle: false, verbose: 0 });
    assert.equal(lastTrainingPath(), 'lean-wasm');
    vars.forEach((v, i) => {
      const implied = tf.tidy(() => tf.div(tf.sub(initial[i], v), 0.1));
      const d = maxAbsDiff(implied.dataSync(), grads[i].dataSync());
      const scale = Math.max(...Array.from(grads[i].dataSync(), Math.abs));
      assert.ok(d < 1e-4 * scale + 1e-6, `gradient of ${v.name}: off by ${d} (largest component ${scale})`);
      implied.dispose();
    });
    tf.dispose([x, ...initial, ...grads]);
    sae.dispose();
  });

  test('MSE with ReLU hidden layers and a linear output, and a denoising target (y ≠ x)', async () => {
    const clean = blobs(64, 7);
    const noisy = addNoise(clean, 0.2, { seed: 3 });
    const make = () => new StackedAutoencoder({ inputShape: [8, 8], layers: [16, 6], hiddenActivation: 'relu', outputActivation: 'linear', seed: 2 });
    const { lean, generic, leanPath } = await bothPaths(
      make,
      (m) => m.fit(noisy, clean, { epochs: 2, batchSize: 10, seed: 1, verbose: 0 }),
      (m) => m.compile({ loss: 'mse', optimizer: 'adam', learningRate: 0.01 }),
    );
    assert.equal(leanPath, 'lean-wasm');
    const [wl, wg] = [weightsOf(lean), weightsOf(generic)];
    wl.forEach((w, i) => assert.ok(maxAbsDiff(w, wg[i]) < 1e-5, `weight ${i}: ${maxAbsDiff(w, wg[i])}`));
    tf.dispose([clean, noisy]);
    lean.dispose();
    generic.dispose();
  });

  test('switching paths between fits keeps one consistent optimizer state', async () => {
    const x = blobs(64, 4);
    const mixed = new Autoencoder({ inputShape: [8, 8], latentDim: 5, seed: 8 });
    const plain = new Autoencoder({ inputShape: [8, 8], latentDim: 5, seed: 8 });
    mixed.compile();
    plain.compile();
    setLeanTraining(true);
    await mixed.fit(x, x, { epochs: 1, batchSize: 8, seed: 1, verbose: 0 });
    setLeanTraining(false);
    let h: History;
    let hp: History;
    try {
      h = await mixed.fit(x, x, { epochs: 1, batchSize: 8, seed: 2, verbose: 0 });
      await plain.fit(x, x, { epochs: 1, batchSize: 8, seed: 1, verbose: 0 });
      hp = await plain.fit(x, x, { epochs: 1, batchSize: 8, seed: 2, verbose: 0 });
    } finally {
      setLeanTraining(true);
    }
    assert.ok(Math.abs(h.history.loss[0] - hp.history.loss[0]) < 1e-5 * hp.history.loss[0], `${h.history.loss[0]} vs ${hp.history.loss[0]}`);
    x.dispose();
    mixed.dispose();
    plain.dispose();
  });

  for (const [label, make] of makers) {
    test(`${label}: every form of the products (direct, swapped, chosen by cost) gives the generic path's weights`, async () => {
      const x = blobs(45, 11);
      const x2 = x.reshape([45, 64]);
      const generic = make();
      generic.compile();
      setLeanTraining(false);
      try {
        await generic.fit(x, x, { epochs: 1, batchSize: 10, shuffle: false, verbose: 0 }); // 4 full batches and one of 5
      } finally {
        setLeanTraining(true);
      }
      const want = weightsOf(generic);
      for (const strategy of ['direct', 'swapped', 'auto'] as const) {
        const m = make();
        m.compile();
        const opt = (m as unknown as { optimizer: tf.Optimizer }).optimizer;
        const step = createLeanStep({ model: m.model, loss: 'binaryCrossentropy', optimizer: opt, variables: m.trainableVariables(), x: x2, y: x2, batchSize: 10, strategy });
        assert.ok(step, 'lean step available');
        for (let start = 0; start < 45; start += 10) step.step(null, start, Math.min(10, 45 - start));
        step.dispose();
        weightsOf(m).forEach((w, i) => assert.ok(maxAbsDiff(w, want[i]) < 2e-6, `${strategy}, weight ${i}: ${maxAbsDiff(w, want[i])}`));
        m.dispose();
      }
      generic.dispose();
      tf.dispose([x, x2]);
    });
  }

  test('the SIMD and the JS element-wise paths agree', async () => {
    const x = blobs(40, 6);
    const runs: Float32Array[][] = [];
    for (const forceJs of [false, true]) {
      const m = new StackedAutoencoder({ inputShape: [8, 8], layers: [12, 5], seed: 1 });
      m.compile();
      const opt = (m as unknown as { optimizer: tf.Optimizer }).optimizer;
      const x2 = x.reshape([40, 64]);
      const step = createLeanStep({ model: m.model, loss: 'binaryCrossentropy', optimizer: opt, variables: m.trainableVariables(), x: x2, y: x2, batchSize: 10, forceJs })!;
      assert.ok(step, 'lean step available');
      for (let b = 0; b < 4; b++) step.step(null, b * 10, 10);
      step.dispose();
      runs.push(weightsOf(m));
      x2.dispose();
      m.dispose();
    }
    runs[0].forEach((w, i) => assert.ok(maxAbsDiff(w, runs[1][i]) < 1e-6, `weight ${i}: ${maxAbsDiff(w, runs[1][i])}`));
    x.dispose();
  });
});

describe('lean training step: safety', () => {
  test('predictions after training use the new weights (no stale packed-weight cache), also mid-training', async () => {
    const x = blobs(32, 3);
    const ae = new Autoencoder({ inputShape: [8, 8], latentDim: 4, seed: 6 });
    ae.compile();
    const manual = () =>
      tf.tidy(() => {
        // Fresh tensors from the current values: nothing the backend may have cached.
        const [k1, b1, k2, b2] = ae.uniqueWeights().map((w) => tf.tensor(w.read().dataSync().slice(), w.shape as number[]));
        const h = tf.leakyRelu(tf.add(tf.matMul(x.reshape([32, 64]), k1), b1), 0.3);
        return tf.sigmoid(tf.add(tf.matMul(h, k2), b2)).reshape([32, 8, 8]);
      });
    const p0 = ae.predict(x); // caches XNNPACK operators for the kernels' ids
    const seen: number[] = [];
    await ae.fit(x, x, {
      epochs: 3,
      batchSize: 8,
      verbose: 0,
      callbacks: {
        onEpochEnd: () => {
          const [p, m] = [ae.predict(x), manual()];
          seen.push(maxAbsDiff(p.dataSync(), m.dataSync()));
          tf.dispose([p, m]);
        },
      },
    });
    assert.equal(lastTrainingPath(), 'lean-wasm');
    const [p1, m1] = [ae.predict(x), manual()];
    assert.ok(maxAbsDiff(p1.dataSync(), m1.dataSync()) < 1e-6, 'prediction after training');
    assert.ok(seen.every((d) => d < 1e-6), `predictions between epochs: ${seen}`);
    assert.ok(maxAbsDiff(p0.dataSync(), p1.dataSync()) > 1e-4, 'the model did change');
    tf.dispose([x, p0, p1, m1]);
    ae.dispose();
  });

  test('tensors sharing a weight\'s memory keep their values: a reshaped view, a tensor given to setWeights', async () => {
    const x = blobs(16, 5);
    const ae = new StackedAutoencoder({ inputShape: [8, 8], layers: [6, 3], seed: 2 });
    ae.compile();
    const [kernel, , kernel2] = ae.trainableVariables();
    const view = kernel.reshape([-1]); // same data as the variable (the wasm backend shares it)
    const viewValues = view.dataSync().slice();
    const given = tf.randomUniform(kernel2.shape, -0.1, 0.1, 'float32', 4);
    const givenValues = given.dataSync().slice();
    const dense2 = ae.encoder.layers[2];
    dense2.setWeights([given, dense2.getWeights()[1]]); // the variable now shares `given`'s data
    const internals = wasmInternals()!;
    assert.ok(internals.dataIdMap.get(view.dataId)!.refCount > 1 && internals.dataIdMap.get(given.dataId)!.refCount > 1, 'the data really is shared');
    await ae.fit(x, x, { epochs: 1, batchSize: 8, verbose: 0 });
    assert.equal(lastTrainingPath(), 'lean-wasm');
    assert.deepEqual(view.dataSync(), viewValues);
    assert.deepEqual(given.dataSync(), givenValues);
    assert.ok(maxAbsDiff(kernel.dataSync(), viewValues) > 1e-4, 'the kernel itself was trained');
    assert.ok(maxAbsDiff(kernel2.dataSync(), givenValues) > 1e-4, 'the second kernel too');
    tf.dispose([x, view, given]);
    ae.dispose();
  });

  test('no tensors and no wasm memory left behind', async () => {
    const x = blobs(64, 8);
    const ae = new StackedAutoencoder({ inputShape: [8, 8], layers: [12, 4], seed: 3 });
    ae.compile();
    await ae.fit(x, x, { epochs: 1, batchSize: 16, verbose: 0 }); // creates the optimizer's slots
    const tensors = tf.memory().numTensors;
    const memory = wasmInternals()!.wasm.asm.memory;
    await ae.fit(x, x, { epochs: 1, batchSize: 16, verbose: 0 });
    const heapAfterOne = memory.buffer.byteLength;
    for (let i = 0; i < 5; i++) await ae.fit(x, x, { epochs: 1, batchSize: 16, verbose: 0 });
    assert.equal(lastTrainingPath(), 'lean-wasm');
    assert.equal(tf.memory().numTensors, tensors);
    assert.equal(memory.buffer.byteLength, heapAfterOne, 'the heap does not grow from fit to fit');
    x.dispose();
    ae.dispose();
  });

  test('anything the lean step does not handle trains on the generic path, and the reason names it', async () => {
    const x = blobs(16, 9);
    const cases: [string, () => AutoencoderModel, (m: AutoencoderModel) => void, RegExp][] = [
      ['custom loss', () => new Autoencoder({ inputShape: [8, 8], latentDim: 3 }), (m) => m.compile({ loss: (a, b) => tf.mean(tf.abs(tf.sub(a, b))) as tf.Scalar }), /the loss/],
      ['Adagrad', () => new Autoencoder({ inputShape: [8, 8], latentDim: 3 }), (m) => m.compile({ optimizer: 'adagrad' }), /the optimizer AdagradOptimizer/],
      ['an Adam subclass', () => new Autoencoder({ inputShape: [8, 8], latentDim: 3 }), (m) => m.compile({ optimizer: new (class MyAdam extends tf.AdamOptimizer {})(0.001, 0.9, 0.999, 1e-7) }), /the optimizer MyAdam/],
      ['cross-entropy on a linear output', () => new StackedAutoencoder({ inputShape: [8, 8], layers: [4], outputActivation: 'linear' }), (m) => m.compile({ loss: 'binaryCrossentropy' }), /binary cross-entropy on an output without a sigmoid/],
      ['softplus hidden layers', () => new StackedAutoencoder({ inputShape: [8, 8], layers: [4], hiddenActivation: 'softplus' }), (m) => m.compile(), /layer 'dense' \(Dense\) uses the softplus activation/],
    ];
    for (const [label, make, compile, reason] of cases) {
      const m = make();
      compile(m);
      await m.fit(x, x, { epochs: 1, batchSize: 8, verbose: 0 });
      assert.equal(lastTrainingPath(), 'generic', label);
      assert.match(lastTrainingPathReason() ?? '', reason, label);
      m.dispose();
    }
    x.dispose();
  });
});
