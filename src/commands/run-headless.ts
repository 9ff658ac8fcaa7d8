// "Run Notebook Headless with Parameters...": runs a saved notebook with the
// headless runner (the extension's own dist/cli.js, the same program as
// `npx autoencoder-notebooks`) as a VS Code task, with parameter values the
// user edits first. The executed notebook and an HTML report are written
// beside it; the terminal shows the runner's progress and Ctrl-C works there.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { parseNotebook } from '../common/aenb';
import { notebookFromPlain } from '../notebook/convert';
import { plainFromDocument } from '../notebook/serializer';
import { CommandArgumentError, parseNotebookTarget, type NotebookTarget } from './args';
import { CommandDeps, registerCommand, resolveNotebook, toUri, UserError } from './common';
import {
  formatParameters,
  headlessArgs,
  headlessOutputs,
  notebookParameters,
  npxCommand,
  parseParameterText,
  type HeadlessRun,
} from './headless';
import { COMMANDS, NOTEBOOK_TYPE } from '../common/ids';

const TASK_TYPE = 'autoencoderNotebooks.headless';

interface RunHeadlessArgs {
  notebook: NotebookTarget;
  /** Values to set, instead of asking. */
  parameters?: Record<string, unknown>;
  /** Resolve only when the run has ended, with its exit code (for scripts and tests). Default false. */
  wait?: boolean;
}

function parseArgs(arg: unknown): RunHeadlessArgs {
  const command = 'Run Notebook Headless with Parameters';
  if (typeof arg === 'object' && arg !== null && !Array.isArray(arg) && ('parameters' in arg || 'wait' in arg || ('notebook' in arg && !('uri' in arg)))) {
    const a = arg as Record<string, unknown>;
    const unknown = Object.keys(a).filter((k) => !['notebook', 'parameters', 'wait'].includes(k));
    if (unknown.length) throw new CommandArgumentError(`${command}: unknown option ${unknown.map((k) => `"${k}"`).join(', ')}; it takes notebook, parameters and wait.`);
    if (a.parameters !== undefined && (typeof a.parameters !== 'object' || a.parameters === null || Array.isArray(a.parameters))) {
      throw new CommandArgumentError(`${command}: "parameters" must be an object of name: value.`);
    }
    if (a.wait !== undefined && typeof a.wait !== 'boolean') throw new CommandArgumentError(`${command}: "wait" must be true or false.`);
    return { notebook: parseNotebookTarget(a.notebook, command), parameters: a.parameters as Record<string, unknown> | undefined, wait: a.wait as boolean | undefined };
  }
  return { notebook: parseNotebookTarget(arg, command) };
}

export interface HeadlessResult {
  /** The runner's exit code (0: every cell succeeded; 1: a cell failed or was interrupted; 2: a usage or file error); undefined when not waited for. */
  exitCode?: number;
  out: string;
  html: string;
  commandLine: string;
}

export function registerHeadlessCommands(deps: CommandDeps): vscode.Disposable[] {
  const { context, log, kernels } = deps;

  /** The notebook's file: an open notebook is saved first (the runner reads the file), a closed one is read from disk. */
  const notebookFile = async (target: NotebookTarget): Promise<{ uri: vscode.Uri }> => {
    if (target.kind === 'location') {
      const uri = toUri(target.location);
      const open = vscode.workspace.notebookDocuments.find((d) => d.uri.toString() === uri.toString());
      if (!open) return { uri };
    }
    const doc = await resolveNotebook(target);
    if (doc.notebookType !== NOTEBOOK_TYPE) throw new UserError(`${doc.uri.toString(true)} is not an Autoencoder notebook.`);
    if (doc.isUntitled || doc.uri.scheme !== 'file') {
      throw new UserError('Save the notebook to a file first: the headless runner runs a notebook file.', [
        { title: 'Save As...', run: () => vscode.commands.executeCommand('workbench.action.files.saveAs') },
      ]);
    }
    if (doc.isDirty) {
      const save = 'Save and Run';
      const pick = await vscode.window.showWarningMessage(`${path.basename(doc.uri.fsPath)} has unsaved changes. The headless runner runs the file as saved.`, { modal: true }, save);
      if (pick !== save) return Promise.reject(new vscode.CancellationError());
      if (!(await doc.save())) throw new UserError(`${path.basename(doc.uri.fsPath)} could not be saved.`);
    }
    return { uri: doc.uri };
  };

  const run = async (arg: unknown): Promise<HeadlessResult | undefined> => {
    const args = parseArgs(arg);
    if (!vscode.workspace.isTrusted) {
      await kernels.explainRestricted();
      return undefined;
    }
    let file: { uri: vscode.Uri };
    try {
      file = await notebookFile(args.notebook);
    } catch (e) {
      if (e instanceof vscode.CancellationError) return undefined;
      throw e;
    }
    const fsPath = file.uri.fsPath;
    let text: string;
    try {
      text = new TextDecoder().decode(await vscode.workspace.fs.readFile(file.uri));
    } catch (e) {
      throw new UserError(`Cannot read ${fsPath}: ${(e as Error).message}`);
    }
    const open = vscode.workspace.notebookDocuments.find((d) => d.uri.toString() === file.uri.toString());
    const nb = open ? notebookFromPlain(plainFromDocument(open)) : parseNotebook(text, fsPath);
    const params = notebookParameters(nb);

    let sets: [string, unknown][] = [];
    if (args.parameters) {
      if (!params) throw new UserError(`${path.basename(fsPath)} has no cell tagged "parameters", so there is nothing to set.`);
      const typed = Object.entries(args.parameters).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ');
      const parsed = parseParameterText(typed, params);
      if ('error' in parsed) throw new UserError(parsed.error);
      sets = parsed.values;
    } else if (params) {
      const initial = formatParameters(params);
      const edited = await vscode.window.showInputBox({
        title: `Run ${path.basename(fsPath)} Headless`,
        prompt: 'Values of the cell tagged "parameters" for this run (name=value, separated by spaces). The notebook itself is not changed.',
        value: initial,
        valueSelection: [0, 0],
        ignoreFocusOut: true,
        validateInput: (t) => {
          const r = parseParameterText(t, params);
          return 'error' in r ? r.error : undefined;
        },
      });
      if (edited === undefined) return undefined;
      const parsed = parseParameterText(edited, params);
      if ('error' in parsed) throw new UserError(parsed.error);
      sets = parsed.values;
    } else {
      const go = 'Run';
      const pick = await vscode.window.showInformationMessage(
        `${path.basename(fsPath)} has no cell tagged "parameters", so it runs with the values written in it. Tag the cell holding its settings "parameters" to set them per run.`,
        { modal: true },
        go,
      );
      if (pick !== go) return undefined;
    }

    const settings = deps.settings();
    const outputs = headlessOutputs(fsPath);
    const plan: HeadlessRun = {
      notebook: fsPath, sets, out: outputs.out, html: outputs.html,
      backend: settings.backend, dataDir: settings.dataDir, cacheDir: deps.cacheDir, mirror: settings.mirror,
    };
    const cli = context.asAbsolutePath(path.join('dist', 'cli.js'));
    const commandLine = npxCommand({ ...plan, cacheDir: undefined });
    log.info(`Headless run of ${fsPath}${sets.length ? ` with ${sets.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ')}` : ''}; in a terminal: ${commandLine}`);

    const folder = vscode.workspace.getWorkspaceFolder(file.uri);
    const task = new vscode.Task(
      { type: TASK_TYPE, notebook: fsPath },
      folder ?? vscode.TaskScope.Workspace,
      `${path.basename(fsPath)}${sets.length ? ` (${sets.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')})` : ''}`,
      'Autoencoder Notebooks',
      // The extension host's own Node.js (in desktop VS Code, Electron acting as Node).
      new vscode.ProcessExecution(process.execPath, [cli, ...headlessArgs(plan)], { cwd: path.dirname(fsPath), env: { ELECTRON_RUN_AS_NODE: '1' } }),
    );
    task.presentationOptions = { reveal: vscode.TaskRevealKind.Always, panel: vscode.TaskPanelKind.Dedicated, clear: true, focus: false };
    const execution = await vscode.tasks.executeTask(task);
    const ended = new Promise<number | undefined>((resolve) => {
      const sub = vscode.tasks.onDidEndTaskProcess((e) => {
        if (e.execution !== execution) return;
        sub.dispose();
        resolve(e.exitCode);
      });
    });
    const report = async (): Promise<number | undefined> => {
      const code = await ended;
      log.info(`Headless run of ${fsPath} ended with exit code ${code}`);
      const openNb = 'Open Executed Notebook';
      const openHtml = 'Open Report';
      const actions = code === 0 || code === 1 ? [openNb, openHtml] : [];
      const message = code === 0
        ? `Headless run of ${path.basename(fsPath)} finished: every cell succeeded. Wrote ${path.basename(outputs.out)} and ${path.basename(outputs.html)}.`
        : code === 1
          ? `Headless run of ${path.basename(fsPath)}: a cell failed or was interrupted (see the terminal). Wrote ${path.basename(outputs.out)} with the cells that ran.`
          : `Headless run of ${path.basename(fsPath)} could not run (exit code ${code}); see the terminal.`;
      const show = code === 0 ? vscode.window.showInformationMessage : vscode.window.showWarningMessage;
      void show(message, ...actions).then((pick) => {
        if (pick === openNb) void vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(outputs.out), NOTEBOOK_TYPE);
        else if (pick === openHtml) void vscode.commands.executeCommand(COMMANDS.openReportInBrowser, vscode.Uri.file(outputs.html));
      });
      return code;
    };
    const result: HeadlessResult = { out: outputs.out, html: outputs.html, commandLine };
    if (args.wait) return { ...result, exitCode: await report() };
    void report();
    return result;
  };

  return [registerCommand(deps, COMMANDS.runHeadless, run)];
}

