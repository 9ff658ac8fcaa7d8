/** tfjs's convolution info (backend_util.computeConv2DInfo) as the int32 words the C kernels take. */
import * as tf from '@tensorflow/tfjs';
import { convWords, poolWords } from '../wasm/kernels';

type Shape4 = [number, number, number, number];

/**
 * The geometry of a conv2d gradient kernel (Conv2DBackpropFilter, Conv2DBackpropInput) from its attributes:
 * tfjs's layout name for `dataFormat` and the convolution info of input `xShape` and filter `filterShape`.
 */
export function conv2DGradInfo(attrs: tf.NamedAttrMap, xShape: readonly number[], filterShape: readonly number[]): { format: 'channelsFirst' | 'channelsLast'; info: tf.backend_util.Conv2DInfo } {
  const { strides, pad, dataFormat, dimRoundingMode } = attrs as unknown as {
    strides: [number, number] | number;
    pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
    dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  const format = tf.backend_util.convertConv2DDataFormat(dataFormat);
  const info = tf.backend_util.computeConv2DInfo(xShape as Shape4, filterShape as Shape4, strides, 1, pad, dimRoundingMode, false, format);
  return { format, info };
}

export function convInfoWords(c: tf.backend_util.Conv2DInfo): number[] {
  return convWords({
    batch: c.batchSize, inH: c.inHeight, inW: c.inWidth, inC: c.inChannels,
    outH: c.outHeight, outW: c.outWidth, outC: c.outChannels,
    kH: c.filterHeight, kW: c.filterWidth,
    strideH: c.strideHeight, strideW: c.strideWidth, dilH: c.dilationHeight, dilW: c.dilationWidth,
    padTop: c.padInfo.top, padLeft: c.padInfo.left,
  });
}

export function poolInfoWords(c: tf.backend_util.Conv2DInfo): number[] {
  return poolWords({
    batch: c.batchSize, inH: c.inHeight, inW: c.inWidth, channels: c.inChannels,
    outH: c.outHeight, outW: c.outWidth,
    kH: c.effectiveFilterHeight, kW: c.effectiveFilterWidth,
    strideH: c.strideHeight, strideW: c.strideWidth,
    padTop: c.padInfo.top, padLeft: c.padInfo.left,
  });
}
