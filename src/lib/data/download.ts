/**
 * Downloads one data-set file into the cache: streamed to a temporary file,
 * decompressed on the fly if gzipped, verified by the SHA-256 of the
 * decompressed bytes, and only then renamed into place. Every failure
 * (HTTP error, truncation, checksum mismatch, cancellation, stall, a rate
 * below the minimum, the overall deadline, more data than the file has, a
 * full disk) removes the temporary file; so does the process exiting, and a
 * temporary file of a process that died anyway is swept by the next download.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createWriteStream, unlinkSync, type WriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import { basename, dirname, join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, type Gunzip } from 'node:zlib';
import { DatasetError } from './errors';
import { checkIdxHeader, IdxError, type IdxExpectation } from './idx';
import { identifyChecksum, MANIFESTS } from './manifest';

/** Progress of one file's download. */
export interface DownloadProgress {
  /** Data set name, e.g. "mnist". */
  dataset: string;
  /** File name, e.g. "train-images-idx3-ubyte". */
  file: string;
  /** Bytes received so far (as sent by the server, i.e. compressed). */
  bytes: number;
  /** Bytes the server announced (Content-Length), when it did. */
  total?: number;
  /** Average rate since the response started. */
  bytesPerSecond: number;
}

export interface DownloadOptions {
  /** Cancels the download; the temporary file is removed and a `cancelled` error thrown. */
  signal?: AbortSignal;
  /** Called with progress, at most every `progressIntervalMs`, and once at the end. */
  onProgress?: (progress: DownloadProgress) => void;
  /**
   * Give up (`stalled`) when no byte arrives for this long; also the window
   * over which the minimum rate is checked. Default 30 000 ms.
   */
  timeoutMs?: number;
  /**
   * Give up (`too-slow`) when fewer bytes than this per second arrive over a
   * whole window of `timeoutMs` (a mirror that trickles a byte now and then
   * would otherwise never time out). Default 4096; 0 turns the check off.
   */
  minBytesPerSecond?: number;
  /** Give up (`timeout`) when the file has not arrived after this long in all. Default 30 minutes. */
  deadlineMs?: number;
  /** How many HTTP redirects to follow. Default 5. */
  maxRedirects?: number;
  /** Minimum time between two progress reports. Default 250 ms. */
  progressIntervalMs?: number;
}

/** What to download and where to put it. */
export interface DownloadTarget {
  url: string;
  /** Final path of the uncompressed, verified file. Its folder is created if needed. */
  dest: string;
  /** Expected SHA-256 (hex) of the uncompressed content. */
  sha256: string;
  /**
   * Expected size of the uncompressed content. A server that sends more (an
   * endless stream, a gzip bomb) is cut off there; one that announces more is
   * refused before anything is written.
   */
  size?: number;
  /** What the file must be (for saying what is wrong with wrong content). */
  expect?: IdxExpectation;
  /** For progress reports and messages. */
  dataset: string;
  file: string;
}

export interface DownloadResult {
  path: string;
  /** The URL the data finally came from (after redirects). */
  url: string;
  /** Bytes received over the network. */
  bytes: number;
  /** Bytes written (uncompressed). */
  size: number;
  /** Whether the server sent gzip data (which was decompressed). */
  gzipped: boolean;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MIN_BYTES_PER_SECOND = 4096;
export const DEFAULT_DEADLINE_MS = 30 * 60 * 1000;
const DEFAULT_MAX_REDIRECTS = 5;
const DEFAULT_PROGRESS_INTERVAL_MS = 250;
/** Temporary files untouched for this long belong to a process that died; they are swept. */
const STALE_TEMP_MS = 60 * 60 * 1000;
const TEMP_SUFFIX = '.part';

/** True for the names of this module's temporary files. */
export function isTempFileName(name: string): boolean {
  return name.startsWith('.') && name.endsWith(TEMP_SUFFIX);
}

/** The process id in a temporary file's name (`.<file>.<pid>.<random>.part`). */
function tempOwner(name: string): number | undefined {
  const m = /\.(\d+)\.[0-9a-f]+\.part$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Temporary files of downloads in progress in this process, removed if the process exits meanwhile. */
const inFlight = new Set<string>();
let exitHookInstalled = false;

function track(temp: string): void {
  inFlight.add(temp);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const f of inFlight) {
      try {
        unlinkSync(f);
      } catch {
        // Gone already.
      }
    }
  });
}

/** Most bytes a server may send for a file of `size` uncompressed bytes (gzip adds a little to data it cannot shrink). */
function networkLimit(size: number): number {
  return size + Math.ceil(size / 64) + 64 * 1024;
}

function formatBytes(n: number): string {
  if (n < 10_000) return `${n} bytes`;
  if (n < 10_000_000) return `${(n / 1000).toFixed(0)} kB`;
  return `${(n / 1e6).toFixed(1)} MB`;
}

/** Thrown inside the pipeline when the server sends more than the file can hold. */
class TooLarge extends Error {
  constructor(readonly kind: 'network' | 'content', readonly limit: number) {
    super(`more than ${limit} bytes`);
  }
}

/** Passes gzip data through a gunzip stream and anything else through unchanged. */
class MaybeGunzip extends Transform {
  gzipped: boolean | undefined;
  private head: Buffer[] = [];
  private headLength = 0;
  private inner: Gunzip | undefined;
  private innerEnded: Promise<void> | undefined;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.gzipped !== undefined) return this.forward(chunk, callback);
    this.head.push(chunk);
    this.headLength += chunk.length;
    if (this.headLength < 2) return callback();
    const head = Buffer.concat(this.head);
    this.head = [];
    this.start(head[0] === 0x1f && head[1] === 0x8b);
    this.forward(head, callback);
  }

  private start(gzipped: boolean): void {
    this.gzipped = gzipped;
    if (!gzipped) return;
    const inner = createGunzip();
    inner.on('data', (data: Buffer) => this.push(data));
    this.innerEnded = new Promise((resolve, reject) => {
      inner.once('end', resolve);
      inner.once('error', reject);
    });
    this.innerEnded.catch((err: Error) => this.destroy(err));
    this.inner = inner;
  }

  private forward(chunk: Buffer, callback: TransformCallback): void {
    if (this.inner === undefined) {
      callback(null, chunk);
      return;
    }
    // The callback fires once zlib has consumed the chunk: that is the backpressure.
    this.inner.write(chunk, () => callback());
  }

  override _flush(callback: TransformCallback): void {
    if (this.gzipped === undefined) {
      // Fewer than two bytes in all: not gzip.
      this.gzipped = false;
      callback(null, Buffer.concat(this.head));
      return;
    }
    if (this.inner === undefined) return callback();
    this.inner.end();
    this.innerEnded!.then(() => callback(), (err: Error) => callback(err));
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.inner?.destroy();
    callback(err);
  }
}

const HEAD_BYTES = 64;

/**
 * Counts bytes and hashes them on their way through; keeps the first bytes to
 * describe wrong content; stops the stream at `limit` bytes.
 */
class Digest extends Transform {
  readonly hash: Hash = createHash('sha256');
  size = 0;
  head = Buffer.alloc(0);

  constructor(private readonly limit: number | undefined) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.limit !== undefined && this.size + chunk.length > this.limit) {
      callback(new TooLarge('content', this.limit));
      return;
    }
    this.hash.update(chunk);
    if (this.head.length < HEAD_BYTES) this.head = Buffer.concat([this.head, chunk.subarray(0, HEAD_BYTES - this.head.length)]);
    this.size += chunk.length;
    callback(null, chunk);
  }
}

/** Counts network bytes, feeds the stall watchdog and reports progress. */
class Meter extends Transform {
  bytes = 0;
  private lastReport = 0;
  private readonly started = Date.now();

  constructor(
    private readonly onChunk: () => void,
    private readonly report: ((p: DownloadProgress) => void) | undefined,
    private readonly base: { dataset: string; file: string; total?: number },
    private readonly intervalMs: number,
    private readonly limit: number | undefined,
  ) {
    super();
  }

  progress(): DownloadProgress {
    const seconds = Math.max((Date.now() - this.started) / 1000, 1e-3);
    const p: DownloadProgress = { dataset: this.base.dataset, file: this.base.file, bytes: this.bytes, bytesPerSecond: Math.round(this.bytes / seconds) };
    if (this.base.total !== undefined) p.total = this.base.total;
    return p;
  }

  reportProgress(force: boolean): void {
    if (this.report === undefined) return;
    const now = Date.now();
    if (!force && now - this.lastReport < this.intervalMs) return;
    this.lastReport = now;
    try {
      this.report(this.progress());
    } catch {
      // A failing progress display must not break the download.
    }
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.limit !== undefined && this.bytes + chunk.length > this.limit) {
      callback(new TooLarge('network', this.limit));
      return;
    }
    this.bytes += chunk.length;
    this.onChunk();
    this.reportProgress(false);
    callback(null, chunk);
  }
}

function requestOnce(url: URL, signal: AbortSignal): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const client = url.protocol === 'https:' ? https : http;
    const req = client.get(url, {
      signal,
      agent: false,
      headers: { 'user-agent': 'autoencoder-notebooks (data-set loader)', 'accept-encoding': 'identity' },
    }, resolve);
    req.once('error', reject);
  });
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** GET with redirects; resolves with a 200 response or throws a specific DatasetError. */
async function get(start: string, signal: AbortSignal, maxRedirects: number, onActivity: () => void): Promise<{ res: http.IncomingMessage; url: URL }> {
  let url: URL;
  try {
    url = new URL(start);
  } catch {
    throw new DatasetError('bad-option', `Cannot download from "${start}": not a valid URL. Check the mirror setting.`, { url: start });
  }
  for (let hop = 0; ; hop++) {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new DatasetError(hop === 0 ? 'bad-option' : 'redirect',
        `Cannot download from ${url.href}: only http and https URLs are supported.${hop === 0 ? ' Check the mirror setting.' : ` (reached by redirect from ${start})`}`, { url: url.href });
    }
    const res = await requestOnce(url, signal);
    onActivity();
    const status = res.statusCode ?? 0;
    if (REDIRECTS.has(status)) {
      res.resume();
      const location = res.headers.location;
      if (location === undefined) {
        throw new DatasetError('redirect', `HTTP ${status} redirect without a Location header from ${url.href}.`, { url: url.href });
      }
      if (hop >= maxRedirects) {
        throw new DatasetError('redirect', `Too many redirects (more than ${maxRedirects}) starting at ${start}; last one from ${url.href} to ${location}. Check the mirror setting.`, { url: start });
      }
      url = new URL(location, url);
      continue;
    }
    if (status !== 200) {
      res.resume();
      const hint = status === 404 ? ' The file is not at this address; check the mirror setting.'
        : status >= 500 ? ' The server has a problem; try again later or use another mirror.' : '';
      throw new DatasetError('http-status', `HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''} for ${url.href}.${hint}`, { url: url.href });
    }
    return { res, url };
  }
}

/** Says what is wrong with content whose checksum does not match: the IDX reader's verdict on its header and length. */
function describeContent(head: Buffer, size: number, sha256: string, target: DownloadTarget): string {
  const known = identifyChecksum(sha256);
  if (known !== undefined) return ` This is ${MANIFESTS[known.dataset].title}'s ${MANIFESTS[known.dataset].files[known.role].name}: the source serves the wrong file.`;
  const text = head.toString('latin1');
  if (/^\s*</.test(text)) return ' The server sent text that looks like an HTML page (a login or error page?), not the data.';
  try {
    const header = checkIdxHeader(head, size, target.file, target.expect);
    const shape = header.shape.join('x');
    return ` It is a well-formed IDX file (${shape} ${header.dtype}) but not the official one: different or altered data.`;
  } catch (err) {
    if (err instanceof IdxError) return ` What is wrong with it: ${err.problem}: expected ${err.expected}, found ${err.found}.`;
    return '';
  }
}

/** Closes `stream` (destroying it if still open) and waits until its file descriptor is released. */
function closed(stream: WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.closed) return resolve();
    stream.once('close', () => resolve());
    stream.once('error', () => undefined);
    if (!stream.destroyed) stream.destroy();
  });
}

/**
 * Removes temporary files that a dead process left behind (best effort): those
 * whose process is gone, and any untouched for an hour.
 */
async function sweepStaleTemps(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  const now = Date.now();
  await Promise.all(names.filter(isTempFileName).map(async (name) => {
    try {
      const owner = tempOwner(name);
      if (owner !== undefined && owner !== process.pid && !processAlive(owner)) {
        // Its download ended with its process (killed, or Ctrl-C in a terminal).
        await rm(join(dir, name), { force: true });
        return;
      }
      const st = await stat(join(dir, name));
      if (now - st.mtimeMs > STALE_TEMP_MS) await rm(join(dir, name), { force: true });
    } catch {
      // Someone else removed or renamed it: fine.
    }
  }));
}

/**
 * Downloads `target.url` to `target.dest` (uncompressed), verifying the SHA-256
 * of the uncompressed content before the file appears at `dest`.
 * @throws DatasetError with code http-status, redirect, network, truncated,
 *   corrupt, checksum, too-large, cancelled, stalled, too-slow, timeout,
 *   disk-full, bad-option or io
 */
export async function downloadVerified(target: DownloadTarget, opts: DownloadOptions = {}): Promise<DownloadResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const minRate = opts.minBytesPerSecond ?? DEFAULT_MIN_BYTES_PER_SECOND;
  const deadlineMs = opts.deadlineMs ?? DEFAULT_DEADLINE_MS;
  const what = `${target.file} (${target.dataset})`;
  const cancelled = (bytes: number) =>
    new DatasetError('cancelled', `Download of ${what} from ${target.url} was cancelled${bytes > 0 ? ` after ${bytes} bytes` : ''}; nothing was kept.`, { url: target.url, file: target.file });
  if (opts.signal?.aborted) throw cancelled(0);

  const dir = dirname(target.dest);
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw new DatasetError('io', `Cannot create the cache folder ${dir}: ${(err as Error).message}. Set another cache folder or fix its permissions.`, { file: target.dest, cause: err });
  }
  await sweepStaleTemps(dir);
  const temp = join(dir, `.${basename(target.dest)}.${process.pid}.${randomBytes(4).toString('hex')}${TEMP_SUFFIX}`);

  const controller = new AbortController();
  let reason: 'cancelled' | 'stalled' | 'too-slow' | 'timeout' | undefined;
  const stop = (why: NonNullable<typeof reason>) => {
    reason ??= why;
    controller.abort();
  };
  const onAbort = () => stop('cancelled');
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  let watchdog: NodeJS.Timeout | undefined;
  let lastActivity = Date.now();
  const kick = () => {
    lastActivity = Date.now();
    clearTimeout(watchdog);
    watchdog = setTimeout(() => stop('stalled'), timeoutMs);
  };
  const started = Date.now();
  const deadline = setTimeout(() => stop('timeout'), deadlineMs);
  let rateCheck: NodeJS.Timeout | undefined;
  let windowStartBytes = 0;
  let slowWindowBytes = 0;

  let out: WriteStream | undefined;
  let meter: Meter | undefined;
  let decoder: MaybeGunzip | undefined;
  let total: number | undefined;
  let url = target.url;
  let done = false;
  try {
    try {
      out = createWriteStream(temp, { flags: 'wx' });
      const opening = out;
      await new Promise<void>((resolve, reject) => {
        opening.once('open', () => resolve());
        opening.once('error', reject);
      });
      track(temp);
    } catch (err) {
      if (isDiskFull(err)) throw diskFull(err, 0);
      throw new DatasetError('io', `Cannot write in the cache folder ${dir}: ${(err as Error).message}. Set another cache folder or fix its permissions.`, { file: temp, cause: err });
    }
    kick();
    const response = await get(target.url, controller.signal, opts.maxRedirects ?? DEFAULT_MAX_REDIRECTS, kick);
    url = response.url.href;
    const length = Number(response.res.headers['content-length']);
    total = Number.isFinite(length) && length >= 0 ? length : undefined;
    const limit = target.size === undefined ? undefined : networkLimit(target.size);
    if (total !== undefined && limit !== undefined && total > limit) {
      response.res.destroy();
      throw new DatasetError('too-large',
        `Refused ${what} from ${url}: the server announces ${formatBytes(total)}, but the file is ${formatBytes(target.size!)} uncompressed. ` +
        'The address serves something else; check the mirror setting.', { url, file: target.file });
    }
    meter = new Meter(kick, opts.onProgress, { dataset: target.dataset, file: target.file, total }, opts.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS, limit);
    meter.reportProgress(true);
    if (minRate > 0) {
      const counted = meter;
      rateCheck = setInterval(() => {
        const got = counted.bytes - windowStartBytes;
        windowStartBytes = counted.bytes;
        // Silence (no byte lately) is the stall watchdog's case; a trickle is this one's.
        const silent = Date.now() - lastActivity >= timeoutMs / 2;
        if (got > 0 && !silent && got < (minRate * timeoutMs) / 1000) {
          slowWindowBytes = got;
          stop('too-slow');
        }
      }, timeoutMs);
    }
    decoder = new MaybeGunzip();
    const digest = new Digest(target.size);
    await pipeline(response.res, meter, decoder, digest, out, { signal: controller.signal });
    clearTimeout(watchdog);
    if (total !== undefined && meter.bytes !== total) {
      throw new DatasetError('truncated', `Download of ${what} from ${url} is truncated: got ${meter.bytes} of ${total} bytes. Try again.`, { url, file: target.file });
    }
    const actual = digest.hash.digest('hex');
    if (actual !== target.sha256) {
      throw new DatasetError('checksum',
        `Checksum mismatch for ${what} from ${url}: expected SHA-256 ${target.sha256}, got ${actual} (${digest.size} bytes after decompression).${describeContent(digest.head, digest.size, actual, target)} The file was not kept.`,
        { url, file: target.file });
    }
    await closed(out);
    try {
      await rename(temp, target.dest);
    } catch (err) {
      throw new DatasetError('io', `Cannot move the verified download to ${target.dest}: ${(err as Error).message}. Check the cache folder's permissions.`, { file: target.dest, cause: err });
    }
    done = true;
    meter.reportProgress(true);
    return { path: target.dest, url, bytes: meter.bytes, size: digest.size, gzipped: decoder.gzipped === true };
  } catch (err) {
    throw classify(err);
  } finally {
    clearTimeout(watchdog);
    clearTimeout(deadline);
    clearInterval(rateCheck);
    opts.signal?.removeEventListener('abort', onAbort);
    if (!done) {
      if (out !== undefined) await closed(out);
      await rm(temp, { force: true }).catch(() => undefined);
    }
    inFlight.delete(temp);
  }

  function diskFull(err: unknown, written: number): DatasetError {
    const need = target.size === undefined ? '' : ` The file needs ${formatBytes(target.size)}.`;
    return new DatasetError('disk-full',
      `Cannot store ${what}: the disk that holds ${dir} is full (${(err as NodeJS.ErrnoException).code}${written > 0 ? `, after writing ${formatBytes(written)}` : ''}).${need} ` +
      'Free some space there, or set another cache folder, then try again. Nothing was kept.',
      { url, file: target.file, cause: err });
  }

  function classify(err: unknown): DatasetError {
    const got = meter?.bytes ?? 0;
    const of = `${got}${total === undefined ? '' : ` of ${total}`} bytes`;
    if (reason === 'cancelled') return cancelled(got);
    if (reason === 'stalled') {
      return new DatasetError('stalled',
        `Download of ${what} from ${url} stalled: no data for ${timeoutMs / 1000} s (after ${of}). Check the network or the mirror, then try again.`,
        { url, file: target.file, cause: err });
    }
    if (reason === 'too-slow') {
      return new DatasetError('too-slow',
        `Download of ${what} from ${url} is too slow: ${slowWindowBytes} bytes in the last ${timeoutMs / 1000} s, below the minimum of ${formatBytes(minRate)}/s (after ${of}). ` +
        'Check the network or use another mirror, then try again.',
        { url, file: target.file, cause: err });
    }
    if (reason === 'timeout') {
      const seconds = (Date.now() - started) / 1000;
      return new DatasetError('timeout',
        `Download of ${what} from ${url} did not finish within ${deadlineMs / 1000} s (got ${of}, ${formatBytes(Math.round(got / Math.max(seconds, 1e-3)))}/s on average). ` +
        'Try again on a faster connection or use a closer mirror.',
        { url, file: target.file, cause: err });
    }
    if (err instanceof DatasetError) return err;
    if (err instanceof TooLarge) {
      const message = err.kind === 'network'
        ? `the server sent more than ${formatBytes(err.limit)}, more than the file (${formatBytes(target.size!)} uncompressed) can take`
        : decoder?.gzipped
          ? `the data decompresses to more than ${formatBytes(err.limit)}, the size of the official file (an endless stream, a gzip bomb or another file)`
          : `the server sent more than ${formatBytes(err.limit)}, the size of the official file (an endless stream or another file)`;
      return new DatasetError('too-large', `Download of ${what} from ${url} stopped: ${message}. Nothing was kept; check the mirror setting.`, { url, file: target.file, cause: err });
    }
    if (isDiskFull(err)) return diskFull(err, out?.bytesWritten ?? 0);
    const e = err as NodeJS.ErrnoException;
    if (total !== undefined && got < total) {
      return new DatasetError('truncated', `Download of ${what} from ${url} is truncated: got ${got} of ${total} bytes before the connection ended (${e.message}). Try again.`, { url, file: target.file, cause: err });
    }
    if (e.code === 'Z_BUF_ERROR' || /unexpected end of file/i.test(e.message ?? '')) {
      return new DatasetError('truncated', `Download of ${what} from ${url} is truncated: the gzip data ended early (after ${got} bytes). Try again, or check the mirror.`, { url, file: target.file, cause: err });
    }
    if (typeof e.code === 'string' && e.code.startsWith('Z_')) {
      return new DatasetError('corrupt', `Download of ${what} from ${url} is not valid gzip data (${e.message}). Check the mirror.`, { url, file: target.file, cause: err });
    }
    if (decoder === undefined) {
      return new DatasetError('network', `Cannot download ${what} from ${url}: ${withCode(e)}. Check the network connection or the mirror setting.`, { url, file: target.file, cause: err });
    }
    return new DatasetError('network', `Download of ${what} from ${url} failed after ${got} bytes: ${withCode(e)}. Try again.`, { url, file: target.file, cause: err });
  }
}

/** An error's message, followed by its code unless the message already names it ("connect ECONNREFUSED ..."). */
function withCode(e: NodeJS.ErrnoException): string {
  const message = e.message ?? String(e);
  return e.code && !message.includes(e.code) ? `${message} (${e.code})` : message;
}

function isDiskFull(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}
