/**
 * The kernel: runs notebook cells one after another in this process, with the
 * library and the `show` display API in scope, and reports outputs through
 * `send`. `main.ts` wires it to the IPC channel of a forked process.
 *
 * Cells run in this process's own JavaScript realm (vm.runInThisContext), so
 * tensors, typed arrays and classes made in a cell are the same kinds the
 * library checks for. Top-level declarations persist as properties of
 * globalThis (see transform.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { AsyncLocalStorage } from 'node:async_hooks';
import { format } from 'node:util';
import * as vm from 'node:vm';
import { AenbOutput, MIME, NotebookErrorData } from '../common/aenb';
import { errorOutput } from '../outputs/error';
import { streamOutput } from '../outputs/stream';
import { textOutput } from '../outputs/text';
import { BatchSeriesEncoder } from '../outputs/training/contract';
import { progressPayload, progressState, trainingOutput } from '../outputs/training/kernel';
import { Endpoint, RequestError, type Methods } from '../common/messages/envelope';
import type { DataOptions, ExecuteRequest, KernelBackendInfo, KernelMessage, KernelMethods, KernelOptions } from '../common/messages/kernel';
import { computeStatus, setComputeOptions } from '../lib/compute';
import { initBackend } from '../lib/backend';
import * as data from '../lib/data';
import { TransposedDense, LeakyReLUActivation } from '../lib/layers';
import { Autoencoder, StackedAutoencoder } from '../lib/models';
import { loadModel } from '../lib/model-io';
import { addNoise } from '../lib/noise';
import { loadCheckpoint } from '../lib/callbacks';
import { addTrainingObserver, History, stopAllTraining, TrainingProgress } from '../lib/training';
import { describeModel } from '../lib/summary';
import type { RunningCell } from '../outputs/kind';
import { callbacksApi } from './callbacks';
import { handleKindRequests, showApi, valueOutput } from './display';
import { CellTimers } from './cell-timers';
import { cellErrorData } from './errors';
import { patchFitForKernel } from './fit';
import { ALLOWED_MODULES, LIBRARY_MODULE, TransformedCell, transformCell } from './transform';

interface Execution {
  id: string;
  cellName: string;
  interrupted: boolean;
  /** The stream output being appended to: console lines in a row share one output. */
  stream?: { key: string; mime: string; text: string; timer?: NodeJS.Timeout };
  streamCount: number;
  /** Last time each live output was sent, for throttling. */
  lastSent: Map<string, number>;
  /** Live updates waiting for their turn: the latest of each key, built when it is sent. */
  pendingLive: Map<string, { send: () => void; timer: NodeJS.Timeout }>;
  finished: boolean;
  /** RunningCell.onEnd: called once as the cell ends. */
  endHooks: (() => void)[];
  /** Errors that escaped code (an unawaited promise, a timer) while this cell ran: shown, and they fail it. */
  stray: NotebookErrorData[];
  /** Aborted by an interrupt: cancels data-set downloads (their partial files are removed). */
  abort: AbortController;
  /**
   * Training histories (ours: the History's `history` series; tfjs's: the
   * tf.History) whose chart this execution showed live: a cell's last
   * expression that is one of them is not shown a second time.
   */
  shownLive: WeakSet<object>;
  /** Work the cell waits for before it ends (RunningCell.track): outputs still being made by show.* calls it did not await. */
  pending: { promise: Promise<unknown>; observed: () => boolean }[];
  /** The cell as the output kinds see it (made on first use). */
  cell?: RunningCell;
}


export class KernelRuntime {
  private readonly context = new AsyncLocalStorage<Execution>();
  private current?: Execution;
  private options: KernelOptions = { backend: 'auto' };
  private readonly tfjsFits = new Set<tf.LayersModel>();
  private readonly realConsole = console;
  /** The cells that ran, by name, for the line numbers of their frames in any later error. */
  private readonly cells = new Map<string, TransformedCell>();
  /** The last cell that finished: errors escaping after it are reported on it. */
  private lastExec?: Execution;
  private readonly timers = new CellTimers(() => this.context.getStore() !== undefined);

  private backend?: KernelBackendInfo;
  /** Numbers the keys of live outputs (RunningCell.newKey). */
  private keyCount = 0;
  /** The per-batch series of each running training, encoded so far. */
  private readonly batchEncoders = new Map<string, BatchSeriesEncoder>();
  /**
   * Requests from the host (and, through it, from renderers) with their
   * replies. They are answered as soon as the event loop runs: between cells,
   * and during a training between batches.
   */
  readonly requests: Endpoint<Methods, KernelMethods>;

  constructor(private readonly send: (m: KernelMessage) => void) {
    this.requests = new Endpoint<Methods, KernelMethods>((m) => this.send(m), 'the host');
    this.requests.handle('ping', ({ echo }) => {
      if (!this.backend) throw new RequestError('unavailable', 'The kernel is still starting.');
      return { ...(echo !== undefined ? { echo } : {}), pid: process.pid, backend: this.backend.name, busy: this.current !== undefined, uptimeSeconds: process.uptime() };
    });
    this.requests.handle('configure', (options) => this.configure(options));
    handleKindRequests(this.requests);
    // The end of a headless run: wait for the timers the cells started.
    this.requests.handle('settle', async () => {
      await this.timers.whenIdle();
      return { pending: this.timers.count };
    });
  }

  /**
   * New data settings for a running kernel (the data folder and the mirror
   * changed): the next `loadData()` uses them, no restart needed.
   */
  configure(options: DataOptions): DataOptions {
    this.options = { ...this.options, dataDir: options.dataDir, mirror: options.mirror };
    return { dataDir: this.options.dataDir, mirror: this.options.mirror };
  }

  async init(options: KernelOptions): Promise<void> {
    this.options = options;
    if (options.cwd) process.chdir(options.cwd);
    const info = await initBackend(options.backend);
    this.installGlobals();
    addTrainingObserver((p) => this.onTraining(p));
    const c = computeStatus();
    this.backend = {
      requested: info.requested, name: info.name, reason: info.reason, fellBack: info.fellBack, simd: info.simd, wasmDir: info.wasmDir, tfjsVersion: info.tfjsVersion,
      ...(info.name === 'wasm' ? { compute: { threads: c.threads, fma: c.engine && c.fma, description: c.description } } : {}),
    };
    this.send({ type: 'ready', pid: process.pid, backend: this.backend });
  }

  // -------------------------------------------------------------------------
  // What cells see

  /**
   * Everything a cell can use without importing; also what `import ... from
   * 'autoencoder-notebooks'` gives. The editor's types for cells (and `aenb
   * check`) are generated from this method's return type at build time
   * (scripts/cell-types.mjs, `CellGlobals` below): a new global or `show.*`
   * function shows up there by itself, with its doc comment.
   */
  library() {
    const dataOptions = (): data.LoadOptions => ({
      dataDir: this.options.dataDir,
      cacheDir: this.options.cacheDir,
      mirror: this.options.mirror,
    });
    const withProgress = (name: data.DatasetName) => (opts: data.LoadOptions = {}) => {
      const exec = this.context.getStore();
      const key = `download:${name}:${Date.now()}`;
      const signals = [exec?.abort.signal, opts.signal].filter((x): x is AbortSignal => x !== undefined);
      return data.loadData(name, {
        ...dataOptions(),
        ...opts,
        signal: signals.length > 1 ? AbortSignal.any(signals) : signals[0],
        onProgress: (p) => {
          opts.onProgress?.(p);
          if (!exec) return;
          const pct = p.total ? ` ${((100 * p.bytes) / p.total).toFixed(0)}%` : '';
          this.emitTo(exec, textOutput(`Downloading ${p.dataset} ${p.file}:${pct} ${(p.bytes / 1e6).toFixed(1)} MB at ${(p.bytesPerSecond / 1e6).toFixed(1)} MB/s`), key, true);
        },
        onWarning: (m) => {
          opts.onWarning?.(m);
          if (exec) this.emitTo(exec, streamOutput('stderr', `warning: ${m}\n`));
        },
      });
    };
    const datasets = {
      /**
       * MNIST handwritten digits, like `keras.datasets.mnist`: `loadData()` resolves to
       * `[[xTrain, yTrain], [xTest, yTest]]`, images `[N, 28, 28]` with pixel values 0..255
       * (divide by 255 yourself), labels `[N]` int32. Found locally or downloaded and verified.
       */
      mnist: { loadData: withProgress('mnist') },
      /**
       * Fashion-MNIST (10 kinds of clothing), like `keras.datasets.fashion_mnist`: `loadData()`
       * resolves to `[[xTrain, yTrain], [xTest, yTest]]`, images `[N, 28, 28]` with pixel
       * values 0..255, labels `[N]` int32.
       */
      fashionMnist: {
        loadData: withProgress('fashion-mnist'),
        /** The ten classes' names, by label ('T-shirt/top', 'Trouser', ...); show.latent and show.errors find them by themselves for labels from loadData. */
        classNames: data.FASHION_MNIST_CLASSES,
      },
    };
    const show = showApi(
      (output) => this.display(output),
      () => this.cellOf(this.runningExecution('show.*: there is no running cell to show this in.')),
    );
    const callbacks = callbacksApi({
      cell: () => {
        const exec = this.context.getStore() ?? this.current;
        return exec && !exec.finished ? this.cellOf(exec) : undefined;
      },
    });
    return {
      tf,
      datasets,
      Autoencoder,
      StackedAutoencoder,
      TransposedDense,
      LeakyReLUActivation,
      addNoise,
      loadModel,
      describeModel,
      show,
      callbacks,
      loadCheckpoint,
      // Threads and fused multiply-add of the next training runs, and what runs now (compute.ts).
      computeStatus,
      setComputeOptions,
    };
  }

  private installGlobals(): void {
    const lib = this.library();
    const g = globalThis as Record<string, unknown>;
    Object.assign(g, lib);
    g.__aenb_import = (specifier: string) => {
      if (specifier === LIBRARY_MODULE) return lib;
      if (ALLOWED_MODULES.includes(specifier)) return tf;
      throw new Error(
        `Cannot import "${specifier}" in a notebook cell. Cells can import ${ALLOWED_MODULES.map((s) => `'${s}'`).join(', ')}; ` +
          'tf, datasets, Autoencoder, StackedAutoencoder, TransposedDense, addNoise, show, callbacks and loadCheckpoint are also available without importing.',
      );
    };
    g.console = this.captureConsole();
    this.timers.install(g as typeof globalThis);
    patchFitForKernel({
      context: this.context,
      tfjsFits: this.tfjsFits,
      onTraining: (p: TrainingProgress) => this.onTraining(p),
      note: (text: string) => this.note(text),
    });
  }

  private captureConsole(): Console {
    const write = (stream: 'stdout' | 'stderr') => (...args: unknown[]) => {
      const exec = this.context.getStore() ?? this.current;
      const text = format(...args) + '\n';
      if (!exec || exec.finished) {
        (stream === 'stdout' ? process.stdout : process.stderr).write(text);
        return;
      }
      this.appendStream(exec, stream === 'stdout' ? MIME.stdout : MIME.stderr, text);
    };
    const captured = Object.create(this.realConsole) as Console;
    Object.assign(captured, {
      log: write('stdout'),
      info: write('stdout'),
      debug: write('stdout'),
      warn: write('stderr'),
      error: write('stderr'),
      trace: (...args: unknown[]) => write('stderr')(format(...args) + '\n' + (new Error().stack ?? '').split('\n').slice(2).join('\n')),
    });
    return captured;
  }

  // -------------------------------------------------------------------------
  // Outputs

  private display(output: AenbOutput): void {
    this.emitTo(this.runningExecution('show.*: there is no running cell to show this in.'), output);
  }

  private runningExecution(problem: string): Execution {
    const exec = this.context.getStore() ?? this.current;
    if (!exec) throw new Error(problem);
    return exec;
  }

  /** The running cell as the output kinds' kernel parts see it. */
  private cellOf(exec: Execution): RunningCell {
    if (exec.cell) return exec.cell;
    const cell: RunningCell = {
      emit: (output, key, urgent = false) => this.emitTo(exec, output, key, !urgent),
      get interrupted() {
        return exec.interrupted;
      },
      track: (work) => {
        let observed = false;
        const promise = work.then(() => undefined);
        promise.catch(() => undefined); // reported by execute() unless the cell awaits it
        exec.pending.push({ promise, observed: () => observed });
        return {
          then(onFulfilled, onRejected) {
            observed = true;
            return promise.then(onFulfilled, onRejected);
          },
        };
      },
      newKey: (prefix) => `${prefix}:${exec.id}:${++this.keyCount}`,
      onEnd: (hook) => void exec.endHooks.push(hook),
    };
    exec.cell = cell;
    return cell;
  }

  private emitTo(exec: Execution, output: AenbOutput, key?: string, throttle = false): void {
    if (exec.finished && !key) return;
    if (!key) {
      this.flushStream(exec, true);
      this.send({ type: 'output', id: exec.id, output });
      return;
    }
    this.live(exec, key, () => this.send({ type: 'output', id: exec.id, output, key }), !throttle);
  }

  /**
   * The one throttle of live outputs (the host writes what arrives). A keyed
   * update goes out at once when it is urgent or `progressIntervalMs` has
   * passed since the last one of its key; otherwise it waits for that moment,
   * replacing any update of the key already waiting, and is built only when
   * it is sent.
   */
  private live(exec: Execution, key: string, send: () => void, urgent: boolean): void {
    const pending = exec.pendingLive.get(key);
    const wait = (exec.lastSent.get(key) ?? 0) + (this.options.progressIntervalMs ?? 250) - Date.now();
    if (!urgent && wait > 0) {
      if (pending) pending.send = send;
      else exec.pendingLive.set(key, { send, timer: setTimeout(() => this.flushLive(exec, key), wait) });
      return;
    }
    // Sent now: an older update still waiting must never overwrite it later.
    if (pending) {
      clearTimeout(pending.timer);
      exec.pendingLive.delete(key);
    }
    exec.lastSent.set(key, Date.now());
    send();
  }

  private flushLive(exec: Execution, key: string): void {
    const pending = exec.pendingLive.get(key);
    if (!pending) return;
    clearTimeout(pending.timer);
    exec.pendingLive.delete(key);
    exec.lastSent.set(key, Date.now());
    pending.send();
  }

  private appendStream(exec: Execution, mime: string, text: string): void {
    if (exec.stream && exec.stream.mime !== mime) this.flushStream(exec, true);
    if (!exec.stream) exec.stream = { key: `stream:${exec.streamCount++}`, mime, text: '' };
    const s = exec.stream;
    s.text += text;
    s.timer ??= setTimeout(() => this.flushStream(exec, false), 50);
  }

  /** Sends the stream block's text; `close` starts a new block for the next console line. */
  private flushStream(exec: Execution, close: boolean): void {
    const s = exec.stream;
    if (!s) return;
    if (s.timer) clearTimeout(s.timer);
    s.timer = undefined;
    this.send({ type: 'output', id: exec.id, key: s.key, output: { items: [{ mime: s.mime, data: s.text }] } });
    if (close) exec.stream = undefined;
  }

  /** A line under the running cell, like console.log's (say, why training is not on the fast path). */
  private note(text: string): void {
    const exec = this.context.getStore() ?? this.current;
    if (!exec || exec.finished) return;
    this.appendStream(exec, MIME.stdout, text + '\n');
    this.flushStream(exec, true); // now: before the training output that follows
  }

  /**
   * Training progress, at every batch: the live output and the progress
   * message go out through the one throttle (epoch ends and the end at once),
   * built from the latest progress only when sent; the per-batch series is
   * encoded by appending (BatchSeriesEncoder), never whole again.
   */
  private onTraining(p: TrainingProgress): void {
    const exec = this.context.getStore() ?? this.current;
    if (!exec) return;
    if (p.phase === 'begin' && p.note) this.note(p.note);
    const final = p.phase === 'end' || p.phase === 'error';
    // Our models' History holds this very series object.
    if (final) exec.shownLive.add(p.history);
    let encoder = this.batchEncoders.get(p.runId);
    if (!encoder) this.batchEncoders.set(p.runId, (encoder = new BatchSeriesEncoder()));
    if (final) this.batchEncoders.delete(p.runId);
    const key = `train:${p.runId}`;
    this.live(
      exec,
      key,
      () => {
        this.send({ type: 'output', id: exec.id, output: trainingOutput(progressPayload(p, undefined, encoder)), key });
        this.send({
          type: 'progress',
          id: exec.id,
          epoch: p.epoch,
          epochs: p.epochs,
          batch: p.batch,
          batchesPerEpoch: p.batchesPerEpoch,
          loss: p.loss,
          samplesPerSecond: p.samplesPerSecond,
          etaSeconds: p.etaSeconds,
          state: progressState(p),
        });
      },
      p.phase !== 'batch',
    );
  }

  // -------------------------------------------------------------------------
  // Running cells

  interrupt(): void {
    if (this.current) {
      this.current.interrupted = true;
      this.current.abort.abort();
    }
    this.timers.stopWaiting();
    stopAllTraining('interrupted by the user');
    for (const m of this.tfjsFits) m.stopTraining = true;
  }

  async execute(req: ExecuteRequest): Promise<void> {
    const exec: Execution = {
      id: req.id,
      cellName: req.cellName,
      interrupted: false,
      streamCount: 0,
      lastSent: new Map(),
      pendingLive: new Map(),
      finished: false,
      stray: [],
      abort: new AbortController(),
      shownLive: new WeakSet(),
      pending: [],
      endHooks: [],
    };
    this.current = exec;
    const t0 = performance.now();
    let error: NotebookErrorData | undefined;
    let transformed: TransformedCell | undefined;
    try {
      transformed = transformCell(req.source, { language: req.language, fileName: req.cellName, allowedModules: ALLOWED_MODULES });
      this.cells.set(req.cellName, transformed);
      const script = new vm.Script(transformed.code, { filename: req.cellName });
      const value = await this.context.run(exec, async () => script.runInThisContext({ displayErrors: false }) as Promise<unknown>);
      const out = shownLive(exec, value) ? undefined : valueOutput(value);
      if (out) this.emitTo(exec, out);
      // Outputs still being made (show.latent's UMAP, say): the cell ends when they are out.
      for (let i = 0; i < exec.pending.length; i++) {
        const p = exec.pending[i];
        const settled = await p.promise.then(() => undefined, (e: unknown) => ({ e }));
        if (settled && !p.observed()) throw settled.e;
      }
    } catch (e) {
      error = cellErrorData(e, this.cells);
    } finally {
      // One turn of the event loop: a promise the cell rejected without a
      // handler is reported now, on this cell, not after it.
      await new Promise((resolve) => setImmediate(resolve));
      for (const hook of exec.endHooks.splice(0)) {
        try {
          hook();
        } catch (e) {
          this.send({ type: 'log', level: 'error', message: `A live output could not be settled at the end of its cell: ${(e as Error).message}` });
        }
      }
      this.flushStream(exec, true);
      for (const key of [...exec.pendingLive.keys()]) this.flushLive(exec, key);
      exec.finished = true;
      if (this.current === exec) this.current = undefined;
      this.lastExec = exec;
    }
    const stray = !error ? exec.stray[0] : undefined;
    this.send({
      type: 'done',
      id: req.id,
      success: !error && !stray,
      durationMs: performance.now() - t0,
      ...(error ? { error } : {}),
      // A stray error fails the cell; it is among the outputs already.
      ...(stray ? { error: stray, errorShown: true } : {}),
      ...(exec.interrupted ? { interrupted: true } : {}),
    });
  }

  /**
   * An error that escaped a cell (an unawaited promise, a timer callback), as
   * Jupyter shows them: on the cell that is running, which then fails, or on
   * the last cell that ran.
   */
  reportStrayError(e: unknown): void {
    const exec = this.current;
    const err = cellErrorData(e, this.cells);
    if (exec && !exec.finished) {
      exec.stray.push(err);
      this.emitTo(exec, errorOutput(err));
    } else if (this.lastExec) {
      this.send({ type: 'late-error', id: this.lastExec.id, error: err });
    } else {
      this.send({ type: 'log', level: 'error', message: `Uncaught error outside a running cell: ${err.name}: ${err.message}\n${err.stack ?? ''}` });
    }
  }
}

/** A training history whose chart this execution already showed live (the value of `await model.fit(...)`). */
function shownLive(exec: Execution, value: unknown): boolean {
  if (value instanceof History) return exec.shownLive.has(value.history);
  return value instanceof tf.History && exec.shownLive.has(value);
}

/**
 * The globals of a cell, as the kernel installs them. The editor's declarations
 * of the cell globals (dist/cell-types.json) are generated from this type at
 * build time; keep it exported under this name.
 */
export type CellGlobals = ReturnType<KernelRuntime['library']>;

/** Error data for an error outside any cell (the kernel's start-up). */
export function errorData(e: unknown): NotebookErrorData {
  return cellErrorData(e, new Map());
}
