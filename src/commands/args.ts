// Arguments of our commands, checked without `vscode`. A command runs from
// the command palette (no argument: ask, or use the active notebook), from a
// menu (VS Code passes a NotebookDocument or a Uri), or from code and tests
// through `vscode.commands.executeCommand(id, arg)` with the documented
// shapes below. Wrong arguments throw a CommandArgumentError that says what
// the command accepts.
import type { BackendChoiceName } from '../common/messages/kernel';
import { DATASET_NAMES, type DatasetName } from '../lib/data/manifest';
import { BACKEND_CHOICES, isBackendChoice } from '../notebook/settings';

export class CommandArgumentError extends Error {
  override readonly name = 'CommandArgumentError';
}

/** Something with a URI: a vscode.Uri (scheme, path, toString) or an object holding one. */
interface UriLike {
  scheme: string;
  path: string;
  toString(): string;
}

function isUriLike(v: unknown): v is UriLike {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as UriLike).scheme === 'string' &&
    typeof (v as UriLike).path === 'string' &&
    typeof (v as UriLike).toString === 'function'
  );
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return `an object with keys ${Object.keys(v).map((k) => JSON.stringify(k)).join(', ') || '(none)'}`;
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** A location given as text: a URI with a scheme (`file:///x`, `untitled:Untitled-1`) or an absolute file path. */
export type Location = { uri: string } | { path: string };

export function parseLocation(v: unknown, what: string): Location {
  if (isUriLike(v)) return { uri: v.toString() };
  if (typeof v === 'string' && v.trim()) {
    const s = v.trim();
    if (/^[a-zA-Z][\w+.-]+:/.test(s) && !/^[a-zA-Z]:[\\/]/.test(s)) return { uri: s };
    if (s.startsWith('/') || /^[a-zA-Z]:[\\/]/.test(s) || s.startsWith('\\\\')) return { path: s };
    throw new CommandArgumentError(`${what} must be a URI or an absolute path, got the relative path ${JSON.stringify(s)}.`);
  }
  throw new CommandArgumentError(`${what} must be a URI or an absolute path, got ${describe(v)}.`);
}

/** Which notebook a command acts on: the active one, or the one at a location. */
export type NotebookTarget = { kind: 'active' } | { kind: 'location'; location: Location };

const NOTEBOOK_ARG_HELP = 'a notebook (a NotebookDocument, its Uri, a URI string or an absolute path), or nothing for the active notebook';

/** The notebook argument of restart, interrupt and export: from menus, palette or code. */
export function parseNotebookTarget(arg: unknown, command: string): NotebookTarget {
  if (arg === undefined || arg === null) return { kind: 'active' };
  if (isUriLike(arg) || typeof arg === 'string') return { kind: 'location', location: parseLocation(arg, `${command}: the notebook`) };
  if (isRecord(arg)) {
    // A NotebookDocument, or a notebook toolbar context that was not converted.
    if (isUriLike(arg.uri)) return { kind: 'location', location: { uri: arg.uri.toString() } };
    const editor = arg.notebookEditor;
    if (isRecord(editor) && isUriLike(editor.notebookUri)) return { kind: 'location', location: { uri: editor.notebookUri.toString() } };
    if ('notebook' in arg) return parseNotebookTarget(arg.notebook, command);
  }
  throw new CommandArgumentError(`${command} expects ${NOTEBOOK_ARG_HELP}; got ${describe(arg)}.`);
}

// ---------------------------------------------------------------------------
// New notebook from a sample

export type SampleDestination = 'workspace' | 'untitled';

export interface SampleArgs {
  /** Sample id (its file name without `.aenb`); absent: ask. */
  sample?: string;
  /** Copy into the workspace (default when a folder is open) or open as an untitled notebook. */
  destination?: SampleDestination;
  /** Folder to copy into (default: the first workspace folder). */
  folder?: Location;
}

/** `'vanilla-mnist'` or `{ sample, destination?: 'workspace' | 'untitled', folder? }`. */
export function parseSampleArgs(arg: unknown): SampleArgs {
  const command = 'New Notebook from a Sample';
  if (arg === undefined || arg === null) return {};
  if (typeof arg === 'string') return { sample: checkSampleId(arg, command) };
  if (!isRecord(arg)) throw new CommandArgumentError(`${command} expects a sample id or { sample, destination, folder }; got ${describe(arg)}.`);
  const out: SampleArgs = {};
  if (arg.sample !== undefined) {
    if (typeof arg.sample !== 'string') throw new CommandArgumentError(`${command}: "sample" must be a sample id (text), got ${describe(arg.sample)}.`);
    out.sample = checkSampleId(arg.sample, command);
  }
  if (arg.destination !== undefined) {
    if (arg.destination !== 'workspace' && arg.destination !== 'untitled') {
      throw new CommandArgumentError(`${command}: "destination" must be "workspace" or "untitled", got ${describe(arg.destination)}.`);
    }
    out.destination = arg.destination;
  }
  if (arg.folder !== undefined) out.folder = parseLocation(arg.folder, `${command}: "folder"`);
  const unknown = Object.keys(arg).filter((k) => !['sample', 'destination', 'folder'].includes(k));
  if (unknown.length) throw new CommandArgumentError(`${command}: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}; it takes sample, destination and folder.`);
  return out;
}

function checkSampleId(id: string, command: string): string {
  const s = id.trim().replace(/\.aenb$/i, '');
  if (!/^[\w.-]+$/.test(s)) throw new CommandArgumentError(`${command}: ${JSON.stringify(id)} is not a sample id (a file name like "vanilla-mnist").`);
  return s;
}

// ---------------------------------------------------------------------------
// Select backend

export interface BackendArgs {
  backend?: BackendChoiceName;
  /** Where to store the setting. Default: the workspace if it sets one already, else the user settings. */
  target?: 'user' | 'workspace';
  /** Restart running kernels without asking (default: ask when a kernel runs). */
  restart?: boolean;
}

/** `'wasm'` or `{ backend, target?: 'user' | 'workspace', restart?: boolean }`. */
export function parseBackendArgs(arg: unknown): BackendArgs {
  const command = 'Select Backend';
  const check = (b: unknown): BackendChoiceName => {
    if (!isBackendChoice(b)) throw new CommandArgumentError(`${command}: the backend must be one of ${BACKEND_CHOICES.join(', ')}; got ${describe(b)}.`);
    return b;
  };
  if (arg === undefined || arg === null) return {};
  if (typeof arg === 'string') return { backend: check(arg) };
  if (!isRecord(arg)) throw new CommandArgumentError(`${command} expects a backend name or { backend, target, restart }; got ${describe(arg)}.`);
  const out: BackendArgs = {};
  if (arg.backend !== undefined) out.backend = check(arg.backend);
  if (arg.target !== undefined) {
    if (arg.target !== 'user' && arg.target !== 'workspace') throw new CommandArgumentError(`${command}: "target" must be "user" or "workspace", got ${describe(arg.target)}.`);
    out.target = arg.target;
  }
  if (arg.restart !== undefined) {
    if (typeof arg.restart !== 'boolean') throw new CommandArgumentError(`${command}: "restart" must be true or false, got ${describe(arg.restart)}.`);
    out.restart = arg.restart;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Download the data sets

const DATASET_ALIASES: Record<string, DatasetName> = {
  mnist: 'mnist',
  'fashion-mnist': 'fashion-mnist',
  fashionmnist: 'fashion-mnist',
  fashion_mnist: 'fashion-mnist',
};

/** `'all'`, `'mnist'`, `['mnist', 'fashion-mnist']` or `{ datasets: [...] }`; absent: ask. */
export function parseDatasetArgs(arg: unknown): { datasets?: DatasetName[] } {
  const command = 'Download the Data Sets';
  const one = (v: unknown): DatasetName[] => {
    if (typeof v !== 'string') throw new CommandArgumentError(`${command}: a data set is named by text, got ${describe(v)}.`);
    const k = v.trim().toLowerCase();
    if (k === 'all') return [...DATASET_NAMES];
    const name = DATASET_ALIASES[k];
    if (!name) throw new CommandArgumentError(`${command}: unknown data set ${JSON.stringify(v)}; known: ${DATASET_NAMES.join(', ')} (or "all").`);
    return [name];
  };
  const many = (list: unknown[]): DatasetName[] => {
    if (list.length === 0) throw new CommandArgumentError(`${command}: the list of data sets is empty.`);
    return DATASET_NAMES.filter((n) => list.flatMap(one).includes(n));
  };
  if (arg === undefined || arg === null) return {};
  if (typeof arg === 'string') return { datasets: one(arg) };
  if (Array.isArray(arg)) return { datasets: many(arg) };
  if (isRecord(arg) && arg.datasets !== undefined) {
    return { datasets: Array.isArray(arg.datasets) ? many(arg.datasets) : one(arg.datasets) };
  }
  throw new CommandArgumentError(`${command} expects "all", a data set name, a list of names or { datasets }; got ${describe(arg)}.`);
}

// ---------------------------------------------------------------------------
// Export to HTML

export interface ExportArgs {
  notebook: NotebookTarget;
  /** Where to write the report; absent: ask with a save dialog. */
  target?: Location;
  /** Offer to open the report afterwards (default true; false for tests and scripts). */
  open?: boolean;
  theme?: 'light' | 'dark' | 'auto';
}

/** A notebook (see parseNotebookTarget), or `{ notebook?, target?, open?, theme? }`. */
export function parseExportArgs(arg: unknown): ExportArgs {
  const command = 'Export to HTML Report';
  if (isRecord(arg) && !isUriLike(arg) && !isUriLike(arg.uri) && !('notebookEditor' in arg)) {
    const unknown = Object.keys(arg).filter((k) => !['notebook', 'target', 'open', 'theme'].includes(k));
    if (unknown.length) throw new CommandArgumentError(`${command}: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}; it takes notebook, target, open and theme.`);
    const out: ExportArgs = { notebook: parseNotebookTarget(arg.notebook, command) };
    if (arg.target !== undefined) out.target = parseLocation(arg.target, `${command}: "target"`);
    if (arg.open !== undefined) {
      if (typeof arg.open !== 'boolean') throw new CommandArgumentError(`${command}: "open" must be true or false, got ${describe(arg.open)}.`);
      out.open = arg.open;
    }
    if (arg.theme !== undefined) {
      if (arg.theme !== 'light' && arg.theme !== 'dark' && arg.theme !== 'auto') throw new CommandArgumentError(`${command}: "theme" must be light, dark or auto, got ${describe(arg.theme)}.`);
      out.theme = arg.theme;
    }
    return out;
  }
  return { notebook: parseNotebookTarget(arg, command) };
}

/** `notebook.aenb` -> `notebook.html` (any other name gets `.html` added). */
export function reportFileName(notebookFileName: string): string {
  const base = notebookFileName.replace(/\.aenb$/i, '');
  return `${base || 'notebook'}.html`;
}
