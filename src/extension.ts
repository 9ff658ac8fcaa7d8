import * as vscode from 'vscode';

/** Activation: wiring only. Notebook, renderer and command contributions register here. */
export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('Autoencoder Notebooks', { log: true });
  context.subscriptions.push(log);
  log.info(`Autoencoder Notebooks ${context.extension.packageJSON.version} activated`);
}

export function deactivate(): void {
  // Nothing to tear down yet: everything is owned by context.subscriptions.
}
