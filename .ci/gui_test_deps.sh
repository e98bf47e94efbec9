#!/usr/bin/env bash
# What tests/pytracking/test_webcam_gui.py needs to drive the webcam demo's real window:
#   - apt: a virtual X server (xvfb), mouse clicks and key presses (xdotool), screenshots (imagemagick's
#     `import`), and the system libraries a GUI build of OpenCV loads (libgl1, libglib2.0-0, libsm6, libxext6);
#   - pip: the GUI build of OpenCV, at the version of the project's headless one, into .gui-opencv
#     (`pip install --target --no-deps`: cv2 alone; .venv keeps its headless OpenCV, and the test puts
#     .gui-opencv first on the demo's PYTHONPATH, so numpy and everything else still come from .venv).
# Idempotent (installs only what is missing) and tolerant: it never fails the caller; whatever it cannot
# install makes the GUI test skip, naming what is missing.
# Usage: .ci/gui_test_deps.sh   (after ./install.sh; PYTHON overrides the interpreter, default .venv/bin/python)
set -uo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=.ci/apt_install.sh
source .ci/apt_install.sh

APT_PACKAGES=(xvfb xdotool imagemagick libgl1 libglib2.0-0 libsm6 libxext6)
TOOLS=(Xvfb xdotool import)
LIBRARIES=(libGL.so.1 libglib-2.0.so.0 libSM.so.6 libXext.so.6)
TARGET=.gui-opencv
PYTHON=${PYTHON:-.venv/bin/python}

warn() { echo "gui_test_deps: $*; the webcam GUI test will skip" >&2; }

apt_needed() {
  local tool lib
  for tool in "${TOOLS[@]}"; do command -v "$tool" >/dev/null || return 0; done
  for lib in "${LIBRARIES[@]}"; do ldconfig -p 2>/dev/null | grep -q "$lib" || return 0; done
  return 1
}

install_gui_opencv() {
  local version
  version=$(sed -n 's/.*"opencv-contrib-python-headless==\([0-9.]*\)".*/\1/p' pyproject.toml)
  if [ -z "$version" ]; then
    warn "no opencv-contrib-python-headless==VERSION pin found in pyproject.toml"
    return
  fi
  if [ -d "$TARGET/opencv_contrib_python-$version.dist-info" ]; then
    echo "gui_test_deps: $TARGET already holds opencv-contrib-python $version"
    return
  fi
  echo "gui_test_deps: pip install --target $TARGET opencv-contrib-python==$version"
  rm -rf "$TARGET"
  "$PYTHON" -m pip install --quiet --disable-pip-version-check --target "$TARGET" --no-deps \
    "opencv-contrib-python==$version" || { rm -rf "$TARGET"; warn "pip install opencv-contrib-python==$version failed"; }
}

if apt_needed; then install_apt "${APT_PACKAGES[@]}"; else echo "gui_test_deps: ${TOOLS[*]} and the GUI libraries are installed"; fi
install_gui_opencv
exit 0
