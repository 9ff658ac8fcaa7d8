import * as tf from '@tensorflow/tfjs';

export interface NoiseOptions {
  /** Seed for reproducible noise. */
  seed?: number;
  /** Clip the result to this range; default [0, 1], as for images scaled to [0, 1]. Pass `null` not to clip. */
  clip?: [number, number] | null;
}

/**
 * Adds Gaussian noise N(0, 1) scaled by `factor` and clips the result (to
 * [0, 1] by default), as the vanilla seed's denoising section does.
 */
export function addNoise<T extends tf.Tensor>(x: T, factor: number, options: NoiseOptions = {}): T {
  if (!(x instanceof tf.Tensor)) throw new TypeError('addNoise(x, factor): x must be a tensor (for example xTest.slice(0, 8)).');
  if (!Number.isFinite(factor) || factor < 0) throw new RangeError(`addNoise: factor must be a number >= 0, got ${factor}.`);
  const clip = options.clip === undefined ? ([0, 1] as [number, number]) : options.clip;
  if (clip && !(clip[0] <= clip[1])) throw new RangeError(`addNoise: clip range [${clip[0]}, ${clip[1]}] is empty.`);
  return tf.tidy(() => {
    const noise = tf.randomNormal(x.shape, 0, 1, 'float32', options.seed);
    const noisy = tf.add(tf.cast(x, 'float32'), tf.mul(noise, factor));
    return (clip ? tf.clipByValue(noisy, clip[0], clip[1]) : noisy) as T;
  });
}
