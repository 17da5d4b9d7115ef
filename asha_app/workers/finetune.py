"""Calibration worker: runs :func:`asha_app.calibration.procedure.calibrate` in a child process.

The thread starts :func:`asha_app.calibration.jobs.run_calibration` in a
:class:`~asha_app.core.child.ChildJob` (the GUI never shares an interpreter with
the fine-tuning loop) and relays its events.

Progress goes out as ``status`` dicts at most 5 times a second
(``{"stage", "fraction", "message", "epoch", "val_loss"}``; the final one has
``stage == "done"``), the result is kept in :attr:`CalibrationWorker.result`,
and a user-facing message goes out on ``error``.  ``stop()`` cancels
fine-tuning (no profile is written then).
"""

from __future__ import annotations

import logging
import threading
import time

from PySide6.QtCore import Signal

from asha_app.workers.base import Worker

log = logging.getLogger(__name__)


class CalibrationWorker(Worker):
    """Fine-tunes and writes the profile in a thread.

    Parameters
    ----------
    recording : Recording
        The calibration recording.
    settings : CalibrationSettings
    profile_path : path or None
    kwargs : dict
        More keyword arguments of :func:`calibrate`.
    """

    status = Signal(dict)
    error = Signal(str)

    def __init__(self, recording, settings, profile_path=None, parent=None, threads: int | None = None,
                 **kwargs) -> None:
        super().__init__(parent)
        from asha_app.models.plan import default_threads

        self.threads = threads or default_threads()
        self.setObjectName("CalibrationWorker")
        self.recording = recording
        self.settings = settings
        self.profile_path = profile_path
        self.kwargs = kwargs
        self.result = None
        self.failed: str | None = None
        #: (time.perf_counter(), stage) of every calibration event, for benchmarks
        self.stage_times: list[tuple[float, str]] = []
        self._cancel = threading.Event()

    def stop(self, timeout_ms: int = 5000) -> bool:
        """Cancel (best weights so far are discarded, nothing saved) and wait; the child is ended with the thread."""
        self._cancel.set()
        return super().stop(timeout_ms)

    def run(self) -> None:
        from asha_app.core.child import ChildJob

        child = ChildJob("asha_app.calibration.jobs:run_calibration",
                         {"recording": self.recording, "settings": self.settings, "profile_path": self.profile_path,
                          "kwargs": self.kwargs}, threads=self.threads, name="asha-calibration")
        try:
            child.start()
        except Exception as exc:  # noqa: BLE001 - spawning can fail in many ways (no memory, no fork)
            log.exception("calibration process did not start")
            self._fail(f"the calibration process could not start ({type(exc).__name__}: {exc})")
            return
        cancelled_sent = False
        try:
            while child.pending:
                if (self._cancel.is_set() or self.isInterruptionRequested()) and not cancelled_sent:
                    child.cancel()
                    cancelled_sent = True
                for kind, payload in child.poll(0.1):
                    if kind == "event":
                        _what, ev = payload
                        self.stage_times.append((time.perf_counter(), ev.stage))
                        p = ev.progress
                        self.status.emit({"stage": ev.stage, "fraction": ev.fraction, "message": ev.message,
                                          "epoch": p.epoch if p else None, "val_loss": p.val_loss if p else None})
                    elif kind == "result":
                        self.result = payload
                    elif kind == "error":
                        msg, tb = payload
                        if tb:
                            log.error("calibration failed in the child process:\n%s", tb)
                            msg = f"calibration failed unexpectedly ({msg}); see the log"
                        self._fail(msg)
        finally:
            child.terminate(grace_s=5.0)

    def _fail(self, message: str) -> None:
        self.failed = message
        self.error.emit(message)
