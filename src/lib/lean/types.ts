/**
 * The per-layer interface of the lean training step.
 *
 * A model on the fast path is a chain of *ops*, each with a forward and a
 * backward pass over buffers on the wasm heap. A layer module (one file in
 * ./layers/ per tfjs layer type) turns one layer into one or more ops (a
 * dense layer with an activation becomes a matrix-product op and an
 * in-place activation op), or says why it cannot. The step (step.ts) wires
 * the ops together: it allocates their output and gradient buffers, runs
 * forward, the loss, backward and the optimizer update, and nothing in it
 * knows any layer type.
 *
 * Data layout: every buffer holds `rows` samples one after another, each
 * sample in row-major order of its shape without the batch axis, which is
 * tfjs's own layout (NHWC for images). Buffers are float32.
 *
 * Ops touch memory only through the `StepRuntime` they are given (and
 * allocate only through `BuildContext.heap`), so that another runtime (a
 * threaded one on shared memory, say) can run the same ops. Where the
 * arithmetic happens:
 *  - matrix products: `StepRuntime.gemm` (on the wasm backend: XNNPACK
 *    through its `_FusedMatMul`, layout chosen per product in gemm.ts),
 *    called by the dense and transposed-dense ops;
 *  - convolutions, pooling, up-sampling, normalisation: `StepRuntime.c`
 *    (the compiled C kernels of src/lib/wasm/kernels.c);
 *  - element-wise work: `StepRuntime.simd` (wasm-simd.ts) and
 *    `StepRuntime.sigmoid` / `tanh` / `elu` / `eluGrad` (on the wasm
 *    backend, its own kernels, so values match the generic path bit for bit);
 *  - the loss and the optimizer update: step.ts and optimizers.ts.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Buf } from './heap';
import type { SimdKernels } from '../wasm-simd';
import type { CExports } from '../wasm/kernels';

/** A trainable variable on the fast path, with this step's gradient. */
export interface Param {
  variable: tf.Variable;
  size: number;
  /** [rows, cols] of a rank-2 kernel; [1, size] otherwise. */
  rows: number;
  cols: number;
  /** Index in the trainable-variable list (= the optimizer's slot index). */
  index: number;
  /** This step's gradient, on the heap. */
  grad: Buf;
  /** Whether `grad` holds this step's first contribution yet (a tied kernel gets several). */
  written: boolean;
}

/** The buffers one op works on: its input and output, and their gradients. */
export interface OpBuffers {
  /** Input, [rows, prod(inShape)]. */
  x: Buf;
  /** Output, [rows, prod(outShape)] (the same buffer as x for in-place and alias ops). */
  y: Buf;
  /** Gradient of the loss w.r.t. y. */
  dy: Buf;
  /** Where the gradient w.r.t. x goes; null for the first op (nothing below needs it). Same buffer as dy for in-place and alias ops. */
  dx: Buf | null;
}

/**
 * How an op's output buffer relates to its input:
 *  - 'new': a buffer of its own;
 *  - 'inPlace': it overwrites its input (element-wise ops). Its backward may
 *    read only its output, and it runs on a buffer of its own when the op
 *    before it reads its output in backward, or when it is first;
 *  - 'alias': the same values under another shape (flatten, reshape).
 */
export type OutputMode = 'new' | 'inPlace' | 'alias';

/** One step of the chain. */
export interface LeanOp {
  /** For messages: the layer's name and class, e.g. `conv2d_1 (Conv2D)`. */
  readonly label: string;
  /** Shape of one sample going in, and coming out. */
  readonly inShape: number[];
  readonly outShape: number[];
  readonly output: OutputMode;
  /** Its backward reads its own output (so an in-place op after it must not overwrite it). */
  readonly backwardReadsOutput: boolean;
  /** An activation op, for the loss to fuse with (a sigmoid before binary cross-entropy). */
  readonly activation?: ActivationKind;
  /** Computes y from x. For an in-place op, x and y may be the same buffer or not. */
  forward(rt: StepRuntime, io: OpBuffers, rows: number): void;
  /**
   * Writes dx from dy (when dx is not null) and adds this op's parameter
   * gradients (through `rt.gradTarget` / `rt.contributed`). For an in-place
   * op dx and dy may be the same buffer.
   */
  backward(rt: StepRuntime, io: OpBuffers, rows: number): void;
  /** Called once before each step (per-step state: a dropout mask, batch statistics). */
  beginStep?(rt: StepRuntime, rows: number): void;
}

export type ActivationKind =
  | { kind: 'linear' }
  | { kind: 'relu' }
  | { kind: 'leakyRelu'; alpha: number }
  | { kind: 'sigmoid' }
  | { kind: 'tanh' }
  | { kind: 'elu' };

/** Memory for an op's own buffers (a dropout mask, batch statistics), allocated once when the step is built. */
export interface HeapLike {
  /** `size` float32s. */
  alloc(size: number): Buf;
  /** `count` 32-bit words (index tables, geometry for the C kernels); returns the byte address. */
  allocWords(count: number): number;
  /** The memory as int32s / float32s, to fill what was allocated (read again after allocating). */
  readonly i32: Int32Array;
  readonly f32: Float32Array;
}

/** What a layer module gets while building its ops. */
export interface BuildContext {
  heap: HeapLike;
  /** The C kernels, for the sizes of their scratch buffers. */
  readonly c: CExports;
  /** The largest number of rows a step runs. */
  batchSize: number;
  /**
   * The trained parameter for `v`: null when `v` is not in the list of
   * variables being trained (a frozen layer: its value is used, not
   * updated); a string (the reason) when `v` cannot be used.
   */
  param(v: tf.Variable, role: string): Param | null | string;
  /** The op label for a layer: `name (ClassName)`. */
  label(layer: { name: string; getClassName(): string }): string;
}

/** What a layer module returns: its ops, or why the layer cannot take the fast path. */
export type BuildResult = LeanOp[] | { refused: string };

/** One module per layer type: which tfjs classes it handles, and how to build their ops. */
export interface LayerModule {
  /** The class names (`layer.getClassName()`) this module handles. */
  readonly classNames: readonly string[];
  /**
   * Checks the layer (configuration, weights, shapes) and builds its ops for
   * inputs of `inShape` (one sample). Must not allocate before it knows it
   * can build: a refusal after allocating is fine (the heap is freed), but
   * wasteful.
   */
  build(layer: tf.layers.Layer, inShape: number[], ctx: BuildContext): BuildResult;
}

/** out[m, n] = op(A)[m, k]·op(B)[k, n] (+ bias[n]), op(X) = Xᵀ when transX: A is [k, m] when transA, B is [n, k] when transB. */
export interface GemmArgs {
  a: Buf;
  transA?: boolean;
  b: Buf;
  transB?: boolean;
  m: number;
  k: number;
  n: number;
  bias?: Buf | null;
  out: Buf;
  /** Add the product to `out` instead of overwriting it. */
  accumulate?: boolean;
}

/** The element-wise SIMD kernels' methods (wasm-simd.ts): what the backend's heap runs on one thread, and the parallel engine on all. */
export type SimdOps = { [K in keyof SimdKernels]: SimdKernels[K] } & {
  /**
   * Adam over every variable at once (where the memory has it: the engine
   * runs one job for all of them instead of one per variable), with the same
   * results as `adam` on each.
   */
  adamGroup?(vars: readonly { w: number; g: number; m: number; v: number; n: number }[], b1: number, b2: number, omb1: number, omb2: number, oma1: number, oma2: number, eps: number, nlr: number): void;
};

/**
 * Where a step's buffers live and what computes on them: the backend's own
 * heap on one thread (memory.ts: XNNPACK and the SIMD kernels), or the
 * parallel engine's shared memory on every core (engine-memory.ts). Ops see
 * it only through StepRuntime and HeapLike, so they run on either.
 */
export interface StepMemory extends HeapLike {
  readonly f32: Float32Array;
  readonly i32: Int32Array;
  readonly simd: SimdOps;
  /** The compiled C kernels (src/lib/wasm/kernels.c), instantiated on this memory. */
  readonly c: CExports;
  /** Whether the element-wise work runs in WebAssembly SIMD (else JS). */
  readonly usesSimd: boolean;
  /** For messages: what computes, e.g. "XNNPACK, 1 thread" or "2 threads, fused multiply-add". */
  readonly description: string;
  gemm(args: GemmArgs): void;
  sigmoid(x: Buf, y: Buf, n: number): void;
  tanh(x: Buf, y: Buf, n: number): void;
  elu(x: Buf, y: Buf, n: number): void;
  eluGrad(y: Buf, dy: Buf, dx: Buf, n: number): void;
  copy(dst: Buf, src: Buf, n: number): void;
  randomUniform(shape: number[], seed: number | undefined, out: Buf): void;
  /** A variable's values in this memory (see StepRuntime.variable). */
  variable(v: tf.Variable, write?: boolean): Buf;
  /** Rows `order[start..start+rows)` (or start.. when order is null) of a float32 tensor of rows of `width` values, into dst. */
  loadRows(src: tf.Tensor, dst: Buf, width: number, order: Int32Array | null, start: number, rows: number): void;
  /** A new step begins: per-step caches (transposed copies) are stale. */
  beginStep(): void;
  /** `b` is about to be written: forget what was derived from it. */
  invalidate(b: Buf | null): void;
  /** The update wrote these parameters (and the optimizer's slots). */
  updated(params: Param[]): void;
  /** Makes every tfjs variable the step wrote hold its current value (a no-op where the step writes them in place). */
  flush(): void;
  /** Frees everything (ends the engine's threads). */
  dispose(): Promise<void>;
}

/** What ops use while a step runs. */
export interface StepRuntime {
  /** The largest number of rows a step runs. */
  readonly batchSize: number;
  /** The memory every Buf lives in, as float32s / int32s. Read again after any call that may allocate. */
  readonly f32: Float32Array;
  readonly i32: Int32Array;
  /** Element-wise SIMD kernels (wasm-simd.ts), on the same memory (split between threads on the engine). */
  readonly simd: SimdOps;
  /** The compiled C kernels (src/lib/wasm/kernels.c: convolutions, pooling, resizing, batch normalisation), on the same memory. */
  readonly c: CExports;
  /** A matrix product. */
  gemm(args: GemmArgs): void;
  /** y = σ(x), tanh(x), elu(x) over n values (x and y may be the same buffer). */
  sigmoid(x: Buf, y: Buf, n: number): void;
  tanh(x: Buf, y: Buf, n: number): void;
  elu(x: Buf, y: Buf, n: number): void;
  /** dx = dy where y ≥ 0, dy·(y + 1) elsewhere (tfjs's EluGrad; dx may be dy). */
  eluGrad(y: Buf, dy: Buf, dx: Buf, n: number): void;
  /** dst[0..n) = src[0..n). */
  copy(dst: Buf, src: Buf, n: number): void;
  /** Fills out with tfjs's uniform random numbers in [0, 1), drawn as `tf.randomUniform(shape, 0, 1, 'float32', seed)` draws them. */
  randomUniform(shape: number[], seed: number | undefined, out: Buf): void;
  /**
   * A variable's current values, in the step's memory: the variable's own
   * data on the backend's heap (made its only owner first, when `write`), or
   * the engine's copy of it, written back to the variable by `flush`.
   */
  variable(v: tf.Variable, write?: boolean): Buf;
  /** Where a parameter's next gradient contribution goes (the gradient itself, or scratch that `contributed` adds). */
  gradTarget(p: Param): Buf;
  /** Records that the contribution written to `gradTarget(p)` is complete. */
  contributed(p: Param): void;
  /** Scratch of at least `size` floats, shared by all ops (valid until the next call by anyone). */
  scratch(size: number): Buf;
}
