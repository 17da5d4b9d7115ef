"""The window's message banner and the one sink of user-facing messages that writes into it.

:class:`Banner` is the strip at the top of the main window; :class:`WindowSink` is the session
controller's :class:`~asha_app.devices.session.MessageSink`, which shows every error and notice there.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton

from asha_app.devices.session import Notice

if TYPE_CHECKING:
    from asha_app.ui.main_window import MainWindow

log = logging.getLogger(__name__)


class Banner(QFrame):
    """A message strip at the top of the window with optional action buttons."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.setStyleSheet("#banner { background: #fff3cd; border: 1px solid #e0c068; border-radius: 4px; }")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 4, 8, 4)
        self.text = QLabel()
        self.text.setWordWrap(True)
        lay.addWidget(self.text, 1)
        self.buttons: list[QPushButton] = []
        self._lay = lay
        #: who put the message there (:meth:`clear` hides only its own)
        self.owner: object = None
        self.hide()

    def show_message(self, text: str, actions: list[tuple[str, object]] = (), owner: object = None) -> None:
        """Show ``text`` with buttons ``(label, callable)``; an empty text hides the banner.

        ``owner`` is who put the message there: :meth:`clear` with the same owner hides it, and only it.
        """
        for b in self.buttons:
            b.deleteLater()
        self.buttons = []
        self.owner = owner if text else None
        if not text:
            self.hide()
            return
        self.text.setText(text)
        for label, fn in actions:
            b = QPushButton(label)
            b.clicked.connect(fn)
            self._lay.addWidget(b)
            self.buttons.append(b)
        close = QPushButton("✕")
        close.setFlat(True)
        close.setFixedWidth(28)
        close.clicked.connect(lambda: self.show_message(""))
        self._lay.addWidget(close)
        self.buttons.append(close)
        self.show()

    def clear(self, owner: object) -> None:
        """Hide the message if ``owner`` showed it (a message from anyone else stays)."""
        if owner is not None and self.owner is owner:
            self.show_message("")


class WindowSink:
    """The one sink of user-facing messages (:class:`~asha_app.devices.session.MessageSink`): the window's banner.

    Errors get a "Start demo" button, an unreachable armband also "Retry" and "Settings…".  The traceback
    of an unexpected error is already in the error log (the message names it); the last one is kept in
    :attr:`MainWindow.last_error` and never shown in a dialog.
    """

    def __init__(self, window: MainWindow) -> None:
        self.window = window

    def show(self, message: str, traceback: str = "", *, owner: object = None, notice: Notice = Notice.ERROR) -> None:
        w = self.window
        if notice in (Notice.ERROR, Notice.UNREACHABLE):
            w.last_error = (message, traceback)
        if traceback:
            log.debug("error shown in the banner: %s\n%s", message, traceback)
        if notice == Notice.UNREACHABLE:
            actions = [("Start demo", w.start_demo), ("Retry", w.start_acquisition), ("Settings…", w.open_settings)]
        elif notice == Notice.ERROR:
            actions = [("Start demo", w.start_demo)]
        else:
            actions = []
        w.banner.show_message(message, actions, owner=owner)

    def clear(self, owner: object) -> None:
        self.window.banner.clear(owner)
