// The `.aenb` notebook file format: types and constants (./types.ts), strict
// decoding and positions (./text.ts), parsing (./parse.ts), writing (./write.ts).
export * from './types';
export { decodeUtf8Strict, MAX_NESTING, offsetToLineColumn } from './text';
export { parseNotebook, parseNotebookBytes } from './parse';
export { serializeNotebook } from './write';
export { base64ToBytes, bytesToBase64, isBase64 } from '../base64';
