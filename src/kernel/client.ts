/**
 * Host side of the kernel: starts the kernel process, sends it cells, collects
 * their outputs, and guarantees that an interrupt ends a cell — by killing and
 * restarting the process when the cell does not stop by itself in time.
 * No `vscode` here: the extension host and the headless runner both use it.
 *
 * Two kinds of kernel process, one protocol (over a transport/channel.ts):
 *  - forked (the default, and the headless runner's): a child on the IPC
 *    channel that ends with its host;
 *  - detached (`detached` option, VS Code with a grace period): its own
 *    process group on a local socket, which outlives the window; `attach`
 *    reconnects a new host to one after a reload, and `detach`/`release`
 *    leave it running (see lifetime.ts for when it ends).
 */
import { ChildProcess, fork } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import * as path from 'node:path';
import type { AenbOutput, CodeLanguage, NotebookErrorData } from '../common/aenb';
import { Endpoint, type Methods, type RequestOptions, type Result } from '../common/messages/envelope';
import {
  DataOptions,
  HostMessage,
  isKernelMessage,
  KernelBackendInfo,
  KernelMessage,
  KernelMethods,
  KernelOptions,
  ProgressMessage,
  QueuedCell,
  ReattachedMessage,
} from '../common/messages/kernel';
import { Attached, startDetachedKernel } from './detached';
import { isAlive, removeKernelFiles } from './registry';
import { Channel, ChildIpcChannel, CloseReason } from './transport/channel';
import type { ClientInfo } from './transport/socket';
import { RELAXED_SIMD_FLAG, relaxedSimdNodeFlags } from '../lib/engine/features';

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
  /**
   * Start kernels that outlive this host, on a local socket: the kernels'
   * private folder, the notebook they belong to, and who we are. `graceMs`
   * (KernelOptions) says how long such a kernel lives on without a host.
   */
  detached?: { dir: string; notebook: string; client: ClientInfo };
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
  /** The cell's index in the notebook (kept by detached kernels for a host that reattaches). */
  cellIndex?: number;
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
  /** Another window attached to the kernel (detached kernels): the cell may still be running there. */
  detached?: boolean;
  /** `error` (a stray one) was delivered as an output already: do not show it twice. */
  errorShown?: boolean;
}

export type KernelState = 'stopped' | 'starting' | 'idle' | 'busy';

export interface KernelExit {
  code: number | null;
  signal: NodeJS.Signals | string | null;
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
  /** A detached kernel described what it did while no host was attached (see `attach`). */
  reattached: [state: ReattachedMessage];
  /** Another window attached to this detached kernel. */
  superseded: [];
  /** Internal: a start failed. */
  'start-failed': [error: Error];
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

/** One kernel process and the channel to it. */
interface Connection {
  channel: Channel;
  pid: number;
  /** Forked kernels: the child. */
  child?: ChildProcess;
  detached: boolean;
  killedOnPurpose: boolean;
  /** Detached kernels: its id and socket, to remove its files when we stop it. */
  record?: { id: string; socket: string; logFile?: string };
  /** The end of what it printed on stderr (forked kernels), to say why it ended. */
  stderrTail: string;
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

/**
 * The flags of a detached kernel: only the relaxed SIMD one (when needed). It
 * outlives this host, so it does not inherit the host's own flags (an
 * inspector port, for one).
 */
function detachedExecArgv(options: Pick<KernelClientOptions, 'fma'>): string[] {
  if (options.fma === false) return [];
  return [...new Set([...relaxedSimdNodeFlags(), ...process.execArgv.filter((f) => f === RELAXED_SIMD_FLAG)])];
}

export class KernelClient extends EventEmitter<KernelClientEvents> {
  private conn?: Connection;
  /** Requests to the kernel process; closed while no kernel runs. */
  private readonly requests = new Endpoint<KernelMethods, Methods>((m) => this.postToKernel(m), 'the kernel');
  private starting?: Promise<KernelBackendInfo>;
  private pending = new Map<string, Pending>();
  private info?: KernelBackendInfo;
  /** The connection being started (its failures fail the start; an older one's do not). */
  private launching?: Connection;
  /** The last execution that finished, for errors that escape it later. */
  private lastFinished?: { id: string; handlers: ExecutionHandlers };
  /** `settle` requests waiting for their reply (an interrupt ends them). */
  private settling = 0;
  /** Executions waiting for the kernel to start: an interrupt now means they never run. */
  private waitingToSend = new Set<{ interrupted: boolean }>();

  constructor(private options: KernelClientOptions) {
    super();
  }

  get state(): KernelState {
    // A detached kernel has no connection until its process listens and takes the token: it is starting meanwhile.
    if (!this.conn) return this.starting ? 'starting' : 'stopped';
    if (!this.info) return 'starting';
    return this.pending.size ? 'busy' : 'idle';
  }

  get backend(): KernelBackendInfo | undefined {
    return this.info;
  }

  get pid(): number | undefined {
    return this.conn?.pid;
  }

  /** Whether the kernel runs detached (outlives this host). */
  get detachedKernel(): boolean {
    return this.conn?.detached ?? false;
  }

  private kernelOptions(): KernelOptions {
    const { backend, dataDir, cacheDir, mirror, cwd, progressIntervalMs, graceMs } = this.options;
    return { backend, dataDir, cacheDir, mirror, cwd, progressIntervalMs, ...(this.options.detached ? { graceMs: graceMs ?? 0 } : {}) };
  }

  private post(m: HostMessage): boolean {
    return this.conn?.channel.send(m) ?? false;
  }

  private postToKernel(m: unknown): void {
    if (!this.conn || !this.conn.channel.send(m)) throw new Error('The kernel is not running.');
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
    if (!this.conn || !this.info) return { ok: false, error: { code: 'unavailable', message: 'No kernel is running.' } };
    return this.requests.request(method, params, options);
  }

  /** Starts the kernel if it is not running; resolves with its backend once it is ready. */
  start(): Promise<KernelBackendInfo> {
    if (this.info && this.conn) return Promise.resolve(this.info);
    if (this.starting) return this.starting;
    this.starting = this.launch().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async launch(): Promise<KernelBackendInfo> {
    this.emit('state', 'starting');
    const timeoutMs = this.options.startTimeoutMs ?? 60_000;
    let conn: Connection;
    if (this.options.detached) {
      const d = this.options.detached;
      const attached = await startDetachedKernel({
        dir: d.dir,
        notebook: d.notebook,
        client: d.client,
        kernelPath: this.kernelPath(),
        execPath: this.options.execPath ?? process.execPath,
        execArgv: detachedExecArgv(this.options),
        env: { ...process.env, ...this.options.env, ...kernelComputeSpawn(this.options).env },
        startTimeoutMs: timeoutMs,
      }).catch((e: Error) => {
        this.emit('state', 'stopped');
        throw e;
      });
      conn = this.adopt(attached);
    } else {
      const compute = kernelComputeSpawn(this.options);
      const child = fork(this.kernelPath(), [], {
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
      const forked: Connection = { channel: new ChildIpcChannel(child), pid: child.pid ?? -1, child, detached: false, killedOnPurpose: false, stderrTail: '' };
      conn = forked;
      child.stdout?.on('data', (d: Buffer) => this.emit('log', 'info', d.toString()));
      child.stderr?.on('data', (d: Buffer) => {
        const text = d.toString();
        forked.stderrTail = (forked.stderrTail + text).slice(-STDERR_TAIL);
        this.emit('log', 'warn', text);
      });
      this.conn = conn;
      this.launching = conn;
      this.wire(conn);
      child.on('error', (e) => {
        if (this.launching === conn) this.emit('start-failed', new Error(`The kernel process could not be started: ${e.message}`));
      });
      child.on('exit', (code, signal) => this.onExit(conn, code, signal ? String(signal) : null));
    }
    this.launching = conn;
    return new Promise<KernelBackendInfo>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`The kernel did not start within ${timeoutMs / 1000} s.`));
        this.kill(conn);
      }, timeoutMs);
      const onReady = (b: KernelBackendInfo) => {
        cleanup();
        resolve(b);
      };
      const onFailed = (e: Error) => {
        cleanup();
        reject(e);
      };
      const cleanup = () => {
        clearTimeout(timer);
        this.off('ready', onReady);
        this.off('start-failed', onFailed);
        if (this.launching === conn) this.launching = undefined;
      };
      this.on('ready', onReady);
      this.on('start-failed', onFailed);
      conn.channel.send({ type: 'init', options: this.kernelOptions() } satisfies HostMessage);
    });
  }

  private kernelPath(): string {
    return this.options.kernelPath ?? path.join(__dirname, 'kernel.js');
  }

  /** Takes over a detached kernel's connection. */
  private adopt(attached: Attached): Connection {
    const conn: Connection = {
      channel: attached.channel,
      pid: attached.record.pid,
      detached: true,
      killedOnPurpose: false,
      record: { id: attached.record.id, socket: attached.record.socket, logFile: attached.record.logFile },
      stderrTail: '',
    };
    this.conn = conn;
    this.wire(conn);
    return conn;
  }

  private wire(conn: Connection): void {
    conn.channel.onMessage((m) => {
      if (this.conn !== conn) return;
      if (this.requests.receive(m)) return;
      if (!isKernelMessage(m) || !('type' in m)) return;
      this.onMessage(conn, m);
    });
    if (conn.detached) conn.channel.onClose((reason, detail) => this.onDetachedClose(conn, reason, detail));
  }

  /**
   * Reattaches to a detached kernel found after a reload (see detached.ts
   * `findKernel`). Resolves with what it did meanwhile: the running
   * execution, executions that ended, the cells that were queued.
   */
  attach(attached: Attached): Promise<ReattachedMessage> {
    if (this.conn) throw new Error('This client already has a kernel.');
    if (attached.welcome.initialized === false) {
      attached.channel.close();
      return Promise.reject(new Error('The kernel found was never set up by a window.'));
    }
    this.emit('state', 'starting');
    // Listening before the connection is adopted: the kernel sends its state right after the welcome.
    const described = new Promise<ReattachedMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('reattached', onReattached);
        reject(new Error('The kernel did not describe its state after reattaching.'));
        if (this.conn === conn) this.dropConnection(conn);
      }, this.options.startTimeoutMs ?? 60_000);
      const onReattached = (m: ReattachedMessage) => {
        clearTimeout(timer);
        resolve(m);
      };
      this.once('reattached', onReattached);
    });
    const conn = this.adopt(attached);
    // Tell it how long to live on without us, with the current settings.
    conn.channel.send({ type: 'lifetime', graceMs: this.options.graceMs ?? 0 } satisfies HostMessage);
    return described;
  }

  /**
   * Routes a replayed execution (one that ran or runs in a kernel this host
   * reattached to) like one started here: later outputs and its end go to
   * `handlers`, and the promise resolves when it ends.
   */
  resume(id: string, handlers: ExecutionHandlers, startedAt: number): Promise<ExecutionResult> {
    return new Promise<ExecutionResult>((resolve) => {
      this.pending.set(id, { id, handlers, resolve, started: performance.now() - Math.max(0, Date.now() - startedAt) });
      this.emit('state', 'busy');
    });
  }

  /** Acknowledges an execution's result (a detached kernel stops keeping it for the next host). */
  ack(id: string): void {
    if (this.conn?.detached) this.post({ type: 'ack', id });
  }

  /** Tells a detached kernel which cells wait behind the running one. */
  setQueued(cells: QueuedCell[]): void {
    if (this.conn?.detached) this.post({ type: 'queue', cells });
  }

  /** How long a detached kernel lives on without a host (ms). */
  get graceMs(): number {
    return this.options.graceMs ?? 0;
  }

  /** How long a detached kernel lives on without a host. */
  setGrace(ms: number): void {
    this.options.graceMs = ms;
    if (this.conn?.detached) this.post({ type: 'lifetime', graceMs: ms });
  }

  private onMessage(conn: Connection, m: KernelMessage): void {
    switch (m.type) {
      case 'ready':
        if (this.conn !== conn) break;
        this.info = m.backend;
        this.requests.reopen();
        this.emit('state', 'idle');
        this.emit('ready', m.backend);
        break;
      case 'init-failed':
        if (this.launching === conn) this.emit('start-failed', new Error(`The kernel could not start: ${m.error.message}`));
        this.kill(conn);
        break;
      case 'reattached':
        this.info = m.backend;
        this.requests.reopen();
        for (const l of m.logs) this.emit('log', l.level, l.message);
        this.emit('state', m.executions.some((e) => !e.done) ? 'busy' : 'idle');
        this.emit('reattached', m);
        break;
      case 'output':
        this.pending.get(m.id)?.handlers.onOutput?.(m.output, m.key);
        break;
      case 'progress':
        this.pending.get(m.id)?.handlers.onProgress?.(m);
        this.emit('progress', m);
        break;
      case 'done': {
        const p = this.pending.get(m.id);
        if (conn.detached) this.post({ type: 'ack', id: m.id });
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
    if (!this.conn) return { ok: true, value: { dataDir: options.dataDir, mirror: options.mirror } };
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
    const conn = this.conn;
    if (!conn) throw new Error('The kernel is not running.');
    const id = `x${++executionCounter}-${process.pid}-${Date.now().toString(36)}`;
    return new Promise<ExecutionResult>((resolve) => {
      this.pending.set(id, { id, handlers, resolve, started: performance.now() });
      this.emit('state', 'busy');
      conn.channel.send({ type: 'execute', id, source: cell.source, language: cell.language, cellName: cell.cellName, ...(cell.cellIndex !== undefined ? { cellIndex: cell.cellIndex } : {}) } satisfies HostMessage);
    });
  }

  /**
   * Interrupts the running cell: training stops at its next batch. If the cell
   * has not finished `interruptGraceMs` later, the kernel is killed (its state
   * is lost) and the cell ends with an error that says so.
   */
  interrupt(): 'idle' | 'interrupting' {
    for (const t of this.waitingToSend) t.interrupted = true;
    const conn = this.conn;
    if (!conn || (this.pending.size === 0 && this.settling === 0)) return this.waitingToSend.size ? 'interrupting' : 'idle';
    conn.channel.send({ type: 'interrupt' } satisfies HostMessage);
    const grace = this.options.interruptGraceMs ?? 3000;
    for (const p of this.pending.values()) {
      p.interrupted = true;
      p.interruptTimer ??= setTimeout(() => {
        if (!this.pending.has(p.id) || this.conn !== conn) return;
        this.failPending({
          name: 'KernelRestarted',
          message:
            `The cell did not stop within ${grace / 1000} s of the interrupt (a loop that never waits, or a long computation), ` +
            'so the kernel was stopped. Variables from earlier cells are gone: run them again.',
        });
        this.kill(conn);
      }, grace);
    }
    return 'interrupting';
  }

  private failPending(error: NotebookErrorData | undefined, extra: Partial<ExecutionResult> = { kernelLost: true }): void {
    for (const p of this.pending.values()) {
      if (p.interruptTimer) clearTimeout(p.interruptTimer);
      p.resolve({
        success: false,
        durationMs: performance.now() - p.started,
        error: error ?? { name: 'KernelStopped', message: 'The kernel was stopped while this cell ran.' },
        ...extra,
        ...(p.interrupted ? { interrupted: true } : {}),
      });
    }
    this.pending.clear();
  }

  /** The kernel process ended (forked kernels: 'exit'; detached ones: the connection closed and the process is gone). */
  private onExit(conn: Connection, code: number | null, signal: string | null): void {
    const onPurpose = conn.killedOnPurpose;
    if (this.conn === conn) {
      this.conn = undefined;
      this.info = undefined;
      this.requests.close(`The kernel process ended (${signal ?? `exit code ${code}`}) before it answered.`);
    }
    if (this.launching === conn) this.emit('start-failed', new Error(`The kernel process exited during start-up (${signal ?? `code ${code}`}).`));
    this.failPending(onPurpose ? undefined : { name: 'KernelDied', message: diedMessage(code, signal, conn.stderrTail) });
    this.emit('exit', { code, signal, onPurpose });
    this.emit('state', 'stopped');
  }

  private onDetachedClose(conn: Connection, reason: CloseReason, detail?: string): void {
    if (this.conn !== conn) return;
    if (reason === 'closed') return; // we closed it (detach/release), handled there
    if (reason === 'superseded') {
      this.conn = undefined;
      this.info = undefined;
      this.requests.close('Another window attached to the kernel.');
      this.failPending(
        { name: 'KernelTakenOver', message: 'Another window attached to this notebook\'s kernel; the cell goes on there.' },
        { detached: true },
      );
      this.emit('superseded');
      this.emit('state', 'stopped');
      return;
    }
    // The connection broke: the kernel is gone, or about to be.
    const waitGone = async () => {
      for (let i = 0; i < 40 && isAlive(conn.pid); i++) await new Promise((r) => setTimeout(r, 50));
      if (isAlive(conn.pid)) this.emit('log', 'warn', `the connection to kernel process ${conn.pid} was lost (${detail ?? reason}) but the process still runs; it is stopped`);
      this.killPid(conn.pid);
      if (!conn.killedOnPurpose && conn.record?.logFile) conn.stderrTail = logTail(conn.record.logFile);
      // A kernel we stopped could not remove its own files; one that died keeps its log for a look.
      const dir = this.options.detached?.dir;
      if (dir && conn.record) removeKernelFiles(dir, conn.record.id, conn.record.socket, !conn.killedOnPurpose);
      this.onExit(conn, null, conn.killedOnPurpose ? 'SIGKILL' : null);
    };
    void waitGone();
  }

  private killPid(pid: number): void {
    if (pid > 0 && isAlive(pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
  }

  private kill(conn: Connection): void {
    conn.killedOnPurpose = true;
    if (conn.child) {
      if (this.conn === conn) {
        this.conn = undefined;
        this.info = undefined;
        this.requests.close('The kernel was stopped before it answered.');
      }
      if (conn.child.exitCode === null && conn.child.signalCode === null) conn.child.kill('SIGKILL');
      return;
    }
    // Detached: the socket closes when the process dies; onDetachedClose reports the exit.
    this.killPid(conn.pid);
  }

  /** Closes the connection to a detached kernel without a word (it was not what we wanted). */
  private dropConnection(conn: Connection): void {
    if (this.conn === conn) {
      this.conn = undefined;
      this.info = undefined;
      this.requests.close('The connection to the kernel was closed.');
    }
    conn.channel.close();
    this.emit('state', 'stopped');
  }

  /**
   * Resolves once the timers that cells started have fired, so that an error
   * one of them throws reaches `onLateError` first (the end of a headless
   * run, as `node` waits for a script's timers); at once on an interrupt, or
   * when the kernel is gone.
   */
  async settle(): Promise<void> {
    if (!this.conn || !this.info) return;
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
    const conn = this.conn;
    if (!conn) return;
    this.failPending(error ?? { name: 'KernelRestarted', message: 'The kernel was restarted while this cell ran; its variables are gone.' });
    const exited = new Promise<void>((resolve) => this.once('exit', () => resolve()));
    this.kill(conn);
    await exited;
  }

  /**
   * Leaves a detached kernel running without this host (the window is going
   * away: reload, quit). It goes on with its cell and waits for a window to
   * reattach, within its grace period. A forked kernel is stopped instead.
   */
  async detach(): Promise<void> {
    const conn = this.conn;
    if (!conn) return;
    if (!conn.detached) return this.shutdown();
    this.conn = undefined;
    this.info = undefined;
    this.requests.close('The window let go of the kernel.');
    this.failPending({ name: 'KernelDetached', message: 'The window was closed while this cell ran; the kernel goes on with it.' }, { detached: true });
    conn.channel.close();
    this.emit('state', 'stopped');
  }

  /**
   * The notebook was closed: a detached kernel finishes its running cell (or
   * stops at the end of its grace period) and ends; one with nothing to do
   * ends now. A forked kernel is stopped.
   */
  async release(): Promise<void> {
    const conn = this.conn;
    if (!conn) return;
    if (!conn.detached) return this.shutdown();
    conn.channel.send({ type: 'release' } satisfies HostMessage);
    await this.detach();
  }
}

/** Why the kernel process ended, with the last lines it printed (an uncaught error, an abort). */
function diedMessage(code: number | null, signal: string | null, stderr: string): string {
  const how = `ended unexpectedly (${signal ? `signal ${signal}` : code === null ? 'it is gone' : `exit code ${code}`})`;
  const printed = stderr.trim().split('\n').slice(-12).join('\n');
  // The kernel's memory: V8's own "heap out of memory" report, or the system's OOM killer (SIGKILL from nobody we know).
  const memory = /heap out of memory|Allocation failed|out of memory/i.test(stderr) || signal === 'SIGKILL';
  return (
    `The kernel process ${how} while this cell ran; its variables are gone. Run the cells again (a fresh kernel starts by itself).` +
    (memory ? ' The cell may be using more memory than the machine has.' : '') +
    (printed ? `\nThe kernel's last output:\n${printed}` : '')
  );
}

/** The end of a detached kernel's log (its stderr), to say why it ended. */
function logTail(file: string): string {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const size = fstatSync(fd).size;
    const buf = Buffer.alloc(Math.min(size, STDERR_TAIL));
    readSync(fd, buf, 0, buf.length, size - buf.length);
    return buf.toString('utf8');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
