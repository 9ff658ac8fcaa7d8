/**
 * The headless runner's command line (the entry point is cli.ts → dist/cli.js):
 *
 *   node dist/cli.js run <notebook.aenb> [--set name=value]... [--out FILE]
 *        [--backend auto|tensorflow|wasm|cpu] [--data-dir DIR] [--cache-dir DIR]
 *        [--mirror URL] [--html FILE] [--quiet]
 *   node dist/cli.js check <notebook.aenb>... [--json]      (see check.ts)
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { AenbCodeCell, AenbFormatError, AenbOutput, MIME, parseNotebookBytes, serializeNotebook } from '../common/aenb';
import type { BackendChoiceName, KernelBackendInfo, ProgressMessage } from '../common/messages/kernel';
import type { ExecutionResult } from '../kernel/client';
import { injectParameters, parseAssignment, Reporter, runNotebook, UsageError } from './run';

const USAGE = `Usage: aenb run <notebook.aenb> [options]
       aenb check <notebook.aenb>... [--json]   (type-check notebooks; aenb check --help)

Runs every code cell of an Autoencoder Notebook in one kernel and writes the
notebook with its outputs.

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
  --quiet              print only errors and the final line
  -h, --help           this text

Exit status: 0 when every cell succeeded, 1 when a cell failed or was
interrupted, 2 for a usage or file error. Ctrl-C stops training at the next
batch and still writes what ran; a second Ctrl-C stops the kernel.`;

interface CliArgs {
  notebook: string;
  sets: [string, unknown][];
  out?: string;
  html?: string;
  backend: BackendChoiceName;
  dataDir?: string;
  cacheDir?: string;
  mirror?: string;
  quiet: boolean;
}

export function parseArgs(argv: string[]): CliArgs | 'help' {
  if (argv.length === 0 || argv.includes('-h') || argv.includes('--help')) return 'help';
  const [command, ...rest] = argv;
  if (command !== 'run') throw new UsageError(`Unknown command "${command}". The commands are "run" and "check".`);
  const args: Partial<CliArgs> & { sets: [string, unknown][] } = { sets: [], backend: 'auto', quiet: false };
  const value = (i: number, flag: string) => {
    const v = rest[i + 1];
    if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value.`);
    return v;
  };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    const [flag, inline] = a.startsWith('--') && a.includes('=') && !a.startsWith('--set=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const take = () => (inline !== undefined ? inline : value(i++, flag));
    switch (flag) {
      case '--set':
        args.sets.push(parseAssignment(take()));
        break;
      case '--out':
        args.out = take();
        break;
      case '--html':
        args.html = take();
        break;
      case '--backend': {
        const b = take();
        if (!['auto', 'tensorflow', 'wasm', 'cpu'].includes(b)) throw new UsageError(`--backend must be auto, tensorflow, wasm or cpu; got "${b}".`);
        args.backend = b as BackendChoiceName;
        break;
      }
      case '--data-dir':
        args.dataDir = take();
        break;
      case '--cache-dir':
        args.cacheDir = take();
        break;
      case '--mirror':
        args.mirror = take();
        break;
      case '--quiet':
        args.quiet = true;
        break;
      default:
        if (a.startsWith('--set=')) {
          args.sets.push(parseAssignment(a.slice('--set='.length)));
        } else if (a.startsWith('-')) {
          throw new UsageError(`Unknown option ${a}.`);
        } else if (args.notebook) {
          throw new UsageError(`One notebook at a time: got "${args.notebook}" and "${a}".`);
        } else {
          args.notebook = a;
        }
    }
  }
  if (!args.notebook) throw new UsageError('Which notebook? Give the path of a .aenb file.');
  return args as CliArgs;
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

function fmtDuration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(0)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
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
    this.print(`Kernel backend: ${info.name}. ${info.reason}`);
  }

  cellStart(index: number, total: number, cell: AenbCodeCell): void {
    this.printedStream.clear();
    const first = cell.source.split('\n').find((l) => l.trim()) ?? '';
    this.print(`\n[${index + 1}/${total}] ${first.trim().slice(0, 70)}`);
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
      this.print(`Training ${p.state === 'stopped' ? 'stopped' : 'done'}: epoch ${p.epoch}/${p.epochs}, loss ${loss}, ${rate}`);
      return;
    }
    if (this.out.isTTY) {
      const width = 24;
      const f = p.batchesPerEpoch ? p.batch / p.batchesPerEpoch : 0;
      const bar = '█'.repeat(Math.round(f * width)).padEnd(width, '·');
      this.clearLive();
      this.out.write(`Epoch ${p.epoch}/${p.epochs} ${bar} ${p.batch}/${p.batchesPerEpoch}  loss ${loss}  ${rate}  ETA ${fmtDuration(p.etaSeconds)}`);
      this.liveLine = true;
    } else if (p.batch === p.batchesPerEpoch) {
      const line = `Epoch ${p.epoch}/${p.epochs} - loss ${loss} - ${rate} - ETA ${fmtDuration(p.etaSeconds)}`;
      if (line !== this.lastEpochLine) this.print(line);
      this.lastEpochLine = line;
    }
  }

  cellEnd(_index: number, result: ExecutionResult): void {
    this.clearLive();
    if (result.interrupted && result.success) this.print('Interrupted: training stopped; the model keeps what it learned.');
  }
}

async function writeAtomic(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, text);
  await rename(tmp, file);
}

/** Finds the renderer bundle for HTML reports next to this bundle (dist/renderer.js). */
function rendererBundle(): string | undefined {
  const p = path.join(__dirname, 'renderer.js');
  return existsSync(p) ? readFileSync(p, 'utf8') : undefined;
}

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'check') return (await import('./check')).checkMain(argv.slice(1));
  let args: CliArgs | 'help';
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
  const out = args.out ?? file.replace(/\.aenb$/i, '') + '.executed.aenb';
  const reporter = new TerminalReporter(process.stdout, args.quiet);
  let interrupts = 0;
  let client: import('../kernel/client').KernelClient | undefined;
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1) {
      process.stderr.write('\nInterrupting: training stops at the next batch (Ctrl-C again stops the kernel).\n');
      client?.interrupt();
    } else {
      process.stderr.write('\nStopping the kernel.\n');
      void client?.shutdown();
    }
  };
  process.on('SIGINT', onSigint);
  const t0 = Date.now();
  try {
    let result: Awaited<ReturnType<typeof runNotebook>>;
    try {
      result = await runNotebook(nb, {
        backend: args.backend,
        dataDir: args.dataDir,
        cacheDir: args.cacheDir,
        mirror: args.mirror,
        cwd: path.dirname(path.resolve(file)),
        reporter,
        onClient: (c) => (client = c),
      });
    } catch (e) {
      // The kernel could not start (no backend, a broken install): nothing ran, nothing is written.
      process.stderr.write(`aenb: ${(e as Error).message}\n`);
      return 1;
    }
    await writeAtomic(out, serializeNotebook(result.notebook));
    if (args.html) {
      const renderer = rendererBundle();
      if (!renderer) {
        process.stderr.write('aenb: --html needs the renderer bundle (renderer.js) beside cli.js; build with npm run build.\n');
        return 2;
      }
      const { renderHtmlReport } = await import('../report');
      await writeAtomic(args.html, renderHtmlReport(result.notebook, { rendererJs: renderer }));
    }
    const seconds = (Date.now() - t0) / 1000;
    if (result.success) {
      process.stdout.write(`\nAll ${result.ran} code cells succeeded in ${fmtDuration(seconds)}. Wrote ${out}${args.html ? ` and ${args.html}` : ''}.\n`);
      return 0;
    }
    const cellNo = (result.failedCell ?? 0) + 1;
    const r = result.result;
    if (r?.error) {
      const where = r.error.stack?.split('\n').find((l) => /Cell \d+:\d+/.test(l))?.match(/Cell \d+:(\d+)/)?.[1];
      process.stderr.write(`\nCell ${cellNo} failed${where ? ` at line ${where}` : ''}: ${r.error.name}: ${r.error.message}\n`);
    } else if (r?.interrupted) {
      process.stderr.write(`\nCell ${cellNo} was interrupted; the cells after it did not run.\n`);
    }
    process.stderr.write(`Wrote ${out} with the outputs of the ${result.ran} cells that ran.\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
