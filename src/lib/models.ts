/**
 * The two seed models, as TensorFlow.js models with a Keras-like surface:
 * `Autoencoder` (vanilla: flatten, dense+LeakyReLU, dense+sigmoid, reshape) and
 * `StackedAutoencoder` (dense encoder stack, tied-weights decoder made of
 * `TransposedDense` layers). Both expose `encoder`, `decoder`, `compile`,
 * `fit`, `predict`, `evaluate`, `summary`, `save`; `loadModel` reads them back.
 */
import * as tf from '@tensorflow/tfjs';
import type { LayerVariable } from '@tensorflow/tfjs-layers/dist/variables';
import { activation, activationName, ActivationSpec, TransposedDense } from './layers';
import { LossFn, LossSpec, OptimizerSpec, resolveLoss, resolveOptimizer } from './losses';
import { deriveSeed } from './random';
import { tensorRange } from './lean/heap';
import { profiling, recordProfile } from './engine';
import { describeModel, ModelSummary } from './summary';
import { evaluateLoss, FitArgs, History, train, Trainable } from './training';
import { saveModel } from './model-file';

export type InputShape = number | number[];

export interface CompileArgs {
  /** Default 'binaryCrossentropy', as in the seeds. */
  loss?: LossSpec;
  /** Default 'adam' (Keras defaults: learning rate 0.001). */
  optimizer?: OptimizerSpec;
  learningRate?: number;
}

export interface PredictArgs {
  batchSize?: number;
}

/** Checks and normalises an input shape given as a number or an array of numbers. */
export function normalizeInputShape(inputShape: unknown, where: string): number[] {
  const shape = typeof inputShape === 'number' ? [inputShape] : inputShape;
  if (!Array.isArray(shape) || shape.length === 0 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new TypeError(
      `${where}: inputShape must be a positive whole number or an array of them (for 28x28 images: [28, 28]); got ${JSON.stringify(inputShape)}.`,
    );
  }
  return shape as number[];
}

function checkUnits(value: unknown, what: string): number {
  if (!Number.isInteger(value) || (value as number) < 1) {
    throw new TypeError(`${what} must be a whole number >= 1, got ${JSON.stringify(value)}.`);
  }
  return value as number;
}

const product = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Names layers as Keras does inside one model: dense, dense_1, dense_2... */
class LayerNamer {
  private counts = new Map<string, number>();
  next(base: string): string {
    const n = this.counts.get(base) ?? 0;
    this.counts.set(base, n + 1);
    return n === 0 ? base : `${base}_${n}`;
  }
}

/** What both seed models have in common. */
export abstract class AutoencoderModel implements Trainable {
  readonly name: string;
  readonly inputShape: number[];
  abstract readonly encoder: tf.Sequential;
  abstract readonly decoder: tf.Sequential;
  /** The whole network, input to reconstruction. */
  protected full?: tf.LayersModel;
  stopTraining = false;
  private optimizer?: tf.Optimizer;
  private lossFn?: LossFn;
  private lossName?: string;

  protected constructor(name: string, inputShape: number[]) {
    this.name = name;
    this.inputShape = inputShape;
  }

  /** The JSON-serialisable arguments that rebuild this model. */
  abstract getConfig(): Record<string, unknown>;
  /** The class name a saved model records (`Autoencoder` or `StackedAutoencoder`), used by `loadModel`. */
  abstract get className(): string;

  get model(): tf.LayersModel {
    if (!this.full) {
      const input = tf.input({ shape: this.inputShape, name: 'input' });
      const z = this.encoder.apply(input) as tf.SymbolicTensor;
      const out = this.decoder.apply(z) as tf.SymbolicTensor;
      this.full = tf.model({ inputs: input, outputs: out, name: this.name });
    }
    return this.full;
  }

  /** Size of the latent code. */
  get latentDim(): number {
    const shape = this.encoder.outputs[0].shape;
    return shape[shape.length - 1] as number;
  }

  get compiled(): boolean {
    return this.optimizer !== undefined;
  }

  get loss(): string | undefined {
    return this.lossName;
  }

  /** The optimizer `compile` set up (undefined before), with its state: what checkpoints save. */
  getOptimizer(): tf.Optimizer | undefined {
    return this.optimizer;
  }

  compile(args: CompileArgs = {}): void {
    const { fn, name } = resolveLoss(args.loss ?? 'binaryCrossentropy');
    this.lossFn = fn;
    this.lossName = name;
    this.optimizer?.dispose();
    this.optimizer = resolveOptimizer(args.optimizer ?? 'adam', args.learningRate);
  }

  private requireCompiled(what: string): { optimizer: tf.Optimizer; loss: LossFn } {
    if (!this.optimizer || !this.lossFn) {
      throw new Error(`${this.name}.${what}: compile the model first, e.g. model.compile({ loss: 'binaryCrossentropy', optimizer: 'adam' }).`);
    }
    return { optimizer: this.optimizer, loss: this.lossFn };
  }

  /** Throws a clear error when `x` does not look like a batch of inputs for this model. */
  protected checkInput(x: unknown, what = 'x'): asserts x is tf.Tensor {
    if (!(x instanceof tf.Tensor)) throw new TypeError(`${this.name}: ${what} must be a tensor of shape [N, ${this.inputShape.join(', ')}].`);
    const rest = x.shape.slice(1);
    const ok = rest.length === this.inputShape.length && rest.every((d: number, i: number) => d === this.inputShape[i]);
    const flatOk = rest.length === 1 && rest[0] === product(this.inputShape) && this.inputShape.length > 1;
    if (!ok && !flatOk) {
      throw new Error(
        `${this.name}: ${what} has shape [${x.shape.join(', ')}], but the model takes [N, ${this.inputShape.join(', ')}]` +
          (x.rank === this.inputShape.length ? ' (a single sample? add a batch axis with x.expandDims(0))' : '') +
          '.',
      );
    }
  }

  private asInput(x: tf.Tensor): tf.Tensor {
    return x.rank === 2 && this.inputShape.length > 1 ? x.reshape([x.shape[0], ...this.inputShape]) : x;
  }

  forward(x: tf.Tensor, training: boolean): tf.Tensor {
    return this.model.apply(this.asInput(x), { training }) as tf.Tensor;
  }

  /** The whole network (for the lean training step on the wasm backend, which reads its layers: see lean/). */
  network(): tf.LayersModel {
    return this.model;
  }

  trainableVariables(): tf.Variable[] {
    const seen = new Set<number>();
    const out: tf.Variable[] = [];
    for (const w of this.model.trainableWeights) {
      const v = w.read() as tf.Variable;
      if (!seen.has(v.id)) {
        seen.add(v.id);
        out.push(v);
      }
    }
    return out;
  }

  /**
   * Trains the model (Keras's `fit`): defaults epochs 1, batchSize 32, shuffle.
   * Progress goes to `onProgress` and to the notebook; stop with an interrupt,
   * `model.stopTraining = true` or `signal`; the weights learned so far stay.
   */
  async fit(x: tf.Tensor, y: tf.Tensor, args: FitArgs = {}): Promise<History> {
    const { optimizer, loss } = this.requireCompiled('fit');
    this.checkInput(x, 'x');
    if (!(y instanceof tf.Tensor)) throw new TypeError(`${this.name}.fit(x, y): y must be a tensor (for an autoencoder, usually x itself).`);
    if (this.lossName === 'binary_crossentropy') {
      const r0 = profiling() ? performance.now() : 0;
      const [lo, hi] = tensorRange(y);
      if (r0) recordProfile('fit: range check of the targets', performance.now() - r0);
      if (lo < 0 || hi > 1) {
        throw new Error(
          `${this.name}.fit: binary cross-entropy needs targets in [0, 1], but y ranges over [${lo}, ${hi}]. ` +
            (hi > 1 ? 'Scale images first, e.g. xTrain.div(255).' : 'Rescale the targets into [0, 1].'),
        );
      }
    }
    return train(this, optimizer, loss, x, y, args);
  }

  /** Reconstructions of `x`. */
  predict(x: tf.Tensor, args: PredictArgs = {}): tf.Tensor {
    this.checkInput(x, 'x');
    return this.model.predict(this.asInput(x), { batchSize: args.batchSize ?? 256 }) as tf.Tensor;
  }

  /** Latent codes of `x`. */
  encode(x: tf.Tensor, args: PredictArgs = {}): tf.Tensor {
    this.checkInput(x, 'x');
    return this.encoder.predict(this.asInput(x), { batchSize: args.batchSize ?? 256 }) as tf.Tensor;
  }

  /** Decodes latent codes into outputs. */
  decode(z: tf.Tensor, args: PredictArgs = {}): tf.Tensor {
    if (!(z instanceof tf.Tensor) || z.rank !== 2 || z.shape[1] !== this.latentDim) {
      throw new Error(`${this.name}.decode: z must be a tensor of shape [N, ${this.latentDim}].`);
    }
    return this.decoder.predict(z, { batchSize: args.batchSize ?? 256 }) as tf.Tensor;
  }

  /** Mean loss on (x, y) with the compiled loss. */
  evaluate(x: tf.Tensor, y: tf.Tensor, args: PredictArgs = {}): number {
    const { loss } = this.requireCompiled('evaluate');
    this.checkInput(x, 'x');
    return evaluateLoss(this, loss, this.asInput(x), y === x ? this.asInput(x) : y, args.batchSize ?? 256);
  }

  /** Keras's summary as data (layers, output shapes, parameters, shared weights); `String(summary)` is the table. */
  summary(): ModelSummary {
    return describeModel(this.name, [this.encoder, this.decoder], this.model);
  }

  /** Unique parameters (a tied kernel counts once). */
  countParams(): number {
    return this.summary().totalParams;
  }

  /** Every weight variable, each once, in a stable order (what `save` writes). */
  uniqueWeights(): LayerVariable[] {
    const seen = new Set<number>();
    const out: LayerVariable[] = [];
    for (const w of this.model.weights) {
      const id = w.read().id;
      if (!seen.has(id)) {
        seen.add(id);
        out.push(w);
      }
    }
    return out;
  }

  /** Saves the architecture and weights to a folder (see `loadModel`). */
  async save(dir: string): Promise<void> {
    await saveModel(this, dir);
  }

  dispose(): void {
    this.optimizer?.dispose();
    this.optimizer = undefined;
    this.model.dispose();
  }

  toString(): string {
    return this.summary().toString();
  }
}

export interface AutoencoderArgs {
  /** Shape of one input, e.g. [28, 28] or 784. */
  inputShape: InputShape;
  /** Size of the latent code. */
  latentDim: number;
  /**
   * Units of the hidden layers between the input and the code, outermost
   * first (e.g. [128, 64] for the Keras blog's deep autoencoder,
   * 784-128-64-32-64-128-784); the decoder mirrors them. None by default.
   */
  hidden?: number[];
  name?: string;
  /** Activation of the encoder's layers and of the decoder's hidden ones; Keras's LeakyReLU() by default (alpha 0.3), as in the vanilla seed. */
  activation?: ActivationSpec;
  /** Seed for the initial weights. */
  seed?: number;
}

function kernelInit(seed: number | undefined, index: number) {
  // Keras's Dense default is glorot_uniform (tfjs's is glorotNormal).
  return tf.initializers.glorotUniform({ seed: seed === undefined ? undefined : deriveSeed(seed, index) });
}

/** A Flatten layer for multi-dimensional inputs (tfjs's Flatten refuses inputs that are already flat). */
function flattenFor(inputShape: number[], names: LayerNamer): tf.layers.Layer[] {
  return inputShape.length > 1 ? [tf.layers.flatten({ inputShape, name: names.next('flatten') })] : [];
}

/**
 * The vanilla seed's model: flatten → dense(latentDim, LeakyReLU) →
 * dense(prod(inputShape), sigmoid) → reshape; with `hidden`, dense layers of
 * those sizes before the code and, mirrored, after it.
 */
export class Autoencoder extends AutoencoderModel {
  readonly encoder: tf.Sequential;
  readonly decoder: tf.Sequential;
  private readonly args: AutoencoderArgs;

  constructor(args: AutoencoderArgs) {
    if (!args || typeof args !== 'object') throw new TypeError('new Autoencoder({ inputShape, latentDim }): arguments missing.');
    const inputShape = normalizeInputShape(args.inputShape, 'Autoencoder');
    const latentDim = checkUnits(args.latentDim, 'Autoencoder: latentDim');
    if (args.hidden !== undefined && !Array.isArray(args.hidden)) {
      throw new TypeError(`Autoencoder: hidden must be a list of layer sizes such as [128, 64], got ${JSON.stringify(args.hidden)}.`);
    }
    const hidden = (args.hidden ?? []).map((u, i) => checkUnits(u, `Autoencoder: hidden[${i}]`));
    super(args.name ?? 'Autoencoder', inputShape);
    this.args = { ...args, ...(args.hidden ? { hidden } : {}) };
    const names = new LayerNamer();
    const flat = product(inputShape);
    const act = args.activation ?? 'leakyRelu';
    // Weight seeds by position: encoder layers 0..k, decoder layers k+1.. (no hidden layers: 0 and 1, as always).
    let index = 0;
    const dense = (units: number, activationSpec: ActivationSpec | 'sigmoid', extra: Record<string, unknown> = {}) =>
      tf.layers.dense({
        units,
        activation: activationSpec === 'sigmoid' ? 'sigmoid' : activation(activationSpec),
        kernelInitializer: kernelInit(args.seed, index++),
        name: names.next('dense'),
        ...extra,
      });
    const firstInput = inputShape.length === 1 ? { inputShape } : {};
    this.encoder = tf.sequential({
      name: 'Encoder',
      layers: [
        ...flattenFor(inputShape, names),
        ...[...hidden, latentDim].map((units, i) => dense(units, act, i === 0 ? firstInput : {})),
      ],
    });
    const decoderSizes = [...hidden].reverse();
    this.decoder = tf.sequential({
      name: 'Decoder',
      layers: [
        ...decoderSizes.map((units, i) => dense(units, act, i === 0 ? { inputShape: [latentDim] } : {})),
        dense(flat, 'sigmoid', decoderSizes.length === 0 ? { inputShape: [latentDim] } : {}),
        tf.layers.reshape({ targetShape: inputShape, name: names.next('reshape') }),
      ],
    });
  }

  get className(): string {
    return 'Autoencoder';
  }

  getConfig(): Record<string, unknown> {
    const { seed: _seed, activation: act, ...rest } = this.args;
    return { ...rest, name: this.name, ...(act !== undefined ? { activation: act } : {}) };
  }
}

export interface StackedAutoencoderArgs {
  inputShape: InputShape;
  /** Units of each encoder layer, outermost first; the last is the latent size. E.g. [64, 36]. */
  layers: number[];
  /** Activation of the reconstruction layer; 'sigmoid' by default. */
  outputActivation?: ActivationSpec;
  /** Activation of the encoder layers (and of the decoder layers that mirror them); LeakyReLU(0.2) by default. */
  hiddenActivation?: ActivationSpec;
  name?: string;
  seed?: number;
}

/**
 * The stacked seed's model: flatten → dense(layers[i], LeakyReLU(0.2))… in the
 * encoder; the decoder mirrors it with `TransposedDense` layers that reuse each
 * encoder kernel, transposed, with their own biases; the last one uses
 * `outputActivation`; then reshape.
 */
export class StackedAutoencoder extends AutoencoderModel {
  readonly encoder: tf.Sequential;
  readonly decoder: tf.Sequential;
  private readonly args: StackedAutoencoderArgs;

  constructor(args: StackedAutoencoderArgs) {
    if (!args || typeof args !== 'object') throw new TypeError('new StackedAutoencoder({ inputShape, layers }): arguments missing.');
    const inputShape = normalizeInputShape(args.inputShape, 'StackedAutoencoder');
    if (!Array.isArray(args.layers) || args.layers.length === 0) {
      throw new TypeError(`StackedAutoencoder: layers must be a non-empty array of layer sizes, e.g. [64, 36]; got ${JSON.stringify(args.layers)}.`);
    }
    const sizes = args.layers.map((u, i) => checkUnits(u, `StackedAutoencoder: layers[${i}]`));
    super(args.name ?? 'StackedAutoencoder', inputShape);
    this.args = { ...args, layers: [...sizes] };
    const names = new LayerNamer();
    const hidden = activation(args.hiddenActivation ?? { leakyRelu: 0.2 });
    const flatten = flattenFor(inputShape, names);
    const dense = sizes.map((units, i) =>
      tf.layers.dense({
        units,
        activation: hidden,
        kernelInitializer: kernelInit(args.seed, i),
        name: names.next('dense'),
        ...(i === 0 && flatten.length === 0 ? { inputShape } : {}),
      }),
    );
    this.encoder = tf.sequential({ name: 'Encoder', layers: [...flatten, ...dense] });
    const mirrored = [...dense].reverse();
    const decoderLayers: tf.layers.Layer[] = mirrored.map(
      (source, i) =>
        new TransposedDense({
          source,
          name: names.next('transposed_dense'),
          ...(i === 0 ? { inputShape: [sizes[sizes.length - 1]] } : {}),
          ...(i === mirrored.length - 1 ? { activation: args.outputActivation ?? 'sigmoid' } : {}),
        }),
    );
    decoderLayers.push(tf.layers.reshape({ targetShape: inputShape, name: names.next('reshape') }));
    this.decoder = tf.sequential({ name: 'Decoder', layers: decoderLayers });
  }

  get className(): string {
    return 'StackedAutoencoder';
  }

  getConfig(): Record<string, unknown> {
    const { seed: _seed, ...rest } = this.args;
    return { ...rest, name: this.name };
  }

  /** The activation used by each decoder layer, for display. */
  decoderActivations(): string[] {
    return this.decoder.layers
      .filter((l): l is TransposedDense => l instanceof TransposedDense)
      .map((l) => activationName((l as unknown as { activationFn: Parameters<typeof activationName>[0] }).activationFn));
  }
}
