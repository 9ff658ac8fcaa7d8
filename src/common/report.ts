// A notebook as one self-contained HTML file: markdown cells rendered by a
// small, safe converter (everything escaped; links only http(s)), code cells
// with their source and outputs, and our rich outputs drawn by the very same
// renderer bundle (inlined, started with a small context shim). No network:
// the page carries a Content-Security-Policy of `default-src 'none'`.
//
// Pure: no fs, no DOM. The caller reads dist/renderer.js and writes the file.
import type { AenbNotebook } from './aenb';
import { IMAGES_MIME, RENDERER_MIME_TYPES, SUMMARY_MIME, TRAINING_MIME, bytesToBase64 } from './outputs';

// ---------------------------------------------------------------------------
// Input shape (structurally the `.aenb` notebook of ./aenb)

export interface ReportOutputItem {
  mime: string;
  /** text MIME types: the text; JSON MIME types: the value (or its JSON text); binary: base64 (or bytes). */
  data: unknown;
}

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
// Escaping

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;'));
}

const NAMED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0', copy: '©', reg: '®', times: '×', middot: '·', hellip: '…', mdash: '—', ndash: '–', rarr: '→', larr: '←' };

function stripAnsi(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, '');
}

/** Only absolute http(s) URLs become links. */
function safeUrl(url: string): string | undefined {
  const u = url.trim();
  return /^https?:\/\/[^\s<>"'`]+$/i.test(u) ? u : undefined;
}

// ---------------------------------------------------------------------------
// Markdown (a safe subset of CommonMark + GFM tables) to escaped HTML

/** Inline markdown to HTML: emphasis, code, links (http/https only), images as text, math kept as text; raw HTML tags are dropped. */
export function markdownInline(src: string): string {
  let out = '';
  let i = 0;
  const n = src.length;
  const isWord = (c: string | undefined) => !!c && /[\p{L}\p{N}]/u.test(c);
  while (i < n) {
    const c = src[i];
    // backslash escapes and hard line breaks
    if (c === '\\') {
      const next = src[i + 1];
      if (next === '\n') {
        out += '<br>\n';
        i += 2;
        continue;
      }
      if (next !== undefined && /[!-/:-@[-`{-~]/.test(next)) {
        out += escapeHtml(next);
        i += 2;
        continue;
      }
    }
    if (c === ' ' && src.startsWith('  \n', i)) {
      let j = i;
      while (src[j] === ' ') j++;
      if (src[j] === '\n') {
        out += '<br>\n';
        i = j + 1;
        continue;
      }
    }
    // code spans
    if (c === '`') {
      let run = 0;
      while (src[i + run] === '`') run++;
      const fence = '`'.repeat(run);
      let close = src.indexOf(fence, i + run);
      while (close >= 0 && src[close + run] === '`') close = src.indexOf(fence, close + run + 1);
      if (close >= 0) {
        let code = src.slice(i + run, close).replace(/\n/g, ' ');
        if (code.length > 2 && code.startsWith(' ') && code.endsWith(' ')) code = code.slice(1, -1);
        out += `<code>${escapeHtml(code)}</code>`;
        i = close + run;
        continue;
      }
      out += escapeHtml(fence);
      i += run;
      continue;
    }
    // math: kept as text, protected from emphasis
    if (c === '$') {
      const dbl = src.startsWith('$$', i);
      const delim = dbl ? '$$' : '$';
      const close = src.indexOf(delim, i + delim.length);
      if (close > i + delim.length && (dbl || (src[i + 1] !== ' ' && src[close - 1] !== ' '))) {
        out += `<span class="md-math">${escapeHtml(src.slice(i, close + delim.length))}</span>`;
        i = close + delim.length;
        continue;
      }
    }
    // images: never loaded (no network); shown as their alt text
    if (c === '!' && src[i + 1] === '[') {
      const link = parseLink(src, i + 1);
      if (link) {
        out += `<span class="md-img" title="${escapeHtml(link.url)}">[image${link.text ? ': ' + escapeHtml(plainText(link.text)) : ''}]</span>`;
        i = link.end;
        continue;
      }
    }
    // links
    if (c === '[') {
      const link = parseLink(src, i);
      if (link) {
        const url = safeUrl(link.url);
        const inner = markdownInline(link.text);
        out += url ? `<a href="${escapeHtml(url)}" rel="noopener noreferrer" target="_blank">${inner}</a>` : `<span class="md-link">${inner}</span>`;
        i = link.end;
        continue;
      }
    }
    // autolinks <https://...> and raw HTML tags (dropped; <br> kept; <img> as its alt text)
    if (c === '<') {
      const auto = /^<(https?:\/\/[^\s<>]+)>/i.exec(src.slice(i));
      if (auto) {
        const url = safeUrl(auto[1]);
        out += url ? `<a href="${escapeHtml(url)}" rel="noopener noreferrer" target="_blank">${escapeHtml(auto[1])}</a>` : escapeHtml(auto[0]);
        i += auto[0].length;
        continue;
      }
      const tag = /^<\/?([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*)\s*\/?>/.exec(src.slice(i));
      if (tag) {
        const name = tag[1].toLowerCase();
        if ((name === 'script' || name === 'style') && !tag[0].startsWith('</')) {
          // raw script/style blocks: drop them with their contents
          const end = src.toLowerCase().indexOf(`</${name}`, i + tag[0].length);
          const close = end >= 0 ? src.indexOf('>', end) : -1;
          i = close >= 0 ? close + 1 : n;
          continue;
        }
        if (name === 'br') out += '<br>';
        else if (name === 'img') {
          const alt = /\balt\s*=\s*(?:"([^"]*)"|'([^']*)')/i.exec(tag[2] ?? '');
          const altText = alt ? (alt[1] ?? alt[2] ?? '') : '';
          if (altText) out += `<span class="md-img">[image: ${escapeHtml(altText)}]</span>`;
        }
        i += tag[0].length;
        continue;
      }
      const comment = /^<!--[\s\S]*?-->/.exec(src.slice(i));
      if (comment) {
        i += comment[0].length;
        continue;
      }
    }
    // bare URLs (GFM autolink extension)
    if ((c === 'h' || c === 'H') && !isWord(src[i - 1])) {
      const bare = /^https?:\/\/[^\s<>()"'`]*[^\s<>()"'`.,;:!?]/i.exec(src.slice(i));
      if (bare) {
        out += `<a href="${escapeHtml(bare[0])}" rel="noopener noreferrer" target="_blank">${escapeHtml(bare[0])}</a>`;
        i += bare[0].length;
        continue;
      }
    }
    // emphasis: **strong**, __strong__, *em*, _em_, ~~del~~
    if (c === '*' || c === '_' || c === '~') {
      const dbl = src[i + 1] === c;
      if (c === '~' && !dbl) {
        out += '~';
        i++;
        continue;
      }
      const delim = dbl ? c + c : c;
      const opensOk = src[i + delim.length] !== undefined && !/\s/.test(src[i + delim.length]) && !(c === '_' && isWord(src[i - 1]));
      if (opensOk) {
        let j = i + delim.length;
        let close = -1;
        while ((j = src.indexOf(delim, j)) >= 0) {
          const before = src[j - 1];
          const after = src[j + delim.length];
          const runOk = dbl || src[j + 1] !== c; // a single * must not be part of **
          if (j > i + delim.length && !/\s/.test(before) && runOk && !(c === '_' && isWord(after))) {
            close = j;
            break;
          }
          j += delim.length;
        }
        if (close >= 0) {
          const tagName = c === '~' ? 'del' : dbl ? 'strong' : 'em';
          out += `<${tagName}>${markdownInline(src.slice(i + delim.length, close))}</${tagName}>`;
          i = close + delim.length;
          continue;
        }
      }
      out += escapeHtml(delim);
      i += delim.length;
      continue;
    }
    // entities
    if (c === '&') {
      const ent = /^&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z][a-zA-Z0-9]{1,31}));/.exec(src.slice(i));
      if (ent) {
        let ch: string | undefined;
        if (ent[1] || ent[2]) {
          const cp = ent[1] ? parseInt(ent[1], 10) : parseInt(ent[2], 16);
          ch = cp > 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) ? String.fromCodePoint(cp) : '\ufffd';
        } else ch = NAMED_ENTITIES[ent[3]];
        if (ch !== undefined) {
          out += escapeHtml(ch);
          i += ent[0].length;
          continue;
        }
      }
    }
    out += escapeHtml(c);
    i++;
  }
  return out;
}

/** Text of inline markdown without markup (for alt text and titles). */
function plainText(src: string): string {
  return src
    .replace(/<[^>]*>/g, '')
    .replace(/[*_`~]/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .trim();
}

/** `[text](url "title")` starting at `start` (the "["), with nested brackets in the text. */
function parseLink(src: string, start: number): { text: string; url: string; end: number } | undefined {
  let depth = 0;
  let i = start;
  for (; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '[') depth++;
    else if (c === ']') {
      depth--;
      if (depth === 0) break;
    } else if (c === '\n' && src[i + 1] === '\n') return undefined;
  }
  if (depth !== 0 || src[i + 1] !== '(') return undefined;
  const text = src.slice(start + 1, i);
  const m = /^\(\s*(<[^>\n]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)/.exec(src.slice(i + 1));
  if (!m) return undefined;
  let url = m[1];
  if (url.startsWith('<') && url.endsWith('>')) url = url.slice(1, -1);
  return { text, url, end: i + 1 + m[0].length };
}

interface ListMatch {
  indent: number;
  ordered: boolean;
  start: number;
  marker: string;
  contentOffset: number;
}

function matchListItem(line: string): ListMatch | undefined {
  const m = /^( {0,12})([-*+]|(\d{1,9})[.)])( +|\t|$)/.exec(line);
  if (!m) return undefined;
  const ordered = m[3] !== undefined;
  return { indent: m[1].length, ordered, start: ordered ? parseInt(m[3], 10) : 1, marker: ordered ? m[2].slice(-1) : m[2], contentOffset: m[0].length };
}

const HR = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const FENCE = /^( {0,3})(`{3,}|~{3,})[ \t]*([^`\s]*)[^`]*$/;
const HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const TABLE_SEP = /^ {0,3}\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$/;

function splitRow(line: string): string[] {
  let s = line.trim();
  if (s.startsWith('|')) s = s.slice(1);
  if (s.endsWith('|') && !s.endsWith('\\|')) s = s.slice(0, -1);
  const cells: string[] = [];
  let cur = '';
  let inCode = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && s[i + 1] === '|') {
      cur += '|';
      i++;
      continue;
    }
    if (c === '`') inCode = inCode ? 0 : 1;
    if (c === '|' && !inCode) {
      cells.push(cur.trim());
      cur = '';
      continue;
    }
    cur += c;
  }
  cells.push(cur.trim());
  return cells;
}

/** Block-level markdown to HTML. Every piece of source text ends up escaped. */
export function markdownToHtml(src: string): string {
  const lines = src.replace(/\r\n?/g, '\n').replace(/\t/g, '    ').split('\n');
  return renderBlocks(lines);
}

function renderBlocks(lines: string[]): string {
  const out: string[] = [];
  let i = 0;
  const blank = (l: string | undefined) => l === undefined || /^\s*$/.test(l);
  const startsBlock = (l: string, next: string | undefined) =>
    FENCE.test(l) || HEADING.test(l) || HR.test(l) || /^ {0,3}>/.test(l) || matchListItem(l) !== undefined || (l.includes('|') && next !== undefined && TABLE_SEP.test(next) && next.includes('-'));
  while (i < lines.length) {
    const line = lines[i];
    if (blank(line)) {
      i++;
      continue;
    }
    // fenced code
    const fence = FENCE.exec(line);
    if (fence) {
      const marker = fence[2];
      const lang = fence[3];
      const body: string[] = [];
      i++;
      while (i < lines.length && !new RegExp(`^ {0,3}${marker[0] === '`' ? '`' : '~'}{${marker.length},}[ \\t]*$`).test(lines[i])) {
        body.push(lines[i].startsWith(fence[1]) ? lines[i].slice(fence[1].length) : lines[i].trimStart());
        i++;
      }
      i++; // closing fence (or end)
      const cls = lang ? ` class="language-${escapeHtml(lang.replace(/[^\w+-]/g, ''))}"` : '';
      out.push(`<pre class="md-code"><code${cls}>${escapeHtml(body.join('\n'))}</code></pre>`);
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      const level = heading[1].length;
      out.push(`<h${level}>${markdownInline(heading[2] ?? '')}</h${level}>`);
      i++;
      continue;
    }
    if (HR.test(line)) {
      out.push('<hr>');
      i++;
      continue;
    }
    // blockquote
    if (/^ {0,3}>/.test(line)) {
      const body: string[] = [];
      while (i < lines.length && !blank(lines[i]) && (/^ {0,3}>/.test(lines[i]) || body.length > 0)) {
        if (!/^ {0,3}>/.test(lines[i]) && startsBlock(lines[i], lines[i + 1])) break;
        body.push(lines[i].replace(/^ {0,3}> ?/, ''));
        i++;
      }
      out.push(`<blockquote>${renderBlocks(body)}</blockquote>`);
      continue;
    }
    // table
    if (line.includes('|') && i + 1 < lines.length && TABLE_SEP.test(lines[i + 1]) && lines[i + 1].includes('-')) {
      const head = splitRow(line);
      const aligns = splitRow(lines[i + 1]).map((a) => (a.startsWith(':') && a.endsWith(':') ? 'center' : a.endsWith(':') ? 'right' : a.startsWith(':') ? 'left' : ''));
      i += 2;
      const rows: string[][] = [];
      while (i < lines.length && !blank(lines[i]) && lines[i].includes('|')) {
        rows.push(splitRow(lines[i]));
        i++;
      }
      const cell = (tag: 'th' | 'td', text: string, k: number) => `<${tag}${aligns[k] ? ` style="text-align:${aligns[k]}"` : ''}>${markdownInline(text)}</${tag}>`;
      const thead = head.some((h) => h !== '') ? `<thead><tr>${head.map((h, k) => cell('th', h, k)).join('')}</tr></thead>` : '';
      const tbody = rows.map((r) => `<tr>${head.map((_, k) => cell('td', r[k] ?? '', k)).join('')}</tr>`).join('');
      out.push(`<div class="md-table"><table>${thead}<tbody>${tbody}</tbody></table></div>`);
      continue;
    }
    // lists
    const item = matchListItem(line);
    if (item) {
      const items: string[][] = [];
      let loose = false;
      let cur: string[] = [];
      let sawBlank = false;
      while (i < lines.length) {
        const l = lines[i];
        const m = matchListItem(l);
        if (m && m.indent <= item.indent + 1 && m.ordered === item.ordered && m.marker === item.marker) {
          if (cur.length) items.push(cur);
          if (sawBlank && cur.length) loose = true;
          cur = [l.slice(m.contentOffset)];
          sawBlank = false;
          i++;
          continue;
        }
        if (blank(l)) {
          sawBlank = true;
          cur.push('');
          i++;
          continue;
        }
        const indent = /^ */.exec(l)?.[0].length ?? 0;
        if (indent > item.indent && (indent >= item.contentOffset - 1 || !sawBlank)) {
          if (sawBlank && !matchListItem(l.slice(Math.min(indent, item.contentOffset)))) loose = true;
          cur.push(l.slice(Math.min(indent, item.contentOffset)));
          sawBlank = false;
          i++;
          continue;
        }
        if (!sawBlank && !startsBlock(l, lines[i + 1])) {
          cur.push(l.trimStart()); // lazy continuation of the paragraph
          i++;
          continue;
        }
        break;
      }
      if (cur.length) items.push(cur);
      while (items.length && items[items.length - 1].length && blank(items[items.length - 1][items[items.length - 1].length - 1])) items[items.length - 1].pop();
      const lis = items.map((it) => {
        let html = renderBlocks(it);
        if (!loose) html = html.replace(/^<p>([\s\S]*?)<\/p>/, '$1').replace(/<p>([\s\S]*?)<\/p>/g, '$1');
        return `<li>${html}</li>`;
      });
      const tag = item.ordered ? 'ol' : 'ul';
      const start = item.ordered && item.start !== 1 ? ` start="${item.start}"` : '';
      out.push(`<${tag}${start}>${lis.join('')}</${tag}>`);
      continue;
    }
    // paragraph (with setext headings)
    const para: string[] = [line];
    i++;
    let setext = 0;
    while (i < lines.length && !blank(lines[i])) {
      if (/^ {0,3}=+[ \t]*$/.test(lines[i])) {
        setext = 1;
        i++;
        break;
      }
      if (/^ {0,3}-+[ \t]*$/.test(lines[i])) {
        setext = 2;
        i++;
        break;
      }
      if (startsBlock(lines[i], lines[i + 1])) break;
      para.push(lines[i]);
      i++;
    }
    const text = para.map((l, k) => (k === 0 ? l.trimStart() : l)).join('\n');
    const inline = markdownInline(text.replace(/\s+$/, ''));
    if (setext) out.push(`<h${setext}>${inline}</h${setext}>`);
    else if (inline.replace(/<br>\s*/g, '').trim() !== '') out.push(`<p>${inline}</p>`);
  }
  return out.join('\n');
}

// ---------------------------------------------------------------------------
// Outputs

const STDOUT = 'application/vnd.code.notebook.stdout';
const STDERR = 'application/vnd.code.notebook.stderr';
const ERROR = 'application/vnd.code.notebook.error';
const IMAGE_MIMES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/svg+xml'];

function textOf(data: unknown): string {
  if (typeof data === 'string') return data;
  if (Array.isArray(data) && data.every((l) => typeof l === 'string')) return data.join('');
  if (data instanceof Uint8Array) return new TextDecoder().decode(data);
  if (data === undefined || data === null) return '';
  return JSON.stringify(data, null, 2);
}

function jsonOf(data: unknown): unknown {
  if (typeof data === 'string') return JSON.parse(data);
  if (data instanceof Uint8Array) return JSON.parse(new TextDecoder().decode(data));
  return data;
}

function base64Of(data: unknown): string | undefined {
  if (data instanceof Uint8Array) return bytesToBase64(data);
  if (typeof data === 'string') {
    const s = data.replace(/\s+/g, '');
    return /^[A-Za-z0-9+/]*={0,2}$/.test(s) ? s : undefined;
  }
  return undefined;
}

interface RichOutput {
  id: string;
  mime: string;
  json: unknown;
}

const RICH_ORDER: readonly string[] = [TRAINING_MIME, IMAGES_MIME, SUMMARY_MIME];

function renderOutput(items: ReportOutputItem[], id: string, rich: RichOutput[]): string {
  const by = (mime: string) => items.find((it) => it.mime.split(';')[0].trim().toLowerCase() === mime);
  const plain = by('text/plain');
  for (const mime of RICH_ORDER) {
    const it = by(mime);
    if (!it) continue;
    try {
      rich.push({ id, mime, json: jsonOf(it.data) });
      const fallback = plain ? `<pre class="out-text">${escapeHtml(stripAnsi(textOf(plain.data)))}</pre>` : '';
      return `<div class="output output-rich" id="${id}" data-mime="${escapeHtml(mime)}">${fallback}</div>`;
    } catch {
      break; // bad JSON: fall back to the other representations
    }
  }
  for (const mime of IMAGE_MIMES) {
    const it = by(mime);
    const b64 = it && base64Of(it.data);
    if (b64) {
      const alt = plain ? textOf(plain.data).slice(0, 300) : 'Output image';
      return `<div class="output output-image"><img src="data:${mime};base64,${b64}" alt="${escapeHtml(alt)}"></div>`;
    }
  }
  const md = by('text/markdown');
  if (md) return `<div class="output output-markdown md">${markdownToHtml(textOf(md.data))}</div>`;
  const err = by(ERROR);
  if (err) {
    let e: { name?: unknown; message?: unknown; stack?: unknown } = {};
    try {
      e = jsonOf(err.data) as typeof e;
    } catch {
      e = { message: textOf(err.data) };
    }
    const head = `${typeof e.name === 'string' ? e.name : 'Error'}: ${typeof e.message === 'string' ? e.message : ''}`;
    const stack = typeof e.stack === 'string' ? e.stack : '';
    const body = stack.includes(head) ? stack : stack ? `${head}\n${stack}` : head;
    return `<div class="output output-error"><pre>${escapeHtml(stripAnsi(body))}</pre></div>`;
  }
  const streams = items.filter((it) => it.mime === STDOUT || it.mime === STDERR);
  if (streams.length) {
    return streams.map((s) => `<div class="output output-stream${s.mime === STDERR ? ' stderr' : ''}"><pre>${escapeHtml(stripAnsi(textOf(s.data)))}</pre></div>`).join('');
  }
  if (plain) return `<div class="output output-text"><pre>${escapeHtml(stripAnsi(textOf(plain.data)))}</pre></div>`;
  const json = by('application/json');
  if (json) {
    let text: string;
    try {
      text = JSON.stringify(jsonOf(json.data), null, 2);
    } catch {
      text = textOf(json.data);
    }
    return `<div class="output output-text"><pre>${escapeHtml(text)}</pre></div>`;
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

const LIGHT_VARS = `
  --vscode-editor-background: #ffffff; --vscode-editor-foreground: #1f1f1f; --vscode-descriptionForeground: #5f5f5f;
  --vscode-editorWidget-border: #d4d4d4; --vscode-editorWidget-background: #f5f5f5; --vscode-charts-lines: rgba(97, 97, 97, 0.5);
  --vscode-charts-blue: #1a85ff; --vscode-charts-orange: #c9700a; --vscode-charts-green: #388a34; --vscode-charts-purple: #652d90;
  --vscode-charts-red: #e51400; --vscode-charts-yellow: #bf8803; --vscode-focusBorder: #0078d4;
  --vscode-button-background: #0078d4; --vscode-button-foreground: #ffffff; --vscode-button-hoverBackground: #026ec1;
  --vscode-button-secondaryBackground: #e5e5e5; --vscode-button-secondaryForeground: #1f1f1f; --vscode-button-secondaryHoverBackground: #cccccc;
  --vscode-dropdown-background: #ffffff; --vscode-dropdown-border: #cecece; --vscode-progressBar-background: #0e70c0;
  --vscode-textCodeBlock-background: #f3f3f3; --vscode-textLink-foreground: #005fb8; --vscode-errorForeground: #d1242f;
  --vscode-editor-selectionBackground: #add6ff; --vscode-list-hoverBackground: #f2f2f2; --report-code-bg: #f8f8f8; --report-cell-border: #e5e5e5;
  color-scheme: light;`;

const DARK_VARS = `
  --vscode-editor-background: #1f1f1f; --vscode-editor-foreground: #cccccc; --vscode-descriptionForeground: #9d9d9d;
  --vscode-editorWidget-border: #454545; --vscode-editorWidget-background: #252526; --vscode-charts-lines: rgba(204, 204, 204, 0.5);
  --vscode-charts-blue: #3794ff; --vscode-charts-orange: #d18616; --vscode-charts-green: #89d185; --vscode-charts-purple: #b180d7;
  --vscode-charts-red: #f14c4c; --vscode-charts-yellow: #cca700; --vscode-focusBorder: #0078d4;
  --vscode-button-background: #0078d4; --vscode-button-foreground: #ffffff; --vscode-button-hoverBackground: #026ec1;
  --vscode-button-secondaryBackground: #313131; --vscode-button-secondaryForeground: #cccccc; --vscode-button-secondaryHoverBackground: #3c3c3c;
  --vscode-dropdown-background: #313131; --vscode-dropdown-border: #3c3c3c; --vscode-progressBar-background: #0078d4;
  --vscode-textCodeBlock-background: #2b2b2b; --vscode-textLink-foreground: #4daafc; --vscode-errorForeground: #f85149;
  --vscode-editor-selectionBackground: #264f78; --vscode-list-hoverBackground: #2a2d2e; --report-code-bg: #181818; --report-cell-border: #2b2b2b;
  color-scheme: dark;`;

const REPORT_CSS = `
:root { --vscode-font-family: system-ui, -apple-system, "Segoe UI", Ubuntu, "Helvetica Neue", sans-serif; --vscode-font-size: 14px;
  --vscode-editor-font-family: ui-monospace, "SF Mono", "Cascadia Mono", Menlo, Consolas, "DejaVu Sans Mono", monospace; }
html[data-theme="light"] { ${LIGHT_VARS} }
html[data-theme="dark"] { ${DARK_VARS} }
html[data-theme="auto"] { ${LIGHT_VARS} }
@media (prefers-color-scheme: dark) { html[data-theme="auto"] { ${DARK_VARS} } }
* { box-sizing: border-box; }
body { margin: 0; background: var(--vscode-editor-background); color: var(--vscode-editor-foreground);
  font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); line-height: 1.55; }
main { max-width: 1040px; margin: 0 auto; padding: 28px 24px 64px; }
.nb-head { border-bottom: 1px solid var(--report-cell-border); margin-bottom: 18px; padding-bottom: 10px; }
.nb-head h1 { margin: 0; font-size: 1.6em; }
.nb-meta { margin: 4px 0 0; color: var(--vscode-descriptionForeground); font-size: 0.9em; }
.cell { margin: 0 0 14px; }
.md h1, .md h2, .md h3, .md h4 { line-height: 1.25; margin: 1.1em 0 0.45em; }
.md h1 { font-size: 1.75em; } .md h2 { font-size: 1.4em; } .md h3 { font-size: 1.18em; }
.md p { margin: 0.55em 0; }
.md a { color: var(--vscode-textLink-foreground); }
.md code, .md-math { font-family: var(--vscode-editor-font-family); font-size: 0.92em; background: var(--vscode-textCodeBlock-background); padding: 0.1em 0.3em; border-radius: 3px; }
.md pre.md-code { background: var(--vscode-textCodeBlock-background); padding: 10px 12px; border-radius: 4px; overflow-x: auto; }
.md pre.md-code code { background: none; padding: 0; }
.md blockquote { margin: 0.6em 0; padding: 0 0 0 12px; border-left: 3px solid var(--vscode-editorWidget-border); color: var(--vscode-descriptionForeground); }
.md hr { border: none; border-top: 1px solid var(--report-cell-border); margin: 1.4em 0; }
.md-table { overflow-x: auto; margin: 0.6em 0; }
.md table { border-collapse: collapse; }
.md th, .md td { border: 1px solid var(--vscode-editorWidget-border); padding: 4px 10px; }
.md-img { color: var(--vscode-descriptionForeground); font-style: italic; }
.code-cell { display: grid; grid-template-columns: 3.6em minmax(0, 1fr); column-gap: 6px; }
.gutter { color: var(--vscode-descriptionForeground); font-family: var(--vscode-editor-font-family); font-size: 0.85em; text-align: right; padding-top: 9px; }
.gutter.failed { color: var(--vscode-errorForeground); }
.source { position: relative; margin: 0; background: var(--report-code-bg); border: 1px solid var(--report-cell-border); border-radius: 4px; padding: 8px 7em 8px 12px;
  font-family: var(--vscode-editor-font-family); font-size: 0.88em; line-height: 1.5; overflow-x: auto; tab-size: 2; }
.source .lang { position: absolute; top: 8px; right: 12px; color: var(--vscode-descriptionForeground); font-size: 0.85em; font-family: var(--vscode-font-family); }
.outputs { grid-column: 2; padding: 6px 0 0 2px; }
.output { margin: 4px 0 8px; }
.output pre { margin: 0; font-family: var(--vscode-editor-font-family); font-size: 0.86em; white-space: pre-wrap; overflow-wrap: anywhere; }
.output-stream.stderr pre, .output-error pre { color: var(--vscode-errorForeground); }
.output-image img { max-width: 100%; image-rendering: auto; }
.output-missing p { color: var(--vscode-descriptionForeground); font-style: italic; margin: 0; }
@media print { .aenb-btn, .aenb-segmented, .aenb-select, .aenb-slider, .aenb-field { display: none !important; } }
`;

/** The page title, and whether it repeats the notebook's first heading (then the page header omits it). */
function notebookTitle(nb: ReportNotebook, opts: ReportOptions): { title: string; fromHeading: boolean } {
  if (opts.title) return { title: opts.title, fromHeading: false };
  const t = nb.metadata?.['title'];
  if (typeof t === 'string' && t.trim()) return { title: t.trim(), fromHeading: false };
  for (const c of nb.cells) {
    if (c.kind !== 'markdown') continue;
    const m = /^ {0,3}#{1,6}[ \t]+(.+?)[ \t#]*$/m.exec(c.source);
    if (m) return { title: plainText(m[1]) || 'Notebook', fromHeading: nb.cells[0] === c };
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
    const source = `<pre class="source">${lang}<code>${escapeHtml(cell.source)}</code></pre>`;
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

/** The MIME types whose outputs the report draws with the renderer. */
export const REPORT_RICH_MIME_TYPES: readonly string[] = RENDERER_MIME_TYPES;
