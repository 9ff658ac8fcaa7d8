// Messages between the extension host and the language worker (worker.ts).
// Notebooks are keyed by their URI, cells by their document URI.
import type {
  CellDiagnostics,
  CellInput,
  CellLanguage,
  CompletionDetails,
  CompletionList,
  DefinitionInfo,
  HoverInfo,
  SignatureHelpInfo,
  Target,
} from './api';

/** The requests the worker answers: method → params and result. */
export interface LanguageMethods {
  completions: { params: { cell: string; offset: number; triggerCharacter?: string }; result: CompletionList | undefined };
  completionDetails: { params: { cell: string; offset: number; name: string; source?: string; data?: unknown }; result: CompletionDetails | undefined };
  hover: { params: { cell: string; offset: number }; result: HoverInfo | undefined };
  signatureHelp: {
    params: { cell: string; offset: number; trigger?: { kind: 'invoked' | 'characterTyped' | 'retrigger'; character?: string } };
    result: SignatureHelpInfo | undefined;
  };
  definition: { params: { cell: string; offset: number }; result: DefinitionInfo };
  typeDefinition: { params: { cell: string; offset: number }; result: Target[] };
  /** The text of a declaration file of the bundle (definitions in TensorFlow.js's declarations); any notebook key. */
  fileText: { params: { file: string }; result: string | undefined };
}

export type LanguageMethod = keyof LanguageMethods;

export type ToWorker =
  /** A notebook's code cells, in order (on open, and when cells are added, removed, moved or change language). */
  | { type: 'sync'; notebook: string; cells: CellInput[] }
  | { type: 'edit'; notebook: string; cell: string; text: string; version: number }
  | { type: 'close'; notebook: string }
  | { [M in LanguageMethod]: { type: 'request'; id: number; notebook: string; method: M; params: LanguageMethods[M]['params'] } }[LanguageMethod];

export type FromWorker =
  /** `cancelled`: the request was cancelled (see `WorkerOptions.cancellations`) before it ran. */
  | { type: 'response'; id: number; result?: unknown; error?: string; cancelled?: true }
  /** Fresh problems of some cells of a notebook (the others keep theirs). */
  | { type: 'diagnostics'; notebook: string; cells: CellDiagnostics[] }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string };

export interface WorkerOptions {
  aenbLanguageWorker: true;
  /** Where cell-types.json is (default: beside the worker's bundle). */
  typesFile?: string;
  /** Quiet time after an edit before the problems are recomputed. */
  diagnosticsDelayMs?: number;
  /**
   * Requests the extension host no longer wants (a completion list the user
   * typed past): `CANCEL_SLOTS` int32 slots, request `id` cancelled when slot
   * `id % CANCEL_SLOTS` holds `id`. Shared memory, so that the worker sees it
   * at once, even while it is busy with the request before (a message would
   * wait in the queue behind the very requests it cancels).
   */
  cancellations?: SharedArrayBuffer;
}

export const CANCEL_SLOTS = 64;

/** Marks request `id` cancelled (the host's side). */
export function cancelRequest(cancellations: Int32Array, id: number): void {
  Atomics.store(cancellations, id % CANCEL_SLOTS, id);
}

/** Whether request `id` is cancelled (the worker's side). */
export function isCancelled(cancellations: Int32Array | undefined, id: number): boolean {
  return !!cancellations && Atomics.load(cancellations, id % CANCEL_SLOTS) === id;
}

export type { CellLanguage };
