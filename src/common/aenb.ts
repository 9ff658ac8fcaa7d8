// The `.aenb` notebook file format: parse, validate, serialize.
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

import { base64ToBytes, bytesToBase64, isBase64 } from './base64';

export { base64ToBytes, bytesToBase64, isBase64 };

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

// ---------------------------------------------------------------------------
// Positions in text

/** 1-based line and column of a UTF-16 offset; "\r\n", "\n" and "\r" end lines. */
export function offsetToLineColumn(text: string, offset: number): { line: number; column: number } {
  const end = Math.max(0, Math.min(offset, text.length));
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

function lineColumnToOffset(text: string, line: number, column: number): number {
  let l = 1;
  let i = 0;
  while (l < line && i < text.length) {
    const c = text.charCodeAt(i++);
    if (c === 10 || (c === 13 && text.charCodeAt(i) !== 10)) l++;
  }
  return Math.min(text.length, i + Math.max(0, column - 1));
}

// ---------------------------------------------------------------------------
// A small JSON scanner: finds the first syntax error, and locates a path in
// valid JSON so that structural errors can report a line and column
// (JSON.parse reports neither).

class JsonScanError extends Error {
  constructor(readonly offset: number, message: string) {
    super(message);
  }
}

class JsonScanner {
  pos = 0;
  constructor(private readonly text: string) {}

  private fail(message: string): never {
    throw new JsonScanError(this.pos, message);
  }

  private unexpected(expected: string): never {
    if (this.pos >= this.text.length) this.fail(`unexpected end of file, expected ${expected}`);
    this.fail(`unexpected ${JSON.stringify(this.text[this.pos])}, expected ${expected}`);
  }

  skipWhitespace(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c === 32 || c === 9 || c === 10 || c === 13) this.pos++;
      else break;
    }
  }

  /** Skips one value (validating it); `pos` must be at its first character. */
  skipValue(): void {
    const c = this.text[this.pos];
    if (c === '{') this.skipObject();
    else if (c === '[') this.skipArray();
    else if (c === '"') this.readString();
    else if (c === '-' || (c >= '0' && c <= '9')) this.skipNumber();
    else if (c === 't') this.skipWord('true');
    else if (c === 'f') this.skipWord('false');
    else if (c === 'n') this.skipWord('null');
    else this.unexpected('a value');
  }

  private skipWord(word: string): void {
    for (let i = 0; i < word.length; i++, this.pos++) {
      if (this.text[this.pos] !== word[i]) this.unexpected(`"${word}"`);
    }
  }

  private digits(): void {
    const start = this.pos;
    while (this.text[this.pos] >= '0' && this.text[this.pos] <= '9') this.pos++;
    if (this.pos === start) this.unexpected('a digit');
  }

  private skipNumber(): void {
    if (this.text[this.pos] === '-') this.pos++;
    if (this.text[this.pos] === '0') this.pos++;
    else this.digits();
    if (this.text[this.pos] === '.') {
      this.pos++;
      this.digits();
    }
    if (this.text[this.pos] === 'e' || this.text[this.pos] === 'E') {
      this.pos++;
      if (this.text[this.pos] === '+' || this.text[this.pos] === '-') this.pos++;
      this.digits();
    }
  }

  /** Reads a string starting at `pos` (a '"'); returns its raw text including quotes. */
  readString(): string {
    const t = this.text;
    const start = this.pos++;
    for (;;) {
      if (this.pos >= t.length) this.fail('unterminated string');
      const c = t.charCodeAt(this.pos);
      if (c === 34) {
        this.pos++;
        return t.slice(start, this.pos);
      }
      if (c < 32) this.fail('control character in string (escape it, e.g. "\\n")');
      if (c === 92) {
        this.pos++;
        const e = t[this.pos];
        if (e === 'u') {
          for (let k = 0; k < 4; k++) {
            this.pos++;
            if (!/[0-9a-fA-F]/.test(t[this.pos] ?? '')) this.unexpected('a hex digit');
          }
        } else if (e === undefined || !'"\\/bfnrt'.includes(e)) {
          this.fail(`invalid escape "\\${e ?? ''}" in string`);
        }
      }
      this.pos++;
    }
  }

  private skipObject(): void {
    this.forEachMember(() => this.skipValue());
  }

  private skipArray(): void {
    this.forEachElement(() => this.skipValue());
  }

  /** Iterates an object at `pos`; `onValue(key)` must consume the value. Leaves `pos` after "}". */
  forEachMember(onValue: (key: string) => void): void {
    this.pos++; // {
    this.skipWhitespace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return;
    }
    for (;;) {
      this.skipWhitespace();
      if (this.text[this.pos] !== '"') this.unexpected('a property name in double quotes');
      const key = JSON.parse(this.readString()) as string;
      this.skipWhitespace();
      if (this.text[this.pos] !== ':') this.unexpected('":"');
      this.pos++;
      this.skipWhitespace();
      onValue(key);
      this.skipWhitespace();
      if (this.text[this.pos] === ',') {
        this.pos++;
        continue;
      }
      if (this.text[this.pos] === '}') {
        this.pos++;
        return;
      }
      this.unexpected('"," or "}"');
    }
  }

  /** Iterates an array at `pos`; `onValue(index)` must consume the element. Leaves `pos` after "]". */
  forEachElement(onValue: (index: number) => void): void {
    this.pos++; // [
    this.skipWhitespace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return;
    }
    for (let index = 0; ; index++) {
      this.skipWhitespace();
      onValue(index);
      this.skipWhitespace();
      if (this.text[this.pos] === ',') {
        this.pos++;
        continue;
      }
      if (this.text[this.pos] === ']') {
        this.pos++;
        return;
      }
      this.unexpected('"," or "]"');
    }
  }

  /** Validates a whole document; throws `JsonScanError` at the first error. */
  scanDocument(): void {
    this.skipWhitespace();
    this.skipValue();
    this.skipWhitespace();
    if (this.pos < this.text.length) this.unexpected('end of file after the JSON value');
  }
}

/**
 * The offset of the value at `path` in valid JSON text; if the path does not
 * exist, the offset of its deepest existing ancestor. With duplicate keys the
 * last one wins, as in JSON.parse.
 */
function locateJsonPath(text: string, path: JsonPath): number {
  const s = new JsonScanner(text);
  s.skipWhitespace();
  let found = s.pos;
  for (const seg of path) {
    const c = text[s.pos];
    let child = -1;
    if (c === '{' && typeof seg === 'string') {
      s.forEachMember((key) => {
        if (key === seg) child = s.pos;
        s.skipValue();
      });
    } else if (c === '[' && typeof seg === 'number') {
      s.forEachElement((index) => {
        if (index === seg) child = s.pos;
        s.skipValue();
      });
    }
    if (child < 0) return found;
    found = s.pos = child;
  }
  return found;
}

/**
 * Where JSON.parse failed, from its message: "at position N" (V8; newer V8
 * adds "(line L column C)"), "at line L column C" (SpiderMonkey), or "Unexpected
 * end of JSON input" (the end). Undefined when the message has no position
 * (e.g. V8's "Unexpected token '}', "..." is not valid JSON").
 */
export function jsonErrorOffsetFromMessage(message: string, text: string): number | undefined {
  const pos = /\bat position (\d+)/.exec(message);
  if (pos) return Math.min(Number(pos[1]), text.length);
  const lc = /\bline (\d+) column (\d+)/.exec(message);
  if (lc) return lineColumnToOffset(text, Number(lc[1]), Number(lc[2]));
  if (/unexpected end of (json )?(input|data)/i.test(message)) return text.length;
  return undefined;
}

/** JSON.parse's message without the location or echoed text. */
function cleanJsonMessage(message: string): string {
  return message
    .replace(/^JSON(\.parse| Parse error):\s*/i, '')
    .replace(/( in JSON)? at position \d+( \(line \d+ column \d+\))?$/, '')
    .replace(/, (\.\.\.)?"[\s\S]*" is not valid JSON$/, '')
    .replace(/ at line \d+ column \d+ of the JSON data$/, '');
}

// ---------------------------------------------------------------------------
// Parsing and validation

const ROOT_KEYS = ['format', 'version', 'metadata', 'cells'];
const CELL_KEYS = ['kind', 'language', 'metadata', 'source', 'outputs', 'execution'];
const OUTPUT_KEYS = ['items', 'metadata'];
const ITEM_KEYS = ['mime', 'data'];
const EXECUTION_KEYS = ['order', 'success', 'durationMs', 'startedAt'];
const CELL_METADATA_KEYS = ['tags'];

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

function describeJson(value: unknown): string {
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

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

class Validator {
  constructor(private readonly text: string, private readonly fileName: string | undefined) {}

  fail(path: JsonPath, reason: string): never {
    const { line, column } = offsetToLineColumn(this.text, locateJsonPath(this.text, path));
    throw new AenbFormatError(reason, line, column, formatJsonPath(path), this.fileName);
  }

  object(value: unknown, path: JsonPath, what: string): JsonObject {
    if (!isObject(value)) this.fail(path, `${what} must be an object, found ${describeJson(value)}`);
    return value;
  }

  array(value: unknown, path: JsonPath, what: string): unknown[] {
    if (!Array.isArray(value)) this.fail(path, `${what} must be an array, found ${describeJson(value)}`);
    return value;
  }

  required(obj: JsonObject, key: string, path: JsonPath, what: string): JsonValue {
    if (!Object.prototype.hasOwnProperty.call(obj, key)) this.fail(path, `${what} is missing the required field "${key}"`);
    return obj[key];
  }

  extra(obj: JsonObject, known: readonly string[]): JsonObject | undefined {
    let extra: JsonObject | undefined;
    for (const key of Object.keys(obj)) {
      if (!known.includes(key)) (extra ??= {})[key] = obj[key];
    }
    return extra;
  }

  /** A string, or an array of strings joined (nbformat style). */
  textOrLines(value: unknown, path: JsonPath, what: string): string {
    if (typeof value === 'string') return value;
    if (Array.isArray(value)) {
      value.forEach((line, i) => {
        if (typeof line !== 'string') this.fail([...path, i], `each line of ${what} must be a string, found ${describeJson(line)}`);
      });
      return value.join('');
    }
    this.fail(path, `${what} must be a string or an array of strings, found ${describeJson(value)}`);
  }

  notebook(root: unknown): AenbNotebook {
    const obj = this.object(root, [], 'the notebook');
    if (!Object.prototype.hasOwnProperty.call(obj, 'format')) {
      if ('nbformat' in obj) this.fail([], 'this is a Jupyter notebook (.ipynb), not an Autoencoder notebook (.aenb)');
      this.fail([], `not an Autoencoder notebook: the field "format": "${AENB_FORMAT}" is missing`);
    }
    if (obj.format !== AENB_FORMAT) this.fail(['format'], `"format" must be "${AENB_FORMAT}", found ${describeJson(obj.format)}`);
    const version = this.required(obj, 'version', [], 'the notebook');
    if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
      this.fail(['version'], `"version" must be a positive integer, found ${describeJson(version)}`);
    }
    if (version > AENB_FORMAT_VERSION) {
      this.fail(
        ['version'],
        `this notebook was written by a newer version of Autoencoder Notebooks (format version ${version}); ` +
          `this version reads version ${AENB_FORMAT_VERSION}; update the extension`,
      );
    }
    const metadata = obj.metadata === undefined ? {} : this.object(obj.metadata, ['metadata'], '"metadata"');
    const cells = this.array(this.required(obj, 'cells', [], 'the notebook'), ['cells'], '"cells"').map((c, i) => this.cell(c, ['cells', i]));
    const nb: AenbNotebook = { metadata, cells };
    const extra = this.extra(obj, ROOT_KEYS);
    if (extra) nb.extra = extra;
    return nb;
  }

  cell(value: unknown, path: JsonPath): AenbCell {
    const obj = this.object(value, path, 'a cell');
    const kind = this.required(obj, 'kind', path, 'the cell');
    if (kind !== 'code' && kind !== 'markdown') this.fail([...path, 'kind'], `"kind" must be "code" or "markdown", found ${describeJson(kind)}`);
    const source = this.textOrLines(this.required(obj, 'source', path, 'the cell'), [...path, 'source'], 'the source');
    const metadata = this.cellMetadata(obj.metadata, [...path, 'metadata']);
    const extra = this.extra(obj, CELL_KEYS);
    if (kind === 'markdown') {
      if (obj.language !== undefined && obj.language !== 'markdown') {
        this.fail([...path, 'language'], `the language of a markdown cell must be "markdown", found ${describeJson(obj.language)}`);
      }
      if (obj.outputs !== undefined && !(Array.isArray(obj.outputs) && obj.outputs.length === 0)) {
        this.fail([...path, 'outputs'], 'markdown cells have no outputs; remove "outputs" or make it []');
      }
      if (obj.execution !== undefined) this.fail([...path, 'execution'], 'markdown cells are not executed; remove "execution"');
      const cell: AenbMarkdownCell = { kind, language: 'markdown', source, metadata };
      if (extra) cell.extra = extra;
      return cell;
    }
    const language = this.required(obj, 'language', path, 'the code cell');
    if (language !== 'typescript' && language !== 'javascript') {
      this.fail([...path, 'language'], `the language of a code cell must be "typescript" or "javascript", found ${describeJson(language)}`);
    }
    const outputs =
      obj.outputs === undefined ? [] : this.array(obj.outputs, [...path, 'outputs'], '"outputs"').map((o, i) => this.output(o, [...path, 'outputs', i]));
    const cell: AenbCodeCell = { kind, language, source, metadata, outputs };
    if (obj.execution !== undefined) cell.execution = this.execution(obj.execution, [...path, 'execution']);
    if (extra) cell.extra = extra;
    return cell;
  }

  cellMetadata(value: unknown, path: JsonPath): AenbCellMetadata {
    if (value === undefined) return {};
    const obj = this.object(value, path, '"metadata"');
    if (obj.tags !== undefined) {
      this.array(obj.tags, [...path, 'tags'], '"tags"').forEach((tag, i) => {
        if (typeof tag !== 'string') this.fail([...path, 'tags', i], `each tag must be a string, found ${describeJson(tag)}`);
      });
    }
    return obj as AenbCellMetadata;
  }

  output(value: unknown, path: JsonPath): AenbOutput {
    const obj = this.object(value, path, 'an output');
    const items = this.array(this.required(obj, 'items', path, 'the output'), [...path, 'items'], '"items"').map((it, i) =>
      this.item(it, [...path, 'items', i]),
    );
    const out: AenbOutput = { items };
    if (obj.metadata !== undefined) out.metadata = this.object(obj.metadata, [...path, 'metadata'], '"metadata"');
    const extra = this.extra(obj, OUTPUT_KEYS);
    if (extra) out.extra = extra;
    return out;
  }

  item(value: unknown, path: JsonPath): AenbOutputItem {
    const obj = this.object(value, path, 'an output item');
    const mime = this.required(obj, 'mime', path, 'the output item');
    if (typeof mime !== 'string' || !/^[^\s/;]+\/[^\s/;]+/.test(mime)) {
      this.fail([...path, 'mime'], `"mime" must be a MIME type such as "text/plain", found ${describeJson(mime)}`);
    }
    const raw = this.required(obj, 'data', path, 'the output item');
    let data: JsonValue = raw;
    const kind = mimeDataKind(mime);
    if (kind === 'text') data = this.textOrLines(raw, [...path, 'data'], `the data of a ${mime} output`);
    else if (kind === 'binary') {
      if (typeof raw !== 'string') this.fail([...path, 'data'], `the data of a ${mime} output must be a base64 string, found ${describeJson(raw)}`);
      if (!isBase64(raw)) this.fail([...path, 'data'], `the data of a ${mime} output is not valid base64 (standard alphabet, "=" padding, no line breaks)`);
    }
    const item: AenbOutputItem = { mime, data };
    const extra = this.extra(obj, ITEM_KEYS);
    if (extra) item.extra = extra;
    return item;
  }

  execution(value: unknown, path: JsonPath): AenbExecution {
    const obj = this.object(value, path, '"execution"');
    const order = this.required(obj, 'order', path, '"execution"');
    if (typeof order !== 'number' || !Number.isInteger(order) || order < 0) {
      this.fail([...path, 'order'], `"order" must be a non-negative integer, found ${describeJson(order)}`);
    }
    const success = this.required(obj, 'success', path, '"execution"');
    if (typeof success !== 'boolean') this.fail([...path, 'success'], `"success" must be true or false, found ${describeJson(success)}`);
    const durationMs = this.required(obj, 'durationMs', path, '"execution"');
    if (typeof durationMs !== 'number' || durationMs < 0) {
      this.fail([...path, 'durationMs'], `"durationMs" must be a number >= 0, found ${describeJson(durationMs)}`);
    }
    const exec: AenbExecution = { order, success, durationMs };
    if (obj.startedAt !== undefined) {
      if (typeof obj.startedAt !== 'string' || !ISO_DATE_TIME.test(obj.startedAt) || Number.isNaN(Date.parse(obj.startedAt))) {
        this.fail([...path, 'startedAt'], `"startedAt" must be an ISO 8601 date-time such as "2025-01-31T09:15:00.000Z", found ${describeJson(obj.startedAt)}`);
      }
      exec.startedAt = obj.startedAt;
    }
    const extra = this.extra(obj, EXECUTION_KEYS);
    if (extra) exec.extra = extra;
    return exec;
  }
}

/**
 * Parses and validates `.aenb` text. An empty or whitespace-only file (as
 * VS Code creates for "New File") opens as a new empty notebook; anything else
 * must be a valid notebook. A leading byte order mark is ignored.
 * @throws AenbFormatError with line, column and path of the problem.
 */
export function parseNotebook(text: string, fileName?: string): AenbNotebook {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (/^[ \t\r\n]*$/.test(text)) return createNotebook();
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    let offset = jsonErrorOffsetFromMessage(message, text);
    let reason = cleanJsonMessage(message);
    if (offset === undefined) {
      try {
        new JsonScanner(text).scanDocument();
      } catch (scan) {
        if (!(scan instanceof JsonScanError)) throw scan;
        offset = scan.offset;
        reason = scan.message;
      }
    }
    const { line, column } = offsetToLineColumn(text, offset ?? 0);
    throw new AenbFormatError(`the file is not valid JSON: ${reason}`, line, column, '', fileName);
  }
  return new Validator(text, fileName).notebook(root);
}

// ---------------------------------------------------------------------------
// Serialization

const INDENT = '  ';

/** JSON text of a value; objects with `sortKeys` get their keys sorted at every depth. */
function writeValue(value: JsonValue | undefined, indent: string, sortKeys: boolean): string {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
  }
  const inner = indent + INDENT;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((v) => inner + writeValue(v, inner, sortKeys)).join(',\n')}\n${indent}]`;
  }
  const keys = Object.keys(value).filter((k) => value[k] !== undefined);
  if (sortKeys) keys.sort();
  return writeEntries(
    keys.map((k) => [k, writeValue(value[k], inner, sortKeys)]),
    indent,
  );
}

/** An object from already-written values, in the given order. */
function writeEntries(entries: Array<[string, string]>, indent: string): string {
  if (entries.length === 0) return '{}';
  const inner = indent + INDENT;
  return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${v}`).join(',\n')}\n${indent}}`;
}

/** Known fields in the given order, then `extra` fields (not shadowing known ones) sorted. */
function writeStructure(
  known: Array<[string, ((indent: string) => string) | undefined]>,
  extra: JsonObject | undefined,
  indent: string,
): string {
  const inner = indent + INDENT;
  const entries: Array<[string, string]> = [];
  for (const [key, write] of known) if (write) entries.push([key, write(inner)]);
  if (extra) {
    const knownKeys = new Set(known.map(([k]) => k));
    for (const key of Object.keys(extra).sort()) {
      if (!knownKeys.has(key) && extra[key] !== undefined) entries.push([key, writeValue(extra[key], inner, true)]);
    }
  }
  return writeEntries(entries, indent);
}

function writeSortedObject(obj: JsonObject | AenbCellMetadata, knownOrder: readonly string[]): (indent: string) => string {
  return (indent) => {
    const o = obj as Record<string, JsonValue | undefined>;
    const known = knownOrder.filter((k) => o[k] !== undefined);
    const rest = Object.keys(o)
      .filter((k) => !knownOrder.includes(k) && o[k] !== undefined)
      .sort();
    return writeEntries(
      [...known, ...rest].map((k) => [k, writeValue(o[k], indent + INDENT, true)]),
      indent,
    );
  };
}

function checkSerializable(cond: boolean, path: JsonPath, reason: string): void {
  if (!cond) throw new TypeError(`cannot save notebook: ${formatJsonPath(path)}: ${reason}`);
}

function writeItem(item: AenbOutputItem, path: JsonPath, indent: string): string {
  checkSerializable(typeof item.mime === 'string' && item.mime.includes('/'), [...path, 'mime'], `invalid MIME type ${JSON.stringify(item.mime)}`);
  const kind = mimeDataKind(item.mime);
  checkSerializable(kind === 'json' || typeof item.data === 'string', [...path, 'data'], `${item.mime} data must be a string (${kind === 'binary' ? 'base64' : 'text'})`);
  return writeStructure(
    [
      ['mime', () => JSON.stringify(item.mime)],
      ['data', (i) => writeValue(item.data, i, false)],
    ],
    item.extra,
    indent,
  );
}

function writeOutput(output: AenbOutput, path: JsonPath, indent: string): string {
  return writeStructure(
    [
      [
        'items',
        (i) =>
          output.items.length === 0
            ? '[]'
            : `[\n${output.items.map((it, k) => i + INDENT + writeItem(it, [...path, 'items', k], i + INDENT)).join(',\n')}\n${i}]`,
      ],
      ['metadata', output.metadata && writeSortedObject(output.metadata, [])],
    ],
    output.extra,
    indent,
  );
}

function writeExecution(exec: AenbExecution, indent: string): string {
  return writeStructure(
    [
      ['order', () => writeValue(exec.order, '', false)],
      ['success', () => writeValue(exec.success, '', false)],
      ['durationMs', () => writeValue(exec.durationMs, '', false)],
      ['startedAt', exec.startedAt === undefined ? undefined : () => JSON.stringify(exec.startedAt)],
    ],
    exec.extra,
    indent,
  );
}

function writeCell(cell: AenbCell, path: JsonPath, indent: string): string {
  checkSerializable(cell.kind === 'code' || cell.kind === 'markdown', [...path, 'kind'], `unknown cell kind ${JSON.stringify(cell.kind)}`);
  checkSerializable(typeof cell.source === 'string', [...path, 'source'], 'source must be a string');
  const language = cell.kind === 'markdown' ? 'markdown' : cell.language;
  if (cell.kind === 'code') {
    checkSerializable(CODE_LANGUAGES.includes(cell.language), [...path, 'language'], `unknown language ${JSON.stringify(cell.language)}`);
  }
  const code = cell.kind === 'code' ? cell : undefined;
  return writeStructure(
    [
      ['kind', () => JSON.stringify(cell.kind)],
      ['language', () => JSON.stringify(language)],
      ['metadata', writeSortedObject(cell.metadata ?? {}, CELL_METADATA_KEYS)],
      ['source', (i) => writeValue(splitSourceLines(cell.source), i, false)],
      [
        'outputs',
        code &&
          ((i) =>
            code.outputs.length === 0
              ? '[]'
              : `[\n${code.outputs.map((o, k) => i + INDENT + writeOutput(o, [...path, 'outputs', k], i + INDENT)).join(',\n')}\n${i}]`),
      ],
      ['execution', code?.execution && ((i) => writeExecution(code.execution as AenbExecution, i))],
    ],
    cell.extra,
    indent,
  );
}

/**
 * The canonical `.aenb` text of a notebook (see the file header): the same
 * notebook always gives the same bytes, and `serializeNotebook(parseNotebook(t))`
 * is `t` for any canonical `t`.
 * @throws TypeError naming the path of a value that cannot be saved.
 */
export function serializeNotebook(nb: AenbNotebook): string {
  const text = writeStructure(
    [
      ['format', () => JSON.stringify(AENB_FORMAT)],
      ['version', () => String(AENB_FORMAT_VERSION)],
      ['metadata', writeSortedObject(nb.metadata ?? {}, [])],
      [
        'cells',
        (i) =>
          nb.cells.length === 0 ? '[]' : `[\n${nb.cells.map((c, k) => i + INDENT + writeCell(c, ['cells', k], i + INDENT)).join(',\n')}\n${i}]`,
      ],
    ],
    nb.extra,
    '',
  );
  return text + '\n';
}
