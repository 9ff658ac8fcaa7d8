/**
 * Conv2D: y = act(conv(x, W) + b), channels-last, any kernel size, strides,
 * 'same' or 'valid' padding. Forward, input gradient and filter gradient run
 * in the compiled C kernels (`StepRuntime.c`: im2col in cache-sized panels
 * and SIMD GEMM); the bias gradient is a column sum.
 */
import * as tf from '@tensorflow/tfjs';
import type { Buf } from '../heap';
import type { BuildContext, BuildResult, LayerModule, LeanOp, OpBuffers, Param, StepRuntime } from '../types';
import { activationOf, activationOps } from './activation';
import { convGeometry, imageInput, pair } from './conv-util';
import { kernelRegularizers } from './util';

/**
 * What Conv2D and Conv2DTranspose share: their variables, the geometry of the
 * convolution in the C kernels, a work buffer, and the bias and filter
 * gradients (the filter gradient's operands differ; `filterGradient` zeroes
 * the target and hands it to the caller's product).
 */
export abstract class ConvolutionOp implements LeanOp {
  readonly output = 'new' as const;
  readonly backwardReadsOutput = false;

  constructor(
    readonly label: string,
    readonly inShape: number[],
    readonly outShape: number[],
    protected readonly kernel: tf.Variable,
    private readonly kernelParam: Param | null,
    protected readonly bias: tf.Variable | null,
    private readonly biasParam: Param | null,
    /** Geometry words for the C kernels. */
    protected readonly geom: number,
    protected readonly work: Buf,
  ) {}

  abstract forward(rt: StepRuntime, io: OpBuffers, rows: number): void;
  abstract backward(rt: StepRuntime, io: OpBuffers, rows: number): void;

  /** The filter gradient: `accumulate` adds it into the zeroed target at `ptr`. */
  protected filterGradient(rt: StepRuntime, accumulate: (ptr: number) => void): void {
    const kp = this.kernelParam;
    if (!kp) return;
    const target = rt.gradTarget(kp);
    rt.f32.fill(0, target.off, target.off + kp.size);
    accumulate(target.ptr);
    rt.contributed(kp);
  }

  /** The bias gradient: dy's sum over every pixel of every image, per output channel. */
  protected biasGradient(rt: StepRuntime, io: OpBuffers, rows: number): void {
    if (!this.biasParam) return;
    const [h, w, c] = this.outShape;
    rt.c.col_sums(io.dy.ptr, rows * h * w, c, rt.gradTarget(this.biasParam).ptr);
    rt.contributed(this.biasParam);
  }
}

export class Conv2DOp extends ConvolutionOp {
  forward(rt: StepRuntime, io: OpBuffers, rows: number): void {
    const bias = this.bias ? rt.variable(this.bias).ptr : 0;
    rt.c.conv2d_forward(this.geom, io.x.ptr, rt.variable(this.kernel).ptr, bias, io.y.ptr, this.work.ptr, 0, rows);
  }

  backward(rt: StepRuntime, io: OpBuffers, rows: number): void {
    this.filterGradient(rt, (dw) => rt.c.conv2d_backprop_filter(this.geom, io.x.ptr, io.dy.ptr, dw, this.work.ptr, 0, rows));
    this.biasGradient(rt, io, rows);
    if (io.dx) rt.c.conv2d_backprop_input(this.geom, io.dy.ptr, rt.variable(this.kernel).ptr, io.dx.ptr, this.work.ptr, 0, rows);
  }
}

interface ConvInternals {
  filters: number;
  kernelSize: number[];
  strides: number[];
  padding: string;
  dataFormat: string;
  dilationRate: number | number[];
  kernel: { read(): tf.Tensor } | null;
  bias: { read(): tf.Tensor } | null;
  useBias: boolean;
  activation: unknown;
}

/** Checks what every convolution module needs: a built float32 kernel of the expected shape, no regularizer, a supported activation. */
export function convParts(layer: tf.layers.Layer, label: string, ctx: BuildContext) {
  const l = layer as unknown as ConvInternals;
  const extra = kernelRegularizers(layer);
  if (extra) return `${label} has a ${extra}`;
  if (!l.kernel) return `${label} is not built`;
  const act = activationOf(l.activation);
  if (typeof act === 'string') return `${label} uses the ${act} activation`;
  if (l.padding !== 'same' && l.padding !== 'valid') return `${label} uses '${l.padding}' padding`;
  const [dh, dw] = pair(l.dilationRate ?? 1);
  if (dh !== 1 || dw !== 1) return `${label} is dilated (tfjs has no gradient for dilated convolutions)`;
  const kernel = l.kernel.read() as tf.Variable;
  if (kernel.rank !== 4 || kernel.dtype !== 'float32') return `${label}: its kernel is not a float32 [h, w, in, out] filter`;
  const bias = l.useBias && l.bias ? (l.bias.read() as tf.Variable) : null;
  const kp = ctx.param(kernel, 'kernel');
  if (typeof kp === 'string') return kp;
  const bp = bias ? ctx.param(bias, 'bias') : null;
  if (typeof bp === 'string') return bp;
  return { l, act, kernel, bias, kp, bp };
}

export const conv2d: LayerModule = {
  classNames: ['Conv2D'],
  build(layer: tf.layers.Layer, inShape: number[], ctx: BuildContext): BuildResult {
    const label = ctx.label(layer);
    const parts = convParts(layer, label, ctx);
    if (typeof parts === 'string') return { refused: parts };
    const { l, act, kernel, bias, kp, bp } = parts;
    const problem = imageInput(label, inShape, l.dataFormat);
    if (problem) return { refused: problem };
    const [h, w, c] = inShape;
    const [kh, kw, ci, co] = kernel.shape as number[];
    if (ci !== c) return { refused: `${label}: its kernel takes ${ci} channels, its input has ${c}` };
    const info = tf.backend_util.computeConv2DInfo([ctx.batchSize, h, w, c], [kh, kw, ci, co], pair(l.strides) as [number, number], 1, l.padding as 'same' | 'valid');
    if (info.outHeight < 1 || info.outWidth < 1) return { refused: `${label} has no output for inputs of ${h}x${w}` };
    const outShape = [info.outHeight, info.outWidth, co];
    const geom = convGeometry(ctx.heap, info);
    const work = ctx.heap.alloc(ctx.c.conv2d_work_floats(geom));
    const op = new Conv2DOp(label, inShape, outShape, kernel, kp, bias, bp, geom, work);
    return [op, ...activationOps(act, label, outShape)];
  },
};
