// Reconstruction errors (application/vnd.aenb.errors+json): a histogram of the
// per-image error with the mean, median and 95th percentile marked and a
// threshold (click a bar, or arrow keys and Enter) that counts the images
// above it, the classic first step of anomaly detection with an autoencoder;
// the mean error per class; and the worst- and best-rebuilt images, drawn by
// the image grid view (enlarge, colormap, save as PNG).
import { decodeFloat32 } from '../../common/base64';
import { formatCount, formatMetric } from '../../common/formatting';
import { cssColor, h, setAttr, setText, uniqueId } from '../../../renderers/dom';
import type { ImageData8, ImagesPayload } from '../images/contract';
import { ImagesView } from '../images/view';
import type { OutputView, ViewHost, ViewPart } from '../kind';
import { niceTicks } from '../latent/view-scatter';
import { errorStats, type ErrorsPayload, type ErrorStats } from './contract';

const BINS = 40;
const MARGIN = { left: 44, right: 10, top: 30, bottom: 34 };

export class ErrorsView implements OutputView<ErrorsPayload> {
  readonly root: HTMLElement;
  private readonly titleEl: HTMLElement;
  private readonly info: HTMLElement;
  private readonly linearBtn: HTMLButtonElement;
  private readonly logBtn: HTMLButtonElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly readout: HTMLElement;
  private readonly threshold: HTMLElement;
  private readonly classTable: HTMLElement;
  private readonly images: ImagesView;
  private readonly live: HTMLElement;
  private readonly resizeObserver?: ResizeObserver;
  private payload?: ErrorsPayload;
  private errors: Float32Array = new Float32Array(0);
  private stats?: ErrorStats;
  private counts: number[] = [];
  private lo = 0;
  private hi = 1;
  private log = false;
  private hoverBin = -1;
  private kbBin = -1;
  private cut = NaN;
  private width = 0;
  private readonly height = 200;

  constructor(host: ViewHost) {
    const titleId = uniqueId('errors');
    this.root = h('section', { class: 'aenb-root aenb-errors', 'aria-labelledby': titleId });
    this.titleEl = h('h3', { class: 'aenb-title', id: titleId }, 'Reconstruction errors');
    this.info = h('span', { class: 'aenb-muted aenb-info' });
    this.linearBtn = h('button', { type: 'button', class: 'aenb-seg', 'aria-pressed': 'true' }, 'Linear');
    this.logBtn = h('button', { type: 'button', class: 'aenb-seg', 'aria-pressed': 'false' }, 'Log');
    this.root.append(
      h(
        'header',
        { class: 'aenb-header' },
        this.titleEl,
        this.info,
        h('span', { class: 'aenb-spacer' }),
        h('div', { class: 'aenb-segmented', role: 'group', 'aria-label': 'Count axis scale' }, this.linearBtn, this.logBtn),
      ),
    );
    this.canvas = h('canvas', { class: 'aenb-errors-hist', tabindex: 0, role: 'application', 'aria-roledescription': 'histogram' });
    this.readout = h('p', { class: 'aenb-errors-readout', 'aria-hidden': 'true' }, '\u00a0');
    this.threshold = h('p', { class: 'aenb-errors-threshold' });
    this.classTable = h('div', { class: 'aenb-table-scroll' });
    this.images = new ImagesView(host);
    this.live = h('div', { class: 'aenb-sr-only', 'aria-live': 'polite' });
    this.root.append(this.canvas, this.readout, this.threshold, this.classTable, this.images.root, this.live);

    this.linearBtn.addEventListener('click', () => this.setLog(false));
    this.logBtn.addEventListener('click', () => this.setLog(true));
    this.canvas.addEventListener('pointermove', (e) => this.setHover(this.binAt(e)));
    this.canvas.addEventListener('pointerleave', () => this.setHover(-1));
    this.canvas.addEventListener('click', (e) => {
      const b = this.binAt(e);
      if (b >= 0) this.setCut(this.edge(b));
    });
    this.canvas.addEventListener('keydown', (e) => this.onKey(e));
    if (typeof ResizeObserver !== 'undefined') {
      this.resizeObserver = new ResizeObserver(() => this.resize());
      this.resizeObserver.observe(this.root);
    }
  }

  update(p: ErrorsPayload): void {
    this.payload = p;
    this.errors = decodeFloat32(p.errors).subarray(0, p.count);
    const st = errorStats(this.errors);
    this.stats = st;
    this.lo = Number.isFinite(st.min) ? st.min : 0;
    this.hi = Number.isFinite(st.max) && st.max > this.lo ? st.max : this.lo + 1;
    this.counts = new Array<number>(BINS).fill(0);
    for (const e of this.errors) if (!Number.isNaN(e)) this.counts[this.binOf(e)]++;
    if (!Number.isFinite(this.cut)) this.cut = st.p95;
    setText(this.titleEl, p.title ?? 'Reconstruction errors');
    setText(this.info, `${formatCount(p.count)} ${p.subject ?? 'images'} · mean squared error${p.against === 'targets' ? ' against the targets' : ''}: mean ${formatMetric(st.mean)}, median ${formatMetric(st.median)}, max ${formatMetric(st.max)}`);
    this.canvas.setAttribute(
      'aria-label',
      `Histogram of the reconstruction error of ${formatCount(p.count)} ${p.subject ?? 'images'}, from ${formatMetric(st.min)} to ${formatMetric(st.max)}; ` +
        `mean ${formatMetric(st.mean)}, median ${formatMetric(st.median)}, 95th percentile ${formatMetric(st.p95)}. Arrow keys read the bars, Enter sets the threshold.`,
    );
    this.buildClassTable();
    this.images.update(this.examples(p));
    this.resize();
    this.updateThreshold();
  }

  dispose(): void {
    this.resizeObserver?.disconnect();
    this.images.dispose();
  }

  refreshTheme(): void {
    this.draw();
    this.images.refreshTheme?.();
  }

  private examples(p: ErrorsPayload): ImagesPayload {
    const name = (l: number | undefined) => (l !== undefined && p.classNames ? ` · ${p.classNames[l]}` : '');
    const img = (data: string, caption: string, alt: string): ImageData8 => ({ width: p.image.width, height: p.image.height, ...(p.image.channels === 3 ? { channels: 3 as const } : {}), data, caption, alt });
    const rows: ImagesPayload['rows'] = [];
    for (const [title, list] of [['Worst', p.worst], ['Best', p.best]] as const) {
      if (!list.length) continue;
      rows.push({ title: `${title}: image`, images: list.map((e) => img(e.original, `#${e.index}${name(e.label)}`, `${title} image #${e.index}${name(e.label)}`)) });
      rows.push({ title: `${title}: rebuilt`, images: list.map((e) => img(e.reconstruction, `mse ${formatMetric(e.error)}`, `Reconstruction of #${e.index}, error ${formatMetric(e.error)}${e.target ? ' against its target' : ''}`)) });
      if (list.every((e) => e.target)) rows.push({ title: `${title}: target`, images: list.map((e) => img(e.target!, `#${e.index}`, `Target of #${e.index}, the image the output is scored against`)) });
    }
    return { version: 1, title: `The ${p.worst.length} worst and ${p.best.length} best rebuilt ${p.subject ?? 'images'}`, rows, ...(p.colormap ? { colormap: p.colormap } : {}) };
  }

  private buildClassTable(): void {
    const p = this.payload!;
    if (!p.labels || !p.classNames) {
      this.classTable.replaceChildren();
      return;
    }
    const k = p.classNames.length;
    const sum = new Array<number>(k).fill(0);
    const n = new Array<number>(k).fill(0);
    const worst = new Array<number>(k).fill(-Infinity);
    p.labels.forEach((l, i) => {
      const e = this.errors[i];
      if (Number.isNaN(e)) return;
      sum[l] += e;
      n[l]++;
      worst[l] = Math.max(worst[l], e);
    });
    const rows = p.classNames.map((name, c) => ({ name, n: n[c], mean: n[c] ? sum[c] / n[c] : NaN, worst: worst[c] })).filter((r) => r.n > 0).sort((a, b) => b.mean - a.mean);
    const top = Math.max(...rows.map((r) => r.mean));
    const table = h(
      'table',
      { class: 'aenb-table aenb-errors-classes' },
      h('caption', {}, 'Mean error by class, highest first: the classes the model rebuilds worst'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Class'), h('th', { scope: 'col', class: 'aenb-num' }, 'Images'), h('th', { scope: 'col', class: 'aenb-num' }, 'Mean error'), h('th', { scope: 'col', class: 'aenb-num' }, 'Worst'), h('th', { scope: 'col', class: 'aenb-bar-col' }, h('span', { class: 'aenb-sr-only' }, 'Relative mean error')))),
      h(
        'tbody',
        {},
        ...rows.map((r) =>
          h(
            'tr',
            {},
            h('th', { scope: 'row' }, r.name),
            h('td', { class: 'aenb-num' }, formatCount(r.n)),
            h('td', { class: 'aenb-num' }, formatMetric(r.mean)),
            h('td', { class: 'aenb-num' }, formatMetric(r.worst)),
            h('td', { class: 'aenb-bar-col', 'aria-hidden': 'true' }, h('span', { class: 'aenb-param-bar' }, h('span', { class: 'aenb-param-own', style: `width: ${top > 0 ? (100 * r.mean) / top : 0}%` }))),
          ),
        ),
      ),
    );
    this.classTable.replaceChildren(table);
  }

  // ---------------------------------------------------------------------------
  // Histogram

  private binOf(e: number): number {
    return Math.max(0, Math.min(BINS - 1, Math.floor(((e - this.lo) / (this.hi - this.lo)) * BINS)));
  }

  private edge(b: number): number {
    return this.lo + ((this.hi - this.lo) * b) / BINS;
  }

  private box() {
    return { x: MARGIN.left, y: MARGIN.top, w: Math.max(20, this.width - MARGIN.left - MARGIN.right), h: this.height - MARGIN.top - MARGIN.bottom };
  }

  private binAt(e: MouseEvent): number {
    const rect = this.canvas.getBoundingClientRect();
    const x = ((e.clientX - rect.left) * this.width) / (rect.width || 1);
    const box = this.box();
    const b = Math.floor(((x - box.x) / box.w) * BINS);
    return b >= 0 && b < BINS ? b : -1;
  }

  private resize(): void {
    const w = Math.max(280, Math.min(900, this.root.clientWidth || 700));
    const dpr = typeof devicePixelRatio === 'number' && devicePixelRatio > 0 ? devicePixelRatio : 1;
    this.width = w;
    this.canvas.width = Math.round(w * dpr);
    this.canvas.height = Math.round(this.height * dpr);
    this.canvas.style.width = `${w}px`;
    this.canvas.style.height = `${this.height}px`;
    this.draw();
  }

  private setLog(log: boolean): void {
    this.log = log;
    setAttr(this.linearBtn, 'aria-pressed', String(!log));
    setAttr(this.logBtn, 'aria-pressed', String(log));
    this.draw();
  }

  private setHover(b: number): void {
    if (b === this.hoverBin) return;
    this.hoverBin = b;
    this.draw();
    setText(this.readout, b >= 0 ? this.binText(b) : '\u00a0');
  }

  private binText(b: number): string {
    const n = this.counts[b];
    const total = this.payload?.count ?? 1;
    return `${formatMetric(this.edge(b))} to ${formatMetric(this.edge(b + 1))}: ${formatCount(n)} image${n === 1 ? '' : 's'} (${((100 * n) / total).toFixed(1)}%)`;
  }

  private setCut(v: number): void {
    this.cut = v;
    this.draw();
    this.updateThreshold();
    setText(this.live, this.threshold.textContent ?? '');
  }

  private updateThreshold(): void {
    const p = this.payload;
    if (!p || !this.stats) return;
    let above = 0;
    for (const e of this.errors) if (e >= this.cut) above++;
    const isP95 = Math.abs(this.cut - this.stats.p95) < 1e-12;
    setText(
      this.threshold,
      `${formatCount(above)} of ${formatCount(p.count)} (${((100 * above) / p.count).toFixed(1)}%) have an error of ${formatMetric(this.cut)} or more` +
        `${isP95 ? ' (the 95th percentile)' : ''}: with this threshold, the autoencoder would flag them as unusual. Click a bar to move it.`,
    );
    this.root.dataset.threshold = String(this.cut);
    this.root.dataset.above = String(above);
  }

  private onKey(e: KeyboardEvent): void {
    if (e.key === 'ArrowRight' || e.key === 'ArrowLeft' || e.key === 'Home' || e.key === 'End') {
      e.preventDefault();
      const cur = this.kbBin < 0 ? this.binOf(this.cut) : this.kbBin;
      this.kbBin = e.key === 'Home' ? 0 : e.key === 'End' ? BINS - 1 : Math.max(0, Math.min(BINS - 1, cur + (e.key === 'ArrowRight' ? 1 : -1)));
      this.draw();
      const t = this.binText(this.kbBin);
      setText(this.readout, t);
      setText(this.live, t);
    } else if ((e.key === 'Enter' || e.key === ' ') && this.kbBin >= 0) {
      e.preventDefault();
      this.setCut(this.edge(this.kbBin));
    }
  }

  private draw(): void {
    const ctx = this.canvas.getContext('2d');
    if (!ctx || !this.payload || !this.stats || this.width === 0) return;
    const dpr = this.canvas.width / this.width;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, this.width, this.height);
    const el = this.root;
    const fg = cssColor(el, '--aenb-fg', '#333');
    const muted = cssColor(el, '--aenb-muted', '#777');
    const grid = cssColor(el, '--aenb-grid', 'rgba(128,128,128,0.5)');
    const bar = cssColor(el, '--aenb-c1', '#1a85ff');
    const hot = cssColor(el, '--aenb-c5', '#e51400');
    const focus = cssColor(el, '--aenb-focus', '#0078d4');
    const font = getComputedStyle(el).fontFamily || 'sans-serif';
    const box = this.box();
    const max = Math.max(1, ...this.counts);
    const y = (n: number) => box.y + box.h - (this.log ? (n > 0 ? (Math.log10(n) + 1) / (Math.log10(max) + 1) : 0) : n / max) * box.h;
    const x = (v: number) => box.x + ((v - this.lo) / (this.hi - this.lo)) * box.w;
    // axes
    ctx.font = `11px ${font}`;
    ctx.fillStyle = muted;
    ctx.strokeStyle = grid;
    ctx.lineWidth = 1;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    for (const v of niceTicks(this.lo, this.hi, Math.max(2, Math.round(box.w / 110)))) {
      ctx.fillText(formatMetric(v), x(v), box.y + box.h + 4);
    }
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    const yTicks = this.log ? [1, 10, 100, 1000, 10000, 100000].filter((v) => v <= max) : niceTicks(0, max, 4).filter((v) => Number.isInteger(v));
    for (const v of yTicks) {
      ctx.globalAlpha = 0.35;
      ctx.beginPath();
      ctx.moveTo(box.x, Math.round(y(v)) + 0.5);
      ctx.lineTo(box.x + box.w, Math.round(y(v)) + 0.5);
      ctx.stroke();
      ctx.globalAlpha = 1;
      ctx.fillText(formatCount(v), box.x - 5, y(v));
    }
    ctx.fillStyle = fg;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'bottom';
    ctx.font = `12px ${font}`;
    ctx.fillText('mean squared error per image', box.x + box.w / 2, this.height - 1);
    // bars
    const bw = box.w / BINS;
    this.counts.forEach((n, b) => {
      if (!n) return;
      ctx.fillStyle = this.edge(b) >= this.cut - 1e-15 ? hot : bar;
      ctx.globalAlpha = b === this.hoverBin ? 1 : 0.8;
      const top = y(n);
      ctx.fillRect(box.x + b * bw + 0.5, top, Math.max(1, bw - 1), box.y + box.h - top);
    });
    ctx.globalAlpha = 1;
    if (this.kbBin >= 0) {
      ctx.strokeStyle = focus;
      ctx.setLineDash([3, 2]);
      ctx.strokeRect(box.x + this.kbBin * bw + 0.5, box.y, Math.max(1, bw - 1), box.h);
      ctx.setLineDash([]);
    }
    // baseline and markers
    ctx.strokeStyle = grid;
    ctx.beginPath();
    ctx.moveTo(box.x, box.y + box.h + 0.5);
    ctx.lineTo(box.x + box.w, box.y + box.h + 0.5);
    ctx.stroke();
    const st = this.stats;
    const marks: [number, string, number[]][] = [
      [st.median, 'median', [2, 3]],
      [st.mean, 'mean', [6, 3]],
      [this.cut, 'threshold', []],
    ];
    ctx.font = `11px ${font}`;
    // labels on two rows above the plot, so that close markers stay readable
    const rowEnd = [-Infinity, -Infinity];
    for (const [v, label, dash] of marks.sort((a, b) => a[0] - b[0])) {
      if (!Number.isFinite(v)) continue;
      const sx = Math.round(x(v)) + 0.5;
      ctx.strokeStyle = label === 'threshold' ? hot : fg;
      ctx.setLineDash(dash);
      ctx.lineWidth = label === 'threshold' ? 2 : 1;
      ctx.beginPath();
      ctx.moveTo(sx, box.y - 2);
      ctx.lineTo(sx, box.y + box.h);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = label === 'threshold' ? hot : fg;
      ctx.textAlign = 'left';
      ctx.textBaseline = 'bottom';
      const w = ctx.measureText(label).width;
      const lx = Math.min(sx + 3, this.width - w - 2);
      const row = rowEnd[0] + 4 <= lx ? 0 : 1;
      ctx.fillText(label, lx, box.y - 3 - row * 13);
      if (row === 1) {
        // a short leader from the label down to the line
        ctx.beginPath();
        ctx.moveTo(sx, box.y - 15);
        ctx.lineTo(sx, box.y - 2);
        ctx.stroke();
      }
      rowEnd[row] = lx + w;
    }
    ctx.lineWidth = 1;
  }
}

export const view: ViewPart<ErrorsPayload> = { create: (host) => new ErrorsView(host) };
