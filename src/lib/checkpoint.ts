/**
 * Training checkpoints: one file holds everything a run needs to go on where
 * it was — every weight, the optimizer's state (its slots and counters, bit
 * for bit), the epochs completed, the shuffle generator's state and the
 * history so far.
 *
 * File layout (little-endian):
 *   "AENBCKPT" | uint32 header length | header (JSON, UTF-8) | data
 * The header lists each tensor's name, shape, dtype and byte range in the
 * data, and the SHA-256 of the data, so a damaged file is refused with a
 * clear message rather than loaded.
 *
 * Writes are atomic: the bytes go to a temporary file in the same folder,
 * which is flushed to disk and then renamed over the final name (and the
 * folder is flushed too; ./atomic-file). A process killed at any moment
 * leaves either the previous checkpoint or the new one, never a mix; a
 * leftover temporary file is ignored by readers and removed by the next
 * writer.
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { removeStaleTempFiles, writeFileAtomic, type AtomicWriteOptions } from './atomic-file';
import { AutoencoderModel } from './models';
import type { Trainable } from './training';

type NamedTensor = { name: string; tensor: tf.Tensor };

export const CHECKPOINT_FORMAT = 'autoencoder-notebooks/checkpoint';
export const CHECKPOINT_VERSION = 1;
export const CHECKPOINT_EXTENSION = '.ckpt';
const MAGIC = 'AENBCKPT';

export interface TensorEntry {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32' | 'float64';
  /** Byte offset in the data section. */
  offset: number;
  bytes: number;
}

export interface OptimizerHeader {
  /** tfjs class name, e.g. "Adam". */
  className: string;
  /** Update steps taken (tfjs's `iterations`). */
  iterations: number;
  /** The optimizer's slot variables in `getWeights()` order (first and second moments...). */
  slots: TensorEntry[];
  /** Scalar variables the optimizer keeps beside its slots (Adam's accBeta1, accBeta2), by property name. */
  scalars: TensorEntry[];
  /** Set when the optimizer's state could not be saved (then a resume starts it afresh). */
  unsupported?: string;
}

export interface CheckpointHeader {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  createdAt: string;
  /** The model's name (for messages). */
  model: string;
  /** Epochs completed: a run resumed from here starts with this (0-based) epoch. */
  epoch: number;
  /** Epochs the run was asked for. */
  epochs: number;
  batchSize?: number;
  /** Samples per epoch. */
  samples?: number;
  /** Shuffle generator state after the last completed epoch's order was drawn. */
  rngState?: number;
  /** Per-epoch values (`loss`, `val_loss`...); null for NaN. */
  history: Record<string, (number | null)[]>;
  /** Loss of every batch so far, float64 in the data. */
  batchLosses?: TensorEntry;
  weights: TensorEntry[];
  optimizer?: OptimizerHeader;
  dataBytes: number;
  dataSha256: string;
}

/** A model as checkpoints see it: every weight once, in a stable order, and its optimizer. */
export interface CheckpointModel {
  name: string;
  variables(): tf.Variable[];
  optimizer(): tf.Optimizer | undefined;
}

export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
}

// ---------------------------------------------------------------------------
// Models

/** Our models, tfjs LayersModels, or anything our training loop trains. */
export function checkpointModel(model: unknown, optimizer?: tf.Optimizer): CheckpointModel {
  if (model instanceof AutoencoderModel) {
    return { name: model.name, variables: () => model.uniqueWeights().map((w) => w.read() as tf.Variable), optimizer: () => optimizer ?? model.getOptimizer() };
  }
  if (model instanceof tf.LayersModel) {
    return {
      name: model.name,
      variables: () => uniqueVariables(model.weights.map((w) => w.read() as tf.Variable)),
      optimizer: () => optimizer ?? (model.optimizer as tf.Optimizer | undefined),
    };
  }
  const t = model as Partial<Trainable> | null;
  if (t && typeof t.trainableVariables === 'function') {
    return { name: t.name ?? 'model', variables: () => t.trainableVariables!(), optimizer: () => optimizer };
  }
  throw new TypeError('checkpoints: the model must be an Autoencoder, a StackedAutoencoder or a tfjs LayersModel.');
}

function uniqueVariables(vars: tf.Variable[]): tf.Variable[] {
  const seen = new Set<number>();
  return vars.filter((v) => !seen.has(v.id) && (seen.add(v.id), true));
}

// ---------------------------------------------------------------------------
// Capturing and restoring state

/** What a checkpoint holds besides tensors. */
export interface RunState {
  epoch: number;
  epochs: number;
  batchSize?: number;
  samples?: number;
  rngState?: number;
  history: Record<string, number[]>;
  batchLosses?: ArrayLike<number>;
}

class DataWriter {
  readonly parts: Uint8Array[] = [];
  offset = 0;
  add(name: string, t: { shape: number[]; dtype: string }, values: Float32Array | Int32Array): TensorEntry {
    const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength).slice();
    const entry: TensorEntry = { name, shape: [...t.shape], dtype: t.dtype === 'int32' ? 'int32' : 'float32', offset: this.offset, bytes: bytes.byteLength };
    this.parts.push(bytes);
    this.offset += bytes.byteLength;
    return entry;
  }
  addFloat64(name: string, values: ArrayLike<number>): TensorEntry {
    const f = Float64Array.from(values);
    const bytes = new Uint8Array(f.buffer);
    const entry: TensorEntry = { name, shape: [f.length], dtype: 'float64', offset: this.offset, bytes: bytes.byteLength };
    this.parts.push(bytes);
    this.offset += bytes.byteLength;
    return entry;
  }
}

async function tensorValues(t: tf.Tensor): Promise<Float32Array | Int32Array> {
  if (t.dtype !== 'float32' && t.dtype !== 'int32') throw new CheckpointError(`checkpoints store float32 and int32 tensors, not ${t.dtype}.`);
  return (await t.data()) as Float32Array | Int32Array;
}

/** Scalar variables an optimizer keeps outside `getWeights()` (Adam: accBeta1, accBeta2; Adamax: iteration). */
function optimizerScalars(opt: tf.Optimizer): [string, tf.Variable][] {
  return Object.entries(opt as unknown as Record<string, unknown>)
    .filter((e): e is [string, tf.Variable] => e[1] instanceof tf.Variable && e[1].rank === 0)
    .sort(([a], [b]) => (a < b ? -1 : 1));
}

/** Serialises a model's weights, its optimizer's state and the run's state into checkpoint bytes. */
export async function encodeCheckpoint(model: CheckpointModel, state: RunState): Promise<Uint8Array[]> {
  const data = new DataWriter();
  const weights: TensorEntry[] = [];
  for (const [i, v] of model.variables().entries()) weights.push(data.add(`${i}:${v.name}`, v, await tensorValues(v)));
  let optimizer: OptimizerHeader | undefined;
  const opt = model.optimizer();
  if (opt) {
    const className = (opt.constructor as { className?: string }).className ?? opt.getClassName();
    let named: NamedTensor[] | undefined;
    let unsupported: string | undefined;
    try {
      named = await opt.getWeights();
    } catch (e) {
      unsupported = `tfjs cannot save the state of ${className} (${(e as Error).message})`;
    }
    const header: OptimizerHeader = { className, iterations: opt.iterations, slots: [], scalars: [] };
    if (named) {
      // The first entry is the iteration count (tfjs's saveIterations); the rest are the slots.
      for (const w of named.slice(1)) header.slots.push(data.add(w.name, w.tensor, await tensorValues(w.tensor)));
      tf.dispose(named[0]?.tensor);
      for (const [key, v] of optimizerScalars(opt)) header.scalars.push(data.add(key, v, await tensorValues(v)));
    } else header.unsupported = unsupported;
    optimizer = header;
  }
  const batchLosses = state.batchLosses && state.batchLosses.length ? data.addFloat64('batchLosses', state.batchLosses) : undefined;
  const hash = createHash('sha256');
  for (const p of data.parts) hash.update(p);
  const header: CheckpointHeader = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    createdAt: new Date().toISOString(),
    model: model.name,
    epoch: state.epoch,
    epochs: state.epochs,
    ...(state.batchSize !== undefined ? { batchSize: state.batchSize } : {}),
    ...(state.samples !== undefined ? { samples: state.samples } : {}),
    ...(state.rngState !== undefined ? { rngState: state.rngState >>> 0 } : {}),
    history: Object.fromEntries(Object.entries(state.history).map(([k, v]) => [k, v.map((x) => (Number.isFinite(x) ? x : null))])),
    ...(batchLosses ? { batchLosses } : {}),
    weights,
    ...(optimizer ? { optimizer } : {}),
    dataBytes: data.offset,
    dataSha256: hash.digest('hex'),
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const head = new Uint8Array(MAGIC.length + 4);
  head.set(new TextEncoder().encode(MAGIC));
  new DataView(head.buffer).setUint32(MAGIC.length, json.byteLength, true);
  return [head, json, ...data.parts];
}

export interface DecodedCheckpoint {
  header: CheckpointHeader;
  data: Uint8Array;
}

/** Reads checkpoint bytes; throws a CheckpointError saying what is wrong with them. */
export function decodeCheckpoint(bytes: Uint8Array, where: string): DecodedCheckpoint {
  const magic = new TextDecoder().decode(bytes.subarray(0, MAGIC.length));
  if (bytes.byteLength < MAGIC.length + 4 || magic !== MAGIC) throw new CheckpointError(`${where} is not an Autoencoder Notebooks checkpoint.`);
  const len = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(MAGIC.length, true);
  const start = MAGIC.length + 4;
  if (start + len > bytes.byteLength) throw new CheckpointError(`${where} is incomplete (its header is cut short).`);
  let header: CheckpointHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(start, start + len))) as CheckpointHeader;
  } catch (e) {
    throw new CheckpointError(`${where} has a damaged header (${(e as Error).message}).`);
  }
  if (header.format !== CHECKPOINT_FORMAT) throw new CheckpointError(`${where} is not an Autoencoder Notebooks checkpoint.`);
  if (header.version > CHECKPOINT_VERSION) {
    throw new CheckpointError(`${where} was written by a newer version (checkpoint format ${header.version}; this one reads ${CHECKPOINT_VERSION}). Update the extension.`);
  }
  const data = bytes.subarray(start + len);
  if (data.byteLength !== header.dataBytes) throw new CheckpointError(`${where} is incomplete: ${data.byteLength} of ${header.dataBytes} data bytes.`);
  if (createHash('sha256').update(data).digest('hex') !== header.dataSha256) throw new CheckpointError(`${where} is damaged: its data does not match its checksum.`);
  return { header, data };
}

function tensorOf(c: DecodedCheckpoint, e: TensorEntry): tf.Tensor {
  if (e.dtype === 'float64') throw new CheckpointError(`checkpoint entry ${e.name} is not a tensor.`);
  const raw = copyBytes(c, e);
  const values = e.dtype === 'int32' ? new Int32Array(raw.buffer) : new Float32Array(raw.buffer);
  return tf.tensor(values, e.shape, e.dtype);
}

function float64Of(c: DecodedCheckpoint, e: TensorEntry): Float64Array {
  return new Float64Array(copyBytes(c, e).buffer);
}

/** A fresh, aligned copy of an entry's bytes (the data may be a view into a shared Buffer pool). */
function copyBytes(c: DecodedCheckpoint, e: TensorEntry): Uint8Array {
  if (e.offset < 0 || e.offset + e.bytes > c.data.byteLength) throw new CheckpointError(`checkpoint entry ${e.name} lies outside the data.`);
  const raw = new Uint8Array(e.bytes);
  raw.set(c.data.subarray(e.offset, e.offset + e.bytes));
  return raw;
}

const shapeText = (s: number[]) => `[${s.join(', ')}]`;

/**
 * Puts a checkpoint's weights (and, when `withOptimizer`, its optimizer
 * state) into a model. Everything is checked before anything is written, so
 * a checkpoint of another model changes nothing.
 */
export async function restoreCheckpoint(model: CheckpointModel, c: DecodedCheckpoint, where: string, withOptimizer = true): Promise<{ optimizerRestored: boolean; note?: string }> {
  const vars = model.variables();
  const w = c.header.weights;
  if (vars.length !== w.length || vars.some((v, i) => !tf.util.arraysEqual(v.shape, w[i].shape))) {
    const mine = vars.map((v) => shapeText(v.shape)).join(', ');
    const theirs = w.map((e) => shapeText(e.shape)).join(', ');
    throw new CheckpointError(
      `${where} holds the weights of another model ("${c.header.model}": ${w.length} weights ${theirs}); "${model.name}" has ${vars.length}: ${mine}. ` +
        'Use another folder for this model, or delete the old checkpoints.',
    );
  }
  const opt = withOptimizer ? model.optimizer() : undefined;
  const oh = c.header.optimizer;
  let note: string | undefined;
  let restoreOpt = false;
  if (opt && oh) {
    const className = (opt.constructor as { className?: string }).className ?? opt.getClassName();
    if (oh.unsupported) note = `the optimizer's state was not saved (${oh.unsupported}); it starts afresh`;
    else if (className !== oh.className) note = `the checkpoint's optimizer is ${oh.className}, this model's is ${className}: the optimizer starts afresh`;
    else restoreOpt = true;
  } else if (opt && !oh) note = 'the checkpoint has no optimizer state; the optimizer starts afresh';
  tf.tidy(() => {
    vars.forEach((v, i) => v.assign(tensorOf(c, w[i])));
  });
  if (restoreOpt && opt && oh) await restoreOptimizer(opt, oh, c);
  return { optimizerRestored: restoreOpt, note };
}

/**
 * Puts an optimizer's saved state back. Slots that exist already are written
 * in place (the lean training step may hold them, and keeps working on the
 * restored values); missing ones are created the way tfjs creates them.
 */
async function restoreOptimizer(opt: tf.Optimizer, oh: OptimizerHeader, c: DecodedCheckpoint): Promise<void> {
  const current = await opt.getWeights();
  tf.dispose(current[0]?.tensor); // the iteration count, a fresh tensor
  const slots = current.slice(1);
  const inPlace =
    slots.length === oh.slots.length && slots.every((s, i) => s.tensor instanceof tf.Variable && tf.util.arraysEqual(s.tensor.shape, oh.slots[i].shape));
  if (inPlace) {
    tf.tidy(() => slots.forEach((s, i) => (s.tensor as tf.Variable).assign(tensorOf(c, oh.slots[i]))));
    (opt as unknown as { iterations_: number }).iterations_ = oh.iterations;
  } else {
    if (slots.length) throw new CheckpointError(`the optimizer's state in the checkpoint (${oh.slots.length} slots) does not fit this optimizer's (${slots.length} slots).`);
    const iterations = tf.scalar(oh.iterations, 'int32');
    const saved = oh.slots.map((e) => ({ name: e.name, tensor: tensorOf(c, e) }));
    try {
      await opt.setWeights([{ name: 'iter', tensor: iterations }, ...saved]);
    } finally {
      tf.dispose([iterations, ...saved.map((s) => s.tensor)]);
    }
  }
  // Scalars tfjs recomputes on setWeights (Adam's accBeta1 = beta1^(t+1)) may differ in the
  // last bit from the products a run accumulates: the saved values go back as they were.
  const scalars = new Map(optimizerScalars(opt));
  for (const e of oh.scalars) {
    const v = scalars.get(e.name);
    if (v) tf.tidy(() => v.assign(tensorOf(c, e)));
  }
}

/** The run state stored in a checkpoint. */
export function checkpointRunState(c: DecodedCheckpoint): RunState {
  const h = c.header;
  return {
    epoch: h.epoch,
    epochs: h.epochs,
    batchSize: h.batchSize,
    samples: h.samples,
    rngState: h.rngState,
    history: Object.fromEntries(Object.entries(h.history).map(([k, v]) => [k, v.map((x) => (x === null ? NaN : x))])),
    batchLosses: h.batchLosses ? float64Of(c, h.batchLosses) : undefined,
  };
}

// ---------------------------------------------------------------------------
// Files

/** Test hook: called after each chunk is written to the temporary file. */
export type WriteHooks = Pick<AtomicWriteOptions, 'afterChunk'>;

/** Removes the temporary checkpoint files that a writer killed mid-write left behind (never one a live process is writing); returns their names. */
export async function removeStaleTemporaries(dir: string): Promise<string[]> {
  return (await removeStaleTempFiles(dir, (f) => f.endsWith(CHECKPOINT_EXTENSION))).map((p) => path.basename(p));
}

/** Writes a checkpoint file atomically. */
export async function writeCheckpoint(file: string, model: CheckpointModel, state: RunState, hooks?: WriteHooks): Promise<void> {
  const chunks = await encodeCheckpoint(model, state);
  await writeFileAtomic(file, chunks, { afterChunk: hooks?.afterChunk });
}

export async function readCheckpoint(file: string): Promise<DecodedCheckpoint> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new CheckpointError(`Cannot read the checkpoint ${file}: ${(e as Error).message}`);
  }
  return decodeCheckpoint(bytes, file);
}

const EPOCH_FILE = /^epoch-(\d+)\.ckpt$/;

export function epochFileName(epoch: number): string {
  return `epoch-${String(epoch).padStart(4, '0')}${CHECKPOINT_EXTENSION}`;
}

/** The `epoch-NNNN.ckpt` files of a folder, oldest first. */
export async function listCheckpoints(dir: string): Promise<{ file: string; epoch: number }[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names
    .map((n) => ({ n, m: EPOCH_FILE.exec(n) }))
    .filter((x): x is { n: string; m: RegExpExecArray } => x.m !== null)
    .map(({ n, m }) => ({ file: path.join(dir, n), epoch: Number(m[1]) }))
    .sort((a, b) => a.epoch - b.epoch);
}

/** The newest readable checkpoint of a folder (a damaged newest one is skipped, with the reason). */
export async function latestCheckpoint(dir: string): Promise<{ file: string; checkpoint: DecodedCheckpoint; skipped: string[] } | undefined> {
  const skipped: string[] = [];
  for (const { file } of (await listCheckpoints(dir)).reverse()) {
    try {
      return { file, checkpoint: await readCheckpoint(file), skipped };
    } catch (e) {
      skipped.push((e as Error).message);
    }
  }
  return undefined;
}

export async function isDirectory(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isDirectory() ?? false;
}
