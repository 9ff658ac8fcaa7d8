// The notebook controller ("kernel" in VS Code's UI) for `.aenb` notebooks:
// one KernelSession (one kernel process) per open notebook, preselected for
// our notebook type, refusing to run anything in Restricted Mode.
import * as vscode from 'vscode';
import { CONTROLLER_ID, NOTEBOOK_TYPE } from '../common/ids';
import { findKernel } from '../kernel/detached';
import { KernelSession, SessionHost } from './session';
import { KernelSettings, SECTION } from './settings';

export interface ControllerOptions {
  log: vscode.LogOutputChannel;
  kernelPath: string;
  cacheDir: string;
  /** The private folder of kernels that outlive their window. */
  kernelsDir: string;
  settings(): KernelSettings;
  /** Resolves once a just-opened notebook has its unsaved changes back (recovery.ts), before a kernel reattaches to it. */
  notebookReady?(nb: vscode.NotebookDocument): Promise<void>;
}

export const RESTRICTED_MESSAGE =
  'Cells do not run in Restricted Mode: this workspace is not trusted, and running a cell runs its code on this machine. ' +
  'Saved outputs still show. Trust the workspace to run cells.';

export class AenbKernelController implements vscode.Disposable {
  readonly controller: vscode.NotebookController;
  private readonly sessions = new Map<vscode.NotebookDocument, KernelSession>();
  private readonly changeEmitter = new vscode.EventEmitter<KernelSession | undefined>();
  /** A session's state, backend or progress changed (undefined: something global, e.g. trust). */
  readonly onDidChange = this.changeEmitter.event;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly host: SessionHost;

  constructor(private readonly options: ControllerOptions) {
    const controller = vscode.notebooks.createNotebookController(CONTROLLER_ID, NOTEBOOK_TYPE, 'Autoencoder Notebooks');
    controller.description = 'TensorFlow.js';
    controller.detail = 'Runs TypeScript and JavaScript cells in a separate process, one per notebook.';
    controller.supportedLanguages = ['typescript', 'javascript'];
    controller.supportsExecutionOrder = true;
    controller.executeHandler = (cells, notebook) => this.execute(cells, notebook);
    controller.interruptHandler = (notebook) => {
      this.interrupt(notebook);
    };
    this.controller = controller;
    this.host = {
      controller,
      log: options.log,
      kernelPath: options.kernelPath,
      cacheDir: options.cacheDir,
      kernelsDir: options.kernelsDir,
      settings: () => options.settings(),
      changed: (s) => this.changeEmitter.fire(s),
    };
    for (const nb of vscode.workspace.notebookDocuments) this.opened(nb);
    this.editorsOpened();
    this.disposables.push(
      controller,
      this.changeEmitter,
      vscode.workspace.onDidOpenNotebookDocument((nb) => this.opened(nb)),
      vscode.workspace.onDidCloseNotebookDocument((nb) => this.closed(nb, 'notebook closed')),
      // VS Code may keep a notebook's document open for minutes after its last
      // editor closed (and while a cell of it runs): for the user, closing the
      // editor closes the notebook, and its kernel should go the same way.
      vscode.window.tabGroups.onDidChangeTabs((e) => {
        if (e.closed.length) this.editorsClosed();
        if (e.opened.length) this.editorsOpened();
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration(SECTION)) return;
        options.log.info(`settings changed (${this.sessions.size} open notebook${this.sessions.size === 1 ? '' : 's'})`);
        for (const s of this.sessions.values()) s.settingsChanged();
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => {
        options.log.info('Workspace trusted: cells can run now.');
        this.changeEmitter.fire(undefined);
      }),
    );
  }

  /** The notebook is closed (its document, or its last editor): a kernel that outlives the window finishes its running cell, then ends. */
  private closed(nb: vscode.NotebookDocument, why: string): void {
    const s = this.sessions.get(nb);
    if (!s) return;
    this.options.log.info(`[${nb.uri.path.split('/').pop()}] ${why}`);
    this.sessions.delete(nb);
    this.shown.delete(nb);
    void s.release().then(() => this.changeEmitter.fire(undefined));
  }

  /** Notebooks shown in an editor tab (only those are closed by closing their tabs; one run through the API has none). */
  private readonly shown = new Set<vscode.NotebookDocument>();

  private notebookTabs(): Set<string> {
    const uris = new Set<string>();
    for (const g of vscode.window.tabGroups.all) {
      for (const t of g.tabs) if (t.input instanceof vscode.TabInputNotebook && t.input.notebookType === NOTEBOOK_TYPE) uris.add(t.input.uri.toString());
    }
    return uris;
  }

  private editorsClosed(): void {
    const open = this.notebookTabs();
    for (const nb of [...this.shown]) if (!open.has(nb.uri.toString())) this.closed(nb, 'notebook editor closed');
  }

  private editorsOpened(): void {
    const open = this.notebookTabs();
    for (const nb of vscode.workspace.notebookDocuments) {
      if (nb.notebookType !== NOTEBOOK_TYPE || !open.has(nb.uri.toString())) continue;
      this.shown.add(nb);
      // Shown again while its document stayed open: its kernel may still be finishing a cell.
      if (!this.sessions.has(nb)) void this.reattach(nb);
    }
  }

  private opened(nb: vscode.NotebookDocument): void {
    if (nb.notebookType !== NOTEBOOK_TYPE) return;
    if (this.notebookTabs().has(nb.uri.toString())) this.shown.add(nb);
    this.controller.updateNotebookAffinity(nb, vscode.NotebookControllerAffinity.Preferred);
    void this.reattach(nb);
  }

  /** After a reload: the notebook's kernel may still be running (it outlives its window); take it over. */
  private async reattach(nb: vscode.NotebookDocument): Promise<void> {
    if (!vscode.workspace.isTrusted || this.sessions.has(nb)) return;
    try {
      await this.options.notebookReady?.(nb);
      const found = await findKernel(this.options.kernelsDir, nb.uri.toString(), { pid: process.pid, name: `VS Code ${vscode.version}` }, (m) =>
        this.options.log.warn(`[${nb.uri.path.split('/').pop()}] ${m}`),
      );
      if (!found) return;
      if (nb.isClosed || this.sessions.has(nb)) {
        found.channel.close();
        return;
      }
      await this.session(nb).reattach(found);
    } catch (e) {
      this.options.log.error(`[${nb.uri.path.split('/').pop()}] could not reattach to the notebook's kernel: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** The session of a notebook (created on first use). */
  session(nb: vscode.NotebookDocument): KernelSession {
    let s = this.sessions.get(nb);
    if (!s) {
      s = new KernelSession(nb, this.host);
      this.sessions.set(nb, s);
    }
    return s;
  }

  /** The session of a notebook, if it has one. */
  existingSession(nb: vscode.NotebookDocument): KernelSession | undefined {
    return this.sessions.get(nb);
  }

  allSessions(): KernelSession[] {
    return [...this.sessions.values()];
  }

  /** Says why nothing runs in Restricted Mode, with a way out. */
  async explainRestricted(): Promise<void> {
    this.options.log.warn(RESTRICTED_MESSAGE);
    const manage = 'Manage Workspace Trust';
    const pick = await vscode.window.showWarningMessage(RESTRICTED_MESSAGE, manage);
    if (pick === manage) await vscode.commands.executeCommand('workbench.trust.manage');
  }

  private execute(cells: vscode.NotebookCell[], notebook: vscode.NotebookDocument): void {
    if (!vscode.workspace.isTrusted) {
      void this.explainRestricted();
      return;
    }
    this.session(notebook).enqueue(cells);
  }

  interrupt(notebook: vscode.NotebookDocument): 'idle' | 'interrupting' {
    return this.sessions.get(notebook)?.interrupt() ?? 'idle';
  }

  /** Stops every kernel; resolves when their processes have exited. */
  async shutdownAll(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map((s) => s.shutdown()));
  }

  /** The window is going away: kernels that outlive it go on (and wait for it to come back); child kernels are stopped. */
  async detachAll(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map((s) => s.detach()));
  }

  dispose(): void {
    void this.detachAll();
    for (const d of this.disposables) d.dispose();
  }
}
