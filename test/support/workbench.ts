// Driving the VS Code workbench served by code-server (./code-server.ts) with
// Debian's Chromium through playwright-core: open it, run commands, open
// files, reach notebook outputs, take screenshots.
import { chromium, type BrowserContext, type FrameLocator, type Page } from 'playwright-core';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const CHROMIUM = process.env.AENB_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface Workbench {
  context: BrowserContext;
  page: Page;
  /** Closes the browser and removes its temporary profile. */
  close(): Promise<void>;
}

export interface OpenWorkbenchOptions {
  width?: number;
  height?: number;
  profileDir?: string;
  timeoutMs?: number;
  /**
   * Functions the page may call, exposed before it loads: e.g. `codeAutomationExit`
   * and `codeAutomationLog`, which the workbench calls when an extension test
   * module (`extensionTestsPath`) has finished or logs.
   */
  expose?: Record<string, (...args: any[]) => unknown>;
  /** Every console message of the page (the workbench forwards the extension host's console there). */
  onConsole?: (type: string, text: string) => void;
}

/** Opens the workbench page in a fresh headless Chromium profile and waits until the workbench is up. */
export async function openWorkbench(url: string, opts: OpenWorkbenchOptions = {}): Promise<Workbench> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (or set AENB_CHROMIUM).`);
  const temporary = opts.profileDir === undefined;
  const profile = opts.profileDir ?? mkdtempSync(join(tmpdir(), 'aenb-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: opts.width ?? 1400, height: opts.height ?? 900 },
  });
  for (const [name, fn] of Object.entries(opts.expose ?? {})) await context.exposeFunction(name, fn);
  const page = context.pages()[0] ?? (await context.newPage());
  if (opts.onConsole) {
    const onConsole = opts.onConsole;
    page.on('console', (m) => onConsole(m.type(), m.text()));
  }
  await page.goto(url);
  await page.locator('.monaco-workbench').waitFor({ timeout: opts.timeoutMs ?? 60_000 });
  // The extension host and the explorer need a moment after the workbench appears.
  await page.locator('.explorer-folders-view, .explorer-viewlet').first().waitFor({ timeout: opts.timeoutMs ?? 60_000 }).catch(() => undefined);
  return {
    context,
    page,
    close: async () => {
      await context.close();
      if (temporary) rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Opens the command palette (if it is not open) and shows the commands
 * matching `text`; resolves with the matching row once it is listed, or
 * undefined after `timeoutMs`. The palette lists the commands registered when
 * its filter changes, so the filter is typed again every second: commands an
 * extension registers meanwhile show up.
 */
async function findPaletteRow(page: Page, text: string, timeoutMs: number) {
  const input = page.locator('.quick-input-widget input.input');
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: text }).first();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = deadline - Date.now();
    // The palette closes whenever something else takes the focus (an editor that re-renders, a webview):
    // then this round fails and the next one opens it again.
    const found = await (async () => {
      if (!(await input.isVisible())) await page.keyboard.press('F1');
      await input.waitFor({ timeout: 10_000 });
      await input.fill('>', { timeout: 5000 });
      await input.fill(`>${text}`, { timeout: 5000 });
      return row.waitFor({ timeout: Math.max(100, Math.min(1000, left)) }).then(() => true, () => false);
    })().catch(() => false);
    if (found) return row;
    if (Date.now() > deadline) return undefined;
  }
}

/**
 * Waits until the workbench knows an extension's commands: they are listed in
 * the command palette. On a fresh or busy machine the extension host scans and
 * registers extensions well after the workbench appears, and a command run
 * before that is not found. `title` is one of the extension's command titles.
 */
export async function waitForCommand(page: Page, title: string, timeoutMs = 180_000): Promise<void> {
  const row = await findPaletteRow(page, title, timeoutMs);
  const listed = row ? '' : (await page.locator('.quick-input-list .monaco-list-row').allInnerTexts().catch(() => [] as string[])).join(' | ');
  await page.keyboard.press('Escape');
  if (!row) throw new Error(`The command palette did not list "${title}" within ${timeoutMs / 1000} s (it listed: ${listed || 'nothing'}): the extension's commands were not registered.`);
}

/** Runs a command from the command palette by its title (as shown, with the category), e.g. "Autoencoder Notebooks: Restart Kernel". */
export async function runCommand(page: Page, title: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = await findPaletteRow(page, title, Math.max(1000, deadline - Date.now()));
    if (!row) {
      const listed = (await page.locator('.quick-input-list .monaco-list-row').allInnerTexts().catch(() => [] as string[])).join(' | ');
      await page.keyboard.press('Escape');
      throw new Error(`The command palette did not list "${title}" within ${timeoutMs / 1000} s (it listed: ${listed || 'nothing'}).`);
    }
    // A click that cannot happen within 10 s means the palette closed after the row showed (see findPaletteRow): again.
    if (await row.click({ timeout: 10_000 }).then(() => true, () => false)) return;
    if (Date.now() > deadline) throw new Error(`The command palette closed before "${title}" could be clicked, for ${timeoutMs / 1000} s.`);
  }
}

/** Picks an item of an open quick pick by (part of) its label. */
export async function pickQuickItem(page: Page, label: string, timeoutMs = 60_000): Promise<void> {
  const row = page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: label }).first();
  await row.waitFor({ timeout: timeoutMs });
  await row.click();
}

/**
 * Opens a file of the workspace with Quick Open. The file search answers once
 * the workspace has been searched; until then the name is typed again every
 * second.
 */
export async function openFile(page: Page, name: string, timeoutMs = 60_000): Promise<void> {
  const input = page.locator('.quick-input-widget input.input');
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // Quick Open closes whenever something else takes the focus: then the next round opens it again.
    const found = await (async () => {
      if (!(await input.isVisible())) await page.keyboard.press('Control+P');
      await input.waitFor({ timeout: 10_000 });
      await input.fill('', { timeout: 5000 });
      await input.fill(name, { timeout: 5000 });
      return (await row.waitFor({ timeout: 1000 }).then(() => true, () => false)) && row.click({ timeout: 10_000 }).then(() => true, () => false);
    })().catch(() => false);
    if (found) return;
    if (Date.now() > deadline) throw new Error(`Quick Open did not find ${name} within ${timeoutMs / 1000} s.`);
  }
}

/** The notebook editor's webview, where renderer outputs live (two iframes down). */
export function outputsFrame(page: Page): FrameLocator {
  return page.frameLocator('.notebookOverlay iframe.webview.ready').frameLocator('#active-frame');
}

/**
 * Sends a request from our renderer, in the notebook editor's webview, the way
 * its views do (`aenbRendererRequest`, set when the renderer starts with
 * messaging), and returns the result value it resolves with.
 */
export async function rendererRequest(page: Page, req: { method: string; params: unknown }, timeoutMs = 30_000): Promise<unknown> {
  const frame = outputsFrame(page);
  await frame.locator('.aenb-root').first().waitFor({ state: 'attached', timeout: timeoutMs });
  return frame
    .locator('body')
    .evaluate(
      (_body, r) => (globalThis as unknown as { aenbRendererRequest(m: string, p: unknown): Promise<unknown> }).aenbRendererRequest(r.method, r.params),
      req,
    );
}

/**
 * The rows of the notebook editor in front, the cells (a hidden notebook
 * editor stays in the page, inert; and a cell's editor holds lists of its own,
 * e.g. the suggest widget's, whose rows are not cells).
 */
const CELL_ROWS = '.notebookOverlay:visible .cell-list-container > .monaco-list > .monaco-scrollable-element > .monaco-list-rows > .monaco-list-row';

/** The cell list of the notebook editor in front. */
export function notebookList(page: Page) {
  return page.locator('.notebookOverlay:visible .cell-list-container > .monaco-list').first();
}

/** Code cells of the notebook editor in front. */
export function codeCells(page: Page) {
  return page.locator(`${CELL_ROWS}.code-cell-row`);
}

/** Saves a screenshot under `dir` (created) and returns its path. */
export async function screenshot(page: Page, dir: string, name: string): Promise<string> {
  const file = join(dir, name.endsWith('.png') ? name : `${name}.png`);
  mkdirSync(dirname(file), { recursive: true });
  await page.screenshot({ path: file });
  return file;
}

/** The built-in themes the screenshots are taken in, and the class each puts on the workbench. */
const THEME_KINDS = { 'Light Modern': 'vs', 'Dark Modern': 'vs-dark', 'Dark High Contrast': 'hc-black', 'Light High Contrast': 'hc-light' } as const;
export type ColorTheme = keyof typeof THEME_KINDS;

/**
 * Switches the workbench's color theme through "Preferences: Color Theme", as
 * a user does, and waits until the workbench wears it (its theme-type class).
 * Closes any open quick pick; notifications stay.
 */
export async function setColorTheme(page: Page, theme: ColorTheme, timeoutMs = 30_000): Promise<void> {
  const applied = page.locator(`.monaco-workbench.${THEME_KINDS[theme]}`);
  if (await applied.count()) return;
  // Another quick pick (not the command palette) takes no ">" commands: close it first.
  const quickInput = page.locator('.quick-input-widget');
  if (await quickInput.isVisible()) {
    await page.keyboard.press('Escape');
    await quickInput.waitFor({ state: 'hidden', timeout: timeoutMs });
  }
  await runCommand(page, 'Preferences: Color Theme', timeoutMs);
  const input = page.locator('.quick-input-widget input.input');
  await input.waitFor({ timeout: timeoutMs });
  await input.fill(theme);
  const row = page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: theme }).first();
  await row.waitFor({ timeout: timeoutMs });
  // The filtered list's first row is the theme (no click: a row under the pointer may re-render meanwhile).
  await page.locator('.quick-input-widget .quick-input-list .monaco-list-row.focused', { hasText: theme }).waitFor({ timeout: timeoutMs });
  await input.press('Enter');
  await applied.waitFor({ timeout: timeoutMs });
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: timeoutMs });
}

/** Text of the notifications currently shown. */
export async function notifications(page: Page): Promise<string[]> {
  return page.locator('.notifications-toasts .notification-list-item-message').allInnerTexts();
}

/** The text of a status bar item by its id (`<extension id>.<item id>`), or undefined when hidden. */
export async function statusBarText(page: Page, itemId: string): Promise<string | undefined> {
  const item = page.locator(`#${itemId.replace(/\./g, '\\.')}`);
  if ((await item.count()) === 0 || !(await item.isVisible())) return undefined;
  return (await item.innerText()).trim();
}

/** A button of the visible notebook editor's toolbar by its label ("Run All", "Interrupt", "Restart Kernel", "Go To"...). */
export function notebookToolbarButton(page: Page, label: string) {
  return page.locator('.notebook-toolbar-container:visible').getByText(label, { exact: true });
}

/** Waits for a modal dialog, returns its text and presses one of its buttons (by label). */
export async function answerDialog(page: Page, button: string, timeoutMs = 30_000): Promise<string> {
  const dialog = page.locator('.monaco-dialog-box');
  await dialog.waitFor({ timeout: timeoutMs });
  const text = (await dialog.innerText()).replace(/\s+/g, ' ').trim();
  await dialog.locator('.dialog-buttons a.monaco-button, .dialog-buttons .monaco-button', { hasText: button }).first().click();
  await dialog.waitFor({ state: 'detached', timeout: 30_000 });
  return text;
}

/** Waits for a notification toast whose message contains `contains`, returns its message and closes it. */
export async function takeNotification(page: Page, contains: string, timeoutMs = 30_000): Promise<string> {
  const toast = page.locator('.notifications-toasts .notification-list-item', { hasText: contains }).first();
  await toast.waitFor({ timeout: timeoutMs });
  const message = (await toast.locator('.notification-list-item-message').innerText()).replace(/\s+/g, ' ').trim();
  await toast.hover();
  await toast.locator('.codicon-notifications-clear').first().click();
  await toast.waitFor({ state: 'detached', timeout: 30_000 });
  return message;
}

/**
 * What the renderer drew for the active notebook. The notebook's webview holds
 * the outputs of every cell, also of cells scrolled out of view (their text is
 * read with textContent, which does not depend on being on screen). Waits up to
 * `timeoutMs` for at least one output of ours, then until the counts stop changing.
 */
export interface RenderedOutputs {
  summaryTotals: string[];
  trainingBadges: string[];
  trainingCharts: number;
  imageRows: string[];
  images: number;
}

export async function renderedOutputs(page: Page, opts: { timeoutMs?: number; until?: (seen: RenderedOutputs) => boolean } = {}): Promise<RenderedOutputs> {
  const frame = outputsFrame(page);
  const texts = async (selector: string) =>
    [...new Set((await frame.locator(selector).evaluateAll((els) => els.map((e) => e.textContent ?? '')).catch(() => [] as string[])).map((t) => t.replace(/\s+/g, ' ').trim()))].filter(Boolean);
  const collect = async (): Promise<RenderedOutputs> => ({
    summaryTotals: await texts('.aenb-summary .aenb-total'),
    trainingBadges: await texts('.aenb-training .aenb-badge'),
    trainingCharts: await frame.locator('.aenb-training .aenb-chart canvas').count().catch(() => 0),
    imageRows: await texts('.aenb-images .aenb-row-title'),
    images: await frame.locator('.aenb-images canvas.aenb-pixels').count().catch(() => 0),
  });
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  let last = await collect();
  for (;;) {
    await page.waitForTimeout(500);
    const now = await collect();
    // With `until`, the caller says when everything it expects is drawn (the webview draws the outputs one by one,
    // and may pause between two of them longer than one poll on a busy machine); without it, when nothing changes.
    const found = now.summaryTotals.length + now.trainingCharts + now.images > 0;
    const done = opts.until ? opts.until(now) : found && JSON.stringify(now) === JSON.stringify(last);
    if (done || Date.now() > deadline) return now;
    last = now;
  }
}

/** The notebook cell row that has the focus. */
export function focusedCell(page: Page) {
  return page.locator(`${CELL_ROWS}.focused`);
}

/** Where the focused cell is: its list index, its position and the number of cells (1-based, from the row's ARIA attributes). */
async function focusedPlace(page: Page): Promise<{ index: string; pos: number; size: number } | undefined> {
  return focusedCell(page)
    .first()
    .evaluate((row) => ({ index: row.getAttribute('data-index') ?? '', pos: Number(row.getAttribute('aria-posinset')), size: Number(row.getAttribute('aria-setsize')) }), undefined, { timeout: 1000 })
    .catch(() => undefined);
}

/** What has the keyboard focus, for error messages. */
async function activeElementText(page: Page): Promise<string> {
  return page.evaluate(() => {
    const a = document.activeElement as HTMLElement | null;
    return a ? `<${a.tagName.toLowerCase()} class="${a.className}">` : 'nothing';
  });
}

/** Polls `probe` (every animation frame) until it returns something other than undefined; throws `what` after `timeoutMs`. */
async function waitUntil<T>(page: Page, probe: () => Promise<T | undefined>, timeoutMs: number, what: () => Promise<string>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(await what());
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(r)));
  }
}

/**
 * Gives the keyboard focus to the notebook's cell list, in command mode (no
 * cell editor and no output has it), without a click: the outputs' webview
 * lies under the whole list and takes a click wherever no row covers it, and a
 * hover or a notification can cover any point. Checks that the list has it.
 */
export async function focusNotebookList(page: Page, timeoutMs = 30_000): Promise<void> {
  const list = notebookList(page);
  await list.waitFor({ timeout: timeoutMs });
  await waitUntil(
    page,
    async () => {
      await list.focus();
      return (await list.evaluate((el) => document.activeElement === el)) ? true : undefined;
    },
    timeoutMs,
    async () => `The notebook's cell list did not take the keyboard focus within ${timeoutMs / 1000} s (it is on ${await activeElementText(page)}).`,
  );
}

/**
 * Turns the focused cell's editor on (Enter, edit mode) and waits until it has
 * the keyboard focus: keys typed before that would go to the cell list (where
 * Ctrl+A selects every cell).
 */
export async function editFocusedCell(page: Page, timeoutMs = 30_000): Promise<void> {
  const row = focusedCell(page).first();
  await row.locator('.monaco-editor .view-lines').first().waitFor({ timeout: timeoutMs });
  await page.keyboard.press('Enter');
  await waitUntil(
    page,
    async () => ((await row.evaluate((r) => !!document.activeElement && r.contains(document.activeElement) && document.activeElement.tagName === 'TEXTAREA').catch(() => false)) ? true : undefined),
    timeoutMs,
    async () => `The focused cell's editor did not take the keyboard focus within ${timeoutMs / 1000} s (it is on ${await activeElementText(page)}).`,
  );
}

/**
 * Waits until an element stops moving: its box is the same in two animation
 * frames in a row (after a scroll, a reveal or a layout change).
 */
export async function waitForStableBox(page: Page, locator: ReturnType<Page['locator']>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const box = JSON.stringify(await locator.boundingBox().catch(() => null));
    if (box === last && box !== 'null') return;
    if (Date.now() > deadline) throw new Error(`An element kept moving (or vanished) for ${timeoutMs / 1000} s: ${box}`);
    last = box;
  }
}

/**
 * Moves the focus to the first cell whose text contains `text` (from the top,
 * one cell at a time with the arrow keys, as a user would) and centers it.
 * The notebook's cell list gets the keyboard focus first, without a click
 * (see focusNotebookList); every move is checked on the focused row.
 */
export async function focusCell(page: Page, text: string, maxCells = 60): Promise<void> {
  const timeoutMs = 30_000;
  // Closes a suggest widget, a hover or a quick pick that would take the keys.
  await page.keyboard.press('Escape');
  await focusNotebookList(page, timeoutMs);
  await page.keyboard.press('Control+Home');
  await waitUntil(
    page,
    async () => ((await focusedPlace(page))?.pos === 1 ? true : undefined),
    timeoutMs,
    async () => `Ctrl+Home did not move the focus to the first cell within ${timeoutMs / 1000} s (the focused cell is ${JSON.stringify(await focusedPlace(page))}, the keyboard focus on ${await activeElementText(page)}).`,
  );
  for (let i = 0; i < maxCells; i++) {
    const row = focusedCell(page).first();
    // A code cell's editor shows its lines once its text model is resolved: read the cell after that.
    if ((await row.getAttribute('class'))?.includes('code-cell-row')) await row.locator('.view-lines .view-line').first().waitFor({ state: 'attached', timeout: timeoutMs });
    // The editor draws spaces as no-break spaces.
    if (((await row.textContent({ timeout: timeoutMs })) ?? '').replace(/\u00a0/g, ' ').includes(text)) {
      await page.keyboard.press('Control+L');
      await waitForStableBox(page, row);
      return;
    }
    const from = await focusedPlace(page);
    if (!from || from.pos >= from.size) break;
    await page.keyboard.press('ArrowDown');
    await waitUntil(
      page,
      async () => {
        const now = await focusedPlace(page);
        return now && now.index !== from.index ? true : undefined;
      },
      timeoutMs,
      async () => `ArrowDown did not move the focus from cell ${from.pos} of ${from.size} within ${timeoutMs / 1000} s (the keyboard focus is on ${await activeElementText(page)}).`,
    );
  }
  throw new Error(`No cell among the first ${maxCells} contains ${JSON.stringify(text)}.`);
}

/** Replaces the text of the focused cell by typing, as a user would (select all, then type). */
export async function replaceFocusedCellText(page: Page, text: string): Promise<void> {
  const editor = focusedCell(page).first().locator('.monaco-editor').first();
  await editFocusedCell(page);
  await page.keyboard.press('Control+A');
  await page.keyboard.insertText(text);
  const want = text.trimEnd().split('\n')[0];
  const deadline = Date.now() + 30_000;
  for (;;) {
    const shown = (await editor.locator('.view-lines').innerText({ timeout: 5000 })).replace(/\u00a0/g, ' ');
    if (shown.includes(want)) return;
    if (Date.now() > deadline) throw new Error(`The cell editor shows ${JSON.stringify(shown)}, not the typed text.`);
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(r)));
  }
}

/** Waits until the notebook toolbar offers "Run All" again (nothing runs), after it showed "Interrupt". */
export async function waitForRunAllIdle(page: Page, timeoutMs: number): Promise<void> {
  await notebookToolbarButton(page, 'Run All').waitFor({ timeout: timeoutMs });
}

/** Runs the focused cell with its own run button ("Execute Cell"). */
export async function runFocusedCell(page: Page): Promise<void> {
  await focusedCell(page).first().locator('a.action-label.codicon-notebook-execute').first().click();
}

/** Scrolls the notebook (with the mouse wheel) until the focused cell is at the top, so that its output shows below it. */
export async function scrollFocusedCellToTop(page: Page, margin = 8): Promise<void> {
  const list = await notebookList(page).boundingBox();
  if (!list) throw new Error('No notebook editor is visible.');
  await page.mouse.move(list.x + list.width / 2, list.y + list.height / 2);
  for (let i = 0; i < 80; i++) {
    const box = await focusedCell(page).first().boundingBox();
    if (!box) return;
    const delta = box.y - (list.y + margin);
    if (Math.abs(delta) < 40) return;
    await page.mouse.wheel(0, Math.sign(delta) * Math.min(Math.abs(delta), 120));
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  }
}

/**
 * A screenshot of one rendered output (inside the notebook's webview), cut
 * from the page: the part of it that is on screen in the notebook editor.
 */
export async function outputScreenshot(page: Page, selector: string, file: string): Promise<void> {
  const el = outputsFrame(page).locator(selector).first();
  const box = await el.boundingBox();
  const list = await notebookList(page).boundingBox();
  if (!box || !list) throw new Error(`${selector} is not on screen.`);
  const top = Math.max(box.y, list.y);
  const bottom = Math.min(box.y + box.height, list.y + list.height);
  if (bottom - top < 20) throw new Error(`${selector} is not on screen (it is at y=${Math.round(box.y)}, the notebook shows ${Math.round(list.y)}..${Math.round(list.y + list.height)}).`);
  mkdirSync(dirname(file), { recursive: true });
  // Away from the notebook: hovering shows the "+ Code / + Markdown" bar between cells.
  await page.mouse.move(2, 2);
  await page.screenshot({ path: file, clip: { x: box.x - 8, y: top - 6, width: Math.min(box.width + 16, list.x + list.width - box.x + 8), height: bottom - top + 10 }, animations: 'disabled' });
}
