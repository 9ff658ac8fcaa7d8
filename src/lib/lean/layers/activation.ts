/**
 * Element-wise activations, as ops of their own (in place on the previous
 * op's output): linear, ReLU, LeakyReLU, sigmoid, tanh and ELU, for the
 * activation layers (`tf.layers.activation`, `reLU`, `leakyReLU`, `elu`)
 * and for the `activation` of dense and convolutional layers.
 *
 * Forward: ReLU and LeakyReLU in our SIMD kernels; sigmoid, tanh and ELU in
 * the backend's own kernels, so the values are the generic path's, bit for
 * bit. Backward from the output y, as tfjs's gradients compute it: ReLU
 * dy·[y > 0], LeakyReLU dy or dy·α, sigmoid dy·y(1−y), tanh (1−y²)·dy,
 * ELU tfjs's EluGrad (the backend's kernel).
 */
import type * as tf from '@tensorflow/tfjs';
import { LeakyReLUActivation } from '../../layers';
import type { ActivationKind, BuildContext, BuildResult, LayerModule, LeanOp, OpBuffers, StepRuntime } from '../types';
import { product } from './util';

const f32 = Math.fround;

/** The kind of a tfjs activation object (what layers store), or its name when the fast path has no kernel for it. */
export function activationOf(a: unknown): ActivationKind | string {
  if (a === null || a === undefined) return { kind: 'linear' };
  if (a instanceof LeakyReLUActivation) return Number.isFinite(a.alpha) && a.alpha >= 0 ? { kind: 'leakyRelu', alpha: a.alpha } : `LeakyReLU(${a.alpha})`;
  const name = typeof (a as { getClassName?: unknown }).getClassName === 'function' ? (a as { getClassName(): string }).getClassName() : String(a);
  switch (name) {
    case 'linear':
    case 'relu':
    case 'sigmoid':
    case 'tanh':
    case 'elu':
      return { kind: name };
    default:
      return name;
  }
}

export class ActivationOp implements LeanOp {
  readonly output = 'inPlace' as const;
  readonly backwardReadsOutput = true;
  readonly outShape: number[];
  private readonly size: number;

  constructor(readonly label: string, readonly inShape: number[], readonly activation: ActivationKind) {
    this.outShape = inShape;
    this.size = product(inShape);
  }

  forward(rt: StepRuntime, io: OpBuffers, rows: number): void {
    const n = rows * this.size;
    const a = this.activation;
    const { x, y } = io;
    switch (a.kind) {
      case 'sigmoid':
        return rt.sigmoid(x, y, n);
      case 'tanh':
        return rt.tanh(x, y, n);
      case 'elu':
        return rt.elu(x, y, n);
      default:
        if (x !== y) rt.copy(y, x, n);
        if (a.kind === 'relu') rt.simd.reluForward(y.ptr, n);
        else if (a.kind === 'leakyRelu') rt.simd.leakyReluForward(y.ptr, n, f32(a.alpha));
    }
  }

  backward(rt: StepRuntime, io: OpBuffers, rows: number): void {
    const { y, dy, dx } = io;
    if (!dx) return;
    const n = rows * this.size;
    const a = this.activation;
    if (a.kind === 'elu') return rt.eluGrad(y, dy, dx, n);
    if (dx !== dy) rt.copy(dx, dy, n);
    switch (a.kind) {
      case 'linear':
        return;
      case 'relu':
        return rt.simd.reluBackward(dx.ptr, y.ptr, n);
      case 'leakyRelu':
        return rt.simd.leakyReluBackward(dx.ptr, y.ptr, n, f32(a.alpha));
      case 'sigmoid':
        return rt.simd.sigmoidBackward(dx.ptr, y.ptr, n);
      case 'tanh':
        return rt.simd.tanhBackward(dx.ptr, y.ptr, n);
    }
  }
}

/** The op for an activation, none for linear. */
export function activationOps(a: ActivationKind, label: string, shape: number[]): LeanOp[] {
  return a.kind === 'linear' ? [] : [new ActivationOp(label, shape, a)];
}

interface ActivationLayerInternals {
  activation?: unknown;
  alpha?: number;
  maxValue?: number | null;
}

export const activationLayers: LayerModule = {
  classNames: ['Activation', 'ReLU', 'LeakyReLU', 'ELU'],
  build(layer: tf.layers.Layer, inShape: number[], ctx: BuildContext): BuildResult {
    const label = ctx.label(layer);
    const l = layer as unknown as ActivationLayerInternals;
    let act: ActivationKind | string;
    switch (layer.getClassName()) {
      case 'Activation':
        act = activationOf(l.activation);
        break;
      case 'ReLU':
        act = l.maxValue === null || l.maxValue === undefined ? { kind: 'relu' } : `ReLU with maxValue ${l.maxValue}`;
        break;
      case 'LeakyReLU':
        act = typeof l.alpha === 'number' && l.alpha >= 0 ? { kind: 'leakyRelu', alpha: l.alpha } : `LeakyReLU(${l.alpha})`;
        break;
      default: // ELU: tfjs supports alpha 1 only
        act = l.alpha === undefined || l.alpha === 1 ? { kind: 'elu' } : `ELU(${l.alpha})`;
    }
    if (typeof act === 'string') return { refused: `${label} uses the ${act} activation` };
    return activationOps(act, label, inShape);
  },
};
