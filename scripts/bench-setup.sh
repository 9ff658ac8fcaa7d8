#!/usr/bin/env bash
# Installs what `npm run bench` needs for its PyTorch reference (Debian/Ubuntu):
#   python3-torch          PyTorch for the system Python (/usr/bin/python3)
#   libopenblas0-pthread   a multi-threaded BLAS for it
# Without these the benchmark still runs, and skips the PyTorch peer.
# Safe to run again: it installs only what is missing.
set -euo pipefail
bash "$(dirname "$0")/setup-system.sh" python3-torch libopenblas0-pthread
PY="${AENB_TORCH_PYTHON:-/usr/bin/python3}"
if "$PY" -c 'import torch; print("[bench-setup] torch", torch.__version__, "threads", torch.get_num_threads())'; then
  exit 0
fi
echo "[bench-setup] $PY still cannot import torch." >&2
exit 1
