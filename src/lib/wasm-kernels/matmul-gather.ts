/**
 * Kernel replacements for the WebAssembly backend: matrix products with
 * transposed operands, and gathers of whole rows.
 *
 * tfjs-backend-wasm 4.x runs `matMul` with `transposeA` or `transposeB` about
 * ten times slower than a plain `matMul` (its XNNPACK fast path only takes
 * untransposed operands). The gradients of every dense layer use exactly those
 * transposed products (dX = dY·Wᵀ, dW = Xᵀ·dY), so training spends most of its
 * time there. The replacement below transposes the operand explicitly with
 * the backend's own Transpose kernel, then runs the fast untransposed kernel:
 * the result is the same as `matMul(transpose(a), b)`, bit for bit.
 */
import * as tf from '@tensorflow/tfjs';

type KernelFunc = tf.KernelConfig['kernelFunc'];
type TensorInfo = tf.TensorInfo;

const PATCHED = Symbol.for('autoencoder-notebooks.wasmMatMulFix');

interface BackendWithDispose {
  disposeData(dataId: object, force?: boolean): boolean;
}

/** The permutation that swaps the last two axes of a rank-`rank` tensor. */
function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

function wrapTransposes(original: KernelFunc, transposeKernel: KernelFunc): KernelFunc {
  return (args) => {
    const attrs = args.attrs as Record<string, unknown> & { transposeA?: boolean; transposeB?: boolean };
    if (!attrs.transposeA && !attrs.transposeB) return original(args);
    const inputs = { ...(args.inputs as Record<string, TensorInfo>) };
    const temporaries: TensorInfo[] = [];
    const explicit = (t: TensorInfo): TensorInfo => {
      const out = transposeKernel({ inputs: { x: t }, backend: args.backend, attrs: { perm: swapLastTwo(t.shape.length) } }) as TensorInfo;
      temporaries.push(out);
      return out;
    };
    if (attrs.transposeA) inputs.a = explicit(inputs.a);
    if (attrs.transposeB) inputs.b = explicit(inputs.b);
    try {
      return original({ inputs, backend: args.backend, attrs: { ...attrs, transposeA: false, transposeB: false } });
    } finally {
      const backend = args.backend as unknown as BackendWithDispose;
      for (const t of temporaries) backend.disposeData(t.dataId);
    }
  };
}

/**
 * Replaces the wasm `BatchMatMul` and `_FusedMatMul` kernels with versions
 * that never take the slow transposed path. Idempotent; safe to call before
 * or after the wasm backend is initialised.
 */
export function installWasmMatMulFix(): void {
  const registry = globalThis as unknown as Record<symbol, boolean>;
  if (registry[PATCHED]) return;
  const transpose = tf.getKernel('Transpose', 'wasm');
  if (!transpose) throw new Error('The wasm backend is not registered: import @tensorflow/tfjs-backend-wasm first.');
  for (const kernelName of ['BatchMatMul', '_FusedMatMul']) {
    const original = tf.getKernel(kernelName, 'wasm');
    if (!original) continue;
    tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({
      kernelName,
      backendName: 'wasm',
      setupFunc: original.setupFunc,
      disposeFunc: original.disposeFunc,
      kernelFunc: wrapTransposes(original.kernelFunc, transpose.kernelFunc),
    });
  }
  registry[PATCHED] = true;
}

/** Whether `installWasmMatMulFix` has run in this process. */
export function wasmMatMulFixInstalled(): boolean {
  return Boolean((globalThis as unknown as Record<symbol, boolean>)[PATCHED]);
}

// ---------------------------------------------------------------------------
// GatherV2 along axis 0: whole rows, copied as blocks.
//
// The wasm backend's Gather computes every element's address with strides,
// one element at a time; gathering a training batch (rows of a [N, 28, 28]
// tensor) took a quarter of a training step. Along axis 0 with no batch
// dimensions, each index selects one contiguous row: the replacement copies
// rows with `copyWithin` (a memmove) and leaves every other case to the
// original kernel. Same values, bit for bit; the same error for an index out
// of range.

const GATHER_PATCHED = Symbol.for('autoencoder-notebooks.wasmGatherFix');

interface WasmHeapBackend {
  wasm: { HEAPU8: Uint8Array; HEAP32: Int32Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
}

const BYTES: Partial<Record<tf.DataType, number>> = { float32: 4, int32: 4, bool: 1 };

function gatherRows(original: KernelFunc): KernelFunc {
  return (args) => {
    const { x, indices } = args.inputs as { x: TensorInfo; indices: TensorInfo };
    const { axis, batchDims } = args.attrs as { axis: number; batchDims: number };
    const rank = x.shape.length;
    const parsedAxis = axis < 0 ? axis + rank : axis;
    const bytesPer = BYTES[x.dtype];
    if (parsedAxis !== 0 || (batchDims ?? 0) !== 0 || rank < 1 || !bytesPer || indices.dtype !== 'int32') return original(args);
    const backend = args.backend as unknown as WasmHeapBackend;
    const xData = backend.dataIdMap.get(x.dataId);
    const iData = backend.dataIdMap.get(indices.dataId);
    if (!xData || !iData) return original(args);
    const rows = x.shape[0];
    const rowBytes = (x.shape.slice(1).reduce((a, b) => a * b, 1)) * bytesPer;
    const count = indices.shape.reduce((a, b) => a * b, 1);
    // Check first (the original kernel's error message), before allocating.
    let heap32 = backend.wasm.HEAP32;
    const iOff = iData.memoryOffset >>> 2;
    for (let i = 0; i < count; i++) {
      const index = heap32[iOff + i];
      if (!(index <= rows - 1 && index >= 0)) throw new Error(`GatherV2: the index value ${index} is not in [0, ${rows - 1}]`);
    }
    const out = backend.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
    if (count === 0 || rowBytes === 0) return out;
    const outOff = backend.dataIdMap.get(out.dataId)!.memoryOffset;
    const heap = backend.wasm.HEAPU8; // after makeOutput: the heap may have grown
    heap32 = backend.wasm.HEAP32;
    const xOff = xData.memoryOffset;
    for (let i = 0; i < count; i++) {
      const src = xOff + heap32[iOff + i] * rowBytes;
      heap.copyWithin(outOff + i * rowBytes, src, src + rowBytes);
    }
    return out;
  };
}

/**
 * Replaces the wasm `GatherV2` kernel with one that copies whole rows when
 * gathering along axis 0 (what batching does). Idempotent; needs the wasm
 * backend's kernels registered (import @tensorflow/tfjs-backend-wasm first).
 */
export function installWasmGatherFix(): void {
  const registry = globalThis as unknown as Record<symbol, boolean>;
  if (registry[GATHER_PATCHED]) return;
  const original = tf.getKernel('GatherV2', 'wasm');
  if (!original) throw new Error('The wasm backend is not registered: import @tensorflow/tfjs-backend-wasm first.');
  tf.unregisterKernel('GatherV2', 'wasm');
  tf.registerKernel({
    kernelName: 'GatherV2',
    backendName: 'wasm',
    setupFunc: original.setupFunc,
    disposeFunc: original.disposeFunc,
    kernelFunc: gatherRows(original.kernelFunc),
  });
  registry[GATHER_PATCHED] = true;
}

/** Whether `installWasmGatherFix` has run in this process. */
export function wasmGatherFixInstalled(): boolean {
  return Boolean((globalThis as unknown as Record<symbol, boolean>)[GATHER_PATCHED]);
}
