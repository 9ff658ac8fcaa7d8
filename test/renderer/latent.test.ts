// The latent-space explorer and the reconstruction errors in Chromium, on
// payloads the kernel's builders made from models trained here: drawing,
// hover, click and drag decoding (checked against TensorFlow.js's decode in
// Node), two picks and the strip, zoom and pan, keyboard, legend, a decoder
// that asks the kernel (the request, its reply, a kernel that is gone, no
// messaging at all), UMAP blending, live updates, themes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { Page } from 'playwright-core';
import { DEFAULT_COLORMAP, ERRORS_MIME, IMAGES_MIME, LATENT_MIME, bytesToBase64, type Colormap, type ImagesPayload, decodeFloat32, decodeImageBlock, latentOutputItems, toOutput, type LatentPayload, type LiveState } from '../../src/outputs';
import { createCodeCell, createNotebook, parseNotebook, serializeNotebook } from '../../src/common/aenb';
import { blendNearest, interpolateCodes, pcaInverse, toPixels } from '../../src/outputs/latent/inverse';
import { mulberry32 } from '../../src/lib/random';
import { type Harness, type Theme, messages, render, screenshot, setTheme, startHarness } from './harness';
import { latentFixtures, type LatentFixtures } from './latent-fixtures';
import { imagesFixture } from './fixtures';
import { interpolateOutput } from '../../src/outputs/latent/kernel-interpolate';

let harness: Harness;
let page: Page;
let fx: LatentFixtures;

before(async () => {
  fx = await latentFixtures();
  harness = await startHarness();
  page = await harness.newPage('light');
});

after(async () => {
  await harness?.close();
});

const frames = () => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
const attr = (sel: string, name: string) => page.locator(sel).first().getAttribute(name);
const text = (sel: string) => page.locator(sel).first().innerText();

/** Page coordinates of data point (x, y) on the map of output `elId`. */
async function at(elId: string, x: number, y: number): Promise<{ x: number; y: number }> {
  return page.evaluate(
    ([id, px, py]) => {
      const root = document.querySelector(`#${id} .aenb-latent`) as HTMLElement & { __aenbLatent: { toScreen(x: number, y: number): [number, number] } };
      const [sx, sy] = root.__aenbLatent.toScreen(px, py);
      const overlay = root.querySelector('.aenb-scatter-overlay')!;
      overlay.scrollIntoView({ block: 'nearest' });
      const r = overlay.getBoundingClientRect();
      return { x: r.left + sx, y: r.top + sy };
    },
    [elId, x, y] as const,
  );
}

async function pageDecode(elId: string, z: ArrayLike<number>): Promise<number[]> {
  return page.evaluate(([id, code]) => (document.querySelector(`#${id} .aenb-latent`) as unknown as { __aenbLatent: { decode(z: number[]): number[] } }).__aenbLatent.decode(code), [elId, Array.from(z)] as const);
}

/** Red channel of a canvas's pixels (gray colormap: the pixel value). */
async function canvasValues(sel: string): Promise<number[]> {
  return page.evaluate((s) => {
    const c = document.querySelector(s) as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    const out: number[] = [];
    for (let i = 0; i < d.length; i += 4) out.push(d[i]);
    return out;
  }, sel);
}

function kernelPixels(model: { decode(z: tf.Tensor): tf.Tensor }, code: ArrayLike<number>): number[] {
  return tf.tidy(() => Array.from(toPixels(model.decode(tf.tensor2d(Array.from(code), [1, code.length])).dataSync())));
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** A map position with no point near it (so a click there decodes a new code); `seed` picks another one. */
async function emptySpot(elId: string, p: LatentPayload, seed = 3): Promise<[number, number]> {
  const pts = decodeFloat32(p.points);
  let xs = Infinity;
  let xe = -Infinity;
  let ys = Infinity;
  let ye = -Infinity;
  for (let i = 0; i < p.count; i++) {
    xs = Math.min(xs, pts[2 * i]);
    xe = Math.max(xe, pts[2 * i]);
    ys = Math.min(ys, pts[2 * i + 1]);
    ye = Math.max(ye, pts[2 * i + 1]);
  }
  const r = mulberry32(seed);
  for (let t = 0; t < 500; t++) {
    const x = xs + (xe - xs) * (0.1 + 0.8 * r());
    const y = ys + (ye - ys) * (0.1 + 0.8 * r());
    const s = await at(elId, x, y);
    let clear = true;
    for (let i = 0; i < p.count && clear; i++) {
      const dx = pts[2 * i] - x;
      const dy = pts[2 * i + 1] - y;
      if (Math.hypot(dx, dy) < (xe - xs) * 0.02) clear = false;
    }
    if (clear && s) return [x, y];
  }
  throw new Error('no empty spot on the map');
}

async function shootAll(elId: string, name: string, themes: Theme[] = ['light', 'dark', 'hc']) {
  for (const t of themes) {
    await setTheme(page, t);
    await frames();
    await screenshot(page, `#${elId}`, `${name}-${t}`);
  }
  await setTheme(page, 'light');
  await frames();
}

describe('latent-space explorer', () => {
  test('draws every point coloured by class, with the PCA and its explained variance in the header', async () => {
    const p = fx.pca;
    await render(page, 'map', 'o-map', LATENT_MIME, p);
    await page.waitForFunction(() => document.querySelector('#map .aenb-latent')?.getAttribute('data-images') === 'ready');
    assert.equal(await text('#map .aenb-title'), 'Latent space of Vanilla');
    const info = await text('#map .aenb-info');
    assert.match(info, /^1,000 test digits · 32-D codes · PCA: PC1 \d+\.\d%, PC2 \d+\.\d% of the variance \(\d+\.\d% together\)$/);
    assert.ok(info.includes(`PC1 ${(100 * p.pca!.explained[0]).toFixed(1)}%`));
    assert.equal(await attr('#map .aenb-scatter', 'data-points-drawn'), '1000');
    const legend = await page.locator('#map .aenb-legend-item').allInnerTexts();
    assert.equal(legend.length, 10);
    const counts = legend.map((t) => Number(t.split('\n').pop()!.replace(/,/g, '')));
    assert.equal(counts.reduce((a, b) => a + b, 0), 1000);
    // the class colours are on the canvas
    const colours = await page.evaluate(() => {
      const c = document.querySelector('#map .aenb-scatter-base') as HTMLCanvasElement;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      const seen = new Set<string>();
      for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 200) seen.add(`${d[i] >> 4},${d[i + 1] >> 4},${d[i + 2] >> 4}`);
      return [...seen];
    });
    const palette = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'].map((h) => `${parseInt(h.slice(1, 3), 16) >> 4},${parseInt(h.slice(3, 5), 16) >> 4},${parseInt(h.slice(5, 7), 16) >> 4}`);
    const found = palette.filter((c) => colours.includes(c));
    assert.ok(found.length >= 9, `class colours drawn: ${found.length}`);
    assert.match((await attr('#map .aenb-scatter-overlay', 'aria-label')) ?? '', /^Latent map: 1,000 test digits, 32-D codes projected by PCA, 10 classes\.$/);
    assert.match(await text('#map .aenb-latent-status'), /Decoding here, in the output: 1 dense layer, 25,088 multiply-adds per image/);
    await shootAll('map', 'latent-map');
  });

  test("hover shows the point's image and its reconstruction", async () => {
    const p = fx.pca;
    const pts = decodeFloat32(p.points);
    const i = 17;
    const s = await at('map', pts[2 * i], pts[2 * i + 1]);
    await page.mouse.move(s.x, s.y);
    await frames();
    const shown = Number(await attr('#map .aenb-latent-hover', 'data-point'));
    // another point may sit on top of #17: whichever is shown, its images must be its own
    const originals = await decodeImageBlock(p.originals!, p.count * 784);
    const orig = await canvasValues('#map .aenb-latent-hover canvas:nth-of-type(1)');
    assert.deepEqual(orig, Array.from(originals.subarray(shown * 784, (shown + 1) * 784)));
    const rec = await page.evaluate(() => {
      const c = document.querySelectorAll('#map .aenb-latent-hover canvas')[1] as HTMLCanvasElement;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      return Array.from(d.filter((_, k) => k % 4 === 0));
    });
    const code = decodeFloat32(p.codes).subarray(shown * 32, (shown + 1) * 32);
    assert.ok(maxDiff(rec, kernelPixels(fx.vanilla, code)) <= 1, 'reconstruction = the model decoding the point');
    const label = fx.y.dataSync()[shown];
    assert.equal(await text('#map .aenb-latent-hover figcaption'), `#${shown} · ${label}`);
    await screenshot(page, '#map', 'latent-hover-light');
  });

  test('the renderer decodes random codes exactly as the kernel does (within 1e-5), tied decoder too', async () => {
    const r = mulberry32(9);
    for (const [elId, p, model, dim] of [['map', fx.pca, fx.vanilla, 32], ['tied', fx.stackedPca, fx.stacked, 36]] as const) {
      if (elId === 'tied') await render(page, 'tied', 'o-tied', LATENT_MIME, p);
      let worst = 0;
      for (let t = 0; t < 40; t++) {
        const z = Float32Array.from({ length: dim }, () => (r() - 0.5) * 8);
        const ours = await pageDecode(elId, z);
        const theirs = tf.tidy(() => model.decode(tf.tensor2d(z, [1, dim])).dataSync());
        worst = Math.max(worst, maxDiff(ours, theirs));
      }
      assert.ok(worst < 1e-5, `${elId}: max |renderer - kernel| = ${worst}`);
      console.log(`# ${elId}: renderer decode vs model.decode, 40 random codes: max difference ${worst.toExponential(2)}`);
    }
  });

  test('a click on an empty spot decodes the inverse PCA of that spot', async () => {
    const p = fx.pca;
    await page.mouse.move(0, 0);
    const [x, y] = await emptySpot('map', p);
    const s = await at('map', x, y);
    await page.mouse.click(s.x, s.y);
    await frames();
    assert.equal(await attr('#map .aenb-latent-decoded', 'data-state'), 'decoded');
    assert.equal(await attr('#map .aenb-latent-decoded', 'data-source'), 'output', 'a dense decoder decodes in the output');
    const code = JSON.parse((await attr('#map .aenb-latent-decoded', 'data-code'))!) as number[];
    const mx = Number(await attr('#map .aenb-latent-decoded', 'data-x'));
    const my = Number(await attr('#map .aenb-latent-decoded', 'data-y'));
    assert.ok(Math.abs(mx - x) < 0.02 * Math.abs(x) + 0.05 && Math.abs(my - y) < 0.02 * Math.abs(y) + 0.05, `clicked (${mx}, ${my}) near (${x}, ${y})`);
    const expected = pcaInverse(mx, my, decodeFloat32(p.pca!.mean), decodeFloat32(p.pca!.components));
    assert.ok(maxDiff(code, expected) < 1e-5);
    const shown = await canvasValues('#map .aenb-latent-decoded canvas');
    assert.ok(maxDiff(shown, kernelPixels(fx.vanilla, code)) <= 1, 'the decoded image is the model decoding that code');
    assert.match(await text('#map .aenb-latent-decoded figcaption'), /^A: PC1 -?\d+\.\d+, PC2 -?\d+\.\d+$/);
    assert.match(await text('#map .aenb-latent-strip-title'), /Pick a second point/);
  });

  test('dragging with the button held decodes continuously', async () => {
    const p = fx.pca;
    const [x0, y0] = await emptySpot('map', p, 5);
    const [x1, y1] = await emptySpot('map', p, 6);
    const s0 = await at('map', x0, y0);
    const s1 = await at('map', x1, y1);
    await page.evaluate(() => {
      const w = window as unknown as { __codes: string[] };
      w.__codes = [];
      const fig = document.querySelector('#map .aenb-latent-decoded')!;
      new MutationObserver(() => w.__codes.push(fig.getAttribute('data-code') ?? '')).observe(fig, { attributes: true, attributeFilter: ['data-code'] });
    });
    await page.mouse.move(s0.x, s0.y);
    await page.mouse.down();
    for (let k = 1; k <= 12; k++) {
      await page.mouse.move(s0.x + (k * (s1.x - s0.x)) / 12, s0.y + (k * (s1.y - s0.y)) / 12);
      await frames();
    }
    await page.mouse.up();
    const codes = await page.evaluate(() => (window as unknown as { __codes: string[] }).__codes);
    assert.ok(new Set(codes).size >= 6, `decoded ${new Set(codes).size} different codes while dragging`);
    const last = JSON.parse(codes[codes.length - 1]) as number[];
    const mx = Number(await attr('#map .aenb-latent-decoded', 'data-x'));
    const my = Number(await attr('#map .aenb-latent-decoded', 'data-y'));
    const end = await at('map', mx, my);
    assert.ok(Math.hypot(end.x - s1.x, end.y - s1.y) < 1.5, `ends where the button was released: (${end.x}, ${end.y}) vs (${s1.x}, ${s1.y})`);
    assert.ok(maxDiff(last, pcaInverse(mx, my, decodeFloat32(p.pca!.mean), decodeFloat32(p.pca!.components))) < 1e-5);
    const shown = await canvasValues('#map .aenb-latent-decoded canvas');
    assert.ok(maxDiff(shown, kernelPixels(fx.vanilla, last)) <= 1);
    assert.equal(await page.locator('#map .aenb-latent-step').count(), 10, 'the drag was the second pick: a strip of 10 decoded codes');
  });

  test('two picks on images give a strip of 10 decoded codes between them, with the inputs at the ends', async () => {
    const p = fx.pca;
    const pts = decodeFloat32(p.points);
    const codes = decodeFloat32(p.codes);
    await page.keyboard.press('Escape');
    const a = 3;
    const b = 11;
    for (const i of [a, b]) {
      const s = await at('map', pts[2 * i], pts[2 * i + 1]);
      await page.mouse.click(s.x, s.y);
    }
    await frames();
    const caption = await page.locator('#map .aenb-latent-step figcaption').allInnerTexts();
    assert.equal(caption.length, 12);
    assert.deepEqual([caption[0], caption[1], caption[2], caption[10], caption[11]], ['input A', 'A', 't 0.11', 'B', 'input B']);
    // which points did the clicks snap to? (another may lie on top) — the strip decodes their codes
    const picked = (await page.locator('#map .aenb-latent-input canvas').evaluateAll((cs) => cs.map((c) => c.getAttribute('aria-label')))).map((l) => Number(/#(\d+)/.exec(l ?? '')?.[1]));
    const za = codes.subarray(picked[0] * 32, (picked[0] + 1) * 32);
    const zb = codes.subarray(picked[1] * 32, (picked[1] + 1) * 32);
    const strip = interpolateCodes(za, zb, 10);
    for (let s = 0; s < 10; s += 3) {
      const shown = await canvasValues(`#map .aenb-latent-step:nth-child(${s + 2}) canvas`);
      assert.ok(maxDiff(shown, kernelPixels(fx.vanilla, strip[s])) <= 1, `strip image ${s}`);
    }
    assert.match(await text('#map .aenb-latent-decoded figcaption'), /^B: #\d+ · \d$/);
    await shootAll('map', 'latent-strip');
  });

  test('zoom with Ctrl+wheel (a plain wheel scrolls the page), pan with Shift+drag, reset with a double-click', async () => {
    const p = fx.pca;
    const pts = decodeFloat32(p.points);
    await page.locator('#map .aenb-scatter-overlay').scrollIntoViewIfNeeded();
    const box = (await page.locator('#map .aenb-scatter-overlay').boundingBox())!;
    const cx = box.x + box.width / 2;
    const cy = box.y + box.height / 2;
    await page.mouse.move(cx, cy);
    await page.locator('#map .aenb-scatter-overlay').focus();
    await page.mouse.wheel(0, -400);
    await frames();
    assert.equal(await attr('#map .aenb-scatter', 'data-points-drawn'), '1000', 'a plain wheel does not zoom (it scrolls the notebook)');
    const still = await at('map', pts[0], pts[1]);
    const box2 = (await page.locator('#map .aenb-scatter-overlay').boundingBox())!;
    await page.mouse.move(box2.x + box2.width / 2, box2.y + box2.height / 2);
    await page.keyboard.down('Control');
    for (let k = 0; k < 3; k++) await page.mouse.wheel(0, -200);
    await page.keyboard.up('Control');
    await frames();
    const drawn = Number(await attr('#map .aenb-scatter', 'data-points-drawn'));
    assert.ok(drawn < 1000, `zoomed in: ${drawn} points in view`);
    const zoomed = await at('map', pts[0], pts[1]);
    const c2 = { x: box2.x + box2.width / 2, y: box2.y + box2.height / 2 };
    assert.ok(Math.hypot(zoomed.x - c2.x, zoomed.y - c2.y) > Math.hypot(still.x - c2.x, still.y - c2.y) * 1.5, 'points moved away from the pointer');
    await page.keyboard.down('Shift');
    await page.mouse.move(c2.x, c2.y);
    await page.mouse.down();
    await page.mouse.move(c2.x + 80, c2.y + 30, { steps: 4 });
    await page.mouse.up();
    await page.keyboard.up('Shift');
    await frames();
    const panned = await at('map', pts[0], pts[1]);
    assert.ok(Math.abs(panned.x - zoomed.x - 80) < 2 && Math.abs(panned.y - zoomed.y - 30) < 2, `panned by (80, 30): ${panned.x - zoomed.x}, ${panned.y - zoomed.y}`);
    await screenshot(page, '#map', 'latent-zoomed-light');
    await page.mouse.dblclick(c2.x, c2.y);
    await frames();
    assert.equal(await attr('#map .aenb-scatter', 'data-points-drawn'), '1000');
    const reset = await at('map', pts[0], pts[1]);
    assert.ok(Math.hypot(reset.x - still.x, reset.y - still.y) < 1);
  });

  test('keyboard: arrows move between points with a spoken read-out, Enter decodes, +/- zoom, Escape clears', async () => {
    await page.locator('#map .aenb-scatter-overlay').focus();
    await page.keyboard.press('Escape');
    await page.keyboard.press('ArrowRight');
    const first = await text('#map .aenb-sr-only[aria-live]');
    assert.match(first, /^Point #\d+ · \d, at PC1 -?\d+\.\d+, PC2 -?\d+\.\d+\. Enter decodes it\.$/);
    await page.keyboard.press('ArrowRight');
    const second = await text('#map .aenb-sr-only[aria-live]');
    assert.notEqual(second, first);
    const kb = Number(await attr('#map .aenb-latent-hover', 'data-point'));
    assert.ok(kb >= 0, 'the hover panel shows the keyboard point');
    await page.keyboard.press('Enter');
    assert.match(await text('#map .aenb-sr-only[aria-live]'), /^Decoded point #\d+ · \d\. Pick a second point/);
    const code = JSON.parse((await attr('#map .aenb-latent-decoded', 'data-code'))!) as number[];
    assert.ok(maxDiff(code, decodeFloat32(fx.pca.codes).subarray(kb * 32, (kb + 1) * 32)) === 0, "Enter picks the point's own code");
    await page.keyboard.press('+');
    assert.ok(Number(await attr('#map .aenb-scatter', 'data-points-drawn')) < 1000);
    await page.keyboard.press('0');
    assert.equal(await attr('#map .aenb-scatter', 'data-points-drawn'), '1000');
    await page.keyboard.press('Escape');
    assert.equal(await attr('#map .aenb-latent-decoded', 'data-code'), '');
    assert.equal(await page.locator('#map .aenb-latent-strip').isVisible(), false);
    // every control has a name and is reachable
    const unnamed = await page.locator('#map button, #map select, #map [tabindex="0"]').evaluateAll((els) =>
      els.filter((e) => !(e.getAttribute('aria-label') || e.textContent?.trim() || (e.id && document.querySelector(`label[for="${e.id}"]`)))).map((e) => e.outerHTML.slice(0, 80)),
    );
    assert.deepEqual(unnamed, []);
  });

  test('the legend hides and shows classes; Alt+click shows one class alone', async () => {
    const labels = fx.pca.labels!;
    const sevens = labels.filter((l) => l === 7).length;
    const seven = page.locator('#map .aenb-legend-item[data-class="7"]');
    await seven.click();
    assert.equal(await seven.getAttribute('aria-pressed'), 'false');
    assert.equal(Number(await attr('#map .aenb-scatter', 'data-points-drawn')), 1000 - sevens);
    assert.match((await attr('#map .aenb-scatter-overlay', 'aria-label')) ?? '', /10 classes \(1 hidden\)/);
    await seven.press('Enter');
    assert.equal(await seven.getAttribute('aria-pressed'), 'true');
    await seven.click({ modifiers: ['Alt'] });
    assert.equal(Number(await attr('#map .aenb-scatter', 'data-points-drawn')), sevens);
    await screenshot(page, '#map', 'latent-one-class-light');
    await seven.click({ modifiers: ['Alt'] });
    assert.equal(await attr('#map .aenb-scatter', 'data-points-drawn'), '1000');
  });

  test('UMAP: a click between points decodes the blend of the nearest codes', async () => {
    const p = fx.umap;
    await render(page, 'umap', 'o-umap', LATENT_MIME, p);
    assert.match(await text('#umap .aenb-info'), /400 test digits · 32-D codes · UMAP \(15 neighbours, min\. distance 0\.1\)/);
    const [x, y] = await emptySpot('umap', p);
    const s = await at('umap', x, y);
    await page.mouse.click(s.x, s.y);
    const code = JSON.parse((await attr('#umap .aenb-latent-decoded', 'data-code'))!) as number[];
    const mx = Number(await attr('#umap .aenb-latent-decoded', 'data-x'));
    const my = Number(await attr('#umap .aenb-latent-decoded', 'data-y'));
    const pts = decodeFloat32(p.points);
    let x0 = Infinity;
    let x1 = -Infinity;
    let y0 = Infinity;
    let y1 = -Infinity;
    for (let i = 0; i < p.count; i++) {
      x0 = Math.min(x0, pts[2 * i]);
      x1 = Math.max(x1, pts[2 * i]);
      y0 = Math.min(y0, pts[2 * i + 1]);
      y1 = Math.max(y1, pts[2 * i + 1]);
    }
    const blend = blendNearest(mx, my, pts, decodeFloat32(p.codes), p.count, 32, 8, Math.max(x1 - x0, y1 - y0));
    assert.ok(maxDiff(code, blend.code) < 1e-5);
    assert.equal(blend.index.length, 8);
    const shown = await canvasValues('#umap .aenb-latent-decoded canvas');
    assert.ok(maxDiff(shown, kernelPixels(fx.vanilla, code)) <= 1);
    await shootAll('umap', 'latent-umap', ['light', 'dark']);
  });

  test('a decoder that is not dense: the map shows reconstructions; new points are decoded by the kernel on request', async () => {
    const p = fx.remote;
    await render(page, 'remote', 'o-remote', LATENT_MIME, p);
    await page.waitForFunction(() => document.querySelector('#remote .aenb-latent')?.getAttribute('data-images') === 'ready');
    assert.match(await text('#remote .aenb-latent-status'), /Decoding in the kernel \(the decoder cannot run here: layer up_sampling2d\w* \(UpSampling2D\) is not a dense layer\)/);
    const pts = decodeFloat32(p.points);
    const s = await at('remote', pts[0], pts[1]);
    await page.mouse.move(s.x, s.y);
    const shown = Number(await attr('#remote .aenb-latent-hover', 'data-point'));
    const recs = await decodeImageBlock(p.reconstructions!, p.count * 784);
    const rec = await page.evaluate(() => {
      const c = document.querySelectorAll('#remote .aenb-latent-hover canvas')[1] as HTMLCanvasElement;
      return Array.from(c.getContext('2d')!.getImageData(0, 0, 28, 28).data.filter((_, k) => k % 4 === 0));
    });
    assert.deepEqual(rec, Array.from(recs.subarray(shown * 784, (shown + 1) * 784)));

    // a click on an empty spot asks the notebook's kernel, through the host, to decode the code there
    const before = (await messages(page)).length;
    const [x, y] = await emptySpot('remote', p);
    const e = await at('remote', x, y);
    await page.mouse.click(e.x, e.y);
    await page.waitForFunction((n) => (window as unknown as { __messages: unknown[] }).__messages.length > n, before);
    assert.equal(await attr('#remote .aenb-latent-decoded', 'data-state'), 'waiting');
    const sent = (await messages(page)).slice(before) as { type: string; id: string; method: string; params: { model: string; kernel: string; codes: string; count: number } }[];
    assert.equal(sent.length, 1, 'one request');
    assert.equal(sent[0].type, 'request');
    assert.equal(sent[0].method, 'kernel.latent.decode');
    assert.deepEqual({ model: sent[0].params.model, kernel: sent[0].params.kernel, count: sent[0].params.count }, { model: p.remote!.model, kernel: p.remote!.kernel, count: 1 });
    const code = decodeFloat32(sent[0].params.codes);
    const expected = code.length === 8 ? toPixels(tf.tidy(() => (fx.conv.decoder.predict(tf.tensor2d(code, [1, 8])) as tf.Tensor).dataSync())) : new Uint8Array(0);
    assert.equal(expected.length, 784, 'the code of the clicked spot: 8 values');
    // the host's answer: the kernel's pixels, drawn as they come
    await page.evaluate(
      ([id, pixels]) => {
        for (const l of (window as unknown as { __listeners: ((m: unknown) => void)[] }).__listeners) l({ type: 'reply', replyTo: id, ok: true, result: { pixels, count: 1 } });
      },
      [sent[0].id, bytesToBase64(expected)] as const,
    );
    await page.waitForFunction(() => document.querySelector('#remote .aenb-latent-decoded')?.getAttribute('data-state') === 'decoded');
    assert.deepEqual(await canvasValues('#remote .aenb-latent-decoded canvas'), Array.from(expected));
    assert.equal(await attr('#remote .aenb-latent-decoded', 'data-source'), 'kernel', 'the image is the kernel\'s answer');
    assert.doesNotMatch(await text('#remote .aenb-latent-status'), /not running/);

    // the kernel is gone: the host answers "unavailable", and the output says so
    const before2 = (await messages(page)).length;
    const f = await at('remote', x + 0.001, y);
    await page.mouse.click(f.x, f.y);
    await page.waitForFunction((n) => (window as unknown as { __messages: unknown[] }).__messages.length > n, before2);
    const sent2 = (await messages(page)).slice(before2) as { id: string; params: { count: number } }[];
    assert.equal(sent2[0].params.count, 11, 'the second pick and the 10 images of the strip');
    await page.evaluate((id) => {
      for (const l of (window as unknown as { __listeners: ((m: unknown) => void)[] }).__listeners) {
        l({ type: 'reply', replyTo: id, ok: false, error: { code: 'unavailable', message: 'No kernel is running for this notebook: run a cell to start one.' } });
      }
    }, sent2[0].id);
    await page.waitForFunction(() => document.querySelector('#remote .aenb-latent-decoded')?.getAttribute('data-state') === 'unavailable');
    assert.equal(await attr('#remote .aenb-latent-decoded', 'data-source'), null, 'no source once the kernel is gone');
    assert.match(await text('#remote .aenb-latent-strip-title'), /From A to B: not decoded, the strip needs the kernel too/);
    assert.match(await text('#remote .aenb-latent-status[role="alert"]'), /The kernel is not running \(No kernel is running for this notebook: run a cell to start one\), so new points cannot be decoded/);
    await screenshot(page, '#remote', 'latent-kernel-gone-light');

    // a renderer without messaging (an exported report): no request, a note instead
    const sentBefore = (await messages(page)).length;
    await render(page, 'remote2', 'o-remote2', LATENT_MIME, p, { noMessaging: true });
    await page.waitForFunction(() => document.querySelector('#remote2 .aenb-latent')?.getAttribute('data-images') === 'ready');
    const g = await at('remote2', x, y);
    await page.mouse.click(g.x, g.y);
    await page.waitForFunction(() => document.querySelector('#remote2 .aenb-latent-decoded')?.getAttribute('data-state') === 'unavailable');
    assert.match(await text('#remote2 .aenb-latent-status[role="alert"]'), /Decoding new points needs the kernel that made this map, and there is none here/);
    assert.equal((await messages(page)).length, sentBefore, 'nothing was sent');
    await screenshot(page, '#remote2', 'latent-no-kernel-light');
  });

  test('without labels: one colour, no legend; live updates keep the view and the picks', async () => {
    await render(page, 'plain', 'o-plain', LATENT_MIME, fx.unlabelled);
    assert.equal(await page.locator('#plain .aenb-legend-item').count(), 0);
    assert.equal(await page.locator('#plain .aenb-latent-legend').isVisible(), false);
    // a live view sends the same points again with new codes: the pick follows its row
    const p = fx.unlabelled;
    const pts = decodeFloat32(p.points);
    const s = await at('plain', pts[10], pts[11]);
    await page.mouse.click(s.x, s.y);
    const picked = (await text('#plain .aenb-latent-decoded figcaption')).replace(/^A: /, '');
    await page.locator('#plain .aenb-latent button:has-text("+")').click();
    const zoomedAt = await at('plain', 0, 0);
    const next: LatentPayload = { ...p, title: 'Latent space while training', epoch: { epoch: 2, epochs: 5 } };
    await render(page, 'plain', 'o-plain', LATENT_MIME, next);
    assert.equal(await text('#plain .aenb-badge'), 'Epoch 2/5');
    assert.equal((await text('#plain .aenb-latent-decoded figcaption')).replace(/^A: /, ''), picked);
    const after = await at('plain', 0, 0);
    assert.ok(Math.hypot(after.x - zoomedAt.x, after.y - zoomedAt.y) < 1, 'the zoom is kept');
  });

  test('a live map looks live only while its run goes on: done, stopped, interrupted, and reopened from a saved file', async () => {
    const badge = () =>
      page.evaluate(() => {
        const b = document.querySelector('#livemap .aenb-badge') as HTMLElement;
        return {
          text: b.innerText,
          cls: b.className,
          title: b.title,
          hidden: b.hidden,
          pulse: getComputedStyle(b, '::before').animationName,
          color: getComputedStyle(b).color,
          run: (document.querySelector('#livemap .aenb-latent') as HTMLElement).dataset.run,
        };
      });
    const live = (epoch: number, state?: LiveState): LatentPayload => ({
      ...fx.unlabelled,
      title: 'Latent space while training',
      epoch: { epoch, epochs: 5, ...(state ? { state } : {}) },
    });
    await render(page, 'livemap', 'o-livemap', LATENT_MIME, live(2, 'running'));
    const running = await badge();
    assert.equal(running.text, 'Epoch 2/5');
    assert.match(running.cls, /\baenb-badge-running\b/);
    assert.equal(running.pulse, 'aenb-pulse', 'the dot pulses while training');
    assert.equal(running.run, 'running');
    assert.match(running.title, /^Training: the map is redrawn as epochs end; this one is after epoch 2 of 5$/);
    await screenshot(page, '#livemap .aenb-header', 'latent-live-running-light');

    const ended: [LatentPayload, string, string, RegExp][] = [
      [{ ...live(5, 'done'), title: 'Latent space after training' }, 'Done · epoch 5/5', 'done', /^Training finished: the map after epoch 5 of 5$/],
      [live(3, 'stopped'), 'Stopped · epoch 3/5', 'stopped', /^Training was stopped: the map after epoch 3 of 5, the last one drawn$/],
      [live(3, 'interrupted'), 'Interrupted · epoch 3/5', 'interrupted', /^Training ended before its last epoch/],
    ];
    for (const [payload, label, state, tip] of ended) {
      await render(page, 'livemap', 'o-livemap', LATENT_MIME, payload);
      const b = await badge();
      assert.equal(b.text, label);
      assert.doesNotMatch(b.cls, /aenb-badge-running/, `${state}: not the live look`);
      assert.equal(b.pulse, 'none', `${state}: no pulsing dot`);
      assert.notEqual(b.color, running.color, `${state}: not the live colour`);
      assert.equal(b.run, state);
      assert.match(b.title, tip);
    }
    for (const t of ['light', 'dark'] as const) {
      await setTheme(page, t);
      await frames();
      await screenshot(page, '#livemap .aenb-header', `latent-live-interrupted-${t}`);
    }
    await setTheme(page, 'light');
    await render(page, 'livemap', 'o-livemap', LATENT_MIME, ended[0][0]);
    assert.equal(await text('#livemap .aenb-title'), 'Latent space after training');
    await shootAll('livemap', 'latent-live-done', ['light', 'dark']);

    // saved while training (or by a kernel that never said the run ended), then reopened: the file's map is settled
    const saved = (p: LatentPayload) => {
      const cell = createCodeCell('await ae.fit(x, x, { epochs: 5, callbacks: [callbacks.latentView(x)] });');
      cell.outputs = [toOutput(latentOutputItems(p))];
      const reopened = parseNotebook(serializeNotebook(createNotebook([cell])));
      const out = (reopened.cells[0] as typeof cell).outputs[0];
      return { payload: out.items.find((i) => i.mime === LATENT_MIME)!.data as unknown as LatentPayload, text: out.items.find((i) => i.mime === 'text/plain')!.data as string };
    };
    const midway = saved(live(3, 'running'));
    await render(page, 'livemap', 'o-livemap', LATENT_MIME, midway.payload);
    let b = await badge();
    assert.equal(b.text, 'Interrupted · epoch 3/5');
    assert.equal(b.pulse, 'none');
    assert.match(midway.text, /\(Training ended before its last epoch .*: the map after epoch 3 of 5, the last one drawn\)/, 'the text fallback says so too');
    const lastEpoch = saved(live(5)); // an older kernel's map, no state: drawn after the last epoch, so the run finished
    await render(page, 'livemap', 'o-livemap', LATENT_MIME, lastEpoch.payload);
    b = await badge();
    assert.equal(b.text, 'Done · epoch 5/5');
    assert.equal(b.pulse, 'none');
    assert.equal(await text('#livemap .aenb-title'), 'Latent space after training');
    // a map that was never live has no badge, in the file or not
    await render(page, 'livemap', 'o-livemap', LATENT_MIME, saved(fx.unlabelled).payload);
    b = await badge();
    assert.equal(b.hidden, true);
    assert.equal(b.run, undefined);
  });

  test('invalid payloads show what is wrong', async () => {
    await render(page, 'bad', 'o-bad', LATENT_MIME, { ...fx.unlabelled, codes: 'AAAA' });
    assert.match(await text('#bad .aenb-error'), /Cannot show this output: codes must be base64 Float32 \[300, 32\]/);
    await render(page, 'bad2', 'o-bad2', LATENT_MIME, { ...fx.pca, labels: fx.pca.labels!.slice(1) });
    assert.match(await text('#bad2 .aenb-error'), /labels must be 1000 class indices/);
    await render(page, 'bad3', 'o-bad3', ERRORS_MIME, { ...fx.errors, metric: 'mae' });
    assert.match(await text('#bad3 .aenb-error'), /metric must be "mse"/);
  });
});

describe('reconstruction errors', () => {
  test('histogram, threshold at the 95th percentile, classes, worst and best images', async () => {
    const p = fx.errors;
    await render(page, 'err', 'o-err', ERRORS_MIME, p);
    assert.match(await text('#err .aenb-info'), /^1,000 images · mean squared error: mean 0\.\d{4}, median 0\.\d{4}, max 0\.\d{4}$/);
    const errors = decodeFloat32(p.errors);
    const sorted = Array.from(errors).sort((a, b) => a - b);
    const p95 = sorted[Math.floor(0.95 * 999)] + (sorted[Math.ceil(0.95 * 999)] - sorted[Math.floor(0.95 * 999)]) * (0.95 * 999 - Math.floor(0.95 * 999));
    const above = sorted.filter((e) => e >= p95).length;
    assert.match(await text('#err .aenb-errors-threshold'), new RegExp(`^${above} of 1,000 \\(${((100 * above) / 1000).toFixed(1)}%\\) have an error of 0\\.\\d{4} or more \\(the 95th percentile\\)`));
    const rows = await page.locator('#err .aenb-errors-classes tbody tr').allInnerTexts();
    assert.equal(rows.length, 10);
    const means = rows.map((r) => Number(r.split('\t')[2]));
    assert.deepEqual(means, [...means].sort((a, b) => b - a), 'classes sorted by mean error');
    assert.deepEqual(await page.locator('#err .aenb-row-title').allInnerTexts(), ['Worst: image', 'Worst: rebuilt', 'Best: image', 'Best: rebuilt']);
    const caps = await page.locator('#err .aenb-caption').allInnerTexts();
    assert.match(caps[8], /^mse 0\.\d{4}$/);
    // hover a bar: its range and count; click: the threshold moves there
    await page.locator('#err .aenb-errors-hist').scrollIntoViewIfNeeded();
    const box = (await page.locator('#err .aenb-errors-hist').boundingBox())!;
    await page.mouse.move(box.x + 44 + (box.width - 54) * 0.3, box.y + box.height / 2);
    assert.match(await text('#err .aenb-errors-readout'), /^0\.\d{4} to 0\.\d{4}: \d+ images? \(\d+\.\d%\)$/);
    await page.mouse.click(box.x + 44 + (box.width - 54) * 0.3, box.y + box.height / 2);
    const cut = Number(await attr('#err .aenb-errors', 'data-threshold'));
    assert.equal(Number(await attr('#err .aenb-errors', 'data-above')), sorted.filter((e) => e >= cut).length);
    // keyboard: arrows read the bars, Enter sets the threshold
    await page.locator('#err .aenb-errors-hist').focus();
    await page.keyboard.press('Home');
    await page.keyboard.press('Enter');
    assert.equal(Number(await attr('#err .aenb-errors', 'data-above')), 1000, 'threshold at the smallest error: all above');
    assert.match(await text('#err .aenb-sr-only[aria-live]'), /^1,000 of 1,000 \(100\.0%\)/);
    await page.keyboard.press('End');
    await page.keyboard.press('Enter');
    assert.ok(Number(await attr('#err .aenb-errors', 'data-above')) < 50);
    await page.locator('#err .aenb-seg:has-text("Log")').click();
    await shootAll('err', 'errors');
  });

  test('long captions: every column of the worst and best images lies inside the output at the usual widths; captions wrap or end in an ellipsis', async () => {
    // Fashion-MNIST-like class names, some long: captions such as "#123 · Pullover with a hood (class 2)"
    const long = ['T-shirt/top', 'Trouser', 'Pullover with a hood', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
    const p = { ...fx.errors, classNames: long.map((n, i) => `${n} (class ${i})`) };
    assert.equal(p.worst.length, 8, 'eight columns');
    await render(page, 'errw', 'o-errw', ERRORS_MIME, p);
    const geometry = () =>
      page.evaluate(() => {
        const root = document.querySelector('#errw .aenb-errors') as HTMLElement;
        const box = root.getBoundingClientRect();
        const scroller = root.querySelector('.aenb-grid-scroll') as HTMLElement;
        const cells = [...root.querySelectorAll<HTMLElement>('.aenb-grid .aenb-cell')];
        const lastCol = Math.max(...cells.map((c) => Number(c.style.gridColumnStart)));
        const caps = [...root.querySelectorAll<HTMLElement>('.aenb-grid .aenb-caption')];
        return {
          width: box.width,
          right: box.right,
          columns: lastCol - 1,
          lastRight: Math.max(...cells.filter((c) => Number(c.style.gridColumnStart) === lastCol).map((c) => c.getBoundingClientRect().right)),
          captionsRight: Math.max(...caps.map((c) => c.getBoundingClientRect().right)),
          scrolls: scroller.scrollWidth > scroller.clientWidth,
          imageWidth: root.querySelector('.aenb-grid canvas')!.getBoundingClientRect().width,
          captions: caps.map((c) => {
            const lh = parseFloat(getComputedStyle(c).lineHeight);
            // how far the text of its visible lines reaches past the caption's sides (a clamped line is hidden)
            const box = c.getBoundingClientRect();
            const range = document.createRange();
            range.selectNodeContents(c);
            const shown = [...range.getClientRects()].filter((r) => r.width > 0 && r.top < box.bottom - 1);
            const spill = Math.max(0, ...shown.map((r) => Math.max(box.left - r.left, r.right - box.right)));
            return { text: c.textContent ?? '', title: c.title, lines: Math.round(box.height / lh), fontPx: parseFloat(getComputedStyle(c).fontSize), spill, cellWidth: (c.parentElement as HTMLElement).getBoundingClientRect().width, width: box.width };
          }),
        };
      });
    for (const width of [1000, 860, 700, 560]) {
      await page.evaluate((w) => void ((document.getElementById('errw') as HTMLElement).style.width = `${w}px`), width);
      await frames(); // the grid refits in its ResizeObserver, which runs before the next frame is painted
      const g = await geometry();
      assert.equal(g.columns, 8);
      assert.ok(g.lastRight <= g.right + 0.5, `at ${width}px the last column ends at ${g.lastRight}, the output at ${g.right}`);
      assert.ok(g.captionsRight <= g.right + 0.5, `at ${width}px captions end at ${g.captionsRight}, the output at ${g.right}`);
      assert.equal(g.scrolls, false, `at ${width}px the grid needs no scrolling`);
      assert.ok(g.imageWidth >= 28 && Number.isInteger(g.imageWidth / 28), `integer scale, ${g.imageWidth}px images`);
      for (const c of g.captions) {
        assert.ok(c.width <= c.cellWidth + 0.5, `caption "${c.text}" (${c.width}px) no wider than its cell (${c.cellWidth}px)`);
        assert.ok(c.spill <= 0.5, `caption "${c.text}" does not spill sideways (${c.spill}px past its ${c.width}px at ${width}px)`);
        assert.ok(c.lines >= 1 && c.lines <= 2, `caption "${c.text}" takes ${c.lines} lines`);
        assert.equal(c.title, c.text, 'the whole caption is its tooltip');
        assert.ok(c.fontPx >= 10, `caption font ${c.fontPx}px`);
      }
      if (width === 860) {
        assert.ok(g.imageWidth >= 56, `at 860px the images stay at least twice their size (${g.imageWidth}px)`);
        await shootAll('errw', 'errors-long-captions', ['light', 'dark']);
      }
    }
    await page.evaluate(() => void ((document.getElementById('errw') as HTMLElement).style.width = ''));
  });
});

describe('one colormap rule', () => {
  test('every output starts its images in gray (src/common/colormap.ts) unless its payload names a colormap', async () => {
    assert.equal(DEFAULT_COLORMAP, 'gray');
    const first = fx.x.slice(0, 1);
    const second = fx.x.slice(1, 1);
    const strip = interpolateOutput(fx.vanilla, first, second, { steps: 4 }).items.find((i) => i.mime === IMAGES_MIME)!.data as unknown as ImagesPayload;
    tf.dispose([first, second]);
    assert.equal(strip.colormap, undefined, 'the kernel writes no default into the payload');
    assert.equal(fx.errors.colormap, undefined);
    assert.equal(fx.pca.colormap, undefined);
    // the same kind of data (MNIST digits) in each output that shows images
    const outputs: [string, string, { colormap?: Colormap }][] = [
      ['cm-images', IMAGES_MIME, imagesFixture(4)],
      ['cm-strip', IMAGES_MIME, strip],
      ['cm-errors', ERRORS_MIME, fx.errors],
      ['cm-latent', LATENT_MIME, fx.unlabelled],
    ];
    /** The colormap menu's value, and whether every pixel of the output's first image is gray (r = g = b). */
    const state = (id: string) =>
      page.evaluate((elId) => {
        const root = document.getElementById(elId)!;
        const canvas = root.querySelector<HTMLCanvasElement>(root.querySelector('.aenb-latent') ? '.aenb-latent-decoded canvas' : '.aenb-grid canvas')!;
        const d = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        let gray = true;
        let bright = 0;
        for (let i = 0; i < d.length; i += 4) {
          if (d[i] !== d[i + 1] || d[i] !== d[i + 2]) gray = false;
          bright = Math.max(bright, d[i]);
        }
        return { menu: root.querySelector<HTMLSelectElement>('select')!.value, gray, bright };
      }, id);
    const show = async (id: string, mime: string, payload: unknown) => {
      await render(page, id, `o-${id}`, mime, payload);
      if (mime !== LATENT_MIME) return;
      // the map draws images where a point is decoded: decode one
      await page.waitForFunction((elId) => document.querySelector(`#${elId} .aenb-latent`)?.getAttribute('data-images') === 'ready', id);
      const pts = decodeFloat32(fx.unlabelled.points);
      const s = await at(id, pts[0], pts[1]);
      await page.mouse.click(s.x, s.y);
      await page.waitForFunction((elId) => document.querySelector(`#${elId} .aenb-latent-decoded`)?.getAttribute('data-state') === 'decoded', id);
    };
    for (const [id, mime, payload] of outputs) {
      await show(id, mime, payload);
      const st = await state(id);
      assert.equal(st.menu, 'gray', `${id}: the menu starts at gray`);
      assert.ok(st.gray && st.bright > 0, `${id}: drawn in gray`);
      // a colormap named by the cell wins
      await show(`${id}-v`, mime, { ...payload, colormap: 'viridis' });
      const v = await state(`${id}-v`);
      assert.equal(v.menu, 'viridis', `${id}: the payload's colormap`);
      assert.equal(v.gray, false, `${id}: drawn in viridis`);
    }
  });
});

