// One job, hence one file of over 400 lines: the training output's view (its
// chart, legend, progress and Stop share one state and one update path).
// Training history and live progress: a uPlot chart of per-epoch series
// (loss, val_loss, metrics) and optional per-batch loss, a legend that doubles
// as hover read-out and series toggles, a linear/log switch, zoom (drag;
// double-click or "Reset zoom" to undo), keyboard navigation over epochs, and
// while training a progress bar, counters, throughput, ETA and a Stop button.
// Live updates go through `update()`: the chart instance and its element stay.
import { logRange, logTickLabels } from './log-axis';
import uPlot from 'uplot';
import { formatCount, formatDuration, formatMetric } from '../../common/formatting';
import { cssColor, cssVar, h, setAttr, setText, uniqueId } from '../../../renderers/dom';
import type { OutputView, ViewHost, ViewPart } from '../kind';
import { type TrainingPayload, decodeBatchSeries, historyLength, interruptedText, seriesNames } from './contract';
import { decimateForView } from './decimate';

interface Palette {
  fg: string;
  muted: string;
  grid: string;
  series: string[];
  font: string;
}

interface SeriesDef {
  key: string; // history key, or "batch:<metric>"
  label: string;
  kind: 'epoch' | 'batch';
  scale: 'y' | 'm';
  colorIndex: number;
  dash?: number[];
}

const BATCH_PREFIX = 'batch:';

function readPalette(el: Element): Palette {
  const series = [1, 2, 3, 4, 5, 6].map((i) => cssColor(el, `--aenb-c${i}`, ['#1a85ff', '#d18616', '#388a34', '#652d90', '#e51400', '#bf8803'][i - 1]));
  const family = cssVar(el, '--aenb-font-family', 'system-ui, sans-serif');
  return {
    fg: cssColor(el, '--aenb-fg', '#333333'),
    muted: cssColor(el, '--aenb-muted', '#717171'),
    grid: withAlpha(cssColor(el, '--aenb-grid', 'rgba(128,128,128,0.5)'), 0.4),
    series,
    font: family,
  };
}

/** Multiplies the alpha of an rgb()/rgba() color (grid lines are lighter than theme lines). */
function withAlpha(color: string, f: number): string {
  const m = /^rgba?\(([^)]+)\)$/.exec(color.trim());
  if (!m) return color;
  const parts = m[1].split(/[,\s/]+/).filter(Boolean).map(Number);
  if (parts.length < 3 || parts.some((v) => Number.isNaN(v))) return color;
  const a = (parts[3] ?? 1) * f;
  return `rgba(${parts[0]}, ${parts[1]}, ${parts[2]}, ${a.toFixed(3)})`;
}

/** Accuracy-like metrics go on a 0..1 axis on the right; everything else shares the loss axis. */
function scaleOf(name: string): 'y' | 'm' {
  return /acc|precision|recall|auc|f1|iou/i.test(name) ? 'm' : 'y';
}

/** A tick label with up to 4 significant digits, without float noise. */
function tickLabel(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-4) return v.toExponential(1).replace('e+', 'e');
  return String(Number(v.toPrecision(4)));
}

function epochLabel(x: number, batchesPerEpoch: number): string {
  if (Math.abs(x - Math.round(x)) < 1e-6) return `Epoch ${Math.round(x)}`;
  const e = Math.floor(x);
  const b = Math.round((x - e) * batchesPerEpoch);
  return `Epoch ${e + 1}, batch ${formatCount(b)}/${formatCount(batchesPerEpoch)}`;
}

export class TrainingView implements OutputView<TrainingPayload> {
  readonly root: HTMLElement;
  private readonly titleEl: HTMLElement;
  private readonly badge: HTMLElement;
  private readonly linearBtn: HTMLButtonElement;
  private readonly logBtn: HTMLButtonElement;
  private readonly resetBtn: HTMLButtonElement;
  private readonly progress: HTMLElement;
  private readonly bar: HTMLElement;
  private readonly barFill: HTMLElement;
  private readonly epochFill: HTMLElement;
  private readonly stats: { epoch: HTMLElement; batch: HTMLElement; speed: HTMLElement; eta: HTMLElement; elapsed: HTMLElement };
  private readonly stopBtn: HTMLButtonElement;
  private readonly stopLabel: HTMLElement;
  private readonly statusLine: HTMLElement;
  /** Where the run resumed from and the last checkpoint written. */
  private readonly eventsLine: HTMLElement;
  private readonly errorBox: HTMLElement;
  /** Stable element that hosts the uPlot instance. */
  readonly chartEl: HTMLElement;
  private readonly legend: HTMLElement;
  private readonly readout: HTMLElement;
  private readonly live: HTMLElement;
  private readonly empty: HTMLElement;

  private payload?: TrainingPayload;
  private plot?: uPlot;
  private defs: SeriesDef[] = [];
  private legendItems = new Map<string, { button: HTMLButtonElement; value: HTMLElement }>();
  private hidden = new Set<string>();
  private log = false;
  private xRange: [number, number] | null = null;
  private batchData: { x: Float64Array; y: Float32Array } = { x: new Float64Array(0), y: new Float32Array(0) };
  private batchKey = '';
  private palette: Palette;
  private width = 0;
  private kbEpoch = -1;
  private stopping = false;
  private applying = false;
  private readonly resizeObserver?: ResizeObserver;
  private showPoints = true;
  /** Number of points handed to uPlot in the last draw (for tests and the benchmark). */
  drawnPoints = 0;

  constructor(private readonly host: ViewHost) {
    const titleId = uniqueId('title');
    this.root = h('section', { class: 'aenb-root aenb-training', 'aria-labelledby': titleId });
    this.palette = { fg: '#333', muted: '#777', grid: '#ddd', series: [], font: 'sans-serif' };

    this.titleEl = h('h3', { class: 'aenb-title', id: titleId }, 'Training');
    this.badge = h('span', { class: 'aenb-badge', role: 'status' });
    this.linearBtn = h('button', { type: 'button', class: 'aenb-seg', 'aria-pressed': 'true' }, 'Linear');
    this.logBtn = h('button', { type: 'button', class: 'aenb-seg', 'aria-pressed': 'false' }, 'Log');
    this.resetBtn = h('button', { type: 'button', class: 'aenb-btn', disabled: true, title: 'Show all epochs (or double-click the chart)' }, 'Reset zoom');
    const scaleGroup = h('div', { class: 'aenb-segmented', role: 'group', 'aria-label': 'Y axis scale' }, this.linearBtn, this.logBtn);
    this.root.append(h('header', { class: 'aenb-header' }, this.titleEl, this.badge, h('span', { class: 'aenb-spacer' }), scaleGroup, this.resetBtn));

    this.barFill = h('div', { class: 'aenb-bar-fill' });
    this.epochFill = h('div', { class: 'aenb-bar-epoch' });
    this.bar = h('div', { class: 'aenb-bar', role: 'progressbar', 'aria-label': 'Training progress', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': 0 }, this.barFill);
    const stat = (label: string, cls: string) => {
      const value = h('span', { class: 'aenb-stat-value' });
      return { el: h('span', { class: `aenb-stat ${cls}` }, h('span', { class: 'aenb-stat-label' }, label), value), value };
    };
    const sEpoch = stat('Epoch', 'aenb-stat-epoch');
    const sBatch = stat('Batch', 'aenb-stat-batch');
    sBatch.el.append(h('span', { class: 'aenb-mini-bar', 'aria-hidden': 'true' }, this.epochFill));
    const sSpeed = stat('Samples/s', 'aenb-stat-speed');
    const sEta = stat('ETA', 'aenb-stat-eta');
    const sElapsed = stat('Elapsed', 'aenb-stat-elapsed');
    this.stats = { epoch: sEpoch.value, batch: sBatch.value, speed: sSpeed.value, eta: sEta.value, elapsed: sElapsed.value };
    this.stopLabel = h('span', {}, 'Stop');
    this.stopBtn = h('button', { type: 'button', class: 'aenb-btn aenb-stop' }, h('span', { class: 'aenb-stop-icon', 'aria-hidden': 'true' }), this.stopLabel);
    this.progress = h(
      'div',
      { class: 'aenb-progress' },
      this.bar,
      h('div', { class: 'aenb-stats' }, sEpoch.el, sBatch.el, sSpeed.el, sEta.el, sElapsed.el, h('span', { class: 'aenb-spacer' }), this.stopBtn),
    );
    this.statusLine = h('p', { class: 'aenb-status-line' });
    this.eventsLine = h('p', { class: 'aenb-events', hidden: true });
    this.errorBox = h('p', { class: 'aenb-error', role: 'alert', hidden: true });
    this.root.append(this.progress, this.statusLine, this.eventsLine, this.errorBox);

    this.chartEl = h('div', { class: 'aenb-chart', tabindex: 0, role: 'img', 'aria-roledescription': 'chart' });
    this.empty = h('p', { class: 'aenb-empty' }, 'Waiting for the first batch…');
    this.readout = h('span', { class: 'aenb-readout', 'aria-hidden': 'true' });
    this.legend = h('div', { class: 'aenb-legend', role: 'group', 'aria-label': 'Series (toggle to show or hide)' }, this.readout);
    this.live = h('div', { class: 'aenb-sr-only', 'aria-live': 'polite' });
    this.root.append(this.chartEl, this.empty, this.legend, this.live);

    this.linearBtn.addEventListener('click', () => this.setLog(false));
    this.logBtn.addEventListener('click', () => this.setLog(true));
    this.resetBtn.addEventListener('click', () => this.resetZoom());
    this.stopBtn.addEventListener('click', () => this.stop());
    this.chartEl.addEventListener('keydown', (e) => this.onKey(e));
    this.chartEl.addEventListener('blur', () => {
      this.kbEpoch = -1;
    });

    if (typeof ResizeObserver !== 'undefined') {
      this.resizeObserver = new ResizeObserver(() => this.onResize());
      this.resizeObserver.observe(this.root);
    }
  }

  get runId(): string | undefined {
    return this.payload?.runId;
  }

  /** Applies a new payload: the first call builds the chart, later calls update it in place. */
  update(p: TrainingPayload): void {
    const prev = this.payload;
    this.payload = p;
    if (prev && prev.runId !== p.runId) {
      this.xRange = null;
      this.stopping = false;
    }
    if (p.state !== 'running') this.stopping = false;
    this.palette = readPalette(this.root);
    this.updateHeader(p);
    this.updateProgress(p);

    const bKey = p.batches ? `${p.batches.count}:${p.batches.y.length}:${p.batches.y.slice(-16)}:${p.batches.x?.length ?? 0}` : '';
    if (bKey !== this.batchKey) {
      this.batchKey = bKey;
      this.batchData = p.batches ? decodeBatchSeries(p) : { x: new Float64Array(0), y: new Float32Array(0) };
    }
    const defs = this.seriesDefs(p);
    const hasData = defs.length > 0 && (historyLength(p.history) > 0 || this.batchData.x.length > 0);
    this.empty.hidden = hasData || p.state !== 'running';
    if (!hasData && p.state !== 'running') setText(this.empty, 'No training data.');
    this.chartEl.hidden = !hasData;
    this.legend.hidden = !hasData;
    if (!hasData) return;
    this.ensurePlot(defs);
    this.redrawData();
    this.updateLegend();
    this.updateAria();
  }

  dispose(): void {
    this.resizeObserver?.disconnect();
    this.plot?.destroy();
    this.plot = undefined;
  }

  /** Re-reads theme colors (VS Code theme change) and redraws. */
  refreshTheme(): void {
    this.palette = readPalette(this.root);
    this.updateLegendSwatches();
    if (this.plot) {
      this.plot.axes.forEach((a) => {
        a.font = a.labelFont = `12px ${this.palette.font}`;
      });
      this.plot.redraw(true, true);
    }
  }

  /** Host reply to the Stop button. */
  onInterruptAck(ok: boolean, message?: string): void {
    if (ok) return;
    this.stopping = false;
    if (this.payload) this.updateProgress(this.payload);
    this.errorBox.hidden = false;
    setText(this.errorBox, `Could not stop the run${message ? ': ' + message : '.'}`);
  }

  // ---------------------------------------------------------------------------
  // Header, progress, status

  private updateHeader(p: TrainingPayload): void {
    setText(this.titleEl, p.title ? p.title : 'Training');
    const label = p.state === 'stopped' && p.interrupted ? 'Interrupted' : { running: 'Training', done: 'Done', stopped: 'Stopped', error: 'Error' }[p.state];
    setText(this.badge, label);
    this.badge.className = `aenb-badge aenb-badge-${p.state}${p.state === 'stopped' && p.interrupted ? ' aenb-badge-interrupted' : ''}`;
  }

  private updateProgress(p: TrainingPayload): void {
    const running = p.state === 'running';
    const showProgress = running || p.state === 'stopped';
    this.progress.hidden = !showProgress;
    const epochs = Math.max(1, p.epochs);
    const bpe = Math.max(1, p.batchesPerEpoch);
    // Once a run has ended, `epoch` counts the epochs it reached; the batch counter no longer applies.
    const inEpoch = running && p.epoch < p.epochs ? Math.min(1, p.batch / bpe) : 0;
    const frac = Math.min(1, (p.epoch + inEpoch) / epochs);
    const pct = Math.round(frac * 1000) / 10;
    this.barFill.style.width = `${frac * 100}%`;
    this.epochFill.style.width = `${inEpoch * 100}%`;
    const current = running ? Math.min(p.epoch + 1, p.epochs) : Math.max(1, Math.min(p.epoch, p.epochs));
    setAttr(this.bar, 'aria-valuenow', String(pct));
    setAttr(this.bar, 'aria-valuetext', `${pct}%: epoch ${current} of ${p.epochs}, batch ${p.batch} of ${p.batchesPerEpoch}`);
    setText(this.stats.epoch, `${current}/${p.epochs}`);
    setText(this.stats.batch, running ? `${formatCount(p.batch)}/${formatCount(p.batchesPerEpoch)}` : `–/${formatCount(p.batchesPerEpoch)}`);
    setText(this.stats.speed, p.samplesPerSecond !== undefined && p.samplesPerSecond !== null ? formatCount(p.samplesPerSecond) : '–');
    setText(this.stats.eta, running ? formatDuration(p.etaSeconds) : '–');
    setText(this.stats.elapsed, formatDuration(p.elapsedSeconds));

    const canStop = running && typeof this.host.request === 'function';
    this.stopBtn.hidden = !running;
    this.stopBtn.disabled = !canStop || this.stopping;
    this.stopBtn.title = !this.host.request ? 'Stopping needs the extension (not available here)' : this.stopping ? 'Stop requested' : 'Stop training after the current batch';
    setText(this.stopLabel, this.stopping ? 'Stopping…' : 'Stop');
    this.stopBtn.setAttribute('aria-label', this.stopping ? 'Stopping training' : 'Stop training');

    this.errorBox.hidden = p.state !== 'error';
    if (p.state === 'error') setText(this.errorBox, `Training failed${p.message ? ': ' + p.message : '.'}`);
    setText(this.statusLine, this.statusText(p));
    this.statusLine.hidden = this.statusLine.textContent === '';
    const events = p.events ?? [];
    const resumed = events.filter((e) => e.kind === 'resumed').pop();
    const saved = events.filter((e) => e.kind === 'checkpoint').pop();
    setText(this.eventsLine, [resumed?.message, saved?.message].filter(Boolean).join(' · '));
    this.eventsLine.hidden = this.eventsLine.textContent === '';
  }

  private statusText(p: TrainingPayload): string {
    if (p.state === 'running') return '';
    const n = historyLength(p.history);
    const parts: string[] = [];
    if (p.state === 'done') parts.push(`${n} epoch${n === 1 ? '' : 's'}`);
    if (p.state === 'stopped' && p.interrupted) parts.push(interruptedText(p));
    else if (p.state === 'stopped') parts.push(`Stopped after ${p.epoch} of ${p.epochs} epochs${p.message ? ` (${p.message})` : ''}`);
    if (p.elapsedSeconds !== undefined) parts.push(formatDuration(p.elapsedSeconds));
    for (const k of seriesNames(p.history)) {
      const s = p.history[k];
      if (s.length) parts.push(`${k} ${formatMetric(s[s.length - 1])}`);
    }
    const val = p.history['val_loss'];
    if (val && val.length > 1) {
      let best = -1;
      val.forEach((v, i) => {
        if (v !== null && (best < 0 || v < (val[best] as number))) best = i;
      });
      if (best >= 0) parts.push(`best val_loss ${formatMetric(val[best])} at epoch ${best + 1}`);
    }
    return parts.join(' · ');
  }

  private stop(): void {
    const p = this.payload;
    if (!p || p.state !== 'running' || !this.host.request || this.stopping) return;
    this.stopping = true;
    const runId = p.runId;
    void this.host.request('interrupt', { runId }, { timeoutMs: 15_000 }).then((r) => {
      if (this.runId === runId) this.onInterruptAck(r.ok, r.ok ? undefined : r.error.message);
    });
    this.updateProgress(p);
  }

  // ---------------------------------------------------------------------------
  // Chart

  /** Series in drawing order: the per-batch series first (underneath), then the epoch series. */
  private seriesDefs(p: TrainingPayload): SeriesDef[] {
    const defs: SeriesDef[] = [];
    if (this.batchData.x.length > 0) {
      const metric = p.batchMetric ?? 'loss';
      defs.push({ key: BATCH_PREFIX + metric, label: `${metric} per batch`, kind: 'batch', scale: scaleOf(metric), colorIndex: -1 });
    }
    const names = seriesNames(p.history).filter((k) => p.history[k].length > 0);
    // colors: a metric and its val_ twin share nothing; loss = c1, val_loss = c2, then in order
    let next = 2;
    for (const k of names) {
      const colorIndex = k === 'loss' ? 0 : k === 'val_loss' ? 1 : next++ % 6;
      defs.push({ key: k, label: k, kind: 'epoch', scale: scaleOf(k), colorIndex, dash: k.startsWith('val_') && k !== 'val_loss' ? [6, 3] : undefined });
    }
    return defs;
  }

  private xBounds(): [number, number] {
    const p = this.payload;
    if (!p) return [0, 1];
    const n = historyLength(p.history);
    const bx = this.batchData.x;
    const lo = bx.length > 0 ? 0 : 1;
    const hi = Math.max(p.epochs, n, bx.length ? bx[bx.length - 1] : 0, lo + 1);
    return [lo, hi];
  }

  private plotSize(): { width: number; height: number } {
    const w = Math.max(280, Math.floor(this.chartEl.clientWidth || this.root.clientWidth || 640));
    const height = Math.round(Math.min(340, Math.max(220, w * 0.4)));
    return { width: w, height };
  }

  private ensurePlot(defs: SeriesDef[]): void {
    const scalesOf = (d: SeriesDef[]) => [...new Set(d.map((s) => s.scale))].sort().join();
    const oldKeys = this.defs.map((d) => d.key);
    const kept = defs.map((d) => d.key).filter((k) => oldKeys.includes(k));
    const compatible = this.plot && scalesOf(defs) === scalesOf(this.defs) && kept.length === oldKeys.length && kept.every((k, i) => k === oldKeys[i]);
    if (this.plot && compatible) {
      // add series that appeared (e.g. val_loss after the first epoch) to the same chart, in place
      defs.forEach((d, k) => {
        if (!oldKeys.includes(d.key)) {
          this.defs.splice(k, 0, d);
          this.plot?.addSeries(this.seriesOpts(d), k + 1);
        }
      });
      this.syncLegendItems();
      return;
    }
    this.createPlot(defs);
  }

  /** Epoch series take the theme's chart colors; the noisy per-batch series a neutral tone underneath. */
  private colorOf(d: SeriesDef): string {
    return d.colorIndex < 0 ? this.palette.muted : (this.palette.series[d.colorIndex] ?? this.palette.fg);
  }

  private seriesOpts(d: SeriesDef): uPlot.Series {
    const color = () => this.colorOf(d);
    if (d.kind === 'batch') {
      return { label: d.label, scale: d.scale, stroke: color, width: 1, alpha: 0.4, spanGaps: true, points: { show: false }, show: !this.hidden.has(d.key) };
    }
    return {
      label: d.label,
      scale: d.scale,
      stroke: color,
      width: 2.25,
      dash: d.dash,
      spanGaps: true,
      show: !this.hidden.has(d.key),
      points: {
        // dots on epoch values while they are far enough apart (decided in redrawData)
        show: () => this.showPoints,
        size: 6,
        width: 1.5,
        fill: color,
        stroke: color,
      },
    };
  }

  private createPlot(defs: SeriesDef[]): void {
    // keep zoom and hidden series across re-creation (log toggle, new axis)
    this.plot?.destroy();
    this.defs = defs.slice();
    const { width, height } = this.plotSize();
    this.width = width;
    const pal = () => this.palette;
    const font = `12px ${this.palette.font}`;
    const axisSize = (u: uPlot, values: string[] | null, axisIdx: number) => {
      if (!values) return 40;
      u.ctx.font = font;
      const m = Math.max(0, ...values.map((v) => u.ctx.measureText(String(v)).width));
      return Math.ceil(m / uPlot.pxRatio) + (axisIdx === 0 ? 0 : 16);
    };
    const hasM = defs.some((d) => d.scale === 'm');
    const hasY = defs.some((d) => d.scale === 'y');
    const axes: uPlot.Axis[] = [
      {
        scale: 'x',
        label: 'Epoch',
        stroke: () => pal().fg,
        font,
        labelFont: font,
        labelSize: 20,
        gap: 4,
        size: 34,
        grid: { stroke: () => pal().grid, width: 1 },
        ticks: { stroke: () => pal().grid, width: 1, size: 5 },
        values: (_u, splits) => splits.map((v) => tickLabel(v)),
      },
    ];
    const yAxis = (scale: 'y' | 'm', label: string, side: 1 | 3, grid: boolean): uPlot.Axis => ({
      scale,
      label,
      side,
      stroke: () => pal().fg,
      font,
      labelFont: font,
      labelSize: 20,
      gap: 6,
      size: axisSize,
      grid: { show: grid, stroke: () => pal().grid, width: 1 },
      ticks: { stroke: () => pal().grid, width: 1, size: 5 },
      values: (_u, splits) => {
        const labels = this.log && scale === 'y' ? logTickLabels(splits, tickLabel) : splits.map((v) => (v === null || v === undefined ? '' : tickLabel(v)));
        // What the axis says, for tests and tools that cannot read the canvas.
        if (scale === 'y') this.chartEl.dataset.yLabels = labels.filter(Boolean).join(' ');
        return labels;
      },
    });
    if (hasY) axes.push(yAxis('y', 'Loss', 3, true));
    if (hasM) axes.push(yAxis('m', 'Metric', hasY ? 1 : 3, !hasY));
    const yScale: uPlot.Scale = this.log ? { distr: 3, log: 10, range: (_u, min, max) => logRange(min, max) } : { range: (_u, min, max) => this.linearRange(min, max) };
    const opts: uPlot.Options = {
      width,
      height,
      pxAlign: 0,
      legend: { show: false },
      padding: [12, 12, 0, 0],
      scales: {
        x: { time: false, range: (_u, min, max) => this.xRangeFor(min, max) },
        y: yScale,
        m: { range: (_u, min, max) => [Math.min(0, min), Math.max(1, max)] },
      },
      axes,
      series: [{ label: 'Epoch' }, ...defs.map((d) => this.seriesOpts(d))],
      cursor: {
        drag: { x: true, y: false, setScale: false },
        points: { size: 8, width: 2 },
        bind: {
          dblclick: (_u, _t, handler) => (e: MouseEvent) => {
            this.xRange = null;
            handler(e);
            this.afterZoom();
            return null;
          },
        },
      },
      hooks: {
        setSelect: [(u) => this.onSelect(u)],
        setCursor: [() => this.updateLegend()],
        setSeries: [() => this.updateLegend()],
        setScale: [
          (u, key) => {
            if (key !== 'x') return;
            this.chartEl.dataset.xMin = String(u.scales.x.min);
            this.chartEl.dataset.xMax = String(u.scales.x.max);
          },
        ],
      },
    };
    this.applying = true;
    try {
      this.plot = new uPlot(opts, [[]], this.chartEl);
    } finally {
      this.applying = false;
    }
    this.chartEl.dataset.scale = this.log ? 'log' : 'linear';
    this.syncLegendItems();
  }

  private linearRange(min: number, max: number): uPlot.Range.MinMax {
    if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
    if (min === max) return [min - Math.abs(min) * 0.1 - 1e-9, max + Math.abs(max) * 0.1 + 1e-9];
    const pad = (max - min) * 0.06;
    // losses are >= 0: do not pad below zero when the data does not go there
    const lo = min >= 0 ? Math.max(0, min - pad) : min - pad;
    return [lo, max + pad];
  }

  private xRangeFor(min: number, max: number): uPlot.Range.MinMax {
    if (this.xRange) return [this.xRange[0], this.xRange[1]];
    const [lo, hi] = this.xBounds();
    return [Math.min(lo, Number.isFinite(min) ? min : lo), Math.max(hi, Number.isFinite(max) ? max : hi)];
  }

  private onSelect(u: uPlot): void {
    const sel = u.select;
    if (sel.width < 3) return;
    const a = u.posToVal(sel.left, 'x');
    const b = u.posToVal(sel.left + sel.width, 'x');
    u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
    if (!(b > a)) return;
    this.xRange = [a, b];
    this.afterZoom();
  }

  private resetZoom(): void {
    this.xRange = null;
    this.afterZoom();
  }

  private afterZoom(): void {
    this.resetBtn.disabled = this.xRange === null;
    this.redrawData();
  }

  private setLog(log: boolean): void {
    if (log === this.log) return;
    this.log = log;
    this.linearBtn.setAttribute('aria-pressed', String(!log));
    this.logBtn.setAttribute('aria-pressed', String(log));
    if (this.plot) {
      this.createPlot(this.defs);
      this.redrawData();
      this.updateLegend();
    }
  }

  private onResize(): void {
    if (!this.plot) return;
    const size = this.plotSize();
    if (size.width === this.width && size.height === this.plot.height) return;
    this.width = size.width;
    this.plot.setSize(size);
    this.redrawData();
  }

  /** Builds the aligned data (decimated per-batch points + every epoch point) and hands it to uPlot. */
  private redrawData(): void {
    const u = this.plot;
    const p = this.payload;
    if (!u || !p) return;
    const [lo, hi] = this.xRange ?? this.xBounds();
    this.showPoints = hi > lo && (u.bbox.width / uPlot.pxRatio) / (hi - lo) >= 9;
    const bx = this.batchData.x;
    const by = this.batchData.y;
    const idx = bx.length ? decimateForView(bx, by, lo, hi, Math.max(100, u.bbox.width / uPlot.pxRatio)) : [];
    const n = historyLength(p.history);
    const xs: number[] = [];
    const cols: (number | undefined)[][] = this.defs.map(() => []);
    const epochCols = this.defs.map((d, i) => (d.kind === 'epoch' ? i : -1)).filter((i) => i >= 0);
    const batchCol = this.defs.findIndex((d) => d.kind === 'batch');
    let j = 0;
    const pushRow = (x: number) => {
      xs.push(x);
      for (const c of cols) c.push(undefined);
    };
    for (let e = 0; e <= n; e++) {
      const ex = e < n ? e + 1 : Infinity;
      while (j < idx.length && bx[idx[j]] < ex - 1e-9) {
        pushRow(bx[idx[j]]);
        if (batchCol >= 0) cols[batchCol][xs.length - 1] = by[idx[j]];
        j++;
      }
      if (e === n) break;
      pushRow(ex);
      const row = xs.length - 1;
      if (j < idx.length && Math.abs(bx[idx[j]] - ex) <= 1e-9) {
        if (batchCol >= 0) cols[batchCol][row] = by[idx[j]];
        j++;
      }
      for (const c of epochCols) {
        const v = p.history[this.defs[c].key]?.[e];
        cols[c][row] = v === null || v === undefined ? undefined : v;
      }
    }
    if (this.log) {
      // non-positive values cannot be drawn on a log axis
      for (const c of cols) for (let i = 0; i < c.length; i++) if (c[i] !== undefined && (c[i] as number) <= 0) c[i] = undefined;
    }
    this.drawnPoints = xs.length;
    this.chartEl.dataset.points = String(xs.length);
    this.chartEl.dataset.epochPoints = String(epochCols.length ? cols[epochCols[0]].filter((v) => v !== undefined).length : 0);
    this.applying = true;
    try {
      u.setData([xs, ...cols] as uPlot.AlignedData);
    } finally {
      this.applying = false;
    }
  }

  // ---------------------------------------------------------------------------
  // Legend and read-out

  private syncLegendItems(): void {
    const order = [...this.defs].sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'epoch' ? -1 : 1));
    for (const d of order) {
      let item = this.legendItems.get(d.key);
      if (!item) {
        const value = h('span', { class: 'aenb-legend-value' });
        const button = h(
          'button',
          { type: 'button', class: `aenb-legend-item aenb-legend-${d.kind}`, 'aria-pressed': String(!this.hidden.has(d.key)), 'data-series': d.key },
          h('span', { class: 'aenb-swatch', 'aria-hidden': 'true' }),
          h('span', { class: 'aenb-legend-name' }, d.label),
          value,
        );
        button.addEventListener('click', () => this.toggleSeries(d.key));
        item = { button, value };
        this.legendItems.set(d.key, item);
      }
      this.legend.appendChild(item.button);
    }
    this.updateLegendSwatches();
  }

  private updateLegendSwatches(): void {
    for (const d of this.defs) {
      const item = this.legendItems.get(d.key);
      const sw = item?.button.querySelector('.aenb-swatch') as HTMLElement | null;
      if (!sw) continue;
      sw.style.background = this.colorOf(d);
      sw.style.opacity = d.kind === 'batch' ? '0.6' : '1';
      sw.classList.toggle('aenb-swatch-dashed', !!d.dash);
    }
  }

  private toggleSeries(key: string): void {
    const i = this.defs.findIndex((d) => d.key === key);
    if (i < 0 || !this.plot) return;
    const show = this.hidden.has(key);
    if (show) this.hidden.delete(key);
    else this.hidden.add(key);
    this.legendItems.get(key)?.button.setAttribute('aria-pressed', String(show));
    this.plot.setSeries(i + 1, { show });
  }

  private updateLegend(): void {
    const u = this.plot;
    const p = this.payload;
    if (!u || !p) return;
    const idx = u.cursor.idx;
    const hovering = idx !== null && idx !== undefined && (u.cursor.left ?? -1) >= 0;
    const bpe = Math.max(1, p.batchesPerEpoch);
    this.defs.forEach((d, i) => {
      const item = this.legendItems.get(d.key);
      if (!item) return;
      let v: number | undefined;
      if (hovering) {
        const si = u.cursor.idxs?.[i + 1];
        v = si === null || si === undefined ? undefined : (u.data[i + 1][si] as number | undefined);
      } else if (d.kind === 'epoch') {
        const s = p.history[d.key] ?? [];
        v = s.length ? (s[s.length - 1] ?? NaN) : undefined;
      } else {
        const y = this.batchData.y;
        v = y.length ? y[y.length - 1] : undefined;
      }
      setText(item.value, v === undefined ? '–' : formatMetric(v));
    });
    if (hovering) {
      // the x of the nearest epoch point, else the cursor's own x
      const ei = this.defs.findIndex((d) => d.kind === 'epoch' && !this.hidden.has(d.key));
      const si = ei >= 0 ? u.cursor.idxs?.[ei + 1] : null;
      const x = si !== null && si !== undefined ? u.data[0][si] : u.data[0][idx as number];
      setText(this.readout, epochLabel(x, bpe));
    } else {
      const n = historyLength(p.history);
      setText(this.readout, n > 0 ? `Epoch ${n}` : p.state === 'running' ? `Epoch 1, batch ${formatCount(p.batch)}` : '');
    }
  }

  private updateAria(): void {
    const p = this.payload;
    if (!p) return;
    const n = historyLength(p.history);
    const parts = [`Loss chart, ${n} of ${p.epochs} epochs`];
    for (const k of seriesNames(p.history)) {
      const s = p.history[k];
      if (s.length) parts.push(`${k} from ${formatMetric(s[0])} to ${formatMetric(s[s.length - 1])}`);
    }
    if (this.batchData.x.length) parts.push(`${formatCount(this.batchData.x.length)} per-batch points`);
    parts.push('Use arrow keys to read epoch values');
    setAttr(this.chartEl, 'aria-label', parts.join('; '));
  }

  /** Arrow keys move a read-out over the epochs; Home/End jump; Escape leaves. */
  private onKey(e: KeyboardEvent): void {
    const u = this.plot;
    const p = this.payload;
    if (!u || !p) return;
    const n = historyLength(p.history);
    if (n === 0) return;
    let k = this.kbEpoch < 0 ? n - 1 : this.kbEpoch;
    switch (e.key) {
      case 'ArrowLeft':
        k = Math.max(0, this.kbEpoch < 0 ? n - 1 : k - 1);
        break;
      case 'ArrowRight':
        k = Math.min(n - 1, this.kbEpoch < 0 ? n - 1 : k + 1);
        break;
      case 'Home':
        k = 0;
        break;
      case 'End':
        k = n - 1;
        break;
      case 'Escape':
        this.kbEpoch = -1;
        u.setCursor({ left: -10, top: -10 });
        this.updateLegend();
        return;
      default:
        return;
    }
    e.preventDefault();
    this.kbEpoch = k;
    const x = k + 1;
    const def = this.defs.find((d) => d.kind === 'epoch' && !this.hidden.has(d.key)) ?? this.defs[0];
    const v = p.history[def.key]?.[k];
    const left = u.valToPos(x, 'x');
    const top = v !== null && v !== undefined && !(this.log && v <= 0) ? u.valToPos(v, def.scale) : u.bbox.height / uPlot.pxRatio / 2;
    if (left < 0 || left > u.bbox.width / uPlot.pxRatio) {
      // the epoch is outside the zoomed range: show everything
      this.xRange = null;
      this.afterZoom();
    }
    u.setCursor({ left: u.valToPos(x, 'x'), top });
    const readings = seriesNames(p.history).map((name) => `${name} ${formatMetric(p.history[name][k])}`);
    setText(this.live, `Epoch ${x}: ${readings.join(', ')}`);
  }
}

export const view: ViewPart<TrainingPayload> = { create: (host) => new TrainingView(host) };
