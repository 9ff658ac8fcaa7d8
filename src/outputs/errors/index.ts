// Reconstruction errors: the per-image error of a set of images, drawn by our
// renderer as a histogram with the worst and best rebuilt images (see
// ./contract.ts for the payload, ./kernel.ts for show.errors).
import type { OutputKind } from '../kind';
import { checkErrorsPayload, ERRORS_MIME, errorsText, type ErrorsPayload } from './contract';
import { kernel } from './kernel';
import { view } from './view';

export const errors: OutputKind<ErrorsPayload, typeof kernel> = {
  name: 'errors',
  mimes: [ERRORS_MIME],
  rendered: true,
  check: checkErrorsPayload,
  text: (p) => errorsText(p),
  kernel,
  view,
};
