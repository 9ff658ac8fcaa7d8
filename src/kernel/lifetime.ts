/**
 * When a kernel that outlives its window ends. While a host is attached it
 * lives as long as the host wants. Once its host is gone:
 *
 *  - the notebook was closed (the host sent `release`): it ends as soon as
 *    it is idle, which is at once if nothing runs;
 *  - the window went away (reload, quit, lost connection): a running cell
 *    goes on; once idle, the kernel waits a little for a window to reattach
 *    (IDLE_LINGER_MS, or less if the grace period ends first);
 *  - in any case it ends when the grace period has passed since its host
 *    left, running cell or not: no kernel outlives its grace unattached.
 *
 * A grace period of 0 ends the kernel as soon as its host leaves.
 */

/** How long an idle kernel whose window went away waits for one to reattach. */
export const IDLE_LINGER_MS = 60_000;

export type EndReason = 'released' | 'grace' | 'idle';

export interface LifetimeOptions {
  graceMs: number;
  /** True while a cell runs. */
  busy: () => boolean;
  end: (reason: EndReason, message: string) => void;
  idleLingerMs?: number;
}

export class KernelLifetime {
  private attachedNow = true;
  private released = false;
  private detachedAt = 0;
  private graceTimer?: NodeJS.Timeout;
  private idleTimer?: NodeJS.Timeout;
  private ended = false;

  constructor(private readonly opts: LifetimeOptions) {}

  get graceMs(): number {
    return this.opts.graceMs;
  }

  get attached(): boolean {
    return this.attachedNow;
  }

  setGrace(ms: number): void {
    this.opts.graceMs = Math.max(0, ms);
    if (!this.attachedNow) this.arm();
  }

  attach(): void {
    this.attachedNow = true;
    this.released = false;
    this.clear();
  }

  /** The host left; `released` when it said the notebook was closed. */
  detach(released: boolean): void {
    if (this.ended) return;
    if (this.attachedNow) this.detachedAt = Date.now();
    this.attachedNow = false;
    this.released ||= released;
    this.arm();
  }

  /** The host said the notebook was closed (it may still be connected for a moment). */
  release(): void {
    this.released = true;
    if (!this.attachedNow) this.arm();
  }

  /** Call when a cell has finished. */
  idle(): void {
    if (!this.attachedNow) this.arm();
  }

  private arm(): void {
    this.clear();
    if (this.ended) return;
    const left = this.detachedAt + this.opts.graceMs - Date.now();
    if (left <= 0) {
      this.finish('grace', this.opts.graceMs === 0 ? 'its host left and the grace period is 0' : `no window reattached within the grace period (${this.opts.graceMs / 1000} s)`);
      return;
    }
    this.graceTimer = setTimeout(() => this.finish('grace', `no window reattached within the grace period (${this.opts.graceMs / 1000} s)`), left);
    if (this.opts.busy()) return;
    if (this.released) {
      this.finish('released', 'its notebook was closed and nothing runs');
      return;
    }
    const linger = Math.min(left, this.opts.idleLingerMs ?? IDLE_LINGER_MS);
    this.idleTimer = setTimeout(() => this.finish('idle', `it was idle and no window reattached within ${Math.round(linger / 1000)} s`), linger);
  }

  private clear(): void {
    if (this.graceTimer) clearTimeout(this.graceTimer);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.graceTimer = this.idleTimer = undefined;
  }

  private finish(reason: EndReason, message: string): void {
    if (this.ended) return;
    this.ended = true;
    this.clear();
    this.opts.end(reason, message);
  }
}
