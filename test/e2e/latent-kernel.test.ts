// End-to-end: a latent map whose decoder is convolutional, in the packaged
// extension (code-server, headless Chromium). Such a decoder cannot travel
// with the output, so a click on the map goes renderer → extension host →
// kernel (`latent.decode`) and back; the test checks that the decoded image
// is the kernel's answer, and that once the kernel that drew the map is gone
// (restarted, then killed) the map says so instead of showing an image.
// The model trains one epoch on 256 random 12x12 images: no data download.
// It also takes the explorer's pictures in the four kinds of theme, with the
// keyboard focus on a point.
//
// Screenshots go to test-results/e2e/latent-kernel/.
import { before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FrameLocator, Locator, Page } from 'playwright-core';
import { createCodeCell, createMarkdownCell, createNotebook, serializeNotebook } from '../../src/common/aenb';
import { e2eWorkspace, KERNEL, poll, resultsFolder, STATUS_ITEM, useWorkbench } from '../support/e2e';
import { processesIn } from '../support/processes';
import {
  focusCell,
  notebookToolbarButton,
  openFile,
  outputScreenshot,
  outputsFrame,
  runCommand,
  scrollFocusedCellToTop,
  setColorTheme,
  statusBarText,
  waitForRunAllIdle,
  waitForStableBox,
} from '../support/workbench';

const RESULTS = resultsFolder('e2e/latent-kernel');

const MODEL_CELL = `// A convolutional autoencoder of two nested models, on random 12x12 images.
const x = tf.randomUniform([256, 12, 12, 1], 0, 1, 'float32', 3);
const kinds = Array.from({ length: 256 }, (_, i) => ['dots', 'noise', 'grain', 'speckle'][i % 4]);
const encoder = tf.sequential({ name: 'encoder', layers: [
  tf.layers.conv2d({ inputShape: [12, 12, 1], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }),
  tf.layers.maxPooling2d({ poolSize: 2 }),
  tf.layers.flatten(),
  tf.layers.dense({ units: 8 }),
] });
const decoder = tf.sequential({ name: 'decoder', layers: [
  tf.layers.dense({ inputShape: [8], units: 6 * 6 * 4, activation: 'relu' }),
  tf.layers.reshape({ targetShape: [6, 6, 4] }),
  tf.layers.upSampling2d({ size: [2, 2] }),
  tf.layers.conv2d({ filters: 1, kernelSize: 3, padding: 'same', activation: 'sigmoid' }),
] });
const convAe = tf.sequential({ name: 'ConvAE', layers: [encoder, decoder] });
convAe.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
await convAe.fit(x, x, { epochs: 1, batchSize: 64 });`;
const MAP_CELL = "show.latent(convAe, x, { labels: kinds, n: 256, subject: 'random images' });";

let page: Page;

/** Waits until `locator`'s attribute `name` is `value` (or matches it), and returns it. */
function attribute(locator: Locator, name: string, value: string | RegExp, what: string, timeoutMs = 60_000): Promise<string> {
  return poll(
    async () => {
      const v = await locator.getAttribute(name, { timeout: 200 });
      return v !== null && (typeof value === 'string' ? v === value : value.test(v)) ? v : undefined;
    },
    what,
    timeoutMs,
  );
}

/** Alpha of every pixel of a canvas: 255 everywhere once an image is drawn, 0 where it was cleared. */
async function opaquePixels(canvas: Locator): Promise<{ opaque: number; total: number }> {
  return canvas.evaluate((c) => {
    const cv = c as HTMLCanvasElement;
    const d = (cv.getContext('2d') as CanvasRenderingContext2D).getImageData(0, 0, cv.width, cv.height).data;
    let opaque = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] === 255) opaque++;
    return { opaque, total: d.length / 4 };
  });
}

const workspace = e2eWorkspace('aenb-e2e-latent-ws-', (dir) =>
  writeFileSync(
    join(dir, 'conv-map.aenb'),
    serializeNotebook(
      createNotebook([
        createMarkdownCell('# A conv decoder\nIts map decodes new points in the kernel.'),
        createCodeCell(MODEL_CELL),
        createCodeCell(MAP_CELL),
      ]),
    ),
  ),
);

describe('a latent map with a convolutional decoder, decoded by the kernel', () => {
  const fx = useWorkbench({
    results: RESULTS,
    workspace,
    settings: {
      'workbench.colorTheme': 'Default Light Modern',
      // Kernels outlive their window (test/e2e/reload.test.ts); here they should end soon after the server stops.
      'autoencoderNotebooks.kernelGracePeriod': 3,
    },
    viewport: { width: 1300, height: 1000 },
    // Readiness: the extension host has registered the extension's commands.
    readyCommand: 'Autoencoder Notebooks: New Notebook from a Sample',
  });
  let frame: FrameLocator;
  let map: Locator;
  let decoded: Locator;
  let box: { width: number; height: number };

  before(() => {
    page = fx.page;
    frame = outputsFrame(page);
  });
  const step = fx.step;

  step('Run All draws the map; it says that the kernel decodes, since the decoder is convolutional', 300_000, async () => {
    await openFile(page, 'conv-map.aenb');
    await page.locator('.notebookOverlay .monaco-list-row.code-cell-row').first().waitFor({ timeout: 30_000 });
    await notebookToolbarButton(page, 'Run All').click();
    await page.mouse.move(2, 2);
    // The toolbar shows Run All again once every cell has run, but also before the run has started: the
    // kernel's status item is the signal (it says idle only once the kernel has started and nothing is queued).
    await poll(async () => (/· idle/.test((await statusBarText(page, STATUS_ITEM)) ?? '') ? true : undefined), 'the kernel to be idle after Run All', 240_000, 250);
    await waitForRunAllIdle(page, 30_000);
    await focusCell(page, 'show.latent(convAe');
    await scrollFocusedCellToTop(page);
    map = frame.locator('.aenb-latent').first();
    await map.waitFor({ timeout: 60_000 });
    await attribute(map, 'data-images', 'ready', 'the map to load its images', 60_000);
    assert.equal(await map.locator('.aenb-scatter').getAttribute('data-points-drawn'), '256', 'all 256 images are drawn');
    assert.deepEqual(await map.locator('.aenb-legend-name').allInnerTexts(), ['dots', 'grain', 'noise', 'speckle'], 'a legend entry per label, in order');
    const status = (await map.locator('.aenb-latent-status').innerText()).trim();
    assert.match(status, /^Decoding in the kernel \(the decoder cannot run here: layer up_sampling2d\w* \(UpSampling2D\) is not a dense layer\)\.$/, status);
    decoded = map.locator('.aenb-latent-decoded');
    assert.equal(await decoded.getAttribute('data-source'), null, 'nothing decoded before a click');
  });

  step('a click on the map shows the image the kernel decoded; a second click adds the strip, decoded by the kernel too', 120_000, async () => {
    const overlay = map.locator('.aenb-scatter-overlay');
    await overlay.scrollIntoViewIfNeeded();
    await waitForStableBox(page, overlay);
    const b = await overlay.boundingBox();
    assert.ok(b, 'the map is on screen');
    box = b;
    await overlay.click({ position: { x: box.width * 0.4, y: box.height * 0.45 } });
    await attribute(decoded, 'data-state', 'decoded', 'the decoded image', 60_000);
    assert.equal(await decoded.getAttribute('data-source'), 'kernel', 'the image is the kernel\'s answer to latent.decode');
    const px = await opaquePixels(decoded.locator('canvas'));
    assert.equal(px.opaque, px.total, `the decoded image is drawn (${px.opaque} of ${px.total} pixels)`);
    assert.doesNotMatch(await map.locator('.aenb-latent-status').innerText(), /not running|could not decode/);
    await overlay.click({ position: { x: box.width * 0.65, y: box.height * 0.6 } });
    await poll(async () => ((await map.locator('.aenb-latent-step').count()) >= 10 ? true : undefined), 'the interpolation strip from the kernel', 60_000);
    assert.equal(await decoded.getAttribute('data-source'), 'kernel');
    await outputScreenshot(page, '.aenb-latent', join(RESULTS, 'conv-map-decoded-light.png'));
  });

  step('the explorer in the dark, high-contrast dark and high-contrast light themes, with the keyboard focus on a point', 180_000, async () => {
    const overlay = map.locator('.aenb-scatter-overlay');
    const hover = map.locator('.aenb-latent-hover');
    // Right, left, right, left: each key moves to another point (there is one on that side of the last), so
    // each round's point differs from the one the round before left in the hover panel.
    for (const [theme, name, key] of [
      ['Dark Modern', 'dark', 'ArrowRight'],
      ['Dark High Contrast', 'hc-dark', 'ArrowLeft'],
      ['Light High Contrast', 'hc-light', 'ArrowRight'],
      ['Light Modern', 'light', 'ArrowLeft'],
    ] as const) {
      await setColorTheme(page, theme);
      await focusCell(page, 'show.latent(convAe');
      await scrollFocusedCellToTop(page);
      await waitForStableBox(page, overlay);
      // The keyboard: focus the map (Tab order of the webview), then move to a point with an arrow key.
      const before = await hover.getAttribute('data-point');
      await overlay.focus();
      await overlay.press(key);
      await poll(
        async () => {
          const v = await hover.getAttribute('data-point', { timeout: 200 });
          return v !== null && /^\d+$/.test(v) && v !== before ? v : undefined;
        },
        `a point chosen with the keyboard (${key}; the point before: ${before || 'none'})`,
        30_000,
      );
      await outputScreenshot(page, '.aenb-latent', join(RESULTS, `conv-map-keyboard-${name}.png`));
    }
  });

  step('after Restart Kernel, a click says the kernel that made the map has restarted (no image)', 120_000, async () => {
    const before = processesIn(workspace.path, KERNEL).map((p) => p.pid);
    assert.equal(before.length, 1, 'one kernel runs');
    await runCommand(page, 'Autoencoder Notebooks: Restart Kernel');
    await poll(async () => {
      const now = processesIn(workspace.path, KERNEL).map((p) => p.pid);
      return now.length === 1 && now[0] !== before[0] ? true : undefined;
    }, 'a new kernel process', 60_000);
    const overlay = map.locator('.aenb-scatter-overlay');
    await overlay.click({ position: { x: box.width * 0.3, y: box.height * 0.3 } });
    await attribute(decoded, 'data-state', 'unavailable', 'the map to give up on the decode', 60_000);
    assert.equal(await decoded.getAttribute('data-source'), null, 'no image from any kernel');
    const px = await opaquePixels(decoded.locator('canvas'));
    assert.equal(px.opaque, 0, 'the decoded panel is empty');
    const status = map.locator('.aenb-latent-status[role="alert"]');
    assert.match(await status.innerText(), /The kernel could not decode: The kernel that made this map has restarted since; run the cell again to decode new points\./);
    await outputScreenshot(page, '.aenb-latent', join(RESULTS, 'conv-map-kernel-restarted-light.png'));
  });

  step('with the kernel gone (its process killed), a click says the kernel is not running', 120_000, async () => {
    const kernels = processesIn(workspace.path, KERNEL);
    assert.equal(kernels.length, 1, 'one kernel runs');
    process.kill(kernels[0].pid, 'SIGKILL');
    await poll(async () => (processesIn(workspace.path, KERNEL).length === 0 ? true : undefined), 'the kernel process to end', 30_000);
    const overlay = map.locator('.aenb-scatter-overlay');
    await overlay.click({ position: { x: box.width * 0.7, y: box.height * 0.3 } });
    const status = map.locator('.aenb-latent-status[role="alert"]');
    await poll(async () => (/The kernel is not running/.test(await status.innerText({ timeout: 200 })) ? true : undefined), 'the map to say that the kernel is not running', 60_000);
    assert.match(await status.innerText(), /The kernel is not running \(.+\), so new points cannot be decoded\. Run the cell again to explore this map/);
    assert.equal(await decoded.getAttribute('data-state'), 'unavailable');
    assert.equal(processesIn(workspace.path, KERNEL).length, 0, 'a decode request does not start a kernel');
    await outputScreenshot(page, '.aenb-latent', join(RESULTS, 'conv-map-kernel-gone-light.png'));
  });
});
