// From a point of the 2-D map back to a latent code, and the other small
// computations the explorer does on codes: the inverse of the PCA projection,
// a distance-weighted blend of the nearest codes (UMAP has no inverse), linear
// interpolation between two codes, and decoder outputs to display pixels.

/** Code = mean + x · PC1 + y · PC2 (the components are unit length and orthogonal). */
export function pcaInverse(x: number, y: number, mean: Float32Array, components: Float32Array, out = new Float32Array(mean.length)): Float32Array {
  const d = mean.length;
  for (let i = 0; i < d; i++) out[i] = mean[i] + x * components[i] + y * components[d + i];
  return out;
}

/** The projection itself: [(code - mean) · PC1, (code - mean) · PC2]. */
export function pcaProject(code: ArrayLike<number>, mean: Float32Array, components: Float32Array): [number, number] {
  const d = mean.length;
  let x = 0;
  let y = 0;
  for (let i = 0; i < d; i++) {
    const c = code[i] - mean[i];
    x += c * components[i];
    y += c * components[d + i];
  }
  return [x, y];
}

/**
 * Indices of the `k` points nearest to (x, y), nearest first, with their
 * squared distances. `points` is [count, 2] interleaved. Brute force: 10,000
 * points take well under a millisecond.
 */
export function nearestPoints(points: Float32Array, count: number, x: number, y: number, k: number, skip?: (i: number) => boolean): { index: number[]; dist2: number[] } {
  const kk = Math.max(0, Math.min(k, count));
  const index: number[] = [];
  const dist2: number[] = [];
  if (kk === 0) return { index, dist2 };
  for (let i = 0; i < count; i++) {
    if (skip?.(i)) continue;
    const dx = points[2 * i] - x;
    const dy = points[2 * i + 1] - y;
    const d = dx * dx + dy * dy;
    if (index.length === kk && d >= dist2[kk - 1]) continue;
    // insert into the sorted list
    let j = index.length < kk ? index.length : kk - 1;
    if (index.length < kk) {
      index.push(i);
      dist2.push(d);
    }
    while (j > 0 && dist2[j - 1] > d) {
      index[j] = index[j - 1];
      dist2[j] = dist2[j - 1];
      j--;
    }
    index[j] = i;
    dist2[j] = d;
  }
  return { index, dist2 };
}

/**
 * A code for a point of a map that has no inverse (UMAP): the codes of the
 * `k` nearest points, weighted by inverse squared distance (Shepard's
 * method). On a point, it is that point's code. `scale` is a distance below
 * which two positions count as the same (a fraction of the map's extent).
 */
export function blendNearest(
  x: number,
  y: number,
  points: Float32Array,
  codes: Float32Array,
  count: number,
  dim: number,
  k: number,
  scale: number,
  skip?: (i: number) => boolean,
  out = new Float32Array(dim),
): { code: Float32Array; index: number[]; weights: number[] } {
  const { index, dist2 } = nearestPoints(points, count, x, y, k, skip);
  out.fill(0);
  if (index.length === 0) return { code: out, index, weights: [] };
  const eps = (scale * 1e-6) ** 2;
  if (dist2[0] <= eps) {
    out.set(codes.subarray(index[0] * dim, (index[0] + 1) * dim));
    return { code: out, index: [index[0]], weights: [1] };
  }
  const w = dist2.map((d) => 1 / d);
  const total = w.reduce((a, b) => a + b, 0);
  const weights = w.map((v) => v / total);
  for (let n = 0; n < index.length; n++) {
    const base = index[n] * dim;
    const wn = weights[n];
    for (let i = 0; i < dim; i++) out[i] += wn * codes[base + i];
  }
  return { code: out, index, weights };
}

/** `steps` codes from a to b, both included, evenly spaced: (1 - t)·a + t·b. */
export function interpolateCodes(a: ArrayLike<number>, b: ArrayLike<number>, steps: number): Float32Array[] {
  const out: Float32Array[] = [];
  const n = Math.max(2, Math.floor(steps));
  for (let s = 0; s < n; s++) {
    const t = s / (n - 1);
    const z = new Float32Array(a.length);
    for (let i = 0; i < a.length; i++) z[i] = (1 - t) * a[i] + t * b[i];
    out.push(z);
  }
  return out;
}

/** Decoder outputs to 0..255 pixels: `range[0]` is black, `range[1]` white; clamped; NaN is black. */
export function toPixels(values: ArrayLike<number>, range: readonly [number, number] = [0, 1], out = new Uint8Array(values.length)): Uint8Array {
  const lo = range[0];
  const span = range[1] - range[0] || 1;
  for (let i = 0; i < values.length; i++) {
    const v = ((values[i] - lo) / span) * 255;
    out[i] = v > 0 ? (v >= 255 ? 255 : Math.round(v)) : 0;
  }
  return out;
}

/** Extent of the points: [minX, maxX, minY, maxY] (a unit box around the origin when empty). */
export function extent(points: Float32Array, count: number): [number, number, number, number] {
  if (count === 0) return [-1, 1, -1, 1];
  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  for (let i = 0; i < count; i++) {
    const x = points[2 * i];
    const y = points[2 * i + 1];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
    if (y < y0) y0 = y;
    if (y > y1) y1 = y;
  }
  if (x0 === Infinity) return [-1, 1, -1, 1];
  if (x1 - x0 < 1e-9) {
    x0 -= 0.5;
    x1 += 0.5;
  }
  if (y1 - y0 < 1e-9) {
    y0 -= 0.5;
    y1 += 0.5;
  }
  return [x0, x1, y0, y1];
}
