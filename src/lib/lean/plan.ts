/**
 * What the fast path can train: a model that is a chain of layers (one
 * input, one output, each layer fed by the one before; nested sequential or
 * functional models are opened up), a loss it computes itself, and an
 * optimizer it applies itself. Everything here answers with a reason when
 * the answer is no, so that the training output can say what kept a model on
 * the generic path.
 */
import * as tf from '@tensorflow/tfjs';
import { binaryCrossentropy, meanSquaredError } from '../losses';

export type LeanLoss = 'binaryCrossentropy' | 'meanSquaredError';

interface SymbolicTensorInternals {
  sourceLayer: tf.layers.Layer;
  nodeIndex: number;
  tensorIndex: number;
  shape: (number | null)[];
}

interface NodeInternals {
  inputTensors: SymbolicTensorInternals[];
  outputTensors: SymbolicTensorInternals[];
}

interface LayerInternals {
  inboundNodes: NodeInternals[];
}

export interface Chain {
  /** The layers from input to output, nested models opened up, input layers left out. */
  layers: tf.layers.Layer[];
  /** Shape of one input sample (no batch axis). */
  inShape: number[];
  /** Shape of one output sample. */
  outShape: number[];
}

const describeLayer = (l: tf.layers.Layer) => `'${l.name}' (${l.getClassName()})`;

function isModel(layer: tf.layers.Layer): layer is tf.LayersModel {
  return layer instanceof tf.LayersModel;
}

function sampleShape(t: { shape: (number | null)[] }, what: string): number[] | string {
  const s = t.shape.slice(1);
  if (!s.every((d) => typeof d === 'number' && d > 0)) return `${what} has an open shape [${t.shape.map((d) => d ?? 'null').join(', ')}]`;
  return s as number[];
}

/** The model's layers as a chain, or why it is not one. */
export function chainOf(model: tf.LayersModel): Chain | { refused: string } {
  const layers: tf.layers.Layer[] = [];
  const walk = (m: tf.LayersModel, depth: number): string | null => {
    if (depth > 16) return `the model nests more than 16 models deep`;
    if (m.inputs.length !== 1 || m.outputs.length !== 1) return `the model ${m.name} has ${m.inputs.length} inputs and ${m.outputs.length} outputs (the fast path trains chains of layers)`;
    const input = m.inputs[0] as unknown as SymbolicTensorInternals;
    const found: tf.layers.Layer[] = [];
    let t = m.outputs[0] as unknown as SymbolicTensorInternals;
    for (let guard = 0; t !== input; guard++) {
      const layer = t.sourceLayer;
      if (!layer || guard > 10_000) return `the model ${m.name} is not a chain of layers`;
      if (layer.getClassName() === 'InputLayer') return `the model ${m.name} has an input that is not its own`;
      const node = (layer as unknown as LayerInternals).inboundNodes[t.nodeIndex];
      if (!node) return `layer ${describeLayer(layer)} is not connected`;
      if (node.inputTensors.length !== 1 || node.outputTensors.length !== 1) {
        return `layer ${describeLayer(layer)} takes ${node.inputTensors.length} inputs (the fast path trains chains of layers)`;
      }
      found.push(layer);
      t = node.inputTensors[0];
    }
    found.reverse();
    for (const layer of found) {
      if (isModel(layer)) {
        const inner = walk(layer, depth + 1);
        if (inner) return inner;
      } else {
        layers.push(layer);
      }
    }
    return null;
  };
  const problem = walk(model, 0);
  if (problem) return { refused: problem };
  const inShape = sampleShape(model.inputs[0], 'the input');
  if (typeof inShape === 'string') return { refused: inShape };
  const outShape = sampleShape(model.outputs[0], 'the output');
  if (typeof outShape === 'string') return { refused: outShape };
  return { layers, inShape, outShape };
}

let layersLosses: Map<unknown, LeanLoss> | undefined;

/** The loss functions tfjs-layers uses for these names (what `model.compile({ loss: 'binaryCrossentropy' })` installs). */
function tfjsLayersLosses(): Map<unknown, LeanLoss> {
  if (!layersLosses) {
    layersLosses = new Map();
    for (const name of ['binaryCrossentropy', 'meanSquaredError'] as const) {
      const input = tf.input({ shape: [1] });
      const probe = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 1 }).apply(input) as tf.SymbolicTensor });
      try {
        probe.compile({ loss: name, optimizer: 'sgd' });
        const fn = (probe as unknown as { lossFunctions: unknown[] }).lossFunctions[0];
        if (fn) layersLosses.set(fn, name);
      } finally {
        probe.dispose();
      }
    }
  }
  return layersLosses;
}

/**
 * The fast path's kind of a loss function (ours, tfjs-layers' by name, or
 * tf.metrics' / tf.losses' function), or null. All of them average over
 * every element of the batch.
 */
export function leanLossOf(loss: unknown): LeanLoss | null {
  if (loss === binaryCrossentropy || loss === tf.metrics.binaryCrossentropy) return 'binaryCrossentropy';
  if (loss === meanSquaredError || loss === tf.metrics.meanSquaredError || loss === tf.losses.meanSquaredError) return 'meanSquaredError';
  return tfjsLayersLosses().get(loss) ?? null;
}

/** A loss's name for messages. */
export function lossName(loss: unknown): string {
  if (typeof loss === 'string') return loss;
  if (typeof loss === 'function') return loss.name ? `${loss.name}` : 'a custom function';
  return String(loss);
}
