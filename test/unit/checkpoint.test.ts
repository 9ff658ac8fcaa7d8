// Checkpoints and resume: the file format, atomic writes under kill -9,
// callbacks.modelCheckpoint / backupAndRestore with our fit and tfjs's, and
// bit-identical resumes on the generic and the lean wasm path.
//
// The kill tests run a child process: this same file, started with
// AENB_CKPT_CHILD set, trains or writes instead of defining tests, prints
// what it does line by line, and is killed with SIGKILL by the parent.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/lib/backend';
import { BACKUP_FILE, callbacks, loadCheckpoint } from '../../src/lib/callbacks';
import { checkpointModel, CheckpointError, latestCheckpoint, listCheckpoints, readCheckpoint, removeStaleTemporaries, writeCheckpoint } from '../../src/lib/checkpoint';
import { Autoencoder, StackedAutoencoder } from '../../src/lib/models';
import { withTempDir } from '../support/temp-dir';
import { lastTrainingPath, setLeanTraining, TrainingProgress } from '../../src/lib/training';

const CHILD = process.env.AENB_CKPT_CHILD;

/** Smooth blobs in [0, 1], as in training.test.ts. */
function toyData(n: number, side = 8, seed = 1): tf.Tensor3D {
  return tf.tidy(() => {
    const centres = tf.randomUniform([n, 1, 1], 1, side - 2, 'float32', seed);
    const grid = tf.range(0, side).reshape([1, side, 1]);
    const cols = tf.range(0, side).reshape([1, 1, side]);
    const d = tf.add(tf.square(tf.sub(grid, centres)), tf.square(tf.sub(cols, centres)));
    return tf.exp(tf.mul(d, -0.3)) as tf.Tensor3D;
  });
}

async function weightBytes(model: Autoencoder | StackedAutoencoder): Promise<Buffer> {
  const parts = await Promise.all(model.uniqueWeights().map(async (w) => Buffer.from(((await w.read().data()) as Float32Array).buffer)));
  return Buffer.concat(parts);
}

async function optimizerBytes(opt: tf.Optimizer): Promise<Buffer> {
  const named = await opt.getWeights();
  const own = Object.entries(opt as unknown as Record<string, unknown>)
    .filter(([, v]) => v instanceof tf.Variable)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([, v]) => v as tf.Variable);
  const parts = await Promise.all([...named.map((n) => n.tensor), ...own].map(async (t) => Buffer.from(((await t.data()) as Float32Array).buffer)));
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------------------
// Child process modes

const RUN = { epochs: 6, batchSize: 16, seed: 1234, samples: 320 };

/** Trains a stacked autoencoder with backupAndRestore, printing each batch; writes the final weights to $OUT. */
async function childTrain(): Promise<void> {
  const [dir, out, lean] = [process.env.AENB_CKPT_DIR!, process.env.AENB_CKPT_OUT!, process.env.AENB_CKPT_LEAN === '1'];
  await initBackend('wasm');
  setLeanTraining(lean);
  const x = toyData(RUN.samples, 10);
  const model = new StackedAutoencoder({ inputShape: [10, 10], layers: [24, 8], seed: 5 });
  model.compile({ loss: 'binaryCrossentropy', optimizer: 'adam', learningRate: 0.01 });
  const backup = dir ? callbacks.backupAndRestore({ dir }) : undefined;
  const block = Number(process.env.AENB_CKPT_BLOCK_WRITE ?? 0);
  if (backup && block) {
    // The block-th backup write stops half-way (and says so) until the parent kills this process.
    let writes = 0;
    backup.writeHooks = {
      afterChunk: async (i) => {
        if (i === 0) writes++;
        if (writes !== block || i !== 2) return;
        console.log('writing');
        await new Promise(() => undefined);
      },
    };
  }
  // AENB_CKPT_HOLD=e:b stops after batch b of epoch e (0-based), says so, and waits to be killed.
  const [holdEpoch, holdBatch] = (process.env.AENB_CKPT_HOLD ?? '-1:-1').split(':').map(Number);
  let epochNow = -1;
  const log = {
    onEpochBegin: (e: number) => void ((epochNow = e), console.log(`epoch ${e}`)),
    onBatchEnd: async (b: number) => {
      console.log(`batch ${b}`);
      if (epochNow !== holdEpoch || b !== holdBatch) return;
      console.log('held');
      await new Promise(() => undefined);
    },
  };
  const h = await model.fit(x, x, { epochs: RUN.epochs, batchSize: RUN.batchSize, seed: RUN.seed, verbose: 0, callbacks: backup ? [backup, log] : [log] });
  writeFileSync(out, await weightBytes(model));
  console.log(`path ${lastTrainingPath()}`);
  console.log(`done ${h.epoch.join(',')} resumedAt ${h.resumedAt ?? '-'} losses ${h.history.loss.length} batches ${h.batchLosses.length}`);
}

/** Writes checkpoint A, then starts writing B into the same file and stops mid-write, waiting to be killed. */
async function childWrite(): Promise<void> {
  const file = process.env.AENB_CKPT_FILE!;
  await initBackend('cpu');
  const model = new Autoencoder({ inputShape: [300], latentDim: 200, seed: 1 });
  model.compile();
  const target = checkpointModel(model);
  await writeCheckpoint(file, target, { epoch: 1, epochs: 9, history: { loss: [0.5] } });
  console.log('wrote A');
  tf.tidy(() => model.uniqueWeights().forEach((w) => w.write(tf.onesLike(w.read()))));
  await writeCheckpoint(file, target, { epoch: 2, epochs: 9, history: { loss: [0.5, 0.4] } }, {
    afterChunk: async (i) => {
      if (i !== 3) return;
      console.log('mid-write');
      await new Promise(() => undefined); // until killed
    },
  });
  console.log('wrote B (the parent should have killed this process)');
}

if (CHILD === 'train') void childTrain().catch((e) => (console.error(e), process.exit(3)));
if (CHILD === 'write') void childWrite().catch((e) => (console.error(e), process.exit(3)));

// ---------------------------------------------------------------------------
// Driving a child

interface Child {
  lines: string[];
  /** Resolves with the first line that matches (rejects when the child exits first). */
  waitFor(re: RegExp, count?: number): Promise<string>;
  kill(): Promise<void>;
  exited: Promise<number | null>;
}

function startChild(mode: string, env: Record<string, string>): Child {
  const child = spawn(process.execPath, ['--enable-source-maps', __filename], { env: { ...process.env, AENB_CKPT_CHILD: mode, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: { re: RegExp; count: number; resolve: (l: string) => void; reject: (e: Error) => void }[] = [];
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    for (const w of [...waiters]) {
      if (w.re.test(line) && --w.count <= 0) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => {
    for (const w of waiters.splice(0)) w.reject(new Error(`the child exited (${code}) before printing ${w.re}; stderr: ${stderr.slice(-2000)}`));
    resolve(code);
  }));
  return {
    lines,
    waitFor: (re, count = 1) => new Promise((resolve, reject) => waiters.push({ re, count, resolve, reject })),
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
    exited,
  };
}

if (!CHILD) {
  before(async () => {
    await initBackend('wasm');
  });

  describe('checkpoint files', () => {
    test('a checkpoint restores weights and optimizer state bit for bit, and the run state', async () => {
      await withTempDir('aenb-ckpt-', async (dir) => {
        const x = toyData(64);
        const a = new StackedAutoencoder({ inputShape: [8, 8], layers: [12, 4], seed: 1 });
        a.compile({ optimizer: 'adam', learningRate: 0.01 });
        await a.fit(x, x, { epochs: 2, batchSize: 8, seed: 3, verbose: 0 });
        const file = join(dir, 'a.ckpt');
        await writeCheckpoint(file, checkpointModel(a), { epoch: 2, epochs: 5, batchSize: 8, samples: 64, rngState: 42, history: { loss: [0.7, NaN] }, batchLosses: [1, 2.5, 3] });
        const b = new StackedAutoencoder({ inputShape: [8, 8], layers: [12, 4], seed: 99 });
        b.compile({ optimizer: 'adam', learningRate: 0.01 });
        assert.notDeepEqual(await weightBytes(b), await weightBytes(a));
        const info = await loadCheckpoint(b, file);
        assert.deepEqual(await weightBytes(b), await weightBytes(a), 'weights');
        assert.deepEqual(await optimizerBytes(b.getOptimizer()!), await optimizerBytes(a.getOptimizer()!), 'Adam moments, accBeta1/2');
        assert.equal(b.getOptimizer()!.iterations, a.getOptimizer()!.iterations);
        assert.equal(info.epoch, 2);
        assert.ok(Number.isNaN(info.history.loss[1]) && info.history.loss[0] === 0.7, 'NaN survives as NaN');
        const c = await readCheckpoint(file);
        assert.equal(c.header.rngState, 42);
        assert.equal(c.header.model, 'StackedAutoencoder');
        x.dispose();
        a.dispose();
        b.dispose();
      });
    });

    test('a checkpoint of another model is refused and changes nothing', async () => {
      await withTempDir('aenb-ckpt-', async (dir) => {
        const a = new Autoencoder({ inputShape: [16], latentDim: 4, seed: 1 });
        a.compile();
        const file = join(dir, 'a.ckpt');
        await writeCheckpoint(file, checkpointModel(a), { epoch: 1, epochs: 1, history: { loss: [1] } });
        const b = new Autoencoder({ inputShape: [16], latentDim: 5, seed: 2 });
        b.compile();
        const before = await weightBytes(b);
        await assert.rejects(loadCheckpoint(b, file), (e: Error) => e instanceof CheckpointError && /weights of another model/.test(e.message) && /\[16, 4\]/.test(e.message) && /\[16, 5\]/.test(e.message));
        assert.deepEqual(await weightBytes(b), before);
        a.dispose();
        b.dispose();
      });
    });

    test('a damaged or cut file is refused with a message that says so', async () => {
      await withTempDir('aenb-ckpt-', async (dir) => {
        const a = new Autoencoder({ inputShape: [16], latentDim: 4, seed: 1 });
        a.compile();
        const file = join(dir, 'a.ckpt');
        await writeCheckpoint(file, checkpointModel(a), { epoch: 1, epochs: 1, history: { loss: [1] } });
        const bytes = readFileSync(file);
        bytes[bytes.length - 5] ^= 0xff;
        writeFileSync(file, bytes);
        await assert.rejects(readCheckpoint(file), /damaged: its data does not match its checksum/);
        truncateSync(file, bytes.length - 100);
        await assert.rejects(readCheckpoint(file), /is incomplete/);
        writeFileSync(file, '{"not": "a checkpoint"}');
        await assert.rejects(readCheckpoint(file), /is not an Autoencoder Notebooks checkpoint/);
        a.dispose();
      });
    });

    test('kill -9 during a write leaves the previous checkpoint valid; the next writer removes the leftover', { timeout: 60_000 }, async () => {
      await withTempDir('aenb-ckpt-kill-', async (dir) => {
        const file = join(dir, 'backup.ckpt');
        const child = startChild('write', { AENB_CKPT_FILE: file });
        await child.waitFor(/^mid-write$/);
        const during = readdirSync(dir);
        assert.equal(during.length, 2, `the checkpoint and one temporary file while writing: ${during}`);
        await child.kill();
        assert.ok(!child.lines.some((l) => l.startsWith('wrote B')), 'killed before the second write finished');
        const c = await readCheckpoint(file);
        assert.equal(c.header.epoch, 1, 'the checkpoint is still the first one, whole');
        assert.deepEqual(c.header.history.loss, [0.5]);
        const tmp = readdirSync(dir).filter((n) => n !== 'backup.ckpt');
        assert.equal(tmp.length, 1, 'the cut temporary file is left behind');
        assert.match(tmp[0], /^backup\.ckpt\.aenb-tmp-\d+-\d+@.+$/);
        assert.ok(readFileSync(join(dir, tmp[0])).length < readFileSync(file).length, 'it is incomplete');
        assert.deepEqual(await removeStaleTemporaries(dir), tmp, 'the dead writer’s temporary file is removed');
        assert.deepEqual(readdirSync(dir), ['backup.ckpt']);
      });
    });
  });

  describe('callbacks.modelCheckpoint and backupAndRestore', () => {
    test('modelCheckpoint writes epoch files (every n, keep the newest) and the output says so', async () => {
      await withTempDir('aenb-ckpt-', async (dir) => {
        const x = toyData(64);
        const m = new Autoencoder({ inputShape: [8, 8], latentDim: 4, seed: 1 });
        m.compile();
        const seen: TrainingProgress[] = [];
        const h = await m.fit(x, x, { epochs: 7, batchSize: 16, seed: 1, progressIntervalMs: 0, onProgress: (p) => seen.push(p), callbacks: callbacks.modelCheckpoint({ dir, every: 2, keep: 2 }) });
        assert.deepEqual((await listCheckpoints(dir)).map((c) => c.epoch), [6, 7], 'after epochs 2, 4, 6 and the last; the newest 2 kept');
        assert.deepEqual(h.events.map((e) => e.epoch), [2, 4, 6, 7]);
        assert.match(h.events[3].message, /^Checkpoint after epoch 7: .*epoch-0007\.ckpt$/);
        const epochEnd = seen.find((p) => p.phase === 'epoch' && p.epoch === 2)!;
        assert.equal(epochEnd.events?.length, 1, 'the epoch-end progress shows the checkpoint just written');
        const latest = await latestCheckpoint(dir);
        assert.equal(latest?.checkpoint.header.epoch, 7);
        assert.equal(latest?.checkpoint.header.history.loss.length, 7);
        assert.throws(() => callbacks.modelCheckpoint({ dir, every: 'batch' as never }), /every must be 'epoch' or a whole number/);
        assert.throws(() => callbacks.modelCheckpoint({ dir: '' }), /dir must be a folder path/);
        x.dispose();
        m.dispose();
      });
    });

    test('backupAndRestore: a stopped run keeps its backup, the next fit resumes at the next epoch, completion removes it', async () => {
      await withTempDir('aenb-ckpt-', async (root) => {
          const dir = join(root, 'backup');
        const x = toyData(64);
        const m = new Autoencoder({ inputShape: [8, 8], latentDim: 4, seed: 1 });
        m.compile();
        const stopAt3 = { onEpochEnd: (e: number) => void (e === 2 && (m.stopTraining = true)) };
        const h1 = await m.fit(x, x, { epochs: 6, batchSize: 16, seed: 2, verbose: 0, callbacks: [callbacks.backupAndRestore({ dir }), stopAt3] });
        assert.deepEqual(h1.epoch, [0, 1, 2]);
        assert.ok(existsSync(join(dir, BACKUP_FILE)), 'the backup stays after a stopped run');
        const h2 = await m.fit(x, x, { epochs: 6, batchSize: 16, seed: 2, verbose: 0, callbacks: [callbacks.backupAndRestore({ dir })] });
        assert.equal(h2.resumedAt, 3);
        assert.deepEqual(h2.epoch, [0, 1, 2, 3, 4, 5], 'the history covers the restored epochs too');
        assert.deepEqual(h2.history.loss.slice(0, 3), h1.history.loss);
        assert.match(h2.events[0].message, /^Resumed at epoch 4 of 6 from the backup .*backup\.ckpt \(3 epochs restored\)$/);
        assert.equal(h2.batchLosses.length, 6 * 4);
        assert.ok(!existsSync(dir), 'the backup (and its empty folder) is removed once training completes');
        x.dispose();
        m.dispose();
      });
    });

    test("backupAndRestore works with tfjs's own model.fit: resumes at the next epoch", async () => {
      await withTempDir('aenb-ckpt-', async (root) => {
          const dir = join(root, 'b');
        const x = toyData(64).reshape([64, 64]);
        const build = () => {
          const m = tf.sequential({ layers: [tf.layers.dense({ units: 8, inputShape: [64], activation: 'relu' }), tf.layers.dense({ units: 64, activation: 'sigmoid' })] });
          m.compile({ optimizer: tf.train.adam(0.01), loss: 'binaryCrossentropy' });
          return m;
        };
        const m1 = build();
        const stop = new (class extends tf.Callback {
          override async onEpochEnd(e: number) {
            if (e === 1) m1.stopTraining = true;
          }
        })();
        const h1 = await m1.fit(x, x, { epochs: 5, batchSize: 16, verbose: 0, callbacks: [callbacks.backupAndRestore({ dir }), stop] });
        assert.deepEqual(h1.epoch, [0, 1]);
        const saved = await readCheckpoint(join(dir, BACKUP_FILE));
        assert.equal(saved.header.epoch, 2);
        assert.equal(saved.header.optimizer?.className, 'Adam');
        const m2 = build();
        const cb = callbacks.backupAndRestore({ dir });
        const plain = { epochs: [] as number[], onEpochBegin: async (e: number) => void plain.epochs.push(e) };
        const h2 = await m2.fit(x, x, { epochs: 5, batchSize: 16, verbose: 0, callbacks: [cb, plain as unknown as tf.CustomCallbackArgs] });
        assert.deepEqual(plain.epochs, [2, 3, 4], 'a plain callback object works beside ours, and the run starts at epoch 3');
        assert.deepEqual(h2.epoch, [2, 3, 4]);
        assert.equal(cb.restored?.epoch, 2);
        assert.equal(m2.optimizer.iterations, 5 * 4, 'the optimizer went on counting from the backup');
        assert.ok(!existsSync(dir), 'removed when training completed');
        x.dispose();
      });
    });
  });

  describe('resume after kill -9 ends with the weights of an uninterrupted run, bit for bit', () => {
    for (const lean of [false, true]) {
      const name = lean ? 'lean wasm path' : 'generic path';
      test(name, { timeout: 180_000 }, async () => {
        await withTempDir('aenb-ckpt-resume-', async (root) => {
          const env = { AENB_CKPT_LEAN: lean ? '1' : '0' };
          const reference = startChild('train', { ...env, AENB_CKPT_DIR: '', AENB_CKPT_OUT: join(root, 'reference.bin') });
          assert.equal(await reference.exited, 0, reference.lines.slice(-5).join('\n'));
          assert.ok(reference.lines.includes(`path ${lean ? 'lean-wasm' : 'generic'}`), `trained on the ${name}: ${reference.lines.slice(-2)}`);
          const dir = join(root, 'backup');
          const out = join(root, 'resumed.bin');
          // 1: killed in the middle of epoch 3 (0-based 2), after its 7th batch.
          const a = startChild('train', { ...env, AENB_CKPT_DIR: dir, AENB_CKPT_OUT: out, AENB_CKPT_HOLD: '2:6' });
          await a.waitFor(/^held$/);
          await a.kill();
          assert.equal((await readCheckpoint(join(dir, BACKUP_FILE))).header.epoch, 2);
          // 2: resumes at epoch 3, killed while writing the backup after epoch 4 (its second write).
          const b = startChild('train', { ...env, AENB_CKPT_DIR: dir, AENB_CKPT_OUT: out, AENB_CKPT_BLOCK_WRITE: '2' });
          await b.waitFor(/^writing$/);
          assert.ok(b.lines.includes('epoch 3'), 'the second write is the one after epoch 4');
          await b.kill();
          assert.equal(b.lines.find((l) => l.startsWith('epoch')), 'epoch 2', 'it resumed with the epoch that was cut short');
          assert.equal((await readCheckpoint(join(dir, BACKUP_FILE))).header.epoch, 3, 'the backup of epoch 3 survived the cut write of epoch 4');
          // 3: resumes at epoch 4 and finishes.
          const c = startChild('train', { ...env, AENB_CKPT_DIR: dir, AENB_CKPT_OUT: out });
          assert.equal(await c.exited, 0, c.lines.slice(-5).join('\n'));
          assert.equal(c.lines.find((l) => l.startsWith('epoch')), 'epoch 3');
          assert.ok(c.lines.some((l) => l === `done 0,1,2,3,4,5 resumedAt 3 losses 6 batches ${6 * 20}`), c.lines.slice(-1).join());
          assert.ok(!existsSync(dir), 'the backup was removed once training completed');
          const ref = readFileSync(join(root, 'reference.bin'));
          const got = readFileSync(out);
          assert.equal(got.length, ref.length);
          assert.ok(got.equals(ref), 'the resumed run ends with exactly the weights of the uninterrupted one');
        });
      });
    }
  });
}
