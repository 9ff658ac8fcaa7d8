/**
 * The latent space of an autoencoder, computed: which part of a model is the
 * encoder and which the decoder, the codes of a batch of inputs, and their
 * 2-D projection (PCA through ml-pca, with the explained variance; UMAP
 * through umap-js on exact nearest neighbours, with progress and a stop
 * check). The latent-space outputs (src/outputs/latent/) are built on it.
 */
import * as tf from '@tensorflow/tfjs';
import { PCA } from 'ml-pca';
import { UMAP } from 'umap-js';
import { AutoencoderModel } from './models';
import { mulberry32 } from './random';

// ---------------------------------------------------------------------------
// Encoder and decoder of a model

/** An autoencoder seen as its two halves. */
export interface LatentModel {
  name: string;
  encoder: tf.LayersModel;
  decoder: tf.LayersModel;
  latentDim: number;
  /** Shape of one input (without the batch axis). */
  inputShape: number[];
  /** Shape of one decoder output (without the batch axis). */
  outputShape: number[];
  /** Codes [N, latentDim] of inputs [N, ...inputShape] (or flat [N, prod]). */
  encode(x: tf.Tensor): tf.Tensor2D;
  /** Outputs [N, ...outputShape] of codes [N, latentDim]. */
  decode(z: tf.Tensor): tf.Tensor;
}

const product = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const dims = (shape: readonly (number | null)[]) => shape.slice(1) as number[];

function isLayersModel(v: unknown): v is tf.LayersModel {
  return v instanceof tf.LayersModel;
}

/** A nested model's layers without its InputLayer. */
function realLayers(m: tf.LayersModel): tf.layers.Layer[] {
  return m.layers.filter((l) => l.getClassName() !== 'InputLayer');
}

/**
 * Finds the encoder and decoder of `model`: one of our autoencoders, an object
 * `{ encoder, decoder }` of two tfjs models, or a tfjs model made of exactly
 * two nested models (encoder, then decoder). `where` names the call and the
 * argument in errors, e.g. "show.latent(model, x): model".
 */
export function latentModel(model: unknown, where: string): LatentModel {
  let encoder: tf.LayersModel | undefined;
  let decoder: tf.LayersModel | undefined;
  let name = 'model';
  if (model instanceof AutoencoderModel) {
    encoder = model.encoder;
    decoder = model.decoder;
    name = model.name;
  } else if (isLayersModel(model)) {
    const parts = realLayers(model);
    if (parts.length === 2 && isLayersModel(parts[0]) && isLayersModel(parts[1])) {
      [encoder, decoder] = parts as [tf.LayersModel, tf.LayersModel];
      name = model.name;
    }
  } else if (typeof model === 'object' && model !== null && 'encoder' in model && 'decoder' in model) {
    const m = model as { encoder: unknown; decoder: unknown; name?: unknown };
    if (!isLayersModel(m.encoder) || !isLayersModel(m.decoder)) {
      throw new TypeError(`${where}.encoder and .decoder must both be TensorFlow.js models (tf.sequential or tf.model).`);
    }
    encoder = m.encoder;
    decoder = m.decoder;
    name = typeof m.name === 'string' ? m.name : 'model';
  }
  if (!encoder || !decoder) {
    const what = isLayersModel(model) ? `the tfjs model "${model.name}" has no separate encoder` : model === undefined || model === null ? `it is ${model}` : 'it has no encoder';
    throw new TypeError(
      `${where}: ${what}. Pass an Autoencoder or StackedAutoencoder, a tfjs model made of two nested models (encoder, then decoder), ` +
        'or { encoder, decoder } with two tfjs models.',
    );
  }
  const codeShape = encoder.outputs[0].shape;
  if (codeShape.length !== 2) {
    throw new Error(
      `${where}: the encoder's output has shape [${codeShape.map((d) => d ?? 'N').join(', ')}], but a latent space needs flat codes [N, size]; ` +
        'end the encoder with a Flatten (and a Dense) layer.',
    );
  }
  const latentDim = codeShape[1] as number;
  if (latentDim < 2) {
    throw new Error(`${where}: the latent space is 1-D (codes of size ${latentDim}); a map needs at least 2 dimensions. Train with latentDim >= 2, or look at show.errors instead.`);
  }
  const decIn = decoder.inputs[0].shape;
  if (decIn.length !== 2 || decIn[1] !== latentDim) {
    throw new Error(`${where}: the decoder takes [${decIn.map((d) => d ?? 'N').join(', ')}] but the encoder makes codes of size ${latentDim}.`);
  }
  const inputShape = model instanceof AutoencoderModel ? model.inputShape : dims(encoder.inputs[0].shape);
  const outputShape = dims(decoder.outputs[0].shape);
  const asInput = (x: tf.Tensor) => (x.rank === 2 && inputShape.length > 1 && x.shape[1] === product(inputShape) ? x.reshape([x.shape[0], ...inputShape]) : x);
  return {
    name,
    encoder,
    decoder,
    latentDim,
    inputShape,
    outputShape,
    encode: (x) =>
      model instanceof AutoencoderModel
        ? (model.encode(x) as tf.Tensor2D)
        : tf.tidy(() => encoder!.predict(asInput(x), { batchSize: 256 }) as tf.Tensor2D),
    decode: (z) => (model instanceof AutoencoderModel ? model.decode(z) : (decoder!.predict(z, { batchSize: 256 }) as tf.Tensor)),
  };
}

/** Width, height and channels of an image of this shape, or undefined when it is not an image. */
export function imageGeometry(shape: readonly number[], hint?: readonly number[]): { width: number; height: number; channels: 1 | 3 } | undefined {
  if (hint && hint.length === 2 && product(hint) === product(shape)) return { height: hint[0], width: hint[1], channels: 1 };
  if (shape.length === 2) return { height: shape[0], width: shape[1], channels: 1 };
  if (shape.length === 3 && (shape[2] === 1 || shape[2] === 3)) return { height: shape[0], width: shape[1], channels: shape[2] as 1 | 3 };
  if (shape.length === 1) {
    const s = Math.round(Math.sqrt(shape[0]));
    if (s * s === shape[0]) return { height: s, width: s, channels: 1 };
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// Projections

export interface PcaResult {
  /** [count, 2] interleaved. */
  points: Float32Array;
  mean: Float32Array;
  /** PC1 then PC2, each of length dim, unit length. */
  components: Float32Array;
  /** Variance along the principal axes, largest first: every axis up to 96-D codes, the top two above. */
  eigenvalues: number[];
  /** Fraction of the total variance along PC1 and PC2. */
  explained: [number, number];
  totalVariance: number;
}

/** Up to this size the whole eigen-decomposition (ml-pca) is quick; above it only the top axes are computed. */
const FULL_EIGEN_MAX_DIM = 96;

interface Eigenpairs {
  /** Unit eigenvectors, largest eigenvalue first (at least the top two). */
  vectors: Float64Array[];
  /** Their eigenvalues (>= 0). */
  values: number[];
}

/** Every eigenpair of the symmetric `cov` (dim x dim, row-major), through ml-pca. */
export function fullEigenpairs(cov: Float64Array, dim: number): Eigenpairs {
  const rows = Array.from({ length: dim }, (_, i) => Array.from(cov.subarray(i * dim, (i + 1) * dim)));
  const model = new PCA(rows, { isCovarianceMatrix: true });
  const U = model.getEigenvectors(); // columns, largest variance first
  const vectors = Array.from({ length: U.columns }, (_, c) => Float64Array.from({ length: dim }, (_, i) => U.get(i, c)));
  return { vectors, values: model.getEigenvalues().map((v) => Math.max(0, v)) };
}

/**
 * The top two eigenpairs of the symmetric positive semi-definite `cov` by
 * block subspace iteration (8 vectors, Rayleigh-Ritz through ml-pca on the
 * 8 x 8 projection), for wide codes: ml-pca's full decomposition of a
 * 392 x 392 covariance takes 1.3-1.6 s on the development machine under load,
 * this 0.13-0.35 s when the spectrum decays as trained codes' do. Undefined
 * when it has not converged in 80 steps (then the caller takes the full
 * decomposition): residuals ||C v - l v|| of both axes within 1e-9 of the
 * largest eigenvalue.
 */
export function topEigenpairs(cov: Float64Array, dim: number): Eigenpairs | undefined {
  const k = Math.min(8, dim);
  const random = mulberry32(0x5eed);
  let basis = Array.from({ length: k }, () => Float64Array.from({ length: dim }, () => random() - 0.5));
  const multiply = (v: Float64Array): Float64Array => {
    const out = new Float64Array(dim);
    for (let i = 0; i < dim; i++) {
      let sum = 0;
      const row = i * dim;
      for (let j = 0; j < dim; j++) sum += cov[row + j] * v[j];
      out[i] = sum;
    }
    return out;
  };
  const dotOf = (a: Float64Array, b: Float64Array) => {
    let sum = 0;
    for (let i = 0; i < dim; i++) sum += a[i] * b[i];
    return sum;
  };
  /** Modified Gram-Schmidt in place; a vector that vanishes is replaced by a random one. */
  const orthonormalize = (vs: Float64Array[]) => {
    for (let a = 0; a < vs.length; a++) {
      for (let pass = 0; pass < 2; pass++) {
        for (let b = 0; b < a; b++) {
          const d = dotOf(vs[a], vs[b]);
          for (let i = 0; i < dim; i++) vs[a][i] -= d * vs[b][i];
        }
      }
      const norm = Math.sqrt(dotOf(vs[a], vs[a]));
      if (norm < 1e-300) {
        vs[a] = Float64Array.from({ length: dim }, () => random() - 0.5);
        a--;
        continue;
      }
      for (let i = 0; i < dim; i++) vs[a][i] /= norm;
    }
  };
  orthonormalize(basis);
  // Each step costs 8 products with C; past 80 the full decomposition is as quick (a near-flat spectrum).
  for (let iteration = 0; iteration < 80; iteration++) {
    const images = basis.map(multiply);
    // Rayleigh-Ritz: the k x k projection of C onto the basis, decomposed.
    const small = Array.from({ length: k }, (_, a) => Array.from({ length: k }, (_, b) => dotOf(basis[a], images[b])));
    for (let a = 0; a < k; a++) for (let b = 0; b < a; b++) small[a][b] = small[b][a] = (small[a][b] + small[b][a]) / 2;
    const ritz = new PCA(small, { isCovarianceMatrix: true });
    const W = ritz.getEigenvectors();
    const values = ritz.getEigenvalues();
    const rotate = (vs: Float64Array[]) => Array.from({ length: k }, (_, c) => {
      const out = new Float64Array(dim);
      for (let a = 0; a < k; a++) {
        const w = W.get(a, c);
        for (let i = 0; i < dim; i++) out[i] += w * vs[a][i];
      }
      return out;
    });
    const vectors = rotate(basis);
    const cv = rotate(images);
    const scale = Math.max(values[0], 1e-300);
    let converged = true;
    for (let c = 0; c < 2 && c < k; c++) {
      let r = 0;
      for (let i = 0; i < dim; i++) r += (cv[c][i] - values[c] * vectors[c][i]) ** 2;
      if (Math.sqrt(r) > 1e-9 * scale) converged = false;
    }
    if (converged) return { vectors: vectors.slice(0, 2), values: values.slice(0, 2).map((v) => Math.max(0, v)) };
    basis = cv;
    orthonormalize(basis);
  }
  return undefined;
}

/**
 * PCA of `count` codes of size `dim` (rows of `codes`), to 2-D. Axis signs
 * are fixed: aligned with `previous` components when given (a live map does
 * not flip from one epoch to the next), else the largest entry of each axis
 * is positive.
 */
export function pca2d(codes: Float32Array, count: number, dim: number, previous?: Float32Array): PcaResult {
  if (count < 2) throw new Error(`PCA needs at least 2 codes, got ${count}.`);
  // The covariance (n - 1) in float64 here, one pass over the rows (ml-matrix's product
  // through a transpose view is 50-100 times slower); its top axes as above.
  const mean64 = new Float64Array(dim);
  for (let r = 0; r < count; r++) for (let i = 0; i < dim; i++) mean64[i] += codes[r * dim + i];
  for (let i = 0; i < dim; i++) mean64[i] /= count;
  const cov = new Float64Array(dim * dim);
  const row = new Float64Array(dim);
  for (let r = 0; r < count; r++) {
    for (let i = 0; i < dim; i++) row[i] = codes[r * dim + i] - mean64[i];
    for (let i = 0; i < dim; i++) {
      const a = row[i];
      const base = i * dim;
      for (let j = i; j < dim; j++) cov[base + j] += a * row[j];
    }
  }
  for (let i = 0; i < dim; i++) {
    for (let j = i; j < dim; j++) {
      const v = cov[i * dim + j] / (count - 1);
      cov[i * dim + j] = v;
      cov[j * dim + i] = v;
    }
  }
  let totalVariance = 0;
  for (let i = 0; i < dim; i++) totalVariance += cov[i * dim + i];
  const top = (dim > FULL_EIGEN_MAX_DIM && topEigenpairs(cov, dim)) || fullEigenpairs(cov, dim);
  const { vectors: U, values: eigenvalues } = top;
  const mean = Float32Array.from(mean64);
  const components = new Float32Array(2 * dim);
  for (let c = 0; c < 2; c++) {
    let sign = 1;
    if (c < U.length) {
      if (previous && previous.length === 2 * dim) {
        let dot = 0;
        for (let i = 0; i < dim; i++) dot += U[c][i] * previous[c * dim + i];
        sign = dot < 0 ? -1 : 1;
      } else {
        let big = 0;
        for (let i = 0; i < dim; i++) if (Math.abs(U[c][i]) > Math.abs(big)) big = U[c][i];
        sign = big < 0 ? -1 : 1;
      }
      for (let i = 0; i < dim; i++) components[c * dim + i] = sign * U[c][i];
    }
  }
  const points = new Float32Array(2 * count);
  for (let r = 0; r < count; r++) {
    let x = 0;
    let y = 0;
    const base = r * dim;
    for (let i = 0; i < dim; i++) {
      const v = codes[base + i] - mean[i];
      x += v * components[i];
      y += v * components[dim + i];
    }
    points[2 * r] = x;
    points[2 * r + 1] = y;
  }
  const frac = (i: number) => (totalVariance > 0 ? (eigenvalues[i] ?? 0) / totalVariance : 0);
  return { points, mean, components, eigenvalues, explained: [frac(0), frac(1)], totalVariance };
}

export interface UmapOptions {
  neighbors?: number;
  minDist?: number;
  seed?: number;
  /**
   * Called as UMAP runs: steps done of the total, per phase (the exact nearest neighbours, the fuzzy
   * graph built from them, which has no steps, and the layout epochs).
   */
  onProgress?: (done: number, total: number, phase: 'neighbors' | 'graph' | 'layout') => void;
  /** Checked between steps; true stops the run with an error. */
  shouldStop?: () => boolean;
}

/** Lets the event loop run (an interrupt message can arrive). */
const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));

/**
 * The `k` nearest codes of every code (itself first, at distance 0), exact:
 * squared distances |a|² + |b|² - 2a·b from matrix products on the active
 * backend, in blocks of rows, then top-k. Replaces umap-js's approximate
 * search (nn-descent in plain JavaScript), which takes most of its time.
 */
export async function exactKnn(
  codes: Float32Array,
  count: number,
  dim: number,
  k: number,
  opts: { onProgress?: (done: number, total: number) => void; shouldStop?: () => boolean } = {},
): Promise<{ indices: number[][]; distances: number[][] }> {
  const indices: number[][] = new Array(count);
  const distances: number[][] = new Array(count);
  const all = tf.tensor2d(codes, [count, dim]);
  const norms = tf.tidy(() => tf.sum(tf.square(all), 1));
  const block = Math.max(64, Math.floor(4_000_000 / Math.max(1, count)));
  try {
    for (let start = 0; start < count; start += block) {
      const rows = Math.min(block, count - start);
      // (tensors out of the tidy, then their values: tf.tidy would walk returned typed arrays element by element)
      const top = tf.tidy(() => {
        const q = all.slice([start, 0], [rows, dim]);
        const dots = tf.matMul(q, all, false, true);
        const d2 = tf.relu(tf.sub(tf.add(norms.slice(start, rows).reshape([rows, 1]), norms.reshape([1, count])), tf.mul(dots, 2)));
        const t = tf.topk(tf.neg(d2), k, true);
        return [t.values, t.indices];
      });
      const vals = top[0].dataSync() as Float32Array;
      const idx = top[1].dataSync() as Int32Array;
      tf.dispose(top);
      for (let r = 0; r < rows; r++) {
        const row = start + r;
        const ids: number[] = [];
        const ds: number[] = [];
        for (let j = 0; j < k; j++) {
          ids.push(idx[r * k + j]);
          ds.push(Math.sqrt(Math.max(0, -vals[r * k + j])));
        }
        // the code itself first (ties with duplicates aside, top-k puts it there already)
        const self = ids.indexOf(row);
        if (self > 0) {
          ids.splice(self, 1);
          ds.splice(self, 1);
          ids.unshift(row);
          ds.unshift(0);
        } else if (self < 0) {
          ids.pop();
          ds.pop();
          ids.unshift(row);
          ds.unshift(0);
        } else {
          ds[0] = 0;
        }
        indices[row] = ids;
        distances[row] = ds;
      }
      opts.onProgress?.(start + rows, count);
      await yieldToEventLoop();
      if (opts.shouldStop?.()) throw new UmapStopped();
    }
  } finally {
    all.dispose();
    norms.dispose();
  }
  return { indices, distances };
}

/** UMAP of `count` codes to 2-D with umap-js (on exact nearest neighbours); returns [count, 2] interleaved. */
export async function umap2d(codes: Float32Array, count: number, dim: number, opts: UmapOptions = {}): Promise<{ points: Float32Array; neighbors: number; minDist: number }> {
  const neighbors = Math.max(2, Math.min(opts.neighbors ?? 15, count - 1));
  const minDist = opts.minDist ?? 0.1;
  const rows: number[][] = new Array(count);
  for (let r = 0; r < count; r++) rows[r] = Array.from(codes.subarray(r * dim, (r + 1) * dim));
  const umap = new UMAP({ nComponents: 2, nNeighbors: neighbors, minDist, random: mulberry32(opts.seed ?? 42) });
  opts.onProgress?.(0, count, 'neighbors');
  await yieldToEventLoop();
  const knn = await exactKnn(codes, count, dim, neighbors, { onProgress: (done, total) => opts.onProgress?.(done, total, 'neighbors'), shouldStop: opts.shouldStop });
  umap.setPrecomputedKNN(knn.indices, knn.distances);
  // umap-js builds its fuzzy graph in one synchronous call (about a second for 2,000 codes): say so first
  opts.onProgress?.(0, 1, 'graph');
  await yieldToEventLoop();
  if (opts.shouldStop?.()) throw new UmapStopped();
  const epochs = umap.initializeFit(rows);
  let last = Date.now();
  for (let e = 0; e < epochs; e++) {
    umap.step();
    if (Date.now() - last > 40 || e === epochs - 1) {
      opts.onProgress?.(e + 1, epochs, 'layout');
      await yieldToEventLoop();
      last = Date.now();
      if (opts.shouldStop?.()) throw new UmapStopped();
    }
  }
  const embedding = umap.getEmbedding();
  const points = new Float32Array(2 * count);
  for (let r = 0; r < count; r++) {
    points[2 * r] = embedding[r][0];
    points[2 * r + 1] = embedding[r][1];
  }
  return { points, neighbors, minDist };
}

export class UmapStopped extends Error {
  constructor() {
    super('UMAP was stopped before it finished.');
    this.name = 'UmapStopped';
  }
}
