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
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDoubleSpinBox, QFileDialog, QFormLayout, QHBoxLayout,
                               QLabel, QLineEdit, QListWidget, QPlainTextEdit, QProgressDialog, QPushButton, QSpinBox,
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


def export_outputs(files: list[Path], fmt: str, out_dir: Path) -> list[Path]:
    """The output path of each session in ``files``: ``<stem>.windows.npz``, ``<stem>.emg2pose.hdf5`` or ``<stem>/``.

    Two sessions with the same file name (from different folders) get
    different outputs (``<stem>_2...``): an export never writes one session's
    output over another's.
    """
    if fmt == "bids":  # every session goes into the one dataset folder (as its own subject/session)
        return [out_dir for _ in files]
    suffix = {"npz": ".windows.npz", "emg2pose": ".emg2pose.hdf5", "csv": ""}
    if fmt not in suffix:
        raise ValueError(f"unknown export format {fmt!r}")
    outs: list[Path] = []
    used: set[str] = set()
    for src in files:
        stem, k = Path(src).stem, 2
        name = stem + suffix[fmt]
        while name in used:
            name = f"{stem}_{k}{suffix[fmt]}"
            k += 1
        used.add(name)
        outs.append(out_dir / name)
    return outs


def session_emg_text(path: Path) -> str:
    """ "8 channels at 500 Hz, EMG in µV": what an exported file's EMG holds, in its real unit (imported sessions
    keep their source's, e.g. MiniVIE normalised units; exports write that unit with the data)."""
    from asha_app.core.errors import AshaError  # noqa: PLC0415
    from asha_app.core.units import emg_unit_label  # noqa: PLC0415
    from asha_app.data.reader import SessionFile  # noqa: PLC0415

    try:
        with SessionFile(path) as sf:
            return f"{sf.n_channels} channels at {sf.fs:g} Hz, EMG in {emg_unit_label(sf.emg_units)}"
    except (AshaError, OSError, KeyError) as exc:
        return f"unreadable: {exc}"


def export_jobs(files: list[Path], fmt: str, out_dir: Path, *, window: int = 100, stride: int = 25,
                filtered: bool = False, outputs: list[Path] | None = None, overwrite: bool = False,
                allow_large: bool = False) -> list[tuple[str, object]]:
    """Jobs ``(description, f(progress))`` exporting each session in ``files`` to ``out_dir`` as ``fmt``.

    ``outputs`` (default :func:`export_outputs`) names each output; an
    existing one is replaced only with ``overwrite``.  For ``"bids"`` ``out_dir``
    is the dataset folder (new, or an existing BIDS dataset the sessions are added
    to); ``overwrite`` replaces a subject/session that is already there (default:
    refuse, nothing changed).
    """
    from asha_app.data import exporters  # noqa: PLC0415

    outputs = outputs if outputs is not None else export_outputs(files, fmt, out_dir)
    jobs = []
    for src, out in zip(files, outputs, strict=True):
        src = Path(src)
        if fmt == "npz":
            def job(progress, src=src, out=out):
                spec = None
                if filtered:
                    from asha_app.data.reader import SessionFile  # noqa: PLC0415
                    from asha_app.dsp.filters import FilterSpec  # noqa: PLC0415

                    with SessionFile(src) as sf:
                        fdict = sf.attrs.get("filter") or {}
                        spec = FilterSpec.from_dict(fdict) if fdict else FilterSpec(sf.fs)
                info = exporters.export_windows_npz(src, out, window=window, stride=stride, filter_spec=spec,
                                                    progress=progress, overwrite=overwrite, allow_large=allow_large)
                return Path(info["path"])
        elif fmt == "emg2pose":
            def job(progress, src=src, out=out):
                exporters.export_emg2pose(src, out, progress=progress, overwrite=overwrite)
                return out
        elif fmt == "bids":
            out = out_dir

            def job(progress, src=src, out=out):
                from asha_app.data.bids import export_bids  # noqa: PLC0415

                return Path(export_bids(src, out, overwrite=overwrite, progress=progress)["path"])
        elif fmt == "csv":
            def job(progress, src=src, out=out):
                exporters.export_csv(src, out, progress=progress, overwrite=overwrite)
                return out
        else:
            raise ValueError(f"unknown export format {fmt!r}")
        jobs.append((f"{src.name} → {out.name}", job))
    return jobs


def import_jobs(items: list[Path], fmt: str, sessions_dir: Path, fs: float | None = None,
                options: dict | None = None) -> list[tuple[str, object]]:
    """Jobs importing each file (or, for ``"paired"``, each folder) into a session file in ``sessions_dir``.

    ``fs`` (Hz) is given to the files that lack their sampling rate (NinaPro DB1,
    :func:`asha_app.data.importers.needs_sampling_rate`); ``options`` go to the reader
    of XDF files (``emg_stream``, ``marker_streams``, ``pose_stream``).
    """
    from asha_app.data.importers import needs_sampling_rate  # noqa: PLC0415

    jobs = []
    for src in items:
        src = Path(src)
        out = unique_path(sessions_dir / f"{src.stem if src.is_file() else src.name}.h5")
        if fmt == "paired":
            def job(progress, src=src, out=out):
                from asha_app.data.importers.paired_myo_mediapipe import load_paired  # noqa: PLC0415
                from asha_app.data.importers.session import write_recording  # noqa: PLC0415

                rec = load_paired(src if src.is_dir() else src.parent)
                return write_recording(rec, out, progress=progress)
        else:
            opts = {"fs": float(fs)} if fs and needs_sampling_rate(src, None if fmt == "auto" else fmt) else {}
            if fmt == "xdf" or src.suffix.lower() == ".xdf":
                opts.update(options or {})

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
            self.list.addItem(f"{f}  ({session_emg_text(f)})")
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

    def start_export(self, existing: str | None = None, large: bool | None = None) -> JobWorker | None:
        """Start exporting in a worker thread (progress dialog).

        Parameters
        ----------
        existing : {"replace", "rename", "cancel"}, optional
            What to do when outputs already exist; None asks the user.
        large : bool, optional
            Write an npz export larger than 2 GB; None asks the user.
        """
        from asha_app.data import exporters  # noqa: PLC0415

        out = Path(self.out_dir.text()).expanduser()
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self.status.setText(f"cannot create the output folder {out}: {exc}")
            return None
        fmt = self.format.currentData()
        if fmt == "bids":  # one dataset folder: say before writing how IDs will be written and if it is new
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
            jobs = export_jobs(self.files, fmt, out, overwrite=self.replace.isChecked())
            return self._run_jobs(jobs, "Exporting")
        outputs = export_outputs(self.files, fmt, out)
        present = [o for o in outputs if o.exists()]
        overwrite = False
        if present:
            choice = existing or self._ask_existing(present)
            if choice == "cancel":
                self.status.setText("Export cancelled: nothing was written.")
                return None
            if choice == "replace":
                overwrite = True
            else:
                taken: set[Path] = set()
                renamed = []
                for o in outputs:
                    new, k = o, 2
                    while new.exists() or new in taken:  # never an existing file, never another session's output
                        new = o.with_name(f"{o.stem}_{k}{o.suffix}")
                        k += 1
                    renamed.append(new)
                    taken.add(new)
                outputs = renamed
        allow_large = False
        if fmt == "npz":
            try:
                biggest = max(exporters.estimate_npz_bytes(f, self.window_spin.value(), self.stride_spin.value())
                              for f in self.files)
            except Exception as exc:  # noqa: BLE001 - the job itself reports the file's problem
                log.debug("size estimate failed: %s", exc)
                biggest = 0
            if biggest > exporters.SANE_EXPORT_BYTES:
                allow_large = large if large is not None else self._ask_large(biggest)
                if not allow_large:
                    self.status.setText("Export cancelled: choose a larger stride or shorter windows.")
                    return None
        jobs = export_jobs(self.files, fmt, out, window=self.window_spin.value(), stride=self.stride_spin.value(),
                           filtered=self.filtered.isChecked(), outputs=outputs, overwrite=overwrite,
                           allow_large=allow_large)
        return self._run_jobs(jobs, "Exporting")

    def _ask_existing(self, present: list[Path]) -> str:
        from PySide6.QtWidgets import QMessageBox  # noqa: PLC0415

        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Outputs exist")
        names = "\n".join(p.name for p in present[:8]) + ("\n…" if len(present) > 8 else "")
        box.setText(f"{len(present)} output(s) already exist in {present[0].parent}:\n{names}")
        replace = box.addButton("Replace them", QMessageBox.ButtonRole.DestructiveRole)
        rename = box.addButton("Keep both (new names)", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(rename)
        box.exec()
        clicked = box.clickedButton()
        return "replace" if clicked is replace else ("rename" if clicked is rename else "cancel")

    def _ask_large(self, n_bytes: int) -> bool:
        from PySide6.QtWidgets import QMessageBox  # noqa: PLC0415

        answer = QMessageBox.question(
            self, "Large export",
            f"With window {self.window_spin.value()} and stride {self.stride_spin.value()} the export takes about "
            f"{n_bytes / 1e9:.1f} GB on disk and in memory. Write it anyway?")
        return answer == QMessageBox.StandardButton.Yes

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

    def clear_items(self) -> None:
        """Empty the list of files to import."""
        self.items = []
        self.list.clear()
        self.status.setText("")
        self._check_rates()

    def _check_rates(self) -> None:
        """Ask for the sampling rate when a listed file lacks it (NinaPro DB1); hide the question otherwise."""
        from asha_app.data.importers import needs_sampling_rate  # noqa: PLC0415

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
            self.status.setText(f"Enter the EMG sampling rate of {self.needs_fs[0].name} first (the file does not say).")
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


__all__ = ["ExportDialog", "ImportDialog", "export_jobs", "import_jobs"]
