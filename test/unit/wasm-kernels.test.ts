/**
 * The kernels this library registers for the wasm backend, against the cpu
 * backend (tfjs's reference implementation) on random shapes, strides,
 * paddings and dilations, and on the shapes of the samples; the audit that
 * every kernel the gradients of tf.layers (and of tfjs's losses and
 * optimizers) need is registered for wasm; the error for a kernel that is
 * still missing. (The committed C binary against its source: wasm-build.test.ts.)
 */
import { test, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/lib/backend';
import { KernelUnavailableError } from '../../src/lib/kernel-errors';
import { makeRng } from '../../src/lib/random';
import { WASM_FAST_KERNELS, WASM_GRADIENT_KERNELS } from '../../src/lib/wasm-kernels';
import { cKernels, convWords } from '../../src/lib/wasm/kernels';


before(async () => {
  await initBackend('wasm');
});

type Shape = number[];
interface Case {
  label: string;
  kernel: string;
  inputs: Record<string, { shape: Shape; dtype?: 'float32' | 'int32'; values?: number[] }>;
  attrs: Record<string, unknown>;
}

/** Runs a kernel on a backend with the given input values; returns the output's shape and values. */
async function runOn(backend: 'cpu' | 'wasm', c: Case, values: Record<string, number[]>): Promise<{ shape: number[]; values: number[] }> {
  await tf.setBackend(backend);
  const dataBefore = tf.engine().backend.numDataIds();
  const inputs: Record<string, tf.Tensor> = {};
  for (const [name, spec] of Object.entries(c.inputs)) inputs[name] = tf.tensor(values[name], spec.shape, spec.dtype ?? 'float32');
  try {
    const out = tf.engine().runKernel(c.kernel, inputs as unknown as tf.NamedTensorMap, c.attrs as tf.NamedAttrMap) as tf.Tensor;
    const result = { shape: out.shape, values: Array.from(out.dataSync()) };
    out.dispose();
    return result;
  } finally {
    tf.dispose(Object.values(inputs));
    // Casts and layout copies a kernel makes on its way are its own to free.
    assert.equal(tf.engine().backend.numDataIds(), dataBefore, `${c.label}: ${backend} kernel left data on the backend`);
  }
}

async function compare(c: Case, seed: number): Promise<void> {
  const rng = makeRng(seed);
  const values: Record<string, number[]> = {};
  for (const [name, spec] of Object.entries(c.inputs)) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    values[name] = spec.values ?? Array.from({ length: n }, () => (spec.dtype === 'int32' ? Math.floor(rng() * 7) - 1 : rng() * 2 - 1));
  }
  const want = await runOn('cpu', c, values);
  const got = await runOn('wasm', c, values);
  await tf.setBackend('wasm');
  assert.deepEqual(got.shape, want.shape, `${c.label}: shape`);
  let scale = 1e-6;
  for (const v of want.values) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < want.values.length; i++) {
    assert.ok(Math.abs(got.values[i] - want.values[i]) <= 2e-6 * scale + 1e-6, `${c.label}: value ${i}: ${got.values[i]} vs ${want.values[i]} (scale ${scale})`);
  }
}

function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, label: string): void {
  assert.equal(got.length, want.length, `${label}: sizes`);
  let scale = 1e-6;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i] - want[i]) <= 2e-6 * scale + 1e-6, `${label}: value ${i}: ${got[i]} vs ${want[i]}`);
}

/** The depthwise convolution's gradients from their definition (float64 sums), dilations included. */
function depthwiseReference(c: tf.backend_util.Conv2DInfo, x: number[], dy: number[], w: number[]): { dw: number[]; dx: number[] } {
  const M = c.outChannels / c.inChannels;
  const dw = new Array(c.filterHeight * c.filterWidth * c.inChannels * M).fill(0);
  const dx = new Array(c.batchSize * c.inHeight * c.inWidth * c.inChannels).fill(0);
  for (let n = 0; n < c.batchSize; n++)
    for (let oy = 0; oy < c.outHeight; oy++)
      for (let ox = 0; ox < c.outWidth; ox++)
        for (let ky = 0; ky < c.filterHeight; ky++)
          for (let kx = 0; kx < c.filterWidth; kx++) {
            const iy = oy * c.strideHeight - c.padInfo.top + ky * c.dilationHeight;
            const ix = ox * c.strideWidth - c.padInfo.left + kx * c.dilationWidth;
            if (iy < 0 || iy >= c.inHeight || ix < 0 || ix >= c.inWidth) continue;
            for (let ch = 0; ch < c.inChannels; ch++)
              for (let m = 0; m < M; m++) {
                const d = dy[((n * c.outHeight + oy) * c.outWidth + ox) * c.outChannels + ch * M + m];
                const xi = ((n * c.inHeight + iy) * c.inWidth + ix) * c.inChannels + ch;
                const wi = ((ky * c.filterWidth + kx) * c.inChannels + ch) * M + m;
                dw[wi] += x[xi] * d;
                dx[xi] += w[wi] * d;
              }
          }
  return { dw, dx };
}

const pick = <T>(rng: () => number, items: readonly T[]): T => items[Math.floor(rng() * items.length)];
const int = (rng: () => number, lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));

/** A random convolution: NHWC shapes, a filter that fits, strides, padding (same, valid or explicit numbers), dilations. */
function randomConv(rng: () => number, depthwise: boolean, dilated: boolean) {
  const batch = int(rng, 1, 3);
  const kH = int(rng, 1, 4);
  const kW = int(rng, 1, 4);
  const dil = dilated && rng() < 0.5 ? [int(rng, 1, 3), int(rng, 1, 3)] : [1, 1];
  const strides = dil[0] > 1 || dil[1] > 1 ? [1, 1] : [int(rng, 1, 3), int(rng, 1, 3)];
  const inH = int(rng, (kH - 1) * dil[0] + 1, 12);
  const inW = int(rng, (kW - 1) * dil[1] + 1, 12);
  const inC = int(rng, 1, 9);
  const outC = depthwise ? inC * int(rng, 1, 3) : int(rng, 1, 10);
  const pad = pick(rng, ['same', 'valid', int(rng, 0, 2)] as const);
  const filterShape = depthwise ? [kH, kW, inC, outC / inC] : [kH, kW, inC, outC];
  const info = tf.backend_util.computeConv2DInfo([batch, inH, inW, inC], filterShape as [number, number, number, number], strides as [number, number], dil as [number, number], pad, undefined, depthwise);
  return { batch, inH, inW, inC, outC, strides, dil, pad, filterShape, info };
}

describe('our wasm kernels give what the cpu backend gives', () => {
  test('they are registered for wasm', () => {
    for (const k of [...WASM_GRADIENT_KERNELS, ...WASM_FAST_KERNELS]) assert.equal(tf.getKernel(k.kernelName, 'wasm')?.kernelFunc, k.kernelFunc, k.kernelName);
  });

  test('Conv2DBackpropFilter and Conv2DBackpropInput: 60 random convolutions (NHWC and NCHW, strides, paddings)', async () => {
    const rng = makeRng(11);
    for (let i = 0; i < 60; i++) {
      const g = randomConv(rng, false, false);
      const { info } = g;
      const nchw = i % 5 === 4;
      const xShape = nchw ? [g.batch, g.inC, g.inH, g.inW] : [g.batch, g.inH, g.inW, g.inC];
      const dyShape = nchw ? [g.batch, g.outC, info.outHeight, info.outWidth] : [g.batch, info.outHeight, info.outWidth, g.outC];
      const label = `#${i} x ${xShape} filter ${g.filterShape} strides ${g.strides} pad ${g.pad}${nchw ? ' NCHW' : ''}`;
      const common = { strides: g.strides, pad: g.pad, dataFormat: nchw ? 'NCHW' : 'NHWC' };
      await compare({ label: `filter ${label}`, kernel: 'Conv2DBackpropFilter', inputs: { x: { shape: xShape }, dy: { shape: dyShape } }, attrs: { ...common, filterShape: g.filterShape } }, i);
      await compare({ label: `input ${label}`, kernel: 'Conv2DBackpropInput', inputs: { dy: { shape: dyShape }, filter: { shape: g.filterShape } }, attrs: { ...common, inputShape: xShape } }, 100 + i);
    }
  });

  test('depthwise gradients (filter and input): 40 random convolutions with strides, paddings and dilations, multipliers 1-3', async () => {
    // The cpu backend's depthwise gradient kernels ignore dilations (tfjs's gradients never ask for them: they
    // refuse dilated depthwise convolutions), so dilated cases are checked against the definition, itself
    // checked against the cpu kernels on every undilated case.
    const rng = makeRng(12);
    for (let i = 0; i < 40; i++) {
      const g = randomConv(rng, true, true);
      const { info } = g;
      const xShape = [g.batch, g.inH, g.inW, g.inC];
      const dyShape = [g.batch, info.outHeight, info.outWidth, g.outC];
      const label = `#${i} x ${xShape} filter ${g.filterShape} strides ${g.strides} dilations ${g.dil} pad ${g.pad}`;
      const common = { strides: g.strides, dilations: g.dil, pad: g.pad };
      const filterCase: Case = { label: `filter ${label}`, kernel: 'DepthwiseConv2dNativeBackpropFilter', inputs: { x: { shape: xShape }, dy: { shape: dyShape } }, attrs: { ...common, filterShape: g.filterShape } };
      const inputCase: Case = { label: `input ${label}`, kernel: 'DepthwiseConv2dNativeBackpropInput', inputs: { dy: { shape: dyShape }, filter: { shape: g.filterShape } }, attrs: { ...common, inputShape: xShape } };
      const vals = (n: number) => Array.from({ length: n }, () => rng() * 2 - 1);
      const size = (sh: number[]) => sh.reduce((a, b) => a * b, 1);
      const [xs, dys, ws] = [vals(size(xShape)), vals(size(dyShape)), vals(size(g.filterShape))];
      const ref = depthwiseReference(info, xs, dys, ws);
      const gotFilter = await runOn('wasm', filterCase, { x: xs, dy: dys });
      const gotInput = await runOn('wasm', inputCase, { dy: dys, filter: ws });
      assertClose(gotFilter.values, ref.dw, `filter ${label}`);
      assertClose(gotInput.values, ref.dx, `input ${label}`);
      if (g.dil[0] === 1 && g.dil[1] === 1) {
        assertClose((await runOn('cpu', filterCase, { x: xs, dy: dys })).values, ref.dw, `cpu filter ${label}`);
        assertClose((await runOn('cpu', inputCase, { dy: dys, filter: ws })).values, ref.dx, `cpu input ${label}`);
      }
    }
    await tf.setBackend('wasm');
  });

  test('MaxPoolGrad: 40 random poolings (sizes, strides, same / valid), ties included', async () => {
    const rng = makeRng(13);
    for (let i = 0; i < 40; i++) {
      const k = [int(rng, 1, 3), int(rng, 1, 3)];
      const strides = [int(rng, 1, 3), int(rng, 1, 3)];
      const shape = [int(rng, 1, 3), int(rng, k[0], 10), int(rng, k[1], 10), int(rng, 1, 9)];
      const pad = pick(rng, ['same', 'valid'] as const);
      const info = tf.backend_util.computePool2DInfo(shape as [number, number, number, number], k as [number, number], strides as [number, number], 1, pad);
      const n = shape.reduce((a, b) => a * b, 1);
      // Every third case has many equal values (what ReLU's zeros give), to check which maximum wins a tie.
      const input = Array.from({ length: n }, (_, j) => (i % 3 === 0 ? Math.floor(((j * 7919) % 13) / 5) : Math.sin(j * 12.9898 + i) * 0.5));
      await compare({
        label: `#${i} ${shape} pool ${k} strides ${strides} ${pad}`,
        kernel: 'MaxPoolGrad',
        inputs: { dy: { shape: [shape[0], info.outHeight, info.outWidth, shape[3]] }, input: { shape, values: input }, output: { shape: [shape[0], info.outHeight, info.outWidth, shape[3]], values: new Array(shape[0] * info.outHeight * info.outWidth * shape[3]).fill(0) } },
        attrs: { filterSize: k, strides, pad },
      }, i);
    }
  });

  test('UnsortedSegmentSum: float32 and int32 rows, ids out of range skipped', async () => {
    const cases: [Shape, Shape, number, 'float32' | 'int32'][] = [
      [[10, 3], [10], 4, 'float32'],
      [[7], [7], 3, 'float32'],
      [[6, 2, 5], [6], 9, 'int32'],
      [[64, 17], [64], 30, 'float32'],
    ];
    for (const [i, [xShape, idShape, numSegments, dtype]] of cases.entries()) {
      const count = idShape.reduce((a, b) => a * b, 1);
      const ids = Array.from({ length: count }, (_, j) => ((j * 5 + i) % (numSegments + 2)) - 1); // includes -1 and numSegments
      await compare({ label: `#${i} x ${xShape} ids ${idShape}`, kernel: 'UnsortedSegmentSum', inputs: { x: { shape: xShape, dtype }, segmentIds: { shape: idShape, dtype: 'int32', values: ids } }, attrs: { numSegments } }, i);
    }
  });

  test('Slice: 120 random slices of ranks 1-5 (float32, int32, bool, string), whole axes, empty slices and -1 sizes', async () => {
    const rng = makeRng(77);
    const int = (lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
    const dtypes = ['float32', 'int32', 'bool', 'string'] as const;
    for (let i = 0; i < 120; i++) {
      const dtype = dtypes[i % dtypes.length];
      const shape = Array.from({ length: int(1, 5) }, () => int(1, 6));
      const begin = shape.map((d) => (rng() < 0.3 ? 0 : int(0, d - 1)));
      // Whole axes (the copy is one run), -1 (the rest of the axis), empty, or random sizes.
      const size = shape.map((d, k) => (rng() < 0.25 ? d - begin[k] : rng() < 0.15 ? -1 : i % 17 === 0 && k === 0 ? 0 : int(1, d - begin[k])));
      const n = shape.reduce((a, b) => a * b, 1);
      const values = Array.from({ length: n }, (_, j) => (dtype === 'string' ? `s${j}` : dtype === 'bool' ? (j * 7 + i) % 3 === 0 : dtype === 'int32' ? j - 40 : j * 0.5 - 11.25));
      const run = async (backend: 'cpu' | 'wasm') => {
        await tf.setBackend(backend);
        const x = tf.tensor(values as number[], shape, dtype);
        const y = tf.slice(x, begin, size);
        const out = { shape: y.shape, values: Array.from(y.dataSync() as ArrayLike<unknown> as unknown[]) };
        tf.dispose([x, y]);
        return out;
      };
      const label = `#${i} ${dtype} [${shape}] begin [${begin}] size [${size}]`;
      const want = await run('cpu');
      const got = await run('wasm').catch((e: Error) => assert.fail(`${label}: ${e.message}`));
      assert.deepEqual(got.shape, want.shape, label);
      assert.deepEqual(got.values.map(String), want.values.map(String), label);
    }
    await tf.setBackend('wasm');
  });

  test('Slice: rows of a large tensor, and slices of slices, on the heap as tfjs-layers takes them', async () => {
    const x = tf.tidy(() => tf.range(0, 600 * 784).reshape([600, 784]));
    const rows = tf.slice(x, [123, 0], [32, 784]);
    const cols = tf.slice(rows, [5, 700], [3, 84]);
    const want = (r: number, c: number) => r * 784 + c;
    const rv = rows.dataSync();
    assert.equal(rv[0], want(123, 0));
    assert.equal(rv[rv.length - 1], want(154, 783));
    assert.deepEqual(Array.from(cols.dataSync()).slice(0, 2), [want(128, 700), want(128, 701)]);
    assert.equal(cols.dataSync()[84 * 3 - 1], want(130, 783));
    tf.dispose([x, rows, cols]);
  });

  test("the shapes of the samples' convolutional layers (batch 8)", async () => {
    // samples/denoising-conv-fashion-mnist.aenb: 28x28x1 →16, pool, 14x14x16 →8, pool, up, 14x14x8 →16, up, 28x28x16 →1; 3x3, same.
    const layers: [number, number, number][] = [[28, 1, 16], [14, 16, 8], [14, 8, 16], [28, 16, 1]];
    for (const [i, [hw, ci, co]] of layers.entries()) {
      const xShape = [8, hw, hw, ci];
      const dyShape = [8, hw, hw, co];
      const common = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC' };
      await compare({ label: `filter ${hw}x${hw} ${ci}→${co}`, kernel: 'Conv2DBackpropFilter', inputs: { x: { shape: xShape }, dy: { shape: dyShape } }, attrs: { ...common, filterShape: [3, 3, ci, co] } }, i);
      await compare({ label: `input ${hw}x${hw} ${ci}→${co}`, kernel: 'Conv2DBackpropInput', inputs: { dy: { shape: dyShape }, filter: { shape: [3, 3, ci, co] } }, attrs: { ...common, inputShape: xShape } }, 10 + i);
    }
    for (const [hw, c] of [[28, 16], [14, 8]]) {
      await compare({ label: `max-pool ${hw}x${hw}x${c}`, kernel: 'MaxPoolGrad', inputs: { dy: { shape: [8, hw / 2, hw / 2, c] }, input: { shape: [8, hw, hw, c] }, output: { shape: [8, hw / 2, hw / 2, c] } }, attrs: { filterSize: [2, 2], strides: [2, 2], pad: 'same' } }, hw);
    }
  });
});

describe('the C batch-normalisation sums (used by the lean step) against float64', () => {
  test("a batch's mean and variance, and the gradient sums Σ dy and Σ dy·x̂, over 100,352 rows: each the float64 value rounded once", () => {
    // 128 images of 28x28 (the conv sample's first layer), 7 channels (a SIMD part and a remainder), values far from 0
    // (where a float32 running sum of 100,352 terms loses about 1e-5 of the result).
    const R = 128 * 28 * 28;
    const C = 7;
    const rng = makeRng(5);
    const xs = new Float32Array(R * C).map((_, i) => 3 + (i % C) + rng() * 0.5);
    const dys = new Float32Array(R * C).map(() => rng() - 0.45);
    const backend = tf.backend() as unknown as { wasm: { asm: { memory: WebAssembly.Memory; malloc(n: number): number; free(p: number): void }; HEAPF32: Float32Array } };
    const { asm } = backend.wasm;
    const c = cKernels(asm.memory, (n) => asm.malloc(n));
    const blocks = [R * C, R * C, C, C, C, C, C, C, 2 * C].map((n) => asm.malloc(n * 4) >>> 0);
    const [x, dy, mean, variance, inv, dgamma, dbeta, gamma, work] = blocks;
    try {
      const heap = () => backend.wasm.HEAPF32;
      heap().set(xs, x >>> 2);
      heap().set(dys, dy >>> 2);
      c.bn_moments(x, R, C, mean, variance);
      const got = (p: number) => Array.from(heap().subarray(p >>> 2, (p >>> 2) + C));
      const m64 = Array.from({ length: C }, (_, k) => {
        let s = 0;
        for (let r = 0; r < R; r++) s += xs[r * C + k];
        return s / R;
      });
      const mean32 = got(mean);
      const v64 = Array.from({ length: C }, (_, k) => {
        let s = 0;
        for (let r = 0; r < R; r++) s += (Math.fround(xs[r * C + k] - mean32[k])) ** 2;
        return s / R;
      });
      const close = (a: number[], b: number[], what: string) => a.forEach((v, k) => assert.ok(Math.abs(v - b[k]) <= 4e-7 * Math.abs(b[k]), `${what}[${k}]: ${v} vs float64 ${b[k]} (relative ${(Math.abs(v - b[k]) / Math.abs(b[k])).toExponential(1)})`));
      close(mean32, m64, 'mean');
      close(got(variance), v64, 'variance');
      heap().set(mean32.map((_, k) => 1 / Math.sqrt(got(variance)[k] + 1e-3)), inv >>> 2);
      heap().set(new Float32Array(C).fill(1), gamma >>> 2);
      c.bn_backward(x, dy, R, C, mean, inv, gamma, dgamma, dbeta, 0, work);
      const inv32 = got(inv);
      const sdy = Array.from({ length: C }, (_, k) => {
        let s = 0;
        for (let r = 0; r < R; r++) s += dys[r * C + k];
        return s;
      });
      const sdx = Array.from({ length: C }, (_, k) => {
        let s = 0;
        for (let r = 0; r < R; r++) s += dys[r * C + k] * Math.fround(Math.fround(xs[r * C + k] - mean32[k]) * inv32[k]);
        return s;
      });
      close(got(dbeta), sdy, 'Σ dy');
      close(got(dgamma), sdx, 'Σ dy·x̂');
    } finally {
      for (const p of blocks) asm.free(p);
    }
  });
});

describe('the C convolution forward pass (used by the lean step) against tf.conv2d on cpu', () => {
  test('50 random convolutions with strides, paddings and dilations, with and without bias', async () => {
    const rng = makeRng(21);
    for (let i = 0; i < 50; i++) {
      const g = randomConv(rng, false, true);
      const { info } = g;
      const xs = Array.from({ length: g.batch * g.inH * g.inW * g.inC }, () => rng() * 2 - 1);
      const ws = Array.from({ length: g.filterShape.reduce((a, b) => a * b, 1) }, () => rng() * 2 - 1);
      const bias = i % 2 ? Array.from({ length: g.outC }, () => rng()) : null;
      await tf.setBackend('cpu');
      const want = tf.tidy(() => {
        let y: tf.Tensor = tf.conv2d(tf.tensor4d(xs, [g.batch, g.inH, g.inW, g.inC]), tf.tensor4d(ws, g.filterShape as [number, number, number, number]), g.strides as [number, number], g.pad, 'NHWC', g.dil as [number, number]);
        if (bias) y = tf.add(y, tf.tensor1d(bias));
        return Array.from(y.dataSync());
      });
      await tf.setBackend('wasm');
      const x = tf.tensor4d(xs, [g.batch, g.inH, g.inW, g.inC]);
      const w = tf.tensor4d(ws, g.filterShape as [number, number, number, number]);
      const b = bias ? tf.tensor1d(bias) : null;
      const y = tf.zeros([g.batch, info.outHeight, info.outWidth, g.outC]);
      const backend = tf.backend() as unknown as { wasm: { asm: { memory: WebAssembly.Memory; malloc(n: number): number; free(p: number): void }; HEAP32: Int32Array }; dataIdMap: { get(d: object): { memoryOffset: number } } };
      const at = (t: tf.Tensor) => backend.dataIdMap.get(t.dataId)!.memoryOffset;
      const c = cKernels(backend.wasm.asm.memory, (n) => backend.wasm.asm.malloc(n));
      const words = convWords({
        batch: g.batch, inH: g.inH, inW: g.inW, inC: g.inC, outH: info.outHeight, outW: info.outWidth, outC: g.outC, kH: info.filterHeight, kW: info.filterWidth,
        strideH: info.strideHeight, strideW: info.strideWidth, dilH: info.dilationHeight, dilW: info.dilationWidth, padTop: info.padInfo.top, padLeft: info.padInfo.left,
      });
      const geom = backend.wasm.asm.malloc(words.length * 4);
      backend.wasm.HEAP32.set(words, geom >>> 2);
      const work = backend.wasm.asm.malloc(c.conv2d_work_floats(geom) * 4);
      // Two halves of the batch, as a thread pool would split it.
      const half = Math.floor(g.batch / 2);
      c.conv2d_forward(geom, at(x), at(w), b ? at(b) : 0, at(y), work, 0, half);
      c.conv2d_forward(geom, at(x), at(w), b ? at(b) : 0, at(y), work, half, g.batch);
      backend.wasm.asm.free(work);
      backend.wasm.asm.free(geom);
      const got = Array.from(y.dataSync());
      const scale = Math.max(1e-6, ...want.map(Math.abs));
      got.forEach((v, j) => assert.ok(Math.abs(v - want[j]) <= 2e-6 * scale, `#${i} filter ${g.filterShape} strides ${g.strides} dil ${g.dil} pad ${g.pad}: ${j}: ${v} vs ${want[j]}`));
      tf.dispose([x, w, y, ...(b ? [b] : [])]);
    }
  });
});

// ---------------------------------------------------------------------------
// The audit: every kernel the gradients of tf.layers need, against what wasm registers.

/** `int`: integer inputs below it; `random`: the output is random in training (gradients not compared); `forwardOnly`: tfjs has no gradient for it (only its forward kernels are audited). */
type LayerCase = { layers: () => tf.layers.Layer[]; input: Shape; int?: number; random?: boolean; forwardOnly?: boolean };

/**
 * One or more configurations of every layer tf.layers exports (the test
 * below fails when tfjs gains a layer this table does not cover).
 */
const LAYER_CASES: Record<string, LayerCase[]> = {
  activation: ['relu', 'sigmoid', 'tanh', 'elu', 'selu', 'softplus', 'softsign', 'softmax', 'linear', 'relu6', 'hardSigmoid', 'swish', 'mish', 'gelu', 'gelu_new', 'logSoftmax'].map((a) => ({
    layers: () => [tf.layers.activation({ activation: a as 'relu' })], input: [2, 5],
  })),
  add: [], average: [], concatenate: [], dot: [], maximum: [], minimum: [], multiply: [], // merge layers: see MERGE below
  alphaDropout: [{ layers: () => [tf.layers.alphaDropout({ rate: 0.3 })], input: [2, 6], random: true }],
  averagePooling1d: [{ layers: () => [tf.layers.averagePooling1d({ poolSize: 2, padding: 'same' })], input: [2, 5, 3] }],
  averagePooling2d: [{ layers: () => [tf.layers.averagePooling2d({ poolSize: 2, padding: 'same' })], input: [2, 5, 5, 3] }, { layers: () => [tf.layers.averagePooling2d({ poolSize: 3, strides: 1 })], input: [1, 5, 4, 2] }],
  averagePooling3d: [{ layers: () => [tf.layers.averagePooling3d({ poolSize: 2 })], input: [1, 4, 4, 4, 2] }],
  // (tfjs 4.22 cannot train batch normalization on an axis other than the last: its broadcasting path fails on every backend.)
  batchNormalization: [{ layers: () => [tf.layers.batchNormalization()], input: [4, 3, 3, 2] }, { layers: () => [tf.layers.batchNormalization({ momentum: 0.9, epsilon: 0.01 })], input: [4, 5] }],
  bidirectional: [{ layers: () => [tf.layers.bidirectional({ layer: tf.layers.simpleRNN({ units: 3 }) as unknown as tf.RNN })], input: [2, 4, 3] }],
  categoryEncoding: [{ layers: () => [tf.layers.categoryEncoding({ numTokens: 5, outputMode: 'multiHot' })], input: [2, 3], int: 5 }],
  // (CropAndResize has no gradient in tfjs: centerCrop cannot be trained through on any backend.)
  centerCrop: [{ layers: () => [tf.layers.centerCrop({ height: 3, width: 3 })], input: [2, 5, 5, 2], forwardOnly: true }],
  conv1d: [{ layers: () => [tf.layers.conv1d({ filters: 3, kernelSize: 3, padding: 'same' })], input: [2, 7, 2] }, { layers: () => [tf.layers.conv1d({ filters: 2, kernelSize: 2, strides: 2 })], input: [2, 6, 3] }],
  conv2d: [
    { layers: () => [tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' })], input: [2, 6, 6, 3] },
    { layers: () => [tf.layers.conv2d({ filters: 2, kernelSize: [2, 3], strides: [2, 1] })], input: [2, 7, 6, 2] },
    { layers: () => [tf.layers.conv2d({ filters: 2, kernelSize: 3, dataFormat: 'channelsFirst', useBias: false })], input: [2, 2, 5, 5] },
  ],
  conv2dTranspose: [{ layers: () => [tf.layers.conv2dTranspose({ filters: 3, kernelSize: 3, strides: 2, padding: 'same' })], input: [2, 4, 4, 2] }, { layers: () => [tf.layers.conv2dTranspose({ filters: 2, kernelSize: 2 })], input: [1, 3, 3, 3] }],
  conv3d: [{ layers: () => [tf.layers.conv3d({ filters: 2, kernelSize: 2 })], input: [1, 3, 3, 3, 2] }],
  // (Conv3DBackpropInputV2 has no gradient in tfjs: conv3dTranspose cannot train on any backend.)
  conv3dTranspose: [{ layers: () => [tf.layers.conv3dTranspose({ filters: 2, kernelSize: 2, strides: 2 })], input: [1, 2, 2, 2, 2], forwardOnly: true }],
  convLstm2d: [{ layers: () => [tf.layers.convLstm2d({ filters: 2, kernelSize: 2 })], input: [1, 2, 4, 4, 1] }],
  cropping2D: [{ layers: () => [tf.layers.cropping2D({ cropping: [[1, 0], [0, 1]] })], input: [2, 4, 4, 2] }],
  dense: [{ layers: () => [tf.layers.dense({ units: 3, activation: 'relu' })], input: [2, 4] }, { layers: () => [tf.layers.dense({ units: 2 })], input: [2, 3, 4] }],
  depthwiseConv2d: [{ layers: () => [tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same' })], input: [2, 5, 5, 2] }, { layers: () => [tf.layers.depthwiseConv2d({ kernelSize: 2, strides: 2 })], input: [1, 6, 6, 3] }],
  dropout: [{ layers: () => [tf.layers.dropout({ rate: 0.4 })], input: [2, 6], random: true }],
  elu: [{ layers: () => [tf.layers.elu()], input: [2, 5] }],
  embedding: [{ layers: () => [tf.layers.embedding({ inputDim: 7, outputDim: 3 })], input: [2, 4], int: 7 }],
  flatten: [{ layers: () => [tf.layers.flatten()], input: [2, 3, 2] }],
  gaussianDropout: [{ layers: () => [tf.layers.gaussianDropout({ rate: 0.3 })], input: [2, 6], random: true }],
  gaussianNoise: [{ layers: () => [tf.layers.gaussianNoise({ stddev: 0.2 })], input: [2, 6], random: true }],
  globalAveragePooling1d: [{ layers: () => [tf.layers.globalAveragePooling1d()], input: [2, 5, 3] }],
  globalAveragePooling2d: [{ layers: () => [tf.layers.globalAveragePooling2d({})], input: [2, 4, 4, 3] }],
  globalMaxPooling1d: [{ layers: () => [tf.layers.globalMaxPooling1d()], input: [2, 5, 3] }],
  globalMaxPooling2d: [{ layers: () => [tf.layers.globalMaxPooling2d({})], input: [2, 4, 4, 3] }],
  gru: [{ layers: () => [tf.layers.gru({ units: 3, returnSequences: true })], input: [2, 4, 3] }],
  layerNormalization: [{ layers: () => [tf.layers.layerNormalization()], input: [3, 5] }],
  leakyReLU: [{ layers: () => [tf.layers.leakyReLU({ alpha: 0.2 })], input: [2, 5] }],
  lstm: [{ layers: () => [tf.layers.lstm({ units: 3 })], input: [2, 4, 3] }],
  // (tfjs cannot differentiate through masking's Any.)
  masking: [{ layers: () => [tf.layers.masking({ maskValue: 0 })], input: [2, 4, 3], forwardOnly: true }],
  maxPooling1d: [{ layers: () => [tf.layers.maxPooling1d({ poolSize: 2 })], input: [2, 6, 3] }],
  maxPooling2d: [{ layers: () => [tf.layers.maxPooling2d({ poolSize: 2, padding: 'same' })], input: [2, 5, 5, 3] }, { layers: () => [tf.layers.maxPooling2d({ poolSize: 3, strides: 2 })], input: [1, 7, 6, 2] }],
  maxPooling3d: [{ layers: () => [tf.layers.maxPooling3d({ poolSize: 2 })], input: [1, 4, 4, 4, 2] }],
  permute: [{ layers: () => [tf.layers.permute({ dims: [2, 1] })], input: [2, 3, 4] }],
  prelu: [{ layers: () => [tf.layers.prelu()], input: [2, 5] }],
  // (tfjs 4.22's ResizeBilinear gradient gets non-square resizes wrong on every backend, so randomWidth cannot be trained through;
  // resizing below audits that gradient's kernel.)
  randomWidth: [{ layers: () => [tf.layers.randomWidth({ factor: 0.5, seed: 1 })], input: [2, 4, 6, 2], random: true, forwardOnly: true }],
  reLU: [{ layers: () => [tf.layers.reLU()], input: [2, 5] }, { layers: () => [tf.layers.reLU({ maxValue: 0.5 })], input: [2, 5] }],
  repeatVector: [{ layers: () => [tf.layers.repeatVector({ n: 3 })], input: [2, 4] }],
  rescaling: [{ layers: () => [tf.layers.rescaling({ scale: 0.5, offset: 0.1 })], input: [2, 4] }],
  reshape: [{ layers: () => [tf.layers.reshape({ targetShape: [2, 3] })], input: [2, 6] }],
  resizing: [{ layers: () => [tf.layers.resizing({ height: 6, width: 6 })], input: [2, 3, 3, 2] }, { layers: () => [tf.layers.resizing({ height: 6, width: 6, interpolation: 'nearest' })], input: [2, 3, 3, 2] }],
  separableConv2d: [{ layers: () => [tf.layers.separableConv2d({ filters: 3, kernelSize: 3, padding: 'same' })], input: [2, 5, 5, 2] }],
  simpleRNN: [{ layers: () => [tf.layers.simpleRNN({ units: 3 })], input: [2, 4, 3] }],
  softmax: [{ layers: () => [tf.layers.softmax()], input: [2, 5] }],
  spatialDropout1d: [{ layers: () => [tf.layers.spatialDropout1d({ rate: 0.3 })], input: [2, 4, 3], random: true }],
  // (tfjs cannot differentiate thresholdedReLU: no gradient for Greater.)
  thresholdedReLU: [{ layers: () => [tf.layers.thresholdedReLU({ theta: 0.2 })], input: [2, 5], forwardOnly: true }],
  timeDistributed: [{ layers: () => [tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 2 }) })], input: [2, 3, 4] }],
  upSampling2d: [{ layers: () => [tf.layers.upSampling2d({ size: [2, 3] })], input: [2, 3, 3, 2] }, { layers: () => [tf.layers.upSampling2d({ size: [2, 2], interpolation: 'bilinear' })], input: [1, 3, 3, 1] }],
  zeroPadding2d: [{ layers: () => [tf.layers.zeroPadding2d({ padding: [1, 2] })], input: [2, 3, 3, 2] }],
};

/** Names in tf.layers that are not layers to build on their own (base classes, inputs, RNN cells: covered by their layers), and aliases. */
const NOT_LAYERS = new Set(['Layer', 'RNN', 'RNNCell', 'input', 'inputLayer', 'rnn', 'gruCell', 'lstmCell', 'simpleRNNCell', 'convLstm2dCell', 'stackedRNNCells']);
const ALIASES: Record<string, string> = {
  avgPool1d: 'averagePooling1d', avgPool2d: 'averagePooling2d', avgPool3d: 'averagePooling3d', avgPooling1d: 'averagePooling1d', avgPooling2d: 'averagePooling2d', avgPooling3d: 'averagePooling3d',
  globalMaxPool1d: 'globalMaxPooling1d', globalMaxPool2d: 'globalMaxPooling2d', maxPool1d: 'maxPooling1d', maxPool2d: 'maxPooling2d',
};
const MERGE: [string, () => tf.layers.Layer, Shape, Shape][] = [
  ['add', () => tf.layers.add(), [2, 4], [2, 4]],
  ['average', () => tf.layers.average(), [2, 4], [2, 4]],
  ['concatenate', () => tf.layers.concatenate(), [2, 4], [2, 3]],
  ['dot', () => tf.layers.dot({ axes: 1 }), [2, 4], [2, 4]],
  ['maximum', () => tf.layers.maximum(), [2, 4], [2, 4]],
  ['minimum', () => tf.layers.minimum(), [2, 4], [2, 4]],
  ['multiply', () => tf.layers.multiply(), [2, 4], [2, 4]],
];

/** The kernels one forward and backward pass runs (gradients w.r.t. the weights and the float inputs), and the gradients. */
function traceGradients(apply: (xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[], weights: tf.Variable[], forwardOnly = false): { kernels: Set<string>; grads: number[][] } {
  const kernels = new Set<string>();
  const engine = tf.engine() as unknown as { runKernel: (name: string, ...rest: unknown[]) => unknown };
  const original = engine.runKernel;
  engine.runKernel = function (this: unknown, name: string, ...rest: unknown[]) {
    kernels.add(name);
    return original.call(this, name, ...rest);
  };
  try {
    const grads = tf.tidy(() => {
      if (forwardOnly) return [Array.from(apply(xs).dataSync())];
      const floats = xs.filter((x) => x.dtype === 'float32');
      const loss = (...inputs: tf.Tensor[]) => {
        let k = 0;
        const all = xs.map((x) => (x.dtype === 'float32' ? inputs[k++] : x));
        const y = apply(all);
        return tf.sum(tf.mul(y, tf.sin(tf.range(0, y.size).reshape(y.shape).cast('float32')))) as tf.Scalar;
      };
      const gx = floats.length ? tf.grads(loss)(floats) : [];
      const gw = weights.length ? Object.values(tf.variableGrads(() => loss(...floats), weights).grads) : [];
      return [...gx, ...gw].map((g) => Array.from(g.dataSync()));
    });
    return { kernels, grads };
  } finally {
    engine.runKernel = original;
  }
}

describe('audit: the kernels the gradients of tf.layers need are all registered for wasm', () => {
  test('the table covers every layer tf.layers exports', () => {
    const exported = Object.keys(tf.layers).filter((k) => !NOT_LAYERS.has(k)).map((k) => ALIASES[k] ?? k);
    const missing = [...new Set(exported)].filter((k) => !(k in LAYER_CASES));
    assert.deepEqual(missing, [], 'layers tf.layers exports that this audit does not build');
  });

  const needed = new Map<string, string>();

  test('every layer (float inputs and weights, trained): kernels traced on cpu exist for wasm, and wasm computes the same gradients', async () => {
    const problems: string[] = [];
    for (const [name, cases] of Object.entries(LAYER_CASES)) {
      for (const [i, c] of cases.entries()) {
        await tf.setBackend('cpu');
        const where = `${name} #${i}`;
        const layers = c.layers();
        const rng = makeRng(i + name.length);
        const values = Array.from({ length: c.input.reduce((a, b) => a * b, 1) }, () => (c.int ? Math.floor(rng() * c.int) : rng() * 2 - 1));
        const x = tf.tensor(values, c.input, c.int ? 'int32' : 'float32');
        const apply = ([t]: tf.Tensor[]) => layers.reduce((h, l) => l.apply(h, { training: true }) as tf.Tensor, t);
        let cpu: ReturnType<typeof traceGradients>;
        let weights: tf.Variable[];
        try {
          tf.tidy(() => apply([x])); // builds the weights, on cpu
          weights = layers.flatMap((l) => l.trainableWeights.map((w) => w.read() as tf.Variable));
          cpu = traceGradients(apply, [x], weights, c.forwardOnly);
        } catch (e) {
          throw new Error(`${where} on cpu: ${e instanceof Error ? e.message : e}`);
        }
        for (const k of cpu.kernels) if (!needed.has(k)) needed.set(k, `${name} #${i}`);
        await tf.setBackend('wasm');
        try {
          const wasm = traceGradients(apply, [x], weights, c.forwardOnly);
          if (!c.random) {
            cpu.grads.forEach((g, j) => {
              const scale = Math.max(1e-3, ...g.map(Math.abs));
              const worst = Math.max(0, ...g.map((v, k) => Math.abs(v - wasm.grads[j][k])));
              if (!(worst <= 1e-4 * scale)) problems.push(`${name} #${i}: gradient ${j} differs by ${worst} (scale ${scale})`);
            });
          }
        } catch (e) {
          problems.push(`${name} #${i}: ${e instanceof Error ? e.message : e}`);
        }
        x.dispose();
        layers.forEach((l) => l.dispose());
      }
    }
    for (const [name, make, a, b] of MERGE) {
      await tf.setBackend('cpu');
      const layer = make();
      const xs = [tf.randomNormal(a, 0, 1, 'float32', 1), tf.randomNormal(b, 0, 1, 'float32', 2)];
      const cpu = traceGradients((ts) => layer.apply(ts) as tf.Tensor, xs, []);
      for (const k of cpu.kernels) if (!needed.has(k)) needed.set(k, name);
      await tf.setBackend('wasm');
      try {
        traceGradients((ts) => layer.apply(ts) as tf.Tensor, xs, []);
      } catch (e) {
        problems.push(`${name}: ${e instanceof Error ? e.message : e}`);
      }
      tf.dispose(xs);
    }
    await tf.setBackend('wasm');
    const unregistered = [...needed].filter(([k]) => !tf.getKernel(k, 'wasm')).map(([k, by]) => `${k} (needed by ${by})`);
    assert.deepEqual(unregistered, [], 'kernels tf.layers gradients need that wasm lacks');
    assert.deepEqual(problems, []);
    // The four kernels the issue named are among those the layers need.
    for (const k of ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput', 'UnsortedSegmentSum']) assert.ok(needed.has(k), k);
  });

  test("every tfjs-layers loss and tfjs optimizer: the kernels of a training step (traced on cpu) exist for wasm", async () => {
    const losses = ['meanSquaredError', 'meanAbsoluteError', 'meanAbsolutePercentageError', 'meanSquaredLogarithmicError', 'squaredHinge', 'hinge', 'categoricalHinge', 'logcosh', 'categoricalCrossentropy', 'binaryCrossentropy', 'kullbackLeiblerDivergence', 'poisson', 'cosineProximity'];
    const optimizers = ['sgd', 'adam', 'adamax', 'adagrad', 'adadelta', 'rmsprop'];
    const kernels = new Map<string, string>();
    const engine = tf.engine() as unknown as { runKernel: (name: string, ...rest: unknown[]) => unknown };
    const original = engine.runKernel;
    await tf.setBackend('cpu');
    const x = tf.randomUniform([4, 3], 0.1, 0.9, 'float32', 1);
    const y = tf.randomUniform([4, 3], 0.1, 0.9, 'float32', 2);
    let current = '';
    engine.runKernel = function (this: unknown, name: string, ...rest: unknown[]) {
      if (!kernels.has(name)) kernels.set(name, current);
      return original.call(this, name, ...rest);
    };
    try {
      for (const loss of [...losses, 'sparseCategoricalCrossentropy']) {
        for (const opt of optimizers) {
          current = `${loss} with ${opt}`;
          const m = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [3], activation: 'softmax' })] });
          m.compile({ loss, optimizer: opt });
          const target = loss === 'sparseCategoricalCrossentropy' ? tf.tensor2d([[0], [2], [1], [1]]) : y;
          await m.trainOnBatch(x, target);
          if (target !== y) target.dispose();
          m.dispose();
        }
      }
    } finally {
      engine.runKernel = original;
      tf.dispose([x, y]);
      await tf.setBackend('wasm');
    }
    const unregistered = [...kernels].filter(([k]) => !tf.getKernel(k, 'wasm')).map(([k, by]) => `${k} (${by})`);
    assert.deepEqual(unregistered, []);
  });
});

describe('a kernel that is still missing', () => {
  test('the error says which operation, which backend, and what to do', () => {
    const a = tf.ones([2, 2]);
    assert.throws(
      () => tf.einsum('ij,jk->ik', a, a),
      (e: unknown) => {
        assert.ok(e instanceof KernelUnavailableError);
        assert.match(e.message, /^The wasm backend cannot run tf\.einsum \(kernel Einsum\): TensorFlow\.js has no Einsum kernel for it\. Switch to another backend \(cpu or tensorflow: in VS Code "Autoencoder Notebooks: Select Backend\.\.\.", in the headless runner --backend cpu/);
        return true;
      },
    );
    a.dispose();
  });

  test('during training it says so', () => {
    const x = tf.ones([2, 2]);
    const w = tf.variable(tf.ones([2, 2]));
    assert.throws(() => tf.variableGrads(() => tf.sum(tf.einsum('ij,jk->ik', x, w)) as tf.Scalar, [w]), /tf\.einsum \(kernel Einsum\)/);
    tf.dispose([x, w]);
  });
});
