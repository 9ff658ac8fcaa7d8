/**
 * Conv3DBackpropFilterV2 for the wasm backend: the gradient of conv3d with
 * respect to its filter, in the C kernels. Replaces tfjs-backend-wasm 4.22's
 * own kernel, which leaves its Conv3DBackpropInputV2 computing wrong values
 * afterwards (see conv3d-backprop-input-v2.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { conv3Words } from '../wasm/kernels';
import { addressOf, cOf, sizeOf, wasmBackend, withGeometry, withScratch, zeroData, type TensorInfo } from './common';

interface Attrs {
  strides: [number, number, number] | number;
  pad: 'valid' | 'same';
  filterShape: [number, number, number, number, number];
}

function conv3DBackpropFilterV2(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: tf.NamedAttrMap }): TensorInfo {
  const backend = wasmBackend(args.backend);
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, pad, filterShape } = args.attrs as unknown as Attrs;
  const info = tf.backend_util.computeConv3DInfo(x.shape as [number, number, number, number, number], filterShape, strides, 1, pad);
  const out = backend.makeOutput(info.filterShape, 'float32');
  const size = sizeOf(info.filterShape);
  if (size === 0) return out;
  zeroData(backend, out, size);
  withScratch(backend, (scratch) => {
    const xs = scratch.float(x);
    const dys = scratch.float(dy);
    withGeometry(backend, conv3Words(info), (geom) => {
      cOf(backend).conv3d_backprop_filter(geom, addressOf(backend, xs), addressOf(backend, dys), addressOf(backend, out), 0, info.batchSize);
    });
  });
  return out;
}

export const conv3DBackpropFilterV2Config: tf.KernelConfig = {
  kernelName: 'Conv3DBackpropFilterV2',
  backendName: 'wasm',
  kernelFunc: conv3DBackpropFilterV2 as unknown as tf.KernelFunc,
};
