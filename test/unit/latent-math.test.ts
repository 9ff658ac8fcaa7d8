// The latent-space math: PCA (against an exact case, an independent power
// iteration and numpy's LAPACK), its inverse, nearest-code blending, UMAP
// through umap-js, and the dense decoder that runs in the renderer (against
// TensorFlow.js's own decode).
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/lib/backend';
import { Autoencoder, StackedAutoencoder } from '../../src/lib/models';
import { fullEigenpairs, latentModel, pca2d, topEigenpairs, umap2d, UmapStopped } from '../../src/lib/latent';
import { blendNearest, extent, interpolateCodes, nearestPoints, pcaInverse, pcaProject, toPixels } from '../../src/outputs/latent/inverse';
import { DenseDecoder, checkDenseDecoderSpec } from '../../src/outputs/latent/dense';
import { denseDecoderSpec } from '../../src/outputs/latent/kernel-decoder';
import { mulberry32 } from '../../src/lib/random';

before(async () => {
  await initBackend('wasm');
});

function gauss(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

/** A random orthonormal d x d matrix (Gram-Schmidt of a Gaussian one), rows are the axes. */
function orthonormal(d: number, r: () => number): number[][] {
  const rows: number[][] = [];
  while (rows.length < d) {
    const v = Array.from({ length: d }, () => gauss(r));
    for (const u of rows) {
      const dot = v.reduce((s, x, i) => s + x * u[i], 0);
      for (let i = 0; i < d; i++) v[i] -= dot * u[i];
    }
    const norm = Math.hypot(...v);
    rows.push(v.map((x) => x / norm));
  }
  return rows;
}

/** Covariance (n - 1) in float64, and top eigenpairs by power iteration with deflation: a reference independent of ml-pca. */
function referencePca(codes: Float32Array, n: number, d: number, k: number): { values: number[]; vectors: number[][]; trace: number } {
  const mean = new Array(d).fill(0);
  for (let r = 0; r < n; r++) for (let i = 0; i < d; i++) mean[i] += codes[r * d + i] / n;
  const c = Array.from({ length: d }, () => new Array(d).fill(0));
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < d; i++) {
      const a = codes[r * d + i] - mean[i];
      for (let j = 0; j < d; j++) c[i][j] += (a * (codes[r * d + j] - mean[j])) / (n - 1);
    }
  }
  const trace = c.reduce((s, row, i) => s + row[i], 0);
  const values: number[] = [];
  const vectors: number[][] = [];
  const r = mulberry32(99);
  for (let e = 0; e < k; e++) {
    let v = Array.from({ length: d }, () => gauss(r));
    let lambda = 0;
    for (let it = 0; it < 5000; it++) {
      const w = c.map((row) => row.reduce((s, x, j) => s + x * v[j], 0));
      const norm = Math.hypot(...w);
      const next = w.map((x) => x / norm);
      const delta = Math.hypot(...next.map((x, i) => x - v[i]));
      v = next;
      lambda = norm;
      if (delta < 1e-13) break;
    }
    values.push(lambda);
    vectors.push(v);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) c[i][j] -= lambda * v[i] * v[j];
  }
  return { values, vectors, trace };
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

describe('PCA of latent codes', () => {
  test('an exact case: a rotated 2^4 design has known variances and axes', () => {
    const sigma = [3, 2, 1, 0.5];
    const d = 4;
    const R = orthonormal(d, mulberry32(3));
    const shift = [0.7, -1.2, 2.5, 0.1];
    const n = 16;
    const codes = new Float32Array(n * d);
    for (let r = 0; r < n; r++) {
      const s = sigma.map((sg, i) => ((r >> i) & 1 ? sg : -sg));
      for (let j = 0; j < d; j++) codes[r * d + j] = shift[j] + s.reduce((acc, v, i) => acc + v * R[i][j], 0);
    }
    const p = pca2d(codes, n, d);
    const total = sigma.reduce((a, b) => a + b * b, 0);
    assert.ok(Math.abs(p.explained[0] - 9 / total) < 1e-6, `PC1 explains ${p.explained[0]}, expected ${9 / total}`);
    assert.ok(Math.abs(p.explained[1] - 4 / total) < 1e-6, `PC2 explains ${p.explained[1]}, expected ${4 / total}`);
    // sample variance with n - 1: sum of sigma^2 * n / (n - 1)
    assert.ok(Math.abs(p.totalVariance - (total * n) / (n - 1)) < 1e-4, `total variance ${p.totalVariance}`);
    for (let c = 0; c < 2; c++) {
      const comp = p.components.subarray(c * d, (c + 1) * d);
      assert.ok(Math.abs(Math.abs(dot(comp, R[c])) - 1) < 1e-5, `PC${c + 1} is the axis of sigma ${sigma[c]}`);
      assert.ok(Math.abs(Math.hypot(...comp) - 1) < 1e-6, 'unit length');
    }
    for (let i = 0; i < d; i++) assert.ok(Math.abs(p.mean[i] - shift[i]) < 1e-5);
    // the points are the projections
    for (let r = 0; r < n; r++) {
      const [x, y] = pcaProject(codes.subarray(r * d, (r + 1) * d), p.mean, p.components);
      assert.ok(Math.abs(x - p.points[2 * r]) < 1e-5 && Math.abs(y - p.points[2 * r + 1]) < 1e-5);
      assert.ok(Math.abs(Math.abs(x) - 3) < 1e-4, 'PC1 coordinates are +-3');
    }
  });

  test('agrees with an independent power iteration on correlated 64-D codes', () => {
    const n = 600;
    const d = 64;
    const r = mulberry32(11);
    const mix = Array.from({ length: 8 }, () => Array.from({ length: d }, () => gauss(r)));
    const codes = new Float32Array(n * d);
    for (let k = 0; k < n; k++) {
      const f = mix.map((_, i) => gauss(r) * (8 - i));
      for (let j = 0; j < d; j++) codes[k * d + j] = f.reduce((s, v, i) => s + v * mix[i][j], 0) + 0.3 * gauss(r) + 1;
    }
    const p = pca2d(codes, n, d);
    const ref = referencePca(codes, n, d, 2);
    assert.ok(Math.abs(p.totalVariance - ref.trace) / ref.trace < 1e-6, `total variance ${p.totalVariance} vs ${ref.trace}`);
    for (let c = 0; c < 2; c++) {
      assert.ok(Math.abs(p.explained[c] - ref.values[c] / ref.trace) < 1e-6, `PC${c + 1}: ${p.explained[c]} vs ${ref.values[c] / ref.trace}`);
      assert.ok(Math.abs(Math.abs(dot(p.components.subarray(c * d, (c + 1) * d), ref.vectors[c])) - 1) < 1e-6);
    }
    assert.ok(p.explained[0] >= p.explained[1]);
  });

  test('wide codes (392-D, as a conv model with a 7x7x8 code): the top axes by subspace iteration equal the full decomposition', () => {
    const n = 1200;
    const d = 392;
    const r = mulberry32(21);
    const codes = new Float32Array(n * d);
    // A spectrum that decays as a trained code's does, plus a flat floor, and an offset.
    for (let k = 0; k < n; k++) for (let j = 0; j < d; j++) codes[k * d + j] = gauss(r) / Math.sqrt(1 + j) + 0.05 * gauss(r) + (j % 5) * 0.2;
    const p = pca2d(codes, n, d);
    const ref = referencePca(codes, n, d, 2);
    assert.ok(Math.abs(p.totalVariance - ref.trace) / ref.trace < 1e-6, `total variance ${p.totalVariance} vs ${ref.trace}`);
    for (let c = 0; c < 2; c++) {
      assert.ok(Math.abs(p.explained[c] - ref.values[c] / ref.trace) < 1e-6, `PC${c + 1}: ${p.explained[c]} vs ${ref.values[c] / ref.trace}`);
      assert.ok(Math.abs(Math.abs(dot(p.components.subarray(c * d, (c + 1) * d), ref.vectors[c])) - 1) < 1e-6, `PC${c + 1} direction`);
    }
    // The same covariance through both decompositions.
    const cov = new Float64Array(d * d);
    const mean = new Float64Array(d);
    for (let k = 0; k < n; k++) for (let j = 0; j < d; j++) mean[j] += codes[k * d + j] / n;
    for (let k = 0; k < n; k++)
      for (let i = 0; i < d; i++) {
        const a = codes[k * d + i] - mean[i];
        for (let j = 0; j < d; j++) cov[i * d + j] += (a * (codes[k * d + j] - mean[j])) / (n - 1);
      }
    const top = topEigenpairs(cov, d);
    assert.ok(top, 'the subspace iteration converges on this spectrum');
    const full = fullEigenpairs(cov, d);
    for (let c = 0; c < 2; c++) {
      assert.ok(Math.abs(top.values[c] - full.values[c]) <= 1e-9 * full.values[0], `eigenvalue ${c}: ${top.values[c]} vs ${full.values[c]}`);
      let overlap = 0;
      for (let i = 0; i < d; i++) overlap += top.vectors[c][i] * full.vectors[c][i];
      assert.ok(Math.abs(Math.abs(overlap) - 1) < 1e-9, `eigenvector ${c}: |overlap| ${Math.abs(overlap)}`);
    }
  });

  test('the subspace iteration gives up (and the full decomposition answers) when the second axis is not defined', () => {
    // Identity covariance: every direction is an axis; no top-2 subspace to converge to.
    const d = 120;
    const cov = new Float64Array(d * d);
    for (let i = 0; i < d; i++) cov[i * d + i] = 1;
    const top = topEigenpairs(cov, d);
    if (top) for (const v of top.values) assert.ok(Math.abs(v - 1) < 1e-12);
    const codes = new Float32Array(400 * d);
    const r = mulberry32(4);
    for (let i = 0; i < codes.length; i++) codes[i] = gauss(r);
    const p = pca2d(codes, 400, d);
    assert.ok(p.explained[0] >= p.explained[1] && p.explained[1] > 0);
    assert.ok(Math.abs(p.explained[0] + p.explained[1] - (p.eigenvalues[0] + p.eigenvalues[1]) / p.totalVariance) < 1e-12);
  });

  test("agrees with numpy's eigh (LAPACK) on a stored reference", () => {
    const file = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'latent', 'pca-reference.json');
    const ref = JSON.parse(readFileSync(file, 'utf8')) as { n: number; d: number; codes: number[]; explained: number[]; components: number[][]; totalVariance: number };
    const codes = new Float32Array(ref.codes);
    const p = pca2d(codes, ref.n, ref.d);
    for (let c = 0; c < 2; c++) {
      assert.ok(Math.abs(p.explained[c] - ref.explained[c]) < 1e-6, `PC${c + 1}: ${p.explained[c]} vs numpy ${ref.explained[c]}`);
      assert.ok(Math.abs(Math.abs(dot(p.components.subarray(c * ref.d, (c + 1) * ref.d), ref.components[c])) - 1) < 1e-6);
    }
    assert.ok(Math.abs(p.totalVariance - ref.totalVariance) / ref.totalVariance < 1e-6);
  });

  test('axes keep their direction from one map to the next; otherwise the largest entry is positive', () => {
    const n = 200;
    const d = 6;
    const r = mulberry32(5);
    const codes = new Float32Array(n * d).map(() => gauss(r));
    for (let k = 0; k < n; k++) codes[k * d] *= 4;
    const a = pca2d(codes, n, d);
    for (let c = 0; c < 2; c++) {
      const comp = Array.from(a.components.subarray(c * d, (c + 1) * d));
      const big = comp.reduce((m, v) => (Math.abs(v) > Math.abs(m) ? v : m), 0);
      assert.ok(big > 0);
    }
    const flipped = new Float32Array(a.components).map((v) => -v);
    const b = pca2d(codes, n, d, flipped);
    for (let i = 0; i < a.components.length; i++) assert.ok(Math.abs(b.components[i] + a.components[i]) < 1e-6);
    for (let i = 0; i < a.points.length; i++) assert.ok(Math.abs(b.points[i] + a.points[i]) < 1e-4);
  });

  test('the inverse maps a point of the map to a code that projects back onto it', () => {
    const n = 300;
    const d = 16;
    const r = mulberry32(8);
    const codes = new Float32Array(n * d).map(() => gauss(r) * 2);
    const p = pca2d(codes, n, d);
    for (let t = 0; t < 50; t++) {
      const x = gauss(r) * 3;
      const y = gauss(r) * 3;
      const z = pcaInverse(x, y, p.mean, p.components);
      const [x2, y2] = pcaProject(z, p.mean, p.components);
      assert.ok(Math.abs(x2 - x) < 1e-5 && Math.abs(y2 - y) < 1e-5, `(${x}, ${y}) -> (${x2}, ${y2})`);
    }
    // a code lands on its orthogonal projection onto the plane of PC1 and PC2
    const code = codes.subarray(0, d);
    const back = pcaInverse(p.points[0], p.points[1], p.mean, p.components);
    const residual = Array.from(code, (v, i) => v - back[i]);
    for (let c = 0; c < 2; c++) assert.ok(Math.abs(dot(residual, p.components.subarray(c * d, (c + 1) * d))) < 1e-5);
  });
});

describe('nearest codes, blending, interpolation', () => {
  const r = mulberry32(21);
  const count = 2000;
  const points = new Float32Array(2 * count).map(() => gauss(r));

  test('nearestPoints returns the k nearest, nearest first (checked against a full sort)', () => {
    for (let t = 0; t < 20; t++) {
      const x = gauss(r);
      const y = gauss(r);
      const got = nearestPoints(points, count, x, y, 7);
      const all = Array.from({ length: count }, (_, i) => ({ i, d: (points[2 * i] - x) ** 2 + (points[2 * i + 1] - y) ** 2 })).sort((a, b) => a.d - b.d);
      assert.deepEqual(got.index, all.slice(0, 7).map((e) => e.i));
      for (let k = 1; k < got.dist2.length; k++) assert.ok(got.dist2[k] >= got.dist2[k - 1]);
    }
    assert.deepEqual(nearestPoints(points, count, 0, 0, 0).index, []);
    assert.equal(nearestPoints(points, 3, 0, 0, 10).index.length, 3);
    const skipEven = nearestPoints(points, count, 0, 0, 5, (i) => i % 2 === 0);
    assert.ok(skipEven.index.every((i) => i % 2 === 1));
  });

  test("blendNearest: on a point it is that point's code; elsewhere weights sum to 1 and favour the nearest", () => {
    const dim = 3;
    const pts = new Float32Array([0, 0, 10, 0, 0, 10, 10, 10]);
    const codes = new Float32Array([1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1]);
    const on = blendNearest(10, 0, pts, codes, 4, dim, 3, 10);
    assert.deepEqual(Array.from(on.code), [0, 1, 0]);
    assert.deepEqual(on.weights, [1]);
    const mid = blendNearest(5, 0, pts, codes, 4, dim, 2, 10);
    assert.ok(Math.abs(mid.code[0] - 0.5) < 1e-6 && Math.abs(mid.code[1] - 0.5) < 1e-6, `halfway: ${Array.from(mid.code)}`);
    const near = blendNearest(1, 1, pts, codes, 4, dim, 4, 10);
    assert.ok(Math.abs(near.weights.reduce((a, b) => a + b, 0) - 1) < 1e-12);
    assert.equal(near.index[0], 0);
    assert.ok(near.weights[0] > 0.9, `the nearest code dominates: ${near.weights}`);
  });

  test('interpolateCodes includes both ends; toPixels clamps and scales; extent pads a flat axis', () => {
    const strip = interpolateCodes([0, 10], [10, 0], 11);
    assert.equal(strip.length, 11);
    assert.deepEqual(Array.from(strip[0]), [0, 10]);
    assert.deepEqual(Array.from(strip[10]), [10, 0]);
    assert.deepEqual(Array.from(strip[5]), [5, 5]);
    assert.deepEqual(Array.from(toPixels([-0.5, 0, 0.5, 1, 2, NaN])), [0, 0, 128, 255, 255, 0]);
    assert.deepEqual(Array.from(toPixels([0, 127.5, 255], [0, 255])), [0, 128, 255]);
    assert.deepEqual(extent(new Float32Array([1, 2, 1, 5]), 2), [0.5, 1.5, 2, 5]);
  });
});

describe('UMAP through umap-js', () => {
  test('separates three clusters, reports progress, and stops when asked', async () => {
    const r = mulberry32(4);
    const d = 16;
    const per = 60;
    const n = 3 * per;
    const centers = Array.from({ length: 3 }, () => Array.from({ length: d }, () => gauss(r) * 6));
    const codes = new Float32Array(n * d);
    const labels: number[] = [];
    for (let k = 0; k < n; k++) {
      const c = k % 3;
      labels.push(c);
      for (let j = 0; j < d; j++) codes[k * d + j] = centers[c][j] + gauss(r);
    }
    const progress: [number, number, string][] = [];
    const u = await umap2d(codes, n, d, { seed: 1, onProgress: (a, b, phase) => progress.push([a, b, phase]) });
    assert.equal(u.points.length, 2 * n);
    assert.ok(u.points.every(Number.isFinite));
    // 1-nearest-neighbour in the map has the same cluster
    let same = 0;
    for (let k = 0; k < n; k++) {
      const nn = nearestPoints(u.points, n, u.points[2 * k], u.points[2 * k + 1], 1, (i) => i === k).index[0];
      if (labels[nn] === labels[k]) same++;
    }
    assert.ok(same / n > 0.97, `cluster purity ${same / n}`);
    assert.equal(progress[0][2], 'neighbors');
    const phases = progress.map((q) => q[2]).filter((ph, i, all) => ph !== all[i - 1]);
    assert.deepEqual(phases, ['neighbors', 'graph', 'layout'], 'the graph phase is announced between the neighbours and the layout');
    const last = progress[progress.length - 1];
    assert.equal(last[0], last[1], 'progress reaches the total');
    assert.ok(last[1] >= 100, `epochs ${last[1]}`);
    let calls = 0;
    await assert.rejects(umap2d(codes, n, d, { shouldStop: () => ++calls > 1 }), UmapStopped);
  });
});

describe('the decoder as dense layers, decoded outside TensorFlow.js', () => {
  async function compare(decoder: tf.LayersModel, latentDim: number, scale = 3): Promise<number> {
    const found = denseDecoderSpec(decoder);
    assert.ok('spec' in found, 'reason' in found ? found.reason : '');
    const dec = new DenseDecoder(found.spec);
    const r = mulberry32(12);
    const z = new Float32Array(32 * latentDim).map(() => gauss(r) * scale);
    const ref = tf.tidy(() => (decoder.predict(tf.tensor2d(z, [32, latentDim])) as tf.Tensor).dataSync() as Float32Array);
    const ours = dec.decodeMany(z, 32);
    assert.equal(ours.length, ref.length);
    let worst = 0;
    for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(ours[i] - ref[i]));
    return worst;
  }

  test("the vanilla seed's decoder (dense + sigmoid, reshape) within 1e-5", async () => {
    const ae = new Autoencoder({ inputShape: [28, 28], latentDim: 64, seed: 3 });
    const worst = await compare(ae.decoder, 64);
    assert.ok(worst < 1e-5, `max difference ${worst}`);
  });

  test("the stacked seed's tied decoder (TransposedDense, LeakyReLU) within 1e-5", async () => {
    const sae = new StackedAutoencoder({ inputShape: [28, 28], layers: [64, 36], seed: 3 });
    const found = denseDecoderSpec(sae.decoder);
    assert.ok('spec' in found);
    assert.deepEqual(found.spec.layers.map((l) => [l.inputs, l.outputs, l.activation, l.alpha]), [[36, 64, 'leakyRelu', 0.2], [64, 784, 'sigmoid', undefined]]);
    const worst = await compare(sae.decoder, 36);
    assert.ok(worst < 1e-5, `max difference ${worst}`);
  });

  test('tfjs sequential decoders with every supported activation and pass-through layers', async () => {
    for (const act of ['linear', 'relu', 'relu6', 'elu', 'selu', 'sigmoid', 'hardSigmoid', 'tanh', 'softplus', 'softsign', 'swish'] as const) {
      const dec = tf.sequential({
        layers: [
          tf.layers.dense({ units: 24, inputShape: [5], activation: act }),
          tf.layers.dropout({ rate: 0.3 }),
          tf.layers.dense({ units: 30, useBias: false }),
          tf.layers.leakyReLU({ alpha: 0.1 }),
          tf.layers.dense({ units: 16 }),
          tf.layers.activation({ activation: act }),
          tf.layers.reLU(),
          tf.layers.dense({ units: 16, activation: 'sigmoid' }),
          tf.layers.reshape({ targetShape: [4, 4] }),
        ],
      });
      const worst = await compare(dec, 5, 2);
      assert.ok(worst < 1e-5, `${act}: max difference ${worst}`);
      dec.dispose();
    }
  });

  test('a functional chain works too; a decoder that is not dense says which layer', () => {
    const inp = tf.input({ shape: [4] });
    const out = tf.layers.dense({ units: 9, activation: 'sigmoid' }).apply(tf.layers.dense({ units: 8, activation: 'relu' }).apply(inp)) as tf.SymbolicTensor;
    const chain = tf.model({ inputs: inp, outputs: out });
    assert.ok('spec' in denseDecoderSpec(chain));
    const conv = tf.sequential({
      layers: [
        tf.layers.dense({ units: 7 * 7 * 4, inputShape: [8], activation: 'relu' }),
        tf.layers.reshape({ targetShape: [7, 7, 4] }),
        tf.layers.conv2dTranspose({ filters: 1, kernelSize: 3, strides: 4, padding: 'same', activation: 'sigmoid', name: 'up' }),
      ],
    });
    const found = denseDecoderSpec(conv);
    assert.ok('reason' in found);
    assert.match(found.reason, /layer up \(Conv2DTranspose\) is not a dense layer/);
    const softmax = tf.sequential({ layers: [tf.layers.dense({ units: 10, inputShape: [3], activation: 'softmax', name: 'probs' })] });
    const s = denseDecoderSpec(softmax);
    assert.ok('reason' in s && /probs \(Dense\) uses the activation softmax/.test(s.reason));
    const big = tf.sequential({ layers: [tf.layers.dense({ units: 784, inputShape: [2000] })] });
    const b = denseDecoderSpec(big);
    assert.ok('reason' in b && /too many to travel/.test(b.reason), JSON.stringify(b));
    for (const m of [chain, conv, softmax, big]) m.dispose();
  });

  test('a malformed decoder description is refused with the reason', () => {
    assert.match(checkDenseDecoderSpec({}) ?? '', /layers/);
    assert.match(checkDenseDecoderSpec({ layers: [] }) ?? '', /no layers/);
    assert.match(checkDenseDecoderSpec({ layers: [{ type: 'dense', inputs: 2, outputs: 3, kernel: 'AAAA', activation: 'relu' }] }) ?? '', /kernel must be base64 Float32 \[2, 3\]/);
    assert.match(checkDenseDecoderSpec({ layers: [{ type: 'activation', inputs: 2, outputs: 2, activation: 'gelu' }] }) ?? '', /activation "gelu" is not supported/);
    assert.match(
      checkDenseDecoderSpec({ layers: [{ type: 'activation', inputs: 2, outputs: 2, activation: 'relu' }, { type: 'activation', inputs: 3, outputs: 3, activation: 'relu' }] }) ?? '',
      /layers\[1\] takes 3 inputs but layers\[0\] makes 2/,
    );
    assert.throws(() => new DenseDecoder({ layers: [] }), /decoder has no layers/);
  });

  test('latentModel finds the halves of our models, nested tfjs models and { encoder, decoder }', () => {
    const ae = new Autoencoder({ inputShape: [28, 28], latentDim: 8, seed: 1 });
    const m = latentModel(ae, 'test: model');
    assert.equal(m.latentDim, 8);
    assert.deepEqual(m.outputShape, [28, 28]);
    const enc = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [28, 28] }), tf.layers.dense({ units: 3 })] });
    const dec = tf.sequential({ layers: [tf.layers.dense({ units: 784, inputShape: [3], activation: 'sigmoid' }), tf.layers.reshape({ targetShape: [28, 28] })] });
    const nested = tf.sequential({ layers: [enc, dec] });
    assert.equal(latentModel(nested, 'test: model').latentDim, 3);
    assert.equal(latentModel({ encoder: enc, decoder: dec }, 'test: model').latentDim, 3);
    const z = tf.tidy(() => latentModel({ encoder: enc, decoder: dec }, 'x').encode(tf.zeros([2, 784])).shape);
    assert.deepEqual(z, [2, 3], 'flat inputs are reshaped for the encoder');
    const plain = tf.sequential({ layers: [tf.layers.dense({ units: 4, inputShape: [4] })] });
    assert.throws(() => latentModel(plain, 'show.latent: model'), /show\.latent: model: the tfjs model "sequential_\d+" has no separate encoder/);
    assert.throws(() => latentModel(undefined, 'show.latent: model'), /show\.latent: model: it is undefined/);
    const oneD = new Autoencoder({ inputShape: [6], latentDim: 1 });
    assert.throws(() => latentModel(oneD, 'show.latent: model'), /show\.latent: model: the latent space is 1-D/);
  });
});
