/**
 * `npm run bench`: our training speed against PyTorch, side by side, with
 * correctness checks in the same run.
 *
 * Each seed model (vanilla 784-64-784 on MNIST, tied 784-64-36 on
 * Fashion-MNIST) trains for one epoch of the real data at each batch size,
 * on every backend that starts (wasm; cpu with fewer samples, it is very
 * slow; tensorflow when @tensorflow/tfjs-node loads), and the PyTorch peer
 * (bench/peers/torch_ae.py) trains the same model from the same initial
 * weights on the same data in the same order. Every measurement runs in a
 * fresh process; ours and PyTorch's alternate, the order flipping each
 * repetition; the table gives medians.
 *
 * Checks (the run exits with status 1 when one fails):
 *  - PyTorch and we start identical: same first shuffled indices, same loss
 *    before training (relative ≤ 1e-6; both summed in float64);
 *  - after one epoch, the trained models agree: loss on the first 1,024
 *    samples, in float64, relative ≤ 1e-4, ours vs PyTorch, and the lean wasm
 *    step vs the generic path (tensors + optimizer.minimize) and vs tfjs's own
 *    LayersModel.fit; the epoch losses each reports agree within 1e-3
 *    (tfjs's are float32 means of 200,000 terms per batch);
 *  - the batch losses of the first STEPS_COMPARED steps agree step by step, same pairs, each summed in float64
 *    from the step's float32 predictions, within twice PyTorch's own float32-vs-float64 drift over those steps
 *    (an untimed PyTorch float64 run of those steps, same bench) plus the float32 rounding of a reported loss;
 *  - a model that is chaotic in float32 (the deep one: bench/README.md) gets full-epoch tolerances of
 *    twice PyTorch's spread against itself (its float32 runs vs a float64 run, same bench);
 *  - repeated runs give identical losses;
 *  - no tensor leaks: a further fit leaves the tensor count unchanged (the
 *    first epoch adds exactly Adam's two slots per variable);
 *  - peak RSS while training the stacked seed stays under 1.5 GB.
 *
 *   npm run bench -- [--reps 3] [--batch 32,256] [--models vanilla,stacked]
 *                    [--backends wasm,cpu,tensorflow] [--samples 60000]
 *                    [--cpu-samples 2000] [--threads 2,1] [--no-torch]
 *                    [--no-checks] [--quick] [--out bench/results/vs-torch.json]
 *   npm run bench -- --trace [--models deep] [--batch 32] [--steps 300]: per-step divergence of every
 *                    implementation from the same weights (bug or float32 chaos?), no timing
 *   AENB_TORCH_PYTHON=/path/to/python  (default /usr/bin/python3)
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendName } from '../src/lib/backend';
import { loadRaw, locate, type DatasetName } from '../src/lib/data';
import { binaryCrossentropy } from '../src/lib/losses';
import { Autoencoder, StackedAutoencoder, type AutoencoderModel } from '../src/lib/models';
import { makeRng, permutation } from '../src/lib/random';
import { lastTrainingPath, setLeanTraining } from '../src/lib/training';
import { fitDecision, readsOnlyLogs } from '../src/lib/lean';
import { wasmInternals } from '../src/lib/wasm-train-step';
import { chooseKernel, type KernelChoice } from './openblas';
import { computeSettings, describeCompute, setComputeOptions } from '../src/lib/compute';
import { relaxedSimdNodeFlags } from '../src/lib/engine';

type ModelKind = 'vanilla' | 'stacked' | 'simple' | 'simple-ours' | 'deep' | 'deep-ours' | 'conv';
type Variant = 'ours' | 'generic' | 'layers-fit';
const MODEL_KINDS: readonly ModelKind[] = ['vanilla', 'stacked', 'simple', 'simple-ours', 'deep', 'deep-ours', 'conv'];

const SEED = 1;
const WARMUP_BATCHES = 4;
/**
 * Relative tolerances. `initial` and `final`: the float64 loss of the model on the first 1,024 samples,
 * before and after the epoch (compares weights). `epoch`: the mean of the per-batch losses each library
 * reports; tfjs sums a batch's 200,000 terms in float32, so those carry ~1e-4 of summation error.
 */
const TOL = { initial: 1e-6, final: 1e-4, epoch: 1e-3, step: 1e-5, stepReport: 2 ** -23 };
/**
 * Per-step check: the batch losses of the first STEPS_COMPARED steps, step by step. Every side reports the same
 * quantity: the batch's cross-entropy summed in float64 from the step's float32 predictions (the lean step's loss
 * kernel sums in float64; the generic path's is recomputed from its predictions, `recordingLoss`; the peer's from
 * copies of its predictions, `stepLosses`), so what remains is the float32 drift of training itself. Tolerance
 * (bench/README.md, "Per-step checks"): CHAOS_MARGIN × PyTorch's own drift over those steps (its float32 runs vs
 * a float64 run from the same weights on the same batches, measured in the same bench), plus TOL.stepReport
 * (2^-23: a loss reported in float32 on either side is rounded once, ≤ 2^-24 relative each); TOL.step without a
 * PyTorch float64 run (--no-torch). Over those steps every model, even the chaotic deep one, agrees to float32
 * rounding: a wrong gradient or optimizer shows here at once, long before chaos.
 */
const STEPS_COMPARED = 100;
/** The per-step tolerance: this many times PyTorch's drift against itself over the steps compared (float32 vs float64). */
const CHAOS_MARGIN = 2;
/**
 * A chaotic model's full-epoch tolerance. Runs that differ only in float32 rounding end its epoch apart by a
 * random amount, so the tolerance comes from a sample of such runs, all PyTorch's, in the same bench: its timed
 * float32 run per thread count, its float64 run, and PERTURBED_RUNS float32 runs from the same start nudged by
 * one unit in the last place per weight (the peer's `perturb`). σ is their standard deviation (relative to
 * their mean); two correct runs differ by √2·σ on average, and a check allows CHAOS_SIGMAS times that.
 */
const PERTURBED_RUNS = 4;
const CHAOS_SIGMAS = 5;
const RSS_LIMIT_MB = 1536;

type DenseSpec = { in: number; out: number; activation: 'relu' | 'sigmoid' | 'linear' }[];
type ConvSpec = ({ type: 'conv'; in: number; out: number; kernel: number; activation: 'relu' | 'sigmoid' } | { type: 'maxpool' | 'upsample'; size: number })[];

interface ModelDef {
  label: string;
  dataset: DatasetName;
  /** How our side trains it: our classes' fit, or a tfjs model through tfjs's own model.fit. */
  api: 'ours' | 'layers';
  /** Shape of one input sample. */
  input: number[];
  /** Batch sizes when --batch is not given. */
  batches: number[];
  /** Multiply-adds ×2 of one training step per sample. */
  flops: number;
  /** What the PyTorch peer builds. */
  peer: Record<string, unknown>;
  build(): AutoencoderModel | tf.LayersModel;
  /** Samples for the generic-path reference (slow for convolutions): all when undefined. */
  referenceSamples?: number;
  /**
   * Float32 chaos after a full epoch (measured with `--trace`, bench/README.md "The deep model: float32
   * chaos, and a bias correction"): runs that differ only in float32 rounding agree for the first
   * ~160 steps, then part. Its full-epoch checks take their tolerance from the spread of PyTorch's own
   * runs that differ only in rounding (see CHAOS_SIGMAS), never tighter ones below; the per-step check
   * over the first STEPS_COMPARED steps stays as tight as for every model.
   */
  chaotic?: true;
}

const glorot = (i: number) => tf.initializers.glorotUniform({ seed: SEED * 1000 + i });

/** A dense chain as a tfjs model (tf.model, the Keras blog's way) and as the peer's spec. */
function denseChain(units: number[], hidden: 'relu'): { spec: DenseSpec; build: () => tf.LayersModel } {
  const sizes = [784, ...units, 784];
  const spec: DenseSpec = sizes.slice(1).map((out, i) => ({ in: sizes[i], out, activation: i === sizes.length - 2 ? 'sigmoid' : hidden }));
  const build = () => {
    const input = tf.input({ shape: [784] });
    let h: tf.SymbolicTensor = input;
    spec.forEach((l, i) => (h = tf.layers.dense({ units: l.out, activation: l.activation, kernelInitializer: glorot(i) }).apply(h) as tf.SymbolicTensor));
    return tf.model({ inputs: input, outputs: h });
  };
  return { spec, build };
}

/** The Keras blog's convolutional autoencoder, as the issue gives it. */
const CONV: ConvSpec = [
  { type: 'conv', in: 1, out: 16, kernel: 3, activation: 'relu' },
  { type: 'maxpool', size: 2 },
  { type: 'conv', in: 16, out: 8, kernel: 3, activation: 'relu' },
  { type: 'maxpool', size: 2 },
  { type: 'upsample', size: 2 },
  { type: 'conv', in: 8, out: 16, kernel: 3, activation: 'relu' },
  { type: 'upsample', size: 2 },
  { type: 'conv', in: 16, out: 1, kernel: 3, activation: 'sigmoid' },
];

function buildConv(): tf.LayersModel {
  let i = 0;
  return tf.sequential({
    layers: CONV.map((l, k) =>
      l.type === 'conv'
        ? tf.layers.conv2d({ filters: l.out, kernelSize: l.kernel, padding: 'same', activation: l.activation, kernelInitializer: glorot(i++), ...(k === 0 ? { inputShape: [28, 28, 1] } : {}) })
        : l.type === 'maxpool'
          ? tf.layers.maxPooling2d({ poolSize: l.size, padding: 'same' })
          : tf.layers.upSampling2d({ size: [l.size, l.size] }),
    ),
  });
}

/** FLOP per sample of a conv chain's training step: forward, filter gradients, and input gradients below the first layer. */
function convFlops(spec: ConvSpec): number {
  let hw = 28;
  let fwd = 0;
  let first = 0;
  for (const l of spec) {
    if (l.type === 'maxpool') hw = Math.ceil(hw / l.size);
    else if (l.type === 'upsample') hw *= l.size;
    else if (l.type === 'conv') {
      const macs = hw * hw * l.kernel * l.kernel * l.in * l.out;
      if (fwd === 0) first = macs;
      fwd += macs;
    }
  }
  return 2 * fwd + 2 * fwd + 2 * (fwd - first);
}

/** FLOP per sample of a dense chain's training step (products of sizes). */
function denseFlops(products: number[]): number {
  const total = products.reduce((a, b) => a + b, 0);
  return 2 * total /* forward */ + 2 * total /* dW */ + 2 * (total - products[0]) /* dX */;
}

const simple = denseChain([32], 'relu');
const deep = denseChain([128, 64, 32, 64, 128], 'relu');

const MODELS: Record<ModelKind, ModelDef> = {
  vanilla: {
    label: 'vanilla 784-64-784', dataset: 'mnist', api: 'ours', input: [28, 28], batches: [32, 256],
    flops: denseFlops([784 * 64, 64 * 784]),
    peer: { model: 'vanilla', layers: [64], alpha: 0.3 },
    build: () => new Autoencoder({ inputShape: [28, 28], latentDim: 64, seed: SEED }),
  },
  stacked: {
    label: 'tied 784-64-36', dataset: 'fashion-mnist', api: 'ours', input: [28, 28], batches: [32, 256],
    flops: denseFlops([784 * 64, 64 * 36, 36 * 64, 64 * 784]),
    peer: { model: 'stacked', layers: [64, 36], alpha: 0.2 },
    build: () => new StackedAutoencoder({ inputShape: [28, 28], layers: [64, 36], seed: SEED }),
  },
  simple: {
    label: 'Keras simple 784-32-784 (tf.model)', dataset: 'mnist', api: 'layers', input: [784], batches: [32, 256],
    flops: denseFlops([784 * 32, 32 * 784]),
    peer: { model: 'dense', dense: simple.spec },
    build: simple.build,
  },
  'simple-ours': {
    label: 'Keras simple 784-32-784 (Autoencoder)', dataset: 'mnist', api: 'ours', input: [28, 28], batches: [32, 256],
    flops: denseFlops([784 * 32, 32 * 784]),
    peer: { model: 'dense', dense: simple.spec },
    build: () => new Autoencoder({ inputShape: [28, 28], latentDim: 32, activation: 'relu', seed: SEED }),
  },
  deep: {
    label: 'Keras deep 784-128-64-32-64-128-784 (tf.model)', dataset: 'mnist', api: 'layers', input: [784], batches: [32, 256],
    flops: denseFlops(deep.spec.map((l) => l.in * l.out)),
    peer: { model: 'dense', dense: deep.spec },
    build: deep.build,
    chaotic: true,
  },
  'deep-ours': {
    label: 'Keras deep 784-128-64-32-64-128-784 (Autoencoder)', dataset: 'mnist', api: 'ours', input: [28, 28], batches: [32, 256],
    flops: denseFlops(deep.spec.map((l) => l.in * l.out)),
    peer: { model: 'dense', dense: deep.spec },
    build: () => new Autoencoder({ inputShape: [28, 28], latentDim: 32, hidden: [128, 64], activation: 'relu', seed: SEED }),
    chaotic: true,
  },
  conv: {
    label: 'Keras conv 16-8-16-1 (tf.sequential)', dataset: 'fashion-mnist', api: 'layers', input: [28, 28, 1], batches: [128],
    flops: convFlops(CONV),
    peer: { model: 'conv', conv: CONV },
    build: buildConv,
    referenceSamples: 6000,
  },
};

const makeModel = (kind: ModelKind) => MODELS[kind].build();
const flopsPerSample = (kind: ModelKind) => MODELS[kind].flops;

/** The model's weights in the order the peer takes them: our classes' unique weights, or tfjs's getWeights(). */
function weightVariables(m: AutoencoderModel | tf.LayersModel): tf.Tensor[] {
  return m instanceof tf.LayersModel ? m.getWeights() : m.trainableVariables();
}

// ---------------------------------------------------------------------------
// Child processes (this same file with --child).

interface ProbeResult { kind: 'probe'; ok: boolean; backend?: BackendName; reason: string }

interface MatMulResult { kind: 'matmul'; cases: { shape: string; gflops: number }[]; ceiling: number }

interface ExportResult { kind: 'export'; file: string; tensors: { name: string; shape: number[]; offset: number }[]; sha256: string }

interface TrainResult {
  kind: 'train';
  variant: Variant;
  backend: BackendName;
  model: ModelKind;
  batch: number;
  samples: number;
  seconds: number;
  samplesPerSecond: number;
  loss: number;
  initialLoss: number;
  /** Float64 loss of the trained model on the first 1,024 samples. */
  finalLoss: number;
  batchLosses: number[];
  /**
   * The per-step check's quantity for the first steps: each batch's loss summed in float64 from the step's
   * float32 predictions. The lean step reports exactly that (its loss kernel sums in float64), so for it these
   * are its batch losses; the generic path's are recomputed from its predictions (see `recordingLoss`).
   */
  stepLosses: number[];
  orderHead: number[];
  path: string;
  weightsSha256: string;
  tensors: { beforeEpoch: number; afterEpoch: number; adamSlots: number; beforeLeakCheck: number; afterLeakCheck: number };
  peakRssMB: number;
  wasmHeapMB?: number;
  /** How ours computed: threads and FMA (compute.ts). */
  compute: { threads: number; fma: boolean; engine: boolean; text: string };
}

interface ErrorResult { kind: 'error'; message: string }

type ChildResult = ProbeResult | MatMulResult | ExportResult | TrainResult | ErrorResult;

interface ChildArgs {
  what: 'probe' | 'matmul' | 'export' | 'train';
  backend?: BackendName;
  model?: ModelKind;
  batch?: number;
  batches?: number[];
  samples?: number;
  variant?: Variant;
  file?: string;
  /** Our threads and fused multiply-add (default: the library's, every core and FMA where the runtime has it). */
  threads?: number;
  fma?: boolean;
  /** Write the trained weights (float32, the peer's order) here after the epoch (`--trace`). */
  dumpWeights?: string;
  /** How many first steps' float64 losses to record (`stepLosses`; default STEPS_COMPARED). */
  stepLossSteps?: number;
}

async function startBackend(name: BackendName): Promise<void> {
  const info = await initBackend(name);
  if (info.name !== name) throw new Error(`backend ${name} did not start: ${info.reason}`);
}

function sha256(values: Float32Array[]): string {
  const h = createHash('sha256');
  for (const v of values) h.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  return h.digest('hex');
}

async function childProbe(name: BackendName): Promise<ProbeResult> {
  try {
    const info = await initBackend(name);
    if (info.name !== name) return { kind: 'probe', ok: false, reason: info.attempts.find((a) => a.backend === name)?.error ?? info.reason };
    return { kind: 'probe', ok: true, backend: info.name, reason: info.reason };
  } catch (e) {
    return { kind: 'probe', ok: false, reason: e instanceof Error ? e.message : String(e) };
  }
}

/** The ceiling: tf.matMul on wasm at the training shapes, weights reused (XNNPACK's packed copy cached): compute only. */
async function childMatMul(batches: number[]): Promise<MatMulResult> {
  await startBackend('wasm');
  const cases: { shape: string; gflops: number }[] = [];
  for (const m of batches) {
    for (const [k, n] of [[784, 64], [64, 784]]) {
      const a = tf.randomNormal([m, k]);
      const b = tf.randomNormal([k, n]);
      const run = () => tf.dispose(tf.matMul(a, b));
      for (let i = 0; i < 10; i++) run();
      const reps = Math.max(20, Math.round(3e9 / (2 * m * k * n)));
      let best = Infinity;
      for (let trial = 0; trial < 3; trial++) {
        const t0 = performance.now();
        for (let i = 0; i < reps; i++) run();
        best = Math.min(best, (performance.now() - t0) / reps);
      }
      cases.push({ shape: `${m}x${k}x${n}`, gflops: (2 * m * k * n) / (best * 1e6) });
      tf.dispose([a, b]);
    }
  }
  return { kind: 'matmul', cases, ceiling: Math.max(...cases.map((c) => c.gflops)) };
}

async function childExport(kind: ModelKind, file: string): Promise<ExportResult> {
  await startBackend('wasm');
  const m = makeModel(kind);
  const vars = weightVariables(m);
  const values = vars.map((v) => v.dataSync() as Float32Array);
  const tensors: ExportResult['tensors'] = [];
  let offset = 0;
  vars.forEach((v, i) => {
    tensors.push({ name: (v as tf.Variable).name ?? `weight${i}`, shape: v.shape as number[], offset });
    offset += v.size;
  });
  const all = new Float32Array(offset);
  values.forEach((v, i) => all.set(v, tensors[i].offset));
  writeFileSync(file, new Uint8Array(all.buffer));
  m.dispose();
  return { kind: 'export', file, tensors, sha256: sha256(values) };
}

/**
 * Cross-entropy of the model on `x`, summed in float64 from the float32
 * predictions (the peer does the same): compares the forward passes, not two
 * float32 summation orders over 800,000 terms.
 */
function bceFloat64(model: AutoencoderModel | tf.LayersModel, x: tf.Tensor): number {
  const pred = model.predict(x) as tf.Tensor;
  const loss = bceOf(pred.dataSync(), x.dataSync());
  tf.dispose([pred, x]);
  return loss;
}

/**
 * The generic path's loss, unchanged, with a recorder: for the first `steps` calls while `on`, the batch's
 * cross-entropy summed in float64 from the float32 predictions the step computed (clipped as Keras clips),
 * the same quantity the lean step and the peer report for the per-step check. tfjs's own batch loss is a
 * float32 mean: tf.mean on wasm adds a batch's 25,088 to 200,704 terms one by one in float32, which is off by
 * 1e-5 to 2e-4 (measured: bench/README.md, "Per-step checks"), while the weights agree to 1e-9.
 */
function recordingLoss(inner: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor, steps: number): { fn: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor; losses: number[]; on: boolean } {
  const rec = {
    losses: [] as number[],
    on: false,
    fn: (yTrue: tf.Tensor, yPred: tf.Tensor) => {
      if (rec.on && rec.losses.length < steps) rec.losses.push(bceOf(yPred.dataSync() as Float32Array, yTrue.dataSync() as Float32Array));
      return inner(yTrue, yPred);
    },
  };
  return rec;
}

/** Binary cross-entropy of float32 predictions against targets, clipped to [float32(1e-7), float32(1-1e-7)], summed in float64. */
function bceOf(p: ArrayLike<number>, t: ArrayLike<number>): number {
  const lo = Math.fround(1e-7);
  const hi = Math.fround(1 - 1e-7);
  let sum = 0;
  for (let i = 0; i < p.length; i++) {
    const q = Math.min(Math.max(p[i], lo), hi);
    sum += t[i] * Math.log(q) + (1 - t[i]) * Math.log(1 - q);
  }
  return -sum / p.length;
}

/** Keras's Adam: learning rate 1e-3, betas 0.9 / 0.999, epsilon 1e-7 (the peer's too). */
const kerasAdam = () => tf.train.adam(0.001, 0.9, 0.999, 1e-7);

async function childTrain(args: Required<Pick<ChildArgs, 'backend' | 'model' | 'batch' | 'samples' | 'variant'>> & Pick<ChildArgs, 'dumpWeights' | 'stepLossSteps'>): Promise<TrainResult> {
  const { backend, model: kind, batch, variant } = args;
  const def = MODELS[kind];
  await startBackend(backend);
  const raw = await loadRaw(def.dataset, { download: false });
  const count = Math.min(args.samples, raw.train.count);
  const x = tf.tidy(() => tf.div(tf.tensor(raw.train.images.subarray(0, count * 784), [count, ...def.input], 'float32'), 255));
  if (variant === 'generic') setLeanTraining(false);
  const order = permutation(count, makeRng(SEED));

  // tfjs's own LayersModel.fit, on the data pre-shuffled in our order (outside the timing), Keras's Adam settings.
  const layersFit = async (m: tf.LayersModel, data: tf.Tensor, onBatch?: (loss: number) => void) => {
    return m.fit(data, data, {
      epochs: 1, batchSize: batch, shuffle: false, verbose: 0,
      // Records the losses, as the kernel's live chart does (which reads no weights either).
      callbacks: onBatch ? readsOnlyLogs<tf.CustomCallbackArgs>({ onBatchEnd: async (_b, logs) => onBatch(logs?.loss as number) }) : undefined,
    });
  };
  // The loss each side trains with: tfjs-layers' Keras cross-entropy for tfjs models, ours for our classes.
  const baseLoss = def.api === 'layers' ? (tf.metrics.binaryCrossentropy as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor) : binaryCrossentropy;
  // The generic path's measured run records its per-step losses in float64 (recordingLoss); the lean step reports them itself.
  const recorder = variant === 'generic' ? recordingLoss(baseLoss, args.stepLossSteps ?? STEPS_COMPARED) : null;
  const compileLayers = (m: tf.LayersModel, loss: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor = baseLoss) =>
    m.compile({ optimizer: kerasAdam(), loss: def.api === 'layers' && loss === baseLoss ? 'binaryCrossentropy' : loss });

  // Warm-up on a separate instance: compiles code paths, sizes the heap; the measured model starts untouched.
  const warm = makeModel(kind);
  const wx = x.slice(0, Math.min(count, batch * WARMUP_BATCHES));
  if (warm instanceof tf.LayersModel) {
    compileLayers(warm);
    await layersFit(warm, wx);
  } else {
    warm.compile();
    await warm.fit(wx, wx, { epochs: 1, batchSize: batch, verbose: 0 });
  }
  wx.dispose();
  warm.dispose();

  const m = makeModel(kind);
  if (!(m instanceof tf.LayersModel)) m.compile({ loss: recorder ? (recorder.fn as (a: tf.Tensor, b: tf.Tensor) => tf.Scalar) : 'binaryCrossentropy', optimizer: 'adam' });
  const vars = weightVariables(m);
  const weightsSha256 = sha256(vars.map((v) => v.dataSync() as Float32Array));
  const trainable = m instanceof tf.LayersModel ? m.trainableWeights.length : m.trainableVariables().length;
  const initialLoss = bceFloat64(m, x.slice(0, Math.min(1024, count)));
  const orderHead = Array.from(order.subarray(0, 8));

  const viaLayersFit = m instanceof tf.LayersModel || variant === 'layers-fit';
  const lm = m instanceof tf.LayersModel ? m : m.model;
  const xs = viaLayersFit ? tf.tidy(() => tf.gather(x, tf.tensor1d(order, 'int32'))) : null;
  if (viaLayersFit) compileLayers(lm, recorder?.fn);
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  sampler.unref();
  const beforeEpoch = tf.memory().numTensors;
  if (recorder) recorder.on = true;
  let seconds: number;
  let loss: number;
  let batchLosses: number[] = [];
  let trainingPath: string;
  if (xs) {
    const t0 = performance.now();
    const h = await layersFit(lm, xs, (l) => batchLosses.push(l));
    seconds = (performance.now() - t0) / 1000;
    loss = h.history.loss[0] as number;
    const decision = fitDecision(lm);
    trainingPath = `model.fit: ${decision?.path ?? 'generic'}${decision?.loop ? `, ${decision.loop} loop` : ''}`;
  } else {
    const t0 = performance.now();
    const h = await (m as AutoencoderModel).fit(x, x, { epochs: 1, batchSize: batch, verbose: 0, seed: SEED });
    seconds = (performance.now() - t0) / 1000;
    loss = h.history.loss[0];
    batchLosses = h.batchLosses;
    trainingPath = lastTrainingPath() ?? 'unknown';
  }
  const afterEpoch = tf.memory().numTensors;
  if (recorder) recorder.on = false;
  const stepLosses = recorder ? recorder.losses : batchLosses.slice(0, args.stepLossSteps ?? STEPS_COMPARED);
  if (args.dumpWeights) {
    const trained = weightVariables(m).map((v) => v.dataSync() as Float32Array);
    writeFileSync(args.dumpWeights, Buffer.concat(trained.map((v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength))));
  }
  xs?.dispose();
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  const finalLoss = bceFloat64(m, x.slice(0, Math.min(1024, count)));
  // Leak check: the optimizer's slots exist now, so a further fit must leave the count exactly as it was.
  const lx = x.slice(0, Math.min(count, batch * 8));
  const beforeLeakCheck = tf.memory().numTensors;
  void lm;
  if (m instanceof tf.LayersModel) await layersFit(m, lx);
  else if (variant === 'layers-fit') await layersFit(m.model, lx);
  else await (m as AutoencoderModel).fit(lx, lx, { epochs: 1, batchSize: batch, verbose: 0 });
  const afterLeakCheck = tf.memory().numTensors;
  clearInterval(sampler);
  lx.dispose();
  const heap = wasmInternals()?.wasm.asm.memory.buffer.byteLength;
  return {
    kind: 'train', variant, backend, model: kind, batch, samples: count, seconds, samplesPerSecond: count / seconds,
    loss, initialLoss, finalLoss, batchLosses, stepLosses, orderHead, path: trainingPath, weightsSha256,
    tensors: { beforeEpoch, afterEpoch, adamSlots: 2 * trainable, beforeLeakCheck, afterLeakCheck },
    peakRssMB: peakRss / 2 ** 20, wasmHeapMB: heap === undefined ? undefined : heap / 2 ** 20,
    compute: { ...computeSettings(), text: describeCompute() },
  };
}

async function child(args: ChildArgs): Promise<ChildResult> {
  if (args.threads !== undefined || args.fma !== undefined) setComputeOptions({ ...(args.threads !== undefined ? { threads: args.threads } : {}), ...(args.fma !== undefined ? { fma: args.fma } : {}) });
  switch (args.what) {
    case 'probe':
      return childProbe(args.backend!);
    case 'matmul':
      return childMatMul(args.batches!);
    case 'export':
      return childExport(args.model!, args.file!);
    case 'train':
      return childTrain(args as Required<ChildArgs>);
  }
}

// ---------------------------------------------------------------------------
// The parent: orchestration, table, checks.

interface Options {
  reps: number;
  /** Batch sizes given with --batch (else each model's own). */
  batches?: number[];
  models: ModelKind[];
  backends: BackendName[];
  samples: number;
  cpuSamples: number;
  /** PyTorch thread counts to run; the first is the one the ratio is about (all cores by default). */
  threads: number[];
  torch: boolean;
  checks: boolean;
  out: string;
  python: string;
  /** Our thread count and FMA for the timed runs (undefined: the library's defaults). */
  oursThreads?: number;
  fma?: boolean;
  /** `--trace`: per-step divergence of every implementation over the first `steps` steps, no timing. */
  trace: boolean;
  steps: number;
}

function parseOptions(argv: string[]): Options {
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    if (i < 0) return undefined;
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`--${name} needs a value`);
    return v;
  };
  const int = (name: string, fallback: number): number => {
    const v = value(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a whole number >= 1, got ${v}`);
    return n;
  };
  const list = <T extends string>(name: string, allowed: readonly T[], fallback: T[]): T[] => {
    const v = value(name);
    if (v === undefined) return fallback;
    const items = v.split(',').map((s) => s.trim()) as T[];
    const bad = items.filter((s) => !allowed.includes(s));
    if (bad.length) throw new Error(`--${name}: unknown ${bad.join(', ')} (choose from ${allowed.join(', ')})`);
    return items;
  };
  const quick = argv.includes('--quick');
  const given = value('batch');
  const batches = given?.split(',').map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--batch: ${s} is not a batch size`);
    return n;
  });
  return {
    reps: int('reps', quick ? 1 : 3),
    batches,
    models: list('models', MODEL_KINDS, [...MODEL_KINDS]),
    backends: list('backends', ['wasm', 'cpu', 'tensorflow'] as const, ['wasm', 'cpu', 'tensorflow']),
    samples: int('samples', quick ? 6000 : 60000),
    cpuSamples: int('cpu-samples', argv.includes('--trace') ? 9600 : quick ? 500 : 2000),
    threads: (value('threads') ?? peerThreadCounts(os.availableParallelism()).join(',')).split(',').map((v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new Error(`--threads: ${v} is not a thread count`);
      return n;
    }),
    torch: !argv.includes('--no-torch'),
    checks: !argv.includes('--no-checks'),
    oursThreads: value('ours-threads') === undefined ? undefined : int('ours-threads', 1),
    fma: value('fma') === undefined ? undefined : ({ on: true, off: false } as Record<string, boolean | undefined>)[value('fma')!] ?? (() => { throw new Error(`--fma must be on or off, got ${value('fma')}`); })(),
    out: value('out') ?? path.join('bench', 'results', argv.includes('--trace') ? 'trace.json' : 'vs-torch.json'),
    trace: argv.includes('--trace'),
    steps: int('steps', 300),
    python: process.env.AENB_TORCH_PYTHON || '/usr/bin/python3',
  };
}

/** PyTorch's thread counts to try: 1 to 4, then powers of two, and every core. */
function peerThreadCounts(cores: number): number[] {
  const counts = new Set<number>();
  for (let n = 1; n <= cores; n = n < 4 ? n + 1 : n * 2) counts.add(n);
  counts.add(cores);
  return [...counts].sort((a, b) => a - b);
}

let fmaForChildren: boolean | undefined;
/** Whether the children (started with relaxedSimdNodeFlags()) have relaxed SIMD. */
function fmaAvailableForChildren(): boolean {
  fmaForChildren ??= probeRelaxed();
  return fmaForChildren;
}

/** Whether a Node started with relaxedSimdNodeFlags() validates f32x4.relaxed_madd. */
function probeRelaxed(): boolean {
  const bytes = [0, 97, 115, 109, 1, 0, 0, 0, 1, 8, 1, 96, 3, 123, 123, 123, 1, 123, 3, 2, 1, 0, 10, 13, 1, 11, 0, 32, 0, 32, 1, 32, 2, 253, 133, 2, 11];
  const r = spawnSync(process.execPath, [...relaxedSimdNodeFlags(), '-e', `process.stdout.write(String(WebAssembly.validate(new Uint8Array(${JSON.stringify(bytes)}))))`], { encoding: 'utf8' });
  return r.stdout === 'true';
}

function runChild(args: ChildArgs): ChildResult {
  // With relaxed SIMD on where the runtime needs a flag for it (the kernel process is started the same way).
  const r = spawnSync(process.execPath, [...relaxedSimdNodeFlags(), __filename, '--child', JSON.stringify(args)], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as ChildResult;
  } catch {
    return { kind: 'error', message: `child ${args.what} failed (status ${r.status}): ${(r.stderr || r.stdout).trim().split('\n').slice(-5).join(' | ')}` };
  }
}

interface TorchResult {
  peer: 'pytorch';
  seconds: number;
  samplesPerSecond: number;
  loss: number;
  initialLoss: number;
  finalLoss: number;
  batchLosses: number[];
  /** The first steps' batch losses summed in float64 from the step's predictions (the per-step check's quantity). */
  stepLosses: number[];
  orderHead: number[];
  threads: number;
  torch: string;
  blas: { libraries: string[]; openblas?: string; openblasCore?: string; openblasThreads?: number; torchBlasInfo?: string; mkldnn?: boolean };
  /** The kernel OpenBLAS reported loading ("Core: …" with OPENBLAS_VERBOSE=2). */
  verboseCore?: string;
  /** The seed its start was nudged with (the peer's `perturb`), when it was. */
  perturb?: number | null;
}

function torchAvailable(python: string): { ok: boolean; version?: string; reason?: string } {
  const r = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  if (r.error) return { ok: false, reason: `${python} cannot run (${r.error.message})` };
  if (r.status !== 0) return { ok: false, reason: `${python} cannot import torch` };
  return { ok: true, version: r.stdout.trim() };
}

const torchScript = () => path.join(__dirname, '..', '..', 'bench', 'peers', 'torch_ae.py');

function runTorch(opts: Options, spec: Record<string, unknown>, threads: number, blas: KernelChoice): TorchResult | ErrorResult {
  const script = torchScript();
  if (!existsSync(script)) return { kind: 'error', message: `the PyTorch peer script is missing: ${script}` };
  // OpenBLAS's kernel as chosen once (openblas.ts), and the thread counts pinned for every pool PyTorch may use
  // (its OpenMP workers, OpenBLAS's own), so each configuration is what it says.
  const env = { ...blas.env, OPENBLAS_VERBOSE: '2', OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) };
  const r = spawnSync(opts.python, [script], { input: JSON.stringify({ ...spec, threads }), encoding: 'utf8', maxBuffer: 64 << 20, env });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    const result = JSON.parse(line) as TorchResult;
    result.verboseCore = /^Core: (\S+)/m.exec(r.stderr ?? '')?.[1];
    return result;
  } catch {
    return { kind: 'error', message: `PyTorch peer failed (status ${r.status}): ${(r.stderr || r.stdout).trim().split('\n').slice(-5).join(' | ')}` };
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmtTol = (t: number) => (t === TOL.final || t === TOL.epoch ? String(t) : t.toExponential(1));
const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);
/** The largest relative difference of two runs' batch losses over their first STEPS_COMPARED steps. */
function stepDiff(a: number[], b: number[], tol = TOL.step): { steps: number; worst: number; at: number; ok: boolean; tol: number } {
  const steps = Math.min(STEPS_COMPARED, a.length, b.length);
  let worst = 0;
  let at = 0;
  for (let i = 0; i < steps; i++) {
    const d = rel(a[i], b[i]);
    if (!(d <= worst)) [worst, at] = [d, i + 1];
  }
  return { steps, worst, at, ok: steps > 0 && worst <= tol, tol };
}
const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '—');

interface Row {
  backend: BackendName;
  model: ModelKind;
  batch: number;
  samples: number;
  ours: TrainResult[];
  /** PyTorch runs by thread count. */
  torch: Map<number, TorchResult[]>;
  generic?: TrainResult;
  layersFit?: TrainResult;
  /** Ours again, on the generic reference's (smaller) sample count, when it differs. */
  refOurs?: TrainResult;
  /** Ours in the other configurations (threads on/off, FMA on/off): checked like the timed runs. */
  configs: TrainResult[];
  /** A chaotic model's PyTorch run in float64 (1 thread, untimed): PyTorch's spread against itself. */
  torch64?: TorchResult;
  /** A chaotic model's PyTorch float32 runs from starts nudged by one unit in the last place (1 thread, untimed). */
  torchPerturbed: TorchResult[];
  /** PyTorch in float64 over the first STEPS_COMPARED steps only (untimed), when there is no full one: the per-step tolerance's basis. */
  torch64Steps?: TorchResult;
}

interface Check { ok: boolean; text: string }

/** The model's initial weights, exported to a file for the peer, and the training images' file. */
async function prepareModel(kind: ModelKind, tmp: string): Promise<{ export: ExportResult; images: string }> {
  const ex = runChild({ what: 'export', model: kind, file: path.join(tmp, `${kind}-initial.f32`) });
  if (ex.kind !== 'export') throw new Error(ex.kind === 'error' ? ex.message : 'weight export failed');
  const loc = await locate(MODELS[kind].dataset, { download: false });
  const file = loc.files.find((f) => f.role === 'trainImages');
  if (!file || file.source === 'missing') {
    throw new Error(`${MODELS[kind].dataset} is not available offline (${loc.summary}). Download it once (the extension's "Download datasets" command, or loadData with download allowed).`);
  }
  return { export: ex, images: file.location };
}

/**
 * `--trace`: is a disagreement a bug or float32 chaos? Every implementation trains the same model from the
 * same weights on the same batches for `steps` steps: PyTorch in float64 (the reference), PyTorch in float32
 * on 1 and 2 threads, ours in each configuration (lean step: every core with and without FMA, one thread),
 * tfjs's generic path on wasm and on cpu. Prints |Δ batch loss| against the reference at chosen steps, the
 * first step each pair parts by more than 1e-6 / 1e-5 / 1e-4 (relative), and max |Δ weight| after the steps.
 * A bug shows as a difference at step 1 or a jump; float32 chaos as ~1e-7 growing smoothly.
 */
async function trace(opts: Options, blas: KernelChoice): Promise<void> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'aenb-trace-'));
  const report: Record<string, unknown>[] = [];
  try {
    for (const kind of opts.models) {
      const prep = await prepareModel(kind, tmp);
      for (const batch of opts.batches ?? MODELS[kind].batches) {
        const samples = Math.min(opts.steps * batch, 60000);
        type Run = { name: string; losses: number[]; weights: Float64Array; loss: number; finalLoss: number };
        const runs: Run[] = [];
        const readF32 = (f: string) => Float64Array.from(new Float32Array(new Uint8Array(readFileSync(f)).buffer));
        const readF64 = (f: string) => new Float64Array(new Uint8Array(readFileSync(f)).buffer);
        const peer = (name: string, threads: number, dtype: 'float32' | 'float64', adamBiasCorrection: 'tfjs' | 'torch' = 'tfjs') => {
          const file = path.join(tmp, `w-${runs.length}.f64`);
          const spec = { ...MODELS[kind].peer, images: prep.images, count: samples, batchSize: batch, seed: SEED, warmupBatches: 0, weights: { path: prep.export.file, tensors: prep.export.tensors }, dtype, adamBiasCorrection, dumpWeights: file, stepLossSteps: opts.steps };
          const r = runTorch(opts, spec, threads, blas);
          if ('kind' in r) throw new Error(`${name}: ${r.message}`);
          runs.push({ name, losses: r.stepLosses, weights: readF64(file), loss: r.loss, finalLoss: r.finalLoss });
        };
        const ours = (name: string, backend: BackendName, variant: Variant, c: { threads?: number; fma?: boolean }) => {
          const file = path.join(tmp, `w-${runs.length}.f32`);
          const r = runChild({ what: 'train', backend, model: kind, batch, samples, variant, dumpWeights: file, stepLossSteps: opts.steps, ...c });
          if (r.kind !== 'train') throw new Error(`${name}: ${r.kind === 'error' ? r.message : 'no result'}`);
          runs.push({ name: `${name} [${backend}, ${r.path}${variant === 'ours' ? `, ${r.compute.text}` : ''}]`, losses: r.stepLosses, weights: readF32(file), loss: r.loss, finalLoss: r.finalLoss });
        };
        const cores = Math.max(2, os.availableParallelism());
        peer('PyTorch float64, 1 thread', 1, 'float64');
        peer('PyTorch float32, 1 thread', 1, 'float32');
        peer(`PyTorch float32, ${cores} threads`, cores, 'float32');
        peer(`PyTorch float32, 1 thread, PyTorch's own Adam bias correction`, 1, 'float32', 'torch');
        const firstOurs = runs.length;
        ours('ours', 'wasm', 'ours', { threads: cores, fma: fmaAvailableForChildren() });
        if (fmaAvailableForChildren()) ours('ours', 'wasm', 'ours', { threads: cores, fma: false });
        ours('ours', 'wasm', 'ours', { threads: 1, fma: false });
        ours('tfjs generic', 'wasm', 'generic', {});
        // The pure-JS backend is slow (a full epoch of the deep model takes over ten minutes): only on short traces.
        if (samples <= opts.cpuSamples) ours('tfjs generic', 'cpu', 'generic', {});
        const steps = Math.min(...runs.map((r) => r.losses.length));
        const at = [1, 2, 3, 5, 10, 20, 50, 100, 200, 300, 500, 1000, 1875].filter((k) => k <= steps);
        if (!at.includes(steps)) at.push(steps);
        const relDiff = (a: Run, b: Run) => a.losses.slice(0, steps).map((l, i) => Math.abs(l - b.losses[i]) / Math.abs(b.losses[i]));
        const firstAbove = (d: number[], t: number) => { const i = d.findIndex((v) => v > t); return i < 0 ? '—' : String(i + 1); };
        const maxDw = (a: Run, b: Run) => { let m = 0; for (let i = 0; i < a.weights.length; i++) m = Math.max(m, Math.abs(a.weights[i] - b.weights[i])); return m; };
        // Everything against the float64 reference; then PyTorch against itself, and ours against itself.
        const pairs: [Run, Run][] = [
          ...runs.slice(1).map((r) => [r, runs[0]] as [Run, Run]),
          ...runs.slice(2, firstOurs).map((r) => [r, runs[1]] as [Run, Run]),
          ...runs.slice(firstOurs + 1).map((r) => [r, runs[firstOurs]] as [Run, Run]),
        ];
        console.log(`\n${MODELS[kind].label}, batch ${batch}: ${steps} steps from the same weights on the same batches. Relative |Δ batch loss| at step k; max |Δ weight| after the last step; relative Δ of the mean batch loss and of the trained model's float64 loss on the first 1,024 samples:`);
        const head = ['pair', ...at.map(String), '>1e-6 from', '>1e-5 from', '>1e-4 from', `max|Δw| @${steps}`, 'mean loss', 'trained loss'];
        const lines = pairs.map(([a, b]) => {
          const d = relDiff(a, b);
          return [`${a.name}  vs  ${b.name}`, ...at.map((k) => d[k - 1].toExponential(0)), firstAbove(d, 1e-6), firstAbove(d, 1e-5), firstAbove(d, 1e-4), maxDw(a, b).toExponential(1), rel(a.loss, b.loss).toExponential(1), rel(a.finalLoss, b.finalLoss).toExponential(1)];
        });
        const w = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
        for (const l of [head, ...lines]) console.log('  ' + l.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  '));
        report.push({ model: kind, batch, steps, runs: runs.map((r) => ({ name: r.name, loss: r.loss, finalLoss: r.finalLoss, losses: r.losses })), pairs: pairs.map(([a, b]) => ({ a: a.name, b: b.name, relative: relDiff(a, b), maxAbsWeight: maxDw(a, b), meanLoss: rel(a.loss, b.loss), trainedLoss: rel(a.finalLoss, b.finalLoss) })) });
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const outFile = path.resolve(opts.out);
  mkdirSync(path.dirname(outFile), { recursive: true });
  writeFileSync(outFile, JSON.stringify({ date: new Date().toISOString(), loadAverage: os.loadavg(), report }) + '\n');
  console.log(`\nwritten: ${path.relative(process.cwd(), outFile)}`);
}

async function main(): Promise<void> {
  const childAt = process.argv.indexOf('--child');
  if (childAt >= 0) {
    let result: ChildResult;
    try {
      result = await child(JSON.parse(process.argv[childAt + 1]) as ChildArgs);
    } catch (e) {
      result = { kind: 'error', message: e instanceof Error ? e.message : String(e) };
    }
    process.stdout.write(JSON.stringify(result) + '\n');
    return;
  }

  const opts = parseOptions(process.argv.slice(2));
  const started = Date.now();
  const cpu = os.cpus();
  console.log(`Autoencoder training speed vs PyTorch — ${new Date().toISOString()}`);
  console.log(`machine: ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; node ${process.version}, tfjs ${tf.version.tfjs}`);

  // Backends.
  const backends: BackendName[] = [];
  const skipped: string[] = [];
  for (const b of opts.backends) {
    const p = runChild({ what: 'probe', backend: b });
    if (p.kind === 'probe' && p.ok) backends.push(b);
    else skipped.push(`${b}: skipped (${p.kind === 'probe' ? p.reason : p.kind === 'error' ? p.message : 'no answer'})`);
  }
  if (!backends.includes('wasm')) throw new Error(`the wasm backend does not start: ${skipped.join('; ')}`);

  // PyTorch.
  let torchNote = 'PyTorch peer: not run (--no-torch).';
  let torchOn = false;
  if (opts.torch) {
    const t = torchAvailable(opts.python);
    torchOn = t.ok;
    torchNote = t.ok
      ? `PyTorch peer: torch ${t.version} (${opts.python}), runs with ${opts.threads.map((n) => `${n} thread${n > 1 ? 's' : ''}`).join(' and with ')}`
      : `PyTorch peer: skipped — ${t.reason}. Install it with \`npm run bench:setup\` (Debian/Ubuntu: python3-torch, libopenblas0-pthread), or point AENB_TORCH_PYTHON at a Python that has torch.`;
  }
  let blas: KernelChoice = { env: process.env, pinned: {}, note: '' };
  if (torchOn) {
    blas = chooseKernel(opts.python, torchScript());
    torchNote += `\n${blas.note}`;
  }
  console.log(torchNote);
  if (opts.trace) {
    if (!torchOn) throw new Error('--trace needs the PyTorch peer');
    return trace(opts, blas);
  }

  // The matMul ceiling, measured now, on this machine.
  const mm = runChild({ what: 'matmul', batches: opts.batches ?? [32, 256] });
  if (mm.kind !== 'matmul') throw new Error(mm.kind === 'error' ? mm.message : 'matmul micro-benchmark failed');
  console.log(`wasm matMul ceiling (tf.matMul, weights reused, best of 3): ${mm.cases.map((c) => `${c.shape} ${c.gflops.toFixed(1)}`).join(', ')} GFLOP/s → ${mm.ceiling.toFixed(1)}`);

  // Same initial weights and data for both sides.
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'aenb-vs-torch-'));
  const exports: Partial<Record<ModelKind, ExportResult>> = {};
  const images: Partial<Record<ModelKind, string>> = {};
  const rows: Row[] = [];
  const checks: Check[] = [];
  try {
    for (const kind of opts.models) {
      const p = await prepareModel(kind, tmp);
      exports[kind] = p.export;
      images[kind] = p.images;
    }

    const torchSpec = (kind: ModelKind, batch: number, samples: number) => ({
      ...MODELS[kind].peer, images: images[kind], count: samples, batchSize: batch, seed: SEED, warmupBatches: WARMUP_BATCHES,
      weights: { path: exports[kind]!.file, tensors: exports[kind]!.tensors },
    });
    const progress = (s: string) => process.stderr.write(`  ${s}\n`);

    for (const backend of backends) {
      for (const kind of opts.models) {
        for (const batch of opts.batches ?? MODELS[kind].batches) {
          // The pure-JS backend trains a convolutional model at about 10 samples/s: a few batches only.
          const samples = backend === 'cpu' ? (kind === 'conv' ? Math.min(opts.cpuSamples, 256) : opts.cpuSamples) : opts.samples;
          const row: Row = { backend, model: kind, batch, samples, ours: [], torch: new Map(opts.threads.map((n) => [n, []])), configs: [], torchPerturbed: [] };
          // PyTorch runs alongside the wasm rows; other backends are compared with those same PyTorch figures.
          const withTorch = torchOn && backend === 'wasm';
          for (let r = 0; r < opts.reps; r++) {
            const peers: (number | 'ours')[] = withTorch ? ['ours', ...opts.threads] : ['ours'];
            for (const who of r % 2 === 0 ? peers : [...peers].reverse()) {
              if (who === 'ours') {
                const res = runChild({ what: 'train', backend, model: kind, batch, samples, variant: 'ours', threads: opts.oursThreads, fma: opts.fma });
                if (res.kind !== 'train') throw new Error(`${backend} ${kind} b${batch}: ${res.kind === 'error' ? res.message : 'no result'}`);
                row.ours.push(res);
                progress(`${backend} ${kind} b${batch} ours (${res.compute.text}): ${fmt(res.samplesPerSecond)} samples/s, loss ${res.loss.toFixed(5)} (${res.path})`);
              } else {
                const res = runTorch(opts, torchSpec(kind, batch, samples), who, blas);
                if ('kind' in res) throw new Error(res.message);
                row.torch.get(who)!.push(res);
                progress(`${backend} ${kind} b${batch} PyTorch ${who} thread(s), OpenBLAS ${res.blas.openblasCore ?? '?'}: ${fmt(res.samplesPerSecond)} samples/s, loss ${res.loss.toFixed(5)}`);
              }
            }
          }
          if (opts.checks && withTorch && !MODELS[kind].chaotic) {
            // The per-step tolerance's basis: PyTorch against itself (float32 vs float64) over the steps compared.
            // The first STEPS_COMPARED steps of the same epoch (the order is drawn over all the samples).
            const res = runTorch(opts, { ...torchSpec(kind, batch, samples), steps: STEPS_COMPARED, warmupBatches: 0, dtype: 'float64' }, 1, blas);
            if ('kind' in res) throw new Error(res.message);
            row.torch64Steps = res;
            progress(`${backend} ${kind} b${batch} PyTorch float64, first ${res.batchLosses.length} steps (the per-step tolerance's basis)`);
          }
          if (opts.checks && withTorch && MODELS[kind].chaotic) {
            const res = runTorch(opts, { ...torchSpec(kind, batch, samples), warmupBatches: 0, dtype: 'float64' }, 1, blas);
            if ('kind' in res) throw new Error(res.message);
            row.torch64 = res;
            progress(`${backend} ${kind} b${batch} PyTorch float64 (reference for float32 chaos): loss ${res.loss.toFixed(5)}`);
            for (let seed = 1; seed <= PERTURBED_RUNS; seed++) {
              const nudged = runTorch(opts, { ...torchSpec(kind, batch, samples), warmupBatches: 0, perturb: seed }, 1, blas);
              if ('kind' in nudged) throw new Error(nudged.message);
              row.torchPerturbed.push(nudged);
              progress(`${backend} ${kind} b${batch} PyTorch float32 from a start nudged by 1 ulp (seed ${seed}, for float32 chaos): trained model's loss ${nudged.finalLoss.toFixed(6)}`);
            }
          }
          if (opts.checks && backend === 'wasm') {
            // The other configurations of ours, threads on and off, FMA on and off: each checked like the timed runs.
            const timed = row.ours[0].compute;
            const cores = os.availableParallelism();
            // One thread is the single-threaded path (FMA belongs to the engine); the engine with and without FMA.
            const configs = [{ threads: 1, fma: false }, { threads: Math.max(2, cores), fma: false }, { threads: Math.max(2, cores), fma: true }]
              .filter((c) => !(c.threads === timed.threads && (c.threads === 1 || c.fma === timed.fma)) && (!c.fma || fmaAvailableForChildren()));
            for (const c of configs) {
              const res = runChild({ what: 'train', backend, model: kind, batch, samples, variant: 'ours', ...c });
              if (res.kind !== 'train') throw new Error(`${backend} ${kind} b${batch} ours ${JSON.stringify(c)}: ${res.kind === 'error' ? res.message : 'no result'}`);
              row.configs.push(res);
              progress(`${backend} ${kind} b${batch} ours (${res.compute.text}): ${fmt(res.samplesPerSecond)} samples/s, loss ${res.loss.toFixed(5)}`);
            }
            // The generic path (tensors + optimizer.minimize, or tfjs's own fit without the lean step) from the same weights;
            // for slow references, both sides again on fewer samples.
            const refSamples = MODELS[kind].referenceSamples ? Math.min(samples, MODELS[kind].referenceSamples!) : samples;
            const variants: Variant[] = MODELS[kind].api === 'ours' ? ['generic', 'layers-fit'] : ['generic'];
            if (refSamples < samples) {
              const res = runChild({ what: 'train', backend, model: kind, batch, samples: refSamples, variant: 'ours' });
              if (res.kind !== 'train') throw new Error(`reference (ours): ${res.kind === 'error' ? res.message : 'no result'}`);
              row.refOurs = res;
            }
            for (const variant of variants) {
              const res = runChild({ what: 'train', backend, model: kind, batch, samples: refSamples, variant });
              if (res.kind !== 'train') throw new Error(`${variant} reference: ${res.kind === 'error' ? res.message : 'no result'}`);
              if (variant === 'generic') row.generic = res;
              else row.layersFit = res;
              progress(`${backend} ${kind} b${batch} ${variant} (reference${refSamples < samples ? `, ${fmt(refSamples)} samples` : ''}): ${fmt(res.samplesPerSecond)} samples/s, loss ${res.loss.toFixed(5)}`);
            }
          }
          rows.push(row);
        }
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }

  // Table.
  const torchRow = (kind: ModelKind, batch: number) => rows.find((r) => r.backend === 'wasm' && r.model === kind && r.batch === batch && r.torch.size && [...r.torch.values()].some((x) => x.length));
  const torchRate = (r: Row | undefined, threads: number) => median((r?.torch.get(threads) ?? []).map((x) => x.samplesPerSecond));
  const table: Record<string, unknown>[] = [];
  const header = [
    'backend', 'model', 'batch', 'samples', 'ours/s',
    ...opts.threads.map((n) => `PyTorch ${n}thr/s`),
    'ours/best PyTorch',
    'ours GFLOP/s', '% ceiling', 'epoch s', 'path',
  ];
  const lines: string[][] = [];
  for (const r of rows) {
    const ours = median(r.ours.map((x) => x.samplesPerSecond));
    const tr = torchRow(r.model, r.batch);
    const rates = opts.threads.map((n) => torchRate(tr, n));
    const measured = rates.filter(Number.isFinite);
    const best = measured.length ? Math.max(...measured) : NaN;
    const bestThreads = opts.threads[rates.indexOf(best)];
    const flops = flopsPerSample(r.model);
    const gflops = (ours * flops) / 1e9;
    const entry = {
      backend: r.backend, model: r.model, batch: r.batch, samples: r.samples,
      oursSamplesPerSecond: ours,
      torchSamplesPerSecond: Object.fromEntries(opts.threads.map((n, i) => [`${n} threads`, rates[i]])),
      ratioToBest: ours / best, bestTorchThreads: bestThreads,
      oursGflops: gflops, fractionOfCeiling: r.backend === 'wasm' ? gflops / mm.ceiling : undefined,
      torchGflops: Object.fromEntries(opts.threads.map((n, i) => [`${n} threads`, (rates[i] * flops) / 1e9])),
      oursEpochSeconds: median(r.ours.map((x) => x.seconds)),
      path: r.ours[0]?.path, oursRuns: r.ours.map((x) => x.samplesPerSecond),
      torchRuns: Object.fromEntries(opts.threads.map((n) => [`${n} threads`, (tr?.torch.get(n) ?? []).map((x) => x.samplesPerSecond)])),
    };
    table.push(entry);
    const ratio = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)}x` : '—');
    lines.push([
      r.backend === 'cpu' ? 'cpu*' : r.backend, MODELS[r.model].label, String(r.batch), fmt(r.samples), fmt(ours),
      ...rates.map((v) => fmt(v) + (v === best && rates.length > 1 ? '*' : ' ')), ratio(entry.ratioToBest),
      gflops.toFixed(1), entry.fractionOfCeiling !== undefined ? `${(100 * entry.fractionOfCeiling).toFixed(0)}%` : '—',
      entry.oursEpochSeconds.toFixed(2), entry.path ?? '',
    ]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const show = (cells: string[]) => cells.map((c, i) => (i < 2 || i === cells.length - 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(`\nOne epoch, samples per second (median of ${opts.reps}; ours and PyTorch alternate in fresh processes)`);
  console.log(show(header));
  for (const l of lines) console.log(show(l));
  if (backends.includes('cpu')) console.log(`* cpu: the pure-JS backend, on the first ${fmt(opts.cpuSamples)} samples only (256 for the convolutional model; a full epoch takes too long); its ratio compares rates.`);
  for (const s of skipped) console.log(s);
  console.log(`GFLOP/s = FLOP per sample (${opts.models.map((k) => `${k} ${fmt(flopsPerSample(k))}`).join(', ')}) × samples/s; ceiling ${mm.ceiling.toFixed(1)} GFLOP/s (wasm matMul above, one thread). Ours: ${rows.find((r) => r.backend === 'wasm')?.ours[0]?.compute.text ?? '?'}.`);

  const withConfigs = rows.filter((r) => r.configs.length);
  if (withConfigs.length) {
    console.log(`\nOurs by configuration, samples/s (one run each; the timed configuration is the median above)`);
    const names = [...new Set(withConfigs.flatMap((r) => [r.ours[0].compute.text, ...r.configs.map((c) => c.compute.text)]))];
    for (const r of withConfigs) {
      const rate = (text: string) => (r.ours[0].compute.text === text ? median(r.ours.map((x) => x.samplesPerSecond)) : r.configs.find((c) => c.compute.text === text)?.samplesPerSecond ?? NaN);
      console.log(`  ${MODELS[r.model].label} b${r.batch}: ${names.map((n) => `${n} ${fmt(rate(n))}`).join(' | ')}`);
    }
  }

  // Targets (issue 12): speed goals, reported side by side (the machine's load decides them as much as the code).
  const rate = (kind: ModelKind, batch: number) => median(rows.find((r) => r.backend === 'wasm' && r.model === kind && r.batch === batch)?.ours.map((x) => x.samplesPerSecond) ?? []);
  const targets: { met: boolean; text: string }[] = [];
  const efficiency: string[] = [];
  for (const batch of [...new Set(rows.filter((r) => r.backend === 'wasm').map((r) => r.batch))].sort((a, b) => a - b)) {
    // Issue 12: every dense model, written either way, within 10% of the same layers written as our Autoencoder.
    for (const [layers, ours] of [['simple', 'simple-ours'], ['deep', 'deep-ours']] as const) {
      const layersRate = rate(layers, batch);
      const oursRate = rate(ours, batch);
      if (!Number.isFinite(layersRate) || !Number.isFinite(oursRate)) continue;
      targets.push({ met: layersRate >= 0.9 * oursRate, text: `b${batch}: ${MODELS[layers].label} + model.fit at ${fmt(layersRate)}/s is ${(layersRate / oursRate).toFixed(2)}x the same layers as our Autoencoder (${fmt(oursRate)}/s; target ≥ 0.90)` });
    }
    // For reference (not a target): how efficiently each dense model computes, against our vanilla Autoencoder.
    const vanillaRate = rate('vanilla', batch);
    for (const kind of ['simple', 'simple-ours', 'deep', 'deep-ours'] as const) {
      const r = rate(kind, batch);
      if (!Number.isFinite(r) || !Number.isFinite(vanillaRate)) continue;
      const ratio = (r * flopsPerSample(kind)) / (vanillaRate * flopsPerSample('vanilla'));
      efficiency.push(`b${batch}: ${MODELS[kind].label} ${((r * flopsPerSample(kind)) / 1e9).toFixed(1)} GFLOP/s, ${ratio.toFixed(2)}x vanilla's ${((vanillaRate * flopsPerSample('vanilla')) / 1e9).toFixed(1)}`);
    }
    const conv = rows.find((r) => r.backend === 'wasm' && r.model === 'conv' && r.batch === batch);
    if (conv) {
      const ours = median(conv.ours.map((x) => x.samplesPerSecond));
      const best = Math.max(...opts.threads.map((n) => median((conv.torch.get(n) ?? []).map((x) => x.samplesPerSecond))).filter(Number.isFinite));
      if (Number.isFinite(best)) targets.push({ met: ours >= 0.5 * best, text: `b${batch}: the convolutional model at ${fmt(ours)}/s is ${(ours / best).toFixed(2)}x PyTorch's best thread count (${fmt(best)}/s; target ≥ 0.50)` });
    }
  }
  if (targets.length) {
    console.log('\nTargets');
    for (const t of targets) console.log(`  ${t.met ? 'met ' : 'MISS'} ${t.text}`);
  }
  if (efficiency.length) {
    console.log('\nAchieved GFLOP/s of the dense models (smaller layers make smaller products, which reach less of the ceiling)');
    for (const line of efficiency) console.log(`  ${line}`);
  }

  // Checks.
  for (const r of rows) {
    const name = `${r.backend} ${r.model} b${r.batch}`;
    const first = r.ours[0];
    const sameLosses = r.ours.every((x) => x.loss === first.loss && x.batchLosses.length === first.batchLosses.length && x.batchLosses.every((l, i) => l === first.batchLosses[i]));
    checks.push({ ok: sameLosses, text: `${name}: ${r.ours.length} runs, ${sameLosses ? 'identical losses' : 'losses differ between runs'}` });
    const ex = exports[r.model]!;
    checks.push({ ok: r.ours.every((x) => x.weightsSha256 === ex.sha256), text: `${name}: initial weights identical to the ones given to PyTorch (sha256 ${ex.sha256.slice(0, 12)}…)` });
    const t = first.tensors;
    const leakFree = r.ours.every((x) => x.tensors.afterLeakCheck === x.tensors.beforeLeakCheck && x.tensors.afterEpoch - x.tensors.beforeEpoch === x.tensors.adamSlots);
    checks.push({ ok: leakFree, text: `${name}: tensors ${t.beforeEpoch} → ${t.afterEpoch} over the first epoch (+${t.adamSlots}: Adam's m and v per variable), then ${t.beforeLeakCheck} → ${t.afterLeakCheck} over another fit` });
    if (r.model === 'stacked' || r.model === 'conv') {
      const peak = Math.max(...r.ours.map((x) => x.peakRssMB));
      checks.push({ ok: peak < RSS_LIMIT_MB, text: `${name}: peak RSS ${peak.toFixed(0)} MB${first.wasmHeapMB ? `, wasm heap ${first.wasmHeapMB.toFixed(0)} MB` : ''} (limit ${RSS_LIMIT_MB} MB)` });
    }
    const peerRuns = [...r.torch.values()].flat();
    if (peerRuns.length && blas.core) {
      const cores = [...new Set(peerRuns.map((x) => `${x.blas.openblasCore ?? '?'}/${x.verboseCore ?? '?'}`))];
      const ok = peerRuns.every((x) => x.blas.openblasCore === blas.core && (x.verboseCore === undefined || x.verboseCore === blas.core));
      checks.push({ ok, text: `${name}: every PyTorch run used OpenBLAS's ${blas.core} kernel (reported: ${cores.join(', ')})` });
    }
    const tr = [...r.torch.values()].find((x) => x.length)?.[0];
    // The per-step tolerance: CHAOS_MARGIN × PyTorch's own float32 drift over the steps compared (its float32 runs
    // against a float64 run from the same weights on the same batches), plus TOL.stepReport for the float32 rounding
    // of a reported loss on each side; without a PyTorch float64 run, TOL.step.
    let stepTol: number = TOL.step;
    const steps64 = r.torch64 ?? r.torch64Steps;
    const torch32 = [...r.torch.values()].map((x) => x[0]).filter((x): x is TorchResult => !!x);
    if (steps64 && torch32.length) {
      const spreads = torch32.map((x) => ({ x, d: stepDiff(x.stepLosses, steps64.stepLosses, Infinity) }));
      const worst = spreads.reduce((a, b) => (b.d.worst > a.d.worst ? b : a));
      stepTol = CHAOS_MARGIN * worst.d.worst + TOL.stepReport;
      const sameStart = !!tr && rel(steps64.initialLoss, tr.initialLoss) <= TOL.initial && steps64.orderHead.every((v, i) => v === tr.orderHead[i]);
      const complete = spreads.every((s) => s.d.steps === Math.min(STEPS_COMPARED, s.x.batchLosses.length));
      checks.push({
        ok: sameStart && complete,
        text: `${name}: per-step tolerance from PyTorch against itself: float32 (${spreads.map((s) => `${s.x.threads} thread${s.x.threads > 1 ? 's' : ''} ${s.d.worst.toExponential(1)}`).join(', ')}) vs float64 over the first ${worst.d.steps} steps, largest at step ${worst.d.at}; tolerance ${CHAOS_MARGIN} × ${worst.d.worst.toExponential(1)} + 2^-23 (a loss reported in float32 on each side) = ${stepTol.toExponential(1)}; float64 run started where the others did: ${sameStart ? 'yes' : 'NO'}`,
      });
    }
    // A chaotic model's full-epoch tolerances: CHAOS_SIGMAS × √2 × the spread (σ) of PyTorch's runs that differ only in rounding, never below TOL.
    const tol = { final: TOL.final, epoch: TOL.epoch };
    let spreadNote = '';
    if (MODELS[r.model].chaotic) {
      const f32 = [...r.torch.values()].map((x) => x[0]).filter((x): x is TorchResult => !!x);
      if (r.torch64 && f32.length && r.torchPerturbed.length) {
        const sample: [string, TorchResult][] = [
          ...f32.map((x): [string, TorchResult] => [`float32 ${x.threads} thread${x.threads > 1 ? 's' : ''}`, x]),
          ['float64', r.torch64],
          ...r.torchPerturbed.map((x): [string, TorchResult] => [`nudged ${x.perturb}`, x]),
        ];
        const sigma = (get: (x: TorchResult) => number) => {
          const v = sample.map(([, x]) => get(x));
          const mean = v.reduce((a, b) => a + b, 0) / v.length;
          return Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) / Math.abs(mean);
        };
        const sf = sigma((x) => x.finalLoss);
        const se = sigma((x) => x.loss);
        tol.final = Math.max(TOL.final, CHAOS_SIGMAS * Math.SQRT2 * sf);
        tol.epoch = Math.max(TOL.epoch, CHAOS_SIGMAS * Math.SQRT2 * se);
        spreadNote = `; σ of PyTorch's ${sample.length} runs ${sf.toExponential(1)}`;
        // Every run of the sample started where the timed ones did: the same order, and the same loss before training (the nudged ones within float32 rounding).
        const startsOk = !!tr && sample.every(([, x]) => rel(x.initialLoss, tr.initialLoss) <= TOL.initial && x.orderHead.every((v, i) => v === tr.orderHead[i]));
        checks.push({
          ok: startsOk,
          text: `${name}: float32 chaos (bench/README.md): PyTorch's runs that differ only in rounding (${sample.map(([what, x]) => `${what} ${x.finalLoss.toFixed(6)}`).join(', ')}: trained model's loss) spread by σ = ${sf.toExponential(1)} (epoch loss ${se.toExponential(1)}); full-epoch tolerances ${CHAOS_SIGMAS} × √2 × σ: trained ${tol.final.toExponential(1)}, epoch ${tol.epoch.toExponential(1)} (never below ${TOL.final} / ${TOL.epoch}); every one started where the timed runs did: ${startsOk ? 'yes' : 'NO'}`,
        });
      } else {
        console.log(`note: ${name} is chaotic in float32 (bench/README.md), but PyTorch's spread was not measured (no PyTorch float64 run): the strict tolerances apply`);
      }
    }
    if (tr) {
      const orderOk = tr.orderHead.every((v, i) => v === first.orderHead[i]);
      checks.push({ ok: orderOk, text: `${name}: PyTorch shuffles in our order (first indices ${first.orderHead.slice(0, 4).join(', ')}…: ${orderOk ? 'same' : `theirs ${tr.orderHead.slice(0, 4).join(', ')}…`})` });
      const di = rel(first.initialLoss, tr.initialLoss);
      checks.push({ ok: di <= TOL.initial, text: `${name}: loss before training ${first.initialLoss.toFixed(6)} vs PyTorch ${tr.initialLoss.toFixed(6)} (relative ${di.toExponential(1)} ≤ ${TOL.initial})` });
      const df = rel(first.finalLoss, tr.finalLoss);
      checks.push({ ok: df <= tol.final, text: `${name}: trained model's loss ${first.finalLoss.toFixed(6)} vs PyTorch's ${tr.finalLoss.toFixed(6)} (relative ${df.toExponential(1)} ≤ ${fmtTol(tol.final)}${spreadNote})` });
      const de = rel(first.loss, tr.loss);
      checks.push({ ok: de <= tol.epoch, text: `${name}: epoch loss ${first.loss.toFixed(6)} vs PyTorch ${tr.loss.toFixed(6)} (relative ${de.toExponential(1)} ≤ ${fmtTol(tol.epoch)})` });
    }
    if (tr) {
      const d = stepDiff(first.stepLosses, tr.stepLosses, stepTol);
      checks.push({ ok: d.ok, text: `${name}: batch losses of the first ${d.steps} steps vs PyTorch: largest relative difference ${d.worst.toExponential(1)} (step ${d.at}; ≤ ${stepTol.toExponential(1)})` });
    }
    // tfjs models: tfjs's model.fit on the lean step, in its batch loop on the lean step (lean/fit-loop.ts).
    const leanPath = (p: string) => p === 'lean-wasm' || p === 'model.fit: lean-wasm, lean loop';
    // (tfjs's LayersModel.fit takes the lean step too, so the 'tfjs LayersModel.fit' reference checks model.fit's loop and its
    // checks and splits around the same step.)
    if (r.backend === 'wasm') checks.push({ ok: r.ours.every((x) => leanPath(x.path)), text: `${name}: ours trains on the fast path (${first.path})` });
    for (const [label, ref] of [['generic path', r.generic], ['tfjs LayersModel.fit', r.layersFit]] as const) {
      if (!ref) continue;
      // A reference on fewer samples is compared with ours on as many.
      const mine = r.refOurs && r.refOurs.samples === ref.samples ? r.refOurs : first;
      const df = rel(mine.finalLoss, ref.finalLoss);
      const de = rel(mine.loss, ref.loss);
      const pathOk = label !== 'generic path' || ref.path === 'generic' || ref.path === 'model.fit: generic';
      const sd = stepDiff(mine.stepLosses, ref.stepLosses, stepTol);
      checks.push({
        ok: df <= tol.final && de <= tol.epoch && pathOk && sd.ok,
        text: `${name}: ${mine.path} (${mine.compute.text}) vs ${label}${mine.samples < r.samples ? ` (both on ${fmt(mine.samples)} samples)` : ''}: trained model's loss ${mine.finalLoss.toFixed(6)} vs ${ref.finalLoss.toFixed(6)} (relative ${df.toExponential(1)} ≤ ${fmtTol(tol.final)}), epoch loss ${mine.loss.toFixed(6)} vs ${ref.loss.toFixed(6)} (${de.toExponential(1)} ≤ ${fmtTol(tol.epoch)}), first ${sd.steps} steps ${sd.worst.toExponential(1)} (step ${sd.at}; ≤ ${sd.tol.toExponential(1)}); it runs at ${fmt(ref.samplesPerSecond)}/s`,
      });
    }
    // Ours in every other configuration (threads on/off, FMA on/off): the same checks, one run each.
    for (const c of r.configs) {
      const label = `${name} ours (${c.compute.text})`;
      const okTensors = c.tensors.afterLeakCheck === c.tensors.beforeLeakCheck && c.tensors.afterEpoch - c.tensors.beforeEpoch === c.tensors.adamSlots;
      const parts: string[] = [`initial weights ${c.weightsSha256 === ex.sha256 ? 'identical' : 'DIFFERENT'}`, `tensors ${okTensors ? 'unchanged' : 'LEAKED'}`];
      let ok = c.weightsSha256 === ex.sha256 && okTensors && c.path === first.path;
      if (r.model === 'stacked' || r.model === 'conv') {
        ok &&= c.peakRssMB < RSS_LIMIT_MB;
        parts.push(`peak RSS ${c.peakRssMB.toFixed(0)} MB`);
      }
      for (const [what, ref] of [['PyTorch', tr], ['generic path', r.generic], [`ours (${first.compute.text})`, first]] as const) {
        if (!ref || ('samples' in ref && ref.samples !== c.samples)) continue;
        const df = rel(c.finalLoss, ref.finalLoss);
        const de = rel(c.loss, ref.loss);
        const sd = stepDiff(c.stepLosses, ref.stepLosses, stepTol);
        ok &&= df <= tol.final && de <= tol.epoch && sd.ok;
        parts.push(`vs ${what}: trained ${df.toExponential(1)}, epoch ${de.toExponential(1)}, first ${sd.steps} steps ${sd.worst.toExponential(1)} (≤ ${sd.tol.toExponential(1)})`);
      }
      checks.push({ ok, text: `${label}: ${fmt(c.samplesPerSecond)}/s; ${parts.join('; ')}` });
    }
  }
  console.log('\nChecks');
  for (const c of checks) console.log(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.text}`);
  const failed = checks.filter((c) => !c.ok).length;

  for (const n of opts.threads) {
    const info = rows.flatMap((r) => r.torch.get(n) ?? [])[0];
    if (!info) continue;
    const b = info.blas;
    console.log(`${n === opts.threads[0] ? '\n' : ''}PyTorch ${info.torch}, ${info.threads} thread(s): BLAS ${b.openblas ?? b.torchBlasInfo ?? '?'}${b.openblasCore ? `, kernel ${b.openblasCore}` : ''}${info.verboseCore ? ` (OPENBLAS_VERBOSE: "Core: ${info.verboseCore}")` : ''}${b.openblasThreads ? ` with ${b.openblasThreads} thread(s)` : ''}; ${b.libraries.join(', ') || 'no BLAS library mapped'}`);
  }
  const outFile = path.resolve(opts.out);
  mkdirSync(path.dirname(outFile), { recursive: true });
  writeFileSync(outFile, JSON.stringify({
    date: new Date().toISOString(), durationSeconds: (Date.now() - started) / 1000,
    machine: { cpus: cpu.length, model: cpu[0]?.model, loadAverage: os.loadavg(), node: process.version, tfjs: tf.version.tfjs },
    options: { ...opts, python: opts.python }, torch: torchNote, openblas: { core: blas.core, detected: blas.detected, pinnedOnThisMachine: blas.pinned, note: blas.note }, skipped, matmul: mm, flopsPerSample: Object.fromEntries(opts.models.map((k) => [k, flopsPerSample(k)])),
    tolerances: { ...TOL, stepsCompared: STEPS_COMPARED, chaosMargin: CHAOS_MARGIN, perturbedRuns: PERTURBED_RUNS, chaosSigmas: CHAOS_SIGMAS }, table, targets, checks,
    runs: rows.map((r) => ({
      ...r,
      ours: r.ours.map(({ batchLosses, ...x }) => ({ ...x, batchLossesHead: batchLosses.slice(0, 10) })),
      torch: Object.fromEntries([...r.torch].map(([n, runs]) => [`${n} threads`, runs.map(({ batchLosses, ...x }) => ({ ...x, batchLossesHead: batchLosses.slice(0, 10) }))])),
      generic: r.generic && { ...r.generic, batchLosses: undefined },
      layersFit: r.layersFit && { ...r.layersFit, batchLosses: undefined },
      refOurs: r.refOurs && { ...r.refOurs, batchLosses: undefined },
      torch64: r.torch64 && { ...r.torch64, batchLosses: undefined },
      torchPerturbed: r.torchPerturbed.map((x) => ({ ...x, batchLosses: undefined })),
      torch64Steps: r.torch64Steps && { ...r.torch64Steps, batchLosses: undefined },
      configs: r.configs.map(({ batchLosses, ...x }) => ({ ...x, batchLossesHead: batchLosses.slice(0, 10) })),
    })),
  }, null, 2) + '\n');
  console.log(`\nwritten: ${path.relative(process.cwd(), outFile)} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  if (failed) {
    console.log(`${failed} check(s) failed.`);
    process.exitCode = 1;
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
