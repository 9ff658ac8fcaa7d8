/**
 * The C kernels' jobs (src/lib/wasm/kernels.c, its shared-memory build): a
 * convolution, pooling or up-sampling over a batch is cut by images, one run
 * of whole images per part, each part with its own work area; a filter
 * gradient adds part 0's images into the caller's gradient and every other
 * part's into a zeroed scratch gradient of its own, which the engine adds in
 * part order afterwards (engine.c2dFilterGradient), so the result does not
 * depend on which thread ran which part.
 *
 * Every thread has its own instance of the module (and its own stack) on the
 * shared memory: the main thread's and the workers' (worker.ts).
 */
import type { CExports } from '../wasm/kernels';
import { partRange, OP } from './protocol';

/** Images [n0, n1) of part `part`, from the job's n0 and n1 at a[i], a[i + 1]. */
function images(a: Int32Array, i: number, part: number, parts: number): [number, number] {
  const [b, e] = partRange(a[i + 1] - a[i], 1, part, parts);
  return [a[i] + b, a[i] + e];
}

/** Runs part `part` of a C job; false when `op` is not one. */
export function runCPart(c: CExports | undefined, a: Int32Array, f: Float32Array, op: number, part: number, parts: number): boolean {
  if (op < OP.C_CONV_FORWARD || op > OP.C_UPSAMPLE_BACKWARD) return false;
  if (!c) throw new Error('the C kernels are not loaded in this thread');
  switch (op) {
    case OP.C_CONV_FORWARD: {
      // geom, x, w, bias, y, work, workFloats, n0, n1
      const [n0, n1] = images(a, 7, part, parts);
      if (n1 > n0) c.conv2d_forward(a[0], a[1], a[2], a[3], a[4], a[5] + part * a[6] * 4, n0, n1);
      return true;
    }
    case OP.C_CONV_BACKPROP_INPUT: {
      // geom, dy, w, dx, work, workFloats, n0, n1
      const [n0, n1] = images(a, 6, part, parts);
      if (n1 > n0) c.conv2d_backprop_input(a[0], a[1], a[2], a[3], a[4] + part * a[5] * 4, n0, n1);
      return true;
    }
    case OP.C_CONV_BACKPROP_FILTER: {
      // geom, x, dy, dw, work, workFloats, n0, n1, scratch (parts − 1 gradients, zeroed), dwFloats
      const [n0, n1] = images(a, 6, part, parts);
      const dw = part === 0 ? a[3] : a[8] + (part - 1) * a[9] * 4;
      if (n1 > n0) c.conv2d_backprop_filter(a[0], a[1], a[2], dw, a[4] + part * a[5] * 4, n0, n1);
      return true;
    }
    case OP.C_MAX_POOL_FORWARD: {
      // geom, x, y, argmax, n0, n1
      const [n0, n1] = images(a, 4, part, parts);
      if (n1 > n0) c.max_pool_forward(a[0], a[1], a[2], a[3], n0, n1);
      return true;
    }
    case OP.C_MAX_POOL_BACKWARD: {
      // geom, dy, argmax, dx, n0, n1
      const [n0, n1] = images(a, 4, part, parts);
      if (n1 > n0) c.max_pool_backward(a[0], a[1], a[2], a[3], n0, n1);
      return true;
    }
    case OP.C_AVG_POOL_FORWARD: {
      // geom, x, y, n0, n1
      const [n0, n1] = images(a, 3, part, parts);
      if (n1 > n0) c.avg_pool_forward(a[0], a[1], a[2], n0, n1);
      return true;
    }
    case OP.C_AVG_POOL_BACKWARD: {
      // geom, dy, dx, n0, n1; float 5: scale
      const [n0, n1] = images(a, 3, part, parts);
      if (n1 > n0) c.avg_pool_backward(a[0], a[1], a[2], f[5], n0, n1);
      return true;
    }
    case OP.C_UPSAMPLE_FORWARD:
    case OP.C_UPSAMPLE_BACKWARD: {
      // x (or dy), inH, inW, c, sh, sw, y (or dx), n0, n1
      const [n0, n1] = images(a, 7, part, parts);
      if (n1 <= n0) return true;
      if (op === OP.C_UPSAMPLE_FORWARD) c.upsample_forward(a[0], a[1], a[2], a[3], a[4], a[5], a[6], n0, n1);
      else c.upsample_backward(a[0], a[1], a[2], a[3], a[4], a[5], a[6], n0, n1);
      return true;
    }
  }
  return false;
}
