/** Keras-style `load_data()` returning TensorFlow.js tensors. */
import * as tf from '@tensorflow/tfjs';
import { loadRaw, type LoadOptions, type RawSplit } from './load';
import type { DatasetName } from './manifest';

/** `[[xTrain, yTrain], [xTest, yTest]]`: images [N, 28, 28] float32 with pixel values 0..255, labels [N] int32. */
export type KerasDataset = [[tf.Tensor3D, tf.Tensor1D], [tf.Tensor3D, tf.Tensor1D]];

function toTensors(split: RawSplit, rows: number, cols: number): [tf.Tensor3D, tf.Tensor1D] {
  // Typed-array conversions (native copies), not per-element JS loops.
  const x = tf.tensor3d(new Float32Array(split.images), [split.count, rows, cols], 'float32');
  const y = tf.tensor1d(new Int32Array(split.labels), 'int32');
  return [x, y];
}

/** Fashion-MNIST's ten classes, by label (from the data set's documentation). */
export const FASHION_MNIST_CLASSES: readonly string[] = Object.freeze([
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
]);

/** Class names of label tensors that `loadData` made (MNIST's labels are the digits themselves). */
const labelNames = new WeakMap<object, readonly string[]>();

/** The class names of a label tensor returned by `loadData`, if it knows them. */
export function classNamesOf(labels: object): readonly string[] | undefined {
  return labelNames.get(labels);
}

/**
 * Loads a data set like `tf.keras.datasets.<name>.load_data()`. Pixels are NOT
 * scaled (0..255, as in Keras); divide by 255 yourself. The caller owns the
 * four tensors (dispose them when done).
 */
export async function loadData(name: DatasetName, opts?: LoadOptions): Promise<KerasDataset> {
  const raw = await loadRaw(name, opts);
  const train = toTensors(raw.train, raw.rows, raw.cols);
  const test = toTensors(raw.test, raw.rows, raw.cols);
  if (name === 'fashion-mnist') for (const y of [train[1], test[1]]) labelNames.set(y, FASHION_MNIST_CLASSES);
  return [train, test];
}

/** `datasets.mnist.loadData()` and `datasets.fashionMnist.loadData()`, as in Keras. */
export const datasets = {
  mnist: { loadData: (opts?: LoadOptions): Promise<KerasDataset> => loadData('mnist', opts) },
  fashionMnist: { loadData: (opts?: LoadOptions): Promise<KerasDataset> => loadData('fashion-mnist', opts), classNames: FASHION_MNIST_CLASSES },
} as const;
