"""The calibration report card and the training report a person reads.

Per finger, in named units, on a laptop screen.
"""

from __future__ import annotations

import pytest

LAPTOP = (1366, 768)  # the smallest screen the app supports


@pytest.mark.gui
def test_calibration_report_card_is_per_finger_and_fits_a_laptop_screen(qtbot):
    from PySide6.QtWidgets import QScrollArea

    from asha_app.inference.live_demo import demo_assets, demo_recording
    from asha_app.core.clock import SessionClock
    from asha_app.core.settings import AppSettings
    from asha_app.models.fingers import FINGERS
    from asha_app.ui import live
    from asha_app.ui.main_window import MainWindow

    w = MainWindow(AppSettings(), SessionClock())
    qtbot.addWidget(w)
    live.install(w)
    try:
        assets = demo_assets()
        w.live.open_calibration()
        wiz = w.calibration_wizard
        wiz.setup.participant.setText("ben")
        wiz.setup.base.setText(str(assets.model_path))
        wiz.setup.strategy.setCurrentIndex(wiz.setup.strategy.findData("head"))  # the fastest
        wiz.next()
        wiz.record.set_recording(demo_recording(assets))
        wiz.next()
        qtbot.waitUntil(lambda: bool(wiz.train.isComplete() or (wiz.train.worker and wiz.train.worker.failed)),
                        timeout=60000)
        assert wiz.train.worker.failed is None
        qtbot.waitUntil(wiz.train.worker.isFinished, timeout=5000)
        res = wiz.train.result
        page = wiz.train
        # the summary line names its units and the R² rule; the per-finger line names every finger, before -> after
        assert "deg (mean absolute error over 5 finger flexions)" in page.status.text()
        assert "R² " in page.status.text()
        fingers = page.fingers.text()
        assert page.fingers.isVisibleTo(wiz) and fingers.endswith("deg")
        for f in FINGERS:
            b, a = res.before["mae_per_finger"][f], res.after["mae_per_finger"][f]
            assert f"{f} {b:.1f} → {a:.1f}" in fingers
        # the card: one picture of laptop size (not one row per target), shown whole without scrolling
        card = page.image.card
        assert card is not None and card.width() <= LAPTOP[0] and card.height() <= LAPTOP[1] - 100
        assert not page.findChildren(QScrollArea)
        hint = wiz.minimumSizeHint()
        assert hint.width() <= LAPTOP[0] and hint.height() <= LAPTOP[1], hint
        wiz.resize(LAPTOP[0] - 20, LAPTOP[1] - 40)  # maximised on the laptop, window frame aside
        qtbot.waitUntil(lambda: page.image.pixmap().height() > 0)
        shown = page.image.pixmap()
        assert shown.height() <= page.image.height() and shown.width() <= page.image.width()
        # legible: the card is shown at least at 3/4 of its drawn size (its text is 7-11 pt at 100 dpi)
        assert shown.width() >= 0.75 * card.width(), (shown.size(), page.image.size())
    finally:
        w.shutdown()


@pytest.mark.gui
def test_report_dialog_fits_the_screen(qtbot, tmp_path):
    from PySide6.QtGui import QGuiApplication

    from asha_app.ui.report_view import ReportDialog

    dlg = ReportDialog()
    qtbot.addWidget(dlg)
    avail = QGuiApplication.primaryScreen().availableGeometry()
    assert dlg.width() <= min(1100, avail.width()) and dlg.height() <= min(800, avail.height())
    hint = dlg.minimumSizeHint()
    assert hint.width() <= LAPTOP[0] and hint.height() <= LAPTOP[1]
