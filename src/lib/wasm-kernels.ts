/**
 * Kernel replacements for the WebAssembly backend.
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
