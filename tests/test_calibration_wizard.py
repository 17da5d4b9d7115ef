"""The calibration wizard end to end on real data: settings, recorded session + quality gate, worker, profile."""

from __future__ import annotations

import pytest


@pytest.mark.gui
def test_wizard_calibrates_in_a_worker_and_loads_the_profile(qtbot):
    from asha_app.calibration.live_demo import demo_assets, demo_recording
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
        wiz.next()
        assert not wiz.record.isComplete()
        wiz.record.start_recording()  # no armband streaming: a clear message, nothing recorded
        assert "No EMG is streaming" in wiz.record.message.text()
        wiz.record.set_recording(demo_recording(assets))
        assert wiz.record.isComplete()
        wiz.next()
        qtbot.waitUntil(lambda: wiz.train.isComplete() or (wiz.train.worker and wiz.train.worker.failed), timeout=60000)
        assert wiz.train.worker.failed is None
        qtbot.waitUntil(wiz.train.worker.isFinished, timeout=5000)
        res = wiz.train.result
        assert res.profile_path == default_path("anna") and res.profile_path.is_file()
        assert "held-out error" in wiz.train.status.text() and not wiz.train.image.pixmap().isNull()
        prof = load_profile(res.profile_path)
        assert prof.participant == "anna" and prof.calibration["strategy"] == "head"
        wiz.accept()  # "Use this profile": loaded into the Live dock
        assert w.live.profile is not None and w.live.profile.participant == "anna"
        assert "anna" in w.live_dock.what.text()
    finally:
        w.shutdown()
