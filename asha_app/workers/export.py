"""A worker thread that runs file jobs (export, import) one after another, with progress the GUI polls.

Each job is ``(description, function)`` where ``function(progress)`` does the
work and calls ``progress(done, total)`` as it goes (the data layer's
exporters and importers take exactly such a callback).  The GUI polls
:meth:`JobWorker.progress` on a timer (no high-rate signals) and gets one
``job_done`` / ``job_failed`` signal per job and ``all_done`` at the end.

A job's failure is not the worker's: it is reported on the per-job signal
``job_failed(index, message)`` (an unexpected one with its traceback in the
error log, :func:`~asha_app.core.crashlog.report_unexpected`) and the next job
runs.  Only a failure of the worker itself goes out on the base's one error
path, ``error(message, traceback)`` (:mod:`asha_app.workers.base`).

Cancelling (:meth:`JobWorker.stop`) takes effect at the job's next progress
call: the job raises :class:`JobCancelled` inside the data layer's function,
whose temporary output is then removed (exports and imports write under a
temporary name and rename when complete), so nothing partial is left.

:class:`BackgroundLoad` runs one file or model load in a one-job
:class:`JobWorker` for a page or dock, so that no file or checkpoint is read
on the GUI thread: its result comes back to a callback on the GUI thread, a
newer load or :meth:`BackgroundLoad.cancel` drops an older one's result, and
cancelling stops the thread with the checked stop.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal, Slot

from asha_app.core.crashlog import report_unexpected
from asha_app.core.errors import AshaError
from asha_app.workers.base import Worker, stop_checked

log = logging.getLogger(__name__)

Job = tuple[str, Callable[[Callable[[int, int], None]], object]]


class JobCancelled(AshaError):  # noqa: N818 - a cancellation the user asked for, not an error
    """The user cancelled the running job."""


class JobWorker(Worker):
    """Run jobs sequentially in a thread.

    Parameters
    ----------
    jobs : list of (str, callable)
        Description (shown in the progress dialog) and the function
        ``f(progress) -> result``.

    Signals
    -------
    job_done(int, object)
        Index of the job and its result.
    job_failed(int, str)
        Index and a user-facing message (the data layer's messages name the file); the next job runs.
    error(str, str)
        The worker itself failed (the base's error path); no ``all_done`` follows.
    all_done(dict)
        ``{"done": [...indices], "failed": {index: message}, "cancelled": bool}``.
    """

    job_done = Signal(int, object)
    job_failed = Signal(int, str)
    all_done = Signal(dict)

    task = "a file job"
    stop_timeout_ms = 10_000

    def __init__(self, jobs: list[Job], parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("JobWorker")
        self.jobs = list(jobs)
        self._lock = threading.Lock()
        self._progress = (0, 0, 0)  # job index, done, total
        self.results: dict[int, object] = {}
        self.failed: dict[int, str] = {}
        self.cancelled = False

    def progress(self) -> tuple[int, float]:
        """``(job index, fraction 0..1 of that job)`` (thread-safe)."""
        with self._lock:
            i, done, total = self._progress
        return i, (done / total if total else 0.0)

    def overall(self) -> float:
        """Fraction 0..1 of all jobs."""
        i, frac = self.progress()
        return (i + frac) / len(self.jobs) if self.jobs else 1.0

    def work(self) -> None:
        for i, (desc, fn) in enumerate(self.jobs):
            if self.isInterruptionRequested():
                self.cancelled = True
                break
            with self._lock:
                self._progress = (i, 0, 0)

            def report(done: int, total: int, _i=i) -> None:
                if self.isInterruptionRequested():
                    raise JobCancelled("cancelled by the user; nothing was written for this item")
                with self._lock:
                    self._progress = (_i, int(done), int(total))

            try:
                result = fn(report)
            except JobCancelled as exc:
                self.cancelled = True
                self.failed[i] = f"{desc}: {exc}"
                self.job_failed.emit(i, self.failed[i])
                break
            except AshaError as exc:
                self.failed[i] = str(exc)
                self.job_failed.emit(i, str(exc))
                continue
            except Exception as exc:  # noqa: BLE001 - unexpected: traceback to the error log, one sentence, go on
                self.failed[i] = report_unexpected(exc, desc)
                self.job_failed.emit(i, self.failed[i])
                continue
            self.results[i] = result
            with self._lock:
                self._progress = (i, 1, 1)
            self.job_done.emit(i, result)
        self.all_done.emit({"done": sorted(self.results), "failed": dict(self.failed), "cancelled": self.cancelled})


class BackgroundLoad(QObject):
    """One load at a time (a file, a checkpoint, a prepared run) in a :class:`JobWorker`, its result on the GUI thread.

    Parameters
    ----------
    what : str
        The load in words ("reading the session files"), for the stop check's message.
    parent : QObject, optional

    Notes
    -----
    ``done(result)`` and ``failed(message)`` are called on the GUI thread, once per
    :meth:`start`, unless a newer :meth:`start` or :meth:`cancel` came first: then the
    old result is dropped.  ``failed`` gets the message the loader's
    :class:`~asha_app.core.errors.AshaError` carries (the same text the page showed when
    it loaded on the GUI thread), or one sentence naming the error log for anything else.
    """

    def __init__(self, what: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.what = what
        self._worker: JobWorker | None = None
        self._done: Callable[[object], None] | None = None
        self._failed: Callable[[str], None] | None = None

    @property
    def busy(self) -> bool:
        """True from :meth:`start` until its result has been delivered (or dropped)."""
        return self._worker is not None

    def start(self, load: Callable[[], object], done: Callable[[object], None],
              failed: Callable[[str], None]) -> None:
        """Run ``load()`` in a worker thread; a load still running is cancelled and its result dropped."""
        self.cancel()
        worker = JobWorker([(self.what, lambda _progress: load())])
        worker.setObjectName(f"BackgroundLoad({self.what})")
        worker.job_done.connect(self._on_done)
        worker.job_failed.connect(self._on_failed)
        worker.error.connect(self._on_error)
        self._worker, self._done, self._failed = worker, done, failed
        worker.start()

    def cancel(self, report: Callable[[str, str], None] | None = None) -> bool:
        """Drop the running load's result and stop its thread (checked); True when it stopped (or none ran)."""
        worker, self._worker = self._worker, None
        self._done = self._failed = None
        return stop_checked(worker, self.what, report=report)

    def _take(self) -> tuple[Callable | None, Callable | None]:
        if self.sender() is not self._worker:  # an older load, replaced or cancelled: its result is dropped
            return None, None
        done, failed = self._done, self._failed
        self._worker, self._done, self._failed = None, None, None
        return done, failed

    @Slot(int, object)
    def _on_done(self, _index: int, result: object) -> None:
        done, _ = self._take()
        if done is not None:
            done(result)

    @Slot(int, str)
    def _on_failed(self, _index: int, message: str) -> None:
        _, failed = self._take()
        if failed is not None:
            failed(message)

    @Slot(str, str)
    def _on_error(self, message: str, _traceback: str) -> None:
        self._on_failed(0, message)
