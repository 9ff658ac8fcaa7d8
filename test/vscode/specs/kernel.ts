/// <reference types="mocha" />
// Kernel behaviour through VS Code: cells run with `notebook.cell.execute`,
// live progress, errors with the cell's line numbers, interrupt (our command
// and VS Code's Interrupt), re-running a cell, restart and backend choice.
// The notebook is test/vscode/fixtures/kernel.aenb, copied into the workspace
// by the launcher.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { TRAINING_MIME, type TrainingPayload } from '../../../src/outputs';
import { bridgeCall } from '../../support/ui-bridge';
import type { KernelBackendInfo } from '../../../src/common/messages/kernel';
import {
  COMMANDS,
  ERROR_MIME,
  EXTENSION_ID,
  type ErrorData,
  assertSucceeded,
  cellWith,
  closeAll,
  describeCell,
  finishedSince,
  itemsOf,
  json,
  kernelChanges,
  kernelPids,
  kernelProcesses,
  onlyItem,
  recordOutputs,
  runCells,
  showNotebook,
  startCells,
  stdout,
  trainingStep,
  valueText,
  waitFor,
  waitForCells,
  workspaceFile,
} from '../helpers';

/** Line (1-based) of the first line of `cell` that contains `needle`. */
function lineOf(cell: vscode.NotebookCell, needle: string): number {
  const i = cell.document.getText().split('\n').findIndex((l) => l.includes(needle));
  assert.ok(i >= 0, `${needle} is in the cell`);
  return i + 1;
}

/** Waits until the training output of `cell` reports progress past its first batch. */
async function waitForTraining(cell: vscode.NotebookCell): Promise<TrainingPayload> {
  return waitFor(
    () => {
      const item = cell.outputs.flatMap((o) => o.items).find((i) => i.mime === TRAINING_MIME);
      const p = item && json<TrainingPayload>(item);
      return p && p.state === 'running' && trainingStep(p) > 0 ? p : undefined;
    },
    () => `training progress in ${describeCell(cell)}`,
    60_000,
  );
}

export function defineKernelTests(): void {
  describe('Kernel behaviour (kernel.aenb)', function () {
    this.timeout(120_000);
    let doc: vscode.NotebookDocument;
    /** The process of this notebook's kernel (other notebooks of the suite may still have theirs). */
    let kernelPid = -1;
    const cell = (needle: string) => cellWith(doc, needle);

    before(async () => {
      const editor = await showNotebook(workspaceFile('kernel.aenb'));
      doc = editor.notebook;
    });

    after(async () => {
      await closeAll();
    });

    it('runs a cell with notebook.cell.execute and shows its value', async () => {
      const setup = cell("'ready'");
      const { started } = await kernelChanges(() => runCells(doc, [setup]));
      assertSucceeded(setup);
      assert.equal(valueText(setup), 'ready');
      assert.equal(started.length, 1, `one kernel process started for the notebook: ${kernelProcesses().join(' | ')}`);
      kernelPid = started[0];
    });

    it('fit: live progress replaces one output several times while training runs', async () => {
      const fit = cell('const paced =');
      const rec = recordOutputs<TrainingPayload>(fit, TRAINING_MIME);
      try {
        await runCells(doc, [fit]);
      } finally {
        rec.dispose();
      }
      assertSucceeded(fit);
      const seen = rec.changes.filter((c) => c.items.length > 0);
      assert.ok(seen.every((c) => c.items.length === 1), 'the cell never had a second training output');
      assert.equal(new Set(seen.map((c) => c.items[0].outputId)).size, 1, 'the same output was replaced each time');
      const running = seen.filter((c) => c.items[0].payload.state === 'running');
      const steps = running.map((c) => trainingStep(c.items[0].payload));
      assert.ok(new Set(steps).size >= 3, `at least 3 distinct progress updates while running, saw steps ${steps.join(', ')}`);
      steps.slice(1).forEach((s, i) => assert.ok(s >= steps[i], `progress never goes back: ${steps.join(', ')}`));
      assert.ok(running[running.length - 1].at - running[0].at >= 200, 'the updates were spread over the run, not sent at the end');
      const last = json<TrainingPayload>(onlyItem(fit, TRAINING_MIME));
      assert.equal(last.state, 'done');
      assert.equal(last.epoch, 2);
      assert.equal(last.batchesPerEpoch, 32);
      assert.equal(last.batches?.count, 64);
      assert.equal(valueText(fit), '2');
    });

    it('the renderer asks this notebook\'s kernel (kernel.ping) and gets the reply', async () => {
      const dir = process.env.AENB_TEST_BRIDGE;
      if (!dir) throw new Error('AENB_TEST_BRIDGE is not set: this test needs the browser page (test/vscode/run-code-server.ts)');
      // The training output above is drawn by our renderer in the notebook's webview; its request
      // goes renderer -> extension host -> this notebook's kernel process, and the reply back.
      const r = await bridgeCall<{ ok: boolean; value?: { echo?: string; pid: number; busy: boolean; backend: string }; error?: unknown }>(
        dir,
        'rendererRequest',
        { method: 'kernel.ping', params: { echo: 'from the renderer' } },
        60_000,
      );
      assert.equal(r.ok, true, JSON.stringify(r));
      assert.equal(r.value?.echo, 'from the renderer');
      assert.equal(r.value?.pid, kernelPid, "the notebook's own kernel answered");
      assert.equal(r.value?.busy, false);
      const unknown = await bridgeCall<{ ok: boolean; error?: { code: string } }>(dir, 'rendererRequest', { method: 'kernel.nothing', params: {} }, 60_000);
      assert.equal(unknown.ok, false);
      assert.equal(unknown.error?.code, 'unknown-method');
    });

    it('an error shows a readable message and the cell\'s own line number', async () => {
      const bad = cell('o.missing.deep');
      await runCells(doc, [bad]);
      assert.equal(bad.executionSummary?.success, false, describeCell(bad));
      const e = json<ErrorData>(onlyItem(bad, ERROR_MIME));
      assert.equal(e.name, 'TypeError');
      assert.equal(e.message, "Cannot read properties of undefined (reading 'deep')");
      const cellName = `Cell ${bad.index + 1}`;
      const line = lineOf(bad, 'o.missing.deep');
      assert.match(e.stack ?? '', new RegExp(`at explode \\(${cellName}:${line}:\\d+\\)`), `the stack points at line ${line} of ${cellName}: ${e.stack}`);
      assert.doesNotMatch(e.stack ?? '', /kernel\.js|node:internal|runtime\.ts/, 'no kernel internals in the stack');
    });

    it('a syntax error names the cell and line', async () => {
      const bad = cell('const b = ;');
      await runCells(doc, [bad]);
      assert.equal(bad.executionSummary?.success, false);
      const e = json<ErrorData>(onlyItem(bad, ERROR_MIME));
      assert.equal(e.name, 'SyntaxError');
      assert.match(e.message, new RegExp(`Cell ${bad.index + 1}:${lineOf(bad, 'const b = ;')}:\\d+`), e.message);
    });

    it('an error inside a TensorFlow.js call names the line of the cell that made the call; the library frames follow', async () => {
      const bad = cell('tf.matMul(left, right)');
      await runCells(doc, [bad]);
      assert.equal(bad.executionSummary?.success, false, describeCell(bad));
      const e = json<ErrorData>(onlyItem(bad, ERROR_MIME));
      assert.match(e.message, /^Error in matMul: inner shapes \(3\) and \(4\)/);
      const lines = (e.stack ?? '').split('\n');
      const line = lineOf(bad, 'tf.matMul(left, right)');
      assert.match(lines[1] ?? '', new RegExp(`^ {4}at Cell ${bad.index + 1}:${line}:\\d+$`), `the cell's line comes right under the message: ${e.stack}`);
      const library = lines.findIndex((l) => l.includes('library frames'));
      assert.ok(library > 1 && lines.slice(library + 1).some((l) => /matMul/i.test(l)), `the library frames are kept, after the cell's: ${e.stack}`);
    });

    it('a promise rejected without a handler fails its cell with its message and stack; the kernel lives on', async () => {
      const bad = cell('nobody awaited this promise');
      await runCells(doc, [bad]);
      assert.equal(bad.executionSummary?.success, false, describeCell(bad));
      const errors = itemsOf(bad, ERROR_MIME).map((i) => json<ErrorData>(i));
      assert.equal(errors.length, 1, 'shown once');
      assert.equal(errors[0].message, 'nobody awaited this promise');
      assert.match(errors[0].stack ?? '', new RegExp(`at Cell ${bad.index + 1}:1:\\d+`));
      assert.ok(kernelPids().includes(kernelPid), 'the same kernel process is still running');
    });

    it('an error thrown by a timer after its cell finished is shown on that cell, which then fails', async () => {
      const late = cell('thrown by a timer after the cell finished');
      await runCells(doc, [late]);
      const e = await waitFor(
        () => (late.executionSummary?.success === false ? itemsOf(late, ERROR_MIME)[0] : undefined),
        () => `the late error on ${describeCell(late)}`,
      );
      assert.equal(json<ErrorData>(e).message, 'thrown by a timer after the cell finished');
      assert.match(json<ErrorData>(e).stack ?? '', new RegExp(`Cell ${late.index + 1}:2:\\d+`));
      assert.equal(valueText(late), 'timer set', 'the outputs of the run stay');
      assert.ok(kernelPids().includes(kernelPid), 'the same kernel process is still running');
    });

    it('cells queued behind a failing cell do not run', async () => {
      const bad = cell('o.missing.deep');
      const next = cell('runs += 1;');
      const before = next.executionSummary;
      const since = await startCells(doc, [bad, next]);
      await waitForCells([bad], since);
      // Cells run in order from one queue: a cell wrongly left in it would have
      // run by the time a cell queued after the failure has finished.
      const probe = cell('typeof data');
      await runCells(doc, [probe]);
      assertSucceeded(probe);
      assert.equal(finishedSince(next, since), false, `the cell after the failure did not run: ${describeCell(next)}`);
      assert.equal(next.executionSummary?.executionOrder, before?.executionOrder);
    });

    it('Interrupt Kernel during training stops at the next batch; the model and the kernel live on', async () => {
      const fit = cell('const long =');
      const since = await startCells(doc, [fit]);
      const progress = await waitForTraining(fit);
      const r = await vscode.commands.executeCommand<string>(COMMANDS.interruptKernel, doc.uri);
      assert.equal(r, 'interrupting');
      // Training stops at its next batch: the cell ends by itself, long before the
      // grace period (120 s in this workspace) would have the kernel killed.
      await waitForCells([fit], since, 60_000);
      assert.equal(fit.executionSummary?.success, false, 'an interrupted cell is not a success');
      const p = json<TrainingPayload>(onlyItem(fit, TRAINING_MIME));
      assert.equal(p.state, 'stopped', `the chart says stopped: ${JSON.stringify({ ...p, history: undefined, batches: undefined })}`);
      assert.ok(p.epoch < p.epochs && trainingStep(p) >= trainingStep(progress), 'stopped part-way, after the progress seen');
      assert.ok(kernelPids().includes(kernelPid), 'the same kernel process is still running');
      const check = cell('long.stopped');
      await runCells(doc, [check]);
      assertSucceeded(check);
      assert.equal(valueText(check), 'stopped: true, batches: true', 'fit returned a history that says it stopped');
    });

    it('VS Code\'s own Interrupt (notebook toolbar) stops training too', async () => {
      const fit = cell('const long =');
      const since = await startCells(doc, [fit]);
      await waitForTraining(fit);
      await vscode.commands.executeCommand('notebook.interruptExecution', doc.uri);
      await waitForCells([fit], since, 60_000);
      assert.equal(json<TrainingPayload>(onlyItem(fit, TRAINING_MIME)).state, 'stopped');
    });

    it('re-running a cell replaces its outputs; the kernel keeps its variables', async () => {
      const c = cell('runs += 1;');
      await runCells(doc, [c]);
      assertSucceeded(c);
      const first = { order: c.executionSummary?.executionOrder ?? 0, runs: Number(valueText(c)) };
      assert.equal(stdout(c), `run ${first.runs}\n`);
      await runCells(doc, [c]);
      assertSucceeded(c);
      assert.equal(Number(valueText(c)), first.runs + 1, 'the counter declared in an earlier cell went up');
      assert.equal(stdout(c), `run ${first.runs + 1}\n`, 'the console output of the first run was replaced, not appended to');
      assert.equal(c.outputs.length, 2, 'one console output and one value');
      assert.ok((c.executionSummary?.executionOrder ?? 0) > first.order, 'a new execution order');
    });

    it('Restart Kernel starts a fresh kernel: variables are gone, execution order restarts', async () => {
      const probe = cell('typeof data');
      await runCells(doc, [probe]);
      assert.equal(valueText(probe), 'object');
      assert.ok(kernelPids().includes(kernelPid), 'the kernel from the first test still runs');
      let info: KernelBackendInfo | undefined;
      const { started, ended } = await kernelChanges(async () => {
        info = await vscode.commands.executeCommand<KernelBackendInfo | undefined>(COMMANDS.restartKernel, doc.uri);
      });
      assert.ok(info && typeof info.name === 'string', `the command returns the backend info, got ${JSON.stringify(info)}`);
      assert.ok(['wasm', 'cpu', 'tensorflow'].includes(info.name), info.name);
      assert.ok(info.reason.length > 10, `it says why this backend: ${info.reason}`);
      if (info.name === 'wasm') {
        const ext = vscode.extensions.getExtension(EXTENSION_ID);
        assert.equal(info.wasmDir, join(ext?.extensionPath ?? '?', 'dist', 'wasm'), 'the wasm binaries come from the extension\'s dist/wasm');
      }
      assert.ok(ended.includes(kernelPid), `the old kernel process ${kernelPid} ended`);
      assert.equal(started.length, 1, `one new kernel process: ${kernelProcesses().join(' | ')}`);
      kernelPid = started[0];
      await runCells(doc, [probe]);
      assert.equal(valueText(probe), 'undefined', 'state from before the restart is gone');
      assert.equal(probe.executionSummary?.executionOrder, 1, 'execution order starts again at 1');
    });

    it('Select Backend "cpu" with restart: the kernel restarts on the plain JavaScript backend', async () => {
      const cfg = () => vscode.workspace.getConfiguration('autoencoderNotebooks');
      const previous = cfg().inspect<string>('backend')?.globalValue;
      try {
        const chosen = await vscode.commands.executeCommand<string>(COMMANDS.selectBackend, { backend: 'cpu', target: 'user', restart: true });
        assert.equal(chosen, 'cpu');
        assert.equal(cfg().get('backend'), 'cpu', 'the setting was written');
        const info = await vscode.commands.executeCommand<KernelBackendInfo | undefined>(COMMANDS.restartKernel, doc.uri);
        assert.equal(info?.name, 'cpu', `the kernel runs on cpu: ${JSON.stringify(info)}`);
        const probe = cell('typeof data');
        await runCells(doc, [probe]);
        assertSucceeded(probe);
      } finally {
        await cfg().update('backend', previous, vscode.ConfigurationTarget.Global);
      }
    });
  });
}
