// Markdown (text/markdown): `show.markdown(md)`. VS Code draws it itself; the
// report renders it with markdown-it, raw HTML disabled (../../report/markdown).
import { MIME, type AenbOutput } from '../../common/aenb';
import type { OutputKind } from '../kind';
import { report } from './report';
import { kernel } from './kernel';

export function markdownOutput(markdown: string): AenbOutput {
  return { items: [{ mime: MIME.markdown, data: markdown }] };
}

export const markdown: OutputKind<string, typeof kernel> = {
  name: 'markdown',
  mimes: [MIME.markdown],
  rendered: false,
  report,
  kernel,
};
