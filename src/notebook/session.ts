// One notebook's kernel: a KernelClient (a separate process), the queue of
// cells waiting to run, and the execution of each cell in VS Code (order,
// timing, success, outputs that update live). Mirrors src/cli/run.ts so that
// a cell run here and in the headless runner leaves the same outputs.
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { AenbOutput, CODE_LANGUAGES, CodeLanguage, NotebookErrorData } from '../common/aenb';
import { cellNames } from '../common/cell-names';
import { TRAINING_MIME } from '../outputs/training/contract';
import type { RequestOptions, Result } from '../common/messages/envelope';
import type { KernelBackendInfo, KernelMethods, ProgressMessage } from '../common/messages/kernel';
import { ExecutionResult, KernelClient } from '../kernel/client';
import { errorCellOutput, outputToPlain } from './convert';
import { LiveOutputs } from './live-outputs';
import { toCellOutput } from './serializer';
import { dataSettingsDiffer, KernelSettings, kernelSettingsDiffer } from './settings';
import type { SessionState } from './status-text';

export interface SessionHost {
  readonly controller: vscode.NotebookController;
  readonly log: vscode.LogOutputChannel;
  /** dist/kernel.js */
  readonly kernelPath: string;
  /** Where downloaded data sets are cached. */
  readonly cacheDir: string;
  /** Current settings (read fresh each time a kernel starts). */
  settings(): KernelSettings;
  /** Something shown in the status bar changed. */
  changed(session: KernelSession): void;
}

interface Queued {
  cell: vscode.NotebookCell;
  exec: vscode.NotebookCellExecution;
}

/**
 * The kernel decides how often a live output updates (its one throttle,
 * `progressIntervalMs`); here an update only waits for the previous write of
 * the same output to finish, and the latest waiting one wins.
 */
const LIVE_INTERVAL_MS = 0;

function isCodeLanguage(id: string): id is CodeLanguage {
  return (CODE_LANGUAGES as readonly string[]).includes(id);
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class KernelSession implements vscode.Disposable {
  private client?: KernelClient;
  private clientSettings?: KernelSettings;
  private order = 0;
  private readonly queue: Queued[] = [];
  private running?: Queued;
  private loop?: Promise<void>;
  private failure?: string;
  private disposed = false;
  /** Latest training progress of the running cell. */
  progress?: ProgressMessage;
  /** Run ids of training outputs that are running now (for the renderer's Stop button). */
  readonly activeRuns = new Set<string>();

  constructor(
    readonly notebook: vscode.NotebookDocument,
    private readonly host: SessionHost,
  ) {}

  get name(): string {
    return path.basename(this.notebook.uri.path) || this.notebook.uri.toString();
  }

  get state(): SessionState {
    if (this.failure !== undefined && (!this.client || this.client.state === 'stopped')) return 'failed';
    const s = this.client?.state ?? 'stopped';
    if (s === 'idle' && (this.running || this.queue.length)) return 'busy';
    return s;
  }

  get error(): string | undefined {
    return this.failure;
  }

  get backend(): KernelBackendInfo | undefined {
    return this.client?.backend;
  }

  get pid(): number | undefined {
    return this.client?.pid;
  }

  get queued(): number {
    return this.queue.length;
  }

  get busy(): boolean {
    return this.running !== undefined || this.queue.length > 0;
  }

  /** The settings the running kernel was started with. */
  get runningSettings(): KernelSettings | undefined {
    return this.client?.state === 'stopped' ? undefined : this.clientSettings;
  }

  private changed(): void {
    if (!this.disposed) this.host.changed(this);
  }

  // -------------------------------------------------------------------------
  // Kernel process

  private kernelCwd(): string {
    const uri = this.notebook.uri;
    if (uri.scheme === 'file') return path.dirname(uri.fsPath);
    const folder = vscode.workspace.getWorkspaceFolder(uri) ?? vscode.workspace.workspaceFolders?.[0];
    return folder?.uri.scheme === 'file' ? folder.uri.fsPath : os.homedir();
  }

  private createClient(settings: KernelSettings): KernelClient {
    const log = this.host.log;
    const client = new KernelClient({
      kernelPath: this.host.kernelPath,
      execPath: process.execPath,
      backend: settings.backend,
      dataDir: settings.dataDir,
      cacheDir: this.host.cacheDir,
      mirror: settings.mirror,
      cwd: this.kernelCwd(),
      interruptGraceMs: settings.interruptGraceMs,
      threads: settings.threads,
      fma: settings.fma,
    });
    client.on('log', (level: 'info' | 'warn' | 'error', text: string) => {
      for (const line of String(text).trimEnd().split('\n')) if (line.trim()) log[level](`[${this.name}] ${line}`);
    });
    client.on('state', () => this.changed());
    client.on('ready', (b: KernelBackendInfo) => {
      log.info(`[${this.name}] kernel ready (process ${client.pid}): backend ${b.name}${b.fellBack ? ` (asked for ${b.requested})` : ''}. ${b.reason}${b.compute ? ` Training on ${b.compute.description}.` : ''}`);
    });
    client.on('exit', (e: { code: number | null; signal: string | null; onPurpose: boolean }) => {
      if (e.onPurpose) log.info(`[${this.name}] kernel stopped`);
      else log.warn(`[${this.name}] the kernel process ended unexpectedly (${e.signal ? `signal ${e.signal}` : `exit code ${e.code}`}); the next cell starts a fresh one`);
      this.progress = undefined;
      this.changed();
    });
    return client;
  }

  /** The running kernel, starting one (with the current settings) if needed. */
  private async ensureClient(): Promise<KernelClient> {
    if (this.disposed) throw new Error('The notebook was closed.');
    const settings = this.host.settings();
    if (!this.client || (this.client.state === 'stopped' && this.clientSettings && kernelSettingsDiffer(settings, this.clientSettings))) {
      this.client?.removeAllListeners();
      this.client = this.createClient(settings);
      this.clientSettings = settings;
    } else if (this.clientSettings && dataSettingsDiffer(settings, this.clientSettings)) {
      // No restart for data settings: the kernel's next loadData() uses them.
      this.clientSettings = { ...this.clientSettings, dataDir: settings.dataDir, mirror: settings.mirror };
      const told = await this.client.configure({ dataDir: settings.dataDir, mirror: settings.mirror });
      if (told.ok) this.host.log.info(`[${this.name}] data settings applied to the kernel: data folder ${settings.dataDir ?? '(none)'}, mirror ${settings.mirror ?? '(official locations)'}`);
      else this.host.log.warn(`[${this.name}] the kernel could not take the new data settings (${told.error.message}); they apply when it restarts`);
    }
    const client = this.client;
    if (client.state === 'stopped') {
      this.host.log.info(`[${this.name}] starting a kernel (backend setting: ${settings.backend})`);
      this.failure = undefined;
    }
    try {
      await client.start();
      this.failure = undefined;
    } catch (e) {
      this.failure = message(e);
      this.host.log.error(`[${this.name}] ${this.failure}`);
      this.changed();
      throw e;
    }
    this.changed();
    return client;
  }

  /** Starts the kernel now (e.g. after a restart) and returns its backend. */
  async start(): Promise<KernelBackendInfo> {
    const client = await this.ensureClient();
    return client.backend as KernelBackendInfo;
  }

  // -------------------------------------------------------------------------
  // Cells

  /** Queues cells to run in order, behind any that are queued already. */
  enqueue(cells: readonly vscode.NotebookCell[]): void {
    for (const cell of cells) {
      if (cell.kind !== vscode.NotebookCellKind.Code) continue;
      let exec: vscode.NotebookCellExecution;
      try {
        exec = this.host.controller.createNotebookCellExecution(cell);
      } catch (e) {
        // The cell is queued or running already.
        this.host.log.debug(`[${this.name}] cell ${cell.index + 1} not queued again: ${message(e)}`);
        continue;
      }
      this.queue.push({ cell, exec });
    }
    this.changed();
    this.startLoop();
  }

  private startLoop(): void {
    this.loop ??= this.runQueue().finally(() => {
      this.loop = undefined;
      // Cells queued while the loop was finishing must not be stranded.
      if (this.queue.length && !this.disposed) this.startLoop();
      this.changed();
    });
  }

  private async runQueue(): Promise<void> {
    while (this.queue.length && !this.disposed) {
      const item = this.queue.shift() as Queued;
      this.running = item;
      let ok = false;
      try {
        ok = await this.runCell(item);
      } catch (e) {
        // A write into the notebook failed (the cell or notebook went away): never leave the cell spinning.
        this.host.log.error(`[${this.name}] cell ${item.cell.index + 1}: ${message(e)}`);
        try {
          item.exec.end(false, Date.now());
        } catch {
          // Already ended, or the cell is gone.
        }
      } finally {
        this.running = undefined;
        this.progress = undefined;
        this.activeRuns.clear();
      }
      if (!ok) {
        const n = this.cancelQueued();
        if (n) this.host.log.info(`[${this.name}] ${n} queued cell${n > 1 ? 's were' : ' was'} not run because a cell before ${n > 1 ? 'them' : 'it'} did not finish`);
      }
      this.changed();
    }
  }

  /** Ends the executions of queued cells without running them. Returns how many. */
  cancelQueued(): number {
    const cancelled = this.queue.splice(0);
    for (const { exec } of cancelled) {
      try {
        exec.end(undefined);
      } catch {
        // The cell was deleted meanwhile.
      }
    }
    if (cancelled.length) this.changed();
    return cancelled.length;
  }

  private trackRuns(output: AenbOutput): void {
    for (const item of output.items) {
      if (item.mime !== TRAINING_MIME || typeof item.data !== 'object' || item.data === null || Array.isArray(item.data)) continue;
      const { runId, state } = item.data as { runId?: unknown; state?: unknown };
      if (typeof runId !== 'string') continue;
      if (state === 'running') this.activeRuns.add(runId);
      else this.activeRuns.delete(runId);
    }
  }

  /** Runs one cell; true when it succeeded (the queue goes on). */
  private async runCell({ cell, exec }: Queued): Promise<boolean> {
    if (cell.index < 0 || cell.notebook.isClosed) {
      exec.end(undefined);
      return true;
    }
    const order = ++this.order;
    exec.executionOrder = order;
    const startTime = Date.now();
    exec.start(startTime);
    await exec.clearOutput();
    const cellName = cellNameOf(cell);
    let endTime = startTime;
    /** Errors that escaped the cell after the kernel said it finished, while its execution here is still open. */
    let lateErrors: NotebookErrorData[] | undefined = [];
    const language = cell.document.languageId;
    if (!isCodeLanguage(language)) {
      await exec.appendOutput(
        toCellOutput(outputToPlain(errorCellOutput({
          name: 'UnsupportedLanguage',
          message: `${cellName} is written in "${language}"; this kernel runs TypeScript and JavaScript. Change the cell's language (bottom right of the cell).`,
        }))),
      );
      exec.end(false, Date.now());
      return false;
    }
    const live = new LiveOutputs<vscode.NotebookCellOutput>(
      {
        append: async (o) => {
          const out = toCellOutput(outputToPlain(o));
          await exec.appendOutput(out);
          return out;
        },
        replace: async (handle, o) => {
          await exec.replaceOutputItems(toCellOutput(outputToPlain(o)).items, handle);
        },
      },
      { intervalMs: LIVE_INTERVAL_MS, onError: (e) => this.host.log.warn(`[${this.name}] ${cellName}: could not update an output: ${message(e)}`) },
    );
    let result: ExecutionResult;
    try {
      const client = await this.ensureClient();
      result = await client.execute(
        { source: cell.document.getText(), language, cellName },
        {
          onOutput: (o, key) => {
            this.trackRuns(o);
            live.add(o, key);
          },
          onProgress: (p) => {
            this.progress = p;
            this.changed();
          },
          onLateError: (error) => {
            if (lateErrors) lateErrors.push(error);
            else void this.showLateError(cell, order, [startTime, endTime], error);
          },
        },
      );
    } catch (e) {
      result = {
        success: false,
        durationMs: Date.now() - startTime,
        error: { name: 'KernelStartError', message: `${message(e)} See the log (Autoencoder Notebooks: Show Log) for details.` },
      };
    }
    try {
      await live.drain();
    } finally {
      live.dispose();
    }
    if (result.error && !result.errorShown) await exec.appendOutput(toCellOutput(outputToPlain(errorCellOutput(result.error))));
    let late = 0;
    for (let error = lateErrors?.shift(); error; error = lateErrors?.shift(), late++) {
      await exec.appendOutput(toCellOutput(outputToPlain(errorCellOutput(error))));
    }
    lateErrors = undefined;
    const success = result.success && !result.interrupted && late === 0;
    endTime = startTime + Math.round(result.durationMs);
    exec.end(success, endTime);
    if (result.interrupted) this.host.log.info(`[${this.name}] ${cellName} was interrupted`);
    if (result.kernelLost) this.host.log.warn(`[${this.name}] ${cellName}: ${result.error?.message ?? 'the kernel was lost'}`);
    return success;
  }

  /** Asks this notebook's running kernel (never starts one: a renderer's question must not run code). */
  async request<K extends keyof KernelMethods & string>(method: K, params: KernelMethods[K]['params'], options?: RequestOptions): Promise<Result<KernelMethods[K]['result']>> {
    if (!this.client || this.client.state === 'stopped') {
      return { ok: false, error: { code: 'unavailable', message: 'No kernel is running for this notebook: run a cell to start one.' } };
    }
    return this.client.request(method, params, options);
  }

  /**
   * An error escaped `cell` after it had finished (a timer, an unawaited
   * promise), while no other cell ran: shown on it, and it is marked failed,
   * as Jupyter does.
   */
  private async showLateError(cell: vscode.NotebookCell, order: number, [startTime, endTime]: [number, number], error: NotebookErrorData): Promise<void> {
    const cellName = cellNameOf(cell);
    this.host.log.warn(`[${this.name}] ${cellName}: an error escaped after the cell finished: ${error.name}: ${error.message}`);
    if (cell.index < 0 || cell.notebook.isClosed || this.disposed) return;
    let exec: vscode.NotebookCellExecution;
    try {
      exec = this.host.controller.createNotebookCellExecution(cell);
    } catch (e) {
      // The cell is queued or running again: its new run replaces the old outputs anyway.
      this.host.log.info(`[${this.name}] ${cellName}: the error is not shown on the cell (${message(e)})`);
      return;
    }
    exec.executionOrder = order;
    exec.start(startTime);
    try {
      await exec.appendOutput(toCellOutput(outputToPlain(errorCellOutput(error))));
    } finally {
      exec.end(false, endTime);
    }
  }

  // -------------------------------------------------------------------------
  // Interrupt, restart, shutdown

  /** Stops the running cell (training stops at its next batch) and drops the queued ones. */
  interrupt(): 'idle' | 'interrupting' {
    const cancelled = this.cancelQueued();
    const r = this.client?.interrupt() ?? 'idle';
    if (r === 'interrupting') this.host.log.info(`[${this.name}] interrupting the running cell${cancelled ? ` and dropping ${cancelled} queued` : ''}`);
    this.changed();
    return r === 'interrupting' || cancelled > 0 ? 'interrupting' : 'idle';
  }

  /** Stops the kernel (a running cell ends with an error saying so) and starts a fresh one with the current settings. */
  async restart(): Promise<KernelBackendInfo> {
    this.cancelQueued();
    const old = this.client;
    this.client = undefined;
    this.clientSettings = undefined;
    this.failure = undefined;
    this.progress = undefined;
    this.host.log.info(`[${this.name}] restarting the kernel`);
    if (old) {
      await old.shutdown();
      old.removeAllListeners();
    }
    await this.loop;
    this.order = 0;
    this.changed();
    return this.start();
  }

  /** Stops the kernel process for good (the notebook was closed). */
  async shutdown(): Promise<void> {
    this.cancelQueued();
    this.disposed = true;
    const client = this.client;
    this.client = undefined;
    if (client) {
      await client.shutdown();
      client.removeAllListeners();
    }
  }

  dispose(): void {
    void this.shutdown();
  }
}

/** "Cell N" as everywhere else (src/common/cell-names.ts): the cell's place in the notebook, an injected parameters cell not counted. */
function cellNameOf(cell: vscode.NotebookCell): string {
  const cells = cell.notebook.getCells().map((c) => ({ tags: Array.isArray(c.metadata?.tags) ? (c.metadata.tags as string[]) : undefined }));
  return cellNames(cells)[cell.index] ?? `Cell ${cell.index + 1}`;
}
