#!/bin/sh
# Installs the PyTorch peer for the benchmark (Debian bookworm: PyTorch 1.13 from the archive) when it is missing.
# Idempotent: does nothing when torch already imports and OpenBLAS (pthread) is installed.
#
#   python3-torch         PyTorch 1.13 for Debian's /usr/bin/python3
#   libopenblas0-pthread  without it torch's BLAS is the reference libblas, ~10x slower, and comparisons are void
#
# Note: Debian's python3-torch lives in /usr/lib/python3/dist-packages, visible to /usr/bin/python3 only; a
# python3 earlier on PATH (pyenv, venv) will not see it. seq2seq_bench.py re-executes itself under
# /usr/bin/python3 when its own interpreter lacks torch.
# Exit status: 0 ready, 1 cannot install (not root, no apt-get, apt failure, torch still not importable).
set -u

have_torch() {
  python3 -c 'import torch' >/dev/null 2>&1 && return 0
  [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import torch' >/dev/null 2>&1
}
have_openblas() {
  dpkg-query -W -f='${Status}' libopenblas0-pthread 2>/dev/null | grep -q 'install ok installed'
}

if have_torch && have_openblas; then
  exit 0
fi

fail() {
  echo "bench/pytorch/install.sh: $*" >&2
  echo "bench/pytorch/install.sh: install by hand: apt-get update && apt-get install -y python3-torch libopenblas0-pthread" >&2
  exit 1
}

command -v apt-get >/dev/null 2>&1 || fail "apt-get not found (Debian bookworm expected); cannot install PyTorch"
if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO="sudo -n"
else
  fail "must run as root (or with password-less sudo) to install python3-torch"
fi

echo "bench/pytorch/install.sh: installing python3-torch libopenblas0-pthread (apt)" >&2
$SUDO apt-get update >&2 || fail "apt-get update failed"
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y python3-torch libopenblas0-pthread >&2 \
  || fail "apt-get install python3-torch libopenblas0-pthread failed"

have_torch || fail "python3-torch installed but 'import torch' still fails (under python3 and /usr/bin/python3)"
have_openblas || fail "libopenblas0-pthread is not installed"
echo "bench/pytorch/install.sh: PyTorch ready" >&2
exit 0
