// "Export to HTML Report": the notebook as it is in the editor (saved or not),
// as one self-contained HTML file drawn by the same renderer bundle.
import { readFile } from 'node:fs/promises';
import * as vscode from 'vscode';
import { renderHtmlReport } from '../report';
import { notebookFromPlain } from '../notebook/convert';
import { plainFromDocument } from '../notebook/serializer';
import { parseExportArgs, reportFileName } from './args';
import { CommandDeps, registerCommand, resolveNotebook, toUri, UserError } from './common';
import { COMMANDS } from '../common/ids';

export function registerExportCommands(deps: CommandDeps): vscode.Disposable[] {
  const { context, log } = deps;
  return [
    registerCommand(deps, COMMANDS.exportHtml, async (arg: unknown) => {
      const args = parseExportArgs(arg);
      const doc = await resolveNotebook(args.notebook, { open: true });
      const notebook = notebookFromPlain(plainFromDocument(doc));
      const rendererPath = context.asAbsolutePath('dist/renderer.js');
      let rendererJs: string;
      try {
        rendererJs = await readFile(rendererPath, 'utf8');
      } catch (e) {
        throw new UserError(`The renderer bundle ${rendererPath} is missing (${(e as Error).message}); reinstall the extension.`);
      }
      const baseName = doc.uri.path.split('/').pop() || 'notebook.aenb';
      let target = args.target ? toUri(args.target) : undefined;
      if (!target) {
        const folder = doc.uri.scheme === 'file' ? vscode.Uri.joinPath(doc.uri, '..') : vscode.workspace.workspaceFolders?.[0]?.uri;
        target = await vscode.window.showSaveDialog({
          defaultUri: folder ? vscode.Uri.joinPath(folder, reportFileName(baseName)) : undefined,
          filters: { 'HTML report': ['html', 'htm'] },
          title: 'Export Notebook to HTML Report',
          saveLabel: 'Export',
        });
        if (!target) return undefined;
      }
      const html = renderHtmlReport(notebook, { rendererJs }, { theme: args.theme, subtitle: baseName });
      await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(html));
      log.info(`Exported ${doc.uri.toString(true)} to ${target.toString(true)} (${(html.length / 1024).toFixed(0)} KB)`);
      if (args.open !== false) {
        const inWorkspace = vscode.workspace.getWorkspaceFolder(target) !== undefined;
        const actions = ['Open in Browser', ...(inWorkspace ? ['Reveal in Explorer'] : [])];
        void vscode.window.showInformationMessage(`Exported the notebook to ${target.path.split('/').pop()}.`, ...actions).then((pick) => {
          if (pick === 'Open in Browser') void vscode.env.openExternal(target);
          else if (pick === 'Reveal in Explorer') void vscode.commands.executeCommand('revealInExplorer', target);
        });
      }
      return target;
    }),
  ];
}
