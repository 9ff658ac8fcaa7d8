// The latent-space explorer (application/vnd.aenb.latent+json): the codes of
// a set of samples drawn as a 2-D map coloured by class, with a legend that
// toggles classes; hovering a point shows its image and its reconstruction;
// clicking anywhere maps the point back to a latent code (inverse PCA, or a
// blend of the nearest codes for UMAP) and shows what the decoder makes of it,
// updated continuously while the button is held; the last two picks give an
// interpolation strip. Dense decoders run right here (their weights are in
// the payload); others ask the notebook's kernel through `host.request`.
import { base64ToBytes, decodeFloat32, encodeFloat32 } from '../../common/base64';
import { COLORMAPS, colormapOrDefault, DEFAULT_COLORMAP, type Colormap } from '../../common/colormap';
import { formatCount } from '../../common/formatting';
import { h, setAttr, setText, uniqueId } from '../../../renderers/dom';
import type { OutputView, ViewHost, ViewPart } from '../kind';
import { DenseDecoder } from './dense';
import { blendNearest, extent, interpolateCodes, pcaInverse, toPixels } from './inverse';
import { CLASS_COLORS, clearImage, drawImage, imageCanvas } from './view-pixels';
import { Scatter } from './view-scatter';
import { classCounts, decodeImageBlock, explainedText, liveBadge, liveStateText, methodLabel, type LatentPayload } from './contract';

interface Pick {
  x: number;
  y: number;
  /** A point of the map when the pick snapped to one, else -1. */
  index: number;
  code: Float32Array;
}

/** Images in the interpolation strip (both ends included). */
export const STRIP_STEPS = 10;

/** How long a decode request may wait for the kernel (it answers between batches of a training). */
const DECODE_TIMEOUT_MS = 20_000;

const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));

export class LatentView implements OutputView<LatentPayload> {
  readonly root: HTMLElement;
  private readonly titleEl: HTMLElement;
  private readonly badge: HTMLElement;
  private readonly info: HTMLElement;
  private readonly select: HTMLSelectElement;
  private readonly zoomIn: HTMLButtonElement;
  private readonly zoomOut: HTMLButtonElement;
  private readonly resetBtn: HTMLButtonElement;
  private readonly body: HTMLElement;
  private readonly plotWrap: HTMLElement;
  private readonly side: HTMLElement;
  private readonly hoverTitle: HTMLElement;
  private readonly hoverImages: { original: HTMLCanvasElement; reconstruction: HTMLCanvasElement };
  private readonly hoverFigure: HTMLElement;
  private readonly decodedTitle: HTMLElement;
  private readonly decodedCanvas: HTMLCanvasElement;
  private readonly decodedFigure: HTMLElement;
  private readonly decodedNote: HTMLElement;
  private readonly legend: HTMLElement;
  private readonly strip: HTMLElement;
  private readonly stripTitle: HTMLElement;
  private readonly stripRow: HTMLElement;
  private readonly status: HTMLElement;
  private readonly live: HTMLElement;
  private readonly scatter: Scatter;
  private readonly resizeObserver?: ResizeObserver;

  private payload?: LatentPayload;
  private points: Float32Array = new Float32Array(0);
  private codes: Float32Array = new Float32Array(0);
  private classes: Uint8Array | null = null;
  private decoder: DenseDecoder | null = null;
  private pcaMean?: Float32Array;
  private pcaComponents?: Float32Array;
  private originals: Uint8Array | null = null;
  private reconstructions: Uint8Array | null = null;
  private imagesError = '';
  private generation = 0;
  private picks: Pick[] = [];
  private hidden = new Set<number>();
  private hoverIndex = -1;
  private kbIndex = -1;
  private colormap: Colormap = DEFAULT_COLORMAP;
  private userColormap = false;
  private kernelProblem = '';
  private remoteBusy = false;
  private remoteQueued = false;
  /** The kernel's last answer: for which payload and codes, and its images. */
  private remoteLast?: { payload: LatentPayload; sig: string; images: Uint8Array[] };
  /** The codes of the request on its way ('' when none). */
  private remotePending = '';
  private extentScale = 1;
  /** Milliseconds the last pick took from the event to the decoded image on screen (local decoders). */
  lastDecodeMs = 0;
  /** The strip's step figures, reused while the image geometry stays the same. */
  private stripSteps: { geometry: string; figures: { figure: HTMLElement; canvas: HTMLCanvasElement; caption: HTMLElement }[] } = { geometry: '', figures: [] };

  constructor(private readonly host: ViewHost) {
    const titleId = uniqueId('latent');
    const helpId = uniqueId('latent-help');
    this.root = h('section', { class: 'aenb-root aenb-latent', 'aria-labelledby': titleId });
    this.titleEl = h('h3', { class: 'aenb-title', id: titleId }, 'Latent space');
    this.badge = h('span', { class: 'aenb-badge aenb-badge-running', role: 'status', hidden: true });
    this.info = h('span', { class: 'aenb-muted aenb-info' });
    const selId = uniqueId('cmap');
    this.select = h('select', { id: selId, class: 'aenb-select' });
    for (const c of COLORMAPS) this.select.append(h('option', { value: c }, c));
    this.zoomOut = h('button', { type: 'button', class: 'aenb-btn', 'aria-label': 'Zoom out', title: 'Zoom out (-)' }, '−');
    this.zoomIn = h('button', { type: 'button', class: 'aenb-btn', 'aria-label': 'Zoom in', title: 'Zoom in (+)' }, '+');
    this.resetBtn = h('button', { type: 'button', class: 'aenb-btn', title: 'Show all points (0, or double-click the map)' }, 'Reset view');
    this.root.append(
      h(
        'header',
        { class: 'aenb-header' },
        this.titleEl,
        this.badge,
        this.info,
        h('span', { class: 'aenb-spacer' }),
        h('div', { class: 'aenb-toolbar' }, h('label', { class: 'aenb-field', for: selId }, 'Colormap'), this.select, this.zoomOut, this.zoomIn, this.resetBtn),
      ),
    );

    this.scatter = new Scatter({
      hover: (i) => this.setHover(i),
      pick: (x, y, i, phase) => this.onPick(x, y, i, phase),
      keyboardPoint: (i) => this.setKeyboard(i),
      keyboardPick: (i) => {
        const p = this.pointAt(i);
        this.onPick(p[0], p[1], i, 'start');
        this.onPick(p[0], p[1], i, 'end');
      },
      key: (e) => {
        if (e.key === 'Escape' && this.picks.length) {
          e.preventDefault();
          this.clearPicks();
        }
      },
    });
    this.scatter.overlay.setAttribute('role', 'application');
    this.scatter.overlay.setAttribute('aria-roledescription', 'latent map');
    this.scatter.overlay.setAttribute('aria-describedby', helpId);
    this.plotWrap = h('div', { class: 'aenb-latent-plot' }, this.scatter.element);

    this.hoverTitle = h('figcaption', { class: 'aenb-latent-caption' }, 'Point at a dot');
    this.hoverImages = { original: imageCanvas({ width: 28, height: 28, channels: 1 }, 3, 'Image of the point under the pointer'), reconstruction: imageCanvas({ width: 28, height: 28, channels: 1 }, 3, 'Its reconstruction') };
    this.hoverFigure = h(
      'figure',
      { class: 'aenb-latent-panel aenb-latent-hover' },
      this.hoverTitle,
      h(
        'div',
        { class: 'aenb-latent-pair' },
        h('div', { class: 'aenb-latent-cell' }, this.hoverImages.original, h('span', { class: 'aenb-caption' }, 'image')),
        h('div', { class: 'aenb-latent-cell' }, this.hoverImages.reconstruction, h('span', { class: 'aenb-caption' }, 'rebuilt')),
      ),
    );
    this.decodedTitle = h('figcaption', { class: 'aenb-latent-caption' }, 'Click the map to decode a point');
    this.decodedCanvas = imageCanvas({ width: 28, height: 28, channels: 1 }, 5, 'Decoded image');
    this.decodedNote = h('p', { class: 'aenb-muted aenb-latent-note' });
    this.decodedFigure = h('figure', { class: 'aenb-latent-panel aenb-latent-decoded' }, this.decodedTitle, this.decodedCanvas, this.decodedNote);
    this.side = h('aside', { class: 'aenb-latent-side', 'aria-label': 'Images' }, this.hoverFigure, this.decodedFigure);
    this.body = h('div', { class: 'aenb-latent-body' }, this.plotWrap, this.side);
    this.legend = h('div', { class: 'aenb-legend aenb-latent-legend', role: 'group', 'aria-label': 'Classes (toggle to show or hide)' });
    this.stripTitle = h('p', { class: 'aenb-latent-strip-title' });
    this.stripRow = h('div', { class: 'aenb-latent-strip-row' });
    this.strip = h('div', { class: 'aenb-latent-strip', role: 'region', 'aria-label': 'Interpolation between the two picked points' }, this.stripTitle, this.stripRow);
    this.status = h('p', { class: 'aenb-muted aenb-latent-status' });
    const help = h(
      'p',
      { class: 'aenb-muted aenb-latent-help', id: helpId },
      'Click or drag on the map to decode; a second click adds an interpolation strip. Ctrl+wheel (or a pinch) zooms, Shift+drag pans. ' +
        'Keys: arrows move between points, Enter picks, + and − zoom, 0 resets, Escape clears.',
    );
    this.live = h('div', { class: 'aenb-sr-only', 'aria-live': 'polite' });
    this.root.append(this.body, this.legend, this.strip, this.status, help, this.live);

    this.select.addEventListener('change', () => {
      this.userColormap = true;
      this.colormap = this.select.value as Colormap;
      this.redrawImages();
    });
    this.zoomIn.addEventListener('click', () => this.scatter.zoomBy(1.5));
    this.zoomOut.addEventListener('click', () => this.scatter.zoomBy(1 / 1.5));
    this.resetBtn.addEventListener('click', () => this.scatter.resetView());
    if (typeof ResizeObserver !== 'undefined') {
      this.resizeObserver = new ResizeObserver(() => this.layout());
      this.resizeObserver.observe(this.root);
    }
    // For tests and the benchmark: the renderer's own decode, and where things are.
    Object.defineProperty(this.root, '__aenbLatent', {
      value: {
        decode: (z: number[]) => Array.from(this.decodeValues(Float32Array.from(z)) ?? []),
        toScreen: (x: number, y: number) => this.scatter.toScreen(x, y),
        inverse: (x: number, y: number) => Array.from(this.inverse(x, y).code),
        view: this,
      },
    });
  }

  // ---------------------------------------------------------------------------
  // Payload

  update(p: LatentPayload): void {
    const prev = this.payload;
    this.payload = p;
    const gen = ++this.generation;
    this.points = decodeFloat32(p.points);
    this.codes = decodeFloat32(p.codes);
    this.classes = p.labels ? Uint8Array.from(p.labels) : null;
    this.decoder = p.decoder ? new DenseDecoder(p.decoder) : null;
    this.pcaMean = p.pca ? decodeFloat32(p.pca.mean) : undefined;
    this.pcaComponents = p.pca ? decodeFloat32(p.pca.components) : undefined;
    const [x0, x1, y0, y1] = extent(this.points, p.count);
    this.extentScale = Math.max(x1 - x0, y1 - y0);
    if (!this.userColormap) this.colormap = colormapOrDefault(p.colormap);
    this.select.value = this.colormap;
    const sameSet = prev && prev.count === p.count && prev.method === p.method && JSON.stringify(prev.indices ?? null) === JSON.stringify(p.indices ?? null);
    if (!sameSet) {
      this.hidden.clear();
      this.picks = [];
      this.hoverIndex = -1;
      this.kbIndex = -1;
    }

    // header
    setText(this.titleEl, p.title ?? 'Latent space');
    this.badge.hidden = !p.epoch;
    if (p.epoch) {
      // A live map looks live (a pulsing dot) only while its run goes on; after it, the badge says how it ended.
      const state = p.epoch.state ?? 'running';
      setText(this.badge, liveBadge(p.epoch));
      setAttr(this.badge, 'title', liveStateText(p.epoch));
      setAttr(this.badge, 'class', `aenb-badge aenb-badge-${state === 'interrupted' ? 'stopped aenb-badge-interrupted' : state}`);
      this.root.dataset.run = state;
    } else {
      delete this.root.dataset.run;
    }
    const how = p.method === 'pca' && p.pca ? `PCA: ${explainedText(p.pca)}` : p.method === 'umap' && p.umap ? `UMAP (${p.umap.neighbors} neighbours, min. distance ${p.umap.minDist})` : methodLabel(p);
    setText(this.info, `${formatCount(p.count)} ${p.subject ?? 'samples'} · ${p.latentDim}-D codes · ${how}`);

    // images: the sizes of the panels follow the payload's image shape
    const big = Math.max(1, Math.min(8, Math.round(140 / Math.max(p.image.width, p.image.height))));
    const small = Math.max(1, Math.min(6, Math.round(84 / Math.max(p.image.width, p.image.height))));
    for (const [c, s] of [[this.decodedCanvas, big], [this.hoverImages.original, small], [this.hoverImages.reconstruction, small]] as const) {
      c.width = p.image.width;
      c.height = p.image.height;
      c.style.width = `${p.image.width * s}px`;
      c.style.height = `${p.image.height * s}px`;
    }
    this.originals = null;
    this.reconstructions = null;
    this.imagesError = '';
    const px = p.count * p.image.width * p.image.height * p.image.channels;
    const pending: Promise<void>[] = [];
    if (p.originals) pending.push(decodeImageBlock(p.originals, px).then((b) => void (gen === this.generation && (this.originals = b))));
    if (p.reconstructions) pending.push(decodeImageBlock(p.reconstructions, px).then((b) => void (gen === this.generation && (this.reconstructions = b))));
    if (pending.length) {
      this.root.dataset.images = 'loading';
      Promise.all(pending).then(
        () => {
          if (gen !== this.generation) return;
          this.root.dataset.images = 'ready';
          this.redrawImages();
        },
        (e: unknown) => {
          if (gen !== this.generation) return;
          this.imagesError = `The images could not be read: ${(e as Error).message}`;
          this.root.dataset.images = 'error';
          this.redrawImages();
        },
      );
    } else {
      this.root.dataset.images = 'none';
    }

    // the map
    this.scatter.setData(this.scatterData(), !!sameSet);
    this.buildLegend();
    this.scatter.setHidden(this.hidden);
    // picks follow the new codes: a picked point keeps its row, a free pick its place on the map
    this.picks = this.picks.map((q) => (q.index >= 0 && q.index < p.count ? this.pickAt(this.pointAt(q.index)[0], this.pointAt(q.index)[1], q.index) : this.pickAt(q.x, q.y, -1)));
    this.updateStatus();
    this.updateAria();
    this.layout();
    this.refreshTheme();
    this.redrawImages();
  }

  dispose(): void {
    this.resizeObserver?.disconnect();
    this.scatter.dispose();
    this.generation++;
  }

  refreshTheme(): void {
    // one class: the theme's first chart colour, which changes with the theme
    if (this.payload && !this.payload.classNames?.length) this.scatter.setData(this.scatterData(), true);
    this.scatter.refreshTheme();
  }

  private scatterData() {
    const p = this.payload!;
    const classCount = p.classNames?.length ?? 0;
    const pca = p.method === 'pca' && p.pca;
    return {
      points: this.points,
      count: p.count,
      classes: this.classes,
      colors: classCount ? CLASS_COLORS.slice(0, classCount) : [resolveColor(this.root, 'var(--aenb-c1, #1a85ff)')],
      axisX: pca ? `PC1 (${(100 * p.pca!.explained[0]).toFixed(1)}% of the variance)` : p.method === 'umap' ? 'UMAP 1' : 'z₁',
      axisY: pca ? `PC2 (${(100 * p.pca!.explained[1]).toFixed(1)}%)` : p.method === 'umap' ? 'UMAP 2' : 'z₂',
      ticks: p.method !== 'umap',
    };
  }

  private layout(): void {
    const avail = this.root.clientWidth || 800;
    const sideWidth = 190;
    const beside = avail >= 560;
    this.body.classList.toggle('aenb-latent-stacked', !beside);
    const w = beside ? avail - sideWidth - 16 : avail;
    const height = Math.max(260, Math.min(460, Math.round(w * 0.72)));
    this.scatter.resize(Math.max(240, w), height);
  }

  // ---------------------------------------------------------------------------
  // Legend

  private buildLegend(): void {
    const p = this.payload;
    this.legend.replaceChildren();
    if (!p?.classNames?.length || !p.labels) {
      this.legend.hidden = true;
      return;
    }
    this.legend.hidden = false;
    const counts = classCounts(p.labels, p.classNames.length);
    p.classNames.forEach((name, c) => {
      const btn = h(
        'button',
        { type: 'button', class: 'aenb-legend-item', 'aria-pressed': String(!this.hidden.has(c)), 'data-class': c, title: `Show or hide ${name}` },
        h('span', { class: 'aenb-latent-swatch', style: `background: ${CLASS_COLORS[c]}`, 'aria-hidden': 'true' }),
        h('span', { class: 'aenb-legend-name' }, name),
        h('span', { class: 'aenb-legend-value' }, formatCount(counts[c])),
      );
      btn.setAttribute('aria-label', `${name}: ${formatCount(counts[c])} points`);
      btn.addEventListener('click', (e) => {
        if (e.altKey) {
          // Alt+click: this class alone (again: all)
          const alone = this.hidden.size === p.classNames!.length - 1 && !this.hidden.has(c);
          this.hidden = alone ? new Set() : new Set(p.classNames!.map((_, i) => i).filter((i) => i !== c));
        } else if (this.hidden.has(c)) this.hidden.delete(c);
        else this.hidden.add(c);
        this.applyHidden();
      });
      this.legend.append(btn);
    });
  }

  private applyHidden(): void {
    for (const b of this.legend.querySelectorAll<HTMLButtonElement>('[data-class]')) b.setAttribute('aria-pressed', String(!this.hidden.has(Number(b.dataset.class))));
    this.scatter.setHidden(this.hidden);
    if (this.hoverIndex >= 0 && this.scatter.isHidden(this.hoverIndex)) this.setHover(-1);
    if (this.kbIndex >= 0 && this.scatter.isHidden(this.kbIndex)) this.setKeyboard(-1);
    this.updateAria();
  }

  // ---------------------------------------------------------------------------
  // Points, codes, decoding

  private pointAt(i: number): [number, number] {
    return [this.points[2 * i], this.points[2 * i + 1]];
  }

  private codeOf(i: number): Float32Array {
    const d = this.payload!.latentDim;
    return this.codes.slice(i * d, (i + 1) * d);
  }

  private describePoint(i: number): string {
    const p = this.payload!;
    const row = p.indices ? p.indices[i] : i;
    const label = this.classes && p.classNames ? ` · ${p.classNames[this.classes[i]]}` : '';
    return `#${row}${label}`;
  }

  /** The latent code for a point of the map. */
  private inverse(x: number, y: number): { code: Float32Array; blended?: number } {
    const p = this.payload!;
    if (p.method === 'raw') return { code: Float32Array.from([x, y]) };
    if (p.method === 'pca' && this.pcaMean && this.pcaComponents) return { code: pcaInverse(x, y, this.pcaMean, this.pcaComponents) };
    const k = p.umap?.blend ?? 8;
    const r = blendNearest(x, y, this.points, this.codes, p.count, p.latentDim, k, this.extentScale);
    return { code: r.code, blended: r.index.length };
  }

  private pickAt(x: number, y: number, index: number): Pick {
    if (index >= 0) {
      const [px, py] = this.pointAt(index);
      return { x: px, y: py, index, code: this.codeOf(index) };
    }
    return { x, y, index: -1, code: this.inverse(x, y).code };
  }

  /** Decoder outputs of one code, when the decoder is here. */
  private decodeValues(code: Float32Array): Float32Array | null {
    return this.decoder ? this.decoder.decode(code) : null;
  }

  private decodePixels(code: Float32Array): Uint8Array | null {
    const v = this.decodeValues(code);
    return v ? toPixels(v, this.payload?.range ?? [0, 1]) : null;
  }

  /** Asks the kernel to decode codes; null (and a note) when it cannot. */
  private async decodeRemote(codes: Float32Array[]): Promise<Uint8Array[] | null> {
    const p = this.payload;
    if (!p?.remote) return null;
    if (!this.host.request) {
      this.kernelProblem = 'Decoding new points needs the kernel that made this map, and there is none here (an exported report, or a renderer without messaging). The points of the map still show their reconstructions.';
      this.updateStatus();
      return null;
    }
    const d = p.latentDim;
    const flat = new Float32Array(codes.length * d);
    codes.forEach((c, i) => flat.set(c, i * d));
    const r = await this.host.request('kernel.latent.decode', { model: p.remote.model, kernel: p.remote.kernel, codes: encodeFloat32(flat), count: codes.length }, { timeoutMs: DECODE_TIMEOUT_MS });
    let problem = '';
    let images: Uint8Array[] | null = null;
    if (!r.ok) {
      problem =
        r.error.code === 'unavailable'
          ? `The kernel is not running (${r.error.message.replace(/\.$/, '')}), so new points cannot be decoded. Run the cell again to explore this map; the points of the map still show their reconstructions.`
          : r.error.code === 'timeout'
            ? 'The kernel did not answer in time (is a long cell running?); try again when it is idle.'
            : `The kernel could not decode: ${r.error.message}`;
    } else {
      const bytes = typeof r.value?.pixels === 'string' ? base64ToBytes(r.value.pixels) : new Uint8Array(0);
      const per = p.image.width * p.image.height * p.image.channels;
      if (r.value?.count !== codes.length || bytes.length !== per * codes.length) problem = `The kernel sent ${bytes.length} bytes for ${codes.length} images; this output cannot use them.`;
      else images = codes.map((_, i) => bytes.subarray(i * per, (i + 1) * per));
    }
    this.kernelProblem = problem;
    this.updateStatus();
    return images;
  }

  // ---------------------------------------------------------------------------
  // Hover and keyboard

  private setHover(i: number): void {
    if (i === this.hoverIndex) return;
    this.hoverIndex = i;
    this.scatter.setMarks({ hover: i });
    this.showPoint(i >= 0 ? i : this.kbIndex);
  }

  private setKeyboard(i: number): void {
    this.kbIndex = i;
    this.scatter.setMarks({ keyboard: i });
    this.showPoint(i);
    if (i >= 0) {
      const [x, y] = this.pointAt(i);
      setText(this.live, `Point ${this.describePoint(i)}, at ${this.coordText(x, y)}. Enter decodes it.`);
    }
  }

  private coordText(x: number, y: number): string {
    const p = this.payload!;
    const [a, b] = p.method === 'pca' ? ['PC1', 'PC2'] : p.method === 'umap' ? ['UMAP 1', 'UMAP 2'] : ['z1', 'z2'];
    return `${a} ${fmt(x)}, ${b} ${fmt(y)}`;
  }

  /** The hover panel: the image of point i and its reconstruction. */
  private showPoint(i: number): void {
    const p = this.payload;
    if (!p) return;
    const { original, reconstruction } = this.hoverImages;
    if (i < 0) {
      setText(this.hoverTitle, this.imagesError || 'Point at a dot to see its image and what the decoder rebuilds from its code');
      clearImage(original);
      clearImage(reconstruction);
      this.hoverFigure.dataset.point = '';
      return;
    }
    setText(this.hoverTitle, this.describePoint(i));
    this.hoverFigure.dataset.point = String(i);
    const per = p.image.width * p.image.height * p.image.channels;
    if (this.originals) drawImage(original, p.image, this.originals.subarray(i * per, (i + 1) * per), this.colormap);
    else clearImage(original);
    const rec = this.reconstructions ? this.reconstructions.subarray(i * per, (i + 1) * per) : this.decodePixels(this.codeOf(i));
    if (rec) drawImage(reconstruction, p.image, rec, this.colormap);
    else clearImage(reconstruction);
    original.setAttribute('aria-label', `Image ${this.describePoint(i)}`);
    reconstruction.setAttribute('aria-label', `Reconstruction of ${this.describePoint(i)}`);
  }

  // ---------------------------------------------------------------------------
  // Picks: click, drag, two picks

  private onPick(x: number, y: number, index: number, phase: 'start' | 'move' | 'end'): void {
    if (!this.payload) return;
    const t0 = performance.now();
    const pick = this.pickAt(x, y, index);
    if (phase === 'start') this.picks = this.picks.length ? [this.picks[this.picks.length - 1], pick] : [pick];
    else this.picks[this.picks.length - 1] = pick;
    this.showPicks();
    if (this.decoder) this.lastDecodeMs = performance.now() - t0;
    if (phase === 'end') {
      const last = this.picks[this.picks.length - 1];
      const what = last.index >= 0 ? `point ${this.describePoint(last.index)}` : this.coordText(last.x, last.y);
      setText(this.live, `Decoded ${what}.${this.picks.length === 2 ? ` Interpolation strip from A to B, ${STRIP_STEPS} images.` : ' Pick a second point for an interpolation strip.'}`);
    }
  }

  private clearPicks(): void {
    this.picks = [];
    this.showPicks();
    setText(this.live, 'Picks cleared.');
  }

  /** Draws the decoded image, the strip and the marks for the current picks. */
  private showPicks(): void {
    const p = this.payload;
    if (!p) return;
    const picks = this.picks;
    const straight = p.method !== 'umap';
    const path = picks.length === 2 && straight ? Array.from({ length: STRIP_STEPS - 2 }, (_, s) => {
      const t = (s + 1) / (STRIP_STEPS - 1);
      return { x: picks[0].x + t * (picks[1].x - picks[0].x), y: picks[0].y + t * (picks[1].y - picks[0].y) };
    }) : [];
    this.scatter.setMarks({ picks: picks.map((q) => ({ x: q.x, y: q.y })), path });
    const last = picks[picks.length - 1];
    if (!last) {
      setText(this.decodedTitle, 'Click the map to decode a point');
      clearImage(this.decodedCanvas);
      this.decodedFigure.dataset.code = '';
      delete this.decodedFigure.dataset.source;
      this.stripRow.replaceChildren();
      this.strip.hidden = true;
      return;
    }
    const label = picks.length === 2 ? 'B' : 'A';
    setText(this.decodedTitle, `${label}: ${last.index >= 0 ? this.describePoint(last.index) : this.coordText(last.x, last.y)}`);
    this.decodedFigure.dataset.code = JSON.stringify(Array.from(last.code));
    this.decodedFigure.dataset.x = String(last.x);
    this.decodedFigure.dataset.y = String(last.y);
    this.decodedCanvas.setAttribute('aria-label', `Decoded image at ${this.coordText(last.x, last.y)}`);
    this.strip.hidden = false;
    if (picks.length < 2) {
      setText(this.stripTitle, 'Pick a second point (click the map again) to see the way from A to B.');
      this.stripRow.replaceChildren();
    } else {
      setText(this.stripTitle, `From A to B in ${STRIP_STEPS} steps: the decoder's images of codes evenly spaced on the straight line between the two codes.`);
    }
    if (this.decoder) {
      drawImage(this.decodedCanvas, p.image, this.decodePixels(last.code)!, this.colormap);
      this.decodedFigure.dataset.state = 'decoded';
      this.decodedFigure.dataset.source = 'output';
      if (picks.length === 2) this.fillStrip(interpolateCodes(picks[0].code, picks[1].code, STRIP_STEPS).map((z) => this.decodePixels(z)!));
      return;
    }
    this.requestRemote();
  }

  /** Remote decoding: one request at a time, always for the latest picks. */
  private requestRemote(): void {
    const p = this.payload;
    const picks = [...this.picks];
    if (!p || !picks.length) return;
    const codes = [picks[picks.length - 1].code, ...(picks.length === 2 ? interpolateCodes(picks[0].code, picks[1].code, STRIP_STEPS) : [])];
    const sig = codes.map((c) => Array.from(c).join(',')).join(';');
    // the same codes again (a redraw, the button let go where it went down): no new request
    if (this.remoteLast?.payload === p && this.remoteLast.sig === sig) {
      if (!this.remoteBusy) this.drawRemote(p, picks, this.remoteLast.images);
      return;
    }
    if (this.remoteBusy) {
      this.remoteQueued = sig !== this.remotePending;
      return;
    }
    this.remoteBusy = true;
    this.remotePending = sig;
    this.decodedFigure.dataset.state = 'waiting';
    void this.decodeRemote(codes).then((images) => {
      this.remoteBusy = false;
      this.remotePending = '';
      if (this.payload !== p) return;
      // only answers are kept: after a failure, the same pick asks again (the kernel may be back)
      this.remoteLast = images ? { payload: p, sig, images } : undefined;
      this.drawRemote(p, picks, images);
      if (this.remoteQueued) {
        this.remoteQueued = false;
        this.requestRemote();
      }
    });
  }

  /** Draws the kernel's images of the picks (the decoded point, and the strip for two picks), or clears them. */
  private drawRemote(p: LatentPayload, picks: Pick[], images: Uint8Array[] | null): void {
    if (images) {
      drawImage(this.decodedCanvas, p.image, images[0], this.colormap);
      this.decodedFigure.dataset.state = 'decoded';
      this.decodedFigure.dataset.source = 'kernel';
      if (picks.length === 2) this.fillStrip(images.slice(1));
    } else {
      clearImage(this.decodedCanvas);
      this.decodedFigure.dataset.state = 'unavailable';
      delete this.decodedFigure.dataset.source;
      if (picks.length === 2) {
        this.stripRow.replaceChildren();
        setText(this.stripTitle, 'From A to B: not decoded, the strip needs the kernel too (see below).');
      }
    }
  }

  private fillStrip(images: Uint8Array[]): void {
    const p = this.payload!;
    const scale = Math.max(1, Math.min(4, Math.round(56 / Math.max(p.image.width, p.image.height))));
    const [a, b] = this.picks;
    const per = p.image.width * p.image.height * p.image.channels;
    const figures: HTMLElement[] = [];
    const input = (q: Pick, name: string) => {
      if (q.index < 0 || !this.originals) return;
      const c = imageCanvas(p.image, scale, `Input image ${name}: ${this.describePoint(q.index)}`);
      drawImage(c, p.image, this.originals.subarray(q.index * per, (q.index + 1) * per), this.colormap);
      figures.push(h('figure', { class: 'aenb-latent-step aenb-latent-input' }, c, h('figcaption', { class: 'aenb-caption' }, `input ${name}`)));
    };
    input(a, 'A');
    // The steps' figures are kept from one pick to the next (a drag redraws the strip at every move):
    // new canvases, each with a new 2-D context, cost more than the decoding itself.
    const geometry = `${p.image.width}x${p.image.height}x${scale}`;
    if (this.stripSteps.geometry !== geometry) this.stripSteps = { geometry, figures: [] };
    images.forEach((px, s) => {
      const t = s / (images.length - 1);
      let step = this.stripSteps.figures[s];
      if (!step) {
        const canvas = imageCanvas(p.image, scale, '');
        const caption = h('figcaption', { class: 'aenb-caption' });
        step = { figure: h('figure', { class: 'aenb-latent-step' }, canvas, caption), canvas, caption };
        this.stripSteps.figures[s] = step;
      }
      step.canvas.setAttribute('aria-label', `Decoded at t = ${t.toFixed(2)} of the way from A to B`);
      setText(step.caption, s === 0 ? 'A' : s === images.length - 1 ? 'B' : `t ${t.toFixed(2)}`);
      drawImage(step.canvas, p.image, px, this.colormap);
      figures.push(step.figure);
    });
    input(b, 'B');
    this.stripRow.replaceChildren(...figures);
  }

  private redrawImages(): void {
    this.showPoint(this.hoverIndex >= 0 ? this.hoverIndex : this.kbIndex);
    this.showPicks();
  }

  // ---------------------------------------------------------------------------
  // Status and accessibility

  private updateStatus(): void {
    const p = this.payload;
    if (!p) return;
    let text: string;
    let problem = false;
    if (this.decoder) {
      const layers = p.decoder!.layers.filter((l) => l.type === 'dense').length;
      text = `Decoding here, in the output: ${layers} dense layer${layers === 1 ? '' : 's'}, ${formatCount(this.decoder.cost)} multiply-adds per image. Works offline and in exported reports.`;
    } else if (this.kernelProblem) {
      text = this.kernelProblem;
      problem = true;
    } else {
      text = `Decoding in the kernel${p.remote?.reason ? ` (the decoder cannot run here: ${p.remote.reason})` : ''}.`;
    }
    setText(this.status, text);
    this.status.classList.toggle('aenb-latent-problem', problem);
    setAttr(this.status, 'role', problem ? 'alert' : null);
    setText(this.decodedNote, problem ? 'Not decoded: see below.' : '');
  }

  private updateAria(): void {
    const p = this.payload;
    if (!p) return;
    const classes = p.classNames?.length ? `, ${p.classNames.length} classes${this.hidden.size ? ` (${this.hidden.size} hidden)` : ''}` : '';
    const how = p.method === 'raw' ? 'drawn as they are' : `projected by ${methodLabel(p)}`;
    this.scatter.overlay.setAttribute('aria-label', `Latent map: ${formatCount(p.count)} ${p.subject ?? 'samples'}, ${p.latentDim}-D codes ${how}${classes}.`);
  }
}

/** A CSS colour value (possibly a var()) as a colour a canvas accepts. */
function resolveColor(el: Element, value: string): string {
  const probe = document.createElement('span');
  probe.style.display = 'none';
  probe.style.color = value;
  el.appendChild(probe);
  const c = getComputedStyle(probe).color;
  probe.remove();
  return c || '#1a85ff';
}

export const view: ViewPart<LatentPayload> = { create: (host) => new LatentView(host) };
