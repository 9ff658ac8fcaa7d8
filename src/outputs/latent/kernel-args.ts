// Arguments of the latent-space functions (show.latent, show.interpolate,
// show.errors, callbacks.latentView), checked before any work: an error names
// the call and the argument and says what to pass instead. Also the small
// tensor helpers they share. Kernel side only.
import * as tf from '@tensorflow/tfjs';
import { deflateSync } from 'node:zlib';
import { bytesToBase64 } from '../../common/base64';
import { COLORMAPS, type Colormap } from '../../common/colormap';
import { formatCount } from '../../common/formatting';
import { classNamesOf } from '../../lib/data';
import { imageGeometry, type LatentModel } from '../../lib/latent';
import { makeRng } from '../../lib/random';
import { LATENT_MAX_CLASSES, type ImageBlock, type ImageShape } from './contract';

/** Labels of samples: a tensor like yTest, or an array of numbers or strings. */
export type Labels = tf.Tensor | ArrayLike<number | string>;

/**
 * The values of the tensor `make` returns, every intermediate tensor freed.
 * (Never return typed arrays from tf.tidy: it walks a returned container
 * element by element looking for tensors.)
 */
export function valuesOf(make: () => tf.Tensor): Float32Array {
  const t = tf.tidy(make);
  try {
    return t.dataSync() as Float32Array;
  } finally {
    t.dispose();
  }
}

export function checkTensor(x: unknown, where: string, name: string): asserts x is tf.Tensor {
  if (!(x instanceof tf.Tensor)) throw new TypeError(`${where}: ${name} must be a tensor of samples (e.g. xTest), got ${describe(x)}.`);
  if (x.isDisposed) throw new Error(`${where}: ${name} was disposed; pass a tensor that is still alive.`);
}

export function describe(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (v instanceof tf.Tensor) return `a tensor of shape [${v.shape.join(', ')}]`;
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
}

/** Checks that x holds inputs for the model: [N, ...inputShape] or flat [N, prod]. */
export function checkInputs(x: tf.Tensor, m: LatentModel, where: string, name = 'x'): void {
  const rest = x.shape.slice(1);
  const want = m.inputShape;
  const same = rest.length === want.length && rest.every((d, i) => d === want[i]);
  const flat = rest.length === 1 && rest[0] === want.reduce((a, b) => a * b, 1);
  if (!same && !flat) {
    throw new Error(
      `${where}: ${name} has shape [${x.shape.join(', ')}], but the model takes [N, ${want.join(', ')}]` +
        (x.rank === want.length ? ` (one sample? give a batch: ${name}.expandDims(0))` : '') +
        '.',
    );
  }
  if (x.shape[0] < 1) throw new Error(`${where}: ${name} holds no samples.`);
}

export function checkCount(v: unknown, where: string, name: string, lo: number, hi: number, rows: number, rowsName: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`${where}: ${name} must be a whole number, got ${describe(v)}.`);
  if (v < lo) throw new RangeError(`${where}: ${name} must be at least ${lo}, got ${v}.`);
  if (v > rows) throw new RangeError(`${where}: ${name} is ${formatCount(v)}, but ${rowsName} holds only ${formatCount(rows)} samples; pass ${name}: ${formatCount(Math.min(rows, hi))} or fewer.`);
  if (v > hi) throw new RangeError(`${where}: ${name} is ${formatCount(v)}; at most ${formatCount(hi)} points fit one map.`);
  return v;
}

export interface Classes {
  /** Class index per row of x. */
  labels: number[];
  names: string[];
}

/** Class indices and names from labels given as a tensor or an array. */
export function readClasses(labels: Labels, rows: number, classNames: readonly string[] | undefined, where: string): Classes {
  let values: (number | string)[];
  if (labels instanceof tf.Tensor) {
    if (labels.isDisposed) throw new Error(`${where}: labels was disposed.`);
    const flat = labels.rank === 2 && labels.shape[1] === 1 ? labels.reshape([-1]) : labels;
    try {
      if (flat.rank !== 1) throw new Error(`${where}: labels must hold one label per sample (shape [${rows}]), got shape [${labels.shape.join(', ')}].`);
      values = Array.from(flat.dataSync() as ArrayLike<number>);
    } finally {
      if (flat !== labels) flat.dispose();
    }
  } else if (labels && typeof labels === 'object' && typeof (labels as ArrayLike<unknown>).length === 'number') {
    values = Array.from(labels as ArrayLike<number | string>);
  } else {
    throw new TypeError(`${where}: labels must be a tensor (like yTest) or an array with one label per sample, got ${describe(labels)}.`);
  }
  if (values.length !== rows) {
    throw new Error(`${where}: labels has ${formatCount(values.length)} entries, but x has ${formatCount(rows)} samples; pass the labels of the same samples (yTest with xTest, say).`);
  }
  const names = classNames ?? (labels instanceof tf.Tensor ? classNamesOf(labels) : undefined);
  if (names !== undefined && (!Array.isArray(names) || !names.every((s) => typeof s === 'string'))) {
    throw new TypeError(`${where}: classNames must be an array of strings, one per class.`);
  }
  const allInts = values.every((v) => typeof v === 'number' && Number.isInteger(v) && v >= 0);
  if (names && allInts) {
    const max = Math.max(...(values as number[]));
    if (max >= names.length) throw new Error(`${where}: a label is ${max}, but classNames has only ${names.length} names (for labels 0..${names.length - 1}).`);
    if (names.length > LATENT_MAX_CLASSES) throw new Error(`${where}: classNames has ${names.length} classes; the map colours at most ${LATENT_MAX_CLASSES}.`);
    return { labels: values as number[], names: [...names] };
  }
  for (const [i, v] of values.entries()) {
    if (typeof v === 'number' && !Number.isFinite(v)) throw new Error(`${where}: labels[${i}] is ${v}; labels must be class numbers or names.`);
  }
  const distinct = [...new Set(values.map((v) => (typeof v === 'number' ? v : String(v))))];
  if (distinct.length > LATENT_MAX_CLASSES) {
    throw new Error(`${where}: labels has ${distinct.length} different values; the map colours at most ${LATENT_MAX_CLASSES} classes. Pass class labels (0-9 for MNIST), not continuous values.`);
  }
  distinct.sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b))));
  const index = new Map(distinct.map((v, i) => [v, i]));
  return { labels: values.map((v) => index.get(typeof v === 'number' ? v : String(v))!), names: distinct.map(String) };
}

/** `count` distinct rows of `rows`, ascending; all rows in order when count === rows. */
export function pickRows(rows: number, count: number, seed: number): number[] {
  if (count >= rows) return Array.from({ length: rows }, (_, i) => i);
  const rng = makeRng(seed);
  // partial Fisher-Yates
  const all = new Int32Array(rows);
  for (let i = 0; i < rows; i++) all[i] = i;
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(rng() * (rows - i));
    const t = all[i];
    all[i] = all[j];
    all[j] = t;
  }
  return Array.from(all.subarray(0, count)).sort((a, b) => a - b);
}

/** The pixel range of x: [0, 1] unless a value is above 1 ([0, 255] then). */
export function detectRange(values: ArrayLike<number>): [number, number] {
  for (let i = 0; i < values.length; i++) if (values[i] > 1) return [0, 255];
  return [0, 1];
}

export function imageShapeOf(m: LatentModel, where: string, hint?: [number, number]): ImageShape {
  const g = imageGeometry(m.outputShape, hint) ?? imageGeometry(m.inputShape, hint);
  if (!g) {
    throw new Error(`${where}: the model's outputs have shape [${m.outputShape.join(', ')}], which is not an image; pass shape: [height, width].`);
  }
  const outSize = m.outputShape.reduce((a, b) => a * b, 1);
  if (g.width * g.height * g.channels !== outSize) {
    throw new Error(`${where}: shape ${g.height}x${g.width} does not match the ${outSize} values the decoder makes.`);
  }
  return g;
}

export function imageBlock(bytes: Uint8Array): ImageBlock {
  return { data: bytesToBase64(deflateSync(bytes, { level: 6 })), encoding: 'deflate' };
}

export function checkOptions(opts: unknown, where: string): void {
  if (opts !== undefined && (typeof opts !== 'object' || opts === null || Array.isArray(opts))) {
    throw new TypeError(`${where}: options must be an object such as { labels: yTest, n: 2000 }, got ${describe(opts)}.`);
  }
}

export function checkColormap(c: unknown, where: string): Colormap | undefined {
  if (c === undefined) return undefined;
  if (!COLORMAPS.includes(c as Colormap)) throw new Error(`${where}: colormap must be ${COLORMAPS.map((x) => `'${x}'`).join(' or ')}, got ${describe(c)}.`);
  return c as Colormap;
}
