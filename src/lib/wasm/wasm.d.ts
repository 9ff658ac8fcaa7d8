/** esbuild's binary loader (scripts/build.mjs): a .wasm import is the file's bytes. */
declare module '*.wasm' {
  const bytes: Uint8Array;
  export default bytes;
}
