/**
 * How the lean training step on WebAssembly computes: on how many threads,
 * and with fused multiply-add or not. One setting for the process (the
 * kernel sets it from its options; the environment variables AENB_THREADS
 * and AENB_FMA set the starting values, for benchmarks and scripts).
 *
 *  - threads: 'auto' (one per core the process may use) or a count. With 1,
 *    training runs exactly as it did before the parallel engine existed: on
 *    the backend's own heap, XNNPACK for the products, one thread, the same
 *    numbers bit for bit. With more, it runs on the parallel engine.
 *  - fma: whether the engine's products use relaxed SIMD's fused
 *    multiply-add: 'auto' (when the runtime has it), true (the same, said
 *    explicitly), or false (plain SIMD: every product rounded before it is
 *    added, as on machines without FMA).
 *
 * Fused multiply-add rounds once where plain SIMD rounds twice, so the two
 * give slightly different (equally good) numbers; so do different thread
 * counts in the last bits of the loss sums. Each is deterministic: the same
 * settings on the same machine give the same numbers.
 */
import { defaultThreadCount, relaxedSimdSupported } from './engine/features';
import { liveWorkers } from './engine/pool';
import { CTL } from './engine/protocol';

export interface ComputeOptions {
  threads: number | 'auto';
  fma: boolean | 'auto';
}

/** What the next training run will use, resolved for this process. */
export interface ComputeSettings {
  threads: number;
  fma: boolean;
  /** Whether this runtime has relaxed SIMD at all. */
  fmaAvailable: boolean;
  /** Whether the parallel engine runs (threads > 1), or the single-threaded XNNPACK path. */
  engine: boolean;
}

export const MAX_THREADS = CTL.MAX_THREADS;

function parseThreads(v: unknown, what: string): number | 'auto' {
  if (v === 'auto' || v === 0 || v === '0' || v === '') return 'auto';
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_THREADS) {
    throw new RangeError(`${what} must be 'auto' (or 0) or a whole number from 1 to ${MAX_THREADS}, got ${JSON.stringify(v)}.`);
  }
  return n;
}

function parseFma(v: unknown, what: string): boolean | 'auto' {
  if (v === 'auto' || v === undefined || v === '') return 'auto';
  if (v === true || v === 'on' || v === '1' || v === 'true') return true;
  if (v === false || v === 'off' || v === '0' || v === 'false') return false;
  throw new RangeError(`${what} must be 'auto', on or off, got ${JSON.stringify(v)}.`);
}

function fromEnvironment(): ComputeOptions {
  try {
    return { threads: parseThreads(process.env.AENB_THREADS ?? 'auto', 'AENB_THREADS'), fma: parseFma(process.env.AENB_FMA ?? 'auto', 'AENB_FMA') };
  } catch {
    return { threads: 'auto', fma: 'auto' };
  }
}

let options: ComputeOptions = fromEnvironment();

/** What setComputeOptions takes (a cell's type-checker reads this type; strings are accepted as the settings spell them). */
export interface ComputeOptionsInput {
  /** 'auto' (or 0): one thread per core; 1: the single-threaded path; more: the parallel engine on that many threads. */
  threads?: number | 'auto';
  /** Fused multiply-add on the parallel engine: 'auto' or true (where the runtime has relaxed SIMD), false (plain SIMD). */
  fma?: boolean | 'auto' | 'on' | 'off';
}

/**
 * Sets the threads and FMA of the next training runs (a run in progress keeps
 * what it started with), e.g. `setComputeOptions({ threads: 1 })`. Throws on a
 * bad value.
 */
export function setComputeOptions(next: ComputeOptionsInput): void {
  const threads = 'threads' in next ? parseThreads(next.threads, 'threads') : options.threads;
  const fma = 'fma' in next ? parseFma(next.fma, 'fma') : options.fma;
  options = { threads, fma };
}

export function computeOptions(): ComputeOptions {
  return { ...options };
}

/** The settings resolved for this process: 'auto' turned into a count and a yes or no. */
export function computeSettings(): ComputeSettings {
  const threads = options.threads === 'auto' ? defaultThreadCount() : options.threads;
  const fmaAvailable = relaxedSimdSupported();
  const fma = options.fma === false ? false : fmaAvailable;
  return { threads, fma, fmaAvailable, engine: threads > 1 };
}

/** One line for people: "2 threads, fused multiply-add". */
export function describeCompute(s: ComputeSettings = computeSettings(), o: ComputeOptions = options): string {
  if (!s.engine) return '1 thread (XNNPACK)';
  return `${s.threads} threads, ${s.fma ? 'fused multiply-add' : o.fma === false || s.fmaAvailable ? 'plain SIMD (fused multiply-add off)' : 'plain SIMD (no relaxed SIMD here)'}`;
}

/** What the process computes with, and the engine's worker threads alive right now (0 between training runs). */
export function computeStatus(): ComputeSettings & { options: ComputeOptions; liveWorkers: number; description: string } {
  const s = computeSettings();
  return { ...s, options: computeOptions(), liveWorkers: liveWorkers(), description: describeCompute(s) };
}
