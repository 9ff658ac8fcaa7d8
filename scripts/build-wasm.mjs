// Builds the C kernels in src/lib/wasm/*.c into WebAssembly modules beside
// them (src/lib/wasm/NAME.wasm, committed), with Debian's clang-16 and
// wasm-ld-16 (scripts/build-wasm.sh installs them first).
//
// Each module gets a custom section "aenb-build" holding the SHA-256 of its
// source and flags; the unit tests check it against the source, so a source
// edited without a rebuild fails the tests. The modules import their memory,
// export their stack pointer (the loader points it at memory it allocated)
// and must have no data segment (instantiating them writes nothing into the
// memory they are given): both are checked here.
//
//   node scripts/build-wasm.mjs           rebuild every module
//   node scripts/build-wasm.mjs --check   rebuild into a temporary folder and compare bytes (exit 1 when different)
import { Buffer } from 'node:buffer';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'src', 'lib', 'wasm');
const CC = process.env.AENB_CLANG ?? 'clang-16';

/** The flags every module is built with (part of its hash). */
export const FLAGS = [
  '--target=wasm32', '-O3', '-msimd128', '-nostdlib', '-ffreestanding', '-fno-builtin', '-Wall', '-Wextra', '-Werror',
  '-fuse-ld=lld', '-Wl,--no-entry', '-Wl,--import-memory', '-Wl,--export=__stack_pointer', '-Wl,--strip-debug',
];

/** What goes into the "aenb-build" section for a source. */
export function buildRecord(source) {
  const sha256 = createHash('sha256').update(FLAGS.join(' ')).update('\n').update(source).digest('hex');
  return { sha256, flags: FLAGS.join(' ') };
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

function build(name, outDir) {
  const src = join(dir, `${name}.c`);
  const raw = join(outDir, `${name}.raw.wasm`);
  execFileSync(CC, [...FLAGS, '-o', raw, src], { stdio: 'inherit' });
  const bytes = readFileSync(raw);
  rmSync(raw);
  if (sectionIds(bytes).includes(11)) throw new Error(`${name}.wasm has a data segment (constant tables or strings in the C source): it would overwrite the memory it is given.`);
  const { WebAssembly: wasm } = globalThis;
  const imports = wasm.Module.imports(new wasm.Module(bytes)).map((i) => `${i.module}.${i.name}`);
  if (imports.join() !== 'env.memory') throw new Error(`${name}.wasm imports ${imports.join(', ')}; only env.memory is allowed (no libc).`);
  const record = buildRecord(readFileSync(src));
  const out = Buffer.concat([bytes, customSection('aenb-build', Buffer.from(JSON.stringify(record)))]);
  writeFileSync(join(outDir, `${name}.wasm`), out);
  return out;
}

const names = readdirSync(dir).filter((f) => f.endsWith('.c')).map((f) => f.slice(0, -2)).sort();
if (process.argv.includes('--check')) {
  const tmp = mkdtempSync(join(tmpdir(), 'aenb-wasm-'));
  let differ = 0;
  try {
    for (const name of names) {
      const fresh = build(name, tmp);
      const committed = readFileSync(join(dir, `${name}.wasm`));
      const same = fresh.equals(committed);
      console.log(`[build-wasm] ${name}.wasm: ${same ? 'up to date' : 'DIFFERENT from a fresh build: run npm run build:wasm'}`);
      if (!same) differ++;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  process.exit(differ ? 1 : 0);
} else {
  for (const name of names) {
    const out = build(name, dir);
    console.log(`[build-wasm] ${name}.wasm: ${out.length} bytes`);
  }
}
