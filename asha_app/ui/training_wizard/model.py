"""Page 2: a new model from the registry, or a checkpoint to fine-tune and the layers that adapt."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QButtonGroup, QComboBox, QFileDialog, QGridLayout, QLabel, QListWidget, QListWidgetItem,
                               QPushButton, QRadioButton, QVBoxLayout, QWidget, QWizardPage)

from asha_app.core.errors import AshaError
from asha_app.data.labels import select_targets
from asha_app.pose.contract import PoseContractError, describe_targets, hand_mapper
from asha_app.ui.report_view import models_dir
from asha_app.ui.training_wizard.common import NextAfterLoad, busy_label, error_label, set_busy, show_error
from asha_app.ui.training_wizard.gesture import GESTURE_DESCRIPTIONS, describe_gestures, gesture_models
from asha_app.workers.export import BackgroundLoad

if TYPE_CHECKING:
    from asha_app.ui.training_wizard.wizard import TrainingWizard


#: One line per built-in model (the registry has names only).
MODEL_DESCRIPTIONS = {
    "ridge": "Ridge regression on per-channel amplitude features: the closed-form baseline (fits in seconds).",
    "riemann": "Ridge on covariance (Riemannian tangent-space) features; closed form, fits in seconds.",
    "seed": "Conv1D + LSTM of the seed system (about 1 M weights), reproduced as the reference network.",
    "envtcn": "EnvelopeTCN: learned causal envelopes + dilated causal convolutions; small, fast, streams live.",
    "msenv": "Multi-scale envelopes: log EMG envelopes averaged over 10 ms to 6.4 s + MLP; streams live.",
    "msriem": "msenv's envelopes + covariance features + MLP; best on NinaPro DB1, the default for envelopes.",
}
FINETUNE_MODE_TEXT = {
    "head": "Output layers only (few weights; safest with little calibration data)",
    "bn_head": "BatchNorm statistics + output layers (adapts to a new placement / skin)",
    "all": "All weights (needs more calibration data)",
}


def describe_model(name: str) -> str:
    """One-line description of a registered model."""
    from asha_app.models import registry  # noqa: PLC0415 - torch on first use

    fn = getattr(registry, "describe", None)
    if callable(fn):
        try:
            return str(fn(name))
        except AshaError:
            pass
    return MODEL_DESCRIPTIONS.get(name, "")


class ModelPage(NextAfterLoad, QWizardPage):
    """A new model from the registry, or a checkpoint to fine-tune with the layers that adapt."""

    def __init__(self, wizard: TrainingWizard) -> None:
        super().__init__()
        self.wiz = wizard
        self.setTitle("Model")
        self.setSubTitle("Train a new model, or fine-tune (calibrate) a trained one on the chosen sessions.")
        lay = QVBoxLayout(self)
        self.new_radio = QRadioButton("Train a new model")
        self.ft_radio = QRadioButton("Fine-tune an existing checkpoint")
        grp = QButtonGroup(self)
        grp.addButton(self.new_radio)
        grp.addButton(self.ft_radio)
        self.new_radio.setChecked(True)
        lay.addWidget(self.new_radio)
        self.model_list = QListWidget()
        #: True until the person picks a model: the default then follows the sessions' signal kind
        self._auto_pick = True
        self.model_list.itemClicked.connect(self._picked)
        self._task = None
        self._fill_models("pose")
        lay.addWidget(self.model_list, 1)
        lay.addWidget(self.ft_radio)
        ft = QWidget()
        g = QGridLayout(ft)
        g.setContentsMargins(20, 0, 0, 0)
        self.ckpt_combo = QComboBox()
        self.ckpt_combo.setMinimumContentsLength(40)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        g.addWidget(QLabel("Checkpoint"), 0, 0)
        g.addWidget(self.ckpt_combo, 0, 1)
        g.addWidget(browse, 0, 2)
        self.mode_combo = QComboBox()
        for mode in ("head", "bn_head", "all"):
            self.mode_combo.addItem(FINETUNE_MODE_TEXT[mode], mode)
        g.addWidget(QLabel("Layers that adapt"), 1, 0)
        g.addWidget(self.mode_combo, 1, 1, 1, 2)
        self.ft_widget = ft
        lay.addWidget(ft)
        self.targets = QLabel("")
        self.targets.setWordWrap(True)
        lay.addWidget(self.targets)
        self.busy = busy_label()
        lay.addWidget(self.busy)
        self.error = error_label()
        lay.addWidget(self.error)
        #: the checkpoint to fine-tune is read and checked here, off the GUI thread
        self.loader = BackgroundLoad("loading the checkpoint to fine-tune", self)
        self._loaded = None  # (checkpoint, mode) read and checked by the last Next, not yet taken
        self.new_radio.toggled.connect(self._update)
        self._update()

    def _fill_models(self, task: str) -> None:
        """The registry's models of a task (``"pose"`` or ``"gesture"``), its default chosen."""
        if task == self._task:
            return
        from asha_app.models.registry import DEFAULT_MODEL, available  # noqa: PLC0415 - torch on first use

        self._task = task
        self._auto_pick = True
        if task == "gesture":
            names, default = gesture_models()
        else:
            names, default = available(), DEFAULT_MODEL
        self.model_list.clear()
        for name in names:
            text = GESTURE_DESCRIPTIONS.get(name, "") if task == "gesture" else describe_model(name)
            item = QListWidgetItem(f"{name}  —  {text}")
            item.setData(Qt.ItemDataRole.UserRole, name)
            self.model_list.addItem(item)
        self.model_list.setCurrentRow(names.index(default) if default in names else 0)

    def describe_targets(self) -> None:
        """Say what a new model will predict, and whether it can drive the live hand (the pose contract)."""
        recs = self.wiz.recordings
        if not recs:
            self.targets.setText("")
            return
        if self.wiz.task == "gesture":  # the gestures found; the hand contract does not apply
            self.targets.setText(describe_gestures(self.wiz.gestures_found))
            self.targets.setStyleSheet("")
            return
        try:
            _, names, kind = select_targets(recs[0], "auto")
            what = describe_targets(kind, names)
            hand_mapper(kind, names)
            self.targets.setText(f"A new model predicts {what}: it can drive the live hand after calibration.")
            self.targets.setStyleSheet("")
        except PoseContractError as exc:
            self.targets.setText(f"⚠ {exc} It can still be trained and evaluated here.")
            self.targets.setStyleSheet("color: #a60;")
        except AshaError as exc:
            self.targets.setText(f"⚠ {exc}")
            self.targets.setStyleSheet("color: #a60;")

    def _picked(self, _item) -> None:
        self._auto_pick = False

    def _default_for_sessions(self) -> None:
        """Select the registry's default for the chosen sessions' signal kind (msriem for RMS envelopes)."""
        from asha_app.data.signal_kind import signal_info  # noqa: PLC0415 - scipy.signal on first use
        from asha_app.models.registry import default_model  # noqa: PLC0415 - torch on first use

        self._select_row(default_model(signal_info(r).kind for r in self.wiz.recordings))

    def _select_row(self, name: str) -> None:
        for i in range(self.model_list.count()):
            if self.model_list.item(i).data(Qt.ItemDataRole.UserRole) == name:
                self.model_list.setCurrentRow(i)

    def initializePage(self) -> None:  # noqa: N802 - Qt name
        gesture = self.wiz.task == "gesture"
        self._fill_models(self.wiz.task)
        if not gesture and self._auto_pick:
            self._default_for_sessions()
        for w in (self.ft_radio, self.ft_widget):  # gesture models are calibrated by the calibration wizard
            w.setVisible(not gesture)
        if gesture:
            self.new_radio.setChecked(True)
        self.setSubTitle("Train a new gesture classifier on the chosen sessions." if gesture else
                         "Train a new model, or fine-tune (calibrate) a trained one on the chosen sessions.")
        self.describe_targets()
        current = self.ckpt_combo.currentData()
        self.ckpt_combo.clear()
        for p in sorted(models_dir().glob("*.pt"), key=lambda q: q.stat().st_mtime, reverse=True):
            self.ckpt_combo.addItem(p.name, str(p))
        if current:
            self.select_checkpoint(current)
        self._update()

    def select_checkpoint(self, path: str | Path) -> None:
        """Choose a checkpoint file to fine-tune (adds it to the list)."""
        path = str(path)
        i = self.ckpt_combo.findData(path)
        if i < 0:
            self.ckpt_combo.addItem(Path(path).name, path)
            i = self.ckpt_combo.count() - 1
        self.ckpt_combo.setCurrentIndex(i)
        self.ft_radio.setChecked(True)

    def select_model(self, name: str) -> None:
        """Choose a new model by registry name."""
        self._auto_pick = False
        self._select_row(name)
        self.new_radio.setChecked(True)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a checkpoint", str(models_dir()),
                                              "Asha checkpoints (*.pt);;All files (*)")
        if path:
            self.select_checkpoint(path)

    def _update(self) -> None:
        new = self.new_radio.isChecked()
        self.model_list.setEnabled(new)
        self.ft_widget.setEnabled(not new)
        show_error(self.error, "")

    @property
    def model_name(self) -> str | None:
        """The chosen new model's name."""
        it = self.model_list.currentItem()
        return it.data(Qt.ItemDataRole.UserRole) if it is not None else None

    def isComplete(self) -> bool:  # noqa: N802 - Qt name
        return super().isComplete() and not self.loader.busy

    def validatePage(self) -> bool:  # noqa: N802 - Qt name
        """Next: a new model goes on at once; a checkpoint is loaded and checked in the background first."""
        from asha_app.models import checkpoint as C  # noqa: PLC0415 - torch on first use

        if self._loaded is not None:  # the background check passed: take it and go on
            (self.wiz.checkpoint, self.wiz.finetune_mode), self._loaded = self._loaded, None
            return True
        show_error(self.error, "")
        self.wiz.checkpoint = None
        if self.new_radio.isChecked():
            if not self.model_name:
                show_error(self.error, "Choose a model.")
                return False
            return True
        path = self.ckpt_combo.currentData()
        if not path:
            show_error(self.error, "Choose a checkpoint to fine-tune (Browse…), or train a new model.")
            return False
        if self.loader.busy:
            return False
        rec0 = self.wiz.recordings[0]
        mode = self.mode_combo.currentData()

        def load():
            ck = C.load(path)
            _, names, _ = select_targets(rec0, ck.target_kind)
            ck.check_compatible(n_channels=rec0.n_channels, fs=rec0.fs, target_names=names)
            return ck, mode

        self.loader.start(load, self._on_loaded, self._on_load_failed)
        set_busy(self, self.busy, f"loading model {Path(path).name}…")
        return False

