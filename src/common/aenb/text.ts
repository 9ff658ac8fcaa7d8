// Text of an `.aenb` file: strict UTF-8 decoding that says where a bad byte
// is, line and column of an offset, and the nesting-depth check that keeps
// deep documents away from recursive code. Pure: no Node, no DOM.
import { AenbFormatError } from './types';

/** 1-based line and column of a UTF-16 offset; "\r\n", "\n" and "\r" end lines. */
export function offsetToLineColumn(text: string, offset: number): { line: number; column: number } {
  const end = Math.max(0, Math.min(offset, text.length));
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

/** How deep arrays and objects may nest in a notebook (real notebooks nest a few levels). */
export const MAX_NESTING = 512;

/**
 * The offset of the first "[" or "{" that opens level MAX_NESTING + 1, or
 * undefined. A linear scan that skips strings and needs no valid JSON, so
 * that neither the parser's error reporting nor the writer ever recurses
 * that deep.
 */
export function tooDeepAt(text: string, max = MAX_NESTING): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \\ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > max) return i;
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
  return undefined;
}

const lenient = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
const encoder = new TextEncoder();

/**
 * Decodes a file's bytes as UTF-8, strictly: a byte sequence that is not
 * UTF-8 (a file saved as Latin-1, say) is an AenbFormatError with the line
 * and column where it is, never a silent U+FFFD that the next save would
 * write back. A byte order mark is kept (the parser skips it).
 */
export function decodeUtf8Strict(bytes: Uint8Array, fileName?: string): string {
  const text = lenient.decode(bytes);
  // Each U+FFFD is either written in the file (bytes EF BF BD) or a bad sequence: find the first bad one.
  for (let at = text.indexOf('\ufffd'); at >= 0; at = text.indexOf('\ufffd', at + 1)) {
    const byte = encoder.encode(text.slice(0, at)).length;
    if (bytes[byte] === 0xef && bytes[byte + 1] === 0xbf && bytes[byte + 2] === 0xbd) continue;
    const { line, column } = offsetToLineColumn(text, at);
    const shown = Array.from(bytes.subarray(byte, Math.min(bytes.length, byte + 4)), (b) => `0x${b.toString(16).toUpperCase().padStart(2, '0')}`).join(' ');
    throw new AenbFormatError(
      `the file is not valid UTF-8: the bytes ${shown} at byte ${byte} are not a UTF-8 character ` +
        '(was the file saved in another encoding, such as Latin-1?); save it as UTF-8. The file was not changed',
      line,
      column,
      '',
      fileName,
    );
  }
  return text;
}
