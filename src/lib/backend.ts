/**
 * Choosing and starting the TensorFlow.js backend.
 *
 * `auto` prefers the native TensorFlow binding (`@tensorflow/tfjs-node`, an
 * optional dependency that not every machine can install), then the embedded
 * WebAssembly backend (SIMD, runs everywhere), then the pure-JS CPU backend.
 * Whatever happens, the caller learns which backend is active and why.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { installLeanLayersFit } from './lean/fit';
import { installWasmFastKernels, installWasmGatherFix, installWasmGradientKernels, installWasmMatMulFix } from './wasm-kernels';
import { installKernelErrorMessages } from './kernel-errors';
import { installCpuKernelFixes } from './cpu-kernels';

import { BACKEND_CHOICES, isBackendChoice, type BackendChoice, type BackendName } from '../common/backends';

export { BACKEND_CHOICES, isBackendChoice, type BackendChoice, type BackendName };

export interface BackendAttempt {
  backend: BackendName;
  ok: boolean;
  /** Why it could not be used, when `ok` is false. */
  error?: string;
}

export interface BackendInfo {
  /** What was asked for. */
  requested: BackendChoice;
  /** The backend actually running. */
  name: BackendName;
  /** One sentence for people: why this backend is the one running. */
  reason: string;
  /** Every backend tried, in order. */
  attempts: BackendAttempt[];
  /** True when the requested backend could not start and another took over. */
  fellBack: boolean;
  /** For wasm: whether the SIMD binary is in use. */
  simd?: boolean;
  /** For wasm: where the .wasm binaries were loaded from. */
  wasmDir?: string;
  tfjsVersion: string;
}

export interface BackendOptions {
  /**
   * Where to look for `@tensorflow/tfjs-node` besides the normal module
   * resolution (a folder containing `node_modules`, or the package folder).
   */
  tfjsNodePath?: string;
  /** Folder holding the tfjs-backend-wasm `.wasm` binaries (found automatically when absent). */
  wasmDir?: string;
  /** Keep the library's faster replacements of stock wasm kernels off (matMul, gather, conv input gradient, max-pool gradient), for benchmarks comparing both. */
  disableWasmMatMulFix?: boolean;
}

export class BackendError extends Error {
  constructor(message: string, readonly attempts: BackendAttempt[]) {
    super(message);
    this.name = 'BackendError';
  }
}

let active: BackendInfo | undefined;

/** The backend started by `initBackend`, if any. */
export function activeBackend(): BackendInfo | undefined {
  return active;
}


/**
 * Finds the folder with the wasm binaries: next to the running bundle
 * (`dist/wasm/`, the layout that ships in the extension) or inside the
 * installed `@tensorflow/tfjs-backend-wasm` package.
 */
export function findWasmDir(explicit?: string): string {
  const candidates: string[] = [];
  if (explicit) candidates.push(explicit);
  if (process.env.AENB_WASM_DIR) candidates.push(process.env.AENB_WASM_DIR);
  // `__dirname` is the bundle's folder when bundled (dist/), the source folder otherwise.
  candidates.push(path.join(__dirname, 'wasm'), path.join(__dirname, '..', 'wasm'), path.join(__dirname, '..', 'dist', 'wasm'));
  try {
    const req = createRequire(__filename);
    candidates.push(path.join(path.dirname(req.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist'));
  } catch {
    // Not installed as a package: only the bundled layout can work.
  }
  const binary = 'tfjs-backend-wasm-simd.wasm';
  const found = candidates.find((dir) => existsSync(path.join(dir, binary)));
  if (!found) {
    throw new Error(
      `The WebAssembly backend's binaries (${binary}) were not found. Looked in: ${candidates.join(', ')}. ` +
        'Reinstall the extension, or set AENB_WASM_DIR to the folder that holds the .wasm files.',
    );
  }
  return found;
}

/**
 * Loads `@tensorflow/tfjs-node` so that it registers its backend with *our*
 * copy of TensorFlow.js: while it loads, its `require('@tensorflow/tfjs')`
 * calls get the instance this library uses (which, once bundled, is not the
 * one in node_modules).
 */
function loadTfjsNode(options: BackendOptions): void {
  const Module = require('node:module') as { _load: (request: string, parent: unknown, isMain: boolean) => unknown };
  const originalLoad = Module._load;
  const shared: Record<string, unknown> = { '@tensorflow/tfjs': tf, '@tensorflow/tfjs-core': tf, '@tensorflow/tfjs-layers': tf };
  Module._load = function (request: string, parent: unknown, isMain: boolean) {
    if (request in shared) return shared[request];
    return originalLoad.call(this, request, parent, isMain);
  };
  try {
    const searchFrom = [options.tfjsNodePath, process.env.AENB_TFJS_NODE_PATH, process.cwd(), __dirname].filter(
      (p): p is string => typeof p === 'string' && p.length > 0,
    );
    const req = createRequire(__filename);
    let resolved: string | undefined;
    const errors: string[] = [];
    for (const from of searchFrom) {
      try {
        resolved = req.resolve('@tensorflow/tfjs-node', { paths: [from] });
        break;
      } catch {
        errors.push(from);
      }
    }
    if (!resolved) {
      throw new Error(`@tensorflow/tfjs-node is not installed (looked from ${errors.join(', ')})`);
    }
    req(resolved);
  } finally {
    Module._load = originalLoad;
  }
}

async function tryTensorflow(options: BackendOptions): Promise<void> {
  loadTfjsNode(options);
  if (!(await tf.setBackend('tensorflow'))) throw new Error('the tensorflow backend failed to initialise');
}

async function tryWasm(options: BackendOptions, info: Partial<BackendInfo>): Promise<void> {
  const dir = findWasmDir(options.wasmDir);
  try {
    setWasmPaths(dir.endsWith(path.sep) ? dir : dir + path.sep);
  } catch {
    // Already initialised earlier in this process with a path: keep that one.
  }
  // Gradient kernels the backend lacks (conv2d's filter gradient...) or gets wrong: without them those layers cannot train.
  installWasmGradientKernels();
  installCpuKernelFixes(); // the cpu backend stays available (and is the reference tests compare with)
  if (!options.disableWasmMatMulFix) {
    installWasmMatMulFix();
    // Batches are gathered by row (tfjs's own model.fit gathers every batch this way too).
    installWasmGatherFix();
    installWasmFastKernels();
    // tfjs's own LayersModel.fit takes the lean training step too, when the model allows (see lean/fit.ts).
    installLeanLayersFit();
  }
  if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend failed to initialise');
  info.simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT') as boolean;
  info.wasmDir = dir;
}

async function tryCpu(): Promise<void> {
  installCpuKernelFixes();
  if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend failed to initialise');
}

function message(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (e && typeof e === 'object' && 'message' in e) return String((e as { message: unknown }).message);
  return String(e);
}

/**
 * Starts the requested backend (falling back as `auto` does when it cannot
 * start) and reports what is running and why.
 */
export async function initBackend(requested: BackendChoice = 'auto', options: BackendOptions = {}): Promise<BackendInfo> {
  if (!isBackendChoice(requested)) {
    throw new BackendError(`Unknown backend "${String(requested)}": choose one of ${BACKEND_CHOICES.join(', ')}.`, []);
  }
  const order: BackendName[] =
    requested === 'auto' || requested === 'tensorflow' ? ['tensorflow', 'wasm', 'cpu'] : requested === 'wasm' ? ['wasm', 'cpu'] : ['cpu'];
  const attempts: BackendAttempt[] = [];
  const extra: Partial<BackendInfo> = {};
  for (const name of order) {
    try {
      if (name === 'tensorflow') await tryTensorflow(options);
      else if (name === 'wasm') await tryWasm(options, extra);
      else await tryCpu();
      attempts.push({ backend: name, ok: true });
      quietCpuHint();
      installKernelErrorMessages();
      const fellBack = requested !== 'auto' && requested !== name;
      active = {
        requested,
        name,
        reason: describe(requested, name, attempts),
        attempts,
        fellBack,
        tfjsVersion: tf.version.tfjs,
        ...extra,
      };
      return active;
    } catch (e) {
      attempts.push({ backend: name, ok: false, error: message(e) });
    }
  }
  throw new BackendError(
    `No TensorFlow.js backend could start: ${attempts.map((a) => `${a.backend}: ${a.error}`).join('; ')}`,
    attempts,
  );
}

/**
 * tfjs's CPU backend prints a "install tfjs-node" banner to the console the
 * first time it stores a tensor. We report the backend choice and its reason
 * ourselves, so the banner would only repeat it, in the middle of a cell's output.
 */
function quietCpuHint(): void {
  const cpu = tf.findBackend('cpu') as unknown as { firstUse?: boolean } | null;
  if (cpu && 'firstUse' in cpu) cpu.firstUse = false;
}

function describe(requested: BackendChoice, name: BackendName, attempts: BackendAttempt[]): string {
  const failed = attempts.filter((a) => !a.ok);
  const why = failed.map((a) => `${a.backend} unavailable (${a.error})`).join('; ');
  const label: Record<BackendName, string> = {
    tensorflow: 'native TensorFlow (tfjs-node)',
    wasm: 'WebAssembly (embedded default)',
    cpu: 'pure-JS CPU (slowest)',
  };
  if (failed.length === 0) {
    return requested === 'auto' ? `Using ${label[name]}: the fastest backend available.` : `Using ${label[name]}, as requested.`;
  }
  return `Using ${label[name]}: ${why}.`;
}
