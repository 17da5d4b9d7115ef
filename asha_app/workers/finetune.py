"""Calibration worker: runs :func:`asha_app.calibration.procedure.calibrate` in a child process.

The thread starts :func:`asha_app.calibration.jobs.run_calibration` in a
:class:`~asha_app.core.child.ChildJob` (the GUI never shares an interpreter with
the fine-tuning loop) and relays its events.

Progress goes out as ``status`` dicts at most 5 times a second
(``{"stage", "fraction", "message", "epoch", "val_loss"}``; the final one has
``stage == "done"``), the result is kept in :attr:`CalibrationWorker.result`,
and a user-facing message (with the child's traceback text for an unexpected
failure) goes out on the base's ``error(str, str)``.  ``stop()`` cancels
fine-tuning (no profile is written then).
"""

from __future__ import annotations

import logging
import threading
import time
import traceback

from PySide6.QtCore import Signal

from asha_app.core.child import ChildJob
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

    task = "calibration"
    stop_timeout_ms = 10_000

    def __init__(self, recording, settings, profile_path=None, parent=None, threads: int | None = None,
                 **kwargs) -> None:
        super().__init__(parent)
        from asha_app.models.plan import default_threads  # noqa: PLC0415 - scipy.signal on first use

        self.threads = threads or default_threads()
        self.setObjectName("CalibrationWorker")
        self.recording = recording
        self.settings = settings
        self.profile_path = profile_path
        self.kwargs = kwargs
        self.result = None
        #: (time.perf_counter(), stage) of every calibration event, for benchmarks
        self.stage_times: list[tuple[float, str]] = []
        self._cancel = threading.Event()

    @property
    def failed(self) -> str | None:
        """The user-facing message of the failure (None while none)."""
        return self.failure

    def _request_stop(self) -> None:
        """Cancel (best weights so far are discarded, nothing saved); the child is ended with the thread."""
        self._cancel.set()

    def work(self) -> None:
        child = ChildJob("asha_app.calibration.jobs:run_calibration",
                         {"recording": self.recording, "settings": self.settings, "profile_path": self.profile_path,
                          "kwargs": self.kwargs}, threads=self.threads, name="asha-calibration")
        try:
            child.start()
        except Exception as exc:  # spawning can fail in many ways (no memory, no fork)
            log.exception("calibration process did not start")
            self.fail(f"the calibration process could not start ({type(exc).__name__}: {exc})", traceback.format_exc())
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
                        self.fail(msg, tb or "")
        finally:
            child.terminate(grace_s=5.0)
