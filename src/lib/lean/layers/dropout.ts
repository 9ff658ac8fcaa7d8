/**
 * Dropout: in training, y = x·m with m = floor(u + keep) / keep for uniform
 * u in [0, 1) (keep = 1 − rate), which is tfjs's `tf.dropout`; dx = dy·m.
 * The uniform numbers come from tfjs's own generator (`tf.randomUniform`,
 * with the layer's seed when it has one), drawn for the same shape in the
 * same order as the generic path draws them, so a seeded dropout layer drops
 * the same units on both paths.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Buf } from '../heap';
import type { BuildContext, BuildResult, LayerModule, LeanOp, OpBuffers, StepRuntime } from '../types';
import { product } from './util';

const f32 = Math.fround;

export class DropoutOp implements LeanOp {
  readonly output = 'inPlace' as const;
  readonly backwardReadsOutput = false;
  readonly outShape: number[];
  private readonly size: number;

  constructor(
    readonly label: string,
    readonly inShape: number[],
    private readonly rate: number,
    private readonly seed: number | undefined,
    /** The multipliers of this step, [batch, ...inShape]. */
    private readonly mask: Buf,
  ) {
    this.outShape = inShape;
    this.size = product(inShape);
  }

  beginStep(rt: StepRuntime, rows: number): void {
    const n = rows * this.size;
    const k = f32(1 - this.rate);
    rt.randomUniform([rows, ...this.inShape], this.seed, this.mask);
    const h = rt.f32;
    const m = this.mask.off;
    for (let i = 0; i < n; i++) h[m + i] = f32(Math.floor(f32(h[m + i] + k)) / k);
  }

  forward(rt: StepRuntime, io: OpBuffers, rows: number): void {
    rt.simd.mul(io.y.ptr, io.x.ptr, this.mask.ptr, rows * this.size);
  }

  backward(rt: StepRuntime, io: OpBuffers, rows: number): void {
    if (io.dx) rt.simd.mul(io.dx.ptr, io.dy.ptr, this.mask.ptr, rows * this.size);
  }
}

interface DropoutInternals {
  rate: number;
  seed?: number;
  noiseShape?: unknown;
}

export const dropout: LayerModule = {
  classNames: ['Dropout'],
  build(layer: tf.layers.Layer, inShape: number[], ctx: BuildContext): BuildResult {
    const label = ctx.label(layer);
    const d = layer as unknown as DropoutInternals;
    if (d.noiseShape !== null && d.noiseShape !== undefined) return { refused: `${label} has a noise shape` };
    // tfjs drops nothing unless 0 < rate < 1 (it clips the rate to [0, 1]).
    if (!(d.rate > 0 && d.rate < 1)) return [];
    return [new DropoutOp(label, inShape, d.rate, d.seed ?? undefined, ctx.heap.alloc(ctx.batchSize * product(inShape)))];
  },
};
