import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { removeStaleTempFiles, tempFileFor, writeFileAtomic } from '../../src/lib/atomic-file';
import { withTempDir } from '../support/temp-dir';

/** A test body that gets a fresh folder, removed afterwards. */
const withDir = (fn: (dir: string) => Promise<void>) => () => withTempDir('aenb-atomic-', fn);

describe('writeFileAtomic', () => {
  test('text and chunks reach the file whole; nothing else is left in the folder', withDir(async (dir) => {
    const file = join(dir, 'sub', 'a.bin');
    await writeFileAtomic(file, [new Uint8Array([1, 2]), new Uint8Array([3])]);
    assert.deepEqual([...readFileSync(file)], [1, 2, 3]);
    await writeFileAtomic(file, 'text');
    assert.equal(readFileSync(file, 'utf8'), 'text');
    assert.deepEqual(readdirSync(join(dir, 'sub')), ['a.bin']);
  }));

  test('many writes at once to one file: each uses its own temporary file, and the file holds one of them', withDir(async (dir) => {
    const file = join(dir, 'same.json');
    const texts = Array.from({ length: 8 }, (_, i) => JSON.stringify({ i, pad: 'x'.repeat(10_000) }));
    await Promise.all(texts.map((t) => writeFileAtomic(file, t)));
    assert.ok(texts.includes(readFileSync(file, 'utf8')));
    assert.deepEqual(readdirSync(dir), ['same.json']);
  }));

  test('a new file gets the given mode; an existing file keeps its own', withDir(async (dir) => {
    const fresh = join(dir, 'fresh');
    await writeFileAtomic(fresh, 'x', { mode: 0o600 });
    assert.equal(statSync(fresh).mode & 0o777, 0o600);
    const kept = join(dir, 'kept');
    writeFileSync(kept, 'old');
    chmodSync(kept, 0o640);
    await writeFileAtomic(kept, 'new', { mode: 0o600 });
    assert.equal(statSync(kept).mode & 0o777, 0o640);
    assert.equal(readFileSync(kept, 'utf8'), 'new');
  }));

  test('a failed write throws, keeps the old content and leaves no temporary file', withDir(async (dir) => {
    const file = join(dir, 'f');
    writeFileSync(file, 'old');
    await assert.rejects(
      writeFileAtomic(file, [new Uint8Array([1])], {
        afterChunk: () => {
          throw new Error('disk gone');
        },
      }),
      /disk gone/,
    );
    assert.equal(readFileSync(file, 'utf8'), 'old');
    assert.deepEqual(readdirSync(dir), ['f']);
  }));
});

describe('removeStaleTempFiles', () => {
  test('removes a dead writer\'s file of this machine; keeps a live writer\'s, another machine\'s, and those `accept` refuses', withDir(async (dir) => {
    const deadPid = await new Promise<number>((resolve) => {
      const p = spawn(process.execPath, ['-e', '0']);
      p.on('exit', () => resolve(p.pid as number));
    });
    const dead = tempFileFor(join(dir, 'a.ckpt'), deadPid, 3);
    const deadOther = tempFileFor(join(dir, 'b.json'), deadPid);
    const live = tempFileFor(join(dir, 'a.ckpt'), process.pid, 1);
    const elsewhere = join(dir, `a.ckpt.aenb-tmp-${deadPid}@not-${hostname()}`);
    for (const f of [dead, deadOther, live, elsewhere]) writeFileSync(f, 'partial');
    assert.deepEqual(await removeStaleTempFiles(dir, (f) => f.endsWith('.ckpt')), [dead]);
    assert.deepEqual(await removeStaleTempFiles(dir), [deadOther]);
    assert.deepEqual(readdirSync(dir).sort(), [live, elsewhere].map((f) => f.slice(dir.length + 1)).sort());
  }));
});
