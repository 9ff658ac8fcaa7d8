/** Flatten and Reshape: the same values under another shape (row-major, as tfjs stores them), so no work at all. */
import type * as tf from '@tensorflow/tfjs';
import type { BuildContext, BuildResult, LayerModule, LeanOp } from '../types';
import { product } from './util';

export class AliasOp implements LeanOp {
  readonly output = 'alias' as const;
  readonly backwardReadsOutput = false;
  constructor(readonly label: string, readonly inShape: number[], readonly outShape: number[]) {}
  forward(): void {}
  backward(): void {}
}

export const reshape: LayerModule = {
  classNames: ['Flatten', 'Reshape'],
  build(layer: tf.layers.Layer, inShape: number[], ctx: BuildContext): BuildResult {
    const label = ctx.label(layer);
    const config = layer.getConfig() as { dataFormat?: string; targetShape?: number[] };
    const size = product(inShape);
    if (layer.getClassName() === 'Flatten') {
      if (config.dataFormat === 'channelsFirst' && inShape.length > 1) return { refused: `${label} flattens channels-first data` };
      return [new AliasOp(label, inShape, [size])];
    }
    const target = [...(config.targetShape ?? [])];
    const unknown = target.indexOf(-1);
    if (unknown >= 0) target[unknown] = size / product(target.filter((d) => d !== -1));
    if (!target.every((d) => Number.isInteger(d) && d > 0) || product(target) !== size) return { refused: `${label} has a target shape that does not fit its input` };
    return [new AliasOp(label, inShape, target)];
  },
};
