// The kernel's latent-space outputs, built in-process on real MNIST digits:
// show.latent's payload (checked, decoded back), the kernel-side decoding for
// decoders that are not dense, show.interpolate, show.errors, the live view
// callback, and every bad argument the issue names.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/lib/backend';
import { Autoencoder, StackedAutoencoder } from '../../src/lib/models';
import { datasets } from '../../src/lib/data';
import { pca2d } from '../../src/lib/latent';
import type { AenbOutput } from '../../src/common/aenb';
import {
  ERRORS_MIME,
  IMAGES_MIME,
  LATENT_MIME,
  base64ToBytes,
  checkErrorsPayload,
  checkLatentPayload,
  decodeFloat32,
  decodeImageBlock,
  errorStats,
  latentOutputItems,
  type ErrorsPayload,
  type ImagesPayload,
  type LatentPayload,
} from '../../src/outputs';
import type { KernelServices, RunningCell } from '../../src/outputs/kind';
import { errorsOutput } from '../../src/outputs/errors/kernel';
import { DenseDecoder } from '../../src/outputs/latent/dense';
import { toPixels } from '../../src/outputs/latent/inverse';
import { buildLatent, latentViewCallback } from '../../src/outputs/latent/kernel';
import { decodeForExplorer, KERNEL_INSTANCE } from '../../src/outputs/latent/kernel-decoder';
import { interpolateOutput } from '../../src/outputs/latent/kernel-interpolate';
import { mnist } from '../renderer/fixtures';

let x: tf.Tensor3D;
let y: tf.Tensor1D;
let ae: Autoencoder;

before(async () => {
  await initBackend('wasm');
  const d = mnist(600);
  const flat = new Float32Array(600 * 784);
  d.images.forEach((im, i) => flat.set(Array.from(im, (v) => v / 255), i * 784));
  x = tf.tensor3d(flat, [600, 28, 28]);
  y = tf.tensor1d(d.labels, 'int32');
  ae = new Autoencoder({ inputShape: [28, 28], latentDim: 16, seed: 2 });
  ae.compile();
  await ae.fit(x, x, { epochs: 2, batchSize: 64, seed: 1, verbose: 0 });
});

const json = <T>(o: AenbOutput, mime: string): T => o.items.find((i) => i.mime === mime)!.data as T;
const text = (o: AenbOutput | { mime: string; data: Uint8Array }[]) =>
  Array.isArray(o) ? new TextDecoder().decode(o.find((i) => i.mime === 'text/plain')!.data) : (o.items.find((i) => i.mime === 'text/plain')!.data as string);

/** A kernel with one running cell that records what it is shown. */
function recordingKernel(): { kernel: KernelServices; shown: { output: AenbOutput; key?: string }[]; ends: (() => void)[] } {
  const shown: { output: AenbOutput; key?: string }[] = [];
  const ends: (() => void)[] = [];
  let n = 0;
  const cell: RunningCell = {
    emit: (output, key) => shown.push({ output, key }),
    interrupted: false,
    track: (work) => work.then(() => undefined),
    newKey: (prefix) => `${prefix}:test:${++n}`,
    onEnd: (hook) => void ends.push(hook),
  };
  return { kernel: { cell: () => cell }, shown, ends };
}

describe('show.latent', () => {
  test('a PCA map of 500 labelled digits: checked payload, PCA as computed, images and codes that decode back', async () => {
    const { payload } = await buildLatent(ae, x, { labels: y, n: 500, subject: 'test digits' });
    assert.equal(checkLatentPayload(payload), undefined);
    assert.equal(payload.method, 'pca');
    assert.equal(payload.count, 500);
    assert.equal(payload.latentDim, 16);
    assert.deepEqual(payload.classNames, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    assert.equal(payload.indices?.length, 500);
    assert.ok(payload.indices!.every((v, i, a) => i === 0 || v > a[i - 1]), 'rows ascending, distinct');
    const labels = y.dataSync();
    assert.ok(payload.labels!.every((l, i) => l === labels[payload.indices![i]]), 'each point keeps its own label');
    // the codes are the encoder's, the points their PCA
    const codes = decodeFloat32(payload.codes);
    const ref = tf.tidy(() => ae.encode(tf.gather(x, payload.indices!)).dataSync());
    let worst = 0;
    for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(ref[i] - codes[i]));
    assert.ok(worst < 1e-6);
    const p = pca2d(codes, 500, 16);
    assert.deepEqual(payload.pca!.explained, p.explained);
    assert.ok(p.explained[0] > 0.05 && p.explained[0] < 1);
    // the originals are the pixels, rounded, compressed
    assert.equal(payload.originals!.encoding, 'deflate');
    const px = await decodeImageBlock(payload.originals!, 500 * 784);
    const first = tf.tidy(() => tf.gather(x, [payload.indices![0]]).dataSync());
    assert.deepEqual(Array.from(px.subarray(0, 784)), Array.from(toPixels(first)));
    assert.ok(payload.originals!.data.length < 500 * 784 * 0.5, `compressed: ${payload.originals!.data.length} base64 chars for ${500 * 784} bytes`);
    // the decoder travels, and decodes as the model does
    assert.ok(payload.decoder && !payload.remote && !payload.reconstructions);
    const dec = new DenseDecoder(payload.decoder);
    const mine = dec.decode(codes.subarray(0, 16));
    const theirs = tf.tidy(() => ae.decode(tf.tensor2d(codes.subarray(0, 16), [1, 16])).dataSync());
    for (let i = 0; i < 784; i++) assert.ok(Math.abs(mine[i] - theirs[i]) < 1e-5);
    const t = text(latentOutputItems(payload));
    assert.match(t, /500 test digits, 16-D codes projected to 2-D by PCA/);
    assert.match(t, /PC1 \d+\.\d%, PC2 \d+\.\d% of the variance/);
    assert.match(t, /10 classes: 0 \(\d+\), 1 \(\d+\)/);
  });

  test('defaults: 2,000 points or all of x; the same rows every time; a 2-D latent space is drawn raw', async () => {
    const all = await buildLatent(ae, x);
    assert.equal(all.payload.count, 600);
    assert.equal(all.payload.indices, undefined, 'all rows, in order');
    const a = await buildLatent(ae, x, { n: 50 });
    const b = await buildLatent(ae, x, { n: 50 });
    assert.deepEqual(a.payload.indices, b.payload.indices);
    const c = await buildLatent(ae, x, { n: 50, seed: 7 });
    assert.notDeepEqual(a.payload.indices, c.payload.indices);
    const two = new Autoencoder({ inputShape: [28, 28], latentDim: 2, seed: 1 });
    const raw = await buildLatent(two, x, { n: 40 });
    assert.equal(raw.payload.method, 'raw');
    assert.deepEqual(decodeFloat32(raw.payload.points), decodeFloat32(raw.payload.codes));
    assert.equal(checkLatentPayload(raw.payload), undefined);
  });

  test('UMAP with progress; a decoder that is not dense decodes in the kernel', async () => {
    const enc = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [28, 28] }), tf.layers.dense({ units: 8, activation: 'relu' })] });
    const dec = tf.sequential({
      layers: [
        tf.layers.dense({ units: 7 * 7 * 2, inputShape: [8], activation: 'relu' }),
        tf.layers.reshape({ targetShape: [7, 7, 2] }),
        tf.layers.upSampling2d({ size: [4, 4] }),
        tf.layers.conv2d({ filters: 1, kernelSize: 3, padding: 'same', activation: 'sigmoid' }),
        tf.layers.reshape({ targetShape: [28, 28] }),
      ],
    });
    const progress: string[] = [];
    const { payload } = await buildLatent({ encoder: enc, decoder: dec }, x, { n: 120, method: 'umap', labels: y }, { progress: (t) => progress.push(t) });
    assert.equal(checkLatentPayload(payload), undefined);
    assert.equal(payload.method, 'umap');
    assert.ok(payload.umap && payload.umap.blend === 8 && payload.umap.neighbors === 15);
    assert.match(progress[0], /finding nearest neighbours/);
    assert.ok(progress.some((t) => /building the neighbour graph…$/.test(t)), progress.join(' | '));
    assert.match(progress[progress.length - 1], /layout 100%/);
    assert.ok(!payload.decoder && payload.remote && payload.reconstructions);
    assert.match(payload.remote.reason ?? '', /UpSampling2D\) is not a dense layer/);
    assert.equal(payload.remote.kernel, KERNEL_INSTANCE);
    // reconstructions in the payload are the model's
    const rec = await decodeImageBlock(payload.reconstructions!, 120 * 784);
    const codes = decodeFloat32(payload.codes);
    const expected = tf.tidy(() => toPixels((dec.predict(tf.tensor2d(codes.subarray(0, 8), [1, 8])) as tf.Tensor).dataSync()));
    assert.deepEqual(Array.from(rec.subarray(0, 784)), Array.from(expected));
    // decoding a new point in the kernel, as the explorer asks
    const z = new Float32Array([1, 0, 2, 0, 0.5, 0, 0, 1]);
    const reply = decodeForExplorer({ model: payload.remote.model, kernel: payload.remote.kernel, codes: Buffer.from(z.buffer).toString('base64'), count: 1 });
    const want = tf.tidy(() => toPixels((dec.predict(tf.tensor2d(z, [1, 8])) as tf.Tensor).dataSync()));
    assert.deepEqual(Array.from(base64ToBytes(reply.pixels)), Array.from(want));
    assert.throws(
      () => decodeForExplorer({ model: payload.remote!.model, kernel: 'another-kernel', codes: '', count: 1 }),
      /The kernel that made this map has restarted since; run the cell again/,
    );
    assert.throws(() => decodeForExplorer({ model: 'latent-999', kernel: KERNEL_INSTANCE, codes: '', count: 1 }), /no longer holds the model/);
  });

  test('bad arguments: each error names the argument and says what to do', async () => {
    await assert.rejects(async () => buildLatent(ae, x, { labels: y.slice(0, 100) }), /show\.latent: labels has 100 entries, but x has 600 samples; pass the labels of the same samples/);
    await assert.rejects(async () => buildLatent(ae, x, { labels: [1, 2, 3] }), /labels has 3 entries, but x has 600/);
    const dense = tf.sequential({ layers: [tf.layers.dense({ units: 784, inputShape: [784] })] });
    await assert.rejects(async () => buildLatent(dense, x), /show\.latent: model: the tfjs model "[\w]+" has no separate encoder\. Pass an Autoencoder/);
    await assert.rejects(async () => buildLatent({ predict: () => 0 }, x), /show\.latent: model: it has no encoder/);
    await assert.rejects(async () => buildLatent(ae, x, { n: 5000 }), /show\.latent: n is 5,000, but x holds only 600 samples; pass n: 600 or fewer/);
    const big = tf.zeros([12000, 28, 28]);
    await assert.rejects(async () => buildLatent(ae, big, { n: 12000 }), /n is 12,000; at most 10,000 points fit one map/);
    big.dispose();
    await assert.rejects(async () => buildLatent(ae, x, { n: 1 }), /n must be at least 2/);
    await assert.rejects(async () => buildLatent(ae, x, { n: 2.5 }), /n must be a whole number/);
    const oneD = new Autoencoder({ inputShape: [28, 28], latentDim: 1 });
    await assert.rejects(async () => buildLatent(oneD, x), /show\.latent: model: the latent space is 1-D \(codes of size 1\); a map needs at least 2 dimensions/);
    await assert.rejects(async () => buildLatent(ae, x, { method: 'tsne' as never }), /method must be 'pca', 'umap' or 'raw', got string "tsne"/);
    await assert.rejects(async () => buildLatent(ae, x, { method: 'raw' }), /method 'raw' draws 2-D codes as they are, but this latent space has 16 dimensions/);
    await assert.rejects(async () => buildLatent(ae, x, { method: 'umap', n: 5 }), /UMAP needs at least 10 points/);
    await assert.rejects(async () => buildLatent(ae, tf.zeros([10, 27, 28])), /show\.latent: x has shape \[10, 27, 28\], but the model takes \[N, 28, 28\]/);
    await assert.rejects(async () => buildLatent(ae, tf.zeros([28, 28])), /x has shape \[28, 28\].*one sample\? give a batch: x\.expandDims\(0\)/);
    await assert.rejects(async () => buildLatent(ae, [1, 2] as never), /show\.latent: x must be a tensor of samples \(e\.g\. xTest\), got an array of 2/);
    await assert.rejects(async () => buildLatent(ae, x, { labels: y, classNames: ['a', 'b'] }), /a label is 9, but classNames has only 2 names/);
    await assert.rejects(async () => buildLatent(ae, x, { labels: Array.from({ length: 600 }, (_, i) => i * 0.5) }), /labels has 600 different values; the map colours at most 20 classes/);
    await assert.rejects(async () => buildLatent(ae, x, { colormap: 'jet' as never }), /colormap must be 'viridis' or 'gray'/);
    await assert.rejects(async () => buildLatent(ae, x, 5 as never), /options must be an object/);
    // checked before anything is computed: the call itself throws (the error carries the cell's line)
    assert.throws(() => buildLatent(ae, x, { n: 5000 }), /n is 5,000/);
  });

  test('labels as strings, explicit class names, and Fashion-MNIST names found by themselves', async () => {
    const names = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
    const named = await buildLatent(ae, x, { labels: y, classNames: names, n: 30 });
    assert.deepEqual(named.payload.classNames, names);
    const strings = Array.from(y.dataSync(), (v) => (v % 2 ? 'odd' : 'even'));
    const s = await buildLatent(ae, x, { labels: strings, n: 30 });
    assert.deepEqual(s.payload.classNames, ['even', 'odd']);
    if (!existsSync('/usr/share/datasets/fashion-mnist')) return; // Debian's dataset-fashion-mnist (scripts/setup-system.sh installs it)
    const [[xa, ya], [xt, yt]] = await datasets.fashionMnist.loadData({ download: false });
    try {
      const xs = tf.tidy(() => xt.slice(0, 200).div(255));
      const f = await buildLatent(ae, xs, { labels: yt.slice(0, 200), n: 50 });
      assert.deepEqual(f.payload.classNames?.slice(0, 3), ['0', '1', '2'], 'a slice is a new tensor: numbers');
      const g = await buildLatent(ae, tf.tidy(() => xt.div(255)), { labels: yt, n: 50 });
      assert.equal(g.payload.classNames?.[9], 'Ankle boot', 'the loaded labels tensor carries its names');
      assert.equal(datasets.fashionMnist.classNames[7], 'Sneaker');
      xs.dispose();
    } finally {
      tf.dispose([xa, ya, xt, yt]);
    }
  });
});

describe('show.interpolate', () => {
  test('a strip from a to b: inputs at the ends, decoded codes between', () => {
    const a = x.slice(0, 1);
    const b = x.slice(1, 1).reshape([28, 28]);
    const items = interpolateOutput(ae, a, b, { steps: 8 });
    const p = json<ImagesPayload>(items, IMAGES_MIME);
    assert.equal(p.rows.length, 1);
    const imgs = p.rows[0].images;
    assert.equal(imgs.length, 10);
    assert.deepEqual(imgs.map((i) => i.caption), ['input a', 'a decoded', 't = 0.14', 't = 0.29', 't = 0.43', 't = 0.57', 't = 0.71', 't = 0.86', 'b decoded', 'input b']);
    const recA = tf.tidy(() => toPixels(ae.predict(a).dataSync()));
    assert.deepEqual(Array.from(base64ToBytes(imgs[1].data)), Array.from(recA), 'the first decoded image is the reconstruction of a');
    assert.equal(p.colormap, undefined, 'no colormap named: the one default (gray) applies where it is drawn');
    assert.equal(json<ImagesPayload>(interpolateOutput(ae, a, b, { colormap: 'viridis' }), IMAGES_MIME).colormap, 'viridis');
    assert.match(p.title ?? '', /From a to b through the latent space of Autoencoder \(16-D codes, 8 steps\)/);
    assert.throws(() => interpolateOutput(ae, x.slice(0, 2), b), /show\.interpolate: a must be one image of shape \[28, 28\] \(or \[1, 28, 28\]\), got shape \[2, 28, 28\]/);
    assert.throws(() => interpolateOutput(ae, a, 'b' as never), /show\.interpolate: b must be a tensor/);
    assert.throws(() => interpolateOutput(ae, a, b, { steps: 1 }), /steps must be a whole number from 2 to 50, got number 1/);
    assert.throws(() => interpolateOutput(tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [2] })] }), a, b), /show\.interpolate: model: .*has no separate encoder/);
  });
});

describe('show.errors', () => {
  test('per-image errors equal a direct computation; worst and best are the extremes', () => {
    const items = errorsOutput(ae, x, { labels: y, k: 5 });
    const p = json<ErrorsPayload>(items, ERRORS_MIME);
    assert.equal(checkErrorsPayload(p), undefined);
    assert.equal(p.count, 600);
    const errors = decodeFloat32(p.errors);
    const ref = tf.tidy(() => tf.mean(tf.squaredDifference(ae.predict(x).reshape([600, 784]), x.reshape([600, 784])), 1).dataSync());
    for (let i = 0; i < 600; i++) assert.ok(Math.abs(errors[i] - ref[i]) < 1e-6);
    const sorted = Array.from(ref).sort((a, b) => b - a);
    assert.deepEqual(p.worst.map((e) => e.error), sorted.slice(0, 5).map((v) => Math.fround(v)));
    assert.deepEqual(p.best.map((e) => e.error), sorted.slice(-5).reverse().map((v) => Math.fround(v)));
    assert.equal(p.worst[0].label, y.dataSync()[p.worst[0].index]);
    const orig = tf.tidy(() => toPixels(tf.gather(x, [p.worst[0].index]).dataSync()));
    assert.deepEqual(Array.from(base64ToBytes(p.worst[0].original)), Array.from(orig));
    const st = errorStats(errors);
    const t = text(items);
    assert.match(t, /reconstruction error \(mean squared error per image\) of 600 images/);
    assert.ok(t.includes(`max ${st.max.toFixed(4)}`) || t.includes(`max ${st.max.toExponential(3)}`), t);
    assert.match(t, /worst: #\d+ \(\d\) \d/);
  });

  test('a subset, a whole tfjs autoencoder, and bad arguments', () => {
    const sub = json<ErrorsPayload>(errorsOutput(ae, x, { n: 100, k: 3 }), ERRORS_MIME);
    assert.equal(sub.count, 100);
    assert.equal(sub.worst.length, 3);
    const whole = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [28, 28] }), tf.layers.dense({ units: 784, activation: 'sigmoid' }), tf.layers.reshape({ targetShape: [28, 28] })] });
    const w = json<ErrorsPayload>(errorsOutput(whole, x, { n: 20 }), ERRORS_MIME);
    assert.equal(checkErrorsPayload(w), undefined);
    assert.throws(() => errorsOutput(ae, x, { n: 601 }), /show\.errors: n is 601, but x holds only 600 samples/);
    assert.throws(() => errorsOutput(ae, x, { labels: [0, 1] }), /show\.errors: labels has 2 entries, but x has 600 samples/);
    assert.throws(() => errorsOutput(ae, tf.zeros([3, 5])), /show\.errors: x has shape \[3, 5\], but the model takes \[N, 28, 28\]/);
    assert.throws(() => errorsOutput('model' as never, x), /show\.errors: model: model must be an autoencoder/);
    const classifier = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [28, 28] }), tf.layers.dense({ units: 10 })] });
    assert.throws(() => errorsOutput(classifier, x), /makes outputs of shape \[10\], not reconstructions of its inputs \[28, 28\]/);
  });

  test('targets: a denoiser is scored against the clean images, which the examples show', () => {
    const noisy = tf.tidy(() => tf.clipByValue(x.add(tf.randomNormal(x.shape, 0, 0.3, 'float32', 4)), 0, 1)) as tf.Tensor3D;
    try {
      const items = errorsOutput(ae, noisy, { targets: x, n: 200, k: 4, seed: 3 });
      const p = json<ErrorsPayload>(items, ERRORS_MIME);
      assert.equal(checkErrorsPayload(p), undefined);
      assert.equal(p.against, 'targets');
      const rows = p.worst.map((e) => e.index);
      assert.equal(decodeFloat32(p.errors).length, 200);
      const ref = tf.tidy(() => {
        const out = ae.predict(tf.gather(noisy, rows)).reshape([rows.length, 784]);
        return Array.from(tf.mean(tf.squaredDifference(out, tf.gather(x, rows).reshape([rows.length, 784])), 1).dataSync());
      });
      p.worst.forEach((e, i) => assert.ok(Math.abs(e.error - ref[i]) < 1e-6, `worst[${i}] against its clean image`));
      const clean = tf.tidy(() => toPixels(tf.gather(x, [p.worst[0].index]).dataSync()));
      assert.deepEqual(Array.from(base64ToBytes(p.worst[0].target!)), Array.from(clean));
      const shown = tf.tidy(() => toPixels(tf.gather(noisy, [p.worst[0].index]).dataSync()));
      assert.deepEqual(Array.from(base64ToBytes(p.worst[0].original)), Array.from(shown), 'the image shown is the input');
      assert.match(text(items), /mean squared error per image, against the targets\) of 200 images/);
      assert.equal(checkErrorsPayload({ ...p, worst: [{ ...p.worst[0], target: 'AAAA' }] }), 'worst[0].target must hold 784 bytes');
      assert.throws(() => errorsOutput(ae, noisy, { targets: x.slice(0, 10) }), /show\.errors: targets has shape \[10, 28, 28\], but x has shape \[600, 28, 28\]; pass one target per row of x/);
      assert.throws(() => errorsOutput(ae, noisy, { targets: [1, 2] as never }), /show\.errors: targets must be a tensor/);
    } finally {
      noisy.dispose();
    }
  });
});

describe('callbacks.latentView', () => {
  test('redraws one output at the start and after each epoch, axes kept', async () => {
    const { kernel, shown } = recordingKernel();
    const cb = latentViewCallback(kernel, x.slice(0, 200), { labels: y.slice(0, 200), n: 100 });
    const sae = new StackedAutoencoder({ inputShape: [28, 28], layers: [32, 6], seed: 3 });
    sae.compile();
    await sae.fit(x, x, { epochs: 3, batchSize: 100, verbose: 0, callbacks: [cb] });
    const emitted = shown.map((s) => ({ p: json<LatentPayload>(s.output, LATENT_MIME), key: s.key }));
    assert.equal(emitted.length, 5, 'four maps, then the last one again, settled');
    assert.deepEqual(emitted.map((e) => e.p.epoch), [
      { epoch: 0, epochs: 3, state: 'running' },
      { epoch: 1, epochs: 3, state: 'running' },
      { epoch: 2, epochs: 3, state: 'running' },
      { epoch: 3, epochs: 3, state: 'running' },
      { epoch: 3, epochs: 3, state: 'done' },
    ]);
    assert.deepEqual(emitted.map((e) => e.p.title), [...Array(4).fill('Latent space while training'), 'Latent space after training']);
    assert.equal(emitted[4].p.points, emitted[3].p.points, 'the finished map is the last one drawn');
    assert.match(text(shown[4].output), /\(Training finished: the map after epoch 3 of 3\)/);
    assert.equal(new Set(emitted.map((e) => e.key)).size, 1, 'one output, replaced in place');
    assert.match(emitted[0].key ?? '', /^latent-view:/);
    assert.ok(emitted.every((e) => checkLatentPayload(e.p) === undefined));
    assert.deepEqual(emitted[1].p.originals, emitted[3].p.originals, 'the same images each epoch');
    const comps = emitted.map((e) => decodeFloat32(e.p.pca!.components));
    for (let k = 1; k < comps.length; k++) {
      let d = 0;
      for (let i = 0; i < 6; i++) d += comps[k][i] * comps[k - 1][i];
      assert.ok(d > 0, `PC1 keeps its direction from epoch ${k - 1} to ${k}`);
    }
    assert.throws(() => latentViewCallback(kernel, x, { method: 'umap' as never }), /callbacks\.latentView: method 'umap' is too slow to redraw at every epoch/);
    assert.throws(() => latentViewCallback(kernel, undefined, {}), /callbacks\.latentView: x must be a tensor/);
    const plain = tf.sequential({ layers: [tf.layers.dense({ units: 784, inputShape: [784] })] });
    plain.compile({ loss: 'meanSquaredError', optimizer: 'sgd' });
    const cb2 = latentViewCallback(kernel, x.reshape([600, 784]), {});
    assert.throws(() => cb2.setModel(plain), /callbacks\.latentView: the model being trained: the tfjs model .* has no separate encoder/);
  });

  test('after its run the map says how the run ended: stopped, done after the last epochs (every > 1), interrupted', async () => {
    const sae = new StackedAutoencoder({ inputShape: [28, 28], layers: [32, 6], seed: 3 });
    sae.compile();
    const states = (shown: { output: AenbOutput }[]) => shown.map((s) => json<LatentPayload>(s.output, LATENT_MIME).epoch);

    // stopTraining at the end of epoch 1 of 3 (Keras's EarlyStopping way): stopped, the last map kept
    const a = recordingKernel();
    const stopper = { onEpochEnd: async () => void (sae.stopTraining = true) };
    await sae.fit(x, x, { epochs: 3, batchSize: 100, verbose: 0, callbacks: [latentViewCallback(a.kernel, x.slice(0, 200), { n: 50 }), stopper] });
    assert.deepEqual(states(a.shown), [
      { epoch: 0, epochs: 3, state: 'running' },
      { epoch: 1, epochs: 3, state: 'running' },
      { epoch: 1, epochs: 3, state: 'stopped' },
    ]);
    assert.equal(json<LatentPayload>(a.shown[2].output, LATENT_MIME).title, 'Latent space after training');

    // every: 2 over 3 epochs: the map after epoch 2, then one more after the last epoch, done
    const b = recordingKernel();
    await sae.fit(x, x, { epochs: 3, batchSize: 100, verbose: 0, callbacks: [latentViewCallback(b.kernel, x.slice(0, 200), { n: 50, every: 2, title: 'Codes' })] });
    assert.deepEqual(states(b.shown), [
      { epoch: 0, epochs: 3, state: 'running' },
      { epoch: 2, epochs: 3, state: 'running' },
      { epoch: 3, epochs: 3, state: 'done' },
    ]);
    assert.ok(b.shown.every((s) => json<LatentPayload>(s.output, LATENT_MIME).title === 'Codes'), 'a title given is kept');
    assert.equal(b.ends.length, 1, 'one end hook per map');
    b.ends[0]();
    assert.equal(b.shown.length, 3, 'a run that ended says nothing more when its cell ends');

    // a fit that throws: no onTrainEnd; when the cell ends, the map says its run was interrupted
    const c = recordingKernel();
    const failing = { onEpochEnd: async () => { throw new Error('boom'); } };
    await assert.rejects(sae.fit(x, x, { epochs: 3, batchSize: 100, verbose: 0, callbacks: [latentViewCallback(c.kernel, x.slice(0, 200), { n: 50 }), failing] }), /boom/);
    assert.deepEqual(states(c.shown).at(-1), { epoch: 1, epochs: 3, state: 'running' });
    for (const hook of c.ends) hook();
    assert.deepEqual(states(c.shown).at(-1), { epoch: 1, epochs: 3, state: 'interrupted' });
    assert.match(text(c.shown.at(-1)!.output), /Training ended before its last epoch/);
    assert.equal(json<LatentPayload>(c.shown.at(-1)!.output, LATENT_MIME).title, 'Latent space while training');
  });
});
