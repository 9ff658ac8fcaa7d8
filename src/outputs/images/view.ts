// Image grids: rows of small images (Original / Noisy / Reconstructed) drawn
// on canvases at integer pixel scale with `image-rendering: pixelated`, a
// colormap choice (gray by default, or viridis; src/common/colormap.ts) with a color bar, a size slider, click (or
// Enter) to enlarge a whole column side by side with a pixel read-out, and
// "Save PNG" (a composed figure with titles and captions).
import { base64ToBytes } from '../../common/base64';
import { COLORMAPS, colormapLut, colormapOrDefault, DEFAULT_COLORMAP, imageToRgba, type Colormap } from '../../common/colormap';
import { download, h, setText, uniqueId } from '../../../renderers/dom';
import type { OutputView, ViewHost, ViewPart } from '../kind';
import type { ImagesPayload } from './contract';

interface Decoded {
  width: number;
  height: number;
  channels: 1 | 3;
  pixels: Uint8Array;
  caption?: string;
  alt: string;
}

interface Cell {
  img: Decoded;
  canvas: HTMLCanvasElement;
  button: HTMLButtonElement;
}

const TARGET_PX = 100; // default on-screen size of one image (CSS px)

function defaultScale(maxSide: number, preferred?: number): number {
  if (preferred && preferred > 0) return Math.max(1, Math.min(32, Math.round(preferred)));
  return Math.max(1, Math.min(16, Math.round(TARGET_PX / Math.max(1, maxSide))));
}

function drawInto(canvas: HTMLCanvasElement, img: Decoded, cmap: Colormap): void {
  if (canvas.width !== img.width) canvas.width = img.width;
  if (canvas.height !== img.height) canvas.height = img.height;
  const ctx = canvas.getContext('2d');
  if (!ctx || img.width === 0 || img.height === 0) return;
  const rgba = imageToRgba(img.width, img.height, img.pixels, img.channels, cmap);
  ctx.putImageData(new ImageData(rgba as Uint8ClampedArray<ArrayBuffer>, img.width, img.height), 0, 0);
}

function sizeCanvas(canvas: HTMLCanvasElement, img: Decoded, scale: number): void {
  canvas.style.width = `${img.width * scale}px`;
  canvas.style.height = `${img.height * scale}px`;
}

export class ImagesView implements OutputView<ImagesPayload> {
  readonly root: HTMLElement;
  private readonly titleEl: HTMLElement;
  private readonly info: HTMLElement;
  private readonly select: HTMLSelectElement;
  private readonly colorbar: HTMLCanvasElement;
  private readonly slider: HTMLInputElement;
  private readonly saveBtn: HTMLButtonElement;
  private readonly note: HTMLElement;
  private readonly grid: HTMLElement;
  private readonly zoom: HTMLElement;
  private payload?: ImagesPayload;
  private rows: { title: string; images: Decoded[] }[] = [];
  private cells: Cell[][] = [];
  private cmap: Colormap = DEFAULT_COLORMAP;
  private userCmap = false;
  private scale = 4;
  private userScale = false;
  private zoomCol = -1;
  private zoomReturn?: HTMLElement;
  private readonly resizeObserver?: ResizeObserver;

  constructor(private readonly host: ViewHost) {
    const titleId = uniqueId('images');
    this.root = h('section', { class: 'aenb-root aenb-images', 'aria-labelledby': titleId });
    this.titleEl = h('h3', { class: 'aenb-title', id: titleId }, 'Images');
    this.info = h('span', { class: 'aenb-muted aenb-info' });
    const selId = uniqueId('cmap');
    this.select = h('select', { id: selId, class: 'aenb-select' });
    for (const c of COLORMAPS) this.select.append(h('option', { value: c }, c === 'gray' ? 'gray' : 'viridis'));
    this.colorbar = h('canvas', { class: 'aenb-colorbar', width: 256, height: 1, 'aria-hidden': 'true' });
    const sliderId = uniqueId('size');
    this.slider = h('input', { id: sliderId, class: 'aenb-slider', type: 'range', min: 1, max: 16, step: 1 });
    this.saveBtn = h('button', { type: 'button', class: 'aenb-btn' }, 'Save PNG');
    this.note = h('span', { class: 'aenb-muted aenb-note', role: 'status' });
    this.root.append(
      h(
        'header',
        { class: 'aenb-header' },
        this.titleEl,
        this.info,
        h('span', { class: 'aenb-spacer' }),
        h(
          'div',
          { class: 'aenb-toolbar' },
          h('label', { class: 'aenb-field', for: selId }, 'Colormap'),
          this.select,
          h('span', { class: 'aenb-colorbar-wrap', 'aria-hidden': 'true' }, h('span', {}, '0'), this.colorbar, h('span', {}, '1')),
          h('label', { class: 'aenb-field', for: sliderId }, 'Size'),
          this.slider,
          this.saveBtn,
          this.note,
        ),
      ),
    );
    this.grid = h('div', { class: 'aenb-grid' });
    this.zoom = h('div', { class: 'aenb-zoom', role: 'region', 'aria-label': 'Enlarged images', hidden: true });
    this.root.append(h('div', { class: 'aenb-grid-scroll' }, this.grid), this.zoom);

    this.select.addEventListener('change', () => {
      this.userCmap = true;
      this.setColormap(this.select.value as Colormap);
    });
    this.slider.addEventListener('input', () => {
      this.userScale = true;
      this.setScale(Number(this.slider.value));
    });
    this.saveBtn.addEventListener('click', () => void this.save());
    this.zoom.addEventListener('keydown', (e) => this.onZoomKey(e));
    if (typeof ResizeObserver !== 'undefined') {
      this.resizeObserver = new ResizeObserver(() => this.fitWidth());
      this.resizeObserver.observe(this.root);
    }
  }

  update(p: ImagesPayload): void {
    this.payload = p;
    setText(this.titleEl, p.title ?? 'Images');
    if (!this.userCmap) this.cmap = colormapOrDefault(p.colormap);
    this.select.value = this.cmap;
    this.rows = p.rows.map((r) => ({
      title: r.title,
      images: r.images.map((im, i) => {
        const channels = im.channels ?? 1;
        const pixels = base64ToBytes(im.data);
        if (pixels.length < im.width * im.height * channels) throw new Error(`"${r.title}" image ${i + 1}: ${pixels.length} bytes for ${im.width}x${im.height}x${channels}`);
        return {
          width: im.width,
          height: im.height,
          channels,
          pixels,
          caption: im.caption,
          alt: im.alt ?? `${r.title} ${i + 1}${im.caption ? `: ${im.caption}` : ''}`,
        };
      }),
    }));
    const all = this.rows.flatMap((r) => r.images);
    const maxSide = Math.max(1, ...all.map((i) => Math.max(i.width, i.height)));
    if (!this.userScale) this.scale = defaultScale(maxSide, p.pixelScale);
    const count = all.length;
    const first = all[0];
    setText(this.info, count ? `${count} image${count === 1 ? '' : 's'} · ${first.width}×${first.height}${first.channels === 3 ? ' RGB' : ''}` : 'no images');
    const hasGray = all.some((i) => i.channels === 1);
    this.select.disabled = !hasGray;
    this.buildGrid();
    this.drawColorbar();
    this.fitWidth();
    if (this.zoomCol >= 0) this.openZoom(Math.min(this.zoomCol, this.columns() - 1), false);
  }

  dispose(): void {
    this.resizeObserver?.disconnect();
  }

  refreshTheme(): void {
    /* colors come from CSS; canvases show data colors only */
  }

  private columns(): number {
    return Math.max(0, ...this.rows.map((r) => r.images.length));
  }

  private buildGrid(): void {
    const cols = this.columns();
    this.grid.replaceChildren();
    this.grid.style.gridTemplateColumns = `max-content repeat(${Math.max(1, cols)}, max-content)`;
    this.cells = [];
    this.rows.forEach((row, r) => {
      const titleId = uniqueId('row');
      this.grid.append(h('div', { class: 'aenb-row-title', id: titleId, style: `grid-row: ${r + 1}` }, row.title));
      const cells: Cell[] = [];
      row.images.forEach((img, c) => {
        const canvas = h('canvas', { class: 'aenb-pixels', role: 'img', 'aria-label': img.alt, width: img.width, height: img.height });
        drawInto(canvas, img, this.cmap);
        sizeCanvas(canvas, img, this.scale);
        const button = h('button', { type: 'button', class: 'aenb-thumb', title: 'Enlarge', 'aria-label': `Enlarge ${img.alt}` }, canvas);
        button.addEventListener('click', () => this.openZoom(c, true, button));
        // A caption wraps within its image's width (two lines at most, then an ellipsis): the whole text is its tooltip.
        const caption = img.caption ? h('figcaption', { class: 'aenb-caption', title: img.caption }, img.caption) : null;
        const fig = h('figure', { class: 'aenb-cell', style: `grid-row: ${r + 1}; grid-column: ${c + 2}` }, button, caption);
        this.grid.append(fig);
        cells.push({ img, canvas, button });
      });
      this.cells.push(cells);
    });
    this.slider.value = String(this.scale);
    this.slider.setAttribute('aria-valuetext', `${this.scale}× (${this.scale} screen pixels per image pixel)`);
  }

  private setColormap(c: Colormap): void {
    this.cmap = c;
    this.select.value = c;
    for (const row of this.cells) for (const cell of row) drawInto(cell.canvas, cell.img, c);
    this.drawColorbar();
    if (this.zoomCol >= 0) this.openZoom(this.zoomCol, false);
  }

  private setScale(s: number): void {
    this.scale = Math.max(1, Math.min(32, Math.round(s)));
    for (const row of this.cells) for (const cell of row) sizeCanvas(cell.canvas, cell.img, this.scale);
    this.slider.value = String(this.scale);
    this.slider.setAttribute('aria-valuetext', `${this.scale}× (${this.scale} screen pixels per image pixel)`);
  }

  /**
   * Shrinks the default scale so that every column fits the output's width
   * (never below 1; a grid that does not fit even then scrolls). A column is
   * as wide as its widest image (a caption wraps within it, see .aenb-caption
   * in renderers/style.css); what else a row takes (the row titles, the gaps,
   * the thumbnails' borders) is measured, not guessed, and the result checked.
   */
  private fitWidth(): void {
    if (this.userScale || !this.payload) return;
    const scroller = this.grid.parentElement;
    if (!scroller || !scroller.clientWidth) return;
    const cs = getComputedStyle(scroller);
    const avail = scroller.clientWidth - (parseFloat(cs.paddingLeft) || 0) - (parseFloat(cs.paddingRight) || 0);
    const all = this.rows.flatMap((r) => r.images);
    const maxSide = Math.max(1, ...all.map((i) => Math.max(i.width, i.height)));
    const want = defaultScale(maxSide, this.payload.pixelScale);
    const cols = this.columns();
    let widest = 0;
    for (let c = 0; c < cols; c++) widest += Math.max(0, ...this.rows.map((r) => r.images[c]?.width ?? 0));
    if (widest === 0) return;
    const fixed = this.usedWidth() - widest * this.scale;
    let s = Math.max(1, Math.min(want, Math.floor((avail - fixed) / widest)));
    if (s !== this.scale) this.setScale(s);
    while (s > 1 && this.usedWidth() > avail + 0.5) this.setScale(--s);
  }

  /** How wide the grid's content is: from its left edge to the right edge of the rightmost image cell (CSS px). */
  private usedWidth(): number {
    const left = this.grid.getBoundingClientRect().left;
    let right = left;
    for (const row of this.cells) {
      const last = row[row.length - 1];
      if (last) right = Math.max(right, (last.button.parentElement ?? last.button).getBoundingClientRect().right);
    }
    return right - left;
  }

  private drawColorbar(): void {
    const ctx = this.colorbar.getContext('2d');
    if (!ctx) return;
    const lut = colormapLut(this.cmap);
    const data = new Uint8ClampedArray(256 * 4);
    for (let i = 0; i < 256; i++) {
      data[4 * i] = lut[3 * i];
      data[4 * i + 1] = lut[3 * i + 1];
      data[4 * i + 2] = lut[3 * i + 2];
      data[4 * i + 3] = 255;
    }
    ctx.putImageData(new ImageData(data, 256, 1), 0, 0);
  }

  // ---------------------------------------------------------------------------
  // Enlarged column

  private openZoom(col: number, focus: boolean, from?: HTMLElement): void {
    if (col < 0 || col >= this.columns()) return;
    if (from) this.zoomReturn = from;
    this.zoomCol = col;
    const items = this.rows.map((r) => ({ title: r.title, img: r.images[col] })).filter((x) => x.img);
    const maxSide = Math.max(1, ...items.map((x) => Math.max(x.img.width, x.img.height)));
    // as large as fits: all figures of the column side by side, at most ~280 px each
    const avail = (this.root.clientWidth || 800) - 24;
    const each = Math.min(280, Math.floor(avail / Math.max(1, items.length)) - 20);
    const big = Math.max(1, Math.min(24, Math.floor(each / maxSide)));
    const readout = h('p', { class: 'aenb-pixel-readout aenb-muted' }, 'Point at a pixel to read its value.');
    const figures = items.map(({ title, img }) => {
      const canvas = h('canvas', { class: 'aenb-pixels', role: 'img', 'aria-label': img.alt });
      drawInto(canvas, img, this.cmap);
      sizeCanvas(canvas, img, big);
      canvas.addEventListener('mousemove', (e) => {
        const rect = canvas.getBoundingClientRect();
        const x = Math.floor(((e.clientX - rect.left) / rect.width) * img.width);
        const y = Math.floor(((e.clientY - rect.top) / rect.height) * img.height);
        if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
        const o = (y * img.width + x) * img.channels;
        const v = img.channels === 3 ? `rgb(${img.pixels[o]}, ${img.pixels[o + 1]}, ${img.pixels[o + 2]})` : `${(img.pixels[o] / 255).toFixed(3)} (${img.pixels[o]})`;
        setText(readout, `${title}: x ${x}, y ${y} = ${v}`);
      });
      return h('figure', { class: 'aenb-zoom-fig' }, h('figcaption', { class: 'aenb-zoom-title' }, title), canvas, img.caption ? h('p', { class: 'aenb-caption' }, img.caption) : null);
    });
    const cols = this.columns();
    const prev = h('button', { type: 'button', class: 'aenb-btn', 'aria-label': 'Previous column', disabled: col === 0 }, '‹');
    const next = h('button', { type: 'button', class: 'aenb-btn', 'aria-label': 'Next column', disabled: col >= cols - 1 }, '›');
    const close = h('button', { type: 'button', class: 'aenb-btn aenb-zoom-close', 'aria-label': 'Close enlarged view' }, '✕');
    prev.addEventListener('click', () => this.openZoom(col - 1, true));
    next.addEventListener('click', () => this.openZoom(col + 1, true));
    close.addEventListener('click', () => this.closeZoom());
    this.zoom.replaceChildren(
      h('div', { class: 'aenb-zoom-bar' }, h('span', { class: 'aenb-zoom-label' }, `Column ${col + 1} of ${cols}`), h('span', { class: 'aenb-spacer' }), prev, next, close),
      h('div', { class: 'aenb-zoom-figs' }, ...figures),
      readout,
    );
    this.zoom.hidden = false;
    for (const row of this.cells) row.forEach((cell, c) => cell.button.classList.toggle('aenb-selected', c === col));
    if (focus) (col === 0 && !from ? next : close).focus();
  }

  private closeZoom(): void {
    this.zoom.hidden = true;
    this.zoom.replaceChildren();
    this.zoomCol = -1;
    for (const row of this.cells) for (const cell of row) cell.button.classList.remove('aenb-selected');
    this.zoomReturn?.focus();
  }

  private onZoomKey(e: KeyboardEvent): void {
    if (e.key === 'Escape') {
      e.preventDefault();
      this.closeZoom();
    } else if (e.key === 'ArrowLeft' && this.zoomCol > 0) {
      e.preventDefault();
      this.openZoom(this.zoomCol - 1, true);
    } else if (e.key === 'ArrowRight' && this.zoomCol < this.columns() - 1) {
      e.preventDefault();
      this.openZoom(this.zoomCol + 1, true);
    }
  }

  // ---------------------------------------------------------------------------
  // Save as PNG: a figure with title, row titles and captions on white

  /** Draws the figure to a canvas (exposed for tests). */
  composeFigure(): HTMLCanvasElement {
    const s = Math.max(2, this.scale);
    const pad = 12;
    const gap = 8;
    const font = '13px system-ui, -apple-system, "Segoe UI", sans-serif';
    const measure = h('canvas').getContext('2d');
    const textW = (t: string) => {
      if (!measure) return t.length * 7;
      measure.font = font;
      return measure.measureText(t).width;
    };
    const titleCol = Math.ceil(Math.max(0, ...this.rows.map((r) => textW(r.title)))) + gap * 2;
    const cols = this.columns();
    const colW: number[] = Array.from({ length: cols }, (_, c) => Math.max(...this.rows.map((r) => (r.images[c] ? r.images[c].width * s : 0))));
    const hasCaptions = this.rows.map((r) => r.images.some((i) => i.caption));
    const rowH = this.rows.map((r, i) => Math.max(0, ...r.images.map((im) => im.height * s)) + (hasCaptions[i] ? 18 : 0));
    const heading = this.payload?.title ?? '';
    const top = pad + (heading ? 24 : 0);
    const W = Math.ceil(pad * 2 + titleCol + colW.reduce((a, b) => a + b, 0) + gap * Math.max(0, cols - 1));
    const H = Math.ceil(top + rowH.reduce((a, b) => a + b, 0) + gap * Math.max(0, this.rows.length - 1) + pad);
    const canvas = h('canvas', { width: Math.max(1, W), height: Math.max(1, H) });
    const ctx = canvas.getContext('2d');
    if (!ctx) return canvas;
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, W, H);
    ctx.imageSmoothingEnabled = false;
    ctx.fillStyle = '#222222';
    ctx.textBaseline = 'middle';
    if (heading) {
      ctx.font = `600 15px system-ui, -apple-system, "Segoe UI", sans-serif`;
      ctx.fillText(heading, pad, pad + 8);
    }
    let y = top;
    this.rows.forEach((r, ri) => {
      ctx.font = font;
      ctx.textAlign = 'right';
      ctx.fillStyle = '#222222';
      const imgH = rowH[ri] - (hasCaptions[ri] ? 18 : 0);
      ctx.fillText(r.title, pad + titleCol - gap, y + imgH / 2);
      let x = pad + titleCol;
      r.images.forEach((im, c) => {
        const cell = this.cells[ri]?.[c];
        if (cell) ctx.drawImage(cell.canvas, x, y, im.width * s, im.height * s);
        if (im.caption) {
          ctx.textAlign = 'center';
          ctx.fillStyle = '#555555';
          ctx.font = '12px system-ui, -apple-system, "Segoe UI", sans-serif';
          ctx.fillText(im.caption, x + (im.width * s) / 2, y + imgH + 10, colW[c]);
        }
        x += colW[c] + gap;
      });
      y += rowH[ri] + gap;
    });
    return canvas;
  }

  private fileName(): string {
    const base = (this.payload?.title ?? 'images').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
    return `${base || 'images'}.png`;
  }

  private async save(): Promise<void> {
    const canvas = this.composeFigure();
    const fileName = this.fileName();
    if (this.host.request) {
      const url = canvas.toDataURL('image/png');
      setText(this.note, 'Saving…');
      // The host shows a save dialog: no time limit while the user chooses.
      const r = await this.host.request('savePng', { fileName, data: url.slice(url.indexOf(',') + 1) }, { timeoutMs: Infinity });
      this.onSaveDone(r.ok, r.ok ? undefined : r.error.message);
      return;
    }
    const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
    if (blob) download(blob, fileName);
    setText(this.note, blob ? `Saved ${fileName}` : 'Could not create the PNG');
  }

  onSaveDone(ok: boolean, message?: string): void {
    setText(this.note, ok ? 'Saved' : `Not saved${message ? ': ' + message : ''}`);
  }
}

export const view: ViewPart<ImagesPayload> = { create: (host) => new ImagesView(host) };
