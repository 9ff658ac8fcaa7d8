/** What the convolution and pooling modules share: tfjs's geometry as words for the C kernels, allocated once. */
import * as tf from '@tensorflow/tfjs';
import { convWords, poolWords } from '../../wasm/kernels';
import type { HeapLike } from '../types';

/** Writes int32 words into freshly allocated memory; returns their byte address. */
export function words(heap: HeapLike, values: number[]): number {
  const at = heap.allocWords(values.length);
  heap.i32.set(values, at >>> 2);
  return at;
}

export function convGeometry(heap: HeapLike, c: tf.backend_util.Conv2DInfo): number {
  return words(heap, convWords({
    batch: c.batchSize, inH: c.inHeight, inW: c.inWidth, inC: c.inChannels,
    outH: c.outHeight, outW: c.outWidth, outC: c.outChannels,
    kH: c.filterHeight, kW: c.filterWidth,
    strideH: c.strideHeight, strideW: c.strideWidth, dilH: c.dilationHeight, dilW: c.dilationWidth,
    padTop: c.padInfo.top, padLeft: c.padInfo.left,
  }));
}

export function poolGeometry(heap: HeapLike, c: tf.backend_util.Conv2DInfo): number {
  return words(heap, poolWords({
    batch: c.batchSize, inH: c.inHeight, inW: c.inWidth, channels: c.inChannels,
    outH: c.outHeight, outW: c.outWidth,
    kH: c.effectiveFilterHeight, kW: c.effectiveFilterWidth,
    strideH: c.strideHeight, strideW: c.strideWidth,
    padTop: c.padInfo.top, padLeft: c.padInfo.left,
  }));
}

/** Checks the layer works on channels-last images of rank 3 (one sample: [H, W, C]); a reason when not. */
export function imageInput(label: string, inShape: number[], dataFormat: unknown): string | null {
  if (dataFormat === 'channelsFirst') return `${label} uses channels-first data`;
  if (inShape.length !== 3) return `${label} gets inputs of shape [${inShape.join(', ')}], not images [height, width, channels]`;
  return null;
}

export const pair = (v: number | number[]): [number, number] => (Array.isArray(v) ? [v[0], v[1] ?? v[0]] : [v, v]);
