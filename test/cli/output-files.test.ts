// Where the headless runner writes: destinations that cannot be written are
// refused before any cell runs (exit 2, naming the file); a write that still
// fails (a full disk) leaves no temporary file and says where the results went;
// symlinks are written through, devices and directories refused; temporary
// files of a runner that was killed are cleaned up by the next run.
//
// Read-only and full file systems are made in a private mount namespace
// (`unshare`), so nothing is mounted outside the test's own process.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmod, lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseNotebook } from '../../src/common/aenb';
import { cli, isRoot, runCli, writeNotebook, type Exit } from './harness';

/** The runner never started a kernel (the destination was checked first). */
function assertNothingRan(r: Exit): void {
  assert.doesNotMatch(r.stdout, /Kernel backend|Cell 1\//, `no cell may run before the destination is known to be writable:\n${r.stdout}`);
}

/** `sh -c script` in a mount namespace of its own (as root, or as a mapped root in a user namespace). */
function inMountNamespace(script: string, env: NodeJS.ProcessEnv = {}): Promise<Exit> {
  return runCli([], { command: ['unshare', isRoot ? '-m' : '-rm', 'sh', '-c', script], env });
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

describe('output files of the headless runner', () => {
  let dir: string;
  let nb: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'aenb-cli-out-'));
    await chmod(dir, 0o755);
    nb = await writeNotebook(path.join(dir, 'small.aenb'), ["console.log('ran');\n"]);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('a read-only file system is refused before running, naming the file (exit 2)', async () => {
    const ro = path.join(dir, 'ro');
    await mkdir(ro);
    const target = path.join(ro, 'out.aenb');
    const r = await inMountNamespace(
      `mount --bind ${q(ro)} ${q(ro)} && mount -o remount,bind,ro ${q(ro)} && exec ${q(process.execPath)} ${q(cli)} run ${q(nb)} --backend cpu --out ${q(target)}`,
    );
    assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, new RegExp(`${target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.match(r.stderr, /read-only file system/);
    assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
    assertNothingRan(r);
  });

  test('a folder without write permission is refused before running (exit 2)', async () => {
    const locked = path.join(dir, 'locked');
    await mkdir(locked);
    await chmod(locked, 0o555);
    const target = path.join(locked, 'out.aenb');
    // Root may write anywhere: run the runner as root without the capabilities that bypass permissions then.
    const noOverride = ['--inh-caps=-dac_override,-dac_read_search', '--bounding-set=-dac_override,-dac_read_search'];
    const r = isRoot
      ? await runCli([], { command: ['setpriv', ...noOverride, process.execPath, cli, 'run', nb, '--backend', 'cpu', '--out', target] })
      : await runCli(['run', nb, '--backend', 'cpu', '--out', target]);
    assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
    assert.ok(r.stderr.includes(target), r.stderr);
    assert.match(r.stderr, /permission/i);
    assertNothingRan(r);
  });

  test('a path under /proc is refused before running (exit 2)', async () => {
    for (const args of [['--out', '/proc/aenb-test-out.aenb'], ['--html', '/proc/aenb-test-report.html']]) {
      const r = await runCli(['run', nb, '--backend', 'cpu', '--out', path.join(dir, 'proc.out.aenb'), ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}\n${r.stderr}`);
      assert.ok(r.stderr.includes(args[1]), r.stderr);
      assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
      assertNothingRan(r);
    }
  });

  test('a full disk: exit 2, the file named, no temporary file left, the results saved elsewhere and said where', async () => {
    const full = path.join(dir, 'full');
    const fallback = path.join(dir, 'fallback-tmp');
    await mkdir(full);
    await mkdir(fallback);
    // About 300 kB of output: more than the 64 kB file system holds.
    const big = await writeNotebook(path.join(dir, 'big.aenb'), ["for (let i = 0; i < 3000; i++) console.log('x'.repeat(100));\n"]);
    const target = path.join(full, 'out.aenb');
    const r = await inMountNamespace(
      `mount -t tmpfs -o size=64k tmpfs ${q(full)} || exit 99; ${q(process.execPath)} ${q(cli)} run ${q(big)} --backend cpu --quiet --out ${q(target)}; code=$?; echo "LEFT:$(ls -A ${q(full)})"; exit $code`,
      { TMPDIR: fallback },
    );
    assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
    assert.ok(r.stderr.includes(target), r.stderr);
    assert.match(r.stderr, /no space left/i);
    assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
    assert.match(r.stdout, /^LEFT:$/m, 'nothing left on the full file system');
    const saved = /saved to (\S+\.aenb)/.exec(r.stderr)?.[1];
    assert.ok(saved, `the runner says where the results went: ${r.stderr}`);
    assert.ok(saved.startsWith(fallback), saved);
    const nbOut = parseNotebook(await readFile(saved, 'utf8'));
    assert.equal(nbOut.cells[0].kind === 'code' && nbOut.cells[0].execution?.success, true);
  });

  test('a symlink is written through to its target and stays a symlink', async () => {
    const real = path.join(dir, 'real');
    await mkdir(real);
    const target = path.join(real, 'target.aenb');
    await writeFile(target, 'old content');
    const link = path.join(dir, 'link.aenb');
    await symlink(target, link);
    const dangling = path.join(dir, 'dangling.html');
    await symlink(path.join(real, 'report.html'), dangling);
    const r = await runCli(['run', nb, '--backend', 'cpu', '--out', link, '--html', dangling]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok((await lstat(link)).isSymbolicLink(), 'the link is still a link');
    assert.equal(await readlink(link), target);
    assert.match(await readFile(target, 'utf8'), /"format": "aenb"/);
    assert.ok((await lstat(dangling)).isSymbolicLink());
    assert.match(await readFile(path.join(real, 'report.html'), 'utf8'), /<!doctype html>/);
  });

  test('devices, pipes and directories are refused before running (exit 2); they are left as they were', async () => {
    const fifo = path.join(dir, 'pipe');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const toFifo = path.join(dir, 'stdout-like');
    await symlink(fifo, toFifo);
    const cases: [string, RegExp][] = [
      [fifo, /named pipe/],
      [toFifo, /named pipe/],
      [dir, /is a directory/],
    ];
    if (isRoot) {
      const dev = path.join(dir, 'null-device');
      assert.equal(spawnSync('mknod', [dev, 'c', '1', '3']).status, 0);
      cases.push([dev, /character device/]);
    }
    for (const [target, reason] of cases) {
      const before = await lstat(target);
      const r = await runCli(['run', nb, '--backend', 'cpu', '--out', target]);
      assert.equal(r.code, 2, `${target}: ${r.stdout}\n${r.stderr}`);
      assert.ok(r.stderr.includes(target), r.stderr);
      assert.match(r.stderr, reason);
      assertNothingRan(r);
      const afterwards = await lstat(target);
      assert.equal(afterwards.mode, before.mode, `${target} is untouched`);
      assert.equal(afterwards.ino, before.ino, `${target} is untouched`);
    }
  });

  test('temporary files of a runner that was killed are removed by the next run; those of a live one are kept', async () => {
    const outDir = path.join(dir, 'tmpfiles');
    await mkdir(outDir);
    const deadPid = await new Promise<number>((resolve) => {
      const p = spawn(process.execPath, ['-e', '0']);
      p.on('exit', () => resolve(p.pid as number));
    });
    const stale = path.join(outDir, `out.aenb.aenb-tmp-${deadPid}@${hostname()}`);
    const live = path.join(outDir, `out.aenb.aenb-tmp-${process.pid}@${hostname()}`);
    const otherHost = path.join(outDir, `out.aenb.aenb-tmp-${deadPid}@another-machine`);
    for (const f of [stale, live, otherHost]) await writeFile(f, 'partial');
    const r = await runCli(['run', nb, '--backend', 'cpu', '--out', path.join(outDir, 'out.aenb')]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((await readdir(outDir)).sort(), [path.basename(otherHost), 'out.aenb', path.basename(live)].sort());
  });
});
