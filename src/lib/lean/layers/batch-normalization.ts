/**
 * BatchNormalization (training, on the last axis): normalise each channel
 * with the batch's mean and (biased) variance, scale by gamma, shift by
 * beta, and move the layer's moving mean and variance towards the batch's,
 * exactly as tfjs's layer does in training (moving = moving − (moving −
 * batch)·(1 − momentum), in float32). Backward: the full gradient through the
 * batch statistics. Statistics and gradients run in the C kernels.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Buf } from '../heap';
import type { BuildContext, BuildResult, LayerModule, LeanOp, OpBuffers, Param, StepRuntime } from '../types';
import { kernelRegularizers, product } from './util';

const f32 = Math.fround;

export class BatchNormOp implements LeanOp {
  readonly output = 'new' as const;
  readonly backwardReadsOutput = false;
  readonly outShape: number[];
  /** Rows of channels per sample. */
  private readonly perSample: number;
  private readonly channels: number;

  constructor(
    readonly label: string,
    readonly inShape: number[],
    private readonly gamma: tf.Variable,
    private readonly gammaParam: Param | null,
    private readonly beta: tf.Variable,
    private readonly betaParam: Param | null,
    private readonly movingMean: tf.Variable,
    private readonly movingVariance: tf.Variable,
    private readonly momentum: number,
    private readonly epsilon: number,
    /** mean, variance, 1/sqrt(variance + ε), and 2·C floats of scratch: 5·C floats. */
    private readonly stats: Buf,
  ) {
    this.outShape = inShape;
    this.channels = inShape[inShape.length - 1];
    this.perSample = product(inShape.slice(0, -1));
  }

  forward(rt: StepRuntime, io: OpBuffers, rows: number): void {
    const C = this.channels;
    const R = rows * this.perSample;
    const [mean, variance, inv] = [this.stats.ptr, this.stats.ptr + 4 * C, this.stats.ptr + 8 * C];
    rt.c.bn_moments(io.x.ptr, R, C, mean, variance);
    const eps = f32(this.epsilon);
    const decay = f32(1 - this.momentum);
    const mm = rt.variable(this.movingMean, true);
    const mv = rt.variable(this.movingVariance, true);
    const h = rt.f32;
    const s = this.stats.off;
    for (let c = 0; c < C; c++) {
      h[s + 2 * C + c] = f32(1 / f32(Math.sqrt(f32(h[s + C + c] + eps))));
      h[mm.off + c] = f32(h[mm.off + c] - f32(f32(h[mm.off + c] - h[s + c]) * decay));
      h[mv.off + c] = f32(h[mv.off + c] - f32(f32(h[mv.off + c] - h[s + C + c]) * decay));
    }
    rt.c.bn_forward(io.x.ptr, R, C, mean, inv, rt.variable(this.gamma).ptr, rt.variable(this.beta).ptr, io.y.ptr);
  }

  backward(rt: StepRuntime, io: OpBuffers, rows: number): void {
    const C = this.channels;
    const R = rows * this.perSample;
    const [mean, inv, work] = [this.stats.ptr, this.stats.ptr + 8 * C, this.stats.ptr + 12 * C];
    const dgamma = this.gammaParam ? rt.gradTarget(this.gammaParam).ptr : 0;
    const dbeta = this.betaParam ? rt.gradTarget(this.betaParam).ptr : 0;
    rt.c.bn_backward(io.x.ptr, io.dy.ptr, R, C, mean, inv, rt.variable(this.gamma).ptr, dgamma, dbeta, io.dx ? io.dx.ptr : 0, work);
    if (this.gammaParam) rt.contributed(this.gammaParam);
    if (this.betaParam) rt.contributed(this.betaParam);
  }
}

interface BatchNormInternals {
  axis: number | number[];
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
  gamma: { read(): tf.Tensor } | null;
  beta: { read(): tf.Tensor } | null;
  movingMean: { read(): tf.Tensor } | null;
  movingVariance: { read(): tf.Tensor } | null;
}

export const batchNormalization: LayerModule = {
  classNames: ['BatchNormalization'],
  build(layer: tf.layers.Layer, inShape: number[], ctx: BuildContext): BuildResult {
    const label = ctx.label(layer);
    const l = layer as unknown as BatchNormInternals;
    const extra = kernelRegularizers(layer);
    if (extra) return { refused: `${label} has a ${extra}` };
    const axis = Array.isArray(l.axis) ? l.axis : [l.axis];
    if (axis.length !== 1 || (axis[0] !== -1 && axis[0] !== inShape.length)) return { refused: `${label} normalises axis ${JSON.stringify(l.axis)} (the fast path normalises the last axis)` };
    // tfjs's layer cannot train without gamma and beta (it reads both in training).
    if (!l.center || !l.scale || !l.gamma || !l.beta || !l.movingMean || !l.movingVariance) return { refused: `${label} has no gamma or beta (center or scale is false)` };
    const [gamma, beta] = [l.gamma.read() as tf.Variable, l.beta.read() as tf.Variable];
    const gp = ctx.param(gamma, 'gamma');
    if (typeof gp === 'string') return { refused: gp };
    const bp = ctx.param(beta, 'beta');
    if (typeof bp === 'string') return { refused: bp };
    const C = inShape[inShape.length - 1];
    const stats = ctx.heap.alloc(14 * C);
    return [new BatchNormOp(label, inShape, gamma, gp, beta, bp, l.movingMean.read() as tf.Variable, l.movingVariance.read() as tf.Variable, l.momentum, l.epsilon, stats)];
  },
};
