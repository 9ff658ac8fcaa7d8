// The latent-space explorer: application/vnd.aenb.latent+json, made by
// `show.latent` and `callbacks.latentView` (./kernel.ts) and drawn by ./view.ts.
// The payload, its runtime check and its text fallback, and what the errors
// kind shares with it (image geometry, compact image blocks, class labels).
// Pure: no Node, no DOM.
//
// Large arrays travel compactly, as the training output's per-batch series
// does: base64 of little-endian Float32 (codes, points, weights) or of uint8
// pixels, the pixels optionally zlib-deflated first (MNIST-like images shrink
// about 5 times; the renderer inflates them with DecompressionStream).
import { base64ToBytes } from '../../common/base64';
import { COLORMAPS, type Colormap } from '../../common/colormap';
import { formatCount } from '../../common/formatting';
import { LATENT_DECODE_MAX } from '../../common/messages/kernel';
import { isCount, isObject, jsonWithText } from '../payload';
import { type DenseDecoderSpec, checkDenseDecoderSpec } from './dense';

export { LATENT_DECODE_MAX };
export type { LatentDecodeParams, LatentDecodeResult } from '../../common/messages/kernel';

export const LATENT_MIME = 'application/vnd.aenb.latent+json';

/** At most this many points on one map (the renderer stays responsive). */
export const LATENT_MAX_POINTS = 10_000;
/** At most this many classes get a colour and a legend entry. */
export const LATENT_MAX_CLASSES = 20;

export type ProjectionMethod = 'pca' | 'umap' | 'raw';
export const PROJECTION_METHODS: readonly ProjectionMethod[] = ['pca', 'umap', 'raw'];

/** Geometry of one image. */
export interface ImageShape {
  width: number;
  height: number;
  /** 1 = grayscale (the colormap applies), 3 = RGB. */
  channels: 1 | 3;
}

/** `count` images of one shape, uint8, row-major, concatenated. */
export interface ImageBlock {
  /** base64 of the bytes (of their zlib stream when `encoding` is "deflate"). */
  data: string;
  encoding?: 'deflate';
}

/** The PCA that made the map, enough to map a point of the map back to a code. */
export interface PcaInfo {
  /** Mean code, Float32 base64 [latentDim]. */
  mean: string;
  /** The two principal axes, unit length, Float32 base64 [2, latentDim] row-major. */
  components: string;
  /** Fraction of the codes' total variance along PC1 and PC2. */
  explained: [number, number];
  /** Total variance of the codes (the sum over all latent dimensions). */
  totalVariance: number;
}

export interface UmapInfo {
  neighbors: number;
  minDist: number;
  /** How many nearest codes a point of the map blends when it is decoded. */
  blend: number;
}

/** Where to send decode requests when the decoder's weights do not travel with the output. */
export interface RemoteDecoder {
  /** The kernel-side handle of the model. */
  model: string;
  /** The kernel process that holds it (a restarted kernel no longer has it). */
  kernel: string;
  /** Why the decoder runs in the kernel, e.g. "its layer conv2d_transpose is not dense". */
  reason?: string;
}

export interface LatentPayload {
  version: 1;
  title?: string;
  /** What the points are, e.g. "test images". */
  subject?: string;
  method: ProjectionMethod;
  latentDim: number;
  count: number;
  /** 2-D position of each point, Float32 base64 [count, 2]. */
  points: string;
  /** The latent code of each point, Float32 base64 [count, latentDim]. */
  codes: string;
  /** Row of each point in the tensor the user passed. */
  indices?: number[];
  /** Class of each point: an index into `classNames`. */
  labels?: number[];
  classNames?: string[];
  image: ImageShape;
  originals?: ImageBlock;
  /** Reconstructions of the points, sent when the decoder runs in the kernel. */
  reconstructions?: ImageBlock;
  /** Decoder output value mapped to black and to white (default [0, 1]). */
  range?: [number, number];
  colormap?: Colormap;
  /** The decoder, when it is a chain of dense layers: the renderer decodes by itself. */
  decoder?: DenseDecoderSpec;
  /** Otherwise the kernel decodes. */
  remote?: RemoteDecoder;
  pca?: PcaInfo;
  umap?: UmapInfo;
  /** Set by the live view (`callbacks.latentView`): the epoch the map was drawn after, and where its run is. */
  epoch?: LiveEpoch;
}

/**
 * Where the training run behind a live map is: `running` while the kernel
 * redraws it; `done` (every epoch ran), `stopped` (a Stop, an interrupt or
 * `stopTraining` ended it early) or `interrupted` (it ended without finishing:
 * the fit failed, the kernel went away, or the notebook was saved while it
 * ran) once it is over. A payload without a state comes from a kernel that is
 * redrawing it.
 */
export type LiveState = 'running' | 'done' | 'stopped' | 'interrupted';
export const LIVE_STATES: readonly LiveState[] = ['running', 'done', 'stopped', 'interrupted'];

export interface LiveEpoch {
  epoch: number;
  epochs: number;
  state?: LiveState;
}

/** The title a live map gets when the cell gives none, while it trains and after. */
export const LIVE_TITLE = 'Latent space while training';
export const LIVE_TITLE_AFTER = 'Latent space after training';

/** The badge of a live map: "Epoch 2/5" while it trains, "Done · epoch 5/5", "Stopped · epoch 3/5", "Interrupted · epoch 3/5" after. */
export function liveBadge(e: LiveEpoch): string {
  const at = `${e.epoch}/${e.epochs}`;
  switch (e.state ?? 'running') {
    case 'running':
      return `Epoch ${at}`;
    case 'done':
      return `Done · epoch ${at}`;
    case 'stopped':
      return `Stopped · epoch ${at}`;
    case 'interrupted':
      return `Interrupted · epoch ${at}`;
  }
}

/** One sentence on the run behind a live map (the badge's tooltip, the text fallback). */
export function liveStateText(e: LiveEpoch): string {
  const after = e.epoch === 0 ? 'before the first epoch' : `after epoch ${e.epoch} of ${e.epochs}`;
  switch (e.state ?? 'running') {
    case 'running':
      return `Training: the map is redrawn as epochs end; this one is ${after}`;
    case 'done':
      return `Training finished: the map ${after}`;
    case 'stopped':
      return `Training was stopped: the map ${after}, the last one drawn`;
    case 'interrupted':
      return `Training ended before its last epoch (it failed, its kernel ended, or the notebook was saved while it ran): the map ${after}, the last one drawn`;
  }
}

/**
 * The stored form of a map (what the `.aenb` writer and reader and the HTML
 * report keep): a live map whose run is not over in the file (saved during
 * training, or by a version without run states) is settled; any other is
 * returned as is. A map drawn after the last epoch is `done`; an earlier one
 * `interrupted`.
 */
export function settleLatentPayload(p: LatentPayload): LatentPayload {
  if (!p.epoch || (p.epoch.state !== undefined && p.epoch.state !== 'running')) return p;
  const done = p.epoch.epochs > 0 && p.epoch.epoch >= p.epoch.epochs;
  return {
    ...p,
    ...(done && p.title === LIVE_TITLE ? { title: LIVE_TITLE_AFTER } : {}),
    epoch: { ...p.epoch, state: done ? 'done' : 'interrupted' },
  };
}

/**
 * Inflates zlib-deflated bytes (DecompressionStream: browsers, VS Code's
 * webviews and Node 18+).
 */
export async function inflate(bytes: Uint8Array): Promise<Uint8Array> {
  if (typeof DecompressionStream === 'undefined') throw new Error('this browser cannot decompress the images (no DecompressionStream)');
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** The bytes of an image block, inflated when deflated; checks the length. */
export async function decodeImageBlock(block: ImageBlock, bytes: number): Promise<Uint8Array> {
  const raw = base64ToBytes(block.data);
  const out = block.encoding === 'deflate' ? await inflate(raw) : raw;
  if (out.length !== bytes) throw new Error(`image data holds ${out.length} bytes, expected ${bytes}`);
  return out;
}

// ---------------------------------------------------------------------------
// Checks (the renderer draws only what passes; the message says what is wrong)

export const isB64 = (v: unknown): v is string => typeof v === 'string';

/** Expected byte length of base64 text for `bytes` bytes (with padding). */
export function base64Length(bytes: number): number {
  return 4 * Math.ceil(bytes / 3);
}

export function checkImageShape(v: unknown): string | undefined {
  if (!isObject(v) || !isCount(v.width) || !isCount(v.height) || (v.channels !== 1 && v.channels !== 3)) return 'image must be { width, height, channels: 1 | 3 }';
  if (v.width * v.height > 1024 * 1024) return 'image is larger than 1024x1024';
  return undefined;
}

export function checkImageBlock(v: unknown, name: string, bytes: number): string | undefined {
  if (!isObject(v) || !isB64(v.data)) return `${name} must be { data: base64, encoding? }`;
  if (v.encoding !== undefined && v.encoding !== 'deflate') return `${name}.encoding must be "deflate" when present`;
  if (v.encoding === undefined && v.data.replace(/\s+/g, '').length !== base64Length(bytes)) return `${name} holds the wrong number of bytes (expected ${bytes})`;
  return undefined;
}

export function checkLabels(v: Record<string, unknown>, count: number): string | undefined {
  if (v.labels === undefined) return undefined;
  if (!Array.isArray(v.labels) || v.labels.length !== count || !v.labels.every(isCount)) return `labels must be ${count} class indices`;
  if (!Array.isArray(v.classNames) || !v.classNames.every((s) => typeof s === 'string')) return 'classNames must be an array of strings when labels are given';
  if (v.classNames.length > LATENT_MAX_CLASSES) return `at most ${LATENT_MAX_CLASSES} classes`;
  const k = v.classNames.length;
  if (v.labels.some((l) => (l as number) >= k)) return 'a label is not an index into classNames';
  return undefined;
}

export function checkLatentPayload(v: unknown): string | undefined {
  if (!isObject(v)) return 'payload is not an object';
  if (!PROJECTION_METHODS.includes(v.method as ProjectionMethod)) return 'method must be pca, umap or raw';
  if (!isCount(v.latentDim) || v.latentDim < 2) return 'latentDim must be a whole number >= 2';
  if (!isCount(v.count) || v.count > LATENT_MAX_POINTS) return `count must be a whole number up to ${LATENT_MAX_POINTS}`;
  const n = v.count;
  if (!isB64(v.points) || v.points.length !== base64Length(n * 2 * 4)) return `points must be base64 Float32 [${n}, 2]`;
  if (!isB64(v.codes) || v.codes.length !== base64Length(n * v.latentDim * 4)) return `codes must be base64 Float32 [${n}, ${v.latentDim}]`;
  if (v.indices !== undefined && (!Array.isArray(v.indices) || v.indices.length !== n || !v.indices.every(isCount))) return `indices must be ${n} row numbers`;
  const labels = checkLabels(v, n);
  if (labels) return labels;
  const shape = checkImageShape(v.image);
  if (shape) return shape;
  const img = v.image as unknown as ImageShape;
  const bytes = n * img.width * img.height * img.channels;
  for (const k of ['originals', 'reconstructions'] as const) {
    if (v[k] === undefined) continue;
    const p = checkImageBlock(v[k], k, bytes);
    if (p) return p;
  }
  if (v.range !== undefined && (!Array.isArray(v.range) || v.range.length !== 2 || !v.range.every((x) => typeof x === 'number' && Number.isFinite(x)) || v.range[0] === v.range[1])) {
    return 'range must be two different finite numbers';
  }
  if (v.colormap !== undefined && !COLORMAPS.includes(v.colormap as Colormap)) return 'colormap must be viridis or gray';
  if (v.decoder !== undefined) {
    const p = checkDenseDecoderSpec(v.decoder);
    if (p) return `decoder: ${p}`;
    const d = v.decoder as DenseDecoderSpec;
    if (d.layers[0].inputs !== v.latentDim) return `decoder takes ${d.layers[0].inputs} inputs, but codes have ${v.latentDim}`;
    const out = d.layers[d.layers.length - 1].outputs;
    if (out !== img.width * img.height * img.channels) return `decoder makes ${out} values, but an image has ${img.width * img.height * img.channels}`;
  }
  if (v.remote !== undefined && (!isObject(v.remote) || typeof v.remote.model !== 'string' || typeof v.remote.kernel !== 'string')) return 'remote must be { model, kernel }';
  if (v.method === 'pca') {
    const p = v.pca;
    if (!isObject(p)) return 'a PCA map needs pca: { mean, components, explained, totalVariance }';
    if (!isB64(p.mean) || p.mean.length !== base64Length(v.latentDim * 4)) return `pca.mean must be base64 Float32 [${v.latentDim}]`;
    if (!isB64(p.components) || p.components.length !== base64Length(2 * v.latentDim * 4)) return `pca.components must be base64 Float32 [2, ${v.latentDim}]`;
    if (!Array.isArray(p.explained) || p.explained.length !== 2 || !p.explained.every((x) => typeof x === 'number' && x >= 0 && x <= 1.000001)) return 'pca.explained must be two fractions';
    if (typeof p.totalVariance !== 'number' || !(p.totalVariance >= 0)) return 'pca.totalVariance must be a number >= 0';
  }
  if (v.method === 'umap') {
    const u = v.umap;
    if (!isObject(u) || !isCount(u.neighbors) || typeof u.minDist !== 'number' || !isCount(u.blend) || u.blend < 1) return 'a UMAP map needs umap: { neighbors, minDist, blend }';
  }
  if (v.method === 'raw' && v.latentDim !== 2) return 'a raw map needs a 2-D latent space';
  if (v.epoch !== undefined && (!isObject(v.epoch) || !isCount(v.epoch.epoch) || !isCount(v.epoch.epochs))) return 'epoch must be { epoch, epochs }';
  if (v.epoch !== undefined && (v.epoch as { state?: unknown }).state !== undefined && !LIVE_STATES.includes((v.epoch as { state?: unknown }).state as LiveState)) {
    return `epoch.state must be ${LIVE_STATES.join(', ')}`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// Text fallbacks

const pct = (f: number) => `${(100 * f).toFixed(1)}%`;

export function methodLabel(p: Pick<LatentPayload, 'method'>): string {
  return p.method === 'pca' ? 'PCA' : p.method === 'umap' ? 'UMAP' : 'the raw 2-D codes';
}

/** "PC1 23.4%, PC2 14.1% of the variance (37.5% together)". */
export function explainedText(pca: PcaInfo): string {
  const [a, b] = pca.explained;
  return `PC1 ${pct(a)}, PC2 ${pct(b)} of the variance (${pct(a + b)} together)`;
}

/** Counts per class, in class order. */
export function classCounts(labels: readonly number[], classes: number): number[] {
  const c = new Array<number>(classes).fill(0);
  for (const l of labels) c[l]++;
  return c;
}

export function latentText(p: LatentPayload): string {
  const lines: string[] = [];
  const what = p.subject ?? 'samples';
  const head = p.title ? `${p.title}: ` : 'Latent space: ';
  const how = p.method === 'raw' ? 'drawn as they are' : `projected to 2-D by ${methodLabel(p)}`;
  lines.push(`${head}${formatCount(p.count)} ${what}, ${p.latentDim}-D codes ${how}${p.epoch ? ` (${liveStateText(p.epoch)})` : ''}.`);
  if (p.pca) lines.push(`  ${explainedText(p.pca)}.`);
  if (p.labels && p.classNames) {
    const counts = classCounts(p.labels, p.classNames.length);
    lines.push(`  ${p.classNames.length} classes: ${p.classNames.map((n, i) => `${n} (${formatCount(counts[i])})`).join(', ')}.`);
  }
  lines.push(p.decoder ? '  Decoder: dense layers, decoded in the output itself (works offline).' : `  Decoder: runs in the kernel${p.remote?.reason ? ` (${p.remote.reason})` : ''}.`);
  lines.push('  Open the notebook in VS Code with Autoencoder Notebooks to explore the map: hover, click to decode, pick two points to interpolate.');
  return lines.join('\n');
}

/** The output items of a map: its payload and the text fallback. */
export function latentOutputItems(p: LatentPayload): { mime: string; data: Uint8Array }[] {
  return jsonWithText(LATENT_MIME, p, latentText(p));
}
