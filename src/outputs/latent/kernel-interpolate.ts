// show.interpolate(model, a, b, { steps }): the way from one image to
// another through the latent space: the decoder's images of codes evenly
// spaced on the line between the two images' codes, between the two inputs.
// An image strip, shown by the images kind (src/outputs/images/).
import * as tf from '@tensorflow/tfjs';
import type { AenbOutput } from '../../common/aenb';
import type { Colormap } from '../../common/colormap';
import { latentModel, type LatentModel } from '../../lib/latent';
import { imagesPayload } from '../images/contract';
import { imagesOutputItems } from '../images/png';
import { toOutput } from '../payload';
import { toPixels } from './inverse';
import { checkColormap, checkOptions, checkTensor, describe, detectRange, imageShapeOf, valuesOf } from './kernel-args';

export interface InterpolateOptions {
  /** Images in the strip, both ends included (default 10). */
  steps?: number;
  title?: string;
  /** Colormap of grayscale images: 'gray' (the default for every output) or 'viridis' (for values that are not pictures: heat maps, weights). */
  colormap?: Colormap;
  shape?: [number, number];
  range?: [number, number];
}

/** One image of the model's input shape: [...inputShape], [1, ...inputShape], or flat. */
function oneImage(t: unknown, m: LatentModel, where: string, name: string): tf.Tensor {
  checkTensor(t, where, name);
  const size = m.inputShape.reduce((a, b) => a * b, 1);
  if (t.size !== size || (t.rank > m.inputShape.length && t.shape[0] !== 1)) {
    throw new Error(`${where}: ${name} must be one image of shape [${m.inputShape.join(', ')}] (or [1, ${m.inputShape.join(', ')}]), got shape [${t.shape.join(', ')}]; pick one with x.slice(i, 1) or tf.gather(x, i).`);
  }
  return t.reshape([1, ...m.inputShape]);
}

export function interpolateOutput(model: unknown, a: unknown, b: unknown, opts: InterpolateOptions = {}): AenbOutput {
  const where = 'show.interpolate';
  checkOptions(opts, where);
  opts = opts ?? {};
  const m = latentModel(model, `${where}: model`);
  const steps = opts.steps ?? 10;
  if (!Number.isInteger(steps) || steps < 2 || steps > 50) throw new RangeError(`${where}: steps must be a whole number from 2 to 50, got ${describe(steps)}.`);
  const colormap = checkColormap(opts.colormap, where);
  const image = imageShapeOf(m, where, opts.shape);
  const inputA = valuesOf(() => oneImage(a, m, where, 'a'));
  const inputB = valuesOf(() => oneImage(b, m, where, 'b'));
  const decoded = valuesOf(() => {
    const za = m.encode(tf.tensor(inputA, [1, ...m.inputShape]));
    const zb = m.encode(tf.tensor(inputB, [1, ...m.inputShape]));
    const t = tf.linspace(0, 1, steps).reshape([steps, 1]);
    return m.decode(tf.add(tf.mul(tf.sub(1, t), za), tf.mul(t, zb)));
  });
  const range = opts.range ?? detectRange([...inputA, ...inputB]);
  const px = image.width * image.height * image.channels;
  const img = (values: Float32Array, caption: string, alt: string) => ({ width: image.width, height: image.height, channels: image.channels, pixels: toPixels(values, range), caption, alt });
  const strip = [img(inputA, 'input a', 'Input image a')];
  for (let s = 0; s < steps; s++) {
    const t = s / (steps - 1);
    const label = s === 0 ? 'a decoded' : s === steps - 1 ? 'b decoded' : `t = ${t.toFixed(2)}`;
    strip.push(img(decoded.subarray(s * px, (s + 1) * px), label, `Decoded at t = ${t.toFixed(2)} of the way from a to b`));
  }
  strip.push(img(inputB, 'input b', 'Input image b'));
  const payload = imagesPayload([{ title: 'a → b', images: strip }], {
    title: opts.title ?? `From a to b through the latent space of ${m.name} (${m.latentDim}-D codes, ${steps} steps)`,
    colormap,
  });
  return toOutput(imagesOutputItems(payload));
}
