/**
 * Owner-only files and folders for kernels that outlive their window: the
 * folder that holds their records and tokens, token files, and where their
 * sockets live. No other user may read a token or reach a socket; a folder
 * that is a symlink, belongs to someone else or is open to others is refused
 * (or, when it is ours, closed to others), never trusted.
 *
 * On Windows the socket is a named pipe (`\\.\pipe\...`), which has no
 * file-system permissions; the token is what keeps other processes out.
 */
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import { chmodSync, closeSync, lstatSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const TOKEN_BYTES = 32;

export class PrivateFileError extends Error {
  override readonly name = 'PrivateFileError';
}

const isWindows = process.platform === 'win32';

/** The current user's id (POSIX), or undefined on Windows. */
function uid(): number | undefined {
  return typeof process.getuid === 'function' ? process.getuid() : undefined;
}

/**
 * Creates `dir` (and its parents) if needed and makes sure it is a real
 * folder owned by this user with no access for anyone else (mode 0700).
 * @throws PrivateFileError when it cannot be made private.
 */
export function ensurePrivateDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (isWindows) return dir;
  const st = lstatSync(dir);
  if (st.isSymbolicLink() || !st.isDirectory()) throw new PrivateFileError(`${dir} is not a folder (a symbolic link or a file is in its place); kernels will not keep their tokens there.`);
  if (st.uid !== uid()) throw new PrivateFileError(`${dir} belongs to another user (uid ${st.uid}); kernels will not keep their tokens there.`);
  if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
  return dir;
}

/** A new random token, hex. */
export function newToken(): string {
  return randomBytes(TOKEN_BYTES).toString('hex');
}

/** Writes a token to a new file readable by this user only (fails if the file exists). */
export function writeTokenFile(file: string, token: string): void {
  const fd = openSync(file, 'wx', 0o600);
  try {
    writeSync(fd, token);
  } finally {
    closeSync(fd);
  }
  if (!isWindows) chmodSync(file, 0o600); // exactly 0600, whatever the umask made of it
}

/** Reads a token file, checking that it is a private regular file of this user. */
export function readTokenFile(file: string): string {
  if (!isWindows) {
    const st = lstatSync(file);
    if (!st.isFile()) throw new PrivateFileError(`${file} is not a regular file.`);
    if (st.uid !== uid()) throw new PrivateFileError(`${file} belongs to another user.`);
    if ((st.mode & 0o077) !== 0) throw new PrivateFileError(`${file} can be read by other users (mode ${(st.mode & 0o777).toString(8)}); it is not used.`);
  }
  const token = readFileSync(file, 'utf8').trim();
  if (!/^[0-9a-f]{64}$/.test(token)) throw new PrivateFileError(`${file} does not hold a kernel token.`);
  return token;
}

/** Constant-time comparison of a presented token with the expected one. */
export function tokensMatch(presented: unknown, expected: string): boolean {
  if (typeof presented !== 'string') return false;
  // Hash both so that the comparison has a fixed length whatever was presented.
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && presented.length === expected.length;
}

/** Longest socket path the platform takes (sun_path is 108 bytes on Linux, 104 on macOS and BSDs), with room to spare. */
const MAX_SOCKET_PATH = process.platform === 'linux' ? 107 : 103;

/**
 * Where the socket of kernel `id` lives: in `dir` (the kernels' private
 * folder) when the path fits the platform's limit, else in a private folder
 * of this user under $XDG_RUNTIME_DIR or the system's temporary folder. On
 * Windows, a named pipe.
 */
export function socketPathFor(dir: string, id: string): string {
  if (isWindows) return `\\\\.\\pipe\\aenb-kernel-${id}`;
  const inDir = path.join(dir, `${id}.sock`);
  if (Buffer.byteLength(inDir) <= MAX_SOCKET_PATH) return inDir;
  const base = process.env.XDG_RUNTIME_DIR && path.isAbsolute(process.env.XDG_RUNTIME_DIR) ? process.env.XDG_RUNTIME_DIR : os.tmpdir();
  const short = ensurePrivateDir(path.join(base, `aenb-${uid() ?? 'user'}`));
  const p = path.join(short, `${id}.sock`);
  if (Buffer.byteLength(p) > MAX_SOCKET_PATH) throw new PrivateFileError(`No socket path short enough for this platform (tried ${inDir} and ${p}).`);
  return p;
}

/** Makes a just-created socket file reachable by this user only. */
export function restrictSocket(socketPath: string): void {
  if (!isWindows) chmodSync(socketPath, 0o600);
}
