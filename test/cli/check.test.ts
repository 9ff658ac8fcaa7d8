// `check` and `run` agree: what the kernel runs, `check` does not flag; what
// the kernel refuses, `check` reports on the same cell; and both name cells by
// the same rule, also in a notebook the runner wrote with injected parameters.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createCodeCell } from '../../src/common/aenb';
import { runCli, writeNotebook } from './harness';

describe('check agrees with the kernel', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'aenb-check-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('a notebook of everything the kernel accepts: check finds no problem, and it runs', async () => {
    const file = await writeNotebook(path.join(dir, 'accepted.aenb'), [
      '# What the kernel accepts',
      "import * as tfjs from '@tensorflow/tfjs';\nimport { Autoencoder as AE, show as display } from 'autoencoder-notebooks';\nconst n = 2;\nlet label = 'first';\nfunction twice(v: number) { return v * 2; }\nclass Box { constructor(readonly value: number) {} }\n",
      // Declared again in a later cell, with other types: the later one wins below.
      "const n = 'two';\nlet label = 3;\nfunction twice(v: string) { return v + v; }\nclass Box { constructor(readonly value: string) {} }\nconst b = new Box(twice(n));\n",
      // Top-level await, and a last expression shown as the cell's value (an object literal, with its parentheses).
      "const t = await Promise.resolve(tfjs.ones([2, 2]));\nfor await (const v of [Promise.resolve(1)]) label += v;\nconst ae = new AE({ inputShape: [4], latentDim: 2 });\ndisplay.text(b.value.toUpperCase());\n({ label, shape: t.shape, latent: ae.latentDim })",
      createCodeCell('// a JavaScript cell\nconst total = label + 1;\ntotal', { language: 'javascript' }),
      'tf.dispose(t);\nn.length + total',
    ]);
    const checked = await runCli(['check', file]);
    assert.equal(checked.stderr, '');
    assert.equal(checked.stdout, 'No problems in 1 notebook (5 code cells).\n');
    assert.equal(checked.code, 0);
    const ran = await runCli(['run', file, '--backend', 'cpu', '--out', path.join(dir, 'accepted.out.aenb')]);
    assert.equal(ran.code, 0, ran.stderr);
    assert.match(ran.stdout, /TWOTWO/, "the later declarations won");
  });

  test('what the kernel refuses, check reports on the same cell', async () => {
    const file = await writeNotebook(path.join(dir, 'refused.aenb'), ['const a = 1;\n', "import * as fs from 'fs';\nfs.readFileSync('/etc/hostname');\n"]);
    const checked = await runCli(['check', file]);
    assert.equal(checked.code, 1);
    assert.match(checked.stdout, /refused\.aenb:cell 2:1:\d+: error \(kernel\): cannot import 'fs'/);
    const ran = await runCli(['run', file, '--backend', 'cpu', '--out', path.join(dir, 'refused.out.aenb')]);
    assert.equal(ran.code, 1);
    assert.match(ran.stderr, /Cell 2 failed/);
  });

  test('cells are named as the runner names them, in a notebook it wrote with injected parameters', async () => {
    const file = await writeNotebook(path.join(dir, 'params.aenb'), [
      '# Parameters',
      createCodeCell('const epochs = 1;\n', { tags: ['parameters'] }),
      'const label: string = epochs;\n',
    ]);
    const out = path.join(dir, 'params.out.aenb');
    const ran = await runCli(['run', file, '--backend', 'cpu', '--set', 'epochs=3', '--out', out]);
    assert.equal(ran.code, 0, ran.stderr);
    for (const nb of [file, out]) {
      const checked = await runCli(['check', nb]);
      assert.equal(checked.code, 1, nb);
      assert.deepEqual(checked.stdout.trim().split('\n'), [
        `${nb}:cell 3:1:7: error TS2322: Type 'number' is not assignable to type 'string'.`,
        `1 error in 1 notebook (${nb === out ? 3 : 2} code cells).`,
      ]);
    }
  });
});
