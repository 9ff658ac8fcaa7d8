// The report's view of this kind (HTML, pure).
import { escapeHtml, jsonOf, textOf } from '../../report/html';
import type { ReportItem } from '../kind';

export function report(item: ReportItem): string | undefined {
  let text: string;
  try {
    text = JSON.stringify(jsonOf(item.data), null, 2);
  } catch {
    text = textOf(item.data);
  }
  return `<div class="output output-text"><pre>${escapeHtml(text)}</pre></div>`;
}
