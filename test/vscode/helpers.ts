/// <reference types="mocha" />
// Helpers for the integration suite: they run inside the real extension host
// and drive notebooks through VS Code's own API and commands.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as vscode from 'vscode';
import { COMMANDS, CONTROLLER_ID, NOTEBOOK_TYPE } from '../../src/common/ids';
import { MIME } from '../../src/common/aenb';

export { COMMANDS, NOTEBOOK_TYPE };
export const EXTENSION_ID = 'aenb-team.autoencoder-notebooks';
export const ERROR_MIME = MIME.error;
export const STDOUT_MIME = MIME.stdout;
export const TEXT_MIME = MIME.textPlain;

const decoder = new TextDecoder();

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `probe` until it returns something other than undefined/false; fails with `what()` after `timeoutMs`. */
export async function waitFor<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, what: () => string, timeoutMs = 60_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`Timed out after ${(timeoutMs / 1000).toFixed(1)} s waiting for ${what()}`);
    await sleep(everyMs);
  }
}

export function workspaceFolder(): vscode.Uri {
  const f = vscode.workspace.workspaceFolders?.[0];
  assert.ok(f, 'the test workspace folder is open');
  return f.uri;
}

export function workspaceFile(name: string): vscode.Uri {
  return vscode.Uri.joinPath(workspaceFolder(), name);
}

/** Opens a notebook in an editor and makes sure our kernel is the selected one. */
export async function showNotebook(uriOrDoc: vscode.Uri | vscode.NotebookDocument): Promise<vscode.NotebookEditor> {
  const doc = uriOrDoc instanceof vscode.Uri ? await vscode.workspace.openNotebookDocument(uriOrDoc) : uriOrDoc;
  assert.equal(doc.notebookType, NOTEBOOK_TYPE, `${doc.uri.toString(true)} opens as an Autoencoder notebook`);
  const editor = await vscode.window.showNotebookDocument(doc);
  await vscode.commands.executeCommand('notebook.selectKernel', { id: CONTROLLER_ID, extension: EXTENSION_ID });
  return editor;
}

/**
 * Closes every editor without saving (changes are reverted). The documents may
 * stay open for a while: VS Code holds a notebook opened through the API for
 * up to three minutes.
 */
export async function closeAll(): Promise<void> {
  for (let i = 0; i < 50 && vscode.window.tabGroups.all.some((g) => g.tabs.length > 0); i++) {
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  }
  assert.equal(vscode.window.tabGroups.all.flatMap((g) => g.tabs).length, 0, 'every editor is closed');
}

export function codeCells(doc: vscode.NotebookDocument): vscode.NotebookCell[] {
  return doc.getCells().filter((c) => c.kind === vscode.NotebookCellKind.Code);
}

/** The code cell whose text contains `needle` (exactly one). */
export function cellWith(doc: vscode.NotebookDocument, needle: string): vscode.NotebookCell {
  const found = codeCells(doc).filter((c) => c.document.getText().includes(needle));
  assert.equal(found.length, 1, `exactly one code cell contains ${JSON.stringify(needle)}; found ${found.length}`);
  return found[0];
}

/** The cell tagged `parameters`. */
export function parametersCell(doc: vscode.NotebookDocument): vscode.NotebookCell {
  const found = doc.getCells().filter((c) => Array.isArray(c.metadata?.tags) && (c.metadata.tags as unknown[]).includes('parameters'));
  assert.equal(found.length, 1, 'the notebook has one cell tagged "parameters"');
  return found[0];
}

/** Reads `const name = value;` from the parameters cell. */
export function readParameter(doc: vscode.NotebookDocument, name: string): string {
  const m = new RegExp(`^const ${name} = ([^;]+);`, 'm').exec(parametersCell(doc).document.getText());
  assert.ok(m, `the parameters cell declares ${name}`);
  return m[1].trim();
}

/** Sets values in the parameters cell (`const name = value;` lines) with one WorkspaceEdit, like a user typing them. */
export async function setParameters(doc: vscode.NotebookDocument, values: Record<string, number | string>): Promise<void> {
  const cell = parametersCell(doc);
  let text = cell.document.getText();
  for (const [name, value] of Object.entries(values)) {
    const re = new RegExp(`^(const ${name} = )([^;]+)(;)`, 'm');
    assert.match(text, re, `the parameters cell declares ${name}`);
    text = text.replace(re, `$1${typeof value === 'string' ? JSON.stringify(value) : String(value)}$3`);
  }
  const edit = new vscode.WorkspaceEdit();
  const full = new vscode.Range(0, 0, cell.document.lineCount, 0);
  edit.replace(cell.document.uri, full, text);
  assert.ok(await vscode.workspace.applyEdit(edit), 'the edit of the parameters cell was applied');
  for (const [name, value] of Object.entries(values)) assert.equal(readParameter(doc, name), typeof value === 'string' ? JSON.stringify(value) : String(value));
}

// ---------------------------------------------------------------------------
// Running cells

/** Whether a cell finished an execution that started at or after `since` (ms since epoch). */
export function finishedSince(cell: vscode.NotebookCell, since: number): boolean {
  const s = cell.executionSummary;
  return !!s && s.success !== undefined && !!s.timing && s.timing.startTime >= since && s.timing.endTime >= s.timing.startTime;
}

export function describeCell(cell: vscode.NotebookCell): string {
  const s = cell.executionSummary;
  const outs = cell.outputs.flatMap((o) => o.items.map((i) => `${i.mime}${i.mime.includes('json') ? '' : ` ${JSON.stringify(decoder.decode(i.data).slice(0, 160))}`}`));
  return `cell ${cell.index + 1} (order ${s?.executionOrder ?? '-'}, success ${s?.success ?? '-'}, outputs: ${outs.join('; ') || 'none'})`;
}

/** Waits until every cell has finished an execution that started at or after `since`. */
export async function waitForCells(cells: readonly vscode.NotebookCell[], since: number, timeoutMs = 120_000): Promise<void> {
  await waitFor(
    () => cells.every((c) => finishedSince(c, since)),
    () => `cells to finish: ${cells.filter((c) => !finishedSince(c, since)).map(describeCell).join(' | ')}`,
    timeoutMs,
  );
}

/** Runs all cells with VS Code's "Run All" (`notebook.execute`) and waits for the code cells. */
export async function runAll(doc: vscode.NotebookDocument, timeoutMs = 180_000): Promise<void> {
  const since = Date.now();
  await vscode.commands.executeCommand('notebook.execute', doc.uri);
  await waitForCells(codeCells(doc), since, timeoutMs);
}

/** Starts cells with VS Code's `notebook.cell.execute` (ranges); returns the start time to wait with. */
export async function startCells(doc: vscode.NotebookDocument, cells: readonly vscode.NotebookCell[]): Promise<number> {
  const since = Date.now();
  await vscode.commands.executeCommand('notebook.cell.execute', {
    ranges: cells.map((c) => ({ start: c.index, end: c.index + 1 })),
    document: doc.uri,
  });
  return since;
}

/** Runs cells with `notebook.cell.execute` and waits until they have finished. */
export async function runCells(doc: vscode.NotebookDocument, cells: readonly vscode.NotebookCell[], timeoutMs = 120_000): Promise<void> {
  const since = await startCells(doc, cells);
  await waitForCells(cells, since, timeoutMs);
}

export function assertSucceeded(cell: vscode.NotebookCell): void {
  assert.equal(cell.executionSummary?.success, true, `expected success: ${describeCell(cell)}`);
}

// ---------------------------------------------------------------------------
// Outputs

export function itemsOf(cell: vscode.NotebookCell, mime: string): vscode.NotebookCellOutputItem[] {
  return cell.outputs.flatMap((o) => o.items.filter((i) => i.mime === mime));
}

/** The one item of a MIME type among the cell's outputs. */
export function onlyItem(cell: vscode.NotebookCell, mime: string): vscode.NotebookCellOutputItem {
  const items = itemsOf(cell, mime);
  assert.equal(items.length, 1, `one ${mime} output in ${describeCell(cell)}`);
  return items[0];
}

export function text(item: vscode.NotebookCellOutputItem): string {
  return decoder.decode(item.data);
}

export function json<T>(item: vscode.NotebookCellOutputItem): T {
  return JSON.parse(decoder.decode(item.data)) as T;
}

/** The cell's console output (stdout items joined). */
export function stdout(cell: vscode.NotebookCell): string {
  return itemsOf(cell, STDOUT_MIME).map(text).join('');
}

/** The text of the cell's value output (the last `text/plain` item that is the only item of its output). */
export function valueText(cell: vscode.NotebookCell): string {
  const plain = cell.outputs.filter((o) => o.items.length === 1 && o.items[0].mime === TEXT_MIME);
  assert.ok(plain.length > 0, `a value output in ${describeCell(cell)}`);
  return text(plain[plain.length - 1].items[0]);
}

export interface ErrorData {
  name: string;
  message: string;
  stack?: string;
}

/** Every output of a notebook as comparable data: per cell, per output, the MIME types and bytes. */
export function outputSnapshot(doc: vscode.NotebookDocument): { cell: number; outputs: { mime: string; data: string }[][]; order?: number; success?: boolean }[] {
  return doc.getCells().map((c) => ({
    cell: c.index,
    outputs: c.outputs.map((o) => o.items.map((i) => ({ mime: i.mime, data: Buffer.from(i.data).toString('base64') }))),
    order: c.executionSummary?.executionOrder,
    success: c.executionSummary?.success,
  }));
}

export interface OutputChange<T> {
  /** When VS Code reported the change (ms since epoch). */
  at: number;
  /** How many outputs the cell had. */
  outputs: number;
  /** Each item of the watched MIME type, with the id of the output holding it. */
  items: { outputId: string; payload: T }[];
}

/**
 * The id VS Code gives an output (kept when its items are replaced in place).
 * The extension host has it on every output although @types/vscode does not declare it.
 */
export function outputId(o: vscode.NotebookCellOutput): string {
  const id = (o as unknown as { id?: unknown }).id;
  assert.equal(typeof id, 'string', 'VS Code gives each output an id');
  return id as string;
}

/** Records every change VS Code reports to one cell's outputs, with the parsed items of `mime`. */
export function recordOutputs<T>(cell: vscode.NotebookCell, mime: string): { changes: OutputChange<T>[]; dispose(): void } {
  const changes: OutputChange<T>[] = [];
  const sub = vscode.workspace.onDidChangeNotebookDocument((e) => {
    if (e.notebook !== cell.notebook) return;
    for (const ch of e.cellChanges) {
      if (ch.cell !== cell || !ch.outputs) continue;
      changes.push({
        at: Date.now(),
        outputs: ch.outputs.length,
        items: ch.outputs.flatMap((o) => o.items.filter((i) => i.mime === mime).map((i) => ({ outputId: outputId(o), payload: json<T>(i) }))),
      });
    }
  });
  return { changes, dispose: () => sub.dispose() };
}

/** Progress of a training payload in batches since the start. */
export function trainingStep(p: { epoch: number; batch: number; batchesPerEpoch: number }): number {
  return p.epoch * p.batchesPerEpoch + p.batch;
}

// ---------------------------------------------------------------------------
// Processes

/** Command lines of the kernel processes (dist/kernel.js) running under this extension host. */
export function kernelProcesses(): string[] {
  let out = '';
  try {
    out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  } catch (e) {
    // ps exits with 1 when there is no child at all.
    out = (e as { stdout?: string }).stdout ?? '';
  }
  return out.split('\n').filter((l) => /dist[\\/]kernel\.js/.test(l));
}

/** Process ids of the kernels running under this extension host. */
export function kernelPids(): number[] {
  return kernelProcesses().map((l) => Number(l.trim().split(/\s+/)[0]));
}

/** Runs `action` and returns the kernel processes it started and the ones that ended meanwhile. */
export async function kernelChanges(action: () => Promise<unknown>): Promise<{ started: number[]; ended: number[] }> {
  const before = kernelPids();
  await action();
  const after = kernelPids();
  return { started: after.filter((p) => !before.includes(p)), ended: before.filter((p) => !after.includes(p)) };
}
