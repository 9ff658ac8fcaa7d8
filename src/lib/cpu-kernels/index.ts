/** Corrections this library registers for the cpu backend, one kernel per file. */
import * as tf from '@tensorflow/tfjs';
import { resizeNearestNeighborGradCpuConfig } from './resize-nearest-neighbor-grad';

export const CPU_CORRECTED_KERNELS: readonly tf.KernelConfig[] = [resizeNearestNeighborGradCpuConfig];

const PATCHED = Symbol.for('autoencoder-notebooks.cpuKernelFixes');

/** Replaces cpu kernels that compute wrong values. Idempotent. */
export function installCpuKernelFixes(): void {
  const registry = globalThis as unknown as Record<symbol, boolean>;
  if (registry[PATCHED]) return;
  for (const config of CPU_CORRECTED_KERNELS) {
    if (tf.getKernel(config.kernelName, 'cpu')) tf.unregisterKernel(config.kernelName, 'cpu');
    tf.registerKernel(config);
  }
  registry[PATCHED] = true;
}
