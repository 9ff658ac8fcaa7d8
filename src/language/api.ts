// What the notebook language service answers, in plain data: offsets in a
// cell's own text, or line/character positions in one of the declaration
// files of the bundle. Shared by the service, its worker protocol, the VS Code
// providers and `aenb check`; no TypeScript or vscode types here.

export type CellLanguage = 'typescript' | 'javascript';

export interface CellInput {
  /** Stable for the cell's life (in VS Code: the cell document's URI). */
  id: string;
  language: CellLanguage;
  text: string;
  /** The text's version (VS Code's document version); echoed in diagnostics. */
  version?: number;
}

/** A span of a cell's text, as offsets (UTF-16 code units). */
export interface CellSpan {
  start: number;
  end: number;
}

export interface LineCharacter {
  line: number;
  character: number;
}

/** Where a definition lives: a cell, or a declaration file of the bundle (e.g. TensorFlow.js's). */
export type Target =
  | { kind: 'cell'; cell: string; span: CellSpan; name?: string }
  | { kind: 'file'; file: string; start: LineCharacter; end: LineCharacter; name?: string };

export type Severity = 'error' | 'warning' | 'info' | 'hint';

export interface CellDiagnostic {
  span: CellSpan;
  severity: Severity;
  /** TypeScript's error number, or a name for the kernel's own checks. */
  code: number | string;
  /** 'ts' for TypeScript's checks, 'kernel' for what the kernel would refuse to run. */
  source: 'ts' | 'kernel';
  message: string;
  tags?: ('unnecessary' | 'deprecated')[];
  related?: { target: Target; message: string }[];
}

export interface CellDiagnostics {
  cell: string;
  /** The cell text version these were computed for. */
  version?: number;
  diagnostics: CellDiagnostic[];
}

export interface CompletionEntry {
  name: string;
  /** TypeScript's ScriptElementKind ("method", "property", "const", ...). */
  kind: string;
  kindModifiers?: string;
  sortText: string;
  insertText?: string;
  filterText?: string;
  isSnippet?: boolean;
  replacement?: CellSpan;
  labelDetail?: string;
  labelDescription?: string;
  source?: string;
  /** Opaque: give it back to getCompletionDetails. */
  data?: unknown;
  deprecated?: boolean;
  preselect?: boolean;
}

export interface CompletionList {
  entries: CompletionEntry[];
  isIncomplete: boolean;
  /** Where the word being completed starts and ends, when TypeScript says. */
  optionalReplacement?: CellSpan;
}

export interface CompletionDetails {
  /** The signature or type, as code. */
  detail: string;
  documentation: string;
}

export interface HoverInfo {
  span: CellSpan;
  /** The symbol's display (`const xTrain: tf.Tensor3D`), as TypeScript code. */
  display: string;
  /** Documentation as Markdown. */
  documentation: string;
}

export interface SignatureInfo {
  label: string;
  documentation: string;
  parameters: { label: [number, number]; documentation: string }[];
}

export interface SignatureHelpInfo {
  signatures: SignatureInfo[];
  activeSignature: number;
  activeParameter: number;
}

export interface DefinitionInfo {
  /** The word the definition is asked for. */
  origin?: CellSpan;
  targets: Target[];
}
