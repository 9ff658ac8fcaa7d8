/**
 * Seeded pseudo-random numbers for reproducible runs (shuffling, seeds for
 * tfjs initialisers and noise). mulberry32: small, fast, good enough for
 * shuffling; not for cryptography.
 */
export type Rng = () => number;

/** A generator whose state can be read and set: what a training checkpoint saves to replay the same shuffles. */
export interface StatefulRng extends Rng {
  /** The 32-bit state; setting it makes the generator continue from there. */
  state: number;
}

export function mulberry32(seed: number): StatefulRng {
  const rng = (() => {
    const a = (rng.state + 0x6d2b79f5) >>> 0;
    rng.state = a;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }) as StatefulRng;
  rng.state = seed >>> 0;
  return rng;
}

/** A seed for a generator, from `seed` when given (checked), else a random one. */
export function seedOrRandom(seed: number | undefined): number {
  if (seed === undefined) return Math.floor(Math.random() * 2 ** 32);
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}.`);
  return Math.trunc(seed);
}

/** A random generator: seeded when `seed` is given, else from Math.random. */
export function makeRng(seed?: number): Rng {
  if (seed === undefined) return Math.random;
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}.`);
  return mulberry32(Math.trunc(seed));
}

/** Derives a stable child seed (for one layer, one epoch...) from a parent seed. */
export function deriveSeed(seed: number, index: number): number {
  return Math.floor(mulberry32((Math.trunc(seed) ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0)() * 2 ** 31);
}

/** Fisher-Yates shuffle of 0..n-1 into an Int32Array. */
export function permutation(n: number, rng: Rng): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = out[i];
    out[i] = out[j];
    out[j] = t;
  }
  return out;
}
