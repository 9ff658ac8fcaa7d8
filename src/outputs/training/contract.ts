// Training history and live progress: application/vnd.aenb.training+json.
// The payload, its check, its text fallback (a Keras-like log) and its
// output items. Pure: no Node, no DOM.
import { decodeFloat32, encodeFloat32 } from '../../common/base64';
import { formatCount, formatDuration, formatMetric } from '../../common/formatting';
import { isCount, isObject, isOptNumber, jsonWithText } from '../payload';
import type { OutputItemBytes } from '../kind';

/** Training history and live progress (a finished History is state "done"). */
export const TRAINING_MIME = 'application/vnd.aenb.training+json';

export type TrainingState = 'running' | 'done' | 'stopped' | 'error';

/**
 * Per-batch values, compactly encoded: base64 of a little-endian Float32Array
 * (see `encodeFloat32`). 190,000 points are ~1 MB of base64 instead of ~4 MB
 * of JSON numbers.
 */
export interface BatchSeries {
  /** Number of points (length of `y`, and of `x` when present). */
  count: number;
  /** Metric value after each batch (Float32, base64). NaN allowed. */
  y: string;
  /**
   * x of each point in fractional epochs (Float32, base64). When absent,
   * point i (0-based) is at `(i + 1) / batchesPerEpoch`: the end of epoch 1 is x = 1.
   */
  x?: string;
}

export interface TrainingPayload {
  version: 1;
  /** Identifies the fit() call; the Stop button sends it back in `interrupt`. */
  runId: string;
  /** Optional heading, e.g. the model name. */
  title?: string;
  state: TrainingState;
  /** Error message when state is "error"; a note when "stopped". */
  message?: string;
  /** Epochs requested (Keras `epochs`). */
  epochs: number;
  /** Epochs completed so far (0..epochs). The epoch in progress is `epoch + 1`. */
  epoch: number;
  /** Batches completed in the epoch in progress (0..batchesPerEpoch). */
  batch: number;
  /** Batches per epoch (Keras "steps"). */
  batchesPerEpoch: number;
  /** Samples per epoch (optional, for display). */
  samples?: number;
  batchSize?: number;
  /** Training throughput over the recent past. */
  samplesPerSecond?: number;
  /** Estimated seconds until the run finishes (while running). */
  etaSeconds?: number;
  /** Seconds since the run started. */
  elapsedSeconds?: number;
  /**
   * Per-epoch series, like Keras `History.history`: `loss`, optional
   * `val_loss`, and any other metric by name. Index i is epoch i + 1
   * (x = i + 1 on the chart). `null` stands for NaN/Infinity (JSON has neither).
   */
  history: Record<string, (number | null)[]>;
  /** Optional per-batch loss (name of the metric in `batchMetric`, default "loss"). */
  batches?: BatchSeries;
  batchMetric?: string;
  /** Checkpoints written and resumes, in order (shown under the chart). */
  events?: TrainingEventInfo[];
  /**
   * Set on a run that was still going when the notebook was saved, and is
   * stored as interrupted (state "stopped"): the saved file has no live run
   * behind it. `epoch` is the epoch that was in progress (1-based).
   */
  interrupted?: { reason: 'saved-during-training'; epoch: number };
}

export interface TrainingEventInfo {
  kind: 'checkpoint' | 'resumed' | 'note';
  /** Epochs completed when it happened. */
  epoch: number;
  message: string;
}

/** Returns a problem description, or undefined when `v` is a valid TrainingPayload. */
export function checkTrainingPayload(v: unknown): string | undefined {
  if (!isObject(v)) return 'payload is not an object';
  if (typeof v.runId !== 'string') return 'runId must be a string';
  if (!['running', 'done', 'stopped', 'error'].includes(v.state as string)) return 'state must be running, done, stopped or error';
  for (const k of ['epochs', 'epoch', 'batch', 'batchesPerEpoch'] as const) if (!isCount(v[k])) return `${k} must be a non-negative integer`;
  for (const k of ['samplesPerSecond', 'etaSeconds', 'elapsedSeconds', 'samples', 'batchSize'] as const) if (!isOptNumber(v[k])) return `${k} must be a number`;
  if (!isObject(v.history)) return 'history must be an object of arrays';
  if (v.events !== undefined && (!Array.isArray(v.events) || !v.events.every((e) => isObject(e) && typeof e.message === 'string' && isCount(e.epoch)))) {
    return 'events must be an array of { kind, epoch, message }';
  }
  for (const [k, s] of Object.entries(v.history)) {
    if (!Array.isArray(s) || !s.every((x) => x === null || typeof x === 'number')) return `history.${k} must be an array of numbers`;
  }
  if (v.batches !== undefined) {
    const b = v.batches;
    if (!isObject(b) || !isCount(b.count) || typeof b.y !== 'string' || (b.x !== undefined && typeof b.x !== 'string')) return 'batches must be { count, y, x? } with base64 strings';
  }
  return undefined;
}

/** Names of the per-epoch series in display order: loss, val_loss, then the others (metric before val_metric). */
export function seriesNames(history: Record<string, unknown>): string[] {
  const names = Object.keys(history);
  const base = (n: string) => (n.startsWith('val_') ? n.slice(4) : n);
  const rank = (n: string) => (base(n) === 'loss' ? 0 : 1);
  return names.sort((a, b) => rank(a) - rank(b) || base(a).localeCompare(base(b)) || (a.startsWith('val_') ? 1 : 0) - (b.startsWith('val_') ? 1 : 0));
}

/** Number of epochs with at least one value in the history. */
export function historyLength(history: Record<string, (number | null)[]>): number {
  return Object.values(history).reduce((m, s) => Math.max(m, s.length), 0);
}

// ---------------------------------------------------------------------------
// Building payloads

export interface TrainingInit {
  runId: string;
  epochs: number;
  batchesPerEpoch: number;
  title?: string;
  samples?: number;
  batchSize?: number;
}

/** A fresh "running" payload before the first batch. */
export function newTrainingPayload(init: TrainingInit): TrainingPayload {
  return { version: 1, state: 'running', epoch: 0, batch: 0, history: {}, ...init };
}

/** Converts a number to its JSON-safe form (NaN/Infinity become null). */
export function jsonNumber(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

/** Keras-like History (`{ loss: [...], val_loss: [...] }`) to the payload's `history` (NaN -> null). */
export function historyFromKeras(history: Record<string, ArrayLike<number>>): Record<string, (number | null)[]> {
  const out: Record<string, (number | null)[]> = {};
  for (const [k, s] of Object.entries(history)) out[k] = Array.from(s, (v) => jsonNumber(Number(v)));
  return out;
}

/** Builds `batches` from per-batch values (x defaults to (i + 1) / batchesPerEpoch). */
export function batchSeries(y: ArrayLike<number>, x?: ArrayLike<number>): BatchSeries {
  if (x && x.length !== y.length) throw new Error('batch x and y differ in length');
  return x ? { count: y.length, y: encodeFloat32(y), x: encodeFloat32(x) } : { count: y.length, y: encodeFloat32(y) };
}

/**
 * The `batches` of a live training, encoded by appending: each call encodes
 * only the values added since the last one (base64 of whole groups of three
 * Float32 values, 12 bytes = 16 characters, concatenates exactly), so a series
 * of n points costs O(n) to encode over the whole run, not O(n) per update.
 */
export class BatchSeriesEncoder {
  private encoded = '';
  private done = 0;

  series(y: ArrayLike<number>): BatchSeries {
    if (y.length < this.done) {
      this.encoded = '';
      this.done = 0;
    }
    const whole = y.length - (y.length % 3);
    if (whole > this.done) {
      this.encoded += encodeFloat32(Array.prototype.slice.call(y, this.done, whole) as number[]);
      this.done = whole;
    }
    const tail = whole < y.length ? encodeFloat32(Array.prototype.slice.call(y, whole) as number[]) : '';
    return { count: y.length, y: this.encoded + tail };
  }
}

/** Decodes `batches` to x/y arrays (x in fractional epochs). */
export function decodeBatchSeries(p: Pick<TrainingPayload, 'batches' | 'batchesPerEpoch'>): { x: Float64Array; y: Float32Array } {
  const b = p.batches;
  if (!b || b.count === 0) return { x: new Float64Array(0), y: new Float32Array(0) };
  const y = decodeFloat32(b.y);
  if (y.length < b.count) throw new Error(`batches.y has ${y.length} values, expected ${b.count}`);
  const x = new Float64Array(b.count);
  if (b.x) {
    const xs = decodeFloat32(b.x);
    if (xs.length < b.count) throw new Error(`batches.x has ${xs.length} values, expected ${b.count}`);
    for (let i = 0; i < b.count; i++) x[i] = xs[i];
  } else {
    const per = Math.max(1, p.batchesPerEpoch);
    for (let i = 0; i < b.count; i++) x[i] = (i + 1) / per;
  }
  return { x, y: y.length === b.count ? y : y.subarray(0, b.count) };
}

// ---------------------------------------------------------------------------
// Fallback and items

function progressBar(done: number, total: number, width = 30): string {
  const f = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const full = Math.floor(f * width);
  return '[' + '='.repeat(full) + (full < width ? '>' + '.'.repeat(width - full - 1) : '') + ']';
}

/** "Interrupted at epoch 3 of 20 (the notebook was saved during training)". */
export function interruptedText(p: TrainingPayload): string {
  const at = p.interrupted?.epoch ?? Math.min(p.epoch + 1, Math.max(1, p.epochs));
  return `Interrupted at epoch ${at} of ${p.epochs} (the notebook was saved during training)`;
}

/** Keras-like log: one line per finished epoch, plus the progress line while running. */
export function historyText(p: TrainingPayload): string {
  const lines: string[] = [];
  if (p.title) lines.push(p.title);
  for (const e of p.events ?? []) if (e.kind === 'resumed') lines.push(e.message);
  const names = seriesNames(p.history);
  const n = historyLength(p.history);
  const w = String(p.epochs || n).length;
  for (let e = 0; e < n; e++) {
    const metrics = names.map((k) => (p.history[k][e] !== undefined ? `${k}: ${formatMetric(p.history[k][e])}` : '')).filter(Boolean);
    lines.push(`Epoch ${String(e + 1).padStart(w)}/${p.epochs} - ${metrics.join(' - ')}`);
  }
  const saved = [...(p.events ?? [])].reverse().find((e) => e.kind === 'checkpoint');
  if (saved) lines.push(saved.message);
  if (p.state === 'running') {
    const cur = Math.min(p.epoch + 1, Math.max(1, p.epochs));
    const parts = [`Epoch ${cur}/${p.epochs} ${progressBar(p.batch, p.batchesPerEpoch)} ${p.batch}/${p.batchesPerEpoch}`];
    if (p.samplesPerSecond !== undefined) parts.push(`${formatCount(p.samplesPerSecond)} samples/s`);
    parts.push(`ETA ${formatDuration(p.etaSeconds)}`);
    lines.push(parts.join(' - '));
  } else if (p.state === 'stopped' && p.interrupted) {
    lines.push(interruptedText(p));
  } else if (p.state === 'stopped') {
    lines.push(`Stopped after ${p.epoch} of ${p.epochs} epochs${p.message ? ': ' + p.message : ''}`);
  } else if (p.state === 'error') {
    lines.push(`Error${p.message ? ': ' + p.message : ''}`);
  } else {
    lines.push(`Done: ${p.epoch} ${p.epoch === 1 ? 'epoch' : 'epochs'}${p.elapsedSeconds !== undefined ? ' in ' + formatDuration(p.elapsedSeconds) : ''}`);
  }
  return lines.join('\n');
}

export function trainingOutputItems(p: TrainingPayload): OutputItemBytes[] {
  return jsonWithText(TRAINING_MIME, p, historyText(p));
}
