/**
 * What the main thread and the workers of the engine's pool share: the
 * layout of the control block in shared memory, the job codes, and how a
 * job is cut into parts. Both sides import this module, so they always
 * agree.
 *
 * A job is cut into parts: one per thread, or several per thread for a
 * large product (the engine decides; PARTS holds the count). The main thread
 * writes the job's code, part count and arguments, opens its parts for claiming
 * (CLAIM = job number and part 0), clears DONE and moves SEQ (waking
 * sleeping workers). Then every thread, the main one included, claims parts
 * one at a time (a compare-and-swap on CLAIM, which names the job, so a
 * worker that wakes late can never claim a part of a newer job with an
 * older job's arguments), computes each, and counts it in DONE; the main
 * thread returns when DONE counts every part. A worker that is slow to wake,
 * or that the machine does not schedule, just gets fewer parts: the job
 * never waits for a thread that has not started on it.
 *
 * Atomics order it all: what the main thread wrote before SEQ moved is what
 * a worker reads after it sees SEQ move, and what a thread wrote before
 * DONE moved is what the main thread reads after.
 */

/** Int32 word offsets in the control block. Counters sit on cache lines of their own. */
export const CTL = {
  SEQ: 0,
  /** (job number << 8) | the next part to claim. */
  CLAIM: 16,
  DONE: 32,
  READY: 48,
  ERROR: 56,
  /** How many parts the current job is cut into (written with OP, before SEQ moves). */
  PARTS: 60,
  OP: 64,
  /** Job arguments: int32 words, or float32 through a Float32Array on the same bytes. */
  ARGS: 65,
  ARG_COUNT: 31,
  /** Per-part float64 results (partial sums): 8-byte aligned, one slot per part. */
  F64: 96,
  MAX_THREADS: 64,
  /** Parts a job may have: CLAIM keeps the next part in its low 8 bits. */
  MAX_PARTS: 255,
  /** A worker's error message, UTF-8, NUL-padded. */
  MESSAGE: 240,
  MESSAGE_BYTES: 256,
  WORDS: 304,
} as const;

/** Job codes. */
export const OP = {
  QUIT: 1,
  GEMM: 2,
  TRANSPOSE: 3,
  COL_SUMS: 4,
  BCE_LOGITS: 5,
  MSE: 6,
  ADAM: 7,
  SGD: 8,
  LEAKY_RELU: 9,
  RELU: 10,
  LEAKY_RELU_BACKWARD: 11,
  RELU_BACKWARD: 12,
  SIGMOID_BACKWARD: 13,
  ADD: 14,
  ADD_ROW_BIAS: 15,
  SIGMOID: 16,
  TANH: 17,
  ELU: 18,
  ELU_GRAD: 19,
  COPY: 20,
  RMSPROP: 21,
  TANH_BACKWARD: 22,
  MUL: 23,
  /** bceLogits in C, with fused multiply-adds (the FMA build). */
  BCE_FUSED: 24,
  /** The C kernels of src/lib/wasm/kernels.c, cut by images (c-jobs.ts). Keep them consecutive: C_CONV_FORWARD first, C_UPSAMPLE_BACKWARD last. */
  C_CONV_FORWARD: 25,
  C_CONV_BACKPROP_INPUT: 26,
  C_CONV_BACKPROP_FILTER: 27,
  C_MAX_POOL_FORWARD: 28,
  C_MAX_POOL_BACKWARD: 29,
  C_AVG_POOL_FORWARD: 30,
  C_AVG_POOL_BACKWARD: 31,
  C_UPSAMPLE_FORWARD: 32,
  C_UPSAMPLE_BACKWARD: 33,
  /** Adam over up to ADAM_GROUP variables in one job (each thread takes its share of every variable). */
  ADAM_GROUP: 34,
  /** A product with B transposed (engine.c gemmBt), read as it is stored. */
  GEMM_BT: 35,
} as const;

/**
 * Variables per ADAM_GROUP job. Its arguments: [count, b1, b2, 1 − b1, 1 − b2,
 * 1 − β1ᵗ, 1 − β2ᵗ, ε, −lr (float32 words 1-8), then w, g, m, v, n per variable].
 */
export const ADAM_GROUP_SIZE = Math.floor((CTL.ARG_COUNT - 9) / 5);

/**
 * The range of items part `part` of `parts` gets: items are grouped in units
 * of `unit` (a register tile, a SIMD vector), units are shared out as evenly
 * as they go, and the last part also takes what is left over.
 */
export function partRange(total: number, unit: number, part: number, parts: number): [number, number] {
  const units = Math.floor(total / unit);
  const begin = Math.floor((units * part) / parts) * unit;
  const end = part === parts - 1 ? total : Math.floor((units * (part + 1)) / parts) * unit;
  return [begin, end];
}

/** The CLAIM word for part `part` of job `job`. */
export function claimWord(job: number, part: number): number {
  return ((job & 0xffffff) << 8) | part;
}

/**
 * Claims the next part of job `job`: its index, or -1 when every part of it
 * is taken or the job is no longer the current one.
 */
export function claimPart(ctl: Int32Array, job: number, parts: number): number {
  for (;;) {
    const word = Atomics.load(ctl, CTL.CLAIM);
    const part = word & 0xff;
    if (word >>> 8 !== (job & 0xffffff) || part >= parts) return -1;
    if (Atomics.compareExchange(ctl, CTL.CLAIM, word, word + 1) === word) return part;
  }
}

/** Which argument of an element-wise job (of the SIMD kernels, wasm-simd.ts) holds its element count; -1 for other jobs. */
export function elementCountArg(op: number): number {
  switch (op) {
    case OP.BCE_LOGITS:
    case OP.MSE:
    case OP.MUL:
      return 3;
    case OP.ADAM:
      return 4;
    case OP.RMSPROP:
      return 5;
    case OP.LEAKY_RELU:
    case OP.RELU:
      return 1;
    case OP.SGD:
    case OP.LEAKY_RELU_BACKWARD:
    case OP.RELU_BACKWARD:
    case OP.SIGMOID_BACKWARD:
    case OP.TANH_BACKWARD:
    case OP.ADD:
      return 2;
    default:
      return -1;
  }
}
