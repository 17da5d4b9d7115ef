"""The summary page: the integrity report of the written file."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QPlainTextEdit, QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWizardPage

from asha_app.protocols.procedure import State

if TYPE_CHECKING:
    from asha_app.ui.recording_wizard.wizard import RecordingWizard


class SummaryPage(QWizardPage):
    """The end-of-session integrity report."""

    def __init__(self, wizard: RecordingWizard) -> None:
        super().__init__()
        self.wiz = wizard
        self.setTitle("Summary")
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["Prompt", "Repetition", "Start (s)", "Frames", "Valid labels"])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.library_button = QPushButton("Show in the session library")
        lay = QVBoxLayout(self)
        lay.addWidget(self.text, 1)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.library_button)
        self.library_button.clicked.connect(self._show_library)
        self.setFinalPage(True)

    def initializePage(self) -> None:  # noqa: N802 - Qt name
        page = self.wiz.session_page
        rep = self.wiz.model.report
        parts = []
        if page.failed:
            parts.append("RECORDING STOPPED WITH AN ERROR:\n" + page.failed + "\n")
        if page.procedure is not None and page.procedure.state == State.ABORTED and not page.failed:
            parts.append("The session was aborted; completed repetitions are saved.\n")
        if rep is not None:
            parts.append(rep.format_text())
            self.table.setRowCount(len(rep.prompts))
            for r, p in enumerate(rep.prompts):
                share = p["valid_share"]
                vals = [p["label"], str(p["repetition"] + 1), f"{p['start']:.2f}", str(p["frames"]),
                        "no frames" if share is None else f"{100 * share:.0f} %"]
                for c, v in enumerate(vals):
                    self.table.setItem(r, c, QTableWidgetItem(v))
        else:
            parts.append(f"No report: the file {page.path} could not be read.")
        self.text.setPlainText("\n".join(parts))

    def _show_library(self) -> None:
        lib = getattr(self.wiz.window, "session_library", None)
        if lib is not None and self.wiz.session_page.path is not None:
            lib.refresh()
            lib.select_path(self.wiz.session_page.path)
            dock = self.wiz.window.panels.get("sessions")
            if dock is not None:
                dock.show()
                dock.raise_()
