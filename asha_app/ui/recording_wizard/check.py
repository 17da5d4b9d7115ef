"""The device and camera check page: live per-channel quality flags and the camera's share of valid labels."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QCheckBox, QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWizardPage

from asha_app.protocols.wizard import Page, WizardInputError, evaluate_device_check
from asha_app.ui.procedure_view import CameraLabelFeed
from asha_app.ui.recording_wizard.common import camera_worker, error_label

if TYPE_CHECKING:
    from asha_app.ui.recording_wizard.wizard import RecordingWizard


#: Seconds of camera labels the device check looks at.
CHECK_WINDOW_S = 3.0


class DeviceCheckPage(QWizardPage):
    """Live EMG channel quality and camera label validity; warnings must be acknowledged."""

    def __init__(self, wizard: RecordingWizard) -> None:
        super().__init__()
        self.wiz = wizard
        self.setTitle("Device and camera check")
        self.setSubTitle("Ask the participant to relax, then to move the hand in front of the camera.")
        self.channel_labels = [QLabel("—") for _ in range(8)]
        grid = QGridLayout()
        for i, lab in enumerate(self.channel_labels):
            grid.addWidget(QLabel(f"EMG {i + 1}"), i // 4, 2 * (i % 4))
            grid.addWidget(lab, i // 4, 2 * (i % 4) + 1)
        self.device_label = QLabel("")
        self.device_label.setWordWrap(True)
        self.camera_label = QLabel("camera: not running")
        self.warnings = QLabel("")
        self.warnings.setWordWrap(True)
        self.acknowledge = QCheckBox("I have read the warnings and want to record anyway")
        self.acknowledge.setEnabled(False)
        self.demo_button = QPushButton("Start demo EMG + demo video")
        self.camera_button = QPushButton("Start camera (demo video)")
        self.error = error_label()
        buttons = QHBoxLayout()
        buttons.addWidget(self.demo_button)
        buttons.addWidget(self.camera_button)
        buttons.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addWidget(self.device_label)
        lay.addLayout(grid)
        lay.addWidget(self.camera_label)
        lay.addLayout(buttons)
        lay.addWidget(self.warnings)
        lay.addWidget(self.acknowledge)
        lay.addWidget(self.error)
        lay.addStretch(1)
        self.demo_button.clicked.connect(lambda: self.wiz.window.start_demo(with_camera=True))
        self.camera_button.clicked.connect(lambda: self.wiz.window.camera_panel.start("demo"))
        self._frames: list[tuple[float, bool]] = []
        self._labels = CameraLabelFeed(wizard.window)
        self.flags: list = []
        self.share: float | None = None
        self.result = None
        self.timer = QTimer(self)
        self.timer.setInterval(300)
        self.timer.timeout.connect(self.poll)

    def initializePage(self) -> None:  # noqa: N802 - Qt name
        self._frames = []
        self.acknowledge.setChecked(False)
        self.poll()
        self.timer.start()

    def cleanupPage(self) -> None:  # noqa: N802 - Qt name
        self.timer.stop()
        self.wiz.model.page = Page.DEVICE_CHECK
        self.wiz.model.back()

    def poll(self) -> None:
        """Refresh flags, camera share and warnings (timer, GUI thread)."""
        w = self.wiz.window
        worker = w.worker
        now = w.clock.now()
        if worker is None:
            self.flags = []
            self.device_label.setText("No EMG device is running: start one in the main window, or the demo.")
        else:
            s = worker.stats()
            self.flags = list(s.quality)
            info = w.session.info
            self.device_label.setText(f"{info.description if info is not None else 'EMG'}: {s.state}, "
                                      f"{s.rate_hz:.0f} Hz, dropped {s.dropped}")
        for i, lab in enumerate(self.channel_labels):
            if i < len(self.flags):
                name = getattr(self.flags[i], "value", str(self.flags[i]))
                lab.setText(name)
                lab.setStyleSheet("color: #1b7f3b;" if name == "ok" else "color: #b00020; font-weight: bold;")
            else:
                lab.setText("—")
                lab.setStyleSheet("")
        cam = camera_worker(w)
        if cam is not None and cam.isRunning():
            self._labels.follow()
            for lab in self._labels.read():
                self._frames.append((float(lab.t), bool(lab.valid)))
            self._frames = [f for f in self._frames if f[0] >= now - CHECK_WINDOW_S]
            self.share = float(np.mean([v for _, v in self._frames])) if self._frames else None
            self.camera_label.setText(
                f"camera: {len(self._frames)} frames in the last {CHECK_WINDOW_S:g} s, "
                + ("no frames yet" if self.share is None else f"{100 * self.share:.0f} % with a valid hand pose"))
        else:
            self._frames = []
            self.share = None
            self.camera_label.setText("camera: not running (the session will have no hand-pose labels)")
        self.result = evaluate_device_check(self.flags, self.share)
        if self.result.warnings:
            self.warnings.setText("Warnings:\n• " + "\n• ".join(self.result.warnings))
            self.warnings.setStyleSheet("color: #8a5a00;")
        else:
            self.warnings.setText("All channels and the camera look fine.")
            self.warnings.setStyleSheet("color: #1b7f3b;")
        self.acknowledge.setEnabled(bool(self.result.warnings))

    def validatePage(self) -> bool:  # noqa: N802 - Qt name
        self.poll()
        m = self.wiz.model
        if self.wiz.window.worker is None:
            self.error.setText("Start the EMG device (or the demo) first: a session needs an EMG stream.")
            return False
        m.set_device_check(self.flags, self.share)
        if not m.device_check.ok and self.acknowledge.isChecked():
            m.acknowledge_warnings()
        try:
            m.page = Page.DEVICE_CHECK
            m.advance()
        except WizardInputError as exc:
            self.error.setText(str(exc))
            return False
        self.error.setText("")
        self.timer.stop()
        return True
