"""Helpers shared by the benchmark scripts (not part of the app)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from asha_app.core.jsonout import print_line  # noqa: E402  (strict JSON: NaN/Infinity as null)


def ensure_display(argv: list[str]) -> None:
    """Re-run this script under ``xvfb-run`` when there is no X display (benchmarks draw real windows)."""
    if os.environ.get("DISPLAY") or os.environ.get("ASHA_BENCH_NO_XVFB"):
        return
    if not shutil.which("xvfb-run"):
        sys.exit("no DISPLAY and xvfb-run is not installed (apt-get install xvfb xauth)")
    env = dict(os.environ, QT_QPA_PLATFORM="xcb", ASHA_BENCH_NO_XVFB="1")
    cmd = ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", sys.executable, *argv]
    sys.exit(subprocess.call(cmd, env=env))


def emit(result: dict) -> None:
    """Print the figures as one line of strict JSON (non-finite numbers as null), the last line of stdout."""
    print_line(result, sort_keys=True)
