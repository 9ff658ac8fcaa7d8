/**
 * What a kernel that outlives its window keeps for the next host: the
 * running execution with its outputs so far (live outputs as they are now),
 * executions that ended while no host was there to receive them (until a
 * host acknowledges them), the cells the last host had queued, and what the
 * kernel logged meanwhile. A host that reattaches after a reload gets all of
 * it in one `reattached` message and carries on from there.
 */
import type { AenbOutput } from '../common/aenb';
import type { ExecuteRequest, KernelMessage, LogMessage, QueuedCell, ReplayedExecution } from '../common/messages/kernel';

const MAX_LOGS = 500;

interface Entry {
  execution: ReplayedExecution;
  keys: Map<string, number>;
}

export class KernelJournal {
  private readonly entries = new Map<string, Entry>();
  private queued: QueuedCell[] = [];
  private logs: LogMessage[] = [];
  private attached = true;

  /** A cell was sent to run (it may wait behind another in the kernel's own queue). */
  begin(req: ExecuteRequest, now = Date.now()): void {
    this.entries.set(req.id, {
      execution: { id: req.id, cellName: req.cellName, cellIndex: req.cellIndex, source: req.source, startedAt: now, outputs: [] },
      keys: new Map(),
    });
    // The host sends a cell when it starts it: it is no longer queued there.
    if (req.cellIndex !== undefined) this.queued = this.queued.filter((q) => q.index !== req.cellIndex);
  }

  /** Records a message the kernel sends (whether a host receives it or not). */
  record(m: KernelMessage): void {
    switch (m.type) {
      case 'output': {
        const e = this.entries.get(m.id);
        if (!e) return;
        this.addOutput(e, m.output, m.key);
        return;
      }
      case 'progress': {
        const e = this.entries.get(m.id);
        if (e) e.execution.progress = m;
        return;
      }
      case 'done': {
        const e = this.entries.get(m.id);
        if (e) e.execution.done = m;
        return;
      }
      case 'log':
        if (!this.attached) {
          this.logs.push(m);
          if (this.logs.length > MAX_LOGS) this.logs.splice(0, this.logs.length - MAX_LOGS);
        }
        return;
    }
  }

  private addOutput(e: Entry, output: AenbOutput, key?: string): void {
    if (key !== undefined) {
      const at = e.keys.get(key);
      if (at !== undefined) {
        e.execution.outputs[at] = { output, key };
        return;
      }
      e.keys.set(key, e.execution.outputs.length);
    }
    e.execution.outputs.push(key !== undefined ? { output, key } : { output });
  }

  /** The host has an execution's result. */
  ack(id: string): void {
    const e = this.entries.get(id);
    if (e?.execution.done) this.entries.delete(id);
  }

  setQueued(cells: QueuedCell[]): void {
    this.queued = cells.map((c) => ({ index: c.index, cellName: c.cellName }));
  }

  detach(): void {
    this.attached = false;
  }

  /** What a reattaching host gets; the logs are handed over once. */
  attach(): { executions: ReplayedExecution[]; queued: QueuedCell[]; logs: LogMessage[] } {
    this.attached = true;
    const logs = this.logs;
    this.logs = [];
    const queued = this.queued;
    // The new host decides what to run next; the old queue is reported, not kept.
    this.queued = [];
    return { executions: [...this.entries.values()].map((e) => e.execution), queued, logs };
  }

  /** An execution is running (begun, not done). */
  get busy(): boolean {
    for (const e of this.entries.values()) if (!e.execution.done) return true;
    return false;
  }
}
