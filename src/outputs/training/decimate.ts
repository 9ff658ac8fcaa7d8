// Decimation for drawing long series: per pixel column keep the first, the
// lowest, the highest and the last point (an "M4" reduction), so the drawn
// line covers exactly the pixels the full series would cover. Pure functions
// (no DOM), used by the training chart.

/** First index i with x[i] >= v (x ascending). */
export function lowerBound(x: ArrayLike<number>, v: number, lo = 0, hi = x.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (x[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index i with x[i] > v (x ascending). */
export function upperBound(x: ArrayLike<number>, v: number, lo = 0, hi = x.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (x[mid] <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Indices (ascending) of the points of x[from..to) to draw with `buckets`
 * columns between x0 and x1. Points whose y is NaN are dropped (drawn as a gap
 * spanned by the line). When there are at most 4 points per bucket, all are kept.
 */
export function decimateRange(x: ArrayLike<number>, y: ArrayLike<number>, from: number, to: number, x0: number, x1: number, buckets: number, out: number[] = []): number[] {
  const n = to - from;
  if (n <= 0) return out;
  buckets = Math.max(1, Math.floor(buckets));
  if (n <= buckets * 4 || !(x1 > x0)) {
    for (let i = from; i < to; i++) if (y[i] === y[i]) out.push(i);
    return out;
  }
  const scale = buckets / (x1 - x0);
  let cur = -1;
  let first = -1;
  let last = -1;
  let lo = -1;
  let hi = -1;
  const flush = () => {
    if (first < 0) return;
    // first <= min(lo, hi) <= max(lo, hi) <= last: emit them ascending, without repeats
    const m1 = lo < hi ? lo : hi;
    const m2 = lo < hi ? hi : lo;
    out.push(first);
    if (m1 > first) out.push(m1);
    if (m2 > m1 && m2 > first) out.push(m2);
    if (last > m2 && last > first) out.push(last);
  };
  for (let i = from; i < to; i++) {
    const yi = y[i];
    if (yi !== yi) continue; // NaN
    let b = Math.floor((x[i] - x0) * scale);
    if (b < 0) b = 0;
    else if (b >= buckets) b = buckets - 1;
    if (b !== cur) {
      flush();
      cur = b;
      first = last = lo = hi = i;
      continue;
    }
    last = i;
    if (yi < y[lo]) lo = i;
    if (yi > y[hi]) hi = i;
  }
  flush();
  return out;
}

/**
 * Indices to draw for a chart showing [viewMin, viewMax] over `pixels` columns:
 * full detail (per pixel) inside the view, a coarse outline (`outsideBuckets`)
 * outside it so the data still spans its whole range (for reset / dblclick).
 */
export function decimateForView(x: ArrayLike<number>, y: ArrayLike<number>, viewMin: number, viewMax: number, pixels: number, outsideBuckets = 64): number[] {
  const n = x.length;
  const out: number[] = [];
  if (n === 0) return out;
  const a = lowerBound(x, viewMin);
  const b = upperBound(x, viewMax);
  // one point beyond each edge of the view, so lines reach the plot's borders
  const inFrom = Math.max(0, a - 1);
  const inTo = Math.min(n, b + 1);
  if (inFrom > 0) decimateRange(x, y, 0, inFrom, x[0], x[inFrom - 1], outsideBuckets, out);
  decimateRange(x, y, inFrom, inTo, viewMin, viewMax, pixels, out);
  if (inTo < n) decimateRange(x, y, inTo, n, x[inTo], x[n - 1], outsideBuckets, out);
  return out;
}
