/**
 * Raw access to the WebAssembly backend (tfjs-backend-wasm 4.x internals)
 * for the lean training step: buffers on the backend's own heap, registered
 * under private tensor ids so that the backend's exported kernels (XNNPACK's
 * matrix product, its sigmoid, tanh and ELU) can run on them directly.
 */
import * as tf from '@tensorflow/tfjs';
import { SimdKernels } from '../wasm-simd';
import { cKernels, type CExports } from '../wasm/kernels';

export interface RawExports {
  memory: WebAssembly.Memory;
  _FusedMatMul(
    aId: number, aShape: number, aRank: number, bId: number, bShape: number, bRank: number,
    transposeA: number, transposeB: number, activation: number, biasId: number, preluId: number, leakyAlpha: number, outId: number,
  ): void;
  Sigmoid(xId: number, outId: number): void;
  Tanh(xId: number, dtype: number, outId: number): void;
  Elu(xId: number, dtype: number, outId: number): void;
  EluGrad(yId: number, dyId: number, outId: number): void;
  register_tensor(id: number, size: number, ptr: number): void;
  dispose_data(id: number): void;
  malloc(bytes: number): number;
  free(ptr: number): void;
}

export interface TensorData {
  id: number;
  memoryOffset: number;
  shape: number[];
  dtype: string;
  refCount: number;
}

export interface WasmBackendInternals {
  wasm: { asm: RawExports; HEAPF32: Float32Array; HEAP32: Int32Array };
  dataIdMap: { get(dataId: object): TensorData | undefined };
  dataIdNextNumber: number;
}

/** The exports used here and their parameter counts: a different signature means a different backend version. */
const EXPORTS: Record<string, number> = {
  _FusedMatMul: 13,
  Sigmoid: 2,
  Tanh: 3,
  Elu: 3,
  EluGrad: 3,
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
export interface Buf {
  id: number;
  /** Byte address. */
  ptr: number;
  /** Float32 index (ptr / 4). */
  off: number;
  /** Number of floats. */
  size: number;
}

const LINEAR = 0; // FusableActivation.linear
const FLOAT32 = 0; // CppDType.float32

/**
 * Buffers on the wasm heap and the backend's kernels that run on them. Every
 * buffer allocated here is freed by `dispose`.
 */
export class Heap {
  private readonly asm: RawExports;
  private readonly owned: Buf[] = [];
  private readonly raw: number[] = [];
  /** Scratch for the two matMul shapes: [1,m,k, 1,k,n]. */
  private readonly dims: number;
  /** The hand-assembled element-wise SIMD kernels (wasm-simd.ts). */
  readonly kernels: SimdKernels;

  constructor(readonly backend: WasmBackendInternals, private readonly forceJs: boolean) {
    this.asm = backend.wasm.asm;
    this.kernels = SimdKernels.for(this.asm.memory, () => backend.wasm.HEAPF32, forceJs);
    this.dims = this.asm.malloc(6 * 4) >>> 0;
    if (this.dims === 0) throw new Error('wasm heap: out of memory');
  }

  /** The compiled C kernels (src/lib/wasm/kernels.c) on this heap. */
  get c(): CExports {
    const asm = this.asm;
    return cKernels(asm.memory, (bytes) => asm.malloc(bytes));
  }

  /** The heap as float32s. Read it again after any call into wasm: the heap may have grown and moved. */
  get f32(): Float32Array {
    return this.backend.wasm.HEAPF32;
  }

  /** The heap as int32s (same caveat as `f32`). */
  get i32(): Int32Array {
    return this.backend.wasm.HEAP32;
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

  /** `count` 32-bit words not registered with the backend (index tables, masks); returns the byte address. */
  allocWords(count: number): number {
    const ptr = this.asm.malloc(Math.max(1, count) * 4) >>> 0;
    if (ptr === 0) throw new Error(`wasm heap: cannot allocate ${count} words`);
    this.raw.push(ptr);
    return ptr;
  }

  /** The backend's record of a tensor's data (its id, address and reference count). */
  data(t: tf.Tensor): TensorData {
    const d = this.backend.dataIdMap.get(t.dataId);
    if (!d) throw new Error(`tensor ${t.id} is not on the wasm backend`);
    return d;
  }

  /** A Buf view of a tensor's data (not owned: never freed here). */
  view(t: tf.Tensor): Buf {
    const d = this.data(t);
    return { id: d.id, ptr: d.memoryOffset, off: d.memoryOffset >>> 2, size: t.size };
  }

  /** Drops whatever the backend cached for this id (XNNPACK operators with packed copies of its data). */
  refresh(id: number, size: number, ptr: number): void {
    this.asm.dispose_data(id);
    this.asm.register_tensor(id, size, ptr);
  }

  /** out[m,n] = a[m,k]·b[k,n] (+ bias[n]), in XNNPACK. b (and bias) are packed by XNNPACK; their cache entry is dropped right after. */
  matmul(a: Buf, m: number, k: number, b: Buf, n: number, bias: Buf | null, out: Buf): void {
    const h = this.backend.wasm.HEAP32;
    const d = this.dims >>> 2;
    h[d] = 1; h[d + 1] = m; h[d + 2] = k;
    h[d + 3] = 1; h[d + 4] = k; h[d + 5] = n;
    this.asm._FusedMatMul(a.id, this.dims, 3, b.id, this.dims + 12, 3, 0, 0, LINEAR, bias ? bias.id : 0, 0, 0, out.id);
    this.refresh(b.id, b.size, b.ptr);
    if (bias) this.refresh(bias.id, bias.size, bias.ptr);
  }

  /** The backend's own element-wise kernels (so the values are the generic path's, bit for bit). x and out have the same size. */
  sigmoid(x: Buf, out: Buf): void {
    this.asm.Sigmoid(x.id, out.id);
  }

  tanh(x: Buf, out: Buf): void {
    this.asm.Tanh(x.id, FLOAT32, out.id);
  }

  elu(x: Buf, out: Buf): void {
    this.asm.Elu(x.id, FLOAT32, out.id);
  }

  /** out = dy where y ≥ 0, dy·(y + 1) elsewhere (tfjs's EluGrad). */
  eluGrad(y: Buf, dy: Buf, out: Buf): void {
    this.asm.EluGrad(y.id, dy.id, out.id);
  }

  get forcedJs(): boolean {
    return this.forceJs;
  }

  dispose(): void {
    for (const b of this.owned) {
      this.asm.dispose_data(b.id);
      this.asm.free(b.ptr);
    }
    this.owned.length = 0;
    for (const p of this.raw) this.asm.free(p);
    this.raw.length = 0;
    this.asm.free(this.dims);
  }
}

/**
 * [min, max] of a float32 tensor: in one SIMD pass over its memory on the
 * wasm backend (a data set of 47 million values in a few milliseconds), by
 * tfjs's min and max elsewhere. NaN when it holds a NaN.
 */
export function tensorRange(t: tf.Tensor): [number, number] {
  const backend = wasmInternals();
  const d = backend && t.dtype === 'float32' ? backend.dataIdMap.get(t.dataId) : undefined;
  if (backend && d && t.size > 0) {
    const asm = backend.wasm.asm;
    const scratch = asm.malloc(8 * 4) >>> 0;
    if (scratch !== 0) {
      try {
        return SimdKernels.for(asm.memory, () => backend.wasm.HEAPF32).range(d.memoryOffset, t.size, scratch);
      } finally {
        asm.free(scratch);
      }
    }
  }
  return tf.tidy(() => [tf.min(t).dataSync()[0], tf.max(t).dataSync()[0]]);
}
