// The table of output kinds: one line per kind (its folder holds the rest; see
// ./kind.ts). Order matters twice: the HTML report shows an output by the
// first kind, in this order, that has one of its items (richest first), and
// the kernel shows a cell's last value by the first kind that displays it.
import type { KernelPart, OutputKind } from './kind';
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

// The list's type is written out (the compiler checks it against the list) so that the declarations
// generated for cells name each kind's kernel part, keeping the doc comments of its show functions.
const KINDS: readonly [typeof training, typeof images, typeof summary, typeof latent, typeof errors, typeof image, typeof markdown, typeof error, typeof stream, typeof text, typeof json] = [
  training,
  images,
  summary,
  latent,
  errors,
  image,
  markdown,
  error,
  stream,
  text,
  json,
];
export const OUTPUT_KINDS: readonly OutputKind<any>[] = KINDS;

// Every kind says what its kernel part is (OutputKind<Payload, typeof kernel | undefined>): a kind left with
// the default would have its show functions untyped in cells. A type error here means one of KINDS did not.
type Loose<K> = K extends { readonly kernel?: infer P } ? (KernelPart extends NonNullable<P> ? K : never) : never;
const everyKindSaysItsKernelPart: [Loose<(typeof KINDS)[number]>] extends [never]
  ? true
  : 'every kind in KINDS must be declared as OutputKind<Payload, typeof kernel>, or OutputKind<Payload, undefined> without a kernel part' = true;
void everyKindSaysItsKernelPart;

type KindShow<K> = K extends { readonly kernel?: infer P } ? (P extends { readonly show?: infer S } ? NonNullable<S> : never) : never;
type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;
type AllShow = UnionToIntersection<KindShow<(typeof KINDS)[number]>>;

/**
 * The cells' `show` object: every kind's `show.*` functions, each showing its
 * output (and returning nothing). Cells are typed from this (see
 * scripts/cell-types.mjs), so a kind declares its kernel part with
 * `satisfies KernelPart` (not `: KernelPart`, which would forget the
 * functions' own types), its index as `OutputKind<Payload, typeof kernel>`
 * (or `undefined` without one), and documents each show function with a doc
 * comment.
 */
type KindShowLive<K> = K extends { readonly kernel?: infer P } ? (P extends { readonly showLive?: infer S } ? NonNullable<S> : never) : never;
type AllShowLive = UnionToIntersection<KindShowLive<(typeof KINDS)[number]>>;
type KindCallbacks<K> = K extends { readonly kernel?: infer P } ? (P extends { readonly callbacks?: infer S } ? NonNullable<S> : never) : never;
type AllCallbacks = UnionToIntersection<KindCallbacks<(typeof KINDS)[number]>>;
/** A function of a kind's kernel part without its first parameter (the running cell, or the kernel's services, that the kernel passes). */
type WithoutFirst<F> = F extends (first: any, ...args: infer A) => infer R ? (...args: A) => R : never;

export type ShowApi = { readonly [N in keyof AllShow]: AllShow[N] extends (...args: infer A) => unknown ? (...args: A) => void : never } & {
  /** The kinds' live show functions (KernelPart.showLive): they return what the cell may await. */
  readonly [N in keyof AllShowLive]: WithoutFirst<AllShowLive[N]>;
};

/** The training callbacks the output kinds add to the cells' `callbacks` object (src/kernel/callbacks.ts). */
export type KindCallbacksApi = { readonly [N in keyof AllCallbacks]: WithoutFirst<AllCallbacks[N]> };

const byMime = new Map<string, OutputKind<any>>();
for (const k of OUTPUT_KINDS) for (const m of k.mimes) byMime.set(m, k);

/** The kind of a MIME type (parameters and case ignored), if it is one of ours. */
export function kindOf(mime: string): OutputKind<any> | undefined {
  return byMime.get(mime.split(';')[0].trim().toLowerCase());
}

/** The MIME types our renderer draws: package.json's `notebookRenderer[0].mimeTypes`. */
export const RENDERER_MIME_TYPES: readonly string[] = OUTPUT_KINDS.filter((k) => k.rendered).map((k) => k.mimes[0]);
