"""The wizard's gesture task: what the pages show when "Gestures (classes)" is chosen, and its report.

The gesture task trains a classifier of the registry's gesture models (``task == "gesture"``) with the defaults of
``asha train --task gesture``: labels from the protocol's prompts (or named gesture markers), windows of the
model's history, settle time 0.5 s, RunningNorm with τ = 60 s, the split over each gesture's repetitions.
Training is the same child-process path as the pose task (:mod:`asha_app.gestures.jobs`); the last page shows the
gesture report (balanced accuracy, accuracy per gesture, the confusion matrix) and **Use in gesture mode**, which
loads the checkpoint into the Gestures dock (``window.gestures``) off the GUI thread and raises the dock.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (QDoubleSpinBox, QFormLayout, QHBoxLayout, QHeaderView, QLabel, QPushButton,
                               QScrollArea, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from asha_app.gestures.jobs import DEFAULT_MODEL
from asha_app.gestures.labels import SETTLE_S
from asha_app.workers.export import BackgroundLoad

if TYPE_CHECKING:
    from asha_app.ui.training_wizard.wizard import TrainingWizard

#: the wizard's tasks, the pose task (today's path) first and the default
TASKS = {"pose": "Hand pose (continuous)", "gesture": "Gestures (classes)"}
#: one line per built-in gesture model (the registry has names only)
GESTURE_DESCRIPTIONS = {
    "proto": "Prototype network (the default): gestures as points on a sphere; calibrates without training.",
    "mlp": "MLP on time-domain features; the best once calibrated (fine-tunes its output layer).",
    "mlpx": "Three MLPs with channel-pair correlations: the best on new people; 3x mlp's training.",
    "mhcnn": "Multi-horizon CNN over the EMG window; fine-tunes its output layer when calibrated.",
    "lda": "LDA on time-domain features: the field's classic baseline (fits in seconds).",
}
SPLIT_TEXT = ("By repetitions of each gesture: the r-th time a gesture is done is its repetition r; every 5th "
              "repetition tests, the 3rd of each 5 validates (as asha train --task gesture)")


def gesture_models() -> tuple[list[str], str]:
    """The registry's gesture models and the default one."""
    from asha_app.models.registry import available  # noqa: PLC0415 - torch on first use

    names = available("gesture")
    return names, DEFAULT_MODEL if DEFAULT_MODEL in names else names[0]


class GestureWindowOptions(QWidget):
    """The settle-time row of the windows page (the gesture task only)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.settle_spin = QDoubleSpinBox()
        self.settle_spin.setRange(0.0, 10.0)
        self.settle_spin.setDecimals(2)
        self.settle_spin.setSingleStep(0.1)
        self.settle_spin.setSuffix(" s")
        self.settle_spin.setValue(SETTLE_S)
        self.settle_spin.setToolTip("Left out at the start of each gesture: the person's reaction time to the prompt")
        form.addRow("Settle time", self.settle_spin)


def describe_gestures(found: list[list[str]]) -> str:
    """What a new gesture model decides between (the gestures of every chosen session)."""
    names = list(dict.fromkeys(g for gs in found for g in gs))
    return (f"A new model decides between {len(names)} gestures: {', '.join(names)} (rest is a class). "
            "It runs in gesture mode (the Gestures dock), not on the live hand.")


def per_gesture_counts(prepared) -> str:
    """Training windows per gesture, one line."""
    per = prepared.train_per_class()
    return "Training windows per gesture: " + ", ".join(f"{g} {n}" for g, n in per.items())


class GestureReport(QWidget):
    """The gesture task's report: balanced accuracy, accuracy per gesture, confusion matrix, Use in gesture mode."""

    IMAGE_PX = 440  # the confusion matrix's height, px

    def __init__(self, wizard: TrainingWizard) -> None:
        super().__init__()
        self.wiz = wizard
        lay = QVBoxLayout(self)
        self.title = QLabel()
        self.title.setStyleSheet("font-weight: bold; font-size: 13pt;")
        self.title.setWordWrap(True)
        lay.addWidget(self.title)
        self.bacc_label = QLabel()
        self.bacc_label.setWordWrap(True)
        lay.addWidget(self.bacc_label)
        row = QHBoxLayout()
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Gesture", "Windows", "Accuracy"])
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setMaximumWidth(340)
        row.addWidget(self.table)
        self.confusion_label = QLabel()
        self.confusion_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        scroll = QScrollArea()
        scroll.setWidget(self.confusion_label)
        scroll.setWidgetResizable(True)
        row.addWidget(scroll, 1)
        lay.addLayout(row, 1)
        use = QHBoxLayout()
        self.use_button = QPushButton("Use in gesture mode")
        self.use_button.setToolTip("Load this model into the Gestures dock; it runs on the stream")
        self.use_button.clicked.connect(self.use_in_gesture_mode)
        use.addWidget(self.use_button)
        self.use_status = QLabel()
        self.use_status.setWordWrap(True)
        use.addWidget(self.use_status, 1)
        lay.addLayout(use)
        self.loader = BackgroundLoad("loading the gesture model", self)
        self.result: dict | None = None

    def show_result(self, res: dict) -> None:
        """Fill the report from a gesture training result (:func:`asha_app.gestures.jobs.run_gesture_training`)."""
        self.result = res
        m = res.get("metrics") or {}
        self.use_status.setText("")
        self.title.setText(f"{Path(res['checkpoint']).name}: {len(res.get('classes', []))} gestures")
        if not m:
            self.bacc_label.setText("No held-out windows to evaluate on: the split left the test and validation "
                                    "sets empty (record more repetitions).")
            self.table.setRowCount(0)
            self.confusion_label.clear()
            return
        self.bacc_label.setText(
            f"Balanced accuracy (mean of the per-gesture accuracies) on the held-out {res['eval_set']} set: "
            f"<b>{100 * m['balanced_accuracy']:.1f} %</b> (chance {100 / max(1, len(m['classes'])):.0f} %); "
            f"accuracy over all {m['n']} windows {100 * m['accuracy']:.1f} %. Rows of the confusion matrix: the "
            f"true gesture, columns: the decided one (per {res.get('window_ms', 0):.0f} ms window, before any vote).")
        self.table.setRowCount(len(m["classes"]))
        for i, c in enumerate(m["classes"]):
            acc = m["per_class"].get(c)
            for j, v in enumerate((c, str(m["support"].get(c, 0)), "–" if acc is None else f"{100 * acc:.1f} %")):
                self.table.setItem(i, j, QTableWidgetItem(v))
        png = (res.get("report") or {}).get("confusion")
        pix = QPixmap(png) if png else QPixmap()
        if not pix.isNull() and pix.height() > self.IMAGE_PX:  # the whole matrix in view on a laptop screen
            pix = pix.scaledToHeight(self.IMAGE_PX, Qt.TransformationMode.SmoothTransformation)
        self.confusion_label.setPixmap(pix)
        if pix.isNull():
            self.confusion_label.setText("(no confusion matrix image)")

    def use_in_gesture_mode(self) -> bool:
        """Load the checkpoint (in the background) into the window's Gestures dock and raise it; False if not now."""
        from asha_app.gestures.train import load_gesture_checkpoint  # noqa: PLC0415 - torch on first use

        ctl = getattr(self.wiz.parent(), "gestures", None)
        if self.result is None or self.loader.busy:
            return False
        if ctl is None:
            self.use_status.setText("This window has no gesture mode.")
            return False
        path = self.result["checkpoint"]
        self.use_button.setEnabled(False)
        self.use_status.setText("loading the gesture model…")
        self.loader.start(lambda: load_gesture_checkpoint(path), lambda ck: self._use(ctl, ck, path), self._failed)
        return True

    def _use(self, ctl, ck, path: str) -> None:
        self.use_button.setEnabled(True)
        ctl.use_checkpoint(ck, path, "trained in the wizard")
        msg = ctl.panel.message.text()
        self.use_status.setText(msg or f"Gesture mode runs {Path(path).name}: {len(ck.target_names)} gestures "
                                       "(the Gestures dock).")

    def _failed(self, message: str) -> None:
        self.use_button.setEnabled(True)
        self.use_status.setText(f"⚠ {message}")
