// Generates dist/cell-types.json: every declaration file the editor and
// `aenb check` need to type notebook cells, in one JSON bundle that
// src/language/ serves to its TypeScript language service from memory.
//
// Nothing in it is written by hand. The kernel's globals are read from the
// type `CellGlobals` (src/kernel/runtime.ts: the return type of the method
// that builds what cells see), so a global or a `show.*` function added to
// the kernel appears here at the next build:
//
//   /aenb/src/**.d.ts            declarations emitted from our sources (src/lib,
//                                src/kernel, src/common: what CellGlobals reaches)
//   /aenb/node_modules/autoencoder-notebooks/index.d.ts
//                                the module `import ... from 'autoencoder-notebooks'`
//                                gives: one export per property of CellGlobals (a
//                                re-export when the kernel passes an imported class,
//                                function or namespace through, so it keeps its type
//                                meaning and docs; else a const of the property's type)
//   /aenb/globals.d.ts           `declare global`: each of those exports is a global
//   /aenb/cell-modules/*.d.ts    what a cell's import of '@tensorflow/tfjs' or
//                                'autoencoder-notebooks' binds (with the default
//                                import the kernel allows)
//   /aenb/node_modules/...       TensorFlow.js's own declarations, @types/node (cells
//                                run in Node: process, Buffer, setTimeout...), and the
//                                package.json files module resolution reads
//   /aenb/typescript/lib.*.d.ts  TypeScript's standard library, only the files needed
//
// Only files a probe program over that layout actually loads are kept (about
// 760 files). The bundle also records the compiler options cells are checked
// with, so that the generator and the language service cannot disagree.
//
// Usage: import { generateCellTypes } from './cell-types.mjs' (build.mjs does),
// or `node scripts/cell-types.mjs` to regenerate by hand.
import ts from 'typescript';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const VROOT = '/aenb';
const LIB_MODULE = 'autoencoder-notebooks';
const GLOBALS_TYPE = 'CellGlobals';
export const BUNDLE_FORMAT = 1;

/** How cells are checked. Cells run in the kernel's Node (20 or later). */
const CELL_COMPILER_OPTIONS = {
  target: 'es2022',
  module: 'esnext',
  moduleResolution: 'bundler',
  lib: ['es2023'],
  strict: true,
  skipLibCheck: true,
  allowJs: true,
  checkJs: true,
  noEmit: true,
  esModuleInterop: true,
  allowSyntheticDefaultImports: true,
  resolveJsonModule: false,
  types: [],
};

const toPosix = (p) => p.split(sep).join('/');

function fail(message) {
  const e = new Error(`cell types: ${message}`);
  e.name = 'CellTypesError';
  throw e;
}

function formatDiagnostics(diags) {
  return ts.formatDiagnostics(diags, {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => process.cwd(),
    getNewLine: () => '\n',
  });
}

function sha1(text) {
  return createHash('sha1').update(text).digest('hex');
}

/** The project's compiler options, set up to emit declarations into memory. */
function declarationOptions(root) {
  const configPath = join(root, 'tsconfig.json');
  const read = ts.readConfigFile(configPath, ts.sys.readFile);
  if (read.error) fail(formatDiagnostics([read.error]));
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, root, undefined, configPath);
  return {
    ...parsed.options,
    noEmit: false,
    declaration: true,
    emitDeclarationOnly: true,
    declarationMap: false,
    sourceMap: false,
    inlineSourceMap: false,
    composite: false,
    incremental: false,
    rootDir: join(root, 'src'),
    outDir: join(root, '.cell-types-out'),
    // A member marked `/** @internal */` in src/lib stays out of what cells see (completions, hovers).
    stripInternal: true,
  };
}

/** Finds the one exported `CellGlobals` type among our sources. */
function findGlobalsType(program, checker, srcDir) {
  const found = [];
  for (const sf of program.getSourceFiles()) {
    if (!sf.fileName.startsWith(toPosix(srcDir) + '/') || sf.isDeclarationFile) continue;
    const moduleSymbol = checker.getSymbolAtLocation(sf);
    const sym = moduleSymbol?.exports?.get(GLOBALS_TYPE);
    if (sym) found.push({ sym, file: sf.fileName });
  }
  if (found.length === 0) {
    fail(
      `no exported type ${GLOBALS_TYPE} found under src/ (reached from src/kernel/main.ts). ` +
        'The kernel module that builds the cell globals must export `type CellGlobals` (the type of the object it installs on globalThis).',
    );
  }
  if (found.length > 1) fail(`${GLOBALS_TYPE} is exported more than once: ${found.map((f) => f.file).join(', ')}`);
  return found[0];
}

function docComment(symbol, checker) {
  const text = ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim();
  const tags = symbol
    .getJsDocTags(checker)
    .map((t) => `@${t.name}${t.text ? ' ' + ts.displayPartsToString(t.text) : ''}`)
    .join('\n');
  const body = [text, tags].filter(Boolean).join('\n');
  if (!body) return '';
  return `/**\n${body
    .split('\n')
    .map((l) => ` * ${l.replace(/\*\//g, '*\\/')}`.trimEnd())
    .join('\n')}\n */\n`;
}

/**
 * For each property of CellGlobals, how the library module exports it: a
 * re-export of what the kernel imported (class, function, namespace: all its
 * meanings and docs survive), or a const of the property's type.
 */
function describeGlobals(program, checker, globals, srcDir) {
  const type = checker.getDeclaredTypeOfSymbol(globals.sym);
  const props = checker.getPropertiesOfType(type);
  if (props.length === 0) fail(`${GLOBALS_TYPE} (${globals.file}) has no properties: is it still the type of the object the kernel installs?`);
  const out = [];
  for (const prop of props) {
    const name = prop.getName();
    const decl = prop.valueDeclaration;
    let target;
    if (decl && ts.isShorthandPropertyAssignment(decl)) target = checker.getShorthandAssignmentValueSymbol(decl);
    else if (decl && ts.isPropertyAssignment(decl) && ts.isIdentifier(decl.initializer)) target = checker.getSymbolAtLocation(decl.initializer);
    const importDecl = target && target.flags & ts.SymbolFlags.Alias ? target.declarations?.[0] : undefined;
    const statement = importDecl && ts.findAncestor(importDecl, ts.isImportDeclaration);
    if (importDecl && statement && !statement.importClause?.isTypeOnly && ts.isStringLiteral(statement.moduleSpecifier)) {
      let spec = statement.moduleSpecifier.text;
      if (spec.startsWith('.')) {
        const from = dirname(statement.getSourceFile().fileName);
        const abs = toPosix(resolve(from, spec));
        spec = `${VROOT}/src/${toPosix(relative(toPosix(srcDir), abs))}`;
      }
      const imported = ts.isImportSpecifier(importDecl)
        ? (importDecl.propertyName ?? importDecl.name).text
        : ts.isNamespaceImport(importDecl)
          ? '*'
          : 'default';
      out.push({ name, kind: 'reexport', spec, imported });
    } else {
      out.push({ name, kind: 'const', doc: docComment(prop, checker) });
    }
  }
  return out;
}

/** The specifier for `spec` as seen from a file in `fromDir` (both virtual). */
function relativeSpec(fromDir, spec) {
  if (!spec.startsWith('/')) return spec;
  let rel = toPosix(relative(fromDir, spec));
  if (!rel.startsWith('.')) rel = './' + rel;
  return rel;
}

function libraryModule(globals, globalsFile) {
  const dir = `${VROOT}/node_modules/${LIB_MODULE}`;
  const typesFrom = relativeSpec(dir, `${VROOT}/src/${globalsFile.replace(/\.ts$/, '')}`);
  const lines = [
    `// The module 'autoencoder-notebooks' as a notebook cell imports it: the kernel's globals.`,
    `// Generated by scripts/cell-types.mjs from ${GLOBALS_TYPE} (src/${globalsFile}); do not edit.`,
    `import type { ${GLOBALS_TYPE} as __CellGlobals } from '${typesFrom}';`,
  ];
  for (const g of globals) {
    if (g.kind === 'reexport') {
      const from = relativeSpec(dir, g.spec);
      if (g.imported === '*') lines.push(`export * as ${g.name} from '${from}';`);
      else lines.push(`export { ${g.imported === g.name ? g.name : `${g.imported} as ${g.name}`} } from '${from}';`);
    } else {
      lines.push(`${g.doc}export declare const ${g.name}: __CellGlobals['${g.name}'];`);
    }
  }
  return lines.join('\n') + '\n';
}

function globalsFile(globals) {
  return [
    `// The kernel's globals: what a notebook cell can use without importing.`,
    `// Generated by scripts/cell-types.mjs; do not edit.`,
    `import * as __lib from '${LIB_MODULE}';`,
    `declare global {`,
    ...globals.map((g) => `  export import ${g.name} = __lib.${g.name};`),
    `}`,
    `export {};`,
    '',
  ].join('\n');
}

/** A module a cell's import binds: everything, and the namespace as the default import (as the kernel does). */
function cellModule(target) {
  return [
    `// What a notebook cell's \`import ... from\` this module binds (the kernel gives the`,
    `// namespace itself for a default import). Generated by scripts/cell-types.mjs.`,
    `import * as __ns from '${target}';`,
    `export * from '${target}';`,
    `export default __ns;`,
    '',
  ].join('\n');
}

const PACKAGE_FIELDS = ['name', 'version', 'types', 'typings', 'main', 'module', 'exports', 'typesVersions', 'type'];

/**
 * Builds the bundle. Returns { bundle, inputs } where inputs maps each source
 * file read from the project (not node_modules) to its hash.
 */
export function buildCellTypes(root) {
  const srcDir = join(root, 'src');
  const nodeModules = join(root, 'node_modules');
  const tsLibDir = dirname(ts.getDefaultLibFilePath({}));

  // 1. Declarations of our sources, in memory.
  const options = declarationOptions(root);
  const program = ts.createProgram([join(srcDir, 'kernel', 'main.ts')], options);
  const checker = program.getTypeChecker();
  const globals = findGlobalsType(program, checker, srcDir);
  const described = describeGlobals(program, checker, globals, srcDir);
  const emitted = new Map();
  const emitDiagnostics = new Map();
  const outDir = toPosix(options.outDir);
  for (const sf of program.getSourceFiles()) {
    if (sf.isDeclarationFile || !sf.fileName.startsWith(toPosix(srcDir) + '/')) continue;
    const rel = toPosix(relative(toPosix(srcDir), sf.fileName)).replace(/\.tsx?$/, '.d.ts');
    const result = program.emit(
      sf,
      (fileName, text) => {
        if (fileName.endsWith('.d.ts')) emitted.set(`${VROOT}/src/${toPosix(relative(outDir, toPosix(fileName)))}`, text);
      },
      undefined,
      true,
    );
    const diags = [...result.diagnostics, ...program.getDeclarationDiagnostics(sf)];
    if (diags.length) emitDiagnostics.set(`${VROOT}/src/${rel}`, diags);
  }
  const inputs = {};
  for (const sf of program.getSourceFiles()) {
    if (!sf.fileName.startsWith(toPosix(nodeModules) + '/')) inputs[toPosix(relative(root, sf.fileName))] = sha1(sf.text);
  }

  // 2. The generated files.
  const globalsRel = toPosix(relative(toPosix(srcDir), globals.file));
  const generated = new Map([
    [`${VROOT}/node_modules/${LIB_MODULE}/index.d.ts`, libraryModule(described, globalsRel)],
    [`${VROOT}/globals.d.ts`, globalsFile(described)],
    [`${VROOT}/cell-modules/tfjs.d.ts`, cellModule('@tensorflow/tfjs')],
    [`${VROOT}/cell-modules/${LIB_MODULE}.d.ts`, cellModule(LIB_MODULE)],
  ]);

  // 3. A probe program over the virtual layout decides which files ship.
  const realPath = (p) => {
    if (p.startsWith(`${VROOT}/node_modules/`)) return join(nodeModules, p.slice(`${VROOT}/node_modules/`.length));
    if (p.startsWith(`${VROOT}/typescript/`)) return join(tsLibDir, p.slice(`${VROOT}/typescript/`.length));
    return undefined;
  };
  const memory = (p) => generated.get(p) ?? emitted.get(p);
  const read = new Map();
  const readFile = (p) => {
    if (read.has(p)) return read.get(p);
    let text = memory(p);
    if (text === undefined) {
      const real = realPath(p);
      if (real && existsSync(real) && statSync(real).isFile()) text = readFileSync(real, 'utf8');
    }
    if (text !== undefined && p.endsWith('/package.json')) {
      const json = JSON.parse(text);
      text = JSON.stringify(Object.fromEntries(PACKAGE_FIELDS.filter((k) => k in json).map((k) => [k, json[k]])));
    }
    if (text !== undefined) read.set(p, text);
    return text;
  };
  const memoryDirs = new Set();
  for (const p of [...generated.keys(), ...emitted.keys()]) {
    for (let d = dirname(p); d !== '/' && !memoryDirs.has(d); d = dirname(d)) memoryDirs.add(d);
  }
  const probeCell = `${VROOT}/probe/cell.ts`;
  const probeText = [
    `import * as t from '../cell-modules/tfjs';`,
    `import lib from '../cell-modules/${LIB_MODULE}';`,
    ...described.map((g) => `void ${g.name};`),
    `void t; void lib;`,
    `export {};`,
  ].join('\n');
  const converted = ts.convertCompilerOptionsFromJson(CELL_COMPILER_OPTIONS, VROOT);
  if (converted.errors.length) fail(`bad cell compiler options:\n${formatDiagnostics(converted.errors)}`);
  const cellOptions = converted.options;
  const rootFiles = [`${VROOT}/globals.d.ts`, `${VROOT}/node_modules/@types/node/index.d.ts`];
  const host = {
    getSourceFile: (f, lang) => {
      const text = f === probeCell ? probeText : readFile(f);
      return text === undefined ? undefined : ts.createSourceFile(f, text, lang, true);
    },
    getDefaultLibFileName: () => `${VROOT}/typescript/lib.d.ts`,
    writeFile: () => undefined,
    getCurrentDirectory: () => VROOT,
    getCanonicalFileName: (f) => f,
    useCaseSensitiveFileNames: () => true,
    getNewLine: () => '\n',
    fileExists: (f) => f === probeCell || readFile(f) !== undefined,
    readFile: (f) => (f === probeCell ? probeText : readFile(f)),
    directoryExists: (d) => {
      if (memoryDirs.has(d) || d === VROOT) return true;
      const real = realPath(d + '/');
      return !!real && existsSync(real) && statSync(real).isDirectory();
    },
    realpath: (p) => p,
    getDirectories: () => [],
  };
  const probe = ts.createProgram([...rootFiles, probeCell], cellOptions, host);
  const probeDiagnostics = [
    ...probe.getOptionsDiagnostics(),
    ...probe.getGlobalDiagnostics(),
    ...[probeCell, ...generated.keys()].flatMap((f) => {
      const sf = probe.getSourceFile(f);
      return sf ? [...probe.getSyntacticDiagnostics(sf), ...probe.getSemanticDiagnostics(sf)] : [];
    }),
  ];
  if (probeDiagnostics.length) fail(`the generated declarations do not type-check:\n${formatDiagnostics(probeDiagnostics)}`);
  // Every global must keep a real type (a private method or an untyped value would leave `any`).
  const probeChecker = probe.getTypeChecker();
  const untyped = probe
    .getSourceFile(probeCell)
    .statements.filter((st) => ts.isExpressionStatement(st) && ts.isVoidExpression(st.expression) && ts.isIdentifier(st.expression.expression))
    .map((st) => st.expression.expression)
    .filter((id) => probeChecker.getTypeAtLocation(id).flags & ts.TypeFlags.Any)
    .map((id) => id.text);
  // A global whose members became a string index (`show` built from a table that lost its types) types nothing.
  const indexed = probe
    .getSourceFile(probeCell)
    .statements.filter((st) => ts.isExpressionStatement(st) && ts.isVoidExpression(st.expression) && ts.isIdentifier(st.expression.expression))
    .map((st) => st.expression.expression)
    .filter((id) => probeChecker.getTypeAtLocation(id).getStringIndexType() !== undefined)
    .map((id) => id.text);
  if (indexed.length) {
    fail(
      `these cell globals have a string index type instead of their members: ${indexed.join(', ')}. ` +
        'For show: every output kind must declare its kernel part with `satisfies KernelPart` and its index with `satisfies OutputKind<...>` (src/outputs/registry.ts, ShowApi).',
    );
  }
  if (untyped.length) {
    fail(`these cell globals have type any in the generated declarations: ${untyped.join(', ')}. Is ${GLOBALS_TYPE} the return type of a method that is not private, and does the value have a type?`);
  }

  const files = {};
  const loaded = probe
    .getSourceFiles()
    .map((sf) => sf.fileName)
    .filter((f) => f !== probeCell)
    .sort();
  for (const f of loaded) {
    const diags = emitDiagnostics.get(f);
    if (diags) fail(`declarations of ${f.slice(VROOT.length + 1)} could not be emitted:\n${formatDiagnostics(diags)}`);
    files[f] = readFile(f);
  }
  for (const [p, text] of [...read.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    if (p.endsWith('/package.json')) files[p] = text;
  }
  const bundle = {
    format: BUNDLE_FORMAT,
    typescript: ts.version,
    compilerOptions: CELL_COMPILER_OPTIONS,
    rootFiles,
    defaultLibFileName: `${VROOT}/typescript/lib.d.ts`,
    cellModules: { tfjs: `${VROOT}/cell-modules/tfjs.d.ts`, library: `${VROOT}/cell-modules/${LIB_MODULE}.d.ts` },
    globals: described.map((g) => g.name),
    files,
  };
  return { bundle, inputs };
}

function inputsKey(root, inputs) {
  const self = readFileSync(fileURLToPath(import.meta.url), 'utf8');
  const extra = ['tsconfig.json', 'package-lock.json'].map((f) => (existsSync(join(root, f)) ? readFileSync(join(root, f), 'utf8') : ''));
  return sha1([ts.version, self, ...extra, ...Object.entries(inputs).map(([f, h]) => `${f}:${h}`)].join('\n'));
}

/**
 * Writes `outFile` unless it is up to date (same inputs as recorded in it).
 * Returns 'fresh' or 'written'.
 */
export function generateCellTypes({ root, outFile }) {
  if (existsSync(outFile)) {
    try {
      const old = JSON.parse(readFileSync(outFile, 'utf8'));
      const recorded = old.inputs ?? {};
      const current = {};
      let known = Object.keys(recorded).length > 0;
      for (const f of Object.keys(recorded)) {
        const p = join(root, f);
        if (!existsSync(p)) {
          known = false;
          break;
        }
        current[f] = sha1(readFileSync(p, 'utf8'));
      }
      if (known && old.inputsKey === inputsKey(root, current) && old.format === BUNDLE_FORMAT) return 'fresh';
    } catch {
      // unreadable: regenerate
    }
  }
  const { bundle, inputs } = buildCellTypes(root);
  const text = JSON.stringify({ ...bundle, inputs, inputsKey: inputsKey(root, inputs) });
  mkdirSync(dirname(outFile), { recursive: true });
  const tmp = `${outFile}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, outFile);
  return 'written';
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const t0 = Date.now();
  const outFile = join(root, 'dist', 'cell-types.json');
  const state = generateCellTypes({ root, outFile });
  console.log(`[cell-types] ${outFile}: ${state} in ${Date.now() - t0} ms`);
}
