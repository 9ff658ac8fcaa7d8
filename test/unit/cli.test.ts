/**
 * The headless runner's command line and parameters (running notebooks
 * through `node dist/cli.js` is test/cli/).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createCodeCell, createMarkdownCell, createNotebook } from '../../src/common/aenb';
import { cellNames } from '../../src/common/cell-names';
import { cellLocation, splitErrorStack } from '../../src/common/error-stack';
import { injectParameters, parseAssignment, UsageError } from '../../src/cli/run';
import { parseArgs } from '../../src/cli/main';

describe('argument handling', () => {
  test('--set values are JSON when they parse, else strings; names must be identifiers', () => {
    assert.deepEqual(parseAssignment('epochs=5'), ['epochs', 5]);
    assert.deepEqual(parseAssignment('layers=[32,16]'), ['layers', [32, 16]]);
    assert.deepEqual(parseAssignment('name=Vanilla'), ['name', 'Vanilla']);
    assert.deepEqual(parseAssignment('flag=true'), ['flag', true]);
    assert.throws(() => parseAssignment('epochs'), /needs name=value/);
    assert.throws(() => parseAssignment('2x=1'), /not a valid variable name/);
  });

  test('options are checked', () => {
    const a = parseArgs(['run', 'nb.aenb', '--set', 'epochs=1', '--set=batchSize=8', '--backend', 'cpu', '--out=o.aenb']);
    assert.ok(typeof a === 'object');
    assert.deepEqual(a.sets, [['epochs', 1], ['batchSize', 8]]);
    assert.equal(a.backend, 'cpu');
    assert.equal(a.out, 'o.aenb');
    assert.equal(parseArgs(['--help']), 'help');
    assert.equal(parseArgs(['--version']), 'version');
    assert.equal(parseArgs(['run', 'nb.aenb', '--version']), 'version');
    assert.throws(() => parseArgs(['exec', 'x']), /Unknown command "exec"/);
    assert.throws(() => parseArgs(['run', 'a.aenb', '--backend', 'gpu']), /--backend must be auto, tensorflow, wasm or cpu/);
    assert.throws(() => parseArgs(['run', 'a.aenb', '--bogus']), /Unknown option --bogus/);
    assert.throws(() => parseArgs(['run']), /Which notebook/);
    assert.throws(() => parseArgs(['run', 'a.aenb', '--out']), /--out needs a value/);
    const t = parseArgs(['run', 'nb.aenb', '--threads', '3', '--fma=off']);
    assert.ok(typeof t === 'object');
    assert.equal(t.threads, 3);
    assert.equal(t.fma, false);
    const d = parseArgs(['run', 'nb.aenb', '--threads=auto', '--fma', 'on']);
    assert.ok(typeof d === 'object');
    assert.equal(d.threads, 'auto');
    assert.equal(d.fma, undefined, 'on is the default: FMA where the runtime has it');
    assert.throws(() => parseArgs(['run', 'a.aenb', '--threads', '0']), /--threads must be auto or a whole number from 1 to 64; got "0"/);
    assert.throws(() => parseArgs(['run', 'a.aenb', '--fma', 'maybe']), /--fma must be on or off/);
  });

  test('every usage error says what is wrong (util.parseArgs underneath)', () => {
    const a = parseArgs(['run', 'nb.aenb', '--data-dir', 'd', '--cache-dir=c', '--mirror', 'http://m', '--html', 'r.html', '--quiet']);
    assert.ok(typeof a === 'object');
    assert.deepEqual([a.dataDir, a.cacheDir, a.mirror, a.html, a.quiet, a.backend, a.sets], ['d', 'c', 'http://m', 'r.html', true, 'auto', []]);
    assert.equal(parseArgs([]), 'help');
    assert.equal(parseArgs(['run', 'a.aenb', '-h']), 'help');
    assert.deepEqual((parseArgs(['run', 'a.aenb', '--set=x=-1']) as { sets: unknown }).sets, [['x', -1]]);
    const cases: [string[], RegExp][] = [
      [['run', 'a.aenb', '--out', '--quiet'], /^--out needs a value \(for a value that starts with "-", write --out=VALUE\)\.$/],
      [['run', 'a.aenb', '--set', '-x=1'], /^--set needs a value/],
      [['run', 'a.aenb', '--quiet=yes'], /^--quiet takes no value\.$/],
      [['run', 'a.aenb', '-x'], /^Unknown option -x\.$/],
      [['run', 'a.aenb', '--bogus=1'], /^Unknown option --bogus\.$/],
      [['run', 'a.aenb', 'b.aenb'], /^One notebook at a time: got "a\.aenb" and "b\.aenb"\.$/],
      [['--quiet'], /^Which command\? The commands are "run" \(autoencoder-notebooks run <notebook\.aenb>\) and "check" \(autoencoder-notebooks check <notebook\.aenb>\.\.\.\)\.$/],
      [['run', 'a.aenb', '--set', 'x'], /^--set needs name=value, got "x"\.$/],
      [['run', 'a.aenb', '--backend='], /^--backend must be auto, tensorflow, wasm or cpu; got ""\.$/],
    ];
    for (const [argv, message] of cases) {
      assert.throws(() => parseArgs(argv), (e: Error) => e instanceof UsageError && message.test(e.message), `${argv.join(' ')}`);
    }
  });

  test('cells are named by their place in the notebook; the injected parameters cell is not counted', () => {
    assert.deepEqual(cellNames([{ tags: [] }, {}, { tags: ['parameters'] }, { tags: ['injected-parameters'] }, {}]), [
      'Cell 1',
      'Cell 2',
      'Cell 3',
      'Injected parameters',
      'Cell 4',
    ]);
  });

  test('the line of a cell in an error stack is the deepest frame of that cell, above the library frames', () => {
    const stack = [
      'Error: boom',
      '    at inner (Cell 12:7:3)',
      '    at Cell 2:9:1',
      '    at async Cell 2:11:5',
      '    --- library frames, most recent call first ---',
      '    at helper (Cell 2:1:1)',
    ].join('\n');
    assert.deepEqual(cellLocation(stack, 'Cell 2'), { line: 9, column: 1 });
    assert.deepEqual(cellLocation(stack, 'Cell 12'), { line: 7, column: 3 });
    assert.equal(cellLocation(stack, 'Cell 1'), undefined);
    assert.equal(cellLocation('TypeError: x', 'Cell 1'), undefined);
    assert.match(splitErrorStack(stack).library, /^ {4}at helper/);
    assert.doesNotMatch(splitErrorStack(stack).own, /library/);
  });

  test('parameters are injected after the parameters cell; unknown names are refused with the known ones', () => {
    const nb = createNotebook([
      createMarkdownCell('# t\n'),
      createCodeCell('const epochs = 50;\nconst lr: number = 0.001;\n', { tags: ['parameters'] }),
      createCodeCell('epochs\n'),
    ]);
    const out = injectParameters(nb, [['epochs', 2]]);
    assert.equal(out.cells.length, 4);
    assert.deepEqual(out.cells[2].metadata.tags, ['injected-parameters']);
    assert.match(out.cells[2].source, /const epochs = 2;/);
    // Injecting again replaces the earlier injected cell.
    assert.equal(injectParameters(out, [['lr', 0.01]]).cells.length, 4);
    assert.throws(() => injectParameters(nb, [['epoch', 2]]), (e: Error) => e instanceof UsageError && /Unknown parameter "epoch".*"epochs", "lr"/.test(e.message));
    assert.throws(() => injectParameters(createNotebook([createCodeCell('1')]), [['a', 1]]), /no cell tagged "parameters"/);
  });
});
