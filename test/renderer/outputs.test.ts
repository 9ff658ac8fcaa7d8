// The output contract's pure helpers (no browser): encodings, PNG encoder,
// colormaps, totals, text fallbacks, decimation and the markdown converter.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';
import {
  IMAGES_MIME,
  SUMMARY_MIME,
  TRAINING_MIME,
  base64ToBytes,
  bytesToBase64,
  checkImagesPayload,
  checkTrainingPayload,
  colormapLut,
  crc32,
  decodeBatchSeries,
  decodeFloat32,
  encodeFloat32,
  encodePng,
  formatShape,
  historyText,
  imagesOutputItems,
  imagesPng,
  imagesText,
  isRendererToHostMessage,
  summaryOutputItems,
  summaryText,
  trainingOutputItems,
  unitFloatsToUint8,
} from '../../src/outputs';
import { decimateForView, decimateRange } from '../../src/outputs/training/decimate';
import { escapeHtml, markdownInline, markdownToHtml } from '../../src/report';
import { imagesFixture, rng, summaryFixture, trainingFixture } from './fixtures';

/** Minimal PNG reader: checks chunk CRCs, inflates IDAT, undoes filters 0-2. */
function readPng(png: Uint8Array): { width: number; height: number; colorType: number; pixels: Uint8Array } {
  assert.deepEqual([...png.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10]);
  const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let o = 8;
  let width = 0;
  let height = 0;
  let colorType = 0;
  const idat: Uint8Array[] = [];
  while (o < png.length) {
    const len = dv.getUint32(o);
    const type = String.fromCharCode(...png.subarray(o + 4, o + 8));
    assert.equal(dv.getUint32(o + 8 + len), crc32(png, o + 4, o + 8 + len), `CRC of ${type}`);
    if (type === 'IHDR') {
      width = dv.getUint32(o + 8);
      height = dv.getUint32(o + 12);
      assert.equal(png[o + 16], 8);
      colorType = png[o + 17];
    } else if (type === 'IDAT') idat.push(png.subarray(o + 8, o + 8 + len));
    o += 12 + len;
  }
  const ch = colorType === 2 ? 3 : 1;
  const raw = new Uint8Array(inflateSync(Buffer.concat(idat)));
  const stride = width * ch;
  const pixels = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)];
    for (let x = 0; x < stride; x++) {
      const v = raw[y * (stride + 1) + 1 + x];
      const up = y > 0 ? pixels[(y - 1) * stride + x] : 0;
      const left = x >= ch ? pixels[y * stride + x - ch] : 0;
      pixels[y * stride + x] = (f === 0 ? v : f === 1 ? v + left : f === 2 ? v + up : NaN) & 0xff;
      assert.ok(f <= 2, `filter ${f}`);
    }
  }
  return { width, height, colorType, pixels };
}

describe('encodings', () => {
  test('base64 matches Node for all lengths and round-trips', () => {
    const r = rng(1);
    for (let n = 0; n < 300; n++) {
      const b = new Uint8Array(n).map(() => Math.floor(r() * 256));
      const s = bytesToBase64(b);
      assert.equal(s, Buffer.from(b).toString('base64'));
      assert.deepEqual(base64ToBytes(s), b);
    }
    assert.throws(() => base64ToBytes('ab$d'), /invalid base64/);
  });

  test('Float32 encoding is compact and exact for float32 values', () => {
    const v = [0.1, -2, 1e-8, NaN, Infinity, 123456.789];
    const back = decodeFloat32(encodeFloat32(v));
    assert.equal(back.length, v.length);
    v.forEach((x, i) => (Number.isNaN(x) ? assert.ok(Number.isNaN(back[i])) : assert.equal(back[i], Math.fround(x))));
    const big = encodeFloat32(new Float32Array(190_000));
    assert.equal(big.length, Math.ceil(760_000 / 3) * 4, 'base64 of 760,000 bytes');
  });

  test('per-batch series decode with the default x (fractional epochs)', () => {
    const p = trainingFixture({ epochs: 3, done: 2, batch: 5, batchesPerEpoch: 10 });
    const { x, y } = decodeBatchSeries(p);
    assert.equal(x.length, 25);
    assert.equal(y.length, 25);
    assert.equal(x[9], 1);
    assert.equal(x[24], 2.5);
  });

  test('unit floats to uint8 clamp and round', () => {
    assert.deepEqual([...unitFloatsToUint8([-1, 0, 0.5, 1, 2, NaN])], [0, 0, 128, 255, 255, 0]);
  });
});

describe('PNG encoder', () => {
  test('grayscale and RGB images decode to the same pixels (zlib, CRC, Adler-32)', () => {
    const r = rng(5);
    for (const [w, h, ch] of [[1, 1, 1], [28, 28, 1], [31, 7, 3], [300, 200, 1]] as const) {
      const px = new Uint8Array(w * h * ch).map((_, i) => (i % 17 < 8 ? 0 : Math.floor(r() * 256)));
      const png = encodePng(w, h, px, ch);
      const got = readPng(png);
      assert.equal(got.width, w);
      assert.equal(got.height, h);
      assert.equal(got.colorType, ch === 3 ? 2 : 0);
      assert.deepEqual(got.pixels, px);
    }
    assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  });

  test('the grid PNG fallback has the grid layout and colormap', () => {
    const p = imagesFixture(4);
    const png = imagesPng(p, { scale: 2, gap: 2, colormap: 'gray' });
    assert.ok(png);
    const got = readPng(png);
    assert.equal(got.width, 4 * 56 + 3 * 2);
    assert.equal(got.height, 3 * 56 + 2 * 2);
    // pixel (0,0) of image 0 of row 0, scaled 2x, in gray: r = g = b = the data value
    const first = base64ToBytes(p.rows[0].images[0].data);
    const at = (x: number, y: number) => [...got.pixels.subarray(3 * (y * got.width + x), 3 * (y * got.width + x) + 3)];
    assert.deepEqual(at(2 * 14 + 1, 2 * 10), [first[10 * 28 + 14], first[10 * 28 + 14], first[10 * 28 + 14]]);
    assert.deepEqual(at(56, 0), [255, 255, 255], 'gap is white');
    const lut = colormapLut('viridis');
    assert.deepEqual([...lut.subarray(0, 3)], [68, 1, 84]);
    assert.deepEqual([...lut.subarray(3 * 128, 3 * 128 + 3)], [33, 145, 140]);
    assert.deepEqual([...lut.subarray(765, 768)], [253, 231, 37]);
  });

  test("the PNG fallback follows the one colormap rule: gray when the payload names none, else the payload's", () => {
    const v = 10 * 28 + 14;
    const pixel = (png: Uint8Array) => {
      const got = readPng(png);
      return [...got.pixels.subarray(3 * (10 * got.width + 14), 3 * (10 * got.width + 14) + 3)];
    };
    const plain = imagesFixture(2);
    assert.equal(plain.colormap, undefined);
    const value = base64ToBytes(plain.rows[0].images[0].data)[v];
    assert.deepEqual(pixel(imagesPng(plain, { scale: 1 })!), [value, value, value], 'gray by default');
    const named = imagesFixture(2, { colormap: 'viridis' });
    const lut = colormapLut('viridis');
    assert.deepEqual(pixel(imagesPng(named, { scale: 1 })!), [...lut.subarray(3 * value, 3 * value + 3)], "the payload's viridis");
  });
});

describe('payloads and text fallbacks', () => {
  test('every output carries a text/plain fallback; grids an image/png', () => {
    const t = trainingOutputItems(trainingFixture({ epochs: 5, done: 2, batch: 3, batchesPerEpoch: 10 }));
    assert.deepEqual(t.map((i) => i.mime), [TRAINING_MIME, 'text/plain']);
    const im = imagesOutputItems(imagesFixture(3));
    assert.deepEqual(im.map((i) => i.mime), [IMAGES_MIME, 'image/png', 'text/plain']);
    const s = summaryOutputItems(summaryFixture());
    assert.deepEqual(s.map((i) => i.mime), [SUMMARY_MIME, 'text/plain']);
    assert.equal(checkTrainingPayload(JSON.parse(new TextDecoder().decode(t[0].data))), undefined);
    assert.equal(checkImagesPayload(JSON.parse(new TextDecoder().decode(im[0].data))), undefined);
  });

  test('historyText reads like Keras', () => {
    const running = historyText(trainingFixture({ epochs: 5, done: 2, batch: 3, batchesPerEpoch: 10 }));
    const lines = running.split('\n');
    assert.match(lines[0], /^Epoch 1\/5 - loss: 0\.\d{4} - val_loss: 0\.\d{4}$/);
    assert.match(lines[2], /^Epoch 3\/5 \[=*>\.*\] 3\/10 - 5,321 samples\/s - ETA \d+s$/);
    assert.match(historyText(trainingFixture({ epochs: 2 })), /Done: 2 epochs in \d+s$/);
    assert.match(historyText(trainingFixture({ epochs: 1 })), /Done: 1 epoch in \d+s$/);
  });

  test('summary totals count tied weights once; summaryText prints the Keras table', () => {
    const s = summaryFixture();
    assert.deepEqual(s.totals, { total: 82414, trainable: 82414, nonTrainable: 0, shared: 81400 });
    const text = summaryText(s);
    assert.match(text, /^Model: "stacked_autoencoder" \(StackedAutoencoder\)/);
    assert.match(text, /transposed_dense_1 \(TransposedDense\)\s+\(None, 784\)\s+79,184\*\s+tied: kernel of dense \(transposed\)/);
    assert.match(text, /Total params: 82,414 \(321\.93 KB\)/);
    assert.match(text, /Non-trainable params: 0 \(0 B\)/);
    assert.match(text, /\* Shared \(tied\) weights: 81,400 params counted once/);
    assert.equal(formatShape([null, 28, 28]), '(None, 28, 28)');
    assert.equal(formatShape([null]), '(None,)');
  });

  test('imagesText summarises the grid', () => {
    assert.equal(imagesText(imagesFixture(2, { title: 'T' })).split('\n')[0], 'T: 6 images of 28x28 in 3 rows');
  });

  test('validation names the problem', () => {
    assert.match(checkTrainingPayload({ runId: 'a', state: 'bogus' }) ?? '', /state/);
    assert.match(checkImagesPayload({ rows: [{ title: 1, images: [] }] }) ?? '', /rows\[0\]/);
    assert.ok(isRendererToHostMessage({ type: 'request', id: '1', method: 'interrupt', params: { runId: 'r' } }));
    assert.ok(!isRendererToHostMessage({ type: 'interrupt', runId: 'r' }));
  });
});

describe('decimation', () => {
  test('keeps the extremes of every column and bounds the count', () => {
    const n = 190_000;
    const x = new Float64Array(n).map((_, i) => (i + 1) / 1900);
    const r = rng(3);
    const y = new Float32Array(n).map(() => r());
    y[12345] = 5; // a spike
    y[150000] = -5; // a dip
    const idx = decimateForView(x, y, 0, 100, 800);
    assert.ok(idx.length <= 4 * 800 + 2, `${idx.length} points`);
    assert.ok(idx.includes(12345) && idx.includes(150000), 'spike and dip survive');
    for (let i = 1; i < idx.length; i++) assert.ok(idx[i] > idx[i - 1], 'ascending, no repeats');
    assert.equal(idx[0], 0);
    assert.equal(idx[idx.length - 1], n - 1);
  });

  test('zoomed views get per-pixel detail inside and an outline outside', () => {
    const n = 10_000;
    const x = new Float64Array(n).map((_, i) => i);
    const y = new Float32Array(n).map((_, i) => Math.sin(i));
    const idx = decimateForView(x, y, 5000, 5100, 400);
    const inside = idx.filter((i) => x[i] >= 5000 && x[i] <= 5100);
    assert.equal(inside.length, 101, 'all points in a narrow view');
    assert.ok(idx.length < 101 + 2 * 4 * 64 + 4);
    assert.equal(idx[0], 0);
    assert.equal(idx[idx.length - 1], n - 1);
  });

  test('NaN values are skipped, small inputs pass through', () => {
    const idx = decimateRange([1, 2, 3, 4], [1, NaN, 3, 4], 0, 4, 1, 4, 100);
    assert.deepEqual(idx, [0, 2, 3]);
  });
});

describe('markdown converter', () => {
  test('headings, emphasis, code, lists, tables, links', () => {
    const html = markdownToHtml(
      [
        '# Title',
        '',
        'Some **bold**, *em*, `code` and a [link](https://example.com/a?b=1&c=2).',
        '',
        '- one',
        '- two',
        '  - nested',
        '',
        '1. first',
        '2. second',
        '',
        '| a | b |',
        '|:--|--:|',
        '| 1 | 2 |',
        '',
        '```ts',
        'const x = a < b;',
        '```',
        '',
        'Math $28 \\times 28$ stays.',
      ].join('\n'),
    );
    assert.match(html, /<h1>Title<\/h1>/);
    assert.match(html, /<strong>bold<\/strong>, <em>em<\/em>, <code>code<\/code>/);
    assert.match(html, /<a href="https:\/\/example\.com\/a\?b=1&amp;c=2" rel="noopener noreferrer" target="_blank">link<\/a>/);
    assert.match(html, /<ul>\n?<li>one<\/li>\n?<li>two\n?<ul>\n?<li>nested<\/li>\n?<\/ul>\n?<\/li>\n?<\/ul>/);
    assert.match(html, /<ol>\n?<li>first<\/li>\n?<li>second<\/li>\n?<\/ol>/);
    assert.match(html, /<th style="text-align:left">a<\/th>\n?<th style="text-align:right">b<\/th>/);
    assert.match(html, /<pre class="md-code"><code class="language-ts">const x = a &lt; b;<\/code><\/pre>/);
    assert.match(html, /<span class="md-math">\$28 \\times 28\$<\/span>/);
  });

  test('untrusted markup is escaped or dropped; only http(s) links', () => {
    const html = markdownToHtml('<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n[a](javascript:alert(1)) [b](data:text/html,x) <b onclick="x()">bold</b>\n\n"quotes" & \'apostrophes\'');
    assert.ok(!/<script|onerror|onclick|javascript:|data:text/i.test(html.replace(/&lt;|&gt;/g, '')), html);
    assert.match(html, /<span class="md-link">a<\/span>/);
    assert.match(html, /&quot;quotes&quot; &amp; &#39;apostrophes&#39;/);
    assert.equal(markdownInline('<div><img src="logo.png" alt="ETSISI logo" /></div>'), '<span class="md-img">[image: ETSISI logo]</span>');
    assert.equal(escapeHtml(`<a href="x">'&`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;');
  });
});
