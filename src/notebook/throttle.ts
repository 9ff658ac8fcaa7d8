// Throttling of live output updates, with no `vscode` import.
//
// While a cell trains, the kernel sends a new version of the same output (its
// key stays the same) several times a second. Writing each one into the
// notebook costs a round trip to the workbench and a re-render, and a slow
// round trip must not build a backlog. So, per key:
//   - the first value goes out at once;
//   - later values wait until `intervalMs` after the previous write started
//     AND until that write finished; only the latest waiting value is written
//     (values in between are dropped: each one replaces the previous whole);
//   - flush() writes what waits now and resolves when every write is done.

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

interface KeyState<T> {
  latest?: { value: T };
  busy: boolean;
  lastStart: number;
  timer?: unknown;
}

export class KeyedThrottle<T> {
  private readonly keys = new Map<string, KeyState<T>>();
  private readonly inflight = new Set<Promise<void>>();
  private disposed = false;

  /**
   * @param write performs one update; its rejection is passed to `onError` and
   *   does not stop later updates of the key.
   */
  constructor(
    private readonly intervalMs: number,
    private readonly write: (key: string, value: T) => Promise<void>,
    private readonly onError: (error: unknown, key: string) => void = () => undefined,
    private readonly clock: Clock = realClock,
  ) {}

  /** Offers a new value for `key`; it replaces any value still waiting for that key. */
  push(key: string, value: T): void {
    if (this.disposed) return;
    let st = this.keys.get(key);
    if (!st) {
      st = { busy: false, lastStart: Number.NEGATIVE_INFINITY };
      this.keys.set(key, st);
    }
    st.latest = { value };
    this.pump(key, st, false);
  }

  /** Number of keys with a value waiting. */
  get waiting(): number {
    let n = 0;
    for (const st of this.keys.values()) if (st.latest) n++;
    return n;
  }

  private pump(key: string, st: KeyState<T>, force: boolean): void {
    if (st.busy || !st.latest || this.disposed) return;
    if (!force) {
      if (st.timer !== undefined) return;
      const wait = st.lastStart + this.intervalMs - this.clock.now();
      if (wait > 0) {
        st.timer = this.clock.setTimeout(() => {
          st.timer = undefined;
          this.pump(key, st, false);
        }, wait);
        return;
      }
    } else if (st.timer !== undefined) {
      this.clock.clearTimeout(st.timer);
      st.timer = undefined;
    }
    const { value } = st.latest;
    st.latest = undefined;
    st.busy = true;
    st.lastStart = this.clock.now();
    let op: Promise<void>;
    try {
      op = Promise.resolve(this.write(key, value));
    } catch (e) {
      op = Promise.reject(e);
    }
    const tracked = op
      .catch((e) => this.onError(e, key))
      .finally(() => {
        st.busy = false;
        this.inflight.delete(tracked);
        this.pump(key, st, this.flushing);
      });
    this.inflight.add(tracked);
  }

  private flushing = false;

  /** Writes every waiting value now (ignoring the interval) and resolves when all writes are done. */
  async flush(): Promise<void> {
    this.flushing = true;
    try {
      for (;;) {
        for (const [key, st] of this.keys) this.pump(key, st, true);
        if (this.inflight.size === 0) return;
        await Promise.all([...this.inflight]);
      }
    } finally {
      this.flushing = false;
    }
  }

  /** Drops waiting values and timers; writes already started still finish. */
  dispose(): void {
    this.disposed = true;
    for (const st of this.keys.values()) {
      if (st.timer !== undefined) this.clock.clearTimeout(st.timer);
      st.timer = undefined;
      st.latest = undefined;
    }
  }
}
