/**
 * The training loop: mini-batch gradient descent with progress events,
 * cooperative stopping at batch boundaries, seeded shuffling, and no tensor
 * left behind. Used by our autoencoders' `fit`; observers (the notebook
 * kernel) see every run without the user passing anything.
 */
import * as tf from '@tensorflow/tfjs';
import type { LossFn } from './losses';
import { mulberry32, permutation, seedOrRandom } from './random';
import { installWasmGatherFix, wasmMatMulFixInstalled } from './wasm-kernels';
import { decideLeanStep, genericPathNote, type LeanStep } from './lean';
import { profiling, recordProfile } from './engine';

export { setLeanTraining, leanTrainingEnabled } from './lean';

export interface EpochLogs {
  loss: number;
  val_loss?: number;
  [metric: string]: number | undefined;
}

/** Something that happened to a run besides its batches: shown in the training output. */
export interface TrainingEvent {
  kind: 'checkpoint' | 'resumed' | 'note';
  /** Epochs completed when it happened. */
  epoch: number;
  /** One line for the output, e.g. "Checkpoint after epoch 5: ckpt/epoch-0005.ckpt". */
  message: string;
  /** A file it concerns (the checkpoint written or resumed from). */
  path?: string;
}

/** What a run resumes from (a checkpoint's state): the next epoch to run and what came before it. */
export interface ResumeState {
  /** Epochs completed: training continues with this (0-based) epoch. */
  epoch: number;
  /** State of the shuffle generator after the last completed epoch's order was drawn. */
  rngState?: number;
  /** Per-epoch values of the epochs completed. */
  history?: Record<string, number[]>;
  batchLosses?: ArrayLike<number>;
  /** The event to show (where it resumed from). */
  event?: TrainingEvent;
}

/**
 * A run as callbacks see it before and during training (checkpoints use it):
 * the model, its optimizer, the history so far and the shuffle generator.
 */
export interface TrainingRun {
  readonly model: Trainable;
  readonly optimizer: tf.Optimizer;
  readonly history: History;
  readonly epochs: number;
  /** The shuffle generator's state now (at an epoch's end: after that epoch's order was drawn). */
  rngState(): number;
  /** Only in `onTrainSetup`: continue from a saved state instead of from `initialEpoch`. */
  resume(state: ResumeState): void;
  /** Shows an event in the training output (a checkpoint was written...). */
  note(event: TrainingEvent): void;
}

export interface FitCallbacks {
  /** Our `fit` only, before anything else: a callback may restore a saved state and `run.resume` from it. */
  onTrainSetup?: (run: TrainingRun) => void | Promise<void>;
  /** Called before training with the model being trained (as tfjs's callbacks get it). */
  setModel?: (model: Trainable) => void;
  /** Called before training with the run's parameters (as tfjs's callbacks get them). */
  setParams?: (params: { epochs: number; batchSize: number; samples: number; steps: number }) => void;
  onTrainBegin?: () => void | Promise<void>;
  onEpochBegin?: (epoch: number) => void | Promise<void>;
  onBatchEnd?: (batch: number, logs: { loss: number; size: number }) => void | Promise<void>;
  onEpochEnd?: (epoch: number, logs: EpochLogs) => void | Promise<void>;
  onTrainEnd?: (history: History) => void | Promise<void>;
}

export interface FitArgs {
  /** Number of passes over the data (Keras default: 1). */
  epochs?: number;
  /** Samples per gradient step (Keras default: 32). */
  batchSize?: number;
  /** Shuffle the training samples before each epoch (default true). */
  shuffle?: boolean;
  /** Seed for the shuffling order, for reproducible runs. */
  seed?: number;
  /** Data to compute `val_loss` on at the end of each epoch. */
  validationData?: [tf.Tensor, tf.Tensor];
  /** Fraction of the (unshuffled) samples, taken from the end, held out for validation. */
  validationSplit?: number;
  /** 0: no progress reported to observers (the notebook shows nothing live); 1: progress (default). */
  verbose?: 0 | 1;
  /** Epoch to start counting from (to resume a run). */
  initialEpoch?: number;
  callbacks?: FitCallbacks | FitCallbacks[];
  /** Called with progress, at most every `progressIntervalMs` and at each epoch end. */
  onProgress?: (p: TrainingProgress) => void;
  progressIntervalMs?: number;
  /** Stops training at the next batch boundary when aborted. */
  signal?: AbortSignal;
}

/** 'error': the run ended with an exception (`error` says which); 'end': it finished or was stopped. */
export type TrainingPhase = 'begin' | 'batch' | 'epoch' | 'end' | 'error';

export interface TrainingProgress {
  runId: string;
  phase: TrainingPhase;
  /** Name of the model being trained. */
  model: string;
  /** 1-based epoch currently running (or last finished, at 'end'). */
  epoch: number;
  epochs: number;
  /** Batches done in the current epoch. */
  batch: number;
  batchesPerEpoch: number;
  batchSize: number;
  samples: number;
  /** Mean loss of the current epoch so far. */
  loss: number;
  samplesPerSecond: number;
  /** Seconds left, estimated from the rate so far. */
  etaSeconds: number;
  elapsedSeconds: number;
  /** Per-epoch logs so far. */
  history: Record<string, number[]>;
  /** Loss of every batch so far (all epochs), for per-batch curves. */
  batchLosses: number[];
  /** Set at 'end' when training ended early. */
  stopped?: boolean;
  /** Set at 'error': the message of the exception that ended the run (the cell reports the exception itself). */
  error?: string;
  stopReason?: string;
  /**
   * Set at 'begin': how the batches run. `note` (when set) says, once, what
   * kept the run off the fast path on a backend that has one.
   */
  path?: TrainingPath;
  note?: string;
  /** Checkpoints written, resumes: what the output shows besides the curve. */
  events?: TrainingEvent[];
}

/** What `fit` returns, shaped like Keras's History. */
export class History {
  /** 0-based indices of the epochs run (Keras's `history.epoch`). */
  epoch: number[] = [];
  /** Per-epoch values by name: `loss`, `val_loss`. */
  history: Record<string, number[]> = { loss: [] };
  /** Loss of every batch, in order. */
  batchLosses: number[] = [];
  params: { epochs: number; batchSize: number; samples: number; steps: number; model: string };
  /** True when training ended before all epochs ran (interrupt, stop request, signal). */
  stopped = false;
  stopReason?: string;
  /** True when the last recorded epoch ended early. */
  partialLastEpoch = false;
  durationMs = 0;
  /** Checkpoints written and resumes, in order. */
  events: TrainingEvent[] = [];
  /** The epoch this run resumed at (epochs before it were restored from a checkpoint), if it did. */
  resumedAt?: number;

  constructor(params: History['params']) {
    this.params = params;
  }

  /** The last value of a series (`loss` by default). */
  last(name = 'loss'): number | undefined {
    const s = this.history[name];
    return s && s.length ? s[s.length - 1] : undefined;
  }

  toString(): string {
    const names = Object.keys(this.history);
    const lines = this.epoch.map((e, i) => `epoch ${e + 1}: ` + names.map((n) => `${n}=${this.history[n][i]?.toFixed(5)}`).join(' '));
    if (this.stopped) lines.push(`stopped early: ${this.stopReason ?? 'stop requested'}`);
    return lines.join('\n');
  }
}

/** Time so far, throughput and time left of a training that started at `t0` (performance.now()). */
export function trainingRates(t0: number, samplesDone: number, totalSamples: number): Pick<TrainingProgress, 'elapsedSeconds' | 'samplesPerSecond' | 'etaSeconds'> {
  const elapsedSeconds = (performance.now() - t0) / 1000;
  const samplesPerSecond = elapsedSeconds > 0 ? samplesDone / elapsedSeconds : 0;
  return { elapsedSeconds, samplesPerSecond, etaSeconds: samplesPerSecond > 0 ? Math.max(0, totalSamples - samplesDone) / samplesPerSecond : NaN };
}

export type TrainingObserver = (p: TrainingProgress) => void;

const observers = new Set<TrainingObserver>();
const running = new Set<{ stop: (reason: string) => void }>();

/** Observe every training run in this process (the kernel uses it for live progress). */
export function addTrainingObserver(observer: TrainingObserver): () => void {
  observers.add(observer);
  return () => observers.delete(observer);
}

/** Asks every running training loop to stop at its next batch boundary. Returns how many were running. */
export function stopAllTraining(reason = 'interrupted'): number {
  for (const r of running) r.stop(reason);
  return running.size;
}

export function trainingInProgress(): boolean {
  return running.size > 0;
}

/** A model whose weights the loop trains: a forward pass and its trainable variables. */
export interface Trainable {
  name: string;
  forward(x: tf.Tensor, training: boolean): tf.Tensor;
  trainableVariables(): tf.Variable[];
  /** Keras's `model.stop_training`: set true (from a callback, say) to stop at the next batch. */
  stopTraining: boolean;
  /** The network as a tfjs model whose layers the lean wasm step can read (see lean/), when there is one. */
  network?(): tf.LayersModel;
}

/** How the last `train` call ran its batches: the lean wasm step, or tensors and `optimizer.minimize`. */
export type TrainingPath = 'lean-wasm' | 'generic';

let lastPath: TrainingPath | undefined;
let lastReason: string | undefined;

/** Which path the most recent `train` call used. */
export function lastTrainingPath(): TrainingPath | undefined {
  return lastPath;
}

/** Why the most recent `train` call did not take the lean step, when the backend has one. */
export function lastTrainingPathReason(): string | undefined {
  return lastReason;
}

/**
 * The lean step when everything fits (see lean/decide.ts): the wasm backend
 * with this library's kernels, a model whose network is a chain of layers
 * the fast path has modules for, a loss and an optimizer it computes
 * itself. Otherwise null and, when the backend could have, the reason.
 */
function leanStepFor(
  model: Trainable, optimizer: tf.Optimizer, loss: LossFn, x: tf.Tensor, y: tf.Tensor, batchSize: number, variables: tf.Variable[],
): { step: LeanStep | null; reason?: string } {
  if (!model.network) return { step: null };
  const d = decideLeanStep({ model: model.network(), loss, optimizer, variables, x, y, batchSize });
  if ('step' in d) return { step: d.step };
  return { step: null, reason: 'refused' in d ? d.refused : undefined };
}

let runCounter = 0;

function checkPositiveInt(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`fit: ${name} must be a whole number >= 1, got ${v}.`);
}

function sameShapeRows(x: tf.Tensor, y: tf.Tensor, what: string): void {
  if (x.shape[0] !== y.shape[0]) {
    throw new Error(`fit: ${what} has ${x.shape[0]} inputs but ${y.shape[0]} targets; they must have the same number of samples.`);
  }
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Mean loss over `x` in batches, without gradients. */
export function evaluateLoss(model: Trainable, loss: LossFn, x: tf.Tensor, y: tf.Tensor, batchSize = 256): number {
  const n = x.shape[0];
  if (n === 0) throw new Error('evaluate: no samples.');
  let total = 0;
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    total +=
      tf.tidy(() => {
        const xb = x.slice(start, size);
        const yb = y === x ? xb : y.slice(start, size);
        return loss(yb, model.forward(xb, false)).dataSync()[0];
      }) * size;
  }
  return total / n;
}

/**
 * Trains `model` on (x, y). Resolves with the History when all epochs ran or
 * training was stopped (interrupt, `stopTraining`, `signal`): the weights
 * learned so far are kept either way.
 */
export async function train(
  model: Trainable,
  optimizer: tf.Optimizer,
  loss: LossFn,
  x: tf.Tensor,
  y: tf.Tensor,
  args: FitArgs = {},
): Promise<History> {
  const epochs = args.epochs ?? 1;
  const batchSize = args.batchSize ?? 32;
  const initialEpoch = args.initialEpoch ?? 0;
  checkPositiveInt('epochs', epochs);
  checkPositiveInt('batchSize', batchSize);
  if (!(x instanceof tf.Tensor) || !(y instanceof tf.Tensor)) throw new TypeError('fit(x, y): x and y must be tensors.');
  sameShapeRows(x, y, 'the training data');
  if (initialEpoch < 0 || initialEpoch >= epochs) throw new RangeError(`fit: initialEpoch must be in [0, epochs), got ${initialEpoch}.`);

  let trainX = x;
  let trainY = y;
  let valX: tf.Tensor | undefined;
  let valY: tf.Tensor | undefined;
  const owned: tf.Tensor[] = [];
  if (args.validationData) {
    [valX, valY] = args.validationData;
    sameShapeRows(valX, valY, 'validationData');
  } else if (args.validationSplit !== undefined) {
    const split = args.validationSplit;
    if (!(split > 0 && split < 1)) throw new RangeError(`fit: validationSplit must be between 0 and 1, got ${split}.`);
    const nVal = Math.floor(x.shape[0] * split);
    const nTrain = x.shape[0] - nVal;
    if (nVal < 1 || nTrain < 1) throw new Error(`fit: validationSplit ${split} leaves ${nTrain} training and ${nVal} validation samples.`);
    trainX = x.slice(0, nTrain);
    valX = x.slice(nTrain, nVal);
    trainY = y === x ? trainX : y.slice(0, nTrain);
    valY = y === x ? valX : y.slice(nTrain, nVal);
    owned.push(trainX, valX);
    if (y !== x) owned.push(trainY, valY);
  }

  const n = trainX.shape[0];
  if (n === 0) throw new Error('fit: no training samples.');
  const batches = Math.ceil(n / batchSize);
  const callbacks = args.callbacks ? (Array.isArray(args.callbacks) ? args.callbacks : [args.callbacks]) : [];
  // Seeded even without a seed (a random one), so that a checkpoint can save the generator's state.
  const rng = mulberry32(seedOrRandom(args.seed));
  const batchEndCallbacks = callbacks.some((c) => c.onBatchEnd);
  const history = new History({ epochs, batchSize, samples: n, steps: batches, model: model.name });
  const runId = `${process.pid}-${++runCounter}-${Date.now().toString(36)}`;
  const interval = args.progressIntervalMs ?? 250;
  const report = args.verbose !== 0;
  const variables = model.trainableVariables();
  if (variables.length === 0) throw new Error(`fit: model "${model.name}" has no trainable weights.`);
  // Batching gathers rows: on wasm, copy them as blocks (bit-identical, much faster than the stock kernel).
  if (tf.getBackend() === 'wasm' && wasmMatMulFixInstalled()) installWasmGatherFix();

  let stopReason: string | undefined;
  const handle = { stop: (reason: string) => (stopReason ??= reason) };
  running.add(handle);
  const onAbort = () => handle.stop('stopped by signal');
  args.signal?.addEventListener('abort', onAbort);
  if (args.signal?.aborted) onAbort();
  model.stopTraining = false;

  const t0 = performance.now();
  let samplesDone = 0;
  let lastReport = 0;
  let lastYield = t0;
  let startEpoch = initialEpoch;
  let totalSamples = n * (epochs - startEpoch);

  const progress = (phase: TrainingPhase, epoch: number, batch: number, epochLoss: number): TrainingProgress => {
    return {
      runId,
      phase,
      model: model.name,
      epoch: epoch + 1,
      epochs,
      batch,
      batchesPerEpoch: batches,
      batchSize,
      samples: n,
      loss: epochLoss,
      ...trainingRates(t0, samplesDone, totalSamples),
      history: history.history,
      batchLosses: history.batchLosses,
      stopped: phase === 'end' ? history.stopped : undefined,
      stopReason: phase === 'end' ? history.stopReason : undefined,
      events: history.events.slice(),
    };
  };
  // Observers (the kernel) see every batch and decide their own update rate;
  // `onProgress` gets at most one batch event every `progressIntervalMs`.
  const emit = (p: TrainingProgress) => {
    if (args.onProgress && (p.phase !== 'batch' || onProgressDue())) args.onProgress(p);
    if (report) for (const o of observers) o(p);
  };
  const onProgressDue = () => {
    const now = performance.now();
    if (now - lastReport < interval) return false;
    lastReport = now;
    return true;
  };

  let lean: LeanStep | null = null;
  // Where the loop is, and what ended it if it threw: the live output then says so instead of staying "running".
  const at = { epoch: startEpoch, batch: 0, begun: false };
  let failure: { error: unknown } | undefined;
  try {
    if (callbacks.some((c) => c.onTrainSetup)) {
      const run = trainingRun(model, optimizer, history, epochs, rng, (state) => {
        startEpoch = resumeInto(history, rng, state, epochs);
        totalSamples = n * (epochs - startEpoch);
      });
      for (const c of callbacks) await c.onTrainSetup?.(run);
      run.close();
    }
    // After the setup: a restored optimizer has new slot variables, which the lean step takes over.
    const decided = leanStepFor(model, optimizer, loss, trainX, trainY, batchSize, variables);
    lean = decided.step;
    lastPath = lean ? 'lean-wasm' : 'generic';
    lastReason = decided.reason;
    for (const c of callbacks) {
      c.setModel?.(model);
      c.setParams?.({ epochs, batchSize, samples: n, steps: batches });
    }
    for (const c of callbacks) await c.onTrainBegin?.();
    emit({ ...progress('begin', startEpoch, 0, NaN), path: lastPath, ...(decided.reason ? { note: genericPathNote(decided.reason) } : {}) });
    at.begun = true;
    if (profiling()) recordProfile('fit: set-up before the first batch', performance.now() - t0);
    for (let epoch = startEpoch; epoch < epochs; epoch++) {
      at.epoch = epoch;
      at.batch = 0;
      for (const c of callbacks) await c.onEpochBegin?.(epoch);
      const order = args.shuffle === false ? null : permutation(n, rng);
      let lossSum = 0;
      let seen = 0;
      for (let b = 0; b < batches; b++) {
        at.batch = b;
        const start = b * batchSize;
        const size = Math.min(batchSize, n - start);
        const batchLoss = lean ? lean.step(order, start, size) : tf.tidy(() => {
          let xb: tf.Tensor;
          let yb: tf.Tensor;
          if (order) {
            const idx = tf.tensor1d(order.subarray(start, start + size), 'int32');
            xb = tf.gather(trainX, idx);
            yb = trainY === trainX ? xb : tf.gather(trainY, idx);
          } else {
            xb = trainX.slice(start, size);
            yb = trainY === trainX ? xb : trainY.slice(start, size);
          }
          const cost = optimizer.minimize(() => loss(yb, model.forward(xb, true)), true, variables);
          return cost!.dataSync()[0];
        });
        if (!Number.isFinite(batchLoss)) {
          throw new Error(
            `Training diverged: the loss became ${batchLoss} at epoch ${epoch + 1}, batch ${b + 1}. ` +
              'Check that inputs are scaled (for example divided by 255) and targets fit the loss (binary cross-entropy needs values in [0, 1]), or lower the learning rate.',
          );
        }
        lossSum += batchLoss * size;
        seen += size;
        samplesDone += size;
        history.batchLosses.push(batchLoss);
        // Callbacks may read the weights: on the parallel engine they are copied back first.
        if (lean && batchEndCallbacks) lean.flush();
        for (const c of callbacks) await c.onBatchEnd?.(b, { loss: batchLoss, size });
        if (report || args.onProgress) emit(progress('batch', epoch, b + 1, lossSum / seen));
        const now = performance.now();
        // Let the event loop run (an interrupt arrives as a message) without
        // paying for it on every small batch.
        if (now - lastYield >= 50) {
          lastYield = now;
          // Anything may run while we yield (a cell that did not await this fit): the weights are made current first.
          lean?.flush();
          const y0 = profiling() ? performance.now() : 0;
          await tick();
          if (y0) recordProfile('training loop: yields to the event loop', performance.now() - y0);
        }
        if (model.stopTraining) handle.stop('stopTraining was set');
        if (stopReason !== undefined && (b + 1 < batches || epoch + 1 < epochs)) {
          history.stopped = true;
          history.stopReason = stopReason;
          history.partialLastEpoch = b + 1 < batches;
          break;
        }
      }
      lean?.flush();
      const logs = recordEpoch(history, epoch, lossSum / seen, valX && valY ? evaluateLoss(model, loss, valX, valY) : undefined);
      for (const c of callbacks) await c.onEpochEnd?.(epoch, logs);
      // Set at an epoch's end (Keras's EarlyStopping way): stop before the next epoch.
      if (model.stopTraining && !history.stopped && epoch + 1 < epochs) {
        history.stopped = true;
        history.stopReason = 'stopTraining was set';
      }
      lastReport = performance.now();
      emit(progress('epoch', epoch, history.partialLastEpoch ? Math.ceil(seen / batchSize) : batches, logs.loss));
      if (history.stopped) break;
    }
  } catch (e) {
    failure = { error: e };
    throw e;
  } finally {
    // Writes the weights back (parallel engine) and waits until the engine's threads have ended.
    await lean?.dispose();
    running.delete(handle);
    args.signal?.removeEventListener('abort', onAbort);
    for (const t of owned) t.dispose();
    history.durationMs = performance.now() - t0;
    // Only a run whose start was reported has a live output to end.
    if (failure && at.begun) {
      const error = failure.error instanceof Error ? failure.error.message : String(failure.error);
      try {
        emit({ ...progress('error', at.epoch, at.batch, NaN), error });
      } catch {
        // An observer's own failure must not hide the run's.
      }
    }
  }
  for (const c of callbacks) await c.onTrainEnd?.(history);
  const last = history.epoch.length ? history.epoch[history.epoch.length - 1] : startEpoch;
  emit(progress('end', last, batches, history.last() ?? NaN));
  return history;
}

function recordEpoch(history: History, epoch: number, loss: number, valLoss: number | undefined): EpochLogs {
  history.epoch.push(epoch);
  history.history.loss.push(loss);
  const logs: EpochLogs = { loss };
  if (valLoss !== undefined) {
    (history.history.val_loss ??= []).push(valLoss);
    logs.val_loss = valLoss;
  }
  return logs;
}

/** The view of a run that callbacks get; `resume` works until `close` (the first epoch starts). */
function trainingRun(
  model: Trainable, optimizer: tf.Optimizer, history: History, epochs: number, rng: { state: number }, onResume: (s: ResumeState) => void,
): TrainingRun & { close(): void } {
  let open = true;
  return {
    model,
    optimizer,
    history,
    epochs,
    rngState: () => rng.state,
    resume(state) {
      if (!open) throw new Error('fit: a run can only resume before its first epoch (in onTrainSetup).');
      onResume(state);
    },
    note(event) {
      history.events.push(event);
    },
    close() {
      open = false;
    },
  };
}

/** Puts a saved state into a fresh run; returns the epoch to start at. */
function resumeInto(history: History, rng: { state: number }, state: ResumeState, epochs: number): number {
  if (!Number.isInteger(state.epoch) || state.epoch < 0) throw new RangeError(`fit: cannot resume at epoch ${state.epoch}.`);
  const epoch = Math.min(state.epoch, epochs);
  if (state.rngState !== undefined) rng.state = state.rngState >>> 0;
  history.epoch = [];
  history.history = { loss: [] };
  for (let e = 0; e < epoch; e++) history.epoch.push(e);
  for (const [name, values] of Object.entries(state.history ?? {})) history.history[name] = values.slice(0, epoch);
  history.batchLosses = state.batchLosses ? Array.from(state.batchLosses) : [];
  history.resumedAt = epoch;
  if (state.event) history.events.push(state.event);
  return epoch;
}
