/**
 * The parallel compute engine for the lean training step on WebAssembly.
 *
 * tfjs-backend-wasm runs on one thread in Node (its threaded build is off
 * there), and its heap is a memory of its own that no other thread can see.
 * The engine has a shared WebAssembly memory of its own instead, a pool of
 * worker threads on it (pool.ts), a packing-free matrix product and a few
 * kernels in C (native/engine.c; with relaxed SIMD's fused multiply-add
 * where the runtime has it), and the SIMD element-wise kernels of
 * wasm-simd.ts. Every job is cut in one part per thread (a large product in
 * up to PARTS_PER_THREAD per thread, claimed by whichever thread is free); a
 * part of a matrix product is a block of rows or of columns, so every element is
 * computed exactly as on one thread, and 1 thread and N threads give the
 * same products bit for bit (sums of partial losses differ in the last bits
 * only).
 *
 * An engine belongs to one training run: `create` starts its workers,
 * `dispose` ends them. Buffers are allocated once (`alloc`) and stay valid
 * until `dispose`; addresses are byte addresses in `memory`.
 */
import { SimdKernels } from '../wasm-simd';
import { cKernels, cKernelsModule, type CExports } from '../wasm/kernels';
import { defaultThreadCount, relaxedSimdSupported, sharedMemorySupported, simdSupported } from './features';
import { type EngineExports, engineModule } from './kernels';
import { WorkerPool } from './pool';
import { runPart, type JobContext } from './jobs';
import { ADAM_GROUP_SIZE, CTL, OP } from './protocol';
import { profiling, record } from './profile';

/** Job names for profiles. */
const OP_NAMES = new Map(Object.entries(OP).map(([name, code]) => [code as number, name.toLowerCase()]));

export { allWorkersExited, liveWorkers } from './pool';
export { profiling, record as recordProfile, startProfile, stopProfile, type ProfileEntry } from './profile';
export { defaultThreadCount, relaxedSimdNodeFlags, relaxedSimdSupported, RELAXED_SIMD_FLAG } from './features';

/** One variable of an Adam update: byte addresses of its weights, gradient and two moments, and its size in floats. */
export interface AdamVariable {
  w: number;
  g: number;
  m: number;
  v: number;
  n: number;
}

/** A block of float32s in the engine's memory. */
export interface EngineBuf {
  /** A number unique among this engine's buffers. */
  id: number;
  /** Byte address. */
  ptr: number;
  /** Float32 index (ptr / 4). */
  off: number;
  /** Number of floats. */
  size: number;
}

export interface EngineOptions {
  /** Threads, the main one included (default: one per core). 1 runs everything on the main thread. */
  threads?: number;
  /** Fused multiply-add through relaxed SIMD: 'auto' (default) uses it when the runtime has it. */
  fma?: boolean | 'auto';
  /** Spins before a waiting thread sleeps (tests lower it). */
  spin?: number;
  /** How long a job may wait for a worker before it fails (default 60 s). */
  timeoutMs?: number;
  /** Jobs with less work than this stay on the calling thread (default 4096, about a few microseconds; tests set 0). */
  smallJob?: number;
  /** The order the product goes through C (see engine.c's gemm): 'auto' (default) times both on the first calls of each shape and keeps the faster. */
  gemmOrder?: 0 | 1 | 'auto';
  /** Parts per thread a large product is cut into, at most (default 8), and the fewest multiply-adds a part has (default 250,000; tests set 1). */
  partsPerThread?: number;
  partMadds?: number;
}

/** How a product of one shape is run: the loop order chosen, and the timings it was chosen from. */
interface GemmTuning {
  order: 0 | 1 | -1;
  times: [number[], number[]];
}

/** Calls of each loop order timed before one is kept. */
const TUNING_CALLS = 3;

/** Why the engine cannot run in this runtime, or null when it can. */
export function engineUnsupported(): string | null {
  if (!simdSupported()) return 'this runtime has no WebAssembly SIMD';
  if (!sharedMemorySupported()) return 'this runtime cannot share WebAssembly memory between threads';
  return null;
}

/** The product `gemm` computes. */
export interface GemmArgs {
  /** C is m×n; the sum runs over k. */
  m: number;
  n: number;
  k: number;
  /** A: [m, k] row-major, or [k, m] when `transA` (then the product uses Aᵀ). */
  a: number;
  transA?: boolean;
  /** Row stride of A as stored, in floats (default: its width, k or m). */
  lda?: number;
  /** B: [k, n] row-major, or [n, k] when `transB` (then the product uses Bᵀ, read as stored; not with `transA`). */
  b: number;
  transB?: boolean;
  ldb?: number;
  /** C: [m, n] row-major. */
  c: number;
  ldc?: number;
  /** A bias added to every row of C ([n]), or 0. */
  bias?: number;
  /** Add to C instead of overwriting it. */
  accumulate?: boolean;
}

/** Where binary cross-entropy clips predictions (losses.ts), and the largest values its two halves reach there (as in wasm-simd.ts). */
const CLIP_LO = Math.fround(1e-7);
const CLIP_HI = Math.fround(1 - 1e-7);
const CAP_NEG_LN_P = Math.fround(-Math.log(CLIP_LO));
const CAP_NEG_LN_1MP = Math.fround(-Math.log(Math.fround(1 - CLIP_HI)));

const PAGE = 65536;
const MAX_PAGES = 32768; // 2 GiB
/** Bytes of stack each thread's instance of the C kernels gets. */
const C_STACK_BYTES = 64 * 1024;
/**
 * Rows of A per register tile of the product (engine.c: MR·2 vectors of
 * sums). 5 was faster than 4 (a few percent, batch by batch in one process);
 * at 6, V8 runs out of vector registers and the product falls to a quarter.
 */
const MR = 5;
/**
 * How a large product is shared: cut into up to PARTS_PER_THREAD parts per
 * thread, each of at least PART_MADDS multiply-adds (about 10 µs), which the
 * threads claim one at a time. With one part per thread, a worker that
 * started late, or that the machine slowed, held the main thread waiting for
 * its whole half: 1.4 ms of a 10 ms step of the deep model at batch 256. With
 * more parts the thread that is free takes the next one, and the two end
 * within a part of each other. Measured batch by batch in one process, the
 * deep model's step at batch 256 took 7.1 ms instead of 9.3 ms (the same
 * results: no split changes a product's result, engine.c).
 */
const PARTS_PER_THREAD = 8;
const PART_MADDS = 250_000;
/** Jobs with less work than this (see `run`) stay on the calling thread: a few microseconds at most. */
const SMALL_JOB = 4096;


export class Engine {
  readonly threads: number;
  readonly fma: boolean;
  readonly memory: WebAssembly.Memory;
  /** The SIMD element-wise kernels on the engine's memory, for the main thread's own work. */
  readonly simd: SimdKernels;
  private readonly pool: WorkerPool;
  private readonly cx: JobContext;
  private top: number;
  private nextId = 1;
  private view: Float32Array;
  private disposed = false;
  private readonly smallJob: number;
  private readonly gemmOrder: 0 | 1 | 'auto';
  private readonly partsPerThread: number;
  /** How many parts the last job was cut into (tests, profiles). */
  lastParts = 0;
  private readonly partMadds: number;
  private readonly tunings = new Map<string, GemmTuning>();
  private inline = 0;
  /** The C kernels on this thread (src/lib/wasm/kernels.c, shared-memory build). */
  readonly c: CExports;
  /** Scratch of the C jobs: each part's work area, then the filter gradients of parts 1.. (grown as needed). */
  private cScratch: EngineBuf | null = null;
  private i32view: Int32Array;

  private constructor(options: EngineOptions) {
    const unsupported = engineUnsupported();
    if (unsupported) throw new Error(`the parallel engine cannot run: ${unsupported}`);
    const threads = options.threads ?? defaultThreadCount();
    if (!Number.isInteger(threads) || threads < 1 || threads > CTL.MAX_THREADS) throw new RangeError(`threads must be a whole number from 1 to ${CTL.MAX_THREADS}, got ${threads}`);
    const fmaWanted = options.fma ?? 'auto';
    const fmaAvailable = relaxedSimdSupported();
    if (fmaWanted === true && !fmaAvailable) throw new Error('fused multiply-add was asked for, but this runtime has no relaxed SIMD (Node 20 needs --experimental-wasm-relaxed-simd)');
    this.threads = threads;
    this.smallJob = options.smallJob ?? SMALL_JOB;
    this.gemmOrder = options.gemmOrder ?? 'auto';
    this.partsPerThread = options.partsPerThread ?? Math.max(1, Math.min(PARTS_PER_THREAD, Math.floor(CTL.MAX_PARTS / threads)));
    this.partMadds = options.partMadds ?? PART_MADDS;
    if (!Number.isInteger(this.partsPerThread) || this.partsPerThread < 1 || threads * this.partsPerThread > CTL.MAX_PARTS) throw new RangeError(`partsPerThread must be a whole number from 1 to ${Math.floor(CTL.MAX_PARTS / threads)} for ${threads} threads, got ${this.partsPerThread}`);
    if (!(this.partMadds >= 1)) throw new RangeError(`partMadds must be at least 1, got ${this.partMadds}`);
    this.fma = fmaWanted === 'auto' ? fmaAvailable : fmaWanted;
    this.memory = new WebAssembly.Memory({ initial: 16, maximum: MAX_PAGES, shared: true });
    this.view = new Float32Array(this.memory.buffer);
    const module = engineModule(this.fma);
    this.simd = SimdKernels.for(this.memory, () => this.f32);
    // The kernels keep nothing in memory: the heap starts after a first kilobyte left unused.
    this.top = 1024;
    const ctl = this.allocBytes(CTL.WORDS * 4);
    // Every thread runs the C kernels on a stack of its own: the workers' are here, this thread's comes with its instance.
    const cStacks: number[] = [];
    for (let t = 1; t < threads; t++) cStacks.push(this.allocBytes(C_STACK_BYTES) + C_STACK_BYTES);
    this.c = cKernels(this.memory, (bytes) => this.allocBytes(bytes));
    this.i32view = new Int32Array(this.memory.buffer);
    this.pool = new WorkerPool({ memory: this.memory, engineModule: module, cModule: cKernelsModule(true), cStacks, ctl, threads, spin: options.spin, timeoutMs: options.timeoutMs });
    this.cx = {
      native: new WebAssembly.Instance(module, { env: { memory: this.memory } }).exports as unknown as EngineExports,
      simd: this.simd,
      args: new Int32Array(this.memory.buffer, ctl + CTL.ARGS * 4, CTL.ARG_COUNT),
      fargs: new Float32Array(this.memory.buffer, ctl + CTL.ARGS * 4, CTL.ARG_COUNT),
      partials: new Float64Array(this.memory.buffer, ctl + CTL.F64 * 4, CTL.MAX_THREADS),
      c: this.c,
    };
  }

  /** An engine: its memory now, its worker threads on the first shared job (or `ready`). */
  static create(options: EngineOptions = {}): Engine {
    return new Engine(options);
  }

  /** Starts the worker threads and resolves when every one is running (jobs need not wait for it: the threads that run share the work). */
  ready(): Promise<void> {
    return this.pool.whenReady();
  }

  /** The memory as float32s (views change when it grows: read this again after an allocation). */
  get f32(): Float32Array {
    if (this.view.byteLength !== this.memory.buffer.byteLength) this.view = new Float32Array(this.memory.buffer);
    return this.view;
  }

  private allocBytes(bytes: number): number {
    const ptr = this.top;
    const end = ptr + ((Math.max(bytes, 4) + 63) & ~63);
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      if (have / PAGE + pages > MAX_PAGES) throw new Error(`the engine's memory is full: ${(end / 2 ** 20).toFixed(0)} MB asked for, at most ${MAX_PAGES * PAGE / 2 ** 30} GiB`);
      this.memory.grow(pages);
    }
    this.top = end;
    return ptr;
  }

  /** `size` float32s, zeroed, 64-byte aligned. */
  alloc(size: number): EngineBuf {
    if (this.disposed) throw new Error('the engine was disposed');
    const ptr = this.allocBytes(size * 4);
    return { id: this.nextId++, ptr, off: ptr >>> 2, size };
  }

  /** Jobs so far: handed to the worker threads, and kept on the calling thread (small ones, or all with 1 thread). */
  get jobCounts(): { shared: number; inline: number } {
    return { shared: this.pool.published, inline: this.inline };
  }

  /** Bytes in use. */
  get usedBytes(): number {
    return this.top;
  }

  // -------------------------------------------------------------------------
  // Jobs. Each runs on every thread and returns when all parts are done.

  private setArgs(ints: number[], floats?: [number, number][]): void {
    const a = this.cx.args;
    for (let i = 0; i < ints.length; i++) a[i] = ints[i];
    if (floats) for (const [i, v] of floats) this.cx.fargs[i] = v;
  }

  /**
   * Runs a job on every thread, or all of it on this one when it is too
   * small to be worth waking the others (`work`: about one unit per element,
   * or per 16 multiply-adds): the parts are the same either way, and so is
   * the result.
   */
  private run(op: number, work: number, label?: string, parts: number = this.threads): void {
    const cx = this.cx;
    const t0 = profiling() ? performance.now() : 0;
    if (this.threads > 1 && work < this.smallJob) {
      for (let p = 0; p < parts; p++) runPart(cx, op, p, parts);
      this.lastParts = parts;
      this.inline++;
      if (t0) record(label ?? OP_NAMES.get(op)!, performance.now() - t0);
      return;
    }
    this.lastParts = parts;
    this.pool.run(op, (part) => runPart(cx, op, part, parts), parts);
    if (t0) {
      const pool = this.pool;
      const shared = this.threads > 1;
      record(label ?? OP_NAMES.get(op)!, performance.now() - t0, shared, pool.lastWaitMs, shared ? pool.lastOwnParts : 0, shared ? parts - pool.lastOwnParts : 0);
    }
  }

  /** Σ of the parts' float64 results, in part order (the same order whichever thread computed which part). */
  private sumPartials(): number {
    let s = 0;
    for (let p = 0; p < this.threads; p++) s += this.cx.partials[p];
    return s;
  }

  /** C = op(A)·B (+ bias) (+ C): see GemmArgs. */
  gemm(g: GemmArgs): void {
    const { m, n, k } = g;
    if (m <= 0 || n <= 0) return;
    if (g.transB) {
      if (g.transA) throw new Error('gemm: transA and transB together are not supported (transpose one operand first)');
      // Each thread reads all of one operand: share A by rows unless it has too few of them.
      const cols = this.threads > 1 && m < 8 * this.threads;
      this.setArgs([m, n, k, g.a, g.lda ?? k, g.b, g.ldb ?? k, g.c, g.ldc ?? n, g.bias ?? 0, g.accumulate ? 1 : 0, cols ? 1 : 0]);
      this.run(OP.GEMM_BT, (m * n * k) / 16, profiling() ? `gemm ${m}x${n}x${k} Bᵀ` : undefined, this.productParts(m * n * k));
      return;
    }
    const lda = g.lda ?? (g.transA ? m : k);
    const [ars, acs] = g.transA ? [1, lda] : [lda, 1];
    const T = this.threads;
    // Each thread reads all of one operand and its share of the other: share the bigger one (B is k×n, A m×k).
    const cols = T > 1 && n >= m && n >= 16 * T;
    // The loop order: fixed, or the faster of the two as timed on this shape's first calls (the same result either way).
    let tuning: GemmTuning | undefined;
    let order: 0 | 1;
    if (this.gemmOrder !== 'auto') order = this.gemmOrder;
    else {
      const key = `${m} ${n} ${k} ${g.transA ? 1 : 0} ${cols ? 1 : 0}`;
      tuning = this.tunings.get(key);
      if (!tuning) this.tunings.set(key, (tuning = { order: -1, times: [[], []] }));
      if (tuning.order >= 0) {
        order = tuning.order as 0 | 1;
        tuning = undefined;
      } else order = (tuning.times[0].length + tuning.times[1].length) % 2 as 0 | 1;
    }
    this.setArgs([m, n, k, g.a, ars, acs, g.b, g.ldb ?? n, g.c, g.ldc ?? n, g.bias ?? 0, g.accumulate ? 1 : 0, MR, cols ? 1 : 0, order]);
    const t0 = tuning ? performance.now() : 0;
    this.run(OP.GEMM, (m * n * k) / 16, profiling() ? `gemm ${m}x${n}x${k}${g.transA ? ' Aᵀ' : ''}` : undefined, this.productParts(m * n * k));
    if (tuning) {
      tuning.times[order].push(performance.now() - t0);
      if (tuning.times[1].length >= TUNING_CALLS) tuning.order = Math.min(...tuning.times[0]) <= Math.min(...tuning.times[1]) ? 0 : 1;
    }
  }

  /** Parts of a product of `madds` multiply-adds: one per thread, more when it is large (PARTS_PER_THREAD). */
  private productParts(madds: number): number {
    const T = this.threads;
    if (T === 1) return 1;
    return T * Math.max(1, Math.min(this.partsPerThread, Math.floor(madds / (T * this.partMadds))));
  }

  /** The loop order kept for each product shape so far ("m n k transA splitColumns" → 0 or 1; -1 while timing). */
  get gemmOrders(): Record<string, number> {
    return Object.fromEntries([...this.tunings].map(([k, t]) => [k, t.order]));
  }

  /** dst[cols, rows] = src[rows, cols]ᵀ */
  transpose(src: number, rows: number, cols: number, dst: number): void {
    this.setArgs([src, rows, cols, dst]);
    this.run(OP.TRANSPOSE, rows * cols);
  }

  /** out[j] = Σ_r x[r, j] (float32 sums, rows in order). */
  colSums(x: number, rows: number, cols: number, out: number): void {
    this.setArgs([x, rows, cols, out]);
    this.run(OP.COL_SUMS, rows * cols);
  }

  /** x[r, j] += bias[r] */
  addRowBias(x: number, rows: number, cols: number, bias: number): void {
    this.setArgs([x, rows, cols, bias]);
    this.run(OP.ADD_ROW_BIAS, rows * cols);
  }

  /**
   * Sigmoid + binary cross-entropy from the logits (SimdKernels.bceLogits);
   * returns Σ loss, summed part by part. With FMA, the same arithmetic in C
   * with its polynomials' multiply-adds fused.
   */
  bceLogits(z: number, t: number, dz: number, n: number, invN: number): number {
    if (this.fma) {
      this.setArgs([z, t, dz, n], [[4, invN], [5, CAP_NEG_LN_P], [6, CAP_NEG_LN_1MP]]);
      this.run(OP.BCE_FUSED, 8 * n);
    } else {
      this.setArgs([z, t, dz, n], [[4, invN]]);
      this.run(OP.BCE_LOGITS, 8 * n);
    }
    return this.sumPartials();
  }

  /** dz = (y - t)·scale; returns Σ (y - t)². */
  mse(y: number, t: number, dz: number, n: number, scale: number): number {
    this.setArgs([y, t, dz, n], [[4, scale]]);
    this.run(OP.MSE, n);
    return this.sumPartials();
  }

  adam(w: number, g: number, m: number, v: number, n: number, b1: number, b2: number, omb1: number, omb2: number, oma1: number, oma2: number, eps: number, nlr: number): void {
    this.setArgs([w, g, m, v, n], [[5, b1], [6, b2], [7, omb1], [8, omb2], [9, oma1], [10, oma2], [11, eps], [12, nlr]]);
    this.run(OP.ADAM, 4 * n);
  }

  /**
   * Adam over several variables (addresses w, g, m, v and size n each) in
   * one job per ADAM_GROUP_SIZE variables instead of one per variable: the
   * threads wake once for all of them, and every element gets the same
   * result as from `adam`.
   */
  adamGroup(vars: readonly AdamVariable[], b1: number, b2: number, omb1: number, omb2: number, oma1: number, oma2: number, eps: number, nlr: number): void {
    for (let s = 0; s < vars.length; s += ADAM_GROUP_SIZE) {
      const group = vars.slice(s, s + ADAM_GROUP_SIZE);
      const a = this.cx.args;
      const f = this.cx.fargs;
      a[0] = group.length;
      f[1] = b1; f[2] = b2; f[3] = omb1; f[4] = omb2; f[5] = oma1; f[6] = oma2; f[7] = eps; f[8] = nlr;
      let total = 0;
      group.forEach((v, i) => {
        a.set([v.w, v.g, v.m, v.v, v.n], 9 + 5 * i);
        total += v.n;
      });
      this.run(OP.ADAM_GROUP, 4 * total);
    }
  }

  sgd(w: number, g: number, n: number, c: number): void {
    this.setArgs([w, g, n], [[3, c]]);
    this.run(OP.SGD, n);
  }

  leakyReluForward(x: number, n: number, alpha: number): void {
    this.setArgs([x, n], [[2, alpha]]);
    this.run(OP.LEAKY_RELU, n);
  }

  reluForward(x: number, n: number): void {
    this.setArgs([x, n]);
    this.run(OP.RELU, n);
  }

  leakyReluBackward(dz: number, a: number, n: number, alpha: number): void {
    this.setArgs([dz, a, n], [[3, alpha]]);
    this.run(OP.LEAKY_RELU_BACKWARD, n);
  }

  reluBackward(dz: number, a: number, n: number): void {
    this.setArgs([dz, a, n]);
    this.run(OP.RELU_BACKWARD, n);
  }

  sigmoidBackward(dz: number, a: number, n: number): void {
    this.setArgs([dz, a, n]);
    this.run(OP.SIGMOID_BACKWARD, n);
  }

  /** dst += src */
  add(dst: number, src: number, n: number): void {
    this.setArgs([dst, src, n]);
    this.run(OP.ADD, n);
  }

  /** tfjs's RMSprop (SimdKernels.rmsprop); mg = 0 for the plain one. */
  rmsprop(w: number, g: number, ms: number, mom: number, mg: number, n: number, decay: number, omd: number, momentum: number, lr: number, eps: number): void {
    this.setArgs([w, g, ms, mom, mg, n], [[6, decay], [7, omd], [8, momentum], [9, lr], [10, eps]]);
    this.run(OP.RMSPROP, 4 * n);
  }

  /** dz *= 1 − a² (tanh's derivative, from its output). */
  tanhBackward(dz: number, a: number, n: number): void {
    this.setArgs([dz, a, n]);
    this.run(OP.TANH_BACKWARD, n);
  }

  /** dst = a·b, element by element. */
  mul(dst: number, a: number, b: number, n: number): void {
    this.setArgs([dst, a, b, n]);
    this.run(OP.MUL, n);
  }

  /** y = σ(x) over n values (x and y may be the same buffer). */
  sigmoid(x: number, y: number, n: number): void {
    this.setArgs([x, y, n]);
    this.run(OP.SIGMOID, 8 * n);
  }

  /** y = tanh(x) */
  tanh(x: number, y: number, n: number): void {
    this.setArgs([x, y, n]);
    this.run(OP.TANH, 8 * n);
  }

  /** y = elu(x) = x > 0 ? x : eˣ − 1 */
  elu(x: number, y: number, n: number): void {
    this.setArgs([x, y, n]);
    this.run(OP.ELU, 8 * n);
  }

  /** dx = y ≥ 0 ? dy : dy·(y + 1) (tfjs's EluGrad); dx may be dy. */
  eluGrad(y: number, dy: number, dx: number, n: number): void {
    this.setArgs([y, dy, dx, n]);
    this.run(OP.ELU_GRAD, n);
  }

  /** dst[0..n) = src[0..n) */
  copy(dst: number, src: number, n: number): void {
    this.setArgs([src, dst, n]);
    this.run(OP.COPY, n / 2);
  }

  // -------------------------------------------------------------------------
  // The C kernels (src/lib/wasm/kernels.c) over images [n0, n1), cut by images (c-jobs.ts).
  // `geom` is the address of the geometry words (kernels.ts: convWords / poolWords).

  private get i32(): Int32Array {
    if (this.i32view.byteLength !== this.memory.buffer.byteLength) this.i32view = new Int32Array(this.memory.buffer);
    return this.i32view;
  }

  /** Byte address of at least `floats` floats of scratch for the C jobs. */
  private cScratchFloats(floats: number): number {
    if (!this.cScratch || this.cScratch.size < floats) this.cScratch = this.alloc(Math.max(floats, 2 * (this.cScratch?.size ?? 0)));
    return this.cScratch.ptr;
  }

  /** Multiply-adds per image of a convolution (for the small-job threshold). */
  private convWork(geom: number, n0: number, n1: number): number {
    const g = this.i32.subarray(geom >>> 2, (geom >>> 2) + 9);
    return ((n1 - n0) * g[4] * g[5] * g[6] * g[7] * g[8] * g[3]) / 16;
  }

  /** Input values per image of a pooling (for the small-job threshold). */
  private poolWork(geom: number, n0: number, n1: number): number {
    const g = this.i32.subarray(geom >>> 2, (geom >>> 2) + 4);
    return (n1 - n0) * g[1] * g[2] * g[3];
  }

  conv2dForward(geom: number, x: number, w: number, bias: number, y: number, n0: number, n1: number): void {
    const wf = this.c.conv2d_work_floats(geom);
    const work = this.cScratchFloats(wf * this.threads);
    this.setArgs([geom, x, w, bias, y, work, wf, n0, n1]);
    this.run(OP.C_CONV_FORWARD, this.convWork(geom, n0, n1));
  }

  conv2dBackpropInput(geom: number, dy: number, w: number, dx: number, n0: number, n1: number): void {
    const wf = this.c.conv2d_work_floats(geom);
    const work = this.cScratchFloats(wf * this.threads);
    this.setArgs([geom, dy, w, dx, work, wf, n0, n1]);
    this.run(OP.C_CONV_BACKPROP_INPUT, this.convWork(geom, n0, n1));
  }

  /** dw += the filter gradient over images [n0, n1): each part sums its own images, and the parts are added in order. */
  conv2dBackpropFilter(geom: number, x: number, dy: number, dw: number, n0: number, n1: number): void {
    const wf = this.c.conv2d_work_floats(geom);
    const g = this.i32.subarray(geom >>> 2, (geom >>> 2) + 9);
    const dwFloats = g[7] * g[8] * g[3] * g[6];
    const parts = this.threads;
    const work = this.cScratchFloats(wf * parts + dwFloats * (parts - 1));
    const partial = work + wf * parts * 4;
    if (parts > 1) this.f32.fill(0, partial >>> 2, (partial >>> 2) + dwFloats * (parts - 1));
    this.setArgs([geom, x, dy, dw, work, wf, n0, n1, partial, dwFloats]);
    this.run(OP.C_CONV_BACKPROP_FILTER, this.convWork(geom, n0, n1));
    for (let p = 1; p < parts; p++) this.simd.add(dw, partial + (p - 1) * dwFloats * 4, dwFloats);
  }

  maxPoolForward(geom: number, x: number, y: number, argmax: number, n0: number, n1: number): void {
    this.setArgs([geom, x, y, argmax, n0, n1]);
    this.run(OP.C_MAX_POOL_FORWARD, this.poolWork(geom, n0, n1));
  }

  maxPoolBackward(geom: number, dy: number, argmax: number, dx: number, n0: number, n1: number): void {
    this.setArgs([geom, dy, argmax, dx, n0, n1]);
    this.run(OP.C_MAX_POOL_BACKWARD, this.poolWork(geom, n0, n1));
  }

  avgPoolForward(geom: number, x: number, y: number, n0: number, n1: number): void {
    this.setArgs([geom, x, y, n0, n1]);
    this.run(OP.C_AVG_POOL_FORWARD, this.poolWork(geom, n0, n1));
  }

  avgPoolBackward(geom: number, dy: number, dx: number, scale: number, n0: number, n1: number): void {
    this.setArgs([geom, dy, dx, n0, n1], [[5, scale]]);
    this.run(OP.C_AVG_POOL_BACKWARD, this.poolWork(geom, n0, n1));
  }

  upsample(backward: boolean, src: number, inH: number, inW: number, c: number, sh: number, sw: number, dst: number, n0: number, n1: number): void {
    this.setArgs([src, inH, inW, c, sh, sw, dst, n0, n1]);
    this.run(backward ? OP.C_UPSAMPLE_BACKWARD : OP.C_UPSAMPLE_FORWARD, (n1 - n0) * inH * inW * c * sh * sw);
  }

  /** Ends the workers; the memory goes when nothing refers to it. Resolves when every worker thread has exited. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.pool.dispose();
  }

  get isDisposed(): boolean {
    return this.disposed;
  }
}
