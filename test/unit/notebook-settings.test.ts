// Settings (src/notebook/settings.ts) and the status bar wording (src/notebook/status-text.ts).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { KernelBackendInfo } from '../../src/common/messages/kernel';
import { dataSettingsDiffer, kernelSettingsDiffer, readKernelSettings, resolveFolderSetting } from '../../src/notebook/settings';
import { kernelStatus } from '../../src/notebook/status-text';

const ctx = { workspaceFolder: '/ws', home: '/home/u' };
const read = (values: Record<string, unknown>, c = ctx) => readKernelSettings((k) => values[k], c);

describe('kernel settings', () => {
  test('defaults', () => {
    assert.deepEqual(read({}), { backend: 'auto', dataDir: undefined, mirror: undefined, interruptGraceMs: 3000, kernelGraceMs: 300_000, threads: 'auto', fma: 'auto', problems: [] });
  });

  test('valid values', () => {
    const s = read({ backend: 'wasm', dataFolder: '~/data', downloadMirror: 'https://mirror.example/ds/', interruptGracePeriod: 0.5, kernelGracePeriod: 0, threads: 3, fusedMultiplyAdd: false });
    assert.deepEqual(s, { backend: 'wasm', dataDir: join('/home/u', 'data'), mirror: 'https://mirror.example/ds/', interruptGraceMs: 500, kernelGraceMs: 0, threads: 3, fma: false, problems: [] });
    assert.equal(read({ kernelGracePeriod: 12.5 }).kernelGraceMs, 12_500);
    assert.equal(read({ threads: 0, fusedMultiplyAdd: true }).threads, 'auto', '0 is one thread per core');
    assert.equal(read({ threads: 1 }).threads, 1);
  });

  test('invalid values fall back, each with a problem that names the setting', () => {
    const s = read({ backend: 'gpu', dataFolder: 42, downloadMirror: 'ftp://x', interruptGracePeriod: -1, threads: 2.5, fusedMultiplyAdd: 'yes' });
    const g = read({ kernelGracePeriod: -5 });
    assert.equal(g.kernelGraceMs, 300_000);
    assert.match(g.problems[0], /autoencoderNotebooks\.kernelGracePeriod: -5 is not a number of seconds between 0 and 604800; using 300/);
    assert.equal(s.backend, 'auto');
    assert.equal(s.dataDir, undefined);
    assert.equal(s.mirror, undefined);
    assert.equal(s.interruptGraceMs, 3000);
    assert.equal(s.threads, 'auto');
    assert.equal(s.fma, 'auto');
    assert.equal(s.problems.length, 6);
    assert.match(s.problems[4], /autoencoderNotebooks\.threads: 2\.5 is not a whole number from 0 \(one per core\) to 64; using one per core/);
    assert.match(s.problems[5], /autoencoderNotebooks\.fusedMultiplyAdd must be true or false/);
    assert.match(read({ threads: 65 }).problems[0], /threads: 65 is not a whole number/);
    assert.match(s.problems[0], /autoencoderNotebooks\.backend: "gpu" is not one of auto, tensorflow, wasm, cpu; using auto/);
    assert.match(s.problems[1], /autoencoderNotebooks\.dataFolder must be a folder path/);
    assert.match(s.problems[2], /autoencoderNotebooks\.downloadMirror: "ftp:\/\/x" is not an http\(s\) URL/);
    assert.match(s.problems[3], /autoencoderNotebooks\.interruptGracePeriod: -1 is not a number of seconds/);
    assert.match(read({ downloadMirror: 'not a url' }).problems[0], /not an http\(s\) URL/);
  });

  test('folder settings: ~, ${userHome}, ${workspaceFolder}, relative paths', () => {
    assert.deepEqual(resolveFolderSetting('', ctx), {});
    assert.deepEqual(resolveFolderSetting('  ', ctx), {});
    assert.equal(resolveFolderSetting('~', ctx).path, '/home/u');
    assert.equal(resolveFolderSetting('${userHome}/x', ctx).path, '/home/u/x');
    assert.equal(resolveFolderSetting('${workspaceFolder}/data/', ctx).path, '/ws/data/');
    assert.equal(resolveFolderSetting('data/mnist', ctx).path, '/ws/data/mnist');
    assert.equal(resolveFolderSetting('/abs/../abs2', ctx).path, '/abs2');
    assert.match(resolveFolderSetting('data', { home: '/h' }).problem ?? '', /relative path, but no folder is open/);
    assert.match(resolveFolderSetting('${workspaceFolder}/d', { home: '/h' }).problem ?? '', /no folder is open/);
    assert.match(resolveFolderSetting('${env:HOME}/d', ctx).problem ?? '', /a variable other than/);
    assert.match(read({ dataFolder: 'rel' }, { home: '/h' } as typeof ctx).problems[0], /dataFolder: "rel" is a relative path/);
  });

  test('backend, threads, FMA and whether the kernel outlives its window need a new kernel process; data folder and mirror go to the running one', () => {
    const a = read({ backend: 'wasm' });
    assert.equal(kernelSettingsDiffer(a, read({ backend: 'wasm', interruptGracePeriod: 10 })), false);
    assert.equal(kernelSettingsDiffer(a, read({ backend: 'wasm', kernelGracePeriod: 20 })), false);
    assert.equal(kernelSettingsDiffer(a, read({ backend: 'wasm', kernelGracePeriod: 0 })), true);
    assert.equal(kernelSettingsDiffer(a, read({ backend: 'cpu' })), true);
    assert.equal(kernelSettingsDiffer(a, read({ backend: 'wasm', threads: 1 })), true);
    assert.equal(kernelSettingsDiffer(a, read({ backend: 'wasm', fusedMultiplyAdd: false })), true);
    assert.equal(kernelSettingsDiffer(a, read({ backend: 'wasm', dataFolder: '/d' })), false);
    assert.equal(kernelSettingsDiffer(a, read({ backend: 'wasm', downloadMirror: 'http://m/' })), false);
    assert.equal(dataSettingsDiffer(a, read({ backend: 'cpu', interruptGracePeriod: 10 })), false);
    assert.equal(dataSettingsDiffer(a, read({ backend: 'wasm', threads: 1 })), false);
    assert.equal(dataSettingsDiffer(a, read({ backend: 'wasm', dataFolder: '/d' })), true);
    assert.equal(dataSettingsDiffer(a, read({ backend: 'wasm', downloadMirror: 'http://m/' })), true);
  });
});

describe('status bar text', () => {
  const wasm: KernelBackendInfo = { requested: 'auto', name: 'wasm', reason: 'tfjs-node is not installed; WebAssembly with SIMD.', fellBack: false, simd: true, tfjsVersion: '4.22.0' };

  test('Restricted Mode says so and links to Workspace Trust', () => {
    const v = kernelStatus({ trusted: false, state: 'idle', requested: 'auto', backend: wasm });
    assert.match(v.text, /Restricted Mode/);
    assert.match(v.tooltip, /no notebook cell runs here/);
    assert.match(v.tooltip, /command:workbench\.trust\.manage/);
    assert.equal(v.warning, true);
    assert.equal(v.command, 'manageTrust');
  });

  test('not started: the backend it will ask for', () => {
    const v = kernelStatus({ trusted: true, state: 'stopped', requested: 'cpu' });
    assert.equal(v.text, '$(circle-outline) Kernel: cpu');
    assert.match(v.tooltip, /starts with the first cell/);
    assert.equal(v.warning, false);
  });

  test('idle and busy show the running backend, training shows epoch and loss', () => {
    assert.equal(kernelStatus({ trusted: true, state: 'idle', requested: 'auto', backend: wasm }).text, '$(check) wasm · idle');
    assert.equal(kernelStatus({ trusted: true, state: 'busy', requested: 'auto', backend: wasm, queued: 2 }).text, '$(sync~spin) wasm · running (+2 queued)');
    const progress = { type: 'progress' as const, id: 'x', epoch: 3, epochs: 10, batch: 5, batchesPerEpoch: 100, loss: 0.12345, samplesPerSecond: 1000, etaSeconds: 30, state: 'running' as const };
    assert.equal(kernelStatus({ trusted: true, state: 'busy', requested: 'auto', backend: wasm, progress }).text, '$(sync~spin) wasm · epoch 3/10 · loss 0.1235');
    const tip = kernelStatus({ trusted: true, state: 'idle', requested: 'auto', backend: wasm, pid: 42 }).tooltip;
    assert.match(tip, /WebAssembly with SIMD/);
    assert.match(tip, /process 42/);
    assert.match(tip, /command:autoencoderNotebooks\.restartKernel/);
    const threaded = kernelStatus({ trusted: true, state: 'idle', requested: 'auto', backend: { ...wasm, compute: { threads: 2, fma: true, description: '2 threads, fused multiply-add' } } }).tooltip;
    assert.match(threaded, /Training on 2 threads, fused multiply\\-add\./);
  });

  test('a backend that fell back, or a changed setting, is pointed out', () => {
    const fell = { ...wasm, requested: 'tensorflow' as const, fellBack: true };
    const v = kernelStatus({ trusted: true, state: 'idle', requested: 'tensorflow', backend: fell });
    assert.equal(v.warning, true);
    assert.match(v.tooltip, /You asked for \*\*tensorflow\*\*, which could not start here/);
    assert.match(kernelStatus({ trusted: true, state: 'idle', requested: 'cpu', backend: wasm }).tooltip, /restart the kernel to use it/);
  });

  test('a kernel that failed to start shows the error, escaped for Markdown', () => {
    const v = kernelStatus({ trusted: true, state: 'failed', requested: 'tensorflow', error: 'Cannot find module [x](y)' });
    assert.equal(v.text, '$(error) Kernel: failed');
    assert.equal(v.warning, true);
    assert.match(v.tooltip, /Cannot find module \\\[x\\\]\\\(y\\\)/);
  });
});
