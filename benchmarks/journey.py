"""Journey benchmark: the clinician's path through the real app, headless, step by step.

Runs ``tests/journey_steps.ClinicianJourney`` on the app's own window (``asha_app.app.create_window`` with the
demo sources: the bundled real Myo recording through the MindRove playback board, the bundled hand video
through the camera path), offscreen:

New recording (built-in *Quick tour* protocol) -> Model → Train or fine-tune… with the wizard's defaults ->
Live → Calibrate… (Record now; the real 2.2-minute calibration protocol, or a ~20 s one with ``--quick``) ->
Use this profile -> the live hand -> Stop.

Reports each step's wall time and whether it reached its user-visible result, the poses drawn per second
after *Use this profile*, and the live error between the EMG hand and the camera's hand (shadow mode, mm,
hand frame, wrist-relative MPJPE, running median). Note: in the demo the video's hand and the EMG come from
different people and moments, so that error measures the plumbing, not the model.

Usage: ``python benchmarks/journey.py [--quick] [--threads N]``; ONE JSON object on the last line.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import emit


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true", help="a ~20 s calibration protocol instead of the 2.2-minute one")
    p.add_argument("--threads", type=int, default=1, help="torch threads for training (default 1)")
    p.add_argument("--live-seconds", type=float, default=None, help="how long the live hand is watched")
    a = p.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    home = Path(tempfile.mkdtemp(prefix="asha_bench_journey_"))
    os.environ["ASHA_HOME"] = str(home / "asha")
    from PySide6.QtWidgets import QApplication

    from asha_app.protocols.model import load_protocol
    from asha_app.ui import calibration_wizard as CW
    from asha_app.ui.gc_policy import GuiThreadCollector
    from tests.journey_steps import ClinicianJourney, new_window
    from tests.recording_helpers import short_protocol

    app = QApplication.instance() or QApplication([])
    collector = GuiThreadCollector(interval_s=1.0)  # the app's garbage-collection policy
    if a.quick:
        calib = short_protocol(home / "calib.toml", duration=4.0, reps=2, rest=0.5)
        CW.calibration_protocol = lambda: load_protocol(calib)
    t0 = time.perf_counter()
    w = new_window()
    j = ClinicianJourney(w, train_threads=a.threads,
                         live_seconds=a.live_seconds if a.live_seconds is not None else (5.0 if a.quick else 20.0))
    error = None
    try:
        j.run()
    except AssertionError as exc:
        error = str(exc)
    finally:
        w.shutdown()
        collector.stop() if hasattr(collector, "stop") else None
        app.processEvents()
    steps = {s.name: {"wall_s": round(s.wall_s, 2), "reached": s.reached,
                      **{k: v for k, v in s.detail.items() if k != "report"}} for s in j.steps}
    live = steps.get("live", {})
    result = {
        "benchmark": "journey", "quick": a.quick, "error": error,
        "all_reached": error is None and all(s.reached for s in j.steps) and len(j.steps) == 6,
        "total_wall_s": round(time.perf_counter() - t0, 1),
        "poses_drawn_per_s": live.get("poses_drawn_per_s"),
        "live_error_median_mm": live.get("live_error_median_mm"),
        "steps": steps,
    }
    for name, st in steps.items():
        print(f"{name:10s} {'reached' if st['reached'] else 'NOT reached':12s} {st['wall_s']:7.1f} s", file=sys.stderr)
    emit(result)
    return 0 if result["all_reached"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
