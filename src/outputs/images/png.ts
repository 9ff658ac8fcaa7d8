// The PNG fallback of image grids: the whole grid as one PNG (VS Code shows
// it where our renderer is absent, and GitHub shows it in a diff). Runs in
// Node only (the kernel), so the deflate stream comes from node:zlib; the
// renderer never encodes PNGs (its "Save PNG" uses the canvas).
import { deflateSync } from 'node:zlib';
import { base64ToBytes } from '../../common/base64';
import { colormapOrDefault, imageToRgba, type Colormap } from '../../common/colormap';
import type { OutputItemBytes } from '../kind';
import { jsonWithText } from '../payload';
import { IMAGES_MIME, imagesText, type ImagesPayload } from './contract';

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
  const idat = deflateSync(raw);
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

/**
 * The whole grid as one PNG (gap pixels between images, rows stacked), with the
 * colormap applied to grayscale images: the `image/png` fallback.
 * Returns undefined when the grid is empty or larger than `maxPixels`.
 */
export function imagesPng(p: ImagesPayload, opts: { scale?: number; gap?: number; colormap?: Colormap; maxPixels?: number } = {}): Uint8Array | undefined {
  const scale = Math.max(1, Math.floor(opts.scale ?? 2));
  const gap = opts.gap ?? 2;
  const cmap = opts.colormap ?? colormapOrDefault(p.colormap);
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

/** The grid's items: its JSON, the whole grid as a PNG (unless `png: false` or too large), its text. */
export function imagesOutputItems(p: ImagesPayload, opts: { png?: boolean } = {}): OutputItemBytes[] {
  const [json, text] = jsonWithText(IMAGES_MIME, p, imagesText(p));
  const png = opts.png === false ? undefined : imagesPng(p);
  return png ? [json, { mime: 'image/png', data: png }, text] : [json, text];
}
