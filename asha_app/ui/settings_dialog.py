"""Settings dialog: armband connection, sEMG filter, camera and Lab Streaming Layer settings."""

from __future__ import annotations

from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QGridLayout,
                               QGroupBox, QLineEdit, QPushButton, QSpinBox, QVBoxLayout)

from asha_app.core.settings import AppSettings, CameraSettings, DeviceSettings, FilterSettings, LslSettings


class SettingsDialog(QDialog):
    """Edit a copy of :class:`AppSettings`; :meth:`result_settings` returns the edited copy."""

    def __init__(self, settings: AppSettings, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Asha settings")
        self._settings = settings
        lay = QVBoxLayout(self)
        dev = QGroupBox("MindRove WiFi armband")
        f = QFormLayout(dev)
        self.ip = QLineEdit(settings.device.armband_ip)
        self.ip.setPlaceholderText("SDK default (armband's own WiFi network)")
        self.port = QSpinBox()
        self.port.setRange(0, 65535)
        self.port.setSpecialValueText("SDK default")
        self.port.setValue(settings.device.armband_port)
        self.timeout = QDoubleSpinBox()
        self.timeout.setRange(1.0, 30.0)
        self.timeout.setSuffix(" s")
        self.timeout.setValue(settings.device.armband_timeout_s)
        f.addRow("IP address", self.ip)
        f.addRow("Port", self.port)
        f.addRow("No-data timeout", self.timeout)
        lay.addWidget(dev)
        flt = QGroupBox("sEMG filter (causal; same filter in recording, training and live)")
        g = QFormLayout(flt)
        self.mains = QComboBox()
        self.mains.addItems(["50 Hz", "60 Hz"])
        self.mains.setCurrentIndex(0 if settings.filter.mains_hz == 50 else 1)
        self.notch = QCheckBox("Remove mains hum (notch)")
        self.notch.setChecked(settings.filter.notch_enabled)
        self.low = QDoubleSpinBox()
        self.low.setRange(1.0, 200.0)
        self.low.setSuffix(" Hz")
        self.low.setValue(settings.filter.band_low_hz)
        self.high = QDoubleSpinBox()
        self.high.setRange(10.0, 1000.0)
        self.high.setSuffix(" Hz")
        self.high.setValue(settings.filter.band_high_hz)
        self.order = QSpinBox()
        self.order.setRange(1, 8)
        self.order.setValue(settings.filter.order)
        g.addRow("Mains frequency", self.mains)
        g.addRow("", self.notch)
        g.addRow("Band-pass low edge", self.low)
        g.addRow("Band-pass high edge", self.high)
        g.addRow("Butterworth order", self.order)
        lay.addWidget(flt)
        cam = QGroupBox("Camera labels (MediaPipe Hands + IK; applies when the camera is next started)")
        c = QFormLayout(cam)
        self.hand = QComboBox()
        self.hand.addItems(["any", "right", "left"])
        self.hand.setCurrentText(settings.camera.hand)
        self.complexity = QComboBox()
        self.complexity.addItems(["0 (faster)", "1 (more accurate)"])
        self.complexity.setCurrentIndex(settings.camera.model_complexity)
        self.mirror = QCheckBox("Show the webcam as a mirror (selfie view)")
        self.mirror.setChecked(settings.camera.mirror_webcam)
        self.mano = QLineEdit(settings.camera.mano_path)
        self.mano.setPlaceholderText("optional: your licensed MANO_RIGHT.pkl / .npz (never shipped with Asha)")
        c.addRow("Hand to label", self.hand)
        c.addRow("MediaPipe model", self.complexity)
        c.addRow("", self.mirror)
        c.addRow("MANO model file", self.mano)
        lay.addWidget(cam)
        lay.addWidget(self._lsl_group(settings.lsl))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def _lsl_group(self, ls: LslSettings) -> QGroupBox:
        from asha_app.devices.lsl import OUTLETS, SCOPES  # noqa: PLC0415 - plain data, no LSL is loaded

        box = QGroupBox("Lab Streaming Layer (LSL)")
        f = QFormLayout(box)
        self.lsl_enabled = QCheckBox("Publish Asha's streams and record LSL markers")
        self.lsl_enabled.setChecked(ls.enabled)
        self.lsl_scope = QComboBox()
        for key, text in SCOPES.items():
            self.lsl_scope.addItem(text, key)
        self.lsl_scope.setCurrentIndex(list(SCOPES).index(ls.scope))
        self.lsl_scope.setToolTip("Which programs see Asha's streams; a change applies after restarting Asha.")
        grid = QGridLayout()
        self.lsl_outlets: dict[str, QCheckBox] = {}
        short = {"emg": "EMG", "imu": "IMU", "camera_pose": "camera pose", "predicted_pose": "EMG-predicted pose",
                 "gestures": "gestures", "markers": "prompts and markers"}
        for i, (key, text) in enumerate(OUTLETS.items()):
            cb = QCheckBox(short.get(key, key))
            cb.setToolTip(text)
            cb.setChecked(key in ls.outlets)
            self.lsl_outlets[key] = cb
            grid.addWidget(cb, i // 3, i % 3)
        self.lsl_markers = QCheckBox("Record LSL marker streams into sessions")
        self.lsl_markers.setChecked(ls.record_markers)
        self.lsl_marker_stream = QLineEdit(ls.marker_stream)
        self.lsl_marker_stream.setPlaceholderText("every marker stream (or a stream's name / source id)")
        self.selftest_button = QPushButton("Synchronization self-test…")
        self.selftest_button.setToolTip("Measure LSL loopback latency and jitter, marker timing, and (with the camera "
                                        "running) the EMG-to-video offset from a tap")
        lab = getattr(self.parent(), "lab", None)
        self.selftest_button.setEnabled(lab is not None)
        if lab is not None:
            self.selftest_button.clicked.connect(lambda: lab.open_selftest(self))
        f.addRow("", self.lsl_enabled)
        f.addRow("Reach", self.lsl_scope)
        f.addRow("Outlets", grid)
        f.addRow("", self.lsl_markers)
        f.addRow("Marker stream", self.lsl_marker_stream)
        f.addRow("", self.selftest_button)
        return box

    def result_settings(self) -> AppSettings:
        """The edited settings (validated by pydantic; raises ``ValueError`` on an impossible band)."""
        dev = DeviceSettings(**{**self._settings.device.model_dump(), "armband_ip": self.ip.text().strip(),
                                "armband_port": self.port.value(), "armband_timeout_s": self.timeout.value()})
        flt = FilterSettings(mains_hz=50 if self.mains.currentIndex() == 0 else 60, notch_enabled=self.notch.isChecked(),
                             band_low_hz=self.low.value(), band_high_hz=self.high.value(), order=self.order.value())
        cam = CameraSettings(hand=self.hand.currentText(), model_complexity=self.complexity.currentIndex(),
                             mirror_webcam=self.mirror.isChecked(), mano_path=self.mano.text().strip())
        lsl = LslSettings(enabled=self.lsl_enabled.isChecked(), scope=self.lsl_scope.currentData(),
                          outlets=[k for k, cb in self.lsl_outlets.items() if cb.isChecked()],
                          record_markers=self.lsl_markers.isChecked(), marker_stream=self.lsl_marker_stream.text().strip())
        return self._settings.model_copy(update={"device": dev, "filter": flt, "camera": cam, "lsl": lsl})
