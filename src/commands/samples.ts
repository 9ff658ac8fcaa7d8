// The sample notebooks shipped in `samples/`, and names for their copies.
// No `vscode` import.
import { AenbNotebook, parseNotebook } from '../common/aenb';

export interface SampleInfo {
  /** File name without `.aenb`, e.g. "vanilla-mnist". */
  id: string;
  fileName: string;
  title: string;
  description?: string;
  /** Place in the sample picker (metadata `order`, smallest first); samples without one come last. */
  order?: number;
}

/** "stacked-fashion-mnist" -> "Stacked fashion mnist". */
function humanize(id: string): string {
  const words = id.replace(/[-_.]+/g, ' ').trim();
  return words ? words[0].toUpperCase() + words.slice(1) : id;
}

function stripMarkdown(s: string): string {
  return s
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[*_`]+/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

function firstHeading(nb: AenbNotebook): string | undefined {
  for (const c of nb.cells) {
    if (c.kind !== 'markdown') continue;
    const m = /^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$/m.exec(c.source);
    if (m) return stripMarkdown(m[1]);
  }
  return undefined;
}

function firstParagraph(nb: AenbNotebook): string | undefined {
  for (const c of nb.cells) {
    if (c.kind !== 'markdown') continue;
    const paragraphs = c.source.split(/\n\s*\n/).map((p) => p.trim()).filter((p) => p && !/^#{1,6}\s/.test(p) && !/^[-*|>]/.test(p));
    if (paragraphs.length) {
      const text = stripMarkdown(paragraphs[0]);
      return text.length > 160 ? `${text.slice(0, 157).trimEnd()}…` : text;
    }
  }
  return undefined;
}

/**
 * Title and description of a sample: metadata `title` / `description`, else
 * the first markdown heading / paragraph, else the file name; and its place
 * in the picker (metadata `order`).
 * @throws AenbFormatError when the sample is not a valid notebook.
 */
export function describeSample(fileName: string, text: string): SampleInfo {
  const id = fileName.replace(/\.aenb$/i, '');
  const nb = parseNotebook(text, fileName);
  const title = (typeof nb.metadata.title === 'string' && nb.metadata.title.trim()) || firstHeading(nb) || humanize(id);
  const description = (typeof nb.metadata.description === 'string' && nb.metadata.description.trim()) || firstParagraph(nb);
  const info: SampleInfo = { id, fileName, title };
  if (description) info.description = description;
  if (typeof nb.metadata.order === 'number' && Number.isFinite(nb.metadata.order)) info.order = nb.metadata.order;
  return info;
}

/**
 * The order of the sample picker: the samples' own `order` (the vanilla
 * autoencoder before the stacked one, as a course goes), then file names.
 */
export function sortSamples<T extends SampleInfo>(samples: readonly T[]): T[] {
  const rank = (s: SampleInfo) => s.order ?? Number.POSITIVE_INFINITY;
  return [...samples].sort((a, b) => rank(a) - rank(b) || a.fileName.localeCompare(b.fileName));
}

/**
 * A file name in a folder that does not exist yet: `name.aenb`, else
 * `name-2.aenb`, `name-3.aenb`... (so a copy never overwrites the user's file).
 */
export function uniqueFileName(fileName: string, taken: (name: string) => boolean, limit = 1000): string {
  if (!taken(fileName)) return fileName;
  const dot = fileName.lastIndexOf('.');
  const stem = dot > 0 ? fileName.slice(0, dot) : fileName;
  const ext = dot > 0 ? fileName.slice(dot) : '';
  for (let i = 2; i <= limit; i++) {
    const candidate = `${stem}-${i}${ext}`;
    if (!taken(candidate)) return candidate;
  }
  throw new Error(`There are already ${limit} copies named ${stem}-N${ext} in this folder.`);
}
