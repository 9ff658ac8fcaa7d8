/**
 * The kernels that outlive their window, as files in a private folder (the
 * extension's storage, `kernels/`): for kernel `<id>`, `<id>.json` (its
 * record: process, notebook, socket, written by the kernel once it listens
 * and removed when it ends), `<id>.token` (owner-only) and `<id>.log` (its
 * stdout and stderr). A window that reloads finds its notebook's kernel here.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { ensurePrivateDir } from './transport/private-files';

export interface KernelRecord {
  version: 1;
  id: string;
  pid: number;
  /** The notebook it belongs to (its URI). */
  notebook: string;
  /** Unix socket path or Windows pipe name. */
  socket: string;
  tokenFile: string;
  logFile: string;
  /** ms since the epoch. */
  startedAt: number;
}

export const RECORD_VERSION = 1;
const LOG_KEEP_MS = 7 * 24 * 3600 * 1000;

export function kernelFiles(dir: string, id: string): { record: string; token: string; log: string } {
  return { record: path.join(dir, `${id}.json`), token: path.join(dir, `${id}.token`), log: path.join(dir, `${id}.log`) };
}

export function newKernelId(): string {
  return `k-${randomBytes(6).toString('hex')}`;
}

export function writeRecord(dir: string, record: KernelRecord): void {
  ensurePrivateDir(dir);
  const file = kernelFiles(dir, record.id).record;
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(record, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, file);
}

/** Removes a kernel's files (its socket too, if it is a file). */
export function removeKernelFiles(dir: string, id: string, socket?: string, keepLog = false): void {
  const f = kernelFiles(dir, id);
  for (const p of [f.record, f.token, ...(keepLog ? [] : [f.log])]) rmSync(p, { force: true });
  if (socket && process.platform !== 'win32') rmSync(socket, { force: true });
}

/** Whether a process runs (an exited one that its parent has not reaped yet, a zombie, does not). */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (process.platform === 'linux') {
    try {
      // /proc/<pid>/stat: "pid (comm) state ...": the state follows the last ')'.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
    } catch {
      return false;
    }
  }
  return true;
}

function readRecord(file: string): KernelRecord | undefined {
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as KernelRecord;
    if (r.version === RECORD_VERSION && typeof r.id === 'string' && typeof r.pid === 'number' && typeof r.notebook === 'string' && typeof r.socket === 'string') return r;
  } catch {
    // unreadable: treated as absent
  }
  return undefined;
}

/** Every record in the folder; those of kernels that are no longer running are removed. */
export function liveKernels(dir: string): KernelRecord[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const live: KernelRecord[] = [];
  const now = Date.now();
  for (const n of names) {
    // Logs of kernels that died are kept for a week.
    if (n.endsWith('.log') && !names.includes(n.replace(/\.log$/, '.json'))) {
      const p = path.join(dir, n);
      try {
        if (now - statSync(p).mtimeMs > LOG_KEEP_MS) rmSync(p, { force: true });
      } catch {
        // gone meanwhile
      }
      continue;
    }
    if (!n.endsWith('.json')) continue;
    const r = readRecord(path.join(dir, n));
    if (!r) continue;
    if (isAlive(r.pid)) live.push(r);
    else removeKernelFiles(dir, r.id, r.socket, true);
  }
  return live.sort((a, b) => b.startedAt - a.startedAt);
}

/** The running kernels of one notebook, newest first. */
export function kernelsFor(dir: string, notebook: string): KernelRecord[] {
  return liveKernels(dir).filter((r) => r.notebook === notebook);
}
