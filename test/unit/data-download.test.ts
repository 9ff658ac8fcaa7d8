import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
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
  return { url: `${server.url}${path}`, dest: join(cache.path, `case${n}`, 'train-images-idx3-ubyte'), sha256: sha, dataset: 'fake', file: 'train-images-idx3-ubyte' };
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

  test('temporary files left by a dead process are swept; recent ones (a live download) are kept', async () => {
    const t = target('good.gz');
    const dir = join(t.dest, '..');
    await mkdir(dir, { recursive: true });
    const stale = join(dir, '.train-images-idx3-ubyte.99999.deadbeef.part');
    const fresh = join(dir, '.train-images-idx3-ubyte.99998.cafebabe.part');
    await writeFile(stale, 'old');
    await writeFile(fresh, 'in progress');
    const old = new Date(Date.now() - 2 * 60 * 60 * 1000);
    await utimes(stale, old, old);
    await downloadVerified(t);
    assert.deepEqual(await listFiles(dir), ['.train-images-idx3-ubyte.99998.cafebabe.part', 'train-images-idx3-ubyte']);
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
    await fails(t, 'network', /ECONNREFUSED/);
  });

  test('a non-http URL is refused', async () => {
    await fails({ ...target('x'), url: 'ftp://127.0.0.1/x.gz' }, 'bad-option', /only http and https/);
  });
});
