/** `TransposedDense` (layers.ts): y = act(x·Wᵀ + b), W borrowed from another dense layer (tied weights). */
import type * as tf from '@tensorflow/tfjs';
import { kernelOf } from '../../layers';
import type { BuildContext, BuildResult, LayerModule } from '../types';
import { activationOf, activationOps } from './activation';
import { matMulOps } from './dense';

interface TransposedDenseInternals {
  source: tf.layers.Layer;
  bias: { read(): tf.Tensor } | null;
  activationFn: unknown;
}

export const transposedDense: LayerModule = {
  classNames: ['TransposedDense'],
  build(layer: tf.layers.Layer, inShape: number[], ctx: BuildContext): BuildResult {
    const label = ctx.label(layer);
    const t = layer as unknown as TransposedDenseInternals;
    const act = activationOf(t.activationFn);
    if (typeof act === 'string') return { refused: `${label} uses the ${act} activation` };
    let kernel: tf.Variable;
    try {
      kernel = kernelOf(t.source).read() as tf.Variable;
    } catch (e) {
      return { refused: `${label}: ${e instanceof Error ? e.message : String(e)}` };
    }
    const op = matMulOps(ctx, label, inShape, kernel, t.bias ? (t.bias.read() as tf.Variable) : null, true);
    if (typeof op === 'string') return { refused: op };
    return [op, ...activationOps(act, label, op.outShape)];
  },
};
