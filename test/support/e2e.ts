// The set-up every end-to-end suite (test/e2e/*.test.ts) shares: the packaged
// extension (the .vsix of `npm run package`), as users install it, in
// code-server, driven through the workbench in headless Chromium.
//
//   const ws = e2eWorkspace('aenb-e2e-x-', (dir) => writeFileSync(...));   file level: a temporary folder
//   describe('...', () => {
//     const fx = useWorkbench({ results, workspace: ws, settings, readyCommand });
//     fx.step('...', 60_000, async () => { ... fx.page ... });
//   });
//
// useWorkbench registers the describe block's before() (install the VSIX into a
// fresh server state, start code-server, open the workbench, wait until the
// extension's commands are registered) and after() (close the browser, stop
// the server saving its logs next to the screenshots, wait for the kernels to
// end, remove the state). A step that fails leaves a screenshot of the page,
// and the steps after it say that they did not run.
import { after, before, test } from 'node:test';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { findRepoRoot, installCodeServer, installVsix, startCodeServer, type CodeServer } from './code-server';
import { startMnistMirror, type Mirror } from './mnist-mirror';
import { reapProcessesIn } from './processes';
import { openWorkbench, waitForCommand, type Workbench } from './workbench';

export const ROOT = findRepoRoot();
export const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; publisher: string; version: string };
/** The packaged extension the suites install. */
export const VSIX = process.env.AENB_VSIX ?? join(ROOT, `${PKG.name}-${PKG.version}.vsix`);
/** A kernel process's command line. */
export const KERNEL = /dist[\\/]kernel\.js/;
/** The id of the kernel's status bar item. */
export const STATUS_ITEM = `${PKG.publisher}.${PKG.name}.autoencoderNotebooks.kernel`;

const log = (line: string) => console.log(`[e2e] ${line}`);

/** Polls `probe` until it returns something other than undefined (a thrown error counts as not yet); throws after `timeoutMs`. */
export async function poll<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs: number, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await Promise.resolve()
      .then(probe)
      .catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * The folder `test-results/<rel>` for a file's screenshots and logs (call it at
 * the top of the file): emptied of an earlier run's files before its suites. A
 * folder that also holds other suites' folders (test-results/e2e) loses only
 * its own files and the subfolders named in `own`.
 */
export function resultsFolder(rel: string, own: string[] | 'all' = 'all'): string {
  const dir = join(ROOT, 'test-results', rel);
  before(() => {
    if (own === 'all') rmSync(dir, { recursive: true, force: true });
    else if (existsSync(dir)) {
      for (const d of readdirSync(dir, { withFileTypes: true })) if (!d.isDirectory() || own.includes(d.name)) rmSync(join(dir, d.name), { recursive: true, force: true });
    }
    mkdirSync(dir, { recursive: true });
  });
  return dir;
}

/** Fails at once when the VSIX is missing or older than dist/ (it would test old code). */
export function checkVsix(): void {
  if (!existsSync(VSIX)) throw new Error(`${VSIX} is missing: run npm run package first (npm run test:e2e does).`);
  const newest = Math.max(...['extension.js', 'kernel.js', 'renderer.js'].map((f) => statSync(join(ROOT, 'dist', f)).mtimeMs));
  if (statSync(VSIX).mtimeMs < newest - 60_000) throw new Error(`${VSIX} is older than dist/: run npm run package again.`);
}

/**
 * A temporary workspace folder for the suites of a file (call it at the top of
 * the file): made, and filled by `fill`, before them; removed after them, once
 * the kernels that ran in it have ended (or were killed).
 */
export function e2eWorkspace(prefix: string, fill?: (dir: string) => void): { readonly path: string } {
  let path = '';
  before(() => {
    installCodeServer({ log });
    path = mkdtempSync(join(tmpdir(), prefix));
    fill?.(path);
  });
  after(async () => {
    if (!path) return;
    const left = await reapProcessesIn(path, KERNEL);
    rmSync(path, { recursive: true, force: true });
    if (left.length) console.error(`[e2e] kernel processes outlived code-server and were killed: ${left.map((p) => p.pid).join(', ')}`);
  });
  return {
    get path() {
      return path;
    },
  };
}

export interface WorkbenchOptions {
  /** Where screenshots and the server's logs go (a folder of resultsFolder()). */
  results: string;
  /** The folder the server's logs are saved to, in `results`. Default `server`. */
  serverLogs?: string;
  workspace: { readonly path: string };
  /** User settings; a function gets the MNIST mirror (see `mirror`). */
  settings?: Record<string, unknown> | ((mirror: Mirror | undefined) => Record<string, unknown>);
  /** Serve MNIST from 127.0.0.1 (these machines have no internet). */
  mirror?: boolean;
  /** Default true; false opens the folder in Restricted Mode. */
  trustWorkspace?: boolean;
  /** Load this extension folder in development mode instead of installing the VSIX. */
  extensionDir?: string;
  viewport?: { width: number; height: number };
  /** A command title the palette must list before the steps run (the extension host has registered the extension). */
  readyCommand?: string;
  /** Installs the VSIX and logs it (default true). */
  logInstall?: boolean;
  /** After the server has started, before the workbench opens. */
  beforeOpen?: (server: CodeServer) => void | Promise<void>;
  /** After the server has stopped, before the kernels are waited for and the state is removed. */
  afterStop?: () => void | Promise<void>;
  /** Kernels still running a minute after the server stopped fail the suite (they are killed either way). */
  kernelsMustEnd?: boolean;
}

export interface WorkbenchFixture {
  readonly page: Page;
  readonly wb: Workbench;
  readonly server: CodeServer;
  readonly mirror: Mirror | undefined;
  /** The installed extension's folder (undefined in development mode). */
  readonly installed: string;
  readonly failed: boolean;
  /** A screenshot of the page into the results folder; returns its path. */
  shot(name: string): Promise<string>;
  /**
   * A step of the story (the describe block): steps run in order, each on the
   * state the ones before left. One that fails leaves FAILED-<name>.png; the
   * steps after it are reported as not run, naming it, unless `independent`.
   */
  step(name: string, timeoutMs: number, fn: () => Promise<void>, opts?: { independent?: boolean }): void;
}

/** The packaged extension in code-server, opened in Chromium, for the describe block it is called in. */
export function useWorkbench(opts: WorkbenchOptions): WorkbenchFixture {
  let stateDir = '';
  let server: CodeServer | undefined;
  let wb: Workbench | undefined;
  let mirror: Mirror | undefined;
  let installed = '';
  let failed = false;
  let broken: string | undefined;

  before(async () => {
    if (!opts.extensionDir) checkVsix();
    stateDir = mkdtempSync(join(tmpdir(), 'aenb-e2e-state-'));
    if (!opts.extensionDir) installed = installVsix(VSIX, { stateDir, log: opts.logInstall === false ? undefined : log });
    if (opts.mirror) mirror = await startMnistMirror();
    const settings = typeof opts.settings === 'function' ? opts.settings(mirror) : opts.settings;
    server = await startCodeServer({
      workspace: opts.workspace.path,
      stateDir,
      settings,
      trustWorkspace: opts.trustWorkspace,
      extensions: opts.extensionDir ? [opts.extensionDir] : undefined,
    });
    await opts.beforeOpen?.(server);
    wb = await openWorkbench(server.workbenchUrl(), opts.viewport);
    if (opts.readyCommand) await waitForCommand(wb.page, opts.readyCommand);
  });

  after(async () => {
    await wb?.close().catch(() => undefined);
    await server?.stop({ saveLogsTo: join(opts.results, opts.serverLogs ?? 'server') });
    await mirror?.close();
    await opts.afterStop?.();
    // A kernel outlives code-server for its grace period, then ends and removes its socket, token
    // and log from the server's storage: wait for that before removing the storage.
    const left = opts.workspace.path ? await reapProcessesIn(opts.workspace.path, KERNEL, 60_000) : [];
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
    console[failed ? 'error' : 'log'](`[e2e] ${failed ? 'FAILED: ' : ''}screenshots and server logs: ${opts.results}`);
    if (left.length) {
      const message = `kernel processes outlived code-server by a minute and were killed: ${left.map((p) => p.pid).join(', ')}`;
      if (opts.kernelsMustEnd) throw new Error(message);
      console.error(`[e2e] ${message}`);
    }
  });

  const need = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`The workbench fixture has no ${what}: its before() did not finish.`);
    return v;
  };
  const shot = async (name: string): Promise<string> => {
    const file = join(opts.results, `${name}.png`);
    await need(wb, 'page').page.screenshot({ path: file });
    return file;
  };

  return {
    get page() {
      return need(wb, 'page').page;
    },
    get wb() {
      return need(wb, 'workbench');
    },
    get server() {
      return need(server, 'server');
    },
    get mirror() {
      return mirror;
    },
    get installed() {
      return installed;
    },
    get failed() {
      return failed;
    },
    shot,
    step(name, timeoutMs, fn, stepOpts = {}) {
      test(name, { timeout: timeoutMs }, async (t) => {
        if (broken && !stepOpts.independent) {
          t.skip(`not run: the step "${broken}" failed, and this one needs the state it leaves`);
          return;
        }
        try {
          await fn();
        } catch (e) {
          failed = true;
          broken ??= name;
          if (wb) await shot(`FAILED-${name.replace(/[^\w]+/g, '-').slice(0, 60)}`).catch(() => undefined);
          throw e;
        }
      });
    },
  };
}
