import { test, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/lib/backend';
import { Autoencoder, StackedAutoencoder } from '../../src/lib/models';
import { TransposedDense } from '../../src/lib/layers';
import { loadModel } from '../../src/lib/model-io';
import { addNoise } from '../../src/lib/noise';
import { lastTrainingPath } from '../../src/lib/training';

before(async () => {
  await initBackend('wasm');
});

describe('Autoencoder (vanilla seed)', () => {
  test('has the seed architecture and Keras parameter count 101,200', () => {
    const ae = new Autoencoder({ inputShape: [28, 28], latentDim: 64, name: 'Vanilla' });
    const s = ae.summary();
    assert.equal(s.totalParams, 101_200);
    assert.equal(s.trainableParams, 101_200);
    assert.equal(s.nonTrainableParams, 0);
    assert.deepEqual(
      s.layers.map((l) => [l.group, l.className, l.outputShape, l.params]),
      [
        ['Encoder', 'Flatten', [null, 784], 0],
        ['Encoder', 'Dense', [null, 64], 50_240],
        ['Decoder', 'Dense', [null, 784], 50_960],
        ['Decoder', 'Reshape', [null, 28, 28], 0],
      ],
    );
    assert.match(String(s), /Total params: 101,200/);
    assert.equal(ae.latentDim, 64);
    // LeakyReLU with Keras's default slope 0.3 in the encoder, sigmoid at the output.
    const z = tf.tidy(() => ae.encoder.predict(tf.fill([1, 28, 28], 1)) as tf.Tensor);
    const pre = tf.tidy(() => {
      const dense = ae.encoder.layers[1];
      const [k, b] = dense.getWeights();
      return tf.add(tf.matMul(tf.fill([1, 784], 1), k), b);
    });
    const zs = z.dataSync();
    pre.dataSync().forEach((v, i) => assert.ok(Math.abs(zs[i] - (v >= 0 ? v : 0.3 * v)) < 1e-5));
    const out = tf.tidy(() => ae.predict(tf.fill([2, 28, 28], 0.5)));
    assert.deepEqual(out.shape, [2, 28, 28]);
    const d = out.dataSync();
    assert.ok(d.every((v) => v > 0 && v < 1), 'sigmoid output in (0, 1)');
    tf.dispose([z, pre, out]);
    ae.dispose();
  });

  test('inputShape may be a number; anything else is a clear error', () => {
    const ae = new Autoencoder({ inputShape: 784, latentDim: 32 });
    assert.equal(ae.summary().totalParams, 784 * 32 + 32 + 32 * 784 + 784);
    ae.dispose();
    for (const bad of ['28x28', [28, -1], [], null, [28.5], { w: 28 }]) {
      assert.throws(() => new Autoencoder({ inputShape: bad as never, latentDim: 8 }), /inputShape must be a positive whole number or an array of them/);
    }
    assert.throws(() => new Autoencoder({ inputShape: [28, 28], latentDim: 0 }), /latentDim must be a whole number >= 1/);
  });

  test('hidden layers: the Keras blog deep autoencoder 784-128-64-32-64-128-784, mirrored, seeded by position, on the fast path', async () => {
    const ae = new Autoencoder({ inputShape: [28, 28], latentDim: 32, hidden: [128, 64], activation: 'relu', seed: 5 });
    const s = ae.summary();
    assert.deepEqual(
      s.layers.map((l) => [l.group, l.className, l.outputShape, l.params]),
      [
        ['Encoder', 'Flatten', [null, 784], 0],
        ['Encoder', 'Dense', [null, 128], 784 * 128 + 128],
        ['Encoder', 'Dense', [null, 64], 128 * 64 + 64],
        ['Encoder', 'Dense', [null, 32], 64 * 32 + 32],
        ['Decoder', 'Dense', [null, 64], 32 * 64 + 64],
        ['Decoder', 'Dense', [null, 128], 64 * 128 + 128],
        ['Decoder', 'Dense', [null, 784], 128 * 784 + 784],
        ['Decoder', 'Reshape', [null, 28, 28], 0],
      ],
    );
    assert.equal(ae.latentDim, 32);
    // Hidden layers use the activation; the output is a sigmoid.
    assert.deepEqual(ae.model.layers.flatMap((l) => ('layers' in l ? (l as tf.Sequential).layers : [l])).filter((l) => l.getClassName() === 'Dense').map((l) => (l.getConfig().activation as string)), ['relu', 'relu', 'relu', 'relu', 'relu', 'sigmoid']);
    // Without hidden layers the weights are the ones a model without the option always had (seeds 0 and 1).
    const plain = new Autoencoder({ inputShape: [28, 28], latentDim: 32, activation: 'relu', seed: 5 });
    const empty = new Autoencoder({ inputShape: [28, 28], latentDim: 32, hidden: [], activation: 'relu', seed: 5 });
    plain.trainableVariables().forEach((v, i) => assert.deepEqual(Array.from(empty.trainableVariables()[i].dataSync()), Array.from(v.dataSync())));
    // And the first layer of the deep one starts from seed 0 too; its code layer does not reuse the decoder's seed.
    assert.deepEqual(Array.from(ae.trainableVariables()[0].dataSync().slice(0, 8)), Array.from(tf.tidy(() => new Autoencoder({ inputShape: [28, 28], latentDim: 128, seed: 5 }).trainableVariables()[0].dataSync().slice(0, 8))));
    ae.compile();
    const x = tf.randomUniform([96, 28, 28], 0, 1, 'float32', 2);
    await ae.fit(x, x, { epochs: 1, batchSize: 32, verbose: 0, seed: 1 });
    assert.equal(lastTrainingPath(), 'lean-wasm');
    for (const bad of [[0], [64.5], 'wide', [128, -1]]) {
      assert.throws(() => new Autoencoder({ inputShape: [28, 28], latentDim: 8, hidden: bad as never }), /Autoencoder: hidden(\[\d\])? must be/);
    }
    tf.dispose(x);
    [ae, plain, empty].forEach((m) => m.dispose());
  });

  test('wrong input shapes and uncompiled training give specific errors', async () => {
    const ae = new Autoencoder({ inputShape: [28, 28], latentDim: 8 });
    const x = tf.zeros([4, 28, 28]);
    await assert.rejects(ae.fit(x, x), /compile the model first/);
    ae.compile({ loss: 'binary_crossentropy', optimizer: 'adam' });
    assert.throws(() => ae.predict(tf.zeros([28, 28])), /has shape \[28, 28\].*add a batch axis/);
    assert.throws(() => ae.predict(tf.zeros([4, 27, 28])), /has shape \[4, 27, 28\], but the model takes \[N, 28, 28\]/);
    const raw = tf.fill([4, 28, 28], 255);
    await assert.rejects(ae.fit(raw, raw), /needs targets in \[0, 1\].*xTrain\.div\(255\)/);
    assert.throws(() => ae.compile({ loss: 'hinge' as never }), /Unknown loss "hinge"/);
    assert.throws(() => ae.compile({ optimizer: 'lbfgs' as never }), /Unknown optimizer "lbfgs"/);
    // Flat inputs of the right size are accepted and reshaped.
    const flat = tf.tidy(() => ae.predict(tf.zeros([3, 784])));
    assert.deepEqual(flat.shape, [3, 28, 28]);
    tf.dispose([x, raw, flat]);
    ae.dispose();
  });
});

describe('StackedAutoencoder (tied weights seed)', () => {
  test('has the seed architecture and Keras parameter count 53,428, tied kernels counted once', () => {
    const sae = new StackedAutoencoder({ inputShape: [28, 28], layers: [64, 36], outputActivation: 'sigmoid', name: 'Stacked' });
    const s = sae.summary();
    assert.equal(s.totalParams, 53_428);
    assert.equal(s.sharedParams, 784 * 64 + 64 * 36);
    assert.deepEqual(
      s.layers.map((l) => [l.group, l.className, l.outputShape, l.params, l.shared.map((x) => x.from)]),
      [
        ['Encoder', 'Flatten', [null, 784], 0, []],
        ['Encoder', 'Dense', [null, 64], 50_240, []],
        ['Encoder', 'Dense', [null, 36], 2_340, []],
        ['Decoder', 'TransposedDense', [null, 64], 64, ['dense_1']],
        ['Decoder', 'TransposedDense', [null, 784], 784, ['dense']],
        ['Decoder', 'Reshape', [null, 28, 28], 0, []],
      ],
    );
    assert.match(String(s), /Shared \(tied\) params, counted once: 52,480/);
    assert.deepEqual(sae.decoderActivations(), ['LeakyReLU(0.2)', 'sigmoid']);
    sae.dispose();
  });

  test('bad layer lists are refused clearly', () => {
    assert.throws(() => new StackedAutoencoder({ inputShape: [28, 28], layers: [] }), /layers must be a non-empty array/);
    assert.throws(() => new StackedAutoencoder({ inputShape: [28, 28], layers: [64, 0] }), /layers\[1\] must be a whole number >= 1/);
  });

  test('the decoder really computes with the encoder kernels, transposed', () => {
    const sae = new StackedAutoencoder({ inputShape: [4, 5], layers: [6, 3], seed: 1 });
    const x = tf.randomUniform([2, 4, 5], 0, 1, 'float32', 3);
    const got = tf.tidy(() => sae.predict(x));
    const want = tf.tidy(() => {
      const [k1, b1] = sae.encoder.layers[1].getWeights();
      const [k2, b2] = sae.encoder.layers[2].getWeights();
      const [c2] = sae.decoder.layers[0].getWeights();
      const [c1] = sae.decoder.layers[1].getWeights();
      const flat = x.reshape([2, 20]);
      const h1 = tf.leakyRelu(tf.add(tf.matMul(flat, k1), b1), 0.2);
      const z = tf.leakyRelu(tf.add(tf.matMul(h1, k2), b2), 0.2);
      const d1 = tf.leakyRelu(tf.add(tf.matMul(z, tf.transpose(k2)), c2), 0.2);
      return tf.sigmoid(tf.add(tf.matMul(d1, tf.transpose(k1)), c1)).reshape([2, 4, 5]);
    });
    const g = got.dataSync();
    want.dataSync().forEach((v, i) => assert.ok(Math.abs(v - g[i]) < 1e-5, `element ${i}: ${g[i]} vs ${v}`));
    tf.dispose([x, got, want]);
    sae.dispose();
  });

  test('one SGD step updates the shared kernel with the gradient of both of its uses', async () => {
    const sae = new StackedAutoencoder({ inputShape: [6], layers: [4], seed: 5 });
    sae.compile({ loss: 'mse', optimizer: tf.train.sgd(0.5) });
    const x = tf.randomUniform([8, 6], 0, 1, 'float32', 11);
    const dense = sae.encoder.layers[0]; // a 1-D input needs no Flatten
    const [k0, b0] = dense.getWeights().map((t) => t.clone());
    const [c0] = sae.decoder.layers[0].getWeights().map((t) => t.clone());
    // The gradient of the loss with respect to W used in both places (encoder W, decoder Wᵀ).
    const expected = tf.tidy(() => {
      const f = (w: tf.Tensor) => {
        const h = tf.leakyRelu(tf.add(tf.matMul(x, w), b0), 0.2);
        const y = tf.sigmoid(tf.add(tf.matMul(h, tf.transpose(w)), c0));
        return tf.mean(tf.squaredDifference(x, y));
      };
      const g = tf.grad(f)(k0);
      return tf.sub(k0, tf.mul(g, 0.5));
    });
    const encoderOnly = tf.tidy(() => {
      const frozen = k0.clone(); // a different tensor: no gradient flows through the decoder's use
      const f = (w: tf.Tensor) => {
        const h = tf.leakyRelu(tf.add(tf.matMul(x, w), b0), 0.2);
        const y = tf.sigmoid(tf.add(tf.matMul(h, tf.transpose(frozen)), c0));
        return tf.mean(tf.squaredDifference(x, y));
      };
      return tf.sub(k0, tf.mul(tf.grad(f)(k0), 0.5));
    });
    await sae.fit(x, x, { epochs: 1, batchSize: 8, shuffle: false, verbose: 0 });
    const k1 = dense.getWeights()[0];
    const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
    assert.ok(maxDiff(k1, expected) < 1e-6, `kernel update differs from the tied gradient by ${maxDiff(k1, expected)}`);
    const step = maxDiff(k1, k0);
    const decoderPart = maxDiff(expected, encoderOnly);
    assert.ok(decoderPart > 0.1 * step, `the decoder use of the kernel must contribute to its update (${decoderPart} of a ${step} step)`);
    assert.ok(maxDiff(k1, encoderOnly) > 100 * 1e-6, 'training must not ignore the decoder use of the kernel');
    // Only one copy of the kernel exists: the decoder reads the very variable the encoder owns.
    const dec = sae.decoder.layers[0] as TransposedDense;
    assert.equal(dec.source, dense);
    assert.equal(sae.trainableVariables().length, 3, 'kernel, encoder bias, decoder bias');
    tf.dispose([x, k0, b0, c0, expected, encoderOnly]);
    sae.dispose();
  });

  test('a TransposedDense with a mismatched input size is refused at build time', () => {
    const d = tf.layers.dense({ units: 5, inputShape: [7] });
    tf.sequential({ layers: [d] });
    const t = new TransposedDense({ source: d, inputShape: [4] });
    assert.throws(() => tf.sequential({ layers: [t] }), /gets inputs of size 4, but its source ".*" has 5 units/);
    const unbuilt = tf.layers.dense({ units: 5 });
    assert.throws(() => new TransposedDense({ source: unbuilt }), /not built/);
  });
});

describe('save and load', () => {
  for (const [label, make] of [
    ['Autoencoder', () => new Autoencoder({ inputShape: [28, 28], latentDim: 16, name: 'V', seed: 3 })],
    ['Autoencoder with hidden layers', () => new Autoencoder({ inputShape: [28, 28], latentDim: 8, hidden: [48, 24], activation: 'relu', name: 'D', seed: 6 })],
    ['StackedAutoencoder', () => new StackedAutoencoder({ inputShape: [28, 28], layers: [32, 12], name: 'S', seed: 4 })],
  ] as const) {
    test(`round trip gives identical predictions (${label})`, async () => {
      const dir = await mkdtemp(path.join(tmpdir(), 'aenb-model-'));
      try {
        const m = make();
        m.compile();
        const x = tf.randomUniform([64, 28, 28], 0, 1, 'float32', 9);
        await m.fit(x, x, { epochs: 1, batchSize: 16, verbose: 0, seed: 1 });
        await m.save(dir);
        const loaded = await loadModel(dir);
        assert.equal(loaded.className, m.className);
        assert.equal(loaded.name, m.name);
        assert.equal(loaded.summary().totalParams, m.summary().totalParams);
        const a = tf.tidy(() => m.predict(x.slice(0, 8)));
        const b = tf.tidy(() => loaded.predict(x.slice(0, 8)));
        assert.deepEqual(Array.from(b.dataSync()), Array.from(a.dataSync()));
        if (loaded instanceof StackedAutoencoder) {
          // Still tied after loading: one kernel variable serves encoder and decoder.
          assert.equal(loaded.trainableVariables().length, 6, 'two kernels, two encoder biases, two decoder biases');
          assert.equal((loaded.decoder.layers[1] as TransposedDense).source, loaded.encoder.layers[1]);
        }
        tf.dispose([x, a, b]);
        m.dispose();
        loaded.dispose();
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }

  test('damaged model folders are refused with the reason', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'aenb-model-'));
    try {
      await assert.rejects(loadModel(dir), /model\.json cannot be read/);
      const m = new Autoencoder({ inputShape: 10, latentDim: 2 });
      await m.save(dir);
      const bin = await readFile(path.join(dir, 'weights.bin'));
      await writeFile(path.join(dir, 'weights.bin'), bin.subarray(0, bin.length - 4));
      await assert.rejects(loadModel(dir), /weights\.bin has \d+ bytes; model\.json describes \d+/);
      const json = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8'));
      await writeFile(path.join(dir, 'model.json'), JSON.stringify({ ...json, version: 99 }));
      await assert.rejects(loadModel(dir), /newer version/);
      await writeFile(path.join(dir, 'model.json'), '{ not json');
      await assert.rejects(loadModel(dir), /not valid JSON/);
      m.dispose();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('addNoise', () => {
  test('adds scaled Gaussian noise, clipped to [0, 1], reproducibly with a seed', () => {
    const x = tf.fill([200, 28, 28], 0.5);
    const a = addNoise(x, 0.3, { seed: 42 });
    const b = addNoise(x, 0.3, { seed: 42 });
    const c = addNoise(x, 0.3, { seed: 43 });
    const av = Array.from(a.dataSync());
    assert.deepEqual(a.shape, x.shape);
    assert.ok(av.every((v) => v >= 0 && v <= 1), 'clipped to [0, 1]');
    assert.deepEqual(Array.from(b.dataSync()), av);
    assert.notDeepEqual(Array.from(c.dataSync()), av);
    // Around 0.5 with factor 0.3, clipping barely matters: the std is close to 0.3 (0.5/0.3 = 1.67 sigma).
    const mean = av.reduce((s, v) => s + v, 0) / av.length;
    const std = Math.sqrt(av.reduce((s, v) => s + (v - mean) ** 2, 0) / av.length);
    assert.ok(Math.abs(mean - 0.5) < 0.01, `mean ${mean}`);
    assert.ok(std > 0.25 && std < 0.3, `std ${std}`);
    const zeroes = Array.from(addNoise(tf.zeros([1000]), 0.3, { seed: 1 }).dataSync());
    assert.ok(zeroes.some((v) => v === 0) && zeroes.some((v) => v > 0), 'negative noise is clipped at 0');
    assert.throws(() => addNoise(x, -1), /factor must be a number >= 0/);
    assert.throws(() => addNoise([1, 2] as never, 0.3), /x must be a tensor/);
    tf.dispose([x, a, b, c]);
  });
});

test('binary cross-entropy refuses targets outside [0, 1], saying how to scale them', async () => {
  const ae = new Autoencoder({ inputShape: [4, 4], latentDim: 2, seed: 1 });
  ae.compile({ loss: 'binaryCrossentropy' });
  const raw = tf.tidy(() => tf.mul(tf.randomUniform([8, 4, 4], 0, 1, 'float32', 1), 255));
  await assert.rejects(ae.fit(raw, raw, { epochs: 1, verbose: 0 }), /needs targets in \[0, 1\], but y ranges over \[[0-9.]+, 25[0-9.]+\]\. Scale images first/);
  const ok = tf.tidy(() => tf.div(raw, 255));
  await ae.fit(ok, ok, { epochs: 1, verbose: 0 });
  tf.dispose([raw, ok]);
  ae.dispose();
});
