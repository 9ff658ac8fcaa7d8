/**
 * Conv2DBackpropFilter for the wasm backend (tfjs-backend-wasm 4.22 has
 * none, so no convolutional layer could train): the gradient of conv2d with
 * respect to its filter, dw = Σ im2col(x)ᵀ·dy, in the C kernels (SIMD,
 * im2col in cache-sized panels). NCHW inputs are transposed to NHWC first.
 */
import * as tf from '@tensorflow/tfjs';
import { conv2DGradInfo, convInfoWords } from './conv-geometry';
import { addressOf, cOf, sizeOf, wasmBackend, withGeometry, withScratch, zeroData, type TensorInfo } from './common';

function conv2DBackpropFilter(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: tf.NamedAttrMap }): TensorInfo {
  const backend = wasmBackend(args.backend);
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const { format, info } = conv2DGradInfo(args.attrs, x.shape, args.attrs.filterShape as number[]);
  const out = backend.makeOutput(info.filterShape, 'float32');
  const size = sizeOf(info.filterShape);
  if (size === 0) return out;
  zeroData(backend, out, size);
  if (info.batchSize === 0 || info.outHeight === 0 || info.outWidth === 0) return out;
  withScratch(backend, (scratch) => {
    let xs = scratch.float(x);
    let dys = scratch.float(dy);
    if (format === 'channelsFirst') {
      xs = scratch.transpose(xs);
      dys = scratch.transpose(dys);
    }
    const c = cOf(backend);
    withGeometry(backend, convInfoWords(info), (geom, work) => {
      c.conv2d_backprop_filter(geom, addressOf(backend, xs), addressOf(backend, dys), addressOf(backend, out), work, 0, info.batchSize);
    }, c.conv2d_work_floats);
  });
  return out;
}

export const conv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as unknown as tf.KernelFunc,
};
