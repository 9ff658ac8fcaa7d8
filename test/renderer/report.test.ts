// renderHtmlReport: one self-contained HTML file, opened from disk in Chromium
// with every request recorded: the chart, the grid, the summary and the
// markdown must be there, and nothing may be fetched.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createCodeCell, createMarkdownCell, createNotebook, outputDataFromBytes, type AenbNotebook } from '../../src/common/aenb';
import { imagesOutputItems, summaryOutputItems, trainingOutputItems, encodePng, type OutputItemBytes } from '../../src/outputs';
import { renderHtmlReport } from '../../src/report';
import { CHROMIUM, CHROMIUM_ARGS, RENDERER_JS, SHOTS } from './harness';
import { imagesFixture, summaryFixture, trainingFixture } from './fixtures';

const stored = (items: OutputItemBytes[]) => ({ items: items.map((i) => ({ mime: i.mime, data: outputDataFromBytes(i.mime, i.data) })) });

function notebook(): AenbNotebook {
  const train = createCodeCell('const history = await autoencoder.fit(xTrain, xTrain, { epochs: 30 });');
  train.outputs = [stored(trainingOutputItems(trainingFixture({ epochs: 30, batchesPerEpoch: 300, title: 'Vanilla autoencoder' })))];
  train.execution = { order: 3, success: true, durationMs: 61000 };
  const summary = createCodeCell('autoencoder.summary();');
  summary.outputs = [stored(summaryOutputItems(summaryFixture()))];
  summary.execution = { order: 2, success: true, durationMs: 12 };
  const grid = createCodeCell('show({ Original: x, Noisy: noisy, Reconstructed: decoded });');
  grid.outputs = [stored(imagesOutputItems(imagesFixture(6)))];
  const misc = createCodeCell('console.log("<b>not bold</b>"); throw new Error("boom <i>")');
  misc.outputs = [
    { items: [{ mime: 'application/vnd.code.notebook.stdout', data: '<b>not bold</b>\n' }] },
    { items: [{ mime: 'image/png', data: outputDataFromBytes('image/png', encodePng(2, 2, new Uint8Array([0, 255, 255, 0]))) }] },
    { items: [{ mime: 'application/vnd.code.notebook.error', data: { name: 'Error', message: 'boom <i>', stack: 'Error: boom <i>\n    at cell:1:40' } }] },
    { items: [{ mime: 'text/html', data: '<script>window.__pwned = 1</script>' }] },
  ];
  misc.execution = { order: 4, success: false, durationMs: 1 };
  const library = createCodeCell('const t = tf.ones([2, 3]);\nconst u = tf.ones([4, 2]);\nconst bad = tf.matMul(t, u);');
  const matMul = 'Error in matMul: inner shapes (3) and (4) of Tensors with shapes 2,3 and 4,2 and transposeA=false and transposeB=false must match.';
  library.outputs = [
    {
      items: [
        {
          mime: 'application/vnd.code.notebook.error',
          data: {
            name: 'Error',
            message: matMul,
            stack: `Error: ${matMul}\n    at Cell 6:3:16\n    --- library frames, most recent call first ---\n    at Object.assert (kernel.js:27813:15)\n    at matMul_ (kernel.js:34466:21)`,
          },
        },
      ],
    },
  ];
  library.execution = { order: 5, success: false, durationMs: 3 };
  const wide = createCodeCell(`const settings = { ${Array.from({ length: 16 }, (_, i) => `option${i}: ${i}`).join(', ')} };`);
  return createNotebook([
    createMarkdownCell(
      '# Compressing Data with Vanilla Autoencoders\n\n' +
        '<div><img src="https://www.upm.es/logo.png" alt="ETSISI logo" /></div>\n\n' +
        'An **autoencoder** has an *encoder* and a `decoder`; see [Keras](https://keras.io/) or [evil](javascript:alert(1)).\n\n' +
        '| Layer | Units |\n|:--|--:|\n| Dense | 64 |\n\n- one\n- two\n\n![schema](https://upload.wikimedia.org/x.png)\n\n<script>window.__pwned = 1</script>',
    ),
    summary,
    train,
    grid,
    misc,
    library,
    wide,
  ]);
}

let context: BrowserContext;
let profile: string;

before(async () => {
  profile = mkdtempSync(join(tmpdir(), 'aenb-report-'));
  context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1100, height: 900 } });
});

after(async () => {
  await context?.close();
  rmSync(profile, { recursive: true, force: true });
});

test('the HTML report is self-contained and shows chart, grid, summary and markdown', async () => {
  const html = renderHtmlReport(notebook(), { rendererJs: readFileSync(RENDERER_JS, 'utf8') }, { subtitle: 'vanilla.aenb' });
  assert.ok(!/<script src=|<link |@import|https?:\/\/[^"'\s]*\.(js|css)\b/i.test(html), 'no external scripts or styles');
  mkdirSync(SHOTS, { recursive: true });
  const file = join(SHOTS, 'report.html');
  writeFileSync(file, html);
  const url = pathToFileURL(file).href;

  for (const scheme of ['light', 'dark'] as const) {
    const page = await context.newPage();
    await page.emulateMedia({ colorScheme: scheme });
    const requests: string[] = [];
    const errors: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.waitForFunction(() => document.documentElement.dataset.rendered === '3', undefined, { timeout: 10_000 });
    assert.deepEqual(errors, []);
    assert.deepEqual(requests.filter((u) => u !== url && !u.startsWith('data:') && !u.startsWith('blob:')), [], 'no network requests');

    // markdown
    assert.equal(await page.locator('.md-cell h1').innerText(), 'Compressing Data with Vanilla Autoencoders');
    assert.equal(await page.locator('.md-cell strong').innerText(), 'autoencoder');
    assert.equal(await page.locator('.md-cell a').count(), 1, 'only the https link is a link');
    assert.equal(await page.locator('.md-cell a').getAttribute('href'), 'https://keras.io/');
    assert.deepEqual(await page.locator('.md-cell table th').allInnerTexts(), ['Layer', 'Units']);
    assert.equal(await page.locator('.md-cell li').count(), 2);
    assert.equal(await page.locator('.md-cell img').count(), 0, 'images are not loaded');
    assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    assert.ok(!(await page.locator('.md-cell').innerText()).includes('__pwned'), 'raw <script> blocks are dropped with their contents');
    // rich outputs drawn by the renderer
    assert.equal(await page.locator('.aenb-training .uplot').count(), 1);
    assert.equal(await page.locator('.aenb-training .u-axis').count(), 2);
    assert.deepEqual(await page.locator('.aenb-training .aenb-legend-name').allInnerTexts(), ['loss', 'val_loss', 'loss per batch']);
    assert.equal(await page.locator('.aenb-images .aenb-cell').count(), 18);
    assert.equal(await page.locator('.aenb-summary tfoot .aenb-total td.aenb-num').innerText(), '82,414');
    // other outputs
    assert.equal((await page.locator('.output-stream pre').innerText()).trim(), '<b>not bold</b>');
    assert.equal(await page.locator('.output-image img').count(), 1);
    assert.match(await page.locator('.output-error > pre').first().innerText(), /^Error: boom <i>\n\s+at cell:1:40$/);
    // An error in a library call: the cell's line shows, the library frames are folded away until asked for.
    const libraryError = page.locator('.output-error').nth(1);
    assert.match(await libraryError.locator(':scope > pre').innerText(), /^Error: Error in matMul: .*\n\s+at Cell 6:3:16$/);
    assert.equal(await libraryError.locator('details').getAttribute('open'), null);
    assert.equal(await libraryError.locator('summary').innerText(), '2 library frames');
    assert.equal(await libraryError.locator('details pre').isVisible(), false);
    await libraryError.locator('summary').click();
    assert.match(await libraryError.locator('details pre').innerText(), /at Object\.assert \(kernel\.js:27813:15\)\n\s+at matMul_/);
    assert.match(await page.locator('.output-missing').innerText(), /text\/html is not shown/);
    assert.deepEqual(await page.locator('.gutter').allInnerTexts(), ['[2]', '[3]', '[ ]', '[4]', '[5]', '[ ]']);
    // The language label never lies over the code, however long its lines.
    const overlaps = await page.evaluate(() =>
      [...document.querySelectorAll('.source-box')].map((box) => {
        const lang = box.querySelector('.lang')!.getBoundingClientRect();
        const range = document.createRange();
        range.selectNodeContents(box.querySelector('.source code')!);
        return [...range.getClientRects()].some((r) => r.right > lang.left && r.left < lang.right && r.bottom > lang.top && r.top < lang.bottom);
      }),
    );
    assert.deepEqual(overlaps, [false, false, false, false, false, false]);
    await page.screenshot({ path: join(SHOTS, `report-${scheme}.png`), fullPage: true });
    await page.close();
  }
});

test('without JavaScript the report still reads: text fallbacks in place of rich outputs', () => {
  const html = renderHtmlReport(notebook(), { rendererJs: readFileSync(RENDERER_JS, 'utf8') });
  const body = html.slice(html.indexOf('<main>'), html.indexOf('</main>'));
  assert.match(body, /Total params: 82,414/);
  assert.match(body, /Epoch 30\/30 - loss: 0\.\d{4} - val_loss: 0\.\d{4}/);
  assert.match(body, /18 images of 28x28 in 3 rows/);
  assert.ok(!body.includes('<script'), 'no script in the notebook body');
});
