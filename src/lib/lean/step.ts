/**
 * The lean training step: one batch of forward, loss, backward and
 * optimizer update on the wasm heap, through the ops the layer modules
 * build (see types.ts), with no tensors at all.
 *
 * The generic loop (`optimizer.minimize` over a layers model) runs about a
 * hundred small kernels per batch, each allocating a tensor, recording the
 * tape and crossing the JS/wasm boundary. Here every buffer is allocated
 * once, when the step is built:
 *  - the batch is copied row by row into a buffer on the heap (or, under
 *    tfjs's `model.fit`, read in place from the batch tensor tfjs made);
 *  - each op writes its output into a buffer of its own, in place into its
 *    input (element-wise ops), or nowhere (reshapes); gradients flow down
 *    through two buffers used in turn;
 *  - the loss is fused with the sigmoid that produces the probabilities for
 *    binary cross-entropy: from the logits z, with s = σ(z) and
 *    p = clip(s, ε, 1-ε), dL/dz = (s - t) / n where ε <= s <= 1-ε and 0
 *    elsewhere (what the chain through clip, log and sigmoid gives, without
 *    its rounding), and the loss is computed as softplus(z) - t·z;
 *  - the optimizer updates the variables and its own slots in place
 *    (optimizers.ts).
 *
 * Safety: a variable whose memory is shared with another tensor (a reshaped
 * view, a tensor given to setWeights) gets a private copy before the first
 * in-place write; XNNPACK's packed-weight cache, keyed by tensor id, is
 * dropped for every id whose data changed; nothing here keeps a tensor, so
 * `tf.memory().numTensors` does not move.
 */
import * as tf from '@tensorflow/tfjs';
import { computeSettings, type ComputeSettings } from '../compute';
import { Engine, engineUnsupported, profiling, recordProfile } from '../engine';
import { EngineMemory } from './engine-memory';
import type { GemmStrategy } from './gemm';
import { type Buf, Heap, wasmInternals } from './heap';
import { layerModule } from './layers';
import { product } from './layers/util';
import { BackendMemory } from './memory';
import { updateRuleFor, type UpdateRule } from './optimizers';
import { chainOf, leanLossOf, lossName, type LeanLoss } from './plan';
import type { BuildContext, GemmArgs, LeanOp, Param, SimdOps, StepMemory, StepRuntime } from './types';
import type { CExports } from '../wasm/kernels';

const f32 = Math.fround;

/** Runs training steps; returns each batch's mean loss. */
export interface LeanStep {
  /** One step on rows `order[start..start+size)` of the x and y given at creation (rows start.. when order is null). */
  step(order: Int32Array | null, start: number, size: number): number;
  /** One step on a batch given as tensors (x: [rows, ...inputShape], y: [rows, ...outputShape]). */
  stepOn(x: tf.Tensor, y: tf.Tensor): number;
  /**
   * One step on rows `order[start..start+size)` of x and y (rows start.. when
   * order is null), read where the tensors lie: no batch tensor is made. y
   * may be x itself (an autoencoder's targets are its inputs): then the rows
   * are loaded once.
   */
  stepRows(x: tf.Tensor, y: tf.Tensor, order: Int32Array | null, start: number, size: number): number;
  /** Whether the element-wise work runs in WebAssembly SIMD (else JS). */
  readonly usesSimd: boolean;
  /** The ops of the chain, in order (for tests and messages). */
  readonly ops: readonly LeanOp[];
  /** What computes, for messages: "XNNPACK, 1 thread", "2 threads, fused multiply-add". */
  readonly description: string;
  /**
   * Makes the model's variables and the optimizer's slots hold what the steps
   * so far computed. On one thread the step writes them in place and this
   * does nothing; on the parallel engine it copies them back. Call it before
   * anything else may read them: callbacks, validation, a pause that lets
   * the event loop run, the end of training.
   */
  flush(): void;
  /** Flushes, then frees everything; on the parallel engine, resolves once its threads have ended. */
  dispose(): Promise<void>;
}

export type LeanStrategy = GemmStrategy;

export interface LeanStepArgs {
  /** The network to train (our models pass theirs: `AutoencoderModel.model`). */
  model: tf.LayersModel;
  /** The loss function (or its tfjs-layers name). */
  loss: unknown;
  optimizer: tf.Optimizer;
  /** The variables the generic path would give `optimizer.minimize`, in its order (which decides the optimizer's slots). */
  variables: tf.Variable[];
  /** The most rows a step runs. */
  batchSize: number;
  /** Training data for `step(order, start, size)`; optional when only `stepOn` is used. */
  x?: tf.Tensor;
  y?: tf.Tensor;
  /** Run the element-wise work in JS even when SIMD is available (tests). */
  forceJs?: boolean;
  /** Which layout each matrix product takes: chosen by cost ('auto', the default), or forced (tests); see gemm.ts. */
  strategy?: LeanStrategy;
  /** Threads and fused multiply-add (default: the process's, compute.ts). */
  compute?: Pick<ComputeSettings, 'threads' | 'fma'>;
}

export type LeanBuild = { step: LeanStep } | { refused: string };

function floatRows(t: tf.Tensor, rowSize: number): boolean {
  return t.dtype === 'float32' && t.rank >= 1 && t.shape[0] > 0 && t.size === t.shape[0] * rowSize;
}

/**
 * The lean step for this model, loss, optimizer and data, or the reason it
 * cannot run it (then the generic path must).
 */
export function buildLeanStep(args: LeanStepArgs): LeanBuild {
  const t0 = profiling() ? performance.now() : 0;
  try {
    return buildStep(args);
  } finally {
    if (t0) recordProfile('building the step', performance.now() - t0);
  }
}

function buildStep(args: LeanStepArgs): LeanBuild {
  const backend = wasmInternals();
  if (!backend) return { refused: `the backend is ${tf.getBackend()}, not a wasm backend this version supports` };
  const { model, optimizer, variables, batchSize, x, y } = args;
  if (!Number.isInteger(batchSize) || batchSize < 1) return { refused: `batch size ${batchSize}` };
  const rule = updateRuleFor(optimizer);
  if (typeof rule === 'string') return { refused: rule };
  const loss: LeanLoss | null = args.loss === 'binaryCrossentropy' || args.loss === 'meanSquaredError' ? args.loss : leanLossOf(args.loss);
  if (!loss) return { refused: `the loss ${lossName(args.loss)} (the fast path computes binary cross-entropy and mean squared error)` };
  const chain = chainOf(model);
  if ('refused' in chain) return chain;
  const inSize = product(chain.inShape);
  const outSize = product(chain.outShape);
  if (x && !floatRows(x, inSize)) return { refused: `the inputs are not float32 rows of ${inSize} values` };
  if (y && !floatRows(y, outSize)) return { refused: `the targets are not float32 rows of ${outSize} values` };
  if (x && y && x.shape[0] !== y.shape[0]) return { refused: 'inputs and targets have different numbers of samples' };

  const heap = new Heap(backend, args.forceJs ?? false);
  // One thread: the backend's heap and XNNPACK, as always; more: the parallel engine.
  const compute = args.compute ?? computeSettings();
  const onEngine = compute.threads > 1 && !args.forceJs && engineUnsupported() === null;
  const memory: StepMemory = onEngine ? new EngineMemory(Engine.create({ threads: compute.threads, fma: compute.fma }), heap) : new BackendMemory(heap, args.strategy ?? 'auto');
  let built = false;
  try {
    const params = new Map<tf.Variable, Param>();
    const roles = new Map<tf.Variable, string>();
    // Whether the layer being built uses a trained variable (its ops then need the gradient that reaches them).
    let trains = false;
    const ctx: BuildContext = {
      heap: memory,
      c: memory.c,
      batchSize,
      label: (l) => `'${l.name}' (${l.getClassName()})`,
      param(v, role) {
        const known = roles.get(v);
        if (known !== undefined && known !== role) return `the variable ${v.name} is used both as a ${known} and as a ${role}`;
        roles.set(v, role);
        const p = params.get(v);
        if (p) {
          trains = true;
          return p;
        }
        const index = variables.indexOf(v);
        if (index < 0) return null; // not trained: a frozen layer
        if (v.dtype !== 'float32') return `the variable ${v.name} is ${v.dtype}`;
        const [rows, cols] = v.rank === 2 ? (v.shape as number[]) : [1, v.size];
        const made: Param = { variable: v, size: v.size, rows, cols, index, grad: memory.alloc(v.size), written: false };
        params.set(v, made);
        trains = true;
        return made;
      },
    };
    const ops: LeanOp[] = [];
    let shape = chain.inShape;
    // The first op of the lowest layer that trains a variable: nothing below it needs a gradient.
    let firstTrained = -1;
    for (const layer of chain.layers) {
      const module = layerModule(layer.getClassName());
      if (!module) return { refused: `layer ${ctx.label(layer)} (the fast path has no ${layer.getClassName()} layer)` };
      trains = false;
      const result = module.build(layer, shape, ctx);
      if (!Array.isArray(result)) return { refused: `layer ${result.refused}` };
      if (trains && firstTrained < 0 && result.length) firstTrained = ops.length;
      ops.push(...result);
      if (result.length) shape = result[result.length - 1].outShape;
    }
    if (product(shape) !== outSize) return { refused: `the layers produce ${product(shape)} values per sample, the model ${outSize}` };
    // Binary cross-entropy is fused with the sigmoid that makes the output (reshapes may follow it).
    let lastReal = ops.length - 1;
    while (lastReal >= 0 && ops[lastReal].output === 'alias') lastReal--;
    const fused = loss === 'binaryCrossentropy' && ops[lastReal]?.activation?.kind === 'sigmoid' ? lastReal : -1;
    if (loss === 'binaryCrossentropy' && fused < 0) return { refused: 'binary cross-entropy on an output without a sigmoid' };
    if (params.size !== variables.length) {
      const missing = variables.find((v) => !params.has(v));
      return { refused: `the trained variable ${missing?.name} is not used by the layers the fast path sees` };
    }
    const prepared = rule.prepare([...params.values()]);
    if (prepared) return { refused: prepared };
    const trainer = new LeanTrainer(memory, ops, [...params.values()], rule, loss, fused, Math.max(0, firstTrained), inSize, outSize, batchSize, x, y);
    built = true;
    return { step: trainer };
  } finally {
    // Every way out but a working trainer frees what was allocated (and ends the engine's threads, in the background).
    if (!built) void memory.dispose();
  }
}

/** The lean step, or null when it cannot run (see `buildLeanStep` for the reason). */
export function createLeanStep(args: LeanStepArgs): LeanStep | null {
  const b = buildLeanStep(args);
  return 'step' in b ? b.step : null;
}

class LeanTrainer implements LeanStep, StepRuntime {
  readonly simd: SimdOps;
  readonly c: CExports;
  /** Own output buffer of each op (null: it writes into its input, or aliases it). */
  private readonly own: (Buf | null)[];
  /** Whether each op writes where its input is (in-place / alias): then its gradient flows in place too. */
  private readonly shares: boolean[];
  /** The batch's inputs and (when they are not the inputs) targets, copied here so that buffer ids stay the same from step to step. */
  private readonly xb: Buf;
  private yb: Buf | null;
  private readonly grads: [Buf, Buf];
  /** Scratch for a gradient contribution to add to one already written. */
  private readonly gtmp: Buf;
  private scratchBuf: Buf | null = null;
  private disposed = false;

  constructor(
    readonly memory: StepMemory,
    readonly ops: LeanOp[],
    private readonly params: Param[],
    private readonly rule: UpdateRule,
    private readonly loss: LeanLoss,
    /** The index of the sigmoid op fused into binary cross-entropy, or -1. */
    private readonly fused: number,
    /**
     * The first op of the lowest layer with a trained variable. Backward stops
     * there and does not compute its input gradient (for a first dense layer
     * on 784 inputs, a product as big as its forward one and a transpose):
     * nothing below it has a variable to train.
     */
    private readonly firstTrained: number,
    private readonly inSize: number,
    private readonly outSize: number,
    readonly batchSize: number,
    private readonly x: tf.Tensor | undefined,
    private readonly y: tf.Tensor | undefined,
  ) {
    this.simd = memory.simd;
    this.c = memory.c;
    this.own = [];
    this.shares = [];
    let maxSize = inSize;
    // The op that produced the current buffer (aliases pass it through), or -1 for the network input.
    let producer = -1;
    ops.forEach((op, i) => {
      const size = product(op.outShape);
      maxSize = Math.max(maxSize, size);
      let ownBuffer = op.output === 'new';
      if (op.output === 'inPlace' && (producer < 0 || ops[producer].backwardReadsOutput)) ownBuffer = true;
      this.own.push(ownBuffer ? memory.alloc(batchSize * size) : null);
      this.shares.push(op.output !== 'new');
      if (op.output !== 'alias') producer = i;
    });
    this.xb = memory.alloc(batchSize * inSize);
    this.yb = x && y && y !== x ? memory.alloc(batchSize * outSize) : null;
    this.grads = [memory.alloc(batchSize * maxSize), memory.alloc(batchSize * maxSize)];
    this.gtmp = memory.alloc(Math.max(1, ...params.map((p) => p.size)));
  }

  // -------------------------------------------------------------------------
  // StepRuntime

  get f32(): Float32Array {
    return this.memory.f32;
  }

  get i32(): Int32Array {
    return this.memory.i32;
  }

  gemm(args: GemmArgs): void {
    this.memory.gemm(args);
  }

  sigmoid(x: Buf, y: Buf, n: number): void {
    this.memory.sigmoid(x, y, n);
  }

  tanh(x: Buf, y: Buf, n: number): void {
    this.memory.tanh(x, y, n);
  }

  elu(x: Buf, y: Buf, n: number): void {
    this.memory.elu(x, y, n);
  }

  eluGrad(y: Buf, dy: Buf, dx: Buf, n: number): void {
    this.memory.eluGrad(y, dy, dx, n);
  }

  copy(dst: Buf, src: Buf, n: number): void {
    this.memory.copy(dst, src, n);
  }

  randomUniform(shape: number[], seed: number | undefined, out: Buf): void {
    this.memory.randomUniform(shape, seed, out);
  }

  variable(v: tf.Variable, write = false): Buf {
    return this.memory.variable(v, write);
  }

  gradTarget(p: Param): Buf {
    return p.written ? this.gtmp : p.grad;
  }

  contributed(p: Param): void {
    if (p.written) this.simd.add(p.grad.ptr, this.gtmp.ptr, p.size);
    p.written = true;
  }

  scratch(size: number): Buf {
    if (!this.scratchBuf || this.scratchBuf.size < size) this.scratchBuf = this.memory.alloc(size);
    return this.scratchBuf;
  }

  // -------------------------------------------------------------------------

  step(order: Int32Array | null, start: number, size: number): number {
    if (!this.x) throw new Error('lean training step: built without training data');
    return this.stepRows(this.x, this.y ?? this.x, order, start, size);
  }

  stepOn(x: tf.Tensor, y: tf.Tensor): number {
    return this.stepRows(x, y, null, 0, x.shape[0]);
  }

  stepRows(x: tf.Tensor, y: tf.Tensor, order: Int32Array | null, start: number, size: number): number {
    if (size < 1 || size > this.batchSize) throw new Error(`lean training step: ${size} rows, built for at most ${this.batchSize}`);
    if (!floatRows(x, this.inSize) || !floatRows(y, this.outSize) || y.shape[0] !== x.shape[0] || (!order && start + size > x.shape[0])) {
      throw new Error(`lean training step: data of shape [${x.shape.join(', ')}] / [${y.shape.join(', ')}] does not fit this step`);
    }
    const t0 = profiling() ? performance.now() : 0;
    this.memory.loadRows(x, this.xb, this.inSize, order, start, size);
    let target = this.xb;
    if (y !== x) {
      this.yb ??= this.memory.alloc(this.batchSize * this.outSize);
      this.memory.loadRows(y, this.yb, this.outSize, order, start, size);
      target = this.yb;
    }
    if (!t0) return this.run(this.xb, target, size);
    const t1 = performance.now();
    recordProfile('load batch', t1 - t0);
    const loss = this.run(this.xb, target, size);
    recordProfile('step (all)', performance.now() - t0);
    return loss;
  }

  get usesSimd(): boolean {
    return this.memory.usesSimd;
  }

  get description(): string {
    return this.memory.description;
  }

  private run(input: Buf, target: Buf, m: number): number {
    if (this.disposed) throw new Error('lean training step used after dispose');
    const { ops, memory } = this;
    for (const p of this.params) p.written = false;
    memory.beginStep();
    for (const op of ops) op.beginStep?.(this, m);

    // Forward: acts[i] is the input of op i; acts[n] the network's output. A fused sigmoid (and what follows it) does not run: the loss takes the logits.
    const acts: Buf[] = [input];
    const n = ops.length;
    const stop = this.fused >= 0 ? this.fused : n;
    for (let i = 0; i < n; i++) {
      const x = acts[i];
      const y = this.own[i] ?? x;
      acts.push(y);
      if (i >= stop) continue;
      memory.invalidate(y);
      ops[i].forward(this, { x, y, dy: x, dx: null }, m);
    }

    // Loss, and its gradient w.r.t. the last op's output (or, fused, w.r.t. the sigmoid's input).
    const out = acts[stop];
    const count = m * this.outSize;
    let g = this.grads[0];
    let lossValue: number;
    if (this.loss === 'binaryCrossentropy') lossValue = this.simd.bceLogits(out.ptr, target.ptr, g.ptr, count, f32(1 / count)) / count;
    else lossValue = this.simd.mse(out.ptr, target.ptr, g.ptr, count, f32(2 / count)) / count;

    // Backward, down to the lowest layer that trains a variable.
    for (let i = stop - 1; i >= this.firstTrained; i--) {
      const dy = g;
      const dx = i === this.firstTrained ? null : this.shares[i] ? dy : (g = dy === this.grads[0] ? this.grads[1] : this.grads[0]);
      memory.invalidate(dx);
      ops[i].backward(this, { x: acts[i], y: acts[i + 1], dy, dx }, m);
    }

    this.rule.update(this, this.params);
    memory.updated(this.params);
    return f32(lossValue);
  }

  flush(): void {
    if (!this.disposed) this.memory.flush();
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.memory.dispose();
  }
}
