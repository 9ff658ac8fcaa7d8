// The exported HTML report with a latent-space explorer and the errors view,
// opened from disk in Chromium with no kernel and no network: the map draws,
// a click decodes a new point inside the page, and nothing is fetched.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { chromium, type BrowserContext } from 'playwright-core';
import { createCodeCell, createMarkdownCell, createNotebook } from '../../src/common/aenb';
import { decodeFloat32, errorsOutputItems, latentOutputItems, latentText, toOutput } from '../../src/outputs';
import { toPixels } from '../../src/outputs/latent/inverse';
import { renderHtmlReport } from '../../src/report';
import { CHROMIUM, CHROMIUM_ARGS, RENDERER_JS, SHOTS } from './harness';
import { latentFixtures, type LatentFixtures } from './latent-fixtures';

let context: BrowserContext;
let profile: string;
let fx: LatentFixtures;

before(async () => {
  fx = await latentFixtures();
  profile = mkdtempSync(join(tmpdir(), 'aenb-latent-report-'));
  context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1100, height: 900 } });
});

after(async () => {
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

test('the report explores the latent space with no kernel and no network', async () => {
  const map = createCodeCell("show.latent(autoencoder, xTest, { labels: yTest, subject: 'test digits' });");
  map.outputs = [toOutput(latentOutputItems(fx.pca))];
  const errors = createCodeCell('show.errors(autoencoder, xTest, { labels: yTest });');
  errors.outputs = [toOutput(errorsOutputItems(fx.errors, decodeFloat32(fx.errors.errors)))];
  const nb = createNotebook([createMarkdownCell('# What the autoencoder learned'), map, errors]);
  const html = renderHtmlReport(nb, { rendererJs: readFileSync(RENDERER_JS, 'utf8') }, { theme: 'light' });
  assert.ok(html.includes(latentText(fx.pca).split('\n')[0].replace(/&/g, '&amp;')), 'the text fallback is in the page (readable without JavaScript)');
  mkdirSync(SHOTS, { recursive: true });
  const file = join(SHOTS, 'latent-report.html');
  writeFileSync(file, html);

  const page = await context.newPage();
  const requests: string[] = [];
  const failures: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('pageerror', (e) => failures.push(e.message));
  await page.goto(pathToFileURL(file).href);
  await page.waitForFunction(() => document.documentElement.dataset.rendered === '2', undefined, { timeout: 20_000 });
  await page.waitForFunction(() => document.querySelector('.aenb-latent')?.getAttribute('data-images') === 'ready', undefined, { timeout: 20_000 });
  assert.equal(await page.locator('.aenb-scatter').getAttribute('data-points-drawn'), '1000');
  assert.match(await page.locator('.aenb-latent-status').innerText(), /Decoding here, in the output/);

  // click a spot on the map: decoded in the page, equal to the model's decode
  const overlay = page.locator('.aenb-scatter-overlay');
  await overlay.scrollIntoViewIfNeeded();
  const box = (await overlay.boundingBox())!;
  await page.mouse.click(box.x + box.width * 0.31, box.y + box.height * 0.37);
  assert.equal(await page.locator('.aenb-latent-decoded').getAttribute('data-state'), 'decoded');
  const code = JSON.parse((await page.locator('.aenb-latent-decoded').getAttribute('data-code'))!) as number[];
  const shown = await page.evaluate(() => {
    const c = document.querySelector('.aenb-latent-decoded canvas') as HTMLCanvasElement;
    return Array.from(c.getContext('2d')!.getImageData(0, 0, 28, 28).data.filter((_, k) => k % 4 === 0));
  });
  const expected = tf.tidy(() => Array.from(toPixels(fx.vanilla.decode(tf.tensor2d(code, [1, code.length])).dataSync())));
  assert.ok(shown.every((v, i) => Math.abs(v - expected[i]) <= 1), 'decoded in the report as the model decodes');
  // a second click: the interpolation strip
  await page.mouse.click(box.x + box.width * 0.7, box.y + box.height * 0.6);
  assert.equal(await page.locator('.aenb-latent-step').count() >= 10, true);
  // the errors view is there too
  assert.equal(await page.locator('.aenb-errors-classes tbody tr').count(), 10);
  await page.locator('.aenb-latent').screenshot({ path: join(SHOTS, 'latent-report-light.png') });

  assert.deepEqual(failures, []);
  const foreign = requests.filter((u) => u !== pathToFileURL(file).href && !u.startsWith('data:') && !u.startsWith('blob:'));
  assert.deepEqual(foreign, [], 'nothing fetched');
  await page.close();
});
