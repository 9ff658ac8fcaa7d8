// The report's view of this kind (HTML, pure).
import { textOf } from '../../report/html';
import { markdownToHtml } from '../../report/markdown';
import type { ReportItem } from '../kind';

export const report = (item: ReportItem): string => `<div class="output output-markdown md">${markdownToHtml(textOf(item.data))}</div>`;
