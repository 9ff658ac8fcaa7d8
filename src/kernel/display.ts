/**
 * Turning values into notebook outputs: the `show` API that cells call, and
 * the display of a cell's last expression. Every rich output carries its
 * text/plain fallback (and a PNG for image grids).
 */
import * as tf from '@tensorflow/tfjs';
import { inspect } from 'node:util';
import { AenbOutput, MIME, outputDataFromBytes } from '../common/aenb';
import {
  Colormap,
  ImageInput,
  imagesOutputItems,
  imagesPayload,
  newTrainingPayload,
  OutputItemBytes,
  historyFromKeras,
  batchSeries,
  jsonNumber,
  summaryOutputItems,
  summaryPayload,
  SummaryLayer,
  trainingOutputItems,
  TrainingPayload,
  utf8,
} from '../common/outputs';
import { AutoencoderModel } from '../lib/models';
import { addNoise } from '../lib/noise';
import { makeRng } from '../lib/random';
import { describeModel, ModelSummary } from '../lib/summary';
import { History, TrainingProgress } from '../lib/training';

export type Emit = (output: AenbOutput, key?: string) => void;

export function toOutput(items: OutputItemBytes[]): AenbOutput {
  return { items: items.map((i) => ({ mime: i.mime, data: outputDataFromBytes(i.mime, i.data) })) };
}

export function textOutput(text: string, mime: string = MIME.textPlain): AenbOutput {
  return { items: [{ mime, data: text }] };
}

// ---------------------------------------------------------------------------
// Training

/** The training payload for a live progress event. */
export function progressPayload(p: TrainingProgress, state: TrainingPayload['state'] = p.phase === 'end' ? (p.stopped ? 'stopped' : 'done') : 'running'): TrainingPayload {
  const payload = newTrainingPayload({
    runId: p.runId,
    epochs: p.epochs,
    batchesPerEpoch: p.batchesPerEpoch,
    title: p.model,
    samples: p.samples,
    batchSize: p.batchSize,
  });
  payload.state = state;
  const finished = p.history.loss?.length ?? 0;
  payload.epoch = finished;
  payload.batch = p.phase === 'batch' ? p.batch : 0;
  payload.samplesPerSecond = jsonNumber(p.samplesPerSecond) ?? undefined;
  payload.etaSeconds = state === 'running' ? (jsonNumber(p.etaSeconds) ?? undefined) : undefined;
  payload.elapsedSeconds = p.elapsedSeconds;
  payload.history = historyFromKeras(p.history);
  if (p.batchLosses.length) payload.batches = batchSeries(p.batchLosses);
  if (p.stopReason) payload.message = p.stopReason;
  return payload;
}

/** The training payload of a finished History (ours or tfjs's). */
export function historyPayload(h: History | tf.History, title?: string): TrainingPayload {
  if (h instanceof History) {
    const payload = newTrainingPayload({
      runId: `history-${h.params.model}-${h.epoch.length}`,
      epochs: h.params.epochs,
      batchesPerEpoch: h.params.steps,
      title: title ?? h.params.model,
      samples: h.params.samples,
      batchSize: h.params.batchSize,
    });
    payload.state = h.stopped ? 'stopped' : 'done';
    payload.epoch = h.epoch.length;
    payload.history = historyFromKeras(h.history);
    payload.elapsedSeconds = h.durationMs / 1000;
    if (h.batchLosses.length) payload.batches = batchSeries(h.batchLosses);
    if (h.stopReason) payload.message = h.stopReason;
    return payload;
  }
  // tf.History from tfjs's own model.fit
  const series: Record<string, number[]> = {};
  for (const [k, v] of Object.entries(h.history)) series[k] = (v as (number | tf.Tensor)[]).map((x) => (typeof x === 'number' ? x : x.dataSync()[0]));
  const epochs = h.epoch.length;
  const payload = newTrainingPayload({
    runId: `history-${epochs}-${Date.now().toString(36)}`,
    epochs,
    batchesPerEpoch: (h.params?.steps as number | undefined) ?? 1,
    title,
  });
  payload.state = 'done';
  payload.epoch = epochs;
  payload.history = historyFromKeras(series);
  return payload;
}

// ---------------------------------------------------------------------------
// Summaries

/** Our summary data as the renderer's payload: Encoder/Decoder as containers, tied kernels marked. */
export function summaryToPayload(s: ModelSummary, modelType?: string, inputShape?: number[]) {
  const layers: SummaryLayer[] = [];
  const groups = new Map<string | undefined, typeof s.layers>();
  for (const l of s.layers) {
    if (!groups.has(l.group)) groups.set(l.group, []);
    groups.get(l.group)!.push(l);
  }
  for (const [group, members] of groups) {
    const depth = group ? 1 : 0;
    if (group) {
      const last = members[members.length - 1];
      layers.push({
        name: group,
        type: 'Sequential',
        outputShape: last.outputShape,
        params: members.reduce((a, l) => a + l.params + l.shared.reduce((b, x) => b + x.params, 0), 0),
        trainable: members.every((l) => l.trainable),
        depth: 0,
      });
    }
    for (const l of members) {
      const borrowed = l.shared.reduce((a, x) => a + x.params, 0);
      layers.push({
        name: l.name,
        type: l.className,
        outputShape: l.outputShape,
        params: l.params + borrowed,
        trainable: l.trainable,
        depth,
        ...(l.shared.length
          ? { shared: l.shared.map((x) => ({ weight: 'kernel', owner: x.from, params: x.params, transposed: true, trainable: true })) }
          : {}),
      });
    }
  }
  return summaryPayload(s.name, layers, { modelType, inputShape: inputShape ? [null, ...inputShape] : undefined });
}

export function summaryOutput(model: AutoencoderModel | tf.LayersModel): AenbOutput {
  if (model instanceof AutoencoderModel) {
    return toOutput(summaryOutputItems(summaryToPayload(model.summary(), model.className, model.inputShape)));
  }
  const s = describeModel(model.name, model.layers, model);
  return toOutput(summaryOutputItems(summaryToPayload(s, model.getClassName())));
}

// ---------------------------------------------------------------------------
// Images

export interface ImageRowInput {
  title: string;
  /** A tensor [N, H, W] (or [N, H, W, 1|3], or [N, H*W] with `shape`), or an array of [H, W] tensors. */
  images: tf.Tensor | tf.Tensor[];
  /** Captions under the images. */
  captions?: (string | number)[];
}

export interface ShowImagesOptions {
  title?: string;
  colormap?: Colormap;
  /** Image size when the rows hold flat vectors, e.g. [28, 28]. */
  shape?: [number, number];
  /** Pixel values range; default: [0, 1] for floats, [0, 255] when any value exceeds 1. */
  range?: [number, number];
}

function tensorImages(t: tf.Tensor | tf.Tensor[], opts: ShowImagesOptions, where: string): ImageInput[] {
  const list = Array.isArray(t) ? t : tf.unstack(t);
  try {
    return list.map((img, i) => {
      if (!(img instanceof tf.Tensor)) throw new TypeError(`${where}: image ${i} is not a tensor.`);
      let h: number;
      let w: number;
      let channels: 1 | 3 = 1;
      if (img.rank === 2) [h, w] = img.shape as [number, number];
      else if (img.rank === 3 && (img.shape[2] === 1 || img.shape[2] === 3)) {
        [h, w] = img.shape as [number, number];
        channels = img.shape[2] as 1 | 3;
      } else if (img.rank === 1 && opts.shape) {
        [h, w] = opts.shape;
        if (h * w !== img.size) throw new Error(`${where}: image ${i} has ${img.size} values; shape ${h}x${w} needs ${h * w}.`);
      } else {
        throw new Error(
          `${where}: image ${i} has shape [${img.shape.join(', ')}]; give images as [N, H, W] (or [N, H, W, 1|3]), or flat vectors with { shape: [H, W] }.`,
        );
      }
      const values = img.dataSync();
      const lo = opts.range ? opts.range[0] : 0;
      let hi = opts.range ? opts.range[1] : 1;
      if (!opts.range) {
        let max = -Infinity;
        for (const v of values) if (v > max) max = v;
        if (max > 1) hi = 255;
      }
      const px = new Uint8Array(values.length);
      const span = hi - lo || 1;
      for (let k = 0; k < values.length; k++) px[k] = Math.max(0, Math.min(255, Math.round(((values[k] - lo) / span) * 255)));
      return { width: w, height: h, channels, pixels: px };
    });
  } finally {
    if (!Array.isArray(t)) tf.dispose(list);
  }
}

export function imagesOutput(rows: ImageRowInput[], opts: ShowImagesOptions = {}): AenbOutput {
  if (!Array.isArray(rows) || rows.length === 0) {
    throw new TypeError('show.images(rows): rows must be a non-empty array of { title, images }.');
  }
  const built = rows.map((r, i) => {
    if (!r || typeof r.title !== 'string') throw new TypeError(`show.images: rows[${i}] needs a title (a string) and images.`);
    const images = tensorImages(r.images, opts, `show.images row "${r.title}"`);
    r.captions?.forEach((c, k) => {
      if (images[k]) images[k].caption = String(c);
    });
    return { title: r.title, images };
  });
  const payload = imagesPayload(built, { title: opts.title, colormap: opts.colormap });
  return toOutput(imagesOutputItems(payload));
}

export interface ReconstructionOptions {
  /** How many samples (default 4, as in the seeds). */
  n?: number;
  /** Gaussian noise factor: adds a "Noisy" row and reconstructs the noisy inputs (the denoising section). */
  noise?: number;
  /** Seed for picking samples and for the noise. Without it, samples are picked at random. */
  seed?: number;
  /** Take the first n samples instead of random ones. */
  first?: boolean;
  title?: string;
  colormap?: Colormap;
}

/** Originals, (noisy,) and reconstructions of n samples of x, with per-image errors as captions. */
export function reconstructionsOutput(model: AutoencoderModel | tf.LayersModel, x: tf.Tensor, opts: ReconstructionOptions = {}): AenbOutput {
  if (!(model instanceof AutoencoderModel) && !(model instanceof tf.LayersModel)) {
    throw new TypeError('show.reconstructions(model, x): model must be an Autoencoder, a StackedAutoencoder or a tfjs model.');
  }
  if (!(x instanceof tf.Tensor) || x.rank < 2) throw new TypeError('show.reconstructions(model, x): x must be a tensor of samples, e.g. xTest.');
  const n = opts.n ?? 4;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`show.reconstructions: n must be a whole number >= 1, got ${n}.`);
  const count = Math.min(n, x.shape[0]);
  const rng = makeRng(opts.seed);
  const picked: number[] = [];
  if (opts.first) for (let i = 0; i < count; i++) picked.push(i);
  else {
    const chosen = new Set<number>();
    while (chosen.size < count) chosen.add(Math.floor(rng() * x.shape[0]));
    picked.push(...chosen);
  }
  const tensors: tf.Tensor[] = [];
  try {
    const originals = tf.gather(x, picked);
    tensors.push(originals);
    const inputs = opts.noise ? addNoise(originals, opts.noise, { seed: opts.seed }) : originals;
    if (inputs !== originals) tensors.push(inputs);
    const out = model instanceof AutoencoderModel ? model.predict(inputs) : (model.predict(inputs) as tf.Tensor);
    tensors.push(out);
    const errs = tf.tidy(() => {
      const flatOut = out.reshape([count, -1]);
      const flatIn = originals.reshape([count, -1]);
      return tf.mean(tf.squaredDifference(flatOut, flatIn), 1).dataSync();
    });
    const asImages = (t: tf.Tensor) => {
      const shape = model instanceof AutoencoderModel ? model.inputShape : x.shape.slice(1);
      return shape.length === 1 ? t : t.reshape([count, ...shape]);
    };
    const rows: ImageRowInput[] = [{ title: 'Original', images: asImages(originals) }];
    if (inputs !== originals) rows.push({ title: `Noisy (factor ${opts.noise})`, images: asImages(inputs) });
    rows.push({ title: opts.noise ? 'Denoised' : 'Reconstructed', images: asImages(out), captions: Array.from(errs, (e) => `mse ${e.toFixed(4)}`) });
    const shape2 = model instanceof AutoencoderModel && model.inputShape.length === 1 ? squareShape(model.inputShape[0]) : undefined;
    return imagesOutput(rows, { title: opts.title, colormap: opts.colormap, shape: shape2, range: [0, 1] });
  } finally {
    tf.dispose(tensors);
  }
}

function squareShape(size: number): [number, number] | undefined {
  const s = Math.round(Math.sqrt(size));
  return s * s === size ? [s, s] : undefined;
}

// ---------------------------------------------------------------------------
// Last-expression values

function tensorPreview(t: tf.Tensor): string {
  const head = `Tensor  shape [${t.shape.join(', ')}]  dtype ${t.dtype}  (${t.size.toLocaleString('en-US')} values)`;
  if (t.isDisposed) return head + '  [disposed]';
  const preview = t.size <= 200 ? t.toString().replace(/^Tensor\n?/, '') : summarizeValues(t);
  return `${head}\n${preview}`;
}

function summarizeValues(t: tf.Tensor): string {
  const v = t.dataSync();
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const x of v) {
    if (x < min) min = x;
    if (x > max) max = x;
    sum += x;
  }
  const first = Array.from(v.subarray(0, 8), (x) => Number(x.toPrecision(4))).join(', ');
  return `min ${min.toPrecision(4)}  max ${max.toPrecision(4)}  mean ${(sum / v.length).toPrecision(4)}\nfirst values: ${first}, …`;
}

/** The output for a cell's last expression, or undefined when there is nothing to show. */
export function valueOutput(value: unknown): AenbOutput | undefined {
  if (value === undefined) return undefined;
  if (value instanceof AutoencoderModel || value instanceof tf.LayersModel) return summaryOutput(value);
  if (value instanceof History) return toOutput(trainingOutputItems(historyPayload(value)));
  if (value instanceof tf.History) return toOutput(trainingOutputItems(historyPayload(value)));
  if (value instanceof tf.Tensor) return textOutput(tensorPreview(value));
  if (typeof value === 'string') return textOutput(value);
  return textOutput(inspect(value, { depth: 4, colors: false, maxArrayLength: 50, breakLength: 100 }));
}

export function markdownOutput(markdown: string): AenbOutput {
  return { items: [{ mime: MIME.markdown, data: markdown }] };
}

export function bytesOutput(mime: string, text: string): AenbOutput {
  return toOutput([{ mime, data: utf8(text) }]);
}
