/**
 * Reader for IDX files, the format of MNIST and Fashion-MNIST, raw or gzipped.
 *
 * Layout: a big-endian magic number `00 00 <type> <rank>`, then `rank`
 * big-endian uint32 dimensions, then the data, row-major, big-endian.
 * See http://yann.lecun.com/exdb/mnist/ ("FILE FORMATS FOR THE MNIST DATABASE").
 */
import { readFile } from 'node:fs/promises';
import { gunzip, gunzipSync } from 'node:zlib';
import { promisify } from 'node:util';

const gunzipAsync = promisify(gunzip);

export type IdxDtype = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';
export type IdxTypedArray = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** A decoded IDX array. */
export interface IdxArray {
  dtype: IdxDtype;
  /** Dimensions, outermost first (e.g. [60000, 28, 28]). */
  shape: number[];
  /**
   * The elements, row-major. For uint8 and int8 this is a view on the input
   * bytes (no copy); wider types are decoded from big-endian into a new array.
   */
  data: IdxTypedArray;
}

/** What a caller requires of a file; anything else is reported as an {@link IdxError}. */
export interface IdxExpectation {
  dtype?: IdxDtype;
  rank?: number;
  /** Required size of each dimension; `null` accepts any size. Implies `rank`. */
  dims?: ReadonlyArray<number | null>;
}

interface TypeInfo { dtype: IdxDtype; size: number }

const TYPES: ReadonlyMap<number, TypeInfo> = new Map([
  [0x08, { dtype: 'uint8', size: 1 }],
  [0x09, { dtype: 'int8', size: 1 }],
  [0x0b, { dtype: 'int16', size: 2 }],
  [0x0c, { dtype: 'int32', size: 4 }],
  [0x0d, { dtype: 'float32', size: 4 }],
  [0x0e, { dtype: 'float64', size: 8 }],
]);

const TYPE_LIST = '0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64';

/** A file that is not a valid IDX array (or not the one that was expected). */
export class IdxError extends Error {
  override readonly name = 'IdxError';
  constructor(
    /** The file (or name given to {@link parseIdx}). */
    readonly file: string,
    /** Short statement of the problem, e.g. "wrong magic number". */
    readonly problem: string,
    readonly expected: string,
    readonly found: string,
    /** What the user can do about it. */
    readonly hint: string,
  ) {
    super(`Bad IDX file ${file}: ${problem}: expected ${expected}, found ${found}. ${hint}`);
  }
}

/** True when `bytes` start with the gzip magic number 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function hex(bytes: Uint8Array, count: number): string {
  const shown = Array.from(bytes.subarray(0, count), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return shown === '' ? '(nothing: the file is empty)' : shown;
}

/** Names a few formats that are commonly mistaken for IDX. */
function guessFormat(bytes: Uint8Array): string {
  const ascii = Buffer.from(bytes.subarray(0, 16)).toString('latin1');
  if (ascii.startsWith('PK\x03\x04')) return ' (a ZIP archive, e.g. an .npz file)';
  if (ascii.startsWith('\x93NUMPY')) return ' (a NumPy .npy file)';
  if (/^\s*</.test(ascii)) return ' (text that looks like HTML or XML, e.g. an error page)';
  if (/^\s*[[{]/.test(ascii)) return ' (text that looks like JSON)';
  return '';
}

function gzipFailure(file: string, err: unknown, compressedLength: number): IdxError {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'Z_BUF_ERROR' || /unexpected end/i.test(e.message ?? '')) {
    return new IdxError(file, 'gzip data ended early', 'a complete gzip stream',
      `a stream cut off after ${compressedLength} compressed bytes`,
      'The file is truncated (an interrupted download or copy); delete it and fetch it again.');
  }
  return new IdxError(file, 'corrupt gzip data', 'a valid gzip stream', `zlib error "${e.message}"`,
    'The file is damaged; delete it and fetch it again.');
}

/** Decompresses `bytes` if they are gzipped (synchronously); returns them unchanged otherwise. */
export function gunzipIfNeededSync(bytes: Uint8Array, name = 'IDX data'): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (err) {
    throw gzipFailure(name, err, bytes.length);
  }
}

/** Decompresses `bytes` if they are gzipped (off the main thread); returns them unchanged otherwise. */
export async function gunzipIfNeeded(bytes: Uint8Array, name = 'IDX data'): Promise<Uint8Array> {
  if (!isGzip(bytes)) return bytes;
  try {
    return await gunzipAsync(bytes);
  } catch (err) {
    throw gzipFailure(name, err, bytes.length);
  }
}

function describeShape(shape: readonly number[]): string {
  return shape.length === 0 ? 'a scalar' : shape.join('x');
}

/**
 * Parses an IDX file already in memory (gzipped data is decompressed first).
 * Throws an {@link IdxError} that says what is wrong with a bad file.
 * @param name how to name the data in error messages (usually its path)
 * @param expect optional requirements on element type, rank and dimensions
 */
export function parseIdx(bytes: Uint8Array, name = 'IDX data', expect: IdxExpectation = {}): IdxArray {
  const raw = gunzipIfNeededSync(bytes, name);
  return parseRawIdx(raw, name, expect);
}

/** What an IDX header says, once checked: see {@link checkIdxHeader}. */
export interface IdxHeader {
  dtype: IdxDtype;
  shape: number[];
  /** Bytes before the data: 4 + 4 x rank. */
  headerLength: number;
}

/**
 * Checks the header of an IDX file against the file's total length and the
 * caller's requirements, without needing the data: `head` is the start of the
 * file (at least 4 + 4 x rank bytes, e.g. its first 64 bytes, or all of it)
 * and `totalLength` the length of the whole (uncompressed) file. Lets a
 * caller say what is wrong with a huge or damaged file without reading it.
 * @throws IdxError wrong magic number, unknown type, implausible sizes, wrong
 *   kind of file, or a length that does not match the header
 */
export function checkIdxHeader(head: Uint8Array, totalLength: number, name = 'IDX data', expect: IdxExpectation = {}): IdxHeader {
  if (totalLength < 4 || head.length < 4 || head[0] !== 0 || head[1] !== 0) {
    throw new IdxError(name, 'wrong magic number', '00 00 <type> <rank> (IDX starts with two zero bytes)',
      `${hex(head, Math.min(4, totalLength))}${guessFormat(head)}`,
      'This is not an IDX file; use the uncompressed or gzipped IDX files of the data set (e.g. train-images-idx3-ubyte.gz).');
  }
  const type = TYPES.get(head[2]);
  if (type === undefined) {
    throw new IdxError(name, 'unknown element type', `one of ${TYPE_LIST}`,
      `0x${head[2].toString(16).padStart(2, '0').toUpperCase()}`,
      'The file is damaged or not an IDX file; fetch it again.');
  }
  const rank = head[3];
  if (rank === 0) {
    throw new IdxError(name, 'wrong rank', 'at least one dimension', 'rank 0',
      'The file is damaged or not an IDX file; fetch it again.');
  }
  const headerLength = 4 + 4 * rank;
  if (totalLength < headerLength) {
    throw new IdxError(name, 'header cut short', `${headerLength} header bytes for rank ${rank}`,
      `${totalLength} bytes in the whole file`, 'The file is truncated; fetch it again.');
  }
  if (head.length < headerLength) throw new RangeError(`checkIdxHeader: ${head.length} bytes given, the header of rank ${rank} needs ${headerLength}`);
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const shape: number[] = [];
  let count = 1;
  for (let i = 0; i < rank; i++) {
    const dim = view.getUint32(4 + 4 * i, false);
    if (dim > 0x7fffffff) {
      throw new IdxError(name, `implausible size of dimension ${i}`, 'a size below 2^31', String(dim),
        'The header is damaged; fetch the file again.');
    }
    shape.push(dim);
    count *= dim;
  }

  // The caller's requirements come before the length check, so that a file of the
  // wrong kind is reported as such rather than as "too short".
  if (expect.dtype !== undefined && expect.dtype !== type.dtype) {
    throw new IdxError(name, 'wrong element type', expect.dtype, type.dtype,
      'This is a different kind of IDX file than the one wanted; check that the right file is in this place.');
  }
  const wantRank = expect.dims?.length ?? expect.rank;
  if (wantRank !== undefined && wantRank !== rank) {
    throw new IdxError(name, 'wrong rank', `rank ${wantRank}`, `rank ${rank} (shape ${describeShape(shape)})`,
      'This is a different kind of IDX file than the one wanted (images have rank 3, labels rank 1); check the file names.');
  }
  if (expect.dims !== undefined) {
    expect.dims.forEach((want, i) => {
      if (want !== null && want !== shape[i]) {
        const wanted = expect.dims!.map((d) => (d === null ? 'N' : String(d))).join('x');
        throw new IdxError(name, 'wrong dimensions', `shape ${wanted}`, `shape ${describeShape(shape)}`,
          'This is a different data set or a damaged file; check that the right file is in this place.');
      }
    });
  }

  const dataLength = totalLength - headerLength;
  const wanted = count * type.size;
  if (dataLength !== wanted) {
    const what = `${wanted} bytes of data (${describeShape(shape)} ${type.dtype}) after the ${headerLength}-byte header`;
    if (dataLength < wanted) {
      throw new IdxError(name, 'data too short', what, `${dataLength} bytes (${wanted - dataLength} missing)`,
        'The file is truncated (an interrupted download or copy); fetch it again.');
    }
    throw new IdxError(name, 'trailing bytes after the data', what, `${dataLength} bytes (${dataLength - wanted} extra)`,
      'The file is damaged or was written wrongly; fetch it again.');
  }
  return { dtype: type.dtype, shape, headerLength };
}

/** Like {@link parseIdx} for data known not to be gzipped. */
export function parseRawIdx(bytes: Uint8Array, name = 'IDX data', expect: IdxExpectation = {}): IdxArray {
  const { dtype, shape, headerLength } = checkIdxHeader(bytes, bytes.length, name, expect);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = shape.reduce((a, b) => a * b, 1);
  return { dtype, shape, data: decode(bytes, headerLength, count, dtype, view) };
}

function decode(bytes: Uint8Array, offset: number, count: number, dtype: IdxDtype, view: DataView): IdxTypedArray {
  switch (dtype) {
    case 'uint8':
      // A plain Uint8Array view (even when the input is a Node Buffer).
      return new Uint8Array(bytes.buffer, bytes.byteOffset + offset, count);
    case 'int8':
      return new Int8Array(bytes.buffer, bytes.byteOffset + offset, count);
    case 'int16': {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(offset + 2 * i, false);
      return out;
    }
    case 'int32': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(offset + 4 * i, false);
      return out;
    }
    case 'float32': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(offset + 4 * i, false);
      return out;
    }
    case 'float64': {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(offset + 8 * i, false);
      return out;
    }
  }
}

/** Reads and parses an IDX file, raw or gzipped. Errors name the file. */
export async function readIdxFile(path: string, expect: IdxExpectation = {}): Promise<IdxArray> {
  const bytes = await readFile(path);
  const raw = await gunzipIfNeeded(bytes, path);
  return parseRawIdx(raw, path, expect);
}

/** Builds the bytes of an IDX file (for tests, fixtures and caches). Multi-byte types are written big-endian. */
export function encodeIdx(dtype: IdxDtype, shape: readonly number[], data: ArrayLike<number>): Uint8Array {
  const entry = [...TYPES.entries()].find(([, t]) => t.dtype === dtype)!;
  const [code, { size }] = entry;
  const count = shape.reduce((a, b) => a * b, 1);
  if (data.length !== count) throw new RangeError(`encodeIdx: ${data.length} values for shape ${describeShape(shape)} (${count})`);
  const header = 4 + 4 * shape.length;
  const out = new Uint8Array(header + count * size);
  const view = new DataView(out.buffer);
  out[2] = code;
  out[3] = shape.length;
  shape.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  for (let i = 0; i < count; i++) {
    const at = header + i * size;
    switch (dtype) {
      case 'uint8': view.setUint8(at, data[i]); break;
      case 'int8': view.setInt8(at, data[i]); break;
      case 'int16': view.setInt16(at, data[i], false); break;
      case 'int32': view.setInt32(at, data[i], false); break;
      case 'float32': view.setFloat32(at, data[i], false); break;
      case 'float64': view.setFloat64(at, data[i], false); break;
    }
  }
  return out;
}
