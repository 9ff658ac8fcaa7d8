// The y axis of the training chart in log scale: a range that ends on
// labelled values (1, 2, 3 and 5 times a power of ten), so that the labels
// reach as far as the data does (a loss down to 0.07 gets a 0.05 label, not a
// lowest label of 0.1), and labels on the in-between grid lines when too few
// of those values fall in the range.

const LABELLED = [1, 2, 3, 5];

/** `v` as m x 10^e with m in [1, 10). */
function split(v: number): { m: number; p: number } {
  const p = 10 ** Math.floor(Math.log10(v) + 1e-9);
  return { m: v / p, p };
}

/** The largest labelled value at or below `v`. */
export function labelledFloor(v: number): number {
  const { m, p } = split(v);
  for (let i = LABELLED.length - 1; i >= 0; i--) if (LABELLED[i] <= m + 1e-9) return LABELLED[i] * p;
  return 5 * (p / 10);
}

/** The smallest labelled value at or above `v`. */
export function labelledCeil(v: number): number {
  const { m, p } = split(v);
  for (const k of LABELLED) if (k >= m - 1e-9) return k * p;
  return 10 * p;
}

/** The log axis range for data from `min` to `max` (positive), with a little room on both sides. */
export function logRange(min: number, max: number): [number, number] {
  if (!(min > 0) || !(max > 0) || !Number.isFinite(min) || !Number.isFinite(max)) return [0.001, 1];
  return [labelledFloor(min / 1.05), labelledCeil(max * 1.05)];
}

function isLabelled(v: number): boolean {
  const { m } = split(v);
  return LABELLED.some((k) => Math.abs(m - k) < 1e-6);
}

/**
 * Labels for the log axis's grid lines (uPlot puts one at every integer
 * multiple of a power of ten): 1, 2, 3 and 5 times powers of ten, or every
 * line when fewer than three of those are in view (a narrow, zoomed range).
 */
export function logTickLabels(splits: readonly (number | null | undefined)[], format: (v: number) => string): string[] {
  const valid = (v: number | null | undefined): v is number => typeof v === 'number' && v > 0 && Number.isFinite(v);
  const few = splits.filter((v) => valid(v) && isLabelled(v)).length < 3;
  return splits.map((v) => (valid(v) && (few || isLabelled(v)) ? format(v) : ''));
}
