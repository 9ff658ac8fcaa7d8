// The table of output kinds (src/outputs/registry.ts): each kind complete for
// its side, MIME types and show functions unique, and the HTML report showing
// every kind through its registered view (markdown by markdown-it, raw HTML
// never passed through).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCodeCell, createNotebook, type AenbOutput } from '../../src/common/aenb';
import { OUTPUT_KINDS, kindOf, RENDERER_MIME_TYPES } from '../../src/outputs/registry';
import { errorOutput, markdownOutput, streamOutput, textOutput, toOutput, encodePng } from '../../src/outputs';
import { callbacksApi } from '../../src/kernel/callbacks';
import { showApi, valueOutput } from '../../src/kernel/display';
import { renderHtmlReport } from '../../src/report';
import { markdownToHtml } from '../../src/report/markdown';

const ROOT = join(__dirname, '..', '..', '..');

describe('output kinds', () => {
  test('names and MIME types are unique; every kind is complete for its side', () => {
    const names = OUTPUT_KINDS.map((k) => k.name);
    assert.equal(new Set(names).size, names.length);
    const mimes = OUTPUT_KINDS.flatMap((k) => k.mimes);
    assert.equal(new Set(mimes).size, mimes.length);
    for (const k of OUTPUT_KINDS) {
      assert.ok(k.mimes.length > 0, k.name);
      for (const m of k.mimes) assert.equal(kindOf(m.toUpperCase() + '; charset=utf-8'), k, m);
      if (k.rendered) {
        assert.ok(k.check && k.text && k.view, `${k.name}: a kind the renderer draws has a check, a text fallback and a view`);
      } else {
        assert.ok(k.report, `${k.name}: a kind VS Code draws has a report view`);
        assert.equal(k.view, undefined, `${k.name}: no renderer view`);
      }
    }
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    assert.deepEqual(pkg.contributes.notebookRenderer[0].mimeTypes, [...RENDERER_MIME_TYPES]);
  });

  test('the show API is the union of the kinds\' show functions', () => {
    const shown: AenbOutput[] = [];
    const show = showApi(
      (o) => shown.push(o),
      () => {
        throw new Error('no running cell');
      },
    );
    assert.deepEqual(Object.keys(show).sort(), ['errors', 'history', 'images', 'interpolate', 'latent', 'markdown', 'reconstructions', 'summary', 'text']);
    assert.throws(() => show.latent({}, {}), /no running cell/, 'live show functions ask for the running cell');
    show.text('a %d', 1);
    show.markdown('# m');
    assert.deepEqual(shown, [textOutput('a 1'), markdownOutput('# m')]);
    assert.equal(valueOutput(undefined), undefined);
    assert.deepEqual(valueOutput('s'), textOutput('s'));
    assert.deepEqual(valueOutput({ a: 1 }), textOutput('{ a: 1 }'));
  });

  test('the callbacks API is the union of the kinds\' and the library\'s callbacks, each name once', () => {
    const none = { cell: () => undefined };
    assert.deepEqual(Object.keys(callbacksApi(none)).sort(), ['backupAndRestore', 'latentView', 'modelCheckpoint'], 'the library\'s checkpoint callbacks beside the kinds\'');
    const made = callbacksApi(none, { modelCheckpoint: (a: unknown) => ({ a }) });
    assert.deepEqual(Object.keys(made).sort(), ['latentView', 'modelCheckpoint']);
    assert.deepEqual((made as unknown as Record<string, (a: unknown) => unknown>).modelCheckpoint(1), { a: 1 });
    assert.throws(() => callbacksApi(none, { latentView: () => ({}) }), /callbacks\.latentView is defined twice/);
  });
});

describe('the HTML report shows each kind by its registered view', () => {
  const cell = createCodeCell('x');
  cell.outputs = [
    streamOutput('stdout', 'out <b>\n'),
    streamOutput('stderr', 'err\n'),
    errorOutput({ name: 'RangeError', message: 'bad <shape>', stack: 'RangeError: bad <shape>\n    at Cell 1:2:3' }),
    markdownOutput('## Heading\n\n<script>window.x = 1</script> <img src="https://e.x/a.png" alt="logo" onerror="y()"> [ok](https://example.com) [no](javascript:alert(1))'),
    textOutput('plain & simple'),
    toOutput([{ mime: 'image/png', data: encodePng(1, 1, new Uint8Array([7])) }]),
    { items: [{ mime: 'application/json', data: { a: [1, 2] } }] },
    { items: [{ mime: 'application/x-unknown', data: 'AAAA' }] },
  ];
  const html = renderHtmlReport(createNotebook([cell]), { rendererJs: 'export { x as activate };' });
  const body = html.slice(html.indexOf('<main>'), html.indexOf('</main>'));

  test('streams, errors, text, images, JSON and unknown types', () => {
    assert.match(body, /<div class="output output-stream"><pre>out &lt;b&gt;\n<\/pre><\/div>/);
    assert.match(body, /<div class="output output-stream stderr"><pre>err\n<\/pre><\/div>/);
    assert.match(body, /<div class="output output-error"><pre>RangeError: bad &lt;shape&gt;\n {4}at Cell 1:2:3<\/pre><\/div>/);
    assert.match(body, /<div class="output output-text"><pre>plain &amp; simple<\/pre><\/div>/);
    assert.match(body, /<div class="output output-image"><img src="data:image\/png;base64,iVBORw0KGgo[A-Za-z0-9+/=]+" alt="Output image"><\/div>/);
    assert.match(body, /<pre>\{\n {2}&quot;a&quot;: \[/);
    assert.match(body, /application\/x-unknown is not shown in this report/);
    assert.ok(!body.includes('<script'), 'no script in the body');
  });

  test('markdown goes through markdown-it with raw HTML disabled', () => {
    const md = /<div class="output output-markdown md">[\s\S]*?<\/div>/.exec(body)?.[0] ?? '';
    assert.match(md, /<h2>Heading<\/h2>/);
    assert.ok(!/<script|<img|onerror|javascript:/i.test(md), md);
    assert.ok(!body.includes('window.x'), 'script contents are dropped');
    assert.match(body, /<span class="md-img">\[image: logo\]<\/span>/);
    assert.match(body, /<a href="https:\/\/example\.com" rel="noopener noreferrer" target="_blank">ok<\/a>/);
    assert.match(body, /<span class="md-link">no<\/span>/);
  });

  test('untrusted markup in markdown is escaped, never passed through', () => {
    const out = markdownToHtml('<div onclick="x()">a</div>\n\n<iframe src="https://e.x"></iframe>\n\n`<b>` and <b>bold</b> & "q"\n\n<!-- hidden -->');
    assert.ok(!/<(div|iframe|b)\b/i.test(out), out);
    assert.match(out, /<code>&lt;b&gt;<\/code>/);
    assert.match(out, /&amp; &quot;q&quot;/);
    assert.ok(!out.includes('hidden'));
  });
});
