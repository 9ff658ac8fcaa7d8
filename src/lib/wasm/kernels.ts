/**
 * The compiled C kernels (kernels.c → kernels.wasm, and kernels-shared.wasm
 * for a shared memory; see scripts/build-wasm.mjs), instantiated on a given
 * memory: the wasm backend's, so that they work on tensors in place, or the
 * parallel engine's.
 *
 * Addresses are byte addresses in that memory; counts are element counts.
 * The module has no data segment; its stack pointer is set to 64 KB that
 * this loader allocates with the memory owner's malloc (once per memory).
 */
import type * as tf from '@tensorflow/tfjs';
import sharedBytes from './kernels-shared.wasm';
import wasmBytes from './kernels.wasm';

export interface CExports {
  conv2d_work_floats(geom: number): number;
  conv2d_forward(geom: number, x: number, w: number, bias: number, y: number, work: number, n0: number, n1: number): void;
  conv2d_backprop_input(geom: number, dy: number, w: number, dx: number, work: number, n0: number, n1: number): void;
  conv2d_backprop_filter(geom: number, x: number, dy: number, dw: number, work: number, n0: number, n1: number): void;
  conv3d_work_floats(geom: number): number;
  conv3d_backprop_input(geom: number, dy: number, w: number, dx: number, work: number, n0: number, n1: number): void;
  conv3d_backprop_filter(geom: number, x: number, dy: number, dw: number, n0: number, n1: number): void;
  depthwise_backprop_input(geom: number, dy: number, w: number, dx: number, n0: number, n1: number): void;
  depthwise_backprop_filter(geom: number, x: number, dy: number, dw: number, n0: number, n1: number): void;
  max_pool_forward(geom: number, x: number, y: number, argmax: number, n0: number, n1: number): void;
  max_pool_backward(geom: number, dy: number, argmax: number, dx: number, n0: number, n1: number): void;
  avg_pool_forward(geom: number, x: number, y: number, n0: number, n1: number): void;
  avg_pool_backward(geom: number, dy: number, dx: number, scale: number, n0: number, n1: number): void;
  upsample_forward(x: number, inH: number, inW: number, c: number, sh: number, sw: number, y: number, n0: number, n1: number): void;
  upsample_backward(dy: number, inH: number, inW: number, c: number, sh: number, sw: number, dx: number, n0: number, n1: number): void;
  bn_moments(x: number, rows: number, c: number, mean: number, variance: number): void;
  bn_forward(x: number, rows: number, c: number, mean: number, inv: number, gamma: number, beta: number, y: number): void;
  bn_backward(x: number, dy: number, rows: number, c: number, mean: number, inv: number, gamma: number, dgamma: number, dbeta: number, dx: number, work: number): void;
  bias_add(y: number, rows: number, c: number, bias: number): void;
  col_sums(x: number, rows: number, c: number, out: number): void;
  unsorted_segment_sum(x: number, ids: number, count: number, rowLength: number, numSegments: number, out: number, isInt: number): void;
}

/** Convolution geometry, in the order of kernels.c's `Conv`. */
export interface ConvGeometry {
  batch: number; inH: number; inW: number; inC: number;
  outH: number; outW: number; outC: number;
  kH: number; kW: number;
  strideH: number; strideW: number; dilH: number; dilW: number;
  padTop: number; padLeft: number;
}

/** Pooling geometry, in the order of kernels.c's `Pool`. */
export interface PoolGeometry {
  batch: number; inH: number; inW: number; channels: number;
  outH: number; outW: number;
  kH: number; kW: number;
  strideH: number; strideW: number;
  padTop: number; padLeft: number;
}

/** 3-D convolution geometry as kernels.c's `Conv3`: the 24 words of `conv3Words`. */
export function conv3Words(c: tf.backend_util.Conv3DInfo): number[] {
  return [
    c.batchSize, c.inDepth, c.inHeight, c.inWidth, c.inChannels,
    c.outDepth, c.outHeight, c.outWidth, c.outChannels,
    c.filterDepth, c.filterHeight, c.filterWidth,
    c.strideDepth, c.strideHeight, c.strideWidth,
    c.dilationDepth, c.dilationHeight, c.dilationWidth,
    c.padInfo.front, c.padInfo.top, c.padInfo.left,
    0, 0, 0,
  ];
}

export const CONV_WORDS = 16;
export const POOL_WORDS = 12;

export function convWords(g: ConvGeometry): number[] {
  return [g.batch, g.inH, g.inW, g.inC, g.outH, g.outW, g.outC, g.kH, g.kW, g.strideH, g.strideW, g.dilH, g.dilW, g.padTop, g.padLeft, 0];
}

export function poolWords(g: PoolGeometry): number[] {
  return [g.batch, g.inH, g.inW, g.channels, g.outH, g.outW, g.kH, g.kW, g.strideH, g.strideW, g.padTop, g.padLeft];
}

const STACK_BYTES = 64 * 1024;

let compiled: WebAssembly.Module | undefined;
let compiledShared: WebAssembly.Module | undefined;
const instances = new WeakMap<WebAssembly.Memory, CExports>();

/** The module, compiled once per process: for an ordinary memory, or (`shared`) for one shared between threads. */
export function cKernelsModule(shared = false): WebAssembly.Module {
  if (shared) return (compiledShared ??= new WebAssembly.Module(sharedBytes as BufferSource));
  return (compiled ??= new WebAssembly.Module(wasmBytes as BufferSource));
}

/** The modules' bytes (for tests). */
export function cKernelsBytes(): Uint8Array {
  return wasmBytes;
}

export function cKernelsSharedBytes(): Uint8Array {
  return sharedBytes;
}

/**
 * The kernels on `memory`, instantiated once per memory (and thread);
 * `malloc(bytes)` allocates the stack in it (an address, 0 when out of
 * memory). On a shared memory, every thread that runs them needs an
 * instance and a stack of its own.
 */
export function cKernels(memory: WebAssembly.Memory, malloc: (bytes: number) => number): CExports {
  const cached = instances.get(memory);
  if (cached) return cached;
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  const instance = new WebAssembly.Instance(cKernelsModule(shared), { env: { memory } });
  const stack = malloc(STACK_BYTES + 16) >>> 0;
  if (stack === 0) throw new Error('wasm heap: cannot allocate the C kernels\' stack');
  (instance.exports.__stack_pointer as WebAssembly.Global).value = (stack + STACK_BYTES) & ~15;
  const exports = { ...instance.exports } as unknown as CExports; // a plain object: callers may wrap its functions (profiling)
  instances.set(memory, exports);
  return exports;
}
