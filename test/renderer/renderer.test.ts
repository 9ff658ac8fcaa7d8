// The renderer in a real browser (Debian's Chromium via playwright-core):
// DOM structure, pixels, live updates, messaging, HTML-injection safety,
// accessibility basics, and screenshots in light, dark and high-contrast themes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import * as tf from '@tensorflow/tfjs';
import { ERRORS_MIME, IMAGES_MIME, SUMMARY_MIME, TRAINING_MIME, base64ToBytes, bytesToBase64, imageToRgba, type ImagesPayload, type TrainingPayload } from '../../src/outputs';
import { OUTPUT_KINDS } from '../../src/outputs/registry';
import { settleTrainingPayload } from '../../src/outputs/training/stale';
import { type Harness, type Theme, messages, render, screenshot, setTheme, startHarness } from './harness';
import { imagesFixture, summaryFixture, trainingFixture } from './fixtures';
import { digits } from './latent-fixtures';
import { initBackend } from '../../src/lib/backend';
import { Autoencoder } from '../../src/lib/models';
import { errorsOutput } from '../../src/outputs/errors/kernel';
import { buildLatent } from '../../src/outputs/latent/kernel';
import { progressPayload } from '../../src/outputs/training/kernel';

const XSS = '<img src=x onerror="window.__xss=1">';

let harness: Harness;
let page: Page;

before(async () => {
  harness = await startHarness();
  page = await harness.newPage('light');
});

after(async () => {
  await harness?.close();
});

const text = (sel: string) => page.locator(sel).first().innerText();
const attr = (sel: string, name: string) => page.locator(sel).first().getAttribute(name);

async function overBox(elId: string) {
  const over = page.locator(`#${elId} .u-over`);
  await over.scrollIntoViewIfNeeded();
  const box = await over.boundingBox();
  assert.ok(box, 'plot area is visible');
  return box;
}

async function shootAll(elId: string, name: string, themes: Theme[] = ['light', 'dark']) {
  for (const t of themes) {
    await setTheme(page, t);
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    await screenshot(page, `#${elId}`, `${name}-${t}`);
  }
  await setTheme(page, 'light');
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

describe('training output', () => {
  test('finished history: chart with axes, legend, status line', async () => {
    await render(page, 'done', 'o-done', TRAINING_MIME, trainingFixture({ epochs: 50, batchesPerEpoch: 200, title: 'Vanilla autoencoder (MNIST)' }));
    assert.equal(await page.locator('#done .uplot').count(), 1);
    assert.equal(await page.locator('#done .u-axis').count(), 2, 'x and y axes');
    assert.equal(await text('#done .aenb-title'), 'Vanilla autoencoder (MNIST)');
    assert.equal(await text('#done .aenb-badge'), 'Done');
    const names = await page.locator('#done .aenb-legend-name').allInnerTexts();
    assert.deepEqual(names, ['loss', 'val_loss', 'loss per batch']);
    assert.match(await text('#done .aenb-status-line'), /50 epochs .*loss 0\.0\d{3} .*best val_loss/);
    assert.equal(await page.locator('#done .aenb-progress').isVisible(), false, 'no progress bar when done');
    assert.match((await attr('#done .aenb-chart', 'aria-label')) ?? '', /Loss chart, 50 of 50 epochs; loss from 0\.\d+ to 0\.\d+/);
    // something was drawn in the plot area: count non-background pixels of the canvas
    const inked = await page.evaluate(() => {
      const c = document.querySelector('#done canvas') as HTMLCanvasElement;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
      return n / (c.width * c.height);
    });
    assert.ok(inked > 0.05, `canvas has ink (${inked})`);
    await shootAll('done', 'training-done', ['light', 'dark', 'hc']);
  });

  test('hover read-out shows the epoch and values under the pointer', async () => {
    assert.equal(await text('#done .aenb-readout'), 'Epoch 50');
    const latest = await text('#done [data-series="loss"] .aenb-legend-value');
    const box = await overBox('done');
    await page.mouse.move(box.x + box.width * 0.2, box.y + box.height / 2);
    const readout = await text('#done .aenb-readout');
    assert.match(readout, /^Epoch (\d+)$/);
    const epoch = Number(/\d+/.exec(readout)?.[0]);
    assert.ok(epoch >= 8 && epoch <= 12, `pointer at 20% of 0..50 is near epoch 10 (got ${epoch})`);
    const hovered = await text('#done [data-series="loss"] .aenb-legend-value');
    assert.notEqual(hovered, latest, 'legend shows the hovered value, not the latest');
    await screenshot(page, '#done', 'training-hover-light');
    await page.mouse.move(0, 0);
  });

  test('linear/log toggle keeps the chart element and changes the scale', async () => {
    const before = await page.evaluate(() => {
      const w = window as unknown as { __chart: Element };
      w.__chart = document.querySelector('#done .aenb-chart')!;
      return (document.querySelector('#done canvas') as HTMLCanvasElement).toDataURL();
    });
    await page.click('#done .aenb-seg:has-text("Log")');
    assert.equal(await attr('#done .aenb-chart', 'data-scale'), 'log');
    assert.equal(await attr('#done .aenb-seg:has-text("Log")', 'aria-pressed'), 'true');
    assert.equal(await attr('#done .aenb-seg:has-text("Linear")', 'aria-pressed'), 'false');
    const after = await page.evaluate(() => (document.querySelector('#done canvas') as HTMLCanvasElement).toDataURL());
    assert.notEqual(after, before, 'the plot changed');
    assert.ok(await page.evaluate(() => (window as unknown as { __chart: Element }).__chart === document.querySelector('#done .aenb-chart')));
    await screenshot(page, '#done', 'training-log-light');
    await page.click('#done .aenb-seg:has-text("Linear")');
    assert.equal(await attr('#done .aenb-chart', 'data-scale'), 'linear');
  });

  test('legend items toggle series and are keyboard operable', async () => {
    const item = page.locator('#done [data-series="val_loss"]');
    await item.focus();
    await page.keyboard.press('Space');
    assert.equal(await item.getAttribute('aria-pressed'), 'false');
    await page.keyboard.press('Enter');
    assert.equal(await item.getAttribute('aria-pressed'), 'true');
    // arrow keys read epochs from the focused chart
    await page.locator('#done .aenb-chart').focus();
    await page.keyboard.press('End');
    await page.keyboard.press('ArrowLeft');
    assert.match(await text('#done .aenb-sr-only[aria-live]'), /^Epoch 49: loss 0\.\d{4}, val_loss 0\.\d{4}$/);
    assert.match(await text('#done .aenb-readout'), /^Epoch 49$/);
    await page.keyboard.press('Escape');
  });

  test('live updates replace the output in place, keeping zoom and hover', async () => {
    const A = trainingFixture({ runId: 'live', epochs: 10, done: 3, batch: 100, batchesPerEpoch: 200 });
    await render(page, 'live', 'o-live', TRAINING_MIME, A);
    assert.equal(await text('#live .aenb-stat-epoch .aenb-stat-value'), '4/10');
    assert.equal(await text('#live .aenb-stat-batch .aenb-stat-value'), '100/200');
    assert.equal(await text('#live .aenb-stat-speed .aenb-stat-value'), '5,321');
    assert.match(await text('#live .aenb-stat-eta .aenb-stat-value'), /^\d+s$/);
    assert.equal(await attr('#live .aenb-bar', 'aria-valuenow'), '35');
    await page.evaluate(() => {
      const w = window as unknown as { __nodes: Element[] };
      w.__nodes = ['#live .aenb-root', '#live .aenb-chart', '#live .uplot', '#live .u-over'].map((s) => document.querySelector(s)!);
    });
    // zoom by dragging over the plot
    const box = await overBox('live');
    await page.mouse.move(box.x + box.width * 0.1, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    const zoomed = [Number(await attr('#live .aenb-chart', 'data-x-min')), Number(await attr('#live .aenb-chart', 'data-x-max'))];
    assert.ok(zoomed[0] > 0.5 && zoomed[1] < 3.5 && zoomed[1] > zoomed[0], `zoomed to about [1, 3]: ${zoomed}`);
    assert.equal(await page.locator('#live button:has-text("Reset zoom")').isEnabled(), true);
    // hover, then update
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2);
    const hoverBefore = await text('#live .aenb-readout');
    assert.match(hoverBefore, /^Epoch \d/);

    const B = trainingFixture({ runId: 'live', epochs: 10, done: 4, batch: 50, batchesPerEpoch: 200 });
    await render(page, 'live', 'o-live', TRAINING_MIME, B);
    const same = await page.evaluate(() => {
      const w = window as unknown as { __nodes: Element[] };
      return ['#live .aenb-root', '#live .aenb-chart', '#live .uplot', '#live .u-over'].map((s, i) => document.querySelector(s) === w.__nodes[i]);
    });
    assert.deepEqual(same, [true, true, true, true], 'same root, chart, uPlot and overlay nodes');
    assert.equal(await page.locator('#live .uplot').count(), 1);
    assert.equal(await text('#live .aenb-stat-epoch .aenb-stat-value'), '5/10');
    assert.equal(await text('#live .aenb-stat-batch .aenb-stat-value'), '50/200');
    assert.equal(await attr('#live .aenb-bar', 'aria-valuenow'), '42.5');
    const kept = [Number(await attr('#live .aenb-chart', 'data-x-min')), Number(await attr('#live .aenb-chart', 'data-x-max'))];
    assert.deepEqual(kept, zoomed, 'zoom survives the update');
    assert.match(await text('#live .aenb-readout'), /^Epoch \d/, 'hover read-out survives the update');
    await screenshot(page, '#live', 'training-live-zoomed-light');
    // double-click resets the zoom to the whole run (0..10 epochs)
    await page.mouse.dblclick(box.x + box.width * 0.5, box.y + box.height / 2);
    assert.deepEqual([Number(await attr('#live .aenb-chart', 'data-x-min')), Number(await attr('#live .aenb-chart', 'data-x-max'))], [0, 10]);
    await page.mouse.move(0, 0);
    await shootAll('live', 'training-running');
  });

  test('Stop sends an interrupt request with the run id', async () => {
    await page.click('#live .aenb-stop');
    const sent = (await messages(page)) as { type: string; id: string; method: string; params: unknown }[];
    assert.equal(sent.length, 1);
    assert.equal(typeof sent[0].id, 'string');
    assert.deepEqual({ ...sent[0], id: undefined }, { type: 'request', id: undefined, method: 'interrupt', params: { runId: 'live' } });
    assert.equal(await page.locator('#live .aenb-stop').isDisabled(), true);
    assert.equal(await text('#live .aenb-stop'), 'Stopping…');
    // the kernel then reports the run as stopped: no Stop button, a badge and a note
    const C = trainingFixture({ runId: 'live', epochs: 10, done: 4, batch: 120, batchesPerEpoch: 200, state: 'stopped' });
    await render(page, 'live', 'o-live', TRAINING_MIME, C);
    assert.equal(await page.locator('#live .aenb-stop').isVisible(), false);
    assert.equal(await text('#live .aenb-badge'), 'Stopped');
    assert.match(await text('#live .aenb-status-line'), /Stopped after 4 of 10 epochs/);
    // a finished run shows the epoch it reached, not the one after it, and no batch position
    assert.equal(await text('#live .aenb-stat-epoch .aenb-stat-value'), '4/10');
    assert.equal(await text('#live .aenb-stat-batch .aenb-stat-value'), '–/200');
    // without renderer messaging the button cannot work, so it is disabled
    await render(page, 'nomsg', 'o-nomsg', TRAINING_MIME, trainingFixture({ runId: 'x', epochs: 10, done: 2, batch: 3, batchesPerEpoch: 200 }), { noMessaging: true });
    assert.equal(await page.locator('#nomsg .aenb-stop').isDisabled(), true);
  });

  test('a run saved while it was live shows as interrupted, with no Stop button; checkpoints and resumes are listed', async () => {
    const live = trainingFixture({ runId: 'saved', epochs: 20, done: 2, batch: 700, batchesPerEpoch: 1875 });
    live.events = [
      { kind: 'resumed', epoch: 1, message: 'Resumed at epoch 2 of 20 from the backup backup/backup.ckpt (1 epoch restored)' },
      { kind: 'checkpoint', epoch: 2, message: 'Backup after epoch 2: backup/backup.ckpt' },
    ];
    await render(page, 'saved', 'o-saved', TRAINING_MIME, settleTrainingPayload(live));
    assert.equal(await text('#saved .aenb-badge'), 'Interrupted');
    assert.equal(await page.locator('#saved .aenb-stop').isVisible(), false, 'nothing to stop');
    assert.match(await text('#saved .aenb-status-line'), /^Interrupted at epoch 3 of 20 \(the notebook was saved during training\)/);
    assert.equal(await text('#saved .aenb-events'), 'Resumed at epoch 2 of 20 from the backup backup/backup.ckpt (1 epoch restored) · Backup after epoch 2: backup/backup.ckpt');
    assert.equal(await text('#saved .aenb-stat-epoch .aenb-stat-value'), '2/20');
    await shootAll('saved', 'training-interrupted');
  });

  test('a run that ended with an error, as the kernel sends it: "Error" badge, the message and where, no Stop button', async () => {
    const live = trainingFixture({ runId: 'failed', epochs: 5, done: 2, batch: 40, batchesPerEpoch: 200 });
    // The kernel's payload for a fit that threw (src/outputs/training/kernel.ts, phase 'error').
    const failed = progressPayload({
      runId: 'failed', phase: 'error', model: 'Vanilla autoencoder', epoch: 3, epochs: 5, batch: 40, batchesPerEpoch: 200, batchSize: 32, samples: 6400,
      loss: NaN, samplesPerSecond: 5000, etaSeconds: 12, elapsedSeconds: 3.4, history: { loss: live.history.loss as number[], val_loss: live.history.val_loss as number[] }, batchLosses: [0.3, 0.25, 0.2],
      error: 'Training diverged: the loss became NaN at epoch 3, batch 41.',
    });
    await render(page, 'failed', 'o-failed', TRAINING_MIME, failed);
    assert.equal(await text('#failed .aenb-badge'), 'Error');
    assert.equal(await page.locator('#failed .aenb-stop').isVisible(), false, 'nothing to stop');
    assert.equal(await text('#failed .aenb-error'), 'Training failed: Training diverged: the loss became NaN at epoch 3, batch 41.');
    assert.equal(await page.locator('#failed .uplot').count(), 1, 'the epochs before the error stay on the chart');
    await shootAll('failed', 'training-error');
  });

  test('first epoch: per-batch points only, then val_loss appears in the same chart', async () => {
    const p0 = trainingFixture({ runId: 'grow', epochs: 5, done: 0, batch: 40, batchesPerEpoch: 100 });
    await render(page, 'grow', 'o-grow', TRAINING_MIME, p0);
    assert.deepEqual(await page.locator('#grow .aenb-legend-name').allInnerTexts(), ['loss per batch']);
    await page.evaluate(() => ((window as unknown as { __u: Element }).__u = document.querySelector('#grow .uplot')!));
    await render(page, 'grow', 'o-grow', TRAINING_MIME, trainingFixture({ runId: 'grow', epochs: 5, done: 1, batch: 10, batchesPerEpoch: 100 }));
    assert.deepEqual(await page.locator('#grow .aenb-legend-name').allInnerTexts(), ['loss', 'val_loss', 'loss per batch']);
    assert.ok(await page.evaluate(() => (window as unknown as { __u: Element }).__u === document.querySelector('#grow .uplot')));
  });

  test('190,000 per-batch points are decimated, every epoch point is kept', async () => {
    const big = trainingFixture({ runId: 'big', epochs: 100, batchesPerEpoch: 1900 });
    assert.equal(big.batches?.count, 190_000);
    const ms = await render(page, 'big', 'o-big', TRAINING_MIME, big);
    const points = Number(await attr('#big .aenb-chart', 'data-points'));
    const width = (await overBox('big')).width;
    assert.ok(points <= 4 * width + 2 * 4 * 64 + 100 + 4, `drawn ${points} points for a ${width}px plot`);
    assert.equal(await attr('#big .aenb-chart', 'data-epoch-points'), '100');
    // zoomed in, the view gets full detail and the epoch points are still all there
    const box = await overBox('big');
    await page.mouse.move(box.x + box.width * 0.5, box.y + 20);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.52, box.y + 20, { steps: 3 });
    await page.mouse.up();
    const [lo, hi] = [Number(await attr('#big .aenb-chart', 'data-x-min')), Number(await attr('#big .aenb-chart', 'data-x-max'))];
    assert.ok(hi - lo < 5, `zoomed to ${lo}..${hi}`);
    assert.equal(await attr('#big .aenb-chart', 'data-epoch-points'), '100');
    console.log(`# 190,000 points: first render ${ms.toFixed(1)} ms, ${points} points drawn`);
    await page.mouse.dblclick(box.x + box.width * 0.5, box.y + 20);
    await page.mouse.move(0, 0);
    await screenshot(page, '#big', 'training-190k-light');
  });

  test('theme changes re-color the chart', async () => {
    await setTheme(page, 'dark');
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const dark = await page.evaluate(() => getComputedStyle(document.querySelector('#done [data-series="loss"] .aenb-swatch')!).backgroundColor);
    assert.equal(dark, 'rgb(55, 148, 255)');
    await setTheme(page, 'light');
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const light = await page.evaluate(() => getComputedStyle(document.querySelector('#done [data-series="loss"] .aenb-swatch')!).backgroundColor);
    assert.equal(light, 'rgb(26, 133, 255)');
  });

  test('invalid payloads show an error, not a crash', async () => {
    await render(page, 'bad', 'o-bad', TRAINING_MIME, { state: 'running' });
    assert.match(await text('#bad .aenb-error'), /Cannot show this output: runId must be a string/);
    await render(page, 'bad2', 'o-bad2', IMAGES_MIME, { rows: [{ title: 't', images: [{ width: 4, height: 4, data: 'AAAA' }] }] });
    assert.match(await text('#bad2 .aenb-error'), /Cannot show this output: .*3 bytes for 4x4x1/);
  });
});

describe('image grid output', () => {
  let payload: ImagesPayload;

  async function canvasPixels(sel: string): Promise<string[]> {
    return page.evaluate((s) => {
      const out: string[] = [];
      for (const c of document.querySelectorAll<HTMLCanvasElement>(s)) {
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let bin = '';
        for (let i = 0; i < d.length; i++) bin += String.fromCharCode(d[i]);
        out.push(btoa(bin));
      }
      return out;
    }, sel);
  }

  function expected(colormap: 'viridis' | 'gray'): string[] {
    return payload.rows.flatMap((r) => r.images.map((im) => bytesToBase64(new Uint8Array(imageToRgba(im.width, im.height, base64ToBytes(im.data), 1, colormap).buffer))));
  }

  test('rows, titles, captions, alt text and crisp scaling', async () => {
    payload = imagesFixture(8);
    await render(page, 'img', 'o-img', IMAGES_MIME, payload);
    assert.equal(await page.locator('#img .aenb-cell').count(), 24);
    assert.deepEqual(await page.locator('#img .aenb-row-title').allInnerTexts(), ['Original', 'Noisy', 'Reconstructed']);
    assert.equal(await page.locator('#img .aenb-caption').count(), 16);
    assert.equal(await page.locator('#img .aenb-caption').first().innerText(), 'label 7');
    const alts = await page.locator('#img .aenb-grid canvas').evaluateAll((cs) => cs.map((c) => `${c.getAttribute('role')}|${c.getAttribute('aria-label')}`));
    assert.equal(alts.length, 24);
    assert.equal(alts[0], 'img|Original 1: label 7');
    assert.equal(alts[8], 'img|Noisy 1');
    assert.ok(alts.every((a) => /^img\|\S/.test(a)));
    const style = await page.locator('#img .aenb-grid canvas').first().evaluate((c) => ({ r: getComputedStyle(c).imageRendering, w: c.getBoundingClientRect().width, nw: (c as HTMLCanvasElement).width }));
    assert.equal(style.r, 'pixelated');
    assert.equal(style.nw, 28);
    assert.ok(Number.isInteger(style.w / 28) && style.w >= 56, `integer scale, ${style.w}px on screen`);
    await shootAll('img', 'images', ['light', 'dark', 'hc']);
  });

  test('canvas pixels match the data under gray (the default) and viridis', async () => {
    assert.equal(await page.locator('#img select').inputValue(), 'gray');
    assert.deepEqual(await canvasPixels('#img .aenb-grid canvas'), expected('gray'));
    await page.selectOption('#img select', 'viridis');
    assert.deepEqual(await canvasPixels('#img .aenb-grid canvas'), expected('viridis'));
    await screenshot(page, '#img', 'images-viridis-light');
    await page.selectOption('#img select', 'gray');
    assert.deepEqual(await canvasPixels('#img .aenb-grid canvas'), expected('gray'));
  });

  test('click to enlarge a column; Escape closes and returns focus', async () => {
    await page.locator('#img .aenb-thumb').nth(2).click();
    assert.equal(await page.locator('#img .aenb-zoom').isVisible(), true);
    assert.equal(await page.locator('#img .aenb-zoom-fig').count(), 3);
    assert.deepEqual(await page.locator('#img .aenb-zoom-title').allInnerTexts(), ['Original', 'Noisy', 'Reconstructed']);
    assert.equal(await text('#img .aenb-zoom-label'), 'Column 3 of 8');
    const bigCanvas = page.locator('#img .aenb-zoom-fig canvas').first();
    await bigCanvas.scrollIntoViewIfNeeded();
    const big = await bigCanvas.boundingBox();
    assert.ok(big && big.width >= 200, 'enlarged');
    // pixel read-out
    await page.mouse.move(big.x + big.width / 2 + 1, big.y + big.height / 2 + 1);
    assert.match(await text('#img .aenb-pixel-readout'), /^Original: x 14, y 14 = \d\.\d{3} \(\d+\)$/);
    await page.keyboard.press('ArrowRight');
    assert.equal(await text('#img .aenb-zoom-label'), 'Column 4 of 8');
    await screenshot(page, '#img', 'images-enlarged-light');
    await page.keyboard.press('Escape');
    assert.equal(await page.locator('#img .aenb-zoom').isVisible(), false);
    assert.equal(await page.evaluate(() => document.activeElement === document.querySelectorAll('#img .aenb-thumb')[2]), true);
  });

  test('Save PNG sends a PNG of the figure to the host', async () => {
    const before = (await messages(page)).length;
    await page.click('#img button:has-text("Save PNG")');
    const msgs = (await messages(page)).slice(before) as { type: string; method: string; params: { fileName: string; data: string } }[];
    assert.equal(msgs.length, 1);
    assert.equal(msgs[0].type, 'request');
    assert.equal(msgs[0].method, 'savePng');
    assert.equal(msgs[0].params.fileName, 'denoising-autoencoder-test-digits.png');
    const png = base64ToBytes(msgs[0].params.data);
    assert.deepEqual([...png.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10]);
    const dv = new DataView(png.buffer, png.byteOffset);
    const w = dv.getUint32(16);
    const hgt = dv.getUint32(20);
    assert.ok(w > 8 * 28 * 2 && hgt > 3 * 28 * 2, `figure is ${w}x${hgt}`);
  });

  test('large grids fit the width with a smaller integer scale', async () => {
    const wide = imagesFixture(20, { colormap: 'viridis' });
    await render(page, 'wide', 'o-wide', IMAGES_MIME, wide);
    const w = await page.locator('#wide .aenb-grid canvas').first().evaluate((c) => c.getBoundingClientRect().width);
    assert.ok(Number.isInteger(w / 28) && w / 28 <= 2, `scale ${w / 28}`);
    assert.equal(await page.locator('#wide select').inputValue(), 'viridis', "the payload's colormap");
  });
});

describe('model summary output', () => {
  test('table, totals, tied weights marked and counted once', async () => {
    await render(page, 'sum', 'o-sum', SUMMARY_MIME, summaryFixture());
    assert.match(await text('#sum caption'), /^Model: stacked_autoencoder \(StackedAutoencoder\)/);
    assert.deepEqual(await page.locator('#sum thead th').allInnerTexts().then((t) => t.slice(0, 3)), ['Layer (type)', 'Output shape', 'Param #']);
    assert.equal(await page.locator('#sum tbody tr').count(), 8);
    assert.equal(await text('#sum tr[data-layer="dense"] .aenb-shape'), '(None, 100)');
    assert.equal(await text('#sum tr[data-layer="reshape"] .aenb-shape'), '(None, 28, 28)');
    assert.equal(await text('#sum tfoot .aenb-total td.aenb-num'), '82,414');
    assert.equal(await text('#sum tfoot .aenb-trainable td.aenb-num'), '82,414');
    assert.equal(await text('#sum tfoot .aenb-nontrainable td.aenb-num'), '0');
    assert.equal(await page.locator('#sum tr.aenb-has-tied').count(), 3);
    assert.equal(await text('#sum tr[data-layer="transposed_dense_1"] .aenb-tied'), '⇄ tied: kernelᵀ of dense');
    assert.match(await text('#sum .aenb-shared-note'), /81,400 parameters/);
    await shootAll('sum', 'summary', ['light', 'dark', 'hc']);
  });
});

describe('safety and accessibility', () => {
  test('titles, captions and names are shown as text, never as HTML', async () => {
    const t: TrainingPayload = { ...trainingFixture({ runId: XSS, epochs: 3, batchesPerEpoch: 10, title: XSS }), history: { loss: [0.3, 0.2, 0.1], [XSS]: [0.5, 0.4, 0.3] } };
    await render(page, 'xss1', 'o-x1', TRAINING_MIME, t);
    const im = imagesFixture(2, { title: XSS });
    im.rows[0].title = XSS;
    im.rows[0].images[0].caption = XSS;
    await render(page, 'xss2', 'o-x2', IMAGES_MIME, im);
    const s = summaryFixture(XSS);
    s.layers[1].name = XSS;
    s.layers[1].type = XSS;
    await render(page, 'xss3', 'o-x3', SUMMARY_MIME, s);
    await render(page, 'xss4', 'o-x4', TRAINING_MIME, { ...t, state: 'error', message: XSS });
    await page.waitForTimeout(50);
    for (const id of ['xss1', 'xss2', 'xss3', 'xss4']) {
      assert.equal(await page.locator(`#${id} img`).count(), 0, `no <img> in #${id}`);
      assert.ok((await page.locator(`#${id}`).innerText()).includes('<img src=x onerror='), `literal text in #${id}`);
    }
    assert.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined);
    assert.equal(await text('#xss1 .aenb-title'), XSS);
    assert.equal(await text('#xss2 .aenb-row-title'), XSS);
    assert.match(await text('#xss4 .aenb-error'), /^Training failed: <img src=x/);
  });

  test('every control is keyboard reachable and has an accessible name', async () => {
    const problems = await page.evaluate(() => {
      const bad: string[] = [];
      for (const el of document.querySelectorAll<HTMLElement>('.aenb-root button, .aenb-root select, .aenb-root input, .aenb-root [tabindex]')) {
        if (el.closest('[hidden]') || (el as HTMLButtonElement).disabled) continue;
        const id = el.id;
        const label = id ? document.querySelector(`label[for="${id}"]`)?.textContent : '';
        const name = (el.getAttribute('aria-label') || el.textContent || label || '').trim();
        if (!name) bad.push(`${el.tagName}.${el.className}: no name`);
        if (el.tabIndex < 0) bad.push(`${el.tagName}.${el.className}: not focusable`);
      }
      return bad;
    });
    assert.deepEqual(problems, []);
    // Tab moves from the Linear button to Log, Reset zoom (disabled: skipped), then into the chart
    await page.locator('#done .aenb-seg').first().focus();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Log');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.classList.contains('aenb-chart')), true);
  });

  test('disposeOutputItem forgets the output; a new render starts fresh', async () => {
    await page.evaluate(() => ((window as unknown as { __u: Element }).__u = document.querySelector('#grow .uplot')!));
    await page.evaluate(() => (window as unknown as { __api: { disposeOutputItem(id: string): void } }).__api.disposeOutputItem('o-grow'));
    await render(page, 'grow', 'o-grow', TRAINING_MIME, trainingFixture({ runId: 'grow', epochs: 5, done: 2, batchesPerEpoch: 100 }));
    assert.equal(await page.locator('#grow .uplot').count(), 1);
    assert.ok(await page.evaluate(() => (window as unknown as { __u: Element }).__u !== document.querySelector('#grow .uplot')));
  });
});

describe('the registry of output kinds', () => {
  test('every kind the renderer draws renders through it; other MIME types are refused', async () => {
    const fixtures: Record<string, unknown> = {
      training: trainingFixture({ epochs: 3, batchesPerEpoch: 10 }),
      images: imagesFixture(2),
      summary: summaryFixture(),
    };
    {
      // the latent kinds, from a small untrained model (their own tests train one)
      await initBackend('wasm');
      const { x, y } = digits(60);
      const model = new Autoencoder({ inputShape: [28, 28], latentDim: 4, seed: 3 });
      fixtures.latent = (await buildLatent(model, x, { labels: y, n: 60 })).payload;
      fixtures.errors = errorsOutput(model, x, { labels: y, n: 60 }).items.find((i) => i.mime === ERRORS_MIME)?.data;
      tf.dispose([x, y]);
      model.dispose();
    }
    const rendered = OUTPUT_KINDS.filter((k) => k.rendered);
    assert.deepEqual(rendered.map((k) => k.name), Object.keys(fixtures), 'a fixture for every kind the renderer draws');
    for (const kind of rendered) {
      await render(page, `kind-${kind.name}`, `o-kind-${kind.name}`, kind.mimes[0], fixtures[kind.name]);
      assert.equal(await page.locator(`#kind-${kind.name} .aenb-${kind.name}`).count(), 1, `${kind.name} view`);
      await render(page, `kind-bad-${kind.name}`, `o-kind-bad-${kind.name}`, kind.mimes[0], { version: 1 });
      assert.match(await text(`#kind-bad-${kind.name} .aenb-error`), /Cannot show this output: /, `${kind.name} check`);
    }
    await render(page, 'kind-none', 'o-kind-none', 'text/markdown', '# not ours');
    assert.equal(await page.locator('#kind-none .aenb-root').count(), 1);
    assert.match(await text('#kind-none .aenb-error'), /unsupported MIME type text\/markdown/);
  });
});

describe('requests from the renderer', () => {
  /** Answers the renderer's latest request the way the host would. */
  async function reply(p: Page, answer: { ok: true; result: unknown } | { ok: false; error: { code: string; message: string } }) {
    await p.evaluate((a) => {
      const w = window as unknown as { __messages: { type: string; id: string }[]; __listeners: ((m: unknown) => void)[] };
      const req = w.__messages.filter((m) => m.type === 'request').pop();
      if (!req) throw new Error('no request was sent');
      for (const l of w.__listeners) l({ type: 'reply', replyTo: req.id, ...a });
    }, answer);
  }

  test('a kernel request gets its reply; errors come back as values', async () => {
    const p = await harness.newPage('light');
    const asked = p.evaluate(() => (globalThis as unknown as { aenbRendererRequest: (m: string, params: unknown) => Promise<unknown> }).aenbRendererRequest('kernel.ping', { echo: 'hi' }));
    await p.waitForFunction(() => (window as unknown as { __messages: unknown[] }).__messages.length === 1);
    const [sent] = (await messages(p)) as { method: string; params: unknown }[];
    assert.equal(sent.method, 'kernel.ping');
    assert.deepEqual(sent.params, { echo: 'hi' });
    await reply(p, { ok: true, result: { echo: 'hi', pid: 7, backend: 'wasm', busy: false, uptimeSeconds: 1 } });
    assert.deepEqual(await asked, { ok: true, value: { echo: 'hi', pid: 7, backend: 'wasm', busy: false, uptimeSeconds: 1 } });

    const failed = p.evaluate(() => (globalThis as unknown as { aenbRendererRequest: (m: string, params: unknown) => Promise<unknown> }).aenbRendererRequest('kernel.ping', {}));
    await p.waitForFunction(() => (window as unknown as { __messages: unknown[] }).__messages.length === 2);
    await reply(p, { ok: false, error: { code: 'unavailable', message: 'No kernel is running for this notebook: run a cell to start one.' } });
    assert.deepEqual(await failed, { ok: false, error: { code: 'unavailable', message: 'No kernel is running for this notebook: run a cell to start one.' } });
    await p.close();
  });

  test('a refused Stop says why and can be pressed again', async () => {
    const p = await harness.newPage('light');
    await render(p, 'stop2', 'o-stop2', TRAINING_MIME, trainingFixture({ runId: 'gone', epochs: 10, done: 2, batch: 3, batchesPerEpoch: 200 }));
    await p.click('#stop2 .aenb-stop');
    assert.equal(await p.locator('#stop2 .aenb-stop').isDisabled(), true);
    await reply(p, { ok: false, error: { code: 'failed', message: 'This training run is not running any more.' } });
    await p.locator('#stop2 .aenb-error:visible').waitFor();
    assert.match(await p.locator('#stop2 .aenb-error').innerText(), /Could not stop the run: This training run is not running any more\./);
    assert.equal(await p.locator('#stop2 .aenb-stop').isDisabled(), false);
    await p.close();
  });
});
