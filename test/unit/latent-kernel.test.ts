/**
 * The latent-space outputs through the real kernel process (dist/kernel.js):
 * show.latent in a cell (awaited or not), its errors at the cell's line,
 * UMAP's progress replaced in place by the map, callbacks.latentView with our
 * fit and with tfjs's own model.fit, and the `latent.decode` request an
 * explorer sends when its decoder stays in the kernel.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import type { AenbOutput } from '../../src/common/aenb';
import { base64ToBytes, encodeFloat32, ERRORS_MIME, LATENT_MIME, type LatentPayload } from '../../src/outputs';
import { KernelClient, type ExecutionResult } from '../../src/kernel/client';
import { KeyedOutputs as OutputCollector } from '../../src/common/keyed-outputs';

const kernelPath = path.join(__dirname, '..', '..', '..', 'dist', 'kernel.js');

interface Ran {
  result: ExecutionResult;
  outputs: AenbOutput[];
  /** Every output as it arrived: [key, mimes]. */
  arrivals: [string | undefined, string[]][];
}

async function run(client: KernelClient, source: string): Promise<Ran> {
  const collector = new OutputCollector();
  const arrivals: [string | undefined, string[]][] = [];
  const result = await client.execute(
    { source, language: 'typescript', cellName: 'Cell 1' },
    {
      onOutput: (o, key) => {
        arrivals.push([key, o.items.map((i) => i.mime)]);
        collector.add(o, key);
      },
    },
  );
  return { result, outputs: collector.outputs, arrivals };
}

const payloads = (r: Ran, mime: string) => r.outputs.flatMap((o) => o.items.filter((i) => i.mime === mime).map((i) => i.data as unknown as LatentPayload));

describe('latent-space outputs in the kernel', () => {
  let client: KernelClient;
  before(async () => {
    client = new KernelClient({ backend: 'wasm', kernelPath, interruptGraceMs: 30_000, progressIntervalMs: 50 });
    await client.start();
    const setup = await run(
      client,
      [
        'const n = 300;',
        "const x = tf.tidy(() => tf.randomUniform([n, 8, 8], 0, 1, 'float32', 1).mul(tf.linspace(0, 1, 8).reshape([1, 1, 8])));",
        'const y = tf.tensor1d(Array.from({ length: n }, (_, i) => i % 3), "int32");',
        'const ae = new Autoencoder({ inputShape: [8, 8], latentDim: 4, seed: 1 });',
        'ae.compile();',
      ].join('\n'),
    );
    assert.ok(setup.result.success, JSON.stringify(setup.result.error));
  });
  after(async () => {
    await client.shutdown();
  });

  test('show.latent not awaited, between two other outputs: the cell waits for it', async () => {
    const r = await run(client, "console.log('before');\nshow.latent(ae, x, { labels: y });\nconsole.log('after');");
    assert.ok(r.result.success, JSON.stringify(r.result.error));
    const [p] = payloads(r, LATENT_MIME);
    assert.ok(p, 'the map was shown');
    assert.equal(p.count, 300);
    assert.deepEqual(p.classNames, ['0', '1', '2']);
    assert.ok(p.decoder, 'a dense decoder travels with the output');
  });

  test('a bad argument fails the cell at its own line, with the argument named', async () => {
    const r = await run(client, 'const a = 1;\nshow.latent(ae, x, { labels: y.slice(0, 10) });');
    assert.equal(r.result.success, false);
    assert.match(r.result.error?.message ?? '', /show\.latent: labels has 10 entries, but x has 300 samples/);
    assert.match(r.result.error?.stack ?? '', /Cell 1:2/);
    const r2 = await run(client, 'show.latent(tf.sequential({ layers: [tf.layers.dense({ units: 64, inputShape: [64] })] }), x.reshape([300, 64]));');
    assert.match(r2.result.error?.message ?? '', /show\.latent: model: the tfjs model "\w+" has no separate encoder/);
  });

  test('UMAP: progress under the cell, replaced in place by the map', async () => {
    const r = await run(client, "await show.latent(ae, x, { labels: y, method: 'umap', n: 200 });");
    assert.ok(r.result.success, JSON.stringify(r.result.error));
    const keys = new Set(r.arrivals.map(([k]) => k));
    assert.equal(keys.size, 1, `one output, replaced in place (keys ${[...keys].join(', ')})`);
    assert.ok(r.arrivals.some(([, mimes]) => mimes.includes('text/plain') && !mimes.includes(LATENT_MIME)), 'progress text came first');
    assert.equal(r.outputs.length, 1);
    assert.equal(payloads(r, LATENT_MIME)[0].method, 'umap');
  });

  test('callbacks.latentView with our fit: one live map, redrawn at each epoch', async () => {
    const r = await run(client, 'await ae.fit(x, x, { epochs: 2, batchSize: 50, callbacks: [callbacks.latentView(x, { labels: y, n: 100 })] });');
    assert.ok(r.result.success, JSON.stringify(r.result.error));
    const maps = r.arrivals.filter(([, m]) => m.includes(LATENT_MIME));
    assert.equal(maps.length, 4, 'epoch 0, 1 and 2, then the same map saying training is done');
    assert.equal(new Set(maps.map(([k]) => k)).size, 1);
    const [p] = payloads(r, LATENT_MIME);
    assert.deepEqual(p.epoch, { epoch: 2, epochs: 2, state: 'done' });
    assert.equal(p.title, 'Latent space after training');
  });

  test('callbacks.latentView: a fit that fails leaves its map saying the run was interrupted, once the cell ends', async () => {
    const r = await run(
      client,
      "await ae.fit(x, x, { epochs: 3, batchSize: 50, callbacks: [callbacks.latentView(x, { n: 60 }), { onEpochEnd: async (e) => { if (e === 0) throw new Error('stop here'); } }] });",
    );
    assert.equal(r.result.success, false);
    assert.match(JSON.stringify(r.result.error), /stop here/);
    const [p] = payloads(r, LATENT_MIME);
    assert.deepEqual(p.epoch, { epoch: 1, epochs: 3, state: 'interrupted' });
  });

  test("callbacks.latentView with tfjs's own model.fit on nested encoder and decoder models", async () => {
    const r = await run(
      client,
      [
        'const enc = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [8, 8] }), tf.layers.dense({ units: 3, activation: "relu" })] });',
        'const dec = tf.sequential({ layers: [tf.layers.dense({ units: 64, inputShape: [3], activation: "sigmoid" }), tf.layers.reshape({ targetShape: [8, 8] })] });',
        'const whole = tf.sequential({ layers: [enc, dec] });',
        "whole.compile({ loss: 'meanSquaredError', optimizer: 'adam' });",
        'await whole.fit(x, x, { epochs: 2, batchSize: 50, callbacks: [callbacks.latentView(x, { n: 60 })] });',
        'show.errors(whole, x, { labels: y, k: 3 });',
      ].join('\n'),
    );
    assert.ok(r.result.success, JSON.stringify(r.result.error));
    const [p] = payloads(r, LATENT_MIME);
    assert.deepEqual(p.epoch, { epoch: 2, epochs: 2, state: 'done' });
    assert.equal(p.latentDim, 3);
    assert.ok(r.outputs.some((o) => o.items.some((i) => i.mime === ERRORS_MIME)), 'the errors of the whole model');
  });

  test('latent.decode: a conv decoder decodes in the kernel, as the explorer asks; requests it cannot answer say why', async () => {
    const r = await run(
      client,
      [
        'const cenc = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [8, 8] }), tf.layers.dense({ units: 3 })] });',
        'const cdec = tf.sequential({ layers: [tf.layers.dense({ units: 32, inputShape: [3] }), tf.layers.reshape({ targetShape: [4, 4, 2] }),',
        '  tf.layers.upSampling2d({ size: [2, 2] }), tf.layers.conv2d({ filters: 1, kernelSize: 3, padding: "same", activation: "sigmoid" }), tf.layers.reshape({ targetShape: [8, 8] })] });',
        'show.latent({ encoder: cenc, decoder: cdec }, x, { n: 50 });',
        'console.log(JSON.stringify(Array.from(cdec.predict(tf.tensor2d([[0.5, -1, 2]])).dataSync(), (v) => Math.round(v * 255))));',
      ].join('\n'),
    );
    assert.ok(r.result.success, JSON.stringify(r.result.error));
    const [p] = payloads(r, LATENT_MIME);
    assert.ok(p.remote && !p.decoder, 'the decoder stays in the kernel');
    const ok = await client.request('latent.decode', { model: p.remote.model, kernel: p.remote.kernel, codes: encodeFloat32([0.5, -1, 2]), count: 1 });
    assert.ok(ok.ok, JSON.stringify(ok));
    assert.equal(ok.value.count, 1);
    const px = base64ToBytes(ok.value.pixels);
    assert.equal(px.length, 64);
    const printed = r.outputs.flatMap((o) => o.items).find((i) => i.mime === 'application/vnd.code.notebook.stdout');
    const expected = JSON.parse(String(printed?.data)) as number[];
    for (let i = 0; i < 64; i++) assert.ok(Math.abs(px[i] - expected[i]) <= 1, `pixel ${i}: ${px[i]} vs ${expected[i]}`);
    const stale = await client.request('latent.decode', { model: p.remote.model, kernel: 'a-kernel-that-restarted', codes: encodeFloat32([0, 0, 0]), count: 1 });
    assert.ok(!stale.ok && stale.error.code === 'failed' && /restarted since; run the cell again/.test(stale.error.message), JSON.stringify(stale));
    const bad = await client.request('latent.decode', { model: p.remote.model, kernel: p.remote.kernel, codes: encodeFloat32([0, 0]), count: 1 });
    assert.ok(!bad.ok && bad.error.code === 'bad-request' && /1 to 64 codes of 3 values/.test(bad.error.message), JSON.stringify(bad));
  });
});
