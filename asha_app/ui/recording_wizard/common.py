"""What the recording wizard's pages share: the session file's path, the error line, the camera worker."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from asha_app.core import paths


# ---------------------------------------------------------------------- Qt-free helpers
def session_path(pseudonym: str, when: datetime | None = None, folder: Path | None = None) -> Path:
    """``<folder>/<pseudonym>_<YYYY-mm-dd_HHMMSS>.h5``, never an existing file.

    The default folder is ``data_dir()/sessions``.
    """
    folder = folder or (paths.data_dir() / "sessions")
    stamp = (when or datetime.now()).strftime("%Y-%m-%d_%H%M%S")
    return paths.unique_path(folder / f"{pseudonym}_{stamp}.h5")


def error_label() -> QLabel:
    """A red, word-wrapped, selectable line where a page shows why it cannot go on."""
    lab = QLabel("")
    lab.setWordWrap(True)
    lab.setStyleSheet("color: #b00020;")
    lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return lab


def camera_worker(window):
    """The window's running camera worker, or None (no camera panel or no camera started)."""
    panel = getattr(window, "camera_panel", None)
    return getattr(panel, "worker", None) if panel is not None else None
