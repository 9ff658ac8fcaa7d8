/**
 * Layers the seed notebooks need that TensorFlow.js lacks: a LeakyReLU usable
 * as a dense layer's activation (Keras allows `activation=LeakyReLU(0.2)`),
 * and `TransposedDense`, the decoder half of a tied-weights autoencoder.
 */
import * as tf from '@tensorflow/tfjs';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology';
import type { LayerVariable } from '@tensorflow/tfjs-layers/dist/variables';

/** Keras's default slope for LeakyReLU() (keras.layers.LeakyReLU alpha=0.3). */
export const KERAS_LEAKY_RELU_ALPHA = 0.3;

/** An activation object, as tfjs-layers stores on a layer. */
export interface ActivationLike {
  apply(x: tf.Tensor): tf.Tensor;
  getClassName(): string;
  getConfig?(): tf.serialization.ConfigDict;
}

/**
 * LeakyReLU as an activation function object, registered with tfjs's
 * serialization so that `{ className: 'LeakyReLU', config: { alpha } }` is a
 * valid `activation` for any tfjs layer.
 */
export class LeakyReLUActivation extends tf.serialization.Serializable implements ActivationLike {
  static readonly className = 'LeakyReLU';
  constructor(readonly alpha: number = KERAS_LEAKY_RELU_ALPHA) {
    super();
    if (!Number.isFinite(alpha) || alpha < 0) throw new RangeError(`LeakyReLU alpha must be a finite number >= 0, got ${alpha}.`);
  }
  apply(x: tf.Tensor): tf.Tensor {
    return tf.leakyRelu(x, this.alpha);
  }
  getConfig(): tf.serialization.ConfigDict {
    return { alpha: this.alpha };
  }
  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    return new cls(typeof config.alpha === 'number' ? config.alpha : KERAS_LEAKY_RELU_ALPHA);
  }
}
tf.serialization.registerClass(LeakyReLUActivation);

/** Accepted wherever an activation is asked for. */
export type ActivationSpec =
  | 'linear'
  | 'sigmoid'
  | 'relu'
  | 'tanh'
  | 'elu'
  | 'selu'
  | 'softplus'
  | 'softsign'
  | 'swish'
  | 'gelu'
  | 'leakyRelu'
  | { leakyRelu: number }
  | ActivationLike;

/**
 * The `activation` argument for a tfjs layer: a name, or `'leakyRelu'` (Keras's
 * default slope 0.3), or `{ leakyRelu: alpha }`.
 */
export function activation(spec: ActivationSpec | undefined): any {
  if (spec === undefined) return undefined;
  if (spec === 'leakyRelu') return { className: LeakyReLUActivation.className, config: { alpha: KERAS_LEAKY_RELU_ALPHA } };
  if (typeof spec === 'object' && 'leakyRelu' in spec) {
    return { className: LeakyReLUActivation.className, config: { alpha: spec.leakyRelu } };
  }
  return spec;
}

/** Resolves an activation spec to an object with `apply`. */
export function resolveActivation(spec: ActivationSpec): ActivationLike {
  if (typeof spec === 'object' && 'apply' in spec) return spec;
  // A throwaway dense layer turns any tfjs-accepted identifier into tfjs's own activation object.
  const probe = tf.layers.dense({ units: 1, activation: activation(spec) });
  return (probe as unknown as { activation: ActivationLike }).activation;
}

export function activationName(a: ActivationLike): string {
  const name = a.getClassName();
  if (a instanceof LeakyReLUActivation) return `LeakyReLU(${a.alpha})`;
  return name;
}

export interface TransposedDenseArgs extends LayerArgs {
  /** The dense layer whose kernel this layer reuses, transposed. */
  source: tf.layers.Layer;
  /** Defaults to the source layer's activation, as in the stacked seed. */
  activation?: ActivationSpec;
}

/** The kernel variable of a dense layer (its first weight, of rank 2). */
export function kernelOf(layer: tf.layers.Layer): LayerVariable {
  const kernel = layer.weights[0];
  if (!kernel || kernel.shape.length !== 2) {
    throw new Error(
      `Layer "${layer.name}" has no 2-D kernel${layer.built ? '' : ' yet: it is not built (give the model an input shape first)'}; ` +
        'TransposedDense needs a built dense layer as its source.',
    );
  }
  return kernel;
}

/**
 * A dense layer that shares another dense layer's kernel, transposed, and has
 * its own bias: y = activation(x · Wᵀ + b). Training updates the shared kernel
 * through both uses. Its own trainable weight is the bias alone; the kernel
 * belongs to (and is counted with) the source layer.
 */
export class TransposedDense extends tf.layers.Layer {
  static readonly className = 'TransposedDense';
  readonly source: tf.layers.Layer;
  private readonly activationFn: ActivationLike;
  private bias: LayerVariable | null = null;

  constructor(args: TransposedDenseArgs) {
    const { source, activation: act, ...layerArgs } = args;
    if (!(source instanceof tf.layers.Layer)) {
      throw new TypeError('TransposedDense needs `source`: the dense layer whose kernel it reuses.');
    }
    kernelOf(source); // fails early, with a clear message, when the source has no kernel
    super(layerArgs);
    this.source = source;
    this.activationFn =
      act !== undefined ? resolveActivation(act) : ((source as unknown as { activation?: ActivationLike }).activation ?? resolveActivation('linear'));
  }

  /** Number of outputs: the source layer's input size. */
  get units(): number {
    return kernelOf(this.source).shape[0] as number;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const kernel = kernelOf(this.source);
    const inputDim = shape[shape.length - 1];
    if (inputDim !== null && inputDim !== kernel.shape[1]) {
      throw new Error(
        `TransposedDense "${this.name}" gets inputs of size ${inputDim}, but its source "${this.source.name}" has ${kernel.shape[1]} units. ` +
          'Put it where the source layer\'s output size comes in (mirror the encoder).',
      );
    }
    this.bias = this.addWeight('bias', [kernel.shape[0] as number], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [...shape.slice(0, -1), this.units];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const kernel = kernelOf(this.source).read();
      const z = tf.matMul(x as tf.Tensor2D, kernel as tf.Tensor2D, false, true);
      return this.activationFn.apply(this.bias ? tf.add(z, this.bias.read()) : z);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      source: this.source.name,
      activation: { className: this.activationFn.getClassName(), config: this.activationFn.getConfig?.() ?? {} },
    };
  }

  /** Where this layer's kernel comes from, for summaries. */
  sharedWeights(): { weight: string; from: string; params: number }[] {
    const [rows, cols] = kernelOf(this.source).shape as number[];
    return [{ weight: 'kernel (transposed)', from: this.source.name, params: rows * cols }];
  }
}
tf.serialization.registerClass(TransposedDense);
