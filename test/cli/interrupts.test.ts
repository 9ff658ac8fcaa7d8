// Ctrl-C in the headless runner, sent the way a terminal sends it (to the
// whole foreground process group, kernel included) and to the runner alone;
// during training, while a cell loads data, and during a long synchronous
// computation. Every wait is for something the runner prints.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseNotebook, type AenbCodeCell } from '../../src/common/aenb';
import { CliRun, writeNotebook } from './harness';

const TRAINING_MIME = 'application/vnd.aenb.training+json';

const LONG_TRAINING = [
  'const x = tf.randomUniform([4096, 8, 8]);',
  'const m = new Autoencoder({ inputShape: [8, 8], latentDim: 4 });',
  'm.compile();',
  'const h = await m.fit(x, x, { epochs: 1000, batchSize: 8 });',
  '',
].join('\n');

describe('interrupting the headless runner', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'aenb-cli-interrupts-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function trainingState(file: string, cell = 0): Promise<string | undefined> {
    const c = parseNotebook(await readFile(file, 'utf8')).cells[cell] as AenbCodeCell;
    const item = c.outputs.flatMap((o) => o.items).find((i) => i.mime === TRAINING_MIME);
    return (item?.data as { state?: string } | undefined)?.state;
  }

  for (const how of ['the runner alone', 'the whole process group (a terminal)'] as const) {
    test(`one Ctrl-C to ${how} stops training at the next batch and keeps the model`, async () => {
      const group = how !== 'the runner alone';
      const file = await writeNotebook(path.join(dir, `train-${group ? 'group' : 'runner'}.aenb`), [
        LONG_TRAINING,
        "console.log('kept:', h.stopped, m.predict(x.slice([0], [1])).shape.join('x'));\n",
      ]);
      const out = path.join(dir, `train-${group ? 'group' : 'runner'}.out.aenb`);
      const run = new CliRun(['run', file, '--backend', 'wasm', '--out', out], { detached: group });
      await run.waitFor(/Epoch 1\/1000/);
      if (group) run.signalGroup('SIGINT');
      else run.signal('SIGINT');
      const r = await run.finished();
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stdout, /Training stopped: epoch \d+\/1000/);
      assert.match(r.stderr, /Cell 1 was interrupted/);
      assert.doesNotMatch(r.stderr, /ended unexpectedly|memory|Stopping the kernel/);
      assert.equal(await trainingState(out), 'stopped');
    });
  }

  test('an interrupt while a cell loads data stops the run: no later cell runs, exit 1', async () => {
    const file = await writeNotebook(path.join(dir, 'load.aenb'), [
      "console.log('loading');\nconst [[xTrain]] = await datasets.mnist.loadData();\nconsole.log('loaded', xTrain.shape);\n",
      "console.log('the next cell ran');\n",
    ]);
    const run = new CliRun(['run', file, '--backend', 'wasm', '--cache-dir', path.join(dir, 'cache'), '--out', path.join(dir, 'load.out.aenb')], { detached: true });
    await run.waitFor(/loading/);
    run.signalGroup('SIGINT');
    const r = await run.finished();
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, /Cell 1 was interrupted/);
    assert.doesNotMatch(r.stdout, /the next cell ran/);
    const nb = parseNotebook(await readFile(path.join(dir, 'load.out.aenb'), 'utf8'));
    assert.equal((nb.cells[1] as AenbCodeCell).execution, undefined);
  });

  test('an interrupt during a long synchronous computation is not lost: the cell ends interrupted, no later cell runs', async () => {
    const file = await writeNotebook(path.join(dir, 'busy.aenb'), [
      "const t0 = Date.now();\nwhile (Date.now() - t0 < 2000) {}\n'busy done'\n",
      "console.log('the next cell ran');\n",
    ]);
    const out = path.join(dir, 'busy.out.aenb');
    const run = new CliRun(['run', file, '--backend', 'cpu', '--out', out]);
    // Printed right before the first cell is sent to the kernel, in the same turn of the runner's event loop.
    await run.waitFor(/Kernel backend/);
    run.signal('SIGINT');
    const r = await run.finished();
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, /Cell 1 was interrupted/);
    assert.doesNotMatch(r.stdout, /the next cell ran/);
    const nb = parseNotebook(await readFile(out, 'utf8'));
    assert.equal((nb.cells[0] as AenbCodeCell).execution?.success, false);
    assert.equal((nb.cells[1] as AenbCodeCell).execution, undefined);
  });

  test('an interrupt before the first cell starts (while the kernel starts) runs no cell', async () => {
    const file = await writeNotebook(path.join(dir, 'early.aenb'), ["console.log('first cell ran');\n"]);
    const run = new CliRun(['run', file, '--backend', 'wasm', '--out', path.join(dir, 'early.out.aenb')], { detached: true });
    await run.waitFor(/Starting the kernel/);
    run.signalGroup('SIGINT');
    const r = await run.finished();
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    // The kernel takes far longer to start than a signal to arrive; should the
    // machine stall the runner until the kernel is ready, the cell is interrupted instead.
    if (/Cell 1 was interrupted/.test(r.stderr)) return;
    // Before the kernel is ready (the signal also reached it, as a terminal's does) or before the cell was sent.
    assert.match(r.stderr, /Interrupted before Cell 1 ran|Interrupted while the kernel started: no cell ran/);
    assert.doesNotMatch(r.stdout, /first cell ran/);
  });
});
