// Browser harness for the renderer tests and the benchmark: Debian's Chromium
// driven by playwright-core, a page that loads dist/renderer.js from a local
// HTTP server (127.0.0.1) and calls its `activate` with a context that records
// the messages the renderer posts.
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { findRepoRoot } from '../support/code-server';

export const ROOT = findRepoRoot();
export const RENDERER_JS = join(ROOT, 'dist', 'renderer.js');
export const SHOTS = join(ROOT, 'test-results', 'renderer');

export const CHROMIUM = process.env.AENB_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export type Theme = 'light' | 'dark' | 'hc';

// The variables VS Code defines in a notebook webview (a subset), per theme.
const THEME_VARS: Record<Theme, Record<string, string>> = {
  light: {
    'editor-background': '#ffffff', 'editor-foreground': '#3b3b3b', descriptionForeground: '#717171', 'font-family': 'system-ui, "Segoe UI", Ubuntu, sans-serif', 'font-size': '13px',
    'editor-font-family': 'Menlo, Consolas, "DejaVu Sans Mono", monospace', 'editorWidget-border': '#c8c8c8', 'editorWidget-background': '#f8f8f8', 'charts-lines': 'rgba(97, 97, 97, 0.5)',
    'charts-foreground': '#616161', 'charts-blue': '#1a85ff', 'charts-orange': '#d18616', 'charts-green': '#388a34', 'charts-purple': '#652d90', 'charts-red': '#e51400', 'charts-yellow': '#bf8803',
    focusBorder: '#005fb8', 'button-background': '#005fb8', 'button-foreground': '#ffffff', 'button-hoverBackground': '#0258a8', 'button-secondaryBackground': '#e5e5e5',
    'button-secondaryForeground': '#3b3b3b', 'button-secondaryHoverBackground': '#cccccc', 'dropdown-background': '#ffffff', 'dropdown-border': '#cecece', 'progressBar-background': '#005fb8',
    errorForeground: '#f85149', 'editor-selectionBackground': '#add6ff', 'testing-iconPassed': '#388a34',
  },
  dark: {
    'editor-background': '#1f1f1f', 'editor-foreground': '#cccccc', descriptionForeground: '#9d9d9d', 'font-family': 'system-ui, "Segoe UI", Ubuntu, sans-serif', 'font-size': '13px',
    'editor-font-family': 'Menlo, Consolas, "DejaVu Sans Mono", monospace', 'editorWidget-border': '#454545', 'editorWidget-background': '#202020', 'charts-lines': 'rgba(204, 204, 204, 0.5)',
    'charts-foreground': '#cccccc', 'charts-blue': '#3794ff', 'charts-orange': '#d18616', 'charts-green': '#89d185', 'charts-purple': '#b180d7', 'charts-red': '#f14c4c', 'charts-yellow': '#cca700',
    focusBorder: '#0078d4', 'button-background': '#0078d4', 'button-foreground': '#ffffff', 'button-hoverBackground': '#026ec1', 'button-secondaryBackground': '#313131',
    'button-secondaryForeground': '#cccccc', 'button-secondaryHoverBackground': '#3c3c3c', 'dropdown-background': '#313131', 'dropdown-border': '#3c3c3c', 'progressBar-background': '#0078d4',
    errorForeground: '#f85149', 'editor-selectionBackground': '#264f78', 'testing-iconPassed': '#73c991',
  },
  hc: {
    'editor-background': '#000000', 'editor-foreground': '#ffffff', descriptionForeground: '#ffffff', 'font-family': 'system-ui, "Segoe UI", Ubuntu, sans-serif', 'font-size': '13px',
    'editor-font-family': 'Menlo, Consolas, "DejaVu Sans Mono", monospace', 'editorWidget-border': '#6fc3df', 'editorWidget-background': '#0c141f', 'charts-lines': 'rgba(255, 255, 255, 0.5)',
    'charts-foreground': '#ffffff', 'charts-blue': '#3794ff', 'charts-orange': '#d18616', 'charts-green': '#89d185', 'charts-purple': '#b180d7', 'charts-red': '#f14c4c', 'charts-yellow': '#cca700',
    focusBorder: '#f38518', contrastBorder: '#6fc3df', contrastActiveBorder: '#f38518', 'button-background': '#000000', 'button-foreground': '#ffffff', 'button-border': '#6fc3df',
    // as in VS Code's Dark High Contrast: no secondary button background, a white secondary foreground
    'button-secondaryForeground': '#ffffff', 'dropdown-background': '#000000', 'dropdown-border': '#6fc3df', 'progressBar-background': '#6fc3df',
    errorForeground: '#f48771', 'editor-selectionBackground': '#ffffff', 'testing-iconPassed': '#89d185',
  },
};

function themeCss(theme: Theme): string {
  const vars = Object.entries(THEME_VARS[theme]).map(([k, v]) => `--vscode-${k}: ${v};`).join(' ');
  return `:root { ${vars} } body { background: var(--vscode-editor-background); color: var(--vscode-editor-foreground); margin: 0; padding: 12px 16px; font-family: var(--vscode-font-family); }`;
}

const BODY_CLASS: Record<Theme, string> = { light: 'vscode-light', dark: 'vscode-dark', hc: 'vscode-high-contrast' };

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>renderer harness</title><style id="theme"></style>
<style>.out { width: 860px; margin-bottom: 16px; }</style></head>
<body class="vscode-light">
<script type="module">
import { activate } from '/renderer.js';
window.__messages = [];
window.__listeners = [];
const makeContext = (messaging) => ({
  workspace: { isTrusted: true },
  getState() { return undefined; },
  setState() {},
  ...(messaging ? {
    postMessage: (m) => window.__messages.push(m),
    onDidReceiveMessage: (l) => { window.__listeners.push(l); return { dispose() {} }; },
  } : {}),
});
window.__api = activate(makeContext(true));
window.__apiNoMessaging = activate(makeContext(false));
window.__item = (id, mime, data) => {
  const text = typeof data === 'string' ? data : JSON.stringify(data);
  return { id, mime, metadata: {}, text: () => text, json: () => JSON.parse(text), data: () => new TextEncoder().encode(text), blob: () => new Blob([text]) };
};
window.__el = (elId) => {
  let el = document.getElementById(elId);
  if (!el) { el = document.createElement('div'); el.id = elId; el.className = 'out'; document.body.appendChild(el); }
  return el;
};
window.__render = (elId, id, mime, data, noMessaging) => {
  const api = noMessaging ? window.__apiNoMessaging : window.__api;
  const t0 = performance.now();
  api.renderOutputItem(window.__item(id, mime, data), window.__el(elId));
  return performance.now() - t0;
};
window.__ready = true;
</script>
</body></html>`;

export interface Harness {
  context: BrowserContext;
  baseUrl: string;
  newPage(theme?: Theme): Promise<Page>;
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  if (!existsSync(RENDERER_JS)) throw new Error(`${RENDERER_JS} is missing: run npm run build`);
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  const server: Server = createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (url === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(PAGE);
    } else if (url === '/renderer.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' });
      res.end(readFileSync(RENDERER_JS));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const profile = mkdtempSync(join(tmpdir(), 'aenb-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 900, height: 800 },
    deviceScaleFactor: 1,
  });
  return {
    context,
    baseUrl,
    async newPage(theme: Theme = 'light') {
      const page = await context.newPage();
      page.on('pageerror', (e) => console.error('[page error]', e.message));
      await page.goto(baseUrl + '/');
      await page.waitForFunction(() => (window as unknown as { __ready?: boolean }).__ready === true);
      await setTheme(page, theme);
      return page;
    },
    async close() {
      await context.close();
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function setTheme(page: Page, theme: Theme): Promise<void> {
  await page.evaluate(
    ([css, cls]) => {
      (document.getElementById('theme') as HTMLStyleElement).textContent = css;
      document.body.className = cls;
    },
    [themeCss(theme), BODY_CLASS[theme]] as const,
  );
}

/** Renders (or updates) an output; returns the time renderOutputItem took in the page (ms). */
export async function render(page: Page, elId: string, id: string, mime: string, payload: unknown, opts: { noMessaging?: boolean } = {}): Promise<number> {
  const json = JSON.stringify(payload);
  return page.evaluate(([e, i, m, d, nm]) => (window as unknown as { __render: (...a: unknown[]) => number }).__render(e, i, m, d, nm), [elId, id, mime, json, !!opts.noMessaging] as const);
}

/** Renders and waits for the next two animation frames; returns [renderOutputItem ms, until painted ms]. */
export async function renderTimed(page: Page, elId: string, id: string, mime: string, json: string): Promise<[number, number]> {
  return page.evaluate(
    async ([e, i, m, d]) => {
      const w = window as unknown as { __render: (...a: unknown[]) => number };
      const t0 = performance.now();
      const r = w.__render(e, i, m, d);
      await new Promise((res) => requestAnimationFrame(() => requestAnimationFrame(res)));
      return [r, performance.now() - t0] as [number, number];
    },
    [elId, id, mime, json] as const,
  );
}

export async function messages(page: Page): Promise<unknown[]> {
  return page.evaluate(() => (window as unknown as { __messages: unknown[] }).__messages.slice());
}

export async function screenshot(page: Page, selector: string, name: string): Promise<string> {
  mkdirSync(SHOTS, { recursive: true });
  const file = join(SHOTS, `${name}.png`);
  await page.locator(selector).screenshot({ path: file, animations: 'disabled' });
  return file;
}
