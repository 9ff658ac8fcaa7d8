/**
 * Keras-style training callbacks that save and restore runs:
 *
 *   callbacks.modelCheckpoint({ dir, every: 'epoch', keep })
 *     writes dir/epoch-NNNN.ckpt after every epoch (or every n epochs),
 *     keeping the newest `keep` of them;
 *   callbacks.backupAndRestore({ dir })
 *     keeps dir/backup.ckpt up to date after every epoch; a fit that finds
 *     one resumes with the next epoch; the backup is removed once training
 *     completes.
 *
 * Both work with our models' `fit` and with tfjs's own `model.fit` (the
 * LayersModel.prototype.fit wrapper below starts a resumed tfjs run at the
 * right epoch). A checkpoint holds everything the run needs (see
 * checkpoint.ts); with a seed, a run resumed from one ends with the very
 * weights an uninterrupted run ends with. (tfjs's own fit shuffles with
 * Math.random, so its resumed epochs see other batches.)
 */
import * as tf from '@tensorflow/tfjs';
import { rm, rmdir } from 'node:fs/promises';
import * as path from 'node:path';
import {
  CheckpointError,
  CheckpointModel,
  checkpointModel,
  checkpointRunState,
  DecodedCheckpoint,
  epochFileName,
  isDirectory,
  latestCheckpoint,
  listCheckpoints,
  readCheckpoint,
  removeStaleTemporaries,
  restoreCheckpoint,
  RunState,
  writeCheckpoint,
  WriteHooks,
} from './checkpoint';
import type { History, Trainable, TrainingEvent, TrainingRun } from './training';

export interface ModelCheckpointArgs {
  /** Folder for the checkpoint files (created if needed). Relative paths are relative to the working directory (the notebook's folder). */
  dir: string;
  /** 'epoch' (default): after every epoch; a number n: after every n-th epoch (and the last). */
  every?: 'epoch' | number;
  /** How many of the newest checkpoints to keep (default: all). */
  keep?: number;
}

export interface BackupAndRestoreArgs {
  /** Folder for the backup (created if needed; removed when training completes and it is empty). */
  dir: string;
}

/** Epochs, history and notes of a run resumed from a checkpoint (for progress displays of tfjs fits). */
export interface RestoredRun {
  epoch: number;
  history: Record<string, number[]>;
  batchLosses: number[];
}

/** What a running fit looks like to a checkpoint callback, whichever loop runs it. */
interface Target {
  model: CheckpointModel;
  epochs: number;
  batchSize?: number;
  samples?: number;
  rngState(): number | undefined;
  history(): Record<string, number[]>;
  batchLosses(): ArrayLike<number>;
  note(e: TrainingEvent): void;
}

async function logValue(v: unknown): Promise<number | undefined> {
  if (typeof v === 'number') return v;
  if (v instanceof tf.Tensor && !v.isDisposed) return (await v.data())[0];
  return undefined;
}

function display(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
}

function checkDir(dir: unknown, where: string): string {
  if (typeof dir !== 'string' || dir.trim() === '') throw new TypeError(`${where}: dir must be a folder path, e.g. { dir: 'checkpoints' }.`);
  return path.resolve(dir);
}

/** Base of both callbacks: works as our FitCallbacks and as a tfjs Callback. */
export abstract class CheckpointCallback extends tf.Callback {
  /** Checkpoints written and resumes, in order, for the last fit. */
  readonly events: TrainingEvent[] = [];
  /** Set when the last fit resumed from a checkpoint. */
  restored?: RestoredRun;
  /** Test hook for the atomic write. */
  writeHooks?: WriteHooks;
  protected target?: Target;
  private tfjsState?: { history: Record<string, number[]>; batchLosses: number[] };
  protected readonly dir: string;

  protected constructor(dir: string) {
    super();
    this.dir = dir;
  }

  /** tfjs hands its model here; our fit hands ours (the run itself comes through onTrainSetup). */
  override setModel(model: Parameters<tf.Callback['setModel']>[0] | Trainable): void {
    if (model instanceof tf.LayersModel) super.setModel(model);
  }

  protected reset(): void {
    this.events.length = 0;
    this.restored = undefined;
    this.target = undefined;
    this.tfjsState = undefined;
  }

  protected note(e: TrainingEvent): void {
    this.events.push(e);
    this.target?.note(e);
  }

  /** Our fit: before the first epoch. */
  async onTrainSetup(run: TrainingRun): Promise<void> {
    this.reset();
    const h = run.history;
    this.target = {
      model: checkpointModel(run.model, run.optimizer),
      epochs: run.epochs,
      batchSize: h.params.batchSize,
      samples: h.params.samples,
      rngState: () => run.rngState(),
      history: () => h.history,
      batchLosses: () => h.batchLosses,
      note: (e) => run.note(e),
    };
    await removeStaleTemporaries(this.dir);
    const resume = await this.findResume();
    if (resume) {
      run.resume({ epoch: resume.epoch, rngState: resume.rngState, history: resume.history, batchLosses: resume.batchLosses, event: resume.event });
      this.events.push(resume.event);
    }
  }

  /** tfjs's model.fit (called by the fit wrapper below): returns the epoch to start at. */
  async prepareTfjs(model: tf.LayersModel, args: tf.ModelFitArgs, samples: number | undefined): Promise<number | undefined> {
    this.reset();
    const state = { history: {} as Record<string, number[]>, batchLosses: [] as number[] };
    this.tfjsState = state;
    this.target = {
      model: checkpointModel(model),
      epochs: args.epochs ?? 1,
      batchSize: args.batchSize ?? 32,
      samples,
      rngState: () => undefined,
      history: () => state.history,
      batchLosses: () => state.batchLosses,
      note: () => undefined,
    };
    await removeStaleTemporaries(this.dir);
    const resume = await this.findResume();
    if (!resume) return undefined;
    for (const [k, v] of Object.entries(resume.history)) state.history[k] = v.slice(0, resume.epoch);
    state.batchLosses = Array.from(resume.batchLosses ?? []);
    this.events.push(resume.event);
    this.restored = { epoch: resume.epoch, history: state.history, batchLosses: state.batchLosses };
    return Math.min(resume.epoch, this.target.epochs);
  }

  /** Where a fit should resume from, after restoring the model and its optimizer; none by default. */
  protected async findResume(): Promise<(RunState & { event: TrainingEvent }) | undefined> {
    return undefined;
  }

  /** Restores a decoded checkpoint into the target's model; the event says what happened. */
  protected async resumeFrom(file: string, c: DecodedCheckpoint, what: string): Promise<RunState & { event: TrainingEvent }> {
    const t = this.target!;
    const { note } = await restoreCheckpoint(t.model, c, file);
    const state = checkpointRunState(c);
    const notes: string[] = [];
    if (note) notes.push(note);
    if ((state.batchSize !== undefined && t.batchSize !== undefined && state.batchSize !== t.batchSize) || (state.samples !== undefined && t.samples !== undefined && state.samples !== t.samples)) {
      notes.push(`the ${what} was made with ${state.samples} samples in batches of ${state.batchSize}, this run has ${t.samples} in batches of ${t.batchSize}: the weights carry over, the batches differ`);
    }
    const epoch = Math.min(state.epoch, t.epochs);
    const message =
      state.epoch >= t.epochs
        ? `Resumed from the ${what} ${display(file)}: it already holds all ${t.epochs} epochs`
        : `Resumed at epoch ${epoch + 1} of ${t.epochs} from the ${what} ${display(file)} (${epoch} epoch${epoch === 1 ? '' : 's'} restored)`;
    return { ...state, event: { kind: 'resumed', epoch, message: message + (notes.length ? `; ${notes.join('; ')}` : ''), path: file } };
  }

  protected snapshot(epochsDone: number): RunState {
    const t = this.target!;
    return {
      epoch: epochsDone,
      epochs: t.epochs,
      batchSize: t.batchSize,
      samples: t.samples,
      rngState: t.rngState(),
      history: t.history(),
      batchLosses: t.batchLosses(),
    };
  }

  // Logs: ours pass numbers; tfjs may pass scalars it resolves later.
  override async onBatchEnd(_batch: number, logs?: unknown): Promise<void> {
    const s = this.tfjsState;
    if (!s) return;
    const loss = await logValue((logs as Record<string, unknown> | undefined)?.loss);
    if (loss !== undefined) s.batchLosses.push(loss);
  }

  override async onEpochEnd(epoch: number, logs?: unknown): Promise<void> {
    if (!this.target && this.model) await this.prepareTfjs(this.model, { epochs: (this.params?.epochs as number | undefined) ?? epoch + 1 }, undefined);
    const s = this.tfjsState;
    if (s) {
      for (const [k, v] of Object.entries((logs ?? {}) as Record<string, unknown>)) {
        const value = await logValue(v);
        if (value !== undefined) (s.history[k] ??= []).push(value);
      }
    }
    if (this.target) await this.epochDone(epoch + 1);
  }

  /** After `epochsDone` epochs (1-based count): write what this callback writes. */
  protected abstract epochDone(epochsDone: number): Promise<void>;

  override async onTrainEnd(arg?: unknown): Promise<void> {
    const stopped = arg && typeof arg === 'object' && 'stopped' in arg ? Boolean((arg as History).stopped) : Boolean(this.model?.stopTraining);
    if (this.target) await this.trainingEnded(!stopped);
  }

  protected async trainingEnded(_completed: boolean): Promise<void> {}
}

class ModelCheckpoint extends CheckpointCallback {
  private readonly every: number;
  private readonly keep?: number;

  constructor(args: ModelCheckpointArgs) {
    const where = 'callbacks.modelCheckpoint';
    if (!args || typeof args !== 'object') throw new TypeError(`${where}({ dir }): arguments missing.`);
    super(checkDir(args.dir, where));
    const every = args.every ?? 'epoch';
    if (every !== 'epoch' && !(Number.isInteger(every) && every >= 1)) {
      throw new TypeError(`${where}: every must be 'epoch' or a whole number of epochs >= 1, got ${JSON.stringify(every)}.`);
    }
    this.every = every === 'epoch' ? 1 : every;
    if (args.keep !== undefined && !(Number.isInteger(args.keep) && args.keep >= 1)) {
      throw new TypeError(`${where}: keep must be a whole number >= 1 (how many checkpoints to keep), got ${JSON.stringify(args.keep)}.`);
    }
    this.keep = args.keep;
  }

  protected async epochDone(done: number): Promise<void> {
    const t = this.target!;
    if (done % this.every !== 0 && done !== t.epochs) return;
    const file = path.join(this.dir, epochFileName(done));
    await writeCheckpoint(file, t.model, this.snapshot(done), this.writeHooks);
    this.note({ kind: 'checkpoint', epoch: done, message: `Checkpoint after epoch ${done}: ${display(file)}`, path: file });
    if (this.keep !== undefined) {
      const all = await listCheckpoints(this.dir);
      for (const old of all.slice(0, Math.max(0, all.length - this.keep))) await rm(old.file, { force: true });
    }
  }
}

export const BACKUP_FILE = 'backup.ckpt';

class BackupAndRestore extends CheckpointCallback {
  private readonly file: string;

  constructor(args: BackupAndRestoreArgs) {
    const where = 'callbacks.backupAndRestore';
    if (!args || typeof args !== 'object') throw new TypeError(`${where}({ dir }): arguments missing.`);
    super(checkDir(args.dir, where));
    this.file = path.join(this.dir, BACKUP_FILE);
  }

  protected override async findResume(): Promise<(RunState & { event: TrainingEvent }) | undefined> {
    let c: DecodedCheckpoint;
    try {
      c = await readCheckpoint(this.file);
    } catch (e) {
      if (e instanceof CheckpointError && /Cannot read/.test(e.message) && !(await isDirectory(this.file))) return undefined; // no backup yet
      throw new CheckpointError(`${(e as Error).message} Delete it to start training afresh.`);
    }
    return this.resumeFrom(this.file, c, 'backup');
  }

  protected async epochDone(done: number): Promise<void> {
    await writeCheckpoint(this.file, this.target!.model, this.snapshot(done), this.writeHooks);
    this.note({ kind: 'checkpoint', epoch: done, message: `Backup after epoch ${done}: ${display(this.file)}`, path: this.file });
  }

  protected override async trainingEnded(completed: boolean): Promise<void> {
    if (!completed) return; // an interrupted run resumes from it next time
    await rm(this.file, { force: true });
    await rmdir(this.dir).catch(() => undefined); // only when empty
  }
}

/** Keras-style callbacks for `fit` (ours and tfjs's `model.fit`). */
export const callbacks = {
  /** Writes a checkpoint (weights, optimizer state, epoch, shuffle state, history) after every epoch or every n epochs. */
  modelCheckpoint: (args: ModelCheckpointArgs): CheckpointCallback => new ModelCheckpoint(args),
  /** Keeps a backup of the run after every epoch; a fit that finds one resumes with the next epoch; removed when training completes. */
  backupAndRestore: (args: BackupAndRestoreArgs): CheckpointCallback => new BackupAndRestore(args),
};

/**
 * Loads a checkpoint into a model: a file, or the newest checkpoint of a
 * folder. Restores the weights and, when the model is compiled with the same
 * optimizer, its state. Returns the epochs completed and the history so far.
 */
export async function loadCheckpoint(model: unknown, fileOrDir: string): Promise<{ file: string; epoch: number; history: Record<string, number[]>; note?: string }> {
  if (typeof fileOrDir !== 'string' || !fileOrDir) throw new TypeError('loadCheckpoint(model, path): path must be a checkpoint file or a folder of them.');
  const target = checkpointModel(model);
  const p = path.resolve(fileOrDir);
  let file = p;
  let c: DecodedCheckpoint;
  if (await isDirectory(p)) {
    const latest = await latestCheckpoint(p);
    if (!latest) {
      const backup = path.join(p, BACKUP_FILE);
      try {
        c = await readCheckpoint(backup);
        file = backup;
      } catch {
        throw new CheckpointError(`${p} holds no checkpoint (epoch-NNNN.ckpt or ${BACKUP_FILE}).`);
      }
    } else {
      file = latest.file;
      c = latest.checkpoint;
    }
  } else c = await readCheckpoint(p);
  const { note } = await restoreCheckpoint(target, c, file);
  const state = checkpointRunState(c);
  return { file, epoch: state.epoch, history: state.history, ...(note ? { note } : {}) };
}

// ---------------------------------------------------------------------------
// tfjs's model.fit: a resumed run must start at the restored epoch, which a
// tfjs callback cannot change once fit has begun.

function samplesOf(x: tf.Tensor | tf.Tensor[] | Record<string, tf.Tensor>, args: tf.ModelFitArgs): number | undefined {
  const first = x instanceof tf.Tensor ? x : Array.isArray(x) ? x[0] : Object.values(x)[0];
  if (!(first instanceof tf.Tensor)) return undefined;
  const n = first.shape[0];
  return args.validationSplit ? Math.floor(n * (1 - args.validationSplit)) : n;
}

let tfjsFitPatched = false;

/** Wraps tfjs's LayersModel.fit once per process so that our checkpoint callbacks can resume tfjs runs. */
export function installTfjsFitSupport(): void {
  if (tfjsFitPatched) return;
  tfjsFitPatched = true;
  const proto = tf.LayersModel.prototype as unknown as { fit: tf.LayersModel['fit'] };
  const original = proto.fit;
  proto.fit = async function (this: tf.LayersModel, x, y, args: tf.ModelFitArgs = {}) {
    const list = args.callbacks === undefined ? [] : Array.isArray(args.callbacks) ? args.callbacks : [args.callbacks];
    const ours = list.filter((c): c is CheckpointCallback => c instanceof CheckpointCallback);
    if (ours.length === 0) return original.call(this, x, y, args);
    let initialEpoch = args.initialEpoch ?? 0;
    const samples = samplesOf(x as tf.Tensor, args);
    for (const c of ours) {
      const at = await c.prepareTfjs(this, args, samples);
      if (at !== undefined) initialEpoch = Math.max(initialEpoch, at);
    }
    // tfjs takes a list of callbacks as is only when all are Callback objects: wrap plain ones.
    const normalized = list.map((c) => (c instanceof tf.Callback ? c : new tf.CustomCallback(c as tf.CustomCallbackArgs)));
    const epochs = args.epochs ?? 1;
    if (initialEpoch >= epochs) {
      // Everything was done already: nothing to train; end as a completed run would.
      for (const c of normalized) await c.onTrainEnd({});
      return new tf.History();
    }
    return original.call(this, x, y, { ...args, initialEpoch, callbacks: normalized });
  } as tf.LayersModel['fit'];
}

installTfjsFitSupport();
