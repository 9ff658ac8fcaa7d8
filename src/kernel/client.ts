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
}

export interface ExecutionResult {
  success: boolean;
  durationMs: number;
  error?: NotebookErrorData;
  /** An interrupt arrived while the cell ran. */
  interrupted?: boolean;
  /** The kernel was killed (interrupt grace ran out) or died while the cell ran; its state is gone. */
  kernelLost?: boolean;
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
}

interface Pending {
  id: string;
  handlers: ExecutionHandlers;
  resolve: (r: ExecutionResult) => void;
  started: number;
  interruptTimer?: NodeJS.Timeout;
}

let executionCounter = 0;

export class KernelClient extends EventEmitter<KernelClientEvents> {
  private child?: ChildProcess;
  /** Requests to the kernel process; closed while no kernel runs. */
  private readonly requests = new Endpoint<KernelMethods, Methods>((m) => this.postToKernel(m), 'the kernel');
  private starting?: Promise<KernelBackendInfo>;
  private pending = new Map<string, Pending>();
  private info?: KernelBackendInfo;
  private killedOnPurpose = new WeakSet<ChildProcess>();

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
      const child = fork(kernelPath, [], {
        execPath: this.options.execPath ?? process.execPath,
        env: { ...process.env, ...this.options.env, ELECTRON_RUN_AS_NODE: '1' },
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        serialization: 'json',
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
      child.stderr?.on('data', (d: Buffer) => this.emit('log', 'warn', d.toString()));
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
        this.failPending(
          onPurpose
            ? undefined
            : {
                name: 'KernelDied',
                message:
                  `The kernel process ended unexpectedly (${signal ? `signal ${signal}` : `exit code ${code}`}) while this cell ran; ` +
                  'its variables are gone. Run the cells again (a fresh kernel starts by itself). If it happens again, the cell may be using more memory than the machine has.',
              },
        );
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
        p.resolve({ success: m.success, durationMs: m.durationMs, error: m.error, interrupted: m.interrupted });
        if (!this.pending.size) this.emit('state', 'idle');
        break;
      }
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
    await this.start();
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
    const child = this.child;
    if (!child || this.pending.size === 0) return 'idle';
    child.send({ type: 'interrupt' });
    const grace = this.options.interruptGraceMs ?? 3000;
    for (const p of this.pending.values()) {
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

  /** Stops the kernel (running cells end with an error) and starts a fresh one. */
  async restart(): Promise<KernelBackendInfo> {
    await this.shutdown();
    return this.start();
  }

  /** Stops the kernel process; waits until it has exited. */
  async shutdown(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.failPending({ name: 'KernelRestarted', message: 'The kernel was restarted while this cell ran; its variables are gone.' });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.kill(child);
    await exited;
  }
}
