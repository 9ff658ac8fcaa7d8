// The training chart's log scale in Chromium: the y labels reach as far as
// the data (a loss that goes down to 0.07 gets a label at or below it, not a
// lowest label of 0.1), in light and dark themes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { TRAINING_MIME } from '../../src/outputs';
import { labelledCeil, labelledFloor, logRange, logTickLabels } from '../../src/outputs/training/log-axis';
import { type Harness, render, screenshot, setTheme, startHarness } from './harness';
import { trainingFixture } from './fixtures';

let harness: Harness;
let page: Page;

before(async () => {
  harness = await startHarness();
  page = await harness.newPage('light');
});

after(async () => {
  await harness?.close();
});

describe('log scale', () => {
  test('the range ends on labelled values around the data', () => {
    assert.equal(labelledFloor(0.07), 0.05);
    assert.equal(labelledFloor(0.05), 0.05);
    assert.ok(Math.abs(labelledFloor(0.0299) - 0.02) < 1e-12);
    assert.ok(Math.abs(labelledCeil(0.31) - 0.5) < 1e-12);
    assert.ok(Math.abs(labelledCeil(0.6) - 1) < 1e-12);
    assert.deepEqual(logRange(0.068, 0.3).map((v) => Number(v.toPrecision(6))), [0.05, 0.5]);
    assert.deepEqual(logRange(0, 1), [0.001, 1]);
    const splits = [0.05, 0.06, 0.07, 0.08, 0.09, 0.1, 0.2, 0.3, 0.4, 0.5];
    assert.deepEqual(logTickLabels(splits, String), ['0.05', '', '', '', '', '0.1', '0.2', '0.3', '', '0.5']);
    // Fewer than three 1-2-3-5 values in view (a zoomed, narrow range): every grid line gets a label.
    assert.deepEqual(logTickLabels([0.06, 0.07, 0.08, 0.09, 0.1], String), ['0.06', '0.07', '0.08', '0.09', '0.1']);
  });

  test('a loss that goes down to 0.07: the lowest label is at or below it', async () => {
    const payload = trainingFixture({ epochs: 40, perBatch: false, val: false, title: 'Loss down to 0.07' });
    const loss = (payload.history.loss ?? []).filter((v): v is number => typeof v === "number");
    const [lo, hi] = [Math.min(...loss), Math.max(...loss)];
    assert.ok(lo > 0.06 && lo < 0.075, `the data goes down to about 0.07 (${lo})`);
    await render(page, 'log', 'o-log', TRAINING_MIME, payload);
    await page.click('#log .aenb-seg:has-text("Log")');
    assert.equal(await page.locator('#log .aenb-chart').getAttribute('data-scale'), 'log');
    const labels = ((await page.locator('#log .aenb-chart').getAttribute('data-y-labels')) ?? '').split(' ').filter(Boolean).map(Number);
    assert.ok(labels.length >= 3, `labels: ${labels.join(' ')}`);
    assert.ok(Math.min(...labels) <= lo, `the lowest label (${Math.min(...labels)}) is at or below the lowest loss (${lo.toFixed(4)}); labels ${labels.join(' ')}`);
    assert.ok(Math.max(...labels) >= hi, `the highest label (${Math.max(...labels)}) is at or above the highest loss (${hi.toFixed(4)})`);
    for (const t of ['light', 'dark'] as const) {
      await setTheme(page, t);
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      await screenshot(page, '#log', `training-log-axis-${t}`);
    }
    await setTheme(page, 'light');
  });
});
