/**
 * The lean training step for the WebAssembly backend, now one module per
 * layer type under ./lean/ (see lean/types.ts for the per-layer interface).
 * This file keeps the old import path working.
 */
export * from './lean';
