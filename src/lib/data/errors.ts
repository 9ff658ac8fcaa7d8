/** Errors of the data-set layer (other than {@link IdxError} for a malformed file). */

export type DatasetErrorCode =
  /** The server answered with an HTTP error status. */
  | 'http-status'
  /** More redirects than allowed, or a redirect without a usable Location. */
  | 'redirect'
  /** The connection failed (DNS, refused, reset...). */
  | 'network'
  /** Fewer bytes arrived than announced, or the gzip stream ended early. */
  | 'truncated'
  /** The content does not have the expected SHA-256. */
  | 'checksum'
  /** The content is not valid gzip (but was not cut short). */
  | 'corrupt'
  /** The server sent (or announced) more than the file can be; nothing is kept. */
  | 'too-large'
  /** The disk (or quota) is full; nothing is kept. */
  | 'disk-full'
  /** Data arrived, but slower than the minimum rate. */
  | 'too-slow'
  /** The download took longer than the overall deadline. */
  | 'timeout'
  /** The caller's AbortSignal fired. */
  | 'cancelled'
  /** No byte arrived for longer than the timeout. */
  | 'stalled'
  /** No usable copy anywhere, and downloading is disabled or impossible. */
  | 'not-found'
  /** An option is invalid (e.g. a mirror URL that is not http(s)). */
  | 'bad-option'
  /** The cache folder could not be written. */
  | 'io';

export class DatasetError extends Error {
  override readonly name = 'DatasetError';
  constructor(
    readonly code: DatasetErrorCode,
    message: string,
    readonly details: { url?: string; file?: string; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
  }
}
