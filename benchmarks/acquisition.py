"""Benchmark: the demo streamed through the acquisition worker into the running main window.

Streams the bundled demo (real Myo sEMG resampled to 500 Hz, replayed by the
MindRove SDK's playback board) for 10 minutes (``--quick``: 30 s) into the
main window on an X display (re-runs itself under ``xvfb-run`` when there is
none), with the scopes showing 8 channels x 10 s, and reports:

* samples received vs expected at 500 Hz of wall time, samples lost (package
  gaps and ring overruns) and duplicated (package numbers seen twice);
* scope frames actually painted per second (paint events of the scope view);
* CPU use of the whole GUI process (all threads), percent of one core;
* resident memory at the start and the end of the run.

Usage::

    python benchmarks/acquisition.py [--quick] [--seconds N]

The last line of stdout is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks._common import emit, ensure_display


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="30 s instead of 10 minutes")
    ap.add_argument("--seconds", type=float, default=None, help="run length (overrides --quick)")
    args = ap.parse_args()
    ensure_display(sys.argv)
    seconds = args.seconds or (30.0 if args.quick else 600.0)
    os.environ.setdefault("ASHA_HOME", tempfile.mkdtemp(prefix="asha_bench_"))

    import numpy as np
    import psutil
    import pyqtgraph as pg
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication

    from asha_app.core.clock import SessionClock
    from asha_app.core.settings import AppSettings
    from asha_app.ui.main_window import MainWindow

    pg.setConfigOptions(antialias=False)
    app = QApplication.instance() or QApplication(sys.argv)
    settings = AppSettings()
    settings.device.kind = "demo"
    settings.scope.window_s = 10.0
    win = MainWindow(settings, SessionClock())
    win.resize(1500, 950)
    win.show()

    class PaintCounter(QObject):
        def __init__(self):
            super().__init__()
            self.n = 0

        def eventFilter(self, obj, ev):  # noqa: N802 - Qt name
            if ev.type() == QEvent.Type.Paint:
                self.n += 1
            return False

    painter = PaintCounter()
    win.scopes.glw.viewport().installEventFilter(painter)
    proc = psutil.Process()
    win.start_demo()
    worker = win.worker
    t_open = time.perf_counter()
    while not win.session.ready and time.perf_counter() - t_open < 30:  # the demo is opened in the worker's thread
        app.processEvents()
        time.sleep(0.005)
    n_file = worker.source.n_samples if worker.source else 70000
    reader = worker.emg_ring.reader(from_start=True)
    state = {"received": 0, "lost": 0, "dup": 0, "gap": 0, "last_pkg": None, "first_wall": None, "rss": []}

    def drain():
        r = reader.read()
        state["lost"] += r.lost
        if r.n == 0:
            return
        if state["first_wall"] is None:
            state["first_wall"] = time.perf_counter()
        pkg = r.data["package"][:, 0].astype(np.int64)
        prev = np.concatenate([[state["last_pkg"] if state["last_pkg"] is not None else pkg[0] - 1], pkg[:-1]])
        step = (pkg - prev) % n_file  # the demo loops: package numbers wrap at the file length
        state["dup"] += int(np.count_nonzero(step == 0))
        state["gap"] += int(np.sum(np.where(step > 1, step - 1, 0)))
        state["last_pkg"] = int(pkg[-1])
        state["received"] += r.n

    def sample_rss():
        state["rss"].append(proc.memory_info().rss)

    drain_timer = QTimer()
    drain_timer.timeout.connect(drain)
    drain_timer.start(200)
    rss_timer = QTimer()
    rss_timer.timeout.connect(sample_rss)
    rss_timer.start(1000)

    # settle 3 s (window shown, first frames), then measure
    t_settle = time.perf_counter() + 3.0
    while time.perf_counter() < t_settle:
        app.processEvents()
        time.sleep(0.005)
    rss_start = proc.memory_info().rss
    paints0 = painter.n
    frames0 = win.scopes.frames_drawn
    cpu0 = proc.cpu_times()
    wall0 = time.perf_counter()
    QTimer.singleShot(int(seconds * 1000), app.quit)
    app.exec()
    wall = time.perf_counter() - wall0
    cpu1 = proc.cpu_times()
    drain()
    rss_end = proc.memory_info().rss
    paints = painter.n - paints0
    frames = win.scopes.frames_drawn - frames0
    stats = worker.stats()
    streamed = time.perf_counter() - state["first_wall"]
    win.shutdown()
    expected = int(round(streamed * 500.0))
    result = {
        "benchmark": "acquisition",
        "source": "demo: real Myo sEMG resampled to 500 Hz via MindRove playback board",
        "seconds_measured": round(wall, 1),
        "seconds_streamed": round(streamed, 1),
        "samples_received": state["received"],
        "samples_expected_500hz": expected,
        "received_over_expected": round(state["received"] / expected, 5),
        "measured_rate_hz": round(state["received"] / streamed, 2),
        "samples_lost_package_gaps": state["gap"],
        "samples_lost_ring_overrun": state["lost"],
        "samples_duplicated": state["dup"],
        "worker_dropped_count": stats.dropped,
        "scope_channels": 8,
        "scope_window_s": 10.0,
        "scope_frames_painted_per_s": round(paints / wall, 1),
        "scope_updates_per_s": round(frames / wall, 1),
        "gui_process_cpu_percent_of_one_core": round(
            100.0 * ((cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)) / wall, 1),
        "rss_start_mb": round(rss_start / 2**20, 1),
        "rss_end_mb": round(rss_end / 2**20, 1),
        "rss_max_mb": round(max(state["rss"] + [rss_end]) / 2**20, 1),
        "qt_platform": app.platformName(),
    }
    emit(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
