// Typed cells in VS Code: completions, hover, signature help, go to
// definition / type definition and problems in the TypeScript and JavaScript
// cells of .aenb notebooks, from the notebook language service
// (src/language/) running in a worker thread. VS Code's built-in TypeScript
// features are kept out of these cells by our TypeScript server plugin
// (src/tsserver-plugin/), so that nothing answers twice or differently.
import * as vscode from 'vscode';
import type { CellDiagnostic, CellSpan, CompletionEntry, SignatureHelpInfo, Target } from '../../language/api';
import { NOTEBOOK_TYPE } from '../../common/ids';
import { LanguageWorkerClient } from './client';
import { CellRef, NotebookCellSync } from './sync';

/** Read-only documents of the bundled declaration files (a definition in TensorFlow.js's types). */
export const TYPES_SCHEME = 'aenb-types';
const TYPES_ROOT = '/aenb';
export const DIAGNOSTICS_NAME = 'autoencoder-notebooks';
/**
 * Not in the palette: `(notebook: Uri) => { cells, checked }`, how many of the
 * notebook's TypeScript/JavaScript cells have their problems shown for their
 * current text (the tests wait on it).
 */
export const CHECKED_COMMAND = 'autoencoderNotebooks.internal.cellsChecked';

export const CELL_SELECTOR: vscode.DocumentSelector = [
  { notebookType: NOTEBOOK_TYPE, language: 'typescript' },
  { notebookType: NOTEBOOK_TYPE, language: 'javascript' },
];

const KINDS: Record<string, vscode.CompletionItemKind> = {
  keyword: vscode.CompletionItemKind.Keyword,
  'primitive type': vscode.CompletionItemKind.Keyword,
  script: vscode.CompletionItemKind.File,
  module: vscode.CompletionItemKind.Module,
  'external module name': vscode.CompletionItemKind.Module,
  class: vscode.CompletionItemKind.Class,
  'local class': vscode.CompletionItemKind.Class,
  interface: vscode.CompletionItemKind.Interface,
  type: vscode.CompletionItemKind.Class,
  'type parameter': vscode.CompletionItemKind.TypeParameter,
  enum: vscode.CompletionItemKind.Enum,
  'enum member': vscode.CompletionItemKind.EnumMember,
  var: vscode.CompletionItemKind.Variable,
  'local var': vscode.CompletionItemKind.Variable,
  let: vscode.CompletionItemKind.Variable,
  const: vscode.CompletionItemKind.Constant,
  parameter: vscode.CompletionItemKind.Variable,
  alias: vscode.CompletionItemKind.Variable,
  function: vscode.CompletionItemKind.Function,
  'local function': vscode.CompletionItemKind.Function,
  method: vscode.CompletionItemKind.Method,
  getter: vscode.CompletionItemKind.Property,
  setter: vscode.CompletionItemKind.Property,
  property: vscode.CompletionItemKind.Field,
  accessor: vscode.CompletionItemKind.Property,
  constructor: vscode.CompletionItemKind.Constructor,
  call: vscode.CompletionItemKind.Method,
  index: vscode.CompletionItemKind.Method,
  construct: vscode.CompletionItemKind.Method,
  string: vscode.CompletionItemKind.Constant,
  directory: vscode.CompletionItemKind.Folder,
  label: vscode.CompletionItemKind.Text,
};

const range = (doc: vscode.TextDocument, span: CellSpan) => new vscode.Range(doc.positionAt(span.start), doc.positionAt(span.end));

function markdown(text: string): vscode.MarkdownString {
  const md = new vscode.MarkdownString(text);
  md.supportHtml = false;
  return md;
}

class CellCompletionItem extends vscode.CompletionItem {
  constructor(
    readonly entry: CompletionEntry,
    readonly ref: CellRef,
    readonly offset: number,
  ) {
    super(entry.labelDetail || entry.labelDescription ? { label: entry.name, detail: entry.labelDetail, description: entry.labelDescription } : entry.name, KINDS[entry.kind] ?? vscode.CompletionItemKind.Property);
  }
}

export interface NotebookLanguageOptions {
  /** dist/language.js */
  workerFile: string;
  log: vscode.LogOutputChannel;
}

/** Registers everything; the worker starts when the first .aenb notebook opens. */
export function registerNotebookLanguage(options: NotebookLanguageOptions): vscode.Disposable[] {
  const client = new LanguageWorkerClient(options.workerFile, options.log);
  const sync = new NotebookCellSync(client);
  const diagnostics = vscode.languages.createDiagnosticCollection(DIAGNOSTICS_NAME);
  /** Cell URI → the document version whose problems are shown. */
  const published = new Map<string, number>();

  const location = (t: Target): { uri: vscode.Uri; range: vscode.Range } | undefined => {
    if (t.kind === 'cell') {
      const doc = sync.cellDocument(t.cell);
      return doc ? { uri: doc.uri, range: range(doc, t.span) } : undefined;
    }
    return {
      uri: vscode.Uri.from({ scheme: TYPES_SCHEME, path: t.file.startsWith(TYPES_ROOT + '/') ? t.file.slice(TYPES_ROOT.length) : t.file }),
      range: new vscode.Range(t.start.line, t.start.character, t.end.line, t.end.character),
    };
  };

  const toDiagnostic = (doc: vscode.TextDocument, d: CellDiagnostic): vscode.Diagnostic => {
    const severity = {
      error: vscode.DiagnosticSeverity.Error,
      warning: vscode.DiagnosticSeverity.Warning,
      info: vscode.DiagnosticSeverity.Information,
      hint: vscode.DiagnosticSeverity.Hint,
    }[d.severity];
    const out = new vscode.Diagnostic(range(doc, d.span), d.message, severity);
    out.source = d.source;
    if (typeof d.code === 'number') out.code = d.code;
    if (d.tags?.length) {
      out.tags = d.tags.map((t) => (t === 'unnecessary' ? vscode.DiagnosticTag.Unnecessary : vscode.DiagnosticTag.Deprecated));
    }
    const related = (d.related ?? [])
      .map((r) => {
        const l = location(r.target);
        return l ? new vscode.DiagnosticRelatedInformation(new vscode.Location(l.uri, l.range), r.message) : undefined;
      })
      .filter((r): r is vscode.DiagnosticRelatedInformation => !!r);
    if (related.length) out.relatedInformation = related;
    return out;
  };

  const completions: vscode.CompletionItemProvider<CellCompletionItem> = {
    async provideCompletionItems(doc, position, token, context) {
      const ref = sync.ref(doc);
      if (!ref) return undefined;
      const offset = doc.offsetAt(position);
      const list = await client.request(ref.notebook, 'completions', { ...ref, offset, triggerCharacter: context.triggerCharacter }, token);
      if (!list) return undefined;
      const optional = list.optionalReplacement ? range(doc, list.optionalReplacement) : undefined;
      const items = list.entries.map((e) => {
        const item = new CellCompletionItem(e, ref, offset);
        item.sortText = e.sortText;
        if (e.filterText) item.filterText = e.filterText;
        if (e.insertText !== undefined) item.insertText = e.isSnippet ? new vscode.SnippetString(e.insertText) : e.insertText;
        if (e.replacement) item.range = range(doc, e.replacement);
        else if (optional && optional.start.isBeforeOrEqual(position)) item.range = { inserting: new vscode.Range(optional.start, position), replacing: optional };
        if (e.deprecated) item.tags = [vscode.CompletionItemTag.Deprecated];
        if (e.preselect) item.preselect = true;
        return item;
      });
      return new vscode.CompletionList(items, list.isIncomplete);
    },
    async resolveCompletionItem(item, token) {
      const d = await client.request(
        item.ref.notebook,
        'completionDetails',
        { ...item.ref, offset: item.offset, name: item.entry.name, source: item.entry.source, data: item.entry.data },
        token,
      );
      if (d) {
        item.detail = d.detail;
        if (d.documentation) item.documentation = markdown(d.documentation);
      }
      return item;
    },
  };

  const hovers: vscode.HoverProvider = {
    async provideHover(doc, position, token) {
      const ref = sync.ref(doc);
      if (!ref) return undefined;
      const h = await client.request(ref.notebook, 'hover', { ...ref, offset: doc.offsetAt(position) }, token);
      if (!h) return undefined;
      const parts = [new vscode.MarkdownString().appendCodeblock(h.display, 'typescript')];
      if (h.documentation) parts.push(markdown(h.documentation));
      return new vscode.Hover(parts, range(doc, h.span));
    },
  };

  const toSignatureHelp = (s: SignatureHelpInfo): vscode.SignatureHelp => {
    const help = new vscode.SignatureHelp();
    help.activeSignature = s.activeSignature;
    help.activeParameter = s.activeParameter;
    help.signatures = s.signatures.map((sig) => {
      const info = new vscode.SignatureInformation(sig.label, sig.documentation ? markdown(sig.documentation) : undefined);
      info.parameters = sig.parameters.map((p) => new vscode.ParameterInformation(p.label, p.documentation ? markdown(p.documentation) : undefined));
      return info;
    });
    return help;
  };

  const signatures: vscode.SignatureHelpProvider = {
    async provideSignatureHelp(doc, position, token, context) {
      const ref = sync.ref(doc);
      if (!ref) return undefined;
      const trigger = context.isRetrigger
        ? { kind: 'retrigger' as const, character: context.triggerCharacter }
        : context.triggerKind === vscode.SignatureHelpTriggerKind.TriggerCharacter
          ? { kind: 'characterTyped' as const, character: context.triggerCharacter }
          : { kind: 'invoked' as const };
      const s = await client.request(ref.notebook, 'signatureHelp', { ...ref, offset: doc.offsetAt(position), trigger }, token);
      return s ? toSignatureHelp(s) : undefined;
    },
  };

  const links = (origin: vscode.Range | undefined, targets: Target[]): vscode.LocationLink[] =>
    targets
      .map((t) => location(t))
      .filter((l): l is { uri: vscode.Uri; range: vscode.Range } => !!l)
      .map((l) => ({ originSelectionRange: origin, targetUri: l.uri, targetRange: l.range, targetSelectionRange: l.range }));

  const definitions: vscode.DefinitionProvider = {
    async provideDefinition(doc, position, token) {
      const ref = sync.ref(doc);
      if (!ref) return undefined;
      const d = await client.request(ref.notebook, 'definition', { ...ref, offset: doc.offsetAt(position) }, token);
      return d ? links(d.origin ? range(doc, d.origin) : undefined, d.targets) : undefined;
    },
  };

  const typeDefinitions: vscode.TypeDefinitionProvider = {
    async provideTypeDefinition(doc, position, token) {
      const ref = sync.ref(doc);
      if (!ref) return undefined;
      const targets = await client.request(ref.notebook, 'typeDefinition', { ...ref, offset: doc.offsetAt(position) }, token);
      return targets ? links(undefined, targets) : undefined;
    },
  };

  const typesContent: vscode.TextDocumentContentProvider = {
    async provideTextDocumentContent(uri, token) {
      const notebook = sync.anyNotebook() ?? '';
      const text = await client.request(notebook, 'fileText', { file: TYPES_ROOT + uri.path }, token);
      return text ?? `// ${uri.path}: not available (open an Autoencoder notebook first).\n`;
    },
  };

  return [
    client,
    sync,
    diagnostics,
    client.onDiagnostics(({ cells }) => {
      for (const c of cells) {
        const doc = sync.cellDocument(c.cell);
        if (!doc || (c.version !== undefined && doc.version !== c.version)) continue;
        diagnostics.set(doc.uri, c.diagnostics.map((d) => toDiagnostic(doc, d)));
        published.set(c.cell, doc.version);
      }
    }),
    sync.onCellsRemoved((uris) => {
      for (const u of uris) {
        diagnostics.delete(u);
        published.delete(u.toString());
      }
    }),
    vscode.commands.registerCommand(CHECKED_COMMAND, (uri: vscode.Uri | string) => {
      const nb = vscode.workspace.notebookDocuments.find((n) => n.uri.toString() === uri.toString());
      if (!nb) return undefined;
      const cells = nb.getCells().filter((c) => c.kind === vscode.NotebookCellKind.Code && ['typescript', 'javascript'].includes(c.document.languageId));
      return { cells: cells.length, checked: cells.filter((c) => published.get(c.document.uri.toString()) === c.document.version).length };
    }),
    vscode.languages.registerCompletionItemProvider(CELL_SELECTOR, completions, '.', '"', "'", '`', '/', '@', '<', '#', ' '),
    vscode.languages.registerHoverProvider(CELL_SELECTOR, hovers),
    vscode.languages.registerSignatureHelpProvider(CELL_SELECTOR, signatures, { triggerCharacters: ['(', ',', '<'], retriggerCharacters: [')'] }),
    vscode.languages.registerDefinitionProvider(CELL_SELECTOR, definitions),
    vscode.languages.registerTypeDefinitionProvider(CELL_SELECTOR, typeDefinitions),
    vscode.workspace.registerTextDocumentContentProvider(TYPES_SCHEME, typesContent),
  ];
}
