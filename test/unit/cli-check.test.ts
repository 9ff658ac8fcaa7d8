/** `aenb check`, as CI runs it: `node dist/cli.js check ...` (dist must be built). */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createCodeCell, createMarkdownCell, createNotebook, serializeNotebook } from '../../src/common/aenb';

const root = path.join(__dirname, '..', '..', '..');
const cli = path.join(root, 'dist', 'cli.js');
// Every sample that ships, so that a new one is checked too.
const samples = readdirSync(path.join(root, 'samples'))
  .filter((f) => f.endsWith('.aenb'))
  .sort()
  .map((s) => path.join(root, 'samples', s));

function check(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, 'check', ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let dir: string;
let bad: string;
let good: string;
let malformed: string;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'aenb-check-'));
  bad = path.join(dir, 'bad.aenb');
  good = path.join(dir, 'good.aenb');
  malformed = path.join(dir, 'malformed.aenb');
  await writeFile(
    bad,
    serializeNotebook(
      createNotebook([
        createMarkdownCell('# A notebook with mistakes'),
        createCodeCell('const [[xTrain]] = await datasets.mnist.loadData();\nconst x = xTrain.div(255);'),
        createCodeCell("const autoencoder = new Autoencoder({ inputShape: [28, 28], latentDim: 8 });\n\nautoencoder.fitt(x);"),
        createMarkdownCell('Some prose.'),
        createCodeCell("const n: number = 'x';"),
        createCodeCell('function broken( {'),
        createCodeCell("import * as fs from 'fs';"),
        createCodeCell('// fine: a re-declared const and a last expression\nconst x = 2;\nx'),
      ]),
    ),
  );
  await writeFile(good, serializeNotebook(createNotebook([createCodeCell('const a = tf.ones([2]);'), createCodeCell('a.shape', { language: 'javascript' })])));
  await writeFile(malformed, '{\n  "format": "aenb",\n  "version": 1,\n  "cells": [}\n');
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('aenb check', () => {
  test('the samples have no problems: exit 0', async () => {
    const r = await check(samples);
    assert.equal(r.stderr, '');
    assert.equal(samples.length, 3, `the samples: ${samples.join(', ')}`);
    assert.equal(r.stdout, 'No problems in 3 notebooks (32 code cells).\n');
    assert.equal(r.code, 0);
  });

  test('each problem as file:cell N:line:column, in notebook order; exit 1', async () => {
    const r = await check([bad, good]);
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), [
      `${bad}:cell 3:3:13: error TS2551: Property 'fitt' does not exist on type 'Autoencoder'. Did you mean 'fit'?`,
      `${bad}:cell 5:1:7: error TS2322: Type 'string' is not assignable to type 'number'.`,
      `${bad}:cell 6:1:19: error TS1005: '}' expected.`,
      `${bad}:cell 7:1:21: error (kernel): cannot import 'fs': cells can import '@tensorflow/tfjs', '@tensorflow/tfjs-core', '@tensorflow/tfjs-layers', 'autoencoder-notebooks'`,
      '4 errors in 2 notebooks (8 code cells).',
    ]);
  });

  test('--json', async () => {
    const r = await check(['--json', bad]);
    assert.equal(r.code, 1);
    const problems = JSON.parse(r.stdout) as { file: string; cell: number | null; cellName: string; line: number; column: number; endLine: number; endColumn: number; severity: string; code: number | string; message: string }[];
    assert.equal(problems.length, 4);
    assert.deepEqual(problems[0], {
      file: bad,
      cell: 3,
      cellName: 'Cell 3',
      line: 3,
      column: 13,
      endLine: 3,
      endColumn: 17,
      severity: 'error',
      code: 2551,
      message: "Property 'fitt' does not exist on type 'Autoencoder'. Did you mean 'fit'?",
    });
    assert.equal(problems[3].code, 'kernel');
    const clean = await check(['--json', good]);
    assert.equal(clean.code, 0);
    assert.deepEqual(JSON.parse(clean.stdout), []);
  });

  test('a malformed file: a clear error with its line and column, exit 2; the other notebooks are still checked', async () => {
    const r = await check([malformed, bad]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`^aenb check: ${malformed.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4:13: the file is not valid JSON: .*not a valid \\.aenb notebook; nothing was checked in it\\)\\n$`));
    assert.match(r.stdout, /cell 3:3:13: error TS2551/);
    assert.match(r.stdout, /4 errors in 1 notebook \(6 code cells\)\.\n$/);
  });

  test('usage errors and unreadable files: exit 2', async () => {
    const none = await check([]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /which notebooks\?/);
    const missing = await check([path.join(dir, 'nope.aenb')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read .*nope\.aenb: no such file/);
    const option = await check(['--fast', good]);
    assert.equal(option.code, 2);
    assert.match(option.stderr, /Unknown option --fast\./);
    const help = await check(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: autoencoder-notebooks check/);
  });
});
