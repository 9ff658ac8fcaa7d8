// Conversion between the `.aenb` model (src/common/aenb) and the shape of
// VS Code's NotebookData, as plain objects: no `vscode` import, so that unit
// tests cover it. serializer.ts turns these plain objects into VS Code's
// classes and back.
//
// What goes where:
//   AenbCell.metadata (incl. tags)  -> cell metadata, as is
//   AenbCell.extra, AenbExecution   -> cell metadata["$aenb"] (see AenbCellMeta)
//   AenbCell.execution              -> executionSummary { executionOrder, success, timing }
//   AenbOutput.metadata             -> output metadata, as is
//   AenbOutput.extra, item extras   -> output metadata["$aenb"]
//   AenbOutputItem.data             -> bytes (text: UTF-8; json: JSON text; binary: base64-decoded)
//   AenbNotebook.metadata / extra   -> notebook metadata / notebook metadata["$aenb"]
// A user's own "$aenb" key survives too: it is kept as `$aenb.own`.
import {
  AenbCell,
  AenbCellMetadata,
  AenbCodeCell,
  AenbExecution,
  AenbMarkdownCell,
  AenbNotebook,
  AenbOutput,
  AenbOutputItem,
  CODE_LANGUAGES,
  CodeLanguage,
  JsonObject,
  JsonValue,
  MIME,
  NotebookErrorData,
  outputDataFromBytes,
  outputDataToBytes,
  parseNotebook,
  parseNotebookBytes,
  serializeNotebook,
} from '../common/aenb';

/** The metadata key that carries what VS Code has no place for. */
export const AENB_META_KEY = '$aenb';

export interface PlainOutputItem {
  mime: string;
  data: Uint8Array;
}

export interface PlainOutput {
  items: PlainOutputItem[];
  metadata?: Record<string, unknown>;
}

export interface PlainExecutionSummary {
  executionOrder?: number;
  success?: boolean;
  timing?: { startTime: number; endTime: number };
}

export interface PlainCell {
  kind: 'code' | 'markup';
  value: string;
  languageId: string;
  metadata?: Record<string, unknown>;
  outputs?: PlainOutput[];
  executionSummary?: PlainExecutionSummary;
}

export interface PlainNotebook {
  cells: PlainCell[];
  metadata?: Record<string, unknown>;
}

/** Cell metadata["$aenb"]. */
interface AenbCellMeta {
  extra?: JsonObject;
  /** The exact execution as the file had it (durations with fractions, no startedAt...). */
  execution?: JsonObject;
  own?: JsonValue;
}

/** Output metadata["$aenb"]. */
interface AenbOutputMeta {
  extra?: JsonObject;
  /** Extras of each item by index (null: none). */
  items?: (JsonObject | null)[];
  /** The file had `"metadata": {}` on this output (an empty one is otherwise left out). */
  emptyMetadata?: true;
  own?: JsonValue;
}

/** Text a user wrote or a tool put in a file cannot go through this check. */
export class NotebookConversionError extends Error {
  override readonly name = 'NotebookConversionError';
}

// ---------------------------------------------------------------------------
// Helpers

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** A JSON copy: drops undefined and functions, NaN/Infinity become null, like JSON.stringify. */
function toJson(value: unknown, what: string): JsonValue {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (e) {
    throw new NotebookConversionError(`${what} cannot be saved: ${(e as Error).message}`);
  }
  return text === undefined ? null : (JSON.parse(text) as JsonValue);
}

function toJsonObject(value: Record<string, unknown>, what: string): JsonObject {
  const json = toJson(value, what);
  return isPlainObject(json) ? (json as JsonObject) : {};
}

/** Splits metadata into the user's part and our "$aenb" part. */
function splitMeta<T>(metadata: Record<string, unknown> | undefined): { user: Record<string, unknown>; ours: T | undefined } {
  if (!metadata) return { user: {}, ours: undefined };
  const { [AENB_META_KEY]: ours, ...user } = metadata;
  const own = isPlainObject(ours) ? (ours as { own?: unknown }).own : undefined;
  if (own !== undefined) user[AENB_META_KEY] = own;
  return { user, ours: isPlainObject(ours) ? (ours as T) : undefined };
}

/** Adds our "$aenb" part (and moves a user's own "$aenb" into it). Returns a new object. */
function joinMeta(user: Record<string, unknown>, ours: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...user };
  const mine: Record<string, unknown> = { ...ours };
  if (Object.prototype.hasOwnProperty.call(user, AENB_META_KEY)) {
    mine.own = user[AENB_META_KEY];
    delete out[AENB_META_KEY];
  }
  for (const k of Object.keys(mine)) if (mine[k] === undefined) delete mine[k];
  if (Object.keys(mine).length) out[AENB_META_KEY] = mine;
  return out;
}

const cellLabel = (index: number) => `Cell ${index + 1}`;

// ---------------------------------------------------------------------------
// .aenb -> VS Code

export function outputToPlain(output: AenbOutput): PlainOutput {
  const items: PlainOutputItem[] = output.items.map((it) => ({ mime: it.mime, data: outputDataToBytes(it.mime, it.data) }));
  const itemExtras = output.items.map((it) => it.extra ?? null);
  const ours: AenbOutputMeta = {};
  if (output.extra) ours.extra = output.extra;
  if (itemExtras.some((e) => e !== null)) ours.items = itemExtras;
  if (output.metadata !== undefined && Object.keys(output.metadata).length === 0) ours.emptyMetadata = true;
  const plain: PlainOutput = { items };
  const meta = joinMeta(output.metadata ?? {}, ours as Record<string, unknown>);
  if (Object.keys(meta).length) plain.metadata = meta;
  return plain;
}

export function executionToSummary(exec: AenbExecution): PlainExecutionSummary {
  const summary: PlainExecutionSummary = { executionOrder: exec.order, success: exec.success };
  if (exec.startedAt !== undefined) {
    const start = Date.parse(exec.startedAt);
    if (Number.isFinite(start)) summary.timing = { startTime: start, endTime: start + exec.durationMs };
  }
  return summary;
}

export function cellToPlain(cell: AenbCell): PlainCell {
  const ours: AenbCellMeta = {};
  if (cell.extra) ours.extra = cell.extra;
  if (cell.kind === 'markdown') {
    return { kind: 'markup', value: cell.source, languageId: 'markdown', metadata: joinMeta(cell.metadata, ours as Record<string, unknown>) };
  }
  if (cell.execution) ours.execution = executionToJson(cell.execution);
  const plain: PlainCell = {
    kind: 'code',
    value: cell.source,
    languageId: cell.language,
    metadata: joinMeta(cell.metadata, ours as Record<string, unknown>),
    outputs: cell.outputs.map(outputToPlain),
  };
  if (cell.execution) plain.executionSummary = executionToSummary(cell.execution);
  return plain;
}

export function notebookToPlain(nb: AenbNotebook): PlainNotebook {
  const ours: Record<string, unknown> = {};
  if (nb.extra) ours.extra = nb.extra;
  return { cells: nb.cells.map(cellToPlain), metadata: joinMeta(nb.metadata, ours) };
}

function executionToJson(exec: AenbExecution): JsonObject {
  const o: JsonObject = { order: exec.order, success: exec.success, durationMs: exec.durationMs };
  if (exec.startedAt !== undefined) o.startedAt = exec.startedAt;
  if (exec.extra) o.extra = exec.extra;
  return o;
}

// ---------------------------------------------------------------------------
// VS Code -> .aenb

/** The original MIME type of an item whose JSON could not be parsed (kept as text/plain). */
export const ORIGINAL_MIME_KEY = 'originalMime';

export function itemFromPlain(item: PlainOutputItem, extra: JsonObject | null | undefined): AenbOutputItem {
  let out: AenbOutputItem;
  try {
    out = { mime: item.mime, data: outputDataFromBytes(item.mime, item.data) };
  } catch {
    // Bytes that are not JSON under a JSON MIME type (another tool's output):
    // keep them as text rather than refuse to save the notebook.
    out = { mime: 'text/plain', data: new TextDecoder().decode(item.data), extra: { [ORIGINAL_MIME_KEY]: item.mime } };
  }
  if (extra) out.extra = { ...extra, ...out.extra };
  return out;
}

export function outputFromPlain(output: PlainOutput, where: string): AenbOutput {
  const { user, ours } = splitMeta<AenbOutputMeta>(output.metadata);
  const itemExtras = Array.isArray(ours?.items) ? ours.items : [];
  const items = output.items.map((it, i) => {
    const e = itemExtras[i];
    return itemFromPlain(it, isPlainObject(e) ? (e as JsonObject) : null);
  });
  const out: AenbOutput = { items };
  // Empty metadata is left out (VS Code may hand back {} for none), unless the file had it.
  if (Object.keys(user).length || ours?.emptyMetadata) out.metadata = toJsonObject(user, `${where}: output metadata`);
  if (isPlainObject(ours?.extra)) out.extra = ours.extra as JsonObject;
  return out;
}

function sameTiming(stored: JsonObject, timing: PlainExecutionSummary['timing']): boolean {
  if (!timing) return stored.startedAt === undefined;
  if (typeof stored.startedAt !== 'string' || typeof stored.durationMs !== 'number') return false;
  return Date.parse(stored.startedAt) === timing.startTime && Math.abs(timing.endTime - timing.startTime - stored.durationMs) < 1;
}

/**
 * The execution to write for a cell: the stored one while VS Code's summary
 * still describes it (so that unchanged files are written back unchanged),
 * else one derived from the summary. None while a cell has never finished.
 */
export function executionFromSummary(summary: PlainExecutionSummary | undefined, stored: JsonObject | undefined): AenbExecution | undefined {
  if (!summary || summary.executionOrder === undefined || summary.success === undefined) return undefined;
  if (
    stored &&
    stored.order === summary.executionOrder &&
    stored.success === summary.success &&
    typeof stored.durationMs === 'number' &&
    sameTiming(stored, summary.timing)
  ) {
    const exec: AenbExecution = { order: stored.order as number, success: stored.success as boolean, durationMs: stored.durationMs };
    if (typeof stored.startedAt === 'string') exec.startedAt = stored.startedAt;
    if (isPlainObject(stored.extra)) exec.extra = stored.extra as JsonObject;
    return exec;
  }
  const exec: AenbExecution = { order: Math.max(0, Math.round(summary.executionOrder)), success: summary.success, durationMs: 0 };
  const t = summary.timing;
  if (t && Number.isFinite(t.startTime) && Number.isFinite(t.endTime)) {
    exec.durationMs = Math.max(0, Math.round(t.endTime - t.startTime));
    exec.startedAt = new Date(t.startTime).toISOString();
  }
  return exec;
}

function checkTags(metadata: Record<string, unknown>, where: string): void {
  const tags = metadata.tags;
  if (tags === undefined) return;
  if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) {
    throw new NotebookConversionError(`${where}: the cell's metadata "tags" must be a list of strings, found ${JSON.stringify(tags)}.`);
  }
}

export function cellFromPlain(cell: PlainCell, index: number): AenbCell {
  const where = cellLabel(index);
  const { user, ours } = splitMeta<AenbCellMeta>(cell.metadata);
  checkTags(user, where);
  const metadata = toJsonObject(user, `${where}: metadata`) as AenbCellMetadata;
  const extra = isPlainObject(ours?.extra) ? (ours.extra as JsonObject) : undefined;
  if (cell.kind === 'markup') {
    const md: AenbMarkdownCell = { kind: 'markdown', language: 'markdown', source: cell.value, metadata };
    if (extra) md.extra = extra;
    return md;
  }
  if (!(CODE_LANGUAGES as readonly string[]).includes(cell.languageId)) {
    throw new NotebookConversionError(
      `${where} is written in "${cell.languageId}", but Autoencoder notebooks run TypeScript and JavaScript only. ` +
        'Change the cell language (bottom right of the cell) to TypeScript or JavaScript, or make it a Markdown cell, then save again.',
    );
  }
  const outputs = (cell.outputs ?? []).map((o, i) => outputFromPlain(o, `${where}, output ${i + 1}`));
  const code: AenbCodeCell = { kind: 'code', language: cell.languageId as CodeLanguage, source: cell.value, metadata, outputs };
  const execution = executionFromSummary(cell.executionSummary, isPlainObject(ours?.execution) ? (ours.execution as JsonObject) : undefined);
  if (execution) code.execution = execution;
  if (extra) code.extra = extra;
  return code;
}

export function notebookFromPlain(plain: PlainNotebook): AenbNotebook {
  const { user, ours } = splitMeta<{ extra?: JsonObject }>(plain.metadata);
  const nb: AenbNotebook = { metadata: toJsonObject(user, 'notebook metadata'), cells: plain.cells.map(cellFromPlain) };
  if (isPlainObject(ours?.extra)) nb.extra = ours.extra as JsonObject;
  return nb;
}

/** The error output of a failed cell, exactly as the headless runner writes it. */
export function errorCellOutput(error: NotebookErrorData): AenbOutput {
  return { items: [{ mime: MIME.error, data: { name: error.name, message: error.message, stack: error.stack ?? '' } }] };
}

// ---------------------------------------------------------------------------
// Bytes

const utf8 = new TextEncoder();

/**
 * Opens `.aenb` bytes, decoded strictly as UTF-8 as the headless runner does
 * (a bad byte is an AenbFormatError with its line and column).
 * @throws AenbFormatError (with line and column) or NotebookConversionError.
 */
export function notebookFromBytes(bytes: Uint8Array, fileName?: string): PlainNotebook {
  return notebookToPlain(parseNotebookBytes(bytes, fileName));
}

/**
 * The `.aenb` bytes of a notebook: the same bytes the headless runner writes
 * for the same content. The text is parsed again before it is returned, so a
 * notebook that could not be opened again is never written.
 */
export function notebookToBytes(plain: PlainNotebook): Uint8Array {
  const text = serializeNotebook(notebookFromPlain(plain));
  try {
    parseNotebook(text);
  } catch (e) {
    throw new NotebookConversionError(`The notebook was not saved: what would be written could not be opened again (${(e as Error).message}).`);
  }
  return utf8.encode(text);
}
