// Serializer benchmark (not a test): how long VS Code waits for our
// NotebookSerializer on a notebook with a long training output. VS Code
// calls serializeNotebook for every save and every hot-exit backup, and
// deserializeNotebook on every open and revert, on the extension host's one
// thread; the goal is under 50 ms for a notebook with a 20-epoch run of
// 1,875 batches per epoch (MNIST at batch size 32).
//
// It times the exact functions the extension's serializer runs
// (src/notebook/convert.ts), on the data shapes VS Code hands it (output
// items as bytes), after a warm-up, and prints medians and p95s:
//   npm run bench:serializer
import { createCodeCell, createMarkdownCell, createNotebook, serializeNotebook, parseNotebook, type AenbNotebook } from '../src/common/aenb';
import { batchSeries, imagesOutputItems, imagesPayload, newTrainingPayload, summaryOutputItems, summaryPayload, toOutput, trainingOutputItems } from '../src/outputs';
import { mulberry32 } from '../src/lib/random';
import { notebookFromBytes, notebookFromPlain, notebookToBytes, notebookToPlain } from '../src/notebook/convert';

const EPOCHS = Number(process.env.AENB_BENCH_EPOCHS ?? 20);
const BATCHES = Number(process.env.AENB_BENCH_BATCHES ?? 1875);
const RUNS = Number(process.env.AENB_BENCH_RUNS ?? 30);
const GOAL_MS = 50;

/** The vanilla sample after a run: a training output of EPOCHS x BATCHES points, a summary and two image grids. */
export function executedNotebook(epochs = EPOCHS, batchesPerEpoch = BATCHES, state: 'done' | 'running' = 'done'): AenbNotebook {
  const rng = mulberry32(7);
  const train = newTrainingPayload({ runId: 'bench', epochs, batchesPerEpoch, title: 'Autoencoder', samples: batchesPerEpoch * 32, batchSize: 32 });
  const done = state === 'done' ? epochs : epochs - 1;
  const losses = new Float32Array(done * batchesPerEpoch + (state === 'running' ? batchesPerEpoch >> 1 : 0));
  for (let i = 0; i < losses.length; i++) losses[i] = 0.07 + 0.2 * Math.exp(-i / batchesPerEpoch / 3) + 0.01 * rng();
  train.state = state;
  train.epoch = done;
  train.batch = state === 'running' ? batchesPerEpoch >> 1 : 0;
  train.history = { loss: Array.from({ length: done }, (_, e) => 0.07 + 0.2 * Math.exp(-e / 3)), val_loss: Array.from({ length: done }, (_, e) => 0.071 + 0.2 * Math.exp(-e / 3)) };
  train.batches = batchSeries(losses);
  train.elapsedSeconds = 95;
  train.samplesPerSecond = 40000;
  const image = () => ({ width: 28, height: 28, pixels: Uint8Array.from({ length: 784 }, () => Math.floor(rng() * 256)) });
  const grid = imagesPayload([
    { title: 'Original', images: Array.from({ length: 8 }, image) },
    { title: 'Reconstructed', images: Array.from({ length: 8 }, image) },
  ]);
  const summary = summaryPayload('Autoencoder', [
    { name: 'dense', type: 'Dense', outputShape: [null, 64], params: 50240, trainable: true },
    { name: 'dense_1', type: 'Dense', outputShape: [null, 784], params: 50960, trainable: true },
  ]);
  const cells = [
    createMarkdownCell('# A vanilla autoencoder on MNIST\n\nTrains, then shows reconstructions.'),
    createCodeCell('const epochs = 20;\nconst batchSize = 32;', { tags: ['parameters'] }),
    createCodeCell('const [[xTrain], [xTest]] = await datasets.mnist.loadData();'),
    Object.assign(createCodeCell('const autoencoder = new Autoencoder({ inputShape: [28, 28], latentDim: 64 });\nautoencoder'), { outputs: [toOutput(summaryOutputItems(summary))] }),
    Object.assign(createCodeCell('await autoencoder.fit(x, x, { epochs, batchSize });'), { outputs: [toOutput(trainingOutputItems(train))] }),
    Object.assign(createCodeCell('show.reconstructions(autoencoder, xTest.div(255), { n: 8 });'), { outputs: [toOutput(imagesOutputItems(grid))] }),
  ];
  return createNotebook(cells);
}

function stats(xs: number[]): { median: number; p95: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], p95: s[Math.min(s.length - 1, Math.floor(0.95 * s.length))], max: s[s.length - 1] };
}

function time(fn: () => unknown, runs = RUNS): number[] {
  for (let i = 0; i < 3; i++) fn();
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    out.push(performance.now() - t0);
  }
  return out;
}

function main(): void {
  const rows: [string, ReturnType<typeof stats>][] = [];
  for (const state of ['done', 'running'] as const) {
    const nb = executedNotebook(EPOCHS, BATCHES, state);
    const plain = notebookToPlain(nb);
    const bytes = notebookToBytes(plain);
    const label = `${EPOCHS} epochs x ${BATCHES.toLocaleString('en-US')} batch points, ${state}`;
    if (state === 'done') console.log(`notebook: ${(bytes.byteLength / 1e6).toFixed(2)} MB on disk (${label})`);
    rows.push([`serializeNotebook (save, backup), ${state}`, stats(time(() => notebookToBytes(plain)))]);
    rows.push([`  of which: VS Code data -> .aenb model`, stats(time(() => notebookFromPlain(plain)))]);
    const model = notebookFromPlain(plain);
    rows.push([`  of which: writing the text`, stats(time(() => serializeNotebook(model)))]);
    const text = serializeNotebook(model);
    rows.push([`  of which: re-reading it (never write what cannot be opened)`, stats(time(() => parseNotebook(text)))]);
    if (state === 'done') rows.push([`deserializeNotebook (open, revert)`, stats(time(() => notebookFromBytes(bytes)))]);
  }
  const w = Math.max(...rows.map(([k]) => k.length));
  console.log(`${'step'.padEnd(w)}  median ms  p95 ms   max ms   (n=${RUNS})`);
  for (const [k, s] of rows) console.log(`${k.padEnd(w)}  ${s.median.toFixed(2).padStart(9)}  ${s.p95.toFixed(2).padStart(6)}  ${s.max.toFixed(2).padStart(7)}`);
  const worst = Math.max(...rows.filter(([k]) => !k.startsWith('  ')).map(([, s]) => s.median));
  console.log(`goal: every median under ${GOAL_MS} ms: ${worst < GOAL_MS ? 'met' : 'NOT met'} (worst ${worst.toFixed(1)} ms)`);
  if (worst >= GOAL_MS) process.exitCode = 1;
}

if (require.main === module) main();
