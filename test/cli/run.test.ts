// The headless runner end to end, as a user runs it: `node dist/cli.js run ...`.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createCodeCell, parseNotebook } from '../../src/common/aenb';
import { root, runCli, writeNotebook } from './harness';

describe('running notebooks', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'aenb-cli-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('a good notebook exits 0 and writes every output, with parameters applied', async () => {
    const file = await writeNotebook(path.join(dir, 'good.aenb'), [createCodeCell('const n = 3;\n', { tags: ['parameters'] }), "console.log('n is', n);\nn * 2\n"]);
    const out = path.join(dir, 'good.out.aenb');
    const r = await runCli(['run', file, '--backend', 'cpu', '--set', 'n=5', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /n is 5/);
    assert.match(r.stdout, /Injected parameters · const n = 5;/);
    const nb = parseNotebook(await readFile(out, 'utf8'));
    const last = nb.cells[2];
    assert.equal(last.kind, 'code');
    if (last.kind !== 'code') return;
    assert.equal(last.execution?.success, true);
    assert.deepEqual(last.outputs.map((o) => o.items[0].data), ['n is 5\n', '10']);
    // The input notebook is untouched.
    assert.equal(parseNotebook(await readFile(file, 'utf8')).cells.length, 2);
  });

  test('a failing cell exits 1, names the cell and line, skips the rest, and still writes what ran', async () => {
    const file = await writeNotebook(path.join(dir, 'bad.aenb'), ['const a = 1;\n', 'const b = 2;\nnull.x;\n', "console.log('never');\n"]);
    const r = await runCli(['run', file, '--backend', 'cpu']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Cell 2 failed at line 2: TypeError/);
    const nb = parseNotebook(await readFile(path.join(dir, 'bad.executed.aenb'), 'utf8'));
    const [c1, c2, c3] = nb.cells;
    assert.ok(c1.kind === 'code' && c1.execution?.success === true);
    assert.ok(c2.kind === 'code' && c2.execution?.success === false && c2.outputs[0].items[0].mime === 'application/vnd.code.notebook.error');
    assert.ok(c3.kind === 'code' && c3.execution === undefined && c3.outputs.length === 0);
    assert.doesNotMatch(r.stdout, /never/);
  });

  test('--help shows how to run it by the name the npm package installs; --version prints the version', async () => {
    const help = await runCli(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: autoencoder-notebooks run <notebook\.aenb> \[options\]\n/);
    assert.match(help.stdout, /npx autoencoder-notebooks run notebook\.aenb --set epochs=5/);
    assert.match(help.stdout, /--version +print the version/);
    const version = await runCli(['--version']);
    assert.equal(version.code, 0);
    const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { version: string };
    assert.equal(version.stdout, `${pkg.version}\n`);
    assert.equal(version.stderr, '');
    const none = await runCli(['--quiet']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /Which command\? The commands are "run" \(autoencoder-notebooks run <notebook\.aenb>\) and "check" \(autoencoder-notebooks check <notebook\.aenb>\.\.\.\)\./);
  });

  test('usage and file errors exit 2 with the reason', async () => {
    const missing = await runCli(['run', path.join(dir, 'nope.aenb')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read .*nope\.aenb: no such file/);
    const broken = path.join(dir, 'broken.aenb');
    await writeFile(broken, '{ "format": "aenb", "version": 1, "cells": [ }');
    const b = await runCli(['run', broken]);
    assert.equal(b.code, 2);
    assert.match(b.stderr, /broken\.aenb:1:\d+/);
    const unknown = await writeNotebook(path.join(dir, 'params.aenb'), [createCodeCell('const epochs = 1;\n', { tags: ['parameters'] })]);
    const u = await runCli(['run', unknown, '--set', 'epoch=3']);
    assert.equal(u.code, 2);
    assert.match(u.stderr, /Unknown parameter "epoch"/);
    const usage = await runCli(['run', unknown, '--out']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--out needs a value\.\n\nUsage: autoencoder-notebooks run <notebook\.aenb> \[options\]/);
  });
});
