/**
 * MaxPooling2D: the maximum of each window (C kernels), remembering where it
 * was (the first maximum in row-major window order, as the cpu backend and
 * our wasm MaxPoolGrad pick it); backward sends each gradient there.
 */
import * as tf from '@tensorflow/tfjs';
import type { BuildContext, BuildResult, LayerModule, LeanOp, OpBuffers, StepRuntime } from '../types';
import { imageInput, pair, poolGeometry } from './conv-util';

export class MaxPool2DOp implements LeanOp {
  readonly output = 'new' as const;
  readonly backwardReadsOutput = false;

  constructor(readonly label: string, readonly inShape: number[], readonly outShape: number[], private readonly geom: number, private readonly argmax: number) {}

  forward(rt: StepRuntime, io: OpBuffers, rows: number): void {
    rt.c.max_pool_forward(this.geom, io.x.ptr, io.y.ptr, this.argmax, 0, rows);
  }

  backward(rt: StepRuntime, io: OpBuffers, rows: number): void {
    if (io.dx) rt.c.max_pool_backward(this.geom, io.dy.ptr, this.argmax, io.dx.ptr, 0, rows);
  }
}

interface PoolInternals {
  poolSize: number[];
  strides: number[];
  padding: string;
  dataFormat: string;
}

/** tfjs's pooling geometry for a pooling layer on `inShape`, or why not. */
export function poolInfo(layer: tf.layers.Layer, label: string, inShape: number[], ctx: BuildContext): tf.backend_util.Conv2DInfo | string {
  const l = layer as unknown as PoolInternals;
  const problem = imageInput(label, inShape, l.dataFormat);
  if (problem) return problem;
  if (l.padding !== 'same' && l.padding !== 'valid') return `${label} uses '${l.padding}' padding`;
  const [h, w, c] = inShape;
  const info = tf.backend_util.computePool2DInfo([ctx.batchSize, h, w, c], pair(l.poolSize), pair(l.strides ?? l.poolSize), 1, l.padding as 'same' | 'valid');
  if (info.outHeight < 1 || info.outWidth < 1) return `${label} has no output for inputs of ${h}x${w}`;
  return info;
}

export const maxPooling2d: LayerModule = {
  classNames: ['MaxPooling2D'],
  build(layer: tf.layers.Layer, inShape: number[], ctx: BuildContext): BuildResult {
    const label = ctx.label(layer);
    const info = poolInfo(layer, label, inShape, ctx);
    if (typeof info === 'string') return { refused: info };
    const outShape = [info.outHeight, info.outWidth, inShape[2]];
    const argmax = ctx.heap.allocWords(ctx.batchSize * outShape[0] * outShape[1] * outShape[2]);
    return [new MaxPool2DOp(label, inShape, outShape, poolGeometry(ctx.heap, info), argmax)];
  },
};
