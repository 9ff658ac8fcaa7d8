// The status bar item for the active `.aenb` notebook: its kernel's backend
// and state (or Restricted Mode). The wording is status-text.ts's.
import * as vscode from 'vscode';
import { COMMANDS, NOTEBOOK_TYPE } from '../common/ids';
import { AenbKernelController } from './controller';
import { SECTION } from './settings';
import { kernelStatus } from './status-text';
import type { KernelSettings } from './settings';

export class KernelStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly kernels: AenbKernelController,
    private readonly settings: () => KernelSettings,
  ) {
    this.item = vscode.window.createStatusBarItem('autoencoderNotebooks.kernel', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'Autoencoder Notebooks Kernel';
    this.disposables.push(
      this.item,
      kernels.onDidChange(() => this.update()),
      vscode.window.onDidChangeActiveNotebookEditor(() => this.update()),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.update()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(SECTION)) this.update();
      }),
    );
    this.update();
  }

  update(): void {
    const editor = vscode.window.activeNotebookEditor;
    if (!editor || editor.notebook.notebookType !== NOTEBOOK_TYPE) {
      this.item.hide();
      return;
    }
    const session = this.kernels.existingSession(editor.notebook);
    const view = kernelStatus({
      trusted: vscode.workspace.isTrusted,
      state: session?.state ?? 'stopped',
      requested: this.settings().backend,
      backend: session?.backend,
      progress: session?.progress,
      error: session?.error,
      pid: session?.pid,
      queued: session?.queued,
    });
    this.item.text = view.text;
    const tooltip = new vscode.MarkdownString(view.tooltip, true);
    tooltip.isTrusted = {
      enabledCommands: [COMMANDS.selectBackend, COMMANDS.restartKernel, COMMANDS.showLog, 'workbench.trust.manage'],
    };
    this.item.tooltip = tooltip;
    this.item.backgroundColor = view.warning ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.command = view.command === 'manageTrust' ? 'workbench.trust.manage' : COMMANDS.selectBackend;
    this.item.accessibilityInformation = { label: view.text.replace(/\$\([^)]*\)\s*/g, ''), role: 'button' };
    this.item.show();
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
