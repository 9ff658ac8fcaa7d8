// The parts of the first-hour commands that need no VS Code: the data sets
// command's closing message, the settings tab to open, the sample picker's
// order, the samples' code, the headless run's parameters and command line,
// and the server that lets a remote window open a report in the browser.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseNotebook } from '../../src/common/aenb';
import { describeOutcomes, type DatasetOutcome } from '../../src/commands/download-progress';
import { formatParameters, headlessArgs, headlessOutputs, notebookParameters, npxCommand, parseParameterText } from '../../src/commands/headless';
import { ReportServer, withLocalPath } from '../../src/commands/report-server';
import { describeSample, sortSamples } from '../../src/commands/samples';
import { DatasetError } from '../../src/lib/data/errors';
import type { DatasetLocation } from '../../src/lib/data/load';
import { EXTENSION_ID, settingsQuery, settingsTab } from '../../src/notebook/settings';

const ROOT = join(__dirname, '..', '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { publisher: string; name: string; contributes: { configuration: { properties: Record<string, { scope?: string }> } } };

function located(dataset: 'mnist' | 'fashion-mnist', downloaded: number): DatasetLocation {
  const files = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'].map((file, i) => ({
    role: 'trainImages' as const, file, source: i < downloaded ? ('download' as const) : ('system' as const), location: `/x/${file}`, verified: true, downloaded: i < downloaded,
  }));
  return { dataset, title: dataset === 'mnist' ? 'MNIST' : 'Fashion-MNIST', files, local: true, summary: '', warnings: [] };
}

describe('Download the Data Sets: the closing message', () => {
  const offline = new DatasetError('network', 'Cannot download train-images-idx3-ubyte (mnist) from https://example/: getaddrinfo ENOTFOUND example (ENOTFOUND). Check the network connection or the mirror setting.');

  test('one data set fails, the other is on disk: only the failed one is named as failed', () => {
    const outcomes: DatasetOutcome[] = [{ dataset: 'mnist', error: offline }, { dataset: 'fashion-mnist', located: located('fashion-mnist', 0) }];
    const r = describeOutcomes(outcomes);
    assert.equal(r.kind, 'failed');
    assert.match(r.message, /^Could not get MNIST: Cannot download train-images-idx3-ubyte \(mnist\)/);
    assert.doesNotMatch(r.message, /Could not get (MNIST and )?Fashion-MNIST/);
    assert.match(r.message, /\nFashion-MNIST is ready \(all 4 files were already here and are verified\)\.$/);
  });

  test('both fail: each is named with its own reason', () => {
    const r = describeOutcomes([{ dataset: 'mnist', error: offline }, { dataset: 'fashion-mnist', error: new DatasetError('http-status', 'HTTP 404 Not Found for x.') }]);
    assert.equal(r.kind, 'failed');
    assert.equal(r.message, `Could not get MNIST: ${offline.message}\nCould not get Fashion-MNIST: HTTP 404 Not Found for x.`);
  });

  test('all ready: one line with what was downloaded', () => {
    const r = describeOutcomes([{ dataset: 'mnist', located: located('mnist', 4) }, { dataset: 'fashion-mnist', located: located('fashion-mnist', 0) }]);
    assert.deepEqual(r, { kind: 'ready', message: 'MNIST and Fashion-MNIST are ready: 4 files downloaded and verified, 4 already here.' });
    assert.deepEqual(describeOutcomes([{ dataset: 'mnist', located: located('mnist', 1) }]), { kind: 'ready', message: 'MNIST is ready: 1 file downloaded and verified, 3 already here.' });
  });

  test('cancelled after one was ready', () => {
    const r = describeOutcomes([{ dataset: 'mnist', located: located('mnist', 4) }, { dataset: 'fashion-mnist', cancelled: true }]);
    assert.equal(r.kind, 'cancelled');
    assert.match(r.message, /^Download cancelled\. .* MNIST is ready/);
  });
});

describe('Open Settings: the tab where the settings apply', () => {
  const scope = (name: string) => pkg.contributes.configuration.properties[`autoencoderNotebooks.${name}`].scope;

  test('the data settings are machine-overridable: in a remote window (code-server) they are under Remote', () => {
    assert.equal(scope('dataFolder'), 'machine-overridable');
    assert.equal(scope('downloadMirror'), 'machine-overridable');
    assert.equal(settingsTab([{}, {}], [scope('dataFolder'), scope('downloadMirror')], true), 'remote');
    assert.equal(settingsTab([{}, {}], [scope('dataFolder'), scope('downloadMirror')], false), 'user');
  });

  test('a window-scoped setting (the backend) is under User even in a remote window', () => {
    assert.equal(scope('backend'), undefined);
    assert.equal(settingsTab([{}], [scope('backend')], true), 'user');
  });

  test('a value set by the workspace wins, so the workspace tab is opened', () => {
    assert.equal(settingsTab([{ workspaceValue: '/data' }, {}], ['machine-overridable', 'machine-overridable'], true), 'workspace');
    assert.equal(settingsTab([{ workspaceFolderValue: '/data' }], ['machine-overridable'], false), 'workspace');
  });

  test('the extension id used to read the settings\' scopes is the manifest\'s', () => {
    assert.equal(EXTENSION_ID, `${pkg.publisher}.${pkg.name}`);
  });

  test('the query lists exactly these settings', () => {
    assert.equal(settingsQuery(['autoencoderNotebooks.dataFolder', 'autoencoderNotebooks.downloadMirror']), '@id:autoencoderNotebooks.dataFolder @id:autoencoderNotebooks.downloadMirror');
  });
});

describe('the samples', () => {
  test('the picker lists the vanilla autoencoder first, then the stacked one', async () => {
    const dir = join(ROOT, 'samples');
    const names = (await readdir(dir)).filter((n) => n.endsWith('.aenb')).sort();
    assert.ok(names.indexOf('stacked-fashion-mnist.aenb') < names.indexOf('vanilla-mnist.aenb'), 'by name, stacked would come first');
    const infos = await Promise.all(names.map(async (n) => describeSample(n, await readFile(join(dir, n), 'utf8'))));
    const picked = sortSamples(infos).map((s) => s.id);
    assert.deepEqual(picked.slice(0, 2), ['vanilla-mnist', 'stacked-fashion-mnist']);
    // Every sample says where it goes: none falls back to file-name order behind the others by accident.
    assert.deepEqual(infos.filter((s) => s.order === undefined).map((s) => s.id), []);
  });

  test('samples without an order come after, by file name', () => {
    const s = (id: string, order?: number) => ({ id, fileName: `${id}.aenb`, title: id, ...(order === undefined ? {} : { order }) });
    assert.deepEqual(sortSamples([s('b'), s('z', 2), s('a'), s('y', 1)]).map((x) => x.id), ['y', 'z', 'a', 'b']);
  });

  test('the code cells hold no character that VS Code marks as ambiguous or invisible (ASCII only)', async () => {
    const dir = join(ROOT, 'samples');
    for (const name of (await readdir(dir)).filter((n) => n.endsWith('.aenb'))) {
      const nb = parseNotebook(await readFile(join(dir, name), 'utf8'), name);
      nb.cells.forEach((cell, i) => {
        if (cell.kind !== 'code') return;
        cell.source.split('\n').forEach((line, l) => {
          const odd = [...line].filter((ch) => ch.charCodeAt(0) > 0x7e || (ch.charCodeAt(0) < 0x20 && ch !== '\t'));
          assert.deepEqual(odd, [], `${name}, cell ${i + 1}, line ${l + 1}: ${JSON.stringify(line)}`);
        });
      });
    }
  });

  test('no sample tells the reader to run dist/cli.js, which only a development checkout has', async () => {
    const dir = join(ROOT, 'samples');
    for (const name of (await readdir(dir)).filter((n) => n.endsWith('.aenb'))) {
      const text = await readFile(join(dir, name), 'utf8');
      assert.doesNotMatch(text, /dist\/cli\.js/, name);
    }
    const vanilla = await readFile(join(dir, 'vanilla-mnist.aenb'), 'utf8');
    assert.match(vanilla, /Run Notebook Headless with Parameters\.\.\./);
    assert.match(vanilla, /npx autoencoder-notebooks run vanilla-mnist\.aenb --set epochs=5/);
  });
});

describe('Run Notebook Headless with Parameters', () => {
  const vanilla = async () => parseNotebook(await readFile(join(ROOT, 'samples', 'vanilla-mnist.aenb'), 'utf8'), 'vanilla-mnist.aenb');

  test('the parameters cell is read into editable name=value pairs', async () => {
    const params = notebookParameters(await vanilla());
    assert.ok(params);
    assert.equal(formatParameters(params), 'epochs=50 batchSize=32 latentDim=64 trainSamples=60000 noiseFactor=0.3 nImages=4');
    const stacked = notebookParameters(parseNotebook(await readFile(join(ROOT, 'samples', 'stacked-fashion-mnist.aenb'), 'utf8'), 's.aenb'));
    assert.ok(stacked);
    assert.equal(formatParameters(stacked), 'epochs=100 batchSize=32 layerSizes=[64, 36] trainSamples=60000 nImages=4');
  });

  test('only changed values are set; arrays and quoted text may hold spaces', async () => {
    const params = notebookParameters(parseNotebook(await readFile(join(ROOT, 'samples', 'stacked-fashion-mnist.aenb'), 'utf8'), 's.aenb'))!;
    assert.deepEqual(parseParameterText('epochs=100 batchSize=32 layerSizes=[64, 36] trainSamples=60000 nImages=4', params), { values: [] });
    assert.deepEqual(parseParameterText('epochs=5 layerSizes=[128, 16] trainSamples=1000', params), { values: [['epochs', 5], ['layerSizes', [128, 16]], ['trainSamples', 1000]] });
    assert.deepEqual(parseParameterText('  epochs=2,nImages=8 ', params), { values: [['epochs', 2], ['nImages', 8]] });
  });

  test('mistakes are explained, with the known names', async () => {
    const params = notebookParameters(await vanilla())!;
    const err = (t: string) => {
      const r = parseParameterText(t, params);
      assert.ok('error' in r, `${t} is refused`);
      return r.error;
    };
    assert.match(err('epoch=5'), /"epoch" is not a parameter of this notebook; its parameters cell declares "epochs", "batchSize", "latentDim", "trainSamples", "noiseFactor", "nImages"/);
    assert.match(err('epochs 5'), /Expected "=" after "epochs" \(column 7\)/);
    assert.match(err('epochs=5 epochs=6'), /"epochs" is given twice/);
    assert.match(err('epochs=[5'), /opens a bracket that is not closed/);
    assert.match(err('epochs='), /has no value/);
    assert.match(err('5=epochs'), /Expected a parameter name/);
  });

  test('text values: quoted or bare, passed to the runner as JSON', () => {
    const params = [{ name: 'title', text: "'Vanilla'" }, { name: 'n', text: '3' }];
    assert.equal(formatParameters(params), 'title="Vanilla" n=3');
    assert.deepEqual(parseParameterText('title="My run" n=3', params), { values: [['title', 'My run']] });
    assert.deepEqual(parseParameterText("title='x y'", params), { values: [['title', 'x y']] });
    assert.deepEqual(parseParameterText('title=plain', params), { values: [['title', 'plain']] });
  });

  test('the runner arguments and the same run as an npx command', () => {
    const run = { notebook: '/w/my nb.aenb', sets: [['epochs', 5], ['title', 'a b']] as [string, unknown][], ...headlessOutputs('/w/my nb.aenb'), backend: 'wasm', dataDir: '/d', cacheDir: '/c' };
    assert.deepEqual(headlessArgs(run), ['run', '/w/my nb.aenb', '--set', 'epochs=5', '--set', 'title="a b"', '--out', '/w/my nb.executed.aenb', '--html', '/w/my nb.executed.html', '--backend', 'wasm', '--data-dir', '/d', '--cache-dir', '/c']);
    assert.equal(npxCommand({ ...run, cacheDir: undefined }), `npx autoencoder-notebooks run '/w/my nb.aenb' --set epochs=5 --set 'title="a b"' --out '/w/my nb.executed.aenb' --html '/w/my nb.executed.html' --backend wasm --data-dir /d`);
  });
});

describe('Open in Browser from a remote window', () => {
  const get = (url: string, method = 'GET') =>
    new Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
      http.request(url, { method }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      }).on('error', reject).end();
    });

  test('a report is served at an unguessable local address, read afresh on each request', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aenb-report-'));
    const server = new ReportServer();
    try {
      const file = join(dir, 'my report.html');
      await writeFile(file, '<html>first</html>');
      const url = await server.urlFor(file);
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/[0-9a-f]{32}\/my%20report\.html$/);
      assert.equal(await server.urlFor(file), url, 'one address per report');
      const first = await get(url);
      assert.equal(first.status, 200);
      assert.equal(first.body, '<html>first</html>');
      assert.equal(first.headers['content-type'], 'text/html; charset=utf-8');
      assert.equal(first.headers['cache-control'], 'no-store');
      await writeFile(file, '<html>second</html>');
      assert.equal((await get(url)).body, '<html>second</html>', 'a re-export shows the new content');
      const origin = new URL(url).origin;
      assert.equal((await get(`${origin}/`)).status, 404);
      assert.equal((await get(`${origin}/${'0'.repeat(32)}/my%20report.html`)).status, 404, 'another token opens nothing');
      assert.equal((await get(url, 'POST')).status, 405);
      await rm(file);
      assert.equal((await get(url)).status, 410);
    } finally {
      server.dispose();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('the forwarded address keeps the report path (code-server maps only the origin)', () => {
    const local = 'http://127.0.0.1:41234/0123456789abcdef0123456789abcdef/r.html';
    assert.equal(withLocalPath('http://127.0.0.1:8080/proxy/41234/', local), 'http://127.0.0.1:8080/proxy/41234/0123456789abcdef0123456789abcdef/r.html');
    assert.equal(withLocalPath('https://x-41234.example.dev/0123456789abcdef0123456789abcdef/r.html', local), 'https://x-41234.example.dev/0123456789abcdef0123456789abcdef/r.html');
    assert.equal(withLocalPath(local, local), local);
  });
});
