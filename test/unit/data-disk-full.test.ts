/**
 * A download onto a full disk: the error says the disk is full (not "truncated,
 * try again") and nothing is left behind. The disk is a 64 kB tmpfs mounted in
 * a mount namespace of a child process (`unshare`), so that the mount needs no
 * clean-up: it vanishes with the child, even if the test is killed. The child
 * is this file run again with AENB_DISK_FULL_CHILD set.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downloadVerified } from '../../src/lib/data/download';
import { DatasetError } from '../../src/lib/data/errors';
import { encodeIdx } from '../../src/lib/data/idx';
import { sha256, startServer } from '../fixtures/data/generate';

interface ChildJob {
  url: string;
  dir: string;
  sha256: string;
  size: number;
}

interface ChildResult {
  code?: string;
  message?: string;
  left: string[];
  mounted: boolean;
}

async function listAll(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath ?? e.path, e.name).slice(dir.length + 1)).sort();
}

async function child(job: ChildJob): Promise<void> {
  const mounts = await import('node:fs/promises').then((fs) => fs.readFile('/proc/self/mounts', 'utf8'));
  const result: ChildResult = { left: [], mounted: mounts.split('\n').some((l) => l.split(' ')[1] === job.dir && l.startsWith('tmpfs ')) };
  try {
    await downloadVerified({ url: job.url, dest: join(job.dir, 'mnist', 'train-images-idx3-ubyte'), sha256: job.sha256, size: job.size, dataset: 'mnist', file: 'train-images-idx3-ubyte' });
  } catch (err) {
    result.code = err instanceof DatasetError ? err.code : `not a DatasetError: ${String(err)}`;
    result.message = (err as Error).message;
  }
  result.left = await listAll(job.dir);
  process.stdout.write(JSON.stringify(result));
}

const job = process.env.AENB_DISK_FULL_CHILD;
if (job) {
  child(JSON.parse(job) as ChildJob).then(
    () => process.exit(0),
    (e: unknown) => {
      process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
      process.exit(3);
    },
  );
} else {
  test('a full disk during a download says the disk is full, and leaves nothing behind', { timeout: 60_000 }, async () => {
    // 300 kB of noise (gzip cannot shrink it), served gzipped; the disk holds 64 kB.
    let state = 88172645;
    const noise = Array.from({ length: 375 * 784 }, () => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return state & 0xff;
    });
    const content = encodeIdx('uint8', [375, 28, 28], noise);
    const { gzipSync } = await import('node:zlib');
    const body = gzipSync(content);
    const server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-length': String(body.length) });
      res.end(body);
    });
    const dir = await mkdtemp(join(tmpdir(), 'aenb-full-disk-'));
    try {
      const spec: ChildJob = { url: `${server.url}train-images-idx3-ubyte.gz`, dir, sha256: sha256(content), size: content.length };
      const run = spawn('unshare', [
        '--mount', '--map-root-user', '--propagation', 'private',
        'sh', '-c', 'mount -t tmpfs -o size=64k tmpfs "$1" && exec "$2" --enable-source-maps "$3"', 'sh', dir, process.execPath, __filename,
      ], { env: { ...process.env, AENB_DISK_FULL_CHILD: JSON.stringify(spec) }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      run.stdout.on('data', (d) => (stdout += d));
      run.stderr.on('data', (d) => (stderr += d));
      const code = await new Promise<number | null>((resolve) => run.once('close', resolve));
      assert.equal(code, 0, `the child (unshare + mount tmpfs + download) ran: exit ${code}\n${stderr}`);
      const result = JSON.parse(stdout) as ChildResult;
      assert.ok(result.mounted, `the download went to a 64 kB tmpfs at ${dir}`);
      assert.equal(result.code, 'disk-full', result.message);
      assert.match(result.message ?? '', new RegExp(`Cannot store train-images-idx3-ubyte \\(mnist\\): the disk that holds ${dir}/mnist is full \\(ENOSPC, after writing \\d+ kB\\)\\. The file needs 294 kB\\. Free some space there, or set another cache folder, then try again\\. Nothing was kept\\.`));
      assert.doesNotMatch(result.message ?? '', /truncated/);
      assert.deepEqual(result.left, [], 'no partial file and no temporary file left on the full disk');
    } finally {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
}
