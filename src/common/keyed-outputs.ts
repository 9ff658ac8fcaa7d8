// A cell's outputs as an editor keeps them: an output with a key is appended
// the first time and replaced in place afterwards (live progress, console
// streams). The headless runner collects with it and VS Code's live outputs
// keep their copy with it, so that both end with the same outputs. Pure.
import type { AenbOutput } from './aenb';

export class KeyedOutputs {
  readonly outputs: AenbOutput[] = [];
  private readonly keys = new Map<string, number>();

  /** Appends `output`, or with a key seen before replaces that output; says which. */
  add(output: AenbOutput, key?: string): { index: number; replaced: boolean } {
    if (key !== undefined) {
      const at = this.keys.get(key);
      if (at !== undefined) {
        this.outputs[at] = output;
        return { index: at, replaced: true };
      }
      this.keys.set(key, this.outputs.length);
    }
    this.outputs.push(output);
    return { index: this.outputs.length - 1, replaced: false };
  }
}
