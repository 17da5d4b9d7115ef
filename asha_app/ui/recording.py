"""Recording feature of the main window: Session menu, guided recording wizard, session library, export, import.

``install(window)`` (called by :func:`asha_app.app.install_features`) adds to
the *Session* menu:

* **New recording…** – :class:`~asha_app.ui.recording_wizard.RecordingWizard`
  (participant → device & camera check → protocol → session → summary);
* **Session library** – shows the "Sessions" dock
  (:class:`~asha_app.ui.session_library.SessionLibrary`: list, details, replay);
* **Export…** – :class:`~asha_app.ui.export_dialog.ExportDialog` for the sessions selected in the library;
* **Import…** – :class:`~asha_app.ui.import_dialog.ImportDialog`.

References kept on the window: ``window.session_library``, ``window.recording_wizard``
(the last wizard opened), ``window.recording_actions`` (dict of QActions).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence

from asha_app.ui.recording_wizard import RecordingWizard
from asha_app.ui.session_library import SessionLibrary

log = logging.getLogger(__name__)

__all__ = ["install", "open_wizard"]


def open_wizard(window) -> RecordingWizard:
    """Open a new (non-modal) recording wizard; an open one with a running session is raised instead."""
    old = getattr(window, "recording_wizard", None)
    if old is not None and old.isVisible() and old.session_page.running:
        old.raise_()
        old.activateWindow()
        return old
    if old is not None:
        old.close()
        old.deleteLater()
    wiz = RecordingWizard(window, parent=window)
    wiz.setWindowFlag(Qt.WindowType.Window, True)
    window.recording_wizard = wiz
    wiz.show()
    return wiz


def _shutdown(window) -> None:
    wiz = getattr(window, "recording_wizard", None)
    if wiz is not None:
        wiz.shutdown()
    lib = getattr(window, "session_library", None)
    if lib is not None:
        lib.shutdown()


def install(window) -> None:
    """Add the Session menu entries and the "Sessions" dock to ``window``."""
    menu = window.menus["session"]
    lib = SessionLibrary(window)
    window.session_library = lib
    window.recording_wizard = None
    dock = window.add_panel("sessions", "Sessions", lib, Qt.DockWidgetArea.BottomDockWidgetArea)
    dock.hide()
    actions = {}

    def add(key, text, fn, shortcut=None):
        a = QAction(text, window)
        if shortcut:
            a.setShortcut(QKeySequence(shortcut))
        a.triggered.connect(fn)
        menu.addAction(a)
        actions[key] = a
        return a

    def show_library():
        lib.refresh()
        dock.show()
        dock.raise_()

    add("new", "New recording…", lambda: open_wizard(window), "Ctrl+N")
    add("library", "Session library", show_library, "Ctrl+L")
    menu.addSeparator()

    def export():
        show_library()
        if lib.open_export() is None:
            window.show_error("Select one or more sessions in the Sessions dock, then choose Export… again.")

    add("export", "Export…", export, "Ctrl+E")
    add("import", "Import…", lib.open_import, "Ctrl+I")
    window.recording_actions = actions
    window.add_shutdown_hook(lambda: _shutdown(window))
