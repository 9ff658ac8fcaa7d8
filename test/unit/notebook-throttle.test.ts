// Throttled live outputs (src/notebook/throttle.ts, src/notebook/live-outputs.ts)
// with a fake clock: no real waiting, exact timings.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { AenbOutput } from '../../src/common/aenb';
import { KeyedThrottle, type Clock } from '../../src/notebook/throttle';
import { LiveOutputs } from '../../src/notebook/live-outputs';

class FakeClock implements Clock {
  t = 0;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private next = 1;
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== h);
  }
  get pending(): number {
    return this.timers.length;
  }
  /** Moves time forward, firing due timers in order and letting promises settle after each. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const due = this.timers[0];
      if (!due || due.at > end) break;
      this.timers.shift();
      this.t = due.at;
      due.fn();
      await settle();
    }
    this.t = end;
    await settle();
  }
}

/** Lets queued promise callbacks run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((r) => setImmediate(r));
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('KeyedThrottle', () => {
  test('the first value is written at once; values within the interval collapse to the latest', async () => {
    const clock = new FakeClock();
    const writes: [number, string, number][] = [];
    const th = new KeyedThrottle<number>(100, async (k, v) => void writes.push([clock.now(), k, v]), undefined, clock);
    th.push('a', 1);
    await settle();
    assert.deepEqual(writes, [[0, 'a', 1]]);
    await clock.advance(10);
    th.push('a', 2);
    await clock.advance(10);
    th.push('a', 3);
    th.push('a', 4);
    await settle();
    assert.equal(writes.length, 1, 'nothing more before the interval');
    await clock.advance(79);
    assert.equal(writes.length, 1);
    await clock.advance(1);
    assert.deepEqual(writes, [[0, 'a', 1], [100, 'a', 4]], 'only the latest value, right at the interval');
    await clock.advance(500);
    assert.equal(writes.length, 2, 'no write without a new value');
    assert.equal(clock.pending, 0);
  });

  test('keys are throttled independently', async () => {
    const clock = new FakeClock();
    const writes: string[] = [];
    const th = new KeyedThrottle<number>(100, async (k, v) => void writes.push(`${k}${v}`), undefined, clock);
    th.push('a', 1);
    th.push('b', 1);
    th.push('a', 2);
    await settle();
    assert.deepEqual(writes, ['a1', 'b1']);
    await clock.advance(100);
    assert.deepEqual(writes, ['a1', 'b1', 'a2']);
  });

  test('a slow write is never overlapped; the newest value follows when it ends', async () => {
    const clock = new FakeClock();
    const writes: number[] = [];
    const gates: ReturnType<typeof deferred>[] = [];
    let active = 0;
    let maxActive = 0;
    const th = new KeyedThrottle<number>(
      100,
      async (_k, v) => {
        active++;
        maxActive = Math.max(maxActive, active);
        writes.push(v);
        const g = deferred();
        gates.push(g);
        await g.promise;
        active--;
      },
      undefined,
      clock,
    );
    th.push('a', 1);
    await clock.advance(150);
    th.push('a', 2);
    th.push('a', 3);
    await clock.advance(300);
    assert.deepEqual(writes, [1], 'the first write is still running');
    gates[0].resolve();
    await settle();
    assert.deepEqual(writes, [1, 3], 'the latest value goes as soon as the slow write ends (interval long passed)');
    gates[1].resolve();
    await settle();
    assert.equal(maxActive, 1);
  });

  test('flush writes waiting values now and resolves after every write', async () => {
    const clock = new FakeClock();
    const writes: number[] = [];
    const th = new KeyedThrottle<number>(1000, async (_k, v) => void writes.push(v), undefined, clock);
    th.push('a', 1);
    th.push('a', 2);
    th.push('b', 7);
    assert.equal(th.waiting, 1);
    await th.flush();
    assert.deepEqual(writes.sort(), [1, 2, 7]);
    assert.equal(th.waiting, 0);
    assert.equal(clock.pending, 0, 'the interval timer is cancelled');
  });

  test('a failing write is reported and later values still go out', async () => {
    const clock = new FakeClock();
    const errors: string[] = [];
    const writes: number[] = [];
    const th = new KeyedThrottle<number>(
      10,
      async (_k, v) => {
        if (v === 1) throw new Error('boom');
        writes.push(v);
      },
      (e, k) => errors.push(`${k}: ${(e as Error).message}`),
      clock,
    );
    th.push('a', 1);
    await clock.advance(5);
    th.push('a', 2);
    await clock.advance(20);
    assert.deepEqual(errors, ['a: boom']);
    assert.deepEqual(writes, [2]);
  });

  test('dispose drops waiting values', async () => {
    const clock = new FakeClock();
    const writes: number[] = [];
    const th = new KeyedThrottle<number>(100, async (_k, v) => void writes.push(v), undefined, clock);
    th.push('a', 1);
    th.push('a', 2);
    th.dispose();
    await clock.advance(1000);
    th.push('a', 3);
    await settle();
    assert.deepEqual(writes, [1]);
    assert.equal(clock.pending, 0);
  });
});

describe('LiveOutputs', () => {
  const out = (s: string): AenbOutput => ({ items: [{ mime: 'text/plain', data: s }] });
  const textOf = (o: AenbOutput) => o.items[0].data as string;

  function fakeCell() {
    const cell: string[] = [];
    const ops: string[] = [];
    return {
      cell,
      ops,
      target: {
        append: async (o: AenbOutput) => {
          await new Promise<void>((r) => setImmediate(r)); // a round trip to the workbench
          ops.push(`append ${textOf(o)}`);
          return cell.push(textOf(o)) - 1;
        },
        replace: async (i: number, o: AenbOutput) => {
          ops.push(`replace #${i} ${textOf(o)}`);
          cell[i] = textOf(o);
        },
      },
    };
  }

  test('plain outputs are appended in order; keyed ones appended once, then replaced in place', async () => {
    const clock = new FakeClock();
    const f = fakeCell();
    const live = new LiveOutputs(f.target, { intervalMs: 100, clock });
    live.add(out('one'));
    live.add(out('p0'), 'progress');
    live.add(out('two'));
    live.add(out('p1'), 'progress'); // before the append of p0 has finished: waits for its handle
    await settle();
    assert.deepEqual(f.cell, ['one', 'p1', 'two'], 'the first update goes as soon as its output exists');
    await clock.advance(50);
    live.add(out('p2'), 'progress');
    live.add(out('p3'), 'progress');
    await settle();
    assert.deepEqual(f.cell, ['one', 'p1', 'two'], 'later ones wait for the interval');
    await clock.advance(50);
    assert.deepEqual(f.cell, ['one', 'p3', 'two'], 'and then only the latest is written');
    live.add(out('p4'), 'progress');
    await live.drain();
    assert.deepEqual(f.cell, ['one', 'p4', 'two'], 'drain writes what waits at once');
    assert.deepEqual(f.ops.filter((o) => o.startsWith('append')), ['append one', 'append p0', 'append two']);
    assert.deepEqual(f.ops.filter((o) => o.startsWith('replace')), ['replace #1 p1', 'replace #1 p3', 'replace #1 p4']);
    assert.deepEqual(live.outputs.map(textOf), ['one', 'p4', 'two'], 'the final outputs, like the runner collects them');
  });

  test('a burst of 1000 progress updates costs a handful of writes', async () => {
    const clock = new FakeClock();
    const f = fakeCell();
    const live = new LiveOutputs(f.target, { intervalMs: 200, clock });
    for (let i = 0; i < 1000; i++) {
      live.add(out(`p${i}`), 'progress');
      await clock.advance(1);
    }
    await live.drain();
    const replaces = f.ops.filter((o) => o.startsWith('replace')).length;
    assert.ok(replaces >= 4 && replaces <= 7, `expected about 1000 ms / 200 ms replacements, got ${replaces}`);
    assert.deepEqual(f.cell, ['p999'], 'the last value always lands');
  });

  test('a failed append is reported and does not stop later outputs', async () => {
    const errors: string[] = [];
    const cell: string[] = [];
    let first = true;
    const live = new LiveOutputs<number>(
      {
        append: async (o) => {
          if (first) {
            first = false;
            throw new Error('cell deleted');
          }
          return cell.push(textOf(o)) - 1;
        },
        replace: async (i, o) => void (cell[i] = textOf(o)),
      },
      { onError: (e) => errors.push((e as Error).message) },
    );
    live.add(out('a'), 'k');
    live.add(out('b'));
    live.add(out('a2'), 'k'); // its append failed: nothing to replace
    await live.drain();
    assert.deepEqual(errors, ['cell deleted']);
    assert.deepEqual(cell, ['b']);
  });
});
