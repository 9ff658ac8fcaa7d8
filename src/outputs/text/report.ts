// The report's view of this kind (HTML, pure).
import { preBlock, textOf } from '../../report/html';
import type { ReportItem } from '../kind';

export const report = (item: ReportItem): string => preBlock('output output-text', textOf(item.data));
