// Command arguments, samples, download progress and the new-notebook template
// (src/commands/args.ts, samples.ts, download-progress.ts, src/notebook/templates.ts).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseNotebook, serializeNotebook } from '../../src/common/aenb';
import { transformCell } from '../../src/kernel/transform';
import {
  CommandArgumentError,
  parseBackendArgs,
  parseDatasetArgs,
  parseExportArgs,
  parseLocation,
  parseNotebookTarget,
  parseSampleArgs,
  reportFileName,
} from '../../src/commands/args';
import { DownloadProgressTracker } from '../../src/commands/download-progress';
import { describeSample, uniqueFileName } from '../../src/commands/samples';
import { newNotebookTemplate } from '../../src/notebook/templates';

const ROOT = join(__dirname, '..', '..', '..');

/** Looks like a vscode.Uri to the parser. */
function uri(s: string) {
  const u = new URL(s);
  return { scheme: u.protocol.slice(0, -1), path: u.pathname, toString: () => s };
}

describe('command arguments: the notebook', () => {
  const cmd = 'Restart Kernel';
  test('nothing means the active notebook', () => {
    assert.deepEqual(parseNotebookTarget(undefined, cmd), { kind: 'active' });
    assert.deepEqual(parseNotebookTarget(null, cmd), { kind: 'active' });
  });

  test('a Uri, a NotebookDocument, a cell, a toolbar context, a URI string, a path', () => {
    const u = uri('file:///ws/a.aenb');
    const expected = { kind: 'location', location: { uri: 'file:///ws/a.aenb' } };
    assert.deepEqual(parseNotebookTarget(u, cmd), expected);
    assert.deepEqual(parseNotebookTarget({ uri: u, notebookType: 'autoencoder-notebook', cellCount: 3 }, cmd), expected);
    assert.deepEqual(parseNotebookTarget({ index: 0, notebook: { uri: u } }, cmd), expected);
    assert.deepEqual(parseNotebookTarget({ notebookEditor: { notebookUri: u }, ui: true }, cmd), expected);
    assert.deepEqual(parseNotebookTarget({ notebook: 'untitled:Untitled-1.aenb' }, cmd), { kind: 'location', location: { uri: 'untitled:Untitled-1.aenb' } });
    assert.deepEqual(parseNotebookTarget('/ws/b.aenb', cmd), { kind: 'location', location: { path: '/ws/b.aenb' } });
    assert.deepEqual(parseNotebookTarget('C:\\ws\\b.aenb', cmd), { kind: 'location', location: { path: 'C:\\ws\\b.aenb' } });
  });

  test('anything else is refused with what the command accepts', () => {
    assert.throws(() => parseNotebookTarget(42, cmd), (e: Error) => e instanceof CommandArgumentError && /Restart Kernel expects a notebook.*got number 42/.test(e.message));
    assert.throws(() => parseNotebookTarget({ foo: 1 }, cmd), /got an object with keys "foo"/);
    assert.throws(() => parseNotebookTarget('b.aenb', cmd), /absolute path, got the relative path "b\.aenb"/);
    assert.throws(() => parseLocation('', 'x'), /x must be a URI or an absolute path, got string ""/);
  });
});

describe('command arguments: per command', () => {
  test('New Notebook from a Sample', () => {
    assert.deepEqual(parseSampleArgs(undefined), {});
    assert.deepEqual(parseSampleArgs('vanilla-mnist'), { sample: 'vanilla-mnist' });
    assert.deepEqual(parseSampleArgs('vanilla-mnist.aenb'), { sample: 'vanilla-mnist' });
    assert.deepEqual(parseSampleArgs({ sample: 'a', destination: 'untitled' }), { sample: 'a', destination: 'untitled' });
    assert.deepEqual(parseSampleArgs({ sample: 'a', destination: 'workspace', folder: '/ws/sub' }), { sample: 'a', destination: 'workspace', folder: { path: '/ws/sub' } });
    assert.throws(() => parseSampleArgs({ sample: 'a', destination: 'desktop' }), /"destination" must be "workspace" or "untitled"/);
    assert.throws(() => parseSampleArgs({ sample: '../etc/passwd' }), /is not a sample id/);
    assert.throws(() => parseSampleArgs({ sampel: 'a' }), /unknown option "sampel"; it takes sample, destination and folder/);
    assert.throws(() => parseSampleArgs(3), /expects a sample id or \{ sample, destination, folder \}/);
  });

  test('Select Backend', () => {
    assert.deepEqual(parseBackendArgs(undefined), {});
    assert.deepEqual(parseBackendArgs('wasm'), { backend: 'wasm' });
    assert.deepEqual(parseBackendArgs({ backend: 'cpu', target: 'workspace', restart: true }), { backend: 'cpu', target: 'workspace', restart: true });
    assert.throws(() => parseBackendArgs('webgl'), /the backend must be one of auto, tensorflow, wasm, cpu; got string "webgl"/);
    assert.throws(() => parseBackendArgs({ backend: 'cpu', target: 'folder' }), /"target" must be "user" or "workspace"/);
    assert.throws(() => parseBackendArgs({ backend: 'cpu', restart: 'yes' }), /"restart" must be true or false/);
  });

  test('Download the Data Sets', () => {
    assert.deepEqual(parseDatasetArgs(undefined), {});
    assert.deepEqual(parseDatasetArgs('all'), { datasets: ['mnist', 'fashion-mnist'] });
    assert.deepEqual(parseDatasetArgs('MNIST'), { datasets: ['mnist'] });
    assert.deepEqual(parseDatasetArgs(['fashionMnist']), { datasets: ['fashion-mnist'] });
    assert.deepEqual(parseDatasetArgs({ datasets: ['fashion-mnist', 'mnist', 'mnist'] }), { datasets: ['mnist', 'fashion-mnist'] }, 'deduplicated, in a fixed order');
    assert.throws(() => parseDatasetArgs('cifar10'), /unknown data set "cifar10"; known: mnist, fashion-mnist/);
    assert.throws(() => parseDatasetArgs([]), /the list of data sets is empty/);
    assert.throws(() => parseDatasetArgs({ sets: 'all' }), /expects "all", a data set name/);
  });

  test('Export to HTML Report', () => {
    assert.deepEqual(parseExportArgs(undefined), { notebook: { kind: 'active' } });
    const u = uri('file:///ws/a.aenb');
    assert.deepEqual(parseExportArgs(u), { notebook: { kind: 'location', location: { uri: 'file:///ws/a.aenb' } } });
    assert.deepEqual(parseExportArgs({ uri: u }), { notebook: { kind: 'location', location: { uri: 'file:///ws/a.aenb' } } });
    assert.deepEqual(parseExportArgs({ notebook: u, target: '/tmp/r.html', open: false, theme: 'dark' }), {
      notebook: { kind: 'location', location: { uri: 'file:///ws/a.aenb' } },
      target: { path: '/tmp/r.html' },
      open: false,
      theme: 'dark',
    });
    assert.deepEqual(parseExportArgs({ target: 'file:///tmp/r.html' }), { notebook: { kind: 'active' }, target: { uri: 'file:///tmp/r.html' } });
    assert.throws(() => parseExportArgs({ open: 'no' }), /"open" must be true or false/);
    assert.throws(() => parseExportArgs({ theme: 'blue' }), /"theme" must be light, dark or auto/);
    assert.throws(() => parseExportArgs({ out: '/x' }), /unknown option "out"/);
    assert.equal(reportFileName('vanilla-mnist.aenb'), 'vanilla-mnist.html');
    assert.equal(reportFileName('Untitled-1'), 'Untitled-1.html');
    assert.equal(reportFileName('.aenb'), 'notebook.html');
  });
});

describe('samples', () => {
  test('every sample in samples/ is a valid notebook with a title', (t) => {
    let names: string[] = [];
    try {
      names = readdirSync(join(ROOT, 'samples')).filter((n) => n.endsWith('.aenb'));
    } catch {
      // no samples folder
    }
    if (names.length === 0) {
      t.skip('no samples yet');
      return;
    }
    for (const name of names) {
      const info = describeSample(name, readFileSync(join(ROOT, 'samples', name), 'utf8'));
      assert.equal(info.id, name.replace(/\.aenb$/, ''));
      assert.ok(info.title.length > 3, `${name} has a title`);
    }
  });

  test('title and description: metadata first, then the first heading and paragraph, then the file name', () => {
    const nb = (metadata: object, md: string) =>
      JSON.stringify({ format: 'aenb', version: 1, metadata, cells: [{ kind: 'markdown', source: md }, { kind: 'code', language: 'typescript', source: '1' }] });
    assert.deepEqual(describeSample('a.aenb', nb({ title: 'T', description: 'D' }, '# H\n\nP')), { id: 'a', fileName: 'a.aenb', title: 'T', description: 'D' });
    assert.deepEqual(describeSample('a.aenb', nb({}, '# The *title*\n\nA [link](http://x) and `code`.\n\nMore.')), {
      id: 'a',
      fileName: 'a.aenb',
      title: 'The title',
      description: 'A link and code.',
    });
    assert.deepEqual(describeSample('my-sample_1.aenb', nb({}, '')), { id: 'my-sample_1', fileName: 'my-sample_1.aenb', title: 'My sample 1' });
    assert.throws(() => describeSample('bad.aenb', '{'), /bad\.aenb:1:2/);
  });

  test('copies never take an existing name', () => {
    const taken = new Set(['a.aenb', 'a-2.aenb', 'b']);
    assert.equal(uniqueFileName('c.aenb', (n) => taken.has(n)), 'c.aenb');
    assert.equal(uniqueFileName('a.aenb', (n) => taken.has(n)), 'a-3.aenb');
    assert.equal(uniqueFileName('b', (n) => taken.has(n)), 'b-2');
    assert.throws(() => uniqueFileName('x.aenb', () => true, 5), /already 5 copies named x-N\.aenb/);
  });
});

describe('download progress', () => {
  test('one bar over all files; increments add up to 100', () => {
    const tr = new DownloadProgressTracker([
      { dataset: 'mnist', file: 'train-images-idx3-ubyte' },
      { dataset: 'mnist', file: 't10k-images-idx3-ubyte' },
    ]);
    let total = 0;
    const r1 = tr.update({ dataset: 'mnist', file: 'train-images-idx3-ubyte', bytes: 5e6, total: 10e6, bytesPerSecond: 2e6 });
    total += r1.increment;
    assert.equal(r1.increment, 25);
    assert.equal(r1.message, 'MNIST train-images-idx3-ubyte (file 1 of 2): 5.0 of 10.0 MB at 2.0 MB/s');
    total += tr.update({ dataset: 'mnist', file: 'train-images-idx3-ubyte', bytes: 4e6, total: 10e6, bytesPerSecond: 2e6 }).increment;
    assert.equal(total, 25, 'never goes backwards');
    total += tr.update({ dataset: 'mnist', file: 'train-images-idx3-ubyte', bytes: 10e6, total: 10e6, bytesPerSecond: 2e6 }).increment;
    const r2 = tr.update({ dataset: 'mnist', file: 't10k-images-idx3-ubyte', bytes: 1e6, bytesPerSecond: 0 });
    assert.equal(r2.message, 'MNIST t10k-images-idx3-ubyte (file 2 of 2): 1.0 MB', 'unknown size: bytes only');
    total += r2.increment;
    total += tr.finish('mnist', 't10k-images-idx3-ubyte').increment;
    assert.equal(total, 100);
    assert.equal(tr.done, 1);
  });

  test('a file that was not planned does not move the bar', () => {
    const tr = new DownloadProgressTracker([{ dataset: 'fashion-mnist', file: 'train-labels-idx1-ubyte' }]);
    const r = tr.update({ dataset: 'mnist', file: 'other', bytes: 5, total: 10, bytesPerSecond: 1 });
    assert.equal(r.increment, 0);
    assert.equal(new DownloadProgressTracker([]).done, 1);
  });
});

describe('new notebook template', () => {
  test('a markdown cell, then a code cell that loads a data set and compiles', () => {
    const nb = newNotebookTemplate();
    assert.deepEqual(parseNotebook(serializeNotebook(nb)), nb);
    assert.deepEqual(nb.cells.map((c) => c.kind), ['markdown', 'code']);
    assert.match(nb.cells[0].source, /^# /);
    assert.match(nb.cells[1].source, /datasets\.mnist\.loadData\(\)/);
    const t = transformCell(nb.cells[1].source, { language: 'typescript', fileName: 'Cell 2' });
    assert.ok(t.declared.includes('xTrain') && t.declared.includes('x'));
  });
});
