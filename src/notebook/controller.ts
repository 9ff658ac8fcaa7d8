// The notebook controller ("kernel" in VS Code's UI) for `.aenb` notebooks:
// one KernelSession (one kernel process) per open notebook, preselected for
// our notebook type, refusing to run anything in Restricted Mode.
import * as vscode from 'vscode';
import { CONTROLLER_ID, NOTEBOOK_TYPE } from '../common/ids';
import { KernelSession, SessionHost } from './session';
import { KernelSettings } from './settings';

export interface ControllerOptions {
  log: vscode.LogOutputChannel;
  kernelPath: string;
  cacheDir: string;
  settings(): KernelSettings;
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
      settings: () => options.settings(),
      changed: (s) => this.changeEmitter.fire(s),
    };
    for (const nb of vscode.workspace.notebookDocuments) this.prefer(nb);
    this.disposables.push(
      controller,
      this.changeEmitter,
      vscode.workspace.onDidOpenNotebookDocument((nb) => this.prefer(nb)),
      vscode.workspace.onDidCloseNotebookDocument((nb) => {
        const s = this.sessions.get(nb);
        if (!s) return;
        this.sessions.delete(nb);
        void s.shutdown().then(() => this.changeEmitter.fire(undefined));
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => {
        options.log.info('Workspace trusted: cells can run now.');
        this.changeEmitter.fire(undefined);
      }),
    );
  }

  private prefer(nb: vscode.NotebookDocument): void {
    if (nb.notebookType === NOTEBOOK_TYPE) this.controller.updateNotebookAffinity(nb, vscode.NotebookControllerAffinity.Preferred);
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

  dispose(): void {
    void this.shutdownAll();
    for (const d of this.disposables) d.dispose();
  }
}
