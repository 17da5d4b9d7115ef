"""The training and fine-tuning wizard: sessions -> model -> windows -> split -> run -> report.

Thin pages over the Qt-free model layer (:mod:`asha_app.models.train`,
:mod:`asha_app.data.windows`, :mod:`asha_app.models.checkpoint`).  Every
check the model layer makes (labels, NaNs, channel count and rate of a
checkpoint, unknown checkpoint version, empty split sets) runs when the user
presses Next, and its message is shown on the page; the run page is only
reachable with a prepared, valid run.  Training itself runs in a
:class:`~asha_app.workers.training.TrainingWorker` thread; the run page polls
its progress queue at 10 Hz and draws the loss curves.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QAbstractItemView, QButtonGroup, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout,
                               QGridLayout, QGroupBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton,
                               QRadioButton, QSpinBox, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget, QWizard,
                               QWizardPage)

from asha_app.core.errors import AshaError
from asha_app.ui.report_view import ReportView, fit_to_screen, models_dir
from asha_app.workers.training import (TrainingPlan, TrainingWorker, WarmUpWorker, default_group_assignment,
                                       group_names, prepare_plan, repetitions_of)

log = logging.getLogger(__name__)

#: One line per built-in model (the registry has names only).
MODEL_DESCRIPTIONS = {
    "ridge": "Ridge regression on per-channel amplitude features: the closed-form baseline (fits in seconds).",
    "seed": "Conv1D + LSTM of the seed system (about 1 M weights), reproduced as the reference network.",
    "envtcn": "EnvelopeTCN: learned causal envelopes + dilated causal convolutions; small, fast, streams live.",
    "msenv": "Multi-scale envelopes: log EMG envelopes averaged over 10 ms to 6.4 s + MLP; best measured on "
             "NinaPro DB1, streams live.",
}
FINETUNE_MODE_TEXT = {
    "head": "Output layers only (few weights; safest with little calibration data)",
    "bn_head": "BatchNorm statistics + output layers (adapts to a new placement / skin)",
    "all": "All weights (needs more calibration data)",
}
SPLIT_TEXT = {
    "time_blocks": "Contiguous time blocks (interleaved 60/20/20) with a gap between sets",
    "repetitions": "By prompt repetitions (whole repetitions per set)",
    "sessions": "By sessions (whole sessions per set)",
    "participants": "By participants (held-out user)",
}
SETS = ("train", "val", "test", "unused")


def describe_model(name: str) -> str:
    """One-line description of a registered model."""
    from asha_app.models import registry

    fn = getattr(registry, "describe", None)
    if callable(fn):
        try:
            return str(fn(name))
        except AshaError:
            pass
    return MODEL_DESCRIPTIONS.get(name, "")


def training_devices() -> list[tuple[str, str]]:
    """(torch device, label) choices: the CPU and every CUDA GPU torch sees."""
    import torch

    out = [("cpu", "CPU")]
    if torch.cuda.is_available():
        out = [(f"cuda:{i}", f"GPU {i}: {torch.cuda.get_device_name(i)}") for i in range(torch.cuda.device_count())] + out
    return out


def _error_label() -> QLabel:
    lab = QLabel()
    lab.setWordWrap(True)
    lab.setObjectName("errorLabel")
    lab.setStyleSheet("#errorLabel { color: #b00020; font-weight: bold; }")
    lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    lab.hide()
    return lab


def _show_error(lab: QLabel, text: str) -> None:
    lab.setText(text)
    lab.setVisible(bool(text))


def describe_file(path: Path) -> tuple[str, str | None, object | None]:
    """A one-line summary of a session file / recording archive / import folder, or its error.

    Returns
    -------
    (summary, error, recording)
        ``recording`` is the loaded Recording when loading was needed to
        describe it (``.npz``, import folders), else None (session files are
        summarised lazily).
    """
    from asha_app.models.recordings_io import load_any

    path = Path(path)
    try:
        if path.suffix in (".h5", ".hdf5") and path.is_file():
            from asha_app.data import schema as S
            from asha_app.data.reader import SessionFile

            with SessionFile(path) as sf:
                dur = sf.summary.get("duration_s") or (sf.n_emg / sf.fs if sf.fs else 0.0)
                parts = [f"{dur:.0f} s", f"{sf.n_channels} ch @ {sf.fs:g} Hz"]
                if sf.n_frames:
                    key = f"{S.Labels.GROUP}/{S.Labels.VALID}"
                    share = float(np.mean(sf.dataset(key)[()])) if sf.has(key) and sf.n_frames else 0.0
                    parts.append(f"{sf.n_frames} pose frames, {100 * share:.0f} % valid")
                    if share == 0.0:
                        parts.append("⚠ no valid labels")
                elif sf.has(f"{S.Targets.GROUP}/{S.Targets.VALUES}"):
                    n = sf.dataset(f"{S.Targets.GROUP}/{S.Targets.VALUES}").shape
                    parts.append(f"{n[0]} target frames × {n[1]} (imported)")
                else:
                    parts.append("⚠ no labels")
                p = sf.attrs.get("participant")
                if isinstance(p, dict):
                    p = p.get("id") or p.get("participant_id") or ""
                if p:
                    parts.append(f"participant {p}")
                if sf.crashed:
                    parts.append("interrupted recording")
            return ", ".join(parts), None, None
        rec = load_any(path)
    except (AshaError, OSError) as exc:
        return "", str(exc), None
    valid = np.asarray(rec.valid, bool)
    parts = [f"{rec.duration:.0f} s", f"{rec.n_channels} ch @ {rec.fs:g} Hz"]
    if len(valid):
        parts.append(f"{len(valid)} label frames, {100 * valid.mean():.0f} % valid")
        if not valid.any():
            parts.append("⚠ no valid labels")
    else:
        parts.append("⚠ no labels")
    if rec.meta.get("participant"):
        parts.append(f"participant {rec.meta['participant']}")
    return ", ".join(parts), None, rec


# ---------------------------------------------------------------------------------------------------------- pages


class SessionsPage(QWizardPage):
    """Pick the sessions to train on (data_dir()/sessions plus added files and import folders)."""

    def __init__(self, wizard: TrainingWizard) -> None:
        super().__init__()
        self.wiz = wizard
        self.setTitle("Sessions")
        self.setSubTitle("Tick the sessions to train (or calibrate) on. Each shows its summary, or why it cannot be used.")
        lay = QVBoxLayout(self)
        self.list = QListWidget()
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.list.itemChanged.connect(lambda _i: self.completeChanged.emit())
        lay.addWidget(self.list, 1)
        row = QHBoxLayout()
        add = QPushButton("Add files…")
        add.clicked.connect(self._add_files)
        add_dir = QPushButton("Add import folder…")
        add_dir.setToolTip("A folder holding the paired Myo/MediaPipe CSV files (EMG_data_*.csv + mediapipe_*.csv)")
        add_dir.clicked.connect(self._add_folder)
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.refresh)
        for b in (add, add_dir, refresh):
            row.addWidget(b)
        row.addStretch(1)
        lay.addLayout(row)
        self.error = _error_label()
        lay.addWidget(self.error)
        self._paths: list[Path] = []
        self._info: dict[Path, tuple[str, str | None]] = {}

    def initializePage(self) -> None:  # noqa: N802 - Qt name
        if not self._paths:
            self.refresh()
            usable = [p for p in self._paths if not self._info[p][1]]
            if len(usable) == 1:  # the only session: tick it
                self.set_checked(usable)

    def refresh(self) -> None:
        """Re-read the sessions folder (keeps added files and ticks)."""
        folder = self.wiz.sessions_dir
        found = sorted([*folder.glob("*.h5"), *folder.glob("*.hdf5"), *folder.glob("*.npz")]) if folder.is_dir() else []
        checked = set(self.checked_paths())
        self._info.clear()
        self.wiz.recording_cache.clear()
        self._paths = list(dict.fromkeys([*found, *[p for p in self._paths if p not in found]]))
        self._fill(checked)

    def add_paths(self, paths: list[str | Path], check: bool = True) -> None:
        """Add files or import folders to the list (ticked when usable)."""
        new = [Path(p) for p in paths if Path(p) not in self._paths]
        self._paths.extend(new)
        checked = set(self.checked_paths()) | (set(Path(p) for p in paths) if check else set())
        self._fill(checked)

    def _add_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Add sessions", str(self.wiz.sessions_dir),
                                                "Sessions and recordings (*.h5 *.hdf5 *.npz);;All files (*)")
        if paths:
            self.add_paths(paths)

    def _add_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Add an import folder (paired Myo/MediaPipe CSV files)")
        if path:
            self.add_paths([path])

    def _fill(self, checked: set) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        for p in self._paths:
            if p not in self._info:
                summary, err, rec = describe_file(p)
                self._info[p] = (summary, err)
                if rec is not None:
                    self.wiz.recording_cache[p] = rec
            summary, err = self._info[p]
            item = QListWidgetItem(f"{p.name}   —   {err or summary}")
            item.setData(Qt.ItemDataRole.UserRole, str(p))
            item.setToolTip(str(p) + ("\n" + err if err else ""))
            if err:
                item.setFlags(Qt.ItemFlag.ItemIsEnabled)
                item.setForeground(QColor("#b00020"))
            else:
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked if p in checked else Qt.CheckState.Unchecked)
            self.list.addItem(item)
        if not self._paths:
            item = QListWidgetItem(f"No sessions in {self.wiz.sessions_dir} yet: record one, or add files.")
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.list.addItem(item)
        self.list.blockSignals(False)
        self.completeChanged.emit()

    def set_checked(self, paths: list[str | Path]) -> None:
        """Tick exactly these files (usable ones)."""
        want = {Path(p) for p in paths}
        for i in range(self.list.count()):
            it = self.list.item(i)
            if it.data(Qt.ItemDataRole.UserRole) and it.flags() & Qt.ItemFlag.ItemIsUserCheckable:
                on = Path(it.data(Qt.ItemDataRole.UserRole)) in want
                it.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
        self.completeChanged.emit()

    def file_error(self, path: str | Path) -> str | None:
        """The error shown for a listed file (None when usable)."""
        return self._info.get(Path(path), ("", None))[1]

    def checked_paths(self) -> list[Path]:
        """Ticked files, in list order."""
        out = []
        for i in range(self.list.count()):
            it = self.list.item(i)
            if it.data(Qt.ItemDataRole.UserRole) and it.checkState() == Qt.CheckState.Checked:
                out.append(Path(it.data(Qt.ItemDataRole.UserRole)))
        return out

    def isComplete(self) -> bool:  # noqa: N802 - Qt name
        return bool(self.checked_paths())

    def validatePage(self) -> bool:  # noqa: N802 - Qt name
        from asha_app.data.windows import check_recording
        from asha_app.models.recordings_io import load_any

        _show_error(self.error, "")
        if not self.checked_paths():
            _show_error(self.error, "Tick at least one session with pose labels.")
            return False
        recs = []
        try:
            for p in self.checked_paths():
                rec = self.wiz.recording_cache.get(p)
                if rec is None:
                    rec = load_any(p)
                    self.wiz.recording_cache[p] = rec
                rec.meta.setdefault("source_file", p.name)
                recs.append(rec)
            for r in recs:
                check_recording(r, recs[0].fs, recs[0].n_channels)
        except AshaError as exc:
            _show_error(self.error, str(exc))
            return False
        self.wiz.recordings = recs
        self.wiz.sources = [p.name for p in self.checked_paths()]
        return True


class ModelPage(QWizardPage):
    """A new model from the registry, or a checkpoint to fine-tune with the layers that adapt."""

    def __init__(self, wizard: TrainingWizard) -> None:
        super().__init__()
        self.wiz = wizard
        self.setTitle("Model")
        self.setSubTitle("Train a new model, or fine-tune (calibrate) a trained one on the chosen sessions.")
        from asha_app.models.registry import available

        lay = QVBoxLayout(self)
        self.new_radio = QRadioButton("Train a new model")
        self.ft_radio = QRadioButton("Fine-tune an existing checkpoint")
        grp = QButtonGroup(self)
        grp.addButton(self.new_radio)
        grp.addButton(self.ft_radio)
        self.new_radio.setChecked(True)
        lay.addWidget(self.new_radio)
        self.model_list = QListWidget()
        for name in available():
            item = QListWidgetItem(f"{name}  —  {describe_model(name)}")
            item.setData(Qt.ItemDataRole.UserRole, name)
            self.model_list.addItem(item)
        names = available()
        from asha_app.models.registry import DEFAULT_MODEL

        self.model_list.setCurrentRow(names.index(DEFAULT_MODEL) if DEFAULT_MODEL in names else 0)
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
        self.error = _error_label()
        lay.addWidget(self.error)
        self.new_radio.toggled.connect(self._update)
        self._update()

    def describe_targets(self) -> None:
        """Say what a new model will predict, and whether it can drive the live hand (the pose contract)."""
        from asha_app.data.windows import select_targets
        from asha_app.pose.contract import PoseContractError, describe_targets, hand_mapper

        recs = self.wiz.recordings
        if not recs:
            self.targets.setText("")
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

    def initializePage(self) -> None:  # noqa: N802 - Qt name
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
        for i in range(self.model_list.count()):
            if self.model_list.item(i).data(Qt.ItemDataRole.UserRole) == name:
                self.model_list.setCurrentRow(i)
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
        _show_error(self.error, "")

    @property
    def model_name(self) -> str | None:
        """The chosen new model's name."""
        it = self.model_list.currentItem()
        return it.data(Qt.ItemDataRole.UserRole) if it is not None else None

    def validatePage(self) -> bool:  # noqa: N802 - Qt name
        from asha_app.data.windows import select_targets
        from asha_app.models import checkpoint as C

        _show_error(self.error, "")
        self.wiz.checkpoint = None
        if self.new_radio.isChecked():
            if not self.model_name:
                _show_error(self.error, "Choose a model.")
                return False
            return True
        path = self.ckpt_combo.currentData()
        if not path:
            _show_error(self.error, "Choose a checkpoint to fine-tune (Browse…), or train a new model.")
            return False
        rec0 = self.wiz.recordings[0]
        try:
            ck = C.load(path)
            _, names, _ = select_targets(rec0, ck.target_kind)
            ck.check_compatible(n_channels=rec0.n_channels, fs=rec0.fs, target_names=names)
        except AshaError as exc:
            _show_error(self.error, str(exc))
            return False
        self.wiz.checkpoint = ck
        self.wiz.finetune_mode = self.mode_combo.currentData()
        return True


class WindowsPage(QWizardPage):
    """Window length, stride and label lag (ms), and the EMG filter."""

    def __init__(self, wizard: TrainingWizard) -> None:
        super().__init__()
        self.wiz = wizard
        self.setTitle("Windows")
        self.setSubTitle("Each window of EMG ending at time t predicts the pose at t (+ lag). Windows are cut causally.")
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
        self.info = QLabel()
        self.info.setWordWrap(True)
        form.addRow(self.info)

    def initializePage(self) -> None:  # noqa: N802 - Qt name
        rec0 = self.wiz.recordings[0]
        ck = self.wiz.checkpoint
        self.filter_combo.clear()
        for label, spec in self.wiz.filter_choices(rec0):
            self.filter_combo.addItem(label, spec)
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
        from asha_app.data.windows import select_targets
        from asha_app.models.registry import build

        try:
            _, names, _ = select_targets(rec0, "auto")
            hist = build(self.wiz.model_page.model_name, n_channels=rec0.n_channels, n_targets=len(names),
                         fs=rec0.fs).history
            self.info.setText(f"{self.wiz.model_page.model_name} needs {hist} samples = {hist * 1000 / rec0.fs:g} ms of "
                              f"EMG history at {rec0.fs:g} Hz; shorter windows are lengthened to that. Stride sets "
                              "how many (overlapping) training windows are cut.")
        except AshaError as exc:
            self.info.setText(str(exc))

    def filter_spec(self):
        """The chosen FilterSpec."""
        return self.filter_combo.currentData()


class SplitPage(QWizardPage):
    """How windows are split into training, validation and test sets (never randomly)."""

    def __init__(self, wizard: TrainingWizard) -> None:
        super().__init__()
        self.wiz = wizard
        self.setTitle("Evaluation split")
        self.setSubTitle("Sets are separated in time (or by repetition, session, participant) so overlapping "
                         "windows never leak between them. There is no random split.")
        lay = QVBoxLayout(self)
        self.radios: dict[str, QRadioButton] = {}
        self.reasons: dict[str, QLabel] = {}
        grp = QButtonGroup(self)
        for kind, text in SPLIT_TEXT.items():
            r = QRadioButton(text)
            grp.addButton(r)
            r.toggled.connect(self._update)
            why = QLabel()
            why.setWordWrap(True)
            why.setStyleSheet("color: #666; margin-left: 22px;")
            self.radios[kind], self.reasons[kind] = r, why
            lay.addWidget(r)
            lay.addWidget(why)
        box = QGroupBox("Time blocks")
        f = QFormLayout(box)
        self.blocks_spin = QSpinBox()
        self.blocks_spin.setRange(3, 100)
        self.blocks_spin.setValue(10)
        self.gap_spin = QDoubleSpinBox()
        self.gap_spin.setRange(0.0, 60000.0)
        self.gap_spin.setDecimals(0)
        self.gap_spin.setSuffix(" ms")
        self.gap_spin.setSpecialValueText("one window")
        f.addRow("Blocks per session", self.blocks_spin)
        f.addRow("Gap between sets", self.gap_spin)
        self.blocks_box = box
        lay.addWidget(box)
        self.assign_table = QTableWidget(0, 2)
        self.assign_table.setHorizontalHeaderLabels(["Group", "Set"])
        self.assign_table.horizontalHeader().setStretchLastSection(True)
        self.assign_table.verticalHeader().hide()
        lay.addWidget(self.assign_table, 1)
        lay.addStretch(1)
        self.counts_label = QLabel()
        lay.addWidget(self.counts_label)
        self.error = _error_label()
        lay.addWidget(self.error)
        self._assign_kind = None

    def initializePage(self) -> None:  # noqa: N802 - Qt name
        recs = self.wiz.recordings
        sessions, participants = group_names(recs)
        reps = repetitions_of(recs)
        fine = self.wiz.checkpoint is not None
        reasons = {"time_blocks": ""}
        if fine:
            why = "Fine-tuning calibrates on the new data with contiguous time blocks (train + validation only)."
            reasons.update(repetitions=why, sessions=why, participants=why)
            self.blocks_spin.setValue(5)
        else:
            if reps is None:
                reasons["repetitions"] = "Not available: a chosen session has no prompts with repetition numbers."
            elif len(reps) < 3:
                reasons["repetitions"] = (f"Not available: only {len(reps)} repetition(s) common to all sessions; "
                                          "train, validation and test need 3.")
            else:
                reasons["repetitions"] = ""
            n_s = len(set(sessions))
            reasons["sessions"] = "" if n_s >= 3 else (
                f"Not available: {n_s} session(s) chosen; a session split needs 3 (train, validation, test).")
            n_p = len(set(participants))
            reasons["participants"] = "" if n_p >= 3 else (
                f"Not available: the sessions come from {n_p} participant(s); a held-out-user split needs 3.")
        for kind, r in self.radios.items():
            ok = not reasons.get(kind)
            r.setEnabled(ok)
            self.reasons[kind].setText(reasons.get(kind) or "")
            self.reasons[kind].setVisible(bool(reasons.get(kind)))
            if not ok and r.isChecked():
                self.radios["time_blocks"].setChecked(True)
        if not any(r.isChecked() for r in self.radios.values()):
            self.radios["time_blocks"].setChecked(True)
        self._assign_kind = None
        self._update()

    def kind(self) -> str:
        """The chosen split kind."""
        return next(k for k, r in self.radios.items() if r.isChecked())

    def _update(self, *_a) -> None:
        if not any(r.isChecked() for r in self.radios.values()) or not self.wiz.recordings:
            return
        kind = self.kind()
        self.blocks_box.setVisible(kind == "time_blocks")
        self.assign_table.setVisible(kind != "time_blocks")
        _show_error(self.error, "")
        self.counts_label.setText("")
        if kind == self._assign_kind or kind == "time_blocks":
            return
        self._assign_kind = kind
        sessions, participants = group_names(self.wiz.recordings)
        keys = {"sessions": sessions, "participants": participants,
                # repetitions are numbered from 1 here, as everywhere a person sees them (stored from 0)
                "repetitions": [str(k + 1) for k in (repetitions_of(self.wiz.recordings) or [])]}[kind]
        keys = list(dict.fromkeys(keys))
        default = default_group_assignment(keys)
        self.assign_table.setHorizontalHeaderLabels([{"sessions": "Session", "participants": "Participant",
                                                      "repetitions": "Repetition"}[kind], "Set"])
        self.assign_table.setRowCount(len(keys))
        for i, k in enumerate(keys):
            self.assign_table.setItem(i, 0, QTableWidgetItem(k))
            combo = QComboBox()
            combo.addItems(list(SETS))
            combo.setCurrentText(default[k])
            self.assign_table.setCellWidget(i, 1, combo)

    def assignment(self) -> dict[str, str]:
        """Group -> set from the table."""
        return {self.assign_table.item(i, 0).text(): self.assign_table.cellWidget(i, 1).currentText()
                for i in range(self.assign_table.rowCount())}

    def set_assignment(self, assign: dict[str, str]) -> None:
        """Set the table's choices (groups not named keep theirs)."""
        for i in range(self.assign_table.rowCount()):
            k = self.assign_table.item(i, 0).text()
            if k in assign:
                self.assign_table.cellWidget(i, 1).setCurrentText(assign[k])

    def split_args(self) -> dict:
        """Arguments of the chosen split."""
        kind = self.kind()
        if kind == "time_blocks":
            a = {"n_blocks": self.blocks_spin.value()}
            if self.gap_spin.value() > 0:
                a["gap_ms"] = self.gap_spin.value()
            return a
        assign = self.assignment()
        if kind == "repetitions":
            a = {"assign_rep": {int(k) - 1: v for k, v in assign.items() if v != "unused"}}  # shown from 1, stored from 0
            if self.gap_spin.value() > 0:
                a["gap_ms"] = self.gap_spin.value()
            return a
        return {"assign_session" if kind == "sessions" else "assign_participant": assign}

    def validatePage(self) -> bool:  # noqa: N802 - Qt name
        _show_error(self.error, "")
        try:
            plan = self.wiz.build_plan()
            self.setCursor(Qt.CursorShape.WaitCursor)
            try:
                prepared = prepare_plan(plan)
            finally:
                self.unsetCursor()
        except AshaError as exc:
            _show_error(self.error, str(exc))
            return False
        self.wiz.plan, self.wiz.prepared = plan, prepared
        c = prepared.counts()
        self.counts_label.setText(f"Windows: {c['train']} train, {c['val']} validation, {c['test']} test, "
                                  f"{c['dropped']} dropped in gaps.")
        return True


class RunPage(QWizardPage):
    """Start / Stop, live loss curves, epochs, elapsed and remaining time."""

    POLL_MS = 100  # 10 Hz
    REDRAW_S = 0.5  # batch-loss points are drawn at most twice a second (epochs at once)

    def __init__(self, wizard: TrainingWizard) -> None:
        super().__init__()
        self.wiz = wizard
        self.setTitle("Train")
        self.setSubTitle("Training runs in the background; the app stays usable. Stop keeps the best epoch so far.")
        lay = QVBoxLayout(self)
        settings = QHBoxLayout()
        self.epochs_spin = QSpinBox()
        self.epochs_spin.setRange(1, 10000)
        self.epochs_spin.setValue(60)
        self.batch_spin = QSpinBox()
        self.batch_spin.setRange(1, 4096)
        self.batch_spin.setValue(64)
        self.lr_spin = QDoubleSpinBox()
        self.lr_spin.setDecimals(5)
        self.lr_spin.setRange(1e-5, 1.0)
        self.lr_spin.setSingleStep(1e-4)
        self.lr_spin.setValue(1e-3)
        self.patience_spin = QSpinBox()
        self.patience_spin.setRange(1, 1000)
        self.patience_spin.setValue(8)
        self.device_combo = QComboBox()
        for dev, text in training_devices():
            self.device_combo.addItem(text, dev)
        for label, w in (("Max epochs", self.epochs_spin), ("Batch", self.batch_spin), ("Learning rate", self.lr_spin),
                         ("Patience", self.patience_spin), ("Device", self.device_combo)):
            settings.addWidget(QLabel(label))
            settings.addWidget(w)
        settings.addStretch(1)
        lay.addLayout(settings)
        row = QHBoxLayout()
        self.start_button = QPushButton("Start")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        row.addWidget(self.start_button)
        row.addWidget(self.stop_button)
        self.state_label = QLabel("Ready.")
        row.addWidget(self.state_label, 1)
        lay.addLayout(row)
        grid = QGridLayout()
        self.counts_label = QLabel()
        self.epoch_label = QLabel("epoch —")
        self.best_label = QLabel("best epoch —")
        self.time_label = QLabel("elapsed —")
        self.eta_label = QLabel("remaining —")
        grid.addWidget(self.counts_label, 0, 0, 1, 4)
        for j, w in enumerate((self.epoch_label, self.best_label, self.time_label, self.eta_label)):
            # fixed sizes: changing texts must not re-lay out (and repaint) the plot below
            w.setFixedWidth(230)
            w.setFixedHeight(w.sizeHint().height())
            grid.addWidget(w, 1, j)
        self.state_label.setMinimumWidth(200)
        self.state_label.setFixedHeight(self.state_label.sizeHint().height())
        lay.addLayout(grid)
        self.plot = pg.PlotWidget()
        self.plot.setBackground("w")
        self.plot.addLegend(offset=(-10, 10))
        self.plot.setLabel("bottom", "epoch")
        self.plot.setLabel("left", "loss (MSE, normalised targets)")
        # no grid: pyqtgraph's alpha-blended grid costs ~25 ms per repaint (measured, offscreen raster) vs ~5 ms
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self.batch_curve = self.plot.plot([], [], pen=pg.mkPen((150, 150, 150), width=1), name="batch (running mean)")
        self.train_curve = self.plot.plot([], [], pen=pg.mkPen("b", width=2), symbol="o", symbolSize=5,
                                          symbolBrush="b", name="train")
        self.val_curve = self.plot.plot([], [], pen=pg.mkPen("r", width=2), symbol="s", symbolSize=5,
                                        symbolBrush="r", name="validation")
        self.best_line = pg.InfiniteLine(angle=90, pen=pg.mkPen((0, 150, 0), style=Qt.PenStyle.DashLine))
        self.best_line.hide()
        self.plot.addItem(self.best_line)
        lay.addWidget(self.plot, 1)
        self.saved_label = QLabel()
        self.saved_label.setWordWrap(True)
        self.saved_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.saved_label)
        self.error = _error_label()
        lay.addWidget(self.error)
        self.timer = QTimer(self)
        self.timer.setInterval(self.POLL_MS)
        self.timer.timeout.connect(self.poll)
        self._reset_curves()
        self._t_start = None
        self._eta = None
        self._eta_at = None
        self._last_draw = 0.0
        self._last_clock = 0.0
        self._pending = False

    def _reset_curves(self) -> None:
        self.batch_x, self.batch_y = [], []
        self.epoch_x, self.train_y, self.val_y = [], [], []
        self.best_epoch = 0
        self.events_seen: list[str] = []
        for c in (self.batch_curve, self.train_curve, self.val_curve):
            c.setData([], [])
        self.best_line.hide()

    def initializePage(self) -> None:  # noqa: N802 - Qt name
        fine = self.wiz.checkpoint is not None
        if fine and not getattr(self, "_ft_defaults", False):
            self.epochs_spin.setValue(20)
            self.lr_spin.setValue(3e-4)
            self.patience_spin.setValue(5)
            self._ft_defaults = True
        c = self.wiz.prepared.counts() if self.wiz.prepared else {}
        what = (f"Fine-tuning {self.wiz.checkpoint.model_name} ({self.wiz.finetune_mode})" if fine
                else f"Training {self.wiz.plan.model_name}")
        self.counts_label.setText(f"{what} on {', '.join(self.wiz.sources)} — windows: {c.get('train', 0)} train, "
                                  f"{c.get('val', 0)} validation, {c.get('test', 0)} test")
        self.start_button.setEnabled(not self.running)

    @property
    def running(self) -> bool:
        """True while a worker thread runs."""
        return self.wiz.worker is not None and self.wiz.worker.isRunning()

    def config(self):
        """TrainConfig from the settings row."""
        from asha_app.models.train import TrainConfig

        kw = {"device": self.device_combo.currentData()} if "device" in TrainConfig.__dataclass_fields__ else {}
        return TrainConfig(max_epochs=self.epochs_spin.value(), batch_size=self.batch_spin.value(),
                           lr=self.lr_spin.value(), patience=self.patience_spin.value(),
                           progress_every=self.wiz.progress_every, **kw)

    def start(self) -> bool:
        """Start training (re-preparing when the prepared run was used already); False if it cannot start."""
        if self.running:
            return False
        _show_error(self.error, "")
        self.saved_label.setText("")
        w = self.wiz
        if w.prepared is None or w.prepared_used:
            try:
                w.prepared = prepare_plan(w.plan)
            except AshaError as exc:
                _show_error(self.error, str(exc))
                return False
        w.prepared_used = True
        w.result = None
        self.completeChanged.emit()
        self._reset_curves()
        cfg = self.config()
        self.plot.setXRange(0, cfg.max_epochs, padding=0.02)
        self.plot.enableAutoRange(axis="x", enable=False)
        worker = TrainingWorker(w.prepared, cfg, threads=w.threads)
        worker.error.connect(self._on_error)
        worker.status.connect(self._on_status)
        worker.finished.connect(self._on_finished)
        w.worker = worker
        self._t_start = time.monotonic()
        self._eta = None
        self.start_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.state_label.setText("Training…")
        worker.start()
        self.timer.start()
        w.button(QWizard.WizardButton.BackButton).setEnabled(False)
        return True

    def stop(self) -> None:
        """Stop training at the next batch; the best epoch is kept, evaluated and saved."""
        if self.running:
            self.wiz.worker.cancel()
            self.stop_button.setEnabled(False)
            self.state_label.setText("Stopping: restoring the best epoch, evaluating and saving…")

    def poll(self) -> None:
        """Drain the worker's progress queue and draw (GUI timer, 10 Hz)."""
        worker = self.wiz.worker
        if worker is None:
            return
        changed = False
        for ev in worker.drain():
            self.events_seen.append(ev.kind)
            if ev.kind == "start" and ev.message:
                self.state_label.setText(f"Training… ({ev.message})")
            elif ev.kind == "batch" and ev.train_loss is not None and ev.n_batches:
                self.batch_x.append(ev.epoch - 1 + ev.batch / ev.n_batches)
                self.batch_y.append(ev.train_loss)
                changed = changed or "batch"
            elif ev.kind == "epoch":
                self.epoch_x.append(ev.epoch)
                self.train_y.append(ev.train_loss)
                self.val_y.append(ev.val_loss)
                if not self.batch_x or self.batch_x[-1] < ev.epoch:  # the epoch's mean closes the batch curve
                    self.batch_x.append(float(ev.epoch))
                    self.batch_y.append(ev.train_loss)
                self.best_epoch = ev.best_epoch
                self.epoch_label.setText(f"epoch {ev.epoch} / {ev.max_epochs}")
                self.best_label.setText(f"best epoch {ev.best_epoch} (val {ev.best_val_loss:.4g})")
                self._eta, self._eta_at = ev.eta_s, time.monotonic()
                changed = "epoch"
            elif ev.kind == "cancelled":
                self.state_label.setText("Stopped: best epoch restored; evaluating and saving…")
            elif ev.kind == "done":
                self.best_epoch = ev.best_epoch
                if "cancelled" not in self.events_seen:
                    self.state_label.setText("Finished: evaluating and saving…")
                self._eta, self._eta_at = 0.0, time.monotonic()
        now = time.monotonic()
        self._pending = self._pending or bool(changed)
        if self._pending and (changed == "epoch" or now - self._last_draw >= self.REDRAW_S):
            self._pending = False
            self._last_draw = now
            self.batch_curve.setData(self.batch_x, self.batch_y)
            self.train_curve.setData(self.epoch_x, self.train_y)
            self.val_curve.setData(self.epoch_x, self.val_y)
            if self.best_epoch:
                self.best_line.setValue(self.best_epoch)
                self.best_line.show()
        if self._t_start is not None and worker.isRunning() and now - self._last_clock >= 1.0:
            self._last_clock = now
            self.time_label.setText(f"elapsed {_hms(time.monotonic() - self._t_start)}")
            if self._eta is not None:
                left = max(0.0, self._eta - (time.monotonic() - self._eta_at))
                self.eta_label.setText(f"remaining ≤ {_hms(left)}")

    def _on_status(self, st: dict) -> None:
        phase = st.get("phase")
        if phase == "evaluating":
            self.state_label.setText("Evaluating on the held-out set and writing the report…")

    def _on_error(self, message: str) -> None:
        _show_error(self.error, message)

    def _on_finished(self) -> None:
        worker = self.wiz.worker
        self.poll()
        self.timer.stop()
        self.start_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        self.wiz.button(QWizard.WizardButton.BackButton).setEnabled(True)
        if worker is not None and self._t_start is not None:
            self.time_label.setText(f"elapsed {_hms(time.monotonic() - self._t_start)}")
        self.eta_label.setText("remaining —")
        res = worker.result if worker is not None else None
        self.wiz.result = res
        self.completeChanged.emit()
        if res is None:
            self.state_label.setText("Training ended with an error (see below); nothing was saved.")
            return
        how = "Stopped by you" if res["cancelled"] else "Finished"
        self.state_label.setText(f"{how}: best epoch {res['best_epoch']} of {res['epochs_run']} kept.")
        self.saved_label.setText(f"Checkpoint saved: {res['checkpoint']}")
        if self.wiz.currentPage() is self and self.wiz.auto_advance:
            self.wiz.next()

    def isComplete(self) -> bool:  # noqa: N802 - Qt name
        return self.wiz.result is not None and not self.running


def _hms(s: float) -> str:
    s = int(round(s))
    return f"{s // 3600:d}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:d}:{s % 60:02d}"


class ReportPage(QWizardPage):
    """The evaluation report of the trained (or calibrated) model, and where it was saved."""

    def __init__(self, wizard: TrainingWizard) -> None:
        super().__init__()
        self.wiz = wizard
        self.setTitle("Evaluation report")
        lay = QVBoxLayout(self)
        self.view = ReportView()
        lay.addWidget(self.view, 1)

    def initializePage(self) -> None:  # noqa: N802 - Qt name
        res = self.wiz.result
        if res:
            self.view.load(res["checkpoint"])
            held = "held-out test set" if res["eval_set"] == "test" else "validation blocks of the calibration data"
            self.setSubTitle(f"Metrics on the {held}. Saved to {res['checkpoint']}")


# --------------------------------------------------------------------------------------------------------- wizard


class TrainingWizard(QWizard):
    """Train a new EMG-to-pose model or fine-tune one, with live progress and an honest evaluation report.

    Parameters
    ----------
    settings : AppSettings, optional
        Its filter settings give the live filter chain offered for raw sEMG.
    sessions_dir : Path, optional
        Default ``data_dir()/"sessions"``.
    threads : int, optional
        Torch threads of the training worker (default all cores but one).
    """

    PAGE_SESSIONS, PAGE_MODEL, PAGE_WINDOWS, PAGE_SPLIT, PAGE_RUN, PAGE_REPORT = range(6)

    def __init__(self, settings=None, parent=None, sessions_dir: Path | None = None, threads: int | None = None) -> None:
        super().__init__(parent)
        from asha_app.core.paths import data_dir

        self.setWindowTitle("Train or fine-tune a model")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.resize(fit_to_screen(self, 1120, 800))  # 1120 x 800, shrunk to a 1366 x 768 laptop screen
        self.app_settings = settings
        self.sessions_dir = Path(sessions_dir) if sessions_dir is not None else data_dir() / "sessions"
        self.threads = threads
        self.progress_every = 10
        self.auto_advance = True
        self.recording_cache: dict[Path, object] = {}
        self.recordings: list = []
        self.sources: list[str] = []
        self.checkpoint = None
        self.finetune_mode = "head"
        self.plan: TrainingPlan | None = None
        self.prepared = None
        self.prepared_used = False
        self.worker: TrainingWorker | None = None
        self.result: dict | None = None
        self.sessions_page = SessionsPage(self)
        self.model_page = ModelPage(self)
        self.windows_page = WindowsPage(self)
        self.split_page = SplitPage(self)
        self.run_page = RunPage(self)
        self.report_page = ReportPage(self)
        for pid, page in enumerate((self.sessions_page, self.model_page, self.windows_page, self.split_page,
                                    self.run_page, self.report_page)):
            self.setPage(pid, page)
        self.currentIdChanged.connect(self._page_changed)
        # first-use imports (torch's optimizer machinery, matplotlib) while the user picks sessions
        self.warmup = WarmUpWorker()
        self.warmup.start()

    def _page_changed(self, pid: int) -> None:
        if pid == self.PAGE_SPLIT:
            self.prepared_used = False

    def filter_choices(self, rec) -> list[tuple[str, object]]:
        """(label, FilterSpec) choices for a recording, the recommended first."""
        from asha_app.dsp.filters import FilterSpec, design_sos

        out = []
        hint = rec.meta.get("filter_hint")
        if isinstance(hint, dict):
            try:
                spec = FilterSpec.from_dict(hint)
                out.append((f"The data set's own: {_describe_filter(spec)}", spec))
            except (TypeError, ValueError) as exc:
                log.warning("bad filter hint %s: %s", hint, exc)
        live = self.app_settings.filter.spec(rec.fs) if self.app_settings is not None else FilterSpec(fs=rec.fs)
        try:
            design_sos(live)
            out.append((f"The live chain: {_describe_filter(live)}", live))
        except ValueError as exc:
            log.info("live filter not usable at %g Hz: %s", rec.fs, exc)
        out.append(("None (EMG already processed)", FilterSpec(rec.fs, band=None, notch_hz=None)))
        return out


    def build_plan(self) -> TrainingPlan:
        """The plan from the pages' current choices (finger-flexion data gets the built-in hand model for MPJPE)."""
        return TrainingPlan(
            recordings=self.recordings, sources=self.sources,
            model_name=None if self.checkpoint is not None else self.model_page.model_name,
            finetune_from=self.checkpoint, finetune_mode=self.finetune_mode,
            window_ms=self.windows_page.window_spin.value(), stride_ms=self.windows_page.stride_spin.value(),
            label_lag_ms=self.windows_page.lag_spin.value(), filter_spec=self.windows_page.filter_spec(),
            split_kind=self.split_page.kind(), split_args=self.split_page.split_args())

    def shutdown(self, timeout_ms: int = 10000) -> None:
        """Stop a running training (its best epoch is still saved) and wait for the threads."""
        self.run_page.timer.stop()
        if self.warmup.isRunning() and not self.warmup.wait(timeout_ms):  # an import cannot be interrupted
            log.warning("training warm-up still running after %d ms", timeout_ms)
        w = self.worker
        if w is not None and w.isRunning():
            w.cancel()
            if not w.stop(timeout_ms):
                log.warning("training worker did not stop within %d ms", timeout_ms)

    def reject(self) -> None:  # noqa: D102 - closing stops training (best epoch saved)
        self.shutdown()
        super().reject()

    def done(self, r: int) -> None:  # noqa: D102
        self.shutdown()
        super().done(r)


def _describe_filter(spec) -> str:
    parts = []
    if spec.band is not None:
        parts.append(f"band-pass {spec.band[0]:g}–{spec.band[1]:g} Hz")
    if spec.notch_hz is not None:
        parts.append(f"notch {spec.notch_hz:g} Hz")
    return ", ".join(parts) or "no filtering"
