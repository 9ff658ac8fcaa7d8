// The extension host's side of the language worker (src/language/worker.ts,
// dist/language.js): starts it when the first notebook needs it, sends it the
// notebooks' cells, asks it questions, and passes its problems on. Type
// checking runs in the worker, never on the extension host's thread.
import { Worker } from 'node:worker_threads';
import * as vscode from 'vscode';
import type { CellDiagnostics } from '../../language/api';
import { CANCEL_SLOTS, cancelRequest, type FromWorker, type LanguageMethod, type LanguageMethods, type ToWorker, type WorkerOptions } from '../../language/protocol';

/** A worker that died this many times within RESTART_WINDOW_MS is not restarted again. */
const MAX_RESTARTS = 3;
const RESTART_WINDOW_MS = 60_000;

export class LanguageWorkerClient implements vscode.Disposable {
  private worker?: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private readonly diagnosticsEmitter = new vscode.EventEmitter<{ notebook: string; cells: CellDiagnostics[] }>();
  private readonly restartEmitter = new vscode.EventEmitter<void>();
  /** Fresh problems of some cells. */
  readonly onDiagnostics = this.diagnosticsEmitter.event;
  /** A new worker replaced one that stopped: everything must be sent again. */
  readonly onRestart = this.restartEmitter.event;
  private deaths: number[] = [];
  private disposed = false;
  private gaveUp = false;
  /** Shared with every worker this client starts: the requests it no longer wants. */
  private readonly cancellations = new SharedArrayBuffer(CANCEL_SLOTS * Int32Array.BYTES_PER_ELEMENT);

  constructor(
    private readonly workerFile: string,
    private readonly log: vscode.LogOutputChannel,
    private readonly options: Omit<WorkerOptions, 'aenbLanguageWorker'> = {},
  ) {}

  get running(): boolean {
    return !!this.worker;
  }

  private start(): Worker | undefined {
    if (this.worker) return this.worker;
    if (this.disposed || this.gaveUp) return undefined;
    const workerData: WorkerOptions = { aenbLanguageWorker: true, ...this.options, cancellations: this.cancellations };
    const worker = new Worker(this.workerFile, { workerData, stdout: false, stderr: false });
    worker.unref();
    worker.on('message', (m: FromWorker) => this.onMessage(m));
    worker.on('error', (e) => this.log.error(`Language worker failed: ${e.stack ?? e.message}`));
    worker.on('exit', (code) => this.onExit(worker, code));
    this.worker = worker;
    this.log.info('Language worker started (types for notebook cells)');
    return worker;
  }

  /** Stops the worker (its memory goes back) until something needs it again. */
  stop(): void {
    const w = this.worker;
    if (!w) return;
    this.worker = undefined;
    for (const p of this.pending.values()) p.reject(new Error('the language worker stopped'));
    this.pending.clear();
    void w.terminate();
    this.log.info('Language worker stopped: no notebook needs it');
  }

  private onExit(worker: Worker, code: number): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    for (const p of this.pending.values()) p.reject(new Error('the language worker stopped'));
    this.pending.clear();
    if (this.disposed) return;
    const now = Date.now();
    this.deaths = [...this.deaths.filter((t) => now - t < RESTART_WINDOW_MS), now];
    if (this.deaths.length > MAX_RESTARTS) {
      this.gaveUp = true;
      this.log.error(`The language worker stopped ${this.deaths.length} times in a minute (exit code ${code}); completions, hovers and problems in notebook cells are off until the window reloads.`);
      void vscode.window.showWarningMessage('Autoencoder Notebooks: the type checker of notebook cells keeps stopping; it is off until the window reloads. See "Autoencoder Notebooks: Show Log".');
      return;
    }
    this.log.warn(`The language worker stopped (exit code ${code}); starting a new one.`);
    this.restartEmitter.fire();
  }

  private onMessage(m: FromWorker): void {
    switch (m.type) {
      case 'response': {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.error !== undefined) p.reject(new Error(m.error));
        else p.resolve(m.result);
        return;
      }
      case 'diagnostics':
        this.diagnosticsEmitter.fire({ notebook: m.notebook, cells: m.cells });
        return;
      case 'log':
        this.log[m.level](`[language] ${m.message}`);
        return;
    }
  }

  /** Sends a notebook change (starts the worker if needed). */
  send(m: Exclude<ToWorker, { type: 'request' }>): void {
    if (m.type === 'close' && !this.worker) return;
    this.start()?.postMessage(m);
  }

  /** Asks the worker; resolves undefined if the worker is gone or the request is cancelled. */
  request<M extends LanguageMethod>(notebook: string, method: M, params: LanguageMethods[M]['params'], token?: vscode.CancellationToken): Promise<LanguageMethods[M]['result'] | undefined> {
    const worker = this.start();
    if (!worker) return Promise.resolve(undefined);
    const id = this.nextId++;
    return new Promise<LanguageMethods[M]['result'] | undefined>((resolve) => {
      const sub = token?.onCancellationRequested(() => {
        // The worker skips it if it has not started it yet.
        cancelRequest(new Int32Array(this.cancellations), id);
        this.pending.delete(id);
        resolve(undefined);
      });
      this.pending.set(id, {
        resolve: (v) => {
          sub?.dispose();
          resolve(v as LanguageMethods[M]['result']);
        },
        reject: (e) => {
          sub?.dispose();
          if (!/the language worker stopped/.test(e.message)) this.log.warn(`[language] ${method}: ${e.message}`);
          resolve(undefined);
        },
      });
      worker.postMessage({ type: 'request', id, notebook, method, params } as ToWorker);
    });
  }

  dispose(): void {
    this.disposed = true;
    const w = this.worker;
    this.worker = undefined;
    void w?.terminate();
    for (const p of this.pending.values()) p.reject(new Error('the language worker stopped'));
    this.pending.clear();
    this.diagnosticsEmitter.dispose();
    this.restartEmitter.dispose();
  }
}
