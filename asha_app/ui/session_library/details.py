"""The details dialog: the integrity report and attributes of one session file, read in a worker thread."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QPlainTextEdit, QVBoxLayout

from asha_app.ui.session_library.files import details_text
from asha_app.workers.base import stop_checked
from asha_app.workers.export import JobWorker


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
