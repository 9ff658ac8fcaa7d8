// What the command implementations share: finding the notebook a command acts
// on, and reporting failures to the user instead of throwing at them.
import * as vscode from 'vscode';
import type { AenbKernelController } from '../notebook/controller';
import type { KernelSettings } from '../notebook/settings';
import { CommandArgumentError, Location, NotebookTarget } from './args';
import { NOTEBOOK_TYPE } from '../common/ids';

export interface CommandDeps {
  context: vscode.ExtensionContext;
  log: vscode.LogOutputChannel;
  kernels: AenbKernelController;
  settings(): KernelSettings;
  /** Where downloaded data sets are cached (the extension's global storage). */
  cacheDir: string;
}

/** A failure the user can act on; shown as is. */
export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(
    message: string,
    readonly actions: { title: string; run: () => unknown }[] = [],
  ) {
    super(message);
  }
}

export function toUri(loc: Location): vscode.Uri {
  return 'uri' in loc ? vscode.Uri.parse(loc.uri, true) : vscode.Uri.file(loc.path);
}

/** The notebook a command acts on. Closed notebooks are opened when `open` is set, else refused. */
export async function resolveNotebook(target: NotebookTarget, opts: { open?: boolean } = {}): Promise<vscode.NotebookDocument> {
  if (target.kind === 'active') {
    const nb = vscode.window.activeNotebookEditor?.notebook;
    if (!nb || nb.notebookType !== NOTEBOOK_TYPE) {
      throw new UserError('Open an Autoencoder notebook (.aenb) first: this command acts on the active notebook.');
    }
    return nb;
  }
  const uri = toUri(target.location);
  const open = vscode.workspace.notebookDocuments.find((d) => d.uri.toString() === uri.toString());
  if (open) {
    if (open.notebookType !== NOTEBOOK_TYPE) throw new UserError(`${uri.toString(true)} is not an Autoencoder notebook.`);
    return open;
  }
  if (!opts.open) throw new UserError(`The notebook ${uri.toString(true)} is not open.`);
  const doc = await vscode.workspace.openNotebookDocument(uri);
  if (doc.notebookType !== NOTEBOOK_TYPE) throw new UserError(`${uri.toString(true)} is not an Autoencoder notebook.`);
  return doc;
}

/**
 * Registers a command whose failures are logged and shown as a notification
 * (the command then resolves with undefined): a command run from the palette
 * must not end in VS Code's generic error dialog.
 */
export function registerCommand<T>(deps: CommandDeps, id: string, run: (arg: unknown) => Promise<T> | T): vscode.Disposable {
  return vscode.commands.registerCommand(id, async (arg: unknown) => {
    try {
      return await run(arg);
    } catch (e) {
      const text = e instanceof Error ? e.message : String(e);
      deps.log.error(`${id}: ${text}`);
      const actions = e instanceof UserError ? e.actions : [];
      const showLog = e instanceof UserError || e instanceof CommandArgumentError ? [] : [{ title: 'Show Log', run: () => deps.log.show(true) }];
      const all = [...actions, ...showLog];
      void vscode.window.showErrorMessage(text, ...all.map((a) => a.title)).then((pick) => all.find((a) => a.title === pick)?.run());
      return undefined;
    }
  });
}
