// Builds every WebAssembly module compiled from C in this repository, with
// Debian's clang-16 and wasm-ld-16 (scripts/build-wasm.sh installs them
// first). The binaries are committed beside their sources, so that building
// the extension needs npm alone:
//
//   src/lib/wasm/kernels.c          -> kernels.wasm         the convolution, pooling, ... kernels on tfjs-backend-wasm's heap
//                                   -> kernels-shared.wasm  the same on the parallel engine's shared memory
//   src/lib/engine/native/engine.c  -> engine-simd.wasm     the engine's products and element-wise kernels (SIMD128)
//                                   -> engine-fma.wasm      the same with relaxed SIMD's fused multiply-add
//
// Each module gets a custom section "aenb-build" holding its source's path,
// its flags and the SHA-256 of both (buildRecord); test/unit/wasm-build.test.ts
// checks every committed module against its source and the flags below, so
// a source or flag edited without a rebuild fails the tests. Every module
// imports its memory (env.memory, nothing else: no libc) and has no data
// segment (instantiating one writes nothing into the memory it is given);
// modules that use a stack export their stack pointer and the loader points
// it at memory it allocated. Both are checked here.
//
//   node scripts/build-wasm.mjs           rebuild every module
//   node scripts/build-wasm.mjs --check   rebuild into a temporary folder and compare bytes (exit 1 when different)
//   node scripts/build-wasm.mjs --list    print the targets as JSON (for the tests)
import { Buffer } from 'node:buffer';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const CC = process.env.AENB_CLANG ?? 'clang-16';

const BASE = ['--target=wasm32', '-O3', '-msimd128', '-nostdlib', '-ffreestanding', '-Wl,--no-entry', '-Wl,--import-memory', '-Wl,--strip-debug'];
/** For a memory shared between threads (the engine's): atomics, and a maximum at least the engine's. */
const SHARED = ['-matomics', '-mbulk-memory', '-Wl,--shared-memory', '-Wl,--max-memory=4294967296'];
const KERNELS = [...BASE, '-fno-builtin', '-Wall', '-Wextra', '-Werror', '-fuse-ld=lld', '-Wl,--export=__stack_pointer'];

/** Every module built, with its source and flags (both part of its hash). */
export const TARGETS = [
  { source: 'src/lib/wasm/kernels.c', output: 'src/lib/wasm/kernels.wasm', flags: KERNELS },
  { source: 'src/lib/wasm/kernels.c', output: 'src/lib/wasm/kernels-shared.wasm', flags: [...KERNELS, ...SHARED] },
  { source: 'src/lib/engine/native/engine.c', output: 'src/lib/engine/native/engine-simd.wasm', flags: [...BASE, ...SHARED] },
  { source: 'src/lib/engine/native/engine.c', output: 'src/lib/engine/native/engine-fma.wasm', flags: [...BASE, ...SHARED, '-DAENB_FMA=1', '-mrelaxed-simd'] },
];

/** What goes into the "aenb-build" section for a target's source. */
export function buildRecord(target, source) {
  const flags = target.flags.join(' ');
  const sha256 = createHash('sha256').update(flags).update('\n').update(source).digest('hex');
  return { source: target.source, flags, sha256 };
}

function uleb(n) {
  const out = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

function customSection(name, payload) {
  const nameBytes = Buffer.from(name, 'utf8');
  const body = Buffer.concat([Buffer.from(uleb(nameBytes.length)), nameBytes, payload]);
  return Buffer.concat([Buffer.from([0]), Buffer.from(uleb(body.length)), body]);
}

/** Section ids of a module, in order. */
export function sectionIds(bytes) {
  const ids = [];
  let i = 8;
  while (i < bytes.length) {
    const id = bytes[i++];
    let size = 0;
    let shift = 0;
    let b;
    do {
      b = bytes[i++];
      size |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    ids.push(id);
    i += size;
  }
  return ids;
}

/** `module.name` of each import (read from the binary: compiling it may need features this Node lacks, like relaxed SIMD). */
export function importNames(bytes) {
  let i = 8;
  const u = () => {
    let v = 0;
    let shift = 0;
    let b;
    do {
      b = bytes[i++];
      v |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    return v >>> 0;
  };
  const str = () => {
    const n = u();
    const s = Buffer.from(bytes.subarray(i, i + n)).toString('utf8');
    i += n;
    return s;
  };
  while (i < bytes.length) {
    const id = bytes[i++];
    const size = u();
    if (id !== 2) {
      i += size;
      continue;
    }
    const names = [];
    for (let count = u(); count > 0; count--) {
      const name = `${str()}.${str()}`;
      const kind = bytes[i++];
      if (kind !== 2) return [...names, `${name} (kind ${kind})`];
      names.push(name);
      const flags = bytes[i++];
      u();
      if (flags & 1) u();
    }
    return names;
  }
  return [];
}

function build(target, outDir) {
  const name = basename(target.output);
  const raw = join(outDir, `${name}.raw`);
  execFileSync(CC, [...target.flags, '-o', raw, join(root, target.source)], { stdio: 'inherit' });
  const bytes = readFileSync(raw);
  rmSync(raw);
  if (sectionIds(bytes).includes(11)) throw new Error(`${name} has a data segment (constant tables or strings in ${target.source}): it would overwrite the memory it is given.`);
  const imports = importNames(bytes);
  if (imports.join() !== 'env.memory') throw new Error(`${name} imports ${imports.join(', ')}; only env.memory is allowed (no libc).`);
  const record = buildRecord(target, readFileSync(join(root, target.source)));
  const out = Buffer.concat([bytes, customSection('aenb-build', Buffer.from(JSON.stringify(record)))]);
  writeFileSync(join(outDir, name), out);
  return out;
}

function main() {
  if (process.argv.includes('--list')) {
    process.stdout.write(JSON.stringify(TARGETS.map((t) => ({ ...t, flags: t.flags.join(' ') }))));
    return;
  }
  if (process.argv.includes('--check')) {
    const tmp = mkdtempSync(join(tmpdir(), 'aenb-wasm-'));
    let differ = 0;
    try {
      for (const target of TARGETS) {
        const fresh = build(target, tmp);
        const same = fresh.equals(readFileSync(join(root, target.output)));
        console.log(`[build-wasm] ${target.output}: ${same ? 'up to date' : 'DIFFERENT from a fresh build: run npm run build:wasm'}`);
        if (!same) differ++;
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    process.exit(differ ? 1 : 0);
  }
  for (const target of TARGETS) {
    const out = build(target, join(root, dirname(target.output)));
    console.log(`[build-wasm] ${target.output}: ${out.length} bytes`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
