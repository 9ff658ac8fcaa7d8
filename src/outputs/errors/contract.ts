// Reconstruction errors: application/vnd.aenb.errors+json, made by
// `show.errors` (./kernel.ts) and drawn by ./view.ts: the per-image error of
// a set of images (a histogram), the worst- and best-rebuilt images, and the
// mean error per class. The payload, its check and its text fallback. Pure:
// no Node, no DOM.
import { decodeFloat32 } from '../../common/base64';
import { COLORMAPS, type Colormap } from '../../common/colormap';
import { formatCount, formatMetric } from '../../common/formatting';
import { base64Length, checkImageShape, checkLabels, isB64, type ImageShape } from '../latent/contract';
import { isCount, isObject, jsonWithText } from '../payload';

export const ERRORS_MIME = 'application/vnd.aenb.errors+json';

export interface ErrorExample {
  /** Row in the tensor the user passed. */
  index: number;
  error: number;
  label?: number;
  /** uint8 base64 of one image. */
  original: string;
  reconstruction: string;
  /** uint8 base64 of the target the output was scored against (when it is not the input). */
  target?: string;
}

export interface ErrorsPayload {
  version: 1;
  title?: string;
  subject?: string;
  /** Per-image mean squared error between image and reconstruction. */
  metric: 'mse';
  /** 'targets': the error is against given targets (a denoiser's clean images), not the input itself. */
  against?: 'targets';
  count: number;
  /** One error per image, Float32 base64 [count]. */
  errors: string;
  labels?: number[];
  classNames?: string[];
  image: ImageShape;
  /** Highest errors first. */
  worst: ErrorExample[];
  /** Lowest errors first. */
  best: ErrorExample[];
  colormap?: Colormap;
}

export function checkErrorsPayload(v: unknown): string | undefined {
  if (!isObject(v)) return 'payload is not an object';
  if (v.metric !== 'mse') return 'metric must be "mse"';
  if (!isCount(v.count) || v.count < 1) return 'count must be a whole number >= 1';
  if (!isB64(v.errors) || v.errors.length !== base64Length(v.count * 4)) return `errors must be base64 Float32 [${v.count}]`;
  const labels = checkLabels(v, v.count);
  if (labels) return labels;
  const shape = checkImageShape(v.image);
  if (shape) return shape;
  const img = v.image as unknown as ImageShape;
  const bytes = img.width * img.height * img.channels;
  for (const k of ['worst', 'best'] as const) {
    const list = v[k];
    if (!Array.isArray(list)) return `${k} must be an array`;
    for (const [i, e] of list.entries()) {
      if (!isObject(e) || !isCount(e.index) || typeof e.error !== 'number' || !isB64(e.original) || !isB64(e.reconstruction)) {
        return `${k}[${i}] must be { index, error, original, reconstruction }`;
      }
      if (e.original.length !== base64Length(bytes) || e.reconstruction.length !== base64Length(bytes)) return `${k}[${i}] images must hold ${bytes} bytes`;
      if (e.label !== undefined && !isCount(e.label)) return `${k}[${i}].label must be a class index`;
      if (e.target !== undefined && (!isB64(e.target) || e.target.length !== base64Length(bytes))) return `${k}[${i}].target must hold ${bytes} bytes`;
    }
  }
  if (v.against !== undefined && v.against !== 'targets') return 'against must be "targets" when given';
  if (v.colormap !== undefined && !COLORMAPS.includes(v.colormap as Colormap)) return 'colormap must be viridis or gray';
  return undefined;
}


// ---------------------------------------------------------------------------
// Text fallback

export interface ErrorStats {
  mean: number;
  median: number;
  p95: number;
  max: number;
  min: number;
}

/** Summary statistics of the per-image errors (NaNs ignored). */
export function errorStats(errors: ArrayLike<number>): ErrorStats {
  const s = Array.from(errors).filter((e) => !Number.isNaN(e)).sort((a, b) => a - b);
  if (s.length === 0) return { mean: NaN, median: NaN, p95: NaN, max: NaN, min: NaN };
  const q = (f: number) => {
    const pos = f * (s.length - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(s.length - 1, lo + 1);
    return s[lo] + (s[hi] - s[lo]) * (pos - lo);
  };
  let sum = 0;
  for (const e of s) sum += e;
  return { mean: sum / s.length, median: q(0.5), p95: q(0.95), max: s[s.length - 1], min: s[0] };
}

export function errorsText(p: ErrorsPayload, errors: ArrayLike<number> = decodeFloat32(p.errors)): string {
  const st = errorStats(errors);
  const name = (l: number | undefined) => (l !== undefined && p.classNames ? ` (${p.classNames[l]})` : '');
  const lines = [
    `${p.title ? p.title + ': ' : ''}reconstruction error (mean squared error per image${p.against === 'targets' ? ', against the targets' : ''}) of ${formatCount(p.count)} ${p.subject ?? 'images'}`,
    `  mean ${formatMetric(st.mean)}, median ${formatMetric(st.median)}, 95th percentile ${formatMetric(st.p95)}, min ${formatMetric(st.min)}, max ${formatMetric(st.max)}`,
  ];
  if (p.worst.length) lines.push(`  worst: ${p.worst.map((e) => `#${e.index}${name(e.label)} ${formatMetric(e.error)}`).join(', ')}`);
  if (p.best.length) lines.push(`  best: ${p.best.map((e) => `#${e.index}${name(e.label)} ${formatMetric(e.error)}`).join(', ')}`);
  return lines.join('\n');
}

/** The output items of an errors payload (with its errors decoded, for the text). */
export function errorsOutputItems(p: ErrorsPayload, errors: ArrayLike<number>): { mime: string; data: Uint8Array }[] {
  return jsonWithText(ERRORS_MIME, p, errorsText(p, errors));
}
