/**
 * UpSampling2D (nearest): each output pixel copies the input pixel tfjs's
 * resizeNearestNeighbor picks for it (the maps are computed once, with its
 * rule); backward sums each input pixel's copies' gradients (C kernels).
 */
import type * as tf from '@tensorflow/tfjs';
import { nearestSources } from '../../cpu-kernels/resize-nearest-neighbor-grad';
import type { BuildContext, BuildResult, LayerModule, LeanOp, OpBuffers, StepRuntime } from '../types';
import { imageInput, pair, words } from './conv-util';

export class UpSampling2DOp implements LeanOp {
  readonly output = 'new' as const;
  readonly backwardReadsOutput = false;

  constructor(readonly label: string, readonly inShape: number[], readonly outShape: number[], private readonly rowMap: number, private readonly colMap: number) {}

  forward(rt: StepRuntime, io: OpBuffers, rows: number): void {
    const [h, w, c] = this.inShape;
    const [oh, ow] = this.outShape;
    rt.c.resize_nearest_forward(io.x.ptr, h, w, c, this.rowMap, this.colMap, oh, ow, io.y.ptr, 0, rows);
  }

  backward(rt: StepRuntime, io: OpBuffers, rows: number): void {
    if (!io.dx) return;
    const [h, w, c] = this.inShape;
    const [oh, ow] = this.outShape;
    rt.c.resize_nearest_backward(io.dy.ptr, h, w, c, this.rowMap, this.colMap, oh, ow, io.dx.ptr, 0, rows);
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
    const rowMap = words(ctx.heap, Array.from(nearestSources(h, outShape[0], false, false)));
    const colMap = words(ctx.heap, Array.from(nearestSources(w, outShape[1], false, false)));
    return [new UpSampling2DOp(label, inShape, outShape, rowMap, colMap)];
  },
};
