/// <reference types="mocha" />
// Restricted Mode (the launcher starts code-server with Workspace Trust on and
// the workspace not trusted): a notebook with saved outputs opens and its
// outputs render, but no cell runs and the user is told why. What only the
// page shows (the renderer's webview, notifications, the status bar) is read
// through the launcher's UI bridge (test/support/ui-bridge.ts).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { parseNotebook } from '../../../src/common/aenb';
import { SUMMARY_MIME, type SummaryPayload } from '../../../src/outputs';
import { bridgeCall } from '../../support/ui-bridge';
import { COMMANDS, EXTENSION_ID, cellWith, codeCells, json, kernelProcesses, onlyItem, outputSnapshot, showNotebook, sleep, startCells, waitFor, workspaceFile } from '../helpers';

/** The trust dialog, a notification, the status bar, rendered outputs: see run-code-server.ts's bridge handlers. */
function ui<T>(action: string, args?: unknown): Promise<T> {
  const dir = process.env.AENB_TEST_BRIDGE;
  if (!dir) throw new Error('AENB_TEST_BRIDGE is not set: run this suite with test/vscode/run-code-server.ts --restricted');
  return bridgeCall<T>(dir, action, args, 45_000);
}

export interface RenderedOutputs {
  summaryTotals: string[];
  trainingBadges: string[];
  trainingCharts: number;
  imageRows: string[];
  images: number;
}

export function defineRestrictedTests(): void {
  describe('Restricted Mode (workspace not trusted)', function () {
    this.timeout(90_000);
    const file = () => workspaceFile('saved.aenb');
    let doc: vscode.NotebookDocument;
    let before: ReturnType<typeof outputSnapshot>;

    it('the workspace is not trusted, and the extension is active', async () => {
      assert.equal(vscode.workspace.isTrusted, false, 'this launch leaves Workspace Trust on and the folder untrusted');
      const editor = await showNotebook(file());
      doc = editor.notebook;
      const ext = vscode.extensions.getExtension(EXTENSION_ID);
      await waitFor(() => ext?.isActive, () => 'the extension to activate', 20_000);
      before = outputSnapshot(doc);
    });

    it('saved outputs open with the notebook, exactly as in the file', () => {
      const onDisk = parseNotebook(readFileSync(file().fsPath, 'utf8'));
      const mimes = onDisk.cells.map((c) => (c.kind === 'code' ? c.outputs.map((o) => o.items.map((i) => i.mime)) : []));
      assert.deepEqual(
        doc.getCells().map((c) => c.outputs.map((o) => o.items.map((i) => i.mime))),
        mimes,
        'the same outputs and MIME types per cell as the file',
      );
      assert.ok(mimes.flat(2).length >= 10, 'the file has outputs to show');
      const summary = json<SummaryPayload>(onlyItem(cellWith(doc, 'new Autoencoder('), SUMMARY_MIME));
      assert.equal(summary.totals.total, 101_200);
    });

    it('saved outputs render in the notebook: summary table, loss chart, image grids', async () => {
      const seen = await ui<RenderedOutputs>('renderedOutputs');
      assert.ok(seen.summaryTotals.some((t) => t.includes('101,200')), `the summary table shows 101,200 parameters: ${JSON.stringify(seen)}`);
      assert.ok(seen.trainingCharts >= 1, `a loss chart is drawn: ${JSON.stringify(seen)}`);
      assert.ok(seen.trainingBadges.includes('Done'), `the chart says the training finished: ${JSON.stringify(seen)}`);
      assert.ok(seen.imageRows.includes('Reconstructed') && seen.imageRows.includes('Original'), `image grids with their rows: ${JSON.stringify(seen)}`);
      assert.ok(seen.images >= 6, `images are drawn: ${JSON.stringify(seen)}`);
    });

    it('our status bar item says Restricted Mode', async () => {
      const status = await ui<string | undefined>('statusBar');
      assert.match(status ?? '', /Restricted Mode/, `status bar: ${status}`);
    });

    // VS Code asks for trust before it runs a cell. In a window that runs
    // extension tests the workbench never shows that dialog and the request
    // stays pending, so here the commands are started and not awaited; the
    // dialog itself is checked in the end-to-end tests (test/e2e/).
    for (const [how, start] of [
      ['Run Cell (notebook.cell.execute)', () => startCells(doc, [cellWith(doc, 'datasets.mnist.loadData()')])],
      ['Run All (notebook.execute)', () => vscode.commands.executeCommand('notebook.execute', doc.uri)],
    ] as const) {
      it(`${how}: no cell runs and no kernel starts`, async () => {
        void Promise.resolve(start()).catch(() => undefined);
        await sleep(3000);
        assert.deepEqual(outputSnapshot(doc), before, 'no cell ran: outputs and executions are as saved');
        assert.deepEqual(kernelProcesses(), [], 'no kernel process was started');
        assert.ok(codeCells(doc).every((c) => c.executionSummary?.success === true), 'every cell still shows its saved, successful run');
      });
    }

    it('Restart Kernel says why nothing runs, and starts no kernel', async () => {
      const result = vscode.commands.executeCommand(COMMANDS.restartKernel, doc.uri);
      const message = await ui<string>('takeNotification', { contains: 'Restricted Mode' });
      assert.match(message, /Cells do not run in Restricted Mode: this workspace is not trusted/, message);
      assert.match(message, /Saved outputs still show/);
      assert.equal(await result, undefined, 'the command returns nothing');
      assert.deepEqual(kernelProcesses(), []);
      assert.deepEqual(outputSnapshot(doc), before);
    });
  });
}
