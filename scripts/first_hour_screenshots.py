"""Take the screenshots of docs/first_hour.md: the clinician's journey through the real app, on a virtual screen.

Runs ``tests/journey_steps.ClinicianJourney`` (demo EMG through the MindRove playback board, the demo video through
the camera path, the built-in Quick tour protocol, a short calibration protocol) on a 1600x1000 Xvfb screen and
saves the whole screen at each step into ``docs/first_hour/``.

Usage: ``python scripts/first_hour_screenshots.py [--out docs/first_hour]`` (re-runs itself under xvfb-run).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--out", default=str(REPO / "docs" / "first_hour"))
    a = p.parse_args()
    from benchmarks._common import ensure_display

    ensure_display(sys.argv)
    home = Path(tempfile.mkdtemp(prefix="asha_first_hour_"))
    os.environ["ASHA_HOME"] = str(home / "asha")
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    from PySide6.QtWidgets import QApplication

    import pyqtgraph as pg
    from asha_app.protocols.model import load_protocol
    from asha_app.ui import calibration_wizard as CW
    from tests.journey_steps import ClinicianJourney, new_window
    from tests.recording_helpers import short_protocol

    pg.setConfigOptions(antialias=False, background="w", foreground="k")  # as the app (asha_app.app.run_gui)
    app = QApplication.instance() or QApplication([])
    calib = short_protocol(home / "calib.toml", duration=4.0, reps=2, rest=0.5)
    CW.calibration_protocol = lambda: load_protocol(calib)
    w = new_window()
    w.showMaximized()
    names = iter(range(1, 100))

    def snapshot(name: str) -> None:
        path = out / f"{next(names):02d}_{name}.png"
        app.primaryScreen().grabWindow(0).save(str(path))
        print(f"saved {path}", file=sys.stderr)

    j = ClinicianJourney(w, train_threads=1, live_seconds=6.0, snapshot=snapshot)
    try:
        j.run()
    finally:
        w.shutdown()
    for s in j.steps:
        print(f"{s.name:10s} {'reached' if s.reached else 'NOT reached'} {s.wall_s:6.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
