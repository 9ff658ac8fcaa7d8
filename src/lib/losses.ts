import * as tf from '@tensorflow/tfjs';

/** Keras's fuzz factor (keras.backend.epsilon()). */
export const EPSILON = 1e-7;

export type LossFn = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Scalar;
export type LossSpec =
  | 'binaryCrossentropy'
  | 'binary_crossentropy'
  | 'meanSquaredError'
  | 'mean_squared_error'
  | 'mse'
  | 'meanAbsoluteError'
  | 'mean_absolute_error'
  | 'mae'
  | LossFn;

/** Mean binary cross-entropy over all elements, predictions clipped to [ε, 1-ε] as Keras does. */
export function binaryCrossentropy(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const p = tf.clipByValue(yPred, EPSILON, 1 - EPSILON);
    const t = tf.cast(yTrue, 'float32');
    const ll = tf.add(tf.mul(t, tf.log(p)), tf.mul(tf.sub(1, t), tf.log(tf.sub(1, p))));
    return tf.neg(tf.mean(ll)) as tf.Scalar;
  });
}

export function meanSquaredError(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.squaredDifference(tf.cast(yTrue, 'float32'), yPred)) as tf.Scalar);
}

export function meanAbsoluteError(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.abs(tf.sub(tf.cast(yTrue, 'float32'), yPred))) as tf.Scalar);
}

const NAMED: Record<string, { fn: LossFn; name: string }> = {
  binarycrossentropy: { fn: binaryCrossentropy, name: 'binary_crossentropy' },
  binary_crossentropy: { fn: binaryCrossentropy, name: 'binary_crossentropy' },
  meansquarederror: { fn: meanSquaredError, name: 'mean_squared_error' },
  mean_squared_error: { fn: meanSquaredError, name: 'mean_squared_error' },
  mse: { fn: meanSquaredError, name: 'mean_squared_error' },
  meanabsoluteerror: { fn: meanAbsoluteError, name: 'mean_absolute_error' },
  mean_absolute_error: { fn: meanAbsoluteError, name: 'mean_absolute_error' },
  mae: { fn: meanAbsoluteError, name: 'mean_absolute_error' },
};

/** Resolves a loss given by name (Keras or tfjs spelling) or as a function. */
export function resolveLoss(spec: LossSpec): { fn: LossFn; name: string } {
  if (typeof spec === 'function') return { fn: spec, name: spec.name || 'custom' };
  const found = typeof spec === 'string' ? NAMED[spec.toLowerCase()] : undefined;
  if (!found) {
    throw new Error(
      `Unknown loss ${JSON.stringify(spec)}. Use 'binaryCrossentropy' (Keras: 'binary_crossentropy'), 'meanSquaredError' ('mse'), ` +
        "'meanAbsoluteError' ('mae'), or a function (yTrue, yPred) => scalar tensor.",
    );
  }
  return found;
}

export type OptimizerSpec = 'adam' | 'sgd' | 'rmsprop' | 'adagrad' | 'adadelta' | 'adamax' | tf.Optimizer;

/** Keras's defaults: Adam(lr=0.001, beta1=0.9, beta2=0.999, epsilon=1e-7), SGD(lr=0.01), RMSprop(lr=0.001). */
export function resolveOptimizer(spec: OptimizerSpec, learningRate?: number): tf.Optimizer {
  if (spec instanceof tf.Optimizer) return spec;
  switch (typeof spec === 'string' ? spec.toLowerCase() : spec) {
    case 'adam':
      return tf.train.adam(learningRate ?? 0.001, 0.9, 0.999, EPSILON);
    case 'sgd':
      return tf.train.sgd(learningRate ?? 0.01);
    case 'rmsprop':
      return tf.train.rmsprop(learningRate ?? 0.001, 0.9, 0, EPSILON);
    case 'adagrad':
      return tf.train.adagrad(learningRate ?? 0.001);
    case 'adadelta':
      return tf.train.adadelta(learningRate ?? 0.001, 0.95, EPSILON);
    case 'adamax':
      return tf.train.adamax(learningRate ?? 0.001, 0.9, 0.999, EPSILON);
    default:
      throw new Error(`Unknown optimizer ${JSON.stringify(spec)}. Use 'adam', 'sgd', 'rmsprop', 'adagrad', 'adadelta', 'adamax' or a tf.train optimizer.`);
  }
}
