// The `.aenb` notebook file format: its types, constants, errors and the
// stored form of output data (parsing: ./parse.ts, writing: ./write.ts).
//
// Pure TypeScript with no Node and no `vscode` imports: the extension host,
// the kernel, the headless runner and (possibly) a browser all use it.
//
// File layout (format version 1), written in exactly this key order:
//
//   {
//     "format": "aenb",
//     "version": 1,
//     "metadata": { ... },                      free-form, keys sorted
//     "cells": [
//       {
//         "kind": "code",                       "markdown" | "code"
//         "language": "typescript",             "typescript" | "javascript"; "markdown" for markdown cells
//         "metadata": { "tags": ["parameters"] },
//         "source": ["const a = 1;\n", "a\n"],  lines, each keeping its own line break
//         "outputs": [                          code cells only
//           { "items": [{ "mime": "text/plain", "data": "1" }], "metadata": { ... } }
//         ],
//         "execution": { "order": 3, "success": true, "durationMs": 12, "startedAt": "2025-01-01T10:00:00.000Z" }
//       }
//     ]
//   }
//
// Markdown cells have no "outputs" or "execution". On load, "metadata" (at
// any level), "outputs", "execution" and a markdown cell's "language" may be
// omitted; every other field shown above is required (except "startedAt").
// Fields this version does not know are kept, at every level, in `extra`
// (inside metadata objects they are simply kept) and written back.
//
// Determinism: known keys are written in the fixed order above, then any
// unknown keys sorted by UTF-16 code units (plain `Array.prototype.sort`);
// metadata objects and unknown values are written with their keys sorted at
// every depth; 2-space indent; exactly one trailing "\n". The `data` of an
// output item is content, not structure: its keys keep their order.
//
// Source on disk is an array of lines (nbformat style) rather than one string:
// a one-line edit then shows as a one-line diff, where a single JSON string
// with "\n" escapes would change the whole (very long) line. Loading accepts
// both forms. Lines are split after each "\n" only, so "\r\n" endings (and
// any stray "\r") survive unchanged.
//
// Output item data (see `mimeDataKind`):
//   text   (`text/*`, `*+xml`, `application/xml`, `application/javascript`,
//           VS Code's stdout/stderr MIME types)  -> a JSON string (the text; an
//                                                   array of lines is accepted on load);
//   json   (`application/json`, `*+json`, VS Code's error MIME type)
//                                                -> any JSON value, stored as is;
//   binary (everything else, e.g. `image/png`)   -> a standard base64 string
//           (RFC 4648 alphabet "A-Z a-z 0-9 + /", "=" padding, no line breaks).
// `outputDataFromBytes` / `outputDataToBytes` convert between the raw bytes
// VS Code and the kernel use and this stored form.
import { base64ToBytes, bytesToBase64 } from '../base64';

// ---------------------------------------------------------------------------
// Constants and types

export const AENB_FORMAT = 'aenb';
/** The format version this code reads and writes. */
export const AENB_FORMAT_VERSION = 1;
export const AENB_FILE_EXTENSION = '.aenb';
/** The tag that marks the cell holding the notebook's hyper-parameters. */
export const PARAMETERS_TAG = 'parameters';

export const MIME = {
  textPlain: 'text/plain',
  markdown: 'text/markdown',
  html: 'text/html',
  json: 'application/json',
  png: 'image/png',
  svg: 'image/svg+xml',
  /** VS Code's stream outputs: `data` is the text. */
  stdout: 'application/vnd.code.notebook.stdout',
  stderr: 'application/vnd.code.notebook.stderr',
  /** VS Code's error output: `data` is `NotebookErrorData` JSON. */
  error: 'application/vnd.code.notebook.error',
} as const;

export type JsonPrimitive = null | boolean | number | string;
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export type CodeLanguage = 'typescript' | 'javascript';
export const CODE_LANGUAGES: readonly CodeLanguage[] = ['typescript', 'javascript'];

/** Cell metadata: free-form, with `tags` understood (e.g. `["parameters"]`). */
export interface AenbCellMetadata {
  tags?: string[];
  [key: string]: JsonValue | undefined;
}

/** Payload of `MIME.error`, as VS Code's `NotebookCellOutputItem.error` writes it. */
export interface NotebookErrorData {
  name: string;
  message: string;
  stack?: string;
}

export interface AenbOutputItem {
  mime: string;
  /** Stored form of the data; see `mimeDataKind`. */
  data: JsonValue;
  /** Fields this version does not know, kept for the round trip. */
  extra?: JsonObject;
}

export interface AenbOutput {
  items: AenbOutputItem[];
  metadata?: JsonObject;
  extra?: JsonObject;
}

/** The cell's last run. */
export interface AenbExecution {
  /** Execution counter shown as `[n]`. */
  order: number;
  success: boolean;
  durationMs: number;
  /** ISO 8601 date-time, e.g. "2025-01-31T09:15:00.000Z". */
  startedAt?: string;
  extra?: JsonObject;
}

export interface AenbMarkdownCell {
  kind: 'markdown';
  language: 'markdown';
  source: string;
  metadata: AenbCellMetadata;
  extra?: JsonObject;
}

export interface AenbCodeCell {
  kind: 'code';
  language: CodeLanguage;
  source: string;
  metadata: AenbCellMetadata;
  outputs: AenbOutput[];
  execution?: AenbExecution;
  extra?: JsonObject;
}

export type AenbCell = AenbMarkdownCell | AenbCodeCell;

export interface AenbNotebook {
  metadata: JsonObject;
  cells: AenbCell[];
  extra?: JsonObject;
}

// ---------------------------------------------------------------------------
// Errors

/** A path into the JSON document: keys and array indices. */
export type JsonPath = ReadonlyArray<string | number>;

/** Formats a path as `cells[3].outputs[0].items[1].data` (root: ""). */
export function formatJsonPath(path: JsonPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/**
 * The text is not a notebook this version can open. `line` and `column` are
 * 1-based (column in UTF-16 code units, as editors count); `path` is where in
 * the document the problem is ("" for the document itself or a JSON syntax
 * error).
 */
export class AenbFormatError extends Error {
  override readonly name = 'AenbFormatError';
  constructor(
    /** What is wrong, without the location. */
    readonly reason: string,
    readonly line: number,
    readonly column: number,
    readonly path: string,
    readonly fileName?: string,
  ) {
    super(`${fileName ?? 'notebook'}:${line}:${column}: ${path ? `${path}: ` : ''}${reason}`);
  }
}

// ---------------------------------------------------------------------------
// MIME types and output data

export type MimeDataKind = 'text' | 'json' | 'binary';

/** The MIME type without parameters, lower case: "Text/Plain; charset=utf-8" -> "text/plain". */
function mimeEssence(mime: string): string {
  const semi = mime.indexOf(';');
  return (semi >= 0 ? mime.slice(0, semi) : mime).trim().toLowerCase();
}

/** How an output item's `data` is stored for this MIME type (see the file header). */
export function mimeDataKind(mime: string): MimeDataKind {
  const m = mimeEssence(mime);
  if (m === MIME.json || m.endsWith('+json') || m === MIME.error) return 'json';
  if (
    m.startsWith('text/') ||
    m.endsWith('+xml') ||
    m === 'application/xml' ||
    m === 'application/javascript' ||
    m === MIME.stdout ||
    m === MIME.stderr
  ) {
    return 'text';
  }
  return 'binary';
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: false });

/**
 * Raw output bytes (as VS Code's `NotebookCellOutputItem.data` or the kernel
 * hold them) to the stored form: text -> string (UTF-8 decoded), json -> the
 * parsed value, binary -> base64. Throws a `TypeError` if a JSON MIME type
 * carries bytes that are not JSON.
 */
export function outputDataFromBytes(mime: string, bytes: Uint8Array): JsonValue {
  switch (mimeDataKind(mime)) {
    case 'text':
      return utf8Decoder.decode(bytes);
    case 'json': {
      const text = utf8Decoder.decode(bytes);
      try {
        return JSON.parse(text) as JsonValue;
      } catch (e) {
        throw new TypeError(`output of type ${mime} is not valid JSON (${(e as Error).message}); the kernel must send JSON for JSON MIME types`);
      }
    }
    case 'binary':
      return bytesToBase64(bytes);
  }
}

/** The stored form back to raw bytes (inverse of `outputDataFromBytes`). */
export function outputDataToBytes(mime: string, data: JsonValue): Uint8Array {
  switch (mimeDataKind(mime)) {
    case 'text':
      if (typeof data !== 'string') throw new TypeError(`output of type ${mime} must hold a string, found ${describeJson(data)}`);
      return utf8Encoder.encode(data);
    case 'json':
      return utf8Encoder.encode(JSON.stringify(data));
    case 'binary':
      if (typeof data !== 'string') throw new TypeError(`output of type ${mime} must hold a base64 string, found ${describeJson(data)}`);
      return base64ToBytes(data);
  }
}

// ---------------------------------------------------------------------------
// Construction helpers

export function createNotebook(cells: AenbCell[] = [], metadata: JsonObject = {}): AenbNotebook {
  return { metadata, cells };
}

export function createCodeCell(
  source: string,
  options: { language?: CodeLanguage; tags?: string[]; metadata?: AenbCellMetadata } = {},
): AenbCodeCell {
  const metadata: AenbCellMetadata = { ...options.metadata };
  if (options.tags) metadata.tags = [...options.tags];
  return { kind: 'code', language: options.language ?? 'typescript', source, metadata, outputs: [] };
}

export function createMarkdownCell(source: string, metadata: AenbCellMetadata = {}): AenbMarkdownCell {
  return { kind: 'markdown', language: 'markdown', source, metadata };
}

export function cellTags(cell: AenbCell): readonly string[] {
  return cell.metadata.tags ?? [];
}

export function hasTag(cell: AenbCell, tag: string): boolean {
  return cellTags(cell).includes(tag);
}

/** The first code cell tagged `parameters` (papermill's convention), or undefined. */
export function findParametersCell(nb: AenbNotebook): { cell: AenbCodeCell; index: number } | undefined {
  for (let index = 0; index < nb.cells.length; index++) {
    const cell = nb.cells[index];
    if (cell.kind === 'code' && hasTag(cell, PARAMETERS_TAG)) return { cell, index };
  }
  return undefined;
}

/** Splits text after every "\n"; each line keeps its terminator. `join('')` restores the text exactly. */
export function splitSourceLines(source: string): string[] {
  const lines: string[] = [];
  let start = 0;
  for (let i = source.indexOf('\n'); i >= 0; i = source.indexOf('\n', start)) {
    lines.push(source.slice(start, i + 1));
    start = i + 1;
  }
  if (start < source.length) lines.push(source.slice(start));
  return lines;
}


/** How a JSON value reads in an error message. */
export function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'object':
      return 'an object';
    case 'string':
      return value.length > 40 ? `a string` : `the string ${JSON.stringify(value)}`;
    case 'number':
      return `the number ${value}`;
    case 'boolean':
      return `${value}`;
    default:
      return typeof value;
  }
}
