/**
 * The lean step on the parallel engine (threads, fused multiply-add) against
 * the lean step on one thread (the backend's heap and XNNPACK): the same
 * losses within float32 tolerance, batch after batch, for our models and for
 * a tfjs model trained with tfjs's own `fit`; the optimizer's state where
 * tfjs keeps it; N threads giving one engine thread's weights bit for bit;
 * no tensor left behind; every worker thread ended when training ends,
 * however it ends.
 *
 * The whole file runs twice: here with plain SIMD, and again (the last
 * test) in a child process started with relaxed SIMD, where the engine's
 * runs use fused multiply-add.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/lib/backend';
import { computeSettings, setComputeOptions } from '../../src/lib/compute';
import { liveWorkers, relaxedSimdNodeFlags, startProfile, stopProfile } from '../../src/lib/engine';
import { Autoencoder, StackedAutoencoder, type AutoencoderModel } from '../../src/lib/models';
import { lastTrainingPath, stopAllTraining } from '../../src/lib/training';
import { readsOnlyLogs } from '../../src/lib/lean';

const FMA_RUN = process.env.AENB_LEAN_THREADS_TEST_FMA === '1';

before(async () => {
  await initBackend('wasm');
});

after(() => setComputeOptions({ threads: 'auto', fma: 'auto' }));

/** Smooth images in [0, 1]: n of 28×28. */
function images(n: number, seed: number): tf.Tensor3D {
  return tf.tidy(() => {
    const cy = tf.randomUniform([n, 1, 1], 4, 24, 'float32', seed);
    const cx = tf.randomUniform([n, 1, 1], 4, 24, 'float32', seed + 1);
    const d = tf.add(tf.square(tf.sub(tf.range(0, 28).reshape([1, 28, 1]), cy)), tf.square(tf.sub(tf.range(0, 28).reshape([1, 1, 28]), cx)));
    return tf.exp(tf.mul(d, -0.05)) as tf.Tensor3D;
  });
}

interface Config {
  threads: number;
  fma: boolean;
}

const ONE: Config = { threads: 1, fma: false };
/** The engine's configurations this process can run. */
const ENGINE: Config[] = FMA_RUN ? [{ threads: 2, fma: true }, { threads: 3, fma: true }] : [{ threads: 2, fma: false }, { threads: 3, fma: false }];

interface Trained {
  batchLosses: number[];
  weights: Float32Array[];
  slots: Float32Array[];
  path: string | undefined;
  tensorsBefore: number;
  tensorsAfter: number;
}

async function trainOurs(make: () => AutoencoderModel, x: tf.Tensor, config: Config, epochs = 2, batchSize = 32): Promise<Trained> {
  setComputeOptions(config);
  const m = make();
  m.compile({ loss: 'binaryCrossentropy', optimizer: 'adam' });
  const tensorsBefore = tf.memory().numTensors;
  const h = await m.fit(x, x, { epochs, batchSize, seed: 3, verbose: 0 });
  const tensorsAfter = tf.memory().numTensors;
  const path = lastTrainingPath();
  const weights = m.uniqueWeights().map((w) => (w.read().dataSync() as Float32Array).slice());
  // The optimizer's state as tfjs keeps it (Adam's m and v per variable, after its iteration count).
  const opt = (m as unknown as { optimizer: tf.Optimizer }).optimizer;
  const state = await opt.getWeights();
  const slots = state.slice(1).map((s) => (s.tensor.dataSync() as Float32Array).slice());
  tf.dispose(state[0].tensor);
  m.dispose();
  return { batchLosses: h.batchLosses, weights, slots, path, tensorsBefore, tensorsAfter };
}

/** The largest relative difference; a NaN on both sides counts as equal, on one side as infinitely different. */
function relDiff(a: number[], b: number[]): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(a[i]) && Number.isNaN(b[i])) continue;
    const d = Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), 1e-12);
    worst = Math.max(worst, Number.isNaN(d) ? Infinity : d);
  }
  return worst;
}

/** The largest absolute difference; NaNs as in relDiff. */
function maxAbsDiff(a: Float32Array[], b: Float32Array[]): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  a.forEach((x, i) => {
    assert.equal(x.length, b[i].length);
    for (let j = 0; j < x.length; j++) {
      if (Number.isNaN(x[j]) && Number.isNaN(b[i][j])) continue;
      const d = Math.abs(x[j] - b[i][j]);
      worst = Math.max(worst, Number.isNaN(d) ? Infinity : d);
    }
  });
  return worst;
}

describe(`lean step on threads (${FMA_RUN ? 'fused multiply-add' : 'plain SIMD'})`, () => {
  const models: [string, () => AutoencoderModel][] = [
    ['vanilla 784-64-784', () => new Autoencoder({ inputShape: [28, 28], latentDim: 64, seed: 1 })],
    ['tied stacked [64, 36]', () => new StackedAutoencoder({ inputShape: [28, 28], layers: [64, 36], seed: 1 })],
  ];

  for (const [name, make] of models) {
    test(`${name}: 1 thread and N threads give the same losses within float32 tolerance`, async () => {
      const x = images(300, 5); // 10 batches of 32, the last one partial
      const one = await trainOurs(make, x, ONE);
      assert.equal(one.path, 'lean-wasm');
      const runs: Trained[] = [];
      for (const c of ENGINE) {
        const r = await trainOurs(make, x, c);
        assert.equal(r.path, 'lean-wasm');
        assert.equal(liveWorkers(), 0, `${c.threads} threads: every worker thread has ended with the fit`);
        // The fit adds the optimizer's slots (2 per variable for Adam) and nothing else, as on one thread.
        assert.equal(r.tensorsAfter - r.tensorsBefore, one.tensorsAfter - one.tensorsBefore, 'no tensor left behind');
        assert.equal(r.tensorsAfter - r.tensorsBefore, r.slots.length);
        const dl = relDiff(r.batchLosses, one.batchLosses);
        assert.ok(dl < 1e-5, `${JSON.stringify(c)}: batch losses differ from one thread's by ${dl.toExponential(2)} (relative)`);
        const dw = maxAbsDiff(r.weights, one.weights);
        assert.ok(dw < 1e-5, `${JSON.stringify(c)}: weights differ by ${dw.toExponential(2)}`);
        // The optimizer's state is tfjs's: written back into its slot variables, and as close as the weights.
        assert.equal(r.slots.length, one.slots.length);
        const ds = maxAbsDiff(r.slots, one.slots);
        assert.ok(ds < 1e-5, `${JSON.stringify(c)}: Adam's slots differ by ${ds.toExponential(2)}`);
        runs.push(r);
      }
      // The engine's products are cut by rows or columns: any thread count computes the same weights, bit for bit.
      for (let i = 1; i < runs.length; i++) {
        assert.deepEqual(runs[i].weights, runs[0].weights, `${ENGINE[i].threads} threads vs ${ENGINE[0].threads}`);
        assert.deepEqual(runs[i].slots, runs[0].slots, `${ENGINE[i].threads} threads vs ${ENGINE[0].threads}: optimizer state`);
      }
      x.dispose();
    });
  }

  test('backward stops at the lowest trained layer: no input gradient for the first dense layer (5 products per batch, not 6), W2ᵀ read as stored (no transpose), Adam in one job', async () => {
    const x = images(96, 7); // 3 batches of 32
    setComputeOptions(ENGINE[0]);
    const m = models[0][1]();
    m.compile({ loss: 'binaryCrossentropy', optimizer: 'adam' });
    startProfile();
    try {
      await m.fit(x, x, { epochs: 1, batchSize: 32, seed: 3, verbose: 0 });
    } finally {
      const profile = stopProfile();
      m.dispose();
      x.dispose();
      const calls = (prefix: string) => [...profile].filter(([label]) => label.startsWith(prefix)).reduce((s, [, e]) => s + e.count, 0);
      assert.equal(lastTrainingPath(), 'lean-wasm');
      assert.equal(calls('step (all)'), 3);
      // Forward x·W1 and h·W2; dW2 = hᵀ·dz, dh = dz·W2ᵀ (the product reads W2 as stored), dW1 = xᵀ·dh; no dx = dh·W1ᵀ below the first layer.
      assert.equal(calls('gemm'), 5 * 3, `products: ${[...profile.keys()].join(', ')}`);
      assert.equal(calls('gemm 32x64x784 Bᵀ'), 3, `products: ${[...profile.keys()].join(', ')}`);
      assert.equal(calls('transpose'), 0);
      // The four variables' Adam updates: one job per batch.
      assert.equal(calls('adam_group'), 3);
      assert.equal(calls('adam'), 3);
    }
  });

  const optimizers: [string, () => tf.Optimizer][] = [
    ['Adam', () => tf.train.adam(0.001)],
    ['RMSprop', () => tf.train.rmsprop(1e-4, 0.9)],
    // tfjs's centered RMSprop divides by sqrt(ms − (mg² + ε)), so a weight whose gradient is 0 becomes NaN (dead ReLU units
    // here): the engine must give the same NaNs, and the NaNs must flow through it as through tfjs.
    ['centered RMSprop with momentum (NaNs included)', () => tf.train.rmsprop(1e-4, 0.9, 0.5, 1e-7, true)],
    ['SGD', () => tf.train.sgd(0.05)],
  ];
  for (const [optName, makeOptimizer] of optimizers) {
    test(`tfjs's own model.fit of a dense model (ReLU, sigmoid, mean squared error, ${optName}, validation): the same on every thread count`, async () => {
      const x = tf.tidy(() => images(200, 9).reshape([200, 784]));
      const build = () => {
        const m = tf.sequential({ layers: [tf.layers.dense({ units: 32, activation: 'relu', inputShape: [784], kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }), tf.layers.dense({ units: 784, activation: 'sigmoid', kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }) })] });
        m.compile({ optimizer: makeOptimizer(), loss: 'meanSquaredError' });
        return m;
      };
      const fitOnce = async (c: Config) => {
        setComputeOptions(c);
        const m = build();
        const losses: number[] = [];
        const h = await m.fit(x, x, { epochs: 2, batchSize: 32, shuffle: false, verbose: 0, validationSplit: 0.2, callbacks: { onBatchEnd: async (_b, logs) => void losses.push(logs?.loss as number) } });
        const w = m.getWeights().map((t) => (t.dataSync() as Float32Array).slice());
        const state = await m.optimizer.getWeights();
        const slots = state.slice(1).map((t) => (t.tensor.dataSync() as Float32Array).slice());
        m.dispose();
        return { losses, val: h.history.val_loss as number[], w, slots };
      };
      const one = await fitOnce(ONE);
      for (const c of ENGINE) {
        const r = await fitOnce(c);
        assert.ok(relDiff(r.losses, one.losses) < 1e-5, `${JSON.stringify(c)}: batch losses ${r.losses.slice(0, 6)} vs ${one.losses.slice(0, 6)}`);
        // Validation runs on the model's variables: they must hold the engine's weights by then.
        assert.ok(relDiff(r.val, one.val) < 1e-5, `${JSON.stringify(c)}: validation losses ${r.val} vs ${one.val}`);
        assert.ok(maxAbsDiff(r.w, one.w) < 1e-5, `${JSON.stringify(c)}: weights`);
        assert.equal(r.slots.length, one.slots.length, "the optimizer's slots");
        assert.ok(maxAbsDiff(r.slots, one.slots) < 1e-5, `${JSON.stringify(c)}: optimizer state`);
        assert.equal(liveWorkers(), 0);
      }
      x.dispose();
    });
  }

  test('weights read in a callback are the ones trained so far; weights set in a callback are the ones trained from', async () => {
    const x = images(128, 2);
    const seen: number[][] = [];
    const run = async (c: Config) => {
      setComputeOptions(c);
      const m = new Autoencoder({ inputShape: [28, 28], latentDim: 16, seed: 7 });
      m.compile();
      const sums: number[] = [];
      await m.fit(x, x, {
        epochs: 1, batchSize: 32, seed: 1, verbose: 0,
        callbacks: {
          onBatchEnd: async (b) => {
            sums.push(tf.tidy(() => tf.sum(m.model.getWeights()[0]).dataSync()[0]));
            // Halfway, replace the first kernel: training must go on from it.
            if (b === 1) m.model.layers.find((l) => l.getWeights().length)!.setWeights([tf.zeros(m.model.getWeights()[0].shape), m.model.getWeights()[1]]);
          },
        },
      });
      seen.push(sums);
      m.dispose();
    };
    await run(ONE);
    await run(ENGINE[0]);
    assert.ok(relDiff(seen[1], seen[0]) < 1e-4, `kernel sums seen by the callback: ${seen[1]} vs ${seen[0]}`);
    x.dispose();
  });

  test("model.fit: a callback with a batch hook gets the weights written back after every batch; one marked as reading only its logs, or with epoch hooks only, does not (and still reads the epoch's weights)", async () => {
    const x = tf.tidy(() => images(640, 5).reshape([640, 784]));
    setComputeOptions(ENGINE[0]);
    type Kind = 'batch hook' | 'marked' | 'epoch hook only';
    const run = async (kind: Kind) => {
      const m = tf.sequential({ layers: [tf.layers.dense({ units: 16, activation: 'relu', inputShape: [784], kernelInitializer: tf.initializers.glorotUniform({ seed: 8 }) }), tf.layers.dense({ units: 784, activation: 'sigmoid', kernelInitializer: tf.initializers.glorotUniform({ seed: 9 }) })] });
      m.compile({ optimizer: 'adam', loss: 'binaryCrossentropy' });
      const losses: number[] = [];
      let atEpochEnd = NaN;
      const onBatchEnd = async (_b: number, logs?: tf.Logs) => void losses.push(logs?.loss as number);
      const onEpochEnd = async () => void (atEpochEnd = tf.tidy(() => tf.sum(m.getWeights()[0]).dataSync()[0]));
      const callback: tf.CustomCallbackArgs = kind === 'batch hook' ? { onBatchEnd } : kind === 'marked' ? readsOnlyLogs({ onBatchEnd }) : { onEpochEnd };
      startProfile();
      const t0 = performance.now();
      const h = await m.fit(x, x, { epochs: 1, batchSize: 32, shuffle: false, verbose: 0, callbacks: callback });
      const ms = performance.now() - t0;
      const flushes = stopProfile().get('weights written back (flush)')?.count ?? 0;
      const w = m.getWeights().map((t) => (t.dataSync() as Float32Array).slice());
      const kernelSum = tf.tidy(() => tf.sum(m.getWeights()[0]).dataSync()[0]);
      m.dispose();
      return { losses, flushes, ms, w, loss: h.history.loss[0] as number, atEpochEnd, kernelSum };
    };
    const hooked = await run('batch hook');
    assert.ok(hooked.flushes >= 20, `20 batches, ${hooked.flushes} write-backs`);
    for (const kind of ['marked', 'epoch hook only'] as const) {
      const r = await run(kind);
      // Once at the end of the epoch, and at most once per 50 ms of training (when tfjs may pause).
      assert.ok(r.flushes <= 2 + r.ms / 50, `${kind}: ${r.flushes} write-backs in ${r.ms.toFixed(0)} ms`);
      if (kind === 'marked') assert.deepEqual(r.losses, hooked.losses, 'the same training either way');
      assert.equal(r.loss, hooked.loss, `${kind}: the same epoch loss`);
      assert.ok(maxAbsDiff(r.w, hooked.w) === 0, `${kind}: the same weights at the end`);
      if (kind === 'epoch hook only') assert.equal(r.atEpochEnd, r.kernelSum, "the epoch-end hook read the epoch's trained weights");
    }
    x.dispose();
  });

  test('stopping from a callback and stopAllTraining end the engine\'s threads, and the weights are kept', async () => {
    const x = images(640, 3);
    setComputeOptions(ENGINE[0]);
    const m = new Autoencoder({ inputShape: [28, 28], latentDim: 16, seed: 7 });
    m.compile();
    let during = -1;
    const h = await m.fit(x, x, {
      epochs: 3, batchSize: 32, seed: 1, verbose: 0,
      callbacks: {
        onBatchEnd: async (b) => {
          if (b === 2) during = liveWorkers();
          if (b === 4) m.stopTraining = true;
        },
      },
    });
    assert.equal(h.stopped, true);
    assert.equal(during, ENGINE[0].threads - 1, 'the workers ran during training');
    assert.equal(liveWorkers(), 0, 'and are gone once fit returns');
    const before = (m.model.getWeights()[0].dataSync() as Float32Array).slice();
    // stopAllTraining (what an interrupt does) from outside the loop.
    const fitting = m.fit(x, x, { epochs: 50, batchSize: 32, verbose: 0, callbacks: { onBatchEnd: async (b) => void (b === 3 && stopAllTraining('interrupted')) } });
    const h2 = await fitting;
    assert.equal(h2.stopReason, 'interrupted');
    assert.equal(liveWorkers(), 0);
    const after = m.model.getWeights()[0].dataSync() as Float32Array;
    assert.ok(after.some((v, i) => v !== before[i]), 'the interrupted fit kept what it learned');
    m.dispose();
    x.dispose();
  });

  test('the compute settings resolve as documented', () => {
    setComputeOptions({ threads: 3, fma: false });
    assert.deepEqual({ ...computeSettings(), fmaAvailable: undefined }, { threads: 3, fma: false, fmaAvailable: undefined, engine: true });
    setComputeOptions({ threads: 1, fma: true });
    assert.equal(computeSettings().engine, false, 'one thread is the single-threaded path, whatever fma says');
    assert.throws(() => setComputeOptions({ threads: 0.5 }), /threads must be/);
    assert.throws(() => setComputeOptions({ fma: 'maybe' as 'on' }), /fma must be/);
  });

  test('the same suite with fused multiply-add (relaxed SIMD), in a process that has it', { skip: FMA_RUN }, () => {
    const env: NodeJS.ProcessEnv = { ...process.env, AENB_LEAN_THREADS_TEST_FMA: '1' };
    delete env.NODE_TEST_CONTEXT;
    const r = spawnSync(process.execPath, [...relaxedSimdNodeFlags(), '--enable-source-maps', '--test', '--test-reporter=spec', __filename], { encoding: 'utf8', env, timeout: 600_000 });
    assert.equal(r.status, 0, `the FMA run failed:\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /lean step on threads \(fused multiply-add\)/);
  });
});
