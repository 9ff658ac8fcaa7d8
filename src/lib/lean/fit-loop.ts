/**
 * The batch loop of tfjs's `LayersModel.fit` (tfjs-layers 4.22's `fitLoop`),
 * run on the lean step.
 *
 * tfjs's own loop makes, for every batch: a slice of its index tensor, a
 * gather of the batch's rows of x and another of y, a scalar for the loss,
 * and tensor arithmetic in its logger to average that loss over the epoch.
 * Each of these is a kernel call with the engine's bookkeeping, and between
 * them the step waits: at batch 32 the loop cost as much as the step did.
 * This loop keeps what a user sees of tfjs's (the same callbacks, called in
 * the same order with the same logs, the same shuffling with the same
 * `Math.random` draws, validation after the last batch of each epoch,
 * `stopTraining`, the History it returns) and hands the step the row numbers
 * of each batch, which it reads where x and y lie. Losses in the logs are
 * numbers, where tfjs gives scalars that its callbacks resolve to numbers;
 * the epoch's mean is summed in float64.
 */
import * as tf from '@tensorflow/tfjs';
import type { LeanStep } from './step';

/** The arguments tfjs's `fit` passes to `fitLoop`, in its order (tfjs-layers 4.22). */
export type FitLoopArgs = [
  f: unknown,
  ins: (tf.Tensor | null)[],
  outLabels: string[],
  batchSize: number | undefined,
  epochs: number | undefined,
  verbose: number | undefined,
  callbacks: tf.Callback[] | undefined,
  valF: unknown,
  valIns: tf.Tensor[] | undefined,
  shuffle: boolean | string | undefined,
  callbackMetrics: string[] | undefined,
  initialEpoch: number | undefined,
  stepsPerEpoch: number | null | undefined,
  validationSteps: number | null | undefined,
];

interface ModelInternals {
  stopTraining_: boolean;
  history: tf.History;
  testLoop(f: unknown, ins: tf.Tensor[], batchSize: number, verbose?: number): tf.Scalar[];
}

/** What the loop needs of the fit it runs for. */
export interface LeanLoopSession {
  step: LeanStep;
  /** x and y are the same data (`fit(x, x)`): the rows are loaded once. */
  sameData: boolean;
  /** Called after each batch's step; writes the weights back when something may read them. */
  afterStep(lastOfEpoch: boolean): void;
}

/** Why this call of tfjs's loop cannot run here (then tfjs's own runs it), or null. */
export function leanLoopRefusal(args: FitLoopArgs): string | null {
  const [, ins, outLabels, , , verbose, , , , shuffle, , , stepsPerEpoch, validationSteps] = args;
  if (stepsPerEpoch != null || validationSteps != null) return 'steps per epoch';
  if (shuffle === 'batch') return 'batch shuffling';
  if (ins.length < 2 || !ins[0] || !ins[1] || ins.slice(2).some((w) => w != null)) return 'sample weights';
  if (outLabels.length !== 1) return 'several outputs';
  // tfjs's loop adds the callbacks registered for the verbosity (tf.registerCallbackConstructor), which no public API
  // lists; the one known registrant is tfjs-node's progress bar, at verbosity 1 and up, when tfjs-node is loaded.
  if ((verbose ?? 1) > 0 && tf.findBackendFactory('tensorflow')) return 'the progress bar of tfjs-node';
  return null;
}

/**
 * Averages each epoch's batch logs over its samples and writes them into
 * the epoch's logs, as tfjs's BaseLogger does (first in the list, so that
 * every other callback sees the means).
 */
class EpochMeans extends tf.Callback {
  private seen = 0;
  private totals: Record<string, number> = {};

  override async onEpochBegin(): Promise<void> {
    this.seen = 0;
    this.totals = {};
  }

  override async onBatchEnd(_batch: number, logs?: tf.Logs): Promise<void> {
    const size = logs?.size ?? 0;
    this.seen += size;
    for (const [key, value] of Object.entries(logs ?? {})) this.totals[key] = (this.totals[key] ?? 0) + value * size;
  }

  override async onEpochEnd(_epoch: number, logs?: tf.Logs): Promise<void> {
    if (!logs) return;
    for (const key of (this.params.metrics as string[] | undefined) ?? []) {
      if (this.totals[key] !== undefined) logs[key] = this.totals[key] / this.seen;
    }
  }
}

/** [start, end) of each batch of an epoch of `size` samples. */
function batchesOf(size: number, batchSize: number): [number, number][] {
  const out: [number, number][] = [];
  for (let start = 0; start < size; start += batchSize) out.push([start, Math.min(size, start + batchSize)]);
  return out;
}

/** tfjs's fitLoop on the lean step (check `leanLoopRefusal` first). */
export async function leanFitLoop(model: tf.LayersModel, session: LeanLoopSession, args: FitLoopArgs): Promise<tf.History> {
  const [, ins, outLabels, batchSizeArg, epochsArg, verboseArg, callbacks, valF, valIns, shuffleArg, callbackMetrics, initialEpochArg] = args;
  const m = model as unknown as ModelInternals;
  const batchSize = batchSizeArg ?? 32;
  const epochs = epochsArg ?? 1;
  const shuffle = shuffleArg ?? true;
  const initialEpoch = initialEpochArg ?? 0;
  const verbose = verboseArg ?? 1;
  const x = ins[0] as tf.Tensor;
  const y = session.sameData ? x : (ins[1] as tf.Tensor);
  const doValidation = valF != null && valIns != null;
  const samples = x.shape[0];
  const indices = Array.from({ length: samples }, (_, i) => i);
  const order = new Int32Array(samples);

  const history = new tf.History();
  const list = new tf.CallbackList([new EpochMeans(), ...(callbacks ?? []), history]);
  list.setParams({ epochs, initialEpoch, samples, steps: null as unknown as number, batchSize, verbose, doValidation, metrics: callbackMetrics ?? [] });
  list.setModel(model);
  m.history = history;
  await list.onTrainBegin();
  m.stopTraining_ = false;
  for (let epoch = initialEpoch; epoch < epochs; ++epoch) {
    await list.onEpochBegin(epoch);
    const epochLogs: tf.Logs = {};
    if (shuffle) tf.util.shuffle(indices);
    order.set(indices);
    const batches = batchesOf(samples, batchSize);
    for (let b = 0; b < batches.length; ++b) {
      const batchLogs: tf.Logs = {};
      await list.onBatchBegin(b, batchLogs);
      const [start, end] = batches[b];
      batchLogs.batch = b;
      batchLogs.size = end - start;
      const last = b === batches.length - 1;
      batchLogs[outLabels[0]] = session.step.stepRows(x, y, order, start, end - start);
      session.afterStep(last);
      if (last && doValidation) {
        // tfjs's test loop on the weights just written back; its scalars are resolved to numbers by the callbacks, as in tfjs.
        const valOuts = m.testLoop(valF, valIns, batchSize);
        outLabels.forEach((label, i) => ((epochLogs as Record<string, unknown>)[`val_${label}`] = valOuts[i]));
      }
      await list.onBatchEnd(b, batchLogs);
      if (m.stopTraining_) break;
    }
    await list.onEpochEnd(epoch, epochLogs);
    if (m.stopTraining_) break;
  }
  await list.onTrainEnd();
  await history.syncData();
  return history;
}
