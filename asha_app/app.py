"""Composition root: settings, the session clock, the Qt application and the main window."""

from __future__ import annotations

import logging
import sys

from asha_app.core.clock import SessionClock
from asha_app.core.settings import AppSettings

log = logging.getLogger(__name__)


def create_window(demo: bool = False, settings: AppSettings | None = None):
    """Build the main window (a QApplication must exist); starts the demo or the saved device.

    Returns
    -------
    MainWindow
    """
    from asha_app.ui.main_window import MainWindow

    problem = None
    if settings is None:
        settings, problem = AppSettings.load()
    window = MainWindow(settings, SessionClock())
    if demo:
        window.start_demo()
    else:
        window.start_acquisition()
    if problem:
        window.banner.show_message(problem)
    return window


def run_gui(demo: bool = False) -> int:
    """Run the desktop app until its window closes; returns the exit status."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from PySide6.QtWidgets import QApplication

    import pyqtgraph as pg

    pg.setConfigOptions(antialias=False, background="w", foreground="k")
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("Asha")
    app.setOrganizationName("Asha")
    app.setDesktopFileName("asha")
    from PySide6.QtGui import QIcon

    from asha_app.core.paths import resources_dir

    app.setWindowIcon(QIcon(str(resources_dir() / "icons" / "asha.svg")))
    window = create_window(demo=demo)
    window.show()
    return app.exec()
