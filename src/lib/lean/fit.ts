/**
 * tfjs's own `LayersModel.fit` on the lean step.
 *
 * `fit` keeps everything it does before and after its batch loop (checking
 * and splitting the data, validation, History); for the duration of the
 * call its loop (`fitLoop`) is replaced by the same loop on the lean step
 * (fit-loop.ts), which reads each batch's rows where x and y lie. Where that
 * loop cannot run (see `leanLoopRefusal`), tfjs's own runs, and only the
 * function it calls for each batch (`makeTrainFunction`, which runs
 * `optimizer.minimize` over the model) is replaced by the lean step on the
 * batch tfjs gathered. A model, loss or optimizer the lean step does not
 * handle trains exactly as before, and the reason is kept for the training
 * output (`fitDecision`).
 */
import * as tf from '@tensorflow/tfjs';
import { decideLeanStep, genericPathNote, leanOff, type LeanDecision } from './decide';
import { kernelRegularizers } from './layers/util';
import { chainOf } from './plan';
import { leanFitLoop, leanLoopRefusal, type FitLoopArgs, type LeanLoopSession } from './fit-loop';

/**
 * Marks a callback that reads only the logs it is given, never the model's
 * weights (the kernel's live chart, for example): a fit whose callbacks all
 * carry it need not write the weights back after every batch.
 */
export const READS_ONLY_LOGS = Symbol.for('autoencoder-notebooks.readsOnlyLogs');

/**
 * Whether a callback may read the weights in the middle of an epoch: it has
 * a batch hook of its own (a plain object's, or a tf.Callback subclass's
 * override) and is not marked READS_ONLY_LOGS. Epoch-end hooks need nothing:
 * the weights are written back after the last batch of every epoch.
 */
function readsWeightsMidEpoch(callback: unknown): boolean {
  const c = callback as Record<string | symbol, unknown>;
  if (!c || c[READS_ONLY_LOGS]) return false;
  const base = tf.Callback.prototype as unknown as Record<string, unknown>;
  return ['onBatchBegin', 'onBatchEnd', 'onYield'].some((hook) => typeof c[hook] === 'function' && c[hook] !== base[hook]);
}

/** `callback`, marked as reading only its logs (READS_ONLY_LOGS). */
export function readsOnlyLogs<T extends object>(callback: T): T {
  return Object.assign(callback, { [READS_ONLY_LOGS]: true });
}

const PATCHED = Symbol.for('autoencoder-notebooks.leanLayersFit');

interface LayersModelInternals {
  optimizer_?: tf.Optimizer;
  loss?: unknown;
  lossFunctions?: unknown[];
  metricsTensors?: unknown[];
  collectedTrainableWeights?: { read(): tf.Tensor }[];
  makeTrainFunction(): (data: tf.Tensor[]) => tf.Scalar[];
  fitLoop(...args: FitLoopArgs): Promise<tf.History>;
  fit: tf.LayersModel['fit'];
}

/** What the fit of each model decided most recently (the kernel shows the reason once). */
interface Decision {
  path: 'lean-wasm' | 'generic';
  reason?: string;
  compute?: string;
  /** On the lean step: whose batch loop ran it ('lean', or tfjs's and why). */
  loop?: string;
}
const decisions = new WeakMap<tf.LayersModel, Decision>();

/** A fit on the lean step: the step, and when to write the weights back into the model (parallel engine). */
interface Session extends LeanLoopSession {
  /** Batches per epoch, as tfjs's fit counts them. */
  batches: number;
  /** Batches trained so far (by tfjs's own loop). */
  calls: number;
}
const sessions = new WeakMap<tf.LayersModel, Session>();

/** Batches per epoch in tfjs's fit for these arguments (tensor inputs). */
function batchesPerEpoch(x: unknown, args: tf.ModelFitArgs): number {
  const n = single(x)?.shape[0] ?? 0;
  const train = args.validationData || !args.validationSplit ? n : Math.floor(n * (1 - args.validationSplit));
  return Math.max(1, Math.ceil(train / (args.batchSize ?? 32)));
}

/** How the latest (or current) `fit` of this model trains: the lean step (and what computes it: threads, FMA), or the generic path and why. */
export function fitDecision(model: tf.LayersModel): (Decision & { note?: string }) | undefined {
  // A Sequential's fit runs the fit of the functional model inside it.
  const d = decisions.get(model) ?? decisions.get((model as unknown as { model?: tf.LayersModel }).model as tf.LayersModel);
  return d && { ...d, ...(d.reason ? { note: genericPathNote(d.reason) } : {}) };
}

function single(v: unknown): tf.Tensor | null {
  if (v instanceof tf.Tensor) return v;
  if (Array.isArray(v) && v.length === 1 && v[0] instanceof tf.Tensor) return v[0];
  return null;
}

/** Everything about a compiled model and a fit call that keeps it off the lean step, before the layers are looked at. */
function precheck(model: tf.LayersModel, x: unknown, y: unknown, args: tf.ModelFitArgs): string | null {
  const m = model as unknown as LayersModelInternals;
  if (!m.optimizer_ || !m.lossFunctions?.length) return null; // not compiled: tfjs's fit says so
  if (m.lossFunctions.length !== 1) return 'a model with several losses';
  if (m.metricsTensors?.length) return 'metrics (compile without `metrics` to train on the fast path)';
  if (args.sampleWeight || args.classWeight) return 'sample or class weights';
  if (!single(x) || !single(y)) return 'inputs or targets given as several tensors';
  for (const layer of model.layers) {
    const extra = kernelRegularizers(layer);
    if (extra) return `layer '${layer.name}' (${layer.getClassName()}) with a ${extra}`;
  }
  return null;
}

function decide(model: tf.LayersModel, x: unknown, y: unknown, args: tf.ModelFitArgs): LeanDecision | null {
  const m = model as unknown as LayersModelInternals;
  if (!m.optimizer_ || !m.lossFunctions?.length || !m.collectedTrainableWeights) return null;
  const off = leanOff();
  if (off) return { off };
  const problem = precheck(model, x, y, args);
  if (problem) return { refused: problem };
  return decideLeanStep({
    model,
    loss: m.lossFunctions[0],
    optimizer: m.optimizer_,
    variables: m.collectedTrainableWeights.map((w) => w.read() as tf.Variable),
    batchSize: args.batchSize ?? 32,
  });
}

/**
 * Makes `LayersModel.fit` train on the lean step whenever the model (a chain
 * of supported layers), its loss and its optimizer allow it. Idempotent.
 */
export function installLeanLayersFit(): void {
  const registry = globalThis as unknown as Record<symbol, boolean>;
  if (registry[PATCHED]) return;
  const proto = tf.LayersModel.prototype as unknown as LayersModelInternals;
  const originalFit = proto.fit;
  const originalMake = proto.makeTrainFunction;
  const originalLoop = proto.fitLoop;
  proto.fit = async function (this: tf.LayersModel, x, y, args = {}) {
    const decision = decide(this, x, y, args);
    if (!decision || 'off' in decision) {
      decisions.delete(this);
      return originalFit.call(this, x, y, args);
    }
    if ('refused' in decision) {
      decisions.set(this, { path: 'generic', reason: decision.refused });
      return originalFit.call(this, x, y, args);
    }
    decisions.set(this, { path: 'lean-wasm', compute: decision.step.description });
    const list = args.callbacks ? (Array.isArray(args.callbacks) ? args.callbacks : [args.callbacks]) : [];
    const everyBatch = list.some(readsWeightsMidEpoch);
    const step = decision.step;
    let lastFlush = performance.now();
    sessions.set(this, {
      step,
      batches: batchesPerEpoch(x, args),
      calls: 0,
      sameData: single(x) !== null && single(x) === single(y),
      // On the parallel engine the weights live in its memory: they are written back before anything may read them:
      // validation and epoch-end callbacks (after the last batch of an epoch), callbacks that may read them, and
      // the pauses tfjs takes (at least every 50 ms).
      afterStep(last) {
        const now = performance.now();
        if (last || everyBatch || now - lastFlush >= 50) {
          step.flush();
          lastFlush = now;
        }
      },
    });
    try {
      return await originalFit.call(this, x, y, args);
    } finally {
      sessions.delete(this);
      // Writes the weights back (parallel engine) and waits until the engine's threads have ended.
      await step.dispose();
    }
  } as tf.LayersModel['fit'];
  // tfjs's loop on the lean step (fit-loop.ts); tfjs's own loop, when that cannot run it, calls the train function below.
  proto.fitLoop = function (this: tf.LayersModel, ...args: FitLoopArgs) {
    const session = sessions.get(this);
    const refusal = session && leanLoopRefusal(args);
    const decision = decisions.get(this);
    if (decision && session) decision.loop = refusal ? `tfjs's (${refusal})` : 'lean';
    if (!session || refusal) return originalLoop.apply(this, args);
    return leanFitLoop(this, session, args);
  };
  proto.makeTrainFunction = function (this: tf.LayersModel) {
    const session = sessions.get(this);
    if (!session) return originalMake.call(this);
    // Like the generic train function, it reports the batch's loss and lets `fit` deal with it (a NaN included).
    return (data: tf.Tensor[]) => {
      const loss = session.step.stepOn(data[0], session.sameData ? data[0] : data[1]);
      session.afterStep(++session.calls % session.batches === 0);
      return [tf.scalar(loss)];
    };
  };
  registry[PATCHED] = true;
}

/** Whether `installLeanLayersFit` has run in this process. */
export function leanLayersFitInstalled(): boolean {
  return Boolean((globalThis as unknown as Record<symbol, boolean>)[PATCHED]);
}

/** The layers of a model as the fast path sees them (for messages and tests). */
export { chainOf };
