/**
 * Loading our models from the folder `model.save(dir)` writes (see
 * ./model-file.ts): a tied kernel stored once stays tied on load.
 */
import * as tf from '@tensorflow/tfjs';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION, type ModelFile } from './model-file';
import { Autoencoder, AutoencoderModel, StackedAutoencoder } from './models';

export { MODEL_FORMAT, MODEL_FORMAT_VERSION, saveModel } from './model-file';

const CLASSES: Record<string, new (config: any) => AutoencoderModel> = {
  Autoencoder,
  StackedAutoencoder,
};

/** Reads a model written by `model.save(dir)`. */
export async function loadModel(dir: string): Promise<AutoencoderModel> {
  const jsonPath = path.join(dir, 'model.json');
  let text: string;
  try {
    text = await readFile(jsonPath, 'utf8');
  } catch (e) {
    throw new Error(`Cannot load a model from ${dir}: ${jsonPath} cannot be read (${(e as Error).message}). Save one with model.save(dir).`);
  }
  let file: ModelFile;
  try {
    file = JSON.parse(text) as ModelFile;
  } catch (e) {
    throw new Error(`${jsonPath} is not valid JSON (${(e as Error).message}).`);
  }
  if (file.format !== MODEL_FORMAT) throw new Error(`${jsonPath} is not an Autoencoder Notebooks model (format ${JSON.stringify(file.format)}).`);
  if (file.version > MODEL_FORMAT_VERSION) {
    throw new Error(`${jsonPath} was written by a newer version (model format ${file.version}; this one reads ${MODEL_FORMAT_VERSION}). Update the extension.`);
  }
  const Cls = CLASSES[file.className];
  if (!Cls) throw new Error(`${jsonPath}: unknown model class ${JSON.stringify(file.className)} (known: ${Object.keys(CLASSES).join(', ')}).`);
  const model = new Cls(file.config);
  const manifest = file.weightsManifest?.[0];
  if (!manifest) throw new Error(`${jsonPath} has no weightsManifest.`);
  const binPath = path.join(dir, manifest.paths[0]);
  const bin = await readFile(binPath);
  const expected = manifest.weights.reduce((acc, s) => acc + s.shape.reduce((a, b) => a * b, 1) * 4, 0);
  if (bin.byteLength !== expected) {
    throw new Error(`${binPath} has ${bin.byteLength} bytes; model.json describes ${expected}. The folder is incomplete or from another model.`);
  }
  const buffer = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength);
  const decoded = tf.io.decodeWeights(buffer, manifest.weights);
  const targets = model.uniqueWeights();
  try {
    if (targets.length !== manifest.weights.length) {
      throw new Error(`${jsonPath} holds ${manifest.weights.length} weights, but a ${file.className} with this config has ${targets.length}.`);
    }
    manifest.weights.forEach((spec, i) => {
      const t = decoded[spec.name];
      const target = targets[i];
      if (!tf.util.arraysEqual(t.shape, target.shape as number[])) {
        throw new Error(`${jsonPath}: weight ${spec.name} has shape [${t.shape}], the model expects [${target.shape}].`);
      }
      target.write(t);
    });
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    for (const t of Object.values(decoded)) t.dispose();
  }
  return model;
}
