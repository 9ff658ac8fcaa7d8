// The declarations cells are typed with: dist/cell-types.json, written at
// build time by scripts/cell-types.mjs (TensorFlow.js's own declarations,
// @types/node, TypeScript's standard library and the kernel's globals,
// generated from src/kernel). Read once per process and served from memory.
import ts from 'typescript';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

export const CELL_TYPES_FILE = 'cell-types.json';
const SUPPORTED_FORMAT = 1;

/** The JSON written by scripts/cell-types.mjs. */
export interface CellTypesJson {
  format: number;
  typescript: string;
  compilerOptions: Record<string, unknown>;
  rootFiles: string[];
  defaultLibFileName: string;
  cellModules: { tfjs: string; library: string };
  globals: string[];
  files: Record<string, string>;
}

export class CellTypes {
  readonly files: ReadonlyMap<string, string>;
  readonly directories: ReadonlySet<string>;
  readonly compilerOptions: ts.CompilerOptions;
  private readonly snapshots = new Map<string, ts.IScriptSnapshot>();

  constructor(readonly json: CellTypesJson) {
    if (json.format !== SUPPORTED_FORMAT) {
      throw new Error(`cell types: format ${json.format} is not the one this build reads (${SUPPORTED_FORMAT}); rebuild (npm run build)`);
    }
    this.files = new Map(Object.entries(json.files));
    const dirs = new Set<string>();
    for (const f of this.files.keys()) {
      for (let d = path.posix.dirname(f); d !== '/' && !dirs.has(d); d = path.posix.dirname(d)) dirs.add(d);
    }
    this.directories = dirs;
    const converted = ts.convertCompilerOptionsFromJson(json.compilerOptions, '/');
    if (converted.errors.length) {
      throw new Error(`cell types: bad compiler options: ${converted.errors.map((e) => ts.flattenDiagnosticMessageText(e.messageText, ' ')).join('; ')}`);
    }
    this.compilerOptions = converted.options;
  }

  snapshot(file: string): ts.IScriptSnapshot | undefined {
    let s = this.snapshots.get(file);
    if (!s) {
      const text = this.files.get(file);
      if (text === undefined) return undefined;
      s = ts.ScriptSnapshot.fromString(text);
      this.snapshots.set(file, s);
    }
    return s;
  }
}

let cached: { file: string; types: CellTypes } | undefined;

/**
 * Loads the bundle: `file`, or cell-types.json beside this bundle (dist/), or
 * dist/cell-types.json above the working directory's package (tests).
 */
export function loadCellTypes(file?: string): CellTypes {
  const candidates = file ? [file] : [path.join(__dirname, CELL_TYPES_FILE), path.join(__dirname, '..', '..', '..', 'dist', CELL_TYPES_FILE)];
  const found = candidates.find((c) => existsSync(c));
  if (!found) {
    throw new Error(`The declarations of the notebook globals (${CELL_TYPES_FILE}) are missing: looked in ${candidates.join(', ')}. Run "npm run build".`);
  }
  if (cached?.file === found) return cached.types;
  const types = new CellTypes(JSON.parse(readFileSync(found, 'utf8')) as CellTypesJson);
  cached = { file: found, types };
  return types;
}
