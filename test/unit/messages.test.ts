// The message layer (src/common/messages/envelope.ts): requests with replies
// between two endpoints, errors as values, timeouts, cancellation, unknown
// methods, a closed channel; and a real kernel process answering `ping`
// through KernelClient.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { Endpoint, RequestError, isEnvelope, type EnvelopeMessage, type Methods } from '../../src/common/messages/envelope';
import { isHostMessage, isKernelMessage } from '../../src/common/messages/kernel';
import { KernelClient } from '../../src/kernel/client';

type Calc = {
  add: { params: { a: number; b: number }; result: number };
  fail: { params: { code?: 'bad-request' }; result: never };
  slow: { params: Record<string, never>; result: string };
};

/** Two endpoints joined by asynchronous delivery (like IPC), with every message recorded. */
function pair() {
  const log: EnvelopeMessage[] = [];
  let slowSignal: AbortSignal | undefined;
  let slowStarted: () => void = () => undefined;
  const slowRunning = new Promise<void>((r) => (slowStarted = r));
  // eslint-disable-next-line prefer-const
  let server: Endpoint<Methods, Calc>;
  const client = new Endpoint<Calc>((m) => {
    log.push(m);
    setImmediate(() => server.receive(m));
  }, 'the server');
  server = new Endpoint<Methods, Calc>((m) => {
    log.push(m);
    setImmediate(() => client.receive(m));
  }, 'the client');
  server.handle('add', ({ a, b }) => a + b);
  server.handle('fail', ({ code }) => {
    if (code) throw new RequestError(code, 'b must be a number');
    throw new TypeError('boom');
  });
  server.handle('slow', (_p, ctx) => {
    slowSignal = ctx.signal;
    slowStarted();
    return new Promise<string>((resolve) => ctx.signal.addEventListener('abort', () => resolve('aborted')));
  });
  return { client, server, log, slowRunning, slow: () => slowSignal };
}

describe('request/reply', () => {
  test('a request gets its reply, matched by id, in any order', async () => {
    const { client, log } = pair();
    const [a, b] = await Promise.all([client.request('add', { a: 1, b: 2 }), client.request('add', { a: 10, b: 20 })]);
    assert.deepEqual(a, { ok: true, value: 3 });
    assert.deepEqual(b, { ok: true, value: 30 });
    const requests = log.filter((m) => m.type === 'request');
    const replies = log.filter((m) => m.type === 'reply');
    assert.equal(requests.length, 2);
    assert.notEqual(requests[0].type === 'request' && requests[0].id, requests[1].type === 'request' && requests[1].id);
    assert.deepEqual(replies.map((r) => r.type === 'reply' && r.replyTo).sort(), requests.map((r) => r.type === 'request' && r.id).sort());
    assert.equal(client.waiting, 0);
  });

  test('errors are values: a throwing handler, a specific code, an unknown method', async () => {
    const { client } = pair();
    assert.deepEqual(await client.request('fail', {}), { ok: false, error: { code: 'failed', message: 'boom' } });
    assert.deepEqual(await client.request('fail', { code: 'bad-request' }), { ok: false, error: { code: 'bad-request', message: 'b must be a number' } });
    const unknown = await (client as unknown as Endpoint<Methods>).request('nope', {});
    assert.equal(unknown.ok, false);
    assert.equal(!unknown.ok && unknown.error.code, 'unknown-method');
    assert.match(!unknown.ok ? unknown.error.message : '', /"nope"/);
  });

  test('a request without a reply times out, and the other side is told to stop', async () => {
    const { client, log, slow } = pair();
    const r = await client.request('slow', {}, { timeoutMs: 50 });
    assert.deepEqual(r, { ok: false, error: { code: 'timeout', message: 'The server did not answer "slow" within 50 ms.' } });
    await new Promise((res) => setImmediate(res));
    assert.ok(log.some((m) => m.type === 'cancel'), 'a cancel was sent');
    assert.equal(slow()?.aborted, true, "the handler's signal was aborted");
    assert.equal(client.waiting, 0);
  });

  test('cancellation: an aborted signal ends the request at once and aborts the handler', async () => {
    const { client, slowRunning, slow, log } = pair();
    const ac = new AbortController();
    const pending = client.request('slow', {}, { signal: ac.signal, timeoutMs: Infinity });
    await slowRunning;
    ac.abort();
    assert.deepEqual(await pending, { ok: false, error: { code: 'cancelled', message: 'The request "slow" was cancelled.' } });
    await new Promise((res) => setImmediate(res));
    assert.equal(slow()?.aborted, true);
    await new Promise((res) => setImmediate(res));
    assert.equal(log.filter((m) => m.type === 'reply').length, 0, 'no late reply for a cancelled request');
    const again = await client.request('slow', {}, { signal: ac.signal });
    assert.equal(!again.ok && again.error.code, 'cancelled', 'an already aborted signal sends nothing');
  });

  test('a closed channel ends waiting requests and refuses new ones', async () => {
    const { client, slowRunning } = pair();
    const pending = client.request('slow', {}, { timeoutMs: Infinity });
    await slowRunning;
    client.close('The kernel process ended.');
    assert.deepEqual(await pending, { ok: false, error: { code: 'unavailable', message: 'The kernel process ended.' } });
    assert.deepEqual(await client.request('add', { a: 1, b: 1 }), { ok: false, error: { code: 'unavailable', message: 'The kernel process ended.' } });
    client.reopen();
    assert.deepEqual(await client.request('add', { a: 1, b: 1 }), { ok: true, value: 2 });
  });

  test('a post that throws is an unavailable error; other messages are not envelopes', async () => {
    const e = new Endpoint<Calc>(() => {
      throw new Error('channel closed');
    }, 'the kernel');
    assert.deepEqual(await e.request('add', { a: 1, b: 2 }), { ok: false, error: { code: 'unavailable', message: 'Could not reach the kernel.' } });
    for (const m of [{ type: 'interrupt' }, { type: 'reply' }, { type: 'request', id: 1 }, null, 'x']) {
      assert.equal(isEnvelope(m), false, JSON.stringify(m));
      assert.equal(e.receive(m), false);
    }
    assert.ok(isHostMessage({ type: 'request', id: 'a', method: 'ping', params: {} }));
    assert.ok(isKernelMessage({ type: 'reply', replyTo: 'a', ok: true, result: 1 }));
    assert.ok(!isKernelMessage({ type: 'bogus' }));
  });
});

describe('the kernel answers requests', () => {
  const kernelPath = path.join(__dirname, '..', '..', '..', 'dist', 'kernel.js');

  test('ping between cells and while a cell runs; unavailable once the kernel is gone', { timeout: 120_000 }, async () => {
    const client = new KernelClient({ kernelPath, backend: 'cpu' });
    try {
      const none = await client.request('ping', {});
      assert.deepEqual(none, { ok: false, error: { code: 'unavailable', message: 'No kernel is running.' } });
      await client.start();
      const idle = await client.request('ping', { echo: 'x' });
      assert.ok(idle.ok, JSON.stringify(idle));
      assert.equal(idle.value.echo, 'x');
      assert.equal(idle.value.pid, client.pid);
      assert.equal(idle.value.backend, 'cpu');
      assert.equal(idle.value.busy, false);
      // A cell that waits for a file that appears only after the ping was answered.
      const marker = path.join(require('node:os').tmpdir(), `aenb-ping-${process.pid}`);
      const running = client.execute({
        source: `const fs = process.getBuiltinModule('node:fs'); while (!fs.existsSync(${JSON.stringify(marker)})) await new Promise((r) => setTimeout(r, 20)); 'done'`,
        language: 'javascript',
        cellName: 'Cell 1',
      });
      let finished = false;
      void running.then(() => (finished = true));
      let busy = await client.request('ping', {});
      while (busy.ok && !busy.value.busy && !finished) busy = await client.request('ping', {});
      assert.ok(busy.ok && busy.value.busy, 'answered while the cell runs');
      require('node:fs').writeFileSync(marker, '');
      const result = await running;
      require('node:fs').rmSync(marker, { force: true });
      assert.equal(result.success, true, JSON.stringify(result.error));
      await client.shutdown();
      const gone = await client.request('ping', {});
      assert.equal(!gone.ok && gone.error.code, 'unavailable');
    } finally {
      await client.shutdown();
    }
  });
});
