/**
 * What the JavaScript engine we run on offers the parallel engine:
 * WebAssembly SIMD, shared memories (threads), and relaxed SIMD's fused
 * multiply-add (`f32x4.relaxed_madd`).
 *
 * Relaxed SIMD is on by default in V8 from 11.4 (Chrome 114, Electron 25,
 * Node 22, so VS Code's own runtime); Node 20's V8 (11.3) has it behind
 * `--experimental-wasm-relaxed-simd`. The kernel process is ours, so the
 * host starts it with that flag when its runtime needs it
 * (`relaxedSimdNodeFlags`), and the kernel checks again, falling back to
 * plain SIMD when it is still not there.
 */
import * as os from 'node:os';

/** The V8 flag that turns relaxed SIMD on where it is not on by default. */
export const RELAXED_SIMD_FLAG = '--experimental-wasm-relaxed-simd';

const header = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
// (func (param v128 v128 v128) (result v128) (f32x4.relaxed_madd (local.get 0) (local.get 1) (local.get 2)))
const RELAXED_MADD_MODULE = new Uint8Array([
  ...header,
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b,
  0x03, 0x02, 0x01, 0x00,
  0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b,
]);
// (func (param v128) (result v128) (f32x4.add (local.get 0) (local.get 0)))
const SIMD_MODULE = new Uint8Array([
  ...header,
  0x01, 0x06, 0x01, 0x60, 0x01, 0x7b, 0x01, 0x7b,
  0x03, 0x02, 0x01, 0x00,
  0x0a, 0x0b, 0x01, 0x09, 0x00, 0x20, 0x00, 0x20, 0x00, 0xfd, 0xe4, 0x01, 0x0b,
]);

function validates(bytes: Uint8Array): boolean {
  try {
    return WebAssembly.validate(bytes as BufferSource);
  } catch {
    return false;
  }
}

/** Whether this runtime runs WebAssembly SIMD128. */
export function simdSupported(): boolean {
  return validates(SIMD_MODULE);
}

/** Whether this runtime runs relaxed SIMD (here: `f32x4.relaxed_madd`, fused multiply-add where the CPU has it). */
export function relaxedSimdSupported(): boolean {
  return validates(RELAXED_MADD_MODULE);
}

/** Whether this runtime can share a WebAssembly memory between threads. */
export function sharedMemorySupported(): boolean {
  try {
    const m = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    return typeof SharedArrayBuffer !== 'undefined' && m.buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

/**
 * The flags a Node process of this same runtime needs for relaxed SIMD: none
 * when it is on already, the V8 flag when this V8 has it behind one (V8 9.1
 * to 11.3), none when this V8 knows nothing of it.
 */
export function relaxedSimdNodeFlags(v8Version = process.versions.v8): string[] {
  if (relaxedSimdSupported()) return [];
  const [major, minor] = v8Version.split('.').map(Number);
  const known = major > 9 || (major === 9 && minor >= 1);
  return known ? [RELAXED_SIMD_FLAG] : [];
}

/** One thread per core the process may use. */
export function defaultThreadCount(): number {
  const n = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, n);
}
