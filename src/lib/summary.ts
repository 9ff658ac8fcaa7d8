/**
 * Keras-style model summaries as data: one row per layer with its output
 * shape and parameter count, shared (tied) weights marked and counted once.
 */
import * as tf from '@tensorflow/tfjs';
import { TransposedDense } from './layers';

export interface SharedWeight {
  /** Which weight of this layer is shared, e.g. "kernel (transposed)". */
  weight: string;
  /** The layer that owns it. */
  from: string;
  params: number;
}

export interface LayerSummary {
  name: string;
  /** The layer's class, e.g. Dense, TransposedDense, Flatten. */
  className: string;
  /** The sub-model the layer belongs to (Encoder, Decoder), if any. */
  group?: string;
  /** Output shape with the batch axis as null. */
  outputShape: (number | null)[];
  /** Parameters this layer owns (shared weights count with their owner). */
  params: number;
  trainable: boolean;
  shared: SharedWeight[];
}

export interface ModelSummary {
  name: string;
  layers: LayerSummary[];
  /** Every parameter of the model, each shared weight once. */
  totalParams: number;
  trainableParams: number;
  nonTrainableParams: number;
  /** Parameters used in more than one place (counted once in the totals). */
  sharedParams: number;
  toString(): string;
}

function ownParams(layer: tf.layers.Layer): { total: number; trainable: number } {
  let total = 0;
  let trainable = 0;
  for (const w of layer.weights) {
    const n = w.shape.reduce((a: number, b) => a * (b ?? 1), 1);
    total += n;
    if (w.trainable && layer.trainable) trainable += n;
  }
  return { total, trainable };
}

function outputShapeOf(layer: tf.layers.Layer): (number | null)[] {
  const s = layer.outputShape as (number | null)[] | (number | null)[][];
  return (Array.isArray(s[0]) ? s[0] : s) as (number | null)[];
}

/** Builds the summary of a model made of sub-models (or of plain layers). */
export function describeModel(name: string, parts: (tf.LayersModel | tf.layers.Layer)[], whole?: tf.LayersModel): ModelSummary {
  const layers: LayerSummary[] = [];
  const visit = (layer: tf.layers.Layer, group?: string) => {
    if (layer instanceof tf.LayersModel) {
      for (const l of layer.layers) visit(l, layer.name);
      return;
    }
    if (layer.getClassName() === 'InputLayer') return;
    const { total } = ownParams(layer);
    layers.push({
      name: layer.name,
      className: layer.getClassName(),
      group,
      outputShape: outputShapeOf(layer),
      params: total,
      trainable: layer.trainable,
      shared: layer instanceof TransposedDense ? layer.sharedWeights() : [],
    });
  };
  for (const p of parts) visit(p);
  // Totals over unique variables, so a tied kernel counts once.
  const seen = new Set<number>();
  let totalParams = 0;
  let trainableParams = 0;
  const allWeights = whole ? whole.weights : parts.flatMap((p) => p.weights);
  for (const w of allWeights) {
    const id = w.read().id;
    if (seen.has(id)) continue;
    seen.add(id);
    const n = w.shape.reduce((a: number, b) => a * (b ?? 1), 1);
    totalParams += n;
    if (w.trainable) trainableParams += n;
  }
  const sharedParams = layers.reduce((acc, l) => acc + l.shared.reduce((a, s) => a + s.params, 0), 0);
  const summary: ModelSummary = {
    name,
    layers,
    totalParams,
    trainableParams,
    nonTrainableParams: totalParams - trainableParams,
    sharedParams,
    toString: () => summaryTable(summary),
  };
  return summary;
}

const fmt = (n: number) => n.toLocaleString('en-US');

/** The summary as the table Keras prints. */
export function summaryTable(s: ModelSummary): string {
  const rows = s.layers.map((l) => [
    `${l.group ? l.group + '/' : ''}${l.name} (${l.className})`,
    `(${l.outputShape.map((d) => (d === null ? 'None' : String(d))).join(', ')}${l.outputShape.length === 1 ? ',' : ''})`,
    fmt(l.params) + (l.shared.length ? ` + shared ${l.shared.map((x) => `${x.weight} of ${x.from}`).join(', ')}` : ''),
  ]);
  const head = ['Layer (type)', 'Output Shape', 'Param #'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('   ').trimEnd();
  const rule = (ch: string) => ch.repeat(widths.reduce((a, b) => a + b, 0) + 3 * (widths.length - 1));
  return [
    `Model: "${s.name}"`,
    rule('━'),
    line(head),
    rule('━'),
    ...rows.map(line),
    rule('━'),
    `Total params: ${fmt(s.totalParams)}`,
    `Trainable params: ${fmt(s.trainableParams)}`,
    `Non-trainable params: ${fmt(s.nonTrainableParams)}`,
    ...(s.sharedParams ? [`Shared (tied) params, counted once: ${fmt(s.sharedParams)}`] : []),
  ].join('\n');
}
