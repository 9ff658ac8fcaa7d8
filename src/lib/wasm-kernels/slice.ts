/**
 * Slice for the wasm backend, at the cost of the slice instead of its source.
 *
 * tfjs-backend-wasm 4.22's Slice first copies the whole input out of the
 * heap (`readSync`), then copies the part it wants: taking 32 rows of a
 * [60000, 784] tensor copies 188 MB. tfjs's own `model.fit` slices its
 * 60,000-entry index array once per batch, so at batch 32 that copy was
 * most of the time fit spent outside the training step. This kernel copies
 * within the heap, only the runs of elements the slice keeps.
 */
import * as tf from '@tensorflow/tfjs';
import { sizeOf, wasmBackend, type TensorInfo } from './common';

interface StringRecord { stringBytes?: Uint8Array[] }

/**
 * Calls `run(from, to, length)` for each contiguous run of elements the
 * slice of `begin`/`size` takes from a row-major tensor of `shape`, in order
 * (`from` in the source, `to` in the output, both in elements).
 */
export function sliceRuns(shape: readonly number[], begin: readonly number[], size: readonly number[], run: (from: number, to: number, length: number) => void): void {
  const rank = shape.length;
  const total = sizeOf(size);
  if (total === 0) return;
  const strides = new Array<number>(rank).fill(1);
  for (let d = rank - 2; d >= 0; d--) strides[d] = strides[d + 1] * shape[d + 1];
  // Axes from `inner` on are taken as one run: every axis after it is whole.
  let inner = rank - 1;
  while (inner > 0 && begin[inner] === 0 && size[inner] === shape[inner]) inner--;
  const length = rank === 0 ? 1 : size[inner] * strides[inner];
  let from = 0;
  for (let d = 0; d < rank; d++) from += begin[d] * strides[d];
  // An odometer over the axes before `inner`.
  const index = new Array<number>(inner).fill(0);
  for (let to = 0; to < total; to += length) {
    run(from, to, length);
    for (let d = inner - 1; d >= 0; d--) {
      from += strides[d];
      if (++index[d] < size[d]) break;
      index[d] = 0;
      from -= size[d] * strides[d];
    }
  }
}

function slice(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: tf.NamedAttrMap }): TensorInfo {
  const backend = wasmBackend(args.backend);
  const { x } = args.inputs as { x: TensorInfo };
  const attrs = args.attrs as unknown as { begin: number | number[]; size?: number | number[] };
  const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, attrs.begin, attrs.size);
  const out = backend.makeOutput(size, x.dtype);
  const src = backend.dataIdMap.get(x.dataId);
  const dst = backend.dataIdMap.get(out.dataId);
  if (!src || !dst) throw new Error('Slice: tensor data is not on the wasm backend');
  if (x.dtype === 'string') {
    // Strings live in JS arrays, not on the heap (an empty slice has an empty array).
    const from = (src as unknown as StringRecord).stringBytes ?? [];
    const taken: Uint8Array[] = [];
    sliceRuns(x.shape, begin, size, (f, _t, n) => {
      for (let i = 0; i < n; i++) taken.push(from[f + i]);
    });
    (dst as unknown as StringRecord).stringBytes = taken;
    return out;
  }
  if (sizeOf(size) === 0) return out;
  // Byte copies inside the heap (after makeOutput, which may have grown it): no buffer the size of x.
  const bytes = tf.util.bytesPerElement(x.dtype);
  const heap = backend.wasm.HEAPU8;
  const s = src.memoryOffset;
  const d = dst.memoryOffset;
  sliceRuns(x.shape, begin, size, (f, t, n) => {
    heap.copyWithin(d + t * bytes, s + f * bytes, s + (f + n) * bytes);
  });
  return out;
}

export const sliceConfig: tf.KernelConfig = {
  kernelName: 'Slice',
  backendName: 'wasm',
  kernelFunc: slice as unknown as tf.KernelFunc,
};
