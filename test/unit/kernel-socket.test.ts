/**
 * Kernels that outlive their window: the socket transport (token handshake,
 * owner-only files), the kernel's lifetime rules, what it keeps for a host
 * that reattaches, and the real kernel process (dist/kernel.js --serve)
 * driven through KernelClient: detach, reattach with the running cell's
 * outputs, queued cells reported, release and grace period ending it.
 */
import { after, before, describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { AenbOutput } from '../../src/common/aenb';
import { TRAINING_MIME, type TrainingPayload } from '../../src/outputs';
import { KernelClient } from '../../src/kernel/client';
import { findKernel } from '../../src/kernel/detached';
import { KernelJournal } from '../../src/kernel/journal';
import { KernelLifetime } from '../../src/kernel/lifetime';
import { isAlive, kernelsFor, liveKernels } from '../../src/kernel/registry';
import { ensurePrivateDir, newToken, PrivateFileError, readTokenFile, writeTokenFile } from '../../src/kernel/transport/private-files';
import { connectKernelSocket, KernelConnectError, KernelSocketServer, type SocketChannel } from '../../src/kernel/transport/socket';

const kernelPath = path.join(__dirname, '..', '..', '..', 'dist', 'kernel.js');
const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);

let root = '';
before(() => {
  root = mkdtempSync(path.join(tmpdir(), 'aenb-ksock-'));
});
after(() => {
  rmSync(root, { recursive: true, force: true });
});

async function until<T>(probe: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('owner-only files', () => {
  test('the kernels folder is made private; a symlink or another user’s folder is refused', () => {
    const dir = path.join(root, 'a', 'kernels');
    ensurePrivateDir(dir);
    assert.equal(mode(dir), '700');
    chmodSync(dir, 0o755);
    ensurePrivateDir(dir);
    assert.equal(mode(dir), '700', 'an open folder of ours is closed to others');
    const link = path.join(root, 'link');
    symlinkSync(dir, link);
    assert.throws(() => ensurePrivateDir(link), (e: Error) => e instanceof PrivateFileError && /symbolic link/.test(e.message));
  });

  test('token files are 0600 and a readable-by-others token is not used', () => {
    const dir = ensurePrivateDir(path.join(root, 'tokens'));
    const file = path.join(dir, 't.token');
    const token = newToken();
    writeTokenFile(file, token);
    assert.equal(mode(file), '600');
    assert.equal(readTokenFile(file), token);
    assert.throws(() => writeTokenFile(file, token), /EEXIST/, 'never overwrites a token');
    chmodSync(file, 0o644);
    assert.throws(() => readTokenFile(file), /can be read by other users/);
    writeFileSync(path.join(dir, 'bad.token'), 'xyz', { mode: 0o600 });
    assert.throws(() => readTokenFile(path.join(dir, 'bad.token')), /does not hold a kernel token/);
  });
});

describe('socket transport', () => {
  let server: KernelSocketServer;
  let socketPath = '';
  const token = newToken();
  const accepted: SocketChannel[] = [];
  before(async () => {
    const dir = ensurePrivateDir(path.join(root, 'sock'));
    socketPath = path.join(dir, 'k.sock');
    server = await KernelSocketServer.listen({
      socketPath,
      token,
      handshakeTimeoutMs: 300,
      welcome: (c) => ({ hello: `pid ${c.pid}` }),
      onClient: (ch) => {
        accepted.push(ch);
        ch.onMessage((m) => ch.send({ echo: m }));
      },
    });
  });
  after(() => server.close());

  test('the socket is owner-only', () => {
    assert.ok(lstatSync(socketPath).isSocket());
    assert.equal(mode(socketPath), '600');
  });

  /** A raw client: what the server sends back to `lines`, until it closes the connection. */
  async function raw(lines: string[]): Promise<string> {
    return new Promise((resolve) => {
      const s = net.connect(socketPath);
      let got = '';
      s.on('data', (d) => (got += d));
      s.on('close', () => resolve(got));
      s.on('error', () => undefined);
      s.on('connect', () => {
        for (const l of lines) s.write(l);
      });
    });
  }

  test('a client without the token is refused and gets nothing else', async () => {
    const before = accepted.length;
    assert.deepEqual(JSON.parse(await raw([JSON.stringify({ $transport: 'hello', client: { pid: 1 } }) + '\n'])), { $transport: 'refused', reason: 'wrong or missing token' });
    assert.deepEqual(JSON.parse(await raw([JSON.stringify({ $transport: 'hello', token: newToken(), client: { pid: 1 } }) + '\n'])), { $transport: 'refused', reason: 'wrong or missing token' });
    assert.deepEqual(JSON.parse(await raw(['{"type":"execute","source":"process.exit()"}\n'])), { $transport: 'refused', reason: 'wrong or missing token' });
    assert.deepEqual(JSON.parse(await raw(['not json\n'])), { $transport: 'refused', reason: 'the first line is not a hello' });
    assert.equal(await raw([]), '', 'a silent client is cut off after the handshake time');
    assert.equal(accepted.length, before, 'no channel was handed to the kernel');
    await assert.rejects(connectKernelSocket(socketPath, newToken(), { pid: process.pid }), (e: Error) => e instanceof KernelConnectError && e.kind === 'refused' && /wrong or missing token/.test(e.message));
    await assert.rejects(connectKernelSocket(path.join(root, 'nothing.sock'), token, { pid: process.pid }), (e: Error) => e instanceof KernelConnectError && e.kind === 'unreachable');
  });

  test('with the token: a welcome, then messages both ways; a new client supersedes the old one', async () => {
    const a = await connectKernelSocket(socketPath, token, { pid: process.pid });
    assert.deepEqual(a.welcome, { hello: `pid ${process.pid}` });
    const big = { text: 'x'.repeat(3_000_000), nl: 'a\nb' };
    const echoed = new Promise<unknown>((r) => a.channel.onMessage(r));
    a.channel.send(big);
    assert.deepEqual(await echoed, { echo: big }, 'a 3 MB message with newlines inside survives the line framing');
    const closed = new Promise<string>((r) => a.channel.onClose((reason) => r(reason)));
    const b = await connectKernelSocket(socketPath, token, { pid: process.pid });
    assert.equal(await closed, 'superseded');
    const e2 = new Promise<unknown>((r) => b.channel.onMessage(r));
    b.channel.send({ n: 2 });
    assert.deepEqual(await e2, { echo: { n: 2 } });
    b.channel.close();
  });
});

describe('kernel lifetime', () => {
  const setup = (graceMs: number, busy = false) => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const ended: string[] = [];
    const state = { busy };
    const l = new KernelLifetime({ graceMs, busy: () => state.busy, end: (r) => void ended.push(r), idleLingerMs: 60_000 });
    return { l, ended, state };
  };

  test('attached: never ends; detached and idle: waits a minute for a window, then ends', () => {
    const { l, ended } = setup(300_000);
    mock.timers.tick(10 * 3600_000);
    assert.deepEqual(ended, []);
    l.detach(false);
    mock.timers.tick(59_000);
    l.attach(); // a reload came back in time
    mock.timers.tick(3600_000);
    assert.deepEqual(ended, []);
    l.detach(false);
    mock.timers.tick(60_000);
    assert.deepEqual(ended, ['idle']);
    mock.timers.reset();
  });

  test('window gone with a running cell: it goes on; idle afterwards, it lingers; the grace period bounds it all', () => {
    const { l, ended, state } = setup(300_000, true);
    l.detach(false);
    mock.timers.tick(200_000);
    assert.deepEqual(ended, []);
    state.busy = false;
    l.idle();
    mock.timers.tick(59_000);
    assert.deepEqual(ended, []);
    mock.timers.tick(1_000);
    assert.deepEqual(ended, ['idle']);
    mock.timers.reset();
    const t = setup(300_000, true);
    t.l.detach(false);
    mock.timers.tick(300_000);
    assert.deepEqual(t.ended, ['grace'], 'a cell that outlasts the grace period ends with the kernel');
    mock.timers.reset();
  });

  test('notebook closed: ends at once when idle, else when its cell is done, at the latest when the grace ends', () => {
    const a = setup(300_000);
    a.l.release();
    a.l.detach(true);
    assert.deepEqual(a.ended, ['released']);
    mock.timers.reset();
    const b = setup(300_000, true);
    b.l.detach(true);
    mock.timers.tick(100_000);
    assert.deepEqual(b.ended, []);
    b.state.busy = false;
    b.l.idle();
    assert.deepEqual(b.ended, ['released']);
    mock.timers.reset();
    const c = setup(0, true);
    c.l.detach(false);
    assert.deepEqual(c.ended, ['grace'], 'grace 0: it ends with its window');
    mock.timers.reset();
  });
});

test('the journal keeps the running cell’s outputs (live ones as they are now), ended cells until acknowledged, the queue, and logs while detached', () => {
  const j = new KernelJournal();
  const out = (t: string): AenbOutput => ({ items: [{ mime: 'text/plain', data: t }] });
  j.begin({ type: 'execute', id: 'a', source: 'fit()', language: 'typescript', cellName: 'Cell 3', cellIndex: 2 }, 1000);
  j.setQueued([{ index: 3, cellName: 'Cell 4' }, { index: 4, cellName: 'Cell 5' }]);
  j.record({ type: 'output', id: 'a', output: out('plain 1') });
  j.record({ type: 'output', id: 'a', output: out('train 1'), key: 'train:r' });
  j.record({ type: 'output', id: 'a', output: out('train 2'), key: 'train:r' });
  j.record({ type: 'log', level: 'info', message: 'while attached' });
  j.detach();
  j.record({ type: 'log', level: 'warn', message: 'while detached' });
  assert.equal(j.busy, true);
  const r = j.attach();
  assert.deepEqual(r.executions[0].outputs, [{ output: out('plain 1') }, { output: out('train 2'), key: 'train:r' }]);
  assert.equal(r.executions[0].cellIndex, 2);
  assert.equal(r.executions[0].startedAt, 1000);
  assert.deepEqual(r.queued.map((q) => q.cellName), ['Cell 4', 'Cell 5']);
  assert.deepEqual(r.logs.map((l) => l.message), ['while detached']);
  j.record({ type: 'done', id: 'a', success: true, durationMs: 5 });
  assert.equal(j.busy, false);
  assert.equal(j.attach().executions.length, 1, 'kept until the host acknowledges it');
  j.ack('a');
  assert.equal(j.attach().executions.length, 0);
});

describe('a kernel process that outlives its host', () => {
  const dir = () => path.join(root, 'kernels');
  after(() => {
    // Whatever a failed test left running.
    for (const r of liveKernels(dir())) {
      try {
        process.kill(r.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  });
  const notebook = 'file:///work/notebook.aenb';
  const client = (graceMs: number) =>
    new KernelClient({ backend: 'cpu', kernelPath, graceMs, progressIntervalMs: 50, detached: { dir: dir(), notebook, client: { pid: process.pid, name: 'test' } } });

  test('it runs in its own process group, with an owner-only record, token and socket', async () => {
    const c = client(60_000);
    await c.start();
    const pid = c.pid!;
    try {
      assert.equal(c.detachedKernel, true);
      const pgid = Number(execFileSync('ps', ['-o', 'pgid=', '-p', String(pid)], { encoding: 'utf8' }).trim());
      assert.equal(pgid, pid, 'a process group of its own: it does not go down with the extension host’s group');
      const [record] = kernelsFor(dir(), notebook);
      assert.equal(record.pid, pid);
      assert.equal(mode(dir()), '700');
      assert.equal(mode(record.tokenFile), '600');
      assert.equal(mode(record.socket), '600');
      assert.equal(mode(record.logFile), '600');
    } finally {
      await c.shutdown();
    }
    await until(() => !isAlive(pid), 'the kernel to end');
    await until(() => kernelsFor(dir(), notebook).length === 0 && readdirSync(dir()).length === 0, 'its files to be removed');
  });

  test('a host that goes away during training: a new host reattaches, gets everything so far, and the cell ends there', { timeout: 120_000 }, async () => {
    const first = client(60_000);
    await first.start();
    const pid = first.pid!;
    await first.execute({ source: 'const x = tf.randomUniform([256, 8, 8], 0, 1, "float32", 1);\nconst m = new Autoencoder({ inputShape: [8, 8], latentDim: 4 });\nm.compile();', language: 'typescript', cellName: 'Cell 1', cellIndex: 0 });
    let firstOutputs = 0;
    const training = first.execute(
      { source: 'console.log("starting");\nconst h = await m.fit(x, x, { epochs: 40, batchSize: 8, seed: 1 });\nconsole.log("finished", h.epoch.length);', language: 'typescript', cellName: 'Cell 2', cellIndex: 1 },
      { onOutput: () => firstOutputs++ },
    );
    first.setQueued([{ index: 2, cellName: 'Cell 3' }]);
    await until(() => firstOutputs >= 3, 'training output');
    await first.detach();
    const gone = await training;
    assert.equal(gone.detached, true, 'the cell is not failed: it goes on without us');
    assert.ok(isAlive(pid), 'the kernel lives on');

    const second = client(60_000);
    const found = await findKernel(dir(), notebook, { pid: process.pid, name: 'test 2' });
    assert.ok(found, 'the registry finds the notebook’s kernel');
    const state = await second.attach(found);
    assert.equal(state.pid, pid);
    assert.equal(second.pid, pid);
    assert.equal(state.backend.name, 'cpu');
    const [running] = state.executions;
    assert.equal(state.executions.length, 1);
    assert.equal(running.cellIndex, 1);
    assert.equal(running.done, undefined, 'still running');
    assert.deepEqual(state.queued, [{ index: 2, cellName: 'Cell 3' }], 'the queued cell is reported, not run');
    const texts = running.outputs.map((o) => o.output.items.map((i) => i.mime).join());
    assert.ok(texts.includes('application/vnd.code.notebook.stdout'), `the console output so far: ${texts}`);
    const replayed = running.outputs.find((o) => o.output.items.some((i) => i.mime === TRAINING_MIME))!;
    const before = (replayed.output.items.find((i) => i.mime === TRAINING_MIME)!.data as unknown as TrainingPayload).batches?.count ?? 0;
    assert.ok(before > 0);
    const later: TrainingPayload[] = [];
    const result = await second.resume(running.id, {
      onOutput: (o) => {
        const t = o.items.find((i) => i.mime === TRAINING_MIME);
        if (t) later.push(t.data as unknown as TrainingPayload);
      },
    }, running.startedAt);
    assert.equal(result.success, true, JSON.stringify(result.error));
    assert.ok(later.length > 0 && (later[later.length - 1].batches?.count ?? 0) > before, 'live training output went on after the reattach');
    const last = later[later.length - 1];
    assert.equal(last.state, 'done');
    assert.equal(last.history.loss.length, 40, 'every epoch’s loss');
    assert.equal((await second.execute({ source: 'h.epoch.length', language: 'typescript', cellName: 'Cell 3' })).success, true, 'the variables are still there');
    await second.release();
    await until(() => !isAlive(pid), 'the released, idle kernel to end');
    assert.deepEqual(liveKernels(dir()), []);
  });

  test('no orphan: released during a cell that outlasts the grace period, the kernel ends when the grace ends', { timeout: 60_000 }, async () => {
    const c = client(1500);
    await c.start();
    const pid = c.pid!;
    let started = false;
    void c.execute({ source: 'console.log("looping");\nwhile (true) await new Promise((r) => setTimeout(r, 20));', language: 'typescript', cellName: 'Cell 1' }, { onOutput: () => (started = true) });
    await until(() => started, 'the cell to start');
    await c.release();
    assert.ok(isAlive(pid), 'the cell goes on for now');
    await until(() => !isAlive(pid), 'the kernel to end when its grace period ends', 30_000);
    assert.deepEqual(liveKernels(dir()), []);
  });
});

test('a folder that belongs to another user is refused, not used', () => {
  let other = '/'; // not ours, unless we are root
  if (process.getuid?.() === 0) {
    other = path.join(root, 'other');
    mkdirSync(other, { mode: 0o700 });
    execFileSync('chown', ['65534', other]);
  }
  assert.throws(() => ensurePrivateDir(other), /belongs to another user/);
});
