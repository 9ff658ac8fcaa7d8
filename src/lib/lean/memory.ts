/**
 * The lean step on the backend's own heap, on one thread: buffers registered
 * with tfjs-backend-wasm, matrix products in XNNPACK (gemm.ts), activations
 * in the backend's own kernels, the variables written in place. This is the
 * step as it runs with `threads: 1` (see compute.ts); engine-memory.ts is
 * the same on the parallel engine.
 */
import * as tf from '@tensorflow/tfjs';
import { type GemmStrategy, XnnGemm } from './gemm';
import type { Buf, Heap } from './heap';
import type { GemmArgs, Param, SimdOps, StepMemory } from './types';
import type { CExports } from '../wasm/kernels';

export class BackendMemory implements StepMemory {
  readonly simd: SimdOps;
  private readonly products: XnnGemm;

  constructor(readonly heap: Heap, strategy: GemmStrategy) {
    this.simd = heap.kernels;
    this.products = new XnnGemm(heap, heap.kernels, strategy);
  }

  get description(): string {
    return 'XNNPACK, 1 thread';
  }

  get c(): CExports {
    return this.heap.c;
  }

  get usesSimd(): boolean {
    return this.heap.kernels.simd;
  }

  get f32(): Float32Array {
    return this.heap.f32;
  }

  get i32(): Int32Array {
    return this.heap.i32;
  }

  alloc(size: number): Buf {
    return this.heap.alloc(size);
  }

  allocWords(count: number): number {
    return this.heap.allocWords(count);
  }

  gemm(args: GemmArgs): void {
    this.products.gemm(args);
  }

  sigmoid(x: Buf, y: Buf): void {
    this.heap.sigmoid(x, y);
  }

  tanh(x: Buf, y: Buf): void {
    this.heap.tanh(x, y);
  }

  elu(x: Buf, y: Buf): void {
    this.heap.elu(x, y);
  }

  eluGrad(y: Buf, dy: Buf, dx: Buf): void {
    this.heap.eluGrad(y, dy, dx);
  }

  copy(dst: Buf, src: Buf, n: number): void {
    this.heap.f32.copyWithin(dst.off, src.off, src.off + n);
  }

  randomUniform(shape: number[], seed: number | undefined, out: Buf): void {
    const u = tf.randomUniform(shape, 0, 1, 'float32', seed);
    try {
      this.copy(out, this.heap.view(u), u.size);
    } finally {
      u.dispose();
    }
  }

  variable(v: tf.Variable, write = false): Buf {
    let d = this.heap.data(v);
    if (write && d.refCount > 1) {
      // Shared with another tensor (say a clone someone holds): give the variable a private copy first.
      tf.tidy(() => v.assign(tf.mul(v, tf.scalar(1, 'float32'))));
      d = this.heap.data(v);
    }
    return { id: d.id, ptr: d.memoryOffset, off: d.memoryOffset >>> 2, size: v.size };
  }

  loadRows(src: tf.Tensor, dst: Buf, width: number, order: Int32Array | null, start: number, rows: number): void {
    const h = this.heap.f32;
    const base = this.heap.view(src).off;
    if (!order) {
      h.copyWithin(dst.off, base + start * width, base + (start + rows) * width);
      return;
    }
    for (let r = 0; r < rows; r++) {
      const s = base + order[start + r] * width;
      h.copyWithin(dst.off + r * width, s, s + width);
    }
  }

  beginStep(): void {
    this.products.clear();
  }

  invalidate(b: Buf | null): void {
    this.products.invalidate(b);
  }

  updated(params: Param[]): void {
    // The variables' data changed in place: drop anything cached from the old values (by anyone).
    for (const p of params) {
      const d = this.heap.data(p.variable);
      this.heap.refresh(d.id, p.size, d.memoryOffset);
    }
  }

  flush(): void {
    // The variables are written in place: nothing to do.
  }

  async dispose(): Promise<void> {
    this.heap.dispose();
  }
}
