"""Settings → a wrong value: the dialog stays open with the user's edits and says in words, under the field, what
is wrong; once fixed, OK applies the settings to the window (and the running filter) and they persist."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from asha_app.core.clock import SessionClock
from asha_app.core.settings import AppSettings
from asha_app.ui.main_window import MainWindow
from asha_app.ui.settings_dialog import SettingsDialog

pytestmark = pytest.mark.gui


def test_invalid_settings_are_explained_beside_the_field_and_edits_kept(qtbot, tmp_path):
    window = MainWindow(AppSettings(), SessionClock())
    qtbot.addWidget(window)
    seen: dict = {}

    def user():
        dlg = QApplication.activeModalWidget()
        assert isinstance(dlg, SettingsDialog)
        ok = dlg.buttons.button(QDialogButtonBox.StandardButton.Ok)
        dlg.ip.setText("192.168.4.x")
        dlg.low.setValue(150.0)
        dlg.high.setValue(100.0)
        dlg.mano.setText(str(tmp_path / "missing_MANO_RIGHT.pkl"))
        dlg.order.setValue(6)
        qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
        seen["open_after_bad_ok"] = dlg.isVisible()
        seen["errors"] = {k: dlg.error_label(k).text().replace("\n", " ")
                          for k in ("armband_ip", "band_high_hz", "mano_path")}
        seen["shown"] = all(dlg.error_label(k).isVisibleTo(dlg) for k in ("armband_ip", "band_high_hz", "mano_path"))
        seen["others_clear"] = not dlg.error_label("band_low_hz").isVisibleTo(dlg)
        seen["kept"] = (dlg.ip.text(), dlg.low.value(), dlg.high.value(), dlg.order.value())
        dlg.grab().save(str(tmp_path / "settings_errors.png"))
        dlg.ip.setText("192.168.4.1")  # fix them: OK now applies
        dlg.high.setValue(180.0)
        dlg.mano.setText("")
        qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
        seen["closed"] = not dlg.isVisible()

    try:
        QTimer.singleShot(0, user)
        window.settings_action.trigger()  # modal: returns when the dialog closes
        assert seen["open_after_bad_ok"]
        err = seen["errors"]
        assert "not an IP address" in err["armband_ip"] and "192.168.4.1" in err["armband_ip"]
        assert err["band_high_hz"] == "The high edge of the band-pass (100 Hz) must be above its low edge (150 Hz)."
        assert "No file at" in err["mano_path"] and "missing_MANO_RIGHT.pkl" in err["mano_path"]
        assert "pydantic" not in " ".join(err.values()) and "validation error" not in " ".join(err.values())
        assert seen["shown"] and seen["others_clear"]
        assert seen["kept"] == ("192.168.4.x", 150.0, 100.0, 6)  # nothing the user typed was lost
        assert seen["closed"]
        s = window.settings
        assert s.device.armband_ip == "192.168.4.1" and (s.filter.band_low_hz, s.filter.band_high_hz) == (150.0, 180.0)
        assert s.filter.order == 6
    finally:
        window.shutdown()
    loaded, problem = AppSettings.load()
    assert problem is None and loaded.filter.band_high_hz == 180.0 and loaded.device.armband_ip == "192.168.4.1"


def test_a_settings_file_with_a_bad_ip_falls_back_to_defaults_with_a_reason():
    AppSettings.path().write_text('{"version": 1, "device": {"armband_ip": "armband"}}')
    settings, problem = AppSettings.load()
    assert settings.device.armband_ip == "" and "settings.json" in problem and "defaults" in problem
