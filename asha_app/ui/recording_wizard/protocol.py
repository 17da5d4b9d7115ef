"""The protocol page: a built-in protocol or one loaded from a TOML file, with its details."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout,
                               QWizard, QWizardPage)

from asha_app.core.errors import ConfigError
from asha_app.protocols.model import Protocol, builtin_protocols, load_protocol
from asha_app.protocols.wizard import Page, WizardInputError
from asha_app.ui.recording_wizard.common import error_label

if TYPE_CHECKING:
    from asha_app.ui.recording_wizard.wizard import RecordingWizard


class ProtocolPage(QWizardPage):
    """Choose a built-in protocol or load a protocol file."""

    def __init__(self, wizard: RecordingWizard) -> None:
        super().__init__()
        self.wiz = wizard
        self.setTitle("Protocol")
        self.setSubTitle("What the participant will be asked to do.")
        self.list = QListWidget()
        self.load_button = QPushButton("Load protocol file…")
        self.details = QLabel("")
        self.details.setWordWrap(True)
        self.error = error_label()
        lay = QVBoxLayout(self)
        lay.addWidget(self.list, 1)
        row = QHBoxLayout()
        row.addWidget(self.load_button)
        row.addStretch(1)
        lay.addLayout(row)
        lay.addWidget(self.details)
        lay.addWidget(self.error)
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, "To the recording")
        self.protocols: list[Protocol] = []
        try:
            for _key, proto in builtin_protocols().items():
                self.add_protocol(proto, select=False)
        except ConfigError as exc:  # a damaged installation: say so, let the user load a file
            self.error.setText(str(exc))
        if self.list.count():
            self.list.setCurrentRow(0)
        self.list.currentRowChanged.connect(self._show_details)
        self.load_button.clicked.connect(self._choose_file)
        self._show_details(self.list.currentRow())

    def add_protocol(self, protocol: Protocol, select: bool = True, source: str = "built-in") -> None:
        """Add ``protocol`` to the list (and select it)."""
        self.protocols.append(protocol)
        item = QListWidgetItem(f"{protocol.name}  ({protocol.planned_duration_s / 60:.1f} min, {source})")
        self.list.addItem(item)
        if select:
            self.list.setCurrentRow(self.list.count() - 1)

    def load_file(self, path: str | Path) -> bool:
        """Load a protocol TOML file; on error show the message (it names the file, line and key)."""
        try:
            proto = load_protocol(path)
        except ConfigError as exc:
            self.error.setText(str(exc))
            return False
        self.error.setText("")
        self.add_protocol(proto, source=Path(path).name)
        return True

    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load a protocol", "", "Protocols (*.toml);;All files (*)")
        if path:
            self.load_file(path)

    def _show_details(self, row: int) -> None:
        if not 0 <= row < len(self.protocols):
            self.details.setText("")
            return
        p = self.protocols[row]
        prompts = ", ".join(f"{s.label} ×{s.repetitions} ({s.duration_s:g} s)" for s in p.prompts)
        self.details.setText(f"<b>{p.name}</b>: {p.description}<br>{prompts}<br>"
                             f"planned {p.planned_duration_s:.0f} s, order {p.order}")

    @property
    def selected(self) -> Protocol | None:
        row = self.list.currentRow()
        return self.protocols[row] if 0 <= row < len(self.protocols) else None

    def cleanupPage(self) -> None:  # noqa: N802 - Qt name
        self.wiz.model.page = Page.PROTOCOL
        self.wiz.model.back()

    def validatePage(self) -> bool:  # noqa: N802 - Qt name
        proto = self.selected
        m = self.wiz.model
        if proto is None:
            self.error.setText("Choose a protocol.")
            return False
        m.choose_protocol(proto)
        try:
            m.page = Page.PROTOCOL
            m.advance()
        except WizardInputError as exc:
            self.error.setText(str(exc))
            return False
        return True
