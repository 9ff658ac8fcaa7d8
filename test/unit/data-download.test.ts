import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGzip, gzipSync } from 'node:zlib';
import { downloadVerified, type DownloadProgress, type DownloadTarget } from '../../src/lib/data/download';
import { DatasetError, type DatasetErrorCode } from '../../src/lib/data/errors';
import { encodeIdx } from '../../src/lib/data/idx';
import { listFiles, sha256, startServer, tempDir, type TestServer } from '../fixtures/data/generate';

// A file big enough to arrive in several chunks, of pseudo-random pixels so that gzip cannot shrink it much.
let state = 12345;
const noise = () => {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) & 0xff;
};
const content = encodeIdx('uint8', [40, 28, 28], Array.from({ length: 40 * 784 }, noise));
const gz = gzipSync(content, { level: 1 });
const wrong = encodeIdx('uint8', [40, 28, 28], new Array(40 * 784).fill(3));
const SHA = sha256(content);
// The same file cut short (its header promises 40 images), and bytes that are not IDX at all.
const short = content.subarray(0, content.length - 5000);
const notIdx = Buffer.from(Array.from({ length: 2000 }, (_, i) => (i * 37 + 11) % 256));
notIdx[0] = 0x42;
// 40 MB of zeros: about 40 kB gzipped.
const bomb = gzipSync(Buffer.alloc(40_000_000));
assert.ok(gz.length > 20_000, `the gzipped test file is large (${gz.length} bytes)`);

let server: TestServer;
let cache: { path: string; remove: () => Promise<void> };
let n = 0;

before(async () => {
  cache = await tempDir('aenb-dl-');
  server = await startServer((req, res) => {
    const send = (status: number, body: Uint8Array | string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-length': String(Buffer.byteLength(body)), ...headers });
      res.end(body);
    };
    switch (req.url) {
      case '/good.gz': return send(200, gz);
      case '/raw': return send(200, content);
      case '/wrong.gz': return send(200, gzipSync(wrong));
      case '/page.gz': return send(200, '<!DOCTYPE html><html><body>Please log in</body></html>', { 'content-type': 'text/html' });
      case '/error500': return send(500, 'boom');
      case '/redirect': return send(302, '', { location: '/hop2' });
      case '/hop2': return send(301, '', { location: `${server.url}good.gz` });
      case '/loop': return send(302, '', { location: '/loop' });
      case '/truncated-body': {
        // Announces the whole file, sends half, then drops the connection.
        res.writeHead(200, { 'content-length': String(gz.length) });
        res.write(gz.subarray(0, gz.length >> 1), () => res.socket?.destroy());
        return;
      }
      case '/truncated-gzip': return send(200, gz.subarray(0, gz.length - 200));
      case '/slow': {
        res.writeHead(200, { 'content-length': String(gz.length) });
        let at = 0;
        const timer = setInterval(() => {
          if (res.destroyed || at >= gz.length) return clearInterval(timer);
          res.write(gz.subarray(at, at + 512));
          at += 512;
        }, 20);
        res.on('close', () => clearInterval(timer));
        return;
      }
      case '/stall': {
        res.writeHead(200, { 'content-length': String(gz.length) });
        res.write(gz.subarray(0, 1000));
        return; // and never anything more
      }
      case '/no-headers':
        return; // never answers
      case '/trickle': {
        // A byte now and then: never silent long enough to stall.
        res.writeHead(200, { 'content-length': String(gz.length) });
        let at = 0;
        const timer = setInterval(() => {
          if (res.destroyed || at >= gz.length) return clearInterval(timer);
          res.write(gz.subarray(at, at + 1));
          at += 1;
        }, 10);
        res.on('close', () => clearInterval(timer));
        return;
      }
      case '/endless': {
        // No Content-Length, and data for ever (not gzip).
        res.writeHead(200);
        const chunk = Buffer.alloc(64 * 1024, 7);
        const pump = () => {
          while (!res.destroyed && res.write(chunk));
        };
        res.on('drain', pump);
        pump();
        return;
      }
      case '/endless.gz': {
        // A gzip stream of zeros that never ends.
        res.writeHead(200);
        const zeros = Buffer.alloc(64 * 1024);
        const source = new Readable({ read() { this.push(zeros); } });
        const gzip = createGzip({ level: 1 });
        source.pipe(gzip).pipe(res);
        res.on('close', () => source.destroy());
        return;
      }
      case '/bomb.gz': return send(200, bomb);
      case '/huge': {
        res.writeHead(200, { 'content-length': String(10_000_000_000) });
        res.write(Buffer.alloc(1000));
        return;
      }
      case '/short': return send(200, short);
      case '/not-idx': return send(200, notIdx);
      default: return send(404, 'not here');
    }
  });
});

after(async () => {
  await server.close();
  await cache.remove();
});

function target(path: string, sha = SHA): DownloadTarget {
  n++;
  return {
    url: `${server.url}${path}`, dest: join(cache.path, `case${n}`, 'train-images-idx3-ubyte'), sha256: sha, size: content.length,
    expect: { dtype: 'uint8', dims: [null, 28, 28] }, dataset: 'fake', file: 'train-images-idx3-ubyte',
  };
}

/** Runs a download that must fail with `code`; checks the message and that nothing is left in its folder. */
async function fails(t: DownloadTarget, code: DatasetErrorCode, message: RegExp, opts: Parameters<typeof downloadVerified>[1] = {}): Promise<DatasetError> {
  let caught: unknown;
  try {
    await downloadVerified(t, opts);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof DatasetError, `expected a DatasetError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.match(caught.message, message);
  assert.deepEqual(await listFiles(join(t.dest, '..')), [], 'no file and no temporary file left behind');
  return caught;
}

describe('download', () => {
  test('a good gzipped file is decompressed, verified and stored; progress is reported', async () => {
    const t = target('good.gz');
    const progress: DownloadProgress[] = [];
    const result = await downloadVerified(t, { onProgress: (p) => progress.push(p), progressIntervalMs: 0 });
    assert.equal(result.path, t.dest);
    assert.equal(result.gzipped, true);
    assert.equal(result.bytes, gz.length);
    assert.equal(result.size, content.length);
    assert.deepEqual(new Uint8Array(await readFile(t.dest)), content);
    assert.deepEqual(await listFiles(join(t.dest, '..')), ['train-images-idx3-ubyte'], 'only the final file, no temp file');
    assert.ok(progress.length >= 2, `several progress reports (${progress.length})`);
    const last = progress[progress.length - 1];
    assert.deepEqual({ ...last, bytesPerSecond: 0 }, { dataset: 'fake', file: 'train-images-idx3-ubyte', bytes: gz.length, total: gz.length, bytesPerSecond: 0 });
    assert.ok(last.bytesPerSecond > 0);
    for (let i = 1; i < progress.length; i++) assert.ok(progress[i].bytes >= progress[i - 1].bytes, 'bytes never go down');
  });

  test('temporary files of a process that is gone are swept at once, old ones too; a live download\'s are kept', async () => {
    const t = target('good.gz');
    const dir = join(t.dest, '..');
    await mkdir(dir, { recursive: true });
    // A process that has exited: its pid is free (for now).
    const gone = spawn(process.execPath, ['-e', '']);
    const deadPid = gone.pid;
    await new Promise((r) => gone.once('exit', r));
    const dead = join(dir, `.train-images-idx3-ubyte.${deadPid}.deadbeef.part`);
    const stale = join(dir, `.train-images-idx3-ubyte.${process.ppid}.0badf00d.part`);
    const live = join(dir, `.train-images-idx3-ubyte.${process.ppid}.cafebabe.part`);
    await writeFile(dead, 'left behind by Ctrl-C');
    await writeFile(stale, 'old');
    await writeFile(live, 'in progress');
    const old = new Date(Date.now() - 2 * 60 * 60 * 1000);
    await utimes(stale, old, old);
    await downloadVerified(t);
    assert.deepEqual(await listFiles(dir), [`.train-images-idx3-ubyte.${process.ppid}.cafebabe.part`, 'train-images-idx3-ubyte']);
  });

  test('progress is throttled', async () => {
    const progress: DownloadProgress[] = [];
    await downloadVerified(target('good.gz'), { onProgress: (p) => progress.push(p), progressIntervalMs: 60_000 });
    assert.equal(progress.length, 2, 'one report at the start and one at the end');
  });

  test('a file served uncompressed is accepted too', async () => {
    const t = target('raw');
    const result = await downloadVerified(t);
    assert.equal(result.gzipped, false);
    assert.deepEqual(new Uint8Array(await readFile(t.dest)), content);
  });

  test('redirects are followed', async () => {
    const t = target('redirect');
    const result = await downloadVerified(t);
    assert.equal(result.url, `${server.url}good.gz`);
    assert.deepEqual(new Uint8Array(await readFile(t.dest)), content);
  });

  test('too many redirects', async () => {
    await fails(target('loop'), 'redirect', /Too many redirects \(more than 3\)/, { maxRedirects: 3 });
  });

  test('HTTP 500 names the status and the URL', async () => {
    await fails(target('error500'), 'http-status', new RegExp(`HTTP 500 Internal Server Error for ${server.url}error500`));
  });

  test('HTTP 404 names the status and the URL', async () => {
    const e = await fails(target('missing.gz'), 'http-status', /HTTP 404 Not Found for http:\/\/127\.0\.0\.1:\d+\/missing\.gz\. .*mirror/);
    assert.equal(e.details.url, `${server.url}missing.gz`);
  });

  test('connection dropped midway: truncated, got N of M bytes', async () => {
    await fails(target('truncated-body'), 'truncated', new RegExp(`got ${gz.length >> 1} of ${gz.length} bytes`));
  });

  test('complete response but gzip ends early: truncated', async () => {
    await fails(target('truncated-gzip'), 'truncated', /gzip data ended early/);
  });

  test('wrong content: checksum mismatch with expected and actual', async () => {
    await fails(target('wrong.gz'), 'checksum', new RegExp(`expected SHA-256 ${SHA}, got ${sha256(wrong)}`));
  });

  test('an HTML page instead of data: checksum mismatch that says so', async () => {
    await fails(target('page.gz'), 'checksum', /looks like an HTML page/);
  });

  test('a slow download cancelled midway with an AbortSignal', async () => {
    const controller = new AbortController();
    let seen = 0;
    const started = Date.now();
    const e = await fails(target('slow'), 'cancelled', /was cancelled after \d+ bytes; nothing was kept/, {
      signal: controller.signal,
      progressIntervalMs: 0,
      onProgress: (p) => {
        seen = p.bytes;
        if (p.bytes >= 2048) controller.abort();
      },
    });
    assert.ok(seen >= 2048 && seen < gz.length, `aborted midway (${seen} of ${gz.length})`);
    assert.ok(Date.now() - started < 5000, 'promptly');
    assert.ok(!e.message.includes('stalled'));
  });

  test('an AbortSignal already aborted: nothing is attempted', async () => {
    const before = server.requests.length;
    await fails(target('good.gz'), 'cancelled', /cancelled/, { signal: AbortSignal.abort() });
    assert.equal(server.requests.length, before, 'no request made');
  });

  test('a stalled connection times out', async () => {
    await fails(target('stall'), 'stalled', new RegExp(`no data for 0.3 s \\(after 1000 of ${gz.length} bytes\\)`), { timeoutMs: 300 });
  });

  test('a server that never answers times out', async () => {
    await fails(target('no-headers'), 'stalled', /no data for 0.3 s/, { timeoutMs: 300 });
  });

  test('connection refused is a network error', async () => {
    const gone = await startServer((_req, res) => res.end());
    await gone.close();
    const t = { ...target('x'), url: `${gone.url}x.gz` };
    const err = await fails(t, 'network', /ECONNREFUSED/);
    assert.equal(err.message.split('ECONNREFUSED').length - 1, 1, `the code is said once: ${err.message}`);
  });

  test('a non-http URL is refused', async () => {
    await fails({ ...target('x'), url: 'ftp://127.0.0.1/x.gz' }, 'bad-option', /only http and https/);
  });

  test('a server that trickles a byte now and then fails with "too slow" (it never stalls)', { timeout: 30_000 }, async () => {
    const e = await fails(target('trickle'), 'too-slow', /is too slow: \d+ bytes in the last 0\.3 s, below the minimum of 1000 bytes\/s \(after \d+ of \d+ bytes\)/,
      { timeoutMs: 300, minBytesPerSecond: 1000 });
    assert.ok(!/stalled/.test(e.message));
  });

  test('an overall deadline ends a download that keeps going, however steadily', { timeout: 30_000 }, async () => {
    await fails(target('slow'), 'timeout', /did not finish within 0\.2 s \(got \d+ of \d+ bytes, .*\/s on average\)/, { deadlineMs: 200, minBytesPerSecond: 0 });
  });

  test('an endless stream stops at the expected size, with nothing kept', { timeout: 30_000 }, async () => {
    const progress: DownloadProgress[] = [];
    await fails(target('endless'), 'too-large', /stopped: the server sent more than/, { progressIntervalMs: 0, onProgress: (p) => progress.push(p) });
    const most = Math.max(...progress.map((p) => p.bytes));
    assert.ok(most <= content.length + content.length / 64 + 64 * 1024, `no more than the file's size was taken (${most} bytes)`);
  });

  test('an endless gzip stream stops at the expected size after decompression', { timeout: 30_000 }, async () => {
    await fails(target('endless.gz'), 'too-large', new RegExp(`decompresses to more than ${Math.round(content.length / 1000)} kB, the size of the official file`));
  });

  test('a gzip bomb is not decompressed beyond the expected size', { timeout: 30_000 }, async () => {
    await fails(target('bomb.gz'), 'too-large', /decompresses to more than .* \(an endless stream, a gzip bomb or another file\)/);
  });

  test('a server announcing more than the file can be is refused before anything is written', async () => {
    await fails(target('huge'), 'too-large', /the server announces 10000\.0 MB, but the file is \d+ kB uncompressed/, { timeoutMs: 5000 });
  });

  test('wrong content is described by the IDX reader: a file cut short', async () => {
    await fails(target('short'), 'checksum', new RegExp(`What is wrong with it: data too short: expected ${40 * 784} bytes of data \\(40x28x28 uint8\\) after the 16-byte header, found ${40 * 784 - 5000} bytes \\(5000 missing\\)`));
  });

  test('wrong content is described by the IDX reader: not an IDX file', async () => {
    await fails(target('not-idx'), 'checksum', /What is wrong with it: wrong magic number: expected 00 00 <type> <rank>.*found 42 /);
  });
});
