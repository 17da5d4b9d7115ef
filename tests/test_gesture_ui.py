"""Gesture mode in the main window on the real demo: the label follows the demo's gesture markers; the gesture set."""

from __future__ import annotations

import numpy as np
import pytest
import torch

torch.set_num_threads(1)


def _window(qtbot):
    from asha_app.core.clock import SessionClock
    from asha_app.core.settings import AppSettings
    from asha_app.ui import gesture_panel, live
    from asha_app.ui.main_window import MainWindow

    w = MainWindow(AppSettings(), SessionClock())
    qtbot.addWidget(w)
    live.install(w)
    gesture_panel.install(w)
    return w


@pytest.mark.gui
def test_gesture_mode_follows_the_demo_markers(qtbot, tmp_path):
    w = _window(qtbot)
    w.show()
    try:
        texts = [a.text() for a in w.menus["live"].actions()]
        assert "Gesture mode (demo model)" in texts and "Gesture model…" in texts
        g = w.gestures
        assert g.start_demo_model()
        qtbot.waitUntil(lambda: not g.loading, timeout=30000)
        assert g.panel.message.text() == ""
        assert list(g.panel.boxes) == list(g.ckpt.target_names) and all(b.isChecked() for b in g.panel.boxes.values())
        # the demo: rest 5 s, wrist flexion 5 s, rest 5 s, ... (markers on the stream); wait for rest -> flexion
        # -> rest to pass, and check the displayed gesture matched the marker's gesture in both
        def seen(gesture):  # the marker names arrive when the source has opened (in the acquisition thread)
            names = w.scopes.marker_names
            return any(n == gesture and names.get(m) == gesture for n, m in list(g.shown)[-400:])

        qtbot.waitUntil(lambda: seen("rest") and seen("wrist flexion"), timeout=40000)
        shown = list(g.shown)
        assert len({n for n, _ in shown}) >= 2  # the label changed
        assert g.panel.name_label.text() in g.ckpt.target_names
        bars = {c: b.value() for c, b in g.panel.bars.items()}
        assert 95 <= sum(bars.values()) <= 105  # probabilities over the active set, in percent
        lat = np.asarray(g.latency_ms)
        assert len(lat) > 20 and np.median(lat) < 200
        # gesture set: only rest and fist active -> only those are decided, the others' bars stay at 0
        g.set_active(["rest", "fist"])
        n0 = len(g.shown)
        qtbot.waitUntil(lambda: len(g.shown) > n0 + 30, timeout=10000)
        later = [n for n, _ in list(g.shown)[n0 + 10:]]
        assert set(later) <= {"rest", "fist"}
        assert all(b.value() == 0 for c, b in g.panel.bars.items() if c not in ("rest", "fist"))
        # a gesture the model was not trained on is refused, naming what it knows
        g.set_active(["rest", "thumbs up"])
        assert "thumbs up" in g.panel.message.text() and "knows: rest, fist" in g.panel.message.text()
        assert [c for c, b in g.panel.boxes.items() if b.isChecked()] == ["rest", "fist"]
        w.grab().save(str(tmp_path / "gestures.png"))
        g.stop()
        assert g.worker is None
    finally:
        w.shutdown()
    from asha_app.workers.base import running_workers

    qtbot.waitUntil(lambda: not running_workers(), timeout=5000)


@pytest.mark.gui
def test_a_pose_model_is_refused_in_gesture_mode(qtbot):
    from asha_app.inference.live_demo import demo_assets

    w = _window(qtbot)
    try:
        assert w.gestures.load_model(demo_assets().model_path)
        qtbot.waitUntil(lambda: not w.gestures.loading, timeout=30000)
        assert "is a pose model" in w.gestures.panel.message.text() and w.gestures.ckpt is None
        assert w.gestures.worker is None
    finally:
        w.shutdown()


@pytest.mark.gui
def test_calibration_adapts_the_gesture_model_from_the_same_recording(qtbot, tmp_path):
    """What the calibration wizard's last page does when gesture mode has a model: adapt it from the recording."""
    from PySide6.QtWidgets import QLabel

    from asha_app.core import paths
    from asha_app.gestures.datasets import demo_gesture_recording

    w = _window(qtbot)
    try:
        g = w.gestures
        assert not g.calibrate_from(demo_gesture_recording())  # no model loaded: nothing to adapt
        assert g.load_model(paths.resource("gestures", "demo_gestures.pt"))
        qtbot.waitUntil(lambda: not g.loading, timeout=30000)  # no stream: loaded, says so
        assert "No stream" in g.panel.message.text() and g.ckpt is not None
        label = QLabel()
        before = g.ckpt
        assert g.calibrate_from(demo_gesture_recording(), label, tmp_path / "p1.profile.json")
        qtbot.waitUntil(lambda: "Saved" in label.text() or "calibration:" in label.text(), timeout=60000)
        assert "→" in label.text() and "Per gesture" in label.text()
        assert (tmp_path / "p1.profile.gestures.pt").is_file() and g.ckpt is not before
    finally:
        w.shutdown()
