// The outputs of one running cell, as the kernel sends them: plain outputs are
// appended in order; an output with a key is appended the first time and
// afterwards replaced in place (throttled), which is how training progress and
// console streams update live. No `vscode` import: the target is abstract.
import type { AenbOutput } from '../common/aenb';
import { KeyedOutputs } from '../common/keyed-outputs';
import { Clock, KeyedThrottle, realClock } from './throttle';

export interface OutputTarget<H> {
  /** Appends an output; resolves with a handle to replace it later. */
  append(output: AenbOutput): Promise<H>;
  /** Replaces the items of an appended output. */
  replace(handle: H, output: AenbOutput): Promise<void>;
}

export interface LiveOutputsOptions {
  /** Minimum time between two replacements of one output. Default 200 ms. */
  intervalMs?: number;
  clock?: Clock;
  /** A write into the notebook failed (e.g. the cell was deleted meanwhile). */
  onError?: (error: unknown) => void;
}

export class LiveOutputs<H> {
  private chain: Promise<unknown> = Promise.resolve();
  private readonly handles = new Map<string, Promise<H | undefined>>();
  private readonly throttle: KeyedThrottle<AenbOutput>;
  private readonly onError: (error: unknown) => void;
  /** Every output as it ends up in the cell (keyed ones replaced), as the headless runner collects them. */
  private readonly kept = new KeyedOutputs();

  constructor(
    private readonly target: OutputTarget<H>,
    options: LiveOutputsOptions = {},
  ) {
    this.onError = options.onError ?? (() => undefined);
    this.throttle = new KeyedThrottle<AenbOutput>(
      options.intervalMs ?? 200,
      async (key, output) => {
        const handle = await this.handles.get(key);
        if (handle !== undefined) await this.target.replace(handle, output);
      },
      (e) => this.onError(e),
      options.clock ?? realClock,
    );
  }

  /** An output from the kernel; with `key`, it replaces the earlier output with that key. */
  get outputs(): readonly AenbOutput[] {
    return this.kept.outputs;
  }

  add(output: AenbOutput, key?: string): void {
    if (this.kept.add(output, key).replaced) {
      this.throttle.push(key as string, output);
      return;
    }
    const appended = this.chain.then(() => this.target.append(output)).then(
      (h) => h,
      (e) => {
        this.onError(e);
        return undefined;
      },
    );
    this.chain = appended;
    if (key !== undefined) this.handles.set(key, appended);
  }

  /** Resolves once every output received so far is in the notebook (waiting updates are written now). */
  async drain(): Promise<void> {
    await this.chain;
    await this.throttle.flush();
  }

  /** Stops writing: waiting updates are dropped. */
  dispose(): void {
    this.throttle.dispose();
  }
}
