// A file-based bridge from a test suite running inside the extension host to
// the launcher that holds the browser page: the suite asks for something only
// the page can see or do (read a rendered output, answer a modal dialog, read
// a notification) and gets a JSON answer. Both sides run on the same machine
// and share a folder (its path reaches the extension host in AENB_TEST_BRIDGE).
//
//   suite:     const text = await bridgeCall(dir, 'dialog', { button: 'Cancel' });
//   launcher:  const bridge = serveBridge(dir, { dialog: async (args) => ... });
//
// No vscode and no playwright import: plain Node, usable on both sides.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface BridgeRequest {
  id: string;
  action: string;
  args?: unknown;
}

export interface BridgeResponse {
  id: string;
  ok: boolean;
  value?: unknown;
  error?: string;
}

export type BridgeHandler = (args: unknown) => Promise<unknown>;

function writeAtomically(file: string, data: unknown): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(data));
  renameSync(tmp, file);
}

let counter = 0;

/** Asks the launcher to do `action`; resolves with its answer, rejects with its error or after `timeoutMs`. */
export async function bridgeCall<T = unknown>(dir: string, action: string, args?: unknown, timeoutMs = 30_000): Promise<T> {
  if (!existsSync(dir)) throw new Error(`The UI bridge folder ${dir} does not exist: is the suite running under a launcher that serves it (test/vscode/run-code-server.ts)?`);
  const id = `${process.pid}-${Date.now()}-${++counter}`;
  writeAtomically(join(dir, `req-${id}.json`), { id, action, args } satisfies BridgeRequest);
  const resFile = join(dir, `res-${id}.json`);
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(resFile)) {
    if (Date.now() > deadline) throw new Error(`The launcher did not answer "${action}" within ${timeoutMs / 1000} s.`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const res = JSON.parse(readFileSync(resFile, 'utf8')) as BridgeResponse;
  rmSync(resFile, { force: true });
  if (!res.ok) throw new Error(`UI bridge "${action}": ${res.error}`);
  return res.value as T;
}

/** Serves requests from `dir` with `handlers`, one at a time, until stop(). */
export function serveBridge(dir: string, handlers: Record<string, BridgeHandler>, log: (line: string) => void = () => undefined): { stop(): void } {
  mkdirSync(dir, { recursive: true });
  let stopped = false;
  let busy = false;
  const timer = setInterval(() => {
    if (busy || stopped) return;
    const next = readdirSync(dir).filter((f) => /^req-.*\.json$/.test(f)).sort()[0];
    if (!next) return;
    busy = true;
    const file = join(dir, next);
    let req: BridgeRequest;
    try {
      req = JSON.parse(readFileSync(file, 'utf8')) as BridgeRequest;
    } catch (e) {
      busy = false;
      log(`ignoring unreadable request ${next}: ${(e as Error).message}`);
      rmSync(file, { force: true });
      return;
    }
    rmSync(file, { force: true });
    const handler = handlers[req.action];
    log(`${req.action} ${JSON.stringify(req.args ?? {})}`);
    const answer = (res: BridgeResponse) => {
      if (!stopped) writeAtomically(join(dir, `res-${req.id}.json`), res);
      busy = false;
    };
    if (!handler) {
      answer({ id: req.id, ok: false, error: `unknown action "${req.action}"; known: ${Object.keys(handlers).join(', ')}` });
      return;
    }
    handler(req.args).then(
      (value) => answer({ id: req.id, ok: true, value }),
      (e: unknown) => answer({ id: req.id, ok: false, error: e instanceof Error ? e.message : String(e) }),
    );
  }, 100);
  return {
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
  };
}
