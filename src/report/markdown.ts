// Markdown of the report's markdown cells and markdown outputs, by markdown-it
// (CommonMark + GFM tables) with raw HTML disabled: nothing the notebook holds
// reaches the page as markup. On top of it, for notebooks written for Jupyter:
//   - only absolute http(s) URLs become links;
//   - images are never loaded (the page makes no requests): `![alt](url)` and
//     an HTML `<img alt>` read "[image: alt]";
//   - other HTML tags are dropped (their text stays), `<br>` breaks the line,
//     and `<script>`/`<style>` are dropped with their contents;
//   - `$...$` and `$$...$$` math is kept as text, safe from emphasis.
import MarkdownIt from 'markdown-it';
import type StateInline from 'markdown-it/lib/rules_inline/state_inline.mjs';
import { escapeHtml } from './html';

const TAG = /^<\/?([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*)\s*\/?>/;
const COMMENT = /^<!--[\s\S]*?-->/;
const SAFE_URL = /^https?:\/\/[^\s<>"'`]+$/i;

/** Raw HTML in inline text: dropped, but for <br>, <img alt> and the contents of <script>/<style>. */
function htmlTag(state: StateInline, silent: boolean): boolean {
  const src = state.src;
  const at = state.pos;
  if (src.charCodeAt(at) !== 0x3c /* < */) return false;
  const rest = src.slice(at);
  const comment = COMMENT.exec(rest);
  if (comment) {
    state.pos += comment[0].length;
    return true;
  }
  const tag = TAG.exec(rest);
  if (!tag) return false;
  const name = tag[1].toLowerCase();
  let end = at + tag[0].length;
  if ((name === 'script' || name === 'style') && !tag[0].startsWith('</')) {
    const close = src.toLowerCase().indexOf(`</${name}`, end);
    if (close < 0) end = src.length;
    else {
      const gt = src.indexOf('>', close);
      end = gt < 0 ? src.length : gt + 1;
    }
  } else if (!silent && name === 'br') {
    state.push('hardbreak', 'br', 0);
  } else if (!silent && name === 'img') {
    const alt = /\balt\s*=\s*(?:"([^"]*)"|'([^']*)')/i.exec(tag[2] ?? '');
    const text = alt ? (alt[1] ?? alt[2] ?? '').trim() : '';
    if (text) state.push('md_image_text', '', 0).content = text;
  }
  state.pos = end;
  return true;
}

/** `$...$` / `$$...$$` kept as text. */
function math(state: StateInline, silent: boolean): boolean {
  const src = state.src;
  const at = state.pos;
  if (src.charCodeAt(at) !== 0x24 /* $ */) return false;
  const delim = src.startsWith('$$', at) ? '$$' : '$';
  const close = src.indexOf(delim, at + delim.length);
  if (close < 0 || close === at + delim.length) return false;
  if (delim === '$' && (/\s/.test(src[at + 1]) || /\s/.test(src[close - 1]))) return false;
  if (!silent) state.push('md_math', '', 0).content = src.slice(at, close + delim.length);
  state.pos = close + delim.length;
  return true;
}

function create(): MarkdownIt {
  const md = new MarkdownIt('commonmark', { html: false, linkify: false, typographer: false });
  md.enable('table');
  // Every link parses; link_open below decides whether it becomes one.
  md.validateLink = () => true;
  md.inline.ruler.before('html_inline', 'aenb_html', htmlTag);
  md.inline.ruler.before('emphasis', 'aenb_math', math);
  const r = md.renderer.rules;
  r.text = (tokens, i) => escapeHtml(tokens[i].content);
  r.link_open = (tokens, i, _options, env: { links?: boolean[] }) => {
    const href = (tokens[i].attrGet('href') ?? '').trim();
    const ok = SAFE_URL.test(href);
    (env.links ??= []).push(ok);
    return ok ? `<a href="${escapeHtml(href)}" rel="noopener noreferrer" target="_blank">` : '<span class="md-link">';
  };
  r.link_close = (_tokens, _i, _options, env: { links?: boolean[] }) => (env.links?.pop() ? '</a>' : '</span>');
  r.md_math = (tokens, i) => `<span class="md-math">${escapeHtml(tokens[i].content)}</span>`;
  r.md_image_text = (tokens, i) => `<span class="md-img">[image: ${escapeHtml(tokens[i].content)}]</span>`;
  r.image = (tokens, i) => {
    const t = tokens[i];
    const alt = t.children ? md.renderer.renderInlineAsText(t.children, md.options, {}) : t.content;
    const src = t.attrGet('src') ?? '';
    return `<span class="md-img"${SAFE_URL.test(src) ? ` title="${escapeHtml(src)}"` : ''}>[image${alt ? ': ' + escapeHtml(alt) : ''}]</span>`;
  };
  const code = (content: string, info: string) => {
    const lang = info.trim().split(/\s+/)[0];
    return `<pre class="md-code"><code${lang ? ` class="language-${escapeHtml(lang)}"` : ''}>${escapeHtml(content.replace(/\n$/, ''))}</code></pre>\n`;
  };
  r.fence = (tokens, i) => code(tokens[i].content, tokens[i].info);
  r.code_block = (tokens, i) => code(tokens[i].content, '');
  r.table_open = () => '<div class="md-table"><table>\n';
  r.table_close = () => '</table></div>\n';
  return md;
}

let instance: MarkdownIt | undefined;

/** Markdown to safe HTML (see the file header). */
export function markdownToHtml(src: string): string {
  instance ??= create();
  // A paragraph that held only dropped HTML leaves nothing behind.
  return instance.render(src).replace(/<p>\s*<\/p>\n?/g, '');
}

/** Inline markdown (one line: a heading's text, say) to safe HTML. */
export function markdownInline(src: string): string {
  instance ??= create();
  return instance.renderInline(src);
}

/** The plain text of inline markdown (a page title from a heading). */
export function markdownPlainText(src: string): string {
  instance ??= create();
  const tokens = instance.parseInline(src, {});
  return instance.renderer.renderInlineAsText(tokens[0]?.children ?? [], instance.options, {}).trim();
}
