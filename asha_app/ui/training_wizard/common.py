"""Small pieces the training wizard's pages share: the error and busy lines under a page, time and filter texts."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWizard, QWizardPage


def error_label() -> QLabel:
    lab = QLabel()
    lab.setWordWrap(True)
    lab.setObjectName("errorLabel")
    lab.setStyleSheet("#errorLabel { color: #b00020; font-weight: bold; }")
    lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    lab.hide()
    return lab


def show_error(lab: QLabel, text: str) -> None:
    lab.setText(text)
    lab.setVisible(bool(text))


def busy_label() -> QLabel:
    """The line that says what the page reads in the background ("reading the sessions…"); hidden when idle."""
    lab = QLabel()
    lab.setWordWrap(True)
    lab.setStyleSheet("color: #555; font-style: italic;")
    lab.hide()
    return lab


def set_busy(page: QWizardPage, label: QLabel, text: str | None) -> None:
    """Show ``text`` while a page's background load runs (its controls, Next and Back disabled); None when done.

    Next follows the page's ``isComplete`` (which is False while loading), so the page's
    ``completeChanged`` goes out first; Back is the wizard's own and is disabled after it.
    """
    busy = bool(text)
    label.setText(text or "")
    label.setVisible(busy)
    page.setEnabled(not busy)  # the page's controls; the busy line shows greyed, still readable
    if busy:
        page.setCursor(Qt.CursorShape.BusyCursor)
    else:
        page.unsetCursor()
    page.completeChanged.emit()  # the wizard re-evaluates Next (and Back) from the page's state
    wiz = page.wizard()
    if busy and wiz is not None:
        wiz.button(QWizard.WizardButton.BackButton).setEnabled(False)


def hms(s: float) -> str:
    s = int(round(s))
    return f"{s // 3600:d}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:d}:{s % 60:02d}"


def describe_filter(spec) -> str:
    parts = []
    if spec.band is not None:
        parts.append(f"band-pass {spec.band[0]:g}–{spec.band[1]:g} Hz")
    if spec.notch_hz is not None:
        parts.append(f"notch {spec.notch_hz:g} Hz")
    return ", ".join(parts) or "no filtering"


class NextAfterLoad:
    """A wizard page whose Next runs a background load (``self.loader``, a
    :class:`~asha_app.workers.export.BackgroundLoad`) and moves on when it arrives.

    The page keeps the loaded value in ``self._loaded`` for the one ``validatePage`` call that Next then makes;
    a failure is shown in ``self.error``; Back (``cleanupPage``) drops a load in progress.  Mix in before
    ``QWizardPage``; the page provides ``wiz``, ``loader``, ``busy`` and ``error``.
    """

    def _on_loaded(self, loaded) -> None:
        set_busy(self, self.busy, None)
        if self.wiz.currentPage() is self:
            self._loaded = loaded
            self.wiz.next()
            self._loaded = None

    def _on_load_failed(self, message: str) -> None:
        set_busy(self, self.busy, None)
        show_error(self.error, message)

    def cleanupPage(self) -> None:  # noqa: N802 - Qt name: Back drops a load in progress
        self.loader.cancel()
        set_busy(self, self.busy, None)
        super().cleanupPage()
