"""Import external recordings (emg2pose, NinaPro, BrainFlow CSV, paired Myo + MediaPipe, XDF) in a worker thread.

The dialog builds a list of jobs over the data layer's importers (:mod:`asha_app.data.importers`,
:mod:`asha_app.data.importers.paired_myo_mediapipe`) and runs them like the export dialog
(:class:`~asha_app.ui.job_runner.JobRunner`); each import becomes a session file; one bad file does
not stop the others.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QComboBox, QDialog, QDoubleSpinBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel,
                               QListWidget, QPlainTextEdit, QPushButton, QVBoxLayout)

from asha_app.core.errors import AshaError
from asha_app.core.paths import unique_path
from asha_app.ui.job_runner import JobRunner
from asha_app.workers.export import JobWorker

IMPORT_FORMATS = [
    ("auto", "Guess from the file"),
    ("emg2pose", "emg2pose HDF5"),
    ("ninapro", "NinaPro .mat"),
    ("brainflow", "MindRove / BrainFlow CSV (DataFilter.write_file)"),
    ("paired", "Paired Myo EMG + MediaPipe CSV (folder with both files)"),
    ("xdf", "XDF recording (LSL streams: EMG, markers, pose)"),
]


def import_jobs(items: list[Path], fmt: str, sessions_dir: Path, fs: float | None = None,
                options: dict | None = None) -> list[tuple[str, object]]:
    """Jobs importing each file (or, for ``"paired"``, each folder) into a session file in ``sessions_dir``.

    ``fs`` (Hz) is given to the files that lack their sampling rate (NinaPro DB1,
    :func:`asha_app.data.importers.needs_sampling_rate`); ``options`` go to the reader
    of XDF files (``emg_stream``, ``marker_streams``, ``pose_stream``).
    """
    from asha_app.data.importers import needs_sampling_rate  # noqa: PLC0415 - h5py on first use

    jobs = []
    for src in items:
        src = Path(src)
        out = unique_path(sessions_dir / f"{src.stem if src.is_file() else src.name}.h5")
        if fmt == "paired":
            def job(progress, src=src, out=out):
                from asha_app.data.importers.paired_myo_mediapipe import load_paired  # noqa: PLC0415 - h5py on first use
                from asha_app.data.importers.session import write_recording  # noqa: PLC0415 - h5py on first use

                rec = load_paired(src if src.is_dir() else src.parent)
                return write_recording(rec, out, progress=progress)
        else:
            opts = {"fs": float(fs)} if fs and needs_sampling_rate(src, None if fmt == "auto" else fmt) else {}
            if fmt == "xdf" or src.suffix.lower() == ".xdf":
                opts.update(options or {})

            def job(progress, src=src, out=out, opts=opts):
                from asha_app.data.importers import import_to_session  # noqa: PLC0415 - h5py on first use

                return import_to_session(src, out, None if fmt == "auto" else fmt, progress=progress, **opts)
        jobs.append((f"{src.name} → {out.name}", job))
    return jobs


class ImportDialog(QDialog, JobRunner):
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
        self.clear_button = QPushButton("Clear list")
        self.clear_button.clicked.connect(self.clear_items)
        # asked only when a file lacks its sampling rate (NinaPro DB1)
        self.fs_prompt = QLabel("")
        self.fs_prompt.setWordWrap(True)
        self.fs_prompt.setStyleSheet("color: #8a5a00;")
        self.fs_spin = QDoubleSpinBox()
        self.fs_spin.setRange(0.0, 100_000.0)
        self.fs_spin.setDecimals(1)
        self.fs_spin.setSuffix(" Hz")
        self.fs_spin.setSpecialValueText("enter the rate")
        self.fs_spin.setToolTip("NinaPro DB1: 100 Hz; DB2, DB3, DB7: 2000 Hz; DB5: 200 Hz")
        self.needs_fs: list[Path] = []
        self.run_button = QPushButton("Import")
        self.run_button.clicked.connect(self.start_import)
        self.status = QLabel("")
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        row = QHBoxLayout()
        row.addWidget(add_files)
        row.addWidget(add_folder)
        row.addWidget(self.clear_button)
        row.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel(f"Imported sessions go to {self.sessions_dir}"))
        lay.addWidget(self.list)
        lay.addLayout(row)
        form = QFormLayout()
        form.addRow("Format", self.format)
        form.addRow(self.fs_prompt)
        form.addRow("EMG sampling rate", self.fs_spin)
        self.xdf_emg = QComboBox()
        self.xdf_pose = QComboBox()
        self.xdf_markers = QListWidget()
        self.xdf_markers.setSelectionMode(QListWidget.SelectionMode.MultiSelection)
        self.xdf_markers.setMaximumHeight(70)
        form.addRow("XDF: EMG stream", self.xdf_emg)
        form.addRow("XDF: marker streams", self.xdf_markers)
        form.addRow("XDF: pose stream", self.xdf_pose)
        self._form = form
        lay.addLayout(form)
        self._xdf_rows = (self.xdf_emg, self.xdf_markers, self.xdf_pose)
        for w in self._xdf_rows:
            w.setEnabled(False)
        self.format.currentIndexChanged.connect(lambda _i: self._check_rates())
        self._check_rates()
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
        self._check_rates()

    def load_xdf_streams(self, path: Path) -> None:
        """Fill the stream picker from an XDF file's stream headers (EMG preselected by type)."""
        from asha_app.data.importers.xdf import list_streams  # noqa: PLC0415 - h5py on first use

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

    def clear_items(self) -> None:
        """Empty the list of files to import."""
        self.items = []
        self.list.clear()
        self.status.setText("")
        self._check_rates()

    def _check_rates(self) -> None:
        """Ask for the sampling rate when a listed file lacks it (NinaPro DB1); hide the question otherwise."""
        from asha_app.data.importers import needs_sampling_rate  # noqa: PLC0415 - h5py on first use

        fmt = self.format.currentData()
        self.needs_fs = [] if fmt == "paired" else [
            p for p in self.items if needs_sampling_rate(p, None if fmt == "auto" else fmt)]
        names = ", ".join(p.name for p in self.needs_fs[:4]) + (" …" if len(self.needs_fs) > 4 else "")
        self.fs_prompt.setText(f"{names} {'has' if len(self.needs_fs) == 1 else 'have'} no EMG sampling rate in the "
                               "file: enter it below (NinaPro DB1: 100 Hz; DB2, DB3, DB7: 2000 Hz; DB5: 200 Hz).")
        self._form.setRowVisible(self.fs_prompt, bool(self.needs_fs))
        self._form.setRowVisible(self.fs_spin, bool(self.needs_fs))

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
        self._check_rates()
        if self.needs_fs and self.fs_spin.value() <= 0:
            self.status.setText(f"Enter the EMG sampling rate of {self.needs_fs[0].name} first "
                                "(the file does not say).")
            self.status.setStyleSheet("color: #b00020;")
            self.fs_spin.setFocus()
            return None
        self.sessions_dir.mkdir(parents=True, exist_ok=True)
        jobs = import_jobs(self.items, self.format.currentData(), self.sessions_dir,
                           fs=self.fs_spin.value() if self.needs_fs else None, options=self.xdf_options())
        return self._run_jobs(jobs, "Importing")

    def _finished(self, result: dict) -> None:
        self.finished_import.emit(result)

    def done(self, r: int) -> None:
        self.shutdown()
        super().done(r)


__all__ = ["IMPORT_FORMATS", "ImportDialog", "import_jobs"]
