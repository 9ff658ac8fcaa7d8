/**
 * UpSampling2D (nearest): each input pixel is repeated sh × sw times;
 * backward sums the gradients of its copies (C kernels). tfjs computes each
 * output pixel's source as floor(o · in / out) in floating point; the layer is
 * refused in the (unseen) case where that differs from o / s.
 */
import type * as tf from '@tensorflow/tfjs';
import { nearestSources } from '../../cpu-kernels/resize-nearest-neighbor-grad';
import type { BuildContext, BuildResult, LayerModule, LeanOp, OpBuffers, StepRuntime } from '../types';
import { imageInput, pair } from './conv-util';

export class UpSampling2DOp implements LeanOp {
  readonly output = 'new' as const;
  readonly backwardReadsOutput = false;

  constructor(
    readonly label: string,
    readonly inShape: number[],
    readonly outShape: number[],
    private readonly sh: number,
    private readonly sw: number,
  ) {}

  forward(rt: StepRuntime, io: OpBuffers, rows: number): void {
    const [h, w, c] = this.inShape;
    rt.c.upsample_forward(io.x.ptr, h, w, c, this.sh, this.sw, io.y.ptr, 0, rows);
  }

  backward(rt: StepRuntime, io: OpBuffers, rows: number): void {
    const [h, w, c] = this.inShape;
    if (io.dx) rt.c.upsample_backward(io.dy.ptr, h, w, c, this.sh, this.sw, io.dx.ptr, 0, rows);
  }
}

interface UpSamplingInternals {
  size: number[];
  dataFormat: string;
  interpolation: string;
}

export const upSampling2d: LayerModule = {
  classNames: ['UpSampling2D'],
  build(layer: tf.layers.Layer, inShape: number[], ctx: BuildContext): BuildResult {
    const label = ctx.label(layer);
    const l = layer as unknown as UpSamplingInternals;
    const problem = imageInput(label, inShape, l.dataFormat);
    if (problem) return { refused: problem };
    if (l.interpolation !== undefined && l.interpolation !== 'nearest') return { refused: `${label} uses ${l.interpolation} interpolation` };
    const [sh, sw] = pair(l.size);
    const [h, w, c] = inShape;
    const outShape = [h * sh, w * sw, c];
    const whole = (size: number, out: number, s: number) => nearestSources(size, out, false, false).every((src, i) => src === Math.floor(i / s));
    if (!whole(h, outShape[0], sh) || !whole(w, outShape[1], sw)) return { refused: `${label}: tfjs rounds its sources differently for inputs of ${h}x${w}` };
    return [new UpSampling2DOp(label, inShape, outShape, sh, sw)];
  },
};
