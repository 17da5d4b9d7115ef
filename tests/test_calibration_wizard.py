"""The calibration wizard end to end on real data: settings, recorded session + quality gate, worker, profile."""

from __future__ import annotations

import pytest


@pytest.mark.gui
def test_wizard_calibrates_in_a_worker_and_loads_the_profile(qtbot):
    from asha_app.inference.live_demo import demo_assets, demo_recording
    from asha_app.calibration.profile import default_path, load_profile
    from asha_app.core.clock import SessionClock
    from asha_app.core.settings import AppSettings
    from asha_app.ui import live
    from asha_app.ui.main_window import MainWindow

    w = MainWindow(AppSettings(), SessionClock())
    qtbot.addWidget(w)
    live.install(w)
    try:
        assets = demo_assets()
        w.live.open_calibration()
        wiz = w.calibration_wizard
        wiz.setup.participant.setText("anna")
        wiz.setup.base.setText(str(assets.model_path))
        from asha_app.calibration.strategies import DEFAULT_STRATEGY

        assert wiz.setup.strategy.currentData() == DEFAULT_STRATEGY  # the measured best is preselected
        wiz.setup.strategy.setCurrentIndex(wiz.setup.strategy.findData("head"))  # the fastest, for the test
        wiz.next()
        assert not wiz.record.isComplete()
        wiz.record.start_recording()  # no armband streaming: a clear message, nothing recorded
        assert "No EMG is streaming" in wiz.record.message.text()
        wiz.record.set_recording(demo_recording(assets))
        assert wiz.record.isComplete()
        wiz.next()
        # a bool: pytest-qt takes a callback returning None as "condition met" at once
        qtbot.waitUntil(lambda: wiz.train.isComplete() or bool(wiz.train.worker and wiz.train.worker.failed),
                        timeout=60000)
        assert wiz.train.worker.failed is None
        worker = wiz.train.worker
        qtbot.waitUntil(worker.isFinished, timeout=5000)
        qtbot.waitUntil(lambda: wiz.train.result is not None, timeout=5000)
        assert wiz.train.worker is worker  # the calibration ran once
        res = wiz.train.result
        assert res.profile_path == default_path("anna") and res.profile_path.is_file()
        assert "held-out error" in wiz.train.status.text() and not wiz.train.image.pixmap().isNull()
        prof = load_profile(res.profile_path)
        assert prof.participant == "anna" and prof.calibration["strategy"] == "head"
        wiz.accept()  # "Use this profile": loaded into the Live dock (read off the GUI thread)
        qtbot.waitUntil(lambda: not w.live.loading, timeout=15000)
        assert w.live.profile is not None and w.live.profile.participant == "anna"
        assert "anna" in w.live_dock.what.text()
    finally:
        w.shutdown()


@pytest.mark.gui
def test_profile_bone_lengths_scale_the_live_hand(qtbot, tmp_path):
    import numpy as np

    from asha_app.calibration import profile as P
    from asha_app.inference.live_demo import demo_assets
    from asha_app.core.clock import SessionClock
    from asha_app.core.settings import AppSettings
    from asha_app.models import checkpoint as C
    from asha_app.pose.hand_model import HandModel
    from asha_app.ui import live
    from asha_app.ui.main_window import MainWindow

    w = MainWindow(AppSettings(), SessionClock())
    qtbot.addWidget(w)
    live.install(w)
    try:
        base = HandModel.builtin("right").bone_lengths_mm
        prof = P.UserProfile("tall", C.load(demo_assets().model_path), {"name": "x", "fs": 500.0, "n_channels": 8},
                             bone_lengths_mm=(1.2 * base).tolist())
        path = P.save_profile(prof, tmp_path / "tall.ashaprofile")
        assert w.live.load_profile(path)  # no device running: loaded, waits for one
        w.start_demo()  # a device starts: the profile runs, the worker computes the person's hand
        qtbot.waitUntil(lambda: w.live.worker is not None and w.live.worker.slot.get()[1] is not None, timeout=20000)
        _, lp = w.live.worker.slot.get()
        np.testing.assert_allclose(lp.hand.bone_scale, 1.2)
        j_tall = lp.joints
        j_std = w.live.hand_model.forward_np(lp.angles)
        tip = 8  # index tip: 20 % further from the wrist
        assert np.linalg.norm(j_tall[tip] - j_tall[0]) == pytest.approx(
            1.2 * np.linalg.norm(j_std[tip] - j_std[0]), rel=1e-6)
    finally:
        w.shutdown()


@pytest.mark.gui
def test_record_now_records_the_calibration_through_the_recording_machinery(qtbot, tmp_path, monkeypatch):
    """'Record now' with real sources: the demo EMG through the playback board and the demo video through the
    camera path, a short protocol instead of the 2.2-minute one.  The page is the recording wizard's session view
    (prompt, repetition from 1, countdown, target hand, Pause/Resume, Redo); the file chooser is off while
    recording; at 100 % the file is checked and the wizard moves on to fine-tuning by itself."""
    from PySide6.QtCore import Qt

    from asha_app.core.clock import SessionClock
    from asha_app.core.settings import AppSettings
    from asha_app.data.reader import SessionFile
    from asha_app.protocols.model import load_protocol
    from asha_app.protocols.procedure import State
    from asha_app.ui import calibration_wizard as CW
    from asha_app.ui import live
    from asha_app.ui.hand_view import HandView
    from asha_app.ui.main_window import MainWindow
    from tests.recording_helpers import short_protocol

    monkeypatch.setattr(CW, "calibration_protocol",
                        lambda: load_protocol(short_protocol(tmp_path / "p.toml", duration=3.5, reps=2, rest=0.3)))
    # (~17 s: the quality gate needs a held-out test block of at least 2 s after a 2 s gap at the end)
    w = MainWindow(AppSettings(), SessionClock())
    qtbot.addWidget(w)
    live.install(w)
    try:
        w.start_demo(with_camera=True)
        qtbot.waitUntil(lambda: w.worker is not None and w.worker.emg_ring.total > 300, timeout=15_000)
        cam = w.camera_panel.worker
        qtbot.waitUntil(lambda: cam.snapshot()["labelled"] >= 3, timeout=40_000)
        w.live.open_calibration()
        wiz = w.calibration_wizard
        wiz.setup.participant.setText("rita")
        wiz.next()
        page = wiz.record
        assert wiz.currentPage() is page and page.file_button.isEnabled()
        qtbot.mouseClick(page.record_button, Qt.MouseButton.LeftButton)
        assert page.running and not page.record_button.isEnabled()
        assert not page.file_button.isEnabled()  # no second recording source while this one runs
        assert page.prompt.text().startswith("Get ready")
        assert page.view.countdown.text().endswith(" s")  # the countdown before the first prompt
        proc = page._proc
        qtbot.waitUntil(lambda: proc.state == State.PROMPT, timeout=5000)
        assert page.prompt.text() == "fist" and "repetition 1 of 2" in page.view.instruction.text()
        if isinstance(w.hand_view, HandView):  # the prompt's target hand in the 3D view
            assert w.hand_view._hands["target"].drawn
        qtbot.keyClick(page, Qt.Key.Key_Space)  # pause: the repetition in progress is thrown away
        assert proc.state == State.PAUSED and page.view.pause_button.text() == "Resume"
        assert page.prompt.text() == "Paused"
        qtbot.mouseClick(page.view.pause_button, Qt.MouseButton.LeftButton)
        assert proc.state == State.COUNTDOWN and page.view.pause_button.text() == "Pause"
        qtbot.waitUntil(lambda: len(proc.prompts) == 1, timeout=8000)
        first = proc.prompts[0]
        qtbot.mouseClick(page.view.redo_button, Qt.MouseButton.LeftButton)
        # the last repetition is thrown away and comes again after a countdown: the completed "fist", or, when the
        # next one had already begun on a loaded machine (the rest is 0.3 s), that partial "open"
        assert proc.state == State.COUNTDOWN
        redone_first = proc.prompts == []
        assert (redone_first and proc.current_step.label == "fist") or (
            proc.prompts == [first] and proc.current_step.label == "open")
        qtbot.waitUntil(lambda: wiz.currentPage() is wiz.train, timeout=40_000)  # moved on by itself at 100 %
        assert page.progress.value() == page.progress.maximum()
        rec = page.recording
        assert rec is not None and page.isComplete() and "✓" in page.message.text(), page.message.text()
        assert page._path.parent.name == "calibration" and page._path.name.startswith("rita_") and page._path.is_file()
        assert [(p.label, p.repetition) for p in rec.prompts if p.repetition >= 0] == [
            ("fist", 0), ("open", 0), ("fist", 1), ("open", 1)]
        if redone_first:
            assert (first.start, first.end) not in [(p.start, p.end) for p in rec.prompts]  # the redone one is not kept
        with SessionFile(page._path) as sf:  # the paused and redone repetitions are in the file, marked discarded
            assert len(sf.prompts(include_discarded=True)) > len(sf.prompts())
            assert not sf.has("imu/t") or sf.dataset("imu/t").shape[0] == 0  # the demo has no IMU: none stored
        assert rec.emg.shape[1] == 8 and len(rec.emg) > 500 * 14.0 * 0.8  # ~17 s of 500 Hz EMG, none lost
        assert rec.valid.sum() >= 10  # the demo video's hand, labelled by MediaPipe + IK while recording
        assert page.bone_lengths_mm() is not None and len(page.bone_lengths_mm()) == 20
        assert page.record_button.isEnabled() and page.record_button.text() == "Record again"
        assert page.file_button.isEnabled()
        qtbot.waitUntil(lambda: wiz.train.worker is not None and wiz.train.worker.isFinished(), timeout=120_000)
        wiz.reject()
    finally:
        w.shutdown()


@pytest.mark.gui
def test_abort_and_closing_during_the_calibration_recording(qtbot, tmp_path, monkeypatch):
    """Abort keeps the page (no fine-tuning on a cut-short recording) and says where the file is; closing the wizard
    mid-recording stops the recorder and closes the file."""
    from PySide6.QtCore import Qt

    from asha_app.core.clock import SessionClock
    from asha_app.core.settings import AppSettings
    from asha_app.data.reader import SessionFile
    from asha_app.protocols.model import load_protocol
    from asha_app.protocols.procedure import State
    from asha_app.ui import calibration_wizard as CW
    from asha_app.ui import live
    from asha_app.ui.main_window import MainWindow
    from tests.recording_helpers import short_protocol

    monkeypatch.setattr(CW, "calibration_protocol",
                        lambda: load_protocol(short_protocol(tmp_path / "p.toml", duration=3.0, reps=2, rest=0.3)))
    w = MainWindow(AppSettings(), SessionClock())
    qtbot.addWidget(w)
    live.install(w)
    try:
        w.start_demo(with_camera=True)
        qtbot.waitUntil(lambda: w.worker is not None and w.worker.emg_ring.total > 300, timeout=15_000)
        qtbot.waitUntil(lambda: w.camera_panel.worker.snapshot()["labelled"] >= 3, timeout=40_000)
        w.live.open_calibration()
        wiz = w.calibration_wizard
        wiz.setup.participant.setText("ugo")
        wiz.next()
        page = wiz.record
        qtbot.mouseClick(page.record_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: page._proc.state == State.PROMPT, timeout=5000)
        qtbot.mouseClick(page.view.abort_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not page.running, timeout=15_000)
        assert wiz.currentPage() is page and not page.isComplete()
        assert "aborted" in page.message.text() and str(page._path) in page.message.text()
        assert page.record_button.isEnabled() and page.file_button.isEnabled()
        with SessionFile(page._path) as sf:
            assert sf.finalized
        qtbot.mouseClick(page.record_button, Qt.MouseButton.LeftButton)  # again, then close the wizard mid-way
        qtbot.waitUntil(lambda: page._proc.state == State.PROMPT, timeout=5000)
        second = page._path
        wiz.reject()
        assert not page.running
        with SessionFile(second) as sf:
            assert sf.finalized and not sf.crashed
    finally:
        w.shutdown()
