/**
 * Atomic file writes, shared by the headless runner's results and the
 * training checkpoints.
 *
 * - `writeFileAtomic` writes to a temporary file in the target's folder,
 *   flushes it to disk, renames it over the target and flushes the folder: a
 *   reader (or a crash, or kill -9) sees the old content or the new, never
 *   half of it. On any failure the temporary file is removed and the error is
 *   thrown as it came (callers put it in their own words).
 * - Temporary files are named `<file>.aenb-tmp-<pid>-<n>@<host>`. One whose
 *   process is gone (killed while writing) is removed by
 *   `removeStaleTempFiles`; a live writer's, or another machine's on a shared
 *   folder, is kept.
 */
import { promises as fs } from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';

const TEMP_PATTERN = /^(.+)\.aenb-tmp-(\d+)(?:-\d+)?@(.+)$/;

/** Numbers the writes of this process, so that two at once to one file never share a temporary file. */
let writes = 0;

/** The temporary file a process writes before renaming it over `target`. */
export function tempFileFor(target: string, pid = process.pid, serial?: number): string {
  return `${target}.aenb-tmp-${pid}${serial === undefined ? '' : `-${serial}`}@${hostname()}`;
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface AtomicWriteOptions {
  /** Permission bits of a new file (an existing file keeps its own); default 0o666 less the umask. */
  mode?: number;
  /** Test hook: called after each chunk is written to the temporary file. */
  afterChunk?: (index: number, tmpFile: string) => void | Promise<void>;
}

/** Writes `data` to `target` atomically (see the module's comment). */
export async function writeFileAtomic(target: string, data: string | Uint8Array[], opts: AtomicWriteOptions = {}): Promise<void> {
  const dir = path.dirname(target);
  await fs.mkdir(dir, { recursive: true });
  const tmp = tempFileFor(target, process.pid, ++writes);
  const mode = await fs.stat(target).then(
    (s) => s.mode & 0o7777,
    () => opts.mode ?? 0o666,
  );
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(tmp, 'wx', mode);
    if (typeof data === 'string') {
      await handle.writeFile(data);
    } else {
      for (const [i, chunk] of data.entries()) {
        let done = 0;
        while (done < chunk.byteLength) done += (await handle.write(chunk, done, chunk.byteLength - done)).bytesWritten;
        await opts.afterChunk?.(i, tmp);
      }
    }
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.rename(tmp, target);
  } catch (e) {
    await handle?.close().catch(() => undefined);
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
  await syncDir(dir);
}

async function syncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return; // folders cannot be opened for flushing there
  const d = await fs.open(dir, 'r').catch(() => undefined);
  if (!d) return;
  try {
    await d.sync();
  } catch {
    // Some file systems do not flush folders; the rename is still atomic.
  } finally {
    await d.close();
  }
}

/**
 * Removes the temporary files in `dir` that writers on this machine left
 * when they were killed (never one a live process is writing). `accept`
 * narrows them by the name of the file each was meant to become. Returns the
 * paths removed.
 */
export async function removeStaleTempFiles(dir: string, accept: (finalName: string) => boolean = () => true): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  const host = hostname();
  for (const name of names) {
    const m = TEMP_PATTERN.exec(name);
    if (!m || m[3] !== host || !accept(m[1])) continue;
    const pid = Number(m[2]);
    if (pid === process.pid || processAlive(pid)) continue;
    try {
      const p = path.join(dir, name);
      if ((await fs.lstat(p)).isFile()) {
        await fs.rm(p);
        removed.push(p);
      }
    } catch {
      // Gone already, or not ours to remove.
    }
  }
  return removed;
}
