/**
 * The model folder our models save to: `model.json` (class, config, weights
 * manifest in the TensorFlow.js format) and `weights.bin`, each written
 * atomically. Weights are written once each, so a tied kernel is stored once.
 * Loading (which needs the model classes) is in ./model-io.ts; this file
 * needs none, so that ./models.ts can save without an import cycle.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { writeFileAtomic } from './atomic-file';

export const MODEL_FORMAT = 'autoencoder-notebooks/model';
export const MODEL_FORMAT_VERSION = 1;

export interface ModelFile {
  format: string;
  version: number;
  className: string;
  config: Record<string, unknown>;
  tfjsVersion: string;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

/** What saving needs of a model (our AutoencoderModel has it). */
export interface SavableModel {
  readonly className: string;
  getConfig(): Record<string, unknown>;
  /** Each weight once, a tied kernel included once. */
  uniqueWeights(): tf.LayerVariable[];
}

export async function saveModel(model: SavableModel, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const weights = model.uniqueWeights();
  const named = weights.map((w, i) => ({ name: `${i}/${w.originalName}`, tensor: w.read() }));
  const { data, specs } = await tf.io.encodeWeights(named);
  const file: ModelFile = {
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    className: model.className,
    config: model.getConfig(),
    tfjsVersion: tf.version.tfjs,
    weightsManifest: [{ paths: ['weights.bin'], weights: specs }],
  };
  await writeFileAtomic(path.join(dir, 'weights.bin'), [new Uint8Array(data as ArrayBuffer)]);
  await writeFileAtomic(path.join(dir, 'model.json'), JSON.stringify(file, null, 2) + '\n');
}

