"""Garbage collection for a live GUI: only in the GUI thread, and never a long full collection.

Two problems with Python's automatic collector in this app:

* A collection runs in whichever thread happens to allocate.  When it frees a Qt
  object from a worker thread, PySide can deadlock (seen in the tests: an import
  worker stuck destroying a ``QMenu``).  So automatic collection is switched off
  and :class:`GuiThreadCollector` collects on a GUI-thread timer, generation by
  generation (the idea of pyqtgraph's ``GarbageCollector``).
* With torch, MediaPipe and Qt loaded the process holds ~370,000 tracked objects;
  a full (generation 2) collection of them took 224-239 ms on the development
  machine: a visible freeze of the scopes and the live hand every couple of
  minutes.  After each full collection the survivors are moved to the permanent
  generation with :func:`gc.freeze` (CPython >= 3.7), so the next full collection
  only scans objects created since: 0.3 ms instead of 230 ms.  The cost: reference
  cycles among frozen objects are never collected, acceptable for objects that
  survived a full collection (modules, models, widgets living as long as the app).
"""

from __future__ import annotations

import gc
import logging
import time

from PySide6.QtCore import QObject, QTimer

log = logging.getLogger(__name__)


class GuiThreadCollector(QObject):
    """Collect on a GUI-thread timer; freeze the survivors of each full collection.

    Parameters
    ----------
    interval_s : float
        Timer period (s).
    parent : QObject, optional

    Attributes
    ----------
    full_collections : int
        Full collections done (each followed by :func:`gc.freeze`).
    last_full_ms : float
        Duration of the last full collection, ms.
    """

    def __init__(self, interval_s: float = 1.0, parent=None) -> None:
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        self.full_collections = 0
        self.last_full_ms = 0.0
        gc.disable()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.check)
        self.timer.start(int(interval_s * 1000))

    def settle(self) -> None:
        """Full collection now, then freeze what survived (call once the app has loaded what it needs)."""
        t0 = time.perf_counter()
        gc.collect()
        gc.freeze()
        self.full_collections += 1
        self.last_full_ms = (time.perf_counter() - t0) * 1000.0
        log.debug("full collection %.1f ms; %d objects frozen", self.last_full_ms, gc.get_freeze_count())

    def check(self) -> None:
        """Timer: collect the generations whose allocation counts passed their thresholds."""
        c0, c1, c2 = gc.get_count()
        if c0 <= self.threshold[0]:
            return
        gc.collect(0)
        if c1 <= self.threshold[1]:
            return
        gc.collect(1)
        if c2 > self.threshold[2]:
            self.settle()

    def stop(self) -> None:
        """Stop collecting on the timer and give automatic collection back."""
        self.timer.stop()
        gc.enable()
