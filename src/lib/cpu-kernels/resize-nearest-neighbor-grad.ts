/**
 * ResizeNearestNeighborGrad for the cpu backend. tfjs-backend-cpu 4.22's own
 * kernel reads the output gradient of image b at image 0's offset scaled by
 * the *input* image size (it uses the input's batch stride for dy), so for
 * batches of more than one image the gradient of every nearest-neighbour
 * resize (UpSampling2D, Resizing) is wrong after the first image. This one
 * sends each output pixel's gradient to the input pixel the forward pass
 * copied it from, found with the forward pass's own rule.
 */
import * as tf from '@tensorflow/tfjs';

interface CpuBackend {
  data: { get(dataId: object): { values: Float32Array | Int32Array | Uint8Array } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

/** The source index of each output row (or column), as tfjs's resizeNearestNeighbor picks it. */
export function nearestSources(inSize: number, outSize: number, alignCorners: boolean, halfPixelCenters: boolean): Int32Array {
  const effIn = alignCorners && outSize > 1 ? inSize - 1 : inSize;
  const effOut = alignCorners && outSize > 1 ? outSize - 1 : outSize;
  const scale = effIn / effOut;
  const out = new Int32Array(outSize);
  for (let i = 0; i < outSize; i++) {
    const frac = halfPixelCenters ? scale * (i + 0.5) : scale * i;
    let src = alignCorners ? Math.round(frac) : Math.floor(frac);
    if (halfPixelCenters) src = Math.max(0, src);
    out[i] = Math.min(inSize - 1, src);
  }
  return out;
}

function resizeNearestNeighborGrad(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: tf.NamedAttrMap }): tf.TensorInfo {
  const backend = args.backend as CpuBackend;
  const { images, dy } = args.inputs as { images: tf.TensorInfo; dy: tf.TensorInfo };
  const { alignCorners } = args.attrs as unknown as { alignCorners: boolean };
  const [batch, inH, inW, depth] = images.shape;
  const [, outH, outW] = dy.shape;
  const rows = nearestSources(inH, outH, alignCorners, false);
  const cols = nearestSources(inW, outW, alignCorners, false);
  const d = backend.data.get(dy.dataId).values;
  const out = new Float32Array(batch * inH * inW * depth);
  for (let b = 0; b < batch; b++) {
    for (let y = 0; y < outH; y++) {
      for (let x = 0; x < outW; x++) {
        const src = ((b * outH + y) * outW + x) * depth;
        const dst = ((b * inH + rows[y]) * inW + cols[x]) * depth;
        for (let c = 0; c < depth; c++) out[dst + c] += d[src + c];
      }
    }
  }
  return backend.makeTensorInfo(images.shape, 'float32', out);
}

export const resizeNearestNeighborGradCpuConfig: tf.KernelConfig = {
  kernelName: 'ResizeNearestNeighborGrad',
  backendName: 'cpu',
  kernelFunc: resizeNearestNeighborGrad as unknown as tf.KernelFunc,
};
