// Notebook renderer for Autoencoder Notebooks: draws every output kind that
// has a view (src/outputs/registry.ts: training charts, image grids, model
// summaries), through the kind's check and view. Entry point of
// dist/renderer.js; VS Code calls `activate` once per webview, and the HTML
// report calls it once per page.
import uplotCss from 'uplot/dist/uPlot.min.css';
import css from './style.css';
import { Endpoint, type Methods } from '../src/common/messages/envelope';
import type { RendererMethods } from '../src/common/messages/renderer';
import type { OutputView, ViewHost } from '../src/outputs/kind';
import { kindOf } from '../src/outputs/registry';
import type { ActivationFunction, OutputItem, RendererApi, RendererContext } from './types';
import { h } from './dom';

export type { ActivationFunction, OutputItem, RendererApi, RendererContext } from './types';

type View = OutputView<unknown>;

interface Entry {
  id: string;
  mime: string;
  element: HTMLElement;
  view?: View;
}

const STYLE_ID = 'aenb-renderer-style';

function injectStyles(element: HTMLElement): void {
  const root = element.getRootNode();
  const target: ParentNode & Node = root instanceof ShadowRoot ? root : document.head ?? document.documentElement;
  if ((root instanceof ShadowRoot ? root.getElementById(STYLE_ID) : document.getElementById(STYLE_ID)) !== null) return;
  const style = document.createElement('style');
  style.id = STYLE_ID;
  style.textContent = `${uplotCss}\n${css}`;
  target.appendChild(style);
}

function problemBox(message: string): HTMLElement {
  return h('div', { class: 'aenb-root' }, h('p', { class: 'aenb-error', role: 'alert' }, `Cannot show this output: ${message}`));
}

export const activate: ActivationFunction = (context: RendererContext<unknown>) => {
  const entries = new Map<string, Entry>();
  const byElement = new WeakMap<HTMLElement, Entry>();
  const host: ViewHost = {};
  // Requests to the host (and through it to the notebook's kernel), when VS Code gives this renderer messaging.
  if (typeof context.postMessage === 'function' && typeof context.onDidReceiveMessage === 'function') {
    const endpoint = new Endpoint<RendererMethods, Methods>((m) => context.postMessage?.(m), 'the extension');
    context.onDidReceiveMessage((m: unknown) => endpoint.receive(m));
    host.request = (method, params, options) => endpoint.request(method, params, options);
    // The developer tools console (and the integration tests) can ask the same way the views do.
    (globalThis as { aenbRendererRequest?: ViewHost['request'] }).aenbRendererRequest = host.request;
  }

  // VS Code changes theme variables on <html> and classes on <body>: re-read colors.
  let themeQueued = false;
  const onTheme = () => {
    if (themeQueued) return;
    themeQueued = true;
    requestAnimationFrame(() => {
      themeQueued = false;
      for (const e of entries.values()) e.view?.refreshTheme?.();
    });
  };
  if (typeof MutationObserver !== 'undefined') {
    const mo = new MutationObserver(onTheme);
    mo.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
    if (document.body) mo.observe(document.body, { attributes: true, attributeFilter: ['class', 'data-vscode-theme-kind'] });
  }

  function create(mime: string): View | undefined {
    return kindOf(mime)?.view?.create(host);
  }

  function dispose(entry: Entry): void {
    entry.view?.dispose();
    entry.view = undefined;
    entries.delete(entry.id);
  }

  const api: RendererApi = {
    renderOutputItem(item: OutputItem, element: HTMLElement): void {
      injectStyles(element);
      let entry = byElement.get(element);
      if (entry && (entry.mime !== item.mime || !entry.view)) {
        dispose(entry);
        entry = undefined;
      }
      let data: unknown;
      let problem: string | undefined;
      try {
        data = item.json();
      } catch (err) {
        problem = `invalid JSON (${(err as Error).message})`;
      }
      if (!problem) {
        const kind = kindOf(item.mime);
        problem = kind?.view ? kind.check?.(data) : `unsupported MIME type ${item.mime}`;
      }
      if (problem) {
        if (entry) dispose(entry);
        byElement.delete(element);
        element.replaceChildren(problemBox(problem));
        return;
      }
      if (!entry) {
        const view = create(item.mime);
        if (!view) return;
        entry = { id: item.id, mime: item.mime, element, view };
        byElement.set(element, entry);
        element.replaceChildren(view.root);
      } else if (entry.id !== item.id) {
        entries.delete(entry.id);
        entry.id = item.id;
      }
      entries.set(entry.id, entry);
      try {
        entry.view?.update(data);
      } catch (err) {
        dispose(entry);
        byElement.delete(element);
        element.replaceChildren(problemBox((err as Error).message));
      }
    },

    disposeOutputItem(id?: string): void {
      if (id === undefined) {
        for (const e of [...entries.values()]) {
          dispose(e);
          byElement.delete(e.element);
        }
        return;
      }
      const e = entries.get(id);
      if (e) {
        dispose(e);
        byElement.delete(e.element);
      }
    },
  };
  return api;
};
