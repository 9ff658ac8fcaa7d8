// Model summaries: application/vnd.aenb.summary+json. The table Keras
// prints, with tied weights counted once: the payload, its check, the totals,
// the text fallback and the output items. Pure: no Node, no DOM.
import { formatCount } from '../../common/formatting';
import { isCount, isObject, jsonWithText } from '../payload';
import type { OutputItemBytes } from '../kind';

/** Keras-style model summary. */
export const SUMMARY_MIME = 'application/vnd.aenb.summary+json';

/** A shape with the batch dimension first as null, e.g. [null, 28, 28]. */
export type Shape = (number | null)[];

export interface SharedWeight {
  /** Weight name in this layer, e.g. "kernel". */
  weight: string;
  /** Name of the layer that owns the weight (it is counted there). */
  owner: string;
  /** Parameters in this weight (included in this layer's `params`, counted once in totals). */
  params: number;
  /** Whether the weight is transposed when used (tied autoencoder decoders). */
  transposed?: boolean;
  trainable?: boolean;
}

export interface SummaryLayer {
  name: string;
  /** Class name, e.g. "Dense", "Sequential", "TransposedDense". */
  type: string;
  /** One shape, or several for multi-output layers. */
  outputShape: Shape | Shape[];
  /** Parameters this layer uses, including weights it borrows (see `shared`). */
  params: number;
  /** Of `params`, how many are non-trainable (e.g. BatchNorm moving stats). Default: 0 if trainable, all if not. */
  nonTrainableParams?: number;
  trainable: boolean;
  /** Weights used by this layer but owned by another one (tied weights). */
  shared?: SharedWeight[];
  /** Nesting depth for layers of nested models (0 = top level). Rows of a nested model follow their container. */
  depth?: number;
}

export interface SummaryTotals {
  total: number;
  trainable: number;
  nonTrainable: number;
  /** Parameters that appear in several layers but were counted once. */
  shared: number;
}

export interface SummaryPayload {
  version: 1;
  modelName: string;
  /** Class name of the model, e.g. "Sequential" or "Autoencoder". */
  modelType?: string;
  inputShape?: Shape;
  layers: SummaryLayer[];
  totals: SummaryTotals;
}

export function checkSummaryPayload(v: unknown): string | undefined {
  if (!isObject(v)) return 'payload is not an object';
  if (typeof v.modelName !== 'string') return 'modelName must be a string';
  if (!Array.isArray(v.layers)) return 'layers must be an array';
  for (const [i, l] of v.layers.entries()) {
    if (!isObject(l) || typeof l.name !== 'string' || typeof l.type !== 'string' || !isCount(l.params) || !Array.isArray(l.outputShape)) {
      return `layers[${i}] must be { name, type, outputShape, params, trainable }`;
    }
  }
  if (!isObject(v.totals) || !isCount(v.totals.total) || !isCount(v.totals.trainable) || !isCount(v.totals.nonTrainable)) return 'totals must be { total, trainable, nonTrainable, shared }';
  return undefined;
}

/** Keras byte sizes: "12.34 KB". Parameters are float32 (4 bytes). */
export function formatParamBytes(params: number): string {
  const bytes = params * 4;
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(2)} KB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 / 1024).toFixed(2)} MB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GB`;
}

/** "(None, 28, 28)" like Keras. */
export function formatShape(shape: Shape | Shape[]): string {
  const one = (s: Shape) => `(${s.map((d) => (d === null ? 'None' : String(d))).join(', ')}${s.length === 1 ? ',' : ''})`;
  if (shape.length > 0 && Array.isArray(shape[0])) return (shape as Shape[]).map(one).join(', ');
  return one(shape as Shape);
}

/** Totals of a summary: leaf layers' params, borrowed (shared) weights counted once at their owner. */
export function summaryTotals(layers: SummaryLayer[]): SummaryTotals {
  let total = 0;
  let nonTrainable = 0;
  let shared = 0;
  layers.forEach((l, i) => {
    const depth = l.depth ?? 0;
    const next = layers[i + 1];
    if (next && (next.depth ?? 0) > depth) return; // a container: its children are counted
    const borrowed = (l.shared ?? []).reduce((s, w) => s + w.params, 0);
    const borrowedNonTrainable = (l.shared ?? []).reduce((s, w) => s + (w.trainable === false ? w.params : 0), 0);
    const own = Math.max(0, l.params - borrowed);
    const ownNonTrainable = Math.max(0, (l.nonTrainableParams ?? (l.trainable ? 0 : l.params)) - borrowedNonTrainable);
    total += own;
    nonTrainable += Math.min(own, ownNonTrainable);
    shared += borrowed;
  });
  return { total, trainable: total - nonTrainable, nonTrainable, shared };
}

export function summaryPayload(modelName: string, layers: SummaryLayer[], opts: { modelType?: string; inputShape?: Shape } = {}): SummaryPayload {
  return { version: 1, modelName, ...opts, layers, totals: summaryTotals(layers) };
}

/** Keras (2.x) style summary table. */
export function summaryText(p: SummaryPayload): string {
  const rows = p.layers.map((l) => {
    const indent = '  '.repeat(l.depth ?? 0);
    const tied = (l.shared ?? []).map((s) => `tied: ${s.weight} of ${s.owner}${s.transposed ? ' (transposed)' : ''}`).join('; ');
    return [`${indent}${l.name} (${l.type})`, formatShape(l.outputShape), formatCount(l.params) + (tied ? '*' : ''), tied];
  });
  const head = ['Layer (type)', 'Output Shape', 'Param #', 'Shared weights'];
  const hasShared = rows.some((r) => r[3]);
  const cols = hasShared ? 4 : 3;
  const widths = head.slice(0, cols).map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)) + 2);
  const line = (cells: string[]) =>
    cells
      .slice(0, cols)
      .map((s, c) => (c === 2 ? s.padStart(widths[c] - 2).padEnd(widths[c]) : s.padEnd(widths[c])))
      .join(' ')
      .trimEnd();
  const width = widths.reduce((a, b) => a + b, 0) + cols - 1;
  const out = [`Model: "${p.modelName}"${p.modelType ? ` (${p.modelType})` : ''}`, '_'.repeat(width), line(head), '='.repeat(width)];
  rows.forEach((r, i) => {
    out.push(line(r));
    out.push(i === rows.length - 1 ? '='.repeat(width) : '');
  });
  if (rows.length === 0) out.push('='.repeat(width));
  const t = p.totals;
  out.push(`Total params: ${formatCount(t.total)} (${formatParamBytes(t.total)})`);
  out.push(`Trainable params: ${formatCount(t.trainable)} (${formatParamBytes(t.trainable)})`);
  out.push(`Non-trainable params: ${formatCount(t.nonTrainable)} (${formatParamBytes(t.nonTrainable)})`);
  if (t.shared > 0) out.push(`* Shared (tied) weights: ${formatCount(t.shared)} params counted once, at their owner`);
  return out.filter((l, i, a) => !(l === '' && a[i + 1] === '')).join('\n');
}

export function summaryOutputItems(p: SummaryPayload): OutputItemBytes[] {
  return jsonWithText(SUMMARY_MIME, p, summaryText(p));
}
