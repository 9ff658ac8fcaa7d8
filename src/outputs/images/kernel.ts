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
  /** A tensor [N, H, W] (or [N, H, W, 1|3], or [N, H*W] with `shape`), or an array of [H, W] tensors. */
  images: tf.Tensor | tf.Tensor[];
  /** Captions under the images. */
  captions?: (string | number)[];
}

export interface ShowImagesOptions {
  title?: string;
  colormap?: Colormap;
  /** Image size when the rows hold flat vectors, e.g. [28, 28]. */
  shape?: [number, number];
  /** Pixel values range; default: [0, 1] for floats, [0, 255] when any value exceeds 1. */
  range?: [number, number];
}

function tensorImages(t: tf.Tensor | tf.Tensor[], opts: ShowImagesOptions, where: string): ImageInput[] {
  const list = Array.isArray(t) ? t : tf.unstack(t);
  try {
    return list.map((img, i) => {
      if (!(img instanceof tf.Tensor)) throw new TypeError(`${where}: image ${i} is not a tensor.`);
      let h: number;
      let w: number;
      let channels: 1 | 3 = 1;
      if (img.rank === 2) [h, w] = img.shape as [number, number];
      else if (img.rank === 3 && (img.shape[2] === 1 || img.shape[2] === 3)) {
        [h, w] = img.shape as [number, number];
        channels = img.shape[2] as 1 | 3;
      } else if (img.rank === 1 && opts.shape) {
        [h, w] = opts.shape;
        if (h * w !== img.size) throw new Error(`${where}: image ${i} has ${img.size} values; shape ${h}x${w} needs ${h * w}.`);
      } else {
        throw new Error(
          `${where}: image ${i} has shape [${img.shape.join(', ')}]; give images as [N, H, W] (or [N, H, W, 1|3]), or flat vectors with { shape: [H, W] }.`,
        );
      }
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
  title?: string;
  colormap?: Colormap;
}

/** Originals, (noisy,) and reconstructions of n samples of x, with per-image errors as captions. */
export function reconstructionsOutput(model: AutoencoderModel | tf.LayersModel, x: tf.Tensor, opts: ReconstructionOptions = {}): AenbOutput {
  if (!(model instanceof AutoencoderModel) && !(model instanceof tf.LayersModel)) {
    throw new TypeError('show.reconstructions(model, x): model must be an Autoencoder, a StackedAutoencoder or a tfjs model.');
  }
  if (!(x instanceof tf.Tensor) || x.rank < 2) throw new TypeError('show.reconstructions(model, x): x must be a tensor of samples, e.g. xTest.');
  const n = opts.n ?? 4;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`show.reconstructions: n must be a whole number >= 1, got ${n}.`);
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
  try {
    const originals = tf.gather(x, picked);
    tensors.push(originals);
    const inputs = opts.noise ? addNoise(originals, opts.noise, { seed: opts.seed }) : originals;
    if (inputs !== originals) tensors.push(inputs);
    const out = model instanceof AutoencoderModel ? model.predict(inputs) : (model.predict(inputs) as tf.Tensor);
    tensors.push(out);
    const errs = tf.tidy(() => {
      const flatOut = out.reshape([count, -1]);
      const flatIn = originals.reshape([count, -1]);
      return tf.mean(tf.squaredDifference(flatOut, flatIn), 1).dataSync();
    });
    const asImages = (t: tf.Tensor) => {
      const shape = model instanceof AutoencoderModel ? model.inputShape : x.shape.slice(1);
      return shape.length === 1 ? t : t.reshape([count, ...shape]);
    };
    const rows: ImageRowInput[] = [{ title: 'Original', images: asImages(originals) }];
    if (inputs !== originals) rows.push({ title: `Noisy (factor ${opts.noise})`, images: asImages(inputs) });
    rows.push({ title: opts.noise ? 'Denoised' : 'Reconstructed', images: asImages(out), captions: Array.from(errs, (e) => `mse ${e.toFixed(4)}`) });
    const shape2 = model instanceof AutoencoderModel && model.inputShape.length === 1 ? squareShape(model.inputShape[0]) : undefined;
    return imagesOutput(rows, { title: opts.title, colormap: opts.colormap, shape: shape2, range: [0, 1] });
  } finally {
    tf.dispose(tensors);
  }
}

function squareShape(size: number): [number, number] | undefined {
  const s = Math.round(Math.sqrt(size));
  return s * s === size ? [s, s] : undefined;
}

export const kernel = {
  show: {
    /** Shows rows of images (tensors `[N, H, W]`, `[N, H, W, C]` or `[N, H*W]`), each row with an optional title and captions. */
    images: imagesOutput,
    /** Shows `n` images of `x` above the model's reconstructions of them, each captioned with its error; `noise` adds noise to the inputs first (denoising). */
    reconstructions: reconstructionsOutput,
  },
} satisfies KernelPart;
