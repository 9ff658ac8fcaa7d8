// What scripts/build.mjs embeds in the bundles.

/** A compiled WebAssembly binary, embedded by esbuild's binary loader. */
declare module '*.wasm' {
  const bytes: Uint8Array;
  export default bytes;
}

/** The engine worker (src/lib/engine/worker.ts), bundled on its own by scripts/build.mjs: the text `new Worker(…, { eval: true })` runs. */
declare module 'aenb:engine-worker' {
  const source: string;
  export default source;
}
