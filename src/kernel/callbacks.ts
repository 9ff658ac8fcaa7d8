/**
 * The cells' `callbacks` object: training callbacks to pass to `fit` (ours,
 * and tfjs's `model.fit`), from one table. An output kind adds the callbacks
 * that show an output while training (KernelPart.callbacks in
 * src/outputs/kind.ts: `callbacks.latentView`); callbacks that show nothing
 * of their own (checkpoints, say) come from the library, listed in
 * LIBRARY_CALLBACKS below. A name is defined once.
 */
import { callbacks as libraryCallbacks } from '../lib/callbacks';
import type { KernelServices } from '../outputs/kind';
import { OUTPUT_KINDS, type KindCallbacksApi } from '../outputs/registry';

type CallbackFactory = (...args: any[]) => unknown;

/** Callbacks from src/lib, by name: each makes a callback object for `fit`. */
const LIBRARY_CALLBACKS = {
  /** Writes a checkpoint (weights, optimizer state, epoch, shuffle state, history) after every epoch or every n epochs. */
  modelCheckpoint: libraryCallbacks.modelCheckpoint,
  /** Keeps a backup of the run after every epoch; a fit that finds one resumes with the next epoch; removed when training completes. */
  backupAndRestore: libraryCallbacks.backupAndRestore,
} satisfies Readonly<Record<string, CallbackFactory>>;

/** `callbacks` as the cells see it (its type lists every callback, with its doc comment). */
export type CallbacksApi = typeof LIBRARY_CALLBACKS & KindCallbacksApi;

/** `callbacks` as the cells see it; the kinds' callbacks reach the running cell through `kernel`. */
export function callbacksApi(kernel: KernelServices, library: Readonly<Record<string, CallbackFactory>> = LIBRARY_CALLBACKS): CallbacksApi {
  const api: Record<string, CallbackFactory> = {};
  const add = (name: string, from: string, make: CallbackFactory) => {
    if (name in api) throw new Error(`callbacks.${name} is defined twice (by ${from} and another)`);
    api[name] = make;
  };
  for (const [name, make] of Object.entries(library)) add(name, 'the library', make);
  for (const kind of OUTPUT_KINDS) {
    for (const [name, make] of Object.entries(kind.kernel?.callbacks ?? {})) add(name, `the ${kind.name} output kind`, (...args: unknown[]) => make(kernel, ...args));
  }
  return api as CallbacksApi;
}
