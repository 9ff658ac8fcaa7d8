/**
 * Entry point of the kernel process (dist/kernel.js). Two ways to run:
 *
 *  - forked by the headless runner or the extension host (grace period 0):
 *    messages over the IPC channel; the kernel ends with its host;
 *  - `kernel.js --serve <dir> --id <id> --notebook <uri>`, started detached by
 *    the extension host: it listens on a local socket for a host that
 *    presents its token (<dir>/<id>.token), survives its window, and ends by
 *    the rules of lifetime.ts. It reports "listening" on file descriptor 3.
 */
import { closeSync, writeSync } from 'node:fs';
import { ExecuteRequest, HostMessage, isHostMessage, KernelBackendInfo, KernelMessage } from '../common/messages/kernel';
import { KernelJournal } from './journal';
import { KernelLifetime } from './lifetime';
import { kernelFiles, removeKernelFiles, writeRecord } from './registry';
import { STACK_TRACE_LIMIT } from './errors';
import { errorData, KernelRuntime } from './runtime';
import type { Channel } from './transport/channel';
import { ParentIpcChannel } from './transport/channel';
import { readTokenFile, socketPathFor } from './transport/private-files';
import { KernelSocketServer } from './transport/socket';

// Deep enough to reach a cell's frame under TensorFlow.js's own calls.
Error.stackTraceLimit = STACK_TRACE_LIMIT;

interface ServeArgs {
  dir: string;
  id: string;
  notebook: string;
}

function parseServeArgs(argv: string[]): ServeArgs | undefined {
  const at = argv.indexOf('--serve');
  if (at < 0) return undefined;
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const dir = argv[at + 1];
  const id = value('--id');
  const notebook = value('--notebook') ?? '';
  if (!dir || !id || !/^k-[0-9a-f]{12}$/.test(id)) {
    console.error('usage: kernel.js --serve <dir> --id k-<12 hex digits> [--notebook <uri>]');
    process.exit(2);
  }
  return { dir, id, notebook };
}

const serve = parseServeArgs(process.argv.slice(2));
if (!serve && !process.send) {
  console.error('kernel.js is the notebook kernel process: it is started by the extension or the headless runner, not run by hand.');
  process.exit(2);
}

let channel: Channel | undefined;
const journal = new KernelJournal();
let backend: KernelBackendInfo | undefined;
let lifetime: KernelLifetime | undefined;
let cleanup = () => undefined as void;

function send(m: KernelMessage): void {
  if (m.type === 'ready') backend = m.backend;
  journal.record(m);
  channel?.send(m);
}

const kernel = new KernelRuntime(send);
// Cells run one at a time: a queue keeps order even if the host sends ahead.
let queue: Promise<void> = Promise.resolve();

/** A line in a detached kernel's log file (its stderr): what it was told, and why it ended. */
function note(text: string): void {
  // Not console.error: while a cell runs, the console is the cell's.
  try {
    writeSync(2, `${new Date().toISOString()} kernel: ${text}\n`);
  } catch {
    // no stderr
  }
}

function end(code: number): never {
  cleanup();
  process.exit(code);
}

function onMessage(m: unknown): void {
  // Requests are answered at once, not queued behind cells (see KernelRuntime.requests).
  if (kernel.requests.receive(m)) return;
  if (!isHostMessage(m)) {
    send({ type: 'log', level: 'warn', message: `kernel: ignoring an unknown message ${JSON.stringify(m)?.slice(0, 200)}` });
    return;
  }
  handle(m);
}

function handle(m: HostMessage): void {
  switch (m.type) {
    case 'init':
      if (m.options.graceMs !== undefined) lifetime?.setGrace(m.options.graceMs);
      queue = queue.then(() =>
        kernel.init(m.options).catch((e) => {
          send({ type: 'init-failed', error: errorData(e) });
        }).finally(ownErrorHandlers),
      );
      break;
    case 'execute':
      run(m);
      break;
    case 'interrupt':
      // Not queued: it must reach the cell that is running now.
      kernel.interrupt();
      break;
    case 'queue':
      journal.setQueued(m.cells);
      break;
    case 'ack':
      journal.ack(m.id);
      break;
    case 'lifetime':
      if (lifetime) note(`grace period ${m.graceMs / 1000} s`);
      lifetime?.setGrace(m.graceMs);
      break;
    case 'release':
      if (lifetime) note('the notebook was closed: ending once idle, or when the grace period ends');
      lifetime?.release();
      break;
    case 'shutdown':
      end(0);
  }
}

function run(req: ExecuteRequest): void {
  journal.begin(req);
  queue = queue.then(async () => {
    ownErrorHandlers();
    await kernel.execute(req);
    lifetime?.idle();
  });
}

// Errors that escape a cell are reported on the notebook; the kernel lives on.
const onUncaughtException = (e: unknown) => kernel.reportStrayError(e);
const onUnhandledRejection = (e: unknown) => kernel.reportStrayError(e);
process.on('uncaughtException', onUncaughtException);
process.on('unhandledRejection', onUnhandledRejection);

/**
 * Removes handlers others added for those two events: the Emscripten glue of
 * tfjs-backend-wasm adds ones that rethrow, which ends the process (exit code 7)
 * on the first stray error.
 */
function ownErrorHandlers(): void {
  const ours = { uncaughtException: onUncaughtException, unhandledRejection: onUnhandledRejection } as const;
  for (const [event, handler] of Object.entries(ours)) {
    for (const l of process.listeners(event as 'uncaughtException')) {
      if (l !== handler) process.off(event, l as (...args: unknown[]) => void);
    }
  }
}

// SIGINT (kill -INT, or a terminal's Ctrl-C should the kernel share its
// process group) interrupts the running cell, like the interrupt its host sends.
process.on('SIGINT', () => kernel.interrupt());

if (!serve) {
  const ipc = new ParentIpcChannel();
  channel = ipc;
  ipc.onMessage(onMessage);
  ipc.onClose(() => process.exit(0));
} else {
  void startServing(serve).catch((e) => {
    const message = e instanceof Error ? e.message : String(e);
    console.error(`kernel: could not start serving: ${message}`);
    try {
      writeSync(3, JSON.stringify({ error: message }) + '\n');
    } catch {
      // no readiness pipe
    }
    end(1);
  });
}

async function startServing(args: ServeArgs): Promise<void> {
  const files = kernelFiles(args.dir, args.id);
  const token = readTokenFile(files.token);
  const socketPath = socketPathFor(args.dir, args.id);
  const startedAt = Date.now();
  const servers: KernelSocketServer[] = [];
  cleanup = () => {
    for (const s of servers) s.close();
    removeKernelFiles(args.dir, args.id, socketPath);
  };
  lifetime = new KernelLifetime({
    graceMs: 0, // until the host's init says otherwise
    busy: () => journal.busy,
    end: (reason, message) => {
      note(`ending (${reason}): ${message}`);
      end(0);
    },
  });
  const server = await KernelSocketServer.listen({
    socketPath,
    token,
    welcome: () => ({ id: args.id, pid: process.pid, initialized: backend !== undefined, startedAt }),
    onClient: (c, client) => {
      note(`a window attached (process ${client.pid}${client.name ? `, ${client.name}` : ''})`);
      channel = c;
      lifetime!.attach();
      c.onMessage(onMessage);
      c.onClose((reason, detail) => {
        if (channel !== c) return;
        note(`the window detached (${reason}${detail ? `: ${detail}` : ''})`);
        channel = undefined;
        if (reason === 'superseded') return;
        journal.detach();
        lifetime!.detach(false);
      });
      if (backend) send({ type: 'reattached', pid: process.pid, backend, ...journal.attach() });
    },
    log: (message) => note(message),
  });
  servers.push(server);
  writeRecord(args.dir, { version: 1, id: args.id, pid: process.pid, notebook: args.notebook, socket: socketPath, tokenFile: files.token, logFile: files.log, startedAt });
  // SIGINT interrupts the running cell (see above); these end the kernel.
  for (const sig of ['SIGTERM', 'SIGHUP'] as const) process.on(sig, () => end(0));
  // Until the first host connects, the kernel counts as detached: a host that never comes is not waited for long.
  lifetime.setGrace(30_000);
  lifetime.detach(false);
  try {
    writeSync(3, JSON.stringify({ listening: socketPath, pid: process.pid }) + '\n');
    closeSync(3);
  } catch {
    // started without a readiness pipe (by hand): fine
  }
}
