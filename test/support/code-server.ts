// A real VS Code for manual checks, integration and end-to-end tests:
// code-server (the VS Code workbench served to a browser, with a real Node
// extension host), installed into an ignored cache folder of the repository.
//
//   installCodeServer()            idempotent; apt packages + npm install into .cache/code-server
//   installVsix(vsix, { stateDir }) install a packaged extension as users do (--install-extension)
//   startCodeServer({ workspace }) a fresh user-data/extensions/config folder per server
//   server.workbenchUrl({ ... })   the page to open, optionally with this extension in
//                                  development mode and an extension test module
//   server.stop()
//
// Why code-server (see /work/shared/notes/real-vscode.md): these machines reach
// only npm and Debian, so @vscode/test-electron cannot download VS Code; the
// npm package code-server works offline once installed. 4.100.3 bundles
// VS Code 1.100.3 and is the last release that runs on Node 20.
//
// No vscode import and no playwright here: this runs in plain Node.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, cpSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, lstatSync, readlinkSync, unlinkSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

export const CODE_SERVER_VERSION = '4.100.3';
/** The VS Code release code-server 4.100.3 bundles. */
export const BUNDLED_VSCODE_VERSION = '1.100.3';
/** @vscode/ripgrep version code-server 4.100.3 depends on, and the ripgrep build its postinstall looks for. */
const RIPGREP_PACKAGE_VERSION = '1.15.11';
const RIPGREP_BUILD = 'v13.0.0-10';
// chromium drives the workbench; libkrb5-dev, g++ and make build code-server's native
// modules (node-gyp); ripgrep stands in for the binary @vscode/ripgrep would download.
const APT_PACKAGES = ['chromium', 'libkrb5-dev', 'ripgrep', 'g++', 'make'];

/** The repository root: the nearest folder above this file (or the working directory) with our package.json. */
export function findRepoRoot(): string {
  for (const start of [__dirname, process.cwd()]) {
    let dir = resolve(start);
    for (;;) {
      const pkg = join(dir, 'package.json');
      if (existsSync(pkg) && /"name":\s*"autoencoder-notebooks"/.test(readFileSync(pkg, 'utf8'))) return dir;
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  throw new Error('Cannot find the repository root (the folder with the package.json of autoencoder-notebooks).');
}

export interface InstallOptions {
  /** Where code-server goes. Default `<repo>/.cache/code-server`. */
  cacheDir?: string;
  /** Progress lines. Default: stderr. */
  log?: (line: string) => void;
}

export function defaultCacheDir(): string {
  return join(findRepoRoot(), '.cache', 'code-server');
}

export function codeServerBin(cacheDir = defaultCacheDir()): string {
  return join(cacheDir, 'node_modules', '.bin', 'code-server');
}

/** Written once an install, including its install scripts, has finished. */
function installMarker(cacheDir: string): string {
  return join(cacheDir, 'installed.json');
}

/** The installed code-server version in `cacheDir`, or undefined (also when an install stopped half-way). */
export function installedVersion(cacheDir = defaultCacheDir()): string | undefined {
  const pkg = join(cacheDir, 'node_modules', 'code-server', 'package.json');
  if (!existsSync(pkg) || !existsSync(codeServerBin(cacheDir)) || !existsSync(installMarker(cacheDir))) return undefined;
  try {
    return (JSON.parse(readFileSync(pkg, 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; log: (l: string) => void }): void {
  opts.log(`$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], env: opts.env ?? process.env, cwd: opts.cwd });
  if (r.error) throw new Error(`${cmd} could not be started: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed with ${r.signal ? `signal ${r.signal}` : `exit code ${r.status}`}`);
}

function missingAptPackages(): string[] {
  return APT_PACKAGES.filter((p) => {
    const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', p], { encoding: 'utf8' });
    return r.status !== 0 || !r.stdout.includes('install ok installed');
  });
}

/** Puts Debian's rg where @vscode/ripgrep's postinstall looks before it tries GitHub. */
function seedRipgrepCache(log: (l: string) => void): void {
  const target = process.arch === 'arm64' ? 'aarch64-unknown-linux-musl' : process.arch === 'x64' ? 'x86_64-unknown-linux-musl' : undefined;
  if (!target) throw new Error(`code-server install: no ripgrep build name known for architecture ${process.arch}.`);
  const cache = join(tmpdir(), `vscode-ripgrep-cache-${RIPGREP_PACKAGE_VERSION}`);
  const tarball = join(cache, `ripgrep-${RIPGREP_BUILD}-${target}.tar.gz`);
  if (existsSync(tarball)) return;
  const rg = ['/usr/bin/rg', '/usr/local/bin/rg'].find((p) => existsSync(p));
  if (!rg) throw new Error('code-server install: ripgrep (rg) is not installed; apt-get install ripgrep.');
  const stage = mkdtempSync(join(tmpdir(), 'aenb-rg-'));
  try {
    writeFileSync(join(stage, 'rg'), readFileSync(rg), { mode: 0o755 });
    mkdirSync(cache, { recursive: true });
    run('tar', ['czf', tarball, '-C', stage, 'rg'], { log });
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/**
 * Installs code-server (and the Debian packages it and the browser tests
 * need) unless the right version is already there. Safe to run again.
 */
export function installCodeServer(opts: InstallOptions = {}): string {
  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  const log = opts.log ?? ((l: string) => process.stderr.write(`[code-server] ${l}\n`));
  const have = installedVersion(cacheDir);
  const missing = missingAptPackages();
  if (have === CODE_SERVER_VERSION && missing.length === 0) {
    log(`code-server ${have} is installed in ${cacheDir}`);
    return codeServerBin(cacheDir);
  }
  if (missing.length) {
    const root = typeof process.getuid === 'function' && process.getuid() === 0;
    const sudo = root ? [] : ['sudo'];
    log(`installing Debian packages: ${missing.join(' ')}`);
    const apt = (args: string[]) => (sudo.length ? run('sudo', ['apt-get', ...args], { log }) : run('apt-get', args, { log }));
    apt(['update', '-qq']);
    apt(['install', '-y', '-qq', '--no-install-recommends', ...missing]);
  }
  if (have !== CODE_SERVER_VERSION) {
    seedRipgrepCache(log);
    mkdirSync(cacheDir, { recursive: true });
    // npm 11.10+ runs dependencies' install scripts only when package.json allows them
    // (older npm ignores the field): code-server's postinstall installs VS Code's
    // own modules, argon2's builds its native part.
    writeFileSync(
      join(cacheDir, 'package.json'),
      JSON.stringify({ private: true, description: 'code-server for tests (scripts/code-server.sh)', allowScripts: { 'code-server': true, argon2: true } }, null, 2) + '\n',
    );
    log(`installing code-server ${CODE_SERVER_VERSION} into ${cacheDir} (about 300 MB, 1-2 minutes)`);
    rmSync(installMarker(cacheDir), { force: true });
    // A half-finished install (scripts skipped or failed) is not repaired by `npm install`: start clean.
    rmSync(join(cacheDir, 'node_modules'), { recursive: true, force: true });
    rmSync(join(cacheDir, 'package-lock.json'), { force: true });
    const install = () => run('npm', ['install', '--no-audit', '--no-fund', '--fetch-retries=4', '--prefix', cacheDir, `code-server@${CODE_SERVER_VERSION}`], {
      log,
      env: {
        ...process.env,
        // code-server's postinstall refuses to run as root without it.
        npm_config_unsafe_perm: 'true',
        // node-pty's postinstall runs `npx node-gyp`.
        npm_config_yes: 'true',
        // node-gyp takes Node's headers from the nodejs package instead of downloading them.
        npm_config_nodedir: process.env.npm_config_nodedir ?? (existsSync('/usr/include/node/node.h') ? '/usr' : ''),
      },
    });
    try {
      install();
    } catch (e) {
      // A dropped connection to the registry should not fail a whole CI run: once more, from clean.
      log(`${(e as Error).message}; trying once more from a clean folder`);
      rmSync(join(cacheDir, 'node_modules'), { recursive: true, force: true });
      rmSync(join(cacheDir, 'package-lock.json'), { force: true });
      install();
    }
    writeFileSync(installMarker(cacheDir), JSON.stringify({ version: CODE_SERVER_VERSION, installedAt: new Date().toISOString() }) + '\n');
    const now = installedVersion(cacheDir);
    if (now !== CODE_SERVER_VERSION) throw new Error(`code-server install finished but ${codeServerBin(cacheDir)} is not version ${CODE_SERVER_VERSION} (found ${now ?? 'nothing'}).`);
  }
  log(`code-server ${CODE_SERVER_VERSION} ready in ${cacheDir}`);
  return codeServerBin(cacheDir);
}

// ---------------------------------------------------------------------------
// Running it

export interface StartOptions {
  /** Folder to open. */
  workspace: string;
  /** Port on 127.0.0.1. Default: a free one. */
  port?: number;
  cacheDir?: string;
  /**
   * Where the server keeps user data, extensions and config. Reuse the same
   * folder to keep state (settings, open editors, trust) across restarts.
   * Default: a fresh temporary folder, removed by stop().
   */
  stateDir?: string;
  /** Trust every folder (default true). Pass false to see Restricted Mode. */
  trustWorkspace?: boolean;
  /** Extra user settings, merged over the quiet defaults. */
  settings?: Record<string, unknown>;
  /** Extension folders to install (linked as `<publisher>.<name>-<version>` into the extensions folder). */
  extensions?: string[];
  /** Extra environment for the server and its extension host. */
  env?: NodeJS.ProcessEnv;
  /** How long to wait for /healthz. Default 30 s. */
  startTimeoutMs?: number;
  /** More command-line arguments for code-server (e.g. `--log trace`). */
  args?: string[];
}

export interface WorkbenchUrlOptions {
  /** Folder to open (default: the server's workspace). */
  folder?: string;
  /** Load the extension in this folder in development mode. */
  extensionDevelopmentPath?: string;
  /** An extension test module (exports `run(): Promise<void>`), run inside the extension host. */
  extensionTestsPath?: string;
}

export interface CodeServer {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly stateDir: string;
  readonly userDataDir: string;
  readonly extensionsDir: string;
  /** The server's own log (stdout and stderr). */
  readonly logFile: string;
  /** The page to open in a browser. */
  workbenchUrl(opts?: WorkbenchUrlOptions): string;
  /**
   * Stops the server and waits for it to exit (the temporary state folder is
   * removed). With `saveLogsTo`, the server's log and its logs folder (window,
   * extension host, output channels) are copied there first.
   */
  stop(opts?: { saveLogsTo?: string }): Promise<void>;
}

export const QUIET_SETTINGS: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'update.mode': 'none',
  'security.workspace.trust.startupPrompt': 'never',
  'window.restoreWindows': 'none',
  'chat.commandCenter.enabled': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  // Desktop VS Code's default. In a browser VS Code saves every change after a
  // second, so a test could not tell a saved notebook from an edited one.
  'files.autoSave': 'off',
};

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => res(port));
    });
  });
}

function healthy(url: string): Promise<boolean> {
  return new Promise((res) => {
    const req = request(`${url}/healthz`, { timeout: 1000 }, (r) => {
      r.resume();
      res(r.statusCode === 200);
    });
    req.on('error', () => res(false));
    req.on('timeout', () => {
      req.destroy();
      res(false);
    });
    req.end();
  });
}

/** `<publisher>.<name>-<version>`, the folder name VS Code expects in its extensions folder. */
export function extensionFolderName(extensionDir: string): string {
  const pkg = JSON.parse(readFileSync(join(extensionDir, 'package.json'), 'utf8')) as { publisher?: string; name?: string; version?: string };
  if (!pkg.publisher || !pkg.name || !pkg.version) throw new Error(`${extensionDir}/package.json needs publisher, name and version.`);
  return `${pkg.publisher}.${pkg.name}-${pkg.version}`;
}

/** Links an unpacked extension into an extensions folder (replacing an older link of the same name). */
export function linkExtension(extensionsDir: string, extensionDir: string): string {
  mkdirSync(extensionsDir, { recursive: true });
  const link = join(extensionsDir, extensionFolderName(extensionDir));
  try {
    const st = lstatSync(link);
    if (st.isSymbolicLink() && resolve(readlinkSync(link)) === resolve(extensionDir)) return link;
    if (!st.isSymbolicLink()) throw new Error(`${link} exists and is not a link; remove it first.`);
    unlinkSync(link);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  symlinkSync(resolve(extensionDir), link, 'dir');
  return link;
}

/** The folders of a server state: user data, extensions, config, data. */
function stateFolders(stateDir: string) {
  return {
    userDataDir: join(stateDir, 'user-data'),
    extensionsDir: join(stateDir, 'extensions'),
    configDir: join(stateDir, 'config'),
    dataDir: join(stateDir, 'data'),
  };
}

/** The environment code-server runs with: no marketplace, config and data inside the state folder. */
function serverEnv(stateDir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const f = stateFolders(stateDir);
  return {
    ...process.env,
    ...extra,
    // No marketplace: these machines cannot reach one, and tests must not depend on it.
    EXTENSIONS_GALLERY: '{}',
    XDG_CONFIG_HOME: f.configDir,
    XDG_DATA_HOME: f.dataDir,
  };
}

/**
 * Installs a packaged extension (.vsix) into the extensions folder of a server
 * state, as `code-server --install-extension` does for users; start the server
 * with the same `stateDir` to use it. Returns the installed extension's folder.
 */
export function installVsix(vsix: string, opts: { stateDir: string; cacheDir?: string; log?: (line: string) => void }): string {
  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  if (installedVersion(cacheDir) !== CODE_SERVER_VERSION) {
    throw new Error(`code-server ${CODE_SERVER_VERSION} is not installed in ${cacheDir}: run \`bash scripts/code-server.sh install\` first.`);
  }
  if (!existsSync(vsix)) throw new Error(`${vsix} does not exist: run npm run package first.`);
  const f = stateFolders(resolve(opts.stateDir));
  for (const d of Object.values(f)) mkdirSync(d, { recursive: true });
  const args = ['--install-extension', resolve(vsix), '--force', '--extensions-dir', f.extensionsDir, '--user-data-dir', f.userDataDir];
  (opts.log ?? (() => undefined))(`code-server ${args.join(' ')}`);
  const r = spawnSync(codeServerBin(cacheDir), args, { env: serverEnv(resolve(opts.stateDir)), encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`code-server --install-extension ${vsix} failed (${r.error?.message ?? `exit ${r.status}`}): ${r.stderr || r.stdout}`);
  const pkg = JSON.parse(readFileSync(join(findRepoRoot(), 'package.json'), 'utf8')) as { publisher: string; name: string; version: string };
  const installed = join(f.extensionsDir, `${pkg.publisher}.${pkg.name}-${pkg.version}`);
  if (!existsSync(join(installed, 'package.json'))) throw new Error(`After installing ${vsix}, ${installed} is missing. code-server said: ${r.stdout}${r.stderr}`);
  return installed;
}

/** Starts code-server on 127.0.0.1 and waits until it answers. */
export async function startCodeServer(opts: StartOptions): Promise<CodeServer> {
  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  const bin = codeServerBin(cacheDir);
  if (installedVersion(cacheDir) !== CODE_SERVER_VERSION) {
    throw new Error(`code-server ${CODE_SERVER_VERSION} is not installed in ${cacheDir}: run \`bash scripts/code-server.sh install\` first.`);
  }
  const workspace = resolve(opts.workspace);
  if (!existsSync(workspace)) throw new Error(`The workspace folder ${workspace} does not exist.`);
  const port = opts.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  if (await healthy(url)) throw new Error(`Something already answers on ${url}; stop it or pick another port.`);
  const temporary = opts.stateDir === undefined;
  const stateDir = resolve(opts.stateDir ?? mkdtempSync(join(tmpdir(), 'aenb-code-server-')));
  const { userDataDir, extensionsDir, configDir, dataDir } = stateFolders(stateDir);
  for (const d of [join(userDataDir, 'User'), extensionsDir, configDir, dataDir]) mkdirSync(d, { recursive: true });
  const settingsFile = join(userDataDir, 'User', 'settings.json');
  let existing: Record<string, unknown> = {};
  if (existsSync(settingsFile)) {
    try {
      existing = JSON.parse(readFileSync(settingsFile, 'utf8')) as Record<string, unknown>;
    } catch {
      existing = {};
    }
  }
  writeFileSync(settingsFile, JSON.stringify({ ...QUIET_SETTINGS, ...existing, ...opts.settings }, null, 2) + '\n');
  for (const ext of opts.extensions ?? []) linkExtension(extensionsDir, ext);

  const args = [
    '--auth', 'none',
    '--bind-addr', `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    '--user-data-dir', userDataDir,
    '--extensions-dir', extensionsDir,
  ];
  if (opts.trustWorkspace !== false) args.push('--disable-workspace-trust');
  args.push(...(opts.args ?? []), workspace);
  const logFile = join(stateDir, `code-server-${port}.log`);
  const logStream = createWriteStream(logFile, { flags: 'a' });
  const child: ChildProcess = spawn(bin, args, {
    env: serverEnv(stateDir, opts.env),
    // Not the caller's folder (e.g. this repository): VS Code's TypeScript server works from
    // here and would pick up this repository's node_modules/@types for untitled files.
    cwd: workspace,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(logStream, { end: false });
  child.stderr?.pipe(logStream, { end: false });
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  let exitInfo: string | undefined;
  child.once('exit', (code, signal) => (exitInfo = signal ? `signal ${signal}` : `exit code ${code}`));
  writeFileSync(join(stateDir, `code-server-${port}.pid`), `${child.pid}\n`);

  let logClosed: Promise<void> | undefined;
  /** Ends the process and closes its log (once); the state folder is still there. */
  const halt = async () => {
    if (exitInfo === undefined) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    logClosed ??= new Promise<void>((r) => logStream.end(() => r()));
    await logClosed;
  };
  const stop = async (o: { saveLogsTo?: string } = {}) => {
    await halt();
    if (o.saveLogsTo) {
      mkdirSync(o.saveLogsTo, { recursive: true });
      if (existsSync(logFile)) copyFileSync(logFile, join(o.saveLogsTo, 'code-server.log'));
      const logs = join(userDataDir, 'logs');
      if (existsSync(logs)) cpSync(logs, join(o.saveLogsTo, 'server-logs'), { recursive: true });
    }
    rmSync(join(stateDir, `code-server-${port}.pid`), { force: true });
    if (temporary) rmSync(stateDir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (opts.startTimeoutMs ?? 30_000);
  while (!(await healthy(url))) {
    if (exitInfo !== undefined) {
      await halt();
      const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n').slice(-15).join('\n') : '';
      await stop().catch(() => undefined);
      throw new Error(`code-server exited during start-up (${exitInfo})${tail ? `; its last output:\n${tail}` : ''}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`code-server did not answer on ${url}/healthz within ${(opts.startTimeoutMs ?? 30_000) / 1000} s.`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }

  return {
    url,
    port,
    pid: child.pid ?? -1,
    stateDir,
    userDataDir,
    extensionsDir,
    logFile,
    workbenchUrl: (w: WorkbenchUrlOptions = {}) => workbenchUrl(url, { folder: w.folder ?? workspace, ...w }),
    stop,
  };
}

/**
 * The workbench page. Development mode and extension tests go through the
 * URL's `payload` (code-server rejects the CLI flags); paths become
 * `vscode-remote://<host>/<abs path>` URIs.
 */
export function workbenchUrl(serverUrl: string, opts: WorkbenchUrlOptions & { folder: string }): string {
  const host = new URL(serverUrl).host;
  const remote = (p: string) => `vscode-remote://${host}${resolve(p)}`;
  const payload: [string, string][] = [];
  if (opts.extensionDevelopmentPath) payload.push(['extensionDevelopmentPath', remote(opts.extensionDevelopmentPath)]);
  if (opts.extensionTestsPath) payload.push(['extensionTestsPath', remote(opts.extensionTestsPath)]);
  const q = new URLSearchParams({ folder: resolve(opts.folder) });
  if (payload.length) q.set('payload', JSON.stringify(payload));
  return `${serverUrl}/?${q.toString()}`;
}
