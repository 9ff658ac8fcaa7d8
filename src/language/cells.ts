// How the language service sees a notebook: one TypeScript module per code
// cell, which sees the top-level declarations of the cells above it.
//
// Cell k of the notebook is the file `c<k>.ts` (or `.js`), whose text is a
// one-line header followed by the cell's own text, unchanged:
//
//   import { f, K } from './d3'; declare const x: typeof import('./d2').x; declare let n: typeof import('./d4').n; export { a, b };
//   <the cell, character for character>
//
// * The header binds every name declared at the top level of a cell above
//   (the latest declaration wins, as in a Run All) that this cell does not
//   declare itself. Variables are re-declared with their type (`const` stays
//   read-only, `let`/`var` can be assigned, as in the kernel, where they are
//   properties of globalThis, read-only for const); functions, classes,
//   interfaces, types, enums, namespaces and imports are imported, which keeps
//   every meaning they have (value, type, namespace) and their docs.
// * The header exports what this cell declares, so the cells below can bind it.
// * Each cell being a module of its own, what the kernel accepts type-checks:
//   re-declaring a const or a class in a later cell, top-level await, and a
//   last expression (a plain expression statement).
// * The header comes first, so a cell the user is still typing (an unclosed
//   brace, comment or string) cannot swallow it; and a cell's syntax error
//   stays in its own file.
// * The cells below bind a cell through `d<k>.d.ts`, the declarations
//   TypeScript emits for it (`declare const xTrain: tf.Tensor3D`), not through
//   its source: a new program (one per edit) then need not infer again the
//   types of every cell above the one being edited (service.ts keeps them up
//   to date).
// * Positions: offset in the file = header length + offset in the cell.
//   Nothing the header contains is ever shown: diagnostics located in it are
//   dropped, definitions that land in it or in a `d<k>.d.ts` are followed to
//   the declaring cell.
import ts from 'typescript';

/** How a top-level name is re-declared in the cells below. */
export type BindingKind = 'const' | 'let' | 'alias';

export interface CellScope {
  /** Top-level names the cell declares, in source order, and how they are bound below. */
  readonly declared: ReadonlyMap<string, BindingKind>;
  /** Names declared with an `export` modifier (the cell exports them itself). */
  readonly selfExported: ReadonlySet<string>;
  /** The cell starts with a `// @ts-nocheck` comment. */
  readonly noCheck: boolean;
}

function bindingNames(name: ts.BindingName, out: string[]): void {
  if (ts.isIdentifier(name)) out.push(name.text);
  else {
    for (const el of name.elements) {
      if (ts.isBindingElement(el)) bindingNames(el.name, out);
    }
  }
}

const hasModifier = (node: ts.Node, kind: ts.SyntaxKind) =>
  ts.canHaveModifiers(node) ? (ts.getModifiers(node) ?? []).some((m) => m.kind === kind) : false;

/** The top-level declarations of a cell, from its own parse (no header). */
export function cellScope(sourceFile: ts.SourceFile): CellScope {
  const declared = new Map<string, BindingKind>();
  const selfExported = new Set<string>();
  const add = (name: string, kind: BindingKind, exported: boolean) => {
    const prev = declared.get(name);
    // A name with a type meaning too (`interface A` + `const A`) must be imported; a var and a const: assignable.
    const merged: BindingKind = !prev ? kind : prev === 'alias' || kind === 'alias' ? 'alias' : prev === 'let' || kind === 'let' ? 'let' : 'const';
    declared.delete(name);
    declared.set(name, merged);
    if (exported) selfExported.add(name);
  };
  for (const st of sourceFile.statements) {
    const exported = hasModifier(st, ts.SyntaxKind.ExportKeyword) && !hasModifier(st, ts.SyntaxKind.DefaultKeyword);
    if (ts.isVariableStatement(st)) {
      const flags = st.declarationList.flags;
      const kind: BindingKind = flags & (ts.NodeFlags.Const | ts.NodeFlags.Using | ts.NodeFlags.AwaitUsing) ? 'const' : 'let';
      const names: string[] = [];
      for (const d of st.declarationList.declarations) bindingNames(d.name, names);
      for (const n of names) add(n, kind, exported);
    } else if (
      (ts.isFunctionDeclaration(st) ||
        ts.isClassDeclaration(st) ||
        ts.isInterfaceDeclaration(st) ||
        ts.isTypeAliasDeclaration(st) ||
        ts.isEnumDeclaration(st)) &&
      st.name
    ) {
      add(st.name.text, 'alias', exported);
    } else if (ts.isModuleDeclaration(st) && ts.isIdentifier(st.name)) {
      add(st.name.text, 'alias', exported);
    } else if (ts.isImportDeclaration(st) && st.importClause) {
      const c = st.importClause;
      if (c.name) add(c.name.text, 'alias', false);
      if (c.namedBindings) {
        if (ts.isNamespaceImport(c.namedBindings)) add(c.namedBindings.name.text, 'alias', false);
        else for (const el of c.namedBindings.elements) add(el.name.text, 'alias', false);
      }
    } else if (ts.isImportEqualsDeclaration(st)) {
      add(st.name.text, 'alias', exported);
    }
  }
  const noCheck = (ts.getLeadingCommentRanges(sourceFile.text, 0) ?? []).some((r) => /^\/\/\s*@ts-nocheck\b/.test(sourceFile.text.slice(r.pos, r.end)));
  return { declared, selfExported, noCheck };
}

/** A name bound by a header, for following definitions through it. */
export interface HeaderBinding {
  name: string;
  kind: BindingKind;
  /** The module (cell file, without extension) that declares it. */
  from: string;
  /** Offset (in the file) of the name after `import('...').`, where a definition lookup reaches the declaring cell. */
  qualifierOffset: number;
}

export interface CellHeader {
  /** The header text, ending with a line break. */
  text: string;
  bindings: HeaderBinding[];
}

/**
 * The header of a cell: binds `visible` (name → the module of the cell above
 * that declares it last, and how), except the names the cell declares itself,
 * and exports the cell's own declarations.
 */
export function cellHeader(own: CellScope, visible: ReadonlyMap<string, { from: string; kind: BindingKind }>): CellHeader {
  const imports = new Map<string, string[]>();
  const parts: string[] = [];
  const bindings: HeaderBinding[] = [];
  let length = 0;
  const push = (s: string) => {
    parts.push(s);
    length += s.length;
  };
  const typed: [string, { from: string; kind: BindingKind }][] = [];
  for (const [name, v] of visible) {
    if (own.declared.has(name)) continue;
    if (v.kind === 'alias') {
      const list = imports.get(v.from) ?? [];
      list.push(name);
      imports.set(v.from, list);
    } else typed.push([name, v]);
  }
  for (const [from, list] of imports) push(`import { ${list.join(', ')} } from '${from}'; `);
  for (const [name, v] of typed) {
    const head = `declare ${v.kind} ${name}: typeof import('${v.from}').`;
    bindings.push({ name, kind: v.kind, from: v.from, qualifierOffset: length + head.length });
    push(`${head}${name}; `);
  }
  const exports = [...own.declared.keys()].filter((n) => !own.selfExported.has(n));
  push(`export { ${exports.join(', ')} };\n`);
  return { text: parts.join(''), bindings };
}

/** The name node of the top-level declaration of `name` in a cell (the last one), from `from` (the cell's first character). */
export function findDeclaration(sourceFile: ts.SourceFile, name: string, from: number): ts.Node | undefined {
  let found: ts.Node | undefined;
  const bindingName = (n: ts.BindingName): ts.Node | undefined => {
    if (ts.isIdentifier(n)) return n.text === name ? n : undefined;
    for (const el of n.elements) {
      const hit = ts.isBindingElement(el) ? bindingName(el.name) : undefined;
      if (hit) return hit;
    }
    return undefined;
  };
  for (const st of sourceFile.statements) {
    if (st.end <= from) continue;
    let hit: ts.Node | undefined;
    if (ts.isVariableStatement(st)) {
      for (const d of st.declarationList.declarations) hit ??= bindingName(d.name);
    } else if (
      (ts.isFunctionDeclaration(st) || ts.isClassDeclaration(st) || ts.isInterfaceDeclaration(st) || ts.isTypeAliasDeclaration(st) || ts.isEnumDeclaration(st) || ts.isModuleDeclaration(st) || ts.isImportEqualsDeclaration(st)) &&
      st.name &&
      ts.isIdentifier(st.name) &&
      st.name.text === name
    ) {
      hit = st.name;
    } else if (ts.isImportDeclaration(st) && st.importClause) {
      const c = st.importClause;
      if (c.name?.text === name) hit = c.name;
      else if (c.namedBindings && ts.isNamespaceImport(c.namedBindings) && c.namedBindings.name.text === name) hit = c.namedBindings.name;
      else if (c.namedBindings && ts.isNamedImports(c.namedBindings)) hit = c.namedBindings.elements.find((e) => e.name.text === name)?.name;
    }
    if (hit) found = hit;
  }
  return found;
}
