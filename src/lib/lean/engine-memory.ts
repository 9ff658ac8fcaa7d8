/**
 * The lean step on the parallel engine (src/lib/engine): every buffer of the
 * step in the engine's shared memory, every product and element-wise pass
 * split between the threads, fused multiply-add where the runtime has it.
 *
 * The model's variables and the optimizer's slots stay tfjs tensors on the
 * backend's heap, which the engine's threads cannot see. The step works on
 * copies of them in shared memory (`variable`), made when first asked for
 * and made again whenever tfjs replaced the variable's data since (an
 * `assign`, `setWeights`); what the step wrote goes back into the variables
 * on `flush`, which the training loops call before anything else can look
 * at them (callbacks, validation, the end of training, a pause to let the
 * event loop run) and `dispose` calls last.
 */
import * as tf from '@tensorflow/tfjs';
import { type Engine, type EngineBuf, profiling, recordProfile } from '../engine';
import type { Buf, Heap } from './heap';
import type { GemmArgs, Param, SimdOps, StepMemory } from './types';
import type { CExports } from '../wasm/kernels';

interface Mirror {
  buf: Buf;
  /** The variable's data when the copy was made or last written back: another one means tfjs replaced it. */
  dataId: object;
  /** Written by the step since the last flush. */
  dirty: boolean;
}

const f32 = Math.fround;

/** The SIMD kernels' methods as engine jobs: the same results, split between the threads. */
class ParallelSimd implements SimdOps {
  constructor(private readonly e: Engine) {}
  get simd(): boolean {
    return true;
  }
  bceLogits(z: number, t: number, dz: number, n: number, invN: number): number {
    return this.e.bceLogits(z, t, dz, n, invN);
  }
  mse(y: number, t: number, dz: number, n: number, scale: number): number {
    return this.e.mse(y, t, dz, n, scale);
  }
  adam(w: number, g: number, m: number, v: number, n: number, b1: number, b2: number, omb1: number, omb2: number, oma1: number, oma2: number, eps: number, nlr: number): void {
    this.e.adam(w, g, m, v, n, b1, b2, omb1, omb2, oma1, oma2, eps, nlr);
  }
  adamGroup(vars: readonly { w: number; g: number; m: number; v: number; n: number }[], b1: number, b2: number, omb1: number, omb2: number, oma1: number, oma2: number, eps: number, nlr: number): void {
    this.e.adamGroup(vars, b1, b2, omb1, omb2, oma1, oma2, eps, nlr);
  }
  sgd(w: number, g: number, n: number, c: number): void {
    this.e.sgd(w, g, n, c);
  }
  rmsprop(w: number, g: number, ms: number, mom: number, mg: number, n: number, decay: number, omd: number, momentum: number, lr: number, eps: number): void {
    this.e.rmsprop(w, g, ms, mom, mg, n, decay, omd, momentum, lr, eps);
  }
  leakyReluForward(x: number, n: number, alpha: number): void {
    this.e.leakyReluForward(x, n, alpha);
  }
  reluForward(x: number, n: number): void {
    this.e.reluForward(x, n);
  }
  leakyReluBackward(dz: number, a: number, n: number, alpha: number): void {
    this.e.leakyReluBackward(dz, a, n, alpha);
  }
  reluBackward(dz: number, a: number, n: number): void {
    this.e.reluBackward(dz, a, n);
  }
  sigmoidBackward(dz: number, a: number, n: number): void {
    this.e.sigmoidBackward(dz, a, n);
  }
  tanhBackward(dz: number, a: number, n: number): void {
    this.e.tanhBackward(dz, a, n);
  }
  mul(dst: number, a: number, b: number, n: number): void {
    this.e.mul(dst, a, b, n);
  }
  colSums(x: number, rows: number, cols: number, out: number): void {
    this.e.colSums(x, rows, cols, out);
  }
  add(dst: number, src: number, n: number): void {
    this.e.add(dst, src, n);
  }
  addRowBias(x: number, rows: number, cols: number, bias: number): void {
    this.e.addRowBias(x, rows, cols, bias);
  }
  transpose(src: number, rows: number, cols: number, dst: number): void {
    this.e.transpose(src, rows, cols, dst);
  }
  range(x: number, n: number, scratch: number): [number, number] {
    return this.e.simd.range(x, n, scratch);
  }
}

/** The C kernels' image loops as engine jobs; everything else as the calling thread's instance runs it. */
function parallelC(e: Engine): CExports {
  return {
    ...e.c,
    conv2d_forward: (geom, x, w, bias, y, _work, n0, n1) => e.conv2dForward(geom, x, w, bias, y, n0, n1),
    conv2d_backprop_input: (geom, dy, w, dx, _work, n0, n1) => e.conv2dBackpropInput(geom, dy, w, dx, n0, n1),
    conv2d_backprop_filter: (geom, x, dy, dw, _work, n0, n1) => e.conv2dBackpropFilter(geom, x, dy, dw, n0, n1),
    max_pool_forward: (geom, x, y, argmax, n0, n1) => e.maxPoolForward(geom, x, y, argmax, n0, n1),
    max_pool_backward: (geom, dy, argmax, dx, n0, n1) => e.maxPoolBackward(geom, dy, argmax, dx, n0, n1),
    avg_pool_forward: (geom, x, y, n0, n1) => e.avgPoolForward(geom, x, y, n0, n1),
    avg_pool_backward: (geom, dy, dx, scale, n0, n1) => e.avgPoolBackward(geom, dy, dx, scale, n0, n1),
    upsample_forward: (x, inH, inW, c, sh, sw, y, n0, n1) => e.upsample(false, x, inH, inW, c, sh, sw, y, n0, n1),
    upsample_backward: (dy, inH, inW, c, sh, sw, dx, n0, n1) => e.upsample(true, dy, inH, inW, c, sh, sw, dx, n0, n1),
  };
}

export class EngineMemory implements StepMemory {
  readonly simd: SimdOps;
  private cExports: CExports | undefined;
  private readonly mirrors = new Map<tf.Variable, Mirror>();
  /** Transposed copies of B operands (by buffer id), and which are current in this step. */
  private readonly transposes = new Map<number, EngineBuf>();
  private readonly valid = new Set<number>();
  private disposed = false;

  /** `backend` is the backend's heap, for reading and writing tfjs tensors; the step allocates nothing there. */
  constructor(readonly engine: Engine, private readonly backend: Heap) {
    this.simd = new ParallelSimd(engine);
  }

  get description(): string {
    return `${this.engine.threads} thread${this.engine.threads === 1 ? '' : 's'}, ${this.engine.fma ? 'fused multiply-add' : 'plain SIMD'}`;
  }

  get usesSimd(): boolean {
    return true;
  }

  /**
   * The C kernels on the engine's memory (their shared-memory build): the
   * convolutions, pooling and up-sampling split by images between the
   * threads (the `work` an op passes is not used: each part has its own),
   * the rest (batch normalisation, bias sums) on the calling thread.
   */
  get c(): CExports {
    return (this.cExports ??= parallelC(this.engine));
  }

  get f32(): Float32Array {
    return this.engine.f32;
  }

  get i32(): Int32Array {
    return new Int32Array(this.engine.memory.buffer);
  }

  alloc(size: number): Buf {
    return this.engine.alloc(size);
  }

  allocWords(count: number): number {
    return this.engine.alloc(count).ptr;
  }

  private transposed(src: Buf, rows: number, cols: number): Buf {
    let t = this.transposes.get(src.id);
    if (!t || t.size < rows * cols) {
      t = this.engine.alloc(Math.max(rows * cols, src.size));
      this.transposes.set(src.id, t);
      this.valid.delete(src.id);
    }
    if (!this.valid.has(src.id)) {
      this.engine.transpose(src.ptr, rows, cols, t.ptr);
      this.valid.add(src.id);
    }
    return t;
  }

  gemm(g: GemmArgs): void {
    // The engine reads Aᵀ, or Bᵀ, as stored; with both, Bᵀ is transposed once per step.
    const both = g.transA && g.transB;
    const b = both ? this.transposed(g.b, g.n, g.k) : g.b;
    this.engine.gemm({ m: g.m, n: g.n, k: g.k, a: g.a.ptr, transA: g.transA, b: b.ptr, transB: g.transB && !both, c: g.out.ptr, bias: g.bias ? g.bias.ptr : 0, accumulate: g.accumulate });
  }

  sigmoid(x: Buf, y: Buf, n: number): void {
    this.engine.sigmoid(x.ptr, y.ptr, n);
  }

  tanh(x: Buf, y: Buf, n: number): void {
    this.engine.tanh(x.ptr, y.ptr, n);
  }

  elu(x: Buf, y: Buf, n: number): void {
    this.engine.elu(x.ptr, y.ptr, n);
  }

  eluGrad(y: Buf, dy: Buf, dx: Buf, n: number): void {
    this.engine.eluGrad(y.ptr, dy.ptr, dx.ptr, n);
  }

  copy(dst: Buf, src: Buf, n: number): void {
    this.engine.copy(dst.ptr, src.ptr, n);
  }

  randomUniform(shape: number[], seed: number | undefined, out: Buf): void {
    const u = tf.randomUniform(shape, 0, 1, 'float32', seed);
    try {
      const from = this.backend.view(u).off;
      this.engine.f32.set(this.backend.f32.subarray(from, from + u.size), out.off);
    } finally {
      u.dispose();
    }
  }

  variable(v: tf.Variable, write = false): Buf {
    if (this.disposed) throw new Error('lean training step used after dispose');
    let m = this.mirrors.get(v);
    if (!m || m.dataId !== v.dataId) {
      // First use, or tfjs gave the variable new data since: copy it in.
      const buf = m && m.buf.size === v.size ? m.buf : this.engine.alloc(v.size);
      const from = this.backend.view(v).off;
      this.engine.f32.set(this.backend.f32.subarray(from, from + v.size), buf.off);
      m = { buf, dataId: v.dataId, dirty: false };
      this.mirrors.set(v, m);
    }
    if (write) m.dirty = true;
    return m.buf;
  }

  loadRows(src: tf.Tensor, dst: Buf, width: number, order: Int32Array | null, start: number, rows: number): void {
    const from = this.backend.f32;
    const to = this.engine.f32;
    const base = this.backend.view(src).off;
    if (!order) {
      to.set(from.subarray(base + start * width, base + (start + rows) * width), dst.off);
      return;
    }
    for (let r = 0; r < rows; r++) {
      const s = base + order[start + r] * width;
      to.set(from.subarray(s, s + width), dst.off + r * width);
    }
  }

  beginStep(): void {
    this.valid.clear();
  }

  invalidate(b: Buf | null): void {
    if (b) this.valid.delete(b.id);
  }

  updated(_params: Param[]): void {
    // The copies were marked dirty as the update wrote them; flush writes them back.
  }

  flush(): void {
    const t0 = profiling() ? performance.now() : 0;
    this.writeBack();
    if (t0) recordProfile('weights written back (flush)', performance.now() - t0);
  }

  private writeBack(): void {
    for (const [v, m] of this.mirrors) {
      if (!m.dirty) continue;
      if (v.isDisposed) {
        this.mirrors.delete(v);
        continue;
      }
      if (m.dataId !== v.dataId) {
        // tfjs replaced the variable's data since we copied it (someone assigned it): theirs wins.
        this.mirrors.delete(v);
        continue;
      }
      let d = this.backend.data(v);
      if (d.refCount > 1) {
        // Shared with another tensor: give the variable a private copy before writing into it.
        tf.tidy(() => v.assign(tf.mul(v, tf.scalar(f32(1), 'float32'))));
        d = this.backend.data(v);
        m.dataId = v.dataId;
      }
      const to = d.memoryOffset >>> 2;
      this.backend.f32.set(this.engine.f32.subarray(m.buf.off, m.buf.off + v.size), to);
      // Drop what the backend cached from the old values (XNNPACK's packed weights).
      this.backend.refresh(d.id, v.size, d.memoryOffset);
      m.dirty = false;
    }
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    const t0 = profiling() ? performance.now() : 0;
    try {
      this.flush();
    } finally {
      this.disposed = true;
      this.backend.dispose();
      await this.engine.dispose();
      if (t0) recordProfile('end of training (threads ended)', performance.now() - t0);
    }
  }
}
