/**
 * The convolutional denoising sample, every cell through the headless runner
 * (dist must be built) on the wasm backend, with tiny parameters: data,
 * the noisy/clean grid, the summary, training on the fast path with a
 * validation curve, the noisy/denoised/clean grid, the error table, the map
 * of the codes (decoded in the kernel) and the errors against the clean images.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseNotebook, type AenbCodeCell, type AenbNotebook } from '../../src/common/aenb';
import {
  ERRORS_MIME,
  IMAGES_MIME,
  LATENT_MIME,
  SUMMARY_MIME,
  TRAINING_MIME,
  type ErrorsPayload,
  type ImagesPayload,
  type LatentPayload,
  type SummaryPayload,
  type TrainingPayload,
} from '../../src/outputs';

const root = path.join(__dirname, '..', '..', '..');
const sample = path.join(root, 'samples', 'denoising-conv-fashion-mnist.aenb');

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(root, 'dist', 'cli.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('samples/denoising-conv-fashion-mnist.aenb through the headless runner', () => {
  let dir: string;
  let result: { code: number | null; stdout: string; stderr: string };
  let nb: AenbNotebook;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'aenb-conv-sample-'));
    const out = path.join(dir, 'run.aenb');
    result = await run(['run', sample, '--backend', 'wasm', '--set', 'epochs=2', '--set', 'trainSamples=600', '--set', 'nImages=3', '--out', out]);
    nb = parseNotebook(await readFile(out, 'utf8'), out);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const codeCell = (start: string): AenbCodeCell => {
    const c = nb.cells.find((cell): cell is AenbCodeCell => cell.kind === 'code' && cell.source.includes(start));
    assert.ok(c, `a cell with ${start}`);
    return c;
  };
  const data = <T>(cell: AenbCodeCell, mime: string): T => {
    const item = cell.outputs.flatMap((o) => o.items).find((i) => i.mime === mime);
    assert.ok(item, `${mime} output in the cell "${cell.source.split('\n')[0]}"`);
    return item.data as unknown as T;
  };

  test('every cell succeeds', () => {
    assert.equal(result.code, 0, result.stdout + result.stderr);
    for (const c of nb.cells) if (c.kind === 'code') assert.equal(c.execution?.success, true, c.source.split('\n')[0]);
  });

  test('the parameters cell names epochs and trainSamples, as the other samples do', async () => {
    const original = parseNotebook(await readFile(sample, 'utf8'), sample);
    const params = original.cells.find((c): c is AenbCodeCell => c.kind === 'code' && (c.metadata.tags ?? []).includes('parameters'));
    assert.ok(params);
    assert.match(params.source, /^const epochs = \d+;/m);
    assert.match(params.source, /^const trainSamples = 60000;/m);
  });

  test('the data, and a grid of clean and noisy images', () => {
    const stdout = codeCell('datasets.fashionMnist').outputs.flatMap((o) => o.items).map((i) => String(i.data)).join('');
    assert.match(stdout, /training images: 600 x 28 x 28 x 1, test images: 10000 x 28 x 28 x 1/);
    const grid = data<ImagesPayload>(codeCell("title: 'Clean'"), IMAGES_MIME);
    assert.deepEqual(grid.rows.map((r) => [r.title, r.images.length, r.images[0].width, r.images[0].height]), [['Clean', 3, 28, 28], ['Noisy (factor 0.4)', 3, 28, 28]]);
  });

  test('the model: 2,633 parameters, conv / pool / up-sampling layers', () => {
    const s = data<SummaryPayload>(codeCell('const denoiser = tf.sequential'), SUMMARY_MIME);
    assert.equal(s.totals.total, 2633);
    assert.deepEqual(s.layers.map((l) => l.type), ['Conv2D', 'MaxPooling2D', 'Conv2D', 'MaxPooling2D', 'UpSampling2D', 'Conv2D', 'UpSampling2D', 'Conv2D']);
  });

  test('training: live chart with loss and val_loss for both epochs, on the fast path (no generic-path note)', () => {
    const cell = codeCell('denoiser.fit(');
    const t = data<TrainingPayload>(cell, TRAINING_MIME);
    assert.equal(t.state, 'done');
    assert.equal(t.epoch, 2);
    assert.equal(t.history.loss.length, 2);
    assert.equal(t.history.val_loss?.length, 2);
    assert.ok((t.history.loss[1] as number) < (t.history.loss[0] as number), 'the loss falls');
    const text = cell.outputs.flatMap((o) => o.items).map((i) => String(i.data)).join('');
    assert.doesNotMatch(text, /generic path/);
  });

  test('noisy / denoised / clean test images, with errors; the error table', () => {
    const grid = data<ImagesPayload>(codeCell('const shown = tf.tidy'), IMAGES_MIME);
    assert.deepEqual(grid.rows.map((r) => r.title), ['Noisy input', 'Denoised', 'Clean original']);
    assert.ok(grid.rows.every((r) => r.images.length === 3 && r.images.every((i) => i.width === 28 && i.height === 28)));
    assert.ok(grid.rows[1].images.every((i) => /^mse \d\.\d{4}$/.test(i.caption ?? '')));
    const table = String(codeCell('const [noisyMse, denoisedMse]').outputs[0].items[0].data);
    assert.match(table, /\| noisy input \| 0\.\d{4} \|\n\| denoised \| 0\.\d{4} \|/);
  });

  test('the model cut at the code: 392-number codes, mapped by garment, decoded in the kernel (the decoder is convolutional)', () => {
    const stdout = codeCell('const codeShape').outputs.flatMap((o) => o.items).map((i) => String(i.data)).join('');
    assert.match(stdout, /each code: 7 x 7 x 8 = 392 numbers/);
    const p = data<LatentPayload>(codeCell('show.latent(halves'), LATENT_MIME);
    assert.equal(p.method, 'pca');
    assert.equal(p.latentDim, 392);
    assert.equal(p.count, 2000);
    assert.equal(p.subject, 'noisy test pictures');
    assert.deepEqual(p.classNames?.slice(0, 2), ['T-shirt/top', 'Trouser']);
    assert.equal(p.labels?.length, 2000);
    assert.equal(p.decoder, undefined, 'no dense decoder travels with the map');
    assert.match(p.remote?.reason ?? '', /\(UpSampling2D\) is not a dense layer/);
    assert.ok(p.reconstructions, 'the points carry their reconstructions from the kernel');
    const explained = p.pca!.explained[0] + p.pca!.explained[1];
    assert.ok(explained > 0 && explained < 1, `PCA keeps part of the variance: ${explained}`);
  });

  test('reconstruction errors of the noisy test pictures, scored against the clean ones', () => {
    const p = data<ErrorsPayload>(codeCell('show.errors(denoiser'), ERRORS_MIME);
    assert.equal(p.against, 'targets');
    assert.equal(p.count, 10000);
    assert.equal(p.classNames?.length, 10);
    assert.equal(p.worst.length, 8);
    assert.ok(p.worst.every((e) => typeof e.target === 'string'), 'each example shows its clean target');
    assert.ok(p.worst[0].error >= p.best[0].error);
  });
});
