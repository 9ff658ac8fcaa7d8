/**
 * Entry point of the kernel process (dist/kernel.js), started with
 * child_process.fork by the extension host or the headless runner.
 */
import { isHostMessage, KernelMessage } from '../common/messages/kernel';
import { STACK_TRACE_LIMIT } from './errors';
import { errorData, KernelRuntime } from './runtime';

// Deep enough to reach a cell's frame under TensorFlow.js's own calls.
Error.stackTraceLimit = STACK_TRACE_LIMIT;

function send(m: KernelMessage): void {
  if (process.connected) process.send?.(m);
}

if (!process.send) {
  console.error('kernel.js is the notebook kernel process: it is started by the extension or the headless runner, not run by hand.');
  process.exit(2);
}

const kernel = new KernelRuntime(send);
// Cells run one at a time: a queue keeps order even if the host sends ahead.
let queue: Promise<void> = Promise.resolve();

process.on('message', (m: unknown) => {
  // Requests are answered at once, not queued behind cells (see KernelRuntime.requests).
  if (kernel.requests.receive(m)) return;
  if (!isHostMessage(m)) {
    send({ type: 'log', level: 'warn', message: `kernel: ignoring an unknown message ${JSON.stringify(m)?.slice(0, 200)}` });
    return;
  }
  switch (m.type) {
    case 'init':
      queue = queue.then(() =>
        kernel.init(m.options).catch((e) => {
          send({ type: 'init-failed', error: errorData(e) });
        }).finally(ownErrorHandlers),
      );
      break;
    case 'execute':
      queue = queue.then(() => {
        ownErrorHandlers();
        return kernel.execute(m);
      });
      break;
    case 'interrupt':
      // Not queued: it must reach the cell that is running now.
      kernel.interrupt();
      break;
    case 'shutdown':
      process.exit(0);
  }
});

process.on('disconnect', () => process.exit(0));

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
