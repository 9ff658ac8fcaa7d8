/**
 * AveragePooling2D: the mean over each window's positions inside the image
 * (C kernels); backward spreads each gradient over its window scaled by
 * 1 / (pool height × width), which is what tfjs's AvgPoolGrad computes.
 */
import type * as tf from '@tensorflow/tfjs';
import type { BuildContext, BuildResult, LayerModule, LeanOp, OpBuffers, StepRuntime } from '../types';
import { poolGeometry } from './conv-util';
import { poolInfo } from './max-pooling2d';

const f32 = Math.fround;

export class AvgPool2DOp implements LeanOp {
  readonly output = 'new' as const;
  readonly backwardReadsOutput = false;

  constructor(readonly label: string, readonly inShape: number[], readonly outShape: number[], private readonly geom: number, private readonly scale: number) {}

  forward(rt: StepRuntime, io: OpBuffers, rows: number): void {
    rt.c.avg_pool_forward(this.geom, io.x.ptr, io.y.ptr, 0, rows);
  }

  backward(rt: StepRuntime, io: OpBuffers, rows: number): void {
    if (io.dx) rt.c.avg_pool_backward(this.geom, io.dy.ptr, io.dx.ptr, this.scale, 0, rows);
  }
}

export const averagePooling2d: LayerModule = {
  classNames: ['AveragePooling2D'],
  build(layer: tf.layers.Layer, inShape: number[], ctx: BuildContext): BuildResult {
    const label = ctx.label(layer);
    const info = poolInfo(layer, label, inShape, ctx);
    if (typeof info === 'string') return { refused: info };
    const outShape = [info.outHeight, info.outWidth, inShape[2]];
    const scale = f32(1 / (info.effectiveFilterHeight * info.effectiveFilterWidth));
    return [new AvgPool2DOp(label, inShape, outShape, poolGeometry(ctx.heap, info), scale)];
  },
};
