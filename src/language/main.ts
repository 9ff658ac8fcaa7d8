// dist/language.js: the notebook language service and everything that
// carries TypeScript. The extension host runs it as a worker thread
// (../notebook/language/), `aenb check` requires it when it needs it, so
// that neither the extension's nor the runner's own bundle carries TypeScript.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { WorkerOptions } from './protocol';
import { runWorker } from './worker';

export { loadCellTypes, CellTypes } from './bundle';
export { NotebookLanguageService } from './service';
export { checkNotebook, formatProblem } from './check';
export type { NotebookProblem } from './check';

if (!isMainThread && parentPort && (workerData as WorkerOptions | undefined)?.aenbLanguageWorker) {
  runWorker(parentPort, workerData as WorkerOptions);
}
