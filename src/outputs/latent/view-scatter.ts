// A canvas scatter plot for up to 10,000 points, drawn in two layers: the
// points (redrawn on zoom, pan, resize, class toggles) and an overlay (hover
// ring, keyboard cursor, picked points) that is cheap to redraw. Zoom with the
// wheel (once the map has focus, or with Ctrl) and the +/- keys, pan with
// Shift+drag, the middle button or Shift+arrows; pointer and keyboard events
// go to the owner as data coordinates.
import { cssColor } from '../../../renderers/dom';
import { extent } from './inverse';

export interface ScatterData {
  /** [count, 2] interleaved, data units (y up). */
  points: Float32Array;
  count: number;
  /** Class of each point (index into `colors`), or null for one colour. */
  classes: Uint8Array | null;
  colors: string[];
  /** Axis titles, e.g. "PC1 (23.4%)". */
  axisX: string;
  axisY: string;
  /** Draw tick values (PCA and raw codes have meaningful units; UMAP does not). */
  ticks: boolean;
}

export interface ScatterMarks {
  hover: number;
  keyboard: number;
  /** Picked positions, oldest first ("A", then "B"). */
  picks: { x: number; y: number }[];
  /** Positions along the way from A to B (PCA: the interpolated codes project onto the segment). */
  path?: { x: number; y: number }[];
}

export interface ScatterEvents {
  /** The pointer is over `index` (-1: none near), at data (x, y); null when it left. */
  hover(index: number, at: [number, number] | null): void;
  /** Button down ("start"), moved with it held ("move"), released ("end"); `index` is a point under the pointer or -1. */
  pick(x: number, y: number, index: number, phase: 'start' | 'move' | 'end'): void;
  /** Keyboard focus moved to a point (-1: none). */
  keyboardPoint(index: number): void;
  /** Enter or Space on the keyboard point. */
  keyboardPick(index: number): void;
  /** Keys the scatter does not handle (Escape...). */
  key?(e: KeyboardEvent): void;
}

interface View {
  cx: number;
  cy: number;
  /** CSS pixels per data unit (both axes: distances on the map are true). */
  k: number;
}

const MARGIN = { left: 46, right: 10, top: 10, bottom: 36 };
/** Screen distance (CSS px) within which the pointer is "on" a point. */
export const HIT_RADIUS = 7;

/** "Nice" tick values covering [lo, hi] (about `n` of them). */
export function niceTicks(lo: number, hi: number, n = 5): number[] {
  const span = hi - lo;
  if (!(span > 0) || !Number.isFinite(span)) return [];
  const raw = span / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

function tickText(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(1);
  return String(Number(v.toPrecision(4)));
}

export class Scatter {
  readonly element: HTMLElement;
  /** The focusable layer that takes pointer and keyboard input. */
  readonly overlay: HTMLCanvasElement;
  private readonly base: HTMLCanvasElement;
  private data: ScatterData = { points: new Float32Array(0), count: 0, classes: null, colors: [], axisX: '', axisY: '', ticks: false };
  /** Point indices grouped by class (drawn one class, one fill). */
  private order = new Int32Array(0);
  private classStart: number[] = [0];
  private hidden = new Set<number>();
  private marks: ScatterMarks = { hover: -1, keyboard: -1, picks: [] };
  private view: View = { cx: 0, cy: 0, k: 1 };
  private userView = false;
  private width = 0;
  private height = 0;
  private dpr = 1;
  private colors = { fg: '#333', muted: '#777', grid: 'rgba(128,128,128,0.3)', focus: '#0078d4', bg: '#fff' };
  private drag?: { mode: 'pan' | 'pick'; x: number; y: number; cx: number; cy: number; id: number };
  private pendingMove?: { x: number; y: number };
  private frame = 0;
  /** Milliseconds the last full draw took (for the benchmark and tests). */
  lastDrawMs = 0;
  /** Points drawn in the last full draw (visible and inside the plot). */
  drawnPoints = 0;

  constructor(private readonly events: ScatterEvents) {
    this.base = document.createElement('canvas');
    this.base.className = 'aenb-scatter-base';
    this.base.setAttribute('aria-hidden', 'true');
    this.overlay = document.createElement('canvas');
    this.overlay.className = 'aenb-scatter-overlay';
    this.overlay.tabIndex = 0;
    this.element = document.createElement('div');
    this.element.className = 'aenb-scatter';
    this.element.append(this.base, this.overlay);
    this.overlay.addEventListener('pointerdown', (e) => this.onDown(e));
    this.overlay.addEventListener('pointermove', (e) => this.onMove(e));
    this.overlay.addEventListener('pointerup', (e) => this.onUp(e));
    this.overlay.addEventListener('pointercancel', (e) => this.onUp(e));
    this.overlay.addEventListener('pointerleave', () => {
      if (!this.drag) this.events.hover(-1, null);
    });
    this.overlay.addEventListener('wheel', (e) => this.onWheel(e), { passive: false });
    this.overlay.addEventListener('dblclick', () => this.resetView());
    this.overlay.addEventListener('keydown', (e) => this.onKey(e));
    this.overlay.addEventListener('contextmenu', (e) => {
      if (this.drag) e.preventDefault();
    });
  }

  // ---------------------------------------------------------------------------
  // Data, size, view

  setData(data: ScatterData, keepView: boolean): void {
    this.data = data;
    const k = data.colors.length || 1;
    const counts = new Array<number>(k).fill(0);
    for (let i = 0; i < data.count; i++) counts[data.classes ? data.classes[i] : 0]++;
    this.classStart = [0];
    for (let c = 0; c < k; c++) this.classStart.push(this.classStart[c] + counts[c]);
    const fill = this.classStart.slice(0, k);
    this.order = new Int32Array(data.count);
    for (let i = 0; i < data.count; i++) this.order[fill[data.classes ? data.classes[i] : 0]++] = i;
    if (!keepView || !this.userView) this.fitView();
  }

  setHidden(hidden: Set<number>): void {
    this.hidden = new Set(hidden);
    this.draw();
  }

  isHidden(index: number): boolean {
    return this.hidden.has(this.data.classes ? this.data.classes[index] : 0);
  }

  setMarks(marks: Partial<ScatterMarks>): void {
    this.marks = { ...this.marks, ...marks };
    this.drawOverlay();
  }

  /** Sets the size in CSS pixels and redraws. */
  resize(width: number, height: number): void {
    const dpr = typeof devicePixelRatio === 'number' && devicePixelRatio > 0 ? devicePixelRatio : 1;
    if (width === this.width && height === this.height && dpr === this.dpr) return;
    this.width = Math.max(120, Math.round(width));
    this.height = Math.max(120, Math.round(height));
    this.dpr = dpr;
    for (const c of [this.base, this.overlay]) {
      c.width = Math.round(this.width * dpr);
      c.height = Math.round(this.height * dpr);
      c.style.width = `${this.width}px`;
      c.style.height = `${this.height}px`;
    }
    this.element.style.width = `${this.width}px`;
    this.element.style.height = `${this.height}px`;
    if (!this.userView) this.fitView();
    this.draw();
  }

  get size(): { width: number; height: number } {
    return { width: this.width, height: this.height };
  }

  get zoomed(): boolean {
    return this.userView;
  }

  private plotBox(): { x: number; y: number; w: number; h: number } {
    return { x: MARGIN.left, y: MARGIN.top, w: Math.max(10, this.width - MARGIN.left - MARGIN.right), h: Math.max(10, this.height - MARGIN.top - MARGIN.bottom) };
  }

  private fitView(): void {
    const [x0, x1, y0, y1] = extent(this.data.points, this.data.count);
    const box = this.plotBox();
    const pad = 0.06;
    const k = Math.min(box.w / ((x1 - x0) * (1 + 2 * pad)), box.h / ((y1 - y0) * (1 + 2 * pad)));
    this.view = { cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, k: Number.isFinite(k) && k > 0 ? k : 1 };
    this.userView = false;
  }

  resetView(): void {
    this.fitView();
    this.draw();
    this.events.hover(-1, null);
  }

  /** Zooms by `factor` keeping data point (x, y) (default: the centre) in place. */
  zoomBy(factor: number, x = this.view.cx, y = this.view.cy): void {
    const v = this.view;
    const k = Math.min(1e6, Math.max(1e-6, v.k * factor));
    const f = v.k / k;
    this.view = { cx: x + (v.cx - x) * f, cy: y + (v.cy - y) * f, k };
    this.userView = true;
    this.draw();
  }

  panBy(dxPx: number, dyPx: number): void {
    this.view = { ...this.view, cx: this.view.cx - dxPx / this.view.k, cy: this.view.cy + dyPx / this.view.k };
    this.userView = true;
    this.draw();
  }

  /** Data to CSS pixels. */
  toScreen(x: number, y: number): [number, number] {
    const box = this.plotBox();
    return [box.x + box.w / 2 + (x - this.view.cx) * this.view.k, box.y + box.h / 2 - (y - this.view.cy) * this.view.k];
  }

  /** CSS pixels (relative to the canvas) to data. */
  toData(sx: number, sy: number): [number, number] {
    const box = this.plotBox();
    return [this.view.cx + (sx - box.x - box.w / 2) / this.view.k, this.view.cy - (sy - box.y - box.h / 2) / this.view.k];
  }

  /** The visible data range [x0, x1, y0, y1] of the plot area. */
  visibleRange(): [number, number, number, number] {
    const box = this.plotBox();
    const [x0, y1] = this.toData(box.x, box.y);
    const [x1, y0] = this.toData(box.x + box.w, box.y + box.h);
    return [x0, x1, y0, y1];
  }

  /** The visible point nearest to screen (sx, sy) within `radius` CSS px, or -1. */
  hit(sx: number, sy: number, radius = HIT_RADIUS): number {
    const [x, y] = this.toData(sx, sy);
    const r = radius / this.view.k;
    let best = -1;
    let bestD = r * r;
    const p = this.data.points;
    for (let i = 0; i < this.data.count; i++) {
      const dx = p[2 * i] - x;
      if (dx > r || dx < -r) continue;
      const dy = p[2 * i + 1] - y;
      const d = dx * dx + dy * dy;
      if (d <= bestD && !this.isHidden(i)) {
        bestD = d;
        best = i;
      }
    }
    return best;
  }

  refreshTheme(): void {
    const el = this.element;
    this.colors = {
      fg: cssColor(el, '--aenb-fg', '#333333'),
      muted: cssColor(el, '--aenb-muted', '#717171'),
      grid: cssColor(el, '--aenb-grid', 'rgba(128, 128, 128, 0.5)'),
      focus: cssColor(el, '--aenb-focus', '#0078d4'),
      bg: cssColor(el, '--vscode-editor-background', '#ffffff'),
    };
    this.draw();
  }

  // ---------------------------------------------------------------------------
  // Drawing

  private pointRadius(): number {
    const n = this.data.count;
    return n <= 1500 ? 3 : n <= 4000 ? 2.5 : 2;
  }

  draw(): void {
    const t0 = performance.now();
    const ctx = this.base.getContext('2d');
    if (!ctx || this.width === 0) return;
    const { fg, muted, grid } = this.colors;
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.clearRect(0, 0, this.width, this.height);
    const box = this.plotBox();
    const font = getComputedStyle(this.element).fontFamily || 'sans-serif';
    ctx.font = `11px ${font}`;
    // ticks and grid
    const [vx0, vx1, vy0, vy1] = this.visibleRange();
    ctx.lineWidth = 1;
    if (this.data.ticks) {
      ctx.strokeStyle = grid;
      ctx.globalAlpha = 0.35;
      ctx.fillStyle = muted;
      const xt = niceTicks(vx0, vx1, Math.max(2, Math.round(box.w / 90)));
      const yt = niceTicks(vy0, vy1, Math.max(2, Math.round(box.h / 70)));
      ctx.beginPath();
      for (const v of xt) {
        const sx = Math.round(this.toScreen(v, 0)[0]) + 0.5;
        ctx.moveTo(sx, box.y);
        ctx.lineTo(sx, box.y + box.h);
      }
      for (const v of yt) {
        const sy = Math.round(this.toScreen(0, v)[1]) + 0.5;
        ctx.moveTo(box.x, sy);
        ctx.lineTo(box.x + box.w, sy);
      }
      ctx.stroke();
      ctx.globalAlpha = 1;
      ctx.textAlign = 'center';
      ctx.textBaseline = 'top';
      for (const v of xt) ctx.fillText(tickText(v), this.toScreen(v, 0)[0], box.y + box.h + 4);
      ctx.textAlign = 'right';
      ctx.textBaseline = 'middle';
      for (const v of yt) ctx.fillText(tickText(v), box.x - 5, this.toScreen(0, v)[1]);
    }
    // frame
    ctx.strokeStyle = grid;
    ctx.strokeRect(box.x + 0.5, box.y + 0.5, box.w - 1, box.h - 1);
    // axis titles
    ctx.fillStyle = fg;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'bottom';
    ctx.font = `12px ${font}`;
    ctx.fillText(this.data.axisX, box.x + box.w / 2, this.height - 2);
    ctx.save();
    ctx.translate(12, box.y + box.h / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = 'middle';
    ctx.fillText(this.data.axisY, 0, 0);
    ctx.restore();
    // points, one path per class
    ctx.save();
    ctx.beginPath();
    ctx.rect(box.x, box.y, box.w, box.h);
    ctx.clip();
    const r = this.pointRadius();
    const p = this.data.points;
    const cx = box.x + box.w / 2;
    const cy = box.y + box.h / 2;
    const { k } = this.view;
    const vcx = this.view.cx;
    const vcy = this.view.cy;
    const xmin = box.x - r;
    const xmax = box.x + box.w + r;
    const ymin = box.y - r;
    const ymax = box.y + box.h + r;
    let drawn = 0;
    ctx.globalAlpha = 0.82;
    const classes = Math.max(1, this.data.colors.length);
    for (let c = 0; c < classes; c++) {
      if (this.hidden.has(c)) continue;
      ctx.fillStyle = this.data.colors[c] ?? '#1a85ff';
      ctx.beginPath();
      for (let j = this.classStart[c]; j < this.classStart[c + 1]; j++) {
        const i = this.order[j];
        const sx = cx + (p[2 * i] - vcx) * k;
        const sy = cy - (p[2 * i + 1] - vcy) * k;
        if (sx < xmin || sx > xmax || sy < ymin || sy > ymax) continue;
        ctx.moveTo(sx + r, sy);
        ctx.arc(sx, sy, r, 0, 2 * Math.PI);
        drawn++;
      }
      ctx.fill();
    }
    ctx.restore();
    this.drawnPoints = drawn;
    this.element.dataset.pointsDrawn = String(drawn);
    this.drawOverlay();
    this.lastDrawMs = performance.now() - t0;
  }

  drawOverlay(): void {
    const ctx = this.overlay.getContext('2d');
    if (!ctx || this.width === 0) return;
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.clearRect(0, 0, this.width, this.height);
    const box = this.plotBox();
    ctx.save();
    ctx.beginPath();
    ctx.rect(box.x, box.y, box.w, box.h);
    ctx.clip();
    const { fg, focus } = this.colors;
    const r = this.pointRadius();
    const p = this.data.points;
    const ring = (i: number, color: string, width: number, dash: number[]) => {
      if (i < 0 || i >= this.data.count) return;
      const [sx, sy] = this.toScreen(p[2 * i], p[2 * i + 1]);
      ctx.beginPath();
      ctx.setLineDash(dash);
      ctx.lineWidth = width;
      ctx.strokeStyle = color;
      ctx.arc(sx, sy, r + 4, 0, 2 * Math.PI);
      ctx.stroke();
      ctx.setLineDash([]);
    };
    const picks = this.marks.picks;
    if (picks.length === 2) {
      const [a, b] = picks.map((q) => this.toScreen(q.x, q.y));
      ctx.beginPath();
      ctx.setLineDash([4, 4]);
      ctx.lineWidth = 1.5;
      ctx.strokeStyle = fg;
      ctx.moveTo(a[0], a[1]);
      ctx.lineTo(b[0], b[1]);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = fg;
      for (const q of this.marks.path ?? []) {
        const [sx, sy] = this.toScreen(q.x, q.y);
        ctx.beginPath();
        ctx.arc(sx, sy, 2, 0, 2 * Math.PI);
        ctx.fill();
      }
    }
    const font = getComputedStyle(this.element).fontFamily || 'sans-serif';
    picks.forEach((q, i) => {
      const [sx, sy] = this.toScreen(q.x, q.y);
      const label = picks.length === 2 ? (i === 0 ? 'A' : 'B') : 'A';
      ctx.lineWidth = 2;
      ctx.strokeStyle = this.colors.bg;
      ctx.fillStyle = fg;
      ctx.beginPath();
      ctx.moveTo(sx, sy - 7);
      ctx.lineTo(sx + 7, sy);
      ctx.lineTo(sx, sy + 7);
      ctx.lineTo(sx - 7, sy);
      ctx.closePath();
      ctx.fill();
      ctx.stroke();
      ctx.font = `bold 12px ${font}`;
      ctx.textAlign = 'left';
      ctx.textBaseline = 'bottom';
      ctx.lineWidth = 3;
      ctx.strokeText(label, sx + 8, sy - 4);
      ctx.fillText(label, sx + 8, sy - 4);
    });
    ring(this.marks.hover, fg, 2, []);
    if (this.marks.keyboard !== this.marks.hover) ring(this.marks.keyboard, focus, 2, [3, 2]);
    else ring(this.marks.keyboard, focus, 2, [3, 2]);
    ctx.restore();
  }

  // ---------------------------------------------------------------------------
  // Pointer

  private local(e: PointerEvent | WheelEvent | MouseEvent): [number, number] {
    const rect = this.overlay.getBoundingClientRect();
    return [((e.clientX - rect.left) * this.width) / (rect.width || 1), ((e.clientY - rect.top) * this.height) / (rect.height || 1)];
  }

  private onDown(e: PointerEvent): void {
    const [sx, sy] = this.local(e);
    const pan = e.button === 1 || (e.button === 0 && e.shiftKey);
    if (!pan && e.button !== 0) return;
    e.preventDefault();
    // focus (for the wheel and the keys) without the keyboard focus ring a pointer does not need
    this.overlay.focus({ preventScroll: true, focusVisible: false } as FocusOptions);
    try {
      this.overlay.setPointerCapture(e.pointerId);
    } catch {
      /* synthetic events have no active pointer */
    }
    this.drag = { mode: pan ? 'pan' : 'pick', x: sx, y: sy, cx: this.view.cx, cy: this.view.cy, id: e.pointerId };
    this.overlay.style.cursor = pan ? 'grabbing' : 'crosshair';
    if (!pan) {
      const [x, y] = this.toData(sx, sy);
      this.events.pick(x, y, this.hit(sx, sy), 'start');
    }
  }

  private onMove(e: PointerEvent): void {
    const [sx, sy] = this.local(e);
    const d = this.drag;
    if (d && d.mode === 'pan') {
      this.view = { ...this.view, cx: d.cx - (sx - d.x) / this.view.k, cy: d.cy + (sy - d.y) / this.view.k };
      this.userView = true;
      this.scheduleDraw();
      return;
    }
    if (d && d.mode === 'pick') {
      // continuous decoding while the button is held: at most once per frame
      this.pendingMove = { x: sx, y: sy };
      if (!this.frame) this.frame = requestAnimationFrame(() => this.flushMove());
      return;
    }
    const i = this.hit(sx, sy);
    this.events.hover(i, this.toData(sx, sy));
  }

  private flushMove(): void {
    this.frame = 0;
    const m = this.pendingMove;
    this.pendingMove = undefined;
    if (!m || !this.drag || this.drag.mode !== 'pick') return;
    const [x, y] = this.toData(m.x, m.y);
    this.events.pick(x, y, this.hit(m.x, m.y), 'move');
  }

  private scheduleDraw(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  private onUp(e: PointerEvent): void {
    const d = this.drag;
    if (!d) return;
    this.drag = undefined;
    this.overlay.style.cursor = '';
    if (this.frame) {
      cancelAnimationFrame(this.frame);
      this.frame = 0;
      if (d.mode === 'pan') this.draw();
    }
    if (d.mode === 'pick') {
      const [sx, sy] = this.local(e);
      const [x, y] = this.toData(sx, sy);
      this.events.pick(x, y, this.hit(sx, sy), 'end');
    }
    this.pendingMove = undefined;
  }

  private onWheel(e: WheelEvent): void {
    // The wheel scrolls the notebook; with Ctrl (or Cmd, or a trackpad pinch, which
    // sends Ctrl) it zooms the map around the pointer.
    if (!e.ctrlKey && !e.metaKey) return;
    e.preventDefault();
    const [sx, sy] = this.local(e);
    const [x, y] = this.toData(sx, sy);
    const delta = e.deltaMode === 1 ? e.deltaY * 16 : e.deltaY;
    this.zoomBy(Math.min(2, Math.max(0.5, Math.exp(-delta * 0.0015))), x, y);
  }

  // ---------------------------------------------------------------------------
  // Keyboard

  /** The visible point nearest the centre of the view. */
  centralPoint(): number {
    const box = this.plotBox();
    return this.hit(box.x + box.w / 2, box.y + box.h / 2, Math.max(box.w, box.h));
  }

  /** The visible point nearest to `from` in direction (dx, dy) on screen, or `from`. */
  stepFrom(from: number, dx: number, dy: number): number {
    const p = this.data.points;
    const [fx, fy] = this.toScreen(p[2 * from], p[2 * from + 1]);
    let best = from;
    let bestScore = Infinity;
    for (let i = 0; i < this.data.count; i++) {
      if (i === from || this.isHidden(i)) continue;
      const [sx, sy] = this.toScreen(p[2 * i], p[2 * i + 1]);
      const along = (sx - fx) * dx + (sy - fy) * dy;
      if (along <= 0.5) continue;
      const across = Math.abs((sx - fx) * dy - (sy - fy) * dx);
      const score = along + 2.5 * across;
      if (score < bestScore) {
        bestScore = score;
        best = i;
      }
    }
    return best;
  }

  /** Pans so that point i is inside the plot area. */
  reveal(i: number): void {
    const box = this.plotBox();
    const [sx, sy] = this.toScreen(this.data.points[2 * i], this.data.points[2 * i + 1]);
    const m = 12;
    let dx = 0;
    let dy = 0;
    if (sx < box.x + m) dx = box.x + m - sx;
    if (sx > box.x + box.w - m) dx = box.x + box.w - m - sx;
    if (sy < box.y + m) dy = box.y + m - sy;
    if (sy > box.y + box.h - m) dy = box.y + box.h - m - sy;
    if (dx || dy) this.panBy(dx, dy);
  }

  private onKey(e: KeyboardEvent): void {
    const dirs: Record<string, [number, number]> = { ArrowRight: [1, 0], ArrowLeft: [-1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    const dir = dirs[e.key];
    if (dir && e.shiftKey) {
      e.preventDefault();
      this.panBy(-dir[0] * this.plotBox().w * 0.1, -dir[1] * this.plotBox().h * 0.1);
      return;
    }
    if (dir) {
      e.preventDefault();
      const cur = this.marks.keyboard >= 0 && !this.isHidden(this.marks.keyboard) ? this.marks.keyboard : -1;
      const next = cur < 0 ? this.centralPoint() : this.stepFrom(cur, dir[0], dir[1]);
      if (next >= 0) this.reveal(next);
      this.events.keyboardPoint(next);
      return;
    }
    if (e.key === 'Enter' || e.key === ' ') {
      if (this.marks.keyboard >= 0) {
        e.preventDefault();
        this.events.keyboardPick(this.marks.keyboard);
      }
      return;
    }
    if (e.key === '+' || e.key === '=') {
      e.preventDefault();
      const i = this.marks.keyboard;
      if (i >= 0) this.zoomBy(1.5, this.data.points[2 * i], this.data.points[2 * i + 1]);
      else this.zoomBy(1.5);
      return;
    }
    if (e.key === '-' || e.key === '_') {
      e.preventDefault();
      this.zoomBy(1 / 1.5);
      return;
    }
    if (e.key === '0' || e.key === 'Home') {
      e.preventDefault();
      this.resetView();
      return;
    }
    this.events.key?.(e);
  }

  dispose(): void {
    if (this.frame) cancelAnimationFrame(this.frame);
  }
}
