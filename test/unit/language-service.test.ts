/**
 * The notebook language service (src/language/): cells as modules in
 * notebook order, positions mapped in and out of each cell, and what the
 * kernel accepts never flagged. Needs dist/cell-types.json (npm run build).
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import ts from 'typescript';
import type { CellDiagnostic, CellInput, Target } from '../../src/language/api';
import { CellTypes, loadCellTypes } from '../../src/language/bundle';
import { cellHeader, cellScope } from '../../src/language/cells';
import { stripAlias } from '../../src/language/docs';
import { NotebookLanguageService, offsetOf } from '../../src/language/service';

const root = path.join(__dirname, '..', '..', '..');
let types: CellTypes;

before(() => {
  types = loadCellTypes(path.join(root, 'dist', 'cell-types.json'));
});

const ts_ = (id: string, text: string): CellInput => ({ id, language: 'typescript', text });
const js = (id: string, text: string): CellInput => ({ id, language: 'javascript', text });

function service(cells: CellInput[]): NotebookLanguageService {
  const s = new NotebookLanguageService(types);
  s.setCells(cells);
  return s;
}

function messages(s: NotebookLanguageService, id: string): string[] {
  return s.getDiagnostics(id).map((d) => d.message);
}

/** Offset of `needle` in `text` (plus `delta`). */
function at(text: string, needle: string, delta = 0): number {
  const i = text.indexOf(needle);
  assert.ok(i >= 0, `${JSON.stringify(needle)} in ${JSON.stringify(text)}`);
  return i + delta;
}

const spanText = (text: string, d: { span: { start: number; end: number } }) => text.slice(d.span.start, d.span.end);

describe('cell scope and header', () => {
  const scopeOf = (text: string, kind = ts.ScriptKind.TS) => cellScope(ts.createSourceFile('c.ts', text, ts.ScriptTarget.ES2022, false, kind));

  test('top-level declarations and how the cells below bind them', () => {
    const s = scopeOf(
      [
        'const a = 1, { b, c: [d = 2, ...e] } = obj;',
        'let f; var g = 1;',
        'function h() {}',
        'class K {}',
        'interface I {}',
        'type T = number;',
        'enum E { A }',
        "import * as tf2 from '@tensorflow/tfjs';",
        "import def, { x as y } from 'autoencoder-notebooks';",
        'export const ex = 1;',
        '{ const inner = 1; }',
        'for (var loop = 0; loop < 1; loop++) {}',
        'await using res = null as any;',
      ].join('\n'),
    );
    assert.deepEqual(Object.fromEntries(s.declared), {
      a: 'const', b: 'const', d: 'const', e: 'const', f: 'let', g: 'let', h: 'alias', K: 'alias', I: 'alias', T: 'alias', E: 'alias',
      tf2: 'alias', def: 'alias', y: 'alias', ex: 'const', res: 'const',
    });
    assert.deepEqual([...s.selfExported], ['ex']);
    assert.equal(s.noCheck, false);
    assert.equal(scopeOf('// @ts-nocheck\nconst a = 1').noCheck, true);
  });

  test('a name with a type meaning too is imported; a var re-declared as const stays assignable', () => {
    const s = scopeOf('interface A { x: number }\nconst A = 1;\nvar v = 1;\nconst v2 = 2;');
    assert.equal(s.declared.get('A'), 'alias');
    assert.equal(s.declared.get('v'), 'let');
  });

  test('the header binds the latest declaration of each name from above, except what the cell declares', () => {
    const own = scopeOf('const mine = 1;');
    const visible = new Map([
      ['x', { from: './c1', kind: 'const' as const }],
      ['n', { from: './c2', kind: 'let' as const }],
      ['f', { from: './c2', kind: 'alias' as const }],
      ['K', { from: './c3', kind: 'alias' as const }],
      ['mine', { from: './c1', kind: 'const' as const }],
    ]);
    const h = cellHeader(own, visible);
    assert.equal(
      h.text,
      "import { f } from './c2'; import { K } from './c3'; declare const x: typeof import('./c1').x; declare let n: typeof import('./c2').n; export { mine };\n",
    );
    assert.equal(h.text.split('\n').length, 2, 'one line');
    for (const b of h.bindings) assert.equal(h.text.slice(b.qualifierOffset, b.qualifierOffset + b.name.length), b.name);
  });
});

describe('positions in and out of cells', () => {
  test('an offset in a cell maps to its file and back, on every line, with CRLF and non-ASCII text', () => {
    const cell2 = 'const α = xTrain;\r\n// ünïcödé\r\nconst t = tf.zeros([2, 3]);\r\nt';
    const s = service([ts_('1', 'const [[xTrain]] = await datasets.mnist.loadData();'), ts_('2', cell2)]);
    // In: hover at offsets of the cell; out: the span of the word in the cell.
    for (const word of ['α', 'xTrain', 'zeros', 't\r\n'.slice(0, 1)]) {
      const offset = word === 't' ? cell2.lastIndexOf('t') : at(cell2, word);
      const h = s.getHover('2', offset);
      assert.ok(h, `hover on ${word}`);
      assert.equal(spanText(cell2, h), word === 'α' ? 'α' : word);
    }
    assert.match(s.getHover('2', at(cell2, 'xTrain'))!.display, /const xTrain: tf\.Tensor3D/);
    assert.match(s.getHover('2', cell2.lastIndexOf('t'))!.display, /const t: tf\.Tensor<tf\.Rank>/);
  });

  test('definitions map out to the declaring cell, through every kind of binding', () => {
    const c1 = 'let n = 1;\nconst k = 2;\nfunction f() { return 1; }\nclass K {}';
    const c3 = 'n = 5;\nf();\nnew K();\nk + n;';
    const s = service([ts_('a', c1), ts_('b', '// nothing'), ts_('c', c3)]);
    const definedAt = (offset: number): { cell: string; text: string }[] =>
      s.getDefinition('c', offset).targets.map((t: Target) => {
        assert.equal(t.kind, 'cell');
        return { cell: t.kind === 'cell' ? t.cell : '', text: t.kind === 'cell' ? c1.slice(t.span.start, t.span.end) : '' };
      });
    assert.deepEqual(definedAt(at(c3, 'n = 5')), [{ cell: 'a', text: 'n' }], 'a let, bound by `declare let` in the header');
    assert.deepEqual(definedAt(at(c3, 'f()')), [{ cell: 'a', text: 'f' }], 'a function, imported');
    assert.deepEqual(definedAt(at(c3, 'K()')), [{ cell: 'a', text: 'K' }], 'a class, imported');
    assert.deepEqual(definedAt(at(c3, 'k +')), [{ cell: 'a', text: 'k' }], 'a const');
    const origin = s.getDefinition('c', at(c3, 'f()')).origin;
    assert.deepEqual(origin && c3.slice(origin.start, origin.end), 'f');
  });

  test('a definition in the libraries is a line/character position in a bundled declaration file', () => {
    const c = 'const m = new Autoencoder({ inputShape: [4], latentDim: 2 });\nm.fit';
    const s = service([ts_('a', c)]);
    const [t] = s.getDefinition('a', at(c, 'fit')).targets;
    assert.equal(t.kind, 'file');
    if (t.kind !== 'file') return;
    assert.equal(t.file, '/aenb/src/lib/models.d.ts');
    const line = types.files.get(t.file)!.split('\n')[t.start.line];
    assert.equal(line.slice(t.start.character, t.end.character), 'fit');
  });

  test('diagnostic spans are in the cell\'s own offsets', () => {
    const c = "// first line\n\nconst n: number = 'x';";
    const s = service([ts_('a', 'const unrelated = 1;'), ts_('b', c)]);
    const [d] = s.getDiagnostics('b');
    assert.equal(spanText(c, d), 'n');
    assert.equal(offsetOf(c, 3, 7), d.span.start);
  });
});

describe('what the kernel accepts is not flagged', () => {
  test('re-declaring a const, a class or a function in a later cell', () => {
    const s = service([
      ts_('1', 'const x = 1;\nclass A { a = 1 }\nfunction f(): number { return 1; }'),
      ts_('2', "const x = 'two';\nclass A { b = 2 }\nfunction f(): string { return ''; }"),
      ts_('3', 'x.toUpperCase();\nnew A().b;\nf().length;'),
    ]);
    for (const id of ['1', '2', '3']) assert.deepEqual(messages(s, id), [], `cell ${id}`);
  });

  test('the cells below see the latest declaration; a cell sees nothing from below', () => {
    const s = service([ts_('1', 'later;'), ts_('2', 'const x = 1;'), ts_('3', "const x = 'two';"), ts_('4', 'const later = x.length;')]);
    assert.deepEqual(messages(s, '1'), ["Cannot find name 'later'."]);
    assert.deepEqual(messages(s, '4'), []);
  });

  test('top-level await, in TypeScript and JavaScript cells', () => {
    const s = service([ts_('1', 'const v = await Promise.resolve(3);\nv.toFixed(1)'), js('2', 'const w = await Promise.resolve("s");\nw.length')]);
    assert.deepEqual(messages(s, '1'), []);
    assert.deepEqual(messages(s, '2'), []);
    assert.match(s.getHover('1', 6)!.display, /const v: number/);
  });

  test('a last expression, with or without a semicolon, of any kind', () => {
    const s = service([
      ts_('1', 'const model = new Autoencoder({ inputShape: [4], latentDim: 2 });\nmodel'),
      ts_('2', 'model.summary();\nmodel.name;'),
      ts_('3', '(model)'),
      ts_('4', 'await Promise.resolve(model)'),
    ]);
    for (const id of ['1', '2', '3', '4']) assert.deepEqual(messages(s, id), [], `cell ${id}`);
  });

  test('let and var from above can be assigned; a const cannot (the kernel makes it read-only)', () => {
    const s = service([ts_('1', 'let a = 1;\nvar b = 2;\nconst c = 3;'), ts_('2', "a = 10;\nb = 20;\nc = 30;\na = 'x';")]);
    assert.deepEqual(messages(s, '2'), ["Cannot assign to 'c' because it is a constant.", "Type 'string' is not assignable to type 'number'."]);
  });

  test('imports the kernel allows, with the meanings they have there; others are refused as the kernel refuses them', () => {
    const c1 = [
      "import * as tfx from '@tensorflow/tfjs';",
      "import { sequential } from '@tensorflow/tfjs-layers';",
      "import { tensor } from '@tensorflow/tfjs-core';",
      "import lib, { Autoencoder as AE, show as display } from 'autoencoder-notebooks';",
      'const t: tfx.Tensor = tensor([1]);',
      'const m = sequential();',
      'const a = new AE({ inputShape: [2], latentDim: 1 });',
      'display.summary(a);',
      'lib.show.text(t);',
    ].join('\n');
    const s = service([ts_('1', c1), ts_('2', 'const u: tfx.Tensor = tfx.ones([1]);\nm.summary();')]);
    assert.deepEqual(messages(s, '1'), []);
    assert.deepEqual(messages(s, '2'), [], 'a namespace imported in a cell above keeps its type meaning');
    const bad = "import { readFileSync } from 'fs';\nreadFileSync;";
    const s2 = service([ts_('1', bad)]);
    const d = s2.getDiagnostics('1');
    assert.equal(d.length, 1, JSON.stringify(d));
    assert.equal(d[0].source, 'kernel');
    assert.match(d[0].message, /cannot import 'fs': cells can import '@tensorflow\/tfjs'/);
    assert.equal(spanText(bad, d[0]), "'fs'");
  });

  test('what the kernel refuses that TypeScript accepts is reported with the kernel\'s words', () => {
    const s = service([ts_('1', 'export default 3;'), ts_('2', 'namespace N { export const a = 1; }'), ts_('3', 'const __aenb_x = 1;')]);
    assert.match(messages(s, '1')[0], /cells cannot export/);
    assert.match(messages(s, '2')[0], /namespaces are not supported/);
    assert.match(messages(s, '3')[0], /reserved for the notebook kernel/);
  });

  test('a problem both the kernel and TypeScript report is said once, in the kernel\'s words', () => {
    const s = service([ts_('1', 'const a = 1;\nreturn a;')]);
    assert.deepEqual(messages(s, '1'), ["'return' outside of function"]);
  });

  test('`// @ts-nocheck` at the top of a cell turns its type errors off', () => {
    const s = service([ts_('1', "// @ts-nocheck\nconst n: number = 'x';")]);
    assert.deepEqual(messages(s, '1'), []);
  });
});

describe('JavaScript cells', () => {
  test('are checked (misspelled members, wrong types from above) without implicit-any noise', () => {
    const s = service([
      ts_('1', 'const model = new Autoencoder({ inputShape: [4], latentDim: 2 });\nlet count = 1;'),
      js('2', 'function double(x) { return x * 2; }\nmodel.fitt();\ncount = "many";\nconst y = double(3);'),
    ]);
    assert.deepEqual(messages(s, '2'), ["Property 'fitt' does not exist on type 'Autoencoder'. Did you mean 'fit'?", "Type 'string' is not assignable to type 'number'."]);
  });

  test('their declarations reach the TypeScript cells below, and they get completions', () => {
    const c2 = 'const s = scale.';
    const s = service([js('1', '/** @param {number} k */\nfunction scale(k) { return k * 2; }\nconst data = [1, 2, 3];'), ts_('2', c2), ts_('3', 'data.map((v) => scale(v)).length')]);
    assert.deepEqual(messages(s, '3'), []);
    const names = s.getCompletions('2', c2.length, '.')!.entries.map((e) => e.name);
    assert.ok(names.includes('call') && names.includes('apply'), names.join(','));
  });
});

describe('a syntax error stays in its cell', () => {
  test('the broken cell reports its syntax error only; the cells around it keep their types', () => {
    const broken = 'function half(x: number) {\n  return x / 2;\n\nconst oops = ;';
    const s = service([
      ts_('1', 'const [[xTrain]] = await datasets.mnist.loadData();'),
      ts_('2', broken),
      ts_('3', 'const m = new Autoencoder({ inputShape: [28, 28], latentDim: 4 });\nm.fitt(xTrain);'),
    ]);
    const d2 = s.getDiagnostics('2');
    assert.ok(d2.length >= 1 && d2.every((d) => d.source === 'ts' && d.code !== 2304), JSON.stringify(d2));
    assert.ok(d2.some((d) => d.message === 'Expression expected.'));
    assert.deepEqual(messages(s, '3'), ["Property 'fitt' does not exist on type 'Autoencoder'. Did you mean 'fit'?"]);
    assert.match(s.getHover('3', 'const m = new Autoencoder({ inputShape: [28, 28], latentDim: 4 });\nm.fitt('.length)!.display, /const xTrain: tf\.Tensor3D/);
  });

  test('an unclosed comment or brace while typing does not hide the cell\'s imports and exports', () => {
    const s = service([ts_('1', 'const early = 1;'), ts_('2', 'const mid = early + 1;\nif (mid) {\n  /* still typing'), ts_('3', 'early + mid')]);
    assert.ok(s.getDiagnostics('2').length > 0);
    assert.deepEqual(messages(s, '3'), []);
    assert.match(s.getHover('3', 0)!.display, /const early: 1/);
  });
});

describe('completions, details, signatures', () => {
  test('members of a model from a cell above, and of tf; no keywords after a dot', () => {
    const probe = 'autoencoder.;\ntf.;';
    const s = service([ts_('1', 'const autoencoder = new Autoencoder({ inputShape: [28, 28], latentDim: 64 });'), ts_('2', probe)]);
    const after = (needle: string) => s.getCompletions('2', at(probe, needle, needle.length), '.')!.entries.map((e) => e.name);
    const members = after('autoencoder.');
    for (const m of ['fit', 'predict', 'encode', 'decode', 'encoder', 'decoder', 'compile', 'summary', 'save']) assert.ok(members.includes(m), m);
    assert.ok(!members.includes('typeof'));
    const tfNames = after('tf.');
    for (const m of ['sequential', 'layers', 'tensor', 'tidy']) assert.ok(tfNames.includes(m), m);
    const kinds = Object.fromEntries(s.getCompletions('2', at(probe, 'tf.', 3), '.')!.entries.map((e) => [e.name, e.kind]));
    assert.deepEqual(
      { sequential: kinds.sequential, layers: kinds.layers, Tensor: kinds.Tensor, Rank: kinds.Rank },
      { sequential: 'function', layers: 'module', Tensor: 'class', Rank: 'enum' },
      're-exports show as what they stand for',
    );
    const details = s.getCompletionDetails('2', at(probe, 'autoencoder.', 12), 'fit');
    assert.match(details!.detail, /^\(method\) AutoencoderModel\.fit\(x: tf\.Tensor, y: tf\.Tensor, args\?: FitArgs\): Promise<History>$/);
    assert.match(details!.documentation, /Trains the model/);
  });

  test('globals: documented, no "(alias)" or "import" lines from the plumbing', () => {
    const c = 'show.reconstructions\nAutoencoder\ndatasets.fashionMnist';
    const s = service([ts_('1', c)]);
    const h1 = s.getHover('1', at(c, 'reconstructions'))!;
    assert.match(h1.display, /^\(property\) reconstructions: \(model: AutoencoderModel \| tf\.LayersModel, x: tf\.Tensor(<tf\.Rank>)?, opts\?: ReconstructionOptions( \| undefined)?\) => void$/);
    assert.match(h1.documentation, /reconstructions/);
    const h2 = s.getHover('1', at(c, 'Autoencoder'))!;
    assert.doesNotMatch(h2.display, /alias|import/);
    assert.match(h2.display, /class Autoencoder/);
    assert.match(s.getHover('1', at(c, 'fashionMnist'))!.documentation, /Fashion-MNIST/);
  });

  test('the plumbing\'s "(alias)" prefix and import line are stripped, nothing else', () => {
    const p = (text: string, kind = 'text') => ({ text, kind });
    assert.deepEqual(
      stripAlias([p('('), p('alias'), p(')'), p(' ', 'space'), p('const'), p(' ', 'space'), p('x'), p('\n', 'lineBreak'), p('import', 'keyword'), p(' ', 'space'), p('x')]),
      [p('const'), p(' ', 'space'), p('x')],
    );
    const plain = [p('const'), p(' ', 'space'), p('y')];
    assert.deepEqual(stripAlias(plain), plain);
  });

  test('inside an import\'s string: only the modules a cell can import', () => {
    const c = "import { Autoencoder } from '';";
    const s = service([ts_('1', c)]);
    const list = s.getCompletions('1', at(c, "''", 1), "'")!;
    assert.deepEqual(list.entries.map((e) => e.name), ['@tensorflow/tfjs', '@tensorflow/tfjs-core', '@tensorflow/tfjs-layers', 'autoencoder-notebooks']);
    assert.deepEqual(list.entries[0].replacement, { start: at(c, "''", 1), end: at(c, "''", 1) });
  });

  test('signature help with the active parameter', () => {
    const c = 'addNoise(tf.zeros([2]), ';
    const s = service([ts_('1', c)]);
    const help = s.getSignatureHelp('1', c.length, { kind: 'characterTyped', character: ',' })!;
    const sig = help.signatures[help.activeSignature];
    assert.match(sig.label, /^addNoise\(x: tf\.Tensor<tf\.Rank>, factor: number, options\?: NoiseOptions\): tf\.Tensor<tf\.Rank>$/);
    assert.equal(help.activeParameter, 1);
    assert.equal(sig.label.slice(...sig.parameters[1].label), 'factor: number');
  });
});

describe('edits', () => {
  test('a changed declaration changes what the cells below see; an inserted and a removed cell too', () => {
    const s = service([ts_('1', 'const a = 1;'), ts_('2', 'a.toFixed();')]);
    assert.deepEqual(messages(s, '2'), []);
    s.updateCell('1', "const a = 'one';");
    assert.deepEqual(messages(s, '2'), ["Property 'toFixed' does not exist on type '\"one\"'. Did you mean 'fixed'?"]);
    s.updateCell('1', 'const b = 1;');
    assert.deepEqual(messages(s, '2'), ["Cannot find name 'a'."]);
    s.setCells([ts_('1', 'const b = 1;'), ts_('new', 'const a = 2;'), ts_('2', 'a.toFixed();')]);
    assert.deepEqual(messages(s, '2'), []);
    s.setCells([ts_('2', 'a.toFixed();'), ts_('new', 'const a = 2;')]);
    assert.deepEqual(messages(s, '2'), ["Cannot find name 'a'."], 'moved above its declaration');
  });

  test('a type change travels down through every cell that derives from it', () => {
    const s = service([ts_('1', 'const a = 1;'), ts_('2', 'const b = [a];'), ts_('3', 'const c = { b };'), ts_('4', 'c.b[0].toFixed();')]);
    assert.deepEqual(messages(s, '4'), []);
    s.updateCell('1', "const a = 'one';");
    assert.deepEqual(messages(s, '4'), ["Property 'toFixed' does not exist on type 'string'. Did you mean 'fixed'?"]);
    assert.match(s.getHover('4', 0)!.display, /const c: \{\s*b: string\[\];\s*\}/);
  });

  test('classes keep one identity across cells (private members included)', () => {
    const s = service([ts_('1', 'class K { private secret = 1; get value() { return this.secret; } }'), ts_('2', 'const k = new K();'), ts_('3', 'const j: K = k;\nj.value.toFixed();')]);
    assert.deepEqual(messages(s, '3'), []);
  });

  test('while a cell is being typed (syntax errors), the cells below keep seeing what it declared before', () => {
    const s = service([ts_('1', 'const model = new Autoencoder({ inputShape: [4], latentDim: 2 });\nconst n = 1;'), ts_('2', 'model.fit;\nn.toFixed();')]);
    assert.deepEqual(messages(s, '2'), []);
    s.updateCell('1', 'const model = new Autoencoder({ inputShape: [4], latentDim: 2 });\nconst n = 1;\nconst half = (');
    assert.ok(s.getDiagnostics('1').length > 0, 'the cell being typed reports its syntax error');
    assert.deepEqual(messages(s, '2'), [], 'the cell below is not disturbed');
    s.updateCell('1', 'const model = new Autoencoder({ inputShape: [4], latentDim: 2 });\nconst n = "one";');
    assert.deepEqual(messages(s, '2'), ["Property 'toFixed' does not exist on type '\"one\"'. Did you mean 'fixed'?"], 'once it parses again, its new declarations count');
  });

  test('an edit builds the next program without reading the libraries\' package.json files again', () => {
    const c = 'const m = new Autoencoder({ inputShape: [4], latentDim: 2 });\nm.';
    const s = service([ts_('1', 'const x = tf.ones([2]);'), ts_('2', c)]);
    s.getCompletions('2', c.length, '.');
    const files = types.files as Map<string, string>;
    const get = files.get;
    let reads = 0;
    files.get = function (key: string) {
      if (key.endsWith('/package.json')) reads++;
      return get.call(this, key);
    };
    try {
      s.updateCell('2', c + '\n');
      assert.ok(s.getCompletions('2', c.length, '.')!.entries.some((e) => e.name === 'fit'));
    } finally {
      files.get = get;
    }
    assert.equal(reads, 0);
  });

  test('a cell can change language', () => {
    const s = service([ts_('1', 'const a: number = 1;')]);
    assert.deepEqual(messages(s, '1'), []);
    s.updateCell('1', 'const a: number = 1;', undefined, 'javascript');
    assert.deepEqual(
      s.getDiagnostics('1').map((d: CellDiagnostic) => d.code),
      [8010],
      'type annotations are TypeScript only',
    );
  });
});
