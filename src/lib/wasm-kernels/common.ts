/**
 * What the kernels registered here share: the wasm backend's heap, tensor
 * addresses, temporary buffers, and the compiled C kernels on that heap.
 */
import * as tf from '@tensorflow/tfjs';
import { cKernels, type CExports } from '../wasm/kernels';

export type TensorInfo = tf.TensorInfo;
export type KernelFunc = tf.KernelConfig['kernelFunc'];

interface DataRecord {
  id: number;
  memoryOffset: number;
  refCount: number;
}

/** The parts of tfjs-backend-wasm 4.x's backend these kernels use. */
export interface WasmBackend {
  wasm: {
    asm: { memory: WebAssembly.Memory; malloc(bytes: number): number; free(ptr: number): void };
    HEAPU8: Uint8Array;
    HEAP32: Int32Array;
    HEAPF32: Float32Array;
  };
  dataIdMap: { get(dataId: object): DataRecord | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
}

export function wasmBackend(backend: unknown): WasmBackend {
  return backend as WasmBackend;
}

/** The byte address of a tensor's data on the heap. */
export function addressOf(backend: WasmBackend, t: TensorInfo): number {
  const d = backend.dataIdMap.get(t.dataId);
  if (!d) throw new Error('tensor data is not on the wasm backend');
  return d.memoryOffset;
}

/** The C kernels on this backend's heap. */
export function cOf(backend: WasmBackend): CExports {
  const asm = backend.wasm.asm;
  return cKernels(asm.memory, (bytes) => asm.malloc(bytes));
}

/**
 * Runs `fn` with temporary heap blocks of the given sizes (in 32-bit words),
 * freed afterwards whatever happens. Block i starts as `init[i]` when given
 * (int32 values), else zeros.
 */
export function withBlocks<T>(backend: WasmBackend, words: number[], fn: (ptrs: number[]) => T, init: (number[] | undefined)[] = []): T {
  const asm = backend.wasm.asm;
  const ptrs: number[] = [];
  try {
    for (const n of words) {
      const p = asm.malloc(Math.max(1, n) * 4) >>> 0;
      if (p === 0) throw new Error(`wasm heap: cannot allocate ${n} words`);
      ptrs.push(p);
    }
    const heap = backend.wasm.HEAP32; // after every malloc: the heap may have grown
    ptrs.forEach((p, i) => {
      const values = init[i];
      if (values) heap.set(values, p >>> 2);
      else heap.fill(0, p >>> 2, (p >>> 2) + words[i]);
    });
    return fn(ptrs);
  } finally {
    for (const p of ptrs) asm.free(p);
  }
}

/**
 * Runs `fn` with the geometry record `words` on the heap and, when
 * `workFloats` is given, a work buffer of that many floats (sized from the
 * record by the C side); both freed afterwards whatever happens.
 */
export function withGeometry<T>(backend: WasmBackend, words: number[], fn: (geom: number, work: number) => T, workFloats?: (geom: number) => number): T {
  return withBlocks(backend, [words.length], ([geom]) =>
    workFloats ? withBlocks(backend, [workFloats(geom)], ([work]) => fn(geom, work)) : fn(geom, 0), [words]);
}

/** The copies a kernel makes on its way (casts, layout transposes). */
export interface Scratch {
  /** `t` as float32: itself, or a copy disposed with the scratch. */
  float(t: TensorInfo): TensorInfo;
  /** `t` as `dtype`: itself, or a copy disposed with the scratch. */
  cast(t: TensorInfo, dtype: tf.DataType): TensorInfo;
  /** NCHW -> NHWC (or back, with `toFirst`): a copy disposed with the scratch. */
  transpose(t: TensorInfo, toFirst?: boolean): TensorInfo;
  /** Disposes `t` with the scratch. */
  own(t: TensorInfo): TensorInfo;
}

/** Runs `fn` with a scratch whose copies are disposed when it returns or throws. */
export function withScratch<T>(backend: WasmBackend, fn: (scratch: Scratch) => T): T {
  const copies: TensorInfo[] = [];
  const own = (t: TensorInfo): TensorInfo => {
    copies.push(t);
    return t;
  };
  const cast = (t: TensorInfo, dtype: tf.DataType): TensorInfo => (t.dtype === dtype ? t : own(runWasmKernel('Cast', backend, { x: t }, { dtype })));
  try {
    return fn({ float: (t) => cast(t, 'float32'), cast, transpose: (t, toFirst) => own(transposeChannels(backend, t, toFirst)), own });
  } finally {
    for (const t of copies) backend.disposeData(t.dataId);
  }
}

/** Zeroes a tensor's data (outputs that kernels accumulate into). */
export function zeroData(backend: WasmBackend, t: TensorInfo, size: number): void {
  const at = addressOf(backend, t) >>> 2;
  backend.wasm.HEAPF32.fill(0, at, at + size);
}

/** Runs another registered wasm kernel (Transpose, Cast...). */
export function runWasmKernel(name: string, backend: WasmBackend, inputs: Record<string, TensorInfo>, attrs: Record<string, unknown>): TensorInfo {
  const k = tf.getKernel(name, 'wasm');
  if (!k) throw new Error(`the wasm backend has no ${name} kernel`);
  return k.kernelFunc({ inputs, backend: backend as unknown as tf.KernelBackend, attrs: attrs as tf.NamedAttrMap }) as TensorInfo;
}

/** NCHW → NHWC (or back, with `toFirst`), as a new tensor on the backend. */
export function transposeChannels(backend: WasmBackend, t: TensorInfo, toFirst = false): TensorInfo {
  return runWasmKernel('Transpose', backend, { x: t }, { perm: toFirst ? [0, 3, 1, 2] : [0, 2, 3, 1] });
}

export const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
