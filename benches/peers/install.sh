#!/usr/bin/env bash
# Installs the Python dependencies of the peer benchmarks (SimPy, pinned in requirements.txt).
# Idempotent: when the pinned versions are already installed, pip does nothing.
# Works on a fresh Debian machine with python3: if pip is missing it installs python3-pip.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if ! command -v python3 >/dev/null 2>&1; then
    echo "install.sh: python3 is required (apt-get install python3)" >&2
    exit 1
fi

if ! python3 -m pip --version >/dev/null 2>&1; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-pip >/dev/null
fi

# Already satisfied? Then do not touch the network at all.
if python3 - "$here/requirements.txt" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version, PackageNotFoundError
for line in open(sys.argv[1]):
    line = line.split("#")[0].strip()
    if not line:
        continue
    name, _, pinned = line.partition("==")
    try:
        if pinned and version(name.strip()) != pinned.strip():
            sys.exit(1)
    except PackageNotFoundError:
        sys.exit(1)
PY
then
    exit 0
fi

# Debian's system Python (PEP 668) refuses plain pip installs; the flag exists only in
# pip >= 23.0.1, so it is passed only when pip knows it. (The help text is captured first:
# `pip --help | grep -q` under pipefail can fail on SIGPIPE.)
pip_help="$(python3 -m pip install --help 2>/dev/null || true)"
extra=()
if [[ "$pip_help" == *--break-system-packages* ]] &&
    python3 -c 'import os, sys, sysconfig; sys.exit(0 if os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")) else 1)'; then
    extra+=(--break-system-packages)
fi
if [ "$(id -u)" -eq 0 ] && [[ "$pip_help" == *--root-user-action* ]]; then
    extra+=(--root-user-action=ignore)
fi
python3 -m pip install --quiet --disable-pip-version-check ${extra[@]+"${extra[@]}"} -r "$here/requirements.txt"
