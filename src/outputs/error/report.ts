// The report's view of this kind (HTML, pure).
import { splitErrorStack } from '../../common/error-stack';
import { escapeHtml, jsonOf, stripAnsi, textOf } from '../../report/html';
import type { ReportItem } from '../kind';

export function report(item: ReportItem): string | undefined {
  let e: { name?: unknown; message?: unknown; stack?: unknown } = {};
  try {
    e = jsonOf(item.data) as typeof e;
  } catch {
    e = { message: textOf(item.data) };
  }
  const head = `${typeof e.name === 'string' ? e.name : 'Error'}: ${typeof e.message === 'string' ? e.message : ''}`;
  const stack = typeof e.stack === 'string' ? e.stack : '';
  const body = stack.includes(head) ? stack : stack ? `${head}\n${stack}` : head;
  // The cell's own frames show; the library frames fold away (src/common/error-stack.ts).
  const { own, library } = splitErrorStack(stripAnsi(body));
  const frames = library.split('\n').filter((l) => l.trim()).length;
  const folded = library
    ? `<details class="library-frames"><summary>${frames} library frame${frames === 1 ? '' : 's'}</summary><pre>${escapeHtml(library)}</pre></details>`
    : '';
  return `<div class="output output-error"><pre>${escapeHtml(own)}</pre>${folded}</div>`;
}
