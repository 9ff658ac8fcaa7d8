// A TypeScript language service for one notebook: its code cells in
// notebook order (the order a Run All uses), each a module that sees the
// kernel's globals and the declarations of the cells above (see cells.ts),
// answering in the cells' own offsets. No vscode here: the extension runs it
// in a worker thread (worker.ts), `aenb check` in its own process.
import ts from 'typescript';
import { ALLOWED_MODULES, CellSyntaxError, LIBRARY_MODULE, transformCell } from '../kernel/transform';
import type {
  CellDiagnostic,
  CellInput,
  CellLanguage,
  CellSpan,
  CompletionDetails,
  CompletionEntry,
  CompletionList,
  DefinitionInfo,
  HoverInfo,
  Severity,
  SignatureHelpInfo,
  Target,
} from './api';
import type { CellTypes } from './bundle';
import { BindingKind, CellHeader, cellHeader, CellScope, cellScope, findDeclaration } from './cells';
import { docsMarkdown, partsText, stripAlias } from './docs';

/** Shared by every notebook's service in a process: the declaration files are parsed once. */
const sharedRegistry = ts.createDocumentRegistry(true, '/');

const TRIGGER_CHARACTERS = new Set<string>(['.', '"', "'", '`', '/', '@', '<', '#', ' ']);

/** TypeScript errors that a JavaScript cell does not get (implicit any: JavaScript has no annotations to add). */
const isImplicitAnyCode = (code: number) => code >= 7000 && code < 8000;
/** "Cannot find module": the kernel's own check says what cells can import instead. */
const MODULE_NOT_FOUND = new Set([2307, 2792]);

class CellSnapshot implements ts.IScriptSnapshot {
  constructor(readonly text: string) {}
  getText(start: number, end: number): string {
    return this.text.substring(start, end);
  }
  getLength(): number {
    return this.text.length;
  }
  /** The edited span, so that TypeScript re-parses incrementally. */
  getChangeRange(old: ts.IScriptSnapshot): ts.TextChangeRange | undefined {
    if (!(old instanceof CellSnapshot)) return undefined;
    const a = old.text;
    const b = this.text;
    let prefix = 0;
    const max = Math.min(a.length, b.length);
    while (prefix < max && a.charCodeAt(prefix) === b.charCodeAt(prefix)) prefix++;
    let suffix = 0;
    while (suffix < max - prefix && a.charCodeAt(a.length - 1 - suffix) === b.charCodeAt(b.length - 1 - suffix)) suffix++;
    return ts.createTextChangeRange(ts.createTextSpan(prefix, a.length - prefix - suffix), b.length - prefix - suffix);
  }
}

interface CellState {
  id: string;
  /** The module name of the cell's file, e.g. `./c3`. */
  module: string;
  /** The module name of the cell's declarations, e.g. `./d3` (what the cells below import). */
  declModule: string;
  declFileName: string;
  /** The cell's emitted declarations (`d3.d.ts`). */
  decl: CellSnapshot;
  declVersion: number;
  /** The declarations may no longer match the cell (or the cells above it changed theirs). */
  declStale: boolean;
  diagnosticsCache?: { key: string; suggestions: boolean; result: CellDiagnostic[] };
  /** The header as it is when every cell above is bound by its declarations: when it changes, so may the cell's. */
  canonicalHeader?: string;
  language: CellLanguage;
  text: string;
  version?: number;
  fileName: string;
  scope: CellScope;
  header: CellHeader;
  snapshot: CellSnapshot;
  /** Bumped whenever the file's text (header or cell) changes. */
  fileVersion: number;
  kernelCheck?: { text: string; language: CellLanguage; problem?: CellDiagnostic };
}

export interface DiagnosticsOptions {
  /** Also TypeScript's suggestions (unused code, deprecated APIs) as hints. */
  suggestions?: boolean;
}

let serviceCount = 0;

export class NotebookLanguageService {
  private readonly dir: string;
  private cells: CellState[] = [];
  private readonly byId = new Map<string, CellState>();
  private readonly byFile = new Map<string, CellState>();
  private readonly byDeclFile = new Map<string, CellState>();
  /** Cells from this index on are bound by their sources, not their declarations (while those are recomputed). */
  private sourceFrom = Number.POSITIVE_INFINITY;
  private nextKey = 1;
  private projectVersion = 0;
  private headersStale = false;
  private readonly ls: ts.LanguageService;
  private readonly moduleCache: ts.ModuleResolutionCache;

  constructor(private readonly types: CellTypes) {
    this.dir = `/aenb/notebook-${++serviceCount}`;
    const options = types.compilerOptions;
    this.moduleCache = ts.createModuleResolutionCache('/aenb', (f) => f, options);
    const host: ts.LanguageServiceHost = {
      getCompilationSettings: () => options,
      getProjectVersion: () => String(this.projectVersion),
      getScriptFileNames: () => [...types.json.rootFiles, ...this.cells.map((c) => c.fileName)],
      getScriptVersion: (f) => String(this.byFile.get(f)?.fileVersion ?? this.byDeclFile.get(f)?.declVersion ?? 0),
      getScriptSnapshot: (f) => this.byFile.get(f)?.snapshot ?? this.byDeclFile.get(f)?.decl ?? types.snapshot(f),
      getScriptKind: (f) => (f.endsWith('.js') ? ts.ScriptKind.JS : ts.ScriptKind.TS),
      getCurrentDirectory: () => '/aenb',
      getDefaultLibFileName: () => types.json.defaultLibFileName,
      useCaseSensitiveFileNames: () => true,
      fileExists: (f) => this.byFile.has(f) || this.byDeclFile.has(f) || types.files.has(f),
      readFile: (f) => this.byFile.get(f)?.snapshot.text ?? this.byDeclFile.get(f)?.decl.text ?? types.files.get(f),
      directoryExists: (d) => d === this.dir || types.directories.has(d) || d === '/aenb',
      getDirectories: () => [],
      realpath: (p) => p,
      resolveModuleNameLiterals: (literals, containingFile, redirected, opts) =>
        literals.map((lit) => this.resolveModule(lit.text, containingFile, redirected, opts)),

    };
    // Not in the public host interface, but read by the language service (as tsserver's hosts provide it): without
    // it every new program (one per edit) re-reads and parses the package.json above each of its ~800 files.
    (host as ts.LanguageServiceHost & { getModuleResolutionCache(): ts.ModuleResolutionCache }).getModuleResolutionCache = () => this.moduleCache;
    this.ls = ts.createLanguageService(host, sharedRegistry, ts.LanguageServiceMode.Semantic);
  }

  private resolveModule(
    spec: string,
    containingFile: string,
    redirected: ts.ResolvedProjectReference | undefined,
    options: ts.CompilerOptions,
  ): ts.ResolvedModuleWithFailedLookupLocations {
    if (this.byFile.has(containingFile) && ALLOWED_MODULES.includes(spec)) {
      // What the kernel's import gives: our library module, or all of TensorFlow.js for each of its package names.
      const file = spec === LIBRARY_MODULE ? this.types.json.cellModules.library : this.types.json.cellModules.tfjs;
      return { resolvedModule: { resolvedFileName: file, extension: ts.Extension.Dts, isExternalLibraryImport: true } };
    }
    const host: ts.ModuleResolutionHost = {
      fileExists: (f) => this.byFile.has(f) || this.byDeclFile.has(f) || this.types.files.has(f),
      readFile: (f) => this.byFile.get(f)?.snapshot.text ?? this.byDeclFile.get(f)?.decl.text ?? this.types.files.get(f),
      directoryExists: (d) => d === this.dir || d === '/aenb' || this.types.directories.has(d),
      realpath: (p) => p,
      getCurrentDirectory: () => '/aenb',
      getDirectories: () => [],
    };
    const ours = this.byFile.has(containingFile) || this.byDeclFile.has(containingFile);
    return ts.resolveModuleName(spec, containingFile, options, host, ours ? undefined : this.moduleCache, redirected);
  }

  // -------------------------------------------------------------------------
  // Cells

  /** Sets the notebook's code cells, in notebook order. Cells keep their state by id. */
  setCells(cells: readonly CellInput[]): void {
    const next: CellState[] = [];
    const seen = new Set<string>();
    for (const input of cells) {
      if (seen.has(input.id)) throw new Error(`cell id ${JSON.stringify(input.id)} appears twice`);
      seen.add(input.id);
      let cell = this.byId.get(input.id);
      if (!cell) cell = this.createCell(input);
      else this.applyText(cell, input.text, input.language, input.version);
      next.push(cell);
    }
    for (const old of this.cells) {
      if (!seen.has(old.id)) {
        this.byId.delete(old.id);
        this.byFile.delete(old.fileName);
        this.byDeclFile.delete(old.declFileName);
      }
    }
    // From the first place where the order changed, what each cell sees may have changed.
    let firstMoved = next.findIndex((c, i) => this.cells[i] !== c);
    if (firstMoved < 0 && next.length !== this.cells.length) firstMoved = next.length;
    if (firstMoved >= 0) for (const c of next.slice(firstMoved)) c.declStale = true;
    this.cells = next;
    this.headersStale = true;
    this.projectVersion++;
  }

  /** A cell's text changed. */
  updateCell(id: string, text: string, version?: number, language?: CellLanguage): void {
    const cell = this.cell(id);
    if (this.applyText(cell, text, language ?? cell.language, version)) this.headersStale = true;
    this.projectVersion++;
  }

  /** The ids of the cells, in order. */
  cellIds(): string[] {
    return this.cells.map((c) => c.id);
  }

  cellVersion(id: string): number | undefined {
    return this.byId.get(id)?.version;
  }

  hasCell(id: string): boolean {
    return this.byId.has(id);
  }

  private createCell(input: CellInput): CellState {
    const key = this.nextKey++;
    const cell: CellState = {
      id: input.id,
      module: `./c${key}`,
      declModule: `./d${key}`,
      declFileName: `${this.dir}/d${key}.d.ts`,
      decl: new CellSnapshot('export {};\n'),
      declVersion: 1,
      declStale: true,
      language: input.language,
      text: input.text,
      version: input.version,
      fileName: `${this.dir}/c${key}${input.language === 'javascript' ? '.js' : '.ts'}`,
      scope: parseScope(input.text, input.language),
      header: { text: 'export {};\n', bindings: [] },
      snapshot: new CellSnapshot(''),
      fileVersion: 0,
    };
    this.byId.set(cell.id, cell);
    this.byFile.set(cell.fileName, cell);
    this.byDeclFile.set(cell.declFileName, cell);
    this.refreshSnapshot(cell);
    return cell;
  }

  /** Returns whether the cell's declarations changed (the headers below need refreshing). */
  private applyText(cell: CellState, text: string, language: CellLanguage, version: number | undefined): boolean {
    cell.version = version;
    if (language !== cell.language) {
      this.byFile.delete(cell.fileName);
      cell.language = language;
      cell.fileName = cell.fileName.replace(/\.(ts|js)$/, language === 'javascript' ? '.js' : '.ts');
      this.byFile.set(cell.fileName, cell);
      cell.text = text;
      cell.scope = parseScope(text, language);
      cell.declStale = true;
      this.refreshSnapshot(cell);
      return true;
    }
    if (text === cell.text) return false;
    cell.text = text;
    cell.declStale = true;
    const scope = parseScope(text, language);
    const changed = scopeKey(scope) !== scopeKey(cell.scope);
    cell.scope = scope;
    this.refreshSnapshot(cell);
    return changed;
  }

  private refreshSnapshot(cell: CellState): void {
    const text = cell.header.text + cell.text;
    if (text === cell.snapshot.text) return;
    cell.snapshot = new CellSnapshot(text);
    cell.fileVersion++;
  }

  /** Recomputes every cell's header from the declarations of the cells above. */
  private sync(): void {
    if (!this.headersStale) return;
    this.headersStale = false;
    const visible = new Map<string, { from: string; kind: BindingKind }>();
    const canonical = new Map<string, { from: string; kind: BindingKind }>();
    for (const [index, cell] of this.cells.entries()) {
      const header = cellHeader(cell.scope, visible);
      const canonicalHeader = index > this.sourceFrom ? cellHeader(cell.scope, canonical).text : header.text;
      if (canonicalHeader !== cell.canonicalHeader) {
        cell.canonicalHeader = canonicalHeader;
        cell.declStale = true;
      }
      if (header.text !== cell.header.text) {
        cell.header = header;
        this.refreshSnapshot(cell);
        this.projectVersion++;
      } else cell.header = header;
      const from = index >= this.sourceFrom ? cell.module : cell.declModule;
      for (const [name, kind] of cell.scope.declared) {
        visible.delete(name);
        visible.set(name, { from, kind });
        canonical.delete(name);
        canonical.set(name, { from: cell.declModule, kind });
      }
    }
  }

  private cell(id: string): CellState {
    const cell = this.byId.get(id);
    if (!cell) throw new Error(`no cell ${JSON.stringify(id)} in this notebook`);
    return cell;
  }

  /**
   * Brings the declarations of the cells above `limit` (an index) up to date,
   * so that what a cell sees of the cells above matches their text. A cell
   * with a syntax error keeps its last declarations (what it declared before
   * the user started typing), so that a cell being edited does not shake the
   * cells below it.
   */
  private refreshDeclarations(limit: number): void {
    for (;;) {
      this.sync();
      const stale = this.cells.slice(0, limit).filter((c) => c.declStale);
      if (stale.length === 0) return;
      const first = this.cells.indexOf(stale[0]);
      if (stale.length === 1) {
        // Every cell above it is current: its declarations come from the program as it is.
        const cell = stale[0];
        const changed = this.setDeclarations(cell, this.emitDeclarations(cell));
        if (changed) for (const c of this.cells.slice(first + 1)) c.declStale = true;
        if (!changed || first + 1 >= limit) return;
        continue;
      }
      // Several: one program in which the cells from the first stale one on are bound by their
      // sources gives them all (inferring each type once), then back to declarations.
      this.sourceFrom = first;
      this.headersStale = true;
      this.sync();
      const fresh = new Map<CellState, string | undefined>();
      let upstreamChanged = false;
      for (const cell of this.cells.slice(first, limit)) {
        if (!cell.declStale && !upstreamChanged) continue;
        const text = this.emitDeclarations(cell);
        fresh.set(cell, text);
        if (text !== undefined && text !== cell.decl.text) upstreamChanged = true;
      }
      this.sourceFrom = Number.POSITIVE_INFINITY;
      this.headersStale = true;
      for (const [cell, text] of fresh) this.setDeclarations(cell, text);
      if (upstreamChanged) for (const c of this.cells.slice(limit)) c.declStale = true;
      this.projectVersion++;
      this.sync();
      return;
    }
  }

  /** The cell's declarations as TypeScript emits them; undefined to keep the last ones (a syntax error). */
  private emitDeclarations(cell: CellState): string | undefined {
    const hasDeclarations = cell.declVersion > 1;
    if (hasDeclarations && this.ls.getSyntacticDiagnostics(cell.fileName).length > 0) return undefined;
    const out = this.ls.getEmitOutput(cell.fileName, true, true);
    // (noEmit is set, so TypeScript says the emit was skipped even when it forced the declarations out.)
    const dts = out.outputFiles.find((f) => f.name.endsWith('.d.ts'));
    if (!dts) return `export * from '${cell.module}';\n`;
    // Types of cells above are named by their declarations, whichever way this program bound them.
    return dts.text.replace(/(\bfrom\s*|\bimport\s*\(\s*)(['"])\.\/c(\d+)\2/g, '$1$2./d$3$2');
  }

  /** Returns whether the declarations changed. */
  private setDeclarations(cell: CellState, text: string | undefined): boolean {
    cell.declStale = false;
    if (text === undefined || text === cell.decl.text) return false;
    cell.decl = new CellSnapshot(text);
    cell.declVersion++;
    this.projectVersion++;
    return true;
  }

  /** The cell and the position in its file for an offset in its text. */
  private at(id: string, offset: number): { cell: CellState; pos: number } {
    const cell = this.cell(id);
    this.refreshDeclarations(this.cells.indexOf(cell));
    this.sync();
    const clamped = Math.max(0, Math.min(offset, cell.text.length));
    return { cell, pos: cell.header.text.length + clamped };
  }

  /** A span of a file as a target: a cell's own text, or a declaration file; undefined inside a header. */
  private target(fileName: string, start: number, length: number, name?: string): Target | undefined {
    const declared = this.byDeclFile.get(fileName);
    if (declared) {
      // A definition in a cell's declarations: the declaration in the cell itself.
      const sf = name ? this.ls.getProgram()?.getSourceFile(declared.fileName) : undefined;
      const node = sf && name ? findDeclaration(sf, name, declared.header.text.length) : undefined;
      return node && sf ? this.target(declared.fileName, node.getStart(sf), node.getWidth(sf), name) : undefined;
    }
    const cell = this.byFile.get(fileName);
    if (cell) {
      const h = cell.header.text.length;
      if (start < h) return undefined;
      return { kind: 'cell', cell: cell.id, span: { start: start - h, end: Math.min(cell.text.length, start - h + length) }, ...(name ? { name } : {}) };
    }
    const sf = this.ls.getProgram()?.getSourceFile(fileName);
    if (!sf) return undefined;
    return {
      kind: 'file',
      file: fileName,
      start: sf.getLineAndCharacterOfPosition(start),
      end: sf.getLineAndCharacterOfPosition(Math.min(sf.text.length, start + length)),
      ...(name ? { name } : {}),
    };
  }

  /** The span in the cell for a span of its file, clipped to the cell's text; undefined if it lies in the header. */
  private cellSpan(cell: CellState, start: number, length: number): CellSpan | undefined {
    const h = cell.header.text.length;
    if (start + length < h || start < h) return undefined;
    const s = Math.min(start - h, cell.text.length);
    return { start: s, end: Math.min(cell.text.length, s + length) };
  }

  // -------------------------------------------------------------------------
  // Diagnostics

  /** The problems of one cell. A cell with a syntax error reports only its syntax errors. */
  getDiagnostics(id: string, options: DiagnosticsOptions = {}): CellDiagnostic[] {
    const cell = this.cell(id);
    const index = this.cells.indexOf(cell);
    this.refreshDeclarations(index);
    this.sync();
    // The same text seeing the same declarations above has the same problems.
    const key = `${cell.fileVersion}:${cell.language}:${this.cells
      .slice(0, index)
      .map((c) => c.declVersion)
      .join(',')}`;
    const suggestions = !!options.suggestions;
    if (cell.diagnosticsCache?.key === key && cell.diagnosticsCache.suggestions === suggestions) return cell.diagnosticsCache.result;
    const result = this.computeDiagnostics(cell, suggestions);
    cell.diagnosticsCache = { key, suggestions, result };
    return result;
  }

  private computeDiagnostics(cell: CellState, suggestions: boolean): CellDiagnostic[] {
    const h = cell.header.text.length;
    const inCell = (d: ts.Diagnostic) => d.start !== undefined && d.start >= h && d.start <= h + cell.text.length;
    const syntactic = this.ls.getSyntacticDiagnostics(cell.fileName).filter(inCell);
    if (syntactic.length) return syntactic.map((d) => this.convert(cell, d, 'error'));

    const out: CellDiagnostic[] = [];
    const kernel = this.kernelProblem(cell);
    if (kernel) out.push(kernel);
    if (!cell.scope.noCheck) {
      for (const d of this.ls.getSemanticDiagnostics(cell.fileName)) {
        if (!inCell(d)) continue;
        if (cell.language === 'javascript' && isImplicitAnyCode(d.code)) continue;
        if (kernel && MODULE_NOT_FOUND.has(d.code)) continue;
        const converted = this.convert(cell, d);
        // The kernel's words for a problem TypeScript also reports there ('return' outside a function): said once.
        if (kernel && converted.span.start === kernel.span.start && converted.severity === 'error') continue;
        out.push(converted);
      }
      if (suggestions) {
        for (const d of this.ls.getSuggestionDiagnostics(cell.fileName)) {
          if (!inCell(d)) continue;
          if (cell.language === 'javascript' && isImplicitAnyCode(d.code)) continue;
          out.push(this.convert(cell, d, 'hint'));
        }
      }
    }
    return out.sort((a, b) => a.span.start - b.span.start || a.span.end - b.span.end);
  }

  private convert(cell: CellState, d: ts.Diagnostic, severity?: Severity): CellDiagnostic {
    const span = this.cellSpan(cell, d.start ?? 0, d.length ?? 0) ?? { start: 0, end: 0 };
    const tags: ('unnecessary' | 'deprecated')[] = [];
    if (d.reportsUnnecessary) tags.push('unnecessary');
    if (d.reportsDeprecated) tags.push('deprecated');
    const related = (d.relatedInformation ?? [])
      .map((r) => {
        const target = r.file && r.start !== undefined ? this.target(r.file.fileName, r.start, r.length ?? 0) : undefined;
        return target ? { target, message: ts.flattenDiagnosticMessageText(r.messageText, '\n') } : undefined;
      })
      .filter((r): r is { target: Target; message: string } => !!r);
    return {
      span,
      severity: severity ?? categorySeverity(d.category),
      code: d.code,
      source: 'ts',
      message: ts.flattenDiagnosticMessageText(d.messageText, '\n'),
      ...(tags.length ? { tags } : {}),
      ...(related.length ? { related } : {}),
    };
  }

  /** What the kernel itself would refuse to run (its own transform, the one that runs the cell). */
  private kernelProblem(cell: CellState): CellDiagnostic | undefined {
    if (cell.kernelCheck && cell.kernelCheck.text === cell.text && cell.kernelCheck.language === cell.language) return cell.kernelCheck.problem;
    let problem: CellDiagnostic | undefined;
    try {
      transformCell(cell.text, { language: cell.language, fileName: 'cell', allowedModules: ALLOWED_MODULES });
    } catch (e) {
      if (!(e instanceof CellSyntaxError)) throw e;
      const start = offsetOf(cell.text, e.line, e.column);
      const word = /^[\w$@'"./-]+/.exec(cell.text.slice(start))?.[0].length ?? 1;
      problem = {
        span: { start, end: Math.min(cell.text.length, start + Math.max(1, word)) },
        severity: 'error',
        code: 'kernel',
        source: 'kernel',
        message: e.reason,
      };
    }
    cell.kernelCheck = { text: cell.text, language: cell.language, problem };
    return problem;
  }

  // -------------------------------------------------------------------------
  // Completions, hover, signatures, definitions

  getCompletions(id: string, offset: number, triggerCharacter?: string): CompletionList | undefined {
    const { cell, pos } = this.at(id, offset);
    const modules = this.moduleCompletions(cell, pos);
    if (modules) return modules;
    const info = this.ls.getCompletionsAtPosition(
      cell.fileName,
      pos,
      {
        includeCompletionsWithInsertText: true,
        includeCompletionsForModuleExports: false,
        includeCompletionsForImportStatements: false,
        includeAutomaticOptionalChainCompletions: true,
        includeCompletionsWithClassMemberSnippets: false,
        includeCompletionsWithObjectLiteralMethodSnippets: false,
        useLabelDetailsInCompletionEntries: true,
        allowIncompleteCompletions: true,
        includeSymbol: true,
        triggerCharacter: triggerCharacter && TRIGGER_CHARACTERS.has(triggerCharacter) ? (triggerCharacter as ts.CompletionsTriggerCharacter) : undefined,
      },
    );
    if (!info) return undefined;
    const checker = this.ls.getProgram()?.getTypeChecker();
    const entries: CompletionEntry[] = [];
    for (const e of info.entries) {
      let replacement: CellSpan | undefined;
      if (e.replacementSpan) {
        replacement = this.cellSpan(cell, e.replacementSpan.start, e.replacementSpan.length);
        if (!replacement) continue;
      }
      entries.push({
        name: e.name,
        // A re-export (all of tf.*, the kernel's globals) shows as what it stands for, not as "alias".
        kind: e.kind === ts.ScriptElementKind.alias && e.symbol && checker ? aliasTargetKind(checker, e.symbol) : e.kind,
        ...(e.kindModifiers ? { kindModifiers: e.kindModifiers } : {}),
        sortText: e.sortText,
        ...(e.insertText !== undefined ? { insertText: e.insertText } : {}),
        ...(e.filterText !== undefined ? { filterText: e.filterText } : {}),
        ...(e.isSnippet ? { isSnippet: true } : {}),
        ...(replacement ? { replacement } : {}),
        ...(e.labelDetails?.detail ? { labelDetail: e.labelDetails.detail } : {}),
        ...(e.labelDetails?.description ? { labelDescription: e.labelDetails.description } : {}),
        ...(e.source ? { source: e.source } : {}),
        ...(e.data ? { data: e.data } : {}),
        ...(e.kindModifiers?.split(',').includes('deprecated') ? { deprecated: true } : {}),
        ...(e.isRecommended ? { preselect: true } : {}),
      });
    }
    const optional = info.optionalReplacementSpan ? this.cellSpan(cell, info.optionalReplacementSpan.start, info.optionalReplacementSpan.length) : undefined;
    return { entries, isIncomplete: !!info.isIncomplete, ...(optional ? { optionalReplacement: optional } : {}) };
  }

  /** Inside the string of an import: the modules a cell can import, and nothing else. */
  private moduleCompletions(cell: CellState, pos: number): CompletionList | undefined {
    const sf = this.ls.getProgram()?.getSourceFile(cell.fileName);
    if (!sf) return undefined;
    const token = findToken(sf, pos);
    if (!token || !ts.isStringLiteralLike(token) || pos <= token.getStart(sf) || pos > token.getEnd()) return undefined;
    const parent = token.parent;
    const isSpecifier =
      ((ts.isImportDeclaration(parent) || ts.isExportDeclaration(parent)) && parent.moduleSpecifier === token) ||
      (ts.isCallExpression(parent) && parent.expression.kind === ts.SyntaxKind.ImportKeyword && parent.arguments[0] === token) ||
      (ts.isLiteralTypeNode(parent) && ts.isImportTypeNode(parent.parent));
    if (!isSpecifier) return undefined;
    const span = this.cellSpan(cell, token.getStart(sf) + 1, Math.max(0, token.getEnd() - token.getStart(sf) - 2));
    return {
      isIncomplete: false,
      entries: ALLOWED_MODULES.map((m, i) => ({ name: m, kind: ts.ScriptElementKind.externalModuleName, sortText: String(i), ...(span ? { replacement: span } : {}) })),
    };
  }

  getCompletionDetails(id: string, offset: number, name: string, source?: string, data?: unknown): CompletionDetails | undefined {
    const { cell, pos } = this.at(id, offset);
    const d = this.ls.getCompletionEntryDetails(cell.fileName, pos, name, {}, source, {}, data as ts.CompletionEntryData | undefined);
    if (!d) return undefined;
    const moduleDisplay = this.moduleDisplay(this.ls.getCompletionEntrySymbol(cell.fileName, pos, name, source), name);
    return { detail: moduleDisplay ?? partsText(stripAlias(d.displayParts), true), documentation: docsMarkdown(d.documentation, d.tags) };
  }

  getHover(id: string, offset: number): HoverInfo | undefined {
    const { cell, pos } = this.at(id, offset);
    const q = this.ls.getQuickInfoAtPosition(cell.fileName, pos);
    if (!q) return undefined;
    const span = this.cellSpan(cell, q.textSpan.start, q.textSpan.length);
    if (!span) return undefined;
    let moduleDisplay: string | undefined;
    if (q.kind === ts.ScriptElementKind.alias) {
      const sf = this.ls.getProgram()?.getSourceFile(cell.fileName);
      const token = sf && findToken(sf, pos);
      if (token && ts.isIdentifier(token)) moduleDisplay = this.moduleDisplay(this.ls.getProgram()?.getTypeChecker().getSymbolAtLocation(token), token.text);
    }
    return { span, display: moduleDisplay ?? partsText(stripAlias(q.displayParts ?? []), true), documentation: docsMarkdown(q.documentation, q.tags) };
  }

  /** A name that stands for a whole module (the global `tf`, `import * as x`) shows as the import that makes it. */
  private moduleDisplay(symbol: ts.Symbol | undefined, name: string): string | undefined {
    const checker = this.ls.getProgram()?.getTypeChecker();
    if (!symbol || !checker || !(symbol.flags & ts.SymbolFlags.Alias)) return undefined;
    const target = checker.getAliasedSymbol(symbol);
    const decl = target.valueDeclaration ?? target.declarations?.[0];
    if (!decl || !ts.isSourceFile(decl)) return undefined;
    const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(decl.fileName)?.[1];
    return pkg ? `import * as ${name} from '${pkg}'` : undefined;
  }

  getSignatureHelp(id: string, offset: number, trigger?: { kind: 'invoked' | 'characterTyped' | 'retrigger'; character?: string }): SignatureHelpInfo | undefined {
    const { cell, pos } = this.at(id, offset);
    const reason: ts.SignatureHelpTriggerReason | undefined =
      trigger?.kind === 'characterTyped' && trigger.character && ['(', ',', '<'].includes(trigger.character)
        ? { kind: 'characterTyped', triggerCharacter: trigger.character as ts.SignatureHelpTriggerCharacter }
        : trigger?.kind === 'retrigger'
          ? { kind: 'retrigger', ...(trigger.character && [',', '(', '<', ')'].includes(trigger.character) ? { triggerCharacter: trigger.character as ts.SignatureHelpRetriggerCharacter } : {}) }
          : { kind: 'invoked' };
    const items = this.ls.getSignatureHelpItems(cell.fileName, pos, { triggerReason: reason });
    if (!items) return undefined;
    return {
      activeSignature: items.selectedItemIndex,
      activeParameter: items.argumentIndex,
      signatures: items.items.map((item) => {
        let label = partsText(item.prefixDisplayParts, true);
        const parameters: SignatureHelpInfo['signatures'][number]['parameters'] = [];
        item.parameters.forEach((p, i) => {
          if (i > 0) label += partsText(item.separatorDisplayParts, true);
          const text = partsText(p.displayParts, true);
          parameters.push({ label: [label.length, label.length + text.length], documentation: docsMarkdown(p.documentation, undefined) });
          label += text;
        });
        label += partsText(item.suffixDisplayParts, true);
        return { label, documentation: docsMarkdown(item.documentation, item.tags.filter((t) => t.name !== 'param')), parameters };
      }),
    };
  }

  getDefinition(id: string, offset: number): DefinitionInfo {
    const { cell, pos } = this.at(id, offset);
    const result = this.ls.getDefinitionAndBoundSpan(cell.fileName, pos);
    if (!result) return { targets: [] };
    return { origin: this.cellSpan(cell, result.textSpan.start, result.textSpan.length), targets: this.targets(result.definitions ?? []) };
  }

  getTypeDefinition(id: string, offset: number): Target[] {
    const { cell, pos } = this.at(id, offset);
    return this.targets(this.ls.getTypeDefinitionAtPosition(cell.fileName, pos) ?? []);
  }

  /** Definitions as targets; one that lands in a header is followed to the cell that declares the name. */
  private targets(defs: readonly ts.DefinitionInfo[], depth = 0): Target[] {
    const out: Target[] = [];
    for (const d of defs) {
      const cell = this.byFile.get(d.fileName);
      if (cell && d.textSpan.start < cell.header.text.length) {
        const binding = cell.header.bindings.find((b) => b.name === d.name);
        if (binding && depth < 2) {
          out.push(...this.targets(this.ls.getDefinitionAtPosition(cell.fileName, binding.qualifierOffset) ?? [], depth + 1));
        }
        continue;
      }
      const t = this.target(d.fileName, d.textSpan.start, d.textSpan.length, d.name);
      if (t && !out.some((o) => JSON.stringify(o) === JSON.stringify(t))) out.push(t);
    }
    return out;
  }

  /** The text of a declaration file of the bundle (for showing a definition in it). */
  getFileText(file: string): string | undefined {
    return this.types.files.get(file);
  }

  dispose(): void {
    this.ls.dispose();
  }
}

/** The kind of what an alias (a re-export, an import) stands for. */
function aliasTargetKind(checker: ts.TypeChecker, symbol: ts.Symbol): string {
  let target: ts.Symbol;
  try {
    target = checker.getAliasedSymbol(symbol);
  } catch {
    return ts.ScriptElementKind.alias;
  }
  const f = target.flags;
  const K = ts.ScriptElementKind;
  if (f & ts.SymbolFlags.Class) return K.classElement;
  if (f & ts.SymbolFlags.Function) return K.functionElement;
  if (f & ts.SymbolFlags.Interface) return K.interfaceElement;
  if (f & ts.SymbolFlags.Enum) return K.enumElement;
  if (f & ts.SymbolFlags.TypeAlias) return K.typeElement;
  if (f & (ts.SymbolFlags.ValueModule | ts.SymbolFlags.NamespaceModule)) return K.moduleElement;
  if (f & ts.SymbolFlags.Method) return K.memberFunctionElement;
  if (f & ts.SymbolFlags.BlockScopedVariable) {
    const decl = target.valueDeclaration;
    return decl && ts.isVariableDeclaration(decl) && decl.parent.flags & ts.NodeFlags.Const ? K.constElement : K.letElement;
  }
  if (f & ts.SymbolFlags.Variable) return K.variableElement;
  return K.alias;
}

function parseScope(text: string, language: CellLanguage): CellScope {
  const sf = ts.createSourceFile(language === 'javascript' ? 'cell.js' : 'cell.ts', text, ts.ScriptTarget.ES2022, false, language === 'javascript' ? ts.ScriptKind.JS : ts.ScriptKind.TS);
  return cellScope(sf);
}

function scopeKey(s: CellScope): string {
  return JSON.stringify([[...s.declared], [...s.selfExported], s.noCheck]);
}

function categorySeverity(c: ts.DiagnosticCategory): Severity {
  switch (c) {
    case ts.DiagnosticCategory.Error:
      return 'error';
    case ts.DiagnosticCategory.Warning:
      return 'warning';
    case ts.DiagnosticCategory.Suggestion:
      return 'hint';
    default:
      return 'info';
  }
}

/** Offset of a 1-based line and column (UTF-16) in text whose lines end as in ECMAScript. */
export function offsetOf(text: string, line: number, column: number): number {
  let offset = 0;
  for (let l = 1; l < line; l++) {
    const m = /\r\n?|\n|\u2028|\u2029/g;
    m.lastIndex = offset;
    const found = m.exec(text);
    if (!found) return text.length;
    offset = found.index + found[0].length;
  }
  return Math.min(text.length, offset + Math.max(0, column - 1));
}

/** The innermost token containing `pos` (or ending at it). */
function findToken(sf: ts.SourceFile, pos: number): ts.Node | undefined {
  let found: ts.Node | undefined;
  const visit = (node: ts.Node): void => {
    if (pos < node.getStart(sf) || pos > node.getEnd()) return;
    found = node;
    ts.forEachChild(node, visit);
  };
  ts.forEachChild(sf, visit);
  return found;
}
