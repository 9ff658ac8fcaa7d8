// Bad input of issue 16 that the .aenb reader must refuse up front, with a
// line and column, before any cell runs (the headless runner exits 2): JSON
// nested thousands of levels deep (valid or malformed), and text that is not
// UTF-8 (a bad byte in a markdown or code string, a file saved as Latin-1).
// The writer never overflows the stack, and a file is never rewritten from a
// lossy decoding.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { AenbFormatError, createCodeCell, createMarkdownCell, createNotebook, MAX_NESTING, parseNotebook, parseNotebookBytes, serializeNotebook, type JsonValue } from '../../src/common/aenb';
import { notebookFromBytes } from '../../src/notebook/convert';

const cli = path.join(__dirname, '..', '..', '..', 'dist', 'cli.js');

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A notebook whose metadata nests `depth` arrays, with one code cell that would print if it ran. */
function deepNotebook(depth: number): string {
  const head = '{\n  "format": "aenb",\n  "version": 1,\n  "metadata": {\n    "deep": ';
  return `${head}${'['.repeat(depth)}1${']'.repeat(depth)}\n  },\n  "cells": [\n    { "kind": "code", "language": "typescript", "source": "console.log('ran')" }\n  ]\n}\n`;
}

function formatError(fn: () => unknown): AenbFormatError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof AenbFormatError, `expected an AenbFormatError, got ${e instanceof Error ? e.stack : String(e)}`);
    return e;
  }
  assert.fail('no error');
}

let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'aenb-bad-format-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('deeply nested JSON', () => {
  test('a valid notebook nested 2,200 levels is refused with the line and column of the level too many', () => {
    const text = deepNotebook(2200);
    const e = formatError(() => parseNotebook(text, 'deep.aenb'));
    assert.equal(e.line, 5);
    // The root and metadata objects are levels 1 and 2; the first "[" (column 13) is level 3.
    assert.equal(e.column, 13 + MAX_NESTING - 2, 'the bracket that opens level MAX_NESTING + 1');
    assert.match(e.message, /^deep\.aenb:5:\d+: arrays and objects nest more than 512 levels deep here/);
  });

  test('a deep malformed file gets the same clear error, not a crash of the error locator', () => {
    const text = `{"format": "aenb", "cells": ${'{"a":'.repeat(5000)}`;
    const e = formatError(() => parseNotebook(text, 'deep.aenb'));
    assert.equal(e.line, 1);
    assert.match(e.reason, /nest more than 512 levels/);
    // Just below the limit, a malformed file is reported as JSON, with its place.
    const shallow = `{"format": "aenb", "cells": ${'['.repeat(MAX_NESTING - 1)}}`;
    const e2 = formatError(() => parseNotebook(shallow, 'x.aenb'));
    assert.match(e2.reason, /^the file is not valid JSON: /);
  });

  test('nesting up to the limit opens and saves; deeper values in memory are refused with their path, never a stack overflow', () => {
    let v: JsonValue = 1;
    for (let i = 0; i < MAX_NESTING - 2; i++) v = [v];
    const nb = createNotebook([createCodeCell('1')], { ok: v });
    const text = serializeNotebook(nb);
    assert.equal(serializeNotebook(parseNotebook(text)), text);
    let deep: JsonValue = 1;
    for (let i = 0; i < 20_000; i++) deep = [deep];
    assert.throws(() => serializeNotebook(createNotebook([], { deep })), (e: Error) => e instanceof TypeError && /^cannot save notebook: metadata: arrays and objects nest more than 512 levels deep$/.test(e.message));
    const cell = createCodeCell('x');
    cell.outputs = [{ items: [{ mime: 'application/json', data: deep }] }];
    assert.throws(() => serializeNotebook(createNotebook([cell])), /^TypeError: cannot save notebook: cells\[0\]\.outputs\[0\]\.items\[0\]\.data: arrays and objects nest/);
  });

  test('the headless runner refuses it before running any cell: exit 2, line and column, no stack trace, nothing written', { timeout: 60_000 }, async () => {
    const file = path.join(dir, 'deep.aenb');
    await writeFile(file, deepNotebook(2200));
    const out = path.join(dir, 'deep.out.aenb');
    const r = await runCli(['run', file, '--backend', 'cpu', '--out', out, '--quiet']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /deep\.aenb:5:\d+: arrays and objects nest more than 512 levels deep here/);
    assert.doesNotMatch(r.stderr + r.stdout, /RangeError|Maximum call stack|\n\s+at /);
    assert.doesNotMatch(r.stdout, /ran/);
    assert.equal(existsSync(out), false);
  });
});

describe('text that is not UTF-8', () => {
  const enc = new TextEncoder();
  const good = serializeNotebook(createNotebook([createMarkdownCell('# Café\n\nline two'), createCodeCell("const s = 'ok';\ns")]));

  /** `good` with the UTF-8 "é" replaced by Latin-1's single byte 0xE9. */
  const latin1 = (): Uint8Array => {
    const bytes = enc.encode(good);
    const at = bytes.findIndex((b, i) => b === 0xc3 && bytes[i + 1] === 0xa9);
    return Uint8Array.from([...bytes.subarray(0, at), 0xe9, ...bytes.subarray(at + 2)]);
  };

  test('a bad byte inside a markdown string is refused with its line and column (both readers)', () => {
    const bytes = latin1();
    for (const read of [(b: Uint8Array) => parseNotebookBytes(b, 'cafe.aenb'), (b: Uint8Array) => notebookFromBytes(b, 'cafe.aenb')]) {
      const e = formatError(() => read(bytes));
      const line = good.split('\n').findIndex((l) => l.includes('Café')) + 1;
      assert.equal(e.line, line);
      assert.equal(e.column, good.split('\n')[line - 1].indexOf('é') + 1);
      assert.match(e.message, /^cafe\.aenb:\d+:\d+: the file is not valid UTF-8: the bytes 0xE9 .* at byte \d+ .*Latin-1.*save it as UTF-8/);
    }
  });

  test('a bad byte in a code string; a file saved as Latin-1 throughout; a U+FFFD the file really holds is fine', () => {
    const code = enc.encode(good.replace("'ok'", "'o\u0080k'"));
    const i = code.findIndex((b, k) => b === 0xc2 && code[k + 1] === 0x80);
    const broken = Uint8Array.from([...code.subarray(0, i), 0x80, ...code.subarray(i + 2)]);
    const e = formatError(() => parseNotebookBytes(broken, 'code.aenb'));
    assert.equal(e.line, good.split('\n').findIndex((l) => l.includes("'ok'")) + 1);
    const allLatin1 = Uint8Array.from(Array.from(good, (c) => c.charCodeAt(0) & 0xff));
    assert.match(formatError(() => parseNotebookBytes(allLatin1, 'l1.aenb')).reason, /not valid UTF-8/);
    const real = parseNotebookBytes(enc.encode(good.replace('Café', 'Caf\ufffd')), 'r.aenb');
    assert.equal(real.cells[0].source, '# Caf\ufffd\n\nline two');
  });

  test('the headless runner refuses it (exit 2, line and column) and leaves the file as it was', { timeout: 60_000 }, async () => {
    const file = path.join(dir, 'cafe.aenb');
    const bytes = latin1();
    await writeFile(file, bytes);
    const r = await runCli(['run', file, '--backend', 'cpu', '--out', file, '--quiet']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /cafe\.aenb:\d+:\d+: the file is not valid UTF-8/);
    assert.deepEqual(new Uint8Array(await readFile(file)), bytes, 'the file was not rewritten');
  });
});
