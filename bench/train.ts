/**
 * Benchmark: one epoch of each seed model on the real data, on the wasm
 * backend, with and without our matMul transpose fix, side by side.
 *
 *   npm run build && node out/bench/train.js [--epochs-samples N] [--reps R] [--batch 32,256]
 *
 * Each measurement runs in a fresh child process (the fix is process-wide),
 * alternating the two variants, and the table reports medians and the ratio.
 * A matMul micro-benchmark at 256x784x64 runs first, in both variants too.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/lib/backend';
import { loadRaw } from '../src/lib/data';
import { Autoencoder, StackedAutoencoder } from '../src/lib/models';

type Variant = 'fixed' | 'unfixed';
type ModelKind = 'vanilla' | 'stacked';

interface TrainResult {
  kind: 'train';
  variant: Variant;
  model: ModelKind;
  batch: number;
  samples: number;
  seconds: number;
  samplesPerSecond: number;
  loss: number;
  tensorsBefore: number;
  tensorsAfter: number;
}

interface MatMulResult {
  kind: 'matmul';
  variant: Variant;
  gflops: Record<string, number>;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function childMatMul(variant: Variant): Promise<MatMulResult> {
  await initBackend('wasm', { disableWasmMatMulFix: variant === 'unfixed' });
  const [m, k, n] = [256, 784, 64];
  const a = tf.randomNormal([m, k]);
  const at = tf.randomNormal([k, m]);
  const b = tf.randomNormal([k, n]);
  const bt = tf.randomNormal([n, k]);
  const cases: Record<string, () => tf.Tensor> = {
    'A·B': () => tf.matMul(a, b),
    'Aᵀ·B (dW)': () => tf.matMul(at, b, true, false),
    'A·Bᵀ (dX)': () => tf.matMul(a, bt, false, true),
  };
  const gflops: Record<string, number> = {};
  for (const [name, f] of Object.entries(cases)) {
    for (let i = 0; i < 5; i++) tf.dispose(f());
    const reps = 60;
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) tf.dispose(f());
    const ms = (performance.now() - t0) / reps;
    gflops[name] = (2 * m * k * n) / (ms * 1e6);
  }
  return { kind: 'matmul', variant, gflops };
}

async function childTrain(variant: Variant, model: ModelKind, batch: number, samples: number): Promise<TrainResult> {
  await initBackend('wasm', { disableWasmMatMulFix: variant === 'unfixed' });
  const raw = await loadRaw(model === 'vanilla' ? 'mnist' : 'fashion-mnist', { download: false });
  const count = Math.min(samples, raw.train.count);
  const x = tf.tidy(() => tf.div(tf.tensor3d(raw.train.images.subarray(0, count * 784), [count, 28, 28], 'float32'), 255)) as tf.Tensor3D;
  const ae =
    model === 'vanilla'
      ? new Autoencoder({ inputShape: [28, 28], latentDim: 64, seed: 1 })
      : new StackedAutoencoder({ inputShape: [28, 28], layers: [64, 36], seed: 1 });
  ae.compile({ loss: 'binaryCrossentropy', optimizer: 'adam' });
  // Warm-up: the first steps compile wasm paths and create the optimizer's slots.
  await ae.fit(x.slice(0, batch * 4), x.slice(0, batch * 4), { epochs: 1, batchSize: batch, verbose: 0 });
  const tensorsBefore = tf.memory().numTensors;
  const t0 = performance.now();
  const h = await ae.fit(x, x, { epochs: 1, batchSize: batch, verbose: 0, seed: 1 });
  const seconds = (performance.now() - t0) / 1000;
  const tensorsAfter = tf.memory().numTensors;
  return { kind: 'train', variant, model, batch, samples: count, seconds, samplesPerSecond: count / seconds, loss: h.history.loss[0], tensorsBefore, tensorsAfter };
}

function runChild(args: string[]): TrainResult | MatMulResult {
  const out = execFileSync(process.execPath, [__filename, '--child', ...args], { encoding: 'utf8', maxBuffer: 1 << 20 });
  const line = out.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as TrainResult | MatMulResult;
}

async function main(): Promise<void> {
  if (process.argv.includes('--child')) {
    const [, , , what, variant, model, batch, samples] = process.argv;
    const result = what === 'matmul' ? await childMatMul(variant as Variant) : await childTrain(variant as Variant, model as ModelKind, Number(batch), Number(samples));
    process.stdout.write(JSON.stringify(result) + '\n');
    return;
  }
  const samples = Number(arg('samples', '60000'));
  const reps = Number(arg('reps', '1'));
  const batches = arg('batch', '32,256').split(',').map(Number);
  const variants: Variant[] = ['unfixed', 'fixed'];
  console.log(`wasm backend, ${samples} samples per epoch, ${reps} repetition(s), variants alternate in fresh processes\n`);

  const mm: Record<Variant, MatMulResult> = {} as never;
  for (const v of variants) mm[v] = runChild(['matmul', v]) as MatMulResult;
  console.log('matMul 256x784x64, GFLOP/s');
  console.log('case'.padEnd(14) + 'tfjs as is'.padStart(12) + 'with fix'.padStart(12) + 'speed-up'.padStart(10));
  for (const name of Object.keys(mm.fixed.gflops)) {
    const u = mm.unfixed.gflops[name];
    const f = mm.fixed.gflops[name];
    console.log(name.padEnd(14) + u.toFixed(2).padStart(12) + f.toFixed(2).padStart(12) + `${(f / u).toFixed(2)}x`.padStart(10));
  }

  const rows: { model: ModelKind; batch: number; unfixed: TrainResult[]; fixed: TrainResult[] }[] = [];
  for (const model of ['vanilla', 'stacked'] as ModelKind[]) {
    for (const batch of batches) {
      const row = { model, batch, unfixed: [] as TrainResult[], fixed: [] as TrainResult[] };
      for (let r = 0; r < reps; r++) {
        for (const v of r % 2 ? [...variants].reverse() : variants) {
          const res = runChild(['train', v, model, String(batch), String(samples)]) as TrainResult;
          row[v].push(res);
          process.stderr.write(`  ${model} batch ${batch} ${v}: ${res.samplesPerSecond.toFixed(0)} samples/s, loss ${res.loss.toFixed(4)}\n`);
        }
      }
      rows.push(row);
    }
  }
  console.log('\nOne epoch, samples per second (median)');
  console.log('model'.padEnd(22) + 'batch'.padStart(6) + 'tfjs as is'.padStart(12) + 'with fix'.padStart(12) + 'speed-up'.padStart(10) + 'epoch s (fix)'.padStart(15) + 'leak'.padStart(6));
  for (const r of rows) {
    const u = median(r.unfixed.map((x) => x.samplesPerSecond));
    const f = median(r.fixed.map((x) => x.samplesPerSecond));
    const leak = [...r.unfixed, ...r.fixed].some((x) => x.tensorsAfter !== x.tensorsBefore) ? 'YES' : 'no';
    const label = r.model === 'vanilla' ? 'vanilla 784-64-784' : 'tied 784-64-36';
    console.log(
      label.padEnd(22) + String(r.batch).padStart(6) + u.toFixed(0).padStart(12) + f.toFixed(0).padStart(12) + `${(f / u).toFixed(2)}x`.padStart(10) +
        median(r.fixed.map((x) => x.seconds)).toFixed(1).padStart(15) + leak.padStart(6),
    );
  }
  const dir = path.join(process.cwd(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'train-matmul-fix.json');
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), samples, reps, matmul: mm, rows }, null, 2) + '\n');
  console.log(`\nwritten: ${path.relative(process.cwd(), file)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
