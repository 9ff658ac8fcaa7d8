import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodeIdx, IdxError, parseIdx, readIdxFile, type IdxDtype } from '../../src/lib/data/idx';
import { tempDir } from '../fixtures/data/generate';

/** Asserts that `fn` throws an IdxError whose problem matches and whose message names the file. */
function throwsIdx(fn: () => unknown, problem: RegExp, name: string, found?: RegExp): IdxError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof IdxError, `expected an IdxError, got ${String(caught)}`);
  assert.match(caught.problem, problem);
  assert.ok(caught.message.includes(name), `message names the file: ${caught.message}`);
  assert.match(caught.message, /expected .+, found .+\. \S/, 'message says what was expected, found, and what to do');
  if (found) assert.match(caught.found, found);
  return caught;
}

describe('IDX parsing: good files', () => {
  test('uint8 images of rank 3, raw', () => {
    const values = Array.from({ length: 2 * 3 * 4 }, (_, i) => i * 10);
    const bytes = encodeIdx('uint8', [2, 3, 4], values);
    assert.deepEqual(Array.from(bytes.subarray(0, 8)), [0, 0, 0x08, 3, 0, 0, 0, 2]);
    const a = parseIdx(bytes, 'x');
    assert.equal(a.dtype, 'uint8');
    assert.deepEqual(a.shape, [2, 3, 4]);
    assert.ok(a.data instanceof Uint8Array);
    assert.deepEqual(Array.from(a.data), values);
  });

  test('gzipped data gives the same result as raw', () => {
    const bytes = encodeIdx('uint8', [5], [9, 0, 0, 3, 0]);
    const a = parseIdx(gzipSync(bytes), 'labels.gz');
    assert.deepEqual(a.shape, [5]);
    assert.deepEqual(Array.from(a.data), [9, 0, 0, 3, 0]);
  });

  const cases: Array<[IdxDtype, number[], new (n: number) => ArrayLike<number>]> = [
    ['int8', [-128, -1, 0, 127], Int8Array],
    ['int16', [-32768, -2, 258, 32767], Int16Array],
    ['int32', [-2147483648, -3, 16909060, 2147483647], Int32Array],
    ['float32', [-1.5, 0, 3.25, 2 ** 100], Float32Array],
    ['float64', [-Math.PI, 0, Number.MAX_VALUE, 1e-300], Float64Array],
  ];
  for (const [dtype, values, ctor] of cases) {
    test(`${dtype} values are decoded big-endian`, () => {
      const a = parseIdx(encodeIdx(dtype, [2, 2], values), dtype);
      assert.equal(a.dtype, dtype);
      assert.deepEqual(a.shape, [2, 2]);
      assert.ok(a.data instanceof ctor);
      assert.deepEqual(Array.from(a.data), values);
    });
  }

  test('hand-written big-endian bytes (independent of encodeIdx)', () => {
    const int16 = new Uint8Array([0, 0, 0x0b, 1, 0, 0, 0, 2, 0x01, 0x02, 0xff, 0xfe]);
    assert.deepEqual(Array.from(parseIdx(int16, 'i16').data), [258, -2]);
    const f32 = new Uint8Array([0, 0, 0x0d, 1, 0, 0, 0, 1, 0x3f, 0x80, 0, 0]);
    assert.deepEqual(Array.from(parseIdx(f32, 'f32').data), [1]);
    const i32 = new Uint8Array([0, 0, 0x0c, 2, 0, 0, 0, 1, 0, 0, 0, 1, 0x00, 0x01, 0x00, 0x00]);
    const a = parseIdx(i32, 'i32');
    assert.deepEqual(a.shape, [1, 1]);
    assert.deepEqual(Array.from(a.data), [65536]);
  });

  test('a view inside a larger buffer (non-zero byteOffset) parses correctly', () => {
    const inner = encodeIdx('int16', [3], [1, -1, 300]);
    const outer = new Uint8Array(inner.length + 7);
    outer.set(inner, 7);
    assert.deepEqual(Array.from(parseIdx(outer.subarray(7), 'sub').data), [1, -1, 300]);
  });

  test('expectations that hold are accepted', () => {
    const a = parseIdx(encodeIdx('uint8', [4, 28, 28], new Array(4 * 784).fill(1)), 'img', { dtype: 'uint8', dims: [null, 28, 28] });
    assert.deepEqual(a.shape, [4, 28, 28]);
  });

  test('readIdxFile reads raw and gzipped files', async () => {
    const dir = await tempDir();
    try {
      const bytes = encodeIdx('uint8', [3], [1, 2, 3]);
      await writeFile(join(dir.path, 'a'), bytes);
      await writeFile(join(dir.path, 'a.gz'), gzipSync(bytes));
      assert.deepEqual(Array.from((await readIdxFile(join(dir.path, 'a'))).data), [1, 2, 3]);
      assert.deepEqual(Array.from((await readIdxFile(join(dir.path, 'a.gz'))).data), [1, 2, 3]);
    } finally {
      await dir.remove();
    }
  });
});

describe('IDX parsing: bad files', () => {
  const good = encodeIdx('uint8', [2, 28, 28], new Array(2 * 784).fill(7));

  test('wrong magic: a ZIP (.npz) file', () => {
    const zip = new Uint8Array([0x50, 0x4b, 0x03, 0x04, 1, 2, 3, 4]);
    const e = throwsIdx(() => parseIdx(zip, 'mnist.npz'), /wrong magic/, 'mnist.npz', /50 4b 03 04/);
    assert.match(e.found, /ZIP/);
  });

  test('wrong magic: an HTML error page', () => {
    const html = new TextEncoder().encode('<!DOCTYPE html><html>Not found</html>');
    throwsIdx(() => parseIdx(html, 'page'), /wrong magic/, 'page', /HTML/);
  });

  test('wrong magic: empty file', () => {
    throwsIdx(() => parseIdx(new Uint8Array(0), 'empty'), /wrong magic/, 'empty', /empty/);
  });

  test('unknown element type', () => {
    const bad = good.slice();
    bad[2] = 0x07;
    throwsIdx(() => parseIdx(bad, 'f'), /unknown element type/, 'f', /0x07/);
  });

  test('wrong element type for the caller', () => {
    const ints = encodeIdx('int32', [2], [1, 2]);
    throwsIdx(() => parseIdx(ints, 'labels', { dtype: 'uint8' }), /wrong element type/, 'labels', /int32/);
  });

  test('rank 0', () => {
    throwsIdx(() => parseIdx(new Uint8Array([0, 0, 8, 0, 5]), 'r0'), /wrong rank/, 'r0', /rank 0/);
  });

  test('wrong rank for the caller (labels given where images are wanted)', () => {
    const labels = encodeIdx('uint8', [3], [1, 2, 3]);
    throwsIdx(() => parseIdx(labels, 'images?', { dtype: 'uint8', dims: [null, 28, 28] }), /wrong rank/, 'images?', /rank 1/);
  });

  test('wrong dimensions for the caller', () => {
    const small = encodeIdx('uint8', [1, 8, 8], new Array(64).fill(0));
    throwsIdx(() => parseIdx(small, 'tiny', { dims: [null, 28, 28] }), /wrong dimensions/, 'tiny', /1x8x8/);
  });

  test('header cut short', () => {
    throwsIdx(() => parseIdx(good.subarray(0, 10), 'h'), /header cut short/, 'h', /10 bytes/);
  });

  test('short data (truncated file)', () => {
    const e = throwsIdx(() => parseIdx(good.subarray(0, good.length - 5), 'short'), /data too short/, 'short', /5 missing/);
    assert.match(e.expected, /1568 bytes/);
  });

  test('trailing bytes', () => {
    const long = new Uint8Array(good.length + 3);
    long.set(good);
    throwsIdx(() => parseIdx(long, 'long'), /trailing bytes/, 'long', /3 extra/);
  });

  test('truncated gzip', () => {
    const gz = gzipSync(good);
    const e = throwsIdx(() => parseIdx(gz.subarray(0, gz.length - 10), 'cut.gz'), /gzip data ended early/, 'cut.gz');
    assert.match(e.hint, /truncated/);
  });

  test('corrupt gzip', () => {
    const gz = gzipSync(good);
    const bad = gz.slice();
    for (let i = 12; i < 40; i++) bad[i] ^= 0xff;
    throwsIdx(() => parseIdx(bad, 'bad.gz'), /gzip/, 'bad.gz');
  });

  test('readIdxFile names the path in errors, raw and gzipped', async () => {
    const dir = await tempDir();
    try {
      const raw = join(dir.path, 'short');
      const gz = join(dir.path, 'cut.gz');
      await writeFile(raw, good.subarray(0, 100));
      const zipped = gzipSync(good);
      await writeFile(gz, zipped.subarray(0, zipped.length >> 1));
      await assert.rejects(readIdxFile(raw), (e: unknown) => e instanceof IdxError && e.file === raw && /data too short/.test(e.message));
      await assert.rejects(readIdxFile(gz), (e: unknown) => e instanceof IdxError && e.file === gz && /gzip data ended early/.test(e.message));
    } finally {
      await dir.remove();
    }
  });
});
