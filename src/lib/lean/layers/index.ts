/**
 * The layer types of the fast path, one module each. To add one: write a
 * module implementing `LayerModule` (see ../types.ts) and list it here.
 */
import type { LayerModule } from '../types';
import { activationLayers } from './activation';
import { averagePooling2d } from './average-pooling2d';
import { batchNormalization } from './batch-normalization';
import { conv2d } from './conv2d';
import { conv2dTranspose } from './conv2d-transpose';
import { dense } from './dense';
import { dropout } from './dropout';
import { maxPooling2d } from './max-pooling2d';
import { reshape } from './reshape';
import { transposedDense } from './transposed-dense';
import { upSampling2d } from './up-sampling2d';

export const LAYER_MODULES: readonly LayerModule[] = [
  dense, transposedDense, activationLayers, reshape, dropout,
  conv2d, conv2dTranspose, maxPooling2d, averagePooling2d, upSampling2d, batchNormalization,
];

const byClass = new Map<string, LayerModule>();
for (const m of LAYER_MODULES) for (const c of m.classNames) byClass.set(c, m);

/** The module for a layer class, if the fast path has one. */
export function layerModule(className: string): LayerModule | undefined {
  return byClass.get(className);
}

/** Every layer class the fast path handles. */
export function supportedLayerClasses(): string[] {
  return [...byClass.keys()];
}
