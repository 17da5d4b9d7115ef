"""Small widgets shared by the panels: a label that elides instead of widening the window, and a dock body that
scrolls instead of clipping.

A plain ``QLabel`` asks for the width of its whole text as its *minimum*; a
counter or a message that grows ("1234 labelled, 5 invalid, ...") then pushes
the dock, and with it the main window, wider than the screen.  An
:class:`ElidedLabel` asks for its whole text only as its preferred size, can
shrink to a few characters, and then shows the text cut with "…" (the whole
text in its tooltip).
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QSizePolicy, QVBoxLayout, QWidget


class ElidedLabel(QLabel):
    """A one-line label that elides its text to the width it is given.

    Parameters
    ----------
    text : str
        Initial text (plain text only).
    parent : QWidget, optional
    min_chars : int
        Characters (of an average width) the label keeps at its minimum width.
    mode : Qt.TextElideMode
        Where the text is cut (default: at the right end).

    Notes
    -----
    :meth:`sizeHint` is the whole text, so the label shows it all whenever the
    layout has room; :meth:`minimumSizeHint` is ``min_chars`` characters, so the
    text never forces its container wider.  While the text is cut, the tooltip
    shows it whole.
    """

    def __init__(self, text: str = "", parent=None, min_chars: int = 6,
                 mode: Qt.TextElideMode = Qt.TextElideMode.ElideRight) -> None:
        super().__init__(text, parent)
        self.min_chars = int(min_chars)
        self.mode = mode
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt naming
        fm = self.fontMetrics()
        m = self.contentsMargins()
        w = fm.averageCharWidth() * self.min_chars + fm.horizontalAdvance("…") + m.left() + m.right()
        return QSize(min(w, super().sizeHint().width()), super().minimumSizeHint().height())

    def elided_text(self) -> str:
        """The text as drawn at the current width."""
        return self.fontMetrics().elidedText(self.text(), self.mode, max(0, self.contentsRect().width()))

    def setText(self, text: str) -> None:  # noqa: N802 - Qt naming
        super().setText(text)
        self._sync_tooltip()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt naming
        super().resizeEvent(event)
        self._sync_tooltip()

    def _sync_tooltip(self) -> None:
        tip = self.text() if self.elided_text() != self.text() else ""
        if self.toolTip() != tip:
            self.setToolTip(tip)

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt naming
        shown = self.elided_text()
        p = QPainter(self)
        self.style().drawItemText(p, self.contentsRect(), int(self.alignment()), self.palette(), self.isEnabled(),
                                  shown, self.foregroundRole())
        p.end()


def scrolling_body(panel: QWidget) -> QVBoxLayout:
    """Give ``panel`` a frameless vertical scroll area and return the layout of its body.

    A dock's wrapped lines then scroll when the dock is short (a small screen) instead of being clipped, and never
    widen the window (no horizontal scroll bar).
    """
    outer = QVBoxLayout(panel)
    outer.setContentsMargins(0, 0, 0, 0)
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    body = QWidget()
    scroll.setWidget(body)
    outer.addWidget(scroll)
    return QVBoxLayout(body)
