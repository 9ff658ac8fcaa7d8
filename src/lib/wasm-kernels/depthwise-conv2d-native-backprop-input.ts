/**
 * DepthwiseConv2dNativeBackpropInput for the wasm backend (tfjs-backend-wasm
 * 4.22 has none): the gradient of a depthwise convolution with respect to
 * its input, with strides and dilations, in the C kernels.
 */
import * as tf from '@tensorflow/tfjs';
import { convInfoWords } from './conv-geometry';
import { addressOf, cOf, sizeOf, wasmBackend, withGeometry, withScratch, zeroData, type TensorInfo } from './common';

interface Attrs {
  strides: [number, number] | number;
  dilations: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape: [number, number, number, number];
}

function depthwiseBackpropInput(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: tf.NamedAttrMap }): TensorInfo {
  const backend = wasmBackend(args.backend);
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const { strides, dilations, pad, dimRoundingMode, inputShape } = args.attrs as unknown as Attrs;
  const info = tf.backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number], strides, dilations, pad, dimRoundingMode, true);
  const out = backend.makeOutput(inputShape, 'float32');
  const size = sizeOf(inputShape);
  if (size === 0) return out;
  if (info.outHeight === 0 || info.outWidth === 0) {
    zeroData(backend, out, size);
    return out;
  }
  withScratch(backend, (scratch) => {
    const dys = scratch.float(dy);
    const w = scratch.float(filter);
    withGeometry(backend, convInfoWords(info), (geom) => {
      cOf(backend).depthwise_backprop_input(geom, addressOf(backend, dys), addressOf(backend, w), addressOf(backend, out), 0, info.batchSize);
    });
  });
  return out;
}

export const depthwiseConv2dNativeBackpropInputConfig: tf.KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropInput',
  backendName: 'wasm',
  kernelFunc: depthwiseBackpropInput as unknown as tf.KernelFunc,
};
