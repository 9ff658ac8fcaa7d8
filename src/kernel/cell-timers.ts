/**
 * The one-shot timers that cells start (`setTimeout`, `setImmediate`, made
 * while a cell runs or by a callback of such a timer), so that the headless
 * runner can wait for them at the end of a run the way `node` waits for a
 * script's timers, and an error one of them throws still lands in the
 * notebook. `setInterval` is not waited for: it never ends by itself. Timers a
 * cell unrefs are not waited for either, as in Node.
 */
type AnyTimer = NodeJS.Timeout | NodeJS.Immediate;

export class CellTimers {
  private readonly pending = new Set<AnyTimer>();
  private waiters: (() => void)[] = [];
  private checking = false;
  private realSetImmediate: typeof setImmediate = setImmediate;

  /** `inCell()` tells whether the code running now belongs to a cell. */
  constructor(private readonly inCell: () => boolean) {}

  /** Replaces the global timer functions with tracking ones (once). */
  install(g: typeof globalThis = globalThis): void {
    const marker = Symbol.for('aenb.cellTimers');
    if ((g.setTimeout as unknown as Record<symbol, unknown>)[marker]) return;
    const realSetTimeout = g.setTimeout;
    const realClearTimeout = g.clearTimeout;
    const realSetImmediate = g.setImmediate;
    const realClearImmediate = g.clearImmediate;
    this.realSetImmediate = realSetImmediate;
    const track = (make: (run: (...args: unknown[]) => unknown) => AnyTimer, callback: unknown): AnyTimer | undefined => {
      if (typeof callback !== 'function' || !this.inCell()) return undefined;
      let timer: AnyTimer | undefined = undefined;
      timer = make((...args: unknown[]) => {
        this.done(timer as AnyTimer);
        return (callback as (...a: unknown[]) => unknown)(...args);
      });
      this.pending.add(timer);
      return timer;
    };
    const setTimeoutTracked = function (callback: unknown, ms?: number, ...args: unknown[]) {
      return track((run) => realSetTimeout(run, ms, ...args), callback) ?? realSetTimeout(callback as (...a: unknown[]) => void, ms, ...args);
    };
    const setImmediateTracked = function (callback: unknown, ...args: unknown[]) {
      return track((run) => realSetImmediate(run, ...args), callback) ?? realSetImmediate(callback as (...a: unknown[]) => void, ...args);
    };
    // Keep what hangs off the originals (util.promisify.custom).
    Object.assign(setTimeoutTracked, realSetTimeout, { [marker]: true });
    Object.assign(setImmediateTracked, realSetImmediate);
    g.setTimeout = setTimeoutTracked as unknown as typeof setTimeout;
    g.setImmediate = setImmediateTracked as unknown as typeof setImmediate;
    g.clearTimeout = ((t?: NodeJS.Timeout | string | number) => {
      if (t && typeof t === 'object') this.done(t);
      realClearTimeout(t);
    }) as typeof clearTimeout;
    g.clearImmediate = ((t?: NodeJS.Immediate) => {
      if (t) this.done(t);
      realClearImmediate(t);
    }) as typeof clearImmediate;
  }

  /** Timers still to fire that the process waits for. */
  get count(): number {
    this.prune();
    return this.pending.size;
  }

  /**
   * Resolves once no timer a cell started is left to fire (checked after each
   * one fires, so that what its callback throws is reported first), or when
   * `stopWaiting` is called.
   */
  whenIdle(): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.check();
    });
  }

  /** Ends every wait now (an interrupt). */
  stopWaiting(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private done(timer: AnyTimer): void {
    if (this.pending.delete(timer)) this.check();
  }

  /** Forgets timers that can no longer fire or that Node would not wait for. */
  private prune(): void {
    for (const t of this.pending) {
      const destroyed = (t as unknown as { _destroyed?: boolean })._destroyed === true;
      if (destroyed || !t.hasRef()) this.pending.delete(t);
    }
  }

  private check(): void {
    if (!this.waiters.length || this.checking) return;
    this.checking = true;
    // On the next turn of the event loop: an error thrown by the callback that
    // just ran has been reported by then, and a timer it started is counted.
    this.realSetImmediate(() => {
      this.checking = false;
      if (this.count === 0) this.stopWaiting();
    });
  }
}
