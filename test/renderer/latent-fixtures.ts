// Latent-space payloads for the renderer tests, the report test and the
// benchmark, made by the kernel's own builders from small models trained here
// (wasm backend) on real MNIST test digits.
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/lib/backend';
import { Autoencoder, StackedAutoencoder } from '../../src/lib/models';
import { ERRORS_MIME, type ErrorsPayload, type LatentPayload } from '../../src/outputs';
import { errorsOutput } from '../../src/outputs/errors/kernel';
import { buildLatent } from '../../src/outputs/latent/kernel';
import { mnist } from './fixtures';

export interface LatentFixtures {
  x: tf.Tensor3D;
  y: tf.Tensor1D;
  vanilla: Autoencoder;
  stacked: StackedAutoencoder;
  /** Two models whose decoder is not dense: decoded by the kernel. */
  conv: { encoder: tf.Sequential; decoder: tf.Sequential };
  pca: LatentPayload;
  stackedPca: LatentPayload;
  umap: LatentPayload;
  remote: LatentPayload;
  unlabelled: LatentPayload;
  errors: ErrorsPayload;
}

let cached: Promise<LatentFixtures> | undefined;

/** Digits as a [n, 28, 28] tensor in [0, 1] and their labels. */
export function digits(n: number, offset = 0): { x: tf.Tensor3D; y: tf.Tensor1D } {
  const d = mnist(n, offset);
  const flat = new Float32Array(n * 784);
  d.images.forEach((im, i) => {
    for (let k = 0; k < 784; k++) flat[i * 784 + k] = im[k] / 255;
  });
  return { x: tf.tensor3d(flat, [n, 28, 28]), y: tf.tensor1d(d.labels, 'int32') };
}

export function latentFixtures(): Promise<LatentFixtures> {
  cached ??= (async () => {
    await initBackend('wasm');
    const { x, y } = digits(1000);
    const vanilla = new Autoencoder({ inputShape: [28, 28], latentDim: 32, seed: 1, name: 'Vanilla' });
    vanilla.compile();
    await vanilla.fit(x, x, { epochs: 4, batchSize: 32, seed: 1, verbose: 0 });
    const stacked = new StackedAutoencoder({ inputShape: [28, 28], layers: [64, 36], seed: 1, name: 'Stacked' });
    stacked.compile();
    await stacked.fit(x, x, { epochs: 2, batchSize: 32, seed: 1, verbose: 0 });
    const encoder = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [28, 28] }), tf.layers.dense({ units: 8, activation: 'relu' })] });
    const decoder = tf.sequential({
      layers: [
        tf.layers.dense({ units: 7 * 7 * 2, inputShape: [8], activation: 'relu' }),
        tf.layers.reshape({ targetShape: [7, 7, 2] }),
        tf.layers.upSampling2d({ size: [4, 4] }),
        tf.layers.conv2d({ filters: 1, kernelSize: 3, padding: 'same', activation: 'sigmoid' }),
        tf.layers.reshape({ targetShape: [28, 28] }),
      ],
    });
    const conv = { encoder, decoder };
    const pca = (await buildLatent(vanilla, x, { labels: y, subject: 'test digits' })).payload;
    const stackedPca = (await buildLatent(stacked, x, { labels: y, n: 500, subject: 'test digits' })).payload;
    const umap = (await buildLatent(vanilla, x, { labels: y, n: 400, method: 'umap', subject: 'test digits' })).payload;
    const remote = (await buildLatent(conv, x, { labels: y, n: 300, subject: 'test digits' })).payload;
    const unlabelled = (await buildLatent(vanilla, x, { n: 300 })).payload;
    const errors = errorsOutput(vanilla, x, { labels: y }).items.find((i) => i.mime === ERRORS_MIME)!.data as unknown as ErrorsPayload;
    return { x, y, vanilla, stacked, conv, pca, stackedPca, umap, remote, unlabelled, errors };
  })();
  return cached;
}
