// The minimal part of VS Code's notebook renderer API (the `vscode-notebook-renderer`
// types, which are not installed) that this renderer uses.

/** One output item as the notebook hands it to a renderer. */
export interface OutputItem {
  /** Id of the output; stays the same when the output is updated in place. */
  readonly id: string;
  readonly mime: string;
  readonly metadata?: unknown;
  text(): string;
  json(): unknown;
  data(): Uint8Array;
  blob?(): Blob;
}

export interface Disposable {
  dispose(): void;
}

export interface RendererContext<TState = unknown> {
  setState?(value: TState): void;
  getState?(): TState | undefined;
  /** Present when the contribution sets `requiresMessaging` to "always" or "optional" and a host listens. */
  postMessage?(message: unknown): void;
  onDidReceiveMessage?: (listener: (message: unknown) => void) => Disposable | void;
  readonly workspace?: { readonly isTrusted: boolean };
}

export interface RendererApi {
  renderOutputItem(outputItem: OutputItem, element: HTMLElement, signal?: AbortSignal): void | Promise<void>;
  disposeOutputItem?(id?: string): void;
}

export type ActivationFunction<TState = unknown> = (context: RendererContext<TState>) => RendererApi;
