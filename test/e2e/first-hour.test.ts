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
import { before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { e2eWorkspace, poll, resultsFolder, useWorkbench, type WorkbenchFixture } from '../support/e2e';
import { focusCell, pickQuickItem, runCommand, setColorTheme } from '../support/workbench';

const RESULTS = resultsFolder('e2e-first-hour');

let page: Page;
let fx: WorkbenchFixture;
const shot = (name: string) => fx.shot(name);

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

const workspace = e2eWorkspace('aenb-e2e-first-hour-');

describe('a new user\'s first hour, in code-server with the VSIX', () => {
  let remoteSettings = '';
  fx = useWorkbench({
    results: RESULTS,
    workspace,
    mirror: true,
    // The terminal drawn as DOM rows (not on a canvas), so that the test can read the runner's output.
    settings: { 'terminal.integrated.gpuAcceleration': 'off' },
    beforeOpen: (server) => {
      // The data settings apply to the machine the extension runs on: in a remote
      // window they are the Remote settings (code-server keeps them in Machine/).
      remoteSettings = join(server.userDataDir, 'Machine', 'settings.json');
      mkdirSync(join(server.userDataDir, 'Machine'), { recursive: true });
      // A mirror that refuses connections: MNIST cannot be had (the VSIX brings no copy).
      writeFileSync(remoteSettings, JSON.stringify({ 'autoencoderNotebooks.downloadMirror': 'http://127.0.0.1:9' }, null, 2));
    },
    viewport: { width: 1400, height: 900 },
    readyCommand: 'Autoencoder Notebooks: Download the Data Sets',
  });
  before(() => {
    page = fx.page;
  });
  const step = fx.step;
  const mirror = () => fx.mirror!;

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
    await input.fill(mirror().url);
    await input.press('Tab');
    // Written to the Remote settings file.
    await poll(() => (readFileSync(remoteSettings, 'utf8').includes(mirror().url) ? true : undefined), `the mirror to be written to ${remoteSettings}`, 30_000);
    // The settings editor redraws the row as modified, and takes the focus back meanwhile (which closes a
    // palette opened then): let it do so first. The palette helpers reopen it anyway.
    await page.locator('.settings-editor .setting-item.is-configured', { hasText: 'Download Mirror' }).first().waitFor({ timeout: 30_000 }).catch(() => undefined);
    await clearToasts();
    await runCommand(page, 'Autoencoder Notebooks: Download the Data Sets');
    await page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: 'MNIST' }).first().waitFor({ timeout: 60_000 });
    await page.keyboard.press('Enter');
    const item = await toast(/are ready/, 180_000);
    assert.match((await item.innerText()).replace(/\s+/g, ' '), /MNIST and Fashion-MNIST are ready: 4 files downloaded and verified, 4 already here\./);
    assert.ok(mirror().requests.some((r) => r.endsWith('/mnist/train-images-idx3-ubyte.gz')), 'downloaded from the mirror');
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
    const out = JSON.parse(readFileSync(join(workspace.path, 'vanilla-mnist.executed.aenb'), 'utf8')) as { cells: { tags?: string[]; source: string[] }[] };
    assert.ok(out.cells.some((c) => c.source.join('').includes('const epochs = 1;')), 'the executed notebook has the parameters');
    assert.equal(readFileSync(join(workspace.path, 'vanilla-mnist.aenb'), 'utf8').includes('const epochs = 50;'), true, 'the notebook itself is unchanged');
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
    assert.ok(existsSync(join(workspace.path, 'vanilla-mnist.html')), 'the report was written');
    await shot('06-exported-light');
    const popup = fx.wb.context.waitForEvent('page', { timeout: 60_000 });
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

