/**
 * What cells see of the output kinds: the `show` object (every kind's `show.*`
 * functions, src/outputs/registry.ts) and the output of a cell's last value
 * (the first kind that displays it).
 */
import type { AenbOutput } from '../common/aenb';
import { OUTPUT_KINDS, type ShowApi } from '../outputs/registry';

/** `show`, with each function sending its output through `display`. */
export function showApi(display: (output: AenbOutput) => void): ShowApi {
  const show: Record<string, (...args: any[]) => void> = {};
  for (const kind of OUTPUT_KINDS) {
    for (const [name, build] of Object.entries(kind.kernel?.show ?? {})) {
      if (name in show) throw new Error(`show.${name} is defined by two output kinds (${kind.name} and another)`);
      show[name] = (...args: unknown[]) => display(build(...args));
    }
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
