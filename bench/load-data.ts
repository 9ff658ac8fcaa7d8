// Times loading MNIST and Fashion-MNIST from each local source available.
// Run: npm run build && node out/bench/load-data.js [--runs N]
// Not a test: prints figures (median and best of N runs) and exits.
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { gunzipSync, gzipSync } from 'node:zlib';
import * as tf from '@tensorflow/tfjs';
import {
  DATASET_NAMES, defaultSystemDirs, downloadVerified, FILE_ROLES, loadData, loadRaw, locate, MANIFESTS,
  type DatasetName, type LoadOptions,
} from '../src/lib/data/index';

const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;

async function time(fn: () => Promise<void>): Promise<{ median: number; best: number }> {
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { median: ms[Math.floor(ms.length / 2)], best: ms[0] };
}

const fmt = (n: number) => `${n.toFixed(0).padStart(6)} ms`;
const rows: string[][] = [];

async function bench(name: DatasetName, source: string, opts: LoadOptions): Promise<void> {
  const raw = await loadRaw(name, opts); // warm-up, and check the source is the intended one
  const where = raw.sources[0].replace(/^\S+: /, '');
  const r = await time(async () => {
    await loadRaw(name, opts);
  });
  const k = await time(async () => {
    const [[a, b], [c, d]] = await loadData(name, opts);
    tf.dispose([a, b, c, d]);
  });
  rows.push([MANIFESTS[name].title, source, fmt(r.median), fmt(r.best), fmt(k.median), fmt(k.best), where]);
}

/** Serves `dir/<file>.gz` on 127.0.0.1 to time the download path without the internet. */
async function serve(files: Map<string, Buffer>): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const body = files.get(req.url ?? '');
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-length': String(body.length) }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

async function main(): Promise<void> {
  await tf.ready();
  const scratch = await mkdtemp(join(tmpdir(), 'aenb-bench-'));
  const downloads: string[] = [];
  try {
    for (const name of DATASET_NAMES) {
      const emptyCache = join(scratch, 'empty-cache');
      const system = await locate(name, { cacheDir: emptyCache, download: false });
      if (!system.local) {
        console.log(`${MANIFESTS[name].title}: no system copy (${defaultSystemDirs(name).join(', ') || 'none configured'}); skipped.`);
        continue;
      }
      await bench(name, 'system copy', { cacheDir: emptyCache, download: false });

      // The same files as a download leaves them in the cache (uncompressed), and gzipped in a data folder.
      const cache = join(scratch, 'cache');
      const gzDir = join(scratch, 'data-gz', name);
      await mkdir(join(cache, name), { recursive: true });
      await mkdir(gzDir, { recursive: true });
      const served = new Map<string, Buffer>();
      for (const f of system.files) {
        const bytes = await readFile(f.location);
        const raw = f.location.endsWith('.gz') ? gunzipSync(bytes) : bytes;
        const gz = f.location.endsWith('.gz') ? bytes : gzipSync(bytes, { level: 6 });
        await writeFile(join(cache, name, f.file), raw);
        if (f.location.endsWith('.gz')) await copyFile(f.location, join(gzDir, `${f.file}.gz`));
        else await writeFile(join(gzDir, `${f.file}.gz`), gz);
        served.set(`/${name}/${f.file}.gz`, gz);
      }
      await bench(name, 'cache (raw IDX)', { cacheDir: cache, systemDirs: false, download: false });
      await bench(name, 'data folder (gz)', { dataDir: join(scratch, 'data-gz'), cacheDir: emptyCache, systemDirs: false, download: false });

      const server = await serve(served);
      try {
        const t0 = performance.now();
        let bytes = 0;
        for (const role of FILE_ROLES) {
          const spec = MANIFESTS[name].files[role];
          const r = await downloadVerified({
            url: `${server.url}${name}/${spec.name}.gz`, dest: join(scratch, 'dl', name, spec.name),
            sha256: spec.sha256, dataset: name, file: spec.name,
          });
          bytes += r.bytes;
        }
        const ms = performance.now() - t0;
        downloads.push(`${MANIFESTS[name].title}: 4 files, ${(bytes / 1e6).toFixed(1)} MB gz, in ${ms.toFixed(0)} ms (${(bytes / 1e6 / (ms / 1000)).toFixed(0)} MB/s incl. gunzip, SHA-256, write)`);
      } finally {
        await server.close();
      }
      await rm(join(scratch, 'cache'), { recursive: true, force: true });
      await rm(join(scratch, 'data-gz'), { recursive: true, force: true });
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }

  const header = ['data set', 'source', 'loadRaw med', 'best', 'loadData med', 'best', 'first file from'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join('  ');
  console.log(`\nLoading train+test (60,000 + 10,000 images), ${RUNS} runs each, Node ${process.version}, tfjs backend ${tf.getBackend()}`);
  console.log(line(header));
  for (const r of rows) console.log(line(r));
  if (downloads.length > 0) {
    console.log('\nDownload path against a local HTTP server (127.0.0.1):');
    for (const d of downloads) console.log(`  ${d}`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
