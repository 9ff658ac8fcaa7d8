// Keeps the language worker's copy of each open .aenb notebook in step with
// VS Code: the code cells in notebook order (re-sent when cells are added,
// removed, moved or change language) and each cell's text (sent on every
// edit, before any request about it).
import * as vscode from 'vscode';
import type { CellInput, CellLanguage } from '../../language/api';
import { NOTEBOOK_TYPE } from '../../common/ids';
import type { LanguageWorkerClient } from './client';

const LANGUAGES: readonly string[] = ['typescript', 'javascript'];

interface Tracked {
  notebook: vscode.NotebookDocument;
  /** Code cells' ids and languages, in order: what the worker has. */
  structure: string;
  /** Cell id → the document version the worker has. */
  versions: Map<string, number>;
}

export interface CellRef {
  notebook: string;
  cell: string;
}

export class NotebookCellSync implements vscode.Disposable {
  private readonly tracked = new Map<string, Tracked>();
  private readonly cellToNotebook = new Map<string, string>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly removedEmitter = new vscode.EventEmitter<vscode.Uri[]>();
  /** Cells that are no longer checked (closed, deleted, changed to another language). */
  readonly onCellsRemoved = this.removedEmitter.event;

  constructor(private readonly client: LanguageWorkerClient) {
    this.disposables.push(
      this.removedEmitter,
      vscode.workspace.onDidOpenNotebookDocument((nb) => this.sync(nb)),
      vscode.workspace.onDidCloseNotebookDocument((nb) => this.close(nb)),
      vscode.workspace.onDidChangeNotebookDocument((e) => this.sync(e.notebook)),
      vscode.workspace.onDidOpenTextDocument((doc) => {
        // A cell whose language changed is reopened with the new language.
        const nb = doc.uri.scheme === 'vscode-notebook-cell' ? this.notebookOfCellDocument(doc) : undefined;
        if (nb) this.sync(nb);
      }),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document.uri.scheme === 'vscode-notebook-cell' && e.contentChanges.length) this.sendText(e.document);
      }),
      client.onRestart(() => {
        const all = [...this.tracked.values()].map((t) => t.notebook);
        this.tracked.clear();
        for (const nb of all) this.sync(nb);
      }),
    );
    for (const nb of vscode.workspace.notebookDocuments) this.sync(nb);
  }

  private codeCells(nb: vscode.NotebookDocument): vscode.NotebookCell[] {
    return nb.getCells().filter((c) => c.kind === vscode.NotebookCellKind.Code && LANGUAGES.includes(c.document.languageId));
  }

  private notebookOfCellDocument(doc: vscode.TextDocument): vscode.NotebookDocument | undefined {
    const key = this.cellToNotebook.get(doc.uri.toString());
    if (key) return this.tracked.get(key)?.notebook;
    return vscode.workspace.notebookDocuments.find((nb) => nb.notebookType === NOTEBOOK_TYPE && nb.getCells().some((c) => c.document === doc));
  }

  /** Sends the notebook's cells if their list (or a language) changed. */
  sync(nb: vscode.NotebookDocument): void {
    if (nb.notebookType !== NOTEBOOK_TYPE || nb.isClosed) return;
    const key = nb.uri.toString();
    const cells = this.codeCells(nb);
    const structure = cells.map((c) => `${c.document.uri.toString()} ${c.document.languageId}`).join('\n');
    const old = this.tracked.get(key);
    if (old && old.structure === structure) {
      for (const c of cells) if (old.versions.get(c.document.uri.toString()) !== c.document.version) this.sendText(c.document);
      return;
    }
    const inputs: CellInput[] = cells.map((c) => ({
      id: c.document.uri.toString(),
      language: c.document.languageId as CellLanguage,
      text: c.document.getText(),
      version: c.document.version,
    }));
    const ids = new Set(inputs.map((i) => i.id));
    const removed = [...(old?.versions.keys() ?? [])].filter((id) => !ids.has(id));
    for (const id of removed) this.cellToNotebook.delete(id);
    for (const i of inputs) this.cellToNotebook.set(i.id, key);
    this.tracked.set(key, { notebook: nb, structure, versions: new Map(inputs.map((i) => [i.id, i.version ?? 0])) });
    this.client.send({ type: 'sync', notebook: key, cells: inputs });
    if (removed.length) this.removedEmitter.fire(removed.map((id) => vscode.Uri.parse(id)));
  }

  private close(nb: vscode.NotebookDocument): void {
    const key = nb.uri.toString();
    const t = this.tracked.get(key);
    if (!t) return;
    this.tracked.delete(key);
    const ids = [...t.versions.keys()];
    for (const id of ids) this.cellToNotebook.delete(id);
    this.client.send({ type: 'close', notebook: key });
    this.removedEmitter.fire(ids.map((id) => vscode.Uri.parse(id)));
    if (this.tracked.size === 0) this.client.stop();
  }

  private sendText(doc: vscode.TextDocument): void {
    const id = doc.uri.toString();
    const key = this.cellToNotebook.get(id);
    const t = key ? this.tracked.get(key) : undefined;
    if (!key || !t || !t.versions.has(id) || t.versions.get(id) === doc.version) return;
    t.versions.set(id, doc.version);
    this.client.send({ type: 'edit', notebook: key, cell: id, text: doc.getText(), version: doc.version });
  }

  /** The notebook and cell of a cell document, with the worker brought up to date with its text. */
  ref(doc: vscode.TextDocument): CellRef | undefined {
    let key = this.cellToNotebook.get(doc.uri.toString());
    if (!key) {
      const nb = this.notebookOfCellDocument(doc);
      if (!nb) return undefined;
      this.sync(nb);
      key = this.cellToNotebook.get(doc.uri.toString());
      if (!key) return undefined;
    }
    this.sendText(doc);
    return { notebook: key, cell: doc.uri.toString() };
  }

  /** The document of a cell the worker knows, by id. */
  cellDocument(id: string): vscode.TextDocument | undefined {
    const key = this.cellToNotebook.get(id);
    const nb = key ? this.tracked.get(key)?.notebook : undefined;
    return nb?.getCells().find((c) => c.document.uri.toString() === id)?.document;
  }

  /** Any notebook the worker has (for requests that need one). */
  anyNotebook(): string | undefined {
    return this.tracked.keys().next().value;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
