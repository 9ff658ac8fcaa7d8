// Running the headless runner as a user does (`node dist/cli.js ...`, dist must
// be built), and waiting for what it prints instead of sleeping: every wait is
// for a line of output or the exit, with a generous upper bound.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { createCodeCell, createMarkdownCell, createNotebook, serializeNotebook, type AenbCell } from '../../src/common/aenb';

export const root = path.join(__dirname, '..', '..', '..');
export const cli = path.join(root, 'dist', 'cli.js');

/** Upper bound for anything a test waits for (a busy 2-core machine can be slow; never a pacing delay). */
export const PATIENCE_MS = 180_000;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Start the runner in a process group of its own, as a shell does for a foreground job. */
  detached?: boolean;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Run this command line instead of `node dist/cli.js ARGS` (e.g. inside `unshare`); `args` are ignored. */
  command?: [string, ...string[]];
}

/** A running `node dist/cli.js` (or a command that runs it). */
export class CliRun {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exit: Promise<Exit>;
  private readonly waiters = new Set<() => void>();

  constructor(args: string[], opts: RunOptions = {}) {
    const [cmd, ...rest] = opts.command ?? [process.execPath, cli, ...args];
    this.child = spawn(cmd, rest, {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: opts.detached ?? false,
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
    });
    this.child.stdout?.on('data', (d: Buffer) => {
      this.stdout += d.toString();
      this.notify();
    });
    this.child.stderr?.on('data', (d: Buffer) => {
      this.stderr += d.toString();
      this.notify();
    });
    this.exit = new Promise((resolve) => {
      this.child.on('close', (code, signal) => {
        this.notify();
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr });
      });
    });
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolves when `stream` has printed text matching `pattern`; rejects if the process ends first or after PATIENCE_MS. */
  waitFor(pattern: RegExp, stream: 'stdout' | 'stderr' = 'stdout'): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`timed out waiting for ${pattern} on ${stream}`)), PATIENCE_MS);
      const check = () => {
        const m = this[stream].match(pattern);
        if (m) return done(undefined, m);
        if (this.child.exitCode !== null || this.child.signalCode !== null) {
          done(new Error(`the runner ended (${this.child.exitCode ?? this.child.signalCode}) before printing ${pattern}.\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`));
        }
      };
      const done = (e?: Error, m?: RegExpMatchArray) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        if (e) reject(e);
        else resolve(m as RegExpMatchArray);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Sends a signal to the runner alone. */
  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }

  /** Sends a signal to the runner's whole process group, as a terminal does on Ctrl-C (needs `detached`). */
  signalGroup(sig: NodeJS.Signals): void {
    process.kill(-(this.child.pid as number), sig);
  }

  /** The exit, or a failure after PATIENCE_MS (the process is then killed). */
  async finished(): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        reject(new Error(`the runner did not finish within ${PATIENCE_MS / 1000} s.\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`));
      }, PATIENCE_MS);
    });
    try {
      return await Promise.race([this.exit, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

export function runCli(args: string[], opts: RunOptions = {}): Promise<Exit> {
  return new CliRun(args, opts).finished();
}

/** Writes a notebook: strings starting with "#" are markdown cells, others TypeScript code cells. */
export async function writeNotebook(file: string, cells: (string | AenbCell)[]): Promise<string> {
  const made = cells.map((c) => (typeof c !== 'string' ? c : c.startsWith('#') ? createMarkdownCell(c) : createCodeCell(c)));
  await writeFile(file, serializeNotebook(createNotebook(made)));
  return file;
}

export const isRoot = process.getuid?.() === 0;
