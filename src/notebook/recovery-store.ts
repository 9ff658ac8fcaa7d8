// Where the recovery journal (./recovery.ts) keeps the unsaved state of
// notebooks: one small JSON file per notebook in the extension's storage,
// written atomically. No `vscode` here, so that unit tests cover it.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { writeFileAtomic } from '../lib/atomic-file';

export interface RecoveryEntry {
  version: 1;
  /** The notebook's URI (as a string). */
  uri: string;
  /** When this state was captured (ms since the epoch). */
  savedAt: number;
  /** SHA-256 of the file on disk that the unsaved state is based on (what was last opened or saved). */
  baseSha256?: string;
  /** The notebook as `.aenb` text (what Save would write). */
  text: string;
}

export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export class RecoveryStore {
  constructor(readonly dir: string) {}

  fileFor(uri: string): string {
    return path.join(this.dir, `${sha256(uri).slice(0, 32)}.json`);
  }

  async write(entry: RecoveryEntry): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const file = this.fileFor(entry.uri);
    await writeFileAtomic(file, JSON.stringify(entry), { mode: 0o600 });
  }

  /** The entry for a notebook, if there is a readable one (an unreadable one is removed). */
  async read(uri: string): Promise<RecoveryEntry | undefined> {
    const file = this.fileFor(uri);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      return undefined;
    }
    try {
      const e = JSON.parse(text) as RecoveryEntry;
      if (e.version === 1 && e.uri === uri && typeof e.text === 'string' && typeof e.savedAt === 'number') return e;
    } catch {
      // fall through: damaged
    }
    await rm(file, { force: true });
    return undefined;
  }

  async remove(uri: string): Promise<void> {
    await rm(this.fileFor(uri), { force: true });
  }

  /** Removes entries (and leftover temporary files) older than `maxAgeMs`. */
  async prune(maxAgeMs: number, now = Date.now()): Promise<number> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    let removed = 0;
    for (const n of names) {
      const p = path.join(this.dir, n);
      const s = await stat(p).catch(() => undefined);
      if (s && now - s.mtimeMs > maxAgeMs) {
        await rm(p, { force: true });
        removed++;
      }
    }
    return removed;
  }
}
