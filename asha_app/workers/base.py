"""One lifecycle for every worker thread: states, one error path, a stop whose result is checked.

Every thread Asha runs beside the GUI (acquisition, camera, recorder, training
and fine-tuning relays, live inference, file jobs, LSL, warm-up) is a
:class:`Worker`.  A subclass writes only its job, :meth:`Worker.work`; the base
owns the thread's entry point, its state and how it fails.

States
------
``state`` is a :class:`WorkerState`.  Who moves it, and when::

                 start()             run() begins
      IDLE ─────────────► STARTING ─────────────► RUNNING ───────────┐
        │                                           │                │
        │ stop() before start():                    │ stop(timeout): │ work() returned,
        │ nothing to wait for                       │ interruption   │ no failure
        ▼                                           ▼ requested      ▼
      (IDLE)                                     STOPPING ───────► FINISHED
                                                    │
                   fail(...) was called, or work()  │ (from RUNNING too)
                   raised anything at all ──────────┴──────────────► FAILED

FINISHED and FAILED are final; ``finished`` (QThread) is emitted after either.

The contract of a subclass
--------------------------
* Implement :meth:`Worker.work` (never ``run``).  A loop ends when
  :attr:`Worker.stop_requested` turns true; resources are released in its own
  ``finally``.
* An expected failure is an :class:`~asha_app.core.errors.AshaError` raised out
  of ``work`` (its message is written for the user), or a call to
  :meth:`Worker.fail` when the thread must go on to clean up or relay.  Either
  way ``error(message, "")`` is emitted once.
* Anything else raised out of ``work`` is caught by ``run``: its traceback goes
  to the error log (:mod:`asha_app.core.crashlog`), and ``error(sentence,
  traceback)`` carries one sentence naming that log plus the traceback text.  A
  worker never ends with only ``finished``.
* Extra cancellation (an event a child process watches) goes into
  :meth:`Worker._request_stop`, which :meth:`Worker.stop` calls first.

Stopping
--------
:meth:`Worker.stop` asks the loop to end and waits at most ``timeout_ms``
(default :attr:`Worker.stop_timeout_ms`); it returns whether the thread
finished.  Callers check it, usually through :func:`stop_checked`, which logs a
worker that did not stop and says so to the user where a ``report`` sink is given.

A started worker is never destroyed while its thread runs (that aborts the
process, whoever dropped the last reference): the module keeps every started
worker until its thread has ended, and lets go of it later, from the GUI thread.

Signals
-------
error(str, str)
    A user-facing message and a traceback text ("" for an expected failure).
"""

from __future__ import annotations

import enum
import logging
import threading
import traceback
import weakref
from collections.abc import Callable

from PySide6.QtCore import QThread, Signal

from asha_app.core.crashlog import report_unexpected
from asha_app.core.errors import AshaError

log = logging.getLogger(__name__)

_LIVE: weakref.WeakSet = weakref.WeakSet()
#: every started worker, kept alive until its thread has ended (pruned from the GUI thread, see :func:`_prune`)
_STARTED: list = []


class WorkerState(enum.Enum):
    """Where a :class:`Worker` is in its life (see the module docstring's diagram)."""

    IDLE = "idle"
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    FINISHED = "finished"
    FAILED = "failed"

    @property
    def active(self) -> bool:
        """True while the thread has been started and has not ended."""
        return self in (WorkerState.STARTING, WorkerState.RUNNING, WorkerState.STOPPING)


class Worker(QThread):
    """A QThread with the house lifecycle: subclasses implement :meth:`work`.

    Every instance is registered so that tests (and the app at exit) can find
    workers still running (:func:`running_workers`).

    Attributes
    ----------
    failure : str or None
        The user-facing message of the first failure (None while none).
    failure_traceback : str
        Its traceback text ("" for an expected failure).
    task : str
        What the worker does, in words ("the camera", "recording"...): the
        context of an unexpected error's sentence.
    stop_timeout_ms : int
        How long :meth:`stop` waits by default.
    """

    error = Signal(str, str)

    task: str = "a background task"
    stop_timeout_ms: int = 5000

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._state_lock = threading.Lock()
        self._state = WorkerState.IDLE
        self.failure: str | None = None
        self.failure_traceback = ""
        if not self.objectName():
            self.setObjectName(type(self).__name__)
        _LIVE.add(self)

    # ------------------------------------------------------------------ state
    @property
    def state(self) -> WorkerState:
        """The current :class:`WorkerState` (any thread)."""
        with self._state_lock:
            return self._state

    def _move(self, new: WorkerState, only_from: tuple[WorkerState, ...] | None = None) -> bool:
        with self._state_lock:
            if only_from is not None and self._state not in only_from:
                return False
            self._state = new
            return True

    @property
    def stop_requested(self) -> bool:
        """True once :meth:`stop` (or ``requestInterruption``) asked the loop to end."""
        return self.isInterruptionRequested()

    # ------------------------------------------------------------------ GUI side
    def start(self, *args, **kwargs) -> None:
        """Start the thread (IDLE -> STARTING); ``run`` moves on to RUNNING.  The worker is kept alive until its
        thread has ended, even if the caller lets go of it."""
        _prune()
        self._move(WorkerState.STARTING)
        if not any(w is self for w in _STARTED):
            _STARTED.append(self)
        super().start(*args, **kwargs)

    def stop(self, timeout_ms: int | None = None) -> bool:
        """Ask the loop to end, then wait up to ``timeout_ms``; True when the thread has finished.

        Safe from any thread but the worker's own, and safe to call twice or before ``start()``.
        """
        timeout_ms = self.stop_timeout_ms if timeout_ms is None else int(timeout_ms)
        if self.state is WorkerState.IDLE and not self.isRunning():
            return True
        self._move(WorkerState.STOPPING, only_from=(WorkerState.STARTING, WorkerState.RUNNING))
        self._request_stop()
        self.requestInterruption()
        self.quit()
        return self.wait(timeout_ms)

    def _request_stop(self) -> None:
        """Hook: extra cancellation before the wait (e.g. set an event a child process watches)."""

    # ------------------------------------------------------------------ worker thread
    def run(self) -> None:
        """The thread's entry point (do not override): runs :meth:`work` and reports however it ends."""
        self._move(WorkerState.RUNNING, only_from=(WorkerState.STARTING, WorkerState.IDLE))
        try:
            self.work()
        except AshaError as exc:
            log.warning("%s stopped: %s", self.objectName(), exc)
            self.fail(str(exc))
        except Exception as exc:  # noqa: BLE001 - the one catch-all every worker ends in
            self.fail(report_unexpected(exc, self.task), traceback.format_exc())
        finally:
            self._move(WorkerState.FAILED if self.failure is not None else WorkerState.FINISHED)

    def work(self) -> None:
        """The worker's job, run in its thread; ends when done or when :attr:`stop_requested`."""
        raise NotImplementedError

    def fail(self, message: str, traceback_text: str = "") -> None:
        """Report a failure: ``error(message, traceback_text)`` is emitted for the first one only.

        Call it from :meth:`work` when the thread has to go on (cleanup, relaying a
        child's last events); otherwise raise an :class:`AshaError`.
        """
        with self._state_lock:
            first = self.failure is None
            if first:
                self.failure, self.failure_traceback = str(message), str(traceback_text or "")
        if not first:
            log.warning("%s: further failure after the first: %s", self.objectName(), message)
            return
        self._on_failure(str(message))
        self.error.emit(str(message), str(traceback_text or ""))

    def _on_failure(self, message: str) -> None:
        """Hook, worker thread: record a failure in the subclass's own state before ``error`` goes out."""


def stop_checked(worker: Worker | None, what: str, timeout_ms: int | None = None,
                 report: Callable[[str, str], None] | None = None) -> bool:
    """Stop ``worker`` and check that it finished; True when it did (or there was none).

    A worker still running after ``timeout_ms`` is logged, reported through
    ``report(message, "")`` when given, and kept alive until its thread ends.

    Parameters
    ----------
    worker : Worker or None
    what : str
        The worker in words, for the message ("the camera", "live inference").
    timeout_ms : int, optional
        Default: the worker's :attr:`Worker.stop_timeout_ms`.
    report : callable, optional
        The app's error sink (the main window's banner).
    """
    if worker is None:
        return True
    try:
        done = worker.stop(timeout_ms)
    except RuntimeError:  # the C++ object is already gone: nothing runs
        return True
    if done:
        return True
    waited = (worker.stop_timeout_ms if timeout_ms is None else timeout_ms) / 1000.0
    msg = (f"{what[:1].upper()}{what[1:]} did not stop within {waited:g} s; it is left to finish in the background. "
           "If the app stays busy, close it and start it again.")
    log.warning("%s (%s)", msg, worker.objectName())  # (it stays referenced until its thread ends: see start())
    if report is not None:
        report(msg, "")
    return False


def _prune() -> None:
    """Let go of started workers whose thread has ended (call from the GUI thread: the last reference may go here)."""
    keep = []
    for w in _STARTED:
        try:
            if not w.isFinished():
                keep.append(w)
        except RuntimeError:  # the C++ object is already gone
            continue
    _STARTED[:] = keep


def running_workers() -> list[Worker]:
    """Workers whose thread is still running."""
    _prune()
    out = []
    for w in list(_LIVE):
        try:
            if w.isRunning():
                out.append(w)
        except RuntimeError:  # the C++ object is already gone
            continue
    return out


__all__ = ["Worker", "WorkerState", "running_workers", "stop_checked"]
