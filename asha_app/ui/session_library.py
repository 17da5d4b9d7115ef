"""Session library dock: the recorded sessions with their summaries, details, and replay as a live source.

Lists every ``*.h5`` in ``data_dir()/sessions`` plus files the user added
(remembered in ``config_dir()/session_library.json``).  Each row shows the
participant, date, duration, samples, dropped samples and the share of valid
hand labels, read from the file's ``summary`` attribute (or computed by
:func:`asha_app.data.integrity.check_session` for a file that was never
finalized).  A corrupt or foreign file is listed with its error message; the
other rows are unaffected.

No file is read on the GUI thread: :meth:`SessionLibrary.refresh` lists the
files at once ("reading…"), and a :class:`~asha_app.workers.export.JobWorker`
summarizes them one by one; each row fills in as its summary arrives
(``rows_loaded`` when all have).  The details dialog reads its file the same way.

Replay is the session controller's ``replay`` device
(:mod:`asha_app.devices.registry`): the window's session builds the
:class:`~asha_app.devices.replay.SessionReplaySource` in its acquisition thread,
with the rate, channels and unit the library's row already knows, so the file's
EMG reaches the scopes like a live stream; once the source is open, the label
frame at the replay position is shown in the window's hands model (``"replay"``
slot), which the 3D view draws.  Play, pause and a scrubber (seek) control it.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from datetime import datetime
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QDialogButtonBox, QFileDialog, QHBoxLayout, QLabel,
                               QMessageBox, QPlainTextEdit, QPushButton, QSlider, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from asha_app.core import paths
from asha_app.core.atomic import atomic_write_text
from asha_app.core.crashlog import report_unexpected
from asha_app.core.errors import AshaError
from asha_app.core.units import emg_unit_label
from asha_app.data.integrity import check_session
from asha_app.data.reader import SessionFile
from asha_app.ui.export_dialog import ExportDialog, ImportDialog
from asha_app.workers.base import stop_checked
from asha_app.workers.export import JobWorker

log = logging.getLogger(__name__)

REPLAY_SLOT = "replay"
COLUMNS = ["File", "Participant", "Date", "Duration", "EMG", "EMG samples", "Dropped", "Valid labels", "Status"]


# ---------------------------------------------------------------------- Qt-free helpers
def sessions_dir() -> Path:
    """``data_dir()/sessions`` (created on demand)."""
    d = paths.data_dir() / "sessions"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _library_file() -> Path:
    return paths.config_dir() / "session_library.json"


def load_extra_files() -> list[Path]:
    """Files the user added to the library (outside the sessions folder)."""
    try:
        data = json.loads(_library_file().read_text())
        return [Path(p) for p in data.get("files", [])]
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        log.warning("session library list %s unreadable (%s); starting empty", _library_file(), exc)
        return []


def save_extra_files(files: list[Path]) -> None:
    """Remember added files (atomic write)."""
    atomic_write_text(_library_file(), json.dumps({"files": [str(p) for p in files]}, indent=1))


def recording_start_unix(attrs: dict, first_t: float | None) -> tuple[float | None, str]:
    """When the recording started (Unix s) and where that comes from.

    ``session_t0_unix`` (the session clock's origin; an importer sets it from the source's own timestamps)
    plus the first EMG sample's session time, when both are known and make a date after 2001:
    ``(t, "recorded")``.  Otherwise the time
    the file was written, ``created_unix``: ``(t, "file written")`` -- an import of a source without a
    date (NinaPro) shows its import date.  ``(None, "")`` when neither is known.
    """
    t0 = attrs.get("session_t0_unix")
    if isinstance(t0, float | int) and np.isfinite(t0) and first_t is not None and np.isfinite(first_t):
        start = float(t0) + float(first_t)
        if start > 1e9:  # after 2001: a real date (a board without a real-time clock counts from 0)
            return start, "recorded"
    created = attrs.get("created_unix")
    if isinstance(created, float | int) and np.isfinite(created):
        return float(created), "file written"
    return None, ""


def trash_dir() -> Path:
    """``data_dir()/trash``: where deleted sessions go (created on demand)."""
    d = paths.data_dir() / "trash"
    d.mkdir(parents=True, exist_ok=True)
    return d


def move_to_trash(path: str | Path) -> Path:
    """Move a session file into :func:`trash_dir` (never overwriting one there); returns its new path.

    Raises
    ------
    OSError
        If the file cannot be moved (the message names it).
    """
    path = Path(path)
    dest = paths.unique_path(trash_dir() / path.name)
    shutil.move(str(path), str(dest))
    return dest


def summarize_file(path: str | Path) -> dict:
    """One library row: participant, date, duration, samples, dropped, valid share; or the file's error.

    Returns
    -------
    dict
        ``path, participant, date, date_origin, duration_s, fs, units, n_channels, n_emg, n_frames, dropped,
        valid_share, status, error`` (``error`` None for a readable session file, else the reader's message;
        ``units`` the EMG unit as stored).  ``date`` is when the recording started (see
        :func:`recording_start_unix`; ``date_origin`` says "recorded" or "file written").
    """
    path = Path(path)
    row = {"path": path, "participant": "", "date": "", "date_origin": "", "duration_s": None, "fs": None, "units": "",
           "n_channels": None, "n_emg": None, "n_frames": None, "dropped": None, "valid_share": None, "status": "",
           "error": None}
    try:
        with SessionFile(path) as sf:
            attrs = sf.attrs
            row["fs"], row["units"], row["n_channels"] = sf.fs, sf.emg_units, sf.n_channels
            summary = sf.summary if sf.finalized else {}
            crashed, finalized = sf.crashed, sf.finalized
            first_t = float(sf.emg_t[0]) if sf.n_emg else None
        if not summary:
            summary = check_session(path).to_dict()
    except AshaError as exc:
        row["error"] = str(exc)
        row["status"] = "error"
        return row
    except (OSError, KeyError, ValueError, RuntimeError) as exc:  # h5py surprises on damaged files
        row["error"] = f"{path}: cannot read the file ({type(exc).__name__}: {exc})."
        row["status"] = "error"
        return row
    except Exception as exc:  # noqa: BLE001 - one bad file must never empty the library
        row["error"] = report_unexpected(exc, f"reading {path}")
        row["status"] = "error"
        return row
    try:
        _fill_row(row, attrs, summary, crashed, finalized, first_t)
    except (TypeError, ValueError, AttributeError) as exc:  # a summary of the wrong shape: say so in its own row
        row["error"] = (f"{path}: the file's summary is malformed ({type(exc).__name__}: {exc}); "
                        "'asha check' recomputes it.")
        row["status"] = "error"
    return row


def _fill_row(row: dict, attrs: dict, summary: dict, crashed: bool, finalized: bool, first_t: float | None) -> None:
    part = attrs.get("participant")
    row["participant"] = str(part.get("pseudonym", "")) if isinstance(part, dict) else str(part or "")
    start, origin = recording_start_unix(attrs, first_t)
    if start is not None:  # the recording's own date (an import keeps its source's), else the file's
        row["date"] = datetime.fromtimestamp(start).strftime("%Y-%m-%d %H:%M")
        row["date_origin"] = origin
    row["duration_s"] = float(summary.get("duration_s", 0.0))
    row["n_emg"] = int(summary.get("n_emg", 0))
    row["n_frames"] = int(summary.get("n_frames", 0))
    row["dropped"] = int(summary.get("dropped_samples", 0)) + int(summary.get("dropped_host", 0))
    row["valid_share"] = summary.get("valid_label_share")
    row["status"] = "finalized" if finalized else ("interrupted" if crashed else "not finalized")
    if summary.get("warnings"):
        row["status"] += f", {len(summary['warnings'])} warning(s)"


def emg_text(row: dict) -> str:
    """ "500 Hz, µV" for a library row: the sampling rate and the EMG unit a person reads."""
    if row.get("fs") is None:
        return ""
    return f"{row['fs']:g} Hz, {emg_unit_label(row.get('units') or 'uV')}"


def details_text(path: str | Path) -> str:
    """Integrity report plus the participant, device, filter, camera and hand-model attributes."""
    rep = check_session(path)
    lines = [rep.format_text(), ""]
    with SessionFile(path) as sf:
        a = sf.attrs
        start, origin = recording_start_unix(a, float(sf.emg_t[0]) if sf.n_emg else None)
        if start is not None:
            lines.append(("recorded " if origin == "recorded" else "no recording date in the source; file written ")
                         + datetime.fromtimestamp(start).strftime("%Y-%m-%d %H:%M:%S"))
        lines.append(f"EMG: {sf.n_channels} channels at {sf.fs:g} Hz, in {emg_unit_label(sf.emg_units)}")
        for key in ("participant", "device", "filter", "camera", "hand_model", "source"):
            v = a.get(key)
            if v:
                lines.append(f"{key}: {json.dumps(v, default=str)[:600]}")
        lines.append(f"EMG-to-video offset: {a.get('emg_to_video_offset_s', 0.0)} s ({a.get('offset_source', '?')})")
        lines.append(f"app {a.get('app_version', '?')}, h5py {a.get('h5py_version', '?')}, HDF5 "
                     f"{a.get('hdf5_version', '?')}")
        prompts = sf.prompts()
    if prompts:
        lines.append("")
        lines.append("prompts and markers:")
        for p in prompts[:200]:
            repetition = f" (rep {p.repetition + 1})" if p.repetition >= 0 else ""
            lines.append(f"  {p.start:8.2f}-{p.end:8.2f} s  {p.label}" + repetition)
    return "\n".join(lines)


def placeholder_row(path: Path, status: str, busy: bool = False) -> dict:
    """A library row before its summary is read (``status``: "reading…"), or for the file being recorded."""
    return {"path": Path(path), "participant": "", "date": "", "date_origin": "", "duration_s": None, "fs": None,
            "units": "", "n_channels": None, "n_emg": None, "n_frames": None, "dropped": None, "valid_share": None,
            "status": status, "error": None, "busy": busy, "loading": not busy}


class DetailsDialog(QDialog):
    """Read-only details of one session file (read in a worker thread; "Reading…" until then)."""

    def __init__(self, path: Path, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Session {Path(path).name}")
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setPlainText(f"Reading {Path(path).name}…")
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        box.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.text)
        lay.addWidget(box)
        self.resize(760, 520)
        #: True once the text shows the file's details (or why they cannot be read)
        self.loaded = False
        # JobWorker reports an AshaError's message as it is, anything else as one sentence naming the error log
        self.worker = JobWorker([(f"showing the details of {path}", lambda _progress: details_text(path))])
        self.worker.job_done.connect(self._show)
        self.worker.job_failed.connect(self._show)
        self.worker.start()

    def _show(self, _index: int, text) -> None:
        self.text.setPlainText(str(text))
        self.loaded = True

    def done(self, result: int) -> None:  # QDialog: closing stops the reader
        stop_checked(self.worker, "reading the session details")
        super().done(result)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt name
        stop_checked(self.worker, "reading the session details")
        super().closeEvent(event)


class SessionLibrary(QWidget):
    """The "Sessions" dock.

    Parameters
    ----------
    window : MainWindow

    Signals
    -------
    rows_loaded()
        Every row of the last :meth:`refresh` has its summary.
    """

    rows_loaded = Signal()

    def __init__(self, window, parent=None) -> None:
        super().__init__(parent)
        self.window = window
        self.entries: list[dict] = []
        self.extra_files = load_extra_files()
        self.replay = None  # SessionReplaySource while replaying (once its source is open)
        self._replay_worker = None  # the acquisition worker started for the replay
        self._replay_path: Path | None = None
        self._loader: JobWorker | None = None
        self._load_rows: list[int] = []  # job index -> row
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setVisible(False)
        self.refresh_button = QPushButton("Refresh")
        self.add_button = QPushButton("Add files…")
        self.details_button = QPushButton("Details…")
        self.export_button = QPushButton("Export…")
        self.import_button = QPushButton("Import…")
        self.delete_button = QPushButton("Delete…")
        self.delete_button.setToolTip("Move the selected sessions to the trash folder in your data folder")
        self.replay_button = QPushButton("Replay")
        self.play_button = QPushButton("Pause")
        self.play_button.setEnabled(False)
        self.stop_button = QPushButton("Stop replay")
        self.stop_button.setEnabled(False)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.setEnabled(False)
        self.time_label = QLabel("")
        self.label_status = QLabel("")
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b00020;")
        row = QHBoxLayout()
        for b in (self.refresh_button, self.add_button, self.details_button, self.export_button, self.import_button,
                  self.delete_button):
            row.addWidget(b)
        row.addStretch(1)
        rrow = QHBoxLayout()
        for b in (self.replay_button, self.play_button, self.stop_button):
            rrow.addWidget(b)
        rrow.addWidget(self.slider, 1)
        rrow.addWidget(self.time_label)
        lay = QVBoxLayout(self)
        lay.addLayout(row)
        lay.addWidget(self.table, 1)
        lay.addLayout(rrow)
        lay.addWidget(self.label_status)
        lay.addWidget(self.message)
        self.refresh_button.clicked.connect(self.refresh)
        self.add_button.clicked.connect(self._choose_files)
        self.details_button.clicked.connect(self.show_details)
        self.export_button.clicked.connect(self.open_export)
        self.import_button.clicked.connect(self.open_import)
        self.delete_button.clicked.connect(lambda: self.delete_selected())
        self.replay_button.clicked.connect(lambda: self.start_replay())
        self.play_button.clicked.connect(self.toggle_play)
        self.stop_button.clicked.connect(self.stop_replay)
        self.slider.sliderReleased.connect(lambda: self.seek(self.slider.value() / 1000.0))
        self.slider.valueChanged.connect(self._on_slider_moved)  # drag, click on the track, keys
        self._scrub_t = 0.0
        self.table.doubleClicked.connect(lambda _i: self.show_details())
        self.timer = QTimer(self)
        self.timer.setInterval(40)
        self.timer.timeout.connect(self.poll_replay)
        self._last_label = -2
        window.acquisition_opened.connect(self._on_acquisition_opened)
        window.session.finished.connect(self._on_acquisition_finished)

    # ------------------------------------------------------------------ listing
    def files(self) -> list[Path]:
        """Every file the library lists (sessions folder first, then added files)."""
        found = sorted(sessions_dir().glob("*.h5"))
        seen = {p.resolve() for p in found}
        return found + [p for p in self.extra_files if p.resolve() not in seen]

    def recording_path(self) -> Path | None:
        """The file a running guided session is writing (never opened here while it is written)."""
        wiz = getattr(self.window, "recording_wizard", None)
        page = getattr(wiz, "session_page", None)
        return page.path if page is not None and page.running else None

    @property
    def loading(self) -> bool:
        """Rows of the last :meth:`refresh` are still being read."""
        return any(e.get("loading") for e in self.entries)

    def refresh(self) -> None:
        """List every file at once and read their summaries in a worker thread (a bad file only affects its row)."""
        self._stop_loader()
        selected = set(self.selected_paths())
        busy = self.recording_path()
        self.entries = [placeholder_row(p, "recording now", busy=True) if busy is not None and p == busy
                        else placeholder_row(p, "reading…") for p in self.files()]
        self.table.setRowCount(len(self.entries))
        for r in range(len(self.entries)):
            self._fill_table_row(r)
            if self.entries[r]["path"] in selected:
                self.table.selectRow(r)
        self.table.resizeColumnsToContents()
        self._load_rows = [r for r, e in enumerate(self.entries) if e["loading"]]
        if not self._load_rows:
            self.rows_loaded.emit()
            return
        # summarize_file is looked up when each job runs, and reports every error in its row itself
        jobs = [(f"reading {self.entries[r]['path'].name}",
                 lambda _progress, p=self.entries[r]["path"]: summarize_file(p)) for r in self._load_rows]
        loader = JobWorker(jobs)
        loader.setObjectName("SessionLibraryReader")
        loader.job_done.connect(self._on_row_read)
        loader.job_failed.connect(self._on_row_failed)
        loader.all_done.connect(self._on_rows_read)
        self._loader = loader
        loader.start()

    def _stop_loader(self) -> None:
        loader, self._loader = self._loader, None
        if loader is not None:
            stop_checked(loader, "reading the session summaries")

    def _row_for(self, job: int, path) -> int | None:
        if self.sender() is not self._loader or job >= len(self._load_rows):
            return None  # a reader replaced by a newer refresh
        r = self._load_rows[job]
        return r if r < len(self.entries) and Path(self.entries[r]["path"]) == Path(path) else None

    def _on_row_read(self, job: int, row: dict) -> None:
        r = self._row_for(job, row["path"])
        if r is None:
            return
        self.entries[r] = row
        self._fill_table_row(r)

    def _on_row_failed(self, job: int, message: str) -> None:
        if self.sender() is not self._loader or job >= len(self._load_rows):
            return
        r = self._load_rows[job]
        self.entries[r] = {**placeholder_row(self.entries[r]["path"], "error"), "loading": False, "error": message}
        self._fill_table_row(r)

    def _on_rows_read(self, _result: dict) -> None:
        if self.sender() is not self._loader:
            return
        for e in self.entries:  # a cancelled reader leaves no row "reading…" for ever
            if e.get("loading"):
                e.update(loading=False, status="not read")
        self.table.resizeColumnsToContents()
        self.rows_loaded.emit()

    def _fill_table_row(self, r: int) -> None:
        e = self.entries[r]
        if e["error"]:
            vals = [e["path"].name, "", "", "", "", "", "", "", e["error"]]
        elif e.get("loading") or e.get("busy") or e.get("duration_s") is None:
            vals = [e["path"].name, "", "", "", "", "", "", "", e["status"]]
        else:
            vs = e["valid_share"]
            vals = [e["path"].name, e["participant"], e["date"], f"{e['duration_s']:.1f} s", emg_text(e),
                    str(e["n_emg"]), str(e["dropped"]), "—" if vs is None else f"{100 * vs:.0f} %", e["status"]]
        for c, v in enumerate(vals):
            item = QTableWidgetItem(v)
            item.setToolTip(str(e["path"]) + ("\n" + e["error"] if e["error"] else ""))
            if e["error"]:
                item.setForeground(Qt.GlobalColor.darkRed)
            self.table.setItem(r, c, item)
        if e.get("date_origin") == "file written":
            self.table.item(r, 2).setToolTip("The source has no recording date: this is when the file was written.")

    def add_files(self, files) -> None:
        """Add files to the library (remembered between runs)."""
        for f in files:
            p = Path(f)
            if p not in self.extra_files:
                self.extra_files.append(p)
        try:
            save_extra_files(self.extra_files)
        except OSError as exc:
            self.message.setText(f"could not remember the added files: {exc}")
        self.refresh()

    def _choose_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Add session files", str(sessions_dir()),
                                                "Sessions (*.h5 *.hdf5);;All files (*)")
        if files:
            self.add_files(files)

    def selected_paths(self) -> list[Path]:
        """Paths of the selected rows."""
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        return [self.entries[r]["path"] for r in rows if r < len(self.entries)]

    def select_path(self, path: Path) -> None:
        """Select the row of ``path``."""
        for r, e in enumerate(self.entries):
            if Path(e["path"]) == Path(path):
                self.table.selectRow(r)
                return

    def entry(self, path: Path) -> dict | None:
        """The listed row of ``path``."""
        return next((e for e in self.entries if Path(e["path"]) == Path(path)), None)

    # ------------------------------------------------------------------ details, export, import
    def show_details(self) -> DetailsDialog | None:
        paths_ = self.selected_paths()
        if not paths_:
            self.message.setText("Select a session first.")
            return None
        dlg = DetailsDialog(paths_[0], self)
        dlg.show()
        return dlg

    def open_export(self):
        good = [p for p in self.selected_paths()
                if not (self.entry(p) or {}).get("error") and not (self.entry(p) or {}).get("busy")]
        if not good:
            self.message.setText("Select one or more readable sessions to export.")
            return None
        dlg = ExportDialog(good, self)
        dlg.show()
        return dlg

    def open_import(self):
        dlg = ImportDialog(sessions_dir(), self)
        dlg.finished_import.connect(lambda _r: self.refresh())
        dlg.show()
        return dlg

    def delete_selected(self, confirm: bool = True) -> list[Path]:
        """Move the selected sessions to the trash folder after asking; returns where they went.

        The file being recorded and the one being replayed are refused.  An added file (outside the
        sessions folder) also leaves the library's list.
        """
        sel = self.selected_paths()
        if not sel:
            self.message.setText("Select the sessions to delete first.")
            return []
        busy = self.recording_path()
        replaying = self._replay_path if self._replay_worker_alive() else None
        if busy is not None and busy in sel:
            self.message.setText(f"{busy.name} is being recorded: finish the recording before deleting it.")
            return []
        if replaying is not None and replaying in sel:
            self.message.setText(f"{replaying.name} is being replayed: stop the replay before deleting it.")
            return []
        names = "\n".join(f"  {p.name}" for p in sel[:10]) + ("\n  …" if len(sel) > 10 else "")
        question = (f"Move {len(sel)} session{'s' if len(sel) > 1 else ''} to the trash?\n\n{names}\n\n"
                    f"They go to {trash_dir()}; move a file back into {sessions_dir()} to restore it.")
        if confirm and QMessageBox.question(self, "Delete sessions", question) != QMessageBox.StandardButton.Yes:
            return []
        moved, failed = [], []
        for p in sel:
            try:
                moved.append(move_to_trash(p))
            except OSError as exc:
                failed.append(f"{p.name}: {exc}")
        gone = {p for p in sel if not p.exists()}
        if any(p in gone for p in self.extra_files):
            self.extra_files = [p for p in self.extra_files if p not in gone]
            try:
                save_extra_files(self.extra_files)
            except OSError as exc:
                failed.append(f"could not update the library list: {exc}")
        self.refresh()
        self.message.setText((f"Moved {len(moved)} to {trash_dir()}." if moved else "")
                             + (" Could not move: " + "; ".join(failed) if failed else ""))
        return moved

    # ------------------------------------------------------------------ replay
    def start_replay(self, path: Path | None = None, speed: float = 1.0) -> bool:
        """Replay ``path`` (default: the selected session) through the window's session controller.

        Returns False (message in the dock) when it cannot be tried; a file that turns out unreadable is
        reported by the acquisition thread in the window's banner.  The transport controls come alive
        once the file is open.
        """
        if self.recording_path() is not None:
            self.message.setText("A recording is running: finish it before replaying (replay replaces the live EMG "
                                 "stream).")
            return False
        if path is None:
            sel = self.selected_paths()
            if not sel:
                self.message.setText("Select a session to replay.")
                return False
            path = sel[0]
        e = self.entry(path) or {}
        known = {k: e[k] for k in ("fs", "n_channels", "units", "duration_s") if not e.get("error") and e.get(k)}
        self.stop_replay()
        session = self.window.session
        if not session.start("replay", path=str(path), speed=speed, **known):
            self.message.setText(self.window.last_error[0] if self.window.last_error else "The replay could not start.")
            return False
        self.message.setText("")
        self._replay_worker = session.worker
        self._replay_path = Path(path)
        self.stop_button.setEnabled(True)
        self._last_label = -2
        return True

    def _on_acquisition_opened(self, worker) -> None:
        """The replay's file is open: its source (position, labels, transport) drives the controls."""
        if worker is not self._replay_worker or worker.source is None:
            return
        source = worker.source
        self.replay = source
        self.slider.setRange(0, int(round(1000 * source.duration)))
        self.slider.setEnabled(True)
        self.play_button.setEnabled(True)
        self.play_button.setText("Pause")
        self.timer.start()

    def _on_acquisition_finished(self, worker) -> None:
        """The replay's thread ended by itself (e.g. the file could not be read): the controls go back."""
        if worker is not self._replay_worker or self.window.worker is not worker:
            return
        if worker.failure:
            self.message.setText(worker.failure)
        self.stop_replay()

    def _replay_worker_alive(self) -> bool:
        w = self.window.worker
        return self._replay_worker is not None and w is not None and w is self._replay_worker

    def toggle_play(self) -> None:
        """Pause or continue the replay."""
        if self.replay is None:
            return
        if self.replay.playing:
            self.replay.pause()
            self.play_button.setText("Play")
        else:
            self.replay.play()
            self.play_button.setText("Pause")

    def seek(self, t_rel: float) -> None:
        """Jump to ``t_rel`` seconds after the start of the replayed session."""
        if self.replay is None:
            return
        self.replay.seek(self.replay.t_start + float(t_rel))
        self._last_label = -2
        self.poll_replay()

    def _on_slider_moved(self, value: int) -> None:
        """Seek while the user drags (at most every 80 ms, so a fast drag does not flood the replay)."""
        now = time.perf_counter()
        if self.slider.isSliderDown() and now - self._scrub_t < 0.08:
            return
        self._scrub_t = now
        self.seek(value / 1000.0)

    def stop_replay(self) -> None:
        """Stop the replay (and its acquisition worker)."""
        if self._replay_worker_alive():
            self.window.stop_acquisition()
        self._replay_worker = None
        self.timer.stop()
        self.replay = None
        self.slider.setEnabled(False)
        self.play_button.setEnabled(False)
        self.stop_button.setEnabled(False)
        hv = self._hands()
        if hv is not None:
            hv.clear(REPLAY_SLOT)

    def _hands(self):
        """The window's HandScene (what the 3D view shows), None for a window without one."""
        return getattr(self.window, "hands", None)

    def poll_replay(self) -> None:
        """Move the scrubber and draw the label frame at the replay position (timer, GUI thread)."""
        src = self.replay
        if src is None:
            return
        if not self._replay_worker_alive():  # another device was started: the replay is over
            self.stop_replay()
            return
        pos = src.position - src.t_start
        if not self.slider.isSliderDown():
            self.slider.blockSignals(True)
            self.slider.setValue(int(round(1000 * pos)))
            self.slider.blockSignals(False)
        self.time_label.setText(f"{pos:6.1f} / {src.duration:.1f} s")
        if not src.playing and self.play_button.text() == "Pause":
            self.play_button.setText("Play")
        i = src.label_index_at(src.position)
        if i == self._last_label:
            return
        self._last_label = i
        hv = self._hands()
        if i is None:
            self.label_status.setText("label: no camera frame here")
            if hv is not None:
                hv.clear(REPLAY_SLOT)
            return
        valid = bool(src.valid[i])
        state = "valid" if valid else "no valid hand pose"
        self.label_status.setText(f"label frame {i} at {src.label_t[i] - src.t_start:.2f} s: {state}")
        if hv is None:
            return
        if valid and src.joint_angles is not None:
            side = src.participant.get("hand", "right") if src.participant.get("hand") in ("left", "right") else "right"
            joints = src.joints_mm[i] if src.joints_mm is not None else None
            if joints is not None and not np.all(np.isfinite(joints)):
                joints = None  # imported labels without joints: the view computes them from the angles
            try:
                hv.set_pose(REPLAY_SLOT, joints_mm=joints, angles_deg=src.joint_angles[i], side=side)
            except (ValueError, RuntimeError) as exc:  # angles of another hand model: draw the skeleton only
                log.debug("replay pose: %s", exc)
                hv.set_pose(REPLAY_SLOT, joints_mm=joints)
        else:
            hv.clear(REPLAY_SLOT)

    def shutdown(self) -> None:
        """Stop the replay timer and the summary reader (the window stops the acquisition worker)."""
        self.timer.stop()
        self._stop_loader()
