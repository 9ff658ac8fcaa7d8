/**
 * Kernels this library registers for the WebAssembly backend, one per file
 * (the layout of tfjs-backend-wasm's own src/kernels):
 *
 *  - gradient kernels tfjs-backend-wasm 4.22 lacks, without which layers
 *    with those gradients cannot train on wasm at all (the list is checked
 *    against every layer of tf.layers by test/unit/wasm-kernels.test.ts):
 *    Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropFilter,
 *    DepthwiseConv2dNativeBackpropInput, UnsortedSegmentSum;
 *  - gradient kernels it has but gets wrong: Conv3DBackpropInputV2 and
 *    Conv3DBackpropFilterV2 (state shared between them corrupts results);
 *  - faster replacements of stock kernels: BatchMatMul / _FusedMatMul
 *    (transposed operands), GatherV2 (rows), Conv2DBackpropInput and
 *    MaxPoolGrad (SIMD C instead of plain loops), Slice (copies what it
 *    keeps, not its whole input).
 */
import * as tf from '@tensorflow/tfjs';
import { conv2DBackpropFilterConfig } from './conv2d-backprop-filter';
import { conv2DBackpropInputConfig } from './conv2d-backprop-input';
import { conv3DBackpropFilterV2Config } from './conv3d-backprop-filter-v2';
import { conv3DBackpropInputV2Config } from './conv3d-backprop-input-v2';
import { depthwiseConv2dNativeBackpropFilterConfig } from './depthwise-conv2d-native-backprop-filter';
import { depthwiseConv2dNativeBackpropInputConfig } from './depthwise-conv2d-native-backprop-input';
import { maxPoolGradConfig } from './max-pool-grad';
import { sliceConfig } from './slice';
import { unsortedSegmentSumConfig } from './unsorted-segment-sum';

export { installWasmGatherFix, installWasmMatMulFix, wasmGatherFixInstalled, wasmMatMulFixInstalled } from './matmul-gather';

/** The kernels tfjs-backend-wasm does not have. */
export const WASM_GRADIENT_KERNELS: readonly tf.KernelConfig[] = [
  conv2DBackpropFilterConfig,
  depthwiseConv2dNativeBackpropFilterConfig,
  depthwiseConv2dNativeBackpropInputConfig,
  unsortedSegmentSumConfig,
];

/** Our replacements for stock kernels that compute wrong values. */
export const WASM_CORRECTED_KERNELS: readonly tf.KernelConfig[] = [conv3DBackpropInputV2Config, conv3DBackpropFilterV2Config];

/** Our replacements for slow stock kernels (besides the matMul and gather fixes). */
export const WASM_FAST_KERNELS: readonly tf.KernelConfig[] = [conv2DBackpropInputConfig, maxPoolGradConfig, sliceConfig];

const GRADIENTS = Symbol.for('autoencoder-notebooks.wasmGradientKernels');
const FAST = Symbol.for('autoencoder-notebooks.wasmFastKernels');

function register(configs: readonly tf.KernelConfig[], replace: boolean): void {
  for (const config of configs) {
    const existing = tf.getKernel(config.kernelName, 'wasm');
    if (existing && !replace) continue; // a later tfjs-backend-wasm that has it: keep its own
    if (existing) tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
  }
}

/** Registers the gradient kernels the wasm backend lacks or gets wrong. Idempotent; needs @tensorflow/tfjs-backend-wasm imported. */
export function installWasmGradientKernels(): void {
  const registry = globalThis as unknown as Record<symbol, boolean>;
  if (registry[GRADIENTS]) return;
  register(WASM_GRADIENT_KERNELS, false);
  register(WASM_CORRECTED_KERNELS, true);
  registry[GRADIENTS] = true;
}

/** Replaces the slow stock Conv2DBackpropInput, MaxPoolGrad and Slice. Idempotent. */
export function installWasmFastKernels(): void {
  const registry = globalThis as unknown as Record<symbol, boolean>;
  if (registry[FAST]) return;
  if (!tf.getKernel('Transpose', 'wasm')) throw new Error('The wasm backend is not registered: import @tensorflow/tfjs-backend-wasm first.');
  register(WASM_FAST_KERNELS, true);
  registry[FAST] = true;
}
