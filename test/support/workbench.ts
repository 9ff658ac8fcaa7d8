// Driving the VS Code workbench served by code-server (./code-server.ts) with
// Debian's Chromium through playwright-core: open it, run commands, open
// files, reach notebook outputs, take screenshots.
import { chromium, type BrowserContext, type FrameLocator, type Page } from 'playwright-core';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
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

/** Opens the workbench page in a fresh headless Chromium profile and waits until the workbench is up. */
export async function openWorkbench(url: string, opts: { width?: number; height?: number; profileDir?: string; timeoutMs?: number } = {}): Promise<Workbench> {
  const temporary = opts.profileDir === undefined;
  const profile = opts.profileDir ?? mkdtempSync(join(tmpdir(), 'aenb-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: opts.width ?? 1400, height: opts.height ?? 900 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
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

/** Runs a command from the command palette by its title (as shown, with the category), e.g. "Autoencoder Notebooks: Restart Kernel". */
export async function runCommand(page: Page, title: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input.input');
  await input.waitFor();
  await input.fill(`>${title}`);
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
  await row.waitFor({ timeout: 10_000 });
  await input.press('Enter');
}

/** Picks an item of an open quick pick by (part of) its label. */
export async function pickQuickItem(page: Page, label: string): Promise<void> {
  const row = page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: label }).first();
  await row.waitFor({ timeout: 10_000 });
  await row.click();
}

/** Opens a file of the workspace with Quick Open. */
export async function openFile(page: Page, name: string): Promise<void> {
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input.input');
  await input.waitFor();
  await input.fill(name);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().waitFor({ timeout: 15_000 });
  await input.press('Enter');
}

/** The notebook editor's webview, where renderer outputs live (two iframes down). */
export function outputsFrame(page: Page): FrameLocator {
  return page.frameLocator('.notebookOverlay iframe.webview.ready').frameLocator('#active-frame');
}

/** Code cells of the active notebook editor. */
export function codeCells(page: Page) {
  return page.locator('.notebookOverlay .monaco-list-row.code-cell-row');
}

/** Saves a screenshot under `dir` (created) and returns its path. */
export async function screenshot(page: Page, dir: string, name: string): Promise<string> {
  const file = join(dir, name.endsWith('.png') ? name : `${name}.png`);
  mkdirSync(dirname(file), { recursive: true });
  await page.screenshot({ path: file });
  return file;
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
