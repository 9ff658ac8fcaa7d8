/** The headless runner, as a user runs it: `node dist/cli.js run ...` (dist must be built). */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createCodeCell, createMarkdownCell, createNotebook, parseNotebook, serializeNotebook } from '../../src/common/aenb';
import { injectParameters, parseAssignment, UsageError } from '../../src/cli/run';
import { parseArgs } from '../../src/cli/main';

const root = path.join(__dirname, '..', '..', '..');
const cli = path.join(root, 'dist', 'cli.js');

function runCli(args: string[], opts: { signalAfterMs?: number; signals?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    if (opts.signalAfterMs !== undefined) {
      const send = (left: number) => {
        if (left <= 0 || child.exitCode !== null) return;
        child.kill('SIGINT');
        setTimeout(() => send(left - 1), 500);
      };
      const waitForTraining = () => (stdout.includes('Epoch') ? setTimeout(() => send(opts.signals ?? 1), opts.signalAfterMs) : setTimeout(waitForTraining, 50));
      waitForTraining();
    }
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('argument handling', () => {
  test('--set values are JSON when they parse, else strings; names must be identifiers', () => {
    assert.deepEqual(parseAssignment('epochs=5'), ['epochs', 5]);
    assert.deepEqual(parseAssignment('layers=[32,16]'), ['layers', [32, 16]]);
    assert.deepEqual(parseAssignment('name=Vanilla'), ['name', 'Vanilla']);
    assert.deepEqual(parseAssignment('flag=true'), ['flag', true]);
    assert.throws(() => parseAssignment('epochs'), /needs name=value/);
    assert.throws(() => parseAssignment('2x=1'), /not a valid variable name/);
  });

  test('options are checked', () => {
    const a = parseArgs(['run', 'nb.aenb', '--set', 'epochs=1', '--set=batchSize=8', '--backend', 'cpu', '--out=o.aenb']);
    assert.ok(a !== 'help');
    assert.deepEqual(a.sets, [['epochs', 1], ['batchSize', 8]]);
    assert.equal(a.backend, 'cpu');
    assert.equal(a.out, 'o.aenb');
    assert.equal(parseArgs(['--help']), 'help');
    assert.throws(() => parseArgs(['exec', 'x']), /Unknown command "exec"/);
    assert.throws(() => parseArgs(['run', 'a.aenb', '--backend', 'gpu']), /--backend must be auto, tensorflow, wasm or cpu/);
    assert.throws(() => parseArgs(['run', 'a.aenb', '--bogus']), /Unknown option --bogus/);
    assert.throws(() => parseArgs(['run']), /Which notebook/);
    assert.throws(() => parseArgs(['run', 'a.aenb', '--out']), /--out needs a value/);
    const t = parseArgs(['run', 'nb.aenb', '--threads', '3', '--fma=off']);
    assert.ok(t !== 'help');
    assert.equal(t.threads, 3);
    assert.equal(t.fma, false);
    const d = parseArgs(['run', 'nb.aenb', '--threads=auto', '--fma', 'on']);
    assert.ok(d !== 'help');
    assert.equal(d.threads, 'auto');
    assert.equal(d.fma, undefined, 'on is the default: FMA where the runtime has it');
    assert.throws(() => parseArgs(['run', 'a.aenb', '--threads', '0']), /--threads must be auto or a whole number from 1 to 64; got "0"/);
    assert.throws(() => parseArgs(['run', 'a.aenb', '--fma', 'maybe']), /--fma must be on or off/);
  });

  test('parameters are injected after the parameters cell; unknown names are refused with the known ones', () => {
    const nb = createNotebook([
      createMarkdownCell('# t\n'),
      createCodeCell('const epochs = 50;\nconst lr: number = 0.001;\n', { tags: ['parameters'] }),
      createCodeCell('epochs\n'),
    ]);
    const out = injectParameters(nb, [['epochs', 2]]);
    assert.equal(out.cells.length, 4);
    assert.deepEqual(out.cells[2].metadata.tags, ['injected-parameters']);
    assert.match(out.cells[2].source, /const epochs = 2;/);
    // Injecting again replaces the earlier injected cell.
    assert.equal(injectParameters(out, [['lr', 0.01]]).cells.length, 4);
    assert.throws(() => injectParameters(nb, [['epoch', 2]]), (e: Error) => e instanceof UsageError && /Unknown parameter "epoch".*"epochs", "lr"/.test(e.message));
    assert.throws(() => injectParameters(createNotebook([createCodeCell('1')]), [['a', 1]]), /no cell tagged "parameters"/);
  });
});

describe('running notebooks', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'aenb-cli-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const write = async (name: string, cells: ReturnType<typeof createCodeCell>[]) => {
    const file = path.join(dir, name);
    await writeFile(file, serializeNotebook(createNotebook(cells)));
    return file;
  };

  test('a good notebook exits 0 and writes every output, with parameters applied', async () => {
    const file = await write('good.aenb', [
      createCodeCell('const n = 3;\n', { tags: ['parameters'] }),
      createCodeCell("console.log('n is', n);\nn * 2\n"),
    ]);
    const out = path.join(dir, 'good.out.aenb');
    const r = await runCli(['run', file, '--backend', 'cpu', '--set', 'n=5', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /n is 5/);
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
    const file = await write('bad.aenb', [createCodeCell('const a = 1;\n'), createCodeCell('const b = 2;\nnull.x;\n'), createCodeCell("console.log('never');\n")]);
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

  test('usage and file errors exit 2 with the reason', async () => {
    const missing = await runCli(['run', path.join(dir, 'nope.aenb')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read .*nope\.aenb: no such file/);
    const broken = path.join(dir, 'broken.aenb');
    await writeFile(broken, '{ "format": "aenb", "version": 1, "cells": [ }');
    const b = await runCli(['run', broken]);
    assert.equal(b.code, 2);
    assert.match(b.stderr, /broken\.aenb:1:\d+/);
    const unknown = await write('params.aenb', [createCodeCell('const epochs = 1;\n', { tags: ['parameters'] })]);
    const u = await runCli(['run', unknown, '--set', 'epoch=3']);
    assert.equal(u.code, 2);
    assert.match(u.stderr, /Unknown parameter "epoch"/);
  });

  test('Ctrl-C stops training at the next batch, exits 1 and writes the interrupted notebook', async () => {
    const file = await write('long.aenb', [
      createCodeCell(
        "const x = tf.randomUniform([4096, 8, 8]);\nconst m = new Autoencoder({ inputShape: [8, 8], latentDim: 4 });\nm.compile();\nconst h = await m.fit(x, x, { epochs: 1000, batchSize: 8 });\n",
      ),
      createCodeCell("console.log('after');\n"),
    ]);
    const t0 = Date.now();
    const r = await runCli(['run', file, '--backend', 'wasm'], { signalAfterMs: 300 });
    assert.ok(Date.now() - t0 < 30_000);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /Interrupting/);
    assert.match(r.stderr, /Cell 1 was interrupted/);
    const nb = parseNotebook(await readFile(path.join(dir, 'long.executed.aenb'), 'utf8'));
    const c1 = nb.cells[0];
    assert.ok(c1.kind === 'code');
    if (c1.kind !== 'code') return;
    const training = c1.outputs[0].items.find((i) => i.mime === 'application/vnd.aenb.training+json')?.data as { state: string } | undefined;
    assert.equal(training?.state, 'stopped');
  });
});
