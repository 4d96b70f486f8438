#!/usr/bin/env bash
# Create the peers' venv for bench/preprocess/peers.py (never a dependency of seq2func).
# Usage: bash bench/preprocess/peers_venv.sh [VENV]   (default /work/bench-venv)
set -euo pipefail
VENV=${1:-/work/bench-venv}
PY=${PYTHON:-python3}
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/pip" install --quiet --upgrade pip
"$VENV/bin/pip" install --quiet crested pyfaidx pybigtools pyBigWig
"$VENV/bin/python" - <<'PY'
from importlib.metadata import version
for p in ("crested", "pyfaidx", "pybigtools", "pyBigWig", "numpy"):
    print(p, version(p))
PY
