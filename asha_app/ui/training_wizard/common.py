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
