"""Settings dialog: armband connection, sEMG filter, camera-label and Lab Streaming Layer settings.

*OK* validates the edits with the settings models (:mod:`asha_app.core.settings`,
pydantic) and, when something is wrong, keeps the dialog open with every edit
as typed and says what is wrong in plain words under the field concerned; only
valid settings leave the dialog.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from pydantic import ValidationError
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout,
                               QGridLayout, QGroupBox, QLabel, QLineEdit, QPushButton, QSpinBox, QVBoxLayout, QWidget)

from asha_app.core.settings import AppSettings, CameraSettings, DeviceSettings, FilterSettings, LslSettings

ERROR_STYLE = "color: #b00020;"


def plain_message(err: dict) -> str:
    """One pydantic error (an item of ``ValidationError.errors()``) as a sentence for a person."""
    kind, ctx, msg = err.get("type", ""), err.get("ctx") or {}, str(err.get("msg", "invalid value"))
    if kind == "value_error":
        msg = msg.removeprefix("Value error, ")
        return msg[:1].upper() + msg[1:] + "."
    bounds = {"greater_than": ("more than", "gt"), "greater_than_equal": ("at least", "ge"),
              "less_than": ("less than", "lt"), "less_than_equal": ("at most", "le")}
    if kind in bounds:
        words, key = bounds[kind]
        return f"Must be {words} {ctx.get(key)}."
    if kind == "literal_error":
        return f"Must be one of {ctx.get('expected', 'the offered choices')}."
    return msg[:1].upper() + msg[1:] + "."


class SettingsDialog(QDialog):
    """Edit a copy of :class:`AppSettings`; :meth:`result_settings` returns the edited copy.

    ``errors`` maps a field name (``"armband_ip"``, ``"band_high_hz"``, ``"mano_path"`` ...) to the message shown
    under it after the last *OK*; empty when the edits are valid.
    """

    def __init__(self, settings: AppSettings, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Asha settings")
        self._settings = settings
        self.errors: dict[str, str] = {}
        self._fields: dict[str, tuple[QWidget, QLabel, QFormLayout]] = {}
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
        self._add(f, "IP address", "armband_ip", self.ip)
        self._add(f, "Port", "armband_port", self.port)
        self._add(f, "No-data timeout", "armband_timeout_s", self.timeout)
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
        self._add(g, "Mains frequency", "mains_hz", self.mains)
        self._add(g, "", "notch_enabled", self.notch)
        self._add(g, "Band-pass low edge", "band_low_hz", self.low)
        self._add(g, "Band-pass high edge", "band_high_hz", self.high)
        self._add(g, "Butterworth order", "order", self.order)
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
        self._add(c, "Hand to label", "hand", self.hand)
        self._add(c, "MediaPipe model", "model_complexity", self.complexity)
        self._add(c, "", "mirror_webcam", self.mirror)
        self._add(c, "MANO model file", "mano_path", self.mano)
        lay.addWidget(cam)
        lay.addWidget(self._lsl_group(settings.lsl))
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)

    def _add(self, form: QFormLayout, label: str, name: str, widget: QWidget) -> None:
        """A form row for the field, and under it a row for its error message (hidden until needed)."""
        err = QLabel("")  # wrapped by textwrap, not by Qt: a word-wrapped label in a form in a group box gets clipped
        err.setStyleSheet(ERROR_STYLE)
        err.setObjectName(f"error_{name}")
        form.addRow(label, widget)
        form.addRow("", err)
        form.setRowVisible(err, False)
        self._fields[name] = (widget, err, form)

    def error_label(self, name: str) -> QLabel:
        """The label under field ``name`` that shows its error."""
        return self._fields[name][1]

    # ------------------------------------------------------------------ validation
    def _build(self) -> tuple[AppSettings | None, dict[str, str]]:
        errors: dict[str, str] = {}
        parts = {}
        fields = {
            "device": (DeviceSettings, {**self._settings.device.model_dump(), "armband_ip": self.ip.text().strip(),
                                        "armband_port": self.port.value(), "armband_timeout_s": self.timeout.value()}),
            "filter": (FilterSettings, {"mains_hz": 50 if self.mains.currentIndex() == 0 else 60,
                                        "notch_enabled": self.notch.isChecked(), "band_low_hz": self.low.value(),
                                        "band_high_hz": self.high.value(), "order": self.order.value()}),
            "camera": (CameraSettings,
                       {"hand": self.hand.currentText(), "model_complexity": self.complexity.currentIndex(),
                                        "mirror_webcam": self.mirror.isChecked(),
                                        "mano_path": self.mano.text().strip()}),
            "lsl": (LslSettings, {"enabled": self.lsl_enabled.isChecked(), "scope": self.lsl_scope.currentData(),
                                  "outlets": [k for k, cb in self.lsl_outlets.items() if cb.isChecked()],
                                  "record_markers": self.lsl_markers.isChecked(),
                                  "marker_stream": self.lsl_marker_stream.text().strip()}),
        }
        for key, (model, values) in fields.items():
            try:
                parts[key] = model(**values)
            except ValidationError as exc:
                for err in exc.errors():
                    loc = err.get("loc") or ()
                    # a whole-model check (the band's two edges) belongs beside the high edge
                    name = str(loc[0]) if loc else {"filter": "band_high_hz"}.get(key, next(iter(values)))
                    errors.setdefault(name if name in self._fields else next(iter(values)), plain_message(err))
        mano = self.mano.text().strip()
        if mano and not Path(mano).expanduser().is_file():
            errors["mano_path"] = (f"No file at {mano}. Choose your MANO_RIGHT.pkl (or .npz), or leave this empty "
                                   "to use the built-in hand.")
        if errors:
            return None, errors
        return self._settings.model_copy(update=parts), {}

    def validate(self) -> bool:
        """Check the edits; show each problem under its field (edits stay as typed). True when all are valid."""
        _, self.errors = self._build()
        for name, (widget, label, form) in self._fields.items():
            msg = self.errors.get(name, "")
            label.setText("\n".join(textwrap.wrap(msg, 64)))
            form.setRowVisible(label, bool(msg))
            widget.setStyleSheet("border: 1px solid #b00020;" if msg and isinstance(widget, QLineEdit) else "")
        if self.errors:
            self._fields[next(iter(self.errors))][0].setFocus()
        self.adjustSize()
        return not self.errors

    def accept(self) -> None:
        """OK: close only when every field is valid."""
        if self.validate():
            super().accept()

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
        """The edited settings.

        Raises
        ------
        ValueError
            When an edit is invalid (:meth:`validate` shows which, in words, under the field).
        """
        new, errors = self._build()
        if new is None:
            raise ValueError("; ".join(f"{k}: {v}" for k, v in errors.items()))
        return new
