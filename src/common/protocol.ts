/**
 * The message protocol between a kernel process and whoever drives it (the
 * VS Code extension host or the headless runner). Messages travel over the
 * Node IPC channel of `child_process.fork`, as JSON.
 */
import type { AenbOutput, CodeLanguage, NotebookErrorData } from './aenb';

export type BackendChoiceName = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

/** What the kernel reports about its backend (a JSON copy of the library's BackendInfo). */
export interface KernelBackendInfo {
  requested: BackendChoiceName;
  name: 'tensorflow' | 'wasm' | 'cpu';
  reason: string;
  fellBack: boolean;
  simd?: boolean;
  /** Where the wasm binaries were loaded from (wasm backend only). */
  wasmDir?: string;
  tfjsVersion: string;
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
}

export interface InterruptRequest {
  type: 'interrupt';
}

export interface ShutdownRequest {
  type: 'shutdown';
}

export type HostMessage = InitRequest | ExecuteRequest | InterruptRequest | ShutdownRequest;

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
  state: 'running' | 'done' | 'stopped';
}

export type KernelMessage = ReadyMessage | InitFailedMessage | OutputMessage | DoneMessage | LogMessage | ProgressMessage;

export function isKernelMessage(value: unknown): value is KernelMessage {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { type?: unknown }).type === 'string' &&
    ['ready', 'init-failed', 'output', 'done', 'log', 'progress'].includes((value as { type: string }).type)
  );
}

export function isHostMessage(value: unknown): value is HostMessage {
  return (
    typeof value === 'object' &&
    value !== null &&
    ['init', 'execute', 'interrupt', 'shutdown'].includes((value as { type?: string }).type ?? '')
  );
}
