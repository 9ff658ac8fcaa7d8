/**
 * The kernel process, driven through the real client over IPC (dist/kernel.js
 * must be built: `npm test` builds first).
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { AenbOutput } from '../../src/common/aenb';
import { TRAINING_MIME, SUMMARY_MIME, IMAGES_MIME, type TrainingPayload, type SummaryPayload, type ImagesPayload } from '../../src/outputs';
import { KernelClient, type ExecutionResult } from '../../src/kernel/client';
import { OutputCollector } from '../../src/cli/run';

const kernelPath = path.join(__dirname, '..', '..', '..', 'dist', 'kernel.js');

interface Ran {
  result: ExecutionResult;
  outputs: AenbOutput[];
  liveUpdates: number;
  progress: number;
}

async function run(
  client: KernelClient,
  source: string,
  cellName = 'Cell 1',
  language: 'typescript' | 'javascript' = 'typescript',
  onProgress?: () => void,
): Promise<Ran> {
  const collector = new OutputCollector();
  let liveUpdates = 0;
  let progress = 0;
  const result = await client.execute(
    { source, language, cellName },
    {
      onOutput: (o, key) => {
        if (collector.add(o, key).replaced && key?.startsWith('train:')) liveUpdates++;
      },
      onProgress: () => {
        progress++;
        onProgress?.();
      },
    },
  );
  return { result, outputs: collector.outputs, liveUpdates, progress };
}

const item = (o: AenbOutput, mime: string) => o.items.find((i) => i.mime === mime)?.data;
const texts = (r: Ran) => r.outputs.map((o) => item(o, 'text/plain') ?? item(o, 'application/vnd.code.notebook.stdout') ?? item(o, 'application/vnd.code.notebook.stderr'));

describe('kernel process', () => {
  let client: KernelClient;
  before(async () => {
    // A generous grace: an interrupt must end training at its next batch however busy the machine is.
    client = new KernelClient({ backend: 'wasm', kernelPath, interruptGraceMs: 60_000, progressIntervalMs: 50 });
    const info = await client.start();
    assert.equal(info.name, 'wasm');
    // The bundled kernel finds the wasm binaries in the layout that ships: dist/wasm beside dist/kernel.js.
    assert.equal(info.wasmDir, path.join(path.dirname(kernelPath), 'wasm'));
  });
  after(async () => {
    await client.shutdown();
  });

  test('declarations persist across cells, re-declaring const works, top-level await works', async () => {
    assert.ok((await run(client, 'const x: number = 1;\nlet { a, b: [c] } = { a: 2, b: [3] };\nclass K { v = 4 }\nfunction f() { return 5; }')).result.success);
    const r = await run(client, 'const y = await Promise.resolve(x + a + c + new K().v + f());\ny');
    assert.ok(r.result.success, JSON.stringify(r.result.error));
    assert.deepEqual(texts(r), ['15']);
    assert.ok((await run(client, 'const x = 10;')).result.success, 'a const can be declared again by re-running');
    assert.deepEqual(texts(await run(client, 'x * 2')), ['20']);
  });

  test('console output is captured in order, stdout and stderr apart', async () => {
    const r = await run(client, "console.log('one', 1);\nconsole.log('two');\nconsole.error('bad');\nconsole.log('three');");
    assert.deepEqual(texts(r), ['one 1\ntwo\n', 'bad\n', 'three\n']);
  });

  test('the last expression is displayed: tensors with shape and dtype, values, nothing for declarations', async () => {
    const t = await run(client, 'tf.tensor2d([[1, 2], [3, 4]])');
    assert.match(String(texts(t)[0]), /shape \[2, 2\]\s+dtype float32/);
    assert.match(String(texts(t)[0]), /\[3, 4\]/);
    assert.deepEqual(texts(await run(client, "({ a: 1, b: 'x' })")), ["{ a: 1, b: 'x' }"]);
    assert.equal((await run(client, 'const z = 3;')).outputs.length, 0);
  });

  test('a model as last expression shows its summary; show.* produce rich outputs with text fallbacks', async () => {
    const r = await run(
      client,
      [
        "const sae = new StackedAutoencoder({ inputShape: [28, 28], layers: [64, 36], name: 'Stacked' });",
        'show.summary(sae);',
        "show.markdown('**hello**');",
        "show.text('n =', 3);",
        'const imgs = tf.randomUniform([2, 28, 28], 0, 1, "float32", 1);',
        "show.images([{ title: 'Original', images: imgs, captions: ['a', 'b'] }]);",
        'sae',
      ].join('\n'),
    );
    assert.ok(r.result.success, JSON.stringify(r.result.error));
    assert.equal(r.outputs.length, 5);
    const summary = item(r.outputs[0], SUMMARY_MIME) as unknown as SummaryPayload;
    assert.equal(summary.totals.total, 53_428);
    assert.match(String(item(r.outputs[0], 'text/plain')), /Total params: 53,428/);
    assert.equal(item(r.outputs[1], 'text/markdown'), '**hello**');
    assert.equal(item(r.outputs[2], 'text/plain'), 'n = 3');
    const images = item(r.outputs[3], IMAGES_MIME) as unknown as ImagesPayload;
    assert.equal(images.rows[0].images.length, 2);
    assert.equal(images.rows[0].images[1].caption, 'b');
    assert.ok(typeof item(r.outputs[3], 'image/png') === 'string', 'PNG fallback');
    assert.ok(item(r.outputs[4], SUMMARY_MIME), 'the last expression (the model) shows as a summary');
  });

  test('fit shows live progress that replaces one output, ending in the history; verbose: 0 shows none', async () => {
    const setup = await run(
      client,
      [
        'const data = tf.randomUniform([2048, 8, 8], 0, 1, "float32", 2);',
        "const m = new Autoencoder({ inputShape: [8, 8], latentDim: 4, name: 'Small' });",
        'm.compile();',
      ].join('\n'),
    );
    assert.ok(setup.result.success, JSON.stringify(setup.result.error));
    const r = await run(client, 'const h = await m.fit(data, data, { epochs: 3, batchSize: 8 });');
    assert.ok(r.result.success, JSON.stringify(r.result.error));
    assert.equal(r.outputs.length, 1, 'one training output, updated in place');
    assert.ok(r.liveUpdates >= 3, `expected several live updates, got ${r.liveUpdates}`);
    assert.ok(r.progress >= 3);
    const p = item(r.outputs[0], TRAINING_MIME) as unknown as TrainingPayload;
    assert.equal(p.state, 'done');
    assert.equal(p.epoch, 3);
    assert.equal(p.history.loss.length, 3);
    assert.equal(p.batches?.count, 3 * 256);
    const quiet = await run(client, 'const hq = await m.fit(data, data, { epochs: 1, verbose: 0 });');
    assert.equal(quiet.outputs.length, 0);
  });

  test("tfjs's own model.fit (a hand-built model with a user-defined layer) also shows progress", async () => {
    const r = await run(
      client,
      [
        'class Scale extends tf.layers.Layer {',
        '  static className = "Scale";',
        '  w!: tf.LayerVariable;',
        '  build(shape: tf.Shape) { this.w = this.addWeight("w", [shape[shape.length - 1] as number], "float32", tf.initializers.ones()); }',
        '  call(x: tf.Tensor | tf.Tensor[]) { return tf.tidy(() => tf.mul(Array.isArray(x) ? x[0] : x, this.w.read())); }',
        '}',
        'const model = tf.sequential({ layers: [tf.layers.dense({ units: 4, inputShape: [6] }), new Scale({}), tf.layers.dense({ units: 6, activation: "sigmoid" })] });',
        "model.compile({ loss: 'meanSquaredError', optimizer: 'adam' });",
        'const xs = tf.randomUniform([256, 6]);',
        'const hist = await model.fit(xs, xs, { epochs: 2, batchSize: 32 });',
        'hist.history.loss.length',
      ].join('\n'),
    );
    assert.ok(r.result.success, JSON.stringify(r.result.error));
    // Said once, first: the user-defined layer keeps this model off the fast path.
    assert.match(String(texts(r)[0]), /^Training on the generic path \(slower\): the fast path does not handle layer 'scale_\w+' \(Scale\)/);
    assert.equal(texts(r).filter((t) => /generic path/.test(String(t))).length, 1);
    const p = item(r.outputs[1], TRAINING_MIME) as unknown as TrainingPayload;
    assert.equal(p.state, 'done');
    assert.equal(p.history.loss.length, 2);
    assert.equal(texts(r).at(-1), '2');
    // A model of supported layers says nothing and trains (on the fast path: see lean-layers.test.ts).
    const fast = await run(
      client,
      [
        'const fastModel = tf.sequential({ layers: [tf.layers.dense({ units: 4, inputShape: [6], activation: "relu" }), tf.layers.dense({ units: 6, activation: "sigmoid" })] });',
        "fastModel.compile({ loss: 'binaryCrossentropy', optimizer: 'adam' });",
        'const fastHistory = await fastModel.fit(xs, xs, { epochs: 2, batchSize: 32 });',
      ].join('\n'),
    );
    assert.ok(fast.result.success, JSON.stringify(fast.result.error));
    assert.equal(fast.outputs.length, 1, 'only the training output');
    assert.ok(item(fast.outputs[0], TRAINING_MIME));
    // Our own models say it too, when something keeps them off the fast path.
    const ours = await run(client, "const mae = new Autoencoder({ inputShape: [6], latentDim: 2 });\nmae.compile({ loss: 'mae' });\nconst maeHistory = await mae.fit(xs, xs, { epochs: 1, batchSize: 64 });");
    assert.ok(ours.result.success, JSON.stringify(ours.result.error));
    assert.match(String(texts(ours)[0]), /^Training on the generic path \(slower\): the fast path does not handle the loss meanAbsoluteError/);
  });

  test('errors show the message and the cell\'s own line numbers, for runtime and syntax errors', async () => {
    const r = await run(client, 'const ok = 1;\n\nfunction g(o: any) {\n  return o.missing.deep;\n}\ng({});', 'Cell 7');
    assert.equal(r.result.success, false);
    assert.equal(r.result.error?.name, 'TypeError');
    assert.match(r.result.error?.stack ?? '', /at g \(Cell 7:4:\d+\)/);
    assert.match(r.result.error?.stack ?? '', /Cell 7:6:1/);
    assert.doesNotMatch(r.result.error?.stack ?? '', /kernel\.js|node:internal/);
    const s = await run(client, 'const a = 1;\nconst b = ;', 'Cell 8');
    assert.equal(s.result.error?.name, 'SyntaxError');
    assert.match(s.result.error?.message ?? '', /Cell 8:2:\d+/);
    const imp = await run(client, "import fs from 'fs';", 'Cell 9');
    assert.equal(imp.result.success, false);
    assert.match(imp.result.error?.message ?? '', /fs/);
    assert.ok((await run(client, "import * as tfx from '@tensorflow/tfjs';\nimport { Autoencoder as AE } from 'autoencoder-notebooks';\ntypeof tfx.tensor + typeof AE")).result.success);
  });

  test('interrupt stops training at a batch boundary and keeps the model; the kernel lives on', async () => {
    const pid = client.pid;
    let interrupted: string | undefined;
    // Interrupt once training reports progress (an interrupt before the cell starts is another case).
    const r = await run(client, 'const h2 = await m.fit(data, data, { epochs: 500, batchSize: 8 });\nh2.stopped', 'Cell 1', 'typescript', () => {
      interrupted ??= client.interrupt();
    });
    assert.equal(interrupted, 'interrupting');
    assert.equal(client.pid, pid, 'the cell ended by itself: the kernel was not killed');
    assert.equal(r.result.interrupted, true);
    assert.equal(r.result.kernelLost, undefined);
    const p = item(r.outputs[0], TRAINING_MIME) as unknown as TrainingPayload;
    assert.equal(p.state, 'stopped');
    const after = await run(client, 'h2.stopped && h2.batchLosses.length > 0');
    assert.deepEqual(texts(after), ['true'], 'state survives an interrupt');
  });

  test('cells have `callbacks`: the training output shows each checkpoint written; loadCheckpoint reads one back', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'aenb-kernel-ckpt-'));
    try {
      const source = (epochs: number) =>
        `await m.fit(data.slice(0, 64), data.slice(0, 64), { epochs: ${epochs}, batchSize: 16, seed: 1, callbacks: [callbacks.modelCheckpoint({ dir: ${JSON.stringify(path.join(dir, 'ckpt'))}, keep: 1 }), callbacks.backupAndRestore({ dir: ${JSON.stringify(path.join(dir, 'backup'))} })] });`;
      const first = await run(client, `${source(2)}\nm.stopTraining = false;`);
      assert.ok(first.result.success, JSON.stringify(first.result.error));
      const p = item(first.outputs[0], TRAINING_MIME) as unknown as TrainingPayload;
      assert.equal(p.state, 'done');
      assert.deepEqual(p.events?.map((e) => e.message.replace(dir, '<dir>')), [
        'Checkpoint after epoch 1: <dir>/ckpt/epoch-0001.ckpt',
        'Backup after epoch 1: <dir>/backup/backup.ckpt',
        'Checkpoint after epoch 2: <dir>/ckpt/epoch-0002.ckpt',
        'Backup after epoch 2: <dir>/backup/backup.ckpt',
      ]);
      assert.match(item(first.outputs[0], 'text/plain') as string, /\nBackup after epoch 2: .*backup\.ckpt\nDone: 2 epochs/, 'the text fallback names the last checkpoint');
      assert.deepEqual(readdirSync(dir).sort(), ['ckpt'], 'the backup is gone once training completed');
      assert.deepEqual(readdirSync(path.join(dir, 'ckpt')), ['epoch-0002.ckpt'], 'keep: 1');
      const loaded = await run(client, `(await loadCheckpoint(m, ${JSON.stringify(path.join(dir, 'ckpt'))})).epoch`);
      assert.deepEqual(texts(loaded), ['2']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an endless loop is ended by killing the kernel, and the next cell gets a fresh one', async () => {
    const looping = new KernelClient({ backend: 'wasm', kernelPath, interruptGraceMs: 1500 });
    try {
      await looping.start();
      const pid = looping.pid;
      const running = run(looping, 'while (true) {}');
      while (looping.state !== 'busy') await new Promise((r) => setImmediate(r));
      // The interrupt may reach the kernel before or after the loop starts: either way the loop never yields.
      assert.equal(looping.interrupt(), 'interrupting');
      const r = await running;
      assert.equal(r.result.success, false);
      assert.equal(r.result.kernelLost, true);
      assert.equal(r.result.error?.name, 'KernelRestarted');
      assert.match(r.result.error?.message ?? '', /did not stop within 1\.5 s/);
      const next = await run(looping, 'typeof m');
      assert.deepEqual(texts(next), ['undefined'], 'old state is gone');
      assert.notEqual(looping.pid, pid);
    } finally {
      await looping.shutdown();
    }
  });

  test('a kernel crash is reported on the running cell and the next run starts a fresh kernel', async () => {
    const r = await run(client, 'process.kill(process.pid, "SIGKILL");\nawait new Promise(() => {});');
    assert.equal(r.result.success, false);
    assert.equal(r.result.error?.name, 'KernelDied');
    assert.match(r.result.error?.message ?? '', /ended unexpectedly \(signal SIGKILL\)/);
    const next = await run(client, '1 + 1');
    assert.deepEqual(texts(next), ['2']);
  });

  test('restart gives a new, empty kernel', async () => {
    await run(client, 'const kept = 1;');
    await client.restart();
    assert.deepEqual(texts(await run(client, 'typeof kept')), ['undefined']);
  });
});
