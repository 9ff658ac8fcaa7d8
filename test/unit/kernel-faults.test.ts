/**
 * Faults in the kernel process, driven through the real client over IPC
 * (dist/kernel.js must be built): library errors that name the cell's line,
 * stray asynchronous errors, signals and interrupts that arrive late.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { AenbOutput, NotebookErrorData } from '../../src/common/aenb';
import { KernelClient, type ExecutionResult } from '../../src/kernel/client';
import { OutputCollector } from '../../src/cli/run';

const kernelPath = path.join(__dirname, '..', '..', '..', 'dist', 'kernel.js');
const ERROR_MIME = 'application/vnd.code.notebook.error';

interface Ran {
  result: ExecutionResult;
  outputs: AenbOutput[];
  late: NotebookErrorData[];
}

function start(client: KernelClient, source: string, cellName = 'Cell 1'): { done: Promise<Ran>; late: NotebookErrorData[]; outputs: OutputCollector } {
  const outputs = new OutputCollector();
  const late: NotebookErrorData[] = [];
  const done = client
    .execute({ source, language: 'typescript', cellName }, { onOutput: (o, key) => outputs.add(o, key), onLateError: (e) => late.push(e) })
    .then((result) => ({ result, outputs: outputs.outputs, late }));
  return { done, late, outputs };
}

const run = (client: KernelClient, source: string, cellName = 'Cell 1') => start(client, source, cellName).done;
const errors = (r: Ran) => r.outputs.flatMap((o) => o.items).filter((i) => i.mime === ERROR_MIME).map((i) => i.data as unknown as NotebookErrorData);
const texts = (r: Ran) => r.outputs.flatMap((o) => o.items).filter((i) => i.mime === 'text/plain').map((i) => i.data);

/** Resolves when `check` returns true (looked at every 50 ms; the bound is only there to fail instead of hanging). */
async function until(check: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`kernel faults (${backend})`, () => {
    let client: KernelClient;
    before(async () => {
      client = new KernelClient({ backend, kernelPath, interruptGraceMs: 60_000, progressIntervalMs: 50 });
      assert.equal((await client.start()).name, backend);
    });
    after(async () => {
      await client.shutdown();
    });

    test('an error inside a library call points at the line of the cell that made the call, library frames after it', async () => {
      const r = await run(client, 'const t = tf.ones([2, 3]);\nconst u = tf.ones([4, 2]);\nconst bad = tf.matMul(t, u);', 'Cell 3');
      assert.equal(r.result.success, false);
      const lines = (r.result.error?.stack ?? '').split('\n');
      assert.match(lines[0], /^Error: Error in matMul/);
      assert.match(lines[1], /^ {4}at Cell 3:3:\d+$/, r.result.error?.stack);
      const lib = lines.findIndex((l) => /library frames/.test(l));
      assert.ok(lib > 1 && lines.slice(lib + 1).some((l) => /matMul/i.test(l)), r.result.error?.stack);
    });

    test('a recursion that overflows the stack shows the repeated frame once, with a count', async () => {
      const r = await run(client, 'function down(n: number): number {\n  return down(n + 1) + 1;\n}\ndown(0);', 'Cell 4');
      assert.equal(r.result.error?.name, 'RangeError');
      const stack = r.result.error?.stack ?? '';
      assert.match(stack, /at down \(Cell 4:2:\d+\)\n.*repeat/, stack);
      assert.ok(stack.split('\n').length < 20, stack);
    });

    test('a rejected promise nobody awaits fails the cell that made it; the kernel and its variables live on', async () => {
      const pid = client.pid;
      const r = await run(client, "const kept = 41;\nPromise.reject(new Error('nobody awaits me'));\n'value'");
      assert.equal(r.result.success, false);
      assert.equal(r.result.error?.message, 'nobody awaits me');
      assert.match(r.result.error?.stack ?? '', /at Cell 1:2:\d+/);
      const next = await run(client, 'kept + 1');
      assert.deepEqual(texts(next), ['42']);
      assert.equal(client.pid, pid);
    });

    test('an error thrown by a timer of an earlier cell is shown on the running cell, which fails', async () => {
      // The timer throws only once the next cell runs (it sets `armed`), whatever the machine's speed.
      const timer = "const iv = setInterval(() => {\n  if ((globalThis as any).armed) { clearInterval(iv); (globalThis as any).thrown = true; throw new Error('from cell 5'); }\n}, 10);";
      assert.ok((await run(client, timer, 'Cell 5')).result.success);
      const r = await run(client, '(globalThis as any).armed = true;\nwhile (!(globalThis as any).thrown) await new Promise((resolve) => setTimeout(resolve, 10));', 'Cell 6');
      assert.equal(r.result.success, false);
      const shown = errors(r);
      assert.equal(shown.length, 1);
      assert.equal(shown[0].message, 'from cell 5');
      assert.match(shown[0].stack ?? '', /Cell 5:2:\d+/);
    });

    test('an error thrown after the last cell finished reaches that cell; settle() waits for the timers cells started', async () => {
      const pid = client.pid;
      const first = start(client, "setTimeout(() => { throw new Error('late one'); }, 20);\n'scheduled'", 'Cell 7');
      const r = await first.done;
      assert.equal(r.result.success, true, 'the cell itself ran fine');
      await client.settle();
      assert.equal(first.late.length, 1, 'the late error arrived before settle() resolved');
      assert.equal(first.late[0].message, 'late one');
      assert.match(first.late[0].stack ?? '', /Cell 7:1:\d+/);
      assert.equal(client.pid, pid, 'the kernel survived');
      assert.deepEqual(texts(await run(client, '1 + 1')), ['2']);
    });

    test('an interrupt sent while the kernel is busy in synchronous code is not lost', async () => {
      // The cell spins until a file exists: the kernel can read the interrupt only after the test has sent it.
      const flag = path.join(tmpdir(), `aenb-busy-${process.pid}-${backend}`);
      await rm(flag, { force: true });
      const busy = start(
        client,
        `const fs = (process as any).mainModule.require('node:fs');\nshow.text('spinning');\nwhile (!fs.existsSync(${JSON.stringify(flag)})) {}\n'finished'`,
      );
      await until(() => busy.outputs.outputs.length > 0, 'the cell to start spinning');
      assert.equal(client.interrupt(), 'interrupting');
      await writeFile(flag, '');
      const r = await busy.done;
      await rm(flag, { force: true });
      assert.equal(r.result.interrupted, true, JSON.stringify(r.result));
    });

    test('an interrupt right after a cell was sent, before the kernel got it, runs nothing', async () => {
      const r = start(client, "(globalThis as any).ranAnyway = true;\n'ran'");
      assert.equal(client.interrupt(), 'interrupting');
      assert.equal((await r.done).result.interrupted, true);
      assert.deepEqual(texts(await run(client, 'typeof (globalThis as any).ranAnyway')), ['undefined']);
    });

    test('SIGINT sent to the kernel process itself interrupts training and the kernel lives on', async () => {
      const pid = client.pid as number;
      let epochs = 0;
      const training = client.execute(
        {
          source: 'const x = tf.randomUniform([2048, 8, 8]);\nconst m = new Autoencoder({ inputShape: [8, 8], latentDim: 4 });\nm.compile();\nconst h = await m.fit(x, x, { epochs: 1000, batchSize: 8 });\nh.stopped',
          language: 'typescript',
          cellName: 'Cell 8',
        },
        { onProgress: (p) => (epochs = Math.max(epochs, p.batch > 0 ? 1 : 0)) },
      );
      await until(() => epochs > 0, 'training progress');
      process.kill(pid, 'SIGINT');
      const r = await training;
      assert.equal(r.success, true, JSON.stringify(r.error));
      assert.equal(client.pid, pid);
      assert.equal(r.kernelLost, undefined);
    });

    test('a kernel that exits names its exit code and what it printed, and does not blame memory', async () => {
      const r = await run(client, "process.stderr.write('something broke here\\n');\nprocess.exit(7);");
      assert.equal(r.result.error?.name, 'KernelDied');
      assert.match(r.result.error?.message ?? '', /exit code 7/);
      assert.match(r.result.error?.message ?? '', /something broke here/);
      assert.doesNotMatch(r.result.error?.message ?? '', /memory/);
    });
  });
}
