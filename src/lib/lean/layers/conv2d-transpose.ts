/**
 * Conv2DTranspose: y = act(conv2dTranspose(x, W) + b), channels-last,
 * kernel [h, w, filters, in]. Its forward pass is the input gradient of the
 * convolution that maps y's shape to x's, its input gradient that
 * convolution's forward pass, and its filter gradient that convolution's
 * filter gradient with the roles of x and dy swapped: the same three C
 * kernels as Conv2D.
 */
import * as tf from '@tensorflow/tfjs';
import type { BuildContext, BuildResult, LayerModule, OpBuffers, StepRuntime } from '../types';
import { activationOps } from './activation';
import { ConvolutionOp, convParts } from './conv2d';
import { convGeometry, imageInput, pair } from './conv-util';

/** The convolution's geometry here is that of the convolution from y's shape to x's. */
export class Conv2DTransposeOp extends ConvolutionOp {
  forward(rt: StepRuntime, io: OpBuffers, rows: number): void {
    rt.c.conv2d_backprop_input(this.geom, io.x.ptr, rt.variable(this.kernel).ptr, io.y.ptr, this.work.ptr, 0, rows);
    const [h, w, c] = this.outShape;
    if (this.bias) rt.c.bias_add(io.y.ptr, rows * h * w, c, rt.variable(this.bias).ptr);
  }

  backward(rt: StepRuntime, io: OpBuffers, rows: number): void {
    this.filterGradient(rt, (dw) => rt.c.conv2d_backprop_filter(this.geom, io.dy.ptr, io.x.ptr, dw, this.work.ptr, 0, rows));
    this.biasGradient(rt, io, rows);
    if (io.dx) rt.c.conv2d_forward(this.geom, io.dy.ptr, rt.variable(this.kernel).ptr, 0, io.dx.ptr, this.work.ptr, 0, rows);
  }
}

export const conv2dTranspose: LayerModule = {
  classNames: ['Conv2DTranspose'],
  build(layer: tf.layers.Layer, inShape: number[], ctx: BuildContext): BuildResult {
    const label = ctx.label(layer);
    const parts = convParts(layer, label, ctx);
    if (typeof parts === 'string') return { refused: parts };
    const { l, act, kernel, bias, kp, bp } = parts;
    const problem = imageInput(label, inShape, l.dataFormat);
    if (problem) return { refused: problem };
    const [kh, kw, filters, ci] = kernel.shape as number[];
    if (ci !== inShape[2]) return { refused: `${label}: its kernel takes ${ci} channels, its input has ${inShape[2]}` };
    const out = layer.computeOutputShape([null, ...inShape]) as (number | null)[];
    const [oh, ow] = [out[1], out[2]];
    if (typeof oh !== 'number' || typeof ow !== 'number' || oh < 1 || ow < 1) return { refused: `${label} has no output for inputs of ${inShape[0]}x${inShape[1]}` };
    // The convolution this layer transposes: from [oh, ow, filters] to the layer's input [h, w, ci].
    const info = tf.backend_util.computeConv2DInfo([ctx.batchSize, oh, ow, filters], [kh, kw, filters, ci], pair(l.strides) as [number, number], 1, l.padding as 'same' | 'valid');
    if (info.outHeight !== inShape[0] || info.outWidth !== inShape[1]) return { refused: `${label}: its output shape does not invert to its input shape` };
    const outShape = [oh, ow, filters];
    const geom = convGeometry(ctx.heap, info);
    const work = ctx.heap.alloc(ctx.c.conv2d_work_floats(geom));
    return [new Conv2DTransposeOp(label, inShape, outShape, kernel, kp, bias, bp, geom, work), ...activationOps(act, label, outShape)];
  },
};
