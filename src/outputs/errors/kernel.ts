// Reconstruction errors in the kernel: `show.errors(model, x, { labels, n })`
// reconstructs the images in batches, measures each one's mean squared error,
// and keeps the worst and best rebuilt with their images. Any autoencoder
// works: ours, a whole tfjs model, or { encoder, decoder }.
import * as tf from '@tensorflow/tfjs';
import type { AenbOutput } from '../../common/aenb';
import { bytesToBase64, encodeFloat32 } from '../../common/base64';
import type { Colormap } from '../../common/colormap';
import { imageGeometry, latentModel } from '../../lib/latent';
import { AutoencoderModel } from '../../lib/models';
import type { KernelPart } from '../kind';
import { toPixels } from '../latent/inverse';
import { checkColormap, checkCount, checkOptions, checkTensor, describe, detectRange, pickRows, readClasses, valuesOf, type Labels } from '../latent/kernel-args';
import { toOutput } from '../payload';
import { errorsOutputItems, type ErrorExample, type ErrorsPayload } from './contract';

export interface ErrorsOptions {
  labels?: Labels;
  /**
   * What each output should be, one row per row of x (default: x itself). For a denoiser, the clean
   * images behind the noisy x: the error is then the distance to the clean picture.
   */
  targets?: tf.Tensor;
  classNames?: readonly string[];
  /** How many rows of x (default: all of them). */
  n?: number;
  /** How many worst and best images to show (default 8). */
  k?: number;
  seed?: number;
  title?: string;
  subject?: string;
  /** Colormap of grayscale images: 'gray' (the default for every output) or 'viridis' (for values that are not pictures: heat maps, weights). */
  colormap?: Colormap;
  shape?: [number, number];
}

/** The model's reconstructions, for any autoencoder: ours, { encoder, decoder }, or a whole tfjs model. */
function reconstructor(model: unknown, where: string): { predict(x: tf.Tensor): tf.Tensor; inputShape: number[]; outputShape: number[]; name: string } {
  if (model instanceof tf.LayersModel && !(model instanceof AutoencoderModel)) {
    const parts = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
    const nested = parts.length === 2 && parts.every((p) => p instanceof tf.LayersModel);
    if (!nested) {
      const inputShape = model.inputs[0].shape.slice(1) as number[];
      return { predict: (x) => model.predict(x.rank === 2 && inputShape.length > 1 ? x.reshape([x.shape[0], ...inputShape]) : x, { batchSize: 256 }) as tf.Tensor, inputShape, outputShape: model.outputs[0].shape.slice(1) as number[], name: model.name };
    }
  }
  if (!(model instanceof AutoencoderModel) && !(model instanceof tf.LayersModel) && !(typeof model === 'object' && model !== null && 'encoder' in model && 'decoder' in model)) {
    throw new TypeError(`${where}: model must be an autoencoder (an Autoencoder, a StackedAutoencoder, a tfjs model, or { encoder, decoder }), got ${describe(model)}.`);
  }
  const m = latentModel(model, where);
  return { predict: (x) => m.decode(m.encode(x)), inputShape: m.inputShape, outputShape: m.outputShape, name: m.name };
}

export function errorsOutput(model: unknown, x: unknown, opts: ErrorsOptions = {}): AenbOutput {
  const where = 'show.errors';
  checkOptions(opts, where);
  opts = opts ?? {};
  const r = reconstructor(model, `${where}: model`);
  checkTensor(x, where, 'x');
  const size = r.inputShape.reduce((a, b) => a * b, 1);
  if (x.rank < 2 || x.size / x.shape[0] !== size) throw new Error(`${where}: x has shape [${x.shape.join(', ')}], but the model takes [N, ${r.inputShape.join(', ')}].`);
  if (r.outputShape.reduce((a, b) => a * b, 1) !== size) throw new Error(`${where}: model makes outputs of shape [${r.outputShape.join(', ')}], not reconstructions of its inputs [${r.inputShape.join(', ')}].`);
  const rows = x.shape[0];
  const targets = opts.targets;
  if (targets !== undefined) {
    checkTensor(targets, where, 'targets');
    if (targets.rank < 2 || targets.shape[0] !== rows || targets.size / rows !== size) {
      throw new Error(`${where}: targets has shape [${targets.shape.join(', ')}], but x has shape [${x.shape.join(', ')}]; pass one target per row of x, of the same size (the clean images behind a noisy x).`);
    }
  }
  const n = opts.n === undefined ? rows : checkCount(opts.n, where, 'n', 1, Number.MAX_SAFE_INTEGER, rows, 'x');
  const k = opts.k ?? 8;
  if (!Number.isInteger(k) || k < 0 || k > 50) throw new RangeError(`${where}: k must be a whole number from 0 to 50, got ${describe(k)}.`);
  const classes = opts.labels !== undefined ? readClasses(opts.labels, rows, opts.classNames, where) : undefined;
  const colormap = checkColormap(opts.colormap, where);
  const geometry = imageGeometry(r.inputShape, opts.shape);
  if (!geometry) throw new Error(`${where}: inputs of shape [${r.inputShape.join(', ')}] are not images; pass shape: [height, width].`);
  const picked = pickRows(rows, n, opts.seed ?? 1);
  const errors = new Float32Array(n);
  let range: [number, number] | undefined;
  const BATCH = 512;
  for (let start = 0; start < n; start += BATCH) {
    const idx = picked.slice(start, start + BATCH);
    const e = valuesOf(() => {
      const xb = n === rows ? x.slice(start, idx.length) : tf.gather(x, tf.tensor1d(idx, 'int32'));
      if (!range) range = detectRange(xb.max().dataSync());
      const tb = targets === undefined ? xb : n === rows ? targets.slice(start, idx.length) : tf.gather(targets, tf.tensor1d(idx, 'int32'));
      const out = r.predict(xb).reshape([idx.length, size]);
      return tf.mean(tf.squaredDifference(out, tb.reshape([idx.length, size])), 1);
    });
    errors.set(e, start);
  }
  const order = Array.from({ length: n }, (_, i) => i).filter((i) => !Number.isNaN(errors[i])).sort((a, b) => errors[b] - errors[a]);
  const kk = Math.min(k, Math.floor(order.length / 2));
  const worstRows = order.slice(0, kk);
  const bestRows = order.slice(order.length - kk).reverse();
  const examples = (list: number[]): ErrorExample[] => {
    if (list.length === 0) return [];
    const rowsOf = list.map((i) => picked[i]);
    const orig = valuesOf(() => tf.gather(x, tf.tensor1d(rowsOf, 'int32')));
    const rec = valuesOf(() => r.predict(tf.tensor(orig, [rowsOf.length, ...x.shape.slice(1)])));
    const want = targets === undefined ? undefined : valuesOf(() => tf.gather(targets, tf.tensor1d(rowsOf, 'int32')));
    return list.map((i, j) => ({
      index: picked[i],
      error: errors[i],
      ...(classes ? { label: classes.labels[picked[i]] } : {}),
      original: bytesToBase64(toPixels(orig.subarray(j * size, (j + 1) * size), range ?? [0, 1])),
      reconstruction: bytesToBase64(toPixels(rec.subarray(j * size, (j + 1) * size), range ?? [0, 1])),
      ...(want ? { target: bytesToBase64(toPixels(want.subarray(j * size, (j + 1) * size), range ?? [0, 1])) } : {}),
    }));
  };
  const payload: ErrorsPayload = {
    version: 1,
    title: opts.title ?? `Reconstruction errors of ${r.name}`,
    subject: opts.subject ?? 'images',
    metric: 'mse',
    ...(targets !== undefined ? { against: 'targets' as const } : {}),
    count: n,
    errors: encodeFloat32(errors),
    ...(classes ? { labels: picked.map((row) => classes.labels[row]), classNames: classes.names } : {}),
    image: geometry,
    worst: examples(worstRows),
    best: examples(bestRows),
    ...(colormap ? { colormap } : {}),
  };
  return toOutput(errorsOutputItems(payload, errors));
}

export const kernel = {
  show: {
    /**
     * Shows each image's reconstruction error (mean squared error) over `n` rows of `x` (default
     * all): a histogram with a movable threshold, the mean error by label, and the `k` worst and
     * best rebuilt images (default 8). With `targets` (a denoiser's clean images behind a noisy `x`), the
     * error is measured against them instead of `x`.
     */
    errors: errorsOutput,
  },
} satisfies KernelPart;
