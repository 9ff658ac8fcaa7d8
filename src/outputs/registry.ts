// The table of output kinds: one line per kind (its folder holds the rest; see
// ./kind.ts). Order matters twice: the HTML report shows an output by the
// first kind, in this order, that has one of its items (richest first), and
// the kernel shows a cell's last value by the first kind that displays it.
import type { OutputKind } from './kind';
import { training } from './training';
import { images } from './images';
import { summary } from './summary';
import { latent } from './latent';
import { errors } from './errors';
import { image } from './image';
import { markdown } from './markdown';
import { error } from './error';
import { stream } from './stream';
import { text } from './text';
import { json } from './json';

export const OUTPUT_KINDS: readonly OutputKind<any>[] = [training, images, summary, latent, errors, image, markdown, error, stream, text, json];

const byMime = new Map<string, OutputKind<any>>();
for (const k of OUTPUT_KINDS) for (const m of k.mimes) byMime.set(m, k);

/** The kind of a MIME type (parameters and case ignored), if it is one of ours. */
export function kindOf(mime: string): OutputKind<any> | undefined {
  return byMime.get(mime.split(';')[0].trim().toLowerCase());
}

/** The MIME types our renderer draws: package.json's `notebookRenderer[0].mimeTypes`. */
export const RENDERER_MIME_TYPES: readonly string[] = OUTPUT_KINDS.filter((k) => k.rendered).map((k) => k.mimes[0]);
