"""The "Sessions" dock: the table of sessions (rows read off the GUI thread), details, export, import,
delete, and the replay controls (:mod:`~asha_app.ui.session_library.replay`).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QAbstractItemView, QFileDialog, QHBoxLayout, QLabel, QMessageBox, QPushButton, QSlider,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from asha_app.ui.export_dialog import ExportDialog
from asha_app.ui.import_dialog import ImportDialog
from asha_app.ui.session_library.details import DetailsDialog
from asha_app.ui.session_library.files import (COLUMNS, emg_text, load_extra_files, move_to_trash, placeholder_row,
                                               save_extra_files, sessions_dir, summarize_file, trash_dir)
from asha_app.ui.session_library.replay import ReplayControls
from asha_app.workers.base import stop_checked
from asha_app.workers.export import JobWorker


class SessionLibrary(ReplayControls, QWidget):
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

    def shutdown(self) -> None:
        """Stop the replay timer and the summary reader (the window stops the acquisition worker)."""
        self.timer.stop()
        self._stop_loader()
