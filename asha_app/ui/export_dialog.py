"""Export sessions (windows .npz, emg2pose HDF5, CSV, EMG-BIDS) and import external recordings, in a worker thread.

Both dialogs build a list of jobs over the data layer's exporters
(:mod:`asha_app.data.exporters`) and importers
(:mod:`asha_app.data.importers`, :mod:`asha_app.data.importers.paired_myo_mediapipe`)
and run them in a :class:`~asha_app.workers.export.JobWorker`; a
:class:`QProgressDialog` polls the worker's progress (Cancel stops at the next
progress call).  Errors come from the data layer and name the file; one bad
file does not stop the others.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QFileDialog, QFormLayout, QHBoxLayout, QLabel,
                               QLineEdit, QListWidget, QPlainTextEdit, QProgressDialog, QPushButton, QSpinBox,
                               QVBoxLayout)

from asha_app.core.paths import unique_path
from asha_app.workers.export import JobWorker

log = logging.getLogger(__name__)

EXPORT_FORMATS = [
    ("npz", "Windowed arrays for training (.npz)"),
    ("emg2pose", "emg2pose HDF5 layout (.hdf5)"),
    ("csv", "CSV files (emg, labels, prompts)"),
    ("bids", "EMG-BIDS dataset (BDF + sidecars; mne-bids reads it)"),
]
IMPORT_FORMATS = [
    ("auto", "Guess from the file"),
    ("emg2pose", "emg2pose HDF5"),
    ("ninapro", "NinaPro .mat"),
    ("brainflow", "MindRove / BrainFlow CSV (DataFilter.write_file)"),
    ("paired", "Paired Myo EMG + MediaPipe CSV (folder with both files)"),
    ("xdf", "XDF recording (LSL streams: EMG, markers, pose)"),
]


def export_jobs(files: list[Path], fmt: str, out_dir: Path, *, window: int = 100, stride: int = 25,
                filtered: bool = False, overwrite: bool = False) -> list[tuple[str, object]]:
    """Jobs ``(description, f(progress))`` exporting each session in ``files`` to ``out_dir`` as ``fmt``.

    For ``"bids"`` ``out_dir`` is the dataset folder (new, or an existing BIDS dataset the sessions are added to);
    ``overwrite`` replaces a subject/session that is already there (default: refuse, nothing changed).
    """
    from asha_app.data import exporters  # noqa: PLC0415

    jobs = []
    for src in files:
        src = Path(src)
        if fmt == "npz":
            out = out_dir / f"{src.stem}.windows.npz"

            def job(progress, src=src, out=out):
                spec = None
                if filtered:
                    from asha_app.data.reader import SessionFile  # noqa: PLC0415
                    from asha_app.dsp.filters import FilterSpec  # noqa: PLC0415

                    with SessionFile(src) as sf:
                        fdict = sf.attrs.get("filter") or {}
                        spec = FilterSpec.from_dict(fdict) if fdict else FilterSpec(sf.fs)
                exporters.export_windows_npz(src, out, window=window, stride=stride, filter_spec=spec, progress=progress)
                return out
        elif fmt == "emg2pose":
            out = out_dir / f"{src.stem}.emg2pose.hdf5"

            def job(progress, src=src, out=out):
                exporters.export_emg2pose(src, out, progress=progress)
                return out
        elif fmt == "bids":
            out = out_dir

            def job(progress, src=src, out=out):
                from asha_app.data.bids import export_bids  # noqa: PLC0415

                return Path(export_bids(src, out, overwrite=overwrite, progress=progress)["path"])
        elif fmt == "csv":
            out = out_dir / src.stem

            def job(progress, src=src, out=out):
                exporters.export_csv(src, out, progress=progress)
                return out
        else:
            raise ValueError(f"unknown export format {fmt!r}")
        jobs.append((f"{src.name} → {out.name}", job))
    return jobs


def import_jobs(items: list[Path], fmt: str, sessions_dir: Path, options: dict | None = None) -> list[tuple[str, object]]:
    """Jobs importing each file (or, for ``"paired"``, each folder) into a session file in ``sessions_dir``.

    ``options`` go to the reader of XDF files (``emg_stream``, ``marker_streams``, ``pose_stream``).
    """
    jobs = []
    for src in items:
        src = Path(src)
        out = unique_path(sessions_dir / f"{src.stem if src.is_file() else src.name}.h5")
        if fmt == "paired":
            def job(progress, src=src, out=out):
                from asha_app.data.importers.paired_myo_mediapipe import load_paired  # noqa: PLC0415
                from asha_app.data.writer import write_recording  # noqa: PLC0415

                rec = load_paired(src if src.is_dir() else src.parent)
                return write_recording(rec, out, progress=progress)
        else:
            opts = dict(options or {}) if (fmt == "xdf" or src.suffix.lower() == ".xdf") else {}

            def job(progress, src=src, out=out, opts=opts):
                from asha_app.data.importers import import_to_session  # noqa: PLC0415

                return import_to_session(src, out, None if fmt == "auto" else fmt, progress=progress, **opts)
        jobs.append((f"{src.name} → {out.name}", job))
    return jobs


class _JobRunner:
    """Shared part of both dialogs: run jobs with a progress dialog and log the outcome."""

    def _run_jobs(self, jobs, title: str) -> JobWorker | None:
        if not jobs:
            return None
        self.worker = JobWorker(jobs)
        self.worker.job_done.connect(lambda i, res: self.log.appendPlainText(f"✓ {jobs[i][0]}"))
        self.worker.job_failed.connect(lambda i, msg: self.log.appendPlainText(f"✗ {msg}"))
        self.worker.all_done.connect(self._all_done)
        self.progress = QProgressDialog(title, "Cancel", 0, 1000, self)
        self.progress.setWindowTitle(title)
        self.progress.setMinimumDuration(0)
        self.progress.setAutoClose(False)
        self.progress.setAutoReset(False)
        self.progress.canceled.connect(self.worker.requestInterruption)
        self.progress.setValue(0)
        self.progress.show()
        self._jobs = jobs
        self.progress_values: list[int] = [0]
        self._poll = QTimer(self)
        self._poll.setInterval(100)
        self._poll.timeout.connect(self._update_progress)
        self._poll.start()
        self.run_button.setEnabled(False)
        self.worker.start()
        return self.worker

    def _update_progress(self) -> None:
        w = self.worker
        if w is None:
            return
        i, _frac = w.progress()
        value = int(1000 * w.overall())
        self.progress_values.append(value)
        self.progress.setValue(value)
        if i < len(self._jobs):
            self.progress.setLabelText(f"{i + 1}/{len(self._jobs)}: {self._jobs[i][0]}")

    def _all_done(self, result: dict) -> None:
        self._poll.stop()
        self.progress_values.append(int(1000 * self.worker.overall()))
        self.progress.setValue(1000)
        self.progress.close()
        self.run_button.setEnabled(True)
        n_ok, n_bad = len(result["done"]), len(result["failed"])
        text = f"{n_ok} done, {n_bad} failed" + (" (cancelled)" if result["cancelled"] else "")
        self.status.setText(text)
        self.status.setStyleSheet("color: #b00020;" if n_bad else "color: #1b7f3b;")
        self.last_result = result
        self._finished(result)

    def _finished(self, result: dict) -> None:
        pass

    def shutdown(self) -> None:
        if getattr(self, "worker", None) is not None and self.worker.isRunning():
            self.worker.stop(10_000)


class ExportDialog(QDialog, _JobRunner):
    """Export selected session files.

    Parameters
    ----------
    files : list of Path
        Session files to export.
    """

    finished_export = Signal(dict)

    def __init__(self, files: list[Path], parent=None, out_dir: Path | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export sessions")
        self.files = [Path(f) for f in files]
        self.worker: JobWorker | None = None
        self.last_result: dict | None = None
        self.list = QListWidget()
        for f in self.files:
            self.list.addItem(str(f))
        self.format = QComboBox()
        for key, label in EXPORT_FORMATS:
            self.format.addItem(label, key)
        self.out_dir = QLineEdit(str(out_dir or (self.files[0].parent / "exports" if self.files else Path.home())))
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._choose_dir)
        self.window_spin = QSpinBox()
        self.window_spin.setRange(4, 10_000)
        self.window_spin.setValue(100)
        self.window_spin.setSuffix(" samples")
        self.stride_spin = QSpinBox()
        self.stride_spin.setRange(1, 10_000)
        self.stride_spin.setValue(25)
        self.stride_spin.setSuffix(" samples")
        self.filtered = QCheckBox("Filter the EMG with the session's live filter first")
        self.replace = QCheckBox("Replace a subject/session already in the BIDS dataset")
        self.run_button = QPushButton("Export")
        self.run_button.clicked.connect(self.start_export)
        self.status = QLabel("")
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        form = QFormLayout()
        form.addRow("Sessions", self.list)
        form.addRow("Format", self.format)
        row = QHBoxLayout()
        row.addWidget(self.out_dir, 1)
        row.addWidget(browse)
        form.addRow("Output folder", row)
        form.addRow("Window", self.window_spin)
        form.addRow("Stride", self.stride_spin)
        form.addRow(self.filtered)
        form.addRow(self.replace)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.run_button)
        lay.addWidget(self.status)
        lay.addWidget(self.log)
        self.format.currentIndexChanged.connect(self._format_changed)
        self._format_changed()
        self.resize(640, 480)

    def _format_changed(self, *_a) -> None:
        npz = self.format.currentData() == "npz"
        for w in (self.window_spin, self.stride_spin, self.filtered):
            w.setEnabled(npz)
        bids = self.format.currentData() == "bids"
        self.replace.setEnabled(bids)
        out = Path(self.out_dir.text())
        if bids and out.name == "exports":  # a BIDS dataset gets its own folder, not the mixed exports one
            self.out_dir.setText(str(out.with_name("bids")))
        elif not bids and out.name == "bids":
            self.out_dir.setText(str(out.with_name("exports")))

    def _choose_dir(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Export into", self.out_dir.text())
        if d:
            self.out_dir.setText(d)

    def start_export(self) -> JobWorker | None:
        """Start exporting in a worker thread (progress dialog)."""
        out = Path(self.out_dir.text()).expanduser()
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self.status.setText(f"cannot create the output folder {out}: {exc}")
            return None
        fmt = self.format.currentData()
        if fmt == "bids":  # say before writing how IDs will be written and whether the dataset is new
            from asha_app.core.errors import AshaError  # noqa: PLC0415
            from asha_app.data.bids import plan_export  # noqa: PLC0415

            for f in self.files:
                try:
                    plan = plan_export(f, out)
                except AshaError as exc:
                    self.status.setText(str(exc))
                    self.log.appendPlainText(f"✗ {f.name}: {exc}")
                    return None
                what = "adding to the BIDS dataset" if plan["mode"] == "add" else "new BIDS dataset"
                self.log.appendPlainText(f"{f.name} → sub-{plan['subject']} ses-{plan['session']} ({what})")
                for note in plan["notes"]:
                    self.log.appendPlainText(f"  note: {note}")
        jobs = export_jobs(self.files, fmt, out, window=self.window_spin.value(),
                           stride=self.stride_spin.value(), filtered=self.filtered.isChecked(),
                           overwrite=self.replace.isChecked())
        return self._run_jobs(jobs, "Exporting")

    def _finished(self, result: dict) -> None:
        self.finished_export.emit(result)

    def done(self, r: int) -> None:
        self.shutdown()
        super().done(r)


class ImportDialog(QDialog, _JobRunner):
    """Import external recordings into session files.

    Parameters
    ----------
    sessions_dir : Path
        Where the imported session files are written.
    """

    finished_import = Signal(dict)

    def __init__(self, sessions_dir: Path, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import recordings")
        self.sessions_dir = Path(sessions_dir)
        self.worker: JobWorker | None = None
        self.last_result: dict | None = None
        self.items: list[Path] = []
        self.list = QListWidget()
        self.format = QComboBox()
        for key, label in IMPORT_FORMATS:
            self.format.addItem(label, key)
        add_files = QPushButton("Add files…")
        add_files.clicked.connect(self._choose_files)
        add_folder = QPushButton("Add paired folder…")
        add_folder.clicked.connect(self._choose_folder)
        self.run_button = QPushButton("Import")
        self.run_button.clicked.connect(self.start_import)
        self.status = QLabel("")
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        row = QHBoxLayout()
        row.addWidget(add_files)
        row.addWidget(add_folder)
        row.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel(f"Imported sessions go to {self.sessions_dir}"))
        lay.addWidget(self.list)
        lay.addLayout(row)
        form = QFormLayout()
        form.addRow("Format", self.format)
        self.xdf_emg = QComboBox()
        self.xdf_pose = QComboBox()
        self.xdf_markers = QListWidget()
        self.xdf_markers.setSelectionMode(QListWidget.SelectionMode.MultiSelection)
        self.xdf_markers.setMaximumHeight(70)
        form.addRow("XDF: EMG stream", self.xdf_emg)
        form.addRow("XDF: marker streams", self.xdf_markers)
        form.addRow("XDF: pose stream", self.xdf_pose)
        lay.addLayout(form)
        self._xdf_rows = (self.xdf_emg, self.xdf_markers, self.xdf_pose)
        for w in self._xdf_rows:
            w.setEnabled(False)
        lay.addWidget(self.run_button)
        lay.addWidget(self.status)
        lay.addWidget(self.log)
        self.resize(640, 480)

    def add_items(self, items, fmt: str | None = None) -> None:
        """Add files (or paired folders) to import; ``fmt`` selects the format (key of IMPORT_FORMATS)."""
        for it in items:
            self.items.append(Path(it))
            self.list.addItem(str(it))
        if fmt is not None:
            idx = [k for k, _ in IMPORT_FORMATS].index(fmt)
            self.format.setCurrentIndex(idx)
        xdf = [Path(it) for it in items if Path(it).suffix.lower() == ".xdf"]
        if xdf:
            self.load_xdf_streams(xdf[0])

    def load_xdf_streams(self, path: Path) -> None:
        """Fill the stream picker from an XDF file's stream headers (EMG preselected by type)."""
        from asha_app.core.errors import AshaError  # noqa: PLC0415
        from asha_app.data.importers.xdf import list_streams  # noqa: PLC0415

        try:
            streams = list_streams(path)
        except AshaError as exc:
            self.status.setText(str(exc))
            return
        self.xdf_emg.clear()
        self.xdf_pose.clear()
        self.xdf_markers.clear()
        self.xdf_pose.addItem("none", None)
        for d in streams:
            text = f"{d['name']} ({d['type']}, {d['fs']:g} Hz, {d['channels']} ch)" if d["fs"] > 0 else \
                f"{d['name']} ({d['type']}, irregular, {d['channels']} ch)"
            if d["format"] != "string":
                self.xdf_emg.addItem(text, str(d["stream_id"]))
                self.xdf_pose.addItem(text, str(d["stream_id"]))
            else:
                self.xdf_markers.addItem(text)
                item = self.xdf_markers.item(self.xdf_markers.count() - 1)
                item.setData(256, str(d["stream_id"]))
                item.setSelected(True)
            if d["type"].lower() == "emg":
                self.xdf_emg.setCurrentIndex(self.xdf_emg.count() - 1)
            if d["type"].lower() in ("pose", "mocap") and d["format"] != "string":
                self.xdf_pose.setCurrentIndex(self.xdf_pose.count() - 1)
        if self.xdf_emg.count() == 0:
            self.status.setText(f"{path.name} has no numeric stream to use as EMG; it holds: "
                                + ", ".join(f"'{d['name']}' ({d['type']})" for d in streams))
        for w in self._xdf_rows:
            w.setEnabled(True)

    def xdf_options(self) -> dict:
        """The stream picker's choice as reader options (empty when no XDF file was added)."""
        if not self.xdf_emg.isEnabled() or self.xdf_emg.count() == 0:
            return {}
        return {"emg_stream": self.xdf_emg.currentData(), "pose_stream": self.xdf_pose.currentData(),
                "marker_streams": [it.data(256) for it in self.xdf_markers.selectedItems()]}

    def _choose_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Recordings to import", "",
                                                "Recordings (*.hdf5 *.h5 *.mat *.csv *.txt *.tsv *.xdf);;All files (*)")
        self.add_items(files)

    def _choose_folder(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Folder with EMG_data_*.csv and mediapipe_*.csv")
        if d:
            self.add_items([d], "paired")

    def start_import(self) -> JobWorker | None:
        """Start importing in a worker thread (progress dialog)."""
        if not self.items:
            self.status.setText("Add files to import first.")
            return None
        self.sessions_dir.mkdir(parents=True, exist_ok=True)
        jobs = import_jobs(self.items, self.format.currentData(), self.sessions_dir, self.xdf_options())
        return self._run_jobs(jobs, "Importing")

    def _finished(self, result: dict) -> None:
        self.finished_import.emit(result)

    def done(self, r: int) -> None:
        self.shutdown()
        super().done(r)


__all__ = ["ExportDialog", "ImportDialog", "export_jobs", "import_jobs"]
