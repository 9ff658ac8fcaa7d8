import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as vm from 'node:vm';
import {
  ALLOWED_MODULES,
  CELL_PREFIX_LENGTH,
  CellSyntaxError,
  LIBRARY_MODULE,
  mapStackTrace,
  transformCell,
  type TransformOptions,
  type TransformedCell,
} from '../../src/kernel/transform';

/** A stand-in for a Keras layer base class, as the kernel's `tf` would provide. */
class FakeLayer {
  readonly name: string;
  built = false;
  constructor(config: { name?: string } = {}) {
    this.name = config.name ?? 'layer';
  }
  apply(x: number[]): number[] {
    this.built = true;
    return this.call(x);
  }
  call(x: number[]): number[] {
    return x;
  }
}

const fakeTf = { layers: { Layer: FakeLayer }, version: '4.22.0' };
const fakeLib = { Autoencoder: class Autoencoder {}, show: (v: unknown) => `shown ${String(v)}` };

/** A kernel-like session: one vm context, cells run one after another. */
function session(globals: Record<string, unknown> = {}) {
  const imported: string[] = [];
  const modules: Record<string, unknown> = {
    '@tensorflow/tfjs': fakeTf,
    '@tensorflow/tfjs-layers': { layers: fakeTf.layers, default: 'tfl-default' },
    [LIBRARY_MODULE]: fakeLib,
  };
  const context = vm.createContext({
    console,
    tf: fakeTf,
    __aenb_import: (spec: string) => {
      imported.push(spec);
      if (!Object.prototype.hasOwnProperty.call(modules, spec)) throw new Error(`Cannot import '${spec}' in a notebook cell`);
      return Promise.resolve(modules[spec]);
    },
    ...globals,
  });
  let count = 0;
  const transform = (source: string, language: TransformOptions['language'] = 'typescript'): TransformedCell =>
    transformCell(source, { language, fileName: `cell-${++count}.${language === 'typescript' ? 'ts' : 'js'}` });
  const run = async (source: string, language: TransformOptions['language'] = 'typescript') => {
    const cell = transform(source, language);
    const value: unknown = await vm.runInContext(cell.code, context, { filename: cell.fileName });
    return { value, cell };
  };
  /** Evaluates an expression in the context (as JSON, to compare values across realms). */
  const get = (expr: string): unknown => JSON.parse(vm.runInContext(`JSON.stringify(${expr})`, context) as string);
  return { context, run, transform, get, imported };
}

/** Awaits a rejection and checks the (other-realm) error by name and message. */
async function rejects(p: Promise<unknown>, name: string, message: RegExp): Promise<Error> {
  try {
    await p;
  } catch (e) {
    const err = e as Error;
    assert.equal(err.name, name, `error name (message: ${err.message})`);
    assert.match(err.message, message);
    return err;
  }
  assert.fail(`expected a ${name}, nothing was thrown`);
}

function syntaxError(source: string, language: TransformOptions['language'] = 'typescript'): CellSyntaxError {
  try {
    transformCell(source, { language, fileName: 'cell.ts' });
  } catch (e) {
    assert.ok(e instanceof CellSyntaxError, `expected a CellSyntaxError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a CellSyntaxError');
}

describe('transform: top-level declarations persist', () => {
  test('const, let, var, function and class', async () => {
    const s = session();
    const { cell } = await s.run('const a = 1;\nlet b = 2\nvar c = 3, d;\nfunction twice(n) { return 2 * n }\nclass Point { constructor(x) { this.x = x } }');
    assert.deepEqual(cell.declared, ['a', 'b', 'c', 'd', 'twice', 'Point']);
    assert.equal(cell.hasLastExpression, false);
    const { value } = await s.run('[a, b, c, d, twice(21), new Point(5).x, Point.name]');
    assert.deepEqual(JSON.parse(JSON.stringify(value)), [1, 2, 3, null, 42, 5, 'Point']);
    assert.equal(s.get('typeof d'), 'undefined');
    assert.equal(s.get('Object.keys(globalThis).includes("d")'), true, 'an uninitialized var is still declared');
  });

  test('destructuring: object, array, defaults, rest, nested, renamed, computed keys, holes', async () => {
    const s = session();
    const { cell } = await s.run(
      [
        'const key = "k";',
        'const { a, b: renamed, c = 3, d: { e = 5, ...dRest } = {}, [key]: viaKey, ...objRest } =',
        '  { a: 1, b: 2, d: { f: 6, g: 7 }, k: "K", x: 8, y: 9 };',
        'let [first, , third = 30, [nested], ...tail] = [10, 20, undefined, [40], 50, 60];',
        'var { p: [q = a + c] } = { p: [] };',
      ].join('\n'),
    );
    assert.deepEqual(cell.declared, ['key', 'a', 'renamed', 'c', 'e', 'dRest', 'viaKey', 'objRest', 'first', 'third', 'nested', 'tail', 'q']);
    assert.deepEqual(s.get('{ a, renamed, c, e, dRest, viaKey, objRest, first, third, nested, tail, q }'), {
      a: 1,
      renamed: 2,
      c: 3,
      e: 5,
      dRest: { f: 6, g: 7 },
      viaKey: 'K',
      objRest: { x: 8, y: 9 },
      first: 10,
      third: 30,
      nested: 40,
      tail: [50, 60],
      q: 4,
    });
  });

  test('re-running a cell that declares const works; assigning a const from another cell does not', async () => {
    const s = session();
    const cell = 'const lr = 0.01;\nconst { epochs } = { epochs: 3 };';
    await s.run(cell);
    await s.run(cell.replace('0.01', '0.02'));
    assert.equal(s.get('lr'), 0.02);
    await rejects(s.run('lr = 5'), 'TypeError', /read only property 'lr'/);
    await rejects(s.run('epochs++'), 'TypeError', /read only property 'epochs'/);
    assert.equal(s.get('lr'), 0.02);
    // A const may become a let (or a function, a class) when its cell is edited and re-run.
    await s.run('let lr = 1;');
    await s.run('lr = 2; lr += 1;');
    assert.equal(s.get('lr'), 3);
    await s.run('function epochs() { return 7 }');
    assert.equal(s.get('epochs()'), 7);
  });

  test('let and var can be reassigned by later cells; functions see the latest global values', async () => {
    const s = session();
    await s.run('let step = 1;\nfunction next() { step = step + 1; return step }');
    await s.run('next(); next();');
    assert.equal(s.get('step'), 3);
    await s.run('let step = 100;');
    assert.equal((await s.run('next()')).value, 101);
  });

  test('declarations inside functions, blocks and loops stay local', async () => {
    const s = session();
    const { cell } = await s.run(
      'function f() { const inner = 1; return inner }\n{ const block = 2; let alsoBlock = 3 }\nfor (let i = 0; i < 2; i++) { const loop = i }\nfor (var v = 0; v < 1; v++) {}\nif (true) { var iv = 1 }\nf()',
    );
    assert.deepEqual(cell.declared, ['f']);
    for (const name of ['inner', 'block', 'alsoBlock', 'i', 'loop', 'v', 'iv']) assert.equal(s.get(`typeof ${name}`), 'undefined', name);
  });

  test('functions are hoisted within the cell and published before the cell runs', async () => {
    const s = session();
    await s.run('function callLater() { return helper() * 2 }');
    const { value } = await s.run('const early = helper();\nconst viaOld = callLater();\nfunction helper() { return 21 }\n[early, viaOld]');
    assert.deepEqual(JSON.parse(JSON.stringify(value)), [21, 42]);
  });

  test('var is hoisted like JavaScript: defined (undefined) before its line, old value kept on re-declaration', async () => {
    const s = session();
    const { value } = await s.run('const before = [counter, "counter" in globalThis];\nvar counter = 1;\nbefore');
    assert.deepEqual(JSON.parse(JSON.stringify(value)), [null, true]);
    await s.run('var counter;');
    assert.equal(s.get('counter'), 1);
  });

  test('async functions, generators and classes with static members persist', async () => {
    const s = session();
    await s.run('async function load() { return 5 }\nfunction* gen() { yield 1; yield 2 }\nclass Registry { static items = [1]; static count() { return Registry.items.length } }');
    const { value } = await s.run('[await load(), [...gen()], Registry.count()]');
    assert.deepEqual(JSON.parse(JSON.stringify(value)), [5, [1, 2], 1]);
  });
});

describe('transform: semantics of the wrapper', () => {
  test('top-level await', async () => {
    const s = session();
    const { value } = await s.run('const v = await new Promise<number>((r) => Promise.resolve().then(() => r(20)));\nfor await (const x of [Promise.resolve(1)]) { void x }\nv + 1', 'typescript');
    assert.equal(value, 21);
    assert.equal(s.get('v'), 20);
  });

  test('strict mode: assigning an undeclared name is an error; top-level this is the global', async () => {
    const s = session();
    await rejects(s.run('undeclaredTypo = 1'), 'ReferenceError', /undeclaredTypo is not defined/);
    assert.equal((await s.run('this === globalThis')).value, true);
  });

  test('the cell value resolves after the whole cell ran; errors reject the promise', async () => {
    const s = session();
    await rejects(s.run('const ok = 1;\nthrow new RangeError("bad")'), 'RangeError', /bad/);
    assert.equal(s.get('ok'), 1, 'declarations before the error persist');
  });
});

describe('transform: last expression', () => {
  const cases: Array<[string, string, unknown, boolean]> = [
    ['a plain expression', '1 + 1', 2, true],
    ['with a semicolon (still shown, as in the Node REPL)', 'const a = 2;\na * 3;', 6, true],
    ['followed by empty statements', '"x";;;', 'x', true],
    ['followed by TypeScript-only declarations', '40 + 2\ninterface Foo { a: number }\ntype Bar = string;', 42, true],
    ['an object literal in parentheses', '({ a: 1 })', { a: 1 }, true],
    ['parenthesized parts of a sequence', '(1), (2)', 2, true],
    ['a comment before the semicolon', '3 /* three */ // trailing\n;', 3, true],
    ['an assignment', 'let z = 1;\nz = 5', 5, true],
    ['an awaited value', 'await Promise.resolve("done")', 'done', true],
    ['a declaration last: none', 'const b = 1', undefined, false],
    ['a function declaration last: none', '1;\nfunction g() {}', undefined, false],
    ['a class declaration last: none', 'class K {}', undefined, false],
    ['an if statement last: none', 'if (true) { 5 }', undefined, false],
    ['an import last: none', "import * as tf from '@tensorflow/tfjs';", undefined, false],
    ['an empty cell', '', undefined, false],
    ['only comments', '// nothing\n/* here */', undefined, false],
  ];
  for (const [name, source, expected, has] of cases) {
    test(name, async () => {
      const s = session();
      const { value, cell } = await s.run(source);
      assert.equal(cell.hasLastExpression, has);
      assert.deepEqual(value === undefined ? undefined : JSON.parse(JSON.stringify(value)), expected);
    });
  }
});

describe('transform: TypeScript', () => {
  test('annotations, interfaces, generics, as, non-null, satisfies, enums', async () => {
    const s = session();
    const { value, cell } = await s.run(
      [
        'interface Config { latentDim: number; name?: string }',
        'type Pair<T> = [T, T];',
        'const config: Config = { latentDim: 32 } satisfies Config;',
        'function pair<T>(x: T): Pair<T> { return [x, x]; }',
        'const p = pair<number>(config.latentDim as number);',
        'const maybe: string | undefined = "here";',
        'const len = maybe!.length;',
        'enum Activation { Relu = "relu", Sigmoid = "sigmoid" }',
        'enum Dir { Up, Down = 5, Left }',
        'const cast = <number>(<unknown>7);',
        '[p, len, Activation.Sigmoid, Dir.Left, Dir[5], cast]',
      ].join('\n'),
    );
    assert.deepEqual(JSON.parse(JSON.stringify(value)), [[32, 32], 4, 'sigmoid', 6, 'Down', 7]);
    assert.ok(cell.declared.includes('Activation') && cell.declared.includes('Dir'));
    assert.ok(!cell.declared.includes('Config') && !cell.declared.includes('Pair'), 'types are not runtime names');
    assert.equal((await s.run('Activation.Relu')).value, 'relu', 'enums persist');
  });

  test('a class with typed fields, parameter properties, implements and abstract members', async () => {
    const s = session();
    await s.run(
      [
        'interface HasArea { area(): number }',
        'abstract class Shape implements HasArea {',
        '  protected readonly kind: string;',
        '  label!: string;',
        '  declare extra: number;',
        '  static count: number = 0;',
        '  constructor(kind: string) { this.kind = kind; Shape.count++; }',
        '  abstract area(): number;',
        '}',
        'class Rect extends Shape {',
        '  constructor(private w: number, public h: number = 2) { super("rect"); }',
        '  area(): number { return this.w * this.h; }',
        '}',
      ].join('\n'),
    );
    const { value } = await s.run('const r = new Rect(3);\n[r.area(), r.h, Shape.count, "extra" in r]');
    assert.deepEqual(JSON.parse(JSON.stringify(value)), [6, 2, 1, false]);
  });

  test('a Keras-style custom layer extending a class from the context', async () => {
    const s = session();
    await s.run(
      [
        "import * as tf from '@tensorflow/tfjs';",
        'interface ScaleConfig { factor: number; name?: string }',
        'class Scale extends tf.layers.Layer {',
        "  static className = 'Scale';",
        '  private readonly factor: number;',
        '  constructor(config: ScaleConfig) {',
        '    super(config);',
        '    this.factor = config.factor;',
        '  }',
        '  override call(x: number[]): number[] {',
        '    return x.map((v) => v * this.factor);',
        '  }',
        '}',
      ].join('\n'),
    );
    const { value } = await s.run("const layer = new Scale({ factor: 3, name: 'scale' });\n[layer.apply([1, 2]), layer.name, layer.built, layer instanceof tf.layers.Layer, Scale.className]");
    assert.deepEqual(JSON.parse(JSON.stringify(value)), [[3, 6], 'scale', true, true, 'Scale']);
    assert.ok(s.context.layer instanceof FakeLayer, 'the instance really extends the context class');
  });

  test('type-only imports disappear; JavaScript cells are not type-stripped', async () => {
    const s = session();
    const { cell } = await s.run("import type { Tensor } from '@tensorflow/tfjs';\nimport { type Rank, layers } from '@tensorflow/tfjs';\nconst n: number = 1;");
    assert.deepEqual(cell.declared, ['layers', 'n']);
    assert.deepEqual(s.imported, ['@tensorflow/tfjs']);
    const e = syntaxError('const n: number = 1;', 'javascript');
    assert.deepEqual([e.line, e.column], [1, 8]);
  });
});

describe('transform: imports', () => {
  test('imports call __aenb_import and persist like consts', async () => {
    const s = session();
    const { cell } = await s.run(
      [
        "import * as tfns from '@tensorflow/tfjs';",
        "import { Autoencoder, show as display } from 'autoencoder-notebooks';",
        "import tfl, { layers } from '@tensorflow/tfjs-layers';",
        "import libDefault from 'autoencoder-notebooks';",
        "import '@tensorflow/tfjs';",
      ].join('\n'),
    );
    assert.deepEqual(cell.declared, ['tfns', 'Autoencoder', 'display', 'tfl', 'layers', 'libDefault']);
    assert.deepEqual(s.imported, ['@tensorflow/tfjs', LIBRARY_MODULE, '@tensorflow/tfjs-layers', LIBRARY_MODULE, '@tensorflow/tfjs']);
    assert.match(cell.code, /__aenb_bind\("autoencoder-notebooks", \[\["Autoencoder","Autoencoder"\],\["show","display"\]\]\)/);
    assert.doesNotMatch(cell.code, /(^|;)\s*import[\s{*'"]/m, 'no import statement is left');
    assert.equal(s.context.tfns, fakeTf);
    assert.equal(s.context.Autoencoder, fakeLib.Autoencoder);
    assert.equal((await s.run('display(3)')).value, 'shown 3');
    assert.equal(s.get('tfl'), 'tfl-default', 'default import takes `default` when the module has one');
    assert.equal(s.context.libDefault, fakeLib, '... and the module itself otherwise (CommonJS interop)');
    assert.equal(s.context.layers, fakeTf.layers);
    await rejects(s.run('display = null'), 'TypeError', /read only property 'display'/);
    assert.deepEqual(ALLOWED_MODULES, ['@tensorflow/tfjs', '@tensorflow/tfjs-core', '@tensorflow/tfjs-layers', 'autoencoder-notebooks']);
  });

  test('an import of a name the module lacks fails when the name is used, with a hint', async () => {
    const s = session();
    await s.run("import { AutoEncoder, SomeInterface } from 'autoencoder-notebooks';\nlet fine = 1;");
    await rejects(s.run('new AutoEncoder()'), 'ReferenceError', /'AutoEncoder' is not exported by 'autoencoder-notebooks'; did you mean 'Autoencoder'\?/);
    // Never read at run time (e.g. only used as a type): no error.
    await s.run('const x: SomeInterface | undefined = undefined;');
    // Redeclaring the name replaces the failing binding.
    await s.run('const AutoEncoder = 1;');
    assert.equal(s.get('AutoEncoder'), 1);
  });

  test('the kernel decides which modules exist; its error reaches the cell', async () => {
    const s = session();
    await rejects(s.run("import * as fs from 'node:fs';"), 'Error', /Cannot import 'node:fs' in a notebook cell/);
    const bare = vm.createContext({});
    const cell = transformCell("import * as tf from '@tensorflow/tfjs';", { language: 'typescript', fileName: 'c.ts' });
    await rejects(vm.runInContext(cell.code, bare) as Promise<unknown>, 'ReferenceError', /__aenb_import is not defined/);
  });

  test('allowedModules rejects other imports before running, at the import', () => {
    try {
      transformCell("const a = 1;\nimport { readFileSync } from 'node:fs';", { language: 'typescript', fileName: 'cell.ts', allowedModules: ALLOWED_MODULES });
      assert.fail('expected a CellSyntaxError');
    } catch (e) {
      assert.ok(e instanceof CellSyntaxError);
      assert.deepEqual([e.line, e.column], [2, 30]);
      assert.match(e.reason, /cannot import 'node:fs': cells can import '@tensorflow\/tfjs', /);
    }
    transformCell("import * as tf from '@tensorflow/tfjs';", { language: 'typescript', fileName: 'cell.ts', allowedModules: ALLOWED_MODULES });
  });

  test('dynamic import() goes through __aenb_import; import.meta is refused', async () => {
    const s = session();
    const { value } = await s.run("const lib = await import('autoencoder-notebooks');\nconst lazy = async () => (await import('@tensorflow/tfjs')).version;\n[typeof lib.Autoencoder, await lazy()]", 'typescript');
    assert.deepEqual(JSON.parse(JSON.stringify(value)), ['function', '4.22.0']);
    assert.equal(s.context.lib, fakeLib);
    assert.deepEqual(s.imported, [LIBRARY_MODULE, '@tensorflow/tfjs']);
    const e = syntaxError('const x = 1;\nconsole.log(import.meta.url);');
    assert.deepEqual([e.line, e.column, e.reason], [2, 13, 'import.meta is not available in notebook cells']);
  });
});

describe('transform: exports', () => {
  test('export before a declaration is dropped; the declaration persists', async () => {
    const s = session();
    const { cell } = await s.run('export const a = 1;\nexport function f() { return 2 }\nexport class C {}\nexport enum E { X }\nexport interface I {}\nexport type T = 1;\nexport {};');
    assert.deepEqual(cell.declared, ['a', 'f', 'C', 'E']);
    assert.deepEqual(s.get('[a, f(), typeof C, E.X]'), [1, 2, 'function', 0]);
  });

  for (const [name, source, column] of [
    ['export default', 'const a = 1;\nexport default a;', 1],
    ['export list', 'const a = 1;\n  export { a };', 3],
    ['re-export', "\nexport * from '@tensorflow/tfjs';", 1],
  ] as const) {
    test(`${name} is a syntax error`, () => {
      const e = syntaxError(source);
      assert.deepEqual([e.line, e.column], [2, column]);
      assert.equal(e.reason, 'cells cannot export; declare at the top level instead (top-level declarations are visible to later cells)');
    });
  }
});

describe('transform: positions', () => {
  test('every line keeps its number', () => {
    const source = [
      "import {",
      "  Autoencoder,",
      "  show,",
      "} from 'autoencoder-notebooks';",
      'const {',
      '  a,',
      '  b: [c],',
      '}: { a: number; b: number[] } = { a: 1, b: [2] };',
      'class K {',
      '}',
      'a',
    ].join('\r\n');
    const cell = transformCell(source, { language: 'typescript', fileName: 'cell.ts' });
    const lines = cell.code.split(/\r\n|\n/);
    assert.equal(lines[0].slice(0, CELL_PREFIX_LENGTH + 1), '(async () => { "use strict"; __aenb_hoist(); ;');
    assert.match(lines[4], /^;__aenb_unlock\(\["a","c"\]\); \(\{$/);
    assert.match(lines[5], /^ {2}a: globalThis\.a,$/);
    assert.match(lines[8], /globalThis\.K = class K \{$/);
    assert.equal(lines[10], 'return (a)');
  });

  test('a runtime error on line 5 has line 5 in its stack trace', async () => {
    const s = session();
    const source = [
      "import * as tf from '@tensorflow/tfjs';",
      'const { a, b }: { a: number; b: string } = { a: 1, b: "x" };',
      'type T = number;',
      'const double = (n: T): T => n * 2;',
      'const c: number = double(a) + ({} as any).shape.length;',
      'c',
    ].join('\n');
    const err = await rejects(s.run(source), 'TypeError', /reading 'length'/);
    assert.match(err.stack ?? '', /cell-1\.ts:5:\d+/);
    // The column maps back to `.length` on the original line (types and rewrites shift it in the code).
    const m = /cell-1\.ts:5:(\d+)/.exec(err.stack ?? '');
    const cell = s.transform(source);
    assert.ok(m);
    const codeLine = cell.code.split('\n')[4];
    const original = source.split('\n')[4];
    assert.notEqual(codeLine.indexOf('.length'), original.indexOf('.length'), 'the column really moved');
    assert.equal(Number(m[1]), codeLine.indexOf('.length') + 2, 'V8 reports the property after the dot');
    assert.deepEqual(cell.mapPosition(5, Number(m[1])), { line: 5, column: original.indexOf('.length') + 2 });
  });

  test('columns on line 1 are shifted by the prefix; mapPosition and mapStackTrace undo it', async () => {
    const s = session();
    const source = 'const n: number = 1; throw new Error("line one");';
    const err = await rejects(s.run(source), 'Error', /line one/);
    const m = /cell-1\.ts:1:(\d+)/.exec(err.stack ?? '');
    assert.ok(m, err.stack);
    assert.ok(Number(m[1]) > CELL_PREFIX_LENGTH);
    const cell = s.transform(source);
    assert.deepEqual(cell.mapPosition(1, Number(m[1])), { line: 1, column: source.indexOf('new Error') + 1 });
    const mapped = mapStackTrace(err.stack ?? '', { ...cell, fileName: 'cell-1.ts' });
    assert.match(mapped, new RegExp(`cell-1\\.ts:1:${source.indexOf('new Error') + 1}\\b`));
  });

  test('stack frames through functions of earlier cells point at their own cells', async () => {
    const s = session();
    const first = await s.run('function check(x: number): number {\n  if (x < 0) {\n    throw new RangeError(`negative: ${x}`);\n  }\n  return x;\n}');
    const err = await rejects(s.run('const y = 1;\ncheck(-y);'), 'RangeError', /negative: -1/);
    assert.match(err.stack ?? '', /at check \(cell-1\.ts:3:\d+\)/);
    assert.match(err.stack ?? '', /cell-2\.ts:2:\d+/);
    assert.deepEqual(first.cell.mapPosition(3, 11), { line: 3, column: 11 }, 'untouched lines map 1:1');
  });

  test('positions in the wrapper after the cell map to nothing; their frames are dropped', async () => {
    const s = session();
    const { cell } = await s.run("import { Missing } from 'autoencoder-notebooks';\n");
    const lines = cell.code.split('\n');
    assert.equal(cell.mapPosition(lines.length, 1), undefined);
    const err = await rejects(s.run('Missing;'), 'ReferenceError', /'Missing' is not exported/);
    const stack = mapStackTrace(err.stack ?? '', cell);
    assert.doesNotMatch(stack, /cell-1\.ts/, stack);
  });
});

describe('transform: syntax errors', () => {
  test('a TypeScript syntax error (from sucrase) points at the original line and column', () => {
    const e = syntaxError('const a = 1;\nconst b: = 2;\nconst c = 3;');
    assert.deepEqual([e.line, e.column], [2, 10]);
    assert.equal(e.name, 'SyntaxError');
    assert.match(e.reason, /Unexpected token/);
    assert.doesNotMatch(e.reason, /\(\d+:\d+\)/);
    assert.equal(e.message, `${e.reason} (cell.ts:2:10)`);
    assert.equal(e.codeFrame, ['  1 | const a = 1;', '> 2 | const b: = 2;', '    |          ^', '  3 | const c = 3;'].join('\n'));
    assert.ok(e.stack?.includes(e.codeFrame));
  });

  test('an error found after type stripping (from acorn) maps its column back past the removed types', () => {
    // `let x` twice is valid to sucrase; acorn rejects the second, where `: Map<string, number>` was removed before it.
    const source = 'let x = 1;\nconst m: Map<string, number> = new Map(); let x = 2;';
    const e = syntaxError(source);
    assert.deepEqual([e.line, e.column], [2, source.split('\n')[1].indexOf('x = 2') + 1]);
    assert.match(e.reason, /Identifier 'x' has already been declared/);
  });

  test('JavaScript cells: errors come straight from acorn', () => {
    const e = syntaxError('const ok = 1;\n\tlet bad = (2;', 'javascript');
    assert.deepEqual([e.line, e.column], [2, 14]);
    assert.equal(e.codeFrame, ['  1 | const ok = 1;', '> 2 | \tlet bad = (2;', `    | \t${' '.repeat(12)}^`].join('\n'));
  });

  test('await inside a non-async function, and top-level return, are errors', () => {
    const e = syntaxError('function f() {\n  await g();\n}');
    assert.equal(e.line, 2);
    const r = syntaxError('const x = 1;\nreturn x;');
    assert.deepEqual([r.line, r.column], [2, 1]);
  });

  test('reserved names and unsupported top-level forms', () => {
    const reserved = syntaxError('const ok = 1, __aenb_hoist = 2;');
    assert.deepEqual([reserved.line, reserved.column], [1, 15]);
    assert.match(reserved.reason, /reserved/);
    const using = syntaxError('using r = f();', 'javascript');
    assert.match(using.reason, /'using' declarations are not supported at the top level/);
    assert.match(syntaxError('const globalThis = 1;', 'javascript').reason, /globalThis/);
  });

  test('TypeScript namespaces are refused instead of silently dropped', async () => {
    const e = syntaxError('const a = 1;\n  export namespace Shapes {\n  export const unit = 1;\n}');
    assert.deepEqual([e.line, e.column], [2, 3]);
    assert.match(e.reason, /namespaces are not supported/);
    // Ambient declarations, and the word in a string, are fine.
    const s = session();
    const { value } = await s.run('declare namespace Types { interface A {} }\nconst text = `\nnamespace X {\n}`;\ntext.length');
    assert.equal(value, 16);
  });

  test('positions count CRLF line endings once', () => {
    const e = syntaxError('const a = 1;\r\nconst b = 2;\r\nconst c = (;');
    assert.deepEqual([e.line, e.column], [3, 12]);
  });
});
