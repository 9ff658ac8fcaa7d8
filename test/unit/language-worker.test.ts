/**
 * The language worker's message loop (src/language/worker.ts) over a fake
 * port, and in a real worker thread (dist/language.js, as the extension runs it).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { CellDiagnostics } from '../../src/language/api';
import { CANCEL_SLOTS, cancelRequest, type FromWorker, type ToWorker } from '../../src/language/protocol';
import { runWorker } from '../../src/language/worker';

const root = path.join(__dirname, '..', '..', '..');
const typesFile = path.join(root, 'dist', 'cell-types.json');

class FakePort extends EventEmitter {
  readonly received: FromWorker[] = [];
  private waiters: { match: (m: FromWorker) => boolean; resolve: (m: FromWorker) => void }[] = [];
  postMessage(m: FromWorker): void {
    this.received.push(m);
    for (const w of [...this.waiters]) {
      if (w.match(m)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  }
  send(m: ToWorker): void {
    this.emit('message', m);
  }
  next(match: (m: FromWorker) => boolean): Promise<FromWorker> {
    const found = this.received.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }
}

const diagnosticsOf = (port: FakePort, cell: string, version: number) => port.next((m) => m.type === 'diagnostics' && m.cells.some((c) => c.cell === cell && c.version === version));

describe('language worker', () => {
  test('a synced notebook gets its problems cell by cell, in notebook order; requests are answered between cells', async () => {
    const port = new FakePort();
    runWorker(port, { aenbLanguageWorker: true, typesFile, diagnosticsDelayMs: 10 });
    port.send({
      type: 'sync',
      notebook: 'nb',
      cells: [
        { id: 'a', language: 'typescript', text: 'const x = 1;', version: 1 },
        { id: 'b', language: 'typescript', text: "const y: string = x;", version: 1 },
        { id: 'c', language: 'typescript', text: 'x.', version: 1 },
      ],
    });
    port.send({ type: 'request', id: 7, notebook: 'nb', method: 'hover', params: { cell: 'b', offset: 18 } });
    const hover = await port.next((m) => m.type === 'response' && m.id === 7);
    assert.ok(hover.type === 'response' && hover.result);
    assert.match((hover.result as { display: string }).display, /const x: 1/);
    await diagnosticsOf(port, 'c', 1);
    const order = port.received.filter((m): m is Extract<FromWorker, { type: 'diagnostics' }> => m.type === 'diagnostics').flatMap((m) => m.cells.map((c) => c.cell));
    assert.deepEqual(order, ['a', 'b', 'c']);
    const b = port.received.flatMap((m) => (m.type === 'diagnostics' ? m.cells : [])).find((c) => c.cell === 'b') as CellDiagnostics;
    assert.deepEqual(b.diagnostics.map((d) => d.message), ["Type 'number' is not assignable to type 'string'."]);
  });

  test('an edit rechecks the edited cell first, then the cells below, after a quiet time; a stale pass stops', async () => {
    const port = new FakePort();
    runWorker(port, { aenbLanguageWorker: true, typesFile, diagnosticsDelayMs: 30 });
    port.send({
      type: 'sync',
      notebook: 'nb',
      cells: ['a', 'b', 'c', 'd'].map((id) => ({ id, language: 'typescript' as const, text: `const ${id}1 = 1;`, version: 1 })),
    });
    await diagnosticsOf(port, 'd', 1);
    const before = port.received.length;
    // Three quick edits of cell b: only the last text is checked.
    port.send({ type: 'edit', notebook: 'nb', cell: 'b', text: 'const b1 = ', version: 2 });
    port.send({ type: 'edit', notebook: 'nb', cell: 'b', text: 'const b1 = "', version: 3 });
    port.send({ type: 'edit', notebook: 'nb', cell: 'b', text: 'const b1 = "s";\nb1.toFixed();', version: 4 });
    await diagnosticsOf(port, 'd', 1);
    await port.next((m) => m.type === 'diagnostics' && port.received.indexOf(m) >= before && m.cells[0].cell === 'd');
    const after = port.received.slice(before).filter((m): m is Extract<FromWorker, { type: 'diagnostics' }> => m.type === 'diagnostics').flatMap((m) => m.cells);
    assert.deepEqual(after.map((c) => `${c.cell}@${c.version}`), ['b@4', 'c@1', 'd@1'], 'the cell above the edit is not rechecked');
    assert.match(after[0].diagnostics[0].message, /Property 'toFixed' does not exist on type '"s"'/);
  });

  test('requests: errors come back as errors; file text needs no notebook; a closed notebook is gone', async () => {
    const port = new FakePort();
    runWorker(port, { aenbLanguageWorker: true, typesFile });
    port.send({ type: 'request', id: 1, notebook: 'nope', method: 'hover', params: { cell: 'x', offset: 0 } });
    const r1 = await port.next((m) => m.type === 'response' && m.id === 1);
    assert.ok(r1.type === 'response');
    assert.match(r1.error ?? '', /not open/);
    port.send({ type: 'request', id: 2, notebook: '', method: 'fileText', params: { file: '/aenb/globals.d.ts' } });
    const r2 = await port.next((m) => m.type === 'response' && m.id === 2);
    assert.ok(r2.type === 'response');
    assert.match(String(r2.result), /declare global/);
    port.send({ type: 'sync', notebook: 'nb', cells: [{ id: 'a', language: 'typescript', text: 'const a = 1;', version: 1 }] });
    port.send({ type: 'close', notebook: 'nb' });
    port.send({ type: 'request', id: 3, notebook: 'nb', method: 'hover', params: { cell: 'a', offset: 6 } });
    const r3 = await port.next((m) => m.type === 'response' && m.id === 3);
    assert.ok(r3.type === 'response' && r3.error);
  });

  test('a request the host cancelled is answered "cancelled" without running; the others are answered', async () => {
    const port = new FakePort();
    const shared = new SharedArrayBuffer(CANCEL_SLOTS * 4);
    const cancellations = new Int32Array(shared);
    runWorker(port, { aenbLanguageWorker: true, typesFile, cancellations: shared });
    port.send({ type: 'sync', notebook: 'nb', cells: [{ id: 'a', language: 'typescript', text: 'const alpha = 1;\nalp', version: 1 }] });
    cancelRequest(cancellations, 5);
    // The same slot as 5, another id: not cancelled.
    port.send({ type: 'request', id: 5 + CANCEL_SLOTS, notebook: 'nb', method: 'completions', params: { cell: 'a', offset: 20 } });
    port.send({ type: 'request', id: 5, notebook: 'nb', method: 'completions', params: { cell: 'a', offset: 20 } });
    const other = await port.next((m) => m.type === 'response' && m.id === 5 + CANCEL_SLOTS);
    const cancelled = await port.next((m) => m.type === 'response' && m.id === 5);
    assert.ok(other.type === 'response' && cancelled.type === 'response');
    assert.equal(other.cancelled, undefined);
    assert.ok((other.result as { entries: { name: string }[] }).entries.some((e) => e.name === 'alpha'));
    assert.deepEqual(cancelled, { type: 'response', id: 5, cancelled: true });
  });

  test('dist/language.js runs as a worker thread, as the extension starts it', async () => {
    const worker = new Worker(path.join(root, 'dist', 'language.js'), { workerData: { aenbLanguageWorker: true } });
    try {
      const reply = new Promise<FromWorker>((resolve, reject) => {
        worker.on('message', (m: FromWorker) => {
          if (m.type === 'response' && m.id === 1) resolve(m);
        });
        worker.on('error', reject);
      });
      worker.postMessage({ type: 'sync', notebook: 'nb', cells: [{ id: 'a', language: 'typescript', text: 'const model = new StackedAutoencoder({ inputShape: [4], layers: [2] });' }] } satisfies ToWorker);
      worker.postMessage({ type: 'request', id: 1, notebook: 'nb', method: 'hover', params: { cell: 'a', offset: 7 } } satisfies ToWorker);
      const m = await reply;
      assert.ok(m.type === 'response');
      assert.match((m.result as { display: string }).display, /const model: StackedAutoencoder/);
    } finally {
      await worker.terminate();
    }
  });
});
