"""Export sessions (windows .npz, emg2pose HDF5, CSV, EMG-BIDS) in a worker thread.

The dialog builds a list of jobs over the data layer's exporters (:mod:`asha_app.data.exporters`)
and runs them in a :class:`~asha_app.workers.export.JobWorker` (:class:`~asha_app.ui.job_runner.JobRunner`);
a :class:`QProgressDialog` polls the worker's progress (Cancel stops at the next progress call).
Errors come from the data layer and name the file; one bad file does not stop the others.
Importing is :mod:`asha_app.ui.import_dialog`.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QListWidget, QMessageBox, QPlainTextEdit, QPushButton, QSpinBox, QVBoxLayout)

from asha_app.core.errors import AshaError
from asha_app.core.units import emg_unit_label
from asha_app.ui.job_runner import JobRunner
from asha_app.workers.export import JobWorker

log = logging.getLogger(__name__)

EXPORT_FORMATS = [
    ("npz", "Windowed arrays for training (.npz)"),
    ("emg2pose", "emg2pose HDF5 layout (.hdf5)"),
    ("csv", "CSV files (emg, labels, prompts)"),
    ("bids", "EMG-BIDS dataset (BDF + sidecars; mne-bids reads it)"),
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
    from asha_app.data.reader import SessionFile  # noqa: PLC0415 - h5py on first use

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
    from asha_app.data import exporters  # noqa: PLC0415 - h5py on first use

    outputs = outputs if outputs is not None else export_outputs(files, fmt, out_dir)
    jobs = []
    for src, out in zip(files, outputs, strict=True):
        src = Path(src)
        if fmt == "npz":
            def job(progress, src=src, out=out):
                spec = None
                if filtered:
                    from asha_app.data.reader import SessionFile  # noqa: PLC0415 - h5py on first use
                    from asha_app.dsp.filters import FilterSpec  # noqa: PLC0415 - scipy.signal on first use

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
                from asha_app.data.bids import export_bids  # noqa: PLC0415 - h5py on first use

                return Path(export_bids(src, out, overwrite=overwrite, progress=progress)["path"])
        elif fmt == "csv":
            def job(progress, src=src, out=out):
                exporters.export_csv(src, out, progress=progress, overwrite=overwrite)
                return out
        else:
            raise ValueError(f"unknown export format {fmt!r}")
        jobs.append((f"{src.name} → {out.name}", job))
    return jobs


class ExportDialog(QDialog, JobRunner):
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
        from asha_app.data import exporters  # noqa: PLC0415 - h5py on first use

        out = Path(self.out_dir.text()).expanduser()
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self.status.setText(f"cannot create the output folder {out}: {exc}")
            return None
        fmt = self.format.currentData()
        if fmt == "bids":  # one dataset folder: say before writing how IDs will be written and if it is new
            from asha_app.data.bids import plan_export  # noqa: PLC0415 - h5py on first use

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
