"""Evaluation reports: a checkpoint's report in a view and in a dialog.

* :class:`ReportView`: a checkpoint's evaluation report (written beside it
  by :func:`asha_app.models.report.write_report`): headline metrics (MPJPE in
  mm, hand frame, wrist-relative; PCK@10/20 mm; mean joint-angle error; R^2
  over the targets that vary, and which were left out), a per-finger table
  (error in the targets' unit, R^2, MPJPE), the per-finger plots (PNG) and
  how the model was trained (data, split, best epoch).
* :class:`ReportDialog`: the view in a dialog (menu Model -> Open report…).

The list of trained models (menu Model -> Models…) is :mod:`asha_app.ui.models_dialog`.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QDialogButtonBox, QHBoxLayout, QHeaderView, QLabel,
                               QPushButton, QScrollArea, QSizePolicy, QSplitter, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from asha_app.core.paths import data_dir
from asha_app.models.fingers import has_fingers, target_unit
from asha_app.models.report import exclusion_text, finger_table
from asha_app.workers.export import BackgroundLoad
from asha_app.workers.training import headline

log = logging.getLogger(__name__)


def models_dir() -> Path:
    """``data_dir()/"models"`` (created on demand)."""
    d = data_dir() / "models"
    d.mkdir(parents=True, exist_ok=True)
    return d


def report_files(ckpt_path: str | Path) -> dict[str, Path]:
    """Paths of the report files beside a checkpoint (they may not exist)."""
    stem = Path(ckpt_path).with_suffix("")
    return {"json": Path(f"{stem}.report.json"), "bars": Path(f"{stem}.report_bars.png"),
            "traces": Path(f"{stem}.report_traces.png"), "html": Path(f"{stem}.report.html")}


def read_report(ckpt_path: str | Path) -> dict:
    """A checkpoint's report and summary.

    Returns
    -------
    dict
        ``checkpoint`` (the loaded Checkpoint), ``metrics`` (the report JSON,
        else the checkpoint's test or validation metrics), ``eval_set``,
        ``files`` (existing report files), ``note`` (what is missing).

    Raises
    ------
    CheckpointError
        Missing, foreign, damaged or unknown-version checkpoint (message for the user).
    """
    from asha_app.models import checkpoint as C  # noqa: PLC0415 - torch on first use

    ck = C.load(ckpt_path)
    files = {k: p for k, p in report_files(ckpt_path).items() if p.is_file()}
    note = ""
    metrics = None
    eval_set = None
    if "json" in files:
        try:
            metrics = json.loads(files["json"].read_text())
            eval_set = metrics.get("evaluated_set")
        except (OSError, json.JSONDecodeError) as exc:
            note = f"the report file {files['json'].name} is unreadable ({exc}); showing the checkpoint's metrics. "
            files.pop("json")
    if metrics is None:
        for name in ("test", "val"):
            if ck.metrics.get(name):
                metrics, eval_set = ck.metrics[name], name
                break
        if "json" not in files:
            note += "No report files beside this checkpoint (only the metrics stored in it)."
    if eval_set is None:
        eval_set = "test" if ck.metrics.get("test") else "val"
    return {"checkpoint": ck, "metrics": metrics or {}, "eval_set": eval_set, "files": files, "note": note.strip()}


def _fmt(v, digits: int = 3) -> str:
    if isinstance(v, float):
        return f"{v:.{digits}g}" if abs(v) < 1000 else f"{v:.0f}"
    return str(v)


def metric_rows(metrics: dict) -> list[tuple[str, str]]:
    """(name, value) rows of the metrics table: headline figures with their units.

    Per-finger figures are :func:`finger_rows`; per-target rows are added only
    when the targets have no finger (e.g. NinaPro glove channels).
    """
    h = headline(metrics)
    rows = []
    units = metrics.get("units") or ("mm" if metrics.get("target_kind") == "joints_mm" else "deg")
    via = " (via hand model)" if h.get("mpjpe_via_hand_model") else ""
    if "mpjpe_mm" in h:
        rows.append((f"MPJPE, wrist-relative{via}", f"{h['mpjpe_mm']:.1f} mm"))
    if "pck10" in h:
        rows.append(("PCK@10 mm", f"{100 * h['pck10']:.1f} %"))
    if "pck20" in h:
        rows.append(("PCK@20 mm", f"{100 * h['pck20']:.1f} %"))
    if "angle_err_deg" in h:
        rows.append(("Mean joint-angle error", f"{h['angle_err_deg']:.2f} deg"))
    elif isinstance(metrics.get("mae_mean"), (int, float)) and math.isfinite(metrics["mae_mean"]):
        rows.append(("Mean absolute error", f"{metrics['mae_mean']:.2f} {units}"))
    r2 = metrics.get("r2_per_target", {})
    excluded = metrics.get("r2_excluded") or {}
    scored = len(r2) - len(excluded)
    if "r2_mean" in h:
        rows.append(("R² (mean over targets that vary)", f"{h['r2_mean']:.3f}" + (f" ({scored} of {len(r2)})"
                                                                                   if excluded else "")))
    elif r2:
        rows.append(("R² (mean over targets that vary)", "n/a (no target varies enough)"))
    if excluded:
        rows.append(("Left out of R²", f"{len(excluded)} near-constant target(s)"))
    if "n" in h:
        rows.append(("Evaluated windows", str(h["n"])))
    if not has_fingers(list(r2)):
        mae = metrics.get("mae_per_target", {})
        for n in r2:
            rows.append((f"R² {n}", "n/a" if n in excluded or r2[n] is None else _fmt(float(r2[n]))))
            if n in mae:
                rows.append((f"Mean abs error {n}",
                             f"{float(mae[n]):.2f} {target_unit(n, metrics.get('target_kind', ''))}"))
    return rows


def finger_rows(metrics: dict) -> tuple[list[str], list[list[str]]]:
    """The per-finger table: header and one row per finger (thumb..little, then wrist / other).

    Columns: finger, mean absolute error (target units), R² over the finger's
    targets that vary ("n/a" when none), MPJPE wrist-relative (mm) when known.
    """
    groups, rows, units = finger_table(metrics)
    if not has_fingers(groups):
        return [], []
    with_mpjpe = any(math.isfinite(r[2]) for r in rows)
    header = ["Finger", f"Error ({units})", "R²"] + (["MPJPE (mm)"] if with_mpjpe else [])

    def cell(v: float, digits: int) -> str:
        return f"{v:.{digits}f}" if math.isfinite(v) else "n/a"

    out = [[g, cell(r[0], 2), cell(r[1], 2)] + ([cell(r[2], 1)] if with_mpjpe else []) for g, r in zip(groups, rows)]
    return header, out


def training_rows(ck) -> list[tuple[str, str]]:
    """(name, value) rows describing how a checkpoint was trained."""
    tr = ck.training or {}
    data = ck.data or {}
    split = data.get("split", {})
    rows = [("Model", ck.model_name), ("Targets", f"{len(ck.target_names)} ({ck.target_kind})"),
            ("EMG", f"{ck.n_channels} channels at {ck.fs:g} Hz" + (f", device {ck.device}" if ck.device else "")),
            ("Window / stride", f"{ck.window.window_ms:g} ms / {ck.window.stride_ms:g} ms"
             + (f", label lag {ck.window.label_lag_ms:g} ms" if ck.window.label_lag_ms else ""))]
    if data.get("sources") or data.get("sessions"):
        rows.append(("Data", ", ".join(data.get("sources") or data.get("sessions"))))
    if split:
        counts = split.get("counts", {})
        rows.append(("Split", f"{split.get('kind', '?')}: " + ", ".join(f"{k} {v}" for k, v in counts.items())))
    if tr:
        best = tr.get("best_epoch")
        text = f"best epoch {best} of {tr.get('epochs_run')}"
        if tr.get("cancelled"):
            text += " (stopped by the user; best epoch kept)"
        elif tr.get("stopped_early"):
            text += " (early stopping)"
        rows.append(("Training", text))
    ft = tr.get("finetuned_from")
    if ft:
        rows.append(("Calibrated from", f"mode {ft.get('mode')}, base trained on "
                     + ", ".join((ft.get("data") or {}).get("sessions", []) or ["?"])))
    return rows


def _table(rows: list[tuple[str, str]]) -> QTableWidget:
    t = QTableWidget(len(rows), 2)
    t.setHorizontalHeaderLabels(["", ""])
    t.horizontalHeader().hide()
    t.verticalHeader().hide()
    t.verticalHeader().setDefaultSectionSize(22)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
    t.horizontalHeader().setStretchLastSection(True)
    for i, (k, v) in enumerate(rows):
        t.setItem(i, 0, QTableWidgetItem(k))
        t.setItem(i, 1, QTableWidgetItem(v))
    return t


def _fit_rows(table: QTableWidget, header: bool = False, most: int = 12) -> None:
    """Make a table exactly as tall as its rows (at most ``most``), so short tables leave no blank space."""
    n = min(table.rowCount(), most)
    h = sum(table.rowHeight(i) for i in range(n)) + 2 * table.frameWidth()
    if header:
        h += table.horizontalHeader().sizeHint().height()
    table.setFixedHeight(h)


class FitImage(QLabel):
    """A picture scaled down to the label's width (never up), keeping its aspect ratio."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.image: QPixmap | None = None
        self.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def set_image(self, pix: QPixmap | None) -> None:
        """Show ``pix`` (None clears)."""
        self.image = pix
        if pix is None:
            self.clear()
            self.setMinimumHeight(0)
        self._rescale()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt name
        super().resizeEvent(event)
        self._rescale()

    def _rescale(self) -> None:
        if self.image is None:
            return
        w = max(120, min(self.width(), self.image.width()))
        scaled = self.image.scaledToWidth(w, Qt.TransformationMode.SmoothTransformation)
        self.setPixmap(scaled)
        self.setMinimumHeight(scaled.height())


class ReportView(QWidget):
    """Shows one checkpoint's evaluation report.

    Attributes
    ----------
    metrics_table, training_table : QTableWidget
    bars_label, traces_label : QLabel
        The report's PNGs (empty when missing).
    path_label : QLabel
        Where the checkpoint is.
    error_label : QLabel
        The checkpoint's error, when it cannot be read.
    shown : Signal(bool)
        After :meth:`load`: True when the report is shown, False when the checkpoint's error is.
    """

    shown = Signal(bool)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.loader = BackgroundLoad("reading the model report", self)
        self.ckpt_path: Path | None = None
        self.info: dict | None = None
        lay = QVBoxLayout(self)
        self.title = QLabel("No report loaded.")
        self.title.setStyleSheet("font-weight: bold; font-size: 13pt;")
        self.title.setWordWrap(True)
        lay.addWidget(self.title)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #b00020;")
        self.error_label.hide()
        lay.addWidget(self.error_label)
        self.note_label = QLabel()
        self.note_label.setWordWrap(True)
        self.note_label.hide()
        lay.addWidget(self.note_label)
        row = QHBoxLayout()
        self.path_label = QLabel()
        self.path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.path_label.setWordWrap(True)
        row.addWidget(self.path_label, 1)
        self.folder_button = QPushButton("Open folder")
        self.folder_button.setEnabled(False)
        self.folder_button.clicked.connect(self._open_folder)
        row.addWidget(self.folder_button)
        lay.addLayout(row)

        split = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(QLabel("<b>Metrics</b>"))
        self.metrics_table = _table([])
        ll.addWidget(self.metrics_table)
        self.fingers_title = QLabel("<b>Per finger</b>")
        ll.addWidget(self.fingers_title)
        self.fingers_table = QTableWidget(0, 0)
        self.fingers_table.verticalHeader().hide()
        self.fingers_table.verticalHeader().setDefaultSectionSize(22)
        self.fingers_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.fingers_table.horizontalHeader().setStretchLastSection(True)
        ll.addWidget(self.fingers_table)
        self.r2_note = QLabel()
        self.r2_note.setWordWrap(True)
        self.r2_note.setStyleSheet("color: #555;")
        self.r2_note.hide()
        ll.addWidget(self.r2_note)
        ll.addWidget(QLabel("<b>Training</b>"))
        self.training_table = _table([])
        ll.addWidget(self.training_table, 1)
        split.addWidget(left)
        body = QWidget()
        bl = QVBoxLayout(body)
        self.bars_label = FitImage()
        self.traces_label = FitImage()
        bl.addWidget(self.bars_label)
        bl.addWidget(self.traces_label)
        bl.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        split.addWidget(scroll)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        split.setSizes([400, 600])
        self.splitter = split
        lay.addWidget(split, 1)

    def clear(self) -> None:
        """Show nothing."""
        self.ckpt_path = None
        self.info = None
        self.title.setText("No report loaded.")
        for t in (self.metrics_table, self.training_table, self.fingers_table):
            t.setRowCount(0)
        self.fingers_title.hide()
        self.fingers_table.hide()
        self.r2_note.hide()
        for lab in (self.bars_label, self.traces_label):
            lab.set_image(None)
        self.path_label.setText("")
        self.folder_button.setEnabled(False)
        self.error_label.hide()
        self.note_label.hide()

    @property
    def loading(self) -> bool:
        """True while a checkpoint's report is being read (off the GUI thread)."""
        return self.loader.busy

    def load(self, ckpt_path: str | Path) -> bool:
        """Read the report of ``ckpt_path`` off the GUI thread and show it ("reading…" until then).

        Returns True: the read started.  When it ends, the report shows and :attr:`shown` emits True; a checkpoint
        that cannot be read (missing, foreign, damaged) shows its error instead and :attr:`shown` emits False.
        A newer :meth:`load` drops the older read's result.
        """
        self.clear()
        ckpt_path = Path(ckpt_path)
        self.title.setText(f"Reading {ckpt_path.name}…")
        self.loader.start(lambda: read_report(ckpt_path), lambda info: self._show(ckpt_path, info),
                          lambda message: self._failed(ckpt_path, message))
        return True

    def cancel(self) -> None:
        """Drop a read still running (the view is closing)."""
        self.loader.cancel()

    def _failed(self, ckpt_path: Path, message: str) -> None:
        self.title.setText(f"Cannot open {ckpt_path.name}")
        self.error_label.setText(message)
        self.error_label.show()
        self.shown.emit(False)

    def _show(self, ckpt_path: Path, info: dict) -> None:
        self.ckpt_path, self.info = ckpt_path, info
        ck = info["checkpoint"]
        self.title.setText(f"{ck.model_name}: {info['eval_set']}-set evaluation")
        self.path_label.setText(f"Checkpoint: {ckpt_path}")
        self.folder_button.setEnabled(True)
        note = info["note"]
        if headline(info["metrics"]).get("mpjpe_via_hand_model"):
            driven = "joint angles" if ck.target_kind == "joint_angles" else "finger flexion"
            note = ("MPJPE and PCK (hand frame, wrist-relative) are of the 21 joints of the built-in hand model "
                    f"driven by the predicted and the true {driven} (forward kinematics). " + note).strip()
        if note:
            self.note_label.setText(note)
            self.note_label.show()
        for table, rows in ((self.metrics_table, metric_rows(info["metrics"])),
                            (self.training_table, training_rows(ck))):
            table.setRowCount(len(rows))
            for i, (k, v) in enumerate(rows):
                table.setItem(i, 0, QTableWidgetItem(k))
                table.setItem(i, 1, QTableWidgetItem(v))
            table.resizeColumnsToContents()
        _fit_rows(self.metrics_table)
        header, frows = finger_rows(info["metrics"])
        if frows:
            ft = self.fingers_table
            ft.setColumnCount(len(header))
            ft.setHorizontalHeaderLabels(header)
            ft.setRowCount(len(frows))
            for i, row in enumerate(frows):
                for j, v in enumerate(row):
                    item = QTableWidgetItem(v)
                    if j:
                        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    ft.setItem(i, j, item)
            ft.resizeColumnsToContents()
            _fit_rows(ft, header=True)
            self.fingers_title.show()
            ft.show()
        excluded = info["metrics"].get("r2_excluded") or {}
        if excluded:
            self.r2_note.setText(exclusion_text(excluded, limit=6))
            self.r2_note.setToolTip("\n".join(f"{k}: {v}" for k, v in excluded.items()))
            self.r2_note.show()
        for key, lab in (("bars", self.bars_label), ("traces", self.traces_label)):
            if key in info["files"]:
                pix = QPixmap(str(info["files"][key]))
                if pix.isNull():
                    lab.setText(f"{info['files'][key].name} cannot be displayed")
                else:
                    lab.set_image(pix)
        self.shown.emit(True)

    def metric_texts(self) -> dict[str, str]:
        """The metrics table as {name: value} (what the user reads)."""
        t = self.metrics_table
        return {t.item(i, 0).text(): t.item(i, 1).text() for i in range(t.rowCount())}

    def finger_texts(self) -> dict[str, dict[str, str]]:
        """The per-finger table as {finger: {column: value}} (empty when the targets have no finger)."""
        t = self.fingers_table
        cols = [t.horizontalHeaderItem(j).text() for j in range(t.columnCount())]
        return {t.item(i, 0).text(): {cols[j]: t.item(i, j).text() for j in range(1, len(cols))}
                for i in range(t.rowCount())}

    def _open_folder(self) -> None:
        if self.ckpt_path is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.ckpt_path.parent)))


def fit_to_screen(widget: QWidget, width: int, height: int) -> QSize:
    """``width`` x ``height``, shrunk to the available area of the widget's screen (a 1366x768 laptop)."""
    screen = widget.screen() or QGuiApplication.primaryScreen()
    if screen is None:
        return QSize(width, height)
    avail = screen.availableGeometry()
    return QSize(min(width, avail.width() - 40), min(height, avail.height() - 60))


class ReportDialog(QDialog):
    """A non-modal dialog holding a :class:`ReportView`."""

    def __init__(self, ckpt_path: str | Path | None = None, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Model report")
        self.resize(fit_to_screen(self, 1100, 800))
        lay = QVBoxLayout(self)
        self.view = ReportView()
        lay.addWidget(self.view, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        lay.addWidget(buttons)
        if ckpt_path is not None:
            self.view.load(ckpt_path)
            self.setWindowTitle(f"Model report: {Path(ckpt_path).name}")

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt name
        self.view.cancel()
        super().closeEvent(event)
