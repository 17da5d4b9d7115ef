#!/usr/bin/env bash
# Install Asha on a fresh Debian/Ubuntu machine: system libraries Qt and OpenGL need, then a
# virtual environment in .venv with Asha and its pinned dependencies (and the test tools).
# Usage: bash scripts/install.sh            (from the repository root)
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES="xvfb xauth libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 \
libxcb-randr0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxkbcommon-x11-0 libgl1 libegl1 libegl-mesa0 libgl1-mesa-dri \
libglib2.0-0 \
libfontconfig1 libdbus-1-3"

if command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  missing=""
  for p in $APT_PACKAGES; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  if [ -n "$missing" ]; then
    echo "Installing system packages:$missing"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
else
  echo "apt-get not found: install the Qt xcb and OpenGL runtime libraries with your package manager." >&2
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
# torch is pinned (2.13.0, CPU build): an unpinned torch would pull gigabytes of CUDA packages.
.venv/bin/python -m pip install -q -e ".[test]"
echo "Asha installed in $(pwd)/.venv — start it with: .venv/bin/asha  (or .venv/bin/asha --demo)"
