// Console streams (VS Code's stdout/stderr MIME types): what `console.log`
// and friends print under a cell. The kernel appends lines to one stream
// output while they keep coming; the report shows them as text, stderr in red.
import { MIME, type AenbOutput } from '../../common/aenb';
import type { OutputKind } from '../kind';
import { report } from './report';

export function streamOutput(stream: 'stdout' | 'stderr', text: string): AenbOutput {
  return { items: [{ mime: stream === 'stdout' ? MIME.stdout : MIME.stderr, data: text }] };
}

export const stream: OutputKind<string, undefined> = {
  name: 'stream',
  mimes: [MIME.stdout, MIME.stderr],
  rendered: false,
  report,
};
