"""The list of trained models (menu Model -> Models…) with their headline metrics.

:class:`ModelsDialog` lists the checkpoints in ``data_dir()/"models"`` (:func:`scan_models`); a double-click
opens a checkpoint's report (:mod:`asha_app.ui.report_view`).
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QHBoxLayout, QLabel, QPushButton, QTableWidget,
                               QTableWidgetItem, QVBoxLayout)

from asha_app.core.errors import AshaError
from asha_app.ui.report_view import models_dir, read_report
from asha_app.workers.training import headline


def scan_models(folder: str | Path | None = None) -> list[dict]:
    """Checkpoints in ``folder`` (default ``data_dir()/"models"``), newest first, with headline metrics.

    Returns
    -------
    list of dict
        ``path``, ``mtime``, and either ``model``, ``sources``, ``eval_set``,
        ``headline`` (see :func:`asha_app.workers.training.headline`) or
        ``error`` (the checkpoint's message).
    """
    folder = Path(folder) if folder is not None else models_dir()
    out = []
    for p in sorted(folder.glob("*.pt"), key=lambda q: q.stat().st_mtime, reverse=True):
        row = {"path": p, "mtime": p.stat().st_mtime}
        try:
            info = read_report(p)
        except AshaError as exc:
            row["error"] = str(exc)
        else:
            ck = info["checkpoint"]
            row.update(model=ck.model_name + (" (calibrated)" if ck.training.get("finetuned_from") else ""),
                       sources=", ".join(ck.data.get("sources") or ck.data.get("sessions") or []),
                       eval_set=info["eval_set"], headline=headline(info["metrics"]))
        out.append(row)
    return out


class ModelsDialog(QDialog):
    """Trained models in ``data_dir()/"models"`` with their headline metrics; double-click opens the report."""

    COLUMNS = ["File", "Model", "Saved", "Data", "Set", "MPJPE (mm)", "PCK@20", "Angle err (deg)", "R² mean"]

    def __init__(self, parent=None, folder: str | Path | None = None, open_report=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Models")
        self.resize(1000, 420)
        self.folder = Path(folder) if folder is not None else models_dir()
        self._open_report = open_report
        lay = QVBoxLayout(self)
        self.info = QLabel(f"Checkpoints in {self.folder}")
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.info)
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.doubleClicked.connect(lambda _i: self.open_selected())
        lay.addWidget(self.table, 1)
        row = QHBoxLayout()
        self.open_button = QPushButton("Open report")
        self.open_button.clicked.connect(self.open_selected)
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.refresh)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        row.addWidget(self.open_button)
        row.addWidget(refresh)
        row.addStretch(1)
        row.addWidget(close)
        lay.addLayout(row)
        self.rows: list[dict] = []
        self.refresh()

    def refresh(self) -> None:
        """Re-read the folder."""
        self.rows = scan_models(self.folder)
        self.table.setRowCount(len(self.rows))
        for i, r in enumerate(self.rows):
            h = r.get("headline", {})
            vals = [r["path"].name, r.get("model", "—"), time.strftime("%Y-%m-%d %H:%M", time.localtime(r["mtime"])),
                    r.get("sources", ""), r.get("eval_set", ""),
                    f"{h['mpjpe_mm']:.1f}" if "mpjpe_mm" in h else "—",
                    f"{100 * h['pck20']:.0f} %" if "pck20" in h else "—",
                    f"{h['angle_err_deg']:.1f}" if "angle_err_deg" in h else "—",
                    f"{h['r2_mean']:.2f}" if "r2_mean" in h else "—"]
            if "error" in r:
                vals[1] = "unreadable"
                vals[3] = r["error"]
            for j, v in enumerate(vals):
                item = QTableWidgetItem(v)
                if "error" in r:
                    item.setForeground(Qt.GlobalColor.red)
                    item.setToolTip(r["error"])
                self.table.setItem(i, j, item)
        self.table.resizeColumnsToContents()
        if self.rows:
            self.table.selectRow(0)
        self.info.setText(f"{len(self.rows)} checkpoint(s) in {self.folder}" if self.rows
                          else f"No trained models yet in {self.folder}. Use Model → Train or fine-tune….")

    def open_selected(self) -> None:
        """Open the selected checkpoint's report."""
        i = self.table.currentRow()
        if 0 <= i < len(self.rows) and self._open_report is not None:
            self._open_report(self.rows[i]["path"])
