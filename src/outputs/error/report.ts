// The report's view of this kind (HTML, pure).
import { jsonOf, preBlock, textOf } from '../../report/html';
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
  return preBlock('output output-error', stack.includes(head) ? stack : stack ? `${head}\n${stack}` : head);
}
