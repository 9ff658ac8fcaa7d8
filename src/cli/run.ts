/**
 * The headless runner's logic: parameters, running every code cell in one
 * kernel, collecting outputs as the notebook stores them, and printing
 * progress. `main.ts` parses the command line; tests call `runNotebook`.
 */
import {
  AenbCodeCell,
  AenbNotebook,
  AenbOutput,
  cellTags,
  createCodeCell,
  findParametersCell,
  hasTag,
  NotebookErrorData,
} from '../common/aenb';
import { cellNames, INJECTED_PARAMETERS_TAG, numberedCellCount } from '../common/cell-names';
import type { BackendChoiceName, KernelBackendInfo, ProgressMessage } from '../common/messages/kernel';
import { ExecutionResult, KernelClient } from '../kernel/client';
import { transformCell } from '../kernel/transform';
import { errorOutput } from '../outputs/error';

export const INJECTED_TAG = INJECTED_PARAMETERS_TAG;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Parses `name=value`: the value as JSON when it is valid JSON (numbers, booleans, arrays), else as a string. */
export function parseAssignment(text: string): [string, unknown] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new UsageError(`--set needs name=value, got "${text}".`);
  const name = text.slice(0, eq).trim();
  const raw = text.slice(eq + 1);
  if (!/^[A-Za-z_$][\w$]*$/.test(name)) throw new UsageError(`--set ${text}: "${name}" is not a valid variable name.`);
  try {
    return [name, JSON.parse(raw)];
  } catch {
    return [name, raw];
  }
}

/**
 * Applies parameter overrides papermill's way: a cell tagged
 * `injected-parameters` right after the `parameters` cell re-declares the
 * overridden names (replacing an earlier injected cell). Unknown names are an
 * error that lists the known ones.
 */
export function injectParameters(nb: AenbNotebook, values: [string, unknown][]): AenbNotebook {
  if (values.length === 0) return nb;
  const found = findParametersCell(nb);
  if (!found) {
    throw new UsageError(
      'This notebook has no cell tagged "parameters", so --set has nothing to override. Tag the cell holding the hyper-parameters with "parameters".',
    );
  }
  const declared = new Set(transformCell(found.cell.source, { language: found.cell.language, fileName: 'parameters' }).declared);
  const unknown = values.filter(([n]) => !declared.has(n)).map(([n]) => n);
  if (unknown.length) {
    throw new UsageError(
      `Unknown parameter${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `"${n}"`).join(', ')}: the parameters cell declares ${[...declared].map((n) => `"${n}"`).join(', ') || 'nothing'}.`,
    );
  }
  const source =
    '// Parameters set by the headless runner (--set)\n' + values.map(([n, v]) => `const ${n} = ${JSON.stringify(v)};`).join('\n') + '\n';
  const injected = createCodeCell(source, { language: found.cell.language, tags: [INJECTED_TAG] });
  const cells = nb.cells.filter((c) => !hasTag(c, INJECTED_TAG));
  const at = cells.indexOf(found.cell) + 1;
  cells.splice(at, 0, injected);
  return { ...nb, cells };
}

/** Keeps a cell's outputs the way an editor does (src/common/keyed-outputs.ts). */
export { KeyedOutputs as OutputCollector } from '../common/keyed-outputs';
import { KeyedOutputs as OutputCollector } from '../common/keyed-outputs';

export interface Reporter {
  backend(info: KernelBackendInfo): void;
  /** `name` is "Cell N" (or "Injected parameters"); `cells` is how many cells carry a number. */
  cellStart(name: string, cells: number, cell: AenbCodeCell): void;
  output(output: AenbOutput, key: string | undefined, replaced: boolean): void;
  progress(p: ProgressMessage): void;
  cellEnd(name: string, result: ExecutionResult): void;
  /** An error escaped a cell that had finished (a timer, an unawaited promise): that cell failed after all. */
  lateError?(name: string, error: NotebookErrorData): void;
  /** The last cell finished; the runner waits for timers the cells started. */
  settling?(): void;
}

export interface RunOptions {
  backend: BackendChoiceName;
  dataDir?: string;
  cacheDir?: string;
  mirror?: string;
  /** Training threads and fused multiply-add of the kernel (KernelClient options). */
  threads?: number | 'auto';
  fma?: boolean | 'auto';
  cwd?: string;
  kernelPath?: string;
  reporter?: Reporter;
  /** Called with the client once started, e.g. to wire Ctrl-C to `interrupt`. */
  onClient?: (client: KernelClient) => void;
  /** True once the run must stop (Ctrl-C): no further cell starts. */
  stopRequested?: () => boolean;
  interruptGraceMs?: number;
}

export interface RunResult {
  notebook: AenbNotebook;
  /** Index (in notebook.cells) of the cell that failed or was interrupted, if any. */
  failedCell?: number;
  /** Its name ("Cell N"; see cell-names.ts). */
  failedName?: string;
  result?: ExecutionResult;
  /** The run was interrupted between cells, before the cell named here. */
  stoppedBefore?: string;
  ran: number;
  success: boolean;
  backend?: KernelBackendInfo;
}

/**
 * Runs every code cell in order in one kernel; stops at the first failure or
 * interrupt. The notebook that comes back holds the outputs of this run only:
 * cells that did not run have none (and no execution), never an earlier run's.
 */
export async function runNotebook(input: AenbNotebook, options: RunOptions): Promise<RunResult> {
  const nb: AenbNotebook = {
    ...input,
    cells: input.cells.map((c) => (c.kind === 'code' ? { ...c, outputs: [], execution: undefined } : { ...c })),
  };
  const client = new KernelClient({
    backend: options.backend,
    dataDir: options.dataDir,
    cacheDir: options.cacheDir,
    mirror: options.mirror,
    cwd: options.cwd,
    kernelPath: options.kernelPath,
    interruptGraceMs: options.interruptGraceMs,
    threads: options.threads,
    fma: options.fma,
  });
  options.onClient?.(client);
  const reporter = options.reporter;
  const names = cellNames(nb.cells.map((c) => ({ tags: cellTags(c) })));
  const numbered = numberedCellCount(nb.cells.map((c) => ({ tags: cellTags(c) })));
  const codeCells = nb.cells.map((c, i) => [c, i] as const).filter(([c]) => c.kind === 'code') as [AenbCodeCell, number][];
  const stop = () => options.stopRequested?.() ?? false;
  let ran = 0;
  /** The first cell an escaped error failed after it had finished. */
  let late: { index: number; error: NotebookErrorData; result: ExecutionResult } | undefined;
  const failedLate = (backend: KernelBackendInfo): RunResult | undefined =>
    late && { notebook: nb, failedCell: late.index, failedName: names[late.index], result: late.result, ran, success: false, backend };
  try {
    const backend = await client.start();
    reporter?.backend(backend);
    let order = 0;
    for (const [cell, index] of codeCells) {
      if (stop()) return { notebook: nb, stoppedBefore: names[index], ran, success: false, backend };
      const collector = new OutputCollector();
      const startedAt = new Date().toISOString();
      /** Late errors that arrive before this loop has stored the cell's outputs (one IPC read may bring both). */
      let early: NotebookErrorData[] | undefined = [];
      reporter?.cellStart(names[index], numbered, cell);
      const result = await client.execute(
        { source: cell.source, language: cell.language, cellName: names[index] },
        {
          onOutput: (o, key) => {
            const { replaced } = collector.add(o, key);
            reporter?.output(o, key, replaced);
          },
          onProgress: (p) => reporter?.progress(p),
          onLateError: (error) => {
            late ??= { index, error, result: { success: false, durationMs: 0, error } };
            reporter?.lateError?.(names[index], error);
            if (early) {
              early.push(error);
              return;
            }
            const c = nb.cells[index] as AenbCodeCell;
            nb.cells[index] = {
              ...c,
              outputs: [...c.outputs, errorOutput(error)],
              ...(c.execution ? { execution: { ...c.execution, success: false } } : {}),
            };
          },
        },
      );
      if (result.error && !result.errorShown) collector.add(errorOutput(result.error));
      for (const error of early) collector.add(errorOutput(error));
      const lateHere = early.length > 0;
      early = undefined;
      if (late?.index === index) late.result = { ...result, success: false, error: late.error };
      ran++;
      const done: AenbCodeCell = {
        ...cell,
        outputs: collector.outputs,
        execution: { order: ++order, success: result.success && !result.interrupted && !lateHere, durationMs: Math.round(result.durationMs), startedAt },
      };
      nb.cells[index] = done;
      reporter?.cellEnd(names[index], result);
      if (!result.success || result.interrupted) {
        return { notebook: nb, failedCell: index, failedName: names[index], result, ran, success: false, backend };
      }
      const failed = failedLate(backend);
      if (failed) return failed;
    }
    // As `node` does at the end of a script: wait for the timers the cells
    // started, so that an error one of them throws fails the run (Ctrl-C ends the wait).
    if (!stop()) {
      reporter?.settling?.();
      await client.settle();
    }
    return failedLate(backend) ?? { notebook: nb, ran, success: true, backend };
  } finally {
    await client.shutdown();
  }
}
