// Output contract between the kernel (which produces notebook outputs) and the
// notebook renderer (which draws them). Pure TypeScript: no DOM, no Node APIs,
// so that the kernel, the extension host, the renderer bundle and the HTML
// report can all import it.
//
// Every rich output is sent with a `text/plain` fallback (see `*Text` and
// `*OutputItems` below) so a notebook reads sensibly where the renderer is
// absent; image grids may also carry an `image/png` fallback (`imagesPng`).

// ---------------------------------------------------------------------------
// Identifiers

/** `contributes.notebookRenderer[].id` of our renderer. */
export const RENDERER_ID = 'autoencoder-notebooks.renderer';

/** Training history and live progress (a finished History is state "done"). */
export const TRAINING_MIME = 'application/vnd.aenb.training+json';
/** Rows of images ("Original", "Noisy", "Reconstructed"). */
export const IMAGES_MIME = 'application/vnd.aenb.images+json';
/** Keras-style model summary. */
export const SUMMARY_MIME = 'application/vnd.aenb.summary+json';
export const TEXT_MIME = 'text/plain';
export const PNG_MIME = 'image/png';

/** All MIME types the renderer draws (for package.json `mimeTypes`). */
export const RENDERER_MIME_TYPES = [TRAINING_MIME, IMAGES_MIME, SUMMARY_MIME] as const;
export type AenbMime = (typeof RENDERER_MIME_TYPES)[number];

/** Payload format version; bump on incompatible changes. */
export const OUTPUT_VERSION = 1;

// ---------------------------------------------------------------------------
// Training: application/vnd.aenb.training+json

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
}

// ---------------------------------------------------------------------------
// Images: application/vnd.aenb.images+json

export type Colormap = 'viridis' | 'gray';
export const COLORMAPS: readonly Colormap[] = ['viridis', 'gray'];

export interface ImageData8 {
  width: number;
  height: number;
  /** 1 = grayscale (colormap applies), 3 = RGB (drawn as is). Default 1. */
  channels?: 1 | 3;
  /** base64 of width*height*channels uint8 values, row-major, 0 = black/dark. */
  data: string;
  /** Short text under the image, e.g. "7" or "mse 0.012". Plain text. */
  caption?: string;
  /** Alternative text; defaults to "<row title> <n>: <caption>". */
  alt?: string;
}

export interface ImageRow {
  /** e.g. "Original", "Noisy", "Reconstructed". Plain text. */
  title: string;
  images: ImageData8[];
}

export interface ImagesPayload {
  version: 1;
  title?: string;
  rows: ImageRow[];
  /** Default colormap for grayscale images (matplotlib's default is viridis). */
  colormap?: Colormap;
  /** Preferred on-screen size of one image pixel in CSS px (default: fit ~96 px per image). */
  pixelScale?: number;
}

// ---------------------------------------------------------------------------
// Model summary: application/vnd.aenb.summary+json

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

// ---------------------------------------------------------------------------
// Renderer <-> extension host messages (renderer messaging, `requiresMessaging: "optional"`)

/** The Stop button: interrupt the fit() whose payload had this run id. */
export interface InterruptMessage {
  type: 'interrupt';
  runId: string;
}

/** "Save as PNG" where the renderer cannot download itself (VS Code webviews): the host shows a save dialog. */
export interface SavePngMessage {
  type: 'savePng';
  /** Suggested file name, e.g. "reconstructions.png". */
  fileName: string;
  /** base64 PNG bytes. */
  data: string;
}

export type RendererToHostMessage = InterruptMessage | SavePngMessage;

/** Optional replies from the host. */
export type HostToRendererMessage =
  | { type: 'interruptAck'; runId: string; ok: boolean; message?: string }
  | { type: 'savePngDone'; fileName: string; ok: boolean; message?: string };

export function isRendererToHostMessage(m: unknown): m is RendererToHostMessage {
  if (!isObject(m)) return false;
  if (m.type === 'interrupt') return typeof m.runId === 'string';
  if (m.type === 'savePng') return typeof m.fileName === 'string' && typeof m.data === 'string';
  return false;
}

export function isHostToRendererMessage(m: unknown): m is HostToRendererMessage {
  if (!isObject(m)) return false;
  if (m.type === 'interruptAck') return typeof m.runId === 'string' && typeof m.ok === 'boolean';
  if (m.type === 'savePngDone') return typeof m.fileName === 'string' && typeof m.ok === 'boolean';
  return false;
}

// ---------------------------------------------------------------------------
// Validation (the renderer draws only what passes; messages say what is wrong)

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isOptNumber = (v: unknown) => v === undefined || v === null || typeof v === 'number';

/** Returns a problem description, or undefined when `v` is a valid TrainingPayload. */
export function checkTrainingPayload(v: unknown): string | undefined {
  if (!isObject(v)) return 'payload is not an object';
  if (typeof v.runId !== 'string') return 'runId must be a string';
  if (!['running', 'done', 'stopped', 'error'].includes(v.state as string)) return 'state must be running, done, stopped or error';
  for (const k of ['epochs', 'epoch', 'batch', 'batchesPerEpoch'] as const) if (!isCount(v[k])) return `${k} must be a non-negative integer`;
  for (const k of ['samplesPerSecond', 'etaSeconds', 'elapsedSeconds', 'samples', 'batchSize'] as const) if (!isOptNumber(v[k])) return `${k} must be a number`;
  if (!isObject(v.history)) return 'history must be an object of arrays';
  for (const [k, s] of Object.entries(v.history)) {
    if (!Array.isArray(s) || !s.every((x) => x === null || typeof x === 'number')) return `history.${k} must be an array of numbers`;
  }
  if (v.batches !== undefined) {
    const b = v.batches;
    if (!isObject(b) || !isCount(b.count) || typeof b.y !== 'string' || (b.x !== undefined && typeof b.x !== 'string')) return 'batches must be { count, y, x? } with base64 strings';
  }
  return undefined;
}

export function checkImagesPayload(v: unknown): string | undefined {
  if (!isObject(v)) return 'payload is not an object';
  if (!Array.isArray(v.rows)) return 'rows must be an array';
  for (const [r, row] of v.rows.entries()) {
    if (!isObject(row) || typeof row.title !== 'string' || !Array.isArray(row.images)) return `rows[${r}] must be { title, images }`;
    for (const [i, img] of row.images.entries()) {
      if (!isObject(img) || !isCount(img.width) || !isCount(img.height) || typeof img.data !== 'string') return `rows[${r}].images[${i}] must be { width, height, data }`;
      if (img.channels !== undefined && img.channels !== 1 && img.channels !== 3) return `rows[${r}].images[${i}].channels must be 1 or 3`;
      if (img.width * img.height > 4096 * 4096) return `rows[${r}].images[${i}] is too large`;
    }
  }
  if (v.colormap !== undefined && !COLORMAPS.includes(v.colormap as Colormap)) return 'colormap must be viridis or gray';
  return undefined;
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

// ---------------------------------------------------------------------------
// base64 (RFC 4648, with padding), identical in Node and browsers

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = (() => {
  const t = new Int16Array(128).fill(-1);
  for (let i = 0; i < 64; i++) t[B64.charCodeAt(i)] = i;
  return t;
})();

export function bytesToBase64(bytes: Uint8Array): string {
  const n = bytes.length;
  const parts: string[] = [];
  const CHUNK = 3 * 8192;
  for (let start = 0; start < n; start += CHUNK) {
    const end = Math.min(n, start + CHUNK);
    let s = '';
    let i = start;
    for (; i + 2 < end; i += 3) {
      const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
      s += B64[v >> 18] + B64[(v >> 12) & 63] + B64[(v >> 6) & 63] + B64[v & 63];
    }
    if (i < end) {
      const rest = end - i; // 1 or 2, only in the last chunk
      const v = (bytes[i] << 16) | (rest === 2 ? bytes[i + 1] << 8 : 0);
      s += B64[v >> 18] + B64[(v >> 12) & 63] + (rest === 2 ? B64[(v >> 6) & 63] : '=') + '=';
    }
    parts.push(s);
  }
  return parts.join('');
}

/** Decodes base64 (whitespace ignored). Throws on characters outside the alphabet. */
export function base64ToBytes(b64: string): Uint8Array {
  let s = b64;
  if (/\s/.test(s)) s = s.replace(/\s+/g, '');
  let len = s.length;
  while (len > 0 && s.charCodeAt(len - 1) === 61 /* = */) len--;
  const out = new Uint8Array(Math.floor((len * 3) / 4));
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    const v = c < 128 ? B64_INDEX[c] : -1;
    if (v < 0) throw new Error(`invalid base64 character at ${i}`);
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return o === out.length ? out : out.subarray(0, o);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Float32 little-endian bytes of `values`, base64. */
export function encodeFloat32(values: ArrayLike<number>): string {
  const f = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) f[i] = values[i];
  const bytes = new Uint8Array(f.buffer);
  if (!LITTLE_ENDIAN) for (let i = 0; i < bytes.length; i += 4) { bytes.subarray(i, i + 4).reverse(); }
  return bytesToBase64(bytes);
}

export function decodeFloat32(b64: string): Float32Array {
  const bytes = base64ToBytes(b64);
  if (bytes.length % 4 !== 0) throw new Error('Float32 data length is not a multiple of 4');
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  if (!LITTLE_ENDIAN) for (let i = 0; i < copy.length; i += 4) { copy.subarray(i, i + 4).reverse(); }
  return new Float32Array(copy.buffer);
}

/** Values in [0, 1] (e.g. a tensor's data) to uint8 0..255, clamped and rounded. NaN becomes 0. */
export function unitFloatsToUint8(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    out[i] = v > 0 ? (v >= 1 ? 255 : Math.round(v * 255)) : 0;
  }
  return out;
}

/** Encodes `text` as UTF-8 (TextEncoder exists in Node and browsers). */
export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

// ---------------------------------------------------------------------------
// Colormaps

// viridis by Stéfan van der Walt, Nathaniel Smith and Eric Firing (CC0), as in
// matplotlib: every 8th of its 256 entries plus the last; intermediate entries
// are linearly interpolated (within 1/255 of the original table).
const VIRIDIS_STOPS: readonly (readonly [number, number, number])[] = [
  [0.267004, 0.004874, 0.329415], [0.277018, 0.050344, 0.375715], [0.282327, 0.094955, 0.417331], [0.282884, 0.13592, 0.453427],
  [0.278826, 0.17549, 0.483397], [0.270595, 0.214069, 0.507052], [0.258965, 0.251537, 0.524736], [0.244972, 0.287675, 0.53726],
  [0.229739, 0.322361, 0.545706], [0.214298, 0.355619, 0.551184], [0.19943, 0.387607, 0.554642], [0.185556, 0.41857, 0.556753],
  [0.172719, 0.448791, 0.557885], [0.160665, 0.47854, 0.558115], [0.149039, 0.508051, 0.55725], [0.13777, 0.537492, 0.554906],
  [0.127568, 0.566949, 0.550556], [0.120565, 0.596422, 0.543611], [0.120638, 0.625828, 0.533488], [0.132268, 0.655014, 0.519661],
  [0.157851, 0.683765, 0.501686], [0.196571, 0.711827, 0.479221], [0.24607, 0.73891, 0.452024], [0.304148, 0.764704, 0.419943],
  [0.369214, 0.788888, 0.382914], [0.440137, 0.811138, 0.340967], [0.515992, 0.831158, 0.294279], [0.595839, 0.848717, 0.243329],
  [0.678489, 0.863742, 0.189503], [0.762373, 0.876424, 0.137064], [0.845561, 0.887322, 0.099702], [0.926106, 0.89733, 0.104071],
  [0.993248, 0.906157, 0.143936],
];

const lutCache = new Map<Colormap, Uint8Array>();

/** 256 RGB triples (768 bytes): the color of grayscale value v is lut[3v..3v+2]. */
export function colormapLut(name: Colormap): Uint8Array {
  let lut = lutCache.get(name);
  if (lut) return lut;
  lut = new Uint8Array(768);
  for (let v = 0; v < 256; v++) {
    if (name === 'gray') {
      lut[3 * v] = lut[3 * v + 1] = lut[3 * v + 2] = v;
      continue;
    }
    const k = Math.min(31, v >> 3);
    const x0 = k * 8;
    const x1 = k === 31 ? 255 : x0 + 8;
    const t = (v - x0) / (x1 - x0);
    const a = VIRIDIS_STOPS[k];
    const b = VIRIDIS_STOPS[k + 1];
    for (let c = 0; c < 3; c++) lut[3 * v + c] = Math.round((a[c] + (b[c] - a[c]) * t) * 255);
  }
  lutCache.set(name, lut);
  return lut;
}

/** RGBA pixels (for a canvas ImageData) of one image under a colormap. */
export function imageToRgba(width: number, height: number, pixels: Uint8Array, channels: 1 | 3, colormap: Colormap): Uint8ClampedArray {
  const n = width * height;
  if (pixels.length < n * channels) throw new Error(`image data has ${pixels.length} bytes, expected ${n * channels}`);
  const out = new Uint8ClampedArray(n * 4);
  if (channels === 3) {
    for (let i = 0; i < n; i++) {
      out[4 * i] = pixels[3 * i];
      out[4 * i + 1] = pixels[3 * i + 1];
      out[4 * i + 2] = pixels[3 * i + 2];
      out[4 * i + 3] = 255;
    }
  } else {
    const lut = colormapLut(colormap);
    for (let i = 0; i < n; i++) {
      const v = pixels[i] * 3;
      out[4 * i] = lut[v];
      out[4 * i + 1] = lut[v + 1];
      out[4 * i + 2] = lut[v + 2];
      out[4 * i + 3] = 255;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// PNG encoder: uint8 grayscale / RGB -> PNG bytes (zlib stream with LZ77 and
// fixed Huffman codes, CRC-32 and Adler-32)

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function adler32(bytes: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (let i = 0; i < bytes.length; ) {
    const end = Math.min(bytes.length, i + 5552);
    for (; i < end; i++) {
      a += bytes[i];
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

class BitWriter {
  private buf = new Uint8Array(1024);
  private len = 0;
  private acc = 0;
  private nbits = 0;
  /** Writes `n` bits of `value`, least significant first (DEFLATE bit order). */
  bits(value: number, n: number): void {
    this.acc |= value << this.nbits;
    this.nbits += n;
    while (this.nbits >= 8) {
      this.byte(this.acc & 0xff);
      this.acc >>>= 8;
      this.nbits -= 8;
    }
  }
  /** Writes a Huffman code (most significant bit first). */
  code(code: number, n: number): void {
    let r = 0;
    for (let i = 0; i < n; i++) r |= ((code >> i) & 1) << (n - 1 - i);
    this.bits(r, n);
  }
  byte(b: number): void {
    if (this.len === this.buf.length) {
      const nb = new Uint8Array(this.buf.length * 2);
      nb.set(this.buf);
      this.buf = nb;
    }
    this.buf[this.len++] = b;
  }
  finish(): Uint8Array {
    if (this.nbits > 0) this.byte(this.acc & 0xff);
    this.acc = 0;
    this.nbits = 0;
    return this.buf.slice(0, this.len);
  }
}

const LEN_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LEN_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];

function writeLitLen(w: BitWriter, sym: number): void {
  if (sym < 144) w.code(0x30 + sym, 8);
  else if (sym < 256) w.code(0x190 + sym - 144, 9);
  else if (sym < 280) w.code(sym - 256, 7);
  else w.code(0xc0 + sym - 280, 8);
}

function findIndex(base: number[], v: number): number {
  let i = base.length - 1;
  while (base[i] > v) i--;
  return i;
}

/** zlib stream (RFC 1950) of `data`: one fixed-Huffman DEFLATE block with LZ77 matches (32 KiB window). */
export function zlibDeflate(data: Uint8Array): Uint8Array {
  const w = new BitWriter();
  w.byte(0x78);
  w.byte(0x01); // CM=8, CINFO=7, FLEVEL=0; (0x78 * 256 + 0x01) % 31 === 0
  w.bits(1, 1); // BFINAL
  w.bits(1, 2); // BTYPE = 01, fixed Huffman
  const HASH = 1 << 15;
  const head = new Int32Array(HASH).fill(-1);
  const prev = new Int32Array(Math.max(1, data.length)).fill(-1);
  const n = data.length;
  const hash = (i: number) => (((data[i] << 10) ^ (data[i + 1] << 5) ^ data[i + 2]) & (HASH - 1));
  const insert = (i: number) => {
    if (i + 2 >= n) return;
    const h = hash(i);
    prev[i] = head[h];
    head[h] = i;
  };
  let i = 0;
  while (i < n) {
    let bestLen = 0;
    let bestDist = 0;
    if (i + 2 < n) {
      let cand = head[hash(i)];
      let chain = 64;
      const maxLen = Math.min(258, n - i);
      while (cand >= 0 && i - cand <= 32768 && chain-- > 0) {
        if (data[cand + bestLen] === data[i + bestLen]) {
          let l = 0;
          while (l < maxLen && data[cand + l] === data[i + l]) l++;
          if (l > bestLen) {
            bestLen = l;
            bestDist = i - cand;
            if (l === maxLen) break;
          }
        }
        cand = prev[cand];
      }
    }
    if (bestLen >= 3) {
      const li = findIndex(LEN_BASE, bestLen);
      writeLitLen(w, 257 + li);
      if (LEN_EXTRA[li]) w.bits(bestLen - LEN_BASE[li], LEN_EXTRA[li]);
      const di = findIndex(DIST_BASE, bestDist);
      w.code(di, 5);
      if (DIST_EXTRA[di]) w.bits(bestDist - DIST_BASE[di], DIST_EXTRA[di]);
      for (let k = 0; k < bestLen; k++) insert(i + k);
      i += bestLen;
    } else {
      writeLitLen(w, data[i]);
      insert(i);
      i++;
    }
  }
  writeLitLen(w, 256);
  const body = w.finish();
  const out = new Uint8Array(body.length + 4);
  out.set(body);
  const a = adler32(data);
  out[body.length] = a >>> 24;
  out[body.length + 1] = (a >>> 16) & 0xff;
  out[body.length + 2] = (a >>> 8) & 0xff;
  out[body.length + 3] = a & 0xff;
  return out;
}

/** PNG file bytes of an 8-bit grayscale (channels 1) or RGB (channels 3) image. */
export function encodePng(width: number, height: number, pixels: Uint8Array, channels: 1 | 3 = 1): Uint8Array {
  if (!(width > 0 && height > 0)) throw new Error('PNG must be at least 1x1');
  const stride = width * channels;
  if (pixels.length < stride * height) throw new Error(`PNG data has ${pixels.length} bytes, expected ${stride * height}`);
  // Filter type 0 (None) per scanline, except "Up" (2) when it makes the row sparser.
  const raw = new Uint8Array((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = pixels.subarray(y * stride, (y + 1) * stride);
    const o = y * (stride + 1);
    let upZeros = 0;
    let noneZeros = 0;
    if (y > 0) {
      for (let x = 0; x < stride; x++) {
        if (row[x] === 0) noneZeros++;
        if (row[x] === pixels[(y - 1) * stride + x]) upZeros++;
      }
    }
    if (y > 0 && upZeros > noneZeros) {
      raw[o] = 2;
      for (let x = 0; x < stride; x++) raw[o + 1 + x] = (row[x] - pixels[(y - 1) * stride + x]) & 0xff;
    } else {
      raw[o] = 0;
      raw.set(row, o + 1);
    }
  }
  const idat = zlibDeflate(raw);
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, width);
  dv.setUint32(4, height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = channels === 3 ? 2 : 0; // color type: truecolor or grayscale
  const chunks = [chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', new Uint8Array(0))];
  const sig = [137, 80, 78, 71, 13, 10, 26, 10];
  const out = new Uint8Array(8 + chunks.reduce((s, c) => s + c.length, 0));
  out.set(sig);
  let o = 8;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  dv.setUint32(8 + data.length, crc32(out, 4, 8 + data.length));
  return out;
}

// ---------------------------------------------------------------------------
// Formatting shared by the text fallbacks and the renderer

/** "1h 02m", "3m 07s", "12s", or "–" when unknown. */
export function formatDuration(seconds: number | undefined | null): string {
  if (seconds === undefined || seconds === null || !Number.isFinite(seconds) || seconds < 0) return '–';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  return `${h}h ${String(m % 60).padStart(2, '0')}m`;
}

/** A metric value as Keras prints it: 4 significant decimals, exponent for tiny values. */
export function formatMetric(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(3);
  return v.toFixed(4);
}

/** 1234567 -> "1,234,567" (locale independent). */
export function formatCount(n: number): string {
  const s = String(Math.round(Math.abs(n)));
  return (n < 0 ? '-' : '') + s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
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
// Payload builders (for the kernel)

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

export interface ImageInput {
  width: number;
  height: number;
  channels?: 1 | 3;
  /** uint8 0..255, or floats in [0, 1] (e.g. tensor data) which are scaled to 0..255. */
  pixels: Uint8Array | Uint8ClampedArray | Float32Array | Float64Array | number[];
  caption?: string;
  alt?: string;
}

/** Builds an images payload from rows of uint8 or [0, 1] float pixels. */
export function imagesPayload(rows: { title: string; images: ImageInput[] }[], opts: { title?: string; colormap?: Colormap; pixelScale?: number } = {}): ImagesPayload {
  return {
    version: 1,
    ...(opts.title !== undefined ? { title: opts.title } : {}),
    ...(opts.colormap ? { colormap: opts.colormap } : {}),
    ...(opts.pixelScale ? { pixelScale: opts.pixelScale } : {}),
    rows: rows.map((r) => ({
      title: r.title,
      images: r.images.map((im) => {
        const bytes = im.pixels instanceof Uint8Array || im.pixels instanceof Uint8ClampedArray ? new Uint8Array(im.pixels) : unitFloatsToUint8(im.pixels);
        const channels = im.channels ?? 1;
        if (bytes.length !== im.width * im.height * channels) throw new Error(`image "${r.title}" has ${bytes.length} values, expected ${im.width * im.height * channels}`);
        const out: ImageData8 = { width: im.width, height: im.height, data: bytesToBase64(bytes) };
        if (channels === 3) out.channels = 3;
        if (im.caption !== undefined) out.caption = im.caption;
        if (im.alt !== undefined) out.alt = im.alt;
        return out;
      }),
    })),
  };
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

// ---------------------------------------------------------------------------
// text/plain fallbacks

function progressBar(done: number, total: number, width = 30): string {
  const f = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const full = Math.floor(f * width);
  return '[' + '='.repeat(full) + (full < width ? '>' + '.'.repeat(width - full - 1) : '') + ']';
}

/** Keras-like log: one line per finished epoch, plus the progress line while running. */
export function historyText(p: TrainingPayload): string {
  const lines: string[] = [];
  if (p.title) lines.push(p.title);
  const names = seriesNames(p.history);
  const n = historyLength(p.history);
  const w = String(p.epochs || n).length;
  for (let e = 0; e < n; e++) {
    const metrics = names.map((k) => (p.history[k][e] !== undefined ? `${k}: ${formatMetric(p.history[k][e])}` : '')).filter(Boolean);
    lines.push(`Epoch ${String(e + 1).padStart(w)}/${p.epochs} - ${metrics.join(' - ')}`);
  }
  if (p.state === 'running') {
    const cur = Math.min(p.epoch + 1, Math.max(1, p.epochs));
    const parts = [`Epoch ${cur}/${p.epochs} ${progressBar(p.batch, p.batchesPerEpoch)} ${p.batch}/${p.batchesPerEpoch}`];
    if (p.samplesPerSecond !== undefined) parts.push(`${formatCount(p.samplesPerSecond)} samples/s`);
    parts.push(`ETA ${formatDuration(p.etaSeconds)}`);
    lines.push(parts.join(' - '));
  } else if (p.state === 'stopped') {
    lines.push(`Stopped after ${p.epoch} of ${p.epochs} epochs${p.message ? ': ' + p.message : ''}`);
  } else if (p.state === 'error') {
    lines.push(`Error${p.message ? ': ' + p.message : ''}`);
  } else {
    lines.push(`Done: ${p.epoch} epochs${p.elapsedSeconds !== undefined ? ' in ' + formatDuration(p.elapsedSeconds) : ''}`);
  }
  return lines.join('\n');
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

/** A short description of an image grid. */
export function imagesText(p: ImagesPayload): string {
  const lines: string[] = [];
  const first = p.rows.find((r) => r.images.length > 0)?.images[0];
  const count = p.rows.reduce((s, r) => s + r.images.length, 0);
  const size = first ? ` of ${first.width}x${first.height}${first.channels === 3 ? ' RGB' : ''}` : '';
  lines.push(`${p.title ? p.title + ': ' : ''}${count} image${count === 1 ? '' : 's'}${size} in ${p.rows.length} row${p.rows.length === 1 ? '' : 's'}`);
  for (const r of p.rows) {
    const caps = r.images.map((im) => im.caption).filter((c): c is string => !!c);
    lines.push(`  ${r.title}: ${r.images.length} image${r.images.length === 1 ? '' : 's'}${caps.length ? ' (' + caps.join(', ') + ')' : ''}`);
  }
  return lines.join('\n');
}

/**
 * The whole grid as one PNG (gap pixels between images, rows stacked), with the
 * colormap applied to grayscale images: the `image/png` fallback.
 * Returns undefined when the grid is empty or larger than `maxPixels`.
 */
export function imagesPng(p: ImagesPayload, opts: { scale?: number; gap?: number; colormap?: Colormap; maxPixels?: number } = {}): Uint8Array | undefined {
  const scale = Math.max(1, Math.floor(opts.scale ?? 2));
  const gap = opts.gap ?? 2;
  const cmap = opts.colormap ?? p.colormap ?? 'viridis';
  const rows = p.rows.filter((r) => r.images.length > 0);
  if (rows.length === 0) return undefined;
  const rowH = rows.map((r) => Math.max(...r.images.map((i) => i.height)) * scale);
  const rowW = rows.map((r) => r.images.reduce((s, i) => s + i.width * scale, 0) + gap * (r.images.length - 1));
  const W = Math.max(...rowW);
  const H = rowH.reduce((a, b) => a + b, 0) + gap * (rows.length - 1);
  if (W * H > (opts.maxPixels ?? 4_000_000)) return undefined;
  const out = new Uint8Array(W * H * 3).fill(255);
  let y0 = 0;
  rows.forEach((r, ri) => {
    let x0 = 0;
    for (const im of r.images) {
      const rgba = imageToRgba(im.width, im.height, base64ToBytes(im.data), im.channels ?? 1, cmap);
      for (let y = 0; y < im.height * scale; y++) {
        const sy = Math.floor(y / scale);
        for (let x = 0; x < im.width * scale; x++) {
          const s = 4 * (sy * im.width + Math.floor(x / scale));
          const d = 3 * ((y0 + y) * W + x0 + x);
          out[d] = rgba[s];
          out[d + 1] = rgba[s + 1];
          out[d + 2] = rgba[s + 2];
        }
      }
      x0 += im.width * scale + gap;
    }
    y0 += rowH[ri] + gap;
  });
  return encodePng(W, H, out, 3);
}

// ---------------------------------------------------------------------------
// Output items for the kernel: every rich output with its fallbacks, as bytes
// ready for `new vscode.NotebookCellOutputItem(data, mime)` (richest first).

export interface OutputItemBytes {
  mime: string;
  data: Uint8Array;
}

export function trainingOutputItems(p: TrainingPayload): OutputItemBytes[] {
  return [
    { mime: TRAINING_MIME, data: utf8(JSON.stringify(p)) },
    { mime: TEXT_MIME, data: utf8(historyText(p)) },
  ];
}

export function imagesOutputItems(p: ImagesPayload, opts: { png?: boolean } = {}): OutputItemBytes[] {
  const items: OutputItemBytes[] = [{ mime: IMAGES_MIME, data: utf8(JSON.stringify(p)) }];
  const png = opts.png === false ? undefined : imagesPng(p);
  if (png) items.push({ mime: PNG_MIME, data: png });
  items.push({ mime: TEXT_MIME, data: utf8(imagesText(p)) });
  return items;
}

export function summaryOutputItems(p: SummaryPayload): OutputItemBytes[] {
  return [
    { mime: SUMMARY_MIME, data: utf8(JSON.stringify(p)) },
    { mime: TEXT_MIME, data: utf8(summaryText(p)) },
  ];
}
