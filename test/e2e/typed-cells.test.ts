// End-to-end: typed cells in the packaged extension, as a user sees them in
// the workbench (code-server, headless Chromium): a misspelled member is
// underlined before anything runs, its hover says why, and typing
// `autoencoder.` opens the suggest widget with the model's members, in the
// dark and the light theme. Nothing runs: no kernel, no data.
//
// Screenshots go to test-results/e2e/typed-cells/.
import { before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { createCodeCell, createMarkdownCell, createNotebook, serializeNotebook } from '../../src/common/aenb';
import { e2eWorkspace, resultsFolder, useWorkbench } from '../support/e2e';
import { editFocusedCell, focusCell, openFile, runCommand, setColorTheme } from '../support/workbench';

const RESULTS = resultsFolder('e2e/typed-cells');
const PROBE = '// try it here';

let page: Page;

async function shot(name: string, clip?: { x: number; y: number; width: number; height: number }): Promise<void> {
  await page.screenshot({ path: join(RESULTS, `${name}.png`), ...(clip ? { clip } : {}), animations: 'disabled' });
}

/** The part of the page around an element (the notebook's width), for a focused picture. */
async function around(selector: string, extra = { above: 60, below: 260 }): Promise<{ x: number; y: number; width: number; height: number }> {
  const box = await page.locator(selector).first().boundingBox();
  const list = await page.locator('.notebookOverlay .monaco-list').first().boundingBox();
  if (!box || !list) throw new Error(`${selector} is not on screen`);
  const y = Math.max(list.y, box.y - extra.above);
  return { x: list.x, y, width: list.width, height: Math.min(list.y + list.height, box.y + box.height + extra.below) - y };
}

/** Hovers the underlined misspelling and waits for the hover that explains it. */
async function hoverError(): Promise<string> {
  const squiggle = page.locator('.notebookOverlay .squiggly-error').first();
  await squiggle.waitFor({ timeout: 90_000 });
  await focusCell(page, 'autoencoder.fitt');
  await page.keyboard.press('Escape');
  await noHover();
  const box = await squiggle.boundingBox();
  assert.ok(box, 'the squiggle is on screen');
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  const hover = page.locator('.monaco-hover:not(.hidden)', { hasText: 'fitt' }).first();
  await hover.waitFor({ timeout: 20_000 });
  return (await hover.innerText()).replace(/\u00a0/g, ' ');
}

/** Types `autoencoder.` into the probe cell, as a user would, and returns the suggest widget's labels. */
async function suggestAfterDot(): Promise<string[]> {
  await focusCell(page, PROBE);
  await editFocusedCell(page);
  await page.keyboard.press('Control+End');
  await page.keyboard.press('Enter');
  await page.keyboard.type('autoencoder.', { delay: 40 });
  const widget = page.locator('.editor-widget.suggest-widget.visible');
  await widget.locator('.monaco-list-row').first().waitFor({ timeout: 30_000 });
  return suggestLabels();
}

/** The labels of the rows the suggest widget shows (each row's accessible name starts with its label). */
async function suggestLabels(): Promise<string[]> {
  return page
    .locator('.editor-widget.suggest-widget.visible .monaco-list-row')
    .evaluateAll((rows) => rows.map((r) => (r.getAttribute('aria-label') ?? '').split(/[\s,]/)[0]));
}

/** Closes the suggest widget and deletes what was typed on the line. */
async function clearTypedLine(): Promise<void> {
  await page.keyboard.press('Escape');
  await page.keyboard.press('Shift+Home');
  await page.keyboard.press('Backspace');
  await page.keyboard.press('Backspace');
  await page.keyboard.press('Escape');
}

/**
 * Moves the pointer off the notebook and waits until no editor hover shows: a
 * hover left open can lie over the next word to hover, and would keep the pointer.
 */
async function noHover(): Promise<void> {
  await page.mouse.move(2, 2);
  // Hovers over the notebook (a tooltip of the workbench's corner, where the pointer is now, does not count).
  await page.waitForFunction(
    () => {
      const list = document.querySelector('.notebookOverlay .cell-list-container')?.getBoundingClientRect();
      if (!list) return false;
      return ![...document.querySelectorAll('.monaco-hover:not(.hidden)')].some((h) => {
        const r = h.getBoundingClientRect();
        return (h as HTMLElement).checkVisibility() && r.width > 0 && r.right > list.left && r.left < list.right && r.bottom > list.top && r.top < list.bottom;
      });
    },
    undefined,
    { timeout: 30_000 },
  );
}

/** Hovers `word` in the cell containing `cellText` and waits for a hover that contains `expect`. */
async function hoverWord(cellText: string, word: string, expect: RegExp): Promise<string> {
  await focusCell(page, cellText);
  await page.keyboard.press('Escape');
  await noHover();
  // Where the word is drawn, found in the text itself: the editor splits a line
  // into spans by token colour, and those spans depend on when highlighting
  // (TextMate, then semantic) has finished, so a span that holds exactly the
  // word is not a signal to wait for.
  const handle = await page.waitForFunction(
    ({ cellText, word }) => {
      const rows = [...document.querySelectorAll('.notebookOverlay .monaco-list-row.code-cell-row')];
      const row = rows.find((r) => (r.querySelector('.view-lines')?.textContent ?? '').replace(/\u00a0/g, ' ').includes(cellText));
      if (!row) return null;
      for (const line of row.querySelectorAll('.view-line')) {
        const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
          const text = node.textContent ?? '';
          const at = text.search(new RegExp(`\\b${word}\\b`));
          if (at < 0) continue;
          const range = document.createRange();
          range.setStart(node, at);
          range.setEnd(node, at + word.length);
          const r = range.getBoundingClientRect();
          if (r.width > 0 && r.height > 0) return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
        }
      }
      return null;
    },
    { cellText, word },
    { timeout: 30_000 },
  );
  const point = (await handle.jsonValue()) as { x: number; y: number };
  await page.mouse.move(point.x, point.y);
  const hover = page.locator('.monaco-hover:not(.hidden)', { hasText: expect }).first();
  await hover.waitFor({ timeout: 30_000 });
  return (await hover.innerText()).replace(/\u00a0/g, ' ');
}

/** Opens the Problems panel and returns the text of its rows once the notebook's problem is listed. */
async function problemsPanel(): Promise<string[]> {
  await page.keyboard.press('Escape');
  await runCommand(page, 'Problems: Focus on Problems View');
  const row = page.locator('.markers-panel .monaco-list-row', { hasText: "Property 'fitt' does not exist" }).first();
  await row.waitFor({ timeout: 30_000 });
  return (await page.locator('.markers-panel .monaco-list-row').allInnerTexts()).map((t) => t.replace(/\u00a0/g, ' ').replace(/\s+/g, ' ').trim());
}

/** The panel at the bottom of the workbench (where Problems shows). */
async function panelBox(): Promise<{ x: number; y: number; width: number; height: number }> {
  const box = await page.locator('.part.panel').first().boundingBox();
  if (!box) throw new Error('the panel is not on screen');
  return box;
}

/** Hides the panel again (Problems is a toggle). */
async function closePanel(): Promise<void> {
  await runCommand(page, 'View: Hide Panel');
  await page.locator('.part.panel').first().waitFor({ state: 'hidden', timeout: 30_000 });
}

const workspace = e2eWorkspace('aenb-e2e-types-ws-', (dir) =>
  writeFileSync(
    join(dir, 'typed.aenb'),
    serializeNotebook(
      createNotebook([
        createMarkdownCell('# Typed cells\nThe cells below have not run: the types come from the kernel\'s globals and the cells above.'),
        createCodeCell('const [[xTrain], [xTest]] = await datasets.mnist.loadData();\nconst x = xTrain.div(255);'),
        createCodeCell('const autoencoder = new Autoencoder({ inputShape: [28, 28], latentDim: 64 });'),
        createCodeCell("autoencoder.compile({ loss: 'binaryCrossentropy', optimizer: 'adam' });\nawait autoencoder.fitt(x, x, { epochs: 1 });"),
        createCodeCell(PROBE),
      ]),
    ),
  ),
);

describe('typed cells in the packaged extension', () => {
  const fx = useWorkbench({ results: RESULTS, workspace, settings: { 'workbench.colorTheme': 'Default Dark Modern' }, viewport: { width: 1300, height: 900 } });
  before(() => {
    page = fx.page;
  });
  // Each step stands on its own: one that fails does not keep the others from running.
  const step = (name: string, timeoutMs: number, fn: () => Promise<void>) => fx.step(name, timeoutMs, fn, { independent: true });

  step('a misspelled member is underlined before anything runs, and its hover says why (dark)', 150_000, async () => {
    await openFile(page, 'typed.aenb');
    await page.locator('.notebookOverlay .monaco-list-row.code-cell-row').first().waitFor({ timeout: 30_000 });
    const text = await hoverError();
    assert.match(text, /Property 'fitt' does not exist on type 'Autoencoder'\. Did you mean 'fit'\?/);
    assert.equal((text.match(/Property 'fitt' does not exist/g) ?? []).length, 1, `one report of the problem, not two: ${text}`);
    assert.equal(await page.locator('.notebookOverlay .squiggly-error').count(), 1, 'one underlined problem in the notebook');
    await shot('error-dark', await around('.monaco-hover:not(.hidden)', { above: 200, below: 120 }));
    await shot('page-error-dark');
  });

  step('typing `autoencoder.` shows the suggest widget with the model\'s members (dark)', 90_000, async () => {
    const labels = await suggestAfterDot();
    assert.ok(labels.length >= 8, `members listed: ${labels.join(', ')}`);
    assert.ok(!labels.includes('typeof'), 'no keywords after a dot');
    await shot('suggest-dark', await around('.editor-widget.suggest-widget.visible', { above: 120, below: 40 }));
    if (!labels.includes('fit')) {
      // The widget shows about a dozen rows at a time; narrow it as a user would.
      await page.keyboard.type('fi', { delay: 40 });
      await page.locator('.editor-widget.suggest-widget.visible .monaco-list-row[aria-label^="fit"]').first().waitFor({ timeout: 30_000 });
    }
    const now = await suggestLabels();
    assert.equal(now.filter((l) => l === 'fit').length, 1, `fit, once: ${now.join(', ')}`);
    await shot('page-suggest-dark');
    await clearTypedLine();
  });

  step('hover: a global with its signature and documentation, a variable of a cell above with its tensor type (dark)', 60_000, async () => {
    const text = await hoverWord('const autoencoder', 'Autoencoder', /new Autoencoder\(/);
    assert.match(text, /new Autoencoder\(args: AutoencoderArgs\): Autoencoder/);
    assert.match(text, /The vanilla seed's model/, 'with its documentation');
    await shot('hover-dark', await around('.monaco-hover:not(.hidden)', { above: 120, below: 120 }));
    const tensor = await hoverWord('const x = xTrain', 'xTrain', /Tensor/);
    assert.match(tensor, /const xTrain: tf\.Tensor3D/);
    await shot('hover-tensor-dark', await around('.monaco-hover:not(.hidden)', { above: 60, below: 120 }));
  });

  step('the Problems panel lists the problem once, at its cell\'s line and column (dark)', 90_000, async () => {
    const rows = await problemsPanel();
    const fitt = rows.filter((r) => /Property 'fitt' does not exist/.test(r));
    assert.equal(fitt.length, 1, `one row for the problem: ${rows.join(' | ')}`);
    assert.match(fitt[0], /\[Ln 2, Col 19\]/, `at line 2, column 19 of its cell: ${fitt[0]}`);
    assert.ok(!rows.some((r) => /Cannot find name|implicitly has an 'any'/.test(r)), `nothing from the built-in TypeScript features: ${rows.join(' | ')}`);
    await shot('problems-dark', await panelBox());
    await closePanel();
  });

  step('the same in the light theme', 150_000, async () => {
    await setColorTheme(page, 'Light Modern');
    const text = await hoverError();
    assert.match(text, /Property 'fitt' does not exist/);
    await shot('error-light', await around('.monaco-hover:not(.hidden)', { above: 200, below: 120 }));
    const labels = await suggestAfterDot();
    assert.ok(labels.length >= 8, `members listed: ${labels.join(', ')}`);
    await shot('suggest-light', await around('.editor-widget.suggest-widget.visible', { above: 120, below: 40 }));
    await shot('page-suggest-light');
    await clearTypedLine();
    await hoverWord('const x = xTrain', 'xTrain', /Tensor/);
    await shot('hover-tensor-light', await around('.monaco-hover:not(.hidden)', { above: 60, below: 120 }));
    await problemsPanel();
    await shot('problems-light', await panelBox());
    await closePanel();
  });
});
