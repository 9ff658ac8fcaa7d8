// New empty notebook; new notebook from a sample.
import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { parseNotebook } from '../common/aenb';
import { notebookToPlain } from '../notebook/convert';
import { toNotebookData } from '../notebook/serializer';
import { newNotebookTemplate } from '../notebook/templates';
import { parseSampleArgs } from './args';
import { CommandDeps, registerCommand, toUri, UserError } from './common';
import { COMMANDS, NOTEBOOK_TYPE } from '../common/ids';
import { describeSample, SampleInfo, sortSamples, uniqueFileName } from './samples';

async function listSamples(dir: string, log: vscode.LogOutputChannel): Promise<(SampleInfo & { text: string })[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.toLowerCase().endsWith('.aenb')).sort();
  } catch (e) {
    throw new UserError(`The extension's samples folder ${dir} cannot be read (${(e as Error).message}); reinstall the extension.`);
  }
  const samples: (SampleInfo & { text: string })[] = [];
  for (const name of names) {
    const text = await readFile(path.join(dir, name), 'utf8');
    try {
      samples.push({ ...describeSample(name, text), text });
    } catch (e) {
      log.warn(`Sample ${name} is not a valid notebook and is not offered: ${(e as Error).message}`);
    }
  }
  return sortSamples(samples);
}

async function showNotebook(doc: vscode.NotebookDocument): Promise<vscode.Uri> {
  await vscode.window.showNotebookDocument(doc);
  return doc.uri;
}

export function registerNotebookCommands(deps: CommandDeps): vscode.Disposable[] {
  const { context, log } = deps;
  return [
    registerCommand(deps, COMMANDS.newNotebook, async () => {
      const data = toNotebookData(notebookToPlain(newNotebookTemplate()));
      const doc = await vscode.workspace.openNotebookDocument(NOTEBOOK_TYPE, data);
      log.info('New notebook created');
      return showNotebook(doc);
    }),

    registerCommand(deps, COMMANDS.newNotebookFromSample, async (arg: unknown) => {
      const args = parseSampleArgs(arg);
      const samplesDir = context.asAbsolutePath('samples');
      const samples = await listSamples(samplesDir, log);
      if (samples.length === 0) throw new UserError(`No sample notebooks were found in ${samplesDir}.`);
      let sample = samples.find((s) => s.id === args.sample);
      if (args.sample !== undefined && !sample) {
        throw new UserError(`There is no sample "${args.sample}"; the samples are ${samples.map((s) => `"${s.id}"`).join(', ')}.`);
      }
      if (!sample) {
        const pick = await vscode.window.showQuickPick(
          samples.map((s) => ({ label: s.title, description: s.fileName, detail: s.description, sample: s })),
          { title: 'New Notebook from a Sample', placeHolder: 'Pick a sample notebook', matchOnDescription: true, matchOnDetail: true },
        );
        if (!pick) return undefined;
        sample = pick.sample;
      }

      let folder = args.folder ? toUri(args.folder) : undefined;
      const destination = args.destination ?? (folder || vscode.workspace.workspaceFolders?.length ? 'workspace' : 'untitled');
      if (destination === 'untitled') {
        const doc = await vscode.workspace.openNotebookDocument(NOTEBOOK_TYPE, toNotebookData(notebookToPlain(parseNotebook(sample.text, sample.fileName))));
        log.info(`New untitled notebook from the sample ${sample.fileName}`);
        return showNotebook(doc);
      }
      if (!folder) {
        const folders = vscode.workspace.workspaceFolders ?? [];
        if (folders.length === 0) throw new UserError('Open a folder first, or copy the sample into an untitled notebook.');
        const chosen = folders.length === 1 ? folders[0] : await vscode.window.showWorkspaceFolderPick({ placeHolder: 'Copy the sample into which folder?' });
        if (!chosen) return undefined;
        folder = chosen.uri;
      }
      let entries: [string, vscode.FileType][];
      try {
        entries = await vscode.workspace.fs.readDirectory(folder);
      } catch (e) {
        throw new UserError(`Cannot copy the sample into ${folder.toString(true)}: ${(e as Error).message}`);
      }
      const taken = new Set(entries.map(([name]) => name.toLowerCase()));
      const fileName = uniqueFileName(sample.fileName, (n) => taken.has(n.toLowerCase()));
      const target = vscode.Uri.joinPath(folder, fileName);
      // overwrite: false - a file that appeared meanwhile is never replaced.
      await vscode.workspace.fs.copy(vscode.Uri.joinPath(context.extensionUri, 'samples', sample.fileName), target, { overwrite: false });
      log.info(`Copied the sample ${sample.fileName} to ${target.toString(true)}`);
      const doc = await vscode.workspace.openNotebookDocument(target);
      return showNotebook(doc);
    }),
  ];
}
