// Image grids in the kernel: tensors to pixels, `show.images` and
// `show.reconstructions` (originals, optional noise, reconstructions with
// their errors), with the grid's PNG and text fallbacks.
import * as tf from '@tensorflow/tfjs';
import type { AenbOutput } from '../../common/aenb';
import type { Colormap } from '../../common/colormap';
import { AutoencoderModel } from '../../lib/models';
import { addNoise } from '../../lib/noise';
import { makeRng } from '../../lib/random';
import type { KernelPart } from '../kind';
import { toOutput } from '../payload';
import { imagesPayload, type ImageInput } from './contract';
import { imagesOutputItems } from './png';

export interface ImageRowInput {
  title: string;
  /**
   * A tensor [N, H, W] or [N, H, W, 1|3], or [N, L] of flat images (L = 784
   * shows as 28x28; any square L is inferred; else give `shape`), or an
   * array of such images without the batch axis.
   */
  images: tf.Tensor | tf.Tensor[];
  /** Captions under the images. */
  captions?: (string | number)[];
}

export interface ShowImagesOptions {
  title?: string;
  /** Colormap of grayscale images: 'gray' (the default for every output) or 'viridis' (for values that are not pictures: heat maps, weights). */
  colormap?: Colormap;
  /** Image size when the rows hold flat vectors whose length is not a square, e.g. [28, 28]. */
  shape?: [number, number];
  /** Pixel values range; default: [0, 1] for floats, [0, 255] when any value exceeds 1. */
  range?: [number, number];
}

/**
 * [height, width, channels] for one image of this shape (no batch axis):
 * [H, W], [H, W, 1|3], or a flat [L] (L a square, or `shape`). A string
 * saying what is wrong otherwise.
 */
export function imageShape(shape: readonly number[], given?: [number, number]): [number, number, 1 | 3] | string {
  const show = `[${shape.join(', ')}]`;
  if (shape.length === 2) return [shape[0], shape[1], 1];
  if (shape.length === 3) {
    if (shape[2] === 1 || shape[2] === 3) return [shape[0], shape[1], shape[2]];
    return `has shape ${show}: its last axis (${shape[2]}) must be 1 (grey) or 3 (RGB) channels`;
  }
  if (shape.length === 1) {
    const n = shape[0];
    if (given) {
      if (given[0] * given[1] === n) return [given[0], given[1], 1];
      return `has ${n} values, but shape ${given[0]}x${given[1]} needs ${given[0] * given[1]}`;
    }
    const side = Math.round(Math.sqrt(n));
    if (side * side === n && n > 0) return [side, side, 1];
    return `is a flat vector of ${n} values, which is not a square image: give its size with { shape: [height, width] }`;
  }
  return `has shape ${show}; give images as [N, H, W], [N, H, W, 1|3] or flat [N, H·W] (e.g. [N, 784] for 28x28)`;
}

function tensorImages(t: tf.Tensor | tf.Tensor[], opts: ShowImagesOptions, where: string): ImageInput[] {
  if (!Array.isArray(t) && !(t instanceof tf.Tensor)) throw new TypeError(`${where}: images must be a tensor [N, H, W] (or [N, H·W], [N, H, W, 1|3]) or an array of image tensors.`);
  if (!Array.isArray(t) && t.rank < 2) {
    throw new Error(`${where}: images has shape [${t.shape.join(', ')}]: that is one image or less; give a batch, [N, H, W] or [N, H·W] (add a batch axis with t.expandDims(0)).`);
  }
  const list = Array.isArray(t) ? t : tf.unstack(t);
  try {
    return list.map((img, i) => {
      if (!(img instanceof tf.Tensor)) throw new TypeError(`${where}: image ${i} is not a tensor.`);
      const dims = imageShape(img.shape, opts.shape);
      if (typeof dims === 'string') throw new Error(`${where}: image ${i} ${dims}.`);
      const [h, w, channels] = dims;
      const values = img.dataSync();
      const lo = opts.range ? opts.range[0] : 0;
      let hi = opts.range ? opts.range[1] : 1;
      if (!opts.range) {
        let max = -Infinity;
        for (const v of values) if (v > max) max = v;
        if (max > 1) hi = 255;
      }
      const px = new Uint8Array(values.length);
      const span = hi - lo || 1;
      for (let k = 0; k < values.length; k++) px[k] = Math.max(0, Math.min(255, Math.round(((values[k] - lo) / span) * 255)));
      return { width: w, height: h, channels, pixels: px };
    });
  } finally {
    if (!Array.isArray(t)) tf.dispose(list);
  }
}

export function imagesOutput(rows: ImageRowInput[], opts: ShowImagesOptions = {}): AenbOutput {
  if (!Array.isArray(rows) || rows.length === 0) {
    throw new TypeError('show.images(rows): rows must be a non-empty array of { title, images }.');
  }
  const built = rows.map((r, i) => {
    if (!r || typeof r.title !== 'string') throw new TypeError(`show.images: rows[${i}] needs a title (a string) and images.`);
    const images = tensorImages(r.images, opts, `show.images row "${r.title}"`);
    r.captions?.forEach((c, k) => {
      if (images[k]) images[k].caption = String(c);
    });
    return { title: r.title, images };
  });
  const payload = imagesPayload(built, { title: opts.title, colormap: opts.colormap });
  return toOutput(imagesOutputItems(payload));
}

export interface ReconstructionOptions {
  /** How many samples (default 4, as in the seeds). */
  n?: number;
  /** Gaussian noise factor: adds a "Noisy" row and reconstructs the noisy inputs (the denoising section). */
  noise?: number;
  /** Seed for picking samples and for the noise. Without it, samples are picked at random. */
  seed?: number;
  /** Take the first n samples instead of random ones. */
  first?: boolean;
  /** Image size when samples are flat vectors whose length is not a square, e.g. [20, 30]. */
  shape?: [number, number];
  title?: string;
  /** Colormap of grayscale images: 'gray' (the default for every output) or 'viridis' (for values that are not pictures: heat maps, weights). */
  colormap?: Colormap;
}

/** The shape of one input sample a model takes (null where the model leaves a size open). */
function modelInputShape(model: AutoencoderModel | tf.LayersModel): (number | null)[] {
  return model instanceof AutoencoderModel ? model.inputShape : model.inputs[0].shape.slice(1);
}

const sizeOf = (shape: readonly (number | null)[]) => shape.reduce<number>((a, b) => a * (b ?? 1), 1);

/** Originals, (noisy,) and reconstructions of n samples of x, with per-image errors as captions. */
export function reconstructionsOutput(model: AutoencoderModel | tf.LayersModel, x: tf.Tensor, opts: ReconstructionOptions = {}): AenbOutput {
  if (!(model instanceof AutoencoderModel) && !(model instanceof tf.LayersModel)) {
    throw new TypeError('show.reconstructions(model, x): model must be an Autoencoder, a StackedAutoencoder or a tfjs model.');
  }
  if (!(x instanceof tf.Tensor) || x.rank < 2) {
    throw new TypeError('show.reconstructions(model, x): x must be a batch of samples, e.g. xTest ([N, 28, 28], [N, 28, 28, 1] or flat [N, 784]).');
  }
  const n = opts.n ?? 4;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`show.reconstructions: n must be a whole number >= 1, got ${n}.`);
  // The samples as the model takes them: the same values under the model's shape (flat [N, 784] for [28, 28, 1], say).
  const sample = x.shape.slice(1);
  const wanted = modelInputShape(model);
  const open = wanted.some((d) => d === null);
  if (!open && sizeOf(wanted) !== sizeOf(sample)) {
    throw new Error(
      `show.reconstructions: the model takes samples of shape [${wanted.join(', ')}] (${sizeOf(wanted)} values), ` +
        `but x has samples of shape [${sample.join(', ')}] (${sizeOf(sample)} values). Give it data of the kind it was trained on.`,
    );
  }
  const sameShape = wanted.length === sample.length && wanted.every((d, i) => d === null || d === sample[i]);
  const asModelInput = (t: tf.Tensor) => (sameShape || open ? t : t.reshape([t.shape[0], ...(wanted as number[])]));
  const count = Math.min(n, x.shape[0]);
  const rng = makeRng(opts.seed);
  const picked: number[] = [];
  if (opts.first) for (let i = 0; i < count; i++) picked.push(i);
  else {
    const chosen = new Set<number>();
    while (chosen.size < count) chosen.add(Math.floor(rng() * x.shape[0]));
    picked.push(...chosen);
  }
  const tensors: tf.Tensor[] = [];
  const keep = <T extends tf.Tensor>(t: T): T => {
    tensors.push(t);
    return t;
  };
  try {
    const originals = keep(tf.gather(x, picked));
    const inputs = opts.noise ? keep(addNoise(originals, opts.noise, { seed: opts.seed })) : originals;
    const modelIn = asModelInput(inputs);
    if (modelIn !== inputs) keep(modelIn);
    const out = keep(model instanceof AutoencoderModel ? model.predict(modelIn) : (model.predict(modelIn) as tf.Tensor));
    if (out.size !== originals.size) {
      throw new Error(`show.reconstructions: the model's output has ${out.size / count} values per sample, its input ${originals.size / count}: is it an autoencoder?`);
    }
    const errs = tf.tidy(() => tf.mean(tf.squaredDifference(out.reshape([count, -1]), originals.reshape([count, -1])), 1).dataSync());
    // Rows are shown in the size given, or in the shape of the data, or, when that is not an image (flat and not square), in the model's.
    const candidates = [...(opts.shape ? [opts.shape] : []), sample, ...(open ? [] : [wanted as number[]])];
    const shown = candidates.find((s) => typeof imageShape(s) !== 'string' && sizeOf(s) === sizeOf(sample));
    if (!shown) throw new Error(`show.reconstructions: each sample of x ${imageShape(sample, opts.shape)}.`);
    const asImages = (t: tf.Tensor) => keep(t.reshape([count, ...shown]));
    const rows: ImageRowInput[] = [{ title: 'Original', images: asImages(originals) }];
    if (inputs !== originals) rows.push({ title: `Noisy (factor ${opts.noise})`, images: asImages(inputs) });
    rows.push({ title: opts.noise ? 'Denoised' : 'Reconstructed', images: asImages(out), captions: Array.from(errs, (e) => `mse ${e.toFixed(4)}`) });
    return imagesOutput(rows, { title: opts.title, colormap: opts.colormap, range: [0, 1] });
  } finally {
    tf.dispose(tensors);
  }
}

export const kernel = {
  show: {
    /** Shows rows of images (tensors `[N, H, W]`, `[N, H, W, C]`, or flat `[N, D]` with D a square: `[N, 784]` as 28x28), each row with an optional title and captions. */
    images: imagesOutput,
    /** Shows `n` images of `x` above the model's reconstructions of them, each captioned with its error; `noise` adds noise to the inputs first (denoising). */
    reconstructions: reconstructionsOutput,
  },
} satisfies KernelPart;
