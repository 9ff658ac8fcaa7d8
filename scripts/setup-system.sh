#!/usr/bin/env bash
# Installs the system packages (Debian/Ubuntu) that a job needs:
#   bash scripts/setup-system.sh [demo|test] [--list]
#   demo   the demo (npm run demo):
#            dataset-fashion-mnist  the official Fashion-MNIST files, read offline
#   test   the tests (npm test, CI; the default): the demo's, and
#            chromium               the browser the renderer, integration and E2E tests drive
#            libkrb5-dev ripgrep    what installing code-server needs (the integration and
#            g++ make               E2E tests' VS Code; see test/support/code-server.ts)
#   --list print the packages instead of installing them
# Safe to run again: it installs only what is missing. Given package names as
# arguments, it installs those instead (scripts/bench-setup.sh does).
set -euo pipefail
demo=(dataset-fashion-mnist)
tests=("${demo[@]}" chromium libkrb5-dev ripgrep g++ make)
list=false
args=()
for a in "$@"; do
  if [ "$a" = "--list" ]; then list=true; else args+=("$a"); fi
done
case "${args[0]:-test}" in
  test) wanted=("${tests[@]}") ;;
  demo) wanted=("${demo[@]}") ;;
  *) wanted=("${args[@]}") ;;
esac
if $list; then
  echo "${wanted[*]}"
  exit 0
fi
missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "[setup-system] all present: ${wanted[*]}"
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "[setup-system] missing ${missing[*]} and no apt-get here: install them with your package manager." >&2
  exit 1
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
# A mirror that answers slowly or drops a connection fails a whole CI run:
# each apt step is tried three times, a little apart, before giving up.
retry() {
  local n
  for n in 1 2 3; do
    "$@" && return 0
    [ "$n" -lt 3 ] && { echo "[setup-system] '$*' failed (attempt $n of 3); trying again" >&2; sleep $((n * 10)); }
  done
  return 1
}
echo "[setup-system] installing ${missing[*]}"
retry $SUDO apt-get update -qq
retry $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
