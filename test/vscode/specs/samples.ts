/// <reference types="mocha" />
// The sample notebooks, copied with "New Notebook from a Sample", run
// with tiny parameters through VS Code's Run All; their outputs checked by
// MIME type and content; saved, closed and reopened.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { parseNotebook } from '../../../src/common/aenb';
import {
  ERRORS_MIME,
  IMAGES_MIME,
  LATENT_MIME,
  SUMMARY_MIME,
  TRAINING_MIME,
  base64ToBytes,
  decodeBatchSeries,
  type ImagesPayload,
  type SummaryPayload,
  type TrainingPayload,
  checkErrorsPayload,
  checkLatentPayload,
  type ErrorsPayload,
  type LatentPayload,
} from '../../../src/outputs';
import {
  COMMANDS,
  EXTENSION_ID,
  TEXT_MIME,
  assertSucceeded,
  cellWith,
  closeAll,
  codeCells,
  describeCell,
  json,
  onlyItem,
  outputSnapshot,
  recordOutputs,
  runAll,
  setParameters,
  showNotebook,
  stdout,
  text,
  trainingStep,
  valueText,
  waitFor,
  workspaceFolder,
} from '../helpers';

const IMAGE_SIDE = 28;
const PIXELS = IMAGE_SIDE * IMAGE_SIDE;

function extensionPath(): string {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is installed`);
  return ext.extensionPath;
}

/** Parameters of a dense layer: inputs x units weights + units biases. */
const dense = (inputs: number, units: number) => inputs * units + units;

function checkGrid(p: ImagesPayload, expected: { title?: string; rows: string[]; n: number }, where: string): void {
  if (expected.title !== undefined) assert.equal(p.title, expected.title, `${where}: grid title`);
  assert.deepEqual(p.rows.map((r) => r.title), expected.rows, `${where}: row titles`);
  for (const row of p.rows) {
    assert.equal(row.images.length, expected.n, `${where}: ${row.title} has nImages images`);
    for (const img of row.images) {
      assert.equal(img.width, IMAGE_SIDE, `${where}: image width`);
      assert.equal(img.height, IMAGE_SIDE, `${where}: image height`);
      const px = base64ToBytes(img.data);
      assert.equal(px.length, PIXELS, `${where}: ${row.title} image has 28x28 grayscale pixels`);
      // A picture, not a blank or flat square: contrast, and enough pixels off the background
      // (digits may be nearly black and white; garments may fill the whole frame).
      const [min, max] = [Math.min(...px), Math.max(...px)];
      const drawn = px.filter((v) => v - min > 50).length;
      assert.ok(max - min >= 100 && drawn >= 20, `${where}: ${row.title} image shows something (values ${min}..${max}, ${drawn} pixels above the background)`);
    }
  }
}

function trainingPayload(cell: vscode.NotebookCell): TrainingPayload {
  return json<TrainingPayload>(onlyItem(cell, TRAINING_MIME));
}

export function defineSampleTests(): void {
  describe('Sample: vanilla autoencoder on MNIST', function () {
    this.timeout(180_000);
    const params = { epochs: 2, trainSamples: 8192, nImages: 3 };
    let uri: vscode.Uri;
    let doc: vscode.NotebookDocument;
    let fitRecord: ReturnType<typeof recordOutputs<TrainingPayload>>;

    after(() => fitRecord?.dispose());

    it('"New Notebook from a Sample" copies the sample into the workspace, opens it and returns its Uri', async () => {
      const result = await vscode.commands.executeCommand<vscode.Uri | undefined>(COMMANDS.newNotebookFromSample, { sample: 'vanilla-mnist', destination: 'workspace' });
      assert.ok(result instanceof vscode.Uri, `the command returns the new notebook's Uri, got ${String(result)}`);
      uri = result;
      assert.equal(vscode.Uri.joinPath(uri, '..').toString(), workspaceFolder().toString(), 'copied into the workspace folder');
      assert.match(uri.path, /\/vanilla-mnist(-\d+)?\.aenb$/);
      const editor = vscode.window.activeNotebookEditor;
      assert.ok(editor, 'a notebook editor is active');
      assert.equal(editor.notebook.uri.toString(), uri.toString(), 'the copy is the active notebook');
      doc = editor.notebook;
      const original = parseNotebook(readFileSync(join(extensionPath(), 'samples', 'vanilla-mnist.aenb'), 'utf8'));
      assert.equal(doc.cellCount, original.cells.length, 'same number of cells as the sample');
      doc.getCells().forEach((c, i) => assert.equal(c.document.getText(), original.cells[i].source, `cell ${i + 1} has the sample's text`));
      await showNotebook(doc);
    });

    it('Run All with tiny parameters: every code cell succeeds, in order', async () => {
      await setParameters(doc, params);
      fitRecord = recordOutputs<TrainingPayload>(cellWith(doc, 'autoencoder.fit('), TRAINING_MIME);
      await runAll(doc);
      const cells = codeCells(doc);
      cells.forEach(assertSucceeded);
      assert.deepEqual(cells.map((c) => c.executionSummary?.executionOrder), cells.map((_, i) => i + 1), 'execution order 1..n, top to bottom');
    });

    it('data loading: the training slice and the test set have the right shapes', () => {
      const out = stdout(cellWith(doc, 'datasets.mnist.loadData()'));
      assert.match(out, new RegExp(`training images: ${params.trainSamples} x 28 x 28`), out);
      // MNIST's official test split has 10,000 images.
      assert.match(out, /test images: +10000 x 28 x 28/, out);
    });

    it('model summary: Keras-style table with 101,200 parameters', () => {
      const cell = cellWith(doc, 'new Autoencoder(');
      const p = json<SummaryPayload>(onlyItem(cell, SUMMARY_MIME));
      const latentDim = 64;
      const expected = dense(PIXELS, latentDim) + dense(latentDim, PIXELS);
      assert.equal(expected, 101_200, 'the figure the sample and the course notebook state');
      assert.equal(p.modelName, 'Vanilla');
      assert.deepEqual(p.totals, { total: expected, trainable: expected, nonTrainable: 0, shared: 0 });
      const denseLayers = p.layers.filter((l) => l.type === 'Dense');
      assert.deepEqual(denseLayers.map((l) => l.params), [dense(PIXELS, latentDim), dense(latentDim, PIXELS)]);
      assert.deepEqual(denseLayers.map((l) => l.outputShape), [[null, latentDim], [null, PIXELS]]);
      assert.match(text(onlyItem(cell, TEXT_MIME)), /Total params: 101,200/, 'the text/plain fallback states the total');
    });

    it('fit: the progress output is replaced in place while training runs, and ends as the history', () => {
      const cell = cellWith(doc, 'autoencoder.fit(');
      const changes = fitRecord.changes.filter((c) => c.items.length > 0);
      assert.ok(changes.length >= 2, `at least a first and a last progress output were seen, saw ${changes.length}`);
      assert.ok(changes.every((c) => c.items.length === 1), 'one training output at any time');
      const ids = new Set(changes.map((c) => c.items[0].outputId));
      assert.equal(ids.size, 1, `one output, updated in place (output ids seen: ${[...ids].join(' | ')})`);
      const states = changes.map((c) => c.items[0].payload.state);
      assert.equal(states[0], 'running', `the first output says training runs (states: ${states.join(', ')})`);
      assert.equal(states[states.length - 1], 'done');
      const steps = changes.map((c) => trainingStep(c.items[0].payload));
      steps.slice(1).forEach((s, i) => assert.ok(s >= steps[i], `progress never goes back: ${steps.join(', ')}`));

      const p = trainingPayload(cell);
      const batchesPerEpoch = Math.ceil(params.trainSamples / 32);
      assert.equal(p.state, 'done');
      assert.equal(p.epochs, params.epochs);
      assert.equal(p.epoch, params.epochs);
      assert.equal(p.batchesPerEpoch, batchesPerEpoch);
      assert.equal(p.samples, params.trainSamples);
      assert.equal(p.history.loss.length, params.epochs);
      for (const v of p.history.loss) assert.ok(typeof v === 'number' && v > 0 && v < 1, `epoch loss ${v} is a binary cross-entropy in (0, 1)`);
      assert.ok((p.history.loss[1] as number) < (p.history.loss[0] as number), `loss falls: ${p.history.loss.join(' -> ')}`);
      const batches = decodeBatchSeries(p);
      assert.equal(batches.y.length, params.epochs * batchesPerEpoch, 'one loss per batch');
    });

    it('the history cell shows the same curve', () => {
      const fit = trainingPayload(cellWith(doc, 'autoencoder.fit('));
      const shown = trainingPayload(doc.getCells().find((c) => c.document.getText().trim() === 'history') as vscode.NotebookCell);
      assert.equal(shown.state, 'done');
      assert.deepEqual(shown.history, fit.history);
    });

    it('reconstructions: originals above reconstructions, nImages of each, with their errors', () => {
      for (const [needle, title] of [
        ['show.reconstructions(autoencoder, xTrain', 'Training images'],
        ['show.reconstructions(autoencoder, xTest', 'Test images'],
      ] as const) {
        const cell = cellWith(doc, needle);
        const p = json<ImagesPayload>(onlyItem(cell, IMAGES_MIME));
        checkGrid(p, { title, rows: ['Original', 'Reconstructed'], n: params.nImages }, title);
        for (const img of p.rows[1].images) assert.match(img.caption ?? '', /^mse 0\.\d{4}$/, 'each reconstruction is captioned with its error');
      }
    });

    it('denoising: original, noisy and rebuilt rows', () => {
      const cell = cellWith(doc, 'addNoise(clean, noiseFactor)');
      const p = json<ImagesPayload>(onlyItem(cell, IMAGES_MIME));
      checkGrid(p, { rows: ['Original', 'Noisy (factor 0.3)', 'Rebuilt by the autoencoder'], n: params.nImages }, 'denoising');
    });

    it('the map of the codes: 2,000 test digits, PCA, labels 0-9, a decoder that travels with the output', () => {
      const cell = cellWith(doc, 'show.latent(autoencoder');
      const p = json<LatentPayload>(onlyItem(cell, LATENT_MIME));
      assert.equal(checkLatentPayload(p), undefined, 'a valid payload');
      assert.equal(p.count, 2000);
      assert.equal(p.method, 'pca');
      assert.equal(p.latentDim, 64);
      assert.equal(p.subject, 'test digits');
      assert.deepEqual(p.classNames, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
      assert.ok(p.decoder && !p.remote, 'a dense decoder: decoded in the renderer');
      const [a, b] = p.pca!.explained;
      assert.ok(a >= b && b > 0 && a + b < 1, `explained variance ${a}, ${b}`);
      assert.match(text(onlyItem(cell, TEXT_MIME)), /2,000 test digits, 64-D codes projected to 2-D by PCA/);
    });

    it('the interpolation strip and the reconstruction errors', () => {
      const strip = json<ImagesPayload>(onlyItem(cellWith(doc, 'show.interpolate(autoencoder'), IMAGES_MIME));
      assert.equal(strip.rows.length, 1);
      assert.deepEqual(strip.rows[0].images.map((i) => i.caption).filter((c) => /^(input|a decoded|b decoded)/.test(c ?? '')), ['input a', 'a decoded', 'b decoded', 'input b']);
      assert.equal(strip.rows[0].images.length, 12, 'the two inputs and 10 decoded codes');
      const errors = json<ErrorsPayload>(onlyItem(cellWith(doc, 'show.errors(autoencoder'), ERRORS_MIME));
      assert.equal(checkErrorsPayload(errors), undefined);
      assert.equal(errors.count, 10_000, 'every test digit');
      assert.equal(errors.worst.length, 8);
      assert.ok(errors.worst[0].error >= errors.best[0].error);
    });

    it('Export to HTML Report writes one file with the outputs and returns its Uri', async () => {
      const target = vscode.Uri.joinPath(workspaceFolder(), 'vanilla-report.html');
      const result = await vscode.commands.executeCommand<vscode.Uri | undefined>(COMMANDS.exportHtml, { notebook: doc.uri, target: target.fsPath, open: false });
      assert.ok(result instanceof vscode.Uri, `the command returns the report's Uri, got ${String(result)}`);
      assert.equal(result.fsPath, target.fsPath);
      const html = readFileSync(target.fsPath, 'utf8');
      assert.match(html, /^<!doctype html>/i);
      assert.match(html, /101,200/, 'the model summary is in the report');
      assert.match(html, /Test images/, 'the reconstructions are in the report');
      assert.match(html, /application\/vnd\.aenb\.latent\+json/, 'the latent map is in the report');
      assert.doesNotMatch(html, /<script[^>]+src=["']https?:/i, 'no network requests');
    });

    it('saves, and reopens with every output and execution intact', async () => {
      const before = outputSnapshot(doc);
      assert.ok(await doc.save(), 'saved');
      assert.equal(doc.isDirty, false);
      const bytes = readFileSync(doc.uri.fsPath);
      const onDisk = parseNotebook(bytes.toString('utf8'));
      const mimes = (i: number) => {
        const c = onDisk.cells[i];
        return c.kind === 'code' ? c.outputs.flatMap((o) => o.items.map((it) => it.mime)) : [];
      };
      for (const [needle, mime] of [
        ['new Autoencoder(', SUMMARY_MIME],
        ['autoencoder.fit(', TRAINING_MIME],
        ['show.reconstructions(autoencoder, xTest', IMAGES_MIME],
      ] as const) {
        assert.ok(mimes(cellWith(doc, needle).index).includes(mime), `the file holds the ${mime} output of the cell with ${needle}`);
      }
      await closeAll();
      // VS Code keeps a document opened through the API alive for minutes after
      // its editor closes, and would hand back that same document: reopen the
      // saved bytes under another name so that they go through the serializer.
      const copy = vscode.Uri.joinPath(workspaceFolder(), 'vanilla-reopened.aenb');
      await vscode.workspace.fs.copy(doc.uri, copy, { overwrite: true });
      const reopened = await vscode.workspace.openNotebookDocument(copy);
      assert.notEqual(reopened, doc, 'a new document, read from the saved file');
      await showNotebook(reopened);
      assert.deepEqual(outputSnapshot(reopened), before, 'same outputs (MIME types and bytes), execution order and success per cell');
      assert.equal(reopened.isDirty, false);
      assert.equal(trainingPayload(cellWith(reopened, 'autoencoder.fit(')).state, 'done');
      await closeAll();
    });
  });

  describe('Sample: stacked autoencoder with tied weights on Fashion-MNIST', function () {
    this.timeout(180_000);
    const params = { epochs: 1, trainSamples: 2048, nImages: 2 };
    let doc: vscode.NotebookDocument;

    it('opens as an untitled notebook, runs with tiny parameters', async () => {
      const result = await vscode.commands.executeCommand<vscode.Uri | undefined>(COMMANDS.newNotebookFromSample, { sample: 'stacked-fashion-mnist', destination: 'untitled' });
      assert.ok(result instanceof vscode.Uri, `the command returns the new notebook's Uri, got ${String(result)}`);
      assert.equal(result.scheme, 'untitled');
      doc = await waitFor(() => vscode.workspace.notebookDocuments.find((d) => d.uri.toString() === result.toString()), () => 'the untitled notebook', 10_000);
      await showNotebook(doc);
      await setParameters(doc, params);
      await runAll(doc);
      codeCells(doc).forEach(assertSucceeded);
    });

    it('data loading: Fashion-MNIST shapes', () => {
      const out = stdout(cellWith(doc, 'datasets.fashionMnist.loadData()'));
      assert.match(out, new RegExp(`training images: ${params.trainSamples} x 28 x 28, test images: 10000 x 28 x 28`), out);
    });

    it('model summary: 53,428 parameters, the decoder borrowing the encoder\'s kernels', () => {
      const p = json<SummaryPayload>(onlyItem(cellWith(doc, 'new StackedAutoencoder('), SUMMARY_MIME));
      const [l1, l2] = [64, 36];
      const encoder = dense(PIXELS, l1) + dense(l1, l2);
      const decoderBiases = l1 + PIXELS;
      assert.equal(encoder + decoderBiases, 53_428, 'the figure the sample and the course notebook state');
      assert.equal(p.totals.total, encoder + decoderBiases);
      assert.equal(p.totals.trainable, encoder + decoderBiases);
      assert.equal(p.totals.shared, PIXELS * l1 + l1 * l2, 'the tied kernels are counted once');
      const tied = p.layers.filter((l) => l.type === 'TransposedDense');
      assert.equal(tied.length, 2, 'two TransposedDense layers in the decoder');
      for (const l of tied) {
        assert.equal(l.shared?.length, 1, `${l.name} borrows one kernel`);
        assert.equal(l.shared?.[0].transposed, true);
        assert.ok(p.layers.some((o) => o.name === l.shared?.[0].owner && o.type === 'Dense'), `${l.name} borrows from a Dense layer of the encoder`);
      }
    });

    it('the hand-written tied layer computes what the library\'s does', () => {
      const out = stdout(cellWith(doc, 'maxDifference'));
      const m = /largest difference between the two decoders: ([\d.e+-]+)/.exec(out);
      assert.ok(m, `the comparison is printed: ${JSON.stringify(out)}`);
      assert.ok(Number(m[1]) < 1e-5, `the two decoders agree to float rounding (${m[1]})`);
    });

    it('reconstructions of training and test pictures', () => {
      for (const [needle, title] of [
        ['show.reconstructions(sae, xTrain', 'Training images'],
        ['show.reconstructions(sae, xTest', 'Test images'],
      ] as const) {
        const p = json<ImagesPayload>(onlyItem(cellWith(doc, needle), IMAGES_MIME));
        checkGrid(p, { title, rows: ['Original', 'Reconstructed'], n: params.nImages }, title);
      }
      const trained = trainingPayload(cellWith(doc, 'sae.fit('));
      assert.equal(trained.state, 'done');
      assert.equal(trained.epoch, params.epochs);
    });

    it('the live map while training ends at the last epoch, says its run is done, and has Fashion-MNIST\'s class names', () => {
      const p = json<LatentPayload>(onlyItem(cellWith(doc, 'sae.fit('), LATENT_MIME));
      assert.equal(checkLatentPayload(p), undefined);
      assert.deepEqual(p.epoch, { epoch: params.epochs, epochs: params.epochs, state: 'done' });
      assert.equal(p.title, 'Latent space after training');
      assert.equal(p.count, 1000);
      assert.equal(p.classNames?.[0], 'T-shirt/top');
      assert.equal(p.classNames?.[9], 'Ankle boot');
    });

    it('a UMAP map of the tied model, decoded in the renderer; the errors of every test picture', () => {
      const p = json<LatentPayload>(onlyItem(cellWith(doc, "method: 'umap'"), LATENT_MIME));
      assert.equal(checkLatentPayload(p), undefined);
      assert.equal(p.method, 'umap');
      assert.equal(p.count, 2000);
      assert.equal(p.latentDim, 36);
      assert.ok(p.decoder && p.decoder.layers.length === 2, 'the tied decoder travels as two dense layers');
      const errors = json<ErrorsPayload>(onlyItem(cellWith(doc, 'show.errors(sae'), ERRORS_MIME));
      assert.equal(errors.count, 10_000);
      assert.equal(errors.classNames?.[8], 'Bag');
    });

    after(async () => {
      await closeAll();
    });
  });

  describe('Sample: convolutional denoising autoencoder on Fashion-MNIST', function () {
    this.timeout(240_000);
    const params = { epochs: 2, trainSamples: 1024, nImages: 3 };
    let doc: vscode.NotebookDocument;
    let fitRecord: ReturnType<typeof recordOutputs<TrainingPayload>>;

    after(async () => {
      fitRecord?.dispose();
      await closeAll();
    });

    it('is offered by "New Notebook from a Sample", and runs with tiny parameters', async () => {
      const result = await vscode.commands.executeCommand<vscode.Uri | undefined>(COMMANDS.newNotebookFromSample, { sample: 'denoising-conv-fashion-mnist', destination: 'workspace' });
      assert.ok(result instanceof vscode.Uri, `the command returns the new notebook's Uri, got ${String(result)}`);
      assert.match(result.path, /\/denoising-conv-fashion-mnist(-\d+)?\.aenb$/);
      doc = await waitFor(() => vscode.workspace.notebookDocuments.find((d) => d.uri.toString() === result.toString()), () => 'the copied sample', 10_000);
      await showNotebook(doc);
      await setParameters(doc, params);
      fitRecord = recordOutputs<TrainingPayload>(cellWith(doc, 'denoiser.fit('), TRAINING_MIME);
      await runAll(doc);
      codeCells(doc).forEach(assertSucceeded);
    });

    it('data: clean and noisy images, with a channel axis', () => {
      const out = stdout(cellWith(doc, 'datasets.fashionMnist.loadData()'));
      assert.match(out, new RegExp(`training images: ${params.trainSamples} x 28 x 28 x 1, test images: 10000 x 28 x 28 x 1`), out);
      const p = json<ImagesPayload>(onlyItem(cellWith(doc, "title: 'Clean'"), IMAGES_MIME));
      checkGrid(p, { rows: ['Clean', 'Noisy (factor 0.4)'], n: params.nImages }, 'clean and noisy');
    });

    it('model summary: 2,633 parameters in four convolutions', () => {
      const p = json<SummaryPayload>(onlyItem(cellWith(doc, 'const denoiser = tf.sequential'), SUMMARY_MIME));
      assert.equal(p.totals.total, (9 * 1 * 16 + 16) + (9 * 16 * 8 + 8) + (9 * 8 * 16 + 16) + (9 * 16 * 1 + 1));
      assert.deepEqual(p.layers.map((l) => l.type), ['Conv2D', 'MaxPooling2D', 'Conv2D', 'MaxPooling2D', 'UpSampling2D', 'Conv2D', 'UpSampling2D', 'Conv2D']);
    });

    it('training: live updates of one chart, ending with loss and val_loss for every epoch, on the fast path', () => {
      const cell = cellWith(doc, 'denoiser.fit(');
      const p = trainingPayload(cell);
      assert.equal(p.state, 'done');
      assert.equal(p.epoch, params.epochs);
      assert.equal(p.history.loss.length, params.epochs);
      assert.equal(p.history.val_loss?.length, params.epochs, 'the validation curve');
      assert.ok(fitRecord.changes.length >= 2, `the chart was updated live (${fitRecord.changes.length} updates)`);
      assert.equal(cell.outputs.length, 1, 'one output: no note about the generic path');
    });

    it('noisy / denoised / clean test images, and the error table', () => {
      const p = json<ImagesPayload>(onlyItem(cellWith(doc, 'const shown = tf.tidy'), IMAGES_MIME));
      assert.deepEqual(p.rows.map((r) => r.title), ['Noisy input', 'Denoised', 'Clean original']);
      for (const row of p.rows) {
        assert.equal(row.images.length, params.nImages);
        for (const img of row.images) assert.equal(base64ToBytes(img.data).length, PIXELS, `${row.title}: 28x28 pixels`);
      }
      assert.ok(p.rows[1].images.every((i) => /^mse \d\.\d{4}$/.test(i.caption ?? '')), 'the denoised images carry their error');
      const table = text(onlyItem(cellWith(doc, 'const [noisyMse, denoisedMse]'), 'text/markdown'));
      assert.match(table, /\| noisy input \| 0\.\d{4} \|/);
    });
  });

  describe('New Empty Notebook', function () {
    this.timeout(120_000);
    it('creates an untitled notebook whose first code cell loads MNIST and shows the first digits with their labels', async () => {
      const result = await vscode.commands.executeCommand<vscode.Uri | undefined>(COMMANDS.newNotebook);
      assert.ok(result instanceof vscode.Uri, `the command returns the new notebook's Uri, got ${String(result)}`);
      const doc = await waitFor(() => vscode.workspace.notebookDocuments.find((d) => d.uri.toString() === result.toString()), () => 'the new notebook', 10_000);
      await showNotebook(doc);
      await runAll(doc);
      const [cell] = codeCells(doc);
      assertSucceeded(cell);
      const p = json<ImagesPayload>(onlyItem(cell, IMAGES_MIME));
      // The first eight labels of MNIST's official training split.
      assert.deepEqual(p.rows[0].images.map((i) => i.caption), ['5', '0', '4', '1', '9', '2', '1', '3']);
      assert.equal(valueText(cell), '[ 60000, 28, 28 ]', describeCell(cell));
      await closeAll();
    });
  });
}
