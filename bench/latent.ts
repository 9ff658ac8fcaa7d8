// Latent-space benchmark (not a test). In Node: building show.latent's
// payload for 10,000 MNIST test digits (encode, PCA, images), and UMAP of
// 2,000 codes. In Debian's Chromium, the explorer on that payload:
//  - first render and a full redraw of 10,000 points (bar: under 50 ms),
//  - click-to-decode with the vanilla decoder, in the page (bar: under 16 ms),
//  - a drag step and a hover step (smooth: well under a 16 ms frame).
// Build with `npm run build`; run with `npm run bench:latent` (holds no lock
// itself: run it under `flock /tmp/aenb-heavy.lock` on a shared machine).
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/lib/backend';
import { Autoencoder, StackedAutoencoder } from '../src/lib/models';
import { LATENT_MIME, type LatentPayload } from '../src/outputs';
import { buildLatent } from '../src/outputs/latent/kernel';
import { startHarness, renderTimed } from '../test/renderer/harness';
import { digits } from '../test/renderer/latent-fixtures';

function stats(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return `median ${q(0.5).toFixed(2)} ms, p95 ${q(0.95).toFixed(2)} ms, max ${s[s.length - 1].toFixed(2)} ms (n=${s.length})`;
}

async function timed<T>(f: () => Promise<T> | T): Promise<[T, number]> {
  const t0 = performance.now();
  const v = await f();
  return [v, performance.now() - t0];
}

type Page = Awaited<ReturnType<Awaited<ReturnType<typeof startHarness>>['newPage']>>;

/** Clicks, drags and hovers on the explorer in output `elId`, timed inside the page. */
async function interact(page: Page, elId: string, clicks: number): Promise<{ click: number[]; clickPaint: number[]; drag: number[]; hover: number[]; redraw: number[] }> {
  return page.evaluate(
    async ([id, n]) => {
      const root = document.querySelector(`#${id} .aenb-latent`) as HTMLElement & { __aenbLatent: { view: { lastDecodeMs: number; scatter: { lastDrawMs: number; zoomBy(f: number): void; resetView(): void } } } };
      const view = root.__aenbLatent.view;
      const overlay = root.querySelector('.aenb-scatter-overlay') as HTMLCanvasElement;
      const rect = overlay.getBoundingClientRect();
      let seed = 7;
      const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
      const ev = (type: string, x: number, y: number, buttons: number) =>
        overlay.dispatchEvent(new PointerEvent(type, { clientX: rect.left + x, clientY: rect.top + y, button: 0, buttons, pointerId: 1, bubbles: true, cancelable: true }));
      const frame = () => new Promise((r) => requestAnimationFrame(() => r(undefined)));
      const click: number[] = [];
      const clickPaint: number[] = [];
      const drag: number[] = [];
      const hover: number[] = [];
      const redraw: number[] = [];
      for (let i = 0; i < n; i++) {
        const x = 60 + rnd() * (rect.width - 80);
        const y = 20 + rnd() * (rect.height - 60);
        const t0 = performance.now();
        ev('pointerdown', x, y, 1);
        click.push(performance.now() - t0);
        await frame();
        clickPaint.push(performance.now() - t0);
        // drag: each move decodes (once per frame)
        for (let k = 1; k <= 5; k++) {
          ev('pointermove', x + k * 6, y + k * 3, 1);
          await frame();
          drag.push(view.lastDecodeMs);
        }
        ev('pointerup', x + 30, y + 15, 0);
      }
      for (let i = 0; i < 4 * n; i++) {
        const x = 60 + rnd() * (rect.width - 80);
        const y = 20 + rnd() * (rect.height - 60);
        const t0 = performance.now();
        ev('pointermove', x, y, 0);
        hover.push(performance.now() - t0);
        if (i % 8 === 0) await frame();
      }
      for (let i = 0; i < 20; i++) {
        view.scatter.zoomBy(i % 2 ? 1 / 1.3 : 1.3);
        redraw.push(view.scatter.lastDrawMs);
      }
      view.scatter.resetView();
      redraw.push(view.scatter.lastDrawMs);
      return { click, clickPaint, drag, hover, redraw };
    },
    [elId, clicks] as const,
  );
}

async function main(): Promise<void> {
  await initBackend('wasm');
  const rows: [string, string][] = [];
  const { x, y } = digits(10_000);
  const vanilla = new Autoencoder({ inputShape: [28, 28], latentDim: 64, seed: 1, name: 'Vanilla' });
  vanilla.compile();
  await vanilla.fit(x, x, { epochs: 3, batchSize: 32, seed: 1, verbose: 0 });
  const stacked = new StackedAutoencoder({ inputShape: [28, 28], layers: [64, 36], seed: 1, name: 'Stacked' });
  stacked.compile();
  await stacked.fit(x, x, { epochs: 3, batchSize: 32, seed: 1, verbose: 0 });

  const [big, tBig] = await timed(() => buildLatent(vanilla, x, { labels: y, n: 10_000 }));
  const json = JSON.stringify(big.payload);
  rows.push(['kernel: show.latent payload, 10,000 points, 64-D, PCA', `${tBig.toFixed(0)} ms to build, ${(json.length / 1e6).toFixed(2)} MB JSON`]);
  const parts = (p: LatentPayload) => `codes ${(p.codes.length / 1e6).toFixed(2)} MB, images ${((p.originals?.data.length ?? 0) / 1e6).toFixed(2)} MB (deflated; ${(p.count * 784 * 4 / 3 / 1e6).toFixed(2)} MB as plain base64), decoder ${(JSON.stringify(p.decoder ?? {}).length / 1e3).toFixed(0)} KB`;
  rows.push(['  of which', parts(big.payload)]);
  const [small] = await timed(() => buildLatent(vanilla, x, { labels: y }));
  rows.push(['kernel: show.latent payload, 2,000 points (the default)', `${(JSON.stringify(small.payload).length / 1e6).toFixed(2)} MB JSON`]);
  // the progress a user sees under the cell while UMAP runs: how often it is replaced
  const ticks: number[] = [];
  const texts: string[] = [];
  const tUmap0 = performance.now();
  const [, tUmap] = await timed(() => buildLatent(vanilla, x, { labels: y, method: 'umap' }, { progress: (text) => (ticks.push(performance.now() - tUmap0), texts.push(text)) }));
  ticks.push(tUmap);
  texts.push('(the map)');
  const gaps = ticks.slice(1).map((t, i) => t - ticks[i]);
  const worst = gaps.indexOf(Math.max(...gaps));
  rows.push(['kernel: UMAP of 2,000 64-D codes (umap-js), payload included', `${(tUmap / 1000).toFixed(1)} s`]);
  rows.push([
    '  its progress under the cell',
    `${ticks.length - 1} updates, the first after ${ticks[0].toFixed(0)} ms; the longest wait ${gaps[worst].toFixed(0)} ms, from "${texts[worst]}" to "${texts[worst + 1]}"`,
  ]);
  const tied = (await buildLatent(stacked, x, { labels: y, n: 10_000 })).payload;

  const h = await startHarness();
  try {
    const page = await h.newPage('dark');
    // esbuild's keepNames wraps the named helpers of the functions below in __name(): give the page one
    await page.evaluate('window.__name = (f) => f');
    const [r0, f0] = await renderTimed(page, 'big', 'o-big', LATENT_MIME, json);
    rows.push(['renderer: first render, 10,000 points', `${r0.toFixed(1)} ms renderOutputItem (parse, decode base64, draw), ${f0.toFixed(1)} ms until painted`]);
    const drawn = await page.locator('#big .aenb-scatter').getAttribute('data-points-drawn');
    const first = await page.evaluate(() => (document.querySelector('#big .aenb-latent') as unknown as { __aenbLatent: { view: { scatter: { lastDrawMs: number } } } }).__aenbLatent.view.scatter.lastDrawMs);
    rows.push(['renderer: points drawn', `${drawn} (first draw ${first.toFixed(1)} ms)`]);
    const m = await interact(page, 'big', 60);
    rows.push(['renderer: full redraw of 10,000 points (zoom steps)', stats(m.redraw)]);
    rows.push(['renderer: click-to-decode, vanilla 64→784 (event to image drawn)', stats(m.click)]);
    rows.push(['renderer: click-to-decode, until the next frame', stats(m.clickPaint)]);
    rows.push(['renderer: drag step (decode + strip of 10)', stats(m.drag)]);
    rows.push(['renderer: hover step (hit test + image and reconstruction)', stats(m.hover)]);
    await renderTimed(page, 'tied', 'o-tied', LATENT_MIME, JSON.stringify(tied));
    const t = await interact(page, 'tied', 40);
    rows.push(['renderer: click-to-decode, tied 36→64→784', stats(t.click)]);
    const w = Math.max(...rows.map((r) => r[0].length));
    console.log(`Latent-space benchmark (Chromium ${h.context.browser()?.version() ?? ''}, headless; Node ${process.version}, tfjs ${tf.version.tfjs}, wasm)`);
    for (const [k, v] of rows) console.log(`  ${k.padEnd(w)}  ${v}`);
  } finally {
    await h.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
