// Writing `.aenb` text: the canonical form (fixed key order, sorted unknown
// keys, 2-space indent, one trailing newline; see ./types.ts). Pure.
import { settleNotebook } from '../../outputs/stored';
import { MAX_NESTING } from './text';
import { AENB_FORMAT, AENB_FORMAT_VERSION, CODE_LANGUAGES, formatJsonPath, mimeDataKind, splitSourceLines } from './types';
import type { AenbCell, AenbCellMetadata, AenbExecution, AenbNotebook, AenbOutput, AenbOutputItem, JsonObject, JsonPath, JsonValue } from './types';

const CELL_METADATA_KEYS = ['tags'];

const INDENT = '  ';

class TooDeep extends Error {}

/**
 * JSON text of a value; objects with `sortKeys` get their keys sorted at
 * every depth. Throws TooDeep past MAX_NESTING levels (callers name the path):
 * the writer never overflows the stack.
 */
function writeValue(value: JsonValue | undefined, indent: string, sortKeys: boolean, depth = 0): string {
  if (value === null || value === undefined) return 'null';
  if (depth > MAX_NESTING) throw new TooDeep();
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
    return `[\n${value.map((v) => inner + writeValue(v, inner, sortKeys, depth + 1)).join(',\n')}\n${indent}]`;
  }
  const keys = Object.keys(value).filter((k) => value[k] !== undefined);
  if (sortKeys) keys.sort();
  return writeEntries(
    keys.map((k) => [k, writeValue(value[k], inner, sortKeys, depth + 1)]),
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
      if (!knownKeys.has(key) && extra[key] !== undefined) entries.push([key, guarded([key], () => writeValue(extra[key], inner, true))]);
    }
  }
  return writeEntries(entries, indent);
}

function writeSortedObject(obj: JsonObject | AenbCellMetadata, knownOrder: readonly string[], path: JsonPath): (indent: string) => string {
  return (indent) => guarded(path, () => {
    const o = obj as Record<string, JsonValue | undefined>;
    const known = knownOrder.filter((k) => o[k] !== undefined);
    const rest = Object.keys(o)
      .filter((k) => !knownOrder.includes(k) && o[k] !== undefined)
      .sort();
    return writeEntries(
      [...known, ...rest].map((k) => [k, writeValue(o[k], indent + INDENT, true)]),
      indent,
    );
  });
}

function checkSerializable(cond: boolean, path: JsonPath, reason: string): void {
  if (!cond) throw new TypeError(`cannot save notebook: ${formatJsonPath(path)}: ${reason}`);
}

/** `write()`, with a value nested too deeply reported at `path` instead of overflowing the stack. */
function guarded(path: JsonPath, write: () => string): string {
  try {
    return write();
  } catch (e) {
    if (e instanceof TooDeep) checkSerializable(false, path, `arrays and objects nest more than ${MAX_NESTING} levels deep`);
    throw e;
  }
}

function writeItem(item: AenbOutputItem, path: JsonPath, indent: string): string {
  checkSerializable(typeof item.mime === 'string' && item.mime.includes('/'), [...path, 'mime'], `invalid MIME type ${JSON.stringify(item.mime)}`);
  const kind = mimeDataKind(item.mime);
  checkSerializable(kind === 'json' || typeof item.data === 'string', [...path, 'data'], `${item.mime} data must be a string (${kind === 'binary' ? 'base64' : 'text'})`);
  return writeStructure(
    [
      ['mime', () => JSON.stringify(item.mime)],
      ['data', (i) => guarded([...path, 'data'], () => writeValue(item.data, i, false))],
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
      ['metadata', output.metadata && writeSortedObject(output.metadata, [], [...path, 'metadata'])],
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
      ['metadata', writeSortedObject(cell.metadata ?? {}, CELL_METADATA_KEYS, [...path, 'metadata'])],
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
  nb = settleNotebook(nb); // no live output is stored as running (src/outputs/stored.ts)
  const text = writeStructure(
    [
      ['format', () => JSON.stringify(AENB_FORMAT)],
      ['version', () => String(AENB_FORMAT_VERSION)],
      ['metadata', writeSortedObject(nb.metadata ?? {}, [], ['metadata'])],
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
