/**
 * What cells see of the output kinds: the `show` object (every kind's `show.*`
 * functions, src/outputs/registry.ts), the output of a cell's last value
 * (the first kind that displays it), and the kernel requests the kinds'
 * views send.
 */
import type { AenbOutput } from '../common/aenb';
import type { Endpoint, Methods } from '../common/messages/envelope';
import type { KernelMethods } from '../common/messages/kernel';
import type { RunningCell } from '../outputs/kind';
import { OUTPUT_KINDS, type ShowApi } from '../outputs/registry';

/**
 * `show`, with each function sending its output through `display`; the
 * kinds' live `show.*` functions get the running cell from `cell` (which
 * throws when there is none) and return what they return (a promise the cell
 * may await).
 */
export function showApi(display: (output: AenbOutput) => void, cell: () => RunningCell): ShowApi {
  const show: Record<string, (...args: any[]) => unknown> = {};
  const add = (name: string, kind: string, fn: (...args: any[]) => unknown) => {
    if (name in show) throw new Error(`show.${name} is defined by two output kinds (${kind} and another)`);
    show[name] = fn;
  };
  for (const kind of OUTPUT_KINDS) {
    for (const [name, build] of Object.entries(kind.kernel?.show ?? {})) add(name, kind.name, (...args: unknown[]) => display(build(...args)));
    for (const [name, run] of Object.entries(kind.kernel?.showLive ?? {})) add(name, kind.name, (...args: unknown[]) => run(cell(), ...args));
  }
  return show as unknown as ShowApi;
}

/** The output for a cell's last expression, or undefined when there is nothing to show. */
export function valueOutput(value: unknown): AenbOutput | undefined {
  if (value === undefined) return undefined;
  for (const kind of OUTPUT_KINDS) {
    const out = kind.kernel?.display?.(value);
    if (out) return out;
  }
  return undefined;
}

/** Answers, on `endpoint`, the kernel requests of every kind's views (KernelPart.requests). */
export function handleKindRequests(endpoint: Endpoint<Methods, KernelMethods>): void {
  const handled = new Set<string>();
  for (const kind of OUTPUT_KINDS) {
    for (const [method, handler] of Object.entries(kind.kernel?.requests ?? {})) {
      if (handled.has(method)) throw new Error(`The kernel request ${method} is answered by two output kinds (${kind.name} and another)`);
      handled.add(method);
      endpoint.handle(method as keyof KernelMethods & string, handler as never);
    }
  }
}
