// Reading `.aenb` text: JSON syntax errors placed by jsonc-parser, the
// structure checked field by field (every error has a line, a column and the
// path of the bad field), unknown fields kept. Pure: no Node, no DOM.
import { type Node, type ParseError, parseTree, printParseErrorCode } from 'jsonc-parser';
import { isBase64 } from '../base64';
import { settleNotebook } from '../../outputs/stored';
import { decodeUtf8Strict, MAX_NESTING, offsetToLineColumn, tooDeepAt } from './text';
import {
  AENB_FORMAT,
  AENB_FORMAT_VERSION,
  AenbFormatError,
  createNotebook,
  describeJson,
  formatJsonPath,
  mimeDataKind,
  type AenbCell,
  type AenbCellMetadata,
  type AenbCodeCell,
  type AenbExecution,
  type AenbMarkdownCell,
  type AenbNotebook,
  type AenbOutput,
  type AenbOutputItem,
  type JsonObject,
  type JsonPath,
  type JsonValue,
} from './types';

const ROOT_KEYS = ['format', 'version', 'metadata', 'cells'];
const CELL_KEYS = ['kind', 'language', 'metadata', 'source', 'outputs', 'execution'];
const OUTPUT_KEYS = ['items', 'metadata'];
const ITEM_KEYS = ['mime', 'data'];
const EXECUTION_KEYS = ['order', 'success', 'durationMs', 'startedAt'];

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

class Validator {
  constructor(private readonly text: string, private readonly fileName: string | undefined) {}

  /**
   * The offset of the value at `path`; if the path does not exist, of its
   * deepest existing ancestor (the document's syntax tree is built only when
   * there is an error to place).
   */
  private offsetOf(path: JsonPath): number {
    this.tree ??= parseTree(this.text, [], JSON_OPTIONS);
    let node = this.tree;
    if (!node) return 0;
    for (const seg of path) {
      const child = childAt(node, seg);
      if (!child) break;
      node = child;
    }
    return node.offset;
  }

  private tree?: Node;

  fail(path: JsonPath, reason: string): never {
    const { line, column } = offsetToLineColumn(this.text, this.offsetOf(path));
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

/** The value of `node` at key or index `seg`; with duplicate keys the last, as in JSON.parse. */
function childAt(node: Node, seg: string | number): Node | undefined {
  if (node.type === 'array' && typeof seg === 'number') return node.children?.[seg];
  if (node.type !== 'object' || typeof seg !== 'string') return undefined;
  let found: Node | undefined;
  for (const prop of node.children ?? []) if (prop.children?.[0]?.value === seg) found = prop.children[1];
  return found;
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
  const deep = tooDeepAt(text);
  if (deep !== undefined) {
    const { line, column } = offsetToLineColumn(text, deep);
    throw new AenbFormatError(`arrays and objects nest more than ${MAX_NESTING} levels deep here; a notebook may nest at most ${MAX_NESTING}`, line, column, '', fileName);
  }
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (e) {
    const { offset, reason } = firstSyntaxError(text) ?? { offset: 0, reason: e instanceof Error ? e.message : String(e) };
    const { line, column } = offsetToLineColumn(text, offset);
    throw new AenbFormatError(`the file is not valid JSON: ${reason}`, line, column, '', fileName);
  }
  // A live output saved while its run was live is shown settled: a training chart as interrupted (src/outputs/stored.ts).
  return settleNotebook(new Validator(text, fileName).notebook(root));
}

/** Decodes a file's bytes strictly (./text.ts) and parses them: the one way a file is read, in VS Code and the runner. */
export function parseNotebookBytes(bytes: Uint8Array, fileName?: string): AenbNotebook {
  return parseNotebook(decodeUtf8Strict(bytes, fileName), fileName);
}

// ---------------------------------------------------------------------------
// Syntax errors (jsonc-parser, held to strict JSON)

const JSON_OPTIONS = { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false } as const;

/** jsonc-parser's ParseErrorCode values (a const enum, which isolated modules cannot read). */
const ERR = { InvalidSymbol: 1, InvalidNumberFormat: 2, PropertyNameExpected: 3, ValueExpected: 4, ColonExpected: 5, CommaExpected: 6, CloseBraceExpected: 7, CloseBracketExpected: 8, EndOfFileExpected: 9, InvalidCommentToken: 10, UnexpectedEndOfComment: 11, UnexpectedEndOfString: 12, UnexpectedEndOfNumber: 13, InvalidUnicode: 14, InvalidEscapeCharacter: 15, InvalidCharacter: 16 } as const;

/** The first syntax error of `text` by jsonc-parser: where, and what in words. */
function firstSyntaxError(text: string): { offset: number; reason: string } | undefined {
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, JSON_OPTIONS);
  const first = errors.sort((a, b) => a.offset - b.offset)[0];
  if (!first) return undefined;
  const rootEnd = root ? root.offset + root.length : Infinity;
  return describeSyntaxError(first, text, first.offset >= rootEnd);
}

function describeSyntaxError(e: ParseError, text: string, afterValue: boolean): { offset: number; reason: string } {
  const token = text.slice(e.offset, e.offset + Math.max(1, Math.min(e.length, 40)));
  const found =
    e.offset >= text.length ? 'unexpected end of file'
    : token.startsWith('"') ? `unexpected string ${token}`
    : `unexpected ${JSON.stringify(token)}`;
  const at = (reason: string, offset = e.offset) => ({ offset, reason });
  if (e.error === ERR.InvalidSymbol) {
    if (afterValue) return at(`${found} after the JSON value, expected the end of the file`);
    if (token.startsWith("'")) return at(`${found}: strings and property names must be in double quotes`);
    const word = ['true', 'false', 'null'].find((w) => w.startsWith(token) || token.startsWith(w.slice(0, 2)));
    if (word && /^[a-z]+$/.test(token)) {
      let k = 0;
      while (k < token.length && token[k] === word[k]) k++;
      return at(`unexpected ${e.offset + k >= text.length ? 'end of file' : JSON.stringify(text[e.offset + k])}, expected "${word}"`, e.offset + k);
    }
    return at(`${found}, expected a value`);
  }
  if (e.error === ERR.UnexpectedEndOfString) {
    return at('unterminated string (a string must end with " on the same line)', e.offset + e.length);
  }
  return at(syntaxReason(e, found, token));
}

function syntaxReason(e: ParseError, found: string, token: string): string {
  switch (e.error) {
    case ERR.ValueExpected:
      return `${found}, expected a value`;
    case ERR.PropertyNameExpected:
      return `${found}, expected a property name in double quotes`;
    case ERR.ColonExpected:
      return `${found}, expected ":" after the property name`;
    case ERR.CommaExpected:
      return `${found}, expected "," between two values`;
    case ERR.CloseBraceExpected:
      return `${found}, expected "," or "}"`;
    case ERR.CloseBracketExpected:
      return `${found}, expected "," or "]"`;
    case ERR.EndOfFileExpected:
      return `${found} after the JSON value, expected the end of the file`;
    case ERR.InvalidNumberFormat:
      return `invalid number ${JSON.stringify(token)}`;
    case ERR.InvalidCharacter:
      return 'control character in string (escape it, e.g. "\\n")';
    case ERR.InvalidEscapeCharacter:
      return `invalid escape ${JSON.stringify(token)} in string`;
    case ERR.InvalidUnicode:
      return 'invalid \\u escape in string (four hex digits are needed)';
    case ERR.InvalidCommentToken:
    case ERR.UnexpectedEndOfComment:
      return 'comments are not allowed in a notebook file';
    default:
      return `${found} (${printParseErrorCode(e.error)})`;
  }
}
