/**
 * Dense layers: y = act(x·W + b), on the last axis of the input (a dense
 * layer on [N, T, F] inputs acts on each of the N·T rows), and the product
 * op that `TransposedDense` (x·Wᵀ + b, a tied decoder layer) shares. The
 * three products of each step (forward, weight gradient, input gradient) go
 * to `StepRuntime.gemm`.
 */
import type * as tf from '@tensorflow/tfjs';
import type { BuildContext, BuildResult, LayerModule, LeanOp, OpBuffers, Param, StepRuntime } from '../types';
import { activationOf, activationOps } from './activation';
import { kernelRegularizers, product } from './util';

/** z = x·W + b (or x·Wᵀ + b when `transposed`), over the last axis. The activation is a separate op. */
export class MatMulOp implements LeanOp {
  readonly output = 'new' as const;
  readonly backwardReadsOutput = false;
  readonly outShape: number[];
  /** Rows per sample: the product of the input's leading axes (1 for flat inputs). */
  private readonly perSample: number;

  constructor(
    readonly label: string,
    readonly inShape: number[],
    readonly inputs: number,
    readonly outputs: number,
    /** The kernel, [inputs, outputs] (or [outputs, inputs] when transposed); a constant when `kernelParam` is null. */
    private readonly kernel: tf.Variable,
    private readonly kernelParam: Param | null,
    private readonly bias: tf.Variable | null,
    private readonly biasParam: Param | null,
    private readonly transposed: boolean,
  ) {
    this.outShape = [...inShape.slice(0, -1), outputs];
    this.perSample = product(inShape.slice(0, -1));
  }

  forward(rt: StepRuntime, io: OpBuffers, samples: number): void {
    const m = samples * this.perSample;
    const bias = this.bias ? rt.variable(this.bias) : null;
    rt.gemm({ a: io.x, b: rt.variable(this.kernel), transB: this.transposed, m, k: this.inputs, n: this.outputs, bias, out: io.y });
  }

  backward(rt: StepRuntime, io: OpBuffers, samples: number): void {
    const m = samples * this.perSample;
    const { inputs, outputs, transposed } = this;
    const kp = this.kernelParam;
    if (kp) {
      // The kernel's layout is [in, out] (dense: xᵀ·dz) or [out, in] (transposed: dzᵀ·x).
      const out = rt.gradTarget(kp);
      if (transposed) rt.gemm({ a: io.dy, transA: true, b: io.x, m: outputs, k: m, n: inputs, out });
      else rt.gemm({ a: io.x, transA: true, b: io.dy, m: inputs, k: m, n: outputs, out });
      rt.contributed(kp);
    }
    if (this.biasParam) {
      rt.simd.colSums(io.dy.ptr, m, outputs, rt.gradTarget(this.biasParam).ptr);
      rt.contributed(this.biasParam);
    }
    // dx = dz·Wᵀ (dense) or dz·W (transposed).
    if (io.dx) rt.gemm({ a: io.dy, b: rt.variable(this.kernel), transB: !transposed, m, k: outputs, n: inputs, out: io.dx });
  }
}

interface DenseInternals {
  units: number;
  kernel: { read(): tf.Tensor } | null;
  bias: { read(): tf.Tensor } | null;
  useBias: boolean;
  activation: unknown;
}

/** Builds the product op (and its parameters) for a kernel used directly or transposed. */
export function matMulOps(
  ctx: BuildContext, label: string, inShape: number[], kernel: tf.Variable, bias: tf.Variable | null, transposed: boolean,
): MatMulOp | string {
  if (kernel.rank !== 2 || kernel.dtype !== 'float32') return `${label}: its kernel is not a float32 matrix`;
  const [r, c] = kernel.shape as number[];
  const [inputs, outputs] = transposed ? [c, r] : [r, c];
  if (inShape.length === 0 || inShape[inShape.length - 1] !== inputs) return `${label}: inputs of shape [${inShape.join(', ')}] do not match its kernel`;
  if (bias && (bias.rank !== 1 || bias.shape[0] !== outputs || bias.dtype !== 'float32')) return `${label}: its bias does not match its kernel`;
  const kp = ctx.param(kernel, 'kernel');
  if (typeof kp === 'string') return kp;
  const bp = bias ? ctx.param(bias, 'bias') : null;
  if (typeof bp === 'string') return bp;
  return new MatMulOp(label, inShape, inputs, outputs, kernel, kp, bias, bp, transposed);
}

export const dense: LayerModule = {
  classNames: ['Dense'],
  build(layer: tf.layers.Layer, inShape: number[], ctx: BuildContext): BuildResult {
    const label = ctx.label(layer);
    const d = layer as unknown as DenseInternals;
    const reg = kernelRegularizers(layer);
    if (reg) return { refused: `${label} has a ${reg}` };
    if (!d.kernel) return { refused: `${label} is not built` };
    const act = activationOf(d.activation);
    if (typeof act === 'string') return { refused: `${label} uses the ${act} activation` };
    const op = matMulOps(ctx, label, inShape, d.kernel.read() as tf.Variable, d.useBias && d.bias ? (d.bias.read() as tf.Variable) : null, false);
    if (typeof op === 'string') return { refused: op };
    return [op, ...activationOps(act, label, op.outShape)];
  },
};
