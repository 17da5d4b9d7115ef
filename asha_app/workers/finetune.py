"""Calibration worker: runs :func:`asha_app.calibration.procedure.calibrate` off the GUI thread.

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

from asha_app.core.errors import AshaError
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

    def __init__(self, recording, settings, profile_path=None, parent=None, **kwargs) -> None:
        super().__init__(parent)
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
        """Cancel (best weights so far are discarded, nothing saved) and wait."""
        self._cancel.set()
        return super().stop(timeout_ms)

    def run(self) -> None:
        import torch

        from asha_app.calibration.procedure import calibrate

        torch.set_num_threads(max(1, torch.get_num_threads()))
        last = 0.0
        try:
            for ev in calibrate(self.recording, self.settings, cancel=self._cancel.is_set,
                                profile_path=self.profile_path, **self.kwargs):
                now = time.perf_counter()
                self.stage_times.append((now, ev.stage))
                if ev.stage == "done":
                    self.result = ev.result
                elif now - last < 0.2:
                    continue
                last = now
                p = ev.progress
                self.status.emit({"stage": ev.stage, "fraction": ev.fraction, "message": ev.message,
                                  "epoch": p.epoch if p else None, "val_loss": p.val_loss if p else None})
        except AshaError as exc:
            self.failed = str(exc)
            self.error.emit(str(exc))
        except (RuntimeError, ValueError, OSError) as exc:
            log.exception("calibration failed")
            self.failed = f"calibration failed: {exc}"
            self.error.emit(self.failed)
