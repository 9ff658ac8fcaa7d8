// One job, hence one file of over 400 lines: the cell transform and the
// mapping of its positions back to the cell (they share the rewrite plan).
// Turns a notebook cell (TypeScript or JavaScript) into a script that the
// kernel runs with `vm.runInContext(code, context, { filename })`. The
// script's completion value is a Promise of the cell's last expression value.
//
// Pipeline: sucrase strips TypeScript types (keeping every line where it was),
// acorn parses the result, and a list of text edits rewrites the top level:
//
// * The cell body is wrapped in `(async () => { "use strict"; ... })()` so
//   that top-level `await` works. The wrapper's prefix sits on line 1 before
//   the user's first character and its suffix after the last line, so line N
//   of the cell is line N of the script (columns on line 1 are shifted by
//   CELL_PREFIX_LENGTH; `mapPosition` undoes this and every other column shift).
//
// * Strict mode: TypeScript and ES modules are strict, so cells are too.
//   Assigning to an undeclared name is a ReferenceError instead of silently
//   creating a global, and `this` at the top level is the context's global.
//
// * Top-level declarations persist, like a REPL: each becomes a property of
//   the context's global object, which later cells read as a free identifier.
//     const a = 1, { b, c: [d = 2, ...e] } = obj;
//       -> ;__aenb_unlock(["a","b","d","e"]);(globalThis.a = 1),
//          ({ b: globalThis.b, c: [globalThis.d = 2, ...globalThis.e] } = obj);__aenb_lock([...]);
//     class A {}        -> globalThis.A = class A {};
//     function f() {}   -> unchanged; published as globalThis.f on entry to
//                          the cell (hoisted, as JavaScript hoists it)
//     var v             -> globalThis.v is created (undefined) on entry if absent
//   `const` (and import) bindings are made read-only properties, so `x = 2`
//   in a later cell throws a TypeError; re-running a cell (or redeclaring the
//   name with let/const/var/class/function in any cell) replaces the binding.
//   Within the cell that declares it a function name is also a local binding.
//   Declarations inside functions, blocks and loops are untouched (a `var` in
//   a top-level `for` stays local to the cell).
//
// * Imports become calls of `__aenb_import(specifier)`, which the kernel puts
//   on the context's global object (it may return the module namespace or a
//   Promise of it); the imported names persist like `const`s:
//     import * as tf from '@tensorflow/tfjs'          tf = namespace
//     import { Autoencoder as AE } from '...'          AE = namespace.Autoencoder
//     import tfDefault from '...'                      namespace.default if the
//                                                      namespace has one, else the namespace (CommonJS interop)
//   A named import the module does not have is bound to a getter that throws
//   "'X' is not exported by 'module'" when read (not at import time, because
//   TypeScript code imports types that do not exist at run time). Dynamic
//   `import(x)` calls `__aenb_import(x)` too. Imports run where they stand,
//   not hoisted above the cell as ES modules would.
//
// * `export` before a declaration is dropped (the declaration persists anyway);
//   `export {}` is dropped; other exports (`export default`, `export { a }`,
//   `export * from`) are syntax errors: cells cannot export.
//
// * Last expression: when the last top-level statement (ignoring empty
//   statements and TypeScript-only declarations, which sucrase removes) is an
//   expression statement, its value is the cell's value, whether or not it
//   ends with a semicolon (as in Node's REPL: TypeScript style puts semicolons
//   everywhere). Because the wrapper is async, a Promise value is awaited.
//
// Names starting with `__aenb_` are reserved for the wrapper.

import { decode } from '@jridgewell/sourcemap-codec';
import { transform as sucrase } from 'sucrase';
import { parse as acornParse, type AnyNode, type Pattern, type Program, type VariableDeclaration } from 'acorn';

/** The module name of our library in `import ... from`. */
export const LIBRARY_MODULE = 'autoencoder-notebooks';
/** Module specifiers cells may import (the kernel decides; this is the list it is meant to use). */
export const ALLOWED_MODULES: readonly string[] = ['@tensorflow/tfjs', '@tensorflow/tfjs-core', '@tensorflow/tfjs-layers', LIBRARY_MODULE];
/** The function the kernel must define on the context's global object: `(specifier: string) => unknown | Promise<unknown>`. */
export const IMPORT_FUNCTION = '__aenb_import';

const HOIST = '__aenb_hoist';
const UNLOCK = '__aenb_unlock';
const LOCK = '__aenb_lock';
const BIND = '__aenb_bind';
const DYNAMIC_IMPORT = '__aenb_dynamic_import';
const RESERVED_PREFIX = '__aenb_';
const NAMESPACE_LINE = /^([ \t]*)(?:export[ \t]+)?(?:namespace|module)[ \t]+[A-Za-z_$][\w$.]*[ \t]*\{/;

/** Everything before the user's first character, on line 1. */
export const CELL_PREFIX = `(async () => { "use strict"; ${HOIST}(); `;
export const CELL_PREFIX_LENGTH = CELL_PREFIX.length;

export interface TransformOptions {
  language: 'typescript' | 'javascript';
  /** The name the kernel passes as `filename` to vm; used in messages. */
  fileName: string;
  /** If given, importing any other module is a CellSyntaxError at the import. */
  allowedModules?: readonly string[];
}

export interface SourcePosition {
  /** 1-based. */
  line: number;
  /** 1-based, in UTF-16 code units (as V8 stack traces count). */
  column: number;
}

export interface TransformedCell {
  /** The script to run; evaluates to a Promise of the last expression's value. */
  code: string;
  /** Top-level names the cell defines (declarations and imports), in source order. */
  declared: string[];
  /** Whether the cell ends with an expression statement whose value it resolves to. */
  hasLastExpression: boolean;
  fileName: string;
  /**
   * Maps a position in `code` (as in a stack frame `fileName:line:column`) to
   * the cell source. Lines are always equal; columns differ where types were
   * stripped or declarations rewritten earlier on the line, and on line 1.
   * Undefined for positions in the wrapper's own code after the cell.
   */
  mapPosition(line: number, column: number): SourcePosition | undefined;
}

/** A syntax error in a cell, located in the cell's own source. */
export class CellSyntaxError extends SyntaxError {
  override readonly name = 'SyntaxError';
  constructor(
    /** The problem, without location. */
    readonly reason: string,
    readonly fileName: string,
    /** 1-based. */
    readonly line: number,
    /** 1-based. */
    readonly column: number,
    /** The offending line with its neighbours and a caret under the column. */
    readonly codeFrame: string,
  ) {
    super(`${reason} (${fileName}:${line}:${column})`);
    this.stack = `SyntaxError: ${this.message}\n${codeFrame}`;
  }
}

// ---------------------------------------------------------------------------
// Positions

const LINE_BREAK = /\r\n?|\n|\u2028|\u2029/g;

/** Offsets where each line starts; lines end as in ECMAScript ("\r\n", "\n", "\r", U+2028, U+2029). */
function esLineStarts(text: string): number[] {
  const starts = [0];
  for (const m of text.matchAll(LINE_BREAK)) starts.push((m.index ?? 0) + m[0].length);
  return starts;
}

/** Offsets where each line starts, counting "\n" only (how sucrase's source map counts). */
function lfLineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/** Index of the line containing `offset`. */
function lineIndex(starts: readonly number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function countLineBreaks(text: string): number {
  return (text.match(LINE_BREAK) ?? []).length;
}

/** A code frame: the line before, the line, a caret line, the line after. */
export function codeFrame(source: string, line: number, column: number): string {
  const lines = source.split(LINE_BREAK);
  const first = Math.max(1, line - 1);
  const last = Math.min(lines.length, line + 1);
  const width = String(last).length;
  const out: string[] = [];
  for (let n = first; n <= last; n++) {
    const text = lines[n - 1] ?? '';
    out.push(`${n === line ? '>' : ' '} ${String(n).padStart(width)} | ${text}`);
    if (n === line) {
      const lead = text.slice(0, Math.max(0, column - 1)).replace(/[^\t]/g, ' ');
      out.push(`  ${' '.repeat(width)} | ${lead}^`);
    }
  }
  return out.join('\n');
}

// Sucrase source map ("mappings" of a version 3 source map, decoded by
// @jridgewell/sourcemap-codec): for each generated line, segments
// [generatedColumn, sourceLine, sourceColumn] (absolute, 0-based).
type Segment = [number, number, number];

function decodeMappings(mappings: string): Segment[][] {
  return decode(mappings).map((line) => line.filter((seg) => seg.length >= 4).map((seg) => [seg[0], seg[2] as number, seg[3] as number] as Segment));
}

/** Maps offsets in sucrase's output back to the original source. */
class SucraseMap {
  private readonly lines: Segment[][];
  private readonly outStarts: number[];
  private readonly srcStarts: number[];

  constructor(mappings: string, output: string, private readonly source: string) {
    this.lines = decodeMappings(mappings);
    this.outStarts = lfLineStarts(output);
    this.srcStarts = lfLineStarts(source);
  }

  toSource(offset: number): number {
    const line = lineIndex(this.outStarts, offset);
    const col = offset - this.outStarts[line];
    const segments = this.lines[line] ?? [];
    let best: Segment | undefined;
    for (const seg of segments) {
      if (seg[0] <= col) best = seg;
      else break;
    }
    // Sucrase keeps lines; before the first token of a line, columns are unchanged.
    const [srcLine, srcCol] = best ? [best[1], best[2] + (col - best[0])] : [line, col];
    const lineStart = this.srcStarts[srcLine] ?? this.source.length;
    const lineEnd = srcLine + 1 < this.srcStarts.length ? this.srcStarts[srcLine + 1] - 1 : this.source.length;
    return Math.min(lineStart + srcCol, Math.max(lineStart, lineEnd));
  }
}

// ---------------------------------------------------------------------------
// Edits

interface Edit {
  start: number;
  end: number;
  text: string;
  seq: number;
}

class Edits {
  readonly list: Edit[] = [];

  replace(start: number, end: number, text: string): void {
    this.list.push({ start, end, text, seq: this.list.length });
  }

  insert(at: number, text: string): void {
    this.replace(at, at, text);
  }

  /** Sorts (insertions before a replacement at the same place) and applies. */
  apply(input: string): string {
    this.list.sort((a, b) => a.start - b.start || (a.end - a.start === 0 ? 0 : 1) - (b.end - b.start === 0 ? 0 : 1) || a.seq - b.seq);
    let out = '';
    let pos = 0;
    for (const e of this.list) {
      if (e.start < pos) throw new Error(`internal error: overlapping cell rewrites at offset ${e.start}`);
      out += input.slice(pos, e.start) + e.text;
      pos = e.end;
    }
    return out + input.slice(pos);
  }

  /** An offset in the edited text back to the input (positions inside inserted text map to its start). */
  toInput(offset: number): number {
    let delta = 0;
    for (const e of this.list) {
      const genStart = e.start + delta;
      if (offset < genStart) break;
      if (offset < genStart + e.text.length) return e.start;
      delta += e.text.length - (e.end - e.start);
    }
    return offset - delta;
  }
}

// ---------------------------------------------------------------------------
// The transform

type Node = AnyNode;

function* children(node: Node): Generator<Node> {
  for (const [key, value] of Object.entries(node)) {
    if (key === 'loc') continue;
    if (Array.isArray(value)) {
      for (const v of value) if (v && typeof v === 'object' && typeof (v as Node).type === 'string') yield v as Node;
    } else if (value && typeof value === 'object' && typeof (value as Node).type === 'string') {
      yield value as Node;
    }
  }
}

/** Names bound by a pattern, in order. */
function patternNames(p: Pattern, out: string[] = []): string[] {
  switch (p.type) {
    case 'Identifier':
      out.push(p.name);
      break;
    case 'ObjectPattern':
      for (const prop of p.properties) patternNames(prop.type === 'RestElement' ? prop.argument : prop.value, out);
      break;
    case 'ArrayPattern':
      for (const el of p.elements) if (el) patternNames(el, out);
      break;
    case 'RestElement':
      patternNames(p.argument, out);
      break;
    case 'AssignmentPattern':
      patternNames(p.left, out);
      break;
    case 'MemberExpression':
      break;
  }
  return out;
}

const global = (name: string) => `globalThis.${name}`;
const names = (list: readonly string[]) => `[${list.map((n) => JSON.stringify(n)).join(',')}]`;

/** Runtime helpers, appended after the cell (function declarations are hoisted). */
function helpers(opts: { hoistFunctions: string[]; hoistVars: string[]; bind: boolean; dynamicImport: boolean }): string {
  const hoist = [
    ...(opts.hoistFunctions.length ? [`${UNLOCK}(${names(opts.hoistFunctions)});`] : []),
    ...opts.hoistFunctions.map((f) => `${global(f)} = ${f};`),
    ...opts.hoistVars.map((v) => `if (!(${JSON.stringify(v)} in globalThis)) ${global(v)} = undefined;`),
  ];
  const parts = [
    `function ${HOIST}() { ${hoist.join(' ')} }`,
    // Makes read-only (const) or accessor bindings writable again before a redeclaration, keeping the value.
    `function ${UNLOCK}(names) { for (const n of names) { const d = Object.getOwnPropertyDescriptor(globalThis, n);` +
      ` if (d && d.configurable && d.writable !== true) { delete globalThis[n]; if ("value" in d) globalThis[n] = d.value; } } }`,
    `function ${LOCK}(names) { for (const n of names) { const d = Object.getOwnPropertyDescriptor(globalThis, n);` +
      ` if (d && d.configurable && "value" in d) Object.defineProperty(globalThis, n, { value: d.value, writable: false, enumerable: true, configurable: true }); } }`,
  ];
  if (opts.bind) {
    parts.push(
      `async function ${BIND}(spec, bindings) {` +
        ` if (typeof ${IMPORT_FUNCTION} !== "function") throw new ReferenceError("${IMPORT_FUNCTION} is not defined: imports in cells need the Autoencoder Notebooks kernel");` +
        ` const ns = await ${IMPORT_FUNCTION}(spec);` +
        ` const isObj = ns !== null && (typeof ns === "object" || typeof ns === "function");` +
        ` for (const [name, local] of bindings) { ${UNLOCK}([local]);` +
        ` if (name === "*") globalThis[local] = ns;` +
        ` else if (name === "default") globalThis[local] = isObj && "default" in ns ? ns.default : ns;` +
        ` else if (isObj && name in ns) globalThis[local] = ns[name];` +
        ` else { const near = isObj ? Object.keys(ns).find((k) => k.toLowerCase() === name.toLowerCase()) : undefined;` +
        ` const msg = "'" + name + "' is not exported by '" + spec + "'" + (near ? "; did you mean '" + near + "'?" : "");` +
        ` Object.defineProperty(globalThis, local, { get() { throw new ReferenceError(msg); }, enumerable: false, configurable: true }); continue; }` +
        ` ${LOCK}([local]); } }`,
    );
  }
  if (opts.dynamicImport) {
    parts.push(`function ${DYNAMIC_IMPORT}(spec) { return new Promise((resolve) => resolve(${IMPORT_FUNCTION}(String(spec)))); }`);
  }
  return parts.join('\n');
}

/**
 * Transforms a cell's source for the kernel (see the file header).
 * @throws CellSyntaxError for syntax errors and unsupported top-level forms.
 */
export function transformCell(source: string, opts: TransformOptions): TransformedCell {
  const { fileName } = opts;
  const fail = (reason: string, sourceOffset: number): never => {
    const starts = esLineStarts(source);
    const offset = Math.max(0, Math.min(sourceOffset, source.length));
    const li = lineIndex(starts, offset);
    const line = li + 1;
    const column = offset - starts[li] + 1;
    throw new CellSyntaxError(reason, fileName, line, column, codeFrame(source, line, column));
  };
  const cleanMessage = (message: string) => message.replace(/\s*\(\d+:\d+\)$/, '');

  // 1. Types out.
  let js = source;
  let toSource = (offset: number) => offset;
  if (opts.language === 'typescript') {
    let result: ReturnType<typeof sucrase>;
    try {
      result = sucrase(source, {
        transforms: ['typescript'],
        disableESTransforms: true,
        keepUnusedImports: true,
        filePath: fileName,
        sourceMapOptions: { compiledFilename: fileName },
      });
    } catch (e) {
      const err = e as { message?: unknown; pos?: unknown };
      const message = typeof err.message === 'string' ? err.message : String(e);
      return fail(cleanMessage(message), typeof err.pos === 'number' ? err.pos : 0);
    }
    js = result.code;
    // Sucrase silently deletes namespaces, values included: refuse them rather than lose code.
    const outLines = js.split(LINE_BREAK);
    const starts = esLineStarts(source);
    source.split(LINE_BREAK).forEach((text, i) => {
      const m = NAMESPACE_LINE.exec(text);
      if (m && (outLines[i] ?? '').trim() === '') {
        fail(
          'TypeScript namespaces are not supported in cells (they would be dropped); use `declare namespace` for types, or an object or top-level declarations for values',
          starts[i] + m[1].length,
        );
      }
    });
    if (result.sourceMap) {
      const map = new SucraseMap(result.sourceMap.mappings, js, source);
      toSource = (offset) => map.toSource(offset);
    }
  } else if (opts.language !== 'javascript') {
    throw new TypeError(`unknown cell language ${JSON.stringify(opts.language)}; expected "typescript" or "javascript"`);
  }
  const failAt = (reason: string, jsOffset: number): never => fail(reason, toSource(jsOffset));

  // 2. Parse.
  let program: Program;
  try {
    program = acornParse(js, {
      ecmaVersion: 'latest',
      sourceType: 'module',
      allowAwaitOutsideFunction: true,
      locations: true,
    });
  } catch (e) {
    const err = e as { message?: unknown; pos?: unknown };
    const message = typeof err.message === 'string' ? err.message : String(e);
    return failAt(cleanMessage(message), typeof err.pos === 'number' ? err.pos : 0);
  }

  // 3. Rewrite the top level.
  const edits = new Edits();
  const declared: string[] = [];
  const hoistFunctions: string[] = [];
  const hoistVars: string[] = [];
  let bind = false;
  let dynamicImport = false;

  const declare = (name: string, at: number) => {
    if (name.startsWith(RESERVED_PREFIX)) failAt(`names starting with ${RESERVED_PREFIX} are reserved for the notebook kernel; rename '${name}'`, at);
    if (name === 'globalThis') failAt(`a cell cannot redeclare globalThis`, at);
    if (!declared.includes(name)) declared.push(name);
  };

  /** Rewrites a binding pattern into an assignment pattern onto globalThis. */
  const rewritePattern = (p: Pattern): void => {
    switch (p.type) {
      case 'Identifier':
        edits.replace(p.start, p.end, global(p.name));
        break;
      case 'ObjectPattern':
        for (const prop of p.properties) {
          if (prop.type === 'RestElement') rewritePattern(prop.argument);
          else if (prop.shorthand) {
            // `{ a }` / `{ a = 1 }`: key and value share the identifier.
            const id = prop.value.type === 'AssignmentPattern' ? prop.value.left : prop.value;
            if (id.type === 'Identifier') edits.replace(id.start, id.end, `${id.name}: ${global(id.name)}`);
            else failAt('unexpected shorthand property in a destructuring pattern', id.start);
          } else rewritePattern(prop.value);
        }
        break;
      case 'ArrayPattern':
        for (const el of p.elements) if (el) rewritePattern(el);
        break;
      case 'RestElement':
        rewritePattern(p.argument);
        break;
      case 'AssignmentPattern':
        rewritePattern(p.left);
        break;
      default:
        failAt(`unexpected ${p.type} in a declaration`, p.start);
    }
  };

  const rewriteVariables = (decl: VariableDeclaration): void => {
    if (decl.kind !== 'var' && decl.kind !== 'let' && decl.kind !== 'const') {
      failAt(`'${decl.kind}' declarations are not supported at the top level of a cell; use them inside a block or function`, decl.start);
    }
    const bound: string[] = [];
    for (const d of decl.declarations) {
      for (const name of patternNames(d.id)) {
        declare(name, d.id.start);
        bound.push(name);
        if (decl.kind === 'var' && !hoistVars.includes(name)) hoistVars.push(name);
      }
    }
    edits.replace(decl.start, decl.start + decl.kind.length, `;${UNLOCK}(${names(bound)});`);
    for (const d of decl.declarations) {
      if (d.init) {
        edits.insert(d.start, '(');
        rewritePattern(d.id);
        edits.insert(d.end, ')');
      } else if (d.id.type === 'Identifier') {
        edits.replace(d.start, d.end, decl.kind === 'var' ? 'void 0' : `(${global(d.id.name)} = void 0)`);
      } else {
        failAt('a destructuring declaration needs an initializer', d.start);
      }
    }
    const last = decl.declarations[decl.declarations.length - 1];
    const hasSemicolon = js[decl.end - 1] === ';';
    const tail = decl.kind === 'const' ? `;${LOCK}(${names(bound)})${hasSemicolon ? '' : ';'}` : hasSemicolon ? '' : ';';
    if (tail) edits.insert(last.end, tail);
  };

  const keepLines = (original: string, replacement: string) => replacement + '\n'.repeat(countLineBreaks(original));

  for (const stmt of program.body) {
    switch (stmt.type) {
      case 'ImportDeclaration': {
        const spec = String(stmt.source.value);
        if (opts.allowedModules && !opts.allowedModules.includes(spec)) {
          failAt(`cannot import '${spec}': cells can import ${opts.allowedModules.map((m) => `'${m}'`).join(', ')}`, stmt.source.start);
        }
        const bindings: Array<[string, string]> = [];
        for (const s of stmt.specifiers) {
          declare(s.local.name, s.local.start);
          if (s.type === 'ImportNamespaceSpecifier') bindings.push(['*', s.local.name]);
          else if (s.type === 'ImportDefaultSpecifier') bindings.push(['default', s.local.name]);
          else bindings.push([s.imported.type === 'Identifier' ? s.imported.name : String(s.imported.value), s.local.name]);
        }
        bind = true;
        const call = `;await ${BIND}(${JSON.stringify(spec)}, ${JSON.stringify(bindings)});`;
        edits.replace(stmt.start, stmt.end, keepLines(js.slice(stmt.start, stmt.end), call));
        break;
      }
      case 'ExportNamedDeclaration': {
        if (stmt.declaration) {
          edits.replace(stmt.start, stmt.start + 'export'.length, '');
          const d = stmt.declaration;
          if (d.type === 'VariableDeclaration') rewriteVariables(d);
          else if (d.type === 'FunctionDeclaration') {
            declare(d.id.name, d.id.start);
            if (!hoistFunctions.includes(d.id.name)) hoistFunctions.push(d.id.name);
          } else if (d.type === 'ClassDeclaration') {
            declare(d.id.name, d.id.start);
            edits.insert(d.start, `;${UNLOCK}(${names([d.id.name])});${global(d.id.name)} = `);
            edits.insert(d.end, ';');
          }
        } else if (stmt.specifiers.length === 0 && !stmt.source) {
          edits.replace(stmt.start, stmt.end, keepLines(js.slice(stmt.start, stmt.end), ';'));
        } else {
          failAt('cells cannot export; declare at the top level instead (top-level declarations are visible to later cells)', stmt.start);
        }
        break;
      }
      case 'ExportDefaultDeclaration':
      case 'ExportAllDeclaration':
        failAt('cells cannot export; declare at the top level instead (top-level declarations are visible to later cells)', stmt.start);
        break;
      case 'VariableDeclaration':
        rewriteVariables(stmt);
        break;
      case 'FunctionDeclaration':
        declare(stmt.id.name, stmt.id.start);
        if (!hoistFunctions.includes(stmt.id.name)) hoistFunctions.push(stmt.id.name);
        break;
      case 'ClassDeclaration':
        declare(stmt.id.name, stmt.id.start);
        edits.insert(stmt.start, `;${UNLOCK}(${names([stmt.id.name])});${global(stmt.id.name)} = `);
        edits.insert(stmt.end, ';');
        break;
    }
  }

  // Dynamic import() and import.meta anywhere in the cell.
  if (js.includes('import')) {
    const stack: Node[] = [program];
    while (stack.length) {
      const node = stack.pop() as Node;
      if (node.type === 'ImportExpression') {
        dynamicImport = true;
        edits.replace(node.start, node.start + 'import'.length, DYNAMIC_IMPORT);
      } else if (node.type === 'MetaProperty' && node.meta.name === 'import') {
        failAt('import.meta is not available in notebook cells', node.start);
      }
      for (const child of children(node)) stack.push(child);
    }
  }

  // The last expression.
  let last = program.body.length - 1;
  while (last >= 0 && program.body[last].type === 'EmptyStatement') last--;
  const lastStmt = last >= 0 ? program.body[last] : undefined;
  const hasLastExpression = lastStmt?.type === 'ExpressionStatement';
  if (lastStmt?.type === 'ExpressionStatement') {
    // Statement bounds, not the expression's: acorn's expression range excludes enclosing parentheses.
    edits.insert(lastStmt.start, 'return (');
    edits.insert(js[lastStmt.end - 1] === ';' ? lastStmt.end - 1 : lastStmt.end, ')');
  }

  const body = edits.apply(js);
  const suffix = `\n${helpers({ hoistFunctions, hoistVars, bind, dynamicImport })}\n})()`;
  const code = CELL_PREFIX + body + suffix;

  let codeStarts: number[] | undefined;
  let sourceStarts: number[] | undefined;
  const mapPosition = (line: number, column: number): SourcePosition | undefined => {
    codeStarts ??= esLineStarts(code);
    sourceStarts ??= esLineStarts(source);
    if (line < 1 || line > codeStarts.length) return undefined;
    const offset = codeStarts[line - 1] + column - 1 - CELL_PREFIX_LENGTH;
    if (offset >= body.length) return undefined;
    const src = Math.min(source.length, toSource(edits.toInput(Math.max(0, offset))));
    const li = lineIndex(sourceStarts, src);
    return { line: li + 1, column: src - sourceStarts[li] + 1 };
  };

  return { code, declared, hasLastExpression, fileName, mapPosition };
}

/**
 * Rewrites `fileName:line:column` locations in a stack trace from the
 * transformed code to the cell source, and drops frames of the wrapper's
 * helpers (which lie after the cell's last line).
 */
export function mapStackTrace(stack: string, cell: TransformedCell): string {
  const escaped = cell.fileName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const location = new RegExp(`${escaped}:(\\d+):(\\d+)`, 'g');
  return stack
    .split('\n')
    .filter((frame) => {
      // Drop "at ..." frames located in the wrapper's helpers.
      const m = /^\s*at /.test(frame) ? new RegExp(`${escaped}:(\\d+):(\\d+)`).exec(frame) : null;
      return !m || cell.mapPosition(Number(m[1]), Number(m[2])) !== undefined;
    })
    .map((frame) =>
      frame.replace(location, (whole, l: string, c: string) => {
        const p = cell.mapPosition(Number(l), Number(c));
        return p ? `${cell.fileName}:${p.line}:${p.column}` : whole;
      }),
    )
    .join('\n');
}
