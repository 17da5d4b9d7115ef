"""Page 3: window length, stride and label lag, the EMG filter and the EMG normalisation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QFormLayout, QLabel, QWidget, QWizardPage

from asha_app.core.errors import AshaError
from asha_app.data.labels import select_targets
from asha_app.data.normalisation import POSE_TAU_S, RUNNING_TAU_S
from asha_app.gestures.jobs import window_for
from asha_app.ui.training_wizard.gesture import GestureWindowOptions

if TYPE_CHECKING:
    from asha_app.ui.training_wizard.wizard import TrainingWizard


class NormOptions(QWidget):
    """The normalisation rows: fixed statistics or RunningNorm, and RunningNorm's τ.

    The recommendation differs by task (:meth:`configure`): gestures default to RunningNorm (τ 60 s, as
    ``asha train --task gesture``); the hand pose to fixed statistics (``asha train``), with RunningNorm (τ 300 s)
    offered for a model meant for people who are not in its training data (docs/models.md: on NinaPro DB1 it
    lifted zero-shot R² for 10 of 13 held-out people).
    """

    TEXTS = {
        "gesture": {"running": "RunningNorm: follows the person (recommended)",
                    "fixed": "Fixed: the training sessions' statistics"},
        "pose": {"fixed": "Fixed: the training sessions' statistics (recommended for the people recorded)",
                 "running": "RunningNorm: follows the person (for people not in the training data)"},
    }

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.norm_combo = QComboBox()
        self.tau_spin = QDoubleSpinBox()
        self.tau_spin.setRange(1.0, 3600.0)
        self.tau_spin.setDecimals(0)
        self.tau_spin.setSuffix(" s")
        self.tau_spin.setToolTip("RunningNorm's time constant: long enough to span several different movements")
        self.norm_combo.currentIndexChanged.connect(lambda _i: self.tau_spin.setEnabled(self.norm == "running"))
        form.addRow("Normalisation", self.norm_combo)
        form.addRow("RunningNorm τ", self.tau_spin)
        self.configure("gesture")

    def configure(self, task: str) -> None:
        """The choices and defaults for ``task`` ("pose" or "gesture"); the recommended choice is selected."""
        self.norm_combo.blockSignals(True)
        self.norm_combo.clear()
        for kind, text in self.TEXTS[task].items():
            self.norm_combo.addItem(text, kind)
        self.norm_combo.blockSignals(False)
        self.norm_combo.setCurrentIndex(0)
        self.tau_spin.setValue(RUNNING_TAU_S if task == "gesture" else POSE_TAU_S)
        self.tau_spin.setEnabled(self.norm == "running")

    def show_checkpoint(self, kind: str, tau_s: float) -> None:
        """Show a fine-tuned checkpoint's normalisation (fine-tuning keeps it; the rows are disabled)."""
        self.norm_combo.setCurrentIndex(max(0, self.norm_combo.findData(kind)))
        self.tau_spin.setValue(float(tau_s))

    @property
    def norm(self) -> str:
        """``"running"`` or ``"fixed"``."""
        return self.norm_combo.currentData()


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
        #: settle time (the gesture task only)
        self.gesture_options = GestureWindowOptions()
        form.addRow(self.gesture_options)
        self.norm_options = NormOptions()
        form.addRow(self.norm_options)
        self._norm_task: str | None = None
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
        task = "gesture" if gesture else "pose"
        if task != self._norm_task:  # the task's defaults; a choice made for this task is kept on Back/Next
            self.norm_options.configure(task)
            self._norm_task = task
        if gesture:
            self._init_gesture(rec0)
            return
        self.setSubTitle(self.POSE_SUBTITLE)
        fine = ck is not None
        for w in (self.window_spin, self.stride_spin, self.lag_spin, self.filter_combo, self.norm_options):
            w.setEnabled(not fine)
        if fine:
            self.norm_options.show_checkpoint(ck.normalizer.kind, ck.normalizer.tau_s)
            self.window_spin.setValue(ck.window.window_ms)
            self.stride_spin.setValue(ck.window.stride_ms)
            self.lag_spin.setValue(ck.window.label_lag_ms)
            self.info.setText(f"Fine-tuning keeps the checkpoint's window ({ck.window.window_ms:g} ms, stride "
                              f"{ck.window.stride_ms:g} ms), filter and normalisation, so live inference after "
                              "calibration sees exactly what training saw.")
            return
        self.norm_options.tau_spin.setEnabled(self.norm_options.norm == "running")
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
        for w in (self.window_spin, self.stride_spin, self.filter_combo, self.norm_options):
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
