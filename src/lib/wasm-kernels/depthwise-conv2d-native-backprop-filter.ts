/**
 * DepthwiseConv2dNativeBackpropFilter for the wasm backend (tfjs-backend-wasm
 * 4.22 has none): the gradient of a depthwise convolution with respect to
 * its filter [kh, kw, in, multiplier], with strides and dilations, in the C
 * kernels (SIMD across channels when the multiplier is 1).
 */
import * as tf from '@tensorflow/tfjs';
import { convInfoWords } from './conv-geometry';
import { addressOf, cOf, sizeOf, wasmBackend, withGeometry, withScratch, zeroData, type TensorInfo } from './common';

interface Attrs {
  strides: [number, number] | number;
  dilations: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

function depthwiseBackpropFilter(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: tf.NamedAttrMap }): TensorInfo {
  const backend = wasmBackend(args.backend);
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, dilations, pad, dimRoundingMode, filterShape } = args.attrs as unknown as Attrs;
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, dilations, pad, dimRoundingMode, true);
  const out = backend.makeOutput(info.filterShape, 'float32');
  const size = sizeOf(info.filterShape);
  if (size === 0) return out;
  zeroData(backend, out, size);
  if (info.batchSize === 0 || info.outHeight === 0 || info.outWidth === 0) return out;
  withScratch(backend, (scratch) => {
    const xs = scratch.float(x);
    const dys = scratch.float(dy);
    withGeometry(backend, convInfoWords(info), (geom) => {
      cOf(backend).depthwise_backprop_filter(geom, addressOf(backend, xs), addressOf(backend, dys), addressOf(backend, out), 0, info.batchSize);
    });
  });
  return out;
}

export const depthwiseConv2dNativeBackpropFilterConfig: tf.KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropFilter',
  backendName: 'wasm',
  kernelFunc: depthwiseBackpropFilter as unknown as tf.KernelFunc,
};
