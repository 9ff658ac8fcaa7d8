// The report's view of this kind (HTML, pure).
import { base64Of, escapeHtml, textOf } from '../../report/html';
import type { ReportContext, ReportItem } from '../kind';

export function report(item: ReportItem, ctx: ReportContext): string | undefined {
  const b64 = base64Of(item.data);
  if (!b64) return undefined;
  const plain = ctx.item('text/plain');
  const alt = plain ? textOf(plain.data).slice(0, 300) : 'Output image';
  return `<div class="output output-image"><img src="data:${item.mime};base64,${b64}" alt="${escapeHtml(alt)}"></div>`;
}
