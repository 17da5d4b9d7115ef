"""The session controller's thin QtCore adapter: acquisition workers for its requests, its events as Qt signals.

:class:`QtSession` gives :class:`~asha_app.devices.session.SessionController` (Qt-free) the one thing it
cannot make without Qt, an :class:`~asha_app.workers.acquisition.AcquisitionWorker` whose thread runs
the device registry's factory, and carries the worker's signals (emitted in its thread) to the
controller in the GUI thread through a small relay object per worker (queued connections).  The
controller's observers come out as the signals below, for Qt code that prefers them.

Signals
-------
starting(object)
    The :class:`~asha_app.devices.registry.SourceInfo` known before the source opens (GUI thread).
started(object)
    The :class:`AcquisitionWorker` whose source is open (rings, rate and channels final).
finished(object)
    A worker's thread ended (by itself: unreachable, an error; or after stop).
stopped()
    :meth:`QtSession.stop` ended the stream.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal, Slot

from asha_app.devices.registry import DeviceRegistry, DeviceRequest, SourceInfo
from asha_app.devices.session import MessageSink, SessionController
from asha_app.workers.acquisition import AcquisitionWorker


class _Relay(QObject):
    """Lives in the GUI thread: one worker's signals, queued, become controller calls."""

    def __init__(self, controller: SessionController, worker: AcquisitionWorker, parent: QObject) -> None:
        super().__init__(parent)
        self.controller = controller
        self.worker = worker
        worker.opened.connect(self.opened)
        worker.error.connect(self.error)
        worker.unreachable.connect(self.unreachable)
        worker.state_changed.connect(self.state_changed)
        worker.finished.connect(self.finished)

    @Slot(object)
    def opened(self, info: SourceInfo) -> None:
        self.controller.acquisition_opened(self.worker, info)

    @Slot(str, str)
    def error(self, message: str, traceback: str) -> None:
        self.controller.acquisition_failed(self.worker, message, traceback)

    @Slot(str)
    def unreachable(self, message: str) -> None:
        self.controller.acquisition_unreachable(self.worker, message)

    @Slot(str)
    def state_changed(self, state: str) -> None:
        self.controller.acquisition_state(self.worker, state, self.worker.stats().message)

    @Slot()
    def finished(self) -> None:
        self.controller.acquisition_finished(self.worker)
        self.deleteLater()


class QtSession(QObject):
    """One window's EMG stream: a :class:`SessionController` with acquisition workers (see the module docstring).

    Parameters
    ----------
    settings : AppSettings
    clock : SessionClock
    sink : MessageSink
        Where every message about the stream goes (the window's banner).
    registry : DeviceRegistry, optional
        Default: the app's :data:`~asha_app.devices.registry.DEVICES`.
    buffer_s : float
        Seconds the rings keep.

    Attributes
    ----------
    controller : SessionController
    """

    starting = Signal(object)
    started = Signal(object)
    finished = Signal(object)
    stopped = Signal()

    def __init__(self, settings, clock, sink: MessageSink, registry: DeviceRegistry | None = None,
                 buffer_s: float = 60.0, parent=None) -> None:
        super().__init__(parent)
        self.buffer_s = float(buffer_s)
        self.controller = SessionController(settings, clock, sink, self._make_worker, registry)
        c = self.controller
        c.on_starting.append(self.starting.emit)
        c.on_started.append(self.started.emit)
        c.on_finished.append(self.finished.emit)
        c.on_stopped.append(self.stopped.emit)

    def _make_worker(self, request: DeviceRequest) -> AcquisitionWorker:
        c = self.controller
        info = request.info
        worker = AcquisitionWorker(request.open, c.clock, info.fs, info.n_channels, filter_spec=c.filter_spec,
                                   buffer_s=self.buffer_s, mains_hz=float(c.settings.filter.mains_hz),
                                   kind=request.kind, note=info.note)
        worker.setObjectName(f"AcquisitionWorker[{request.kind}]")
        _Relay(c, worker, self)
        return worker

    # ------------------------------------------------------------------ the controller's API, for Qt code
    def start(self, kind: str, **overrides) -> bool:
        """:meth:`SessionController.start`."""
        return self.controller.start(kind, **overrides)

    def stop(self, timeout_ms: int | None = None) -> bool:
        """:meth:`SessionController.stop`."""
        return self.controller.stop(timeout_ms)

    def shutdown(self, timeout_ms: int = 2000) -> bool:
        """:meth:`SessionController.shutdown`."""
        return self.controller.shutdown(timeout_ms)

    @property
    def worker(self) -> AcquisitionWorker | None:
        """The current acquisition worker (None when nothing was started, or after stop)."""
        return self.controller.acquisition

    @property
    def info(self) -> SourceInfo | None:
        """What is known of the current source (its description until it opens, then the opened source's)."""
        return self.controller.info

    @property
    def ready(self) -> bool:
        """The current source is open and streaming into final rings."""
        return self.controller.streaming_ready

    @property
    def registry(self) -> DeviceRegistry:
        return self.controller.registry


__all__ = ["QtSession"]
