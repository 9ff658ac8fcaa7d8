// Escaping and decoding helpers of the HTML report and the kinds' report
// views. Pure: no Node, no DOM.
import { bytesToBase64, isBase64 } from '../common/base64';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;'));
}

/** Text without terminal color codes. */
export function stripAnsi(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, '');
}

/** The text of an item's data: a string, lines, UTF-8 bytes, or JSON shown as text. */
export function textOf(data: unknown): string {
  if (typeof data === 'string') return data;
  if (Array.isArray(data) && data.every((l) => typeof l === 'string')) return data.join('');
  if (data instanceof Uint8Array) return new TextDecoder().decode(data);
  if (data === undefined || data === null) return '';
  return JSON.stringify(data, null, 2);
}

/** The JSON value of an item's data (a value, its JSON text or UTF-8 bytes). Throws on bad JSON. */
export function jsonOf(data: unknown): unknown {
  if (typeof data === 'string') return JSON.parse(data);
  if (data instanceof Uint8Array) return JSON.parse(new TextDecoder().decode(data));
  return data;
}

/** Base64 of an item's binary data (bytes or base64 text, whitespace ignored), or undefined. */
export function base64Of(data: unknown): string | undefined {
  if (data instanceof Uint8Array) return bytesToBase64(data);
  if (typeof data === 'string') {
    const s = data.replace(/\s+/g, '');
    return isBase64(s) ? s : undefined;
  }
  return undefined;
}

/** `<pre>` of escaped text, without color codes, in a div of the given classes. */
export function preBlock(classes: string, text: string): string {
  return `<div class="${classes}"><pre>${escapeHtml(stripAnsi(text))}</pre></div>`;
}
