/**
 * The headless runner's logic: parameters, running every code cell in one
 * kernel, collecting outputs as the notebook stores them, and printing
 * progress. `main.ts` parses the command line; tests call `runNotebook`.
 */
import {
  AenbCodeCell,
  AenbNotebook,
  AenbOutput,
  createCodeCell,
  findParametersCell,
  hasTag,
  MIME,
} from '../common/aenb';
import type { BackendChoiceName, KernelBackendInfo, ProgressMessage } from '../common/messages/kernel';
import { ExecutionResult, KernelClient } from '../kernel/client';
import { transformCell } from '../kernel/transform';

export const INJECTED_TAG = 'injected-parameters';

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
  cellStart(index: number, total: number, cell: AenbCodeCell): void;
  output(output: AenbOutput, key: string | undefined, replaced: boolean): void;
  progress(p: ProgressMessage): void;
  cellEnd(index: number, result: ExecutionResult): void;
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
  interruptGraceMs?: number;
}

export interface RunResult {
  notebook: AenbNotebook;
  /** Index (in notebook.cells) of the cell that failed or was interrupted, if any. */
  failedCell?: number;
  result?: ExecutionResult;
  ran: number;
  success: boolean;
  backend?: KernelBackendInfo;
}

/** Runs every code cell in order in one kernel; stops at the first failure or interrupt. */
export async function runNotebook(input: AenbNotebook, options: RunOptions): Promise<RunResult> {
  const nb: AenbNotebook = { ...input, cells: input.cells.map((c) => ({ ...c })) };
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
  const codeCells = nb.cells.map((c, i) => [c, i] as const).filter(([c]) => c.kind === 'code') as [AenbCodeCell, number][];
  let ran = 0;
  try {
    const backend = await client.start();
    reporter?.backend(backend);
    let order = 0;
    for (const [cell, index] of codeCells) {
      const collector = new OutputCollector();
      const startedAt = new Date().toISOString();
      reporter?.cellStart(ran, codeCells.length, cell);
      const result = await client.execute(
        { source: cell.source, language: cell.language, cellName: `Cell ${index + 1}` },
        {
          onOutput: (o, key) => {
            const { replaced } = collector.add(o, key);
            reporter?.output(o, key, replaced);
          },
          onProgress: (p) => reporter?.progress(p),
        },
      );
      if (result.error) {
        collector.add({ items: [{ mime: MIME.error, data: { name: result.error.name, message: result.error.message, stack: result.error.stack ?? '' } }] });
      }
      ran++;
      const done: AenbCodeCell = {
        ...cell,
        outputs: collector.outputs,
        execution: { order: ++order, success: result.success && !result.interrupted, durationMs: Math.round(result.durationMs), startedAt },
      };
      nb.cells[index] = done;
      reporter?.cellEnd(index, result);
      if (!result.success || result.interrupted) {
        return { notebook: nb, failedCell: index, result, ran, success: false, backend };
      }
    }
    return { notebook: nb, ran, success: true, backend };
  } finally {
    await client.shutdown();
  }
}
