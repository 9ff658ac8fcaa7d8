/** Small helpers the layer modules share. */

export const product = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

const EXTRAS: [string, string][] = [
  ['kernelRegularizer', 'kernel regularizer'],
  ['biasRegularizer', 'bias regularizer'],
  ['activityRegularizer', 'activity regularizer'],
  ['depthwiseRegularizer', 'depthwise regularizer'],
  ['gammaRegularizer', 'gamma regularizer'],
  ['betaRegularizer', 'beta regularizer'],
  ['kernelConstraint', 'kernel constraint'],
  ['biasConstraint', 'bias constraint'],
  ['gammaConstraint', 'gamma constraint'],
  ['betaConstraint', 'beta constraint'],
];

/**
 * What a layer adds to the loss or to the update besides its output (a
 * regularizer, a constraint), named, or null when nothing: the fast path
 * computes neither.
 */
export function kernelRegularizers(layer: object): string | null {
  const l = layer as Record<string, unknown>;
  for (const [key, what] of EXTRAS) if (l[key] !== null && l[key] !== undefined) return what;
  return null;
}
