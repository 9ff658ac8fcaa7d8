/**
 * Host side of kernels that outlive their window: starting one detached from
 * the extension host (its own process group, output to a log file, nothing
 * tying it to the host's life) and connecting to it, or to one found in the
 * registry after a reload.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { isAlive, kernelFiles, KernelRecord, kernelsFor, newKernelId, removeKernelFiles } from './registry';
import { ensurePrivateDir, newToken, readTokenFile, writeTokenFile } from './transport/private-files';
import { ClientInfo, connectKernelSocket, KernelConnectError, SocketChannel } from './transport/socket';

export interface DetachedStartOptions {
  /** The kernels' private folder (…/globalStorage/<extension>/kernels). */
  dir: string;
  kernelPath: string;
  execPath: string;
  /** Node/V8 flags for the kernel process (the relaxed-SIMD flag of the compute settings). */
  execArgv?: string[];
  env: NodeJS.ProcessEnv;
  /** The notebook's URI. */
  notebook: string;
  client: ClientInfo;
  startTimeoutMs?: number;
}

export interface Attached {
  record: Pick<KernelRecord, 'id' | 'pid' | 'socket' | 'logFile'>;
  channel: SocketChannel;
  /** The kernel's welcome: `initialized` is true when it was set up by an earlier host (a reattach). */
  welcome: { id?: string; pid?: number; initialized?: boolean; startedAt?: number };
}

/** Starts a kernel in its own process group and connects to it. */
export async function startDetachedKernel(opts: DetachedStartOptions): Promise<Attached> {
  const dir = ensurePrivateDir(opts.dir);
  const id = newKernelId();
  const files = kernelFiles(dir, id);
  const token = newToken();
  writeTokenFile(files.token, token);
  const logFd = openSync(files.log, 'a', 0o600);
  let pid: number | undefined;
  try {
    const child = spawn(opts.execPath, [...(opts.execArgv ?? []), opts.kernelPath, '--serve', dir, '--id', id, '--notebook', opts.notebook], {
      detached: true,
      stdio: ['ignore', logFd, logFd, 'pipe'],
      env: { ...opts.env, ELECTRON_RUN_AS_NODE: '1' },
      windowsHide: true,
    });
    pid = child.pid;
    const ready = child.stdio[3] as NodeJS.ReadableStream | null;
    const timeoutMs = opts.startTimeoutMs ?? 60_000;
    const listening = await new Promise<{ socket: string; pid: number }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`The kernel did not start within ${timeoutMs / 1000} s (its log: ${files.log}).`)), timeoutMs);
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(new Error(`The kernel process could not be started: ${e.message}`));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`The kernel process exited during start-up (${signal ?? `code ${code}`}); its log: ${files.log}`));
      });
      if (!ready) return reject(new Error('The kernel has no readiness pipe.'));
      createInterface({ input: ready }).once('line', (line) => {
        clearTimeout(timer);
        try {
          const m = JSON.parse(line) as { listening?: string; pid?: number; error?: string };
          if (m.listening && m.pid) resolve({ socket: m.listening, pid: m.pid });
          else reject(new Error(`The kernel could not start: ${m.error ?? line}`));
        } catch {
          reject(new Error(`The kernel said something unexpected at start-up: ${line.slice(0, 200)}`));
        }
      });
    });
    child.removeAllListeners('exit');
    child.removeAllListeners('error');
    (ready as unknown as { destroy?: () => void })?.destroy?.();
    child.unref();
    const { channel, welcome } = await connectKernelSocket(listening.socket, token, opts.client);
    return { record: { id, pid: listening.pid, socket: listening.socket, logFile: files.log }, channel, welcome: welcome as Attached['welcome'] };
  } catch (e) {
    if (pid !== undefined && isAlive(pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    removeKernelFiles(dir, id, undefined, true);
    throw e;
  } finally {
    closeSync(logFd);
  }
}

/** Connects to a running kernel from the registry. */
export async function attachKernel(record: KernelRecord, client: ClientInfo): Promise<Attached> {
  const token = readTokenFile(record.tokenFile);
  const { channel, welcome } = await connectKernelSocket(record.socket, token, client);
  return { record, channel, welcome: welcome as Attached['welcome'] };
}

/** The newest running kernel of a notebook that takes us, or undefined. Kernels that cannot be reached are skipped. */
export async function findKernel(dir: string, notebook: string, client: ClientInfo, log?: (m: string) => void): Promise<Attached | undefined> {
  for (const record of kernelsFor(dir, notebook)) {
    try {
      return await attachKernel(record, client);
    } catch (e) {
      log?.(`kernel ${record.id} (process ${record.pid}) of this notebook could not be reattached: ${(e as Error).message}`);
      if (e instanceof KernelConnectError && e.kind === 'unreachable' && !isAlive(record.pid)) removeKernelFiles(dir, record.id, record.socket, true);
    }
  }
  return undefined;
}
