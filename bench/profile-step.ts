/**
 * `npm run bench:profile`: where one epoch of the lean training step spends
 * its time, on the parallel engine and on the single-threaded path.
 *
 * Each configuration trains in a fresh process (started with relaxed SIMD
 * where Node needs a flag): one warm-up fit on another instance, then one
 * epoch with the engine's profiler on (src/lib/engine/profile.ts). Printed
 * per configuration: the epoch; the step's pieces (copying the batch in,
 * each kind of job: products by shape, element-wise kernels, the optimizer),
 * with how many calls went to the worker threads, how long the main thread
 * then waited for their parts (synchronisation), and how the parts were
 * shared; what the step spends outside the jobs (JS), and what the training
 * loop spends outside the step (history, progress, yields). Products also
 * show their achieved GFLOP/s.
 *
 *   npm run bench:profile -- [--model vanilla|stacked|deep] [--batch 32,256] [--samples 20000] [--configs 2:fma,2:plain,1]
 */
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/lib/backend';
import { setComputeOptions, describeCompute } from '../src/lib/compute';
import { loadRaw } from '../src/lib/data';
import { relaxedSimdNodeFlags, startProfile, stopProfile, type ProfileEntry } from '../src/lib/engine';
import { Autoencoder, StackedAutoencoder, type AutoencoderModel } from '../src/lib/models';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

/** The seeds' models, and the Keras blog's deep one (784-128-64-32-64-128-784, ReLU) as our Autoencoder. */
type ModelKind = 'vanilla' | 'stacked' | 'deep';

interface ChildArgs { model: ModelKind; batch: number; samples: number; threads: number; fma: boolean }
interface ChildResult { text: string; ms: number; samples: number; batches: number; entries: [string, ProfileEntry][] }

function makeModel(kind: ModelKind): AutoencoderModel {
  if (kind === 'deep') return new Autoencoder({ inputShape: [28, 28], latentDim: 32, hidden: [128, 64], activation: 'relu', seed: 1 });
  return kind === 'vanilla'
    ? new Autoencoder({ inputShape: [28, 28], latentDim: 64, seed: 1 })
    : new StackedAutoencoder({ inputShape: [28, 28], layers: [64, 36], seed: 1 });
}

async function child(a: ChildArgs): Promise<ChildResult> {
  setComputeOptions({ threads: a.threads, fma: a.fma });
  const info = await initBackend('wasm');
  if (info.name !== 'wasm') throw new Error(`wasm did not start: ${info.reason}`);
  const raw = await loadRaw(a.model === 'stacked' ? 'fashion-mnist' : 'mnist', { download: false });
  const count = Math.min(a.samples, raw.train.count);
  const x = tf.tidy(() => tf.div(tf.tensor3d(raw.train.images.subarray(0, count * 784), [count, 28, 28], 'float32'), 255)) as tf.Tensor3D;
  const warm = makeModel(a.model);
  warm.compile();
  const wx = x.slice(0, Math.min(count, a.batch * 8));
  await warm.fit(wx, wx, { epochs: 1, batchSize: a.batch, verbose: 0 });
  wx.dispose();
  warm.dispose();
  const ae = makeModel(a.model);
  ae.compile({ loss: 'binaryCrossentropy', optimizer: 'adam' });
  startProfile();
  const t0 = performance.now();
  await ae.fit(x, x, { epochs: 1, batchSize: a.batch, verbose: 0, seed: 1 });
  const ms = performance.now() - t0;
  const entries = [...stopProfile()];
  return { text: describeCompute(), ms, samples: count, batches: Math.ceil(count / a.batch), entries };
}

/** Multiply-adds ×2 of a product labelled "gemm MxNxK…". */
function gemmFlops(label: string): number {
  const m = /^gemm (\d+)x(\d+)x(\d+)/.exec(label);
  return m ? 2 * Number(m[1]) * Number(m[2]) * Number(m[3]) : 0;
}

function report(r: ChildResult): void {
  const per = (ms: number) => ((ms * 1000) / r.batches).toFixed(1).padStart(8);
  const byLabel = new Map(r.entries);
  const step = byLabel.get('step (all)')?.ms ?? NaN;
  const load = byLabel.get('load batch')?.ms ?? 0;
  const outside = ['building the step', 'weights written back (flush)', 'end of training (threads ended)', 'training loop: yields to the event loop', 'fit: range check of the targets', 'fit: set-up before the first batch'];
  const outsideMs = outside.reduce((s, l) => s + (byLabel.get(l)?.ms ?? 0), 0);
  const jobs = r.entries.filter(([l]) => l !== 'step (all)' && l !== 'load batch' && !outside.includes(l));
  const jobMs = jobs.reduce((s, [, e]) => s + e.ms, 0);
  const waitMs = jobs.reduce((s, [, e]) => s + e.waitMs, 0);
  console.log(`\n${r.text}: ${r.samples.toLocaleString('en-US')} samples in ${(r.ms / 1000).toFixed(2)} s = ${Math.round((r.samples * 1000) / r.ms).toLocaleString('en-US')} samples/s; ${r.batches} batches, ${((r.ms * 1000) / r.batches).toFixed(1)} µs per batch`);
  console.log(`${'µs/batch'.padStart(8)}  ${'share'.padStart(5)}  piece`);
  const line = (ms: number, what: string) => console.log(`${per(ms)}  ${((100 * ms) / r.ms).toFixed(1).padStart(5)}  ${what}`);
  for (const l of outside) if (byLabel.has(l)) line(byLabel.get(l)!.ms, `${l} (${byLabel.get(l)!.count} calls)`);
  line(r.ms - step - outsideMs, 'rest of the training loop (batch order, history, progress, yields)');
  line(load, 'copying the batch in');
  if (jobs.length) line(step - load - jobMs, 'JS of the step outside the jobs (layer ops, argument writing)');
  else line(step - load, 'the step on the backend (XNNPACK products and SIMD kernels; not broken down)');
  for (const [label, e] of jobs.sort((a, b) => b[1].ms - a[1].ms)) {
    const flops = gemmFlops(label) * e.count;
    const extra = [
      `${(e.count / r.batches).toFixed(1)}/batch`,
      e.shared ? `${e.shared === e.count ? 'all' : e.shared} shared, wait ${((e.waitMs * 1000) / r.batches).toFixed(1)} µs/batch, parts main/workers ${e.ownParts}/${e.workerParts}` : 'on the main thread',
      flops ? `${(flops / (e.ms * 1e6)).toFixed(1)} GFLOP/s` : '',
    ].filter(Boolean);
    line(e.ms, `${label} (${extra.join('; ')})`);
  }
  if (jobs.length) console.log(`${per(jobMs)}  ${((100 * jobMs) / r.ms).toFixed(1).padStart(5)}  all jobs, of which waiting for workers ${per(waitMs).trim()} µs/batch`);
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    const r = await child(JSON.parse(process.argv[3]) as ChildArgs);
    process.stdout.write(JSON.stringify(r) + '\n');
    return;
  }
  const model = option('model', 'vanilla') as ModelKind;
  if (model !== 'vanilla' && model !== 'stacked' && model !== 'deep') throw new Error(`--model must be vanilla, stacked or deep, got ${model}`);
  const batches = option('batch', '32,256').split(',').map(Number);
  const samples = Number(option('samples', '20000'));
  const configs = option('configs', '2:fma,2:plain,1').split(',').map((c) => {
    const [t, f] = c.split(':');
    return { threads: Number(t), fma: f === 'fma' };
  });
  for (const batch of batches) {
    for (const c of configs) {
      const args: ChildArgs = { model, batch, samples, threads: c.threads, fma: c.fma };
      const r = spawnSync(process.execPath, [...relaxedSimdNodeFlags(), __filename, '--child', JSON.stringify(args)], { encoding: 'utf8', maxBuffer: 64 << 20 });
      const last = r.stdout.trim().split('\n').pop() ?? '';
      let res: ChildResult;
      try {
        res = JSON.parse(last) as ChildResult;
      } catch {
        console.log(`\n${model} b${batch} ${JSON.stringify(c)}: failed (status ${r.status}): ${(r.stderr || r.stdout).trim().split('\n').slice(-5).join(' | ')}`);
        continue;
      }
      console.log(`\n== ${model} b${batch}`);
      report(res);
    }
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
