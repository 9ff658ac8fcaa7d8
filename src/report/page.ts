// A notebook as one self-contained HTML file: markdown cells rendered by
// markdown-it with raw HTML disabled (./markdown.ts), code cells with their
// source and outputs, each output shown by its kind's report view
// (src/outputs/registry.ts), and the kinds our renderer draws drawn by the very
// same renderer bundle (inlined, started with a small context shim). No
// network: the page carries a Content-Security-Policy of `default-src 'none'`.
//
// Pure: no fs, no DOM. The caller reads dist/renderer.js and writes the file.
import type { AenbNotebook } from '../common/aenb';
import type { ReportContext, ReportItem } from '../outputs/kind';
import { OUTPUT_KINDS } from '../outputs/registry';
import { escapeHtml, jsonOf, stripAnsi, textOf } from './html';
import { markdownPlainText, markdownToHtml } from './markdown';
import { REPORT_CSS } from './style';

// ---------------------------------------------------------------------------
// Input shape (structurally the `.aenb` notebook of ./aenb)

export type ReportOutputItem = ReportItem;

export interface ReportCell {
  kind: 'markdown' | 'code';
  language?: string;
  source: string;
  outputs?: { items: ReportOutputItem[] }[];
  execution?: { order?: number; success?: boolean; durationMs?: number };
}

export interface ReportNotebook {
  metadata?: Record<string, unknown>;
  cells: ReportCell[];
}

// The real notebook type must stay acceptable here.
const _aenbIsReportable = (nb: AenbNotebook): ReportNotebook => nb;
void _aenbIsReportable;

export interface ReportOptions {
  /** Page title; default: notebook metadata `title`, else the first heading, else "Notebook". */
  title?: string;
  /** Color scheme; "auto" follows the reader's system setting. Default "auto". */
  theme?: 'light' | 'dark' | 'auto';
  /** Shown under the title, e.g. the file name. */
  subtitle?: string;
}

// ---------------------------------------------------------------------------
// Outputs

interface RichOutput {
  id: string;
  mime: string;
  json: unknown;
}

/** One output: by the first kind (in the registry's order) that has an item of it and shows it. */
function renderOutput(items: ReportItem[], id: string, rich: RichOutput[]): string {
  const essence = (mime: string) => mime.split(';')[0].trim().toLowerCase();
  const ctx: ReportContext = { items, item: (mime) => items.find((it) => essence(it.mime) === mime) };
  for (const kind of OUTPUT_KINDS) {
    for (const mime of kind.mimes) {
      const it = ctx.item(mime);
      if (!it) continue;
      if (kind.rendered) {
        // Drawn by the inlined renderer; its text/plain stands in without JavaScript.
        let json: unknown;
        try {
          json = jsonOf(it.data);
        } catch {
          continue; // bad JSON: fall back to the other representations
        }
        const plain = ctx.item('text/plain');
        let fallbackText = plain ? textOf(plain.data) : undefined;
        if (kind.stored && kind.check?.(json) === undefined) {
          // A report has no live kernel behind it: a running training shows as interrupted.
          const stored = kind.stored(json);
          if (stored !== json) {
            json = stored;
            fallbackText = kind.text?.(stored) ?? fallbackText;
          }
        }
        rich.push({ id, mime, json });
        const fallback = fallbackText !== undefined ? `<pre class="out-text">${escapeHtml(stripAnsi(fallbackText))}</pre>` : '';
        return `<div class="output output-rich" id="${id}" data-mime="${escapeHtml(mime)}">${fallback}</div>`;
      }
      const html = kind.report?.(it, ctx);
      if (html !== undefined) return html;
    }
  }
  const kinds = items.map((it) => it.mime).join(', ');
  return `<div class="output output-missing"><p>[output of type ${escapeHtml(kinds || 'unknown')} is not shown in this report]</p></div>`;
}

// ---------------------------------------------------------------------------
// The page

/** Turns the renderer's ESM bundle into code that defines `__aenbRenderer` (an inline module cannot be imported). */
export function inlineRendererModule(js: string): string {
  let code = js.replace(/^\/\/# sourceMappingURL=.*$/gm, '');
  const m = /export\s*\{([^}]*)\}\s*;?\s*$/.exec(code.trimEnd());
  if (!m) throw new Error('renderer bundle: no final export clause found (is it an ESM bundle?)');
  const specifiers = m[1]
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const [local, exported] = s.split(/\s+as\s+/);
      return `${JSON.stringify(exported ?? local)}: ${local}`;
    });
  code = code.trimEnd().slice(0, m.index) + `\nconst __aenbRenderer = { ${specifiers.join(', ')} };\n`;
  // keep the HTML parser out of the script's text
  return code.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\u0021--');
}

const BOOT = `
const __aenbData = JSON.parse(document.getElementById('aenb-report-data').textContent);
const __aenbApi = __aenbRenderer.activate({ workspace: { isTrusted: true }, getState() { return undefined; }, setState() {} });
let __aenbOk = 0;
for (const o of __aenbData.outputs) {
  const el = document.getElementById(o.id);
  if (!el) continue;
  const text = JSON.stringify(o.json);
  try {
    __aenbApi.renderOutputItem({ id: o.id, mime: o.mime, metadata: {}, text: () => text, json: () => o.json, data: () => new TextEncoder().encode(text), blob: () => new Blob([text], { type: o.mime }) }, el);
    __aenbOk++;
  } catch (e) {
    console.error('aenb report: could not render output', o.id, e);
  }
}
document.documentElement.dataset.rendered = String(__aenbOk);
`;

/** The page title, and whether it repeats the notebook's first heading (then the page header omits it). */
function notebookTitle(nb: ReportNotebook, opts: ReportOptions): { title: string; fromHeading: boolean } {
  if (opts.title) return { title: opts.title, fromHeading: false };
  const t = nb.metadata?.['title'];
  if (typeof t === 'string' && t.trim()) return { title: t.trim(), fromHeading: false };
  for (const c of nb.cells) {
    if (c.kind !== 'markdown') continue;
    const m = /^ {0,3}#{1,6}[ \t]+(.+?)[ \t#]*$/m.exec(c.source);
    if (m) return { title: markdownPlainText(m[1]) || 'Notebook', fromHeading: nb.cells[0] === c };
  }
  return { title: 'Notebook', fromHeading: false };
}

/**
 * One self-contained HTML page for the notebook: renderer code and data
 * inlined, no network requests (enforced by a CSP), readable without
 * JavaScript (rich outputs fall back to their text/plain).
 */
export function renderHtmlReport(notebook: ReportNotebook, assets: { rendererJs: string }, opts: ReportOptions = {}): string {
  const rich: RichOutput[] = [];
  const { title, fromHeading } = notebookTitle(notebook, opts);
  const theme = opts.theme ?? 'auto';
  let outputCount = 0;
  const cells = notebook.cells.map((cell, ci) => {
    if (cell.kind === 'markdown') return `<section class="cell md-cell md">${markdownToHtml(cell.source)}</section>`;
    const order = cell.execution?.order;
    const failed = cell.execution?.success === false;
    const gutter = `<div class="gutter${failed ? ' failed' : ''}" aria-label="${order !== undefined ? `Execution ${order}` : 'Not executed'}">[${order !== undefined ? order : ' '}]</div>`;
    const lang = cell.language ? `<span class="lang">${escapeHtml(cell.language)}</span>` : '';
    const source = `<div class="source-box"><pre class="source"><code>${escapeHtml(cell.source)}</code></pre>${lang}</div>`;
    const outputs = (cell.outputs ?? []).map((o, oi) => {
      outputCount++;
      return renderOutput(o.items, `out-${ci}-${oi}`, rich);
    });
    return `<section class="cell code-cell">${gutter}${source}${outputs.length ? `<div class="outputs">${outputs.join('')}</div>` : ''}</section>`;
  });
  const data = JSON.stringify({ outputs: rich }).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  const script = rich.length ? `<script type="module">\n${inlineRendererModule(assets.rendererJs)}\n${BOOT}</script>` : '';
  const csp = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data: blob:; font-src data:; connect-src 'none'; form-action 'none'; base-uri 'none'";
  const bodyClass = theme === 'dark' ? 'vscode-dark' : 'vscode-light';
  const themeScript = theme === 'auto' ? `<script>if (matchMedia('(prefers-color-scheme: dark)').matches) document.body.className = 'vscode-dark';</script>` : '';
  const subtitle = opts.subtitle ? `${escapeHtml(opts.subtitle)} · ` : '';
  return `<!doctype html>
<html lang="en" data-theme="${theme}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="generator" content="Autoencoder Notebooks">
<title>${escapeHtml(title)}</title>
<style>${REPORT_CSS}</style>
</head>
<body class="${bodyClass}">
${themeScript}
<main>
<header class="nb-head">${fromHeading ? '' : `<h1>${escapeHtml(title)}</h1>`}<p class="nb-meta">${subtitle}${notebook.cells.length} cells · ${outputCount} outputs · exported from Autoencoder Notebooks</p></header>
${cells.join('\n')}
</main>
<script type="application/json" id="aenb-report-data">${data}</script>
${script}
</body>
</html>
`;
}

