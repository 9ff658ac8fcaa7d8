/**
 * Training inside a cell, as the kernel sees it: tfjs's own `model.fit` (for
 * models built by hand in a cell) reports live progress to the kernel and
 * stops on an interrupt, and no model starts training again in a cell that
 * was interrupted.
 */
import * as tf from '@tensorflow/tfjs';
import type { AsyncLocalStorage } from 'node:async_hooks';
import { CheckpointCallback } from '../lib/callbacks';
import { fitDecision, readsOnlyLogs } from '../lib/lean/fit';
import { AutoencoderModel } from '../lib/models';
import { trainingRates, type TrainingProgress } from '../lib/training';

/** What the patched fit needs of the kernel. */
export interface FitKernel {
  /**
   * The running cell, if any: whether it was interrupted, and the training
   * histories whose chart it showed live (a cell whose value is one of them
   * does not show it a second time).
   */
  readonly context: AsyncLocalStorage<{ interrupted: boolean; shownLive?: WeakSet<object> }>;
  /** tfjs models training now (an interrupt sets their stopTraining). */
  readonly tfjsFits: Set<tf.LayersModel>;
  onTraining(p: TrainingProgress): void;
  /** A line under the running cell. */
  note(text: string): void;
}

/** The Sequential each inner model trains for (its name is the one a user gave). */
const trainedBy = new WeakMap<tf.LayersModel, tf.LayersModel>();

/** tfjs's own `model.fit` (for models built by hand in a cell): live progress and interrupts too. */
export function patchFitForKernel(kernel: FitKernel): void {
  const proto = tf.LayersModel.prototype as unknown as { fit: tf.LayersModel['fit']; __aenbPatched?: boolean };
  if (proto.__aenbPatched) return;
  const original = proto.fit;
  proto.fit = async function (this: tf.LayersModel, x, y, args = {}) {
    const exec = kernel.context.getStore();
    if (exec?.interrupted) throw interruptedError();
    const model: tf.LayersModel = this as tf.LayersModel; // the model being trained, for the callbacks below
    const epochs = args.epochs ?? 1;
    const t0 = performance.now();
    const history: Record<string, number[]> = { loss: [] };
    const batchLosses: number[] = [];
    const n = Array.isArray(x) ? x[0].shape[0] : (x as tf.Tensor).shape[0];
    const batchSize = args.batchSize ?? 32;
    const split = args.validationSplit ? Math.floor(n * (1 - args.validationSplit)) : n;
    const batches = Math.ceil(split / batchSize);
    const runId = `tfjs-${process.pid}-${Date.now().toString(36)}`;
    let epoch = 0;
    /** Batches done in the current epoch (where an error is reported). */
    let batchesDone = 0;
    let samplesDone = 0;
    // Checkpoint callbacks: a resumed run shows the restored epochs, and the checkpoints it writes.
    const userCallbacks = args.callbacks === undefined ? [] : Array.isArray(args.callbacks) ? args.callbacks : [args.callbacks];
    const checkpoints = userCallbacks.filter((c): c is CheckpointCallback => c instanceof CheckpointCallback);
    const events = () => checkpoints.flatMap((c) => c.events);
    let epochLoss = { sum: 0, count: 0 };
    const progress = (phase: TrainingProgress['phase'], batch: number, loss: number): TrainingProgress => {
      return {
        // At the end, the epochs run (not one past them), as our own fit reports it.
        runId, phase, model: (trainedBy.get(model) ?? model).name, epoch: phase === 'end' ? Math.max(1, epoch) : epoch + 1, epochs, batch, batchesPerEpoch: batches, batchSize, samples: split, loss,
        ...trainingRates(t0, samplesDone, split * epochs),
        history, batchLosses, stopped: phase === 'end' ? model.stopTraining : undefined,
        stopReason: phase === 'end' && model.stopTraining ? 'interrupted' : undefined,
        events: events(),
      };
    };
    const report = args.verbose !== 0;
    // The live chart reads the logs only: the fast path need not write the weights back after every batch for it.
    const callback = readsOnlyLogs({
      onTrainBegin: async () => {
        const note = fitDecision(model)?.note;
        if (note && report) kernel.note(note);
        const restored = checkpoints.find((c) => c.restored)?.restored;
        if (!restored) return;
        epoch = restored.epoch;
        for (const [k, v] of Object.entries(restored.history)) history[k] = [...v];
        batchLosses.push(...restored.batchLosses);
        if (report) kernel.onTraining(progress('begin', 0, NaN));
      },
      onBatchEnd: async (batch: number, logs?: tf.Logs) => {
        const loss = Number(logs?.loss ?? NaN);
        const size = Number(logs?.size ?? batchSize);
        batchLosses.push(loss);
        samplesDone += size;
        batchesDone = batch + 1;
        if (batch === 0) epochLoss = { sum: 0, count: 0 };
        epochLoss.sum += loss * size;
        epochLoss.count += size;
        // The epoch's mean loss so far, as our own fit reports it (the chart's per-batch curve has every batch's own).
        // The last batch of an epoch is reported by the epoch's end, right after.
        if (report && batch + 1 < batches) kernel.onTraining(progress('batch', batch + 1, epochLoss.sum / epochLoss.count));
      },
      onEpochEnd: async (e: number, logs?: tf.Logs) => {
        for (const [k, v] of Object.entries(logs ?? {})) (history[k] ??= []).push(Number(v));
        if (report) kernel.onTraining(progress('epoch', batches, Number(logs?.loss ?? NaN)));
        epoch = e + 1;
        batchesDone = 0;
      },
    });
    // tfjs hands the model and the run's parameters only to its own Callback
    // subclasses; plain callbacks that want them (callbacks.latentView) get them here.
    for (const c of userCallbacks as { setModel?: (m: unknown) => void; setParams?: (p: unknown) => void }[]) {
      if (c instanceof tf.Callback) continue;
      c.setModel?.(model);
      c.setParams?.({ epochs, batchSize, samples: split, steps: batches });
    }
    const callbacks = [...userCallbacks, callback];
    kernel.tfjsFits.add(model);
    try {
      const h = await original.call(this, x, y, { ...args, callbacks: callbacks as tf.CustomCallbackArgs[], verbose: 0 });
      if (report) {
        kernel.onTraining(progress('end', batches, history.loss[history.loss.length - 1] ?? NaN));
        exec?.shownLive?.add(h);
      }
      return h;
    } catch (e) {
      // The live chart says the run failed (the cell reports the error itself), instead of staying "running".
      if (report && batchLosses.length) kernel.onTraining({ ...progress('error', batchesDone, NaN), error: e instanceof Error ? e.message : String(e) });
      throw e;
    } finally {
      kernel.tfjsFits.delete(model);
    }
  } as tf.LayersModel['fit'];
  proto.__aenbPatched = true;
  // A Sequential trains through an inner model (which flattens its first
  // nested model): plain callbacks that want the model get the Sequential first.
  const seq = tf.Sequential.prototype as unknown as { fit: tf.Sequential['fit'] };
  const seqFit = seq.fit;
  seq.fit = function (this: tf.Sequential, x, y, args = {}) {
    // The inner model is named `<name>_model`: the training output shows the Sequential's own name.
    const inner = (this as unknown as { model?: tf.LayersModel }).model;
    if (inner) trainedBy.set(inner, this);
    const list = args.callbacks ? (Array.isArray(args.callbacks) ? args.callbacks : [args.callbacks]) : [];
    for (const c of list as { setModel?: (m: unknown) => void }[]) if (!(c instanceof tf.Callback)) c.setModel?.(this);
    return seqFit.call(this, x, y, args);
  } as tf.Sequential['fit'];
  // Our models refuse to start training again in an interrupted cell, too.
  const ours = AutoencoderModel.prototype as unknown as { fit: AutoencoderModel['fit'] };
  const ourFit = ours.fit;
  ours.fit = function (this: AutoencoderModel, ...args: Parameters<AutoencoderModel['fit']>) {
    if (kernel.context.getStore()?.interrupted) return Promise.reject(interruptedError());
    return ourFit.apply(this, args);
  };
}


function interruptedError(): Error {
  const e = new Error('Interrupted: this cell was interrupted, so it starts no more training. Run it again to continue.');
  e.name = 'KernelInterrupted';
  return e;
}
