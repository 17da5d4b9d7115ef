"""Small pieces the training wizard's pages share: the error line under a page, time and filter texts."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel


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
