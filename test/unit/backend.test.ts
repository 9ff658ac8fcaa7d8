import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend, findWasmDir, activeBackend } from '../../src/lib/backend';
import { installWasmMatMulFix } from '../../src/lib/wasm-kernels';

test('cpu backend starts when asked for', async () => {
  const info = await initBackend('cpu');
  assert.equal(info.name, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  assert.equal(info.fellBack, false);
  assert.match(info.reason, /CPU/);
});

test('wasm backend starts with SIMD and finds its binaries', async () => {
  const info = await initBackend('wasm');
  assert.equal(info.name, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.equal(info.simd, true);
  assert.ok(info.wasmDir && info.wasmDir.length > 0);
  assert.deepEqual(activeBackend(), info);
  const y = tf.tidy(() => tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).dataSync()[0]);
  assert.equal(y, 11);
});

test('auto prefers tfjs-node, reports why it is not used here, and runs wasm', async () => {
  const info = await initBackend('auto');
  const tfAttempt = info.attempts.find((a) => a.backend === 'tensorflow');
  assert.ok(tfAttempt, 'auto must try tfjs-node first');
  if (tfAttempt.ok) {
    assert.equal(info.name, 'tensorflow');
  } else {
    assert.equal(info.name, 'wasm');
    assert.match(info.reason, /tensorflow unavailable/);
    assert.match(tfAttempt.error ?? '', /tfjs-node/);
    assert.equal(info.fellBack, false, 'auto falling through is not a fallback from a request');
  }
});

test('an explicit tensorflow request that cannot be met falls back and says so', async (t) => {
  const info = await initBackend('tensorflow');
  if (info.name === 'tensorflow') return t.skip('tfjs-node is installed on this machine');
  assert.equal(info.fellBack, true);
  assert.equal(info.requested, 'tensorflow');
  assert.match(info.reason, /tensorflow unavailable/);
});

test('an unknown backend name is refused with the valid choices', async () => {
  await assert.rejects(initBackend('gpu' as never), /Unknown backend "gpu": choose one of auto, tensorflow, wasm, cpu/);
});

test('findWasmDir gives a clear error when the binaries are nowhere', () => {
  const saved = process.env.AENB_WASM_DIR;
  try {
    process.env.AENB_WASM_DIR = '/nonexistent-wasm-dir';
    // The explicit and env folders are wrong, but the package copy is still found.
    assert.ok(findWasmDir('/also-missing').length > 0);
  } finally {
    if (saved === undefined) delete process.env.AENB_WASM_DIR;
    else process.env.AENB_WASM_DIR = saved;
  }
});

test('wasm matMul fix: transposed products equal explicit transposes bit for bit, and match the cpu backend', async () => {
  await initBackend('wasm');
  installWasmMatMulFix();
  const a = tf.randomUniform([64, 96], -1, 1, 'float32', 1);
  const b = tf.randomUniform([64, 40], -1, 1, 'float32', 2);
  const c = tf.randomUniform([96, 40], -1, 1, 'float32', 3);
  const batched = tf.randomUniform([3, 20, 30], -1, 1, 'float32', 4);
  const batchedB = tf.randomUniform([3, 20, 25], -1, 1, 'float32', 5);
  const cases: [string, () => tf.Tensor, () => tf.Tensor][] = [
    ['transposeA', () => tf.matMul(a, b, true, false), () => tf.matMul(tf.transpose(a), b)],
    ['transposeB', () => tf.matMul(b, c, false, true), () => tf.matMul(b, tf.transpose(c))],
    ['both', () => tf.matMul(c, a, true, true), () => tf.matMul(tf.transpose(c), tf.transpose(a))],
    ['batched transposeA', () => tf.matMul(batched, batchedB, true, false), () => tf.matMul(tf.transpose(batched, [0, 2, 1]), batchedB)],
    [
      'fused with bias + relu, transposeB',
      () => tf.fused.matMul({ a: b, b: c, transposeB: true, bias: tf.ones([96]), activation: 'relu' }),
      () => tf.fused.matMul({ a: b, b: tf.transpose(c), bias: tf.ones([96]), activation: 'relu' }),
    ],
  ];
  const wasmResults: Float32Array[] = [];
  for (const [name, fixed, explicit] of cases) {
    const got = tf.tidy(() => fixed().dataSync() as Float32Array);
    const want = tf.tidy(() => explicit().dataSync() as Float32Array);
    assert.equal(got.length, want.length, name);
    assert.deepEqual(Array.from(got), Array.from(want), `${name}: not identical to the explicit transpose`);
    wasmResults.push(got);
  }
  // The same products on the reference CPU backend agree within float32 rounding.
  const inputs = [a, b, c, batched, batchedB].map((t) => ({ shape: t.shape, data: t.dataSync().slice() }));
  await initBackend('cpu');
  const [a2, b2, c2, batched2, batchedB2] = inputs.map((i) => tf.tensor(i.data, i.shape));
  const cpu = [
    tf.matMul(a2, b2, true, false),
    tf.matMul(b2, c2, false, true),
    tf.matMul(c2, a2, true, true),
    tf.matMul(batched2, batchedB2, true, false),
    tf.relu(tf.add(tf.matMul(b2, c2, false, true), tf.ones([96]))),
  ].map((t) => Array.from(t.dataSync()));
  cpu.forEach((values, i) => {
    const maxDiff = values.reduce((m, v, j) => Math.max(m, Math.abs(v - wasmResults[i][j])), 0);
    assert.ok(maxDiff < 1e-4, `case ${cases[i][0]}: wasm and cpu differ by ${maxDiff}`);
  });
});

test('wasm matMul fix: dense-layer gradients are unchanged and nothing leaks', async () => {
  await initBackend('wasm');
  const x = tf.randomUniform([32, 50], 0, 1, 'float32', 7);
  const w = tf.randomUniform([50, 20], -0.1, 0.1, 'float32', 8);
  const before = tf.memory().numTensors;
  const [gx, gw] = tf.tidy(() => {
    const g = tf.grads((xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.sigmoid(tf.matMul(xx, ww))));
    return g([x, w]).map((t) => t.dataSync().slice());
  });
  assert.equal(tf.memory().numTensors, before, 'tensors leaked');
  // Closed-form gradients: dX = G·Wᵀ, dW = Xᵀ·G with G = s(1-s), computed with explicit transposes.
  const [ex, ew] = tf.tidy(() => {
    const s = tf.sigmoid(tf.matMul(x, w));
    const G = tf.mul(s, tf.sub(1, s));
    return [tf.matMul(G, tf.transpose(w)).dataSync().slice(), tf.matMul(tf.transpose(x), G).dataSync().slice()];
  });
  const close = (p: Float32Array | Uint8Array | Int32Array, q: Float32Array | Uint8Array | Int32Array) =>
    p.every((v, i) => Math.abs(v - q[i]) < 1e-6);
  assert.ok(close(gx, ex), 'dX differs');
  assert.ok(close(gw, ew), 'dW differs');
});
