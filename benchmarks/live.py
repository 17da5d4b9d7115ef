"""Live demo benchmark: the real main window (under Xvfb) running Live → Live demo.

Measures, while the bundled real paired Myo recording replays through the
MindRove playback board (500 Hz) and the 50 Hz model drives the 3D hand:

* pose updates per second reaching the 3D view (goal >= 50): frames the 3D view
  painted on screen with a new pose (poses handed to the view but merged into a
  later frame do not count);
* latency p50/p95 from a sample's arrival in the ring (the inference worker's
  read that returned it) to the end of the paint of the frame showing its pose
  (goal p95 <= 20 ms); also to the moment its pose is handed to the view
  (``HandView.set_pose``, what earlier versions of this benchmark measured);
* CPU use of the whole app process (all threads, % of one core) while live.

Usage: ``python benchmarks/live.py [--quick] [--seconds N]``; ONE JSON object on the last line.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import emit, ensure_display


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    p.add_argument("--seconds", type=float, default=None)
    p.add_argument("--no-scopes", action="store_true",
                   help="pause the EMG scopes while live (the Live dock's 'EMG scopes move while live' unchecked)")
    p.add_argument("--skeleton", action="store_true", help="draw skeletons only (no skinned mesh)")
    a = p.parse_args()
    ensure_display(sys.argv)
    import tempfile

    os.environ.setdefault("ASHA_HOME", tempfile.mkdtemp(prefix="asha_bench_live_"))
    import numpy as np
    import psutil
    from PySide6.QtWidgets import QApplication

    from asha_app.app import install_features
    from asha_app.core.clock import SessionClock
    from asha_app.core.settings import AppSettings
    from asha_app.ui.hand_view import HandView
    from asha_app.ui.main_window import MainWindow

    from asha_app.ui.gc_policy import GuiThreadCollector

    app = QApplication.instance() or QApplication([])
    collector = GuiThreadCollector(interval_s=1.0)  # the app's garbage-collection policy (asha_app.app.run_gui)
    w = MainWindow(AppSettings(), SessionClock())
    installed = install_features(w)
    w.show()
    app.processEvents()
    w.live_dock.mesh_check.setChecked(not a.skeleton)
    w.live_dock.scopes_check.setChecked(not a.no_scopes)
    if not w.live.start_demo():
        emit({"ok": False, "error": w.banner.text.text()})
        return 1
    dur = a.seconds or (15.0 if a.quick else 60.0)
    t_start = time.perf_counter()
    while w.live.drawn < 5 and time.perf_counter() - t_start < 30:  # model traced, first poses drawn
        app.processEvents()
        time.sleep(0.002)
    t_end = time.perf_counter() + 2.0
    while time.perf_counter() < t_end:
        app.processEvents()
        time.sleep(0.002)
    collector.settle()  # as the app does once its window is up
    w.live.latencies_ms.clear()
    w.live.handed_latencies_ms.clear()
    w.live.draw_times.clear()
    proc = psutil.Process()
    c0 = proc.cpu_times()
    t0 = time.perf_counter()
    n0, h0 = w.live.drawn, w.live.handed
    f0 = getattr(w.hand_view, "frames_painted", 0)
    sf0 = w.scopes.frames_drawn
    wk = w.live.worker
    o0, r0, p0 = wk.outputs, wk.reads, wk.slot.count
    ticks = []
    while time.perf_counter() - t0 < dur:
        app.processEvents()
        ticks.append(time.perf_counter())
        time.sleep(0.001)
    el = time.perf_counter() - t0
    c1 = proc.cpu_times()
    lat = np.asarray(w.live.latencies_ms)
    gaps = np.diff(ticks) * 1000
    res = {
        "ok": True,
        "what": "Live demo in the real main window (Xvfb): real paired Myo EMG (held-out stretch) replayed at 500 Hz "
                "by the MindRove playback board, 50 Hz EnvelopeTCN on every 10th sample, One Euro smoothing, "
                "3D hand (emg + reference slots)",
        "display": os.environ.get("DISPLAY"),
        "opengl_view": isinstance(w.hand_view, HandView),
        "features_installed": installed,
        "seconds": round(el, 1),
        "pose_updates_per_s": round((w.live.drawn - n0) / el, 1),
        "poses_handed_to_view_per_s": round((w.live.handed - h0) / el, 1),
        "view_frames_painted_per_s": round((getattr(w.hand_view, "frames_painted", 0) - f0) / el, 1),
        "view_backend": getattr(w.hand_view, "backend", None),
        "view_size_px": [w.hand_view.width(), w.hand_view.height()],
        "render_ms_median": round(float(np.median(w.hand_view.render_ms)), 2)
        if getattr(w.hand_view, "render_ms", None) else None,
        "scope_frames_per_s": round((w.scopes.frames_drawn - sf0) / el, 1),
        "latency_ms_p50": round(float(np.percentile(lat, 50)), 2),
        "latency_ms_p95": round(float(np.percentile(lat, 95)), 2),
        "latency_ms_max": round(float(lat.max()), 2),
        "latency_to_set_pose_ms_p50": round(float(np.percentile(w.live.handed_latencies_ms, 50)), 2),
        "latency_to_set_pose_ms_p95": round(float(np.percentile(w.live.handed_latencies_ms, 95)), 2),
        "cpu_percent_of_one_core": round(100 * ((c1.user + c1.system) - (c0.user + c0.system)) / el, 1),
        "gui_max_event_loop_gap_ms": round(float(gaps.max()), 1),
        "event_loop_iterations_per_s": round(len(ticks) / el, 1),
        "model_outputs_per_s": round((wk.outputs - o0) / el, 1),
        "worker_reads_per_s": round((wk.reads - r0) / el, 1),
        "poses_published_per_s": round((wk.slot.count - p0) / el, 1),
        "acquisition_rate_hz": round(w.worker.stats().rate_hz, 1) if w.worker else None,
        "scopes_refreshing": w.draw_timer.isActive() and w.scope_pacer.allows_scopes(),
        "scopes_move_while_live": w.live_dock.scopes_check.isChecked(),
        "mesh_drawn": w.live_dock.mesh_check.isChecked(),
        "set_pose_ms_median": round(float(np.median(w.live.set_pose_ms)), 2) if w.live.set_pose_ms else None,
        "samples_lost": w.live.worker._reader.lost_total if w.live.worker else None,  # noqa: SLF001 - the benchmark reads the worker's own cursor
        "cpu_count": os.cpu_count(),
        "load_avg_1min": round(os.getloadavg()[0], 2),
        "goals": {"pose_updates_per_s": ">= 50", "latency_ms_p95": "<= 20"},
    }
    w.live.stop()
    w.shutdown()
    emit(res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
