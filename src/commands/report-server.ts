// Serves exported HTML reports over HTTP on 127.0.0.1, so that "Open in
// Browser" works when the extension host is remote (code-server, SSH,
// containers): the browser cannot open a file:// path of another machine, but
// VS Code can forward a local port to it (vscode.env.asExternalUri).
// Each report gets an unguessable path; the file is read afresh on every
// request, so a re-export shows the new content. No `vscode` import.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename } from 'node:path';

export class ReportServer {
  private server?: http.Server;
  private listening?: Promise<number>;
  /** Token -> file. */
  private readonly files = new Map<string, string>();
  /** File -> token: one address per report for the life of the server. */
  private readonly tokens = new Map<string, string>();

  /** The local address (http://127.0.0.1:PORT/TOKEN/NAME) of `file`, starting the server if needed. */
  async urlFor(file: string): Promise<string> {
    const port = await this.start();
    let token = this.tokens.get(file);
    if (token === undefined) {
      token = randomBytes(16).toString('hex');
      this.tokens.set(file, token);
      this.files.set(token, file);
    }
    return `http://127.0.0.1:${port}/${token}/${encodeURIComponent(basename(file))}`;
  }

  private start(): Promise<number> {
    this.listening ??= new Promise<number>((resolve, reject) => {
      const server = http.createServer((req, res) => void this.handle(req, res));
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
      this.server = server;
    });
    return this.listening;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const headers = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' };
    const token = /^\/([0-9a-f]{32})\//.exec(new URL(req.url ?? '/', 'http://x').pathname)?.[1];
    const file = token === undefined ? undefined : this.files.get(token);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...headers, allow: 'GET, HEAD' }).end();
      return;
    }
    if (file === undefined) {
      res.writeHead(404, { ...headers, 'content-type': 'text/plain; charset=utf-8' }).end('No such report.\n');
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { ...headers, 'content-type': 'text/html; charset=utf-8', 'content-length': String(body.length) });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (e) {
      res.writeHead(410, { ...headers, 'content-type': 'text/plain; charset=utf-8' }).end(`The report ${basename(file)} cannot be read any more: ${(e as Error).message}\n`);
    }
  }

  dispose(): void {
    this.server?.closeAllConnections();
    this.server?.close();
    this.server = undefined;
    this.listening = undefined;
  }
}

/**
 * The address to open in the user's browser, from the one `asExternalUri`
 * returned for a local address: some hosts (code-server) map only the origin
 * (`http://host/proxy/PORT/`) and drop the path, which is put back here.
 */
export function withLocalPath(external: string, local: string): string {
  const want = new URL(local);
  const got = new URL(external);
  if (got.pathname.endsWith(want.pathname)) return got.toString();
  got.pathname = got.pathname.replace(/\/$/, '') + want.pathname;
  return got.toString();
}
