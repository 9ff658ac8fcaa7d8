// Renderer benchmark (not a test): times, in Debian's Chromium,
//  - the first render of a 100-epoch run with 190,000 per-batch points,
//  - live updates of that run (the output replaced in place, as during training),
//  - a 10x10 image grid (first render and a colormap switch).
// Build with `npm run build`, run with `node out/bench/renderer.js`.
import { IMAGES_MIME, TRAINING_MIME, batchSeries, decodeFloat32, imagesPayload } from '../src/outputs';
import { startHarness, renderTimed } from '../test/renderer/harness';
import { mnist, trainingFixture } from '../test/renderer/fixtures';

function stats(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return `median ${q(0.5).toFixed(1)} ms, p95 ${q(0.95).toFixed(1)} ms, max ${s[s.length - 1].toFixed(1)} ms (n=${s.length})`;
}

async function main(): Promise<void> {
  const h = await startHarness();
  try {
    const page = await h.newPage('dark');
    const rows: [string, string][] = [];

    // 1. 190,000 per-batch points, first render
    const full = trainingFixture({ runId: 'bench', epochs: 100, batchesPerEpoch: 1900 });
    const fullJson = JSON.stringify(full);
    const [r0, f0] = await renderTimed(page, 'train', 'o-train', TRAINING_MIME, fullJson);
    rows.push(['payload, 100 epochs + 190,000 batch points', `${(fullJson.length / 1e6).toFixed(2)} MB JSON (batch losses as base64 Float32)`]);
    rows.push(['first render, 190,000 points', `${r0.toFixed(1)} ms renderOutputItem, ${f0.toFixed(1)} ms until painted`]);
    rows.push(['points drawn', `${await page.locator('#train .aenb-chart').getAttribute('data-points')} (all 100 epoch points: ${await page.locator('#train .aenb-chart').getAttribute('data-epoch-points')})`]);

    // 2. live updates during the last epoch: the run grows by 95 batches per update
    const live = trainingFixture({ runId: 'live', epochs: 100, done: 99, batch: 0, batchesPerEpoch: 1900 });
    const fullY = decodeFloat32(full.batches?.y ?? '');
    const updates: string[] = [];
    for (let k = 1; k <= 20; k++) {
      const count = 99 * 1900 + k * 95;
      updates.push(JSON.stringify({ ...live, batch: k * 95, batches: batchSeries(fullY.subarray(0, count)) }));
    }
    await renderTimed(page, 'live', 'o-live', TRAINING_MIME, JSON.stringify(live));
    const rt: number[] = [];
    const ft: number[] = [];
    for (const u of updates) {
      const [r, f] = await renderTimed(page, 'live', 'o-live', TRAINING_MIME, u);
      rt.push(r);
      ft.push(f);
    }
    rows.push(['live update at ~190,000 points, renderOutputItem', stats(rt)]);
    rows.push(['live update at ~190,000 points, until painted', stats(ft)]);
    const sameChart = await page.evaluate(() => document.querySelectorAll('#live .uplot').length);
    rows.push(['uPlot instances after 20 updates', String(sameChart)]);

    // 3. a 10x10 grid of MNIST digits
    const d = mnist(100);
    const grid = imagesPayload(
      Array.from({ length: 10 }, (_, r) => ({ title: `Row ${r + 1}`, images: Array.from({ length: 10 }, (_, c) => ({ width: 28, height: 28, pixels: d.images[r * 10 + c], caption: `label ${d.labels[r * 10 + c]}` })) })),
      { title: '10x10 grid' },
    );
    const gridJson = JSON.stringify(grid);
    const gr: number[] = [];
    const gf: number[] = [];
    for (let k = 0; k < 5; k++) {
      const [r, f] = await renderTimed(page, `grid${k}`, `o-grid${k}`, IMAGES_MIME, gridJson);
      gr.push(r);
      gf.push(f);
    }
    rows.push(['10x10 grid payload', `${(gridJson.length / 1024).toFixed(1)} KB JSON (uint8 base64)`]);
    rows.push(['10x10 grid first render, renderOutputItem', stats(gr)]);
    rows.push(['10x10 grid first render, until painted', stats(gf)]);
    const cm: number[] = [];
    for (let k = 0; k < 6; k++) {
      cm.push(
        await page.evaluate(async (v) => {
          const sel = document.querySelector('#grid0 select') as HTMLSelectElement;
          const t0 = performance.now();
          sel.value = v;
          sel.dispatchEvent(new Event('change'));
          await new Promise((res) => requestAnimationFrame(() => requestAnimationFrame(res)));
          return performance.now() - t0;
        }, k % 2 ? 'viridis' : 'gray'),
      );
    }
    rows.push(['10x10 grid colormap switch, until painted', stats(cm)]);

    const w = Math.max(...rows.map((r) => r[0].length));
    console.log(`Renderer benchmark (Chromium ${h.context.browser()?.version() ?? ''}, headless, ${process.platform})`);
    for (const [k, v] of rows) console.log(`  ${k.padEnd(w)}  ${v}`);
  } finally {
    await h.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
