/**
 * Where the headless runner writes its results (the executed notebook, the
 * HTML report):
 *
 * - `prepareOutput` checks a destination before any cell runs, so that an
 *   hour of training is never thrown away for a file that cannot be written:
 *   it must be a regular file or not exist yet (a symlink counts as the file
 *   at its end; a device, a pipe or a directory is refused), its folder must
 *   take new files (a file is created there and removed again: read-only
 *   file systems, missing permissions and /proc all fail here), and an
 *   existing file must be writable.
 * - `writeOutput` writes atomically (../lib/atomic-file): a reader, a crash
 *   or kill -9 sees the old content or the new, never half.
 * - A temporary file whose writer is gone (killed while writing) is removed
 *   by the next run that writes into that folder from the same machine.
 * - `saveElsewhere` keeps results whose destination failed at the last moment
 *   (a disk that filled up while the cells ran) in the temporary folder.
 */
import { constants, promises as fs, type Stats } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { removeStaleTempFiles, tempFileFor, writeFileAtomic } from '../lib/atomic-file';

export class OutputFileError extends Error {
  constructor(
    /** The path as the user gave it. */
    readonly file: string,
    /** Why, in words. */
    readonly reason: string,
  ) {
    super(`cannot write ${file}: ${reason}`);
    this.name = 'OutputFileError';
  }
}

export interface OutputTarget {
  /** The path as the user gave it. */
  file: string;
  /** Where the bytes go: the file, or the end of its chain of symlinks. */
  target: string;
}

function describeError(e: unknown, dir: string): string {
  const err = e as NodeJS.ErrnoException;
  switch (err.code) {
    case 'EROFS':
      return `${dir} is on a read-only file system`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied (this user may not write in ${dir})`;
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EDQUOT':
      return 'the disk quota is used up';
    case 'ENOENT':
      return `${dir} does not take new files`;
    case 'ENOTDIR':
      return 'a part of the path is a file, not a folder';
    case 'EISDIR':
      return 'it is a directory';
    case 'ELOOP':
      return 'a loop of symbolic links';
    case 'ENAMETOOLONG':
      return 'the name is too long';
    case 'EIO':
      return 'an input/output error on the device';
    default:
      return err.message ?? String(e);
  }
}

function notAFile(st: Stats): string | undefined {
  if (st.isFile()) return undefined;
  const what = st.isDirectory()
    ? 'it is a directory'
    : st.isCharacterDevice()
      ? 'it is a character device'
      : st.isBlockDevice()
        ? 'it is a block device'
        : st.isFIFO()
          ? 'it is a named pipe (FIFO)'
          : st.isSocket()
            ? 'it is a socket'
            : 'it is not a regular file';
  return `${what}; give the path of a file`;
}

/** Follows symbolic links (also dangling ones) to the path the data should go to. */
async function endOfLinks(file: string): Promise<string> {
  let p = path.resolve(file);
  for (let hops = 0; hops < 40; hops++) {
    let st: Stats;
    try {
      st = await fs.lstat(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return p;
      throw e;
    }
    if (!st.isSymbolicLink()) return p;
    p = path.resolve(path.dirname(p), await fs.readlink(p));
  }
  throw Object.assign(new Error('too many symbolic links'), { code: 'ELOOP' });
}

/** Checks that `file` can be written, before anything runs. Throws OutputFileError. */
export async function prepareOutput(file: string): Promise<OutputTarget> {
  let existing: Stats | undefined;
  try {
    existing = await fs.stat(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw new OutputFileError(file, describeError(e, path.dirname(path.resolve(file))));
  }
  const problem = existing && notAFile(existing);
  if (problem) throw new OutputFileError(file, problem);
  let target: string;
  try {
    target = await endOfLinks(file);
  } catch (e) {
    throw new OutputFileError(file, describeError(e, path.dirname(path.resolve(file))));
  }
  const dir = path.dirname(target);
  try {
    await fs.mkdir(dir, { recursive: true });
  } catch (e) {
    throw new OutputFileError(file, describeError(e, dir));
  }
  // The surest test: create a file there, as the final write will.
  const probe = tempFileFor(target);
  try {
    await (await fs.open(probe, 'wx')).close();
  } catch (e) {
    throw new OutputFileError(file, describeError(e, dir));
  } finally {
    await fs.rm(probe, { force: true }).catch(() => undefined);
  }
  if (existing) {
    try {
      await fs.access(target, constants.W_OK);
    } catch {
      throw new OutputFileError(file, 'the file is write-protected');
    }
  }
  await removeStaleTempFiles(dir);
  return { file, target };
}

/** Writes `text` to the target atomically; on failure no temporary file is left. Throws OutputFileError. */
export async function writeOutput(out: OutputTarget, text: string): Promise<void> {
  try {
    await writeFileAtomic(out.target, text);
  } catch (e) {
    throw new OutputFileError(out.file, describeError(e, path.dirname(out.target)));
  }
}

let rescueDir: Promise<string> | undefined;

/** Saves `text` in a new folder under the system's temporary folder (one per run); returns the path. */
export async function saveElsewhere(file: string, text: string): Promise<string> {
  rescueDir ??= fs.mkdtemp(path.join(tmpdir(), 'aenb-results-'));
  const dir = await rescueDir.catch((e) => {
    rescueDir = undefined;
    throw e;
  });
  const p = path.join(dir, path.basename(file));
  await fs.writeFile(p, text);
  return p;
}
