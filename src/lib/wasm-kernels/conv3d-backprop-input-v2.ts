/**
 * Conv3DBackpropInputV2 for the wasm backend: the gradient of conv3d with
 * respect to its input (conv3dTranspose's forward pass), in the C kernels.
 * Replaces tfjs-backend-wasm 4.22's own kernel, whose results go wrong once
 * its Conv3DBackpropFilterV2 has run in the same process (state shared
 * between the two), so that conv3d layers trained on garbage gradients.
 */
import * as tf from '@tensorflow/tfjs';
import { conv3Words } from '../wasm/kernels';
import { addressOf, cOf, sizeOf, wasmBackend, withGeometry, withScratch, zeroData, type TensorInfo } from './common';

interface Attrs {
  strides: [number, number, number] | number;
  pad: 'valid' | 'same';
  inputShape: [number, number, number, number, number];
}

function conv3DBackpropInputV2(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: tf.NamedAttrMap }): TensorInfo {
  const backend = wasmBackend(args.backend);
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const { strides, pad, inputShape } = args.attrs as unknown as Attrs;
  const info = tf.backend_util.computeConv3DInfo(inputShape, filter.shape as [number, number, number, number, number], strides, 1, pad);
  const out = backend.makeOutput(info.inShape, 'float32');
  const size = sizeOf(info.inShape);
  if (size === 0) return out;
  if (sizeOf([info.outDepth, info.outHeight, info.outWidth, info.outChannels]) === 0) {
    zeroData(backend, out, size);
    return out;
  }
  withScratch(backend, (scratch) => {
    const dys = scratch.float(dy);
    const w = scratch.float(filter);
    const c = cOf(backend);
    withGeometry(backend, conv3Words(info), (geom, work) => {
      c.conv3d_backprop_input(geom, addressOf(backend, dys), addressOf(backend, w), addressOf(backend, out), work, 0, info.batchSize);
    }, c.conv3d_work_floats);
  });
  return out;
}

export const conv3DBackpropInputV2Config: tf.KernelConfig = {
  kernelName: 'Conv3DBackpropInputV2',
  backendName: 'wasm',
  kernelFunc: conv3DBackpropInputV2 as unknown as tf.KernelFunc,
};
