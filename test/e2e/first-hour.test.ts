// End-to-end: a new user's first hour with the packaged extension (the .vsix
// of `npm run package`) in code-server, a remote window as VS Code sees it,
// driven through the workbench in headless Chromium:
//   - "Download the Data Sets..." with MNIST unreachable and Fashion-MNIST on
//     disk names only MNIST as failed; its "Open Settings" opens the Remote
//     tab, where the data settings are; the mirror typed there is used by the
//     next try, which gets both;
//   - the sample picker lists the vanilla sample first, and its code shows no
//     ambiguous-character boxes;
//   - "Run Notebook Headless with Parameters...": the parameters edited in an
//     input box, the runner in a terminal, a notification at the end;
//   - "Export to HTML Report..." then "Open in Browser" opens the report in a
//     new browser tab (through code-server's port proxy).
// Screenshots go to test-results/e2e-first-hour/ (light and dark).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { findRepoRoot, installCodeServer, installVsix, startCodeServer, type CodeServer } from '../support/code-server';
import { startMnistMirror, type Mirror } from '../support/mnist-mirror';
import { reapProcessesIn } from '../support/processes';
import { focusCell, openWorkbench, pickQuickItem, runCommand, setColorTheme, waitForCommand, type Workbench } from '../support/workbench';

const ROOT = findRepoRoot();
const RESULTS = join(ROOT, 'test-results', 'e2e-first-hour');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
const VSIX = process.env.AENB_VSIX ?? join(ROOT, `${pkg.name}-${pkg.version}.vsix`);
const KERNEL = /dist[\\/]kernel\.js/;

let page: Page;
let workspace = '';
let failed = false;

async function shot(name: string): Promise<string> {
  const file = join(RESULTS, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/**
 * A screenshot in the light theme and one in the dark theme (then light
 * again). Switching the theme closes an open quick pick: take the light one
 * by hand and `reopen` it for the dark one.
 */
async function shots(name: string, reopen?: () => Promise<void>): Promise<void> {
  await shot(`${name}-light`);
  await setColorTheme(page, 'Dark Modern');
  if (reopen) await reopen();
  await page.mouse.move(2, 2);
  await shot(`${name}-dark`);
  if (reopen) await page.keyboard.press('Escape');
  await setColorTheme(page, 'Light Modern');
}

/** Steps of one story: after a failed step, the ones that need its state are reported as not run, naming it. */
function story() {
  let broken: string | undefined;
  return (name: string, timeoutMs: number, fn: () => Promise<void>): void => {
    test(name, { timeout: timeoutMs }, async (t) => {
      if (broken) {
        t.skip(`not run: the step "${broken}" failed, and this one needs the state it leaves`);
        return;
      }
      try {
        await fn();
      } catch (e) {
        failed = true;
        broken ??= name;
        if (page) await shot(`FAILED-${name.replace(/[^\w]+/g, '-').slice(0, 60)}`).catch(() => undefined);
        throw e;
      }
    });
  };
}

/** The toast whose message contains `text` (waits for it). */
async function toast(text: string | RegExp, timeoutMs: number) {
  const item = page.locator('.notifications-toasts .notification-list-item', { hasText: text }).first();
  await item.waitFor({ timeout: timeoutMs });
  return item;
}

async function clearToasts(): Promise<void> {
  await page.keyboard.press('Escape');
  for (const item of await page.locator('.notifications-toasts .notification-list-item').all()) {
    await item.hover().catch(() => undefined);
    await item.locator('.codicon-notifications-clear').first().click({ timeout: 2000 }).catch(() => undefined);
  }
}

before(() => {
  rmSync(RESULTS, { recursive: true, force: true });
  mkdirSync(RESULTS, { recursive: true });
  if (!existsSync(VSIX)) throw new Error(`${VSIX} is missing: run npm run package first (npm run test:e2e does).`);
  const newest = Math.max(...['extension.js', 'kernel.js', 'renderer.js'].map((f) => statSync(join(ROOT, 'dist', f)).mtimeMs));
  if (statSync(VSIX).mtimeMs < newest - 60_000) throw new Error(`${VSIX} is older than dist/: run npm run package again.`);
  installCodeServer({ log: (l) => console.log(`[e2e] ${l}`) });
  workspace = mkdtempSync(join(tmpdir(), 'aenb-e2e-first-hour-'));
});

after(async () => {
  const left = workspace ? await reapProcessesIn(workspace, KERNEL) : [];
  if (workspace) rmSync(workspace, { recursive: true, force: true });
  if (left.length) console.error(`[e2e] kernel processes outlived code-server and were killed: ${left.map((p) => p.pid).join(', ')}`);
  console[failed ? 'error' : 'log'](`[e2e] ${failed ? 'FAILED: ' : ''}screenshots and server logs are in ${RESULTS}`);
});

describe('a new user\'s first hour, in code-server with the VSIX', () => {
  const step = story();
  let stateDir = '';
  let server: CodeServer | undefined;
  let wb: Workbench | undefined;
  let mirror: Mirror | undefined;
  let remoteSettings = '';

  before(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'aenb-e2e-first-hour-state-'));
    installVsix(VSIX, { stateDir, log: (l) => console.log(`[e2e] ${l}`) });
    mirror = await startMnistMirror();
    // The terminal drawn as DOM rows (not on a canvas), so that the test can read the runner's output.
    server = await startCodeServer({ workspace, stateDir, settings: { 'terminal.integrated.gpuAcceleration': 'off' } });
    // The data settings apply to the machine the extension runs on: in a remote
    // window they are the Remote settings (code-server keeps them in Machine/).
    remoteSettings = join(server.userDataDir, 'Machine', 'settings.json');
    mkdirSync(join(server.userDataDir, 'Machine'), { recursive: true });
    // A mirror that refuses connections: MNIST cannot be had (the VSIX brings no copy).
    writeFileSync(remoteSettings, JSON.stringify({ 'autoencoderNotebooks.downloadMirror': 'http://127.0.0.1:9' }, null, 2));
    wb = await openWorkbench(server.workbenchUrl(), { width: 1400, height: 900 });
    page = wb.page;
    await waitForCommand(page, 'Autoencoder Notebooks: Download the Data Sets');
  });

  after(async () => {
    await wb?.close().catch(() => undefined);
    await server?.stop({ saveLogsTo: join(RESULTS, 'server') });
    await mirror?.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  step('Download the Data Sets with MNIST unreachable: only MNIST is named as failed; Fashion-MNIST is ready', 180_000, async () => {
    await runCommand(page, 'Autoencoder Notebooks: Download the Data Sets');
    // Both data sets are picked by default: accept.
    await page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: 'Fashion-MNIST' }).first().waitFor({ timeout: 60_000 });
    await page.keyboard.press('Enter');
    const item = await toast('Could not get', 120_000);
    const message = (await item.locator('.notification-list-item-message').innerText()).replace(/\s+/g, ' ');
    assert.match(message, /^Could not get MNIST: /);
    assert.doesNotMatch(message, /Could not get MNIST and Fashion-MNIST|Could not get Fashion-MNIST/);
    assert.match(message, /Fashion-MNIST is ready/);
    await page.mouse.move(2, 2);
    await shots('01-datasets-partial-failure');
  });

  step('"Open Settings" opens the Remote tab, where the data settings are listed', 60_000, async () => {
    const item = await toast('Could not get MNIST', 30_000);
    await item.locator('.monaco-button', { hasText: 'Open Settings' }).click();
    const editor = page.locator('.settings-editor');
    await editor.waitFor({ timeout: 30_000 });
    const active = page.locator('.settings-editor .settings-tabs-widget .action-label.checked');
    await active.waitFor({ timeout: 30_000 });
    assert.match(await active.innerText(), /Remote/);
    const mirrorSetting = page.locator('.settings-editor .setting-item-contents', { hasText: 'Download Mirror' }).first();
    await mirrorSetting.waitFor({ timeout: 30_000 });
    await page.locator('.settings-editor .setting-item-contents', { hasText: 'Data Folder' }).first().waitFor({ timeout: 30_000 });
    assert.equal(await page.locator('.settings-editor .no-results-message').isVisible(), false, 'not "No Settings Found"');
    await page.mouse.move(2, 2);
    await shots('02-open-settings-remote');
  });

  step('the mirror typed there is used by the next "Download the Data Sets": both are ready', 240_000, async () => {
    const input = page.locator('.settings-editor .setting-item-contents', { hasText: 'Download Mirror' }).first().locator('input').first();
    // fill focuses the input itself (a click at its place could land on a notification toast).
    await input.fill(mirror!.url);
    await input.press('Tab');
    // Written to the Remote settings file.
    const deadline = Date.now() + 30_000;
    while (!readFileSync(remoteSettings, 'utf8').includes(mirror!.url)) {
      if (Date.now() > deadline) throw new Error(`The mirror was not written to ${remoteSettings}: ${readFileSync(remoteSettings, 'utf8')}`);
      await page.waitForTimeout(100);
    }
    await clearToasts();
    await runCommand(page, 'Autoencoder Notebooks: Download the Data Sets');
    await page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: 'MNIST' }).first().waitFor({ timeout: 60_000 });
    await page.keyboard.press('Enter');
    const item = await toast(/are ready/, 180_000);
    assert.match((await item.innerText()).replace(/\s+/g, ' '), /MNIST and Fashion-MNIST are ready: 4 files downloaded and verified, 4 already here\./);
    assert.ok(mirror!.requests.some((r) => r.endsWith('/mnist/train-images-idx3-ubyte.gz')), 'downloaded from the mirror');
    await clearToasts();
  });

  step('the sample picker lists the vanilla autoencoder first; its code shows no ambiguous-character boxes', 120_000, async () => {
    const rows = page.locator('.quick-input-widget .quick-input-list .monaco-list-row');
    const openPicker = async () => {
      await runCommand(page, 'Autoencoder Notebooks: New Notebook from a Sample');
      await rows.first().waitFor({ timeout: 30_000 });
    };
    await openPicker();
    const labels = [await rows.nth(0).locator('.label-name').first().innerText(), await rows.nth(1).locator('.label-name').first().innerText()];
    await shots('03-sample-picker', openPicker);
    await openPicker();
    await pickQuickItem(page, 'A vanilla autoencoder on MNIST');
    await page.locator('.tabs-container .tab', { hasText: 'vanilla-mnist.aenb' }).first().waitFor({ timeout: 30_000 });
    // The data cell (with its console.log lines), scrolled into view: the notebook draws only the cells on screen.
    await page.locator('.notebookOverlay .monaco-list-row.code-cell-row .view-lines').first().waitFor({ timeout: 30_000 });
    await focusCell(page, 'datasets.mnist.loadData');
    const dataCell = page.locator('.notebookOverlay .monaco-list-row.code-cell-row', { hasText: 'datasets.mnist.loadData' }).first();
    await dataCell.locator('.view-lines').first().waitFor({ timeout: 30_000 });
    const code = (await dataCell.innerText()).replace(/\u00a0/g, ' ');
    const boxed = await page.locator('.notebookOverlay .unicode-highlight').count();
    assert.deepEqual(labels, ['A vanilla autoencoder on MNIST', 'A stacked autoencoder with tied weights on Fashion-MNIST']);
    assert.match(code, /join\(' x '\)/);
    assert.equal(boxed, 0, 'no character is boxed as ambiguous');
  });

  step('Run Notebook Headless with Parameters: edit the values, watch the runner, get the results', 300_000, async () => {
    await page.keyboard.press('Escape');
    await runCommand(page, 'Autoencoder Notebooks: Run Notebook Headless with Parameters');
    const input = page.locator('.quick-input-widget input.input');
    await input.waitFor({ timeout: 30_000 });
    assert.equal(await input.inputValue(), 'epochs=50 batchSize=32 latentDim=64 trainSamples=60000 noiseFactor=0.3 nImages=4');
    await input.fill('epochs=1 batchSize=64 latentDim=64 trainSamples=1024 noiseFactor=0.3 nImages=2');
    await page.mouse.move(2, 2);
    await shot('04-headless-parameters-light');
    await input.press('Enter');
    const item = await toast('Headless run of vanilla-mnist.aenb', 240_000);
    assert.match((await item.innerText()).replace(/\s+/g, ' '), /finished: every cell succeeded\. Wrote vanilla-mnist\.executed\.aenb and vanilla-mnist\.executed\.html/);
    // The terminal draws the runner's last lines on its own time: the notification may come first.
    const terminal = page.locator('.terminal-wrapper .xterm-rows').first();
    await terminal.waitFor({ timeout: 30_000 });
    const deadline = Date.now() + 30_000;
    let text = '';
    while (!/All \d+ code cells succeeded/.test((text = (await terminal.innerText()).replace(/\u00a0/g, ' '))) && Date.now() < deadline) {
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(r)));
    }
    assert.match(text, /All \d+ code cells succeeded/);
    await page.mouse.move(2, 2);
    await shots('05-headless-finished');
    const out = JSON.parse(readFileSync(join(workspace, 'vanilla-mnist.executed.aenb'), 'utf8')) as { cells: { tags?: string[]; source: string[] }[] };
    assert.ok(out.cells.some((c) => c.source.join('').includes('const epochs = 1;')), 'the executed notebook has the parameters');
    assert.equal(readFileSync(join(workspace, 'vanilla-mnist.aenb'), 'utf8').includes('const epochs = 50;'), true, 'the notebook itself is unchanged');
    await clearToasts();
  });

  step('Export to HTML Report, then "Open in Browser": the report opens in a new browser tab', 120_000, async () => {
    // The notebook editor is active again.
    await page.locator('.tabs-container .tab', { hasText: 'vanilla-mnist.aenb' }).first().click();
    // The command exports the active notebook: wait until the click has made it so.
    await page.locator('.tabs-container .tab.active', { hasText: 'vanilla-mnist.aenb' }).first().waitFor({ timeout: 30_000 });
    await runCommand(page, 'Autoencoder Notebooks: Export to HTML Report');
    // The save dialog proposes vanilla-mnist.html beside the notebook: accept it.
    const input = page.locator('.quick-input-widget input.input');
    await input.waitFor({ timeout: 30_000 });
    // The simple save dialog fills its input in steps (the folder first, then the name): wait for the whole proposal.
    const proposed = await page
      .waitForFunction(
        (selector) => {
          const value = (document.querySelector(selector) as HTMLInputElement | null)?.value ?? '';
          return /vanilla-mnist\.html$/.test(value) ? value : false;
        },
        '.quick-input-widget input.input',
        { timeout: 30_000 },
      )
      .then(async (h) => String(await h.jsonValue()), async () => input.inputValue());
    assert.match(proposed, /vanilla-mnist\.html$/);
    await input.press('Enter');
    const item = await toast('Exported the notebook to vanilla-mnist.html', 60_000);
    assert.ok(existsSync(join(workspace, 'vanilla-mnist.html')), 'the report was written');
    await shot('06-exported-light');
    const popup = wb!.context.waitForEvent('page', { timeout: 60_000 });
    await item.locator('.monaco-button', { hasText: 'Open in Browser' }).click();
    const report = await popup;
    await report.waitForLoadState('load');
    assert.match(report.url(), /\/proxy\/\d+\/[0-9a-f]{32}\/vanilla-mnist\.html$/, `opened through code-server's proxy: ${report.url()}`);
    await report.locator('text=A vanilla autoencoder on MNIST').first().waitFor({ timeout: 30_000 });
    await report.setViewportSize({ width: 1200, height: 900 });
    await report.screenshot({ path: join(RESULTS, '07-report-in-browser-light.png') });
    // The report follows the browser's color scheme.
    await report.emulateMedia({ colorScheme: 'dark' });
    await report.screenshot({ path: join(RESULTS, '07-report-in-browser-dark.png') });
    await report.close();
  });
});

