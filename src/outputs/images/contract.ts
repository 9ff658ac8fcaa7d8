// Image grids: application/vnd.aenb.images+json. Rows of small images
// ("Original", "Noisy", "Reconstructed"): the payload, its check, its text
// fallback and a builder from pixels. Pure: no Node, no DOM (the PNG fallback
// is made in the kernel: ./kernel.ts).
import { bytesToBase64 } from '../../common/base64';
import { COLORMAPS, type Colormap } from '../../common/colormap';
import { isCount, isObject } from '../payload';

/** Rows of images ("Original", "Noisy", "Reconstructed"). */
export const IMAGES_MIME = 'application/vnd.aenb.images+json';

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
  /** The colormap grayscale images start with; without it, the one rule's default (DEFAULT_COLORMAP in src/common/colormap.ts: gray). */
  colormap?: Colormap;
  /** Preferred on-screen size of one image pixel in CSS px (default: fit ~96 px per image). */
  pixelScale?: number;
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

/** Values in [0, 1] (e.g. a tensor's data) to uint8 0..255, clamped and rounded. NaN becomes 0. */
export function unitFloatsToUint8(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    out[i] = v > 0 ? (v >= 1 ? 255 : Math.round(v * 255)) : 0;
  }
  return out;
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
