#!/usr/bin/env bash
# GPU checks in about 3 minutes: CUDA vs CPU boxes, CUDA-graph vs eager S1 loop, end-to-end fps of default/fast.
# Usage: benchmarks/gpu_check.sh [--device cuda:N] [--checkpoint F]   (exit 0 = checks passed; see gpu_check.py)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
exec "$PYTHON" -m benchmarks.gpu_check "$@"
