/**
 * Conv2DBackpropFilter for the wasm backend (tfjs-backend-wasm 4.22 has
 * none, so no convolutional layer could train): the gradient of conv2d with
 * respect to its filter, dw = Σ im2col(x)ᵀ·dy, in the C kernels (SIMD,
 * im2col in cache-sized panels). NCHW inputs are transposed to NHWC first.
 */
import * as tf from '@tensorflow/tfjs';
import { convInfoWords } from './conv-geometry';
import { addressOf, asFloat, cOf, sizeOf, transposeChannels, wasmBackend, withBlocks, zeroData, type TensorInfo } from './common';

interface Attrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

function conv2DBackpropFilter(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: tf.NamedAttrMap }): TensorInfo {
  const backend = wasmBackend(args.backend);
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = args.attrs as unknown as Attrs;
  const format = tf.backend_util.convertConv2DDataFormat(dataFormat);
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false, format);
  const out = backend.makeOutput(info.filterShape, 'float32');
  const size = sizeOf(info.filterShape);
  if (size === 0) return out;
  zeroData(backend, out, size);
  if (info.batchSize === 0 || info.outHeight === 0 || info.outWidth === 0) return out;
  const temps: TensorInfo[] = [];
  const keep = (t: TensorInfo, orig: TensorInfo): TensorInfo => {
    if (t !== orig) temps.push(t);
    return t;
  };
  try {
    let xs = keep(asFloat(backend, x), x);
    let dys = keep(asFloat(backend, dy), dy);
    if (format === 'channelsFirst') {
      xs = keep(transposeChannels(backend, xs), xs);
      dys = keep(transposeChannels(backend, dys), dys);
    }
    const c = cOf(backend);
    const words = convInfoWords(info);
    withBlocks(backend, [words.length], ([geom]) => {
      withBlocks(backend, [c.conv2d_work_floats(geom)], ([work]) => {
        c.conv2d_backprop_filter(geom, addressOf(backend, xs), addressOf(backend, dys), addressOf(backend, out), work, 0, info.batchSize);
      });
    }, [words]);
    return out;
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

export const conv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as unknown as tf.KernelFunc,
};
