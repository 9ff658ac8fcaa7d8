// The latent-space explorer in the kernel: `show.latent` (codes of a set of
// samples projected to 2-D by PCA or UMAP, or drawn as they are when 2-D),
// `show.interpolate` (./kernel-interpolate.ts), the live
// `callbacks.latentView`, and the `latent.decode` request of explorers whose
// decoder stays here (./kernel-decoder.ts). Every argument is checked first
// (./kernel-args.ts); an error names the argument and says what to pass.
import * as tf from '@tensorflow/tfjs';
import { encodeFloat32 } from '../../common/base64';
import type { Colormap } from '../../common/colormap';
import { formatCount } from '../../common/formatting';
import { latentModel, pca2d, umap2d, UmapStopped, type LatentModel } from '../../lib/latent';
import type { KernelPart, KernelServices, RunningCell } from '../kind';
import { toOutput } from '../payload';
import { textOutput } from '../text';
import {
  LATENT_MAX_POINTS,
  LIVE_TITLE,
  LIVE_TITLE_AFTER,
  PROJECTION_METHODS,
  latentOutputItems,
  type ImageBlock,
  type ImageShape,
  type LatentPayload,
  type LiveEpoch,
  type LiveState,
  type ProjectionMethod,
} from './contract';
import { toPixels } from './inverse';
import {
  checkColormap,
  checkCount,
  checkInputs,
  checkOptions,
  checkTensor,
  describe,
  detectRange,
  imageBlock,
  imageShapeOf,
  pickRows,
  readClasses,
  valuesOf,
  type Classes,
  type Labels,
} from './kernel-args';
import { decodeForExplorer, denseDecoderSpec, KERNEL_INSTANCE, registerRemote } from './kernel-decoder';
import { interpolateOutput } from './kernel-interpolate';

export interface LatentOptions {
  /** One label per row of x (a tensor like yTest, or an array of numbers or strings). */
  labels?: Labels;
  /** Names of the classes, indexed by label (Fashion-MNIST's are found by themselves). */
  classNames?: readonly string[];
  /** How many rows of x to map (default: 2,000 or all of x when it has fewer; at most 10,000). */
  n?: number;
  /** 'pca' (default), 'umap', or 'raw' (a 2-D latent space, drawn as it is; the default there). */
  method?: ProjectionMethod;
  /** Seed for choosing the rows (and for UMAP). Default 1: the same rows every time. */
  seed?: number;
  title?: string;
  /** What the rows are, for the captions: "test images", say. */
  subject?: string;
  /** Colormap of grayscale images: 'gray' (the default for every output) or 'viridis' (for values that are not pictures: heat maps, weights). */
  colormap?: Colormap;
  /** Image size [height, width] when inputs are flat vectors that are not square. */
  shape?: [number, number];
  /** Pixel values of x: default [0, 1], or [0, 255] when a value is above 1. */
  /** Colormap of grayscale images: 'gray' (the default for every output) or 'viridis' (for values that are not pictures: heat maps, weights). */
  range?: [number, number];
  /** UMAP: neighbours per point (default 15) and minimum distance (default 0.1). */
  neighbors?: number;
  minDist?: number;
}

export interface ProgressSink {
  /** Live progress text (replaced in place). */
  progress?(text: string): void;
  /** True when the cell was interrupted. */
  shouldStop?(): boolean;
}

const DEFAULT_POINTS = 2_000;
const UMAP_MIN_POINTS = 10;
// ---------------------------------------------------------------------------
// show.latent

export interface LatentBuild {
  payload: LatentPayload;
  /** The PCA axes, to keep a live map's orientation from one epoch to the next. */
  components?: Float32Array;
}

export interface LatentContext extends ProgressSink {
  where?: string;
  /** PCA axes of the previous map (live view). */
  previous?: Float32Array;
  epoch?: LiveEpoch;
  /** Originals already encoded (the live view sends the same ones each epoch). */
  originalsCache?: Map<string, ImageBlock>;
}

/**
 * Builds the explorer's payload. Arguments are checked and the codes computed
 * before this returns (a bad argument throws at the caller's line); the
 * projection and the payload follow in the promise.
 */
export function buildLatent(model: unknown, x: unknown, opts: LatentOptions = {}, ctx: LatentContext = {}): Promise<LatentBuild> {
  const where = ctx.where ?? 'show.latent';
  checkOptions(opts, where);
  opts = opts ?? {};
  const m = latentModel(model, `${where}: model`);
  checkTensor(x, where, 'x');
  checkInputs(x, m, where);
  const rows = x.shape[0];
  const n = opts.n === undefined ? Math.min(DEFAULT_POINTS, rows) : checkCount(opts.n, where, 'n', 2, LATENT_MAX_POINTS, rows, 'x');
  const method: ProjectionMethod = opts.method ?? (m.latentDim === 2 ? 'raw' : 'pca');
  if (!PROJECTION_METHODS.includes(method)) throw new Error(`${where}: method must be 'pca', 'umap' or 'raw', got ${describe(opts.method)}.`);
  if (method === 'raw' && m.latentDim !== 2) throw new Error(`${where}: method 'raw' draws 2-D codes as they are, but this latent space has ${m.latentDim} dimensions; use 'pca' or 'umap'.`);
  if (method === 'umap' && n < UMAP_MIN_POINTS) throw new RangeError(`${where}: n is ${n}; UMAP needs at least ${UMAP_MIN_POINTS} points.`);
  const classes = opts.labels !== undefined ? readClasses(opts.labels, rows, opts.classNames, `${where}`) : undefined;
  if (opts.labels === undefined && opts.classNames !== undefined) throw new Error(`${where}: classNames needs labels too (labels: yTest).`);
  const colormap = checkColormap(opts.colormap, where);
  const image = imageShapeOf(m, where, opts.shape);
  if (opts.seed !== undefined && !Number.isFinite(opts.seed)) throw new RangeError(`${where}: seed must be a number, got ${describe(opts.seed)}.`);
  const seed = opts.seed ?? 1;

  const picked = pickRows(rows, n, seed);
  const sample = n === rows ? x : tf.tidy(() => tf.gather(x, tf.tensor1d(picked, 'int32')));
  let codes: Float32Array;
  let inputs: Float32Array;
  try {
    codes = valuesOf(() => m.encode(sample));
    inputs = sample.dataSync() as Float32Array;
  } finally {
    if (sample !== x) sample.dispose();
  }
  const dim = m.latentDim;
  for (let i = 0; i < codes.length; i++) {
    if (!Number.isFinite(codes[i])) throw new Error(`${where}: the encoder made a code with ${codes[i]} for row ${picked[Math.floor(i / dim)]} of x; check the model's weights and the inputs' scale.`);
  }
  const range = opts.range ?? detectRange(inputs);

  return finishLatent({ m, x, opts, ctx, where, rows, n, method, classes, colormap, image, seed, picked, codes, inputs, range });
}

interface Prepared {
  m: LatentModel;
  x: tf.Tensor;
  opts: LatentOptions;
  ctx: LatentContext;
  where: string;
  rows: number;
  n: number;
  method: ProjectionMethod;
  classes: Classes | undefined;
  colormap: Colormap | undefined;
  image: ImageShape;
  seed: number;
  picked: number[];
  codes: Float32Array;
  inputs: Float32Array;
  range: [number, number];
}

async function finishLatent(prep: Prepared): Promise<LatentBuild> {
  const { m, opts, ctx, where, rows, n, method, classes, colormap, image, seed, picked, codes, inputs, range } = prep;
  const dim = m.latentDim;
  let points: Float32Array;
  const payload: Partial<LatentPayload> = {};
  let components: Float32Array | undefined;
  if (method === 'pca') {
    const p = pca2d(codes, n, dim, ctx.previous);
    points = p.points;
    components = p.components;
    payload.pca = { mean: encodeFloat32(p.mean), components: encodeFloat32(p.components), explained: p.explained, totalVariance: p.totalVariance };
  } else if (method === 'umap') {
    const started = Date.now();
    try {
      const u = await umap2d(codes, n, dim, {
        seed,
        neighbors: opts.neighbors,
        minDist: opts.minDist,
        shouldStop: ctx.shouldStop,
        onProgress: (done, total, phase) =>
          ctx.progress?.(
            phase === 'neighbors'
              ? `UMAP of ${formatCount(n)} codes: finding nearest neighbours…`
              : phase === 'graph'
                ? `UMAP of ${formatCount(n)} codes: building the neighbour graph…`
                : `UMAP of ${formatCount(n)} codes: layout ${Math.round((100 * done) / total)}% (${done}/${total} epochs, ${((Date.now() - started) / 1000).toFixed(1)} s)`,
          ),
      });
      points = u.points;
      payload.umap = { neighbors: u.neighbors, minDist: u.minDist, blend: Math.min(8, n) };
    } catch (e) {
      if (e instanceof UmapStopped) throw new Error(`${where}: interrupted while UMAP was running; nothing was drawn.`);
      throw e;
    }
  } else {
    points = new Float32Array(codes);
  }

  const pixelsPerImage = image.width * image.height * image.channels;
  const cacheKey = `${picked.length}:${picked[0]}:${picked[picked.length - 1]}:${range.join(',')}`;
  let originals = ctx.originalsCache?.get(cacheKey);
  if (!originals) {
    originals = imageBlock(toPixels(inputs.length === n * pixelsPerImage ? inputs : inputs.subarray(0, n * pixelsPerImage), range));
    ctx.originalsCache?.clear();
    ctx.originalsCache?.set(cacheKey, originals);
  }
  const dense = denseDecoderSpec(m.decoder);
  let reconstructions: ImageBlock | undefined;
  if ('reason' in dense) {
    const out = valuesOf(() => m.decode(tf.tensor2d(codes, [n, dim])));
    reconstructions = imageBlock(toPixels(out, range));
  }
  const full: LatentPayload = {
    version: 1,
    title: opts.title ?? (m.name === 'model' ? 'Latent space' : `Latent space of ${m.name}`),
    subject: opts.subject ?? (n === rows ? 'samples' : `samples (${formatCount(n)} of ${formatCount(rows)})`),
    method,
    latentDim: dim,
    count: n,
    points: encodeFloat32(points),
    codes: encodeFloat32(codes),
    ...(n === rows ? {} : { indices: picked }),
    ...(classes ? { labels: picked.map((r) => classes.labels[r]), classNames: classes.names } : {}),
    image,
    originals,
    ...(reconstructions ? { reconstructions } : {}),
    ...(range[0] !== 0 || range[1] !== 1 ? { range } : {}),
    ...(colormap ? { colormap } : {}),
    ...('spec' in dense ? { decoder: dense.spec } : { remote: { model: registerRemote({ model: m, range, image }), kernel: KERNEL_INSTANCE, reason: dense.reason } }),
    ...payload,
    ...(ctx.epoch ? { epoch: ctx.epoch } : {}),
  };
  return { payload: full, components };
}

/**
 * show.latent: arguments are checked and the codes computed at once (an
 * error names the cell's line); the projection (UMAP takes seconds, with its
 * progress shown under the same key) finishes in the returned promise, which
 * the cell need not await: it ends when the map is out.
 */
function showLatent(cell: RunningCell, model: unknown, x: unknown, opts?: LatentOptions): PromiseLike<void> {
  const key = cell.newKey('latent');
  const building = buildLatent(model, x, opts, {
    progress: (text) => cell.emit(textOutput(text), key),
    shouldStop: () => cell.interrupted,
  });
  return cell.track(building.then((b) => cell.emit(toOutput(latentOutputItems(b.payload)), key, true)));
}

// ---------------------------------------------------------------------------
// callbacks.latentView

export interface LatentViewOptions extends Omit<LatentOptions, 'method'> {
  method?: 'pca' | 'raw';
  /** Redraw every this many epochs (default 1). */
  every?: number;
}

/** A training callback that redraws the latent map at the end of epochs. */
export interface LatentViewCallback {
  /** Called by fit before training starts (ours and tfjs's). */
  setModel(model: unknown): void;
  setParams(params: { epochs?: number }): void;
  onTrainBegin(): Promise<void>;
  onEpochEnd(epoch: number): Promise<void>;
  onTrainEnd(arg?: unknown): Promise<void>;
}

/**
 * `callbacks.latentView(x, opts)`: the map of x's codes, drawn when training
 * begins and redrawn at the end of epochs, under the cell running the
 * training (one output, replaced in place).
 */
export function latentViewCallback(kernel: KernelServices, x: unknown, opts?: LatentViewOptions): LatentViewCallback {
  const where = 'callbacks.latentView';
  checkOptions(opts, where);
  const o: LatentViewOptions = { ...(opts ?? {}) };
  checkTensor(x, where, 'x');
  if ((o.method as string | undefined) === 'umap') {
    throw new Error(`${where}: method 'umap' is too slow to redraw at every epoch; use 'pca' (the default) here, and show.latent(model, x, { method: 'umap' }) after training.`);
  }
  const every = o.every ?? 1;
  if (!Number.isInteger(every) || every < 1) throw new RangeError(`${where}: every must be a whole number >= 1, got ${describe(every)}.`);
  let model: unknown;
  let previous: Float32Array | undefined;
  const cache = new Map<string, ImageBlock>();
  let epochs = 0;
  /** Epochs ended in this fit (onEpochEnd calls), and the fit's map: the cell showing it, its key, the latest payload sent. */
  let epochsRun = 0;
  let run: { cell: RunningCell; key: string; last?: LatentPayload } | undefined;
  const titleFor = (state: LiveState) => o.title ?? (state === 'done' || state === 'stopped' ? LIVE_TITLE_AFTER : LIVE_TITLE);
  const send = (r: NonNullable<typeof run>, p: LatentPayload) => {
    r.last = p;
    r.cell.emit(toOutput(latentOutputItems(p)), r.key, true);
  };
  /** The map of the run ended: the badge stops looking live and says how it ended (the map itself stays). Once only. */
  const settle = (r: NonNullable<typeof run>, state: Exclude<LiveState, 'running'>) => {
    if (!r.last?.epoch || (r.last.epoch.state ?? 'running') !== 'running') return;
    send(r, { ...r.last, title: titleFor(state), epoch: { ...r.last.epoch, state } });
  };
  const draw = async (epoch: number, state: LiveState = 'running') => {
    if (!model) throw new Error(`${where}: the callback was not given the model; pass it to fit: model.fit(x, x, { callbacks: [callbacks.latentView(xSample)] }).`);
    const built = await buildLatent(model, x, { ...o, title: titleFor(state) }, { where, previous, epoch: { epoch, epochs, state }, originalsCache: cache });
    previous = built.components;
    const cell = kernel.cell();
    if (!cell) return;
    if (!run) {
      const r = (run = { cell, key: cell.newKey('latent-view') });
      // A fit that ends without onTrainEnd (it threw, say): the map says its run was interrupted when the cell ends.
      cell.onEnd(() => settle(r, 'interrupted'));
    }
    send(run, built.payload);
  };
  return {
    setModel(m: unknown) {
      // Fails before training starts when the model has no latent space to draw. A tfjs
      // Sequential trains through an inner model that flattens its first nested model:
      // the Sequential itself comes first, and is kept.
      try {
        latentModel(m, `${where}: the model being trained`);
        model = m;
      } catch (e) {
        if (!model) throw e;
      }
    },
    setParams(params: { epochs?: number }) {
      if (typeof params?.epochs === 'number') epochs = params.epochs;
    },
    async onTrainBegin() {
      epochsRun = 0;
      await draw(0);
    },
    async onEpochEnd(epoch: number) {
      epochsRun = epoch + 1;
      if ((epoch + 1) % every === 0) await draw(epoch + 1);
    },
    async onTrainEnd(arg?: unknown) {
      // Our fit passes its History (stopped: an interrupt, Stop or stopTraining ended it early); tfjs's passes nothing.
      const stopped = arg && typeof arg === 'object' && 'stopped' in arg ? Boolean((arg as { stopped?: unknown }).stopped) : Boolean((model as { stopTraining?: unknown } | undefined)?.stopTraining);
      const r = run;
      try {
        if (r?.last?.epoch && !stopped && model && r.last.epoch.epoch < epochsRun) await draw(epochsRun, 'done'); // the last epochs, with every > 1
        else if (r) settle(r, stopped ? 'stopped' : 'done');
      } finally {
        model = undefined;
        run = undefined; // another fit with this callback draws a map of its own
      }
    },
  };
}

export const kernel = {
  show: {
    /**
     * Shows the decoded path from image `a` to image `b` (each one image, or a batch of one): the
     * decoder's images of `steps` codes (default 10) evenly spaced on the line between their codes.
     */
    interpolate: interpolateOutput,
  },
  showLive: {
    /**
     * Shows the latent-space explorer: the codes of `n` rows of `x` (default 2,000, at most 10,000)
     * on a 2-D map (`method`: 'pca' by default, 'umap', or 'raw' for a 2-D latent space), coloured
     * by `labels`. Click the map to decode any point, twice for an interpolation strip. The cell
     * waits for the map even when the returned promise is not awaited.
     */
    latent: showLatent,
  },
  callbacks: {
    /**
     * A callback for `fit(..., { callbacks: [...] })` that draws the latent map of `x` when training
     * begins and redraws it at the end of every `every` epochs (default 1), in place.
     */
    latentView: latentViewCallback,
  },
  requests: { 'latent.decode': decodeForExplorer },
} satisfies KernelPart;
