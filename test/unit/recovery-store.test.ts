// The recovery journal's store (src/notebook/recovery-store.ts): one private
// file per notebook, written atomically, damaged entries dropped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecoveryStore, sha256 } from '../../src/notebook/recovery-store';

test('entries round-trip per notebook, privately; removal and pruning by age', async () => {
  const root = mkdtempSync(join(tmpdir(), 'aenb-recovery-'));
  try {
    const store = new RecoveryStore(join(root, 'recovery'));
    const a = 'file:///ws/a.aenb';
    const b = 'vscode-remote://host/ws/b%20c.aenb';
    assert.equal(await store.read(a), undefined);
    await store.write({ version: 1, uri: a, savedAt: 1, baseSha256: sha256('old'), text: '{"a": 1}\n' });
    await store.write({ version: 1, uri: b, savedAt: 2, text: 'b' });
    await store.write({ version: 1, uri: a, savedAt: 3, text: '{"a": 2}\n' });
    assert.deepEqual(await store.read(a), { version: 1, uri: a, savedAt: 3, text: '{"a": 2}\n' }, 'the latest write wins');
    assert.equal((await store.read(b))?.text, 'b');
    assert.equal((statSync(store.dir).mode & 0o777).toString(8), '700');
    for (const n of readdirSync(store.dir)) assert.equal((statSync(join(store.dir, n)).mode & 0o777).toString(8), '600', n);
    assert.equal(readdirSync(store.dir).length, 2, 'no temporary files left');
    await store.remove(a);
    assert.equal(await store.read(a), undefined);
    const old = store.fileFor(b);
    utimesSync(old, new Date(0), new Date(0));
    assert.equal(await store.prune(24 * 3600_000), 1);
    assert.deepEqual(readdirSync(store.dir), []);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a damaged entry, or one of another notebook, is dropped rather than used', async () => {
  const root = mkdtempSync(join(tmpdir(), 'aenb-recovery-'));
  try {
    const store = new RecoveryStore(root);
    const uri = 'file:///ws/a.aenb';
    writeFileSync(store.fileFor(uri), '{"version": 1, "uri": "file:///ws/a.aenb", "savedAt": 1, "text": "cut sh');
    assert.equal(await store.read(uri), undefined);
    assert.deepEqual(readdirSync(root), []);
    writeFileSync(store.fileFor(uri), JSON.stringify({ version: 1, uri: 'file:///other.aenb', savedAt: 1, text: 'x' }));
    assert.equal(await store.read(uri), undefined);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
