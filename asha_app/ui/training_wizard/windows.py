"""Page 3: window length, stride and label lag, and the EMG filter."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QFormLayout, QLabel, QWizardPage

from asha_app.core.errors import AshaError
from asha_app.data.labels import select_targets
from asha_app.gestures.jobs import window_for
from asha_app.ui.training_wizard.gesture import GestureWindowOptions

if TYPE_CHECKING:
    from asha_app.ui.training_wizard.wizard import TrainingWizard


class WindowsPage(QWizardPage):
    """Window length, stride and label lag (ms), and the EMG filter."""

    POSE_SUBTITLE = "Each window of EMG ending at time t predicts the pose at t (+ lag). Windows are cut causally."

    def __init__(self, wizard: TrainingWizard) -> None:
        super().__init__()
        self.wiz = wizard
        self.setTitle("Windows")
        self.setSubTitle(self.POSE_SUBTITLE)
        form = QFormLayout(self)
        self.window_spin = QDoubleSpinBox()
        self.window_spin.setRange(0.0, 10000.0)
        self.window_spin.setDecimals(0)
        self.window_spin.setSingleStep(50.0)
        self.window_spin.setSuffix(" ms")
        self.window_spin.setSpecialValueText("the model's history")
        self.stride_spin = QDoubleSpinBox()
        self.stride_spin.setRange(1.0, 5000.0)
        self.stride_spin.setDecimals(0)
        self.stride_spin.setValue(20.0)
        self.stride_spin.setSuffix(" ms")
        self.lag_spin = QDoubleSpinBox()
        self.lag_spin.setRange(-1000.0, 1000.0)
        self.lag_spin.setDecimals(0)
        self.lag_spin.setSuffix(" ms")
        self.filter_combo = QComboBox()
        form.addRow("Window length", self.window_spin)
        form.addRow("Stride", self.stride_spin)
        form.addRow("Label lag", self.lag_spin)
        form.addRow("EMG filter", self.filter_combo)
        #: settle time and normalisation (the gesture task only)
        self.gesture_options = GestureWindowOptions()
        form.addRow(self.gesture_options)
        self.info = QLabel()
        self.info.setWordWrap(True)
        form.addRow(self.info)
        self.form = form

    def initializePage(self) -> None:  # noqa: N802 - Qt name
        rec0 = self.wiz.recordings[0]
        ck = self.wiz.checkpoint
        self.filter_combo.clear()
        for label, spec in self.wiz.filter_choices(rec0):
            self.filter_combo.addItem(label, spec)
        gesture = self.wiz.task == "gesture"
        self.form.setRowVisible(self.lag_spin, not gesture)  # a gesture is the class of the whole window
        self.form.setRowVisible(self.gesture_options, gesture)
        if gesture:
            self._init_gesture(rec0)
            return
        self.setSubTitle(self.POSE_SUBTITLE)
        fine = ck is not None
        for w in (self.window_spin, self.stride_spin, self.lag_spin, self.filter_combo):
            w.setEnabled(not fine)
        if fine:
            self.window_spin.setValue(ck.window.window_ms)
            self.stride_spin.setValue(ck.window.stride_ms)
            self.lag_spin.setValue(ck.window.label_lag_ms)
            self.info.setText(f"Fine-tuning keeps the checkpoint's window ({ck.window.window_ms:g} ms, stride "
                              f"{ck.window.stride_ms:g} ms), filter and normalisation, so live inference after "
                              "calibration sees exactly what training saw.")
            return
        from asha_app.models.registry import build  # noqa: PLC0415 - torch on first use

        try:
            _, names, _ = select_targets(rec0, "auto")
            hist = build(self.wiz.model_page.model_name, n_channels=rec0.n_channels, n_targets=len(names),
                         fs=rec0.fs).history
            self.info.setText(f"{self.wiz.model_page.model_name} needs {hist} samples = "
                              f"{hist * 1000 / rec0.fs:g} ms of EMG history at {rec0.fs:g} Hz; shorter windows "
                              "are lengthened to that. Stride sets how many (overlapping) training windows are cut.")
        except AshaError as exc:
            self.info.setText(str(exc))

    def _init_gesture(self, rec0) -> None:
        """The gesture task: windows of the model's history (or longer), labelled by the gesture they lie in."""
        for w in (self.window_spin, self.stride_spin, self.filter_combo):
            w.setEnabled(True)
        self.setSubTitle("Each window of EMG is labelled with the gesture it lies in; windows that straddle two "
                         "gestures or fall in a gesture's first moments (settle time) are left out.")
        name = self.wiz.model_page.model_name
        try:
            w = window_for(name, [rec0], 0.0, self.stride_spin.value())
            self.info.setText(f"{name} needs {w.window_ms:g} ms of EMG at {rec0.fs:g} Hz; shorter windows are "
                              "lengthened to that. RunningNorm centres and scales each channel by this person's "
                              "running mean and spread (τ: how fast it follows), as gesture mode does live.")
        except AshaError as exc:
            self.info.setText(str(exc))

    def filter_spec(self):
        """The chosen FilterSpec."""
        return self.filter_combo.currentData()
