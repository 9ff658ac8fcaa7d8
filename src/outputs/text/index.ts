// Plain text (text/plain): `show.text`, and the shown form of any value a
// cell ends with that no other kind displays (tensors, strings, objects).
// VS Code draws it itself; the report shows it as preformatted text.
import { MIME, type AenbOutput } from '../../common/aenb';
import type { OutputKind } from '../kind';
import { report } from './report';
import { kernel } from './kernel';

/** A text output (text/plain unless another text MIME type is given). */
export function textOutput(text: string, mime: string = MIME.textPlain): AenbOutput {
  return { items: [{ mime, data: text }] };
}

export const text: OutputKind<string, typeof kernel> = {
  name: 'text',
  mimes: [MIME.textPlain],
  rendered: false,
  report,
  kernel,
};
