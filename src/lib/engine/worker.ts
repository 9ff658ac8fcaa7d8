/**
 * A worker of the engine's pool (pool.ts). Bundled on its own by
 * scripts/build.mjs and started from that text (`new Worker(source, {
 * eval: true })`), so that it needs no file beside whichever bundle runs it.
 *
 * It instantiates the engine's kernels, the SIMD element-wise kernels and
 * the C kernels (with a stack of its own) on the shared memory, says it is ready, and then runs jobs until told to
 * quit: it waits for SEQ to move (spinning briefly, then sleeping), claims
 * parts of the job while there are any left, computes them (jobs.ts), and
 * counts each one done. Nothing here allocates in the shared memory or
 * touches anything outside the buffers a job names.
 */
import { workerData } from 'node:worker_threads';
import { SimdKernels } from '../wasm-simd';
import { runPart, type JobContext } from './jobs';
import type { EngineExports } from './kernels';
import type { CExports } from '../wasm/kernels';
import { claimPart, CTL, OP } from './protocol';

interface WorkerData {
  memory: WebAssembly.Memory;
  engineModule: WebAssembly.Module;
  ctl: number;
  thread: number;
  threads: number;
  /** Spins before sleeping while waiting for the next job. */
  spin: number;
  /** The C kernels' shared-memory build, and the top of this thread's stack for them in the shared memory. */
  cModule: WebAssembly.Module;
  cStack: number;
}

const data = workerData as WorkerData;
const { memory } = data;
let view = new Float32Array(memory.buffer);
const heap = () => (view.byteLength === memory.buffer.byteLength ? view : (view = new Float32Array(memory.buffer)));
const ctl = new Int32Array(memory.buffer, data.ctl, CTL.WORDS);
const cx: JobContext = {
  native: new WebAssembly.Instance(data.engineModule, { env: { memory } }).exports as unknown as EngineExports,
  simd: SimdKernels.for(memory, heap),
  args: ctl.subarray(CTL.ARGS, CTL.ARGS + CTL.ARG_COUNT),
  fargs: new Float32Array(memory.buffer, data.ctl + CTL.ARGS * 4, CTL.ARG_COUNT),
  partials: new Float64Array(memory.buffer, data.ctl + CTL.F64 * 4, CTL.MAX_THREADS),
  c: cKernelsWithStack(),
};

function cKernelsWithStack(): CExports {
  const instance = new WebAssembly.Instance(data.cModule, { env: { memory } });
  (instance.exports.__stack_pointer as WebAssembly.Global).value = data.cStack;
  return instance.exports as unknown as CExports;
}

function fail(e: unknown): void {
  const text = new TextEncoder().encode(`thread ${data.thread}: ${e instanceof Error ? e.message : String(e)}`).subarray(0, CTL.MESSAGE_BYTES - 1);
  // Byte by byte: TextEncoder cannot write into shared memory.
  const bytes = new Uint8Array(memory.buffer, data.ctl + CTL.MESSAGE * 4, CTL.MESSAGE_BYTES);
  bytes.fill(0);
  for (let i = 0; i < text.length; i++) bytes[i] = text[i];
  Atomics.store(ctl, CTL.ERROR, 1);
}

Atomics.add(ctl, CTL.READY, 1);
Atomics.notify(ctl, CTL.READY);
let seen = Atomics.load(ctl, CTL.SEQ);
for (;;) {
  let seq = Atomics.load(ctl, CTL.SEQ);
  for (let spins = 0; seq === seen; seq = Atomics.load(ctl, CTL.SEQ)) {
    if (++spins > data.spin) {
      Atomics.wait(ctl, CTL.SEQ, seen);
      spins = 0;
    }
  }
  seen = seq;
  const op = ctl[CTL.OP];
  if (op === OP.QUIT) break;
  const parts = ctl[CTL.PARTS];
  for (let part = claimPart(ctl, seq, parts); part >= 0; part = claimPart(ctl, seq, parts)) {
    try {
      runPart(cx, op, part, parts);
    } catch (e) {
      fail(e);
    }
    Atomics.add(ctl, CTL.DONE, 1);
    Atomics.notify(ctl, CTL.DONE);
  }
}
