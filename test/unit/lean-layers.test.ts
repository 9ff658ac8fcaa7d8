/**
 * The lean training step for any model of supported layers: tfjs models
 * (sequential, functional chains, nested) trained with tfjs's own
 * `model.fit`, each supported layer type, loss and optimizer, against the
 * generic path from the same weights; and the reason given when a model is
 * refused.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/lib/backend';
import { setComputeOptions } from '../../src/lib/compute';
import { activation, TransposedDense } from '../../src/lib/layers';
import { fitDecision, leanLayersFitInstalled, setLeanTraining, supportedLayerClasses, chainOf } from '../../src/lib/lean';

before(async () => {
  await initBackend('wasm');
});

after(() => {
  setLeanTraining(true);
  setComputeOptions({ threads: 'auto', fma: 'auto' });
});

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Smooth images in [0, 1]: n of h×w (×1 channel when `channels`). */
function images(n: number, h: number, w: number, seed: number, channels = false): tf.Tensor {
  return tf.tidy(() => {
    const cy = tf.randomUniform([n, 1, 1], 1, h - 1, 'float32', seed);
    const cx = tf.randomUniform([n, 1, 1], 1, w - 1, 'float32', seed + 1);
    const d = tf.add(tf.square(tf.sub(tf.range(0, h).reshape([1, h, 1]), cy)), tf.square(tf.sub(tf.range(0, w).reshape([1, 1, w]), cx)));
    const img = tf.exp(tf.mul(d, -0.25));
    return channels ? img.expandDims(-1) : img;
  });
}

type Build = () => tf.LayersModel;
type Compile = (m: tf.LayersModel) => void;

/**
 * Builds the model twice with the same weights, trains one on the lean path
 * and one on the generic path (tfjs's model.fit both times, no shuffling),
 * and returns both with their per-batch losses.
 */
async function bothPaths(build: Build, compile: Compile, x: tf.Tensor, y: tf.Tensor, fitArgs: tf.ModelFitArgs) {
  const lean = build();
  const generic = build();
  generic.setWeights(lean.getWeights());
  // The initial weights as values (another backend can start from them).
  const initial = lean.getWeights().map((w) => ({ values: w.dataSync().slice() as Float32Array, shape: w.shape }));
  compile(lean);
  compile(generic);
  const losses: number[][] = [[], []];
  const run = async (m: tf.LayersModel, i: number, enabled: boolean) => {
    setLeanTraining(enabled);
    try {
      await m.fit(x, y, { shuffle: false, verbose: 0, ...fitArgs, callbacks: { onBatchEnd: async (_b, logs) => void losses[i].push(logs?.loss as number) } });
    } finally {
      setLeanTraining(true);
    }
  };
  await run(lean, 0, true);
  const leanDecision = fitDecision(lean);
  await run(generic, 1, false);
  return { lean, generic, leanDecision, leanLosses: losses[0], genericLosses: losses[1], initial };
}

function assertSameWeights(a: tf.LayersModel, b: tf.LayersModel, tol: number, label: string): void {
  const wa = a.getWeights();
  const wb = b.getWeights();
  assert.equal(wa.length, wb.length);
  wa.forEach((w, i) => {
    const d = maxAbsDiff(w.dataSync(), wb[i].dataSync());
    assert.ok(d <= tol, `${label}: weight ${i} (${w.shape}) differs by ${d}`);
  });
}

function assertSameLosses(a: number[], b: number[], tol: number, label: string): void {
  assert.equal(a.length, b.length, `${label}: batch counts`);
  a.forEach((l, i) => assert.ok(Math.abs(l - b[i]) <= tol * Math.abs(b[i]) + 1e-7, `${label}: batch ${i} loss ${l} vs ${b[i]}`));
}

const seq = (layers: tf.layers.Layer[]) => () => tf.sequential({ layers });
const glorot = (seed: number) => tf.initializers.glorotUniform({ seed });

describe('model.fit of tfjs models takes the lean step', () => {
  test('the patch is installed with the wasm backend', () => {
    assert.ok(leanLayersFitInstalled());
  });

  const x16 = () => images(40, 4, 4, 3);
  const cases: [string, () => tf.LayersModel, Compile, number][] = [
    [
      "the Keras blog's simple autoencoder (tf.model, relu / sigmoid, binary cross-entropy, Adam)",
      () => {
        const input = tf.input({ shape: [16] });
        const code = tf.layers.dense({ units: 5, activation: 'relu', kernelInitializer: glorot(1) }).apply(input);
        const out = tf.layers.dense({ units: 16, activation: 'sigmoid', kernelInitializer: glorot(2) }).apply(code) as tf.SymbolicTensor;
        return tf.model({ inputs: input, outputs: out });
      },
      (m) => m.compile({ optimizer: tf.train.adam(0.01), loss: 'binaryCrossentropy' }),
      16,
    ],
    [
      'tanh and ELU dense layers, MSE, RMSprop',
      () => tf.sequential({ layers: [
        tf.layers.dense({ units: 7, activation: 'tanh', inputShape: [16], kernelInitializer: glorot(3) }),
        tf.layers.dense({ units: 6, activation: 'elu', kernelInitializer: glorot(4) }),
        tf.layers.dense({ units: 16, kernelInitializer: glorot(5) }),
      ] }),
      (m) => m.compile({ optimizer: tf.train.rmsprop(0.005), loss: 'meanSquaredError' }),
      16,
    ],
    [
      'activation layers (ReLU, LeakyReLU, ELU, Activation tanh / sigmoid), flatten and reshape, RMSprop with momentum',
      () => tf.sequential({ layers: [
        tf.layers.flatten({ inputShape: [4, 4] }),
        tf.layers.dense({ units: 8, kernelInitializer: glorot(6) }),
        tf.layers.reLU(),
        tf.layers.dense({ units: 8, kernelInitializer: glorot(7) }),
        tf.layers.leakyReLU({ alpha: 0.2 }),
        tf.layers.dense({ units: 8, kernelInitializer: glorot(8) }),
        tf.layers.elu(),
        tf.layers.dense({ units: 8, kernelInitializer: glorot(9) }),
        tf.layers.activation({ activation: 'tanh' }),
        tf.layers.dense({ units: 16, kernelInitializer: glorot(10) }),
        tf.layers.activation({ activation: 'sigmoid' }),
        tf.layers.reshape({ targetShape: [4, 4] }),
      ] }),
      (m) => m.compile({ optimizer: tf.train.rmsprop(0.002, 0.9, 0.5), loss: 'binaryCrossentropy' }),
      16,
    ],
    [
      'dropout with a seed, our LeakyReLU activation, SGD',
      () => tf.sequential({ layers: [
        tf.layers.dense({ units: 9, inputShape: [16], activation: activation({ leakyRelu: 0.3 }), kernelInitializer: glorot(11) }),
        tf.layers.dropout({ rate: 0.3, seed: 7 }),
        tf.layers.dense({ units: 16, activation: 'sigmoid', kernelInitializer: glorot(12) }),
      ] }),
      (m) => m.compile({ optimizer: tf.train.sgd(0.5), loss: 'binaryCrossentropy' }),
      16,
    ],
  ];
  for (const [label, build, compile, width] of cases) {
    test(`${label}: same losses and weights as the generic path`, async () => {
      const x = tf.tidy(() => x16().reshape(width === 16 && label.includes('flatten') ? [40, 4, 4] : [40, 16]));
      const before = tf.memory().numTensors;
      const { lean, generic, leanDecision, leanLosses, genericLosses } = await bothPaths(build, compile, x, x, { epochs: 2, batchSize: 12 });
      assert.equal(leanDecision?.path, 'lean-wasm', leanDecision?.reason);
      assertSameLosses(leanLosses, genericLosses, 1e-5, label);
      assertSameWeights(lean, generic, 2e-6, label);
      // No tensors left behind by the lean path: a further fit keeps the count (the optimizer's slots exist by now).
      const count = tf.memory().numTensors;
      await lean.fit(x, x, { epochs: 1, batchSize: 12, verbose: 0 });
      assert.equal(fitDecision(lean)?.path, 'lean-wasm');
      assert.equal(tf.memory().numTensors, count);
      assert.ok(count > before);
      lean.dispose();
      generic.dispose();
      x.dispose();
    });
  }

  const conv = (args: Parameters<typeof tf.layers.conv2d>[0], seed: number) => tf.layers.conv2d({ kernelInitializer: glorot(seed), ...args });
  const convCases: [string, () => tf.LayersModel, Compile, number][] = [
    [
      "the Keras blog's convolutional autoencoder (conv 16 → pool → conv 8 → pool → up → conv 16 → up → conv 1 sigmoid), binary cross-entropy, Adam",
      () => tf.sequential({ layers: [
        conv({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: [8, 8, 1] }, 31),
        tf.layers.maxPooling2d({ poolSize: 2, padding: 'same' }),
        conv({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' }, 32),
        tf.layers.maxPooling2d({ poolSize: 2, padding: 'same' }),
        tf.layers.upSampling2d({ size: [2, 2] }),
        conv({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu' }, 33),
        tf.layers.upSampling2d({ size: [2, 2] }),
        conv({ filters: 1, kernelSize: 3, padding: 'same', activation: 'sigmoid' }, 34),
      ] }),
      (m) => m.compile({ optimizer: tf.train.adam(0.005), loss: 'binaryCrossentropy' }),
      1,
    ],
    [
      'strided valid convolutions, conv2dTranspose (strides 2, same and valid), batch normalization, average pooling, ELU, MSE, RMSprop',
      () => tf.sequential({ layers: [
        conv({ filters: 5, kernelSize: [3, 2], strides: 2, padding: 'valid', activation: 'elu', inputShape: [8, 8, 1] }, 35),
        tf.layers.batchNormalization({ momentum: 0.9 }),
        tf.layers.averagePooling2d({ poolSize: 2, strides: 1, padding: 'valid' }),
        tf.layers.conv2dTranspose({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'tanh', kernelInitializer: glorot(36) }),
        tf.layers.conv2dTranspose({ filters: 1, kernelSize: 2, strides: 1, padding: 'valid', kernelInitializer: glorot(37) }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 64, kernelInitializer: glorot(38) }),
      ] }),
      (m) => m.compile({ optimizer: tf.train.rmsprop(0.003), loss: 'meanSquaredError' }),
      1,
    ],
    [
      'max and average pooling with same padding on odd sizes, up-sampling by [2, 3], seeded dropout, leakyReLU, a frozen convolution, SGD',
      () => {
        const frozen = conv({ filters: 3, kernelSize: 3, padding: 'same', inputShape: [7, 5, 1] }, 39);
        frozen.trainable = false;
        return tf.sequential({ layers: [
          frozen,
          tf.layers.leakyReLU({ alpha: 0.1 }),
          tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }),
          conv({ filters: 4, kernelSize: 1, activation: 'relu' }, 40),
          tf.layers.averagePooling2d({ poolSize: 2, strides: 2, padding: 'same' }),
          tf.layers.dropout({ rate: 0.25, seed: 3 }),
          tf.layers.upSampling2d({ size: [2, 3] }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 35, activation: 'sigmoid', kernelInitializer: glorot(41) }),
        ] });
      },
      (m) => m.compile({ optimizer: tf.train.sgd(0.3), loss: 'binaryCrossentropy' }),
      2,
    ],
  ];
  /** The case's model trained on the cpu backend (tfjs's reference kernels, generic path) from the given weights: per-batch losses and final weights. */
  async function onCpu(build: Build, compile: Compile, init: { values: Float32Array; shape: number[] }[], x: tf.Tensor, y: tf.Tensor, fitArgs: tf.ModelFitArgs) {
    const data = [x, y].map((t) => ({ values: t.dataSync().slice(), shape: t.shape }));
    await tf.setBackend('cpu');
    try {
      const m = build();
      m.setWeights(init.map((w) => tf.tensor(w.values, w.shape)));
      compile(m);
      const [cx, cy] = data.map((d) => tf.tensor(d.values, d.shape));
      const losses: number[] = [];
      await m.fit(cx, cy, { shuffle: false, verbose: 0, ...fitArgs, callbacks: { onBatchEnd: async (_b, logs) => void losses.push(logs?.loss as number) } });
      const out = m.getWeights().map((w) => w.dataSync().slice());
      tf.dispose([cx, cy]);
      m.dispose();
      return { losses, weights: out };
    } finally {
      await tf.setBackend('wasm');
    }
  }

  // Each case on the backend's heap (one thread, XNNPACK) and on the parallel engine's memory (two threads),
  // against tfjs's model.fit on the cpu backend and on the generic wasm path, from the same weights.
  const memories = [{ threads: 1, fma: false, compute: /^XNNPACK, 1 thread$/ }, { threads: 2, fma: false, compute: /^2 threads, plain SIMD$/ }];
  for (const [label, build, compile, kind] of convCases) {
    for (const memory of memories) {
      test(`${label} (${memory.threads === 1 ? 'one thread: the backend\'s heap' : 'two threads: the engine\'s memory'}): same losses and weights as the cpu backend and the generic path`, async () => {
        setComputeOptions({ threads: memory.threads, fma: memory.fma });
        const imgs = kind === 2 ? images(24, 7, 5, 5, true) : images(24, 8, 8, 5, true);
        const target = kind === 2 ? imgs.reshape([24, 35]) : kind === 1 && label.startsWith('strided') ? imgs.reshape([24, 64]) : imgs;
        const fitArgs = { epochs: 2, batchSize: 10 };
        const { lean, generic, leanDecision, leanLosses, genericLosses, initial } = await bothPaths(build, compile, imgs, target, fitArgs);
        assert.equal(leanDecision?.path, 'lean-wasm', leanDecision?.reason);
        assert.match(leanDecision?.compute ?? '', memory.compute);
        assertSameLosses(leanLosses, genericLosses, 2e-5, label);
        assertSameWeights(lean, generic, 1e-5, label);
        const cpu = await onCpu(build, compile, initial, imgs, target, fitArgs);
        assertSameLosses(leanLosses, cpu.losses, 2e-5, `${label} vs cpu`);
        lean.getWeights().forEach((w, i) => {
          const d = maxAbsDiff(w.dataSync(), cpu.weights[i]);
          assert.ok(d <= 1e-5, `${label} vs cpu: weight ${i} (${w.shape}) differs by ${d}`);
        });
        // The moving statistics of batch normalization moved the same way.
        const count = tf.memory().numTensors;
        await lean.fit(imgs, target, { epochs: 1, batchSize: 10, verbose: 0 });
        assert.equal(tf.memory().numTensors, count, 'no tensor left behind');
        tf.dispose([imgs, target]);
        lean.dispose();
        generic.dispose();
      });
    }
  }

  test('centered RMSprop: one step gives the generic path\'s weights, NaNs included', async () => {
    // tfjs's centered RMSprop takes sqrt(ms − (mg² + ε)), negative for any gradient under about 1e-3 in size:
    // those weights become NaN on both paths, in the same places.
    const x = tf.tidy(() => x16().reshape([40, 16]));
    const build = () => tf.sequential({ layers: [
      tf.layers.dense({ units: 6, activation: 'tanh', inputShape: [16], kernelInitializer: glorot(13) }),
      tf.layers.dense({ units: 16, activation: 'sigmoid', kernelInitializer: glorot(14) }),
    ] });
    const { lean, generic, leanDecision } = await bothPaths(build, (m) => m.compile({ optimizer: tf.train.rmsprop(0.002, 0.9, 0.5, 1e-7, true), loss: 'binaryCrossentropy' }), x, x, { epochs: 1, batchSize: 40 });
    assert.equal(leanDecision?.path, 'lean-wasm', leanDecision?.reason);
    const [wl, wg] = [lean.getWeights(), generic.getWeights()];
    let nans = 0;
    wl.forEach((w, i) => {
      const [a, b] = [w.dataSync(), wg[i].dataSync()];
      for (let k = 0; k < a.length; k++) {
        assert.equal(Number.isNaN(a[k]), Number.isNaN(b[k]), `weight ${i}[${k}]: ${a[k]} vs ${b[k]}`);
        if (Number.isNaN(a[k])) nans++;
        else assert.ok(Math.abs(a[k] - b[k]) <= 2e-6, `weight ${i}[${k}]: ${a[k]} vs ${b[k]}`);
      }
    });
    assert.ok(nans < wl.reduce((s, w) => s + w.size, 0), 'some weights stay finite');
    [lean, generic, x].forEach((t) => t.dispose());
  });

  test('a tied-weights decoder of TransposedDense layers inside tf.sequential, validation split, Adam: same as generic', async () => {
    const x = tf.tidy(() => x16().reshape([40, 16]));
    const build = () => {
      const d1 = tf.layers.dense({ units: 8, inputShape: [16], activation: 'relu', kernelInitializer: glorot(20) });
      const d2 = tf.layers.dense({ units: 3, activation: 'relu', kernelInitializer: glorot(21) });
      const enc = tf.sequential({ layers: [d1, d2] });
      const dec = tf.sequential({ layers: [new TransposedDense({ source: d2, inputShape: [3] }), new TransposedDense({ source: d1, activation: 'sigmoid' })] });
      return tf.sequential({ layers: [enc, dec] });
    };
    const { lean, generic, leanDecision, leanLosses, genericLosses } = await bothPaths(build, (m) => m.compile({ optimizer: 'adam', loss: 'binaryCrossentropy' }), x, x, {
      epochs: 3, batchSize: 8, validationSplit: 0.25,
    });
    assert.equal(leanDecision?.path, 'lean-wasm', leanDecision?.reason);
    assertSameLosses(leanLosses, genericLosses, 1e-5, 'tied');
    assertSameWeights(lean, generic, 2e-6, 'tied');
    [lean, generic, x].forEach((t) => t.dispose());
  });
});

describe("the fast path's batch loop is tfjs's loop as a user sees it", () => {
  /** Runs `fn` with Math.random drawing from a fixed sequence (tfjs shuffles with it), then restores it. */
  async function withSeededRandom<T>(seed: number, fn: () => Promise<T>): Promise<T> {
    const original = Math.random;
    let state = seed >>> 0;
    Math.random = () => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state / 2 ** 32;
    };
    try {
      return await fn();
    } finally {
      Math.random = original;
    }
  }

  /**
   * Every callback event of a fit, with a copy of its logs. tfjs's own loop hands its Callback subclasses the loss as a
   * scalar tensor (the declared type is a number); the copy holds its value.
   */
  class Recorder extends tf.Callback {
    readonly events: { event: string; index?: number; logs?: Record<string, unknown> }[] = [];
    private note(event: string, index?: number, logs?: tf.Logs) {
      const value = (v: unknown) => (typeof v === 'number' ? v : v instanceof tf.Tensor ? v.dataSync()[0] : `neither a number nor a tensor: ${typeof v}`);
      const copy = logs ? Object.fromEntries(Object.entries(logs).map(([k, v]) => [k, value(v)])) : undefined;
      this.events.push({ event, index, logs: copy });
    }
    override async onTrainBegin(logs?: tf.Logs) { this.note('trainBegin', undefined, logs); }
    override async onEpochBegin(e: number, logs?: tf.Logs) { this.note('epochBegin', e, logs); }
    override async onBatchBegin(b: number, logs?: tf.Logs) { this.note('batchBegin', b, logs); }
    override async onBatchEnd(b: number, logs?: tf.Logs) { this.note('batchEnd', b, logs); }
    override async onEpochEnd(e: number, logs?: tf.Logs) { this.note('epochEnd', e, logs); }
    override async onTrainEnd(logs?: tf.Logs) { this.note('trainEnd', undefined, logs); }
  }

  const build = () => {
    const input = tf.input({ shape: [16] });
    const code = tf.layers.dense({ units: 5, activation: 'relu', kernelInitializer: glorot(31) }).apply(input);
    const out = tf.layers.dense({ units: 16, activation: 'sigmoid', kernelInitializer: glorot(32) }).apply(code) as tf.SymbolicTensor;
    const m = tf.model({ inputs: input, outputs: out });
    m.compile({ optimizer: tf.train.adam(0.02), loss: 'binaryCrossentropy' });
    return m;
  };

  /** The same fit on both paths, shuffled from the same random draws: its events, History, weights, and the lean decision. */
  async function both(fitArgs: (m: tf.LayersModel) => tf.ModelFitArgs, x: tf.Tensor) {
    const runs = [];
    for (const enabled of [true, false]) {
      setLeanTraining(enabled);
      try {
        const m = build();
        const rec = new Recorder();
        const args = fitArgs(m);
        const h = await withSeededRandom(12345, () => m.fit(x, x, { ...args, callbacks: [rec, ...((args.callbacks as tf.Callback[] | undefined) ?? [])] }));
        runs.push({ m, rec, h, decision: fitDecision(m) });
      } finally {
        setLeanTraining(true);
      }
    }
    return { lean: runs[0], generic: runs[1] };
  }

  function assertSameEvents(a: Recorder, b: Recorder): void {
    assert.deepEqual(a.events.map((e) => `${e.event}${e.index ?? ''}`), b.events.map((e) => `${e.event}${e.index ?? ''}`), 'the same callbacks in the same order');
    a.events.forEach((e, i) => {
      const g = b.events[i];
      assert.deepEqual(Object.keys(e.logs ?? {}).sort(), Object.keys(g.logs ?? {}).sort(), `${e.event} ${e.index}: the same log keys`);
      for (const [k, v] of Object.entries(e.logs ?? {})) {
        const w = g.logs![k];
        assert.equal(typeof v, 'number', `${e.event} ${e.index}: ${k} is a number (${v})`);
        assert.ok(Math.abs((v as number) - (w as number)) <= 1e-5 * Math.abs(w as number) + 1e-7, `${e.event} ${e.index}: ${k} ${v} vs ${w}`);
      }
    });
  }

  test('shuffled epochs, a last partial batch, a validation split and an initial epoch: the same events, logs, History and weights', async () => {
    const x = tf.tidy(() => images(40, 4, 4, 5).reshape([40, 16]));
    const { lean, generic } = await both(() => ({ epochs: 4, initialEpoch: 1, batchSize: 7, validationSplit: 0.25, verbose: 0 }), x);
    assert.equal(lean.decision?.path, 'lean-wasm', lean.decision?.reason);
    assert.equal(lean.decision?.loop, 'lean');
    assert.equal(generic.decision, undefined);
    // 30 training rows in batches of 7: four full batches and one of 2, for epochs 1 to 3.
    assert.equal(lean.rec.events.filter((e) => e.event === 'batchEnd').length, 15);
    assert.deepEqual(lean.rec.events.filter((e) => e.event === 'batchEnd').map((e) => e.logs?.size).slice(0, 5), [7, 7, 7, 7, 2]);
    assertSameEvents(lean.rec, generic.rec);
    assert.deepEqual(lean.h.epoch, generic.h.epoch);
    assert.deepEqual(lean.h.params, generic.h.params);
    assert.deepEqual(Object.keys(lean.h.history).sort(), ['loss', 'val_loss']);
    for (const k of ['loss', 'val_loss']) {
      assert.ok(lean.h.history[k].every((v) => typeof v === 'number'), `History ${k} holds numbers`);
      assertSameLosses(lean.h.history[k] as number[], generic.h.history[k] as number[], 1e-5, `History ${k}`);
    }
    // The shuffles drew the same orders: different orders would train different weights.
    assertSameWeights(lean.m, generic.m, 2e-6, 'shuffled');
    assert.equal(lean.m.history, lean.h, 'model.history is the History returned');
    [lean.m, generic.m, x].forEach((t) => t.dispose());
  });

  test('stopTraining set in a callback, and EarlyStopping (a tf.Callback reading the epoch logs): both stop where tfjs stops', async () => {
    const x = tf.tidy(() => images(40, 4, 4, 6).reshape([40, 16]));
    const mid = await both((m) => ({
      epochs: 3, batchSize: 8, verbose: 0,
      callbacks: [new (class extends tf.Callback {
        override async onBatchEnd(b: number) {
          if (b === 2) m.stopTraining = true;
        }
      })()],
    }), x);
    assertSameEvents(mid.lean.rec, mid.generic.rec);
    assert.deepEqual(mid.lean.rec.events.filter((e) => e.event === 'batchEnd').map((e) => e.index), [0, 1, 2]);
    assert.deepEqual(mid.lean.h.epoch, [0]);
    const early = await both(() => ({ epochs: 6, batchSize: 8, verbose: 0, callbacks: [tf.callbacks.earlyStopping({ monitor: 'loss', minDelta: 10, patience: 1 })] }), x);
    assertSameEvents(early.lean.rec, early.generic.rec);
    assert.deepEqual(early.lean.h.epoch, [0, 1], 'stopped after the second epoch, as on the generic path');
    assert.deepEqual(early.lean.h.epoch, early.generic.h.epoch);
    [mid.lean.m, mid.generic.m, early.lean.m, early.generic.m, x].forEach((t) => t.dispose());
  });

  test("with tfjs-node loaded and a verbose fit, tfjs's own loop runs (it adds tfjs-node's progress bar), on the lean step", async () => {
    const x = tf.tidy(() => images(40, 4, 4, 8).reshape([40, 16]));
    // tfjs-node registers a backend named 'tensorflow' when it loads: a stand-in factory says the same here.
    tf.registerBackend('tensorflow', () => new (tf.findBackend('cpu')!.constructor as new () => tf.KernelBackend)(), -1);
    try {
      const quiet = await both(() => ({ epochs: 2, batchSize: 8, verbose: 0 }), x);
      assert.equal(quiet.lean.decision?.loop, 'lean', 'verbose 0 adds no progress callbacks: the lean loop');
      const verbose = await both(() => ({ epochs: 2, batchSize: 8, verbose: 1 }), x);
      assert.equal(verbose.lean.decision?.path, 'lean-wasm');
      assert.equal(verbose.lean.decision?.loop, "tfjs's (the progress bar of tfjs-node)");
      assertSameEvents(verbose.lean.rec, verbose.generic.rec);
      assertSameWeights(verbose.lean.m, verbose.generic.m, 2e-6, "tfjs's loop on the lean step");
      [quiet.lean.m, quiet.generic.m, verbose.lean.m, verbose.generic.m].forEach((m) => m.dispose());
    } finally {
      tf.removeBackend('tensorflow');
      x.dispose();
    }
    assert.equal(tf.getBackend(), 'wasm');
  });

  test('plain callbacks get numbers; no tensors left behind, on the fast loop with validation', async () => {
    const x = tf.tidy(() => images(40, 4, 4, 7).reshape([40, 16]));
    const m = build();
    await m.fit(x, x, { epochs: 1, batchSize: 8, verbose: 0, validationSplit: 0.2 });
    const count = tf.memory().numTensors;
    const seen: string[] = [];
    await m.fit(x, x, {
      epochs: 2, batchSize: 8, verbose: 0, validationSplit: 0.2,
      callbacks: { onBatchEnd: async (b, logs) => void seen.push(`${b}:${typeof logs?.loss}`), onEpochEnd: async (e, logs) => void seen.push(`e${e}:${typeof logs?.loss},${typeof logs?.val_loss}`) },
    });
    assert.equal(fitDecision(m)?.loop, 'lean');
    assert.deepEqual(seen, ['0:number', '1:number', '2:number', '3:number', 'e0:number,number', '0:number', '1:number', '2:number', '3:number', 'e1:number,number']);
    assert.equal(tf.memory().numTensors, count);
    [m, x].forEach((t) => t.dispose());
  });
});

describe('what keeps a model off the fast path, and what it says', () => {
  const cases: [string, () => tf.LayersModel, (m: tf.LayersModel) => void, RegExp][] = [
    [
      'an unsupported layer',
      seq([tf.layers.dense({ units: 4, inputShape: [16] }), tf.layers.repeatVector({ n: 2 }), tf.layers.flatten(), tf.layers.dense({ units: 16, activation: 'sigmoid' })]),
      (m) => m.compile({ optimizer: 'adam', loss: 'binaryCrossentropy' }),
      /layer 'repeat_vector_\w+' \(RepeatVector\) \(the fast path has no RepeatVector layer\)/,
    ],
    [
      'a softmax activation',
      seq([tf.layers.dense({ units: 16, inputShape: [16], activation: 'softmax' })]),
      (m) => m.compile({ optimizer: 'adam', loss: 'meanSquaredError' }),
      /layer 'dense_\w+' \(Dense\) uses the softmax activation/,
    ],
    [
      'an unsupported loss',
      seq([tf.layers.dense({ units: 16, inputShape: [16], activation: 'sigmoid' })]),
      (m) => m.compile({ optimizer: 'adam', loss: 'meanAbsoluteError' }),
      /the loss meanAbsoluteError/,
    ],
    [
      'an unsupported optimizer',
      seq([tf.layers.dense({ units: 16, inputShape: [16], activation: 'sigmoid' })]),
      (m) => m.compile({ optimizer: 'adamax', loss: 'binaryCrossentropy' }),
      /the optimizer AdamaxOptimizer/,
    ],
    [
      'metrics',
      seq([tf.layers.dense({ units: 16, inputShape: [16], activation: 'sigmoid' })]),
      (m) => m.compile({ optimizer: 'adam', loss: 'binaryCrossentropy', metrics: ['mse'] }),
      /metrics/,
    ],
    [
      'a regularizer',
      seq([tf.layers.dense({ units: 16, inputShape: [16], activation: 'sigmoid', kernelRegularizer: tf.regularizers.l2() })]),
      (m) => m.compile({ optimizer: 'adam', loss: 'binaryCrossentropy' }),
      /kernel regularizer/,
    ],
    [
      'a skip connection (not a chain)',
      () => {
        const input = tf.input({ shape: [16] });
        const h = tf.layers.dense({ units: 16 }).apply(input) as tf.SymbolicTensor;
        const sum = tf.layers.add().apply([input, h]) as tf.SymbolicTensor;
        return tf.model({ inputs: input, outputs: tf.layers.activation({ activation: 'sigmoid' }).apply(sum) as tf.SymbolicTensor });
      },
      (m) => m.compile({ optimizer: 'adam', loss: 'binaryCrossentropy' }),
      /layer 'add_\w+' \(Add\) takes 2 inputs/,
    ],
    [
      'cross-entropy without a sigmoid output',
      seq([tf.layers.dense({ units: 16, inputShape: [16] })]),
      (m) => m.compile({ optimizer: 'adam', loss: 'binaryCrossentropy' }),
      /binary cross-entropy on an output without a sigmoid/,
    ],
  ];
  for (const [label, build, compile, reason] of cases) {
    test(`${label}: generic path, and the reason names it`, async () => {
      const m = build();
      compile(m);
      const x = tf.randomUniform([8, 16], 0, 1, 'float32', 1);
      await m.fit(x, x, { epochs: 1, batchSize: 4, verbose: 0 });
      const d = fitDecision(m);
      assert.equal(d?.path, 'generic');
      assert.match(d?.reason ?? '', reason);
      assert.match(d?.note ?? '', /^Training on the generic path \(slower\): the fast path does not handle /);
      m.dispose();
      x.dispose();
    });
  }

  test('other backends: no decision, nothing to say', async () => {
    const m = tf.sequential({ layers: [tf.layers.dense({ units: 16, inputShape: [16], activation: 'sigmoid' })] });
    m.compile({ optimizer: 'adam', loss: 'binaryCrossentropy' });
    const x = tf.randomUniform([8, 16]);
    setLeanTraining(false);
    try {
      await m.fit(x, x, { epochs: 1, batchSize: 4, verbose: 0 });
    } finally {
      setLeanTraining(true);
    }
    assert.equal(fitDecision(m), undefined);
    m.dispose();
    x.dispose();
  });

  test('chains: nested models are opened up; layer classes listed', () => {
    const inner = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [5] }), tf.layers.dense({ units: 2 })] });
    const outer = tf.sequential({ layers: [inner, tf.layers.dense({ units: 5 })] });
    const chain = chainOf(outer);
    assert.ok(!('refused' in chain));
    if (!('refused' in chain)) {
      assert.deepEqual(chain.layers.map((l) => l.getClassName()), ['Dense', 'Dense', 'Dense']);
      assert.deepEqual(chain.inShape, [5]);
      assert.deepEqual(chain.outShape, [5]);
    }
    for (const c of ['Dense', 'TransposedDense', 'Flatten', 'Reshape', 'Activation', 'ReLU', 'LeakyReLU', 'ELU', 'Dropout']) {
      assert.ok(supportedLayerClasses().includes(c), c);
    }
    outer.dispose();
  });
});
