/**
 * Every WebAssembly module compiled from C (the targets of
 * scripts/build-wasm.mjs: the C kernels for the backend's heap and for the
 * engine's shared memory, the engine's SIMD and FMA builds) is the one built
 * from its source and flags as they are now, is the copy the bundles embed,
 * imports nothing but its memory, and writes nothing into that memory when
 * instantiated (no data segment).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { engineBinary } from '../../src/lib/engine/kernels';
import { cKernelsBytes, cKernelsSharedBytes } from '../../src/lib/wasm/kernels';

const root = path.join(__dirname, '..', '..', '..');

interface Target { source: string; output: string; flags: string }

const targets = JSON.parse(execFileSync(process.execPath, [path.join(root, 'scripts', 'build-wasm.mjs'), '--list'], { encoding: 'utf8' })) as Target[];

/** [section id, payload] of each section. */
function sections(bytes: Uint8Array): [number, Uint8Array][] {
  const out: [number, Uint8Array][] = [];
  for (let i = 8; i < bytes.length; ) {
    const id = bytes[i++];
    let size = 0;
    for (let shift = 0; ; shift += 7) {
      const b = bytes[i++];
      size += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) break;
    }
    out.push([id, bytes.subarray(i, i + size)]);
    i += size;
  }
  return out;
}

/** The JSON of the custom section "aenb-build" (read from the bytes: compiling the FMA build needs relaxed SIMD). */
function buildRecord(bytes: Uint8Array): { source: string; flags: string; sha256: string } | undefined {
  for (const [id, payload] of sections(bytes)) {
    if (id !== 0) continue;
    const nameLength = payload[0]; // < 128: one byte of LEB128
    const name = new TextDecoder().decode(payload.subarray(1, 1 + nameLength));
    if (name === 'aenb-build') return JSON.parse(new TextDecoder().decode(payload.subarray(1 + nameLength)));
  }
  return undefined;
}

describe('the modules compiled from C (scripts/build-wasm.mjs)', () => {
  test('the list of targets covers every C source', () => {
    assert.deepEqual([...new Set(targets.map((t) => t.source))].sort(), ['src/lib/engine/native/engine.c', 'src/lib/wasm/kernels.c']);
    assert.equal(targets.length, 4);
  });

  for (const t of targets) {
    test(`${t.output} is built from ${t.source} and the flags as they are now (else: npm run build:wasm)`, () => {
      const bytes = readFileSync(path.join(root, t.output));
      const record = buildRecord(bytes);
      assert.ok(record, 'the build record section');
      assert.equal(record.source, t.source);
      assert.equal(record.flags, t.flags, `the flags of ${t.output} changed in scripts/build-wasm.mjs: run npm run build:wasm`);
      const source = readFileSync(path.join(root, t.source));
      const sha256 = createHash('sha256').update(t.flags).update('\n').update(source).digest('hex');
      assert.equal(record.sha256, sha256, `${t.source} changed since ${t.output} was built: run npm run build:wasm`);
    });

    test(`${t.output} imports only a memory and has no data segment`, () => {
      const bytes = readFileSync(path.join(root, t.output));
      const ids = sections(bytes).map(([id]) => id);
      assert.ok(!ids.includes(11), `sections ${ids}`);
      const imports = sections(bytes).find(([id]) => id === 2)?.[1];
      assert.ok(imports);
      assert.equal(imports[0], 1, 'one import');
      assert.equal(new TextDecoder().decode(imports.subarray(1, 1 + 1 + 3 + 1 + 6)), '\x03env\x06memory');
    });
  }

  test('the bundles embed the committed binaries', () => {
    const committed = (p: string) => readFileSync(path.join(root, p));
    assert.ok(Buffer.from(cKernelsBytes()).equals(committed('src/lib/wasm/kernels.wasm')));
    assert.ok(Buffer.from(cKernelsSharedBytes()).equals(committed('src/lib/wasm/kernels-shared.wasm')));
    assert.ok(Buffer.from(engineBinary(false)).equals(committed('src/lib/engine/native/engine-simd.wasm')));
    assert.ok(Buffer.from(engineBinary(true)).equals(committed('src/lib/engine/native/engine-fma.wasm')));
  });

  test('instantiating the C kernels writes nothing into the memory they are given', () => {
    const memory = new WebAssembly.Memory({ initial: 4 });
    new Uint8Array(memory.buffer).fill(0xab);
    new WebAssembly.Instance(new WebAssembly.Module(cKernelsBytes() as BufferSource), { env: { memory } });
    assert.ok(new Uint8Array(memory.buffer).every((b) => b === 0xab));
    const shared = new WebAssembly.Memory({ initial: 4, maximum: 64, shared: true });
    new Uint8Array(shared.buffer).fill(0xab);
    new WebAssembly.Instance(new WebAssembly.Module(cKernelsSharedBytes() as BufferSource), { env: { memory: shared } });
    assert.ok(new Uint8Array(shared.buffer).every((b) => b === 0xab));
  });
});
