/**
 * A clear error when the active backend has no kernel for an operation,
 * instead of tfjs's bare "Kernel 'X' not registered for backend 'wasm'":
 * which operation needed it (and whether it was while computing gradients,
 * that is, training), which backend, and what to do.
 */
import * as tf from '@tensorflow/tfjs';

const PATCHED = Symbol.for('autoencoder-notebooks.kernelErrorMessages');

export class KernelUnavailableError extends Error {
  constructor(readonly kernelName: string, readonly backendName: string, readonly operation: string | undefined, readonly inGradient: boolean) {
    super(KernelUnavailableError.describe(kernelName, backendName, operation, inGradient));
    this.name = 'KernelUnavailableError';
  }

  static describe(kernel: string, backend: string, operation: string | undefined, inGradient: boolean): string {
    const what = operation ? `tf.${operation} (kernel ${kernel})` : `the kernel ${kernel}`;
    const when = inGradient ? ', which training needs to compute gradients,' : '';
    const others = ['cpu', 'tensorflow', 'wasm'].filter((b) => b !== backend);
    return (
      `The ${backend} backend cannot run ${what}${when}: TensorFlow.js has no ${kernel} kernel for it. ` +
      `Switch to another backend (${others.join(' or ')}: in VS Code "Autoencoder Notebooks: Select Backend...", ` +
      `in the headless runner --backend ${others.includes('cpu') ? 'cpu' : others[0]}; cpu has every kernel but is the slowest), ` +
      `or avoid this operation.`
    );
  }
}

interface EngineInternals {
  backendName: string;
  state: { scopeStack: { name: string }[] };
  runKernel(kernelName: string, inputs: unknown, attrs?: unknown): unknown;
}

/** The operation being run (the innermost tfjs op scope) and whether gradients are being computed. */
function context(engine: EngineInternals): { operation?: string; inGradient: boolean } {
  const names = engine.state?.scopeStack?.map((s) => s.name) ?? [];
  const op = [...names].reverse().find((n) => n.endsWith('__op'));
  return { operation: op?.slice(0, -'__op'.length), inGradient: names.includes('backward') };
}

/** Installs the clear error on tfjs's engine. Idempotent. */
export function installKernelErrorMessages(): void {
  const engine = tf.engine() as unknown as EngineInternals & Record<symbol, boolean>;
  if (engine[PATCHED]) return;
  const original = engine.runKernel;
  engine.runKernel = function (this: EngineInternals, kernelName: string, inputs: unknown, attrs?: unknown) {
    const backend = this.backendName;
    if (backend && !tf.getKernel(kernelName, backend)) {
      const { operation, inGradient } = context(this);
      throw new KernelUnavailableError(kernelName, backend, operation, inGradient);
    }
    return original.call(this, kernelName, inputs, attrs);
  };
  engine[PATCHED] = true;
}
