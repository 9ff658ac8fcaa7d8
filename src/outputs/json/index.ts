// JSON (application/json): VS Code draws it itself; the report shows it
// indented, as text.
import { MIME } from '../../common/aenb';
import type { OutputKind } from '../kind';
import { report } from './report';

export const json: OutputKind<unknown, undefined> = {
  name: 'json',
  mimes: [MIME.json],
  rendered: false,
  report,
};
