// Golden bytes: the `.aenb` text written for the samples, and for outputs made
// by the kernel's builders (training, images with their PNG fallback, summary,
// text, stream, error, the latent-space map, the interpolation strip and the
// reconstruction errors), must not change when the code that makes them is
// restructured. The goldens were written before the restructuring (the latent
// kinds' outputs added with them, deliberately); update them
// (AENB_UPDATE_GOLDEN=1) only for a deliberate change of the format. PNG
// fallbacks and deflated image blocks are compared by their inflated bytes:
// the deflate bytes come from node:zlib and may differ between zlib builds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import * as tf from '@tensorflow/tfjs';
import { createCodeCell, createMarkdownCell, createNotebook, parseNotebook, serializeNotebook } from '../../src/common/aenb';
import { valueOutput } from '../../src/kernel/display';
import { errorOutput, streamOutput, textOutput } from '../../src/outputs';
import { imagesOutput } from '../../src/outputs/images/kernel';
import { summaryOutput } from '../../src/outputs/summary/kernel';
import { historyPayload, progressPayload, trainingOutput } from '../../src/outputs/training/kernel';
import { errorsOutput } from '../../src/outputs/errors/kernel';
import { buildLatent } from '../../src/outputs/latent/kernel';
import { latentOutputItems } from '../../src/outputs/latent/contract';
import { interpolateOutput } from '../../src/outputs/latent/kernel-interpolate';
import { toOutput } from '../../src/outputs/payload';
import { Autoencoder, StackedAutoencoder } from '../../src/lib/models';
import { History, type TrainingProgress } from '../../src/lib/training';

const ROOT = join(__dirname, '..', '..', '..');
const GOLDEN = join(ROOT, 'test', 'fixtures', 'golden', 'outputs.aenb');

test('the samples and fixtures are written back byte for byte', () => {
  const files = [
    ...readdirSync(join(ROOT, 'samples')).filter((f) => f.endsWith('.aenb')).map((f) => join(ROOT, 'samples', f)),
    join(ROOT, 'test', 'fixtures', 'aenb', 'realistic.aenb'),
    GOLDEN,
  ];
  assert.ok(files.length >= 4);
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    assert.equal(serializeNotebook(parseNotebook(text, f)), text, f);
  }
});

async function goldenNotebook(): Promise<string> {
  const batchLosses = Array.from({ length: 23 }, (_, i) => 0.7 / (1 + i / 3) + (i % 4) * 0.001);
  const progress: TrainingProgress = {
    runId: 'run-golden',
    phase: 'batch',
    model: 'autoencoder',
    epoch: 3,
    epochs: 5,
    batch: 3,
    batchesPerEpoch: 10,
    batchSize: 32,
    samples: 320,
    loss: 0.1234,
    samplesPerSecond: 12345.678,
    etaSeconds: 61.5,
    elapsedSeconds: 12.25,
    history: { loss: [0.5, 0.25], val_loss: [0.55, Number.NaN] },
    batchLosses,
  };
  const h = new History({ epochs: 5, batchSize: 32, samples: 320, steps: 10, model: 'autoencoder' });
  h.epoch = [0, 1, 2];
  h.history = { loss: [0.5, 0.25, 0.125], val_loss: [0.55, 0.3, 0.2] };
  h.batchLosses = batchLosses.slice(0, 21);
  h.durationMs = 4321;
  h.stopped = true;
  h.stopReason = 'interrupted by the user';

  tf.setBackend('cpu');
  const grid = tf.tidy(() => tf.linspace(0, 1, 3 * 7 * 5).reshape([3, 7, 5]));
  const vanilla = new Autoencoder({ inputShape: [28, 28], latentDim: 64 });
  const stacked = new StackedAutoencoder({ inputShape: [28, 28], layers: [64, 36], outputActivation: 'sigmoid' });
  // the latent kinds, from a small seeded model on fixed inputs (cpu backend: the same floats everywhere)
  const small = new Autoencoder({ inputShape: [4, 4], latentDim: 3, seed: 5, name: 'golden' });
  const xs = tf.tidy(() => tf.linspace(0, 1, 12 * 16).reshape([12, 4, 4]).pow(tf.linspace(0.5, 2, 16).reshape([1, 4, 4])));
  const ys = tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2], 'int32');
  const map = await buildLatent(small, xs, { labels: ys, classNames: ['a', 'b', 'c'], n: 10 });
  const latentOutputs = [
    toOutput(latentOutputItems(map.payload)),
    interpolateOutput(small, xs.slice(0, 1), xs.slice(5, 1), { steps: 3 }),
    errorsOutput(small, xs, { labels: ys, k: 2 }),
  ];
  tf.dispose([xs, ys]);
  small.dispose();
  const cell = createCodeCell('show.everything();');
  cell.outputs = [
    trainingOutput((progressPayload(progress))),
    trainingOutput((progressPayload({ ...progress, phase: 'end', stopped: false }))),
    trainingOutput((historyPayload(h, 'golden history'))),
    imagesOutput([{ title: 'Original', images: grid, captions: ['a', 'b', 'c'] }, { title: 'Twice', images: tf.tidy(() => grid.mul(2)) }], { title: 'grid' }),
    imagesOutput([{ title: 'Gray', images: grid }], { colormap: 'gray' }),
    summaryOutput(vanilla),
    summaryOutput(stacked),
    textOutput('plain'),
    valueOutput(tf.tensor([1, 2, 3])) ?? textOutput(''),
    streamOutput('stdout', 'line 1\nline 2\n'),
    errorOutput(Object.assign(new Error('boom'), { stack: 'Error: boom\n    at Cell 1:1:1' })),
    ...latentOutputs,
  ];
  cell.execution = { order: 1, success: true, durationMs: 5, startedAt: '2026-01-01T00:00:00.000Z' };
  grid.dispose();
  return serializeNotebook(createNotebook([createMarkdownCell('# Golden\n'), cell], { title: 'golden' }));
}

/** The text with every PNG's base64 replaced by its header and inflated scanlines, and every deflated image block by its bytes. */
function pngsAsPixels(text: string): string {
  text = text.replace(/"data": "([A-Za-z0-9+/=]*)",(\s*)"encoding": "deflate"/g, (_, b64: string, ws: string) => `"data": "inflated ${inflateSync(Buffer.from(b64, 'base64')).toString('base64')}",${ws}"encoding": "deflate"`);
  return text.replace(/"(iVBORw0KGgo[A-Za-z0-9+/=]*)"/g, (_, b64: string) => {
    const png = Buffer.from(b64, 'base64');
    const idat: Buffer[] = [];
    let header = '';
    for (let o = 8; o < png.length; ) {
      const len = png.readUInt32BE(o);
      const type = png.toString('latin1', o + 4, o + 8);
      if (type === 'IHDR') header = png.subarray(o + 8, o + 8 + len).toString('hex');
      if (type === 'IDAT') idat.push(png.subarray(o + 8, o + 8 + len));
      o += 12 + len;
    }
    return `"png ${header} ${inflateSync(Buffer.concat(idat)).toString('base64')}"`;
  });
}

test('outputs made by the kernel builders are written with the golden bytes', async () => {
  const text = await goldenNotebook();
  if (process.env.AENB_UPDATE_GOLDEN === '1') writeFileSync(GOLDEN, text);
  const golden = readFileSync(GOLDEN, 'utf8');
  assert.ok(/"iVBORw0KGgo/.test(golden), 'the golden holds PNG fallbacks');
  assert.ok(/"encoding": "deflate"/.test(golden), 'the golden holds deflated image blocks');
  assert.equal(pngsAsPixels(text), pngsAsPixels(golden));
});
