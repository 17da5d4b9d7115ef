"""The wizard itself: its pages in order, moving on when the session is saved, and a clean shutdown."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QWizard

from asha_app.core import paths
from asha_app.protocols.wizard import SessionWizard
from asha_app.ui.recording_wizard.check import DeviceCheckPage
from asha_app.ui.recording_wizard.participant import ParticipantPage
from asha_app.ui.recording_wizard.protocol import ProtocolPage
from asha_app.ui.recording_wizard.session import SessionPage
from asha_app.ui.recording_wizard.summary import SummaryPage


class RecordingWizard(QWizard):
    """The guided session wizard (non-modal; the main window stays live).

    Parameters
    ----------
    window : MainWindow
        Gives the clock, the acquisition worker, the camera panel and the 3D view.
    sessions_dir : Path, optional
        Where session files go (default ``data_dir()/sessions``).
    """

    def __init__(self, window, sessions_dir: Path | None = None, parent=None) -> None:
        super().__init__(parent)
        self.window = window
        self.sessions_dir = sessions_dir or (paths.data_dir() / "sessions")
        self.model = SessionWizard()
        self.setWindowTitle("New recording")
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)
        self.participant_page = ParticipantPage(self)
        self.check_page = DeviceCheckPage(self)
        self.protocol_page = ProtocolPage(self)
        self.session_page = SessionPage(self)
        self.summary_page = SummaryPage(self)
        for p in (self.participant_page, self.check_page, self.protocol_page, self.session_page, self.summary_page):
            self.addPage(p)
        self.resize(760, 620)
        if hasattr(window, "acquisition_stopped"):
            window.acquisition_stopped.connect(self.session_page.acquisition_lost)

    def session_finished(self) -> None:
        """Go to the summary once the file is saved and checked."""
        if self.currentPage() is self.session_page:
            self.next()
        lib = getattr(self.window, "session_library", None)
        if lib is not None:
            lib.refresh()

    def reject(self) -> None:
        """Cancel: a running session is aborted and its file finalized first."""
        self.shutdown()
        super().reject()

    def shutdown(self) -> None:
        """Stop timers and the recorder (idempotent)."""
        self.check_page.timer.stop()
        self.session_page.shutdown()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt name
        self.shutdown()
        super().closeEvent(event)
