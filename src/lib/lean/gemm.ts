/**
 * Matrix products of the lean step on the wasm backend: XNNPACK through the
 * backend's `_FusedMatMul`, with the layout of each product chosen here.
 *
 * XNNPACK's fast path takes untransposed operands only, so a transposed
 * operand is transposed explicitly (SIMD) first; those copies are cached
 * within a step (a layer's input, transposed for the forward product, is
 * reused for its weight gradient). XNNPACK also packs the right-hand operand
 * of every product into its own layout before multiplying, and our operands
 * change every step, so each product pays for packing: about 2.3 ns per
 * element here, while our SIMD transpose costs 0.1-0.7 ns. C = A·B can also
 * be computed as (Bᵀ·Aᵀ)ᵀ, which packs Aᵀ instead of B: with a batch of 32
 * rows and 784-wide layers that packs 25,000 activations instead of 50,000
 * weights. Each product takes the form with the smaller estimated cost.
 */
import type { Buf, Heap } from './heap';
import type { GemmArgs } from './types';
import type { SimdKernels } from '../wasm-simd';

const PACK_NS = 2.3;
const transposeNs = (n: number) => n * (n * 4 > 256 * 1024 ? 0.7 : 0.15);

/** Which layout each product takes: by estimated cost, or always one (tests). */
export type GemmStrategy = 'auto' | 'direct' | 'swapped';

export class XnnGemm {
  private readonly transposes = new Map<number, Buf>();
  private readonly valid = new Set<number>();
  private scratchBufs: Buf[] = [];

  constructor(private readonly heap: Heap, private readonly simd: SimdKernels, private readonly strategy: GemmStrategy) {}

  /** Forgets every cached transpose (at the start of a step: the variables changed). */
  clear(): void {
    this.valid.clear();
  }

  /** Forgets the cached transpose of a buffer about to be written. */
  invalidate(b: Buf | null): void {
    if (b) this.valid.delete(b.id);
  }

  /** src[rows, cols]ᵀ, cached until `src` is invalidated. */
  transposed(src: Buf, rows: number, cols: number): Buf {
    let t = this.transposes.get(src.id);
    if (!t || t.size < rows * cols) {
      t = this.heap.alloc(Math.max(rows * cols, src.size));
      this.transposes.set(src.id, t);
      this.valid.delete(src.id);
    }
    if (!this.valid.has(src.id)) {
      this.simd.transpose(src.ptr, rows, cols, t.ptr);
      this.valid.add(src.id);
    }
    return t;
  }

  private isCached(b: Buf): boolean {
    return this.valid.has(b.id);
  }

  /** Scratch buffer `i` (0 or 1) of at least `size` floats. */
  private scratch(i: number, size: number): Buf {
    const s = this.scratchBufs[i];
    if (s && s.size >= size) return s;
    return (this.scratchBufs[i] = this.heap.alloc(size));
  }

  gemm(g: GemmArgs): void {
    const { a, b, m, k, n, out } = g;
    const transA = g.transA ?? false;
    const transB = g.transB ?? false;
    const bias = g.bias ?? null;
    // Costs of the transposes each form needs (nothing when a current copy is cached).
    const tA = (rows: number, cols: number) => (this.isCached(a) ? 0 : transposeNs(rows * cols));
    const tB = (rows: number, cols: number) => (this.isCached(b) ? 0 : transposeNs(rows * cols));
    const direct = (transA ? tA(k, m) : 0) + (transB ? tB(n, k) : 0) + PACK_NS * k * n;
    const swapped = (transA ? 0 : tA(m, k)) + (transB ? 0 : tB(k, n)) + PACK_NS * k * m + transposeNs(m * n) + (bias ? 0.1 * m * n : 0);
    const useSwapped = this.strategy === 'swapped' || (this.strategy === 'auto' && swapped < direct);
    const target = g.accumulate ? this.scratch(0, m * n) : out;
    if (useSwapped) {
      // Cᵀ[n, m] = op(B)ᵀ·op(A)ᵀ, then the bias per row, and back.
      const bt = transB ? b : this.transposed(b, k, n);
      const at = transA ? a : this.transposed(a, m, k);
      const ct = this.scratch(1, m * n);
      this.heap.matmul(bt, n, k, at, m, null, ct);
      if (bias) this.simd.addRowBias(ct.ptr, n, m, bias.ptr);
      this.simd.transpose(ct.ptr, n, m, target.ptr);
    } else {
      const a2 = transA ? this.transposed(a, k, m) : a;
      const b2 = transB ? this.transposed(b, n, k) : b;
      this.heap.matmul(a2, m, k, b2, n, bias, target);
    }
    if (g.accumulate) this.simd.add(out.ptr, target.ptr, m * n);
  }
}
