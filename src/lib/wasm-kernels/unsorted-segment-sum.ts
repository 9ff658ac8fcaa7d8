/**
 * UnsortedSegmentSum for the wasm backend (tfjs-backend-wasm 4.22 has none;
 * the gradient of gather needs it, so an embedding layer could not train):
 * out[s] = Σ of the rows of x whose segment id is s, ids outside
 * [0, numSegments) skipped, for float32 and int32 x.
 */
import * as tf from '@tensorflow/tfjs';
import { addressOf, cOf, sizeOf, wasmBackend, withScratch, type TensorInfo } from './common';

function unsortedSegmentSum(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: tf.NamedAttrMap }): TensorInfo {
  const backend = wasmBackend(args.backend);
  const { x, segmentIds } = args.inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const { numSegments } = args.attrs as unknown as { numSegments: number };
  const idsRank = segmentIds.shape.length;
  const rowShape = x.shape.slice(idsRank);
  const dtype = x.dtype === 'int32' ? 'int32' : 'float32';
  const out = backend.makeOutput([numSegments, ...rowShape], dtype);
  if (sizeOf(out.shape) === 0) return out;
  withScratch(backend, (scratch) => {
    const xs = scratch.cast(x, dtype);
    const ids = scratch.cast(segmentIds, 'int32');
    cOf(backend).unsorted_segment_sum(addressOf(backend, xs), addressOf(backend, ids), sizeOf(segmentIds.shape), sizeOf(rowShape), numSegments, addressOf(backend, out), dtype === 'int32' ? 1 : 0);
  });
  return out;
}

export const unsortedSegmentSumConfig: tf.KernelConfig = {
  kernelName: 'UnsortedSegmentSum',
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSum as unknown as tf.KernelFunc,
};
