// `.aenb` files <-> VS Code notebooks. The file format is src/common/aenb's
// (parseNotebook / serializeNotebook), the mapping is ./convert's; this file
// only moves plain objects into VS Code's classes and back.
import * as vscode from 'vscode';
import { AenbFormatError } from '../common/aenb';
import { NOTEBOOK_TYPE } from '../common/ids';
import {
  NotebookConversionError,
  notebookFromBytes,
  notebookToBytes,
  PlainCell,
  PlainNotebook,
  PlainOutput,
} from './convert';

export function toCellOutput(o: PlainOutput): vscode.NotebookCellOutput {
  return new vscode.NotebookCellOutput(
    o.items.map((it) => new vscode.NotebookCellOutputItem(it.data, it.mime)),
    o.metadata,
  );
}

export function fromCellOutput(o: vscode.NotebookCellOutput): PlainOutput {
  const out: PlainOutput = { items: o.items.map((it) => ({ mime: it.mime, data: it.data })) };
  if (o.metadata !== undefined) out.metadata = o.metadata;
  return out;
}

export function toCellData(c: PlainCell): vscode.NotebookCellData {
  const kind = c.kind === 'markup' ? vscode.NotebookCellKind.Markup : vscode.NotebookCellKind.Code;
  const data = new vscode.NotebookCellData(kind, c.value, c.languageId);
  if (c.metadata) data.metadata = c.metadata;
  if (c.outputs) data.outputs = c.outputs.map(toCellOutput);
  if (c.executionSummary) data.executionSummary = c.executionSummary;
  return data;
}

export function fromCellData(c: vscode.NotebookCellData): PlainCell {
  const cell: PlainCell = {
    kind: c.kind === vscode.NotebookCellKind.Markup ? 'markup' : 'code',
    value: c.value,
    languageId: c.languageId,
  };
  if (c.metadata) cell.metadata = c.metadata;
  if (c.outputs) cell.outputs = c.outputs.map(fromCellOutput);
  if (c.executionSummary) cell.executionSummary = c.executionSummary;
  return cell;
}

/** A live notebook's cells as plain objects (for the HTML report). */
export function plainFromDocument(doc: vscode.NotebookDocument): PlainNotebook {
  return {
    metadata: doc.metadata,
    cells: doc.getCells().map((c) => {
      const cell: PlainCell = {
        kind: c.kind === vscode.NotebookCellKind.Markup ? 'markup' : 'code',
        value: c.document.getText(),
        languageId: c.document.languageId,
        metadata: c.metadata,
        outputs: c.outputs.map(fromCellOutput),
      };
      if (c.executionSummary) cell.executionSummary = c.executionSummary;
      return cell;
    }),
  };
}

export function toNotebookData(plain: PlainNotebook): vscode.NotebookData {
  const data = new vscode.NotebookData(plain.cells.map(toCellData));
  if (plain.metadata) data.metadata = plain.metadata;
  return data;
}

/** The file VS Code is opening (best effort: the active tab, when it is one of our notebooks). */
function openingFileName(): string | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (input instanceof vscode.TabInputNotebook && input.notebookType === NOTEBOOK_TYPE) return input.uri.path.split('/').pop();
  return undefined;
}

/** Turns a parse error into a message for the editor's "could not open" page. */
export function openErrorMessage(e: unknown): string {
  if (e instanceof AenbFormatError) {
    return (
      `This file is not a valid Autoencoder notebook (.aenb): line ${e.line}, column ${e.column}` +
      `${e.path ? ` (${e.path})` : ''}: ${e.reason}. The file was not changed. ` +
      'Fix it in a text editor ("Reopen Editor With..." > Text Editor), or restore it from version control.'
    );
  }
  if (e instanceof NotebookConversionError) return e.message;
  return `This Autoencoder notebook could not be opened: ${e instanceof Error ? e.message : String(e)}. The file was not changed.`;
}

export class AenbSerializer implements vscode.NotebookSerializer {
  constructor(private readonly log: vscode.LogOutputChannel) {}

  deserializeNotebook(content: Uint8Array): vscode.NotebookData {
    try {
      return toNotebookData(notebookFromBytes(content));
    } catch (e) {
      // VS Code shows only "could not be opened due to an unexpected error"
      // for this: say what is wrong in a notification too.
      const name = openingFileName();
      const message = openErrorMessage(e);
      this.log.error(`${name ?? 'A notebook'}: ${message}`);
      const reopen = 'Open in Text Editor';
      const tab = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
      void vscode.window.showErrorMessage(`${name ? `${name}: ` : ''}${message}`, ...(tab instanceof vscode.TabInputNotebook ? [reopen] : [])).then((pick) => {
        if (pick === reopen && tab instanceof vscode.TabInputNotebook) void vscode.commands.executeCommand('vscode.openWith', tab.uri, 'default');
      });
      throw new Error(message);
    }
  }

  serializeNotebook(data: vscode.NotebookData): Uint8Array {
    try {
      return notebookToBytes({ cells: data.cells.map(fromCellData), metadata: data.metadata });
    } catch (e) {
      const message = `The notebook was not saved: ${e instanceof Error ? e.message.replace(/^The notebook was not saved: /, '') : String(e)} Your changes are still in the editor.`;
      this.log.error(message);
      throw new Error(message);
    }
  }
}

/** Serializer options: outputs and execution info are part of the file. */
export const SERIALIZER_OPTIONS: vscode.NotebookDocumentContentOptions = {
  transientOutputs: false,
  transientCellMetadata: {},
  transientDocumentMetadata: {},
};
