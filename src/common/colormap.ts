// Colormaps for grayscale images: the renderer's canvases and the kernel's
// PNG fallback apply the same tables. Pure: no Node, no DOM.

export type Colormap = 'viridis' | 'gray';
export const COLORMAPS: readonly Colormap[] = ['viridis', 'gray'];

/**
 * The colormap of grayscale images when the cell names none: one rule for
 * every output that draws them (show.images, show.reconstructions,
 * show.errors, show.latent, show.interpolate, callbacks.latentView), in the
 * renderer, the PNG fallback and the HTML report alike. Every one of them
 * draws pictures of the data (a data set's images, a model's reconstructions,
 * decoded codes), and a picture is shown as the picture it is: gray, an MNIST
 * digit white on black, the way the data set and the eye know it. viridis is
 * for values that are not a picture (a heat map, a layer's weights, a
 * per-pixel error), where a perceptually uniform scale reads better: pass
 * `{ colormap: 'viridis' }` for those. Each output's Colormap menu switches.
 */
export const DEFAULT_COLORMAP: Colormap = 'gray';

/** The colormap an output starts with: the one its payload names, else DEFAULT_COLORMAP. */
export function colormapOrDefault(given: Colormap | undefined): Colormap {
  return given ?? DEFAULT_COLORMAP;
}

// viridis by Stéfan van der Walt, Nathaniel Smith and Eric Firing (CC0), as in
// matplotlib: every 8th of its 256 entries plus the last; intermediate entries
// are linearly interpolated (within 1/255 of the original table).
const VIRIDIS_STOPS: readonly (readonly [number, number, number])[] = [
  [0.267004, 0.004874, 0.329415], [0.277018, 0.050344, 0.375715], [0.282327, 0.094955, 0.417331], [0.282884, 0.13592, 0.453427],
  [0.278826, 0.17549, 0.483397], [0.270595, 0.214069, 0.507052], [0.258965, 0.251537, 0.524736], [0.244972, 0.287675, 0.53726],
  [0.229739, 0.322361, 0.545706], [0.214298, 0.355619, 0.551184], [0.19943, 0.387607, 0.554642], [0.185556, 0.41857, 0.556753],
  [0.172719, 0.448791, 0.557885], [0.160665, 0.47854, 0.558115], [0.149039, 0.508051, 0.55725], [0.13777, 0.537492, 0.554906],
  [0.127568, 0.566949, 0.550556], [0.120565, 0.596422, 0.543611], [0.120638, 0.625828, 0.533488], [0.132268, 0.655014, 0.519661],
  [0.157851, 0.683765, 0.501686], [0.196571, 0.711827, 0.479221], [0.24607, 0.73891, 0.452024], [0.304148, 0.764704, 0.419943],
  [0.369214, 0.788888, 0.382914], [0.440137, 0.811138, 0.340967], [0.515992, 0.831158, 0.294279], [0.595839, 0.848717, 0.243329],
  [0.678489, 0.863742, 0.189503], [0.762373, 0.876424, 0.137064], [0.845561, 0.887322, 0.099702], [0.926106, 0.89733, 0.104071],
  [0.993248, 0.906157, 0.143936],
];

const lutCache = new Map<Colormap, Uint8Array>();

/** 256 RGB triples (768 bytes): the color of grayscale value v is lut[3v..3v+2]. */
export function colormapLut(name: Colormap): Uint8Array {
  let lut = lutCache.get(name);
  if (lut) return lut;
  lut = new Uint8Array(768);
  for (let v = 0; v < 256; v++) {
    if (name === 'gray') {
      lut[3 * v] = lut[3 * v + 1] = lut[3 * v + 2] = v;
      continue;
    }
    const k = Math.min(31, v >> 3);
    const x0 = k * 8;
    const x1 = k === 31 ? 255 : x0 + 8;
    const t = (v - x0) / (x1 - x0);
    const a = VIRIDIS_STOPS[k];
    const b = VIRIDIS_STOPS[k + 1];
    for (let c = 0; c < 3; c++) lut[3 * v + c] = Math.round((a[c] + (b[c] - a[c]) * t) * 255);
  }
  lutCache.set(name, lut);
  return lut;
}

/** RGBA pixels (for a canvas ImageData) of one image under a colormap. */
export function imageToRgba(width: number, height: number, pixels: Uint8Array, channels: 1 | 3, colormap: Colormap): Uint8ClampedArray {
  const n = width * height;
  if (pixels.length < n * channels) throw new Error(`image data has ${pixels.length} bytes, expected ${n * channels}`);
  const out = new Uint8ClampedArray(n * 4);
  if (channels === 3) {
    for (let i = 0; i < n; i++) {
      out[4 * i] = pixels[3 * i];
      out[4 * i + 1] = pixels[3 * i + 1];
      out[4 * i + 2] = pixels[3 * i + 2];
      out[4 * i + 3] = 255;
    }
  } else {
    const lut = colormapLut(colormap);
    for (let i = 0; i < n; i++) {
      const v = pixels[i] * 3;
      out[4 * i] = lut[v];
      out[4 * i + 1] = lut[v + 1];
      out[4 * i + 2] = lut[v + 2];
      out[4 * i + 3] = 255;
    }
  }
  return out;
}

