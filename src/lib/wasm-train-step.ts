/**
 * A lean training step for dense autoencoders on the WebAssembly backend.
 *
 * The generic loop (`optimizer.minimize` over a layers model) runs about a
 * hundred small kernels per batch, each allocating a tensor, recording the
 * tape and crossing the JS/wasm boundary; on top of that the wasm backend's
 * `gather` of a batch copies element by element. For the models this library
 * builds (dense and tied `TransposedDense` layers with linear, ReLU,
 * LeakyReLU or sigmoid activations), trained with binary cross-entropy or
 * mean squared error by Adam or SGD, this module does the same arithmetic
 * with no tensors at all:
 *
 *  - the batch is copied row by row into a buffer on the wasm heap;
 *  - every matrix product runs in XNNPACK through the backend's own
 *    `_FusedMatMul` export (bias fused in the forward pass), on buffers
 *    registered with the backend under private ids; transposed operands are
 *    transposed explicitly (SIMD) so XNNPACK always takes its fast path, and
 *    each product takes the form that packs the fewest values (see
 *    `chooseForms`): 30% faster at batch 32;
 *  - everything element-wise between the matrix products runs in the SIMD
 *    kernels of wasm-simd.ts, on the same heap (or in JS, when the engine
 *    has no WebAssembly SIMD); a hidden sigmoid runs in the backend's own
 *    `Sigmoid`;
 *  - the output sigmoid and binary cross-entropy are fused, from the logits
 *    z: with s = σ(z) and p = clip(s, ε, 1-ε), dL/dz = (s - t) / n where
 *    ε <= s <= 1-ε and 0 elsewhere (what the chain through clip, log and
 *    sigmoid gives, without its rounding), and the loss is computed as
 *    softplus(z) - t·z (more accurate than logs of a rounded s);
 *  - Adam and SGD update the variables and the optimizer's own slots
 *    (`accumulatedFirstMoment`, `accBeta1`...) in place, with every operation
 *    rounded to float32 in the order tfjs's optimizers use, so the optimizer
 *    state stays the one the generic path would have, and switching between
 *    the two paths (or saving the optimizer) just works.
 *
 * Safety: a variable whose memory is shared with another tensor (a reshaped
 * view, a tensor given to setWeights) gets a private copy before the first
 * in-place write; XNNPACK's
 * packed-weight cache, keyed by tensor id, is dropped for every id whose data
 * changed; nothing here creates a tensor, so `tf.memory().numTensors` does not
 * move. When anything does not fit (another backend, another layer type,
 * loss or optimizer, a kernel signature this version of the backend does not
 * have), `createLeanStep` returns null and the generic path runs.
 */
import * as tf from '@tensorflow/tfjs';
import { SimdKernels } from './wasm-simd';

export type LeanActivation =
  | { kind: 'linear' }
  | { kind: 'relu' }
  | { kind: 'leakyRelu'; alpha: number }
  | { kind: 'sigmoid' };

/** One dense layer: y = act(x·W + b), or act(x·Wᵀ + b) when `transposed` (a tied decoder layer). */
export interface LeanLayer {
  /** [inputs, outputs], or [outputs, inputs] when transposed. */
  kernel: tf.Variable;
  transposed: boolean;
  bias: tf.Variable | null;
  activation: LeanActivation;
}

/** A model as a chain of dense layers on flat inputs of `inputSize` values. */
export interface LeanPlan {
  inputSize: number;
  layers: LeanLayer[];
}

export type LeanLoss = 'binaryCrossentropy' | 'meanSquaredError';

/** Runs one training step on rows `order[start..start+size)` (or rows start.. when order is null); returns the batch loss. */
export interface LeanStep {
  step(order: Int32Array | null, start: number, size: number): number;
  dispose(): void;
}

// ---------------------------------------------------------------------------
// Raw access to the wasm backend (tfjs-backend-wasm 4.x internals).

interface RawExports {
  memory: WebAssembly.Memory;
  _FusedMatMul(
    aId: number, aShape: number, aRank: number, bId: number, bShape: number, bRank: number,
    transposeA: number, transposeB: number, activation: number, biasId: number, preluId: number, leakyAlpha: number, outId: number,
  ): void;
  Sigmoid(xId: number, outId: number): void;
  register_tensor(id: number, size: number, ptr: number): void;
  dispose_data(id: number): void;
  malloc(bytes: number): number;
  free(ptr: number): void;
}

interface TensorData {
  id: number;
  memoryOffset: number;
  shape: number[];
  dtype: string;
  refCount: number;
}

interface WasmBackendInternals {
  wasm: { asm: RawExports; HEAPF32: Float32Array; HEAP32: Int32Array };
  dataIdMap: { get(dataId: object): TensorData | undefined };
  dataIdNextNumber: number;
}

/** The exports used here and their parameter counts: a different signature means a different backend version. */
const EXPORTS: Record<string, number> = {
  _FusedMatMul: 13,
  Sigmoid: 2,
  register_tensor: 3,
  dispose_data: 1,
  malloc: 1,
  free: 1,
};

/** The active wasm backend's internals, or null when the backend is not wasm or does not look like tfjs-backend-wasm 4.x. */
export function wasmInternals(): WasmBackendInternals | null {
  if (tf.getBackend() !== 'wasm') return null;
  const b = tf.backend() as unknown as Partial<WasmBackendInternals>;
  const asm = b.wasm?.asm as unknown as Record<string, unknown> | undefined;
  if (!asm || !(asm.memory instanceof WebAssembly.Memory) || !b.dataIdMap || typeof b.dataIdNextNumber !== 'number') return null;
  for (const [name, arity] of Object.entries(EXPORTS)) {
    const f = asm[name];
    if (typeof f !== 'function' || f.length !== arity) return null;
  }
  return b as WasmBackendInternals;
}

/** A block of float32s on the wasm heap, registered with the backend under a private id. */
interface Buf {
  id: number;
  /** Byte address. */
  ptr: number;
  /** Float32 index (ptr / 4). */
  off: number;
  size: number;
}

const f32 = Math.fround;
const LINEAR = 0; // FusableActivation.linear

class Heap {
  private readonly asm: RawExports;
  private readonly owned: Buf[] = [];
  /** Scratch for the two matMul shapes: [1,m,k, 1,k,n]. */
  private readonly dims: number;
  readonly kernels: SimdKernels;

  constructor(readonly backend: WasmBackendInternals, forceJs: boolean) {
    this.asm = backend.wasm.asm;
    this.kernels = SimdKernels.for(this.asm.memory, () => backend.wasm.HEAPF32, forceJs);
    this.dims = this.asm.malloc(6 * 4) >>> 0;
    if (this.dims === 0) throw new Error('wasm heap: out of memory');
  }

  /** The heap as float32s. Read it again after any call into wasm: the heap may have grown and moved. */
  get f32(): Float32Array {
    return this.backend.wasm.HEAPF32;
  }

  alloc(size: number): Buf {
    const ptr = this.asm.malloc(Math.max(1, size) * 4) >>> 0;
    if (ptr === 0) throw new Error(`wasm heap: cannot allocate ${size} floats`);
    const id = this.backend.dataIdNextNumber++;
    this.asm.register_tensor(id, size, ptr);
    const buf = { id, ptr, off: ptr >>> 2, size };
    this.owned.push(buf);
    return buf;
  }

  /** The backend's record of a tensor's data (its id, address and reference count). */
  data(t: tf.Tensor): TensorData {
    const d = this.backend.dataIdMap.get(t.dataId);
    if (!d) throw new Error(`tensor ${t.id} is not on the wasm backend`);
    return d;
  }

  /** Drops whatever the backend cached for this id (XNNPACK operators with packed copies of its data). */
  refresh(id: number, size: number, ptr: number): void {
    this.asm.dispose_data(id);
    this.asm.register_tensor(id, size, ptr);
  }

  /** out[m,n] = a[m,k]·b[k,n] (+ bias[n]). b (and bias) are packed by XNNPACK; their cache entry is dropped right after. */
  matmul(a: Buf, m: number, k: number, b: Buf, n: number, bias: Buf | null, out: Buf): void {
    const h = this.backend.wasm.HEAP32;
    const d = this.dims >>> 2;
    h[d] = 1; h[d + 1] = m; h[d + 2] = k;
    h[d + 3] = 1; h[d + 4] = k; h[d + 5] = n;
    this.asm._FusedMatMul(a.id, this.dims, 3, b.id, this.dims + 12, 3, 0, 0, LINEAR, bias ? bias.id : 0, 0, 0, out.id);
    this.refresh(b.id, b.size, b.ptr);
    if (bias) this.refresh(bias.id, bias.size, bias.ptr);
  }

  sigmoid(x: Buf): void {
    this.asm.Sigmoid(x.id, x.id);
  }

  dispose(): void {
    for (const b of this.owned) {
      this.asm.dispose_data(b.id);
      this.asm.free(b.ptr);
    }
    this.owned.length = 0;
    this.asm.free(this.dims);
  }
}

// ---------------------------------------------------------------------------
// Optimizers: the arithmetic of tfjs's AdamOptimizer / SGDOptimizer, float32 at every step.

interface AdamInternals {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: ({ originalName: string; variable: tf.Variable } | undefined)[];
  accumulatedSecondMoment: ({ originalName: string; variable: tf.Variable } | undefined)[];
  incrementIterations(): void;
}

interface SgdInternals {
  learningRate: number;
  incrementIterations(): void;
}

type UpdateRule =
  | { kind: 'adam'; opt: AdamInternals; slots: { m: tf.Variable; v: tf.Variable }[] }
  | { kind: 'sgd'; opt: SgdInternals };

// ---------------------------------------------------------------------------

interface Param {
  variable: tf.Variable;
  size: number;
  rows: number;
  cols: number;
  /** Index in the trainable-variable list (= the optimizer slot index). */
  index: number;
  /** This step's gradient, on the heap. */
  grad: Buf;
  /** Whether `grad` holds this step's first contribution yet (a tied kernel gets two). */
  written: boolean;
  /** Kernels: Wᵀ for this step, when some layer needs it. */
  transposed?: Buf;
  transposedValid: boolean;
}

interface Layer {
  kernel: Param;
  bias: Param | null;
  transposed: boolean;
  inputs: number;
  outputs: number;
  act: LeanActivation;
  /** How each product runs (see `chooseForms`). */
  forms: Forms;
  /** Activations out of this layer, [batch, outputs]. */
  out: Buf;
  /** Gradient w.r.t. this layer's pre-activation, [batch, outputs]. */
  dz: Buf;
}

/**
 * XNNPACK packs the right-hand operand of every product into its own layout
 * before multiplying, and our operands change every step, so each product
 * pays for packing: about 2.3 ns per element here, while our SIMD transpose
 * costs 0.1-0.7 ns. C = A·B can also be computed as (Bᵀ·Aᵀ)ᵀ, which packs
 * Aᵀ instead of B: with a batch of 32 rows and 784-wide layers that packs
 * 25,000 activations instead of 50,000 weights. For each layer and each of
 * its three products (forward, weight gradient, input gradient) the form
 * with the smaller estimated cost is chosen once, for the batch size.
 */
interface Forms {
  /** Forward as Zᵀ = Weffᵀ·Aᵀ (then transposed back, bias added per row). */
  forwardSwapped: boolean;
  /** Weight gradient computed as [inputs, outputs] = Aᵀ·dZ (else [outputs, inputs] = dZᵀ·A). */
  weightGradInOut: boolean;
  /** Input gradient as dAᵀ = Weff·dZᵀ (then transposed back). */
  inputGradSwapped: boolean;
}

export type LeanStrategy = 'auto' | 'direct' | 'swapped';

const PACK_NS = 2.3;
const transposeNs = (n: number) => n * (n * 4 > 256 * 1024 ? 0.7 : 0.15);

function chooseForms(rows: number, inputs: number, outputs: number, transposed: boolean, strategy: LeanStrategy): Forms {
  const [m, i, o] = [rows, inputs, outputs];
  const w = transposeNs(i * o); // a transposed copy of the kernel
  const fwdDirect = PACK_NS * i * o + (transposed ? w : 0);
  const fwdSwapped = PACK_NS * m * i + transposeNs(m * i) + transposeNs(m * o) + 0.1 * m * o + (transposed ? 0 : w);
  const gradInOut = transposeNs(m * i) + PACK_NS * m * o + (transposed ? w : 0);
  const gradOutIn = transposeNs(m * o) + PACK_NS * m * i + (transposed ? 0 : w);
  const dxDirect = PACK_NS * o * i + (transposed ? 0 : w);
  const dxSwapped = PACK_NS * m * o + transposeNs(m * o) + transposeNs(m * i) + (transposed ? w : 0);
  if (strategy === 'direct') return { forwardSwapped: false, weightGradInOut: !transposed, inputGradSwapped: false };
  if (strategy === 'swapped') return { forwardSwapped: true, weightGradInOut: transposed, inputGradSwapped: true };
  return { forwardSwapped: fwdSwapped < fwdDirect, weightGradInOut: gradInOut <= gradOutIn, inputGradSwapped: dxSwapped < dxDirect };
}

function checkActivation(a: LeanActivation): boolean {
  if (a.kind === 'leakyRelu') return Number.isFinite(a.alpha) && a.alpha >= 0;
  return a.kind === 'linear' || a.kind === 'relu' || a.kind === 'sigmoid';
}

function float2d(t: tf.Tensor, rowSize: number): boolean {
  return t.dtype === 'float32' && t.rank >= 2 && t.size === t.shape[0] * rowSize;
}

/**
 * The lean step for this model, loss, optimizer and data, or null when one
 * of them is outside what it handles (then the generic path must run).
 * `variables` is the list the generic path gives `optimizer.minimize`: its
 * order decides which optimizer slot belongs to which variable.
 * `forceJs` runs the element-wise work in JS even when SIMD is available.
 */
export function createLeanStep(args: {
  plan: LeanPlan;
  loss: LeanLoss;
  optimizer: tf.Optimizer;
  variables: tf.Variable[];
  x: tf.Tensor;
  y: tf.Tensor;
  batchSize: number;
  /** Run the element-wise work in JS even when SIMD is available (tests). */
  forceJs?: boolean;
  /** Which form each product takes: chosen by cost ('auto', the default), or forced (tests). */
  strategy?: LeanStrategy;
}): LeanStep | null {
  const backend = wasmInternals();
  if (!backend) return null;
  const { plan, loss, optimizer, variables, x, y, batchSize } = args;
  const lastLayer = plan.layers[plan.layers.length - 1];
  if (!lastLayer || !plan.layers.every((l) => checkActivation(l.activation))) return null;
  // Cross-entropy is fused with the sigmoid that produces the probabilities; anything else goes the generic way.
  if (loss === 'binaryCrossentropy' && lastLayer.activation.kind !== 'sigmoid') return null;
  const outSize = (lastLayer.transposed ? lastLayer.kernel.shape[0] : lastLayer.kernel.shape[1]) as number;
  if (!float2d(x, plan.inputSize) || !float2d(y, outSize) || x.shape[0] !== y.shape[0]) return null;
  if (!Number.isInteger(batchSize) || batchSize < 1) return null;

  let rule: UpdateRule;
  if (optimizer.constructor === tf.AdamOptimizer) rule = { kind: 'adam', opt: optimizer as unknown as AdamInternals, slots: [] };
  else if (optimizer.constructor === tf.SGDOptimizer) rule = { kind: 'sgd', opt: optimizer as unknown as SgdInternals };
  else return null;

  const heap = new Heap(backend, args.forceJs ?? false);
  let built = false;
  try {
    // Every parameter of the plan must be a trainable float32 variable; a kernel may serve several layers (tied).
    const params = new Map<tf.Variable, Param>();
    const roles = new Map<tf.Variable, 'kernel' | 'bias'>();
    const param = (v: tf.Variable, role: 'kernel' | 'bias'): Param | null => {
      if (roles.has(v) && roles.get(v) !== role) return null;
      roles.set(v, role);
      let p = params.get(v);
      if (p) return p;
      const index = variables.indexOf(v);
      if (index < 0 || v.dtype !== 'float32') return null;
      const [rows, cols] = v.rank === 2 ? (v.shape as number[]) : [1, v.size];
      p = { variable: v, size: v.size, rows, cols, index, grad: heap.alloc(v.size), written: false, transposedValid: false };
      params.set(v, p);
      return p;
    };
    const layers: Layer[] = [];
    let inputs = plan.inputSize;
    for (const l of plan.layers) {
      if (l.kernel.rank !== 2) return null;
      const [r, c] = l.kernel.shape as number[];
      const [kin, kout] = l.transposed ? [c, r] : [r, c];
      if (kin !== inputs) return null;
      if (l.bias && (l.bias.rank !== 1 || l.bias.shape[0] !== kout)) return null;
      const kernel = param(l.kernel, 'kernel');
      const bias = l.bias ? param(l.bias, 'bias') : null;
      if (!kernel || (l.bias && !bias)) return null;
      const forms = chooseForms(batchSize, inputs, kout, l.transposed, args.strategy ?? 'auto');
      layers.push({ kernel, bias, transposed: l.transposed, inputs, outputs: kout, act: l.activation, forms, out: heap.alloc(batchSize * kout), dz: heap.alloc(batchSize * kout) });
      inputs = kout;
    }
    if (rule.kind === 'adam') {
      const opt = rule.opt;
      for (const p of params.values()) {
        const m = opt.accumulatedFirstMoment[p.index]?.variable;
        const v = opt.accumulatedSecondMoment[p.index]?.variable;
        if ((m && m.size !== p.size) || (v && v.size !== p.size)) return null;
      }
      // The slots tfjs's Adam keeps, created as it creates them (so the optimizer state is the same either way).
      for (const p of params.values()) {
        const i = p.index;
        const name = p.variable.name;
        opt.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(p.variable).variable(false)) };
        opt.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(p.variable).variable(false)) };
        rule.slots[i] = { m: opt.accumulatedFirstMoment[i]!.variable, v: opt.accumulatedSecondMoment[i]!.variable };
      }
    }
    const maxWidth = Math.max(plan.inputSize, ...layers.map((l) => l.outputs));
    const trainer = new LeanTrainer(heap, layers, [...params.values()], rule, loss, x, y, batchSize, maxWidth);
    built = true;
    return trainer;
  } finally {
    // Every way out but a working trainer (`return null`, an exception) frees what was allocated.
    if (!built) heap.dispose();
  }
}

class LeanTrainer implements LeanStep {
  private readonly xb: Buf;
  private readonly yb: Buf | null;
  /** Scratch for a product computed transposed ([width, batch]), before it is transposed back. */
  private readonly tr: Buf;
  /** Scratch for a gradient contribution to add to one already written. */
  private readonly gtmp: Buf;
  /** Scratch for a weight gradient computed in the other layout. */
  private readonly gtmpT: Buf;
  /** Transposed copies of activation / gradient buffers (by buffer id), and which are current this step. */
  private readonly transposes = new Map<number, Buf>();
  private readonly transposesValid = new Set<number>();
  private readonly k: SimdKernels;
  private disposed = false;

  constructor(
    private readonly heap: Heap,
    private readonly layers: Layer[],
    private readonly params: Param[],
    private readonly rule: UpdateRule,
    private readonly loss: LeanLoss,
    private readonly x: tf.Tensor,
    private readonly y: tf.Tensor,
    batchSize: number,
    maxWidth: number,
  ) {
    this.k = heap.kernels;
    this.xb = heap.alloc(batchSize * layers[0].inputs);
    this.yb = y === x ? null : heap.alloc(batchSize * layers[layers.length - 1].outputs);
    this.tr = heap.alloc(batchSize * maxWidth);
    this.gtmp = heap.alloc(Math.max(...params.map((p) => p.size)));
    this.gtmpT = heap.alloc(Math.max(...params.map((p) => p.size)));
  }

  /** src[rows, cols]ᵀ, computed once per step (the source must not change afterwards within the step). */
  private transposedOf(src: Buf, rows: number, cols: number): Buf {
    let t = this.transposes.get(src.id);
    if (!t) {
      t = this.heap.alloc(src.size);
      this.transposes.set(src.id, t);
    }
    if (!this.transposesValid.has(src.id)) {
      this.k.transpose(src.ptr, rows, cols, t.ptr);
      this.transposesValid.add(src.id);
    }
    return t;
  }

  /** Whether the element-wise work runs in WebAssembly SIMD (else JS). */
  get simd(): boolean {
    return this.k.simd;
  }

  /** A Buf view of a variable's current data, after making sure the variable is its only owner. */
  private own(v: tf.Variable): Buf {
    let d = this.heap.data(v);
    if (d.refCount > 1) {
      // Shared with another tensor (say a clone someone holds): give the variable a private copy first.
      tf.tidy(() => v.assign(tf.mul(v, tf.scalar(1, 'float32'))));
      d = this.heap.data(v);
    }
    return { id: d.id, ptr: d.memoryOffset, off: d.memoryOffset >>> 2, size: v.size };
  }

  private view(t: tf.Tensor): Buf {
    const d = this.heap.data(t);
    return { id: d.id, ptr: d.memoryOffset, off: d.memoryOffset >>> 2, size: t.size };
  }

  /** Wᵀ of a kernel, computed once per step. */
  private transposedKernel(p: Param): Buf {
    if (!p.transposed) p.transposed = this.heap.alloc(p.size);
    if (!p.transposedValid) {
      this.k.transpose(this.view(p.variable).ptr, p.rows, p.cols, p.transposed.ptr);
      p.transposedValid = true;
    }
    return p.transposed;
  }

  private gather(src: tf.Tensor, dst: Buf, width: number, order: Int32Array | null, start: number, size: number): void {
    const h = this.heap.f32;
    const base = this.view(src).off;
    if (!order) {
      h.copyWithin(dst.off, base + start * width, base + (start + size) * width);
      return;
    }
    for (let r = 0; r < size; r++) {
      const s = base + order[start + r] * width;
      h.copyWithin(dst.off + r * width, s, s + width);
    }
  }

  /** The buffer a gradient contribution goes to: the gradient itself the first time, else scratch to add. */
  private target(p: Param): Buf {
    return p.written ? this.gtmp : p.grad;
  }

  private contributed(p: Param): void {
    if (p.written) this.k.add(p.grad.ptr, this.gtmp.ptr, p.size);
    p.written = true;
  }

  step(order: Int32Array | null, start: number, size: number): number {
    if (this.disposed) throw new Error('lean training step used after dispose');
    const { heap, layers, k } = this;
    const m = size;
    for (const p of this.params) {
      p.written = false;
      p.transposedValid = false;
    }
    this.transposesValid.clear();

    // Forward.
    this.gather(this.x, this.xb, layers[0].inputs, order, start, m);
    if (this.yb) this.gather(this.y, this.yb, layers[layers.length - 1].outputs, order, start, m);
    let input = this.xb;
    for (const l of layers) {
      const bias = l.bias ? this.view(l.bias.variable) : null;
      if (l.forms.forwardSwapped) {
        // Zᵀ[out, batch] = Weffᵀ·Aᵀ, Weffᵀ being Wᵀ (dense) or W itself (transposed); then the bias, per row, and back.
        const wt = l.transposed ? this.view(l.kernel.variable) : this.transposedKernel(l.kernel);
        heap.matmul(wt, l.outputs, l.inputs, this.transposedOf(input, m, l.inputs), m, null, this.tr);
        if (bias) k.addRowBias(this.tr.ptr, l.outputs, m, bias.ptr);
        k.transpose(this.tr.ptr, l.outputs, m, l.out.ptr);
      } else {
        const w = l.transposed ? this.transposedKernel(l.kernel) : this.view(l.kernel.variable);
        heap.matmul(input, m, l.inputs, w, l.outputs, bias, l.out);
      }
      const n = m * l.outputs;
      // A sigmoid feeding binary cross-entropy is left to the fused loss kernel, which takes the logits.
      const fusedIntoLoss = l === layers[layers.length - 1] && this.loss === 'binaryCrossentropy';
      if (l.act.kind === 'sigmoid') {
        if (!fusedIntoLoss) heap.sigmoid(l.out);
      }
      else if (l.act.kind === 'leakyRelu') k.leakyReluForward(l.out.ptr, n, f32(l.act.alpha));
      else if (l.act.kind === 'relu') k.reluForward(l.out.ptr, n);
      input = l.out;
    }

    // Loss, and its gradient w.r.t. the last pre-activation.
    const last = layers[layers.length - 1];
    const target = this.yb ?? this.xb;
    const n = m * last.outputs;
    let lossValue: number;
    if (this.loss === 'binaryCrossentropy') {
      lossValue = k.bceLogits(last.out.ptr, target.ptr, last.dz.ptr, n, f32(1 / n)) / n;
    } else {
      lossValue = k.mse(last.out.ptr, target.ptr, last.dz.ptr, n, f32(2 / n)) / n;
      this.activationBackward(last, m);
    }

    // Backward.
    for (let li = layers.length - 1; li >= 0; li--) {
      const l = layers[li];
      const a = li === 0 ? this.xb : layers[li - 1].out;
      const kp = l.kernel;
      // Weight gradient. The kernel's layout is [in, out] (dense) or [out, in] (transposed).
      const inOut = l.forms.weightGradInOut;
      const matches = inOut === !l.transposed;
      const dst = matches ? this.target(kp) : this.gtmpT;
      if (inOut) heap.matmul(this.transposedOf(a, m, l.inputs), l.inputs, m, l.dz, l.outputs, null, dst);
      else heap.matmul(this.transposedOf(l.dz, m, l.outputs), l.outputs, m, a, l.inputs, null, dst);
      if (!matches) {
        const [r, c] = inOut ? [l.inputs, l.outputs] : [l.outputs, l.inputs];
        k.transpose(this.gtmpT.ptr, r, c, this.target(kp).ptr);
      }
      this.contributed(kp);
      if (l.bias) {
        k.colSums(l.dz.ptr, m, l.outputs, this.target(l.bias).ptr);
        this.contributed(l.bias);
      }
      if (li > 0) {
        const below = layers[li - 1];
        if (l.forms.inputGradSwapped) {
          // dAᵀ[in, batch] = Weff·dZᵀ, Weff being W (dense) or Wᵀ (transposed); then back.
          const weff = l.transposed ? this.transposedKernel(kp) : this.view(kp.variable);
          heap.matmul(weff, l.inputs, l.outputs, this.transposedOf(l.dz, m, l.outputs), m, null, this.tr);
          k.transpose(this.tr.ptr, l.inputs, m, below.dz.ptr);
        } else {
          // dA = dZ·Weffᵀ, Weffᵀ being Wᵀ (dense, the explicit transpose) or W itself (transposed).
          const w = l.transposed ? this.view(kp.variable) : this.transposedKernel(kp);
          heap.matmul(l.dz, m, l.outputs, w, l.inputs, null, below.dz);
        }
        this.activationBackward(below, m);
      }
    }

    this.update();
    return f32(lossValue);
  }

  /** dz of layer `l` *= act'(its output), over `rows` rows (what tfjs's gradients compute, in float32). */
  private activationBackward(l: Layer, rows: number): void {
    const n = rows * l.outputs;
    switch (l.act.kind) {
      case 'linear':
        return;
      case 'relu':
        this.k.reluBackward(l.dz.ptr, l.out.ptr, n);
        return;
      case 'leakyRelu':
        this.k.leakyReluBackward(l.dz.ptr, l.out.ptr, n, f32(l.act.alpha));
        return;
      case 'sigmoid':
        this.k.sigmoidBackward(l.dz.ptr, l.out.ptr, n);
        return;
    }
  }

  private update(): void {
    const heap = this.heap;
    const k = this.k;
    const rule = this.rule;
    if (rule.kind === 'adam') {
      const opt = rule.opt;
      const acc1 = this.own(opt.accBeta1);
      const acc2 = this.own(opt.accBeta2);
      let h = heap.f32;
      const a1 = h[acc1.off];
      const a2 = h[acc2.off];
      const b1 = f32(opt.beta1);
      const b2 = f32(opt.beta2);
      const omb1 = f32(1 - opt.beta1);
      const omb2 = f32(1 - opt.beta2);
      const oma1 = f32(1 - a1);
      const oma2 = f32(1 - a2);
      const eps = f32(opt.epsilon);
      const nlr = f32(-opt.learningRate);
      for (const p of this.params) {
        const slot = rule.slots[p.index];
        const w = this.own(p.variable);
        const mm = this.own(slot.m);
        const vv = this.own(slot.v);
        k.adam(w.ptr, p.grad.ptr, mm.ptr, vv.ptr, p.size, b1, b2, omb1, omb2, oma1, oma2, eps, nlr);
      }
      h = heap.f32;
      h[acc1.off] = f32(a1 * b1);
      h[acc2.off] = f32(a2 * b2);
      opt.incrementIterations();
    } else {
      const c = f32(-rule.opt.learningRate);
      for (const p of this.params) k.sgd(this.own(p.variable).ptr, p.grad.ptr, p.size, c);
      rule.opt.incrementIterations();
    }
    // The variables' data changed in place: drop anything cached from the old values (by anyone).
    for (const p of this.params) {
      const d = this.heap.data(p.variable);
      heap.refresh(d.id, p.size, d.memoryOffset);
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.heap.dispose();
  }
}
