// The summary kind: Keras-style model summaries, drawn by our renderer as a
// table (see ./contract.ts for the payload).
import type { OutputKind } from '../kind';
import { checkSummaryPayload, SUMMARY_MIME, summaryText, type SummaryPayload } from './contract';
import { kernel } from './kernel';
import { view } from './view';

export const summary: OutputKind<SummaryPayload, typeof kernel> = {
  name: 'summary',
  mimes: [SUMMARY_MIME],
  rendered: true,
  check: checkSummaryPayload,
  text: summaryText,
  kernel,
  view,
};
