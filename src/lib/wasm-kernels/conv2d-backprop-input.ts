/**
 * Conv2DBackpropInput for the wasm backend: the gradient of conv2d with
 * respect to its input (also conv2dTranspose's forward pass), as im2col of
 * dy + GEMM in the C kernels. Replaces tfjs-backend-wasm's own kernel, a
 * plain loop 20-50 times slower (a 3x3, 16→8-channel layer on 128 images of
 * 14x14: 74 ms).
 */
import * as tf from '@tensorflow/tfjs';
import { convInfoWords } from './conv-geometry';
import { addressOf, asFloat, cOf, sizeOf, transposeChannels, wasmBackend, withBlocks, type TensorInfo } from './common';

interface Attrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape: [number, number, number, number];
}

function conv2DBackpropInput(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: tf.NamedAttrMap }): TensorInfo {
  const backend = wasmBackend(args.backend);
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = args.attrs as unknown as Attrs;
  const format = tf.backend_util.convertConv2DDataFormat(dataFormat);
  const info = tf.backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number], strides, 1, pad, dimRoundingMode, false, format);
  const nhwc = [info.batchSize, info.inHeight, info.inWidth, info.inChannels];
  const temps: TensorInfo[] = [];
  const keep = (t: TensorInfo, orig: TensorInfo): TensorInfo => {
    if (t !== orig) temps.push(t);
    return t;
  };
  try {
    let dys = keep(asFloat(backend, dy), dy);
    const w = keep(asFloat(backend, filter), filter);
    if (format === 'channelsFirst') dys = keep(transposeChannels(backend, dys), dys);
    const out = format === 'channelsFirst' ? backend.makeOutput(nhwc, 'float32') : backend.makeOutput(inputShape, 'float32');
    if (sizeOf(nhwc) > 0) {
      if (info.outHeight === 0 || info.outWidth === 0 || info.outChannels === 0) {
        backend.wasm.HEAPF32.fill(0, addressOf(backend, out) >>> 2, (addressOf(backend, out) >>> 2) + sizeOf(nhwc));
      } else {
        const c = cOf(backend);
        const words = convInfoWords(info);
        withBlocks(backend, [words.length], ([geom]) => {
          withBlocks(backend, [c.conv2d_work_floats(geom)], ([work]) => {
            c.conv2d_backprop_input(geom, addressOf(backend, dys), addressOf(backend, w), addressOf(backend, out), work, 0, info.batchSize);
          });
        }, [words]);
      }
    }
    if (format !== 'channelsFirst') return out;
    temps.push(out);
    return transposeChannels(backend, out, true);
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

export const conv2DBackpropInputConfig: tf.KernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  backendName: 'wasm',
  kernelFunc: conv2DBackpropInput as unknown as tf.KernelFunc,
};
