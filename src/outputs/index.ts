// The output kinds' public contracts in one import, for tests, benchmarks and
// tools (bundles import the parts they need directly).
export * from './training/contract';
export * from './images/contract';
export * from './summary/contract';
export * from './latent/contract';
export * from './errors/contract';
export { encodePng, imagesOutputItems, imagesPng, crc32 } from './images/png';
export { errorData, errorOutput } from './error';
export { streamOutput } from './stream';
export { textOutput } from './text';
export { markdownOutput } from './markdown';
export { toOutput } from './payload';
export type { OutputItemBytes, OutputKind } from './kind';
export { OUTPUT_KINDS, RENDERER_MIME_TYPES, kindOf } from './registry';
export * from '../common/messages/renderer';
export { base64ToBytes, bytesToBase64, decodeFloat32, encodeFloat32 } from '../common/base64';
export { COLORMAPS, colormapLut, colormapOrDefault, DEFAULT_COLORMAP, imageToRgba, type Colormap } from '../common/colormap';
export { formatCount, formatDuration, formatMetric } from '../common/formatting';
