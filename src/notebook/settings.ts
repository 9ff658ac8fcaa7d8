// The extension's settings, read and checked without `vscode`: the caller
// passes a getter (vscode.workspace.getConfiguration(SECTION).get).
import { homedir } from 'node:os';
import * as path from 'node:path';
import type { BackendChoiceName } from '../common/messages/kernel';

export const SECTION = 'autoencoderNotebooks';

/** `<publisher>.<name>` of package.json. */
export const EXTENSION_ID = 'aenb-team.autoencoder-notebooks';

/** Setting names (without the section). */
export const SETTING = {
  backend: 'backend',
  dataFolder: 'dataFolder',
  downloadMirror: 'downloadMirror',
  interruptGracePeriod: 'interruptGracePeriod',
  kernelGracePeriod: 'kernelGracePeriod',
  threads: 'threads',
  fusedMultiplyAdd: 'fusedMultiplyAdd',
} as const;

export { BACKEND_CHOICES, isBackendChoice } from '../common/backends';
import { BACKEND_CHOICES, isBackendChoice } from '../common/backends';

/** One line per choice: the same words as the setting's enumDescriptions. */
export const BACKEND_DESCRIPTIONS: Record<BackendChoiceName, string> = {
  auto: 'The fastest backend that works here: TensorFlow native if @tensorflow/tfjs-node is installed, else WebAssembly, else plain JavaScript.',
  tensorflow: 'TensorFlow native (C++) through @tensorflow/tfjs-node: fastest, needs that package installed beside the extension.',
  wasm: 'WebAssembly (XNNPACK, SIMD where available): fast, works everywhere, nothing to install.',
  cpu: 'Plain JavaScript: slowest, but the reference implementation; useful to rule out backend problems.',
};

export const DEFAULT_INTERRUPT_GRACE_SECONDS = 3;
/** How long a kernel lives on without its window (reload, quit, closed notebook with a running cell). */
export const DEFAULT_KERNEL_GRACE_SECONDS = 300;
export const MAX_KERNEL_GRACE_SECONDS = 7 * 24 * 3600;

/** The most training threads the setting accepts (the engine's limit). */
export const MAX_THREADS = 64;

export interface KernelSettings {
  backend: BackendChoiceName;
  /** Absolute data folder, when set. */
  dataDir?: string;
  mirror?: string;
  interruptGraceMs: number;
  /** 0: the kernel ends with its window (a child process); more: it outlives it that long (see src/kernel/lifetime.ts). */
  kernelGraceMs: number;
  /** Training threads: 'auto' (one per core) or a count. */
  threads: number | 'auto';
  /** Fused multiply-add for training on several threads ('auto': where the runtime has it). */
  fma: 'auto' | false;
  /** Settings that were ignored, and why (shown to the user once). */
  problems: string[];
}

export interface SettingsContext {
  /** The first workspace folder's path, for relative paths and ${workspaceFolder}. */
  workspaceFolder?: string;
  home?: string;
}

const key = (name: string) => `${SECTION}.${name}`;


/** Expands `~`, `${userHome}` and `${workspaceFolder}`; resolves relative paths against the workspace folder. */
export function resolveFolderSetting(raw: string, ctx: SettingsContext): { path?: string; problem?: string } {
  const home = ctx.home ?? homedir();
  let p = raw.trim();
  if (!p) return {};
  if (p === '~' || p.startsWith('~/') || p.startsWith('~\\')) p = home + p.slice(1);
  p = p.replace(/\$\{userHome\}/g, home);
  if (p.includes('${workspaceFolder}')) {
    if (!ctx.workspaceFolder) return { problem: `"${raw}" uses \${workspaceFolder}, but no folder is open` };
    p = p.replace(/\$\{workspaceFolder\}/g, ctx.workspaceFolder);
  }
  if (/\$\{[^}]*\}/.test(p)) return { problem: `"${raw}" uses a variable other than \${workspaceFolder} and \${userHome}` };
  if (!path.isAbsolute(p)) {
    if (!ctx.workspaceFolder) return { problem: `"${raw}" is a relative path, but no folder is open to resolve it against; use an absolute path` };
    p = path.join(ctx.workspaceFolder, p);
  }
  return { path: path.normalize(p) };
}

/** Reads and checks the kernel settings; invalid values fall back to the defaults, with a problem saying so. */
export function readKernelSettings(get: (name: string) => unknown, ctx: SettingsContext = {}): KernelSettings {
  const problems: string[] = [];
  const rawBackend = get(SETTING.backend) ?? 'auto';
  let backend: BackendChoiceName = 'auto';
  if (isBackendChoice(rawBackend)) backend = rawBackend;
  else problems.push(`${key(SETTING.backend)}: ${JSON.stringify(rawBackend)} is not one of ${BACKEND_CHOICES.join(', ')}; using auto.`);

  let dataDir: string | undefined;
  const rawData = get(SETTING.dataFolder) ?? '';
  if (typeof rawData !== 'string') problems.push(`${key(SETTING.dataFolder)} must be a folder path (text); ignoring it.`);
  else {
    const r = resolveFolderSetting(rawData, ctx);
    if (r.problem) problems.push(`${key(SETTING.dataFolder)}: ${r.problem}; ignoring it.`);
    dataDir = r.path;
  }

  let mirror: string | undefined;
  const rawMirror = get(SETTING.downloadMirror) ?? '';
  if (typeof rawMirror !== 'string') problems.push(`${key(SETTING.downloadMirror)} must be a URL (text); ignoring it.`);
  else if (rawMirror.trim()) {
    const m = rawMirror.trim();
    let url: URL | undefined;
    try {
      url = new URL(m);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      problems.push(`${key(SETTING.downloadMirror)}: "${m}" is not an http(s) URL; downloading from the official locations instead.`);
    } else mirror = m;
  }

  let interruptGraceMs = DEFAULT_INTERRUPT_GRACE_SECONDS * 1000;
  const rawGrace = get(SETTING.interruptGracePeriod);
  if (rawGrace !== undefined && rawGrace !== null) {
    if (typeof rawGrace !== 'number' || !Number.isFinite(rawGrace) || rawGrace < 0.1 || rawGrace > 3600) {
      problems.push(
        `${key(SETTING.interruptGracePeriod)}: ${JSON.stringify(rawGrace)} is not a number of seconds between 0.1 and 3600; using ${DEFAULT_INTERRUPT_GRACE_SECONDS}.`,
      );
    } else interruptGraceMs = Math.round(rawGrace * 1000);
  }
  let kernelGraceMs = DEFAULT_KERNEL_GRACE_SECONDS * 1000;
  const rawKernelGrace = get(SETTING.kernelGracePeriod);
  if (rawKernelGrace !== undefined && rawKernelGrace !== null) {
    if (typeof rawKernelGrace !== 'number' || !Number.isFinite(rawKernelGrace) || rawKernelGrace < 0 || rawKernelGrace > MAX_KERNEL_GRACE_SECONDS) {
      problems.push(
        `${key(SETTING.kernelGracePeriod)}: ${JSON.stringify(rawKernelGrace)} is not a number of seconds between 0 and ${MAX_KERNEL_GRACE_SECONDS}; using ${DEFAULT_KERNEL_GRACE_SECONDS}.`,
      );
    } else kernelGraceMs = Math.round(rawKernelGrace * 1000);
  }
  let threads: number | 'auto' = 'auto';
  const rawThreads = get(SETTING.threads);
  if (rawThreads !== undefined && rawThreads !== null && rawThreads !== 0) {
    if (typeof rawThreads !== 'number' || !Number.isInteger(rawThreads) || rawThreads < 0 || rawThreads > MAX_THREADS) {
      problems.push(`${key(SETTING.threads)}: ${JSON.stringify(rawThreads)} is not a whole number from 0 (one per core) to ${MAX_THREADS}; using one per core.`);
    } else threads = rawThreads;
  }

  let fma: 'auto' | false = 'auto';
  const rawFma = get(SETTING.fusedMultiplyAdd);
  if (rawFma === false) fma = false;
  else if (rawFma !== undefined && rawFma !== null && rawFma !== true) problems.push(`${key(SETTING.fusedMultiplyAdd)} must be true or false; using true.`);
  return { backend, dataDir, mirror, interruptGraceMs, kernelGraceMs, threads, fma, problems };
}

/**
 * Whether two settings need a different kernel process: the backend and the
 * compute engine's threads and fused multiply-add do, and whether it outlives
 * its window (a running kernel takes new data settings, see
 * {@link dataSettingsDiffer}, and new grace periods).
 */
export function kernelSettingsDiffer(a: KernelSettings, b: KernelSettings): boolean {
  return a.backend !== b.backend || a.threads !== b.threads || a.fma !== b.fma || (a.kernelGraceMs > 0) !== (b.kernelGraceMs > 0);
}

/** Whether the data folder or the mirror changed: a running kernel is told, and its next `loadData()` uses them. */
export function dataSettingsDiffer(a: KernelSettings, b: KernelSettings): boolean {
  return a.dataDir !== b.dataDir || a.mirror !== b.mirror;
}

/** A tab of VS Code's settings editor. */
export type SettingsTab = 'user' | 'remote' | 'workspace';

/** Where a setting is read from, as `WorkspaceConfiguration.inspect()` reports it (only what matters here). */
export interface SettingValues {
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

/**
 * The settings-editor tab where settings apply, so that "Open Settings" shows
 * them instead of "No Settings Found": the workspace when it sets one of them
 * (it wins there); in a remote window (code-server, SSH, containers) the
 * remote tab for machine-scoped settings, which the user tab does not list;
 * else the user tab.
 * @param scopes each setting's `scope` in the manifest (undefined: window)
 */
export function settingsTab(values: readonly (SettingValues | undefined)[], scopes: readonly (string | undefined)[], remote: boolean): SettingsTab {
  if (values.some((v) => v?.workspaceValue !== undefined || v?.workspaceFolderValue !== undefined)) return 'workspace';
  if (remote && scopes.some((s) => s === 'machine' || s === 'machine-overridable')) return 'remote';
  return 'user';
}

/** The settings editor's search text that lists exactly these settings (full keys). */
export function settingsQuery(keys: readonly string[]): string {
  return keys.map((k) => `@id:${k}`).join(' ');
}
