"""Session library dock: the recorded sessions with their summaries, details, and replay as a live source.

Lists every ``*.h5`` in ``data_dir()/sessions`` plus files the user added
(remembered in ``config_dir()/session_library.json``).  Each row shows the
participant, date, duration, samples, dropped samples and the share of valid
hand labels, read from the file's ``summary`` attribute (or computed by
:func:`asha_app.data.integrity.check_session` for a file that was never
finalized).  A corrupt or foreign file is listed with its error message; the
other rows are unaffected.

Replay runs the file through :class:`~asha_app.devices.replay.SessionReplaySource`
in the main window's acquisition worker (:func:`start_source`), so its EMG
reaches the scopes like a live stream; the label frame at the replay position
is drawn into the 3D view's ``"replay"`` slot.  Play, pause and a scrubber
(seek) control it.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from datetime import datetime
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer
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
        ``path, participant, date, date_origin, duration_s, fs, units, n_emg, n_frames, dropped, valid_share, status,
        error`` (``error`` None for a readable session file, else the reader's message; ``units`` the EMG unit as
        stored).  ``date`` is when the recording started (see :func:`recording_start_unix`; ``date_origin`` says
        "recorded" or "file written").
    """
    path = Path(path)
    row = {"path": path, "participant": "", "date": "", "date_origin": "", "duration_s": None, "fs": None, "units": "",
           "n_emg": None, "n_frames": None, "dropped": None, "valid_share": None, "status": "", "error": None}
    try:
        with SessionFile(path) as sf:
            attrs = sf.attrs
            row["fs"], row["units"] = sf.fs, sf.emg_units
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
        row["error"] = f"{path}: the file's summary is malformed ({type(exc).__name__}: {exc}); 'asha check' recomputes it."
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
        lines.append(f"app {a.get('app_version', '?')}, h5py {a.get('h5py_version', '?')}, HDF5 {a.get('hdf5_version', '?')}")
        prompts = sf.prompts()
    if prompts:
        lines.append("")
        lines.append("prompts and markers:")
        for p in prompts[:200]:
            lines.append(f"  {p.start:8.2f}-{p.end:8.2f} s  {p.label}" + (f" (rep {p.repetition + 1})" if p.repetition >= 0 else ""))
    return "\n".join(lines)


# ---------------------------------------------------------------------- main-window glue
def start_source(window, source):
    """Run ``source`` (an :class:`~asha_app.devices.emg.EmgSource`) in a new acquisition worker of ``window``.

    Does what ``MainWindow.start_acquisition`` does after building its source
    from the device picker: stops the running worker, builds an
    :class:`~asha_app.workers.acquisition.AcquisitionWorker` with the window's
    clock and filter settings, and hands it to ``MainWindow.run_worker`` (scopes,
    IMU plot, EMG unit, status; emits ``acquisition_started``).

    Returns
    -------
    AcquisitionWorker
        The started worker (also ``window.worker``).
    """
    from asha_app.dsp.filters import FilterSpec  # noqa: PLC0415
    from asha_app.workers.acquisition import AcquisitionWorker  # noqa: PLC0415

    window.stop_acquisition()
    window.banner.show_message("")
    worker = AcquisitionWorker(lambda: source, window.clock, source.fs, source.n_channels,
                               filter_spec=FilterSpec.from_settings(window.settings.filter, source.fs),
                               mains_hz=float(window.settings.filter.mains_hz),
                               units=getattr(source, "units", "uV"))
    worker.error.connect(window.show_error)
    window.run_worker(worker, source)
    return worker


class DetailsDialog(QDialog):
    """Read-only details of one session file."""

    def __init__(self, path: Path, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Session {Path(path).name}")
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        try:
            self.text.setPlainText(details_text(path))
        except AshaError as exc:
            self.text.setPlainText(str(exc))
        except Exception as exc:  # noqa: BLE001 - a damaged file shows why instead of failing silently
            self.text.setPlainText(report_unexpected(exc, f"showing the details of {path}"))
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        box.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.text)
        lay.addWidget(box)
        self.resize(760, 520)


class SessionLibrary(QWidget):
    """The "Sessions" dock.

    Parameters
    ----------
    window : MainWindow
    """

    def __init__(self, window, parent=None) -> None:
        super().__init__(parent)
        self.window = window
        self.entries: list[dict] = []
        self.extra_files = load_extra_files()
        self.replay = None  # SessionReplaySource while replaying
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

    def refresh(self) -> None:
        """Re-read every file's summary (a bad file only affects its own row)."""
        selected = set(self.selected_paths())
        busy = self.recording_path()
        self.entries = []
        for p in self.files():
            if busy is not None and p == busy:
                self.entries.append({"path": p, "participant": "", "date": "", "duration_s": 0.0, "fs": None,
                                     "units": "", "n_emg": 0,
                                     "n_frames": 0, "dropped": 0, "valid_share": None,
                                     "status": "recording now", "error": None, "busy": True})
            else:
                self.entries.append(summarize_file(p))
        self.table.setRowCount(len(self.entries))
        for r, e in enumerate(self.entries):
            if e["error"]:
                vals = [e["path"].name, "", "", "", "", "", "", "", e["error"]]
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
            if e["path"] in selected:
                self.table.selectRow(r)
        self.table.resizeColumnsToContents()

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
        files, _ = QFileDialog.getOpenFileNames(self, "Add session files", str(sessions_dir()), "Sessions (*.h5 *.hdf5);;All files (*)")
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
        from asha_app.ui.export_dialog import ExportDialog  # noqa: PLC0415

        good = [p for p in self.selected_paths()
                if not (self.entry(p) or {}).get("error") and not (self.entry(p) or {}).get("busy")]
        if not good:
            self.message.setText("Select one or more readable sessions to export.")
            return None
        dlg = ExportDialog(good, self)
        dlg.show()
        return dlg

    def open_import(self):
        from asha_app.ui.export_dialog import ImportDialog  # noqa: PLC0415

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
        replaying = Path(self.replay.path) if self.replay is not None and getattr(self.replay, "path", None) else None
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
        """Replay ``path`` (default: the selected session) through the acquisition worker."""
        from asha_app.devices.replay import SessionReplaySource  # noqa: PLC0415

        if self.recording_path() is not None:
            self.message.setText("A recording is running: finish it before replaying (replay replaces the live EMG stream).")
            return False
        if path is None:
            sel = self.selected_paths()
            if not sel:
                self.message.setText("Select a session to replay.")
                return False
            path = sel[0]
        try:
            source = SessionReplaySource(path, speed=speed)
        except AshaError as exc:
            self.message.setText(str(exc))
            return False
        except Exception as exc:  # noqa: BLE001 - a damaged file shows why instead of failing silently
            self.message.setText(report_unexpected(exc, f"replaying {path}"))
            return False
        self.message.setText("")
        self.replay = source
        self._replay_worker = start_source(self.window, source)
        self.slider.setRange(0, int(round(1000 * source.duration)))
        self.slider.setEnabled(True)
        self.play_button.setEnabled(True)
        self.play_button.setText("Pause")
        self.stop_button.setEnabled(True)
        self._last_label = -2
        self.timer.start()
        return True

    def _replay_worker_alive(self) -> bool:
        w = self.window.worker
        return self.replay is not None and w is not None and w is getattr(self, "_replay_worker", None)

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
        self.timer.stop()
        self.replay = None
        self.slider.setEnabled(False)
        self.play_button.setEnabled(False)
        self.stop_button.setEnabled(False)
        hv = self._hand_view()
        if hv is not None:
            hv.clear(REPLAY_SLOT)

    def _hand_view(self):
        from asha_app.ui.hand_view import HandView  # noqa: PLC0415

        hv = getattr(self.window, "hand_view", None)
        return hv if isinstance(hv, HandView) else None

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
        hv = self._hand_view()
        if i is None:
            self.label_status.setText("label: no camera frame here")
            if hv is not None:
                hv.clear(REPLAY_SLOT)
            return
        valid = bool(src.valid[i])
        self.label_status.setText(f"label frame {i} at {src.label_t[i] - src.t_start:.2f} s: " + ("valid" if valid else "no valid hand pose"))
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
        """Stop the replay timer (the window stops the worker)."""
        self.timer.stop()
