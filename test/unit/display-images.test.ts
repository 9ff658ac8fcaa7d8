/**
 * show.images and show.reconstructions on flat vectors ([N, 784] shown as
 * 28x28, any square length inferred, other sizes given), on channels-last
 * images, and the messages when the data cannot be shown.
 */
import { test, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { IMAGES_MIME, type ImagesPayload } from '../../src/outputs';
import { imagesOutput, imageShape, reconstructionsOutput } from '../../src/outputs/images/kernel';
import { initBackend } from '../../src/lib/backend';
import { Autoencoder } from '../../src/lib/models';

before(async () => {
  await initBackend('wasm');
});

function payload(o: ReturnType<typeof imagesOutput>): ImagesPayload {
  return o.items.find((i) => i.mime === IMAGES_MIME)!.data as unknown as ImagesPayload;
}

const sizes = (p: ImagesPayload) => p.rows.map((r) => r.images.map((i) => `${i.width}x${i.height}x${i.channels ?? 1}`));

describe('image shapes', () => {
  test('what one image may be', () => {
    assert.deepEqual(imageShape([784]), [28, 28, 1]);
    assert.deepEqual(imageShape([64]), [8, 8, 1]);
    assert.deepEqual(imageShape([28, 28]), [28, 28, 1]);
    assert.deepEqual(imageShape([5, 7, 3]), [5, 7, 3]);
    assert.deepEqual(imageShape([600], [20, 30]), [20, 30, 1]);
    assert.match(String(imageShape([600])), /flat vector of 600 values, which is not a square image: give its size with \{ shape: \[height, width\] \}/);
    assert.match(String(imageShape([600], [10, 10])), /has 600 values, but shape 10x10 needs 100/);
    assert.match(String(imageShape([4, 4, 2])), /last axis \(2\) must be 1 \(grey\) or 3 \(RGB\)/);
    assert.match(String(imageShape([2, 3, 4, 5])), /give images as \[N, H, W\], \[N, H, W, 1\|3\] or flat \[N, H·W\]/);
  });
});

describe('show.images', () => {
  test('flat [N, 784] rows show as 28x28; [N, 64] as 8x8; [N, H, W, 1] as images; sizes given for other lengths', () => {
    const flat = tf.randomUniform([3, 784]);
    const small = tf.randomUniform([2, 64]);
    const nhwc = tf.randomUniform([2, 5, 6, 1]);
    const odd = tf.randomUniform([2, 600]);
    const p = payload(imagesOutput([{ title: 'a', images: flat }, { title: 'b', images: small }, { title: 'c', images: nhwc }]));
    assert.deepEqual(sizes(p), [['28x28x1', '28x28x1', '28x28x1'], ['8x8x1', '8x8x1'], ['6x5x1', '6x5x1']]);
    const q = payload(imagesOutput([{ title: 'd', images: odd }], { shape: [20, 30] }));
    assert.deepEqual(sizes(q), [['30x20x1', '30x20x1']]);
    assert.throws(() => imagesOutput([{ title: 'd', images: odd }]), /show\.images row "d": image 0 is a flat vector of 600 values, which is not a square image: give its size with \{ shape: \[height, width\] \}/);
    assert.throws(() => imagesOutput([{ title: 'e', images: tf.zeros([784]) }]), /one image or less; give a batch, \[N, H, W\] or \[N, H·W\]/);
    tf.dispose([flat, small, nhwc, odd]);
  });
});

describe('show.reconstructions', () => {
  test('a model on [28, 28, 1] images shown data as flat [N, 784], and our model on [28, 28] given [N, 28, 28, 1]', () => {
    const m = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [28, 28, 1] }), tf.layers.dense({ units: 784, activation: 'sigmoid' }), tf.layers.reshape({ targetShape: [28, 28, 1] })] });
    const flat = tf.randomUniform([10, 784]);
    const p = payload(reconstructionsOutput(m, flat, { n: 3, seed: 1, noise: 0.3 }));
    assert.deepEqual(p.rows.map((r) => r.title), ['Original', 'Noisy (factor 0.3)', 'Denoised']);
    assert.deepEqual(sizes(p)[0], ['28x28x1', '28x28x1', '28x28x1']);
    assert.deepEqual(sizes(p)[2], ['28x28x1', '28x28x1', '28x28x1']);
    const ae = new Autoencoder({ inputShape: [28, 28], latentDim: 4 });
    const nhwc = tf.randomUniform([5, 28, 28, 1]);
    const q = payload(reconstructionsOutput(ae, nhwc, { n: 2, first: true }));
    assert.deepEqual(sizes(q), [['28x28x1', '28x28x1'], ['28x28x1', '28x28x1']]);
    const flatAe = new Autoencoder({ inputShape: [784], latentDim: 4 });
    const r = payload(reconstructionsOutput(flatAe, flat, { n: 2 }));
    assert.deepEqual(sizes(r)[1], ['28x28x1', '28x28x1'], 'a flat model: square images inferred');
    tf.dispose([flat, nhwc]);
    m.dispose();
    ae.dispose();
    flatAe.dispose();
  });

  test('what it needs otherwise, said clearly', () => {
    const m = tf.sequential({ layers: [tf.layers.dense({ units: 600, inputShape: [600], activation: 'sigmoid' })] });
    const x = tf.randomUniform([4, 600]);
    assert.throws(() => reconstructionsOutput(m, x), /each sample of x is a flat vector of 600 values, which is not a square image: give its size with \{ shape: \[height, width\] \}/);
    assert.deepEqual(sizes(payload(reconstructionsOutput(m, x, { n: 1, shape: [20, 30] }))), [['30x20x1'], ['30x20x1']]);
    const wrong = tf.randomUniform([4, 100]);
    assert.throws(() => reconstructionsOutput(m, wrong), /the model takes samples of shape \[600\] \(600 values\), but x has samples of shape \[100\] \(100 values\)/);
    assert.throws(() => reconstructionsOutput(m, tf.zeros([600])), /x must be a batch of samples/);
    tf.dispose([x, wrong]);
    m.dispose();
  });
});
