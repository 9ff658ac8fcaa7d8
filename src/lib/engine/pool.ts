/**
 * The engine's threads: the main thread plus `threads - 1` workers
 * (worker_threads) that share one WebAssembly memory and run each job
 * together, each on its part (protocol.ts says how jobs pass).
 *
 * Waiting: between the jobs of a training step the gaps are microseconds, so
 * both sides spin for a while before they sleep (Atomics.wait). Nothing
 * waits forever: a worker that does not answer within `timeoutMs` (it
 * crashed, or the machine starved it) ends the job with an error, and a
 * worker's exception comes back as the job's error.
 *
 * Lifetime: a pool lives as long as one training run. `dispose` tells the
 * workers to quit and terminates them; every worker started is counted
 * until its thread has exited (`liveWorkers`), which is what the tests of
 * stop, interrupt and restart check.
 */
import { Worker } from 'node:worker_threads';
import workerSource from 'aenb:engine-worker';
import { profiling } from './profile';
import { claimPart, claimWord, CTL, OP } from './protocol';

let live = 0;
const exited = new Set<() => void>();

/** Worker threads of every pool in this process that have not exited yet. */
export function liveWorkers(): number {
  return live;
}

/** Resolves when no worker thread of any pool is left in this process. */
export function allWorkersExited(): Promise<void> {
  if (live === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const check = () => {
      if (live === 0) {
        exited.delete(check);
        resolve();
      }
    };
    exited.add(check);
  });
}

export interface PoolOptions {
  memory: WebAssembly.Memory;
  engineModule: WebAssembly.Module;
  /** The C kernels' shared-memory build, and the top of each worker's stack for them (cStacks[t - 1] for thread t). */
  cModule: WebAssembly.Module;
  cStacks: number[];
  /** Byte address of the control block (CTL.WORDS int32 words, 8-byte aligned) in `memory`. */
  ctl: number;
  threads: number;
  /** Spins before sleeping, for workers waiting for a job and for the main thread waiting for workers. */
  spin?: number;
  /** How long a job or the start-up may wait for a worker before it fails. Default 60 s. */
  timeoutMs?: number;
  /** The worker's source (default: worker.ts as bundled by scripts/build.mjs). */
  workerSource?: string;
}

export class WorkerPool {
  readonly threads: number;
  private readonly workers: Worker[] = [];
  private readonly ctl: Int32Array;
  private readonly memory: WebAssembly.Memory;
  private readonly spin: number;
  private readonly timeoutMs: number;
  private job = 0;
  private started = false;
  private readonly options: PoolOptions;
  /** Jobs handed to the workers so far. */
  published = 0;
  /** Of the last job: the parts the calling thread computed, and (while profiling) how long it then waited for the others. */
  lastOwnParts = 0;
  lastWaitMs = 0;
  private disposed = false;
  /** Set when a worker exited or failed to start: every later job fails with it. */
  private broken: string | null = null;

  constructor(options: PoolOptions) {
    const { memory, threads } = options;
    if (!Number.isInteger(threads) || threads < 1 || threads > CTL.MAX_THREADS) throw new RangeError(`threads must be a whole number from 1 to ${CTL.MAX_THREADS}, got ${threads}`);
    this.threads = threads;
    this.memory = memory;
    this.ctl = new Int32Array(memory.buffer, options.ctl, CTL.WORDS);
    this.spin = options.spin ?? 20_000;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.ctl.fill(0);
    this.options = options;
  }

  /**
   * Starts the workers, once: on the first job that is shared, or on
   * `whenReady`. An engine that is created and disposed without running a
   * shared job (a model the fast path then refuses) never starts a thread.
   */
  private start(): void {
    if (this.started || this.disposed) return;
    this.started = true;
    const { memory, threads } = this;
    const source = this.options.workerSource ?? workerSource;
    for (let t = 1; t < threads; t++) {
      const w = new Worker(source, {
        eval: true,
        workerData: { memory, engineModule: this.options.engineModule, cModule: this.options.cModule, cStack: this.options.cStacks[t - 1], ctl: this.options.ctl, thread: t, threads, spin: this.spin },
        name: `aenb-engine-${t}`,
        stdout: false,
        stderr: false,
      });
      live++;
      w.on('error', (e) => (this.broken ??= `engine thread ${t} failed: ${e.message}`));
      w.on('exit', (code) => {
        live--;
        if (!this.disposed) this.broken ??= `engine thread ${t} exited (code ${code})`;
        for (const f of [...exited]) f();
      });
      this.workers.push(w);
    }
  }

  /** Starts the workers if they are not yet, and resolves when every one is running (jobs never wait for that: the threads that run share the work). */
  whenReady(): Promise<void> {
    this.start();
    return new Promise((resolve, reject) => {
      const deadline = Date.now() + this.timeoutMs;
      const poll = () => {
        if (this.broken) return reject(new Error(this.broken));
        if (Atomics.load(this.ctl, CTL.READY) >= this.threads - 1) return resolve();
        if (Date.now() > deadline) return reject(new Error(`the engine's ${this.threads - 1} worker thread(s) did not start within ${this.timeoutMs / 1000} s`));
        setTimeout(poll, 2);
      };
      poll();
    });
  }

  /** The job's argument words (write them, then call `run`). */
  get args(): Int32Array {
    return this.ctl.subarray(CTL.ARGS, CTL.ARGS + CTL.ARG_COUNT);
  }

  /** The same words as float32. */
  get fargs(): Float32Array {
    return new Float32Array(this.ctl.buffer, this.ctl.byteOffset + CTL.ARGS * 4, CTL.ARG_COUNT);
  }

  /** Per-part float64 results of the last job. */
  partials(): Float64Array {
    return new Float64Array(this.ctl.buffer, this.ctl.byteOffset + CTL.F64 * 4, this.threads);
  }

  /**
   * Runs job `op` (its arguments already written) in `parts` parts (at
   * least one per thread; more let a thread that finishes early take over
   * work from one that started late): `part(i)` computes part i on the main
   * thread; the workers compute the parts they claim. Returns when every
   * part is done. Throws when a worker failed or does not answer.
   */
  run(op: number, part: (index: number) => void, parts: number = this.threads): void {
    if (this.disposed) throw new Error('the engine was disposed');
    if (!Number.isInteger(parts) || parts < 1 || parts > CTL.MAX_PARTS) throw new RangeError(`a job has 1 to ${CTL.MAX_PARTS} parts, got ${parts}`);
    if (this.threads === 1) {
      for (let p = 0; p < parts; p++) part(p);
      this.lastOwnParts = parts;
      return;
    }
    if (this.broken) throw new Error(this.broken);
    this.start();
    const ctl = this.ctl;
    const job = (this.job = (this.job + 1) | 0);
    this.published++;
    ctl[CTL.OP] = op;
    ctl[CTL.PARTS] = parts;
    Atomics.store(ctl, CTL.DONE, 0);
    Atomics.store(ctl, CTL.CLAIM, claimWord(job, 0));
    Atomics.store(ctl, CTL.SEQ, job);
    Atomics.notify(ctl, CTL.SEQ);
    let ownError: unknown;
    let own = 0;
    for (let p = claimPart(ctl, job, parts); p >= 0; p = claimPart(ctl, job, parts)) {
      try {
        part(p);
      } catch (e) {
        ownError ??= e;
      }
      own++;
    }
    // Wait for the parts the workers took, even when one of ours failed: they are still using this job's buffers.
    if (own < parts) {
      const t0 = profiling() ? performance.now() : 0;
      this.waitFor(CTL.DONE, parts - own, 'finish their part of a job');
      if (t0) this.lastWaitMs = performance.now() - t0;
    } else this.lastWaitMs = 0;
    this.lastOwnParts = own;
    if (Atomics.load(ctl, CTL.ERROR)) {
      const bytes = new Uint8Array(ctl.buffer, ctl.byteOffset + CTL.MESSAGE * 4, CTL.MESSAGE_BYTES);
      let end = bytes.indexOf(0);
      if (end < 0) end = bytes.length;
      this.broken = `engine worker failed: ${Buffer.from(bytes.slice(0, end)).toString('utf8')}`;
      throw new Error(this.broken);
    }
    if (ownError !== undefined) throw ownError;
  }

  private waitFor(word: number, count: number, what: string): void {
    const ctl = this.ctl;
    let spins = 0;
    let deadline = 0;
    for (;;) {
      const v = Atomics.load(ctl, word);
      if (v >= count) return;
      if (++spins < this.spin) continue;
      if (this.broken) throw new Error(this.broken);
      const now = Date.now();
      if (deadline === 0) deadline = now + this.timeoutMs;
      else if (now > deadline) {
        this.broken = `the engine's worker threads did not ${what} within ${this.timeoutMs / 1000} s`;
        throw new Error(this.broken);
      }
      Atomics.wait(ctl, word, v, 50);
    }
  }

  /** Tells the workers to quit and terminates them; resolves when their threads have exited. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    if (this.workers.length) {
      this.ctl[CTL.OP] = OP.QUIT;
      Atomics.store(this.ctl, CTL.SEQ, (this.job = (this.job + 1) | 0));
      Atomics.notify(this.ctl, CTL.SEQ);
    }
    await Promise.all(this.workers.map((w) => w.terminate().catch(() => undefined)));
    this.workers.length = 0;
  }

  /** Whether `dispose` has run. */
  get isDisposed(): boolean {
    return this.disposed;
  }

  /** The memory the pool's threads share. */
  get sharedMemory(): WebAssembly.Memory {
    return this.memory;
  }
}
