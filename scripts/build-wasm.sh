#!/usr/bin/env bash
# Rebuilds the WebAssembly binaries compiled from C, which are committed next
# to their sources (so that building the extension needs npm alone, no C
# toolchain):
#   src/lib/engine/native/engine.c -> engine-simd.wasm (SIMD128)
#                                     engine-fma.wasm  (SIMD128 + relaxed SIMD: fused multiply-add)
# and records in src/lib/engine/native/wasm-manifest.json the SHA-256 of each
# source, of this script and of each binary; test/unit/engine.test.ts checks
# that the binaries are current.
#
# Needs clang and wasm-ld 16 (Debian/Ubuntu: apt-get install clang-16 lld-16).
# Run it after changing a C source or the flags below, and commit the results.
set -euo pipefail
cd "$(dirname "$0")/.."
CLANG="${CLANG:-clang-16}"
if ! command -v "$CLANG" >/dev/null || ! { command -v wasm-ld-16 || command -v wasm-ld; } >/dev/null; then
  echo "[build-wasm] needs $CLANG and wasm-ld (Debian/Ubuntu: apt-get install clang-16 lld-16)" >&2
  exit 1
fi
dir=src/lib/engine/native
# One shared memory imported by every thread; no libc; nothing exported but the kernels.
common=(--target=wasm32 -O3 -msimd128 -matomics -mbulk-memory -nostdlib -ffreestanding
  -Wl,--no-entry -Wl,--import-memory -Wl,--shared-memory -Wl,--max-memory=4294967296 -Wl,--strip-debug)
"$CLANG" "${common[@]}" -o "$dir/engine-simd.wasm" "$dir/engine.c"
"$CLANG" "${common[@]}" -DAENB_FMA=1 -mrelaxed-simd -o "$dir/engine-fma.wasm" "$dir/engine.c"
sha() { sha256sum "$1" | cut -d' ' -f1; }
cat > "$dir/wasm-manifest.json" <<JSON
{
  "builtBy": "scripts/build-wasm.sh",
  "compiler": "$("$CLANG" --version | head -1)",
  "script": "$(sha scripts/build-wasm.sh)",
  "sources": { "engine.c": "$(sha "$dir/engine.c")" },
  "binaries": { "engine-simd.wasm": "$(sha "$dir/engine-simd.wasm")", "engine-fma.wasm": "$(sha "$dir/engine-fma.wasm")" }
}
JSON
ls -l "$dir"/*.wasm
