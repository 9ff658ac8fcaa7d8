/**
 * Host side of the kernel: starts the kernel process, sends it cells, collects
 * their outputs, and guarantees that an interrupt ends a cell — by killing and
 * restarting the process when the cell does not stop by itself in time.
 * No `vscode` here: the extension host and the headless runner both use it.
 */
import { ChildProcess, fork } from 'node:child_process';
import { EventEmitter } from 'node:events';
import * as path from 'node:path';
import type { AenbOutput, CodeLanguage, NotebookErrorData } from '../common/aenb';
import { Endpoint, type Methods, type RequestOptions, type Result } from '../common/messages/envelope';
import { DataOptions, isKernelMessage, KernelBackendInfo, KernelMessage, KernelMethods, KernelOptions, ProgressMessage } from '../common/messages/kernel';
import { relaxedSimdNodeFlags } from '../lib/engine/features';

export interface KernelClientOptions extends KernelOptions {
  /** The kernel entry script (default: kernel.js beside this bundle). */
  kernelPath?: string;
  /** The Node executable (inside VS Code: process.execPath with ELECTRON_RUN_AS_NODE). */
  execPath?: string;
  /** How long a cell may keep running after an interrupt before the kernel is killed. Default 3000 ms. */
  interruptGraceMs?: number;
  /** How long the kernel may take to start. Default 60 s. */
  startTimeoutMs?: number;
  /** Extra environment for the kernel process. */
  env?: NodeJS.ProcessEnv;
  /** Threads the kernel trains on: 'auto' (default: one per core) or a count; 1 is the single-threaded path. */
  threads?: number | 'auto';
  /** Fused multiply-add for the engine's products: 'auto' (default: when the runtime has relaxed SIMD, which the kernel is started with) or off. */
  fma?: boolean | 'auto';
}

export interface CellRequest {
  source: string;
  language: CodeLanguage;
  /** Name used in stack traces, e.g. "Cell 3". */
  cellName: string;
}

export interface ExecutionHandlers {
  /** An output to append, or (with `key`) to put in place of the earlier output with that key. */
  onOutput?: (output: AenbOutput, key?: string) => void;
  onProgress?: (p: ProgressMessage) => void;
  /**
   * An error escaped this cell's code (an unawaited promise, a timer) after the
   * cell had finished, while no other cell ran: it belongs on this cell, which
   * then failed after all. Only for the last cell that ran.
   */
  onLateError?: (error: NotebookErrorData) => void;
}

export interface ExecutionResult {
  success: boolean;
  durationMs: number;
  error?: NotebookErrorData;
  /** An interrupt arrived while the cell ran. */
  interrupted?: boolean;
  /** The kernel was killed (interrupt grace ran out) or died while the cell ran; its state is gone. */
  kernelLost?: boolean;
  /** `error` (a stray one) was delivered as an output already: do not show it twice. */
  errorShown?: boolean;
}

export type KernelState = 'stopped' | 'starting' | 'idle' | 'busy';

export interface KernelExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Stopped by us (shutdown, restart, an interrupt that ran out of grace), not a crash. */
  onPurpose: boolean;
}

/** The events of a KernelClient and their arguments. */
export interface KernelClientEvents {
  state: [state: KernelState];
  log: [level: 'info' | 'warn' | 'error', text: string];
  ready: [backend: KernelBackendInfo];
  progress: [progress: ProgressMessage];
  exit: [exit: KernelExit];
  /** An error escaped the last cell after it finished (also given to that cell's `onLateError`). */
  'late-error': [error: NotebookErrorData];
}

interface Pending {
  id: string;
  handlers: ExecutionHandlers;
  resolve: (r: ExecutionResult) => void;
  started: number;
  interruptTimer?: NodeJS.Timeout;
  /** An interrupt was sent while it ran (the kernel may read it only after the cell finished). */
  interrupted?: boolean;
}

/** How much of the kernel's last stderr output is kept, to say why it ended. */
const STDERR_TAIL = 2000;

let executionCounter = 0;

/**
 * How the kernel process is started for its compute settings: the
 * environment the library reads them from (compute.ts), and the V8 flag for
 * relaxed SIMD when this runtime has it behind one (Node 20; VS Code's own
 * runtime has it on already) and FMA is not turned off.
 */
export function kernelComputeSpawn(options: Pick<KernelClientOptions, 'threads' | 'fma'>): { execArgv: string[]; env: NodeJS.ProcessEnv } {
  const env: NodeJS.ProcessEnv = {};
  if (options.threads !== undefined) env.AENB_THREADS = String(options.threads === 'auto' ? 'auto' : options.threads);
  if (options.fma !== undefined) env.AENB_FMA = options.fma === 'auto' ? 'auto' : options.fma ? 'on' : 'off';
  // Node's own flags are passed on as fork does by default, plus the relaxed SIMD flag.
  const flags = options.fma === false ? [] : relaxedSimdNodeFlags().filter((f) => !process.execArgv.includes(f));
  return { execArgv: [...process.execArgv, ...flags], env };
}

export class KernelClient extends EventEmitter<KernelClientEvents> {
  private child?: ChildProcess;
  /** Requests to the kernel process; closed while no kernel runs. */
  private readonly requests = new Endpoint<KernelMethods, Methods>((m) => this.postToKernel(m), 'the kernel');
  private starting?: Promise<KernelBackendInfo>;
  private pending = new Map<string, Pending>();
  private info?: KernelBackendInfo;
  private killedOnPurpose = new WeakSet<ChildProcess>();
  /** The last execution that finished, for errors that escape it later. */
  private lastFinished?: { id: string; handlers: ExecutionHandlers };
  /** `settle` requests waiting for their reply (an interrupt ends them). */
  private settling = 0;
  /** Executions waiting for the kernel to start: an interrupt now means they never run. */
  private waitingToSend = new Set<{ interrupted: boolean }>();
  private stderrTail = '';

  constructor(private options: KernelClientOptions) {
    super();
  }

  get state(): KernelState {
    if (!this.child) return 'stopped';
    if (!this.info) return 'starting';
    return this.pending.size ? 'busy' : 'idle';
  }

  get backend(): KernelBackendInfo | undefined {
    return this.info;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the kernel if it is not running; resolves with its backend once it is ready. */
  start(): Promise<KernelBackendInfo> {
    if (this.info && this.child) return Promise.resolve(this.info);
    if (this.starting) return this.starting;
    this.starting = new Promise<KernelBackendInfo>((resolve, reject) => {
      const kernelPath = this.options.kernelPath ?? path.join(__dirname, 'kernel.js');
      const compute = kernelComputeSpawn(this.options);
      const child = fork(kernelPath, [], {
        execPath: this.options.execPath ?? process.execPath,
        execArgv: compute.execArgv,
        env: { ...process.env, ...this.options.env, ...compute.env, ELECTRON_RUN_AS_NODE: '1' },
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        serialization: 'json',
        // A process group of its own: a terminal's Ctrl-C (sent to the whole
        // foreground group) reaches the host, which interrupts the cell; it
        // must not reach the kernel first, while it starts, and end it. The
        // kernel still exits with its host (the IPC channel closes).
        detached: process.platform !== 'win32',
      });
      this.child = child;
      this.emit('state', 'starting');
      const timer = setTimeout(() => {
        fail(new Error(`The kernel did not start within ${(this.options.startTimeoutMs ?? 60_000) / 1000} s.`));
        this.kill(child);
      }, this.options.startTimeoutMs ?? 60_000);
      const fail = (e: Error) => {
        clearTimeout(timer);
        this.starting = undefined;
        reject(e);
      };
      child.stdout?.on('data', (d: Buffer) => this.emit('log', 'info', d.toString()));
      child.stderr?.on('data', (d: Buffer) => {
        const text = d.toString();
        if (this.child === child) this.stderrTail = (this.stderrTail + text).slice(-STDERR_TAIL);
        this.emit('log', 'warn', text);
      });
      child.on('message', (m: unknown) => {
        if (this.child === child && this.requests.receive(m)) return;
        if (!isKernelMessage(m)) return;
        if (m.type === 'ready') {
          clearTimeout(timer);
          this.info = m.backend;
          this.starting = undefined;
          this.requests.reopen();
          this.emit('state', 'idle');
          this.emit('ready', m.backend);
          resolve(m.backend);
        } else if (m.type === 'init-failed') {
          fail(new Error(`The kernel could not start: ${m.error.message}`));
          this.kill(child);
        } else {
          this.onMessage(m);
        }
      });
      child.on('error', (e) => fail(new Error(`The kernel process could not be started: ${e.message}`)));
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        const onPurpose = this.killedOnPurpose.has(child);
        if (this.child === child) {
          this.child = undefined;
          this.info = undefined;
          this.starting = undefined;
          this.requests.close(`The kernel process ended (${signal ?? `exit code ${code}`}) before it answered.`);
        }
        fail(new Error(`The kernel process exited during start-up (${signal ?? `code ${code}`}).`));
        this.failPending(onPurpose ? undefined : { name: 'KernelDied', message: diedMessage(code, signal, this.stderrTail) });
        this.stderrTail = '';
        this.emit('exit', { code, signal, onPurpose });
        this.emit('state', 'stopped');
      });
      child.send({ type: 'init', options: this.kernelOptions() });
    });
    return this.starting;
  }

  private postToKernel(m: unknown): void {
    const child = this.child;
    if (!child || !child.connected) throw new Error('The kernel is not running.');
    child.send(m as object);
  }

  /**
   * Asks the running kernel (waiting for one that is starting; never starting
   * one) and resolves with its answer, or with an error value: never rejects
   * (see src/common/messages/envelope.ts).
   */
  async request<K extends keyof KernelMethods & string>(method: K, params: KernelMethods[K]['params'], options?: RequestOptions): Promise<Result<KernelMethods[K]['result']>> {
    if (this.starting) {
      try {
        await this.starting;
      } catch (e) {
        return { ok: false, error: { code: 'unavailable', message: e instanceof Error ? e.message : String(e) } };
      }
    }
    if (!this.child || !this.info) return { ok: false, error: { code: 'unavailable', message: 'No kernel is running.' } };
    return this.requests.request(method, params, options);
  }

  private kernelOptions(): KernelOptions {
    const { backend, dataDir, cacheDir, mirror, cwd, progressIntervalMs } = this.options;
    return { backend, dataDir, cacheDir, mirror, cwd, progressIntervalMs };
  }

  private onMessage(m: KernelMessage): void {
    switch (m.type) {
      case 'output':
        this.pending.get(m.id)?.handlers.onOutput?.(m.output, m.key);
        break;
      case 'progress':
        this.pending.get(m.id)?.handlers.onProgress?.(m);
        this.emit('progress', m);
        break;
      case 'done': {
        const p = this.pending.get(m.id);
        if (!p) break;
        this.pending.delete(m.id);
        if (p.interruptTimer) clearTimeout(p.interruptTimer);
        this.lastFinished = { id: p.id, handlers: p.handlers };
        p.resolve({
          success: m.success,
          durationMs: m.durationMs,
          error: m.error,
          ...(m.errorShown ? { errorShown: true } : {}),
          // An interrupt the host sent while the cell ran counts, even if the kernel read it too late.
          ...(m.interrupted || p.interrupted ? { interrupted: true } : {}),
        });
        if (!this.pending.size) this.emit('state', 'idle');
        break;
      }
      case 'late-error':
        if (this.lastFinished?.id === m.id) this.lastFinished.handlers.onLateError?.(m.error);
        this.emit('late-error', m.error);
        break;
      case 'log':
        this.emit('log', m.level, m.message);
        break;
    }
  }

  /**
   * New data settings (data folder, mirror) for the running kernel: its next
   * `loadData()` uses them. Also kept for a kernel started later. Resolves once
   * the kernel has them (or with the reason it could not be told).
   */
  async configure(options: DataOptions): Promise<Result<DataOptions>> {
    this.options = { ...this.options, dataDir: options.dataDir, mirror: options.mirror };
    if (!this.child) return { ok: true, value: { dataDir: options.dataDir, mirror: options.mirror } };
    return this.request('configure', { dataDir: options.dataDir, mirror: options.mirror });
  }

  /** Runs one cell; resolves when it finished, failed, or was cut short by an interrupt. Never rejects for cell errors. */
  async execute(cell: CellRequest, handlers: ExecutionHandlers = {}): Promise<ExecutionResult> {
    const ticket = { interrupted: false };
    this.waitingToSend.add(ticket);
    try {
      await this.start();
    } finally {
      this.waitingToSend.delete(ticket);
    }
    if (ticket.interrupted) return { success: false, durationMs: 0, interrupted: true };
    const child = this.child;
    if (!child) throw new Error('The kernel is not running.');
    const id = `x${++executionCounter}`;
    return new Promise<ExecutionResult>((resolve) => {
      this.pending.set(id, { id, handlers, resolve, started: performance.now() });
      this.emit('state', 'busy');
      child.send({ type: 'execute', id, source: cell.source, language: cell.language, cellName: cell.cellName });
    });
  }

  /**
   * Interrupts the running cell: training stops at its next batch. If the cell
   * has not finished `interruptGraceMs` later, the kernel is killed (its state
   * is lost) and the cell ends with an error that says so.
   */
  interrupt(): 'idle' | 'interrupting' {
    for (const t of this.waitingToSend) t.interrupted = true;
    const child = this.child;
    if (!child || (this.pending.size === 0 && this.settling === 0)) return this.waitingToSend.size ? 'interrupting' : 'idle';
    child.send({ type: 'interrupt' });
    const grace = this.options.interruptGraceMs ?? 3000;
    for (const p of this.pending.values()) {
      p.interrupted = true;
      p.interruptTimer ??= setTimeout(() => {
        if (!this.pending.has(p.id) || this.child !== child) return;
        this.failPending({
          name: 'KernelRestarted',
          message:
            `The cell did not stop within ${grace / 1000} s of the interrupt (a loop that never waits, or a long computation), ` +
            'so the kernel was stopped. Variables from earlier cells are gone: run them again.',
        });
        this.kill(child);
      }, grace);
    }
    return 'interrupting';
  }

  private failPending(error: NotebookErrorData | undefined): void {
    for (const p of this.pending.values()) {
      if (p.interruptTimer) clearTimeout(p.interruptTimer);
      p.resolve({
        success: false,
        durationMs: performance.now() - p.started,
        error: error ?? { name: 'KernelStopped', message: 'The kernel was stopped while this cell ran.' },
        kernelLost: true,
        ...(p.interrupted ? { interrupted: true } : {}),
      });
    }
    this.pending.clear();
  }

  private kill(child: ChildProcess): void {
    this.killedOnPurpose.add(child);
    if (this.child === child) {
      this.child = undefined;
      this.info = undefined;
      this.starting = undefined;
      this.requests.close('The kernel was stopped before it answered.');
    }
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }

  /**
   * Resolves once the timers that cells started have fired, so that an error
   * one of them throws reaches `onLateError` first (the end of a headless
   * run, as `node` waits for a script's timers); at once on an interrupt, or
   * when the kernel is gone.
   */
  async settle(): Promise<void> {
    if (!this.child || !this.info) return;
    this.settling++;
    try {
      await this.request('settle', {}, { timeoutMs: Infinity });
    } finally {
      this.settling--;
    }
  }

  /** Stops the kernel (running cells end with an error) and starts a fresh one. */
  async restart(): Promise<KernelBackendInfo> {
    await this.shutdown();
    return this.start();
  }

  /** Stops the kernel process; waits until it has exited. A running cell ends with `error` (default: a restart). */
  async shutdown(error?: NotebookErrorData): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.failPending(error ?? { name: 'KernelRestarted', message: 'The kernel was restarted while this cell ran; its variables are gone.' });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.kill(child);
    await exited;
  }
}

/** Why the kernel process ended, with the last lines it printed (an uncaught error, an abort). */
function diedMessage(code: number | null, signal: NodeJS.Signals | null, stderr: string): string {
  const how = `ended unexpectedly (${signal ? `signal ${signal}` : `exit code ${code}`})`;
  const printed = stderr.trim().split('\n').slice(-12).join('\n');
  // The kernel's memory: V8's own "heap out of memory" report, or the system's OOM killer (SIGKILL from nobody we know).
  const memory = /heap out of memory|Allocation failed|out of memory/i.test(stderr) || signal === 'SIGKILL';
  return (
    `The kernel process ${how} while this cell ran; its variables are gone. Run the cells again (a fresh kernel starts by itself).` +
    (memory ? ' The cell may be using more memory than the machine has.' : '') +
    (printed ? `\nThe kernel's last output:\n${printed}` : '')
  );
}
