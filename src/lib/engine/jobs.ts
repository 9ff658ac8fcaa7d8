/**
 * One part of each job (protocol.ts), as every thread of the pool computes
 * it: the main thread and the workers run this same function, so a part
 * gives the same result whichever thread claims it. A matrix product is cut
 * into blocks of rows or of columns (every element is then computed exactly
 * as on one thread), element-wise work into runs of whole SIMD vectors, and
 * the last part takes whatever is left over.
 */
import type { SimdKernels } from '../wasm-simd';
import type { CExports } from '../wasm/kernels';
import { runCPart } from './c-jobs';
import type { EngineExports } from './kernels';
import { elementCountArg, OP, partRange } from './protocol';

/**
 * Parts of a run of floats start on a cache line (16 floats: 64 bytes) when
 * the run does, so that two threads never write the same line; they stay
 * whole SIMD vectors either way.
 */
const LINE = 16;

export interface JobContext {
  native: EngineExports;
  simd: SimdKernels;
  /** The job's arguments (int32), and the same words as float32. */
  args: Int32Array;
  fargs: Float32Array;
  /** Per-part float64 results (partial sums). */
  partials: Float64Array;
  /** This thread's instance of the C kernels (src/lib/wasm/kernels.c) on the shared memory, with a stack of its own. */
  c?: CExports;
}

export function runPart(cx: JobContext, op: number, part: number, parts: number): void {
  const { native, simd } = cx;
  const a = cx.args;
  const f = cx.fargs;
  switch (op) {
    case OP.GEMM: {
      // m, n, k, a, ars, acs, b, ldb, c, ldc, bias, acc, mr, splitColumns, order
      const [m, n, k, pa, ars, acs, pb, ldb, pc, ldc, bias, acc, mr, cols, order] = a;
      if (cols) {
        const [j0, j1] = partRange(n, LINE, part, parts);
        if (j1 > j0) native.gemm(0, m, j0, j1, k, pa, ars, acs, pb, ldb, pc, ldc, bias, acc, mr, order);
      } else {
        const [i0, i1] = partRange(m, mr, part, parts);
        if (i1 > i0) native.gemm(i0, i1, 0, n, k, pa, ars, acs, pb, ldb, pc, ldc, bias, acc, mr, order);
      }
      return;
    }
    case OP.GEMM_BT: {
      // m, n, k, a, lda, b, ldb, c, ldc, bias, acc, splitColumns
      const [m, n, k, pa, lda, pb, ldb, pc, ldc, bias, acc, cols] = a;
      if (cols) {
        const [j0, j1] = partRange(n, 4, part, parts);
        if (j1 > j0) native.gemmBt(0, m, j0, j1, k, pa, lda, pb, ldb, pc, ldc, bias, acc);
      } else {
        const [i0, i1] = partRange(m, 2, part, parts);
        if (i1 > i0) native.gemmBt(i0, i1, 0, n, k, pa, lda, pb, ldb, pc, ldc, bias, acc);
      }
      return;
    }
    case OP.TRANSPOSE: {
      const [src, rows, cols, dst] = a;
      const [i0, i1] = partRange(rows, 4, part, parts);
      if (i1 > i0) native.transpose(src, cols, dst, rows, i0, i1, 0, cols);
      return;
    }
    case OP.COL_SUMS: {
      const [x, rows, cols, out] = a;
      const [j0, j1] = partRange(cols, LINE, part, parts);
      if (j1 > j0) native.colSums(x, rows, cols, out, j0, j1);
      return;
    }
    case OP.SIGMOID:
    case OP.TANH:
    case OP.ELU:
    case OP.COPY: {
      // x (or src), y (or dst), n
      const [x, y, n] = a;
      const [i0, i1] = partRange(n, LINE, part, parts);
      if (i1 <= i0) return;
      if (op === OP.SIGMOID) native.sigmoid(x, y, i0, i1);
      else if (op === OP.TANH) native.tanh(x, y, i0, i1);
      else if (op === OP.ELU) native.elu(x, y, i0, i1);
      else native.copy(y, x, i0, i1);
      return;
    }
    case OP.BCE_FUSED: {
      // z, t, dz, n; floats: invN, −ln ε, −ln(1 − (1 − ε))
      const [i0, i1] = partRange(a[3], LINE, part, parts);
      cx.partials[part] = i1 > i0 ? native.bceLogits(a[0], a[1], a[2], i0, i1, f[4], f[5], f[6]) : 0;
      return;
    }
    case OP.ELU_GRAD: {
      const [y, dy, dx, n] = a;
      const [i0, i1] = partRange(n, LINE, part, parts);
      if (i1 > i0) native.eluGrad(y, dy, dx, i0, i1);
      return;
    }
    case OP.ADAM_GROUP: {
      // Each variable cut exactly as its own ADAM job would be: the same parts, the same results.
      for (let v = 0, base = 9; v < a[0]; v++, base += 5) {
        const [b, e] = partRange(a[base + 4], LINE, part, parts);
        if (e <= b) continue;
        const o = b * 4;
        simd.adam(a[base] + o, a[base + 1] + o, a[base + 2] + o, a[base + 3] + o, e - b, f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8]);
      }
      return;
    }
    case OP.ADD_ROW_BIAS: {
      const [x, rows, cols, bias] = a;
      const [r0, r1] = partRange(rows, 1, part, parts);
      if (r1 > r0) simd.addRowBias(x + r0 * cols * 4, r1 - r0, cols, bias + r0 * 4);
      return;
    }
  }
  if (runCPart(cx.c, a, f, op, part, parts)) return;
  // Element-wise jobs: n elements from the addresses given, cut in runs of whole vectors.
  const countArg = elementCountArg(op);
  if (countArg < 0) throw new Error(`unknown job ${op}`);
  const [b, e] = partRange(a[countArg], LINE, part, parts);
  const len = e - b;
  const o = b * 4;
  cx.partials[part] = 0;
  if (len <= 0) return;
  switch (op) {
    case OP.BCE_LOGITS:
      cx.partials[part] = simd.bceLogits(a[0] + o, a[1] + o, a[2] + o, len, f[4]);
      return;
    case OP.MSE:
      cx.partials[part] = simd.mse(a[0] + o, a[1] + o, a[2] + o, len, f[4]);
      return;
    case OP.ADAM:
      simd.adam(a[0] + o, a[1] + o, a[2] + o, a[3] + o, len, f[5], f[6], f[7], f[8], f[9], f[10], f[11], f[12]);
      return;
    case OP.SGD:
      simd.sgd(a[0] + o, a[1] + o, len, f[3]);
      return;
    case OP.LEAKY_RELU:
      simd.leakyReluForward(a[0] + o, len, f[2]);
      return;
    case OP.RELU:
      simd.reluForward(a[0] + o, len);
      return;
    case OP.LEAKY_RELU_BACKWARD:
      simd.leakyReluBackward(a[0] + o, a[1] + o, len, f[3]);
      return;
    case OP.RELU_BACKWARD:
      simd.reluBackward(a[0] + o, a[1] + o, len);
      return;
    case OP.SIGMOID_BACKWARD:
      simd.sigmoidBackward(a[0] + o, a[1] + o, len);
      return;
    case OP.ADD:
      simd.add(a[0] + o, a[1] + o, len);
      return;
    case OP.RMSPROP:
      // mg is 0 for plain RMSprop (then it stays 0).
      simd.rmsprop(a[0] + o, a[1] + o, a[2] + o, a[3] + o, a[4] ? a[4] + o : 0, len, f[6], f[7], f[8], f[9], f[10]);
      return;
    case OP.TANH_BACKWARD:
      simd.tanhBackward(a[0] + o, a[1] + o, len);
      return;
    case OP.MUL:
      simd.mul(a[0] + o, a[1] + o, a[2] + o, len);
      return;
  }
  throw new Error(`unknown job ${op}`);
}
