/**
 * The engine's compiled kernels (native/engine.c, built by
 * scripts/build-wasm.sh): plain SIMD128, or with relaxed SIMD's fused
 * multiply-add. The binaries are embedded in the bundle (esbuild's binary
 * loader), so nothing is read from disk at run time.
 */
import fmaBytes from './native/engine-fma.wasm';
import simdBytes from './native/engine-simd.wasm';

/** The exports of native/engine.c (addresses are byte addresses, sizes in floats). */
export interface EngineExports {
  gemm(i0: number, i1: number, j0: number, j1: number, k: number, a: number, ars: number, acs: number, b: number, ldb: number, c: number, ldc: number, bias: number, acc: number, mr: number, order: number): void;
  gemmBt(i0: number, i1: number, j0: number, j1: number, k: number, a: number, lda: number, b: number, ldb: number, c: number, ldc: number, bias: number, acc: number): void;
  transpose(src: number, lds: number, dst: number, ldd: number, i0: number, i1: number, j0: number, j1: number): void;
  colSums(x: number, rows: number, ld: number, out: number, j0: number, j1: number): void;
  sigmoid(x: number, y: number, i0: number, i1: number): void;
  tanh(x: number, y: number, i0: number, i1: number): void;
  elu(x: number, y: number, i0: number, i1: number): void;
  eluGrad(y: number, dy: number, dx: number, i0: number, i1: number): void;
  copy(dst: number, src: number, i0: number, i1: number): void;
  bceLogits(z: number, t: number, dz: number, i0: number, i1: number, invN: number, capP: number, cap1mP: number): number;
}

const modules: Partial<Record<'fma' | 'simd', WebAssembly.Module>> = {};

/** The binary's bytes (for tests). */
export function engineBinary(fma: boolean): Uint8Array {
  return fma ? fmaBytes : simdBytes;
}

/** The compiled module: the FMA build needs relaxed SIMD, both need SIMD and shared memory (check features.ts first). */
export function engineModule(fma: boolean): WebAssembly.Module {
  const key = fma ? 'fma' : 'simd';
  return (modules[key] ??= new WebAssembly.Module(engineBinary(fma) as BufferSource));
}
