"""The participant page: pseudonym, handedness and consent."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QLineEdit, QPlainTextEdit, QWizardPage

from asha_app.protocols.wizard import Page, WizardInputError
from asha_app.ui.recording_wizard.common import error_label

if TYPE_CHECKING:
    from asha_app.ui.recording_wizard.wizard import RecordingWizard


class ParticipantPage(QWizardPage):
    """Pseudonymous ID, arm, hand, notes and consent."""

    def __init__(self, wizard: RecordingWizard) -> None:
        super().__init__()
        self.wiz = wizard
        self.setTitle("Participant")
        self.setSubTitle("Use a code (such as P07), never a name. Consent is recorded with its time.")
        self.pseudonym = QLineEdit()
        self.pseudonym.setPlaceholderText("P07")
        self.arm = QComboBox()
        self.arm.addItems(["right", "left"])
        self.hand = QComboBox()
        self.hand.addItems(["right", "left"])
        self.notes = QPlainTextEdit()
        self.notes.setMaximumHeight(80)
        self.consent = QCheckBox("The participant has given informed consent to this recording")
        self.error = error_label()
        form = QFormLayout(self)
        form.addRow("Participant ID", self.pseudonym)
        form.addRow("Arm wearing the armband", self.arm)
        form.addRow("Hand filmed", self.hand)
        form.addRow("Notes", self.notes)
        form.addRow(self.consent)
        form.addRow(self.error)

    def validatePage(self) -> bool:  # noqa: N802 - Qt name
        m = self.wiz.model
        try:
            m.set_participant(pseudonym=self.pseudonym.text().strip(), arm=self.arm.currentText(),
                              hand=self.hand.currentText(), notes=self.notes.toPlainText(),
                              consent_given=self.consent.isChecked())
            m.page = Page.PARTICIPANT
            m.advance()
        except WizardInputError as exc:
            self.error.setText(str(exc))
            return False
        self.error.setText("")
        return True
