#!/usr/bin/env bash
# One-command set-up: creates .venv (or uses the active environment with --use-active-env),
# installs PyTorch and the project (editable) with its test extras. Idempotent: a second run
# only checks that everything is in place. --vot adds the official VOT toolkit (vot-toolkit + TraX).
set -euo pipefail

TORCH_VERSION=2.14.1
TORCHVISION_VERSION=0.29.1
TORCHAO_VERSION=0.18.0  # must match pyproject.toml (int8 inference)
VOT_TOOLKIT_VERSION=0.9.0
cd "$(dirname "$0")"

use_active=0
with_vot=0
for arg in "$@"; do
  case "$arg" in
    --use-active-env) use_active=1 ;;
    --vot) with_vot=1 ;;
    -h|--help) echo "usage: ./install.sh [--use-active-env] [--vot]"; exit 0 ;;
    *) echo "install.sh: unknown option '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

die() { echo "install.sh: $*" >&2; exit 1; }

if [ "$use_active" = 1 ]; then
  PY=$(command -v python || command -v python3) || die "no python on PATH for --use-active-env"
else
  command -v python3 >/dev/null || die "python3 not found; install Python >= 3.10 first"
  python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' || die "Python >= 3.10 is required, found $(python3 --version)"
  if [ ! -x .venv/bin/python ]; then
    echo "install.sh: creating .venv"
    python3 -m venv .venv || die "could not create .venv (on Debian/Ubuntu: apt-get install python3-venv)"
  fi
  PY=.venv/bin/python
fi

# Fast path: everything already importable at the pinned versions and the project installed.
if "$PY" - <<PYEOF 2>/dev/null
import importlib.metadata as md, sys
want = {"torch": "$TORCH_VERSION", "torchvision": "$TORCHVISION_VERSION", "torchao": "$TORCHAO_VERSION"}
for name, version in want.items():
    if not md.version(name).startswith(version):
        sys.exit(1)
md.version("atom-ebm")
import cv2, importlinter, ltr, pytracking, trackers, pytest, got10k, six  # noqa: F401
if $with_vot:
    if md.version("vot-toolkit") != "$VOT_TOOLKIT_VERSION":
        sys.exit(1)
    import trax, vot.tracker.trax  # noqa: F401
    cv2.TrackerCSRT_create, cv2.TrackerNano  # the contrib build, not vot-toolkit's opencv-python
PYEOF
then
  echo "install.sh: environment already complete ($PY)"
  exit 0
fi

"$PY" -m pip install --quiet --upgrade pip || die "pip upgrade failed"
echo "install.sh: installing torch $TORCH_VERSION / torchvision $TORCHVISION_VERSION (about a minute)"
"$PY" -m pip install --quiet "torch==$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION" \
  || die "could not install torch==$TORCH_VERSION torchvision==$TORCHVISION_VERSION"
extras=test
if [ "$with_vot" = 1 ]; then extras=test,vot; fi
echo "install.sh: installing atom-ebm (editable) with extras: $extras"
"$PY" -m pip install --quiet -e ".[$extras]" || die "pip install -e .[$extras] failed"
# vot-toolkit requires opencv-python, which would overwrite the cv2 of our opencv-contrib-python-headless with a
# build without CSRT and NanoTrack: install the toolkit without its requirements (the `vot` extra holds the others)
if [ "$with_vot" = 1 ]; then
  echo "install.sh: installing vot-toolkit $VOT_TOOLKIT_VERSION without its opencv-python requirement"
  "$PY" -m pip install --quiet --no-deps "vot-toolkit==$VOT_TOOLKIT_VERSION" || die "could not install vot-toolkit==$VOT_TOOLKIT_VERSION"
  "$PY" -c 'import cv2, trax, vot.tracker.trax; cv2.TrackerCSRT_create, cv2.TrackerNano' \
    || die "VOT toolkit check failed: vot/trax do not import or cv2 lost the contrib trackers (if opencv-python is installed: pip uninstall -y opencv-python opencv-contrib-python-headless, then rerun)"
fi
"$PY" -c 'import torch, cv2, ltr, pytracking, trackers' || die "import check failed after install"
echo "install.sh: done. Python: $PY"
