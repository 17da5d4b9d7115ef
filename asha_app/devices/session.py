"""The session controller: the one way to start and stop the EMG stream, and the one place its errors go (Qt-free).

Everything that starts a source (the main window's device picker, the session library's replay, the
live demo, the demo button of the recording wizard) calls :meth:`SessionController.start`; everything
that needs the running stream asks the controller (its acquisition, the :class:`SourceInfo`).  The
controller

* resolves the start through the device registry (:mod:`asha_app.devices.registry`): parameters from
  the settings plus the caller's overrides, the device's cheap check, its description;
* owns the running *acquisition* (the rings and the thread that fills them), built by an injected
  ``make_acquisition(request)`` (the Qt adapter :class:`asha_app.workers.session.QtSession` makes an
  :class:`~asha_app.workers.acquisition.AcquisitionWorker` whose thread runs the registry's factory);
* stops it, checking that it stopped (one that did not is said so and kept until it ends);
* routes every message about the stream to one :class:`MessageSink` (the main window's banner), with
  itself as the owner, so that it clears only what it put there (a "connection lost" notice when the
  stream is back), never another part's error.

Events of the acquisition reach the controller in the GUI thread (the Qt adapter queues them)::

    start(kind, **overrides) ── request: check, describe ──► on_starting(info) ──► acquisition.start()
          │  AshaError (unknown device, no file): sink.show(message), returns False
          ▼
    acquisition_opened(acq, info)   ──► info = the opened source's; on_started(acq)
    acquisition_state(acq, state, message): "lost"/"reconnecting" ──► sink notice; "streaming" ──► sink.clear(own)
    acquisition_unreachable(acq, message) ──► sink (the window offers the demo)
    acquisition_failed(acq, message, traceback) ──► sink
    acquisition_finished(acq)       ──► on_finished(acq)
    stop(timeout_ms) ──► acquisition.stop(...) checked ──► on_stopped()
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from typing import Any, Protocol

from asha_app.core.errors import AshaError
from asha_app.devices.registry import DEVICES, DeviceRegistry, DeviceRequest, SourceInfo

log = logging.getLogger(__name__)


class Notice(enum.StrEnum):
    """What a message on the sink is (the window chooses its buttons by it)."""

    ERROR = "error"
    UNREACHABLE = "unreachable"
    CONNECTION = "connection"
    WARNING = "warning"


class MessageSink(Protocol):
    """Where messages for the user go (the main window's banner)."""

    def show(self, message: str, traceback: str = "", *, owner: object = None, notice: Notice = Notice.ERROR) -> None:
        """Show ``message`` (``traceback``: the text of an unexpected error, for the log and the details)."""

    def clear(self, owner: object) -> None:
        """Hide the message if ``owner`` put it there (and nothing else has replaced it)."""


class Acquisition(Protocol):
    """What the controller needs of a running acquisition (an ``AcquisitionWorker``)."""

    def start(self) -> None: ...

    def stop(self, timeout_ms: int | None = None) -> bool: ...

    def isRunning(self) -> bool: ...  # noqa: N802 - QThread's name


#: stream states that mean the connection is away (a notice is shown) / back (the notice goes)
_AWAY = ("lost", "reconnecting")


class SessionController:
    """Start, stop and watch the one EMG stream of a window (see the module docstring).

    Parameters
    ----------
    settings : AppSettings
        The user's settings (device parameters, filter).
    clock : SessionClock
        The session clock every stream shares.
    sink : MessageSink
        Where every message about the stream goes.
    make_acquisition : callable
        ``make_acquisition(request) -> Acquisition`` (not started).
    registry : DeviceRegistry
        The sources (default :data:`~asha_app.devices.registry.DEVICES`).
    stop_timeout_ms : int
        How long :meth:`stop` waits for the acquisition to end.

    Attributes
    ----------
    acquisition : Acquisition or None
        The current acquisition (kept after it ended by itself, e.g. unreachable, until stop or the next start).
    request : DeviceRequest or None
    info : SourceInfo or None
        The description before the source opened, then the opened source's.
    opened : bool
        The current source is open (its rings are final).
    on_starting, on_started, on_finished, on_stopped : list of callables
        Observers: ``on_starting(info)`` before the thread starts, ``on_started(acquisition)`` once the
        source is open, ``on_finished(acquisition)`` when its thread ended by itself or after stop,
        ``on_stopped()`` after :meth:`stop` ended a stream.
    """

    def __init__(self, settings, clock, sink: MessageSink, make_acquisition: Callable[[DeviceRequest], Acquisition],
                 registry: DeviceRegistry | None = None, stop_timeout_ms: int = 5000) -> None:
        self.settings = settings
        self.clock = clock
        self.sink = sink
        self.registry = registry if registry is not None else DEVICES
        self._make = make_acquisition
        self.stop_timeout_ms = int(stop_timeout_ms)
        self.acquisition: Any = None
        self.request: DeviceRequest | None = None
        self.info: SourceInfo | None = None
        self.opened = False
        #: acquisitions that did not stop in time (kept referenced until their threads end)
        self.stragglers: list = []
        self.on_starting: list[Callable[[SourceInfo], None]] = []
        self.on_started: list[Callable[[Any], None]] = []
        self.on_finished: list[Callable[[Any], None]] = []
        self.on_stopped: list[Callable[[], None]] = []

    # ------------------------------------------------------------------ commands (GUI thread)
    @property
    def running(self) -> bool:
        """An acquisition thread runs (it may not have opened its source yet)."""
        acq = self.acquisition
        return acq is not None and acq.isRunning()

    @property
    def streaming_ready(self) -> bool:
        """The source is open and its thread runs: rings, rate and channels are final."""
        return self.opened and self.running

    def prepare(self, kind: str, **overrides) -> DeviceRequest:
        """Resolve a start without starting (raises :class:`AshaError` with the user's message)."""
        return self.registry.request(kind, self.settings, self.clock, **overrides)

    def start(self, kind: str, **overrides) -> bool:
        """Stop what runs, then start device ``kind`` (``overrides`` replace parameters from the settings).

        Returns False, with the message on the sink, when the start cannot even be tried (unknown
        device, no file chosen, a file that does not exist).  Failures of the source itself (cannot
        connect, unreadable file) arrive later on the sink, from the acquisition thread.
        """
        self.stop()
        self.sink.clear(self)
        try:
            request = self.prepare(kind, **overrides)
        except AshaError as exc:
            self.sink.show(str(exc), owner=self)
            return False
        acq = self._make(request)
        self.acquisition, self.request, self.info, self.opened = acq, request, request.info, False
        for fn in list(self.on_starting):
            fn(request.info)
        acq.start()
        return True

    def stop(self, timeout_ms: int | None = None) -> bool:
        """Stop the current acquisition; True when it ended within the timeout (or none ran).

        One that did not end is reported on the sink and kept until its thread ends.
        """
        acq = self.acquisition
        if acq is None:
            return True
        self.acquisition, self.opened = None, False
        timeout_ms = self.stop_timeout_ms if timeout_ms is None else int(timeout_ms)
        done = acq.stop(timeout_ms)
        if not done:
            self.stragglers.append(acq)
            self.sink.show(f"The EMG source ({self.info.description if self.info else 'device'}) did not stop within "
                           f"{timeout_ms / 1000:g} s; it is left to finish in the background.", owner=self,
                           notice=Notice.WARNING)
            log.warning("acquisition did not stop within %d ms", timeout_ms)
        self.request, self.info = None, None
        if done:
            self.sink.clear(self)
        for fn in list(self.on_stopped):
            fn()
        return done

    def shutdown(self, timeout_ms: int = 2000) -> bool:
        """Stop the stream and wait for earlier ones that did not stop; True when every thread ended."""
        ok = self.stop()
        for acq in list(self.stragglers):
            if acq.stop(timeout_ms):
                self.stragglers.remove(acq)
            else:
                log.warning("an earlier acquisition is still running at shutdown")
                ok = False
        return ok

    def filter_spec(self, fs: float):
        """The filter the settings ask for at ``fs`` Hz."""
        from asha_app.dsp.filters import FilterSpec  # noqa: PLC0415  (dsp stays out of the device layer's import time)

        return FilterSpec.from_settings(self.settings.filter, fs)

    # ------------------------------------------------------------------ events of an acquisition (GUI thread)
    def _current(self, acq) -> bool:
        return acq is not None and acq is self.acquisition

    def acquisition_opened(self, acq, info: SourceInfo) -> None:
        """The source of ``acq`` is open: ``info`` is what it is."""
        if not self._current(acq):
            return
        self.info, self.opened = info, True
        for w in info.warnings:
            log.info("source warning: %s", w)
        for fn in list(self.on_started):
            fn(acq)

    def acquisition_state(self, acq, state: str, message: str = "") -> None:
        """The stream's state changed: a lost connection is said, and unsaid when the stream is back."""
        if not self._current(acq):
            return
        if state in _AWAY and message:
            self.sink.show(message, owner=self, notice=Notice.CONNECTION)
        elif state == "streaming":
            self.sink.clear(self)

    def acquisition_unreachable(self, acq, message: str) -> None:
        """No data ever arrived: the sink offers the demo."""
        if self._current(acq):
            self.sink.show(message, owner=self, notice=Notice.UNREACHABLE)

    def acquisition_failed(self, acq, message: str, traceback: str = "") -> None:
        """The acquisition stopped on an error (its thread has reported it)."""
        if self._current(acq):
            self.sink.show(message, traceback, owner=self)
        else:
            log.warning("an earlier acquisition failed after it was replaced: %s", message)

    def acquisition_finished(self, acq) -> None:
        """The thread of ``acq`` ended (by itself, or after stop)."""
        if acq in self.stragglers:
            self.stragglers.remove(acq)
        for fn in list(self.on_finished):
            fn(acq)


__all__ = ["Acquisition", "MessageSink", "Notice", "SessionController"]
