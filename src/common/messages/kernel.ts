/**
 * The message protocol between a kernel process and whoever drives it (the
 * VS Code extension host or the headless runner). Messages are JSON and
 * travel over a channel (src/kernel/transport): the Node IPC channel of
 * `child_process.fork`, or the local socket of a kernel that outlives its
 * window. One-way messages (a discriminated union on `type`, below) run cells
 * and stream their outputs; requests with replies (./envelope.ts) are for
 * questions anyone may ask the kernel: `KernelMethods`.
 */
import type { AenbOutput, CodeLanguage, NotebookErrorData } from '../aenb';
import { isEnvelope, type EnvelopeMessage } from './envelope';

import type { BackendChoice, BackendName } from '../backends';

/** A backend a kernel may be asked for (src/common/backends.ts). */
export type BackendChoiceName = BackendChoice;

/** What the kernel reports about its backend (a JSON copy of the library's BackendInfo). */
export interface KernelBackendInfo {
  requested: BackendChoiceName;
  name: BackendName;
  reason: string;
  fellBack: boolean;
  simd?: boolean;
  /** Where the wasm binaries were loaded from (wasm backend only). */
  wasmDir?: string;
  tfjsVersion: string;
  /** How the fast training step computes on wasm: threads and fused multiply-add, and the same in words. */
  compute?: { threads: number; fma: boolean; description: string };
}

export interface KernelOptions {
  backend: BackendChoiceName;
  /** A folder holding the data set files, tried first. */
  dataDir?: string;
  /** Where downloaded data sets are cached. */
  cacheDir?: string;
  /** Base URL replacing the official download locations. */
  mirror?: string;
  /** Working directory for cells (relative paths in `save`/`loadModel`). */
  cwd?: string;
  /** Minimum milliseconds between two live-progress updates of one output. */
  progressIntervalMs?: number;
  /** Socket kernels: how long the kernel lives on without a host (see LifetimeRequest). */
  graceMs?: number;
}

// ---------------------------------------------------------------------------
// Host → kernel

export interface InitRequest {
  type: 'init';
  options: KernelOptions;
}

export interface ExecuteRequest {
  type: 'execute';
  /** Identifies this execution in every reply. */
  id: string;
  source: string;
  language: CodeLanguage;
  /** Shown in stack traces, e.g. "Cell 3". */
  cellName: string;
  /** The cell's index in the notebook, so that a host reattaching after a reload finds it. */
  cellIndex?: number;
}

export interface InterruptRequest {
  type: 'interrupt';
}

export interface ShutdownRequest {
  type: 'shutdown';
}

/** A cell the host has queued behind the running one (not sent to the kernel yet). */
export interface QueuedCell {
  index: number;
  cellName: string;
}

/** The host's queue changed: kept by a socket kernel, so that a host reattaching after a reload can say which cells did not run. */
export interface QueueRequest {
  type: 'queue';
  cells: QueuedCell[];
}

/** The host has the result of an execution: a socket kernel stops keeping it for a reattaching host. */
export interface AckRequest {
  type: 'ack';
  id: string;
}

/** How long a socket kernel lives on once no host is attached: it ends `graceMs` after its host left (at once for 0). */
export interface LifetimeRequest {
  type: 'lifetime';
  graceMs: number;
}

/** The notebook was closed: the kernel ends once its running cell is done (or the grace period ends), or now when idle. */
export interface ReleaseRequest {
  type: 'release';
}

export type HostMessage = InitRequest | ExecuteRequest | InterruptRequest | ShutdownRequest | QueueRequest | AckRequest | LifetimeRequest | ReleaseRequest | EnvelopeMessage;

// ---------------------------------------------------------------------------
// Requests the kernel answers (host -> kernel; the renderer's reach the kernel
// through the host, see ./renderer.ts)

export interface PingResult {
  /** The `echo` of the request, unchanged. */
  echo?: string;
  pid: number;
  backend: KernelBackendInfo['name'];
  /** Whether a cell is running. */
  busy: boolean;
  /** Seconds since the kernel process started. */
  uptimeSeconds: number;
}

/** The data settings a running kernel can take without a restart. */
export type DataOptions = Pick<KernelOptions, 'dataDir' | 'mirror'>;

/**
 * A latent-space explorer whose decoder does not travel with it (a conv
 * decoder, say) asks the kernel that made it to decode codes (the latent
 * kind, src/outputs/latent/kernel.ts, answers).
 */
export interface LatentDecodeParams {
  /** The payload's `remote.model`: the kernel's handle of the model. */
  model: string;
  /** The payload's `remote.kernel`: the kernel process that made the map (a restarted kernel no longer holds the model). */
  kernel: string;
  /** Codes, base64 of little-endian Float32 [count, latentDim]. */
  codes: string;
  count: number;
}

export interface LatentDecodeResult {
  /** uint8 pixels, base64 [count, height, width, channels], mapped with the payload's range. */
  pixels: string;
  count: number;
}

/** At most this many codes in one decode request. */
export const LATENT_DECODE_MAX = 64;

export type KernelMethods = {
  /** Is the kernel there, and what is it doing? Answered between cells and between batches of a training. */
  ping: { params: { echo?: string }; result: PingResult };
  /** New data settings (the data folder or the mirror changed): the next `loadData()` uses them. Answers with the settings now in use. */
  configure: { params: DataOptions; result: DataOptions };
  /** Decodes codes of a latent-space explorer (answered between cells and between batches of a training). */
  'latent.decode': { params: LatentDecodeParams; result: LatentDecodeResult };
  /**
   * Answered once the one-shot timers the cells started have fired (at once
   * on an interrupt): the end of a headless run waits for them, as node waits
   * for a script's timers, so that an error one of them throws is reported
   * (as a `late-error`) before the reply. The result: timers still pending.
   */
  settle: { params: Record<string, never>; result: { pending: number } };
};

// ---------------------------------------------------------------------------
// Kernel → host

export interface ReadyMessage {
  type: 'ready';
  pid: number;
  backend: KernelBackendInfo;
}

/** The kernel could not start (the backend failed, say). */
export interface InitFailedMessage {
  type: 'init-failed';
  error: NotebookErrorData;
}

/**
 * An output of an execution. With `key`, it replaces the earlier output of the
 * same execution that had this key (live progress), instead of appending.
 */
export interface OutputMessage {
  type: 'output';
  id: string;
  output: AenbOutput;
  key?: string;
}

export interface DoneMessage {
  type: 'done';
  id: string;
  success: boolean;
  durationMs: number;
  /** When the execution failed: name, message and a stack with the cell's own line numbers. */
  error?: NotebookErrorData;
  /** True when an interrupt arrived during this execution. */
  interrupted?: boolean;
  /** The error (a stray one, from an unawaited promise or a timer) was sent as an output already. */
  errorShown?: boolean;
}

/** An error escaped (an unawaited promise, a timer) after the execution `id`, the last one, had finished. */
export interface LateErrorMessage {
  type: 'late-error';
  id: string;
  error: NotebookErrorData;
}


export interface LogMessage {
  type: 'log';
  level: 'info' | 'warn' | 'error';
  message: string;
}

/** Sent while training runs, for status bars and terminal progress (besides the output itself). */
export interface ProgressMessage {
  type: 'progress';
  id: string;
  epoch: number;
  epochs: number;
  batch: number;
  batchesPerEpoch: number;
  loss: number;
  samplesPerSecond: number;
  etaSeconds: number;
  /** 'error': training ended with an exception (the cell's error says which). */
  state: 'running' | 'done' | 'stopped' | 'error';
}

/** An execution as a reattaching host gets it: what ran (or runs), its outputs so far, and its end if it has ended. */
export interface ReplayedExecution {
  id: string;
  cellName: string;
  cellIndex?: number;
  source: string;
  /** When it started (ms since the epoch). */
  startedAt: number;
  /** Its outputs in order; keyed ones (live progress) as they are now. */
  outputs: { output: AenbOutput; key?: string }[];
  progress?: ProgressMessage;
  /** Set when it has finished. */
  done?: DoneMessage;
}

/** Sent by a socket kernel to a host that attached to it after the kernel had been initialized (a reload). */
export interface ReattachedMessage {
  type: 'reattached';
  pid: number;
  backend: KernelBackendInfo;
  /** The running execution and those that ended without a host to receive them, oldest first. */
  executions: ReplayedExecution[];
  /** Cells the previous host had queued and not sent: they did not run. */
  queued: QueuedCell[];
  /** What the kernel logged while no host was attached. */
  logs: LogMessage[];
}

export type KernelMessage = ReadyMessage | InitFailedMessage | OutputMessage | DoneMessage | LogMessage | ProgressMessage | LateErrorMessage | ReattachedMessage | EnvelopeMessage;

const KERNEL_TYPES: readonly string[] = ['ready', 'init-failed', 'output', 'done', 'log', 'progress', 'late-error', 'reattached'] satisfies KernelMessage['type'][];
const HOST_TYPES: readonly string[] = ['init', 'execute', 'interrupt', 'shutdown', 'queue', 'ack', 'lifetime', 'release'] satisfies HostMessage['type'][];

function typeOf(value: unknown): string | undefined {
  return typeof value === 'object' && value !== null ? ((value as { type?: unknown }).type as string | undefined) : undefined;
}

export function isKernelMessage(value: unknown): value is KernelMessage {
  return KERNEL_TYPES.includes(typeOf(value) ?? '') || isEnvelope(value);
}

export function isHostMessage(value: unknown): value is HostMessage {
  return HOST_TYPES.includes(typeOf(value) ?? '') || isEnvelope(value);
}
