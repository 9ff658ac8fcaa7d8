// Finding processes a test run left behind (Linux /proc): kernels whose
// working folder is inside a test's temporary workspace. Plain Node.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { resolve, sep } from 'node:path';

export interface ProcessInfo {
  pid: number;
  cmdline: string;
  cwd: string;
}

/** Processes whose command line matches `pattern` and whose working folder is `folder` or below it. */
export function processesIn(folder: string, pattern: RegExp): ProcessInfo[] {
  if (process.platform !== 'linux') return [];
  const base = resolve(folder);
  const found: ProcessInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ').trim();
      if (!pattern.test(cmdline)) continue;
      const cwd = readlinkSync(`/proc/${name}/cwd`);
      if (cwd === base || cwd.startsWith(base + sep)) found.push({ pid: Number(name), cmdline, cwd });
    } catch {
      // The process ended meanwhile, or is not ours to read.
    }
  }
  return found;
}

/** Waits up to `timeoutMs` for such processes to end; kills (SIGKILL) and returns the ones that did not. */
export async function reapProcessesIn(folder: string, pattern: RegExp, timeoutMs = 5000): Promise<ProcessInfo[]> {
  const deadline = Date.now() + timeoutMs;
  let left = processesIn(folder, pattern);
  while (left.length && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    left = processesIn(folder, pattern);
  }
  for (const p of left) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
  return left;
}
