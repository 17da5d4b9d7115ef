"""Common base of every worker thread: a documented stop, and a registry for leak checks."""

from __future__ import annotations

import weakref

from PySide6.QtCore import QThread

_LIVE: weakref.WeakSet = weakref.WeakSet()


class Worker(QThread):
    """A QThread whose ``run()`` loop ends when ``isInterruptionRequested()`` turns true.

    Subclasses implement ``run()``.  Every instance is registered so that tests
    (and the app at exit) can find workers still running.
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        _LIVE.add(self)

    def stop(self, timeout_ms: int = 5000) -> bool:
        """Request the loop to end, then wait up to ``timeout_ms``; True when the thread has finished."""
        self.requestInterruption()
        self.quit()
        return self.wait(timeout_ms)


def running_workers() -> list[Worker]:
    """Workers whose thread is still running."""
    out = []
    for w in list(_LIVE):
        try:
            if w.isRunning():
                out.append(w)
        except RuntimeError:  # the C++ object is already gone
            continue
    return out
