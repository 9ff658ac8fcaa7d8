// The report's view of this kind (HTML, pure).
import { MIME } from '../../common/aenb';
import { preBlock, textOf } from '../../report/html';
import type { ReportContext, ReportItem } from '../kind';

export const report = (_item: ReportItem, ctx: ReportContext): string =>
  ctx.items
    .filter((it) => it.mime === MIME.stdout || it.mime === MIME.stderr)
    .map((s) => preBlock(`output output-stream${s.mime === MIME.stderr ? ' stderr' : ''}`, textOf(s.data)))
    .join('');
