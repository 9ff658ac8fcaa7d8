import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/lib/backend';
import { Autoencoder, StackedAutoencoder } from '../../src/lib/models';
import { addTrainingObserver, stopAllTraining, trainingInProgress, TrainingProgress } from '../../src/lib/training';

before(async () => {
  await initBackend('wasm');
});

/** 512 small "images": smooth blobs in [0, 1], easy to learn. */
function toyData(n = 512, seed = 1): tf.Tensor3D {
  return tf.tidy(() => {
    const centres = tf.randomUniform([n, 1, 1], 2, 6, 'float32', seed);
    const grid = tf.range(0, 8).reshape([1, 8, 1]);
    const cols = tf.range(0, 8).reshape([1, 1, 8]);
    const d = tf.add(tf.square(tf.sub(grid, centres)), tf.square(tf.sub(cols, centres)));
    return tf.exp(tf.mul(d, -0.3)) as tf.Tensor3D;
  });
}

test('fit learns, reports Keras-like history and progress, and loss goes down', async () => {
  const x = toyData();
  const ae = new Autoencoder({ inputShape: [8, 8], latentDim: 4, seed: 1 });
  ae.compile({ loss: 'binaryCrossentropy', optimizer: 'adam', learningRate: 0.01 });
  const seen: TrainingProgress[] = [];
  const h = await ae.fit(x, x, { epochs: 5, batchSize: 32, seed: 7, validationSplit: 0.25, onProgress: (p) => seen.push(p), progressIntervalMs: 0 });
  assert.deepEqual(h.epoch, [0, 1, 2, 3, 4]);
  assert.equal(h.history.loss.length, 5);
  assert.equal(h.history.val_loss.length, 5);
  assert.equal(h.params.samples, 384, 'validationSplit holds out the last quarter');
  assert.equal(h.batchLosses.length, 5 * 12);
  assert.ok(h.history.loss[4] < h.history.loss[0] * 0.8, `loss should fall: ${h.history.loss}`);
  assert.equal(h.stopped, false);
  assert.equal(seen[0].phase, 'begin');
  assert.equal(seen[seen.length - 1].phase, 'end');
  const epochs = seen.filter((p) => p.phase === 'epoch');
  assert.deepEqual(epochs.map((p) => p.epoch), [1, 2, 3, 4, 5]);
  const batch = seen.find((p) => p.phase === 'batch' && p.epoch === 2)!;
  assert.ok(batch.batch >= 1 && batch.batch <= 12 && batch.batchesPerEpoch === 12);
  assert.ok(batch.samplesPerSecond > 0 && Number.isFinite(batch.etaSeconds));
  x.dispose();
  ae.dispose();
});

test('the same seeds give the same run; a different seed does not', async () => {
  const x = toyData(256);
  const run = async (fitSeed: number) => {
    const ae = new StackedAutoencoder({ inputShape: [8, 8], layers: [16, 6], seed: 3 });
    ae.compile();
    const h = await ae.fit(x, x, { epochs: 2, batchSize: 16, seed: fitSeed, verbose: 0 });
    ae.dispose();
    return h.batchLosses;
  };
  const a = await run(11);
  const b = await run(11);
  const c = await run(12);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  x.dispose();
});

test('no tensor leaks: the count after an epoch equals the count before it', async () => {
  const x = toyData(256);
  for (const ae of [
    new Autoencoder({ inputShape: [8, 8], latentDim: 4 }),
    new StackedAutoencoder({ inputShape: [8, 8], layers: [16, 6] }),
  ]) {
    ae.compile();
    await ae.fit(x, x, { epochs: 1, batchSize: 32, verbose: 0 }); // creates the optimizer's slots
    const before = tf.memory().numTensors;
    await ae.fit(x, x, { epochs: 2, batchSize: 32, verbose: 0, validationSplit: 0.2 });
    ae.evaluate(x, x);
    tf.dispose(ae.predict(x));
    assert.equal(tf.memory().numTensors, before, `${ae.className} leaked tensors`);
    ae.dispose();
  }
  x.dispose();
});

test('stop mid-epoch from a callback keeps the weights learned so far', async () => {
  const x = toyData(512);
  const ae = new Autoencoder({ inputShape: [8, 8], latentDim: 4, seed: 2 });
  ae.compile();
  const w0 = ae.encoder.layers[1].getWeights()[0].dataSync().slice();
  const h = await ae.fit(x, x, {
    epochs: 10,
    batchSize: 16,
    verbose: 0,
    callbacks: {
      onBatchEnd: (batch) => {
        if (batch === 4) ae.stopTraining = true;
      },
    },
  });
  assert.equal(h.stopped, true);
  assert.equal(h.partialLastEpoch, true);
  assert.equal(h.batchLosses.length, 5, 'stopped right after the fifth batch');
  assert.deepEqual(h.epoch, [0]);
  const w1 = ae.encoder.layers[1].getWeights()[0].dataSync();
  assert.ok(w1.some((v, i) => v !== w0[i]), 'weights were trained');
  // The model trains on afterwards.
  const again = await ae.fit(x, x, { epochs: 1, verbose: 0 });
  assert.equal(again.stopped, false);
  x.dispose();
  ae.dispose();
});

test('stopAllTraining (the kernel interrupt) ends a running fit at the next batch; so does an AbortSignal', async () => {
  const x = toyData(4096);
  const ae = new Autoencoder({ inputShape: [8, 8], latentDim: 4 });
  ae.compile();
  const seen: TrainingProgress[] = [];
  const unsubscribe = addTrainingObserver((p) => seen.push(p));
  const running = ae.fit(x, x, { epochs: 5000, batchSize: 8 });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(trainingInProgress(), true);
  assert.equal(stopAllTraining('interrupted by test'), 1);
  const h = await running;
  unsubscribe();
  assert.equal(h.stopped, true);
  assert.equal(h.stopReason, 'interrupted by test');
  assert.ok(h.batchLosses.length > 0 && h.batchLosses.length < 5000 * 512);
  assert.equal(trainingInProgress(), false);
  const end = seen[seen.length - 1];
  assert.equal(end.phase, 'end');
  assert.equal(end.stopped, true);

  const controller = new AbortController();
  const p = ae.fit(x, x, { epochs: 5000, batchSize: 8, verbose: 0, signal: controller.signal });
  setTimeout(() => controller.abort(), 200);
  const h2 = await p;
  assert.equal(h2.stopped, true);
  assert.equal(h2.stopReason, 'stopped by signal');
  x.dispose();
  ae.dispose();
});

test('verbose: 0 keeps a run away from observers', async () => {
  const x = toyData(64);
  const ae = new Autoencoder({ inputShape: [8, 8], latentDim: 2 });
  ae.compile();
  let calls = 0;
  const off = addTrainingObserver(() => calls++);
  await ae.fit(x, x, { epochs: 1, verbose: 0 });
  assert.equal(calls, 0);
  await ae.fit(x, x, { epochs: 1 });
  assert.ok(calls >= 3, 'begin, epoch and end at least');
  off();
  x.dispose();
  ae.dispose();
});

test('bad fit arguments are refused with the reason', async () => {
  const x = toyData(64);
  const ae = new Autoencoder({ inputShape: [8, 8], latentDim: 2 });
  ae.compile();
  await assert.rejects(ae.fit(x, x, { epochs: 0 }), /epochs must be a whole number >= 1/);
  await assert.rejects(ae.fit(x, x, { batchSize: 2.5 }), /batchSize must be a whole number >= 1/);
  await assert.rejects(ae.fit(x, x, { validationSplit: 1.5 }), /validationSplit must be between 0 and 1/);
  await assert.rejects(ae.fit(x, x.slice(0, 10)), /64 inputs but 10 targets/);
  // A loss that is not a number (log of a negative) is caught at the batch where it appears.
  ae.compile({ loss: (yTrue, yPred) => tf.mean(tf.log(tf.sub(yPred, 2))) as tf.Scalar });
  await assert.rejects(ae.fit(x, x, { epochs: 3, verbose: 0 }), /Training diverged: the loss became NaN at epoch 1, batch 1/);
  // Progress ends with 'error' (what ended the run, and where), never 'end'; arguments refused before the start report nothing.
  const phases: TrainingProgress[] = [];
  await assert.rejects(ae.fit(x, x, { epochs: 3, verbose: 0, onProgress: (p) => phases.push(p) }), /Training diverged/);
  assert.deepEqual(phases.map((p) => p.phase), ['begin', 'error']);
  assert.match(phases[1].error ?? '', /^Training diverged: the loss became NaN at epoch 1, batch 1\./);
  assert.equal(phases[1].epoch, 1);
  assert.equal(phases[1].batch, 0);
  const refused: TrainingProgress[] = [];
  await assert.rejects(ae.fit(x, x, { epochs: 0, onProgress: (p) => refused.push(p) }), /epochs must be/);
  assert.equal(refused.length, 0);
  x.dispose();
  ae.dispose();
});
