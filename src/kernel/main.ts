/**
 * Entry point of the kernel process (dist/kernel.js), started with
 * child_process.fork by the extension host or the headless runner.
 */
import { isHostMessage, KernelMessage } from '../common/messages/kernel';
import { errorData, KernelRuntime } from './runtime';

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
          send({ type: 'init-failed', error: errorData(e, '') });
        }),
      );
      break;
    case 'execute':
      queue = queue.then(() => kernel.execute(m));
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
process.on('uncaughtException', (e) => kernel.reportStrayError(e));
process.on('unhandledRejection', (e) => kernel.reportStrayError(e));
