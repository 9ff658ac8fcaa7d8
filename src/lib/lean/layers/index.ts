/**
 * The layer types of the fast path, one module each. To add one: write a
 * module implementing `LayerModule` (see ../types.ts) and list it here.
 */
import type { LayerModule } from '../types';
import { activationLayers } from './activation';
import { dense } from './dense';
import { dropout } from './dropout';
import { reshape } from './reshape';
import { transposedDense } from './transposed-dense';

export const LAYER_MODULES: readonly LayerModule[] = [dense, transposedDense, activationLayers, reshape, dropout];

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
