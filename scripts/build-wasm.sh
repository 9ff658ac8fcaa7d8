#!/usr/bin/env bash
# Rebuilds the committed WebAssembly modules compiled from C (the targets
# listed in scripts/build-wasm.mjs: src/lib/wasm/kernels.c and
# src/lib/engine/native/engine.c) with Debian's clang-16 and lld-16,
# installing them first when missing. Only needed after editing a C source or
# the flags: npm run build uses the committed binaries. Arguments go to
# scripts/build-wasm.mjs (--check compares a fresh build with the committed
# binaries).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v clang-16 >/dev/null || ! command -v wasm-ld-16 >/dev/null; then
  bash scripts/setup-system.sh clang-16 lld-16
fi
node scripts/build-wasm.mjs "$@"
