"""Page 1: the sessions to train on, each with its summary or the reason it cannot be used.

Nothing is read on the GUI thread: the files are listed at once ("reading…") and
described one by one in a :class:`~asha_app.workers.export.JobWorker` (each row
fills in as its summary arrives); Next loads the ticked recordings and checks
them in a :class:`~asha_app.workers.export.BackgroundLoad`, then moves on by itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QAbstractItemView, QButtonGroup, QFileDialog, QHBoxLayout, QLabel, QListWidget,
                               QListWidgetItem, QPushButton, QRadioButton, QVBoxLayout, QWizardPage)

from asha_app.core.errors import AshaError
from asha_app.data import schema as S
from asha_app.data.windows import check_recording
from asha_app.gestures.jobs import check_gesture_recordings
from asha_app.models.recordings_io import load_any
from asha_app.ui.training_wizard.common import busy_label, error_label, set_busy, show_error
from asha_app.ui.training_wizard.gesture import TASKS
from asha_app.workers.base import stop_checked
from asha_app.workers.export import BackgroundLoad, JobWorker

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
    path = Path(path)
    try:
        if path.suffix in (".h5", ".hdf5") and path.is_file():
            from asha_app.data.reader import SessionFile  # noqa: PLC0415 - h5py on first use

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
                    parts.append("⚠ no pose labels")
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
        parts.append("⚠ no pose labels")
    if rec.meta.get("participant"):
        parts.append(f"participant {rec.meta['participant']}")
    return ", ".join(parts), None, rec


class SessionsPage(QWizardPage):
    """Pick the sessions to train on (data_dir()/sessions plus added files and import folders)."""

    def __init__(self, wizard: TrainingWizard) -> None:
        super().__init__()
        self.wiz = wizard
        self.setTitle("Sessions")
        self.setSubTitle("Choose what to train, then tick the sessions to train (or calibrate) on. Each shows its "
                         "summary, or why it cannot be used.")
        lay = QVBoxLayout(self)
        task_row = QHBoxLayout()
        task_row.addWidget(QLabel("What to train:"))
        self.task_radios: dict[str, QRadioButton] = {}
        group = QButtonGroup(self)
        for task, text in TASKS.items():
            r = QRadioButton(text)
            group.addButton(r)
            task_row.addWidget(r)
            self.task_radios[task] = r
        self.task_radios["pose"].setChecked(True)
        self.task_radios["pose"].setToolTip("EMG -> hand pose, drives the live hand (sessions with camera labels)")
        self.task_radios["gesture"].setToolTip("EMG -> gesture class for gesture mode (sessions recorded with a "
                                               "protocol: every prompt is a gesture, the time between is rest)")
        group.buttonToggled.connect(self._task_changed)
        task_row.addStretch(1)
        lay.addLayout(task_row)
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
        self.busy = busy_label()
        lay.addWidget(self.busy)
        self.error = error_label()
        lay.addWidget(self.error)
        self.pose_button = QPushButton("Train the hand pose instead")
        self.pose_button.clicked.connect(lambda: self.task_radios["pose"].setChecked(True))
        self.pose_button.hide()
        lay.addWidget(self.pose_button, 0, Qt.AlignmentFlag.AlignLeft)
        self._paths: list[Path] = []
        self._info: dict[Path, tuple[str, str | None]] = {}
        self._want: set[Path] = set()  # ticks asked for rows still being read
        self._tick_single = False  # tick the only usable session once every row is read
        self._reader: JobWorker | None = None
        self._reading: list[Path] = []  # job index -> path of the running reader
        self.loader = BackgroundLoad("reading the chosen sessions", self)
        self._loaded: tuple | None = None  # (recordings, gestures found) checked by the last Next, not yet taken

    def task(self) -> str:
        """The chosen task: ``"pose"`` (hand pose, the default) or ``"gesture"`` (gesture classes)."""
        return next(t for t, r in self.task_radios.items() if r.isChecked())

    def set_task(self, task: str) -> None:
        """Choose the task (what a click on its radio button does)."""
        self.task_radios[task].setChecked(True)

    def _task_changed(self, *_a) -> None:
        show_error(self.error, "")
        self.pose_button.hide()
        self.completeChanged.emit()

    @property
    def reading(self) -> bool:
        """True while rows are being described or the ticked sessions loaded (Next waits)."""
        return self._reader is not None or self.loader.busy

    def initializePage(self) -> None:  # noqa: N802 - Qt name
        if not self._paths:
            self._tick_single = True
            self.refresh()

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
        self._want = {p for p in checked if p not in self._info}
        for p in self._paths:
            item = QListWidgetItem()
            item.setData(Qt.ItemDataRole.UserRole, str(p))
            self._show_item(item, p, p in checked)
            self.list.addItem(item)
        if not self._paths:
            item = QListWidgetItem(f"No sessions in {self.wiz.sessions_dir} yet: record one, or add files.")
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.list.addItem(item)
        self.list.blockSignals(False)
        self._read_missing()
        self.completeChanged.emit()

    def _show_item(self, item: QListWidgetItem, p: Path, checked: bool) -> None:
        """The row of ``p``: "reading…" until its summary arrives, then the summary (tickable) or the error."""
        if p not in self._info:
            item.setText(f"{p.name}   —   reading…")
            item.setToolTip(str(p))
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            return
        summary, err = self._info[p]
        item.setText(f"{p.name}   —   {err or summary}")
        item.setToolTip(str(p) + ("\n" + err if err else ""))
        if err:
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            item.setForeground(QColor("#b00020"))
        else:
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def _read_missing(self) -> None:
        """Describe the rows not read yet in a worker thread; each row fills in as its summary arrives."""
        self._stop_reader()
        self._reading = [p for p in self._paths if p not in self._info]
        if not self._reading:
            self._rows_read()
            return
        # describe_file is looked up when each job runs; it reports a file's own errors in its row
        reader = JobWorker([(f"reading {p.name}", lambda _progress, p=p: describe_file(p)) for p in self._reading])
        reader.setObjectName("TrainingSessionsReader")
        reader.job_done.connect(self._on_row_read)
        reader.job_failed.connect(self._on_row_failed)
        reader.all_done.connect(self._on_all_read)
        self._reader = reader
        reader.start()
        set_busy(self, self.busy, f"reading {len(self._reading)} session file(s)…")
        self.setEnabled(True)  # rows can be ticked as they arrive; Next waits for all

    def _stop_reader(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            stop_checked(reader, "reading the session files")

    def _row_read(self, job: int, summary: str, err: str | None, rec) -> None:
        if self.sender() is not self._reader or job >= len(self._reading):
            return  # a reader replaced by a newer list
        p = self._reading[job]
        self._info[p] = (summary, err)
        if rec is not None:
            self.wiz.recording_cache[p] = rec
        for i in range(self.list.count()):
            it = self.list.item(i)
            if it.data(Qt.ItemDataRole.UserRole) == str(p):
                self.list.blockSignals(True)
                self._show_item(it, p, p in self._want)
                self.list.blockSignals(False)
        self._want.discard(p)
        self.completeChanged.emit()

    def _on_row_read(self, job: int, described) -> None:
        summary, err, rec = described
        self._row_read(job, summary, err, rec)

    def _on_row_failed(self, job: int, message: str) -> None:
        self._row_read(job, "", message, None)

    def _on_all_read(self, _result: dict) -> None:
        if self.sender() is not self._reader:
            return
        self._reader = None
        self._rows_read()

    def _rows_read(self) -> None:
        set_busy(self, self.busy, None)
        if self._tick_single:
            self._tick_single = False
            usable = [p for p in self._paths if not self._info.get(p, ("", "unread"))[1]]
            if len(usable) == 1 and not self.checked_paths():  # the only session: tick it
                self.set_checked(usable)

    def shutdown(self) -> None:
        """Stop the row reader and a load in progress (their results are dropped)."""
        self._stop_reader()
        self.loader.cancel()

    def set_checked(self, paths: list[str | Path]) -> None:
        """Tick exactly these files (usable ones)."""
        want = {Path(p) for p in paths}
        self._want = {p for p in want if p not in self._info}  # rows still being read: ticked when they arrive
        self._tick_single = False
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
        return bool(self.checked_paths()) and not self.reading

    def validatePage(self) -> bool:  # noqa: N802 - Qt name
        """Next: the ticked recordings are read and checked in the background; the wizard moves on when they pass."""
        if self._loaded is not None:  # the background load passed: take it and go on
            (recs, found), self._loaded = self._loaded, None
            self.wiz.recordings = [rec for _p, rec in recs]
            self.wiz.gestures_found = found
            self.wiz.sources = [p.name for p, _rec in recs]
            return True
        show_error(self.error, "")
        self.pose_button.hide()
        gesture = self.task() == "gesture"
        if not self.checked_paths():
            show_error(self.error, "Tick at least one session recorded with a protocol." if gesture
                       else "Tick at least one session with pose labels.")
            return False
        if self.reading:
            return False
        paths, cache = self.checked_paths(), dict(self.wiz.recording_cache)

        def load() -> list:
            recs = []
            for p in paths:
                rec = cache.get(p)
                if rec is None:
                    rec = load_any(p)
                rec.meta.setdefault("source_file", p.name)
                recs.append((p, rec))
            found = []
            if gesture:  # EMG checks and gesture labels (prompts or named markers), no pose labels needed
                found = check_gesture_recordings([r for _p, r in recs])
            else:
                for _p, r in recs:
                    check_recording(r, recs[0][1].fs, recs[0][1].n_channels)
            return recs, found

        self.loader.start(load, self._on_loaded, self._on_load_failed)
        set_busy(self, self.busy, f"reading {len(paths)} session(s)…")
        return False

    def _on_loaded(self, loaded: tuple) -> None:
        set_busy(self, self.busy, None)
        for p, rec in loaded[0]:
            self.wiz.recording_cache[p] = rec
        if self.wiz.currentPage() is self:
            self._loaded = loaded
            self.wiz.next()
            self._loaded = None

    def _on_load_failed(self, message: str) -> None:
        set_busy(self, self.busy, None)
        show_error(self.error, message)
        # a session without gesture labels: the message says so; the pose task is one click away
        self.pose_button.setVisible(self.task() == "gesture" and "no gesture labels" in message)
