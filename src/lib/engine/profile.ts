/**
 * Where a training step on the engine spends its time, for `npm run
 * bench:profile` (bench/profile-step.ts). Off unless started: each job then
 * costs one null check. While on, every job of every engine in this process
 * is timed on the calling thread, by kind (products by shape), and split
 * into the main thread's own parts and its wait for the workers' parts;
 * the lean step adds its own pieces (copying a batch in, the whole step).
 */

export interface ProfileEntry {
  /** Calls. */
  count: number;
  /** Milliseconds, on the calling thread, from the job's start to its end. */
  ms: number;
  /** Calls handed to the worker threads (the rest ran on the calling thread alone). */
  shared: number;
  /** Of `ms`, the time the calling thread waited for parts the workers took, after finishing its own. */
  waitMs: number;
  /** Parts the calling thread computed itself (of shared calls). */
  ownParts: number;
  /** Parts the workers computed. */
  workerParts: number;
}

let active: Map<string, ProfileEntry> | null = null;

/** Starts (or restarts) profiling: every later job is timed until `stopProfile`. */
export function startProfile(): void {
  active = new Map();
}

/** Stops profiling; returns what was recorded, by label. */
export function stopProfile(): Map<string, ProfileEntry> {
  const p = active ?? new Map<string, ProfileEntry>();
  active = null;
  return p;
}

/** The running profile, or null when off (callers check this before timing anything). */
export function profiling(): Map<string, ProfileEntry> | null {
  return active;
}

/** Adds one call to `label`. */
export function record(label: string, ms: number, shared = false, waitMs = 0, ownParts = 0, workerParts = 0): void {
  if (!active) return;
  let e = active.get(label);
  if (!e) active.set(label, (e = { count: 0, ms: 0, shared: 0, waitMs: 0, ownParts: 0, workerParts: 0 }));
  e.count++;
  e.ms += ms;
  if (shared) e.shared++;
  e.waitMs += waitMs;
  e.ownParts += ownParts;
  e.workerParts += workerParts;
}
