// What an output kind is. Each kind is one folder of src/outputs/ holding
// everything about it, and one line of the table in ./registry.ts:
//
//   contract.ts   MIME type, payload type, runtime check, text fallback,
//                 output items (pure: no Node, no DOM; every side imports it)
//   kernel.ts     exports `kernel`: the `show.*` functions it adds and the
//                 last-expression values it displays (runs in the kernel)
//   view.ts       exports `view`: the renderer's view (DOM, in the webview and
//                 the HTML report); only kinds that our renderer draws
//   report.ts     the HTML report's static view of an output (pure)
//   index.ts      the `OutputKind` that puts the parts together
//
// Every bundle imports the one table, and the build (scripts/build.mjs) keeps
// each side's parts out of the others' bundles: the renderer bundle gets
// `kernel` as undefined (no TensorFlow.js in a webview), and the extension
// host and CLI bundles get `view` and `kernel` as undefined. A part is read
// only on its own side.
//
// Adding a kind: a new folder like the others, one line in ./registry.ts, and
// (when our renderer draws it) its MIME type in package.json's
// `contributes.notebookRenderer[0].mimeTypes` (a unit test checks the two agree).
import type { AenbOutput } from '../common/aenb';
import type { Handler, RequestOptions, Result } from '../common/messages/envelope';
import type { KernelMethods } from '../common/messages/kernel';
import type { RendererMethods } from '../common/messages/renderer';

/** One representation of an output, as raw bytes (what VS Code and the kernel hold). */
export interface OutputItemBytes {
  mime: string;
  data: Uint8Array;
}

/** An output item as the report gets it (the stored form of the `.aenb` file). */
export interface ReportItem {
  mime: string;
  /** Text MIME types: the text; JSON MIME types: the value (or its JSON text); binary: base64 (or bytes). */
  data: unknown;
}

/** What the report gives a kind's report view. */
export interface ReportContext {
  /** All items of the output (a kind may use the text/plain fallback, say). */
  readonly items: readonly ReportItem[];
  /** The item of a MIME type, if the output has one. */
  item(mime: string): ReportItem | undefined;
}

/** The running cell, as a kind's kernel functions see it (the kernel, src/kernel/runtime.ts, makes it). */
export interface RunningCell {
  /**
   * Shows an output under the cell. With `key`, replaces the cell's earlier
   * output of that key instead (live progress): sent at once when `urgent`,
   * else at most every progress interval, the latest one winning.
   */
  emit(output: AenbOutput, key?: string, urgent?: boolean): void;
  /** True once the user interrupted the cell. */
  readonly interrupted: boolean;
  /**
   * Work that belongs to the cell: the cell does not end before it settles,
   * even when the cell's code does not await it, and its error fails the
   * cell unless the code awaited it (and so saw the error itself). Returns
   * what the code may await.
   */
  track(work: Promise<unknown>): PromiseLike<void>;
  /** A key for a live output, unique in this kernel (`prefix:...`). */
  newKey(prefix: string): string;
  /**
   * Calls `hook` once when the cell ends (its code and tracked work are over,
   * it succeeded or not), before it reports done: where a live output whose
   * run ended without a word (a fit that threw) says it is over.
   */
  onEnd(hook: () => void): void;
}

/** What the kernel offers a kind's functions that run later than the call that made them (training callbacks). */
export interface KernelServices {
  /** The cell running now (the one whose code, or whose training, is calling), if any. */
  cell(): RunningCell | undefined;
}

/** The kernel side of a kind. */
export interface KernelPart {
  /** Functions added to the cells' `show` object; each returns the output to show. */
  readonly show?: Readonly<Record<string, (...args: any[]) => AenbOutput>>;
  /**
   * Functions added to the cells' `show` object that show outputs themselves
   * as they go (progress under a key, then the result under the same key) and
   * may return a promise; the cell waits for it even when not awaited.
   */
  readonly showLive?: Readonly<Record<string, (cell: RunningCell, ...args: any[]) => void | PromiseLike<void>>>;
  /** Training callbacks added to the cells' `callbacks` object (src/kernel/callbacks.ts): each makes a callback for `fit`. */
  readonly callbacks?: Readonly<Record<string, (kernel: KernelServices, ...args: any[]) => unknown>>;
  /** Kernel requests this kind's views send (methods of KernelMethods, forwarded by the host as `kernel.<method>`), answered here. */
  readonly requests?: { readonly [K in keyof KernelMethods]?: Handler<KernelMethods, K> };
  /** The output for a cell's last expression, when this kind shows such values (kinds are asked in table order). */
  display?(value: unknown): AenbOutput | undefined;
}

/** What a view may ask of the renderer around it. */
export interface ViewHost {
  /**
   * Asks the extension host, or with `kernel.*` methods the kernel of this
   * notebook; resolves with the answer or an error value. Absent where there
   * is no host (the HTML report, a renderer without messaging).
   */
  request?<K extends keyof RendererMethods & string>(method: K, params: RendererMethods[K]['params'], options?: RequestOptions): Promise<Result<RendererMethods[K]['result']>>;
}

/** A renderer view: created once per output element, updated in place on live updates. */
export interface OutputView<P> {
  readonly root: HTMLElement;
  update(payload: P): void;
  /** The theme changed: re-read colors. */
  refreshTheme?(): void;
  dispose(): void;
}

export interface ViewPart<P> {
  create(host: ViewHost): OutputView<P>;
}

/**
 * `K` is the kind's kernel part as declared (`typeof kernel`, with `kernel`
 * declared `satisfies KernelPart`), or `undefined` when it has none: the
 * cells' `show` object is typed from it (ShowApi in ./registry.ts).
 */
export interface OutputKind<P = unknown, K extends KernelPart | undefined = KernelPart | undefined> {
  /** Folder name, e.g. "training". */
  readonly name: string;
  /** The MIME types of this kind (the first is the main one). */
  readonly mimes: readonly string[];
  /** True when our renderer draws it (its MIME type is in package.json's renderer contribution). */
  readonly rendered: boolean;
  /** For JSON payloads: a problem description, or undefined when `value` is a valid payload. */
  check?(value: unknown): string | undefined;
  /** The text/plain fallback of a payload. */
  text?(payload: P): string;
  /**
   * The payload as it is shown with no kernel behind it (the HTML report), the
   * same object when nothing changes: a training output that says "running"
   * becomes interrupted, a live latent map done or interrupted (see ./stored.ts,
   * which the .aenb writer and reader use too).
   */
  stored?(payload: P): P;
  /** The report's static HTML for this output, or undefined to let the next representation try. */
  report?(item: ReportItem, ctx: ReportContext): string | undefined;
  /** Kernel side (undefined outside the kernel bundle). */
  readonly kernel?: K;
  /** Renderer view (undefined outside the renderer bundle). */
  readonly view?: ViewPart<P>;
}
