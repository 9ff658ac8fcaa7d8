import * as path from 'node:path';
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { NOTEBOOK_TYPE } from './common/ids';
import { createSettingsReader } from './notebook/config';
import { AenbKernelController } from './notebook/controller';
import { RecoveryJournal } from './notebook/recovery';
import { registerNotebookLanguage } from './notebook/language';
import { registerRendererMessaging } from './notebook/renderer-messaging';
import { AenbSerializer, SERIALIZER_OPTIONS } from './notebook/serializer';
import { KernelStatusBar } from './notebook/status-bar';

let kernels: AenbKernelController | undefined;
let recovery: RecoveryJournal | undefined;

/** Activation: wiring only. */
export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('Autoencoder Notebooks', { log: true });
  context.subscriptions.push(log);
  log.info(`Autoencoder Notebooks ${context.extension.packageJSON.version} activated${vscode.workspace.isTrusted ? '' : ' (Restricted Mode: cells will not run)'}`);

  const settings = createSettingsReader(log);
  const cacheDir = path.join(context.globalStorageUri.fsPath, 'datasets');
  recovery = new RecoveryJournal(path.join(context.globalStorageUri.fsPath, 'recovery'), NOTEBOOK_TYPE, log);
  const journal = recovery;
  kernels = new AenbKernelController({
    log,
    kernelPath: context.asAbsolutePath(path.join('dist', 'kernel.js')),
    cacheDir,
    kernelsDir: path.join(context.globalStorageUri.fsPath, 'kernels'),
    settings,
    notebookReady: (nb) => journal.ready(nb),
  });

  context.subscriptions.push(
    vscode.workspace.registerNotebookSerializer(NOTEBOOK_TYPE, new AenbSerializer(log), SERIALIZER_OPTIONS),
    recovery,
    kernels,
    new KernelStatusBar(kernels, settings),
    registerRendererMessaging(kernels, log),
    ...registerNotebookLanguage({ workerFile: context.asAbsolutePath(path.join('dist', 'language.js')), log }),
    ...registerCommands({ context, log, kernels, settings, cacheDir }),
  );
}

/**
 * The extension host is going away (reload, quit, update): unsaved notebook
 * changes are written to the recovery journal, kernels that outlive the
 * window are left running (a window that comes back reattaches), and child
 * kernels (grace period 0) are stopped.
 */
export async function deactivate(): Promise<void> {
  await recovery?.flush();
  await kernels?.detachAll();
  kernels = undefined;
}
