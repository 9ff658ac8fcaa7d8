// A training output saved while its run was live is stored, reopened and
// reported as interrupted: in the file (serializer and headless runner), in
// VS Code's conversion, in HTML reports, and in its text fallback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AenbNotebook, createCodeCell, createNotebook, parseNotebook, serializeNotebook } from '../../src/common/aenb';
import { historyText, newTrainingPayload, toOutput, TRAINING_MIME, trainingOutputItems, TrainingPayload } from '../../src/outputs';
import { settleNotebook, settleTrainingPayload } from '../../src/outputs/training/stale';
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
