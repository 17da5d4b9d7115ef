"""Composition root: settings, the session clock, the Qt application and the main window."""

from __future__ import annotations

import logging
import sys
import threading

from asha_app.core.clock import SessionClock
from asha_app.core.crashlog import report_unexpected
from asha_app.core.paths import resources_dir
from asha_app.core.plugins import available_modules
from asha_app.core.settings import AppSettings

log = logging.getLogger(__name__)

#: UI feature modules, each exposing ``install(window: MainWindow) -> None`` that adds its menu actions
#: (``window.menus["session" | "model" | "live" | "view"]``) and docks (``window.add_panel``).  Help goes last:
#: its menu ends the menu bar and its Quit ends the Session menu.
UI_FEATURES = ("asha_app.ui.recording", "asha_app.ui.training", "asha_app.ui.live", "asha_app.ui.gesture_panel",
               "asha_app.ui.lab",
               "asha_app.ui.help")


def install_features(window) -> list[str]:
    """Install every available UI feature module into ``window``; returns the names installed."""
    done = []
    for module in available_modules(UI_FEATURES):
        module.install(window)
        done.append(module.__name__)
    return done


def create_window(demo: bool = False, settings: AppSettings | None = None):
    """Build the main window (a QApplication must exist); starts the demo or the saved device.

    Returns
    -------
    MainWindow
    """
    from asha_app.ui.main_window import MainWindow  # noqa: PLC0415 - Qt only for the GUI, not the CLI

    problem = None
    if settings is None:
        settings, problem = AppSettings.load()
    window = MainWindow(settings, SessionClock())
    install_features(window)
    if demo:
        window.start_demo(with_camera=True)
    else:
        window.start_acquisition()
    if problem:
        window.banner.show_message(problem)
    return window


def install_excepthook(get_window=lambda: None) -> None:
    """Catch every exception no slot or thread handled: traceback to the error log, one sentence in the window.

    PySide6 hands exceptions raised in slots and timers to ``sys.excepthook``;
    Python threads use ``threading.excepthook``.  Both log the traceback to
    the user's log folder (:mod:`asha_app.core.crashlog`) and show the
    sentence naming the log file in the main window's banner (stderr when
    there is no window yet).  The app keeps running.
    """
    def show(exc: BaseException, context: str) -> None:
        if isinstance(exc, KeyboardInterrupt):
            return
        message = report_unexpected(exc, context)
        print(message, file=sys.stderr)
        window = get_window()
        if window is not None and threading.current_thread() is threading.main_thread():
            try:
                window.show_error(message)
            except Exception:  # noqa: BLE001 - never raise from the hook itself
                log.error("could not show the error in the window")

    def hook(exc_type, exc, tb):
        show(exc if exc is not None else exc_type(), "Asha")

    def thread_hook(args):
        if args.exc_value is not None:
            show(args.exc_value, f"Asha thread {getattr(args.thread, 'name', '?')}")

    sys.excepthook = hook
    threading.excepthook = thread_hook


def run_gui(demo: bool = False) -> int:
    """Run the desktop app until its window closes; returns the exit status."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from PySide6.QtWidgets import QApplication  # noqa: PLC0415 - Qt only for the GUI, not the CLI

    import pyqtgraph as pg  # noqa: PLC0415 - Qt only for the GUI, not the CLI

    pg.setConfigOptions(antialias=False, background="w", foreground="k")
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("Asha")
    app.setOrganizationName("Asha")
    app.setDesktopFileName("asha")
    from PySide6.QtGui import QIcon  # noqa: PLC0415 - Qt only for the GUI, not the CLI

    app.setWindowIcon(QIcon(str(resources_dir() / "icons" / "asha.svg")))
    from PySide6.QtCore import QTimer  # noqa: PLC0415 - Qt only for the GUI, not the CLI

    from asha_app.ui.gc_policy import GuiThreadCollector  # noqa: PLC0415 - Qt only for the GUI, not the CLI

    # garbage is collected on a GUI-thread timer only, and full collections freeze their survivors
    # (a worker-thread collection freeing a Qt object deadlocks PySide; a full one took ~230 ms)
    collector = GuiThreadCollector(interval_s=1.0)  # lives as long as the event loop below
    holder: dict = {}
    install_excepthook(lambda: holder.get("window"))
    window = create_window(demo=demo)
    holder["window"] = window
    screen = app.primaryScreen()
    if screen is not None:  # never open wider or taller than the screen (docks added by features grow the hint)
        window.resize(window.size().boundedTo(screen.availableGeometry().size()))
    window.show()
    QTimer.singleShot(500, collector.settle)  # once the window is up: later full collections are short
    return app.exec()
