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
import type { KernelBackendInfo, KernelMethods, ProgressMessage, QueuedCell, ReplayedExecution } from '../common/messages/kernel';
import { ExecutionResult, KernelClient } from '../kernel/client';
import type { Attached } from '../kernel/detached';
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
  /** The private folder of kernels that outlive their window (src/kernel/registry.ts). */
  readonly kernelsDir: string;
  /** Current settings (read fresh each time a kernel starts). */
  settings(): KernelSettings;
  /** Something shown in the status bar changed. */
  changed(session: KernelSession): void;
}

interface Queued {
  cell: vscode.NotebookCell;
  exec: vscode.NotebookCellExecution;
  /** A cell the kernel ran or runs since before a reload: its outputs so far, and its end if it has ended. */
  replay?: ReplayedExecution;
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
      graceMs: settings.kernelGraceMs,
      // With a grace period the kernel outlives the window (a reload reattaches to it); without, it is a child of this host.
      ...(settings.kernelGraceMs > 0
        ? { detached: { dir: this.host.kernelsDir, notebook: this.notebook.uri.toString(), client: { pid: process.pid, name: `VS Code ${vscode.version}` } } }
        : {}),
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
    client.on('superseded', () => {
      log.warn(`[${this.name}] another window attached to this notebook's kernel; this window no longer shows its cells`);
      this.progress = undefined;
      this.changed();
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
    this.queueChanged();
    this.changed();
    this.startLoop();
  }

  /** A kernel that outlives the window keeps the list of queued cells, so that a window reattaching after a reload can say which did not run. */
  private queueChanged(): void {
    const cells: QueuedCell[] = this.queue.filter((q) => !q.replay && q.cell.index >= 0).map((q) => ({ index: q.cell.index, cellName: `Cell ${q.cell.index + 1}` }));
    if (this.client?.detachedKernel) this.client.setQueued(cells);
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
      this.queueChanged();
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
    if (cancelled.length) this.queueChanged();
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

  /** Runs one cell (or follows one the kernel runs since before a reload); true when it succeeded (the queue goes on). */
  private async runCell({ cell, exec, replay }: Queued): Promise<boolean> {
    if (cell.index < 0 || cell.notebook.isClosed) {
      exec.end(undefined);
      return true;
    }
    const order = ++this.order;
    exec.executionOrder = order;
    const startTime = replay?.startedAt ?? Date.now();
    exec.start(startTime);
    await exec.clearOutput();
    const cellName = replay?.cellName ?? cellNameOf(cell);
    let endTime = startTime;
    /** Errors that escaped the cell after the kernel said it finished, while its execution here is still open. */
    let lateErrors: NotebookErrorData[] | undefined = [];
    const language = cell.document.languageId;
    if (!replay && !isCodeLanguage(language)) {
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
    const handlers = {
      onOutput: (o: AenbOutput, key?: string) => {
        this.trackRuns(o);
        live.add(o, key);
      },
      onProgress: (p: ProgressMessage) => {
        this.progress = p;
        this.changed();
      },
      onLateError: (error: NotebookErrorData) => {
        if (lateErrors) lateErrors.push(error);
        else void this.showLateError(cell, order, [startTime, endTime], error);
      },
    };
    let result: ExecutionResult;
    try {
      if (replay) {
        // Everything it printed and drew so far, then live from here on (or its end, if it ended meanwhile).
        for (const { output, key } of replay.outputs) handlers.onOutput(output, key);
        if (replay.progress && !replay.done) handlers.onProgress(replay.progress);
        const client = this.client;
        if (replay.done) {
          const d = replay.done;
          result = { success: d.success, durationMs: d.durationMs, error: d.error, interrupted: d.interrupted, errorShown: d.errorShown };
          client?.ack(replay.id);
        } else if (client) {
          result = await client.resume(replay.id, handlers, replay.startedAt);
        } else {
          result = { success: false, durationMs: Date.now() - startTime, error: { name: 'KernelStopped', message: 'The kernel was stopped.' } };
        }
      } else {
        const client = await this.ensureClient();
        result = await client.execute({ source: cell.document.getText(), language: language as CodeLanguage, cellName, cellIndex: cell.index }, handlers);
      }
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
    if (result.detached) {
      // The kernel goes on without this window (it closed, or another window took over): leave the cell as it is.
      exec.end(undefined);
      return false;
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

  // -------------------------------------------------------------------------
  // Kernels that outlive the window

  /**
   * Takes over a kernel found running for this notebook after a reload: the
   * cell it runs shows as running again (a new execution) with its outputs
   * so far and then live; cells that ended meanwhile get their results; the
   * cells that were queued behind it are reported as not run.
   */
  async reattach(attached: Attached): Promise<void> {
    const settings = this.host.settings();
    const client = this.createClient(settings);
    this.client?.removeAllListeners();
    this.client = client;
    this.clientSettings = settings;
    const state = await client.attach(attached);
    this.failure = undefined;
    this.host.log.info(
      `[${this.name}] reattached to kernel process ${state.pid} (backend ${state.backend.name}): ` +
        `${state.executions.filter((e) => !e.done).length} cell running, ${state.executions.filter((e) => e.done).length} ended meanwhile, ${state.queued.length} were queued`,
    );
    const items: Queued[] = [];
    for (const replay of state.executions) {
      const cell = this.findCell(replay);
      if (!cell) {
        this.host.log.warn(`[${this.name}] the kernel ${replay.done ? 'ran' : 'runs'} ${replay.cellName}, which is no longer in the notebook; its outputs are not shown`);
        if (replay.done) client.ack(replay.id);
        else void client.resume(replay.id, {}, replay.startedAt);
        continue;
      }
      let exec: vscode.NotebookCellExecution;
      try {
        exec = this.host.controller.createNotebookCellExecution(cell);
      } catch (e) {
        this.host.log.warn(`[${this.name}] ${replay.cellName} could not be shown as running: ${message(e)}`);
        continue;
      }
      items.push({ cell, exec, replay });
    }
    // Ahead of anything queued since: they ran (or run) first.
    this.queue.unshift(...items);
    this.changed();
    this.startLoop();
    if (state.queued.length) this.reportNotRun(state.queued);
  }

  /** The cell a replayed execution belongs to: at its index if its text is the same, else the cell with that text, else the one at its index. */
  private findCell(r: ReplayedExecution): vscode.NotebookCell | undefined {
    const cells = this.notebook.getCells().filter((c) => c.kind === vscode.NotebookCellKind.Code);
    const at = r.cellIndex !== undefined && r.cellIndex < this.notebook.cellCount ? this.notebook.cellAt(r.cellIndex) : undefined;
    if (at && at.kind === vscode.NotebookCellKind.Code && at.document.getText() === r.source) return at;
    return cells.find((c) => c.document.getText() === r.source) ?? (at?.kind === vscode.NotebookCellKind.Code ? at : undefined);
  }

  private reportNotRun(queued: QueuedCell[]): void {
    const names = queued.map((q) => q.cellName);
    const list = names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
    const text = `${this.name}: ${list} ${names.length === 1 ? 'was' : 'were'} waiting to run when the window reloaded, and did not run.`;
    this.host.log.warn(`[${this.name}] ${list} did not run: ${names.length === 1 ? 'it was' : 'they were'} queued when the window reloaded`);
    const runThem = names.length === 1 ? 'Run It' : 'Run Them';
    void vscode.window.showWarningMessage(text, runThem).then((pick) => {
      if (pick !== runThem || this.disposed) return;
      const cells = queued.map((q) => (q.index < this.notebook.cellCount ? this.notebook.cellAt(q.index) : undefined)).filter((c): c is vscode.NotebookCell => !!c && c.kind === vscode.NotebookCellKind.Code);
      this.enqueue(cells);
    });
  }

  /** Ends this session's hold on its kernel client: the session takes no more work, and the client is handed back once. */
  private takeClient(): KernelClient | undefined {
    this.disposed = true;
    const client = this.client;
    this.client = undefined;
    return client;
  }

  /** The window is going away (reload, quit): a kernel that outlives it goes on; a child kernel is stopped. */
  async detach(): Promise<void> {
    const client = this.takeClient();
    if (client) {
      await client.detach();
      client.removeAllListeners();
    }
  }

  /** The notebook was closed: the kernel finishes its running cell (within its grace period) and ends; a child kernel is stopped now. */
  async release(): Promise<void> {
    this.cancelQueued();
    const client = this.takeClient();
    if (client) {
      if (client.detachedKernel && client.state !== 'stopped') {
        this.host.log.info(`[${this.name}] notebook closed: its kernel ends once idle (a running cell may finish within the grace period)`);
      }
      await client.release();
      client.removeAllListeners();
    }
  }

  /** New settings: a kernel that outlives the window takes its new grace period at once. */
  settingsChanged(): void {
    const s = this.host.settings();
    if (this.client?.detachedKernel && s.kernelGraceMs > 0 && s.kernelGraceMs !== this.client.graceMs) {
      this.host.log.info(`[${this.name}] the kernel now lives on ${s.kernelGraceMs / 1000} s without its window`);
      this.client.setGrace(s.kernelGraceMs);
    }
  }

  /** Stops the kernel process for good. */
  async shutdown(): Promise<void> {
    this.cancelQueued();
    const client = this.takeClient();
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
