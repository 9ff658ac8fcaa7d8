#!/usr/bin/env bash
# Installs what `npm run bench` needs for its PyTorch reference (Debian/Ubuntu):
#   python3-torch          PyTorch for the system Python (/usr/bin/python3)
#   libopenblas0-pthread   a multi-threaded BLAS for it
# Without these the benchmark still runs, and skips the PyTorch peer.
# Safe to run again: it installs only what is missing.
set -euo pipefail
wanted=(python3-torch libopenblas0-pthread)
missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "[bench-setup] all present: ${wanted[*]}"
else
  if ! command -v apt-get >/dev/null; then
    echo "[bench-setup] missing ${missing[*]} and no apt-get here: install PyTorch for /usr/bin/python3 with your package manager." >&2
    exit 1
  fi
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "[bench-setup] installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
PY="${AENB_TORCH_PYTHON:-/usr/bin/python3}"
if "$PY" -c 'import torch; print("[bench-setup] torch", torch.__version__, "threads", torch.get_num_threads())'; then
  exit 0
fi
echo "[bench-setup] $PY still cannot import torch." >&2
exit 1
