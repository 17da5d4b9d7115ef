"""Page 1: the sessions to train on, each with its summary or the reason it cannot be used."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QAbstractItemView, QFileDialog, QHBoxLayout, QListWidget, QListWidgetItem, QPushButton,
                               QVBoxLayout, QWizardPage)

from asha_app.core.errors import AshaError
from asha_app.ui.training_wizard.common import error_label, show_error

if TYPE_CHECKING:
    from asha_app.ui.training_wizard.wizard import TrainingWizard


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
        self.error = error_label()
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

        show_error(self.error, "")
        if not self.checked_paths():
            show_error(self.error, "Tick at least one session with pose labels.")
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
            show_error(self.error, str(exc))
            return False
        self.wiz.recordings = recs
        self.wiz.sources = [p.name for p in self.checked_paths()]
        return True
