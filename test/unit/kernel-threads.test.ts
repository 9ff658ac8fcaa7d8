/**
 * Training on several threads in the kernel process (dist/kernel.js, driven
 * through the real client): the kernel gets the threads and fused
 * multiply-add it is started with; and a stop from a callback, an interrupt
 * and a kernel restart during threaded training leave no worker thread
 * behind (counted by the engine from the threads' own exit events, and
 * cross-checked with the process's thread count from /proc).
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createCodeCell, createNotebook, serializeNotebook, type AenbOutput } from '../../src/common/aenb';
import { KernelClient, kernelComputeSpawn } from '../../src/kernel/client';
import { OutputCollector } from '../../src/cli/run';
import { relaxedSimdNodeFlags, relaxedSimdSupported } from '../../src/lib/engine';

const kernelPath = path.join(__dirname, '..', '..', '..', 'dist', 'kernel.js');

async function run(client: KernelClient, source: string, onProgress?: () => void) {
  const collector = new OutputCollector();
  const result = await client.execute({ source, language: 'typescript', cellName: 'Cell' }, { onOutput: (o, key) => collector.add(o, key), onProgress });
  return { result, outputs: collector.outputs };
}

const text = (outputs: AenbOutput[]) =>
  outputs.map((o) => o.items.find((i) => i.mime === 'text/plain' || i.mime === 'application/vnd.code.notebook.stdout')?.data ?? '').join('');

/** The last line a cell printed, as JSON. */
async function query<T>(client: KernelClient, expression: string): Promise<T> {
  const r = await run(client, `import { computeStatus } from 'autoencoder-notebooks';\nconsole.log(JSON.stringify(${expression}));`);
  assert.ok(r.result.success, JSON.stringify(r.result.error));
  const lines = text(r.outputs).trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as T;
}

const threadsOf = (pid: number) => Number(/^Threads:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);

/** A cell that trains for long on small data, recording the engine's live workers while it does (and stopping itself after STOP_AT batches). */
const TRAIN = `
import { computeStatus } from 'autoencoder-notebooks';
globalThis.seen = -1;
let batches = 0;
const x = tf.randomUniform([2048, 28, 28], 0, 1, 'float32', 1);
const ae = new Autoencoder({ inputShape: [28, 28], latentDim: 32, seed: 1 });
ae.compile();
await ae.fit(x, x, {
  epochs: 10000, batchSize: 64, verbose: 1,
  callbacks: { onBatchEnd: async () => {
    batches++;
    if (batches === 4) globalThis.seen = computeStatus().liveWorkers;
    if (STOP_AT >= 0 && batches === STOP_AT) ae.stopTraining = true;
  } },
});
`;

/** Calls `f` once, on the `n`th progress message of a run (training is under way by then). */
function onNthProgress(n: number, f: () => void): () => void {
  let count = 0;
  return () => {
    if (++count === n) f();
  };
}

describe('kernel: training on threads', () => {
  test('the kernel is started with the settings in its environment, and relaxed SIMD where the runtime needs a flag', () => {
    assert.deepEqual(kernelComputeSpawn({}).env, {});
    assert.deepEqual(kernelComputeSpawn({ threads: 3, fma: false }), { env: { AENB_THREADS: '3', AENB_FMA: 'off' }, execArgv: [...process.execArgv] });
    const auto = kernelComputeSpawn({ threads: 'auto', fma: 'auto' });
    assert.deepEqual(auto.env, { AENB_THREADS: 'auto', AENB_FMA: 'auto' });
    assert.deepEqual(auto.execArgv, [...process.execArgv, ...relaxedSimdNodeFlags().filter((f) => !process.execArgv.includes(f))]);
    assert.equal(auto.execArgv.length > process.execArgv.length, !relaxedSimdSupported(), 'a flag only where this runtime lacks relaxed SIMD by default');
  });

  test('the headless runner passes --threads and --fma to the kernel, which says so', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'aenb-threads-'));
    try {
      const nb = path.join(dir, 'nb.aenb');
      const cell = "import { computeStatus } from 'autoencoder-notebooks';\nconsole.log(JSON.stringify(computeStatus()));";
      writeFileSync(nb, serializeNotebook(createNotebook([createCodeCell(cell)])));
      const cli = path.join(__dirname, '..', '..', '..', 'dist', 'cli.js');
      const r = spawnSync(process.execPath, [cli, 'run', nb, '--backend', 'wasm', '--threads', '3', '--fma', 'off', '--out', path.join(dir, 'out.aenb')], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /Training on 3 threads, plain SIMD \(fused multiply-add off\)\./);
      assert.match(r.stdout, /"threads":3,"fma":false/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  let client: KernelClient;
  before(async () => {
    assert.ok(existsSync(kernelPath), 'dist/kernel.js is built');
    client = new KernelClient({ backend: 'wasm', kernelPath, interruptGraceMs: 120_000, progressIntervalMs: 50, threads: 2 });
    const info = await client.start();
    assert.deepEqual(info.compute, { threads: 2, fma: true, description: '2 threads, fused multiply-add' }, 'the kernel says how it trains');
  });
  after(async () => {
    await client.shutdown();
  });

  test('the kernel trains on the threads it was given, with fused multiply-add', async () => {
    const s = await query<{ threads: number; fma: boolean; engine: boolean; liveWorkers: number }>(client, 'computeStatus()');
    assert.equal(s.threads, 2);
    assert.equal(s.engine, true);
    assert.equal(s.fma, true, 'the kernel has relaxed SIMD (started with the flag where Node needs it)');
    assert.equal(s.liveWorkers, 0, 'no worker thread between training runs');
  });

  test('stopping from a callback ends the worker threads with the fit', async () => {
    const pid = client.pid!;
    const before = threadsOf(pid);
    let during = -1;
    const r = await run(client, `const STOP_AT = 400;\n${TRAIN}`, onNthProgress(3, () => (during = threadsOf(pid))));
    assert.ok(r.result.success, JSON.stringify(r.result.error));
    assert.equal(await query<number>(client, 'globalThis.seen'), 1, "one worker thread besides the kernel's own during training");
    assert.ok(during >= before + 1, `the process had the worker's thread (${before} threads before, ${during} during)`);
    assert.equal((await query<{ liveWorkers: number }>(client, 'computeStatus()')).liveWorkers, 0);
    assert.ok(threadsOf(pid) < during, `and the thread is gone from the process (${threadsOf(pid)} threads now)`);
  });

  test('an interrupt during threaded training ends the worker threads; the kernel lives on', async () => {
    const pid = client.pid;
    let interrupted = false;
    let during = -1;
    const r = await run(client, `const STOP_AT = -1;\n${TRAIN}`, onNthProgress(3, () => {
      during = threadsOf(pid!);
      interrupted = true;
      client.interrupt();
    }));
    assert.ok(interrupted);
    assert.equal(r.result.interrupted, true);
    assert.equal(r.result.kernelLost, undefined, 'training stopped at a batch boundary, the kernel was not killed');
    assert.equal(client.pid, pid);
    assert.equal(await query<number>(client, 'globalThis.seen'), 1);
    const status = await query<{ liveWorkers: number }>(client, 'computeStatus()');
    assert.equal(status.liveWorkers, 0);
    assert.ok(threadsOf(pid!) < during, `the worker's thread is gone from the process (${during} threads during training, ${threadsOf(pid!)} now)`);
  });

  test('a restart during threaded training leaves neither the old process nor its threads', async () => {
    const oldPid = client.pid!;
    let restarting: Promise<unknown> | undefined;
    const running = run(client, `const STOP_AT = -1;\n${TRAIN}`, onNthProgress(3, () => {
      restarting ??= client.restart();
    }));
    const r = await running;
    await restarting;
    assert.equal(r.result.success, false);
    assert.notEqual(client.pid, oldPid);
    assert.throws(() => process.kill(oldPid, 0), /ESRCH/, 'the old kernel process is gone, and every thread of it');
    const status = await query<{ liveWorkers: number; threads: number }>(client, 'computeStatus()');
    assert.equal(status.liveWorkers, 0);
    assert.equal(status.threads, 2, 'the new kernel has the same settings');
  });
});
