/**
 * The headless runner's command line (the entry point is cli.ts → dist/cli.js,
 * installed as `autoencoder-notebooks` by the npm package):
 *
 *   autoencoder-notebooks run <notebook.aenb> [--set name=value]... [--out FILE]
 *        [--backend auto|tensorflow|wasm|cpu] [--data-dir DIR] [--cache-dir DIR]
 *        [--mirror URL] [--html FILE] [--threads N|auto] [--fma on|off] [--quiet]
 *   autoencoder-notebooks check <notebook.aenb>... [--json]   (see check.ts)
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { AenbCodeCell, AenbFormatError, AenbOutput, MIME, NotebookErrorData, parseNotebookBytes, serializeNotebook } from '../common/aenb';
import { isBackendChoice } from '../common/backends';
import { cellLocation } from '../common/error-stack';
import type { BackendChoiceName, KernelBackendInfo, ProgressMessage } from '../common/messages/kernel';
import type { ExecutionResult } from '../kernel/client';
import { parseOptions } from './args';
import { checkMain } from './check';
import { OutputFileError, OutputTarget, prepareOutput, saveElsewhere, writeOutput } from './output-file';
import { injectParameters, parseAssignment, Reporter, runNotebook, UsageError } from './run';
import { formatDuration } from '../common/formatting';
import { VERSION } from '../common/version';

const USAGE = `Usage: autoencoder-notebooks run <notebook.aenb> [options]
       autoencoder-notebooks check <notebook.aenb>... [--json]
       autoencoder-notebooks --version

"run" runs every code cell of an Autoencoder Notebook in one kernel and
writes the notebook with its outputs; "check" type-checks notebooks the way
the editor does (autoencoder-notebooks check --help). Without installing
anything: npx autoencoder-notebooks run notebook.aenb --set epochs=5
(in a development checkout of the extension: node dist/cli.js run ...).

Options:
  --set name=value     override a value of the cell tagged "parameters" (repeatable);
                       values are JSON when they parse as JSON, else strings
  --out FILE           where to write the executed notebook
                       (default: <notebook>.executed.aenb beside the input)
  --html FILE          also write a self-contained HTML report
  --backend NAME       auto (default), tensorflow, wasm or cpu
  --data-dir DIR       a folder holding MNIST / Fashion-MNIST files, tried first
  --cache-dir DIR      where downloaded data sets are kept
                       (default: $XDG_CACHE_HOME/autoencoder-notebooks/datasets)
  --mirror URL         download data sets from this base URL instead
  --threads N          threads to train on: auto (default, one per core) or a
                       count; 1 is the single-threaded path of earlier versions
  --fma on|off         fused multiply-add when training on several threads
                       (default on, where the runtime has relaxed SIMD)
  --quiet              print only errors and the final line
  -h, --help           this text
  --version            print the version and exit

Cells are named "Cell N": the N-th cell from the top, markdown included (the
cell --set injects is not counted). Where the results go is checked before
any cell runs; a file that still cannot be written at the end is saved in
the temporary folder instead, and the runner says where.

Exit status: 0 when every cell succeeded, 1 when a cell failed (also by an
error that escaped it later, from a timer or an unawaited promise) or was
interrupted, 2 for a usage or file error. Ctrl-C stops the running cell as
soon as it can (training at the next batch), runs no later cell and still
writes what ran; a second Ctrl-C stops the kernel.`;

interface CliArgs {
  notebook: string;
  sets: [string, unknown][];
  out?: string;
  html?: string;
  backend: BackendChoiceName;
  dataDir?: string;
  cacheDir?: string;
  mirror?: string;
  threads?: number | 'auto';
  fma?: false;
  quiet: boolean;
}

const OPTIONS = {
  set: { type: 'string', multiple: true },
  out: { type: 'string' },
  html: { type: 'string' },
  backend: { type: 'string' },
  'data-dir': { type: 'string' },
  'cache-dir': { type: 'string' },
  mirror: { type: 'string' },
  threads: { type: 'string' },
  fma: { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

export function parseArgs(argv: string[]): CliArgs | 'help' | 'version' {
  if (argv.length === 0 || argv.includes('-h') || argv.includes('--help')) return 'help';
  if (argv.includes('--version')) return 'version';
  const { values, positionals } = parseOptions(argv, OPTIONS);
  const [command, notebook, ...extra] = positionals;
  if (command === undefined) {
    throw new UsageError('Which command? The commands are "run" (autoencoder-notebooks run <notebook.aenb>) and "check" (autoencoder-notebooks check <notebook.aenb>...).');
  }
  if (command !== 'run') throw new UsageError(`Unknown command "${command}". The commands are "run" and "check".`);
  if (!notebook) throw new UsageError('Which notebook? Give the path of a .aenb file.');
  if (extra.length) throw new UsageError(`One notebook at a time: got "${notebook}" and "${extra[0]}".`);
  const backend = values.backend ?? 'auto';
  if (!isBackendChoice(backend)) throw new UsageError(`--backend must be auto, tensorflow, wasm or cpu; got "${backend}".`);
  let threads: number | 'auto' | undefined;
  if (values.threads !== undefined) {
    const t = values.threads;
    const n = Number(t);
    if (t !== 'auto' && !(Number.isInteger(n) && n >= 1 && n <= 64)) throw new UsageError(`--threads must be auto or a whole number from 1 to 64; got "${t}".`);
    threads = t === 'auto' ? 'auto' : n;
  }
  if (values.fma !== undefined && values.fma !== 'on' && values.fma !== 'off') throw new UsageError(`--fma must be on or off; got "${values.fma}".`);
  return {
    notebook,
    sets: (values.set ?? []).map(parseAssignment),
    out: values.out,
    html: values.html,
    backend: backend as BackendChoiceName,
    dataDir: values['data-dir'],
    cacheDir: values['cache-dir'],
    mirror: values.mirror,
    threads,
    fma: values.fma === 'off' ? false : undefined,
    quiet: values.quiet ?? false,
  };
}

function outputText(o: AenbOutput): string | undefined {
  const pick = (mime: string) => o.items.find((i) => i.mime === mime);
  const err = pick(MIME.error);
  if (err && typeof err.data === 'object' && err.data) {
    const d = err.data as { name?: string; message?: string; stack?: string };
    return d.stack || `${d.name}: ${d.message}`;
  }
  for (const mime of [MIME.stdout, MIME.stderr, MIME.textPlain, MIME.markdown]) {
    const it = pick(mime);
    if (it && typeof it.data === 'string') return it.data;
  }
  return undefined;
}


/** Prints progress: a live line on a terminal, plain lines (one per epoch) otherwise. */
export class TerminalReporter implements Reporter {
  private printedStream = new Map<string, number>();
  private liveLine = false;
  private lastEpochLine = '';
  constructor(
    private readonly out: NodeJS.WriteStream | { write(s: string): unknown; isTTY?: boolean },
    private readonly quiet = false,
  ) {}

  private clearLive(): void {
    if (this.liveLine) this.out.write('\r\x1b[2K');
    this.liveLine = false;
  }

  private print(text: string): void {
    if (this.quiet) return;
    this.clearLive();
    this.out.write(text.endsWith('\n') ? text : text + '\n');
  }

  backend(info: KernelBackendInfo): void {
    this.print(`Kernel backend: ${info.name}. ${info.reason}${info.compute ? ` Training on ${info.compute.description}.` : ''}`);
  }

  cellStart(name: string, cells: number, cell: AenbCodeCell): void {
    this.printedStream.clear();
    // The first line of code (the injected parameters cell starts with a comment).
    const lines = cell.source.split('\n').map((l) => l.trim());
    const first = lines.find((l) => l && !l.startsWith('//')) ?? lines.find((l) => l) ?? '';
    this.print(`\n${name.startsWith('Cell ') ? `${name}/${cells}` : name} · ${first.slice(0, 70)}`);
  }

  output(o: AenbOutput, key: string | undefined, _replaced: boolean): void {
    if (key?.startsWith('train:')) return; // progress is drawn from progress messages
    const text = outputText(o);
    if (text === undefined) return;
    if (key?.startsWith('stream:')) {
      const done = this.printedStream.get(key) ?? 0;
      const fresh = text.slice(done);
      this.printedStream.set(key, text.length);
      if (fresh) this.print(fresh);
      return;
    }
    if (key?.startsWith('download:')) {
      if (this.out.isTTY && !this.quiet) {
        this.clearLive();
        this.out.write(text.trim());
        this.liveLine = true;
      }
      return;
    }
    this.print(text);
  }

  progress(p: ProgressMessage): void {
    if (this.quiet) return;
    const loss = Number.isFinite(p.loss) ? p.loss.toFixed(4) : '-';
    const rate = `${Math.round(p.samplesPerSecond).toLocaleString('en-US')} samples/s`;
    if (p.state !== 'running') {
      this.print(`Training ${p.state === 'error' ? 'failed' : p.state === 'stopped' ? 'stopped' : 'done'}: epoch ${p.epoch}/${p.epochs}, loss ${loss}, ${rate}`);
      return;
    }
    if (this.out.isTTY) {
      const width = 24;
      const f = p.batchesPerEpoch ? p.batch / p.batchesPerEpoch : 0;
      const bar = '█'.repeat(Math.round(f * width)).padEnd(width, '·');
      this.clearLive();
      this.out.write(`Epoch ${p.epoch}/${p.epochs} ${bar} ${p.batch}/${p.batchesPerEpoch}  loss ${loss}  ${rate}  ETA ${formatDuration(p.etaSeconds)}`);
      this.liveLine = true;
    } else if (p.batch === p.batchesPerEpoch) {
      const line = `Epoch ${p.epoch}/${p.epochs} - loss ${loss} - ${rate} - ETA ${formatDuration(p.etaSeconds)}`;
      if (line !== this.lastEpochLine) this.print(line);
      this.lastEpochLine = line;
    }
  }

  cellEnd(_name: string, result: ExecutionResult): void {
    this.clearLive();
    if (result.interrupted && result.success) this.print('Interrupted: training stopped; the model keeps what it learned.');
  }

  private settleNotice?: NodeJS.Timeout;

  settling(): void {
    // Said only when the wait is noticeable.
    this.settleNotice = setTimeout(() => this.print('Waiting for the timers the cells started (setTimeout) to fire, as node does; Ctrl-C stops waiting.'), 2000);
    this.settleNotice.unref();
  }

  close(): void {
    if (this.settleNotice) clearTimeout(this.settleNotice);
    this.clearLive();
  }
}

/** Finds the renderer bundle for HTML reports next to this bundle (dist/renderer.js). */
function rendererBundle(): string | undefined {
  const p = path.join(__dirname, 'renderer.js');
  return existsSync(p) ? readFileSync(p, 'utf8') : undefined;
}

/** "Cell 3 failed at line 3: Error: ..." (the line of the cell's own deepest frame, when there is one). */
function failureLine(name: string, error: NotebookErrorData): string {
  const at = error.stack ? cellLocation(error.stack, name) : undefined;
  return `${name} failed${at ? ` at line ${at.line}` : ''}: ${error.name}: ${error.message}`;
}

/** `aenb <command> ...`: the command is the first argument. */
export async function main(argv: string[]): Promise<number> {
  switch (argv[0]) {
    case 'check':
      return checkMain(argv.slice(1));
    default:
      // "run", and also help and the usage errors that name the commands.
      return runMain(argv);
  }
}

/** `autoencoder-notebooks run <notebook.aenb> [options]` (argv includes "run"). */
async function runMain(argv: string[]): Promise<number> {
  let args: CliArgs | 'help' | 'version';
  try {
    args = parseArgs(argv);
  } catch (e) {
    process.stderr.write(`aenb: ${(e as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (args === 'help') {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (args === 'version') {
    process.stdout.write(VERSION + '\n');
    return 0;
  }
  const file = args.notebook;
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    process.stderr.write(`aenb: cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}\n`);
    return 2;
  }
  let nb;
  try {
    nb = injectParameters(parseNotebookBytes(bytes, file), args.sets);
  } catch (e) {
    if (e instanceof AenbFormatError || e instanceof UsageError) {
      process.stderr.write(`aenb: ${e.message}\n`);
      return 2;
    }
    throw e;
  }

  // Where the results go is checked before anything runs.
  const out = args.out ?? file.replace(/\.aenb$/i, '') + '.executed.aenb';
  const renderer = args.html ? rendererBundle() : undefined;
  if (args.html && !renderer) {
    process.stderr.write('aenb: --html needs the renderer bundle (renderer.js) beside cli.js; build with npm run build.\n');
    return 2;
  }
  let outTarget: OutputTarget;
  let htmlTarget: OutputTarget | undefined;
  try {
    outTarget = await prepareOutput(out);
    htmlTarget = args.html ? await prepareOutput(args.html) : undefined;
  } catch (e) {
    if (!(e instanceof OutputFileError)) throw e;
    process.stderr.write(`aenb: ${e.message}. No cell was run.\n`);
    return 2;
  }
  if (htmlTarget && htmlTarget.target === outTarget.target) {
    process.stderr.write(`aenb: --out and --html name the same file (${htmlTarget.target}); give them different names.\n`);
    return 2;
  }

  const reporter = new TerminalReporter(process.stdout, args.quiet);
  let interrupts = 0;
  let client: import('../kernel/client').KernelClient | undefined;
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1) {
      process.stderr.write('\nInterrupting: the running cell stops as soon as it can (training at the next batch) and no later cell runs. Ctrl-C again stops the kernel.\n');
      client?.interrupt();
    } else {
      process.stderr.write('\nStopping the kernel.\n');
      void client?.shutdown({ name: 'KernelStopped', message: 'The kernel was stopped (Ctrl-C twice) while this cell ran.' });
    }
  };
  process.on('SIGINT', onSigint);
  const t0 = Date.now();
  try {
    if (!args.quiet) process.stdout.write(`Starting the kernel (backend: ${args.backend})...\n`);
    let result: Awaited<ReturnType<typeof runNotebook>>;
    try {
      result = await runNotebook(nb, {
        backend: args.backend,
        dataDir: args.dataDir,
        cacheDir: args.cacheDir,
        mirror: args.mirror,
        threads: args.threads,
        fma: args.fma,
        cwd: path.dirname(path.resolve(file)),
        reporter,
        onClient: (c) => (client = c),
        stopRequested: () => interrupts > 0,
      });
    } catch (e) {
      // The kernel could not start (no backend, a broken install, or Ctrl-C while it started): nothing ran, nothing is written.
      process.stderr.write(interrupts > 0 ? '\nInterrupted while the kernel started: no cell ran.\n' : `aenb: ${(e as Error).message}\n`);
      return 1;
    } finally {
      reporter.close();
    }

    // The results: never silently lost. A destination that fails now (a disk
    // that filled up meanwhile) gets its file saved elsewhere, and says where.
    const outputs: [string, OutputTarget, () => string][] = [['executed notebook', outTarget, () => serializeNotebook(result.notebook)]];
    if (htmlTarget) {
      const { renderHtmlReport } = await import('../report');
      outputs.push(['HTML report', htmlTarget, () => renderHtmlReport(result.notebook, { rendererJs: renderer as string })]);
    }
    const written: string[] = [];
    let writeFailed = false;
    for (const [what, target, render] of outputs) {
      const content = render();
      try {
        await writeOutput(target, content);
        written.push(target.file);
      } catch (e) {
        if (!(e instanceof OutputFileError)) throw e;
        writeFailed = true;
        let saved: string | undefined;
        let whyNot = '';
        try {
          saved = await saveElsewhere(target.file, content);
        } catch (e2) {
          whyNot = (e2 as Error).message;
        }
        process.stderr.write(
          `\naenb: ${e.message}.\n` +
            (saved
              ? `The ${what} was saved to ${saved} instead; move it where you want it.\n`
              : `The ${what} could not be saved anywhere else either (${whyNot}). Free some space or choose another destination, and run again.\n`),
        );
      }
    }
    const wrote = written.length ? `Wrote ${written.join(' and ')}` : 'Nothing was written';

    const seconds = (Date.now() - t0) / 1000;
    if (result.success && interrupts === 0) {
      process.stdout.write(`\n${result.ran === 1 ? 'The code cell' : `All ${result.ran} code cells`} succeeded in ${formatDuration(seconds)}. ${wrote}.\n`);
      return writeFailed ? 2 : 0;
    }
    const r = result.result;
    const name = result.failedName ?? 'A cell';
    if (result.success) {
      process.stderr.write('\nInterrupted while waiting for the timers the cells started; every cell had run.\n');
    } else if (result.stoppedBefore) {
      process.stderr.write(`\nInterrupted before ${result.stoppedBefore} ran; it and the cells after it did not run.\n`);
    } else if (r?.interrupted) {
      const why = r.error ? ` (${r.error.name}: ${r.error.message})` : '';
      process.stderr.write(`\n${name} was interrupted${why}; the cells after it did not run.\n`);
    } else if (r?.error) {
      process.stderr.write(`\n${failureLine(name, r.error)}\n`);
    }
    const ran = `the outputs of the ${result.ran === 1 ? 'one cell' : `${result.ran} cells`} that ran`;
    process.stderr.write(`${wrote}${written.length ? ` with ${ran}` : ''}.\n`);
    return writeFailed ? 2 : 1;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
