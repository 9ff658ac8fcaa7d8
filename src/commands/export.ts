// "Export to HTML Report": the notebook as it is in the editor (saved or not),
// as one self-contained HTML file drawn by the same renderer bundle.
import { readFile } from 'node:fs/promises';
import * as vscode from 'vscode';
import { renderHtmlReport } from '../report';
import { notebookFromPlain } from '../notebook/convert';
import { plainFromDocument } from '../notebook/serializer';
import { parseExportArgs, parseLocation, reportFileName } from './args';
import { CommandDeps, registerCommand, resolveNotebook, toUri, UserError } from './common';
import { COMMANDS } from '../common/ids';
import { ReportServer, withLocalPath } from './report-server';

export function registerExportCommands(deps: CommandDeps): vscode.Disposable[] {
  const { context, log } = deps;
  const server = new ReportServer();

  /**
   * Opens a report in the user's browser. A local window opens the file; a
   * remote one (code-server, SSH, containers), whose files the browser cannot
   * reach, serves it on 127.0.0.1 and opens the address VS Code forwards.
   */
  const openInBrowser = async (report: vscode.Uri): Promise<string | undefined> => {
    try {
      const remote = vscode.env.remoteName !== undefined || vscode.env.uiKind === vscode.UIKind.Web;
      if (!remote || report.scheme !== 'file') {
        const opened = await vscode.env.openExternal(report);
        return opened ? report.toString() : undefined;
      }
      const local = await server.urlFor(report.fsPath);
      const external = withLocalPath((await vscode.env.asExternalUri(vscode.Uri.parse(local))).toString(true), local);
      log.info(`Opening the report ${report.fsPath} in the browser at ${external} (served from ${local})`);
      const opened = await vscode.env.openExternal(vscode.Uri.parse(external, true));
      if (!opened) void vscode.window.showInformationMessage(`The report is at ${external}`);
      return external;
    } catch (e) {
      log.error(`Open in Browser: ${(e as Error).message}`);
      void vscode.window.showErrorMessage(`Could not open the report in a browser: ${(e as Error).message}`);
      return undefined;
    }
  };

  return [
    server,
    registerCommand(deps, COMMANDS.openReportInBrowser, async (arg: unknown) => {
      let report: vscode.Uri | undefined;
      if (arg === undefined || arg === null) {
        const picked = await vscode.window.showOpenDialog({
          canSelectMany: false,
          filters: { 'HTML report': ['html', 'htm'] },
          defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
          title: 'Open an HTML Report in the Browser',
          openLabel: 'Open in Browser',
        });
        report = picked?.[0];
        if (!report) return undefined;
      } else report = toUri(parseLocation(arg, 'Open HTML Report in Browser: the report'));
      return openInBrowser(report);
    }),
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
        const report = target;
        void vscode.window.showInformationMessage(`Exported the notebook to ${target.path.split('/').pop()}.`, ...actions).then((pick) => {
          if (pick === 'Open in Browser') void openInBrowser(report);
          else if (pick === 'Reveal in Explorer') void vscode.commands.executeCommand('revealInExplorer', report);
        });
      }
      return target;
    }),
  ];
}
