// Errors as the headless runner reports them: in the terminal and in the saved
// notebook. Errors thrown inside library calls name the cell's own line; stray
// asynchronous errors fail the run without killing the kernel; cells are
// numbered one way everywhere; a failed run never mixes in stale outputs.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createCodeCell, createMarkdownCell, createNotebook, parseNotebook, serializeNotebook, type AenbCodeCell, type AenbNotebook } from '../../src/common/aenb';
import { runCli, writeNotebook } from './harness';

const ERROR_MIME = 'application/vnd.code.notebook.error';

interface ErrorData {
  name: string;
  message: string;
  stack?: string;
}

function codeCell(nb: AenbNotebook, index: number): AenbCodeCell {
  const c = nb.cells[index];
  assert.equal(c.kind, 'code', `cell ${index + 1} is a code cell`);
  return c as AenbCodeCell;
}

function errorOf(cell: AenbCodeCell): ErrorData {
  const item = cell.outputs.flatMap((o) => o.items).find((i) => i.mime === ERROR_MIME);
  assert.ok(item, `an error output in ${JSON.stringify(cell.outputs).slice(0, 400)}`);
  return item.data as unknown as ErrorData;
}

/** Kernel plumbing never shows in a stack a user sees. */
const PLUMBING = /runInThisContext|KernelRuntime|AsyncLocalStorage|node:internal|processTicksAndRejections/;

describe('errors in the headless runner', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'aenb-cli-errors-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const backend of ['wasm', 'cpu']) {
    test(`an error thrown inside a TensorFlow.js call names the cell and the line that made the call (${backend})`, async () => {
      const file = await writeNotebook(path.join(dir, `matmul-${backend}.aenb`), [
        'const x = 1;\n',
        'const t = tf.ones([2, 3]);\nconst u = tf.ones([4, 2]);\nconst bad = tf.matMul(t, u);\n',
      ]);
      const out = path.join(dir, `matmul-${backend}.out.aenb`);
      const r = await runCli(['run', file, '--backend', backend, '--out', out]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /Cell 2 failed at line 3: Error: Error in matMul: inner shapes \(3\) and \(4\)/);
      const e = errorOf(codeCell(parseNotebook(await readFile(out, 'utf8')), 1));
      const lines = (e.stack ?? '').split('\n');
      assert.match(lines[0], /^Error: Error in matMul: inner shapes/);
      // The deepest frame of the cell's own code comes right after the message...
      assert.match(lines[1], /^ {4}at Cell 2:3:\d+$/, e.stack);
      // ...and the library frames are still there, after the cell's own.
      const library = lines.findIndex((l) => /library frames/.test(l));
      assert.ok(library > 1, `a library section after the cell frames:\n${e.stack}`);
      assert.ok(lines.slice(library + 1).some((l) => /^ {4}at .*matMul/i.test(l)), e.stack);
      assert.doesNotMatch(e.stack ?? '', PLUMBING, e.stack);
    });
  }

  test('an error deep inside model.fit names the line of the cell that called fit', async () => {
    const file = await writeNotebook(path.join(dir, 'fit.aenb'), [
      [
        'const model = tf.sequential({ layers: [tf.layers.dense({ units: 4, inputShape: [6] }), tf.layers.dense({ units: 6 })] });',
        "model.compile({ loss: 'meanSquaredError', optimizer: 'sgd' });",
        'const xs = tf.ones([8, 6]);',
        'const ys = tf.ones([8, 5]);',
        'await model.fit(xs, ys, { epochs: 1, verbose: 0 });',
      ].join('\n'),
    ]);
    const out = path.join(dir, 'fit.out.aenb');
    const r = await runCli(['run', file, '--backend', 'wasm', '--out', out]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /Cell 1 failed at line 5: /);
    const e = errorOf(codeCell(parseNotebook(await readFile(out, 'utf8')), 0));
    assert.match(e.stack ?? '', /\n {4}at (async )?Cell 1:5:\d+\n/, e.stack);
    assert.doesNotMatch(e.stack ?? '', PLUMBING, e.stack);
  });

  test('training that diverges: the terminal says it failed, and the saved chart ends as an error, not "running"', async () => {
    const file = await writeNotebook(path.join(dir, 'diverge.aenb'), [
      [
        'const x = tf.randomUniform([64, 8], 0, 1, "float32", 3);',
        'const a = new Autoencoder({ inputShape: [8], latentDim: 3 });',
        'let calls = 0;',
        'a.compile({ optimizer: "adam", loss: (t, p) => (++calls > 5 ? tf.mean(tf.log(tf.sub(p, 2))) : tf.losses.meanSquaredError(t, p)) as tf.Scalar });',
        'await a.fit(x, x, { epochs: 3, batchSize: 16 });',
      ].join('\n'),
    ]);
    const out = path.join(dir, 'diverge.out.aenb');
    const r = await runCli(['run', file, '--backend', 'wasm', '--out', out]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /Training failed: epoch 2\/3/);
    assert.match(r.stderr, /Training diverged: the loss became NaN at epoch 2, batch 2/);
    const cell = codeCell(parseNotebook(await readFile(out, 'utf8')), 0);
    const chart = cell.outputs.flatMap((o) => o.items).find((i) => i.mime === 'application/vnd.aenb.training+json')?.data as { state?: string; message?: string } | undefined;
    assert.equal(chart?.state, 'error');
    assert.match(chart?.message ?? '', /^Training diverged: the loss became NaN at epoch 2, batch 2\./);
  });

  test('a rejected promise nobody awaits fails its cell, with message and stack, and the kernel lives on (wasm)', async () => {
    const file = await writeNotebook(path.join(dir, 'reject.aenb'), ["const first = 1;\nPromise.reject(new Error('stray rejection'));\n'returned'\n", "console.log('second cell ran');\n"]);
    const out = path.join(dir, 'reject.out.aenb');
    const r = await runCli(['run', file, '--backend', 'wasm', '--out', out]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /Cell 1 failed at line 2: Error: stray rejection/);
    assert.doesNotMatch(r.stderr, /ended unexpectedly|memory/);
    assert.doesNotMatch(r.stdout, /second cell ran/);
    const nb = parseNotebook(await readFile(out, 'utf8'));
    const c1 = codeCell(nb, 0);
    assert.equal(c1.execution?.success, false);
    const e = errorOf(c1);
    assert.equal(e.message, 'stray rejection');
    assert.match(e.stack ?? '', /at Cell 1:2:\d+/);
    assert.equal(c1.outputs.filter((o) => o.items.some((i) => i.mime === ERROR_MIME)).length, 1, 'shown once');
  });

  test('an error thrown by a timer after the last cell finished fails the run and is shown on that cell (wasm)', async () => {
    const file = await writeNotebook(path.join(dir, 'late.aenb'), ['const a = 1;\n', "setTimeout(() => {\n  throw new Error('late');\n}, 10);\n'scheduled'\n"]);
    const out = path.join(dir, 'late.out.aenb');
    const r = await runCli(['run', file, '--backend', 'wasm', '--out', out]);
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, /Cell 2 failed at line 2: Error: late/);
    const c2 = codeCell(parseNotebook(await readFile(out, 'utf8')), 1);
    assert.equal(c2.execution?.success, false);
    assert.equal(errorOf(c2).message, 'late');
    assert.match(errorOf(c2).stack ?? '', /at Timeout\._onTimeout \(Cell 2:2:\d+\)|at Cell 2:2:\d+/);
  });

  test('a stray error on the cpu backend fails the cell it is shown on', async () => {
    const file = await writeNotebook(path.join(dir, 'cpu-stray.aenb'), ["Promise.reject(new Error('x'));\n1\n", "console.log('second cell ran');\n"]);
    const out = path.join(dir, 'cpu-stray.out.aenb');
    const r = await runCli(['run', file, '--backend', 'cpu', '--out', out]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /Cell 1 failed at line 1: Error: x/);
    assert.doesNotMatch(r.stdout, /second cell ran/);
    const c1 = codeCell(parseNotebook(await readFile(out, 'utf8')), 0);
    assert.equal(c1.execution?.success, false);
    assert.equal(errorOf(c1).message, 'x');
  });

  test('cells are numbered one way: every cell from the top, markdown included, the injected parameters not counted', async () => {
    const file = await writeNotebook(path.join(dir, 'numbers.aenb'), [
      '# Title\n',
      createCodeCell('const n = 1;\n', { tags: ['parameters'] }),
      '## Next\n',
      'const k = n * 2;\nnull.x;\n',
    ]);
    const out = path.join(dir, 'numbers.out.aenb');
    const r = await runCli(['run', file, '--backend', 'cpu', '--set', 'n=2', '--out', out]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /Cell 2\/4/);
    assert.match(r.stdout, /Cell 4\/4/);
    assert.doesNotMatch(r.stdout, /\[\d+\/\d+\]/, 'no second numbering in the progress lines');
    assert.match(r.stderr, /Cell 4 failed at line 2: TypeError/);
    const nb = parseNotebook(await readFile(out, 'utf8'));
    // The executed notebook holds the injected cell, yet the failing cell keeps its number.
    assert.equal(nb.cells.length, 5);
    assert.match(errorOf(codeCell(nb, 4)).stack ?? '', /at Cell 4:2:\d+/);
  });

  test('after a failed run, cells that did not run carry no outputs from an earlier run (notebook and HTML report)', async () => {
    const stale = (source: string, printed: string, order: number): AenbCodeCell => ({
      ...createCodeCell(source),
      outputs: [{ items: [{ mime: 'application/vnd.code.notebook.stdout', data: `${printed}\n` }] }],
      execution: { order, success: true, durationMs: 5, startedAt: '2025-01-01T00:00:00.000Z' },
    });
    const input = createNotebook([
      createMarkdownCell('# Stale\n'),
      stale("console.log('fresh ' + 'one');\n", 'printed by an earlier run: one', 1),
      stale('null.x;\n', 'printed by an earlier run: two', 2),
      stale("console.log('three');\n", 'printed by an earlier run: three', 3),
    ]);
    const file = path.join(dir, 'stale.aenb');
    await writeFile(file, serializeNotebook(input));
    const out = path.join(dir, 'stale.out.aenb');
    const html = path.join(dir, 'stale.html');
    const r = await runCli(['run', file, '--backend', 'cpu', '--out', out, '--html', html]);
    assert.equal(r.code, 1, r.stderr);
    const nb = parseNotebook(await readFile(out, 'utf8'));
    const [c1, c2, c3] = [codeCell(nb, 1), codeCell(nb, 2), codeCell(nb, 3)];
    assert.equal(c1.execution?.success, true);
    assert.equal(c2.execution?.success, false);
    assert.ok(!JSON.stringify(c2.outputs).includes('earlier run'), 'the failed cell shows only this run');
    assert.deepEqual(c3.outputs, [], 'a cell that did not run keeps no output of an earlier run');
    assert.equal(c3.execution, undefined);
    const report = await readFile(html, 'utf8');
    assert.match(report, /fresh one/);
    assert.doesNotMatch(report, /printed by an earlier run/);
  });
});
