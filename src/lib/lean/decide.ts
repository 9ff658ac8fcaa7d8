/**
 * Whether a training run takes the lean step, and if not, why: one place
 * for our `fit` (training.ts) and tfjs's `LayersModel.fit` (fit.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { wasmMatMulFixInstalled } from '../wasm-kernels';
import { buildLeanStep, type LeanStep, type LeanStepArgs } from './step';

let leanTraining = process.env.AENB_LEAN_TRAINING !== '0';

/**
 * Turns the lean wasm training step on or off for this process (default on;
 * the environment variable AENB_LEAN_TRAINING=0 starts with it off). For
 * benchmarks and tests that compare it with the generic path.
 */
export function setLeanTraining(enabled: boolean): void {
  leanTraining = enabled;
}

export function leanTrainingEnabled(): boolean {
  return leanTraining;
}

/**
 * The outcome for one training run:
 *  - `step`: the lean step runs it;
 *  - `refused`: it could have, but something in the model, loss, optimizer or
 *    data is outside what the fast path handles (the reason says what; the
 *    training output shows it once);
 *  - `off`: the fast path does not apply here at all (another backend, or
 *    turned off): nothing to tell the user.
 */
export type LeanDecision = { step: LeanStep } | { refused: string } | { off: string };

/** Why the fast path does not apply in this process right now (another backend, turned off), or null when it does. */
export function leanOff(): string | null {
  if (!leanTraining) return 'the lean step is turned off';
  if (tf.getBackend() !== 'wasm') return `the backend is ${tf.getBackend()}`;
  if (!wasmMatMulFixInstalled()) return "the library's wasm kernels are not installed";
  return null;
}

export function decideLeanStep(args: LeanStepArgs): LeanDecision {
  const off = leanOff();
  return off ? { off } : buildLeanStep(args);
}

/** One sentence for the training output when the fast path was refused. */
export function genericPathNote(reason: string): string {
  return `Training on the generic path (slower): the fast path does not handle ${reason}.`;
}
