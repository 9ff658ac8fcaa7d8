#!/usr/bin/env bash
# A real VS Code (code-server 4.100.3) for manual checks and integration tests.
#
#   bash scripts/code-server.sh install
#   bash scripts/code-server.sh start <workspace> [port] [--dev [folder]] [--install-extension [folder]] [--vsix FILE] [--state DIR] [--restricted]
#   bash scripts/code-server.sh url <workspace> <port> [--dev [folder]]
#
# code-server is installed into .cache/code-server/ (ignored by git). The logic
# lives in test/support/code-server.ts, which tests import; this wrapper
# bundles it with esbuild and runs it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/.cache/code-server/cli.js"
mkdir -p "$(dirname "$out")"
if [ ! -f "$out" ] || [ "$root/test/support/code-server.ts" -nt "$out" ] || [ "$root/test/support/code-server-cli.ts" -nt "$out" ]; then
  "$root/node_modules/.bin/esbuild" "$root/test/support/code-server-cli.ts" \
    --bundle --platform=node --format=cjs --target=node20 --log-level=warning --outfile="$out"
fi
exec node "$out" "$@"
