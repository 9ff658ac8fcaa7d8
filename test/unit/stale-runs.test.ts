// A training output saved while its run was live is stored, reopened and
// reported as interrupted: in the file (serializer and headless runner), in
// VS Code's conversion, in HTML reports, and in its text fallback. A live
// latent map (callbacks.latentView) the same way: done or interrupted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AenbNotebook, createCodeCell, createNotebook, parseNotebook, serializeNotebook } from '../../src/common/aenb';
import * as tf from '@tensorflow/tfjs';
import {
  checkLatentPayload,
  historyText,
  LATENT_MIME,
  latentOutputItems,
  latentText,
  LIVE_TITLE,
  LIVE_TITLE_AFTER,
  newTrainingPayload,
  OUTPUT_KINDS,
  settleLatentPayload,
  toOutput,
  TRAINING_MIME,
  trainingOutputItems,
  TrainingPayload,
  type LatentPayload,
  type LiveState,
} from '../../src/outputs';
import { Autoencoder } from '../../src/lib/models';
import { buildLatent } from '../../src/outputs/latent/kernel';
import { settleNotebook, SETTLERS } from '../../src/outputs/stored';
import { settleTrainingPayload } from '../../src/outputs/training/stale';
import { renderHtmlReport } from '../../src/report';
import { notebookFromBytes, notebookToBytes, notebookToPlain } from '../../src/notebook/convert';

const MESSAGE = 'Interrupted at epoch 3 of 20 (the notebook was saved during training)';

function runningPayload(): TrainingPayload {
  const p = newTrainingPayload({ runId: 'r1', epochs: 20, batchesPerEpoch: 1875, title: 'Autoencoder', samples: 60000, batchSize: 32 });
  p.epoch = 2;
  p.batch = 640;
  p.history = { loss: [0.2, 0.1] };
  p.etaSeconds = 47;
  p.samplesPerSecond = 40000;
  return p;
}

function notebookWith(p: TrainingPayload): AenbNotebook {
  const cell = createCodeCell('await autoencoder.fit(x, x, { epochs: 20 });');
  cell.outputs = [toOutput(trainingOutputItems(p))];
  return createNotebook([cell]);
}

function trainingOf(nb: AenbNotebook): { payload: TrainingPayload; text: string } {
  const cell = nb.cells[0];
  assert.equal(cell.kind, 'code');
  const items = cell.kind === 'code' ? cell.outputs[0].items : [];
  return {
    payload: items.find((i) => i.mime === TRAINING_MIME)!.data as unknown as TrainingPayload,
    text: items.find((i) => i.mime === 'text/plain')!.data as string,
  };
}

test('a running payload settles as interrupted at the epoch in progress; others are left alone', () => {
  const s = settleTrainingPayload(runningPayload());
  assert.equal(s.state, 'stopped');
  assert.deepEqual(s.interrupted, { reason: 'saved-during-training', epoch: 3 });
  assert.equal(s.message, 'interrupted at epoch 3 of 20 (the notebook was saved during training)');
  assert.equal(s.etaSeconds, undefined, 'no time left for a run that is not running');
  assert.deepEqual(s.history, { loss: [0.2, 0.1] }, 'the epochs it did are kept');
  assert.match(historyText(s), new RegExp(`Epoch  2/20 - loss: 0\\.1000\\n${MESSAGE.replace(/[()]/g, '\\$&')}$`));
  const done = { ...runningPayload(), state: 'done' as const };
  assert.equal(settleTrainingPayload(done), done);
  const nb = notebookWith(done);
  assert.equal(settleNotebook(nb), nb, 'an unchanged notebook is the same object');
});

test('the .aenb file stores a live run as interrupted, and a file that says "running" opens as interrupted', () => {
  const text = serializeNotebook(notebookWith(runningPayload()));
  assert.doesNotMatch(text, /"state": "running"/);
  const stored = trainingOf(parseNotebook(text));
  assert.equal(stored.payload.state, 'stopped');
  assert.equal(stored.payload.interrupted?.epoch, 3);
  assert.match(stored.text, /Interrupted at epoch 3 of 20 \(the notebook was saved during training\)$/);
  assert.equal(serializeNotebook(parseNotebook(text)), text, 'stable once stored');
  // A file written before this existed (or by another tool) with "running" in it.
  const old = text.replace('"state": "stopped"', '"state": "running"');
  assert.match(old, /"state": "running"/);
  const opened = trainingOf(parseNotebook(old));
  assert.equal(opened.payload.state, 'stopped');
  assert.equal(opened.payload.interrupted?.reason, 'saved-during-training');
});

test('VS Code: saving a notebook whose training output is live writes it as interrupted; opening shows it so', () => {
  const plain = notebookToPlain(notebookWith(runningPayload()));
  const live = JSON.parse(new TextDecoder().decode(plain.cells[0].outputs![0].items[0].data)) as TrainingPayload;
  assert.equal(live.state, 'running', 'the editor keeps the live state in memory');
  const bytes = notebookToBytes(plain);
  const reopened = notebookFromBytes(bytes);
  const item = reopened.cells[0].outputs![0].items.find((i) => i.mime === TRAINING_MIME)!;
  const p = JSON.parse(new TextDecoder().decode(item.data)) as TrainingPayload;
  assert.equal(p.state, 'stopped');
  assert.equal(p.interrupted?.epoch, 3);
});

test('HTML report: a live run in the notebook is shown as interrupted, fallback text included', () => {
  const items = trainingOutputItems(runningPayload()).map((i) => ({ mime: i.mime, data: new TextDecoder().decode(i.data) }));
  const html = renderHtmlReport({ cells: [{ kind: 'code', language: 'typescript', source: 'fit()', outputs: [{ items }] }] }, { rendererJs: 'export { a as activate };' });
  assert.match(html, /Interrupted at epoch 3 of 20 \(the notebook was saved during training\)/);
  assert.doesNotMatch(html, /"state":"running"/);
  assert.match(html, /"state":"stopped"/);
});

// ---------------------------------------------------------------------------
// A live latent map (callbacks.latentView): its run is over in a stored file.

async function livePayload(epoch: number, state?: LiveState): Promise<LatentPayload> {
  tf.setBackend('cpu');
  const model = new Autoencoder({ inputShape: [4, 4], latentDim: 3, seed: 5, name: 'small' });
  const xs = tf.tidy(() => tf.linspace(0, 1, 12 * 16).reshape([12, 4, 4]));
  try {
    const { payload } = await buildLatent(model, xs, { title: LIVE_TITLE }, { epoch: { epoch, epochs: 5, ...(state ? { state } : {}) } });
    return payload;
  } finally {
    xs.dispose();
    model.dispose();
  }
}

function latentNotebook(p: LatentPayload): AenbNotebook {
  const cell = createCodeCell('await ae.fit(x, x, { epochs: 5, callbacks: [callbacks.latentView(x)] });');
  cell.outputs = [toOutput(latentOutputItems(p))];
  return createNotebook([cell]);
}

function latentOf(nb: AenbNotebook): { payload: LatentPayload; text: string } {
  const cell = nb.cells[0];
  const items = cell.kind === 'code' ? cell.outputs[0].items : [];
  return { payload: items.find((i) => i.mime === LATENT_MIME)!.data as unknown as LatentPayload, text: items.find((i) => i.mime === 'text/plain')!.data as string };
}

test('a live latent map settles: interrupted before its last epoch, done after it; an ended or never-live map is left alone', async () => {
  const midway = await livePayload(3, 'running');
  const s = settleLatentPayload(midway);
  assert.deepEqual(s.epoch, { epoch: 3, epochs: 5, state: 'interrupted' });
  assert.equal(s.title, LIVE_TITLE, 'an interrupted run keeps "while training"');
  assert.equal(s.points, midway.points, 'the map itself is kept');
  assert.match(latentText(s), /\(Training ended before its last epoch .*: the map after epoch 3 of 5, the last one drawn\)\./);
  const last = settleLatentPayload(await livePayload(5)); // no state: a kernel from before run states
  assert.deepEqual(last.epoch, { epoch: 5, epochs: 5, state: 'done' });
  assert.equal(last.title, LIVE_TITLE_AFTER);
  for (const state of ['done', 'stopped', 'interrupted'] as const) {
    const ended = await livePayload(3, state);
    assert.equal(settleLatentPayload(ended), ended, `${state}: the same object`);
  }
  const plain = await livePayload(0);
  delete plain.epoch;
  assert.equal(settleLatentPayload(plain), plain);
  const nb = latentNotebook(plain);
  assert.equal(settleNotebook(nb), nb, 'an unchanged notebook is the same object');
  assert.equal(checkLatentPayload({ ...midway, epoch: { epoch: 3, epochs: 5, state: 'live' } }), 'epoch.state must be running, done, stopped, interrupted');
});

test('the .aenb file, VS Code and the HTML report keep no live latent map: saved mid-run it reopens interrupted', async () => {
  const text = serializeNotebook(latentNotebook(await livePayload(3, 'running')));
  assert.doesNotMatch(text, /"state": "running"/);
  const stored = latentOf(parseNotebook(text));
  assert.deepEqual(stored.payload.epoch, { epoch: 3, epochs: 5, state: 'interrupted' });
  assert.match(stored.text, /Training ended before its last epoch/);
  assert.equal(serializeNotebook(parseNotebook(text)), text, 'stable once stored');
  const old = text.replace('"state": "interrupted"', '"state": "running"');
  assert.equal(latentOf(parseNotebook(old)).payload.epoch?.state, 'interrupted', 'a file that says "running" opens settled');

  // VS Code: the editor keeps the live map in memory; saving and reopening settle it
  const plain = notebookToPlain(latentNotebook(await livePayload(3, 'running')));
  const reopened = notebookFromBytes(notebookToBytes(plain));
  const item = reopened.cells[0].outputs![0].items.find((i) => i.mime === LATENT_MIME)!;
  assert.equal((JSON.parse(new TextDecoder().decode(item.data)) as LatentPayload).epoch?.state, 'interrupted');

  // the HTML report: no kernel behind it
  const items = latentOutputItems(await livePayload(3, 'running')).map((i) => ({ mime: i.mime, data: new TextDecoder().decode(i.data) }));
  const html = renderHtmlReport({ cells: [{ kind: 'code', language: 'typescript', source: 'fit()', outputs: [{ items }] }] }, { rendererJs: 'export { a as activate };' });
  assert.match(html, /"state":"interrupted"/);
  assert.doesNotMatch(html, /"state":"running"/);
  assert.match(html, /Training ended before its last epoch/);
});

test('every kind with a stored form is settled in files, by the same function', async () => {
  const withStored = OUTPUT_KINDS.filter((k) => k.stored).map((k) => k.mimes[0]).sort();
  assert.deepEqual(Object.keys(SETTLERS).sort(), withStored);
  const midway = await livePayload(3, 'running');
  assert.deepEqual(SETTLERS[LATENT_MIME].settle(midway), OUTPUT_KINDS.find((k) => k.name === 'latent')!.stored!(midway));
  const running = runningPayload();
  assert.deepEqual(SETTLERS[TRAINING_MIME].settle(running), OUTPUT_KINDS.find((k) => k.name === 'training')!.stored!(running));
});
