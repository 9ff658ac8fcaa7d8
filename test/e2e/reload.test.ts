// End-to-end: nothing is lost when the window reloads. The packaged
// extension in code-server, driven in Chromium:
//  - "Developer: Reload Window" during training: the kernel lives on, the
//    window reattaches, the cell runs again with its chart, the chart keeps
//    advancing and ends Done with every epoch's loss; the cell queued behind
//    it is reported as not run;
//  - unsaved edits made 2 s before a reload are back after it (an .ipynb
//    edited the same way in the same window is checked beside it);
//  - the kernel's socket refuses a client without its token; its token file
//    and socket are owner-only;
//  - the notebook closed during training: the kernel is told, finishes the
//    cell without a window, then ends, and leaves no process and no files
//    (the end of the grace period with a cell still running is in
//    test/unit/kernel-socket.test.ts, on a real kernel process).
//
// The training cell waits at a fixed batch for a file the test writes (a
// readiness signal, not a timer), so that the reload always happens while it
// runs, however loaded the machine is.
import { before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { join } from 'node:path';
import type { FrameLocator, Page } from 'playwright-core';
import { createCodeCell, createNotebook, serializeNotebook } from '../../src/common/aenb';
import { e2eWorkspace, KERNEL, PKG as pkg, poll, resultsFolder, useWorkbench } from '../support/e2e';
import { processesIn } from '../support/processes';
import {
  codeCells,
  notebookToolbarButton,
  openFile,
  outputsFrame,
  runCommand,
  takeNotification,
  waitForCommand,
} from '../support/workbench';

const RESULTS = resultsFolder('e2e-reload');
/** For working on this test: load the extension from this folder (development build) instead of installing the VSIX. */
const DEV_EXTENSION = process.env.AENB_E2E_EXTENSION_DIR;
const EPOCHS = 6;

/**
 * The test notebook: set-up, a training that holds at epoch 3 (writing the
 * file `held` when it gets there) until the file `go` appears, and again at
 * epoch 5 (`held-2`, until `go-2`), and a cell after it.
 */
function notebookText(dir: string): string {
  const inDir = JSON.stringify(join(dir, '/'));
  const cells = [
    createCodeCell(
      [
        '// set-up',
        'const fs = (process as any).mainModule.require("fs");',
        'const x = tf.randomUniform([2048, 8, 8], 0, 1, "float32", 1);',
        'const model = new Autoencoder({ inputShape: [8, 8], latentDim: 4, seed: 1 });',
        'model.compile();',
      ].join('\n'),
    ),
    createCodeCell(
      [
        '// training',
        'let epochNow = 0;',
        'const hold = {',
        '  onEpochBegin: (e: number) => { epochNow = e; },',
        '  // Waits at epoch 3, batch 41, and at epoch 5, batch 21, until the test says go.',
        '  onBatchEnd: async (b: number) => {',
        '    const [held, go] = epochNow === 2 && b === 40 ? ["held", "go"] : epochNow === 4 && b === 20 ? ["held-2", "go-2"] : [];',
        '    if (!held) return;',
        `    fs.writeFileSync(${inDir} + held, String(Date.now()));`,
        `    while (!fs.existsSync(${inDir} + go)) await new Promise((r) => setTimeout(r, 50));`,
        '  },',
        '};',
        `const history = await model.fit(x, x, { epochs: ${EPOCHS}, batchSize: 16, seed: 1, callbacks: [hold] });`,
      ].join('\n'),
    ),
    createCodeCell('// after training\nhistory.epoch.length'),
  ];
  return serializeNotebook(createNotebook(cells));
}

const IPYNB = JSON.stringify({ cells: [{ cell_type: 'code', source: ['x = 1'], metadata: {}, outputs: [], execution_count: null }], metadata: {}, nbformat: 4, nbformat_minor: 5 }, null, 1);

let page: Page;

const ws = e2eWorkspace('aenb-e2e-reload-', (dir) => {
  writeFileSync(join(dir, 'train.aenb'), notebookText(dir));
  writeFileSync(join(dir, 'compare.ipynb'), IPYNB);
});

describe('a window reload in code-server: the kernel lives on, nothing is lost', () => {
  let frame: FrameLocator;
  let kernelPid = 0;
  let kernelsDir = '';
  let dialogs = 0;
  let workspace = '';

  const fx = useWorkbench({
    results: RESULTS,
    workspace: ws,
    settings: {
      'autoencoderNotebooks.interruptGracePeriod': 120,
      'autoencoderNotebooks.kernelGracePeriod': 600,
      'autoencoderNotebooks.backend': 'wasm',
    },
    extensionDir: DEV_EXTENSION,
    viewport: { width: 1400, height: 1000 },
    readyCommand: 'Autoencoder Notebooks: Show Log',
    // The kernels' own logs (what they were told, and why they ended), before a kernel that ends removes its log.
    afterStop: () => {
      if (kernelsDir && existsSync(kernelsDir)) {
        mkdirSync(join(RESULTS, 'kernels'), { recursive: true });
        for (const f of readdirSync(kernelsDir).filter((n) => n.endsWith('.log'))) copyFileSync(join(kernelsDir, f), join(RESULTS, 'kernels', f));
      }
    },
  });

  before(() => {
    workspace = ws.path;
    kernelsDir = join(fx.server.userDataDir, 'User', 'globalStorage', `${pkg.publisher}.${pkg.name}`, 'kernels');
    page = fx.page;
    // A window with unsaved (not yet backed-up) changes asks before it unloads; the user says Reload.
    page.on('dialog', (d) => {
      dialogs++;
      void d.accept();
    });
    frame = outputsFrame(page);
  });
  const step = fx.step;
  const shot = (name: string) => fx.shot(name).then(() => undefined, () => undefined);

  /** Opens a file with Quick Open and waits until its editor is the active tab (a click on a row that re-renders may be lost). */
  async function open(name: string): Promise<void> {
    await openFile(page, name);
    const activeTab = page.locator('.tabs-container .tab.active', { hasText: name });
    await poll(async () => {
      if ((await activeTab.count()) > 0) return true;
      if (await page.locator('.quick-input-widget input.input').isVisible()) await page.keyboard.press('Enter');
      return undefined;
    }, `${name} to be the active editor`, 60_000, 500);
  }

  /** What the running kernels wrote to their logs (what they were told, and why they ended). */
  const readKernelLog = () =>
    existsSync(kernelsDir)
      ? readdirSync(kernelsDir)
          .filter((n) => n.endsWith('.log'))
          .map((n) => readFileSync(join(kernelsDir, n), 'utf8'))
          .join('\n')
      : '';
  const trainingOutput = () => frame.locator('.aenb-training').first();
  const progressText = async () => (await trainingOutput().locator('.aenb-bar').getAttribute('aria-valuetext', { timeout: 500 })) ?? '';
  const badge = async () => ((await trainingOutput().locator('.aenb-badge').textContent({ timeout: 500 })) ?? '').trim();

  async function reload(): Promise<void> {
    // The new document of the page (not a webview frame's navigation) is waited for before the workbench is
    // looked at: until the old page goes, its .monaco-workbench and commands are still there.
    const navigated = page.waitForEvent('domcontentloaded', { timeout: 120_000 });
    await runCommand(page, 'Developer: Reload Window');
    await navigated;
    await page.locator('.monaco-workbench').waitFor({ timeout: 120_000 });
    await waitForCommand(page, 'Autoencoder Notebooks: Show Log');
  }

  async function appendToFirstCell(text: string): Promise<void> {
    const cell = codeCells(page).first();
    await cell.waitFor({ timeout: 30_000 });
    await cell.locator('.view-lines').click();
    await page.keyboard.press('Control+End');
    await page.keyboard.insertText(text);
    await page.keyboard.press('Escape');
  }

  /** The training cell (the second code cell). */
  const trainingCell = () => codeCells(page).nth(1);

  const firstCellText = async () => ((await codeCells(page).first().locator('.view-lines').innerText({ timeout: 5000 })) ?? '').replace(/\u00a0/g, ' ');

  step('Run All: training runs and holds at epoch 3 (the cell after it is queued)', 240_000, async () => {
    await open('train.aenb');
    await codeCells(page).first().waitFor({ timeout: 60_000 });
    await notebookToolbarButton(page, 'Run All').click();
    await poll(() => (existsSync(join(workspace, 'held')) ? true : undefined), 'training to reach its hold at epoch 3', 180_000);
    // Polled, not read once: the webview may be redrawing the output at that moment.
    await poll(async () => (/epoch 3 of 6/.test(await progressText()) && (await badge()) === 'Training' ? true : undefined), 'the chart to show epoch 3, training', 30_000);
    const kernels = processesIn(workspace, KERNEL);
    assert.equal(kernels.length, 1, 'one kernel');
    kernelPid = kernels[0].pid;
    assert.match(kernels[0].cmdline, /--serve/, 'a kernel that outlives its window');
    await shot('01-training-held');
  });

  step('the kernel: owner-only token file and socket; a client without the token is refused', 30_000, async () => {
    const records = readdirSync(kernelsDir).filter((n) => n.endsWith('.json'));
    assert.equal(records.length, 1);
    const record = JSON.parse(readFileSync(join(kernelsDir, records[0]), 'utf8')) as { pid: number; socket: string; tokenFile: string; notebook: string };
    assert.equal(record.pid, kernelPid);
    assert.match(record.notebook, /train\.aenb$/);
    const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);
    assert.equal(mode(kernelsDir), '700');
    assert.equal(mode(record.tokenFile), '600');
    assert.equal(mode(record.socket), '600');
    const answer = await new Promise<string>((resolve) => {
      const s = net.connect(record.socket);
      let got = '';
      s.on('data', (d) => (got += d));
      s.on('close', () => resolve(got));
      s.on('error', () => resolve(got));
      s.on('connect', () => s.write(JSON.stringify({ $transport: 'hello', token: 'guess', client: { pid: 1 } }) + '\n' + JSON.stringify({ type: 'interrupt' }) + '\n'));
    });
    assert.deepEqual(JSON.parse(answer), { $transport: 'refused', reason: 'wrong or missing token' });
    // A poll, not one read: the webview may be redrawing the output at that moment.
    await poll(async () => (/epoch 3 of 6/.test(await progressText().catch(() => '')) ? true : undefined), 'the chart to still show epoch 3 (the refused client changed nothing)', 30_000);
  });

  step('an edit made 2 s before "Developer: Reload Window" during training is there after it; the cell runs again, at epoch 3', 240_000, async () => {
    await appendToFirstCell('\n// edited 2 s before the reload');
    await page.waitForTimeout(2000); // the point of the test: the edit is this fresh when the window goes
    const dialogsBefore = dialogs;
    await reload();
    console.log(`[e2e] beforeunload dialogs on this reload: ${dialogs - dialogsBefore}`);
    await open('train.aenb');
    await poll(async () => ((await firstCellText()).includes('// edited 2 s before the reload') ? true : undefined), 'the unsaved edit to be back', 60_000);
    assert.equal(await page.locator('.tabs-container .tab.dirty', { hasText: 'train.aenb' }).count(), 1, 'the notebook is open with unsaved changes, as before the reload');
    // The same kernel, reattached: its cell shows as running again.
    assert.deepEqual(processesIn(workspace, KERNEL).map((p) => p.pid), [kernelPid], 'the kernel process survived the reload');
    await poll(async () => ((await badge()) === 'Training' && /epoch 3 of 6/.test(await progressText()) ? true : undefined), 'the training chart, live again at epoch 3', 60_000);
    await notebookToolbarButton(page, 'Interrupt').waitFor({ timeout: 30_000 });
    await poll(async () => ((await trainingCell().locator('.codicon-notebook-state-executing').count()) > 0 ? true : undefined), 'the training cell to show as running', 30_000);
    await shot('02-after-reload-running');
  });

  step('the cell that was queued behind it is reported as not run', 60_000, async () => {
    const message = await takeNotification(page, 'did not run', 60_000);
    assert.match(message, /train\.aenb: Cell 3 was waiting to run when the window reloaded, and did not run\./);
  });

  step('the chart keeps advancing and ends Done with every epoch’s loss', 300_000, async () => {
    writeFileSync(join(workspace, 'go'), 'go');
    // It trains on, live in this window, to its second hold at epoch 5.
    await poll(() => (existsSync(join(workspace, 'held-2')) ? true : undefined), 'training to go on to epoch 5', 120_000);
    await poll(async () => (/epoch 5 of 6/.test(await progressText()) && (await badge()) === 'Training' ? true : undefined), 'the chart to advance to epoch 5', 60_000);
    await shot('03-after-reload-advanced');
    writeFileSync(join(workspace, 'go-2'), 'go');
    await poll(async () => ((await badge()) === 'Done' ? true : undefined), 'training to end', 240_000);
    const status = ((await trainingOutput().locator('.aenb-status-line').textContent()) ?? '').trim();
    assert.match(status, new RegExp(`^${EPOCHS} epochs · .*loss 0\\.\\d{4}`), status);
    assert.match((await trainingOutput().locator('.aenb-chart').getAttribute('aria-label')) ?? '', new RegExp(`${EPOCHS} of ${EPOCHS} epochs`));
    await poll(async () => ((await notebookToolbarButton(page, 'Run All').count()) > 0 ? true : undefined), 'the notebook to be idle', 60_000);
    await poll(async () => ((await trainingCell().locator('.codicon-notebook-state-success').count()) > 0 ? true : undefined), 'the cell to end as succeeded', 30_000);
    await shot('04-after-reload-done');
  });

  step('unsaved edits made 2 s before a reload, in .aenb and .ipynb side by side: ours are kept', 240_000, async () => {
    await open('compare.ipynb');
    await codeCells(page).first().waitFor({ timeout: 60_000 });
    await appendToFirstCell('\n# ipynb edit');
    await open('train.aenb');
    await codeCells(page).first().waitFor({ timeout: 60_000 });
    await appendToFirstCell('\n// second edit');
    await page.waitForTimeout(2000); // both edits are 2 s old when the window reloads
    await reload();
    await open('train.aenb');
    const aenb = await poll(async () => ((await firstCellText()).includes('// second edit') ? true : undefined), 'the .aenb edit to be back', 60_000).catch(() => false);
    await open('compare.ipynb');
    await codeCells(page).first().waitFor({ timeout: 60_000 });
    const ipynb = (await firstCellText()).includes('# ipynb edit');
    console.log(`[e2e] edits 2 s before a reload: .aenb ${aenb ? 'kept' : 'lost'}, .ipynb ${ipynb ? 'kept' : 'lost'} (VS Code backs up remote notebooks 10 s after their last change)`);
    assert.equal(aenb, true, 'the .aenb edit survived the reload');
    await shot('05-edits-after-reload');
  });

  step('the notebook closed during training: its kernel finishes the cell, then ends, leaving no process and no files', 300_000, async () => {
    // Run the training again: without its go file it holds at epoch 3 until something ends it.
    for (const f of ['go', 'held', 'go-2', 'held-2']) rmSync(join(workspace, f), { force: true });
    await open('train.aenb');
    await trainingCell().locator('.view-lines').click();
    await trainingCell().locator('a.action-label.codicon-notebook-execute').first().click();
    await poll(() => (existsSync(join(workspace, 'held')) ? true : undefined), 'the training to hold again', 180_000);
    const pid = processesIn(workspace, KERNEL)[0]?.pid;
    assert.equal(pid, kernelPid, 'the same kernel as before the reloads');
    await runCommand(page, 'View: Revert and Close Editor');
    await poll(async () => ((await page.locator('.tabs-container .tab', { hasText: 'train.aenb' }).count()) === 0 ? true : undefined), 'the notebook to close', 30_000);
    // The window lets go of it (the notebook is closed), but its running cell keeps it until the cell is done.
    await poll(() => (readKernelLog().includes('the notebook was closed') ? true : undefined), 'the kernel to be told that its notebook was closed', 30_000, 250);
    assert.ok(processesIn(workspace, KERNEL).length === 1, 'its running cell keeps the kernel for now');
    writeFileSync(join(workspace, 'go'), 'go');
    await poll(() => (existsSync(join(workspace, 'held-2')) ? true : undefined), 'the training to go on to epoch 5 without a window', 120_000);
    writeFileSync(join(workspace, 'go-2'), 'go');
    await poll(() => (processesIn(workspace, KERNEL).length === 0 ? true : undefined), 'the kernel to end once its cell is done', 240_000, 250);
    const left = readdirSync(kernelsDir).filter((n) => /\.(json|token|sock|log)$/.test(n));
    assert.deepEqual(left, [], 'no record, token, socket or log left behind');
    await shot('06-closed-no-kernel');
  });
});
