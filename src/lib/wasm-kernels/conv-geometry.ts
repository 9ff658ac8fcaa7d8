/** tfjs's convolution info (backend_util.computeConv2DInfo) as the int32 words the C kernels take. */
import type * as tf from '@tensorflow/tfjs';
import { convWords, poolWords } from '../wasm/kernels';

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
