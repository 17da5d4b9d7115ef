"""Acquisition worker: drains an EMG source every ~15 ms into ring buffers on the session clock.

The worker follows the house lifecycle (:mod:`asha_app.workers.base`); the stream's own state is
``stats.state``, a :class:`StreamState`::

    idle -> connecting -> streaming <-> lost -> (reconnecting -> streaming) ... -> stopped
                       \\-> unreachable (no data ever arrived: the user is offered the demo)
                       \\-> error (the source raised; message in ``stats.message`` and on ``error``)

Opening: the source factory runs in this thread (a playback file is read, the demo unpacked, an LSL
stream resolved here, never on the GUI thread).  The rings are sized at construction from the rate
and channels the caller expects (the device registry's description); when the opened source turns out
different (an LSL stream, a replayed file) they are made anew before the first sample, and
``opened(SourceInfo)`` tells consumers the final rings and the source's properties.

Per block drained from the SDK it

1. maps the board's own timestamps onto the session clock (:class:`BoardTimeMapper`),
2. counts dropped samples from gaps in the package-number row (:class:`DropCounter`),
3. filters with the causal :class:`StreamingFilter` (state kept across blocks),
4. appends raw + filtered + time + package + marker to the ``emg`` ring and
   accelerometer + gyroscope to the ``imu`` ring (fields in COMMON layout below),
5. updates an RMS envelope, the signal-quality flags (4 Hz) and the stats.

Ring layout (each ring has one monotonically increasing sample counter)::

    emg: t (session s), board_t (board timestamp, s), raw (uV, C cols), filtered (uV, C cols), package, marker
    imu: t (session s), accel (g, 3 cols), gyro (deg/s, 3 cols)

Consumers (scopes, recorder, inference) read with their own ``RingReader``.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
from PySide6.QtCore import Signal

from asha_app.core.clock import BoardTimeMapper, SessionClock
from asha_app.core.errors import AshaError
from asha_app.core.ringbuffer import RingBuffer
from asha_app.data.drops import DropCounter
from asha_app.devices.emg import EmgSource
from asha_app.devices.registry import SourceInfo
from asha_app.dsp.filters import FilterDesignError, FilterSpec, RmsEnvelope, StreamingFilter
from asha_app.dsp.quality import Flag, assess_channels
from asha_app.workers.base import Worker

log = logging.getLogger(__name__)

#: rate and channels the rings are sized for when the caller cannot know them before the source opens
PROVISIONAL_FS = 500.0
PROVISIONAL_CHANNELS = 8


class StreamState(enum.StrEnum):
    """The stream's state in ``AcquisitionStats.state`` (compares equal to its text)."""

    IDLE = "idle"
    CONNECTING = "connecting"
    STREAMING = "streaming"
    LOST = "lost"
    RECONNECTING = "reconnecting"
    UNREACHABLE = "unreachable"
    ERROR = "error"
    STOPPED = "stopped"


@dataclass
class AcquisitionStats:
    """Snapshot of the acquisition state for the status bar (copied under a lock)."""

    state: StreamState = StreamState.IDLE
    device: str = ""
    fs_nominal: float = 0.0
    samples: int = 0
    dropped: int = 0
    gaps: int = 0
    reconnects: int = 0
    loops: int = 0
    rate_hz: float = 0.0
    battery: float | None = None
    rms: np.ndarray = field(default_factory=lambda: np.zeros(0))
    quality: list[Flag] = field(default_factory=list)
    last_marker: float = 0.0
    message: str = ""


class AcquisitionWorker(Worker):
    """Stream one :class:`EmgSource` into ring buffers.

    Parameters
    ----------
    source_factory : callable
        Returns the source to open; called in the worker thread so that a slow
        connect, a file read or an unpack never blocks the GUI.
    clock : SessionClock
        The session clock every stream shares.
    fs : float, optional
        Sampling rate the caller expects (sizes the rings before the source opens);
        None when only the opened source knows it.
    n_channels : int, optional
        EMG channels the caller expects (None: only the opened source knows).
    filter_spec : FilterSpec or callable, optional
        Filter applied to the ``filtered`` field, or ``f(fs) -> FilterSpec`` called
        with the opened source's rate (default: band-pass and notch at ``mains_hz``).
    buffer_s : float
        Seconds kept in the rings (bounded memory).
    period_s : float
        Drain period (the SDK is drained every 10-20 ms).
    mains_hz : float
        Mains frequency for the quality check.
    units : str, optional
        Unit of the source's EMG (:mod:`asha_app.core.units`) for the quality
        check; default the source's ``units`` (microvolts for live sources).
        May be changed while running (attribute ``units``).
    kind : str, optional
        The registered device kind reported in ``opened`` (default: the source's ``kind``).
    note : str
        Said after the description in the source line (``SourceInfo.note``).

    Signals
    -------
    error(str, str)
        A user-facing message and a traceback text (the base's one error path); the worker has stopped.
    opened(SourceInfo)
        The source is open and the rings are final (``emg_ring``, ``imu_ring``, ``fs``, ``n_channels``).
    unreachable(str)
        No data ever arrived within the source's timeout (the GUI offers the demo).
    state_changed(str)
        New value of ``stats.state``.
    """

    opened = Signal(object)
    unreachable = Signal(str)
    state_changed = Signal(str)

    task = "the EMG stream"

    def __init__(self, source_factory: Callable[[], EmgSource], clock: SessionClock, fs: float | None = None,
                 n_channels: int | None = None, filter_spec: FilterSpec | Callable[[float], FilterSpec] | None = None,
                 buffer_s: float = 60.0, period_s: float = 0.015, mains_hz: float = 50.0, units: str | None = None,
                 kind: str | None = None, note: str = "", parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("AcquisitionWorker")
        self._factory = source_factory
        self.clock = clock
        self.fs = float(fs) if fs else PROVISIONAL_FS
        self.n_channels = int(n_channels) if n_channels else PROVISIONAL_CHANNELS
        self.period_s = period_s
        self.mains_hz = mains_hz
        self.units = units
        self.kind = kind
        self.note = note
        self.buffer_s = float(buffer_s)
        self._filter_for = filter_spec if callable(filter_spec) else None
        self._spec = self._filter_spec_at(self.fs, filter_spec if isinstance(filter_spec, FilterSpec) else None)
        self._pending_spec: FilterSpec | None = None
        self._make_rings()
        self._lock = threading.Lock()
        self._stats = AcquisitionStats(fs_nominal=self.fs)
        self._marker_requests: deque[float] = deque()
        self.source: EmgSource | None = None
        #: what ``opened`` carried (None before the source opened)
        self.info: SourceInfo | None = None

    def _filter_spec_at(self, fs: float, given: FilterSpec | None = None) -> FilterSpec:
        if self._filter_for is not None:
            return self._filter_for(fs)
        if given is not None and given.fs == fs:
            return given
        if given is not None:
            try:
                return replace(given, fs=fs)
            except FilterDesignError as exc:  # the chain asked for does not fit under this source's Nyquist
                log.warning("%s: using the default chain for raw sEMG at %.0f Hz instead", exc, fs)
        return FilterSpec.raw_semg_default(fs, self.mains_hz)

    def _make_rings(self) -> None:
        cap = int(self.buffer_s * self.fs)
        self.emg_ring = RingBuffer(cap, {"t": 1, "board_t": 1, "raw": self.n_channels, "filtered": self.n_channels,
                                         "package": 1, "marker": 1})
        self.imu_ring = RingBuffer(cap, {"t": 1, "accel": 3, "gyro": 3})

    # ------------------------------------------------------------------ API used from the GUI thread
    def stats(self) -> AcquisitionStats:
        """A copy of the current statistics (safe from any thread)."""
        with self._lock:
            return replace(self._stats, rms=self._stats.rms.copy(), quality=list(self._stats.quality))

    def set_filter_spec(self, spec: FilterSpec) -> None:
        """Change the filter; applied at the next block (the filter state restarts)."""
        self._pending_spec = spec
        self.mains_hz = spec.notch_hz or self.mains_hz

    @property
    def filter_spec(self) -> FilterSpec:
        """The filter currently applied to the ``filtered`` field."""
        return self._pending_spec or self._spec

    # ------------------------------------------------------------------ worker thread
    def _set(self, **kw) -> None:
        state = kw.get("state")
        with self._lock:
            changed = state is not None and state != self._stats.state
            for k, v in kw.items():
                setattr(self._stats, k, v)
        if changed:
            self.state_changed.emit(state)

    def _on_failure(self, message: str) -> None:
        self._set(state=StreamState.ERROR, message=message)

    def _open(self) -> EmgSource:
        """Build and start the source in this thread; size the rings and filter for it; emit ``opened``."""
        self.task = "opening the EMG source"
        source = self._factory()
        try:
            self._set(device=source.description)
            source.start()
        except BaseException:
            try:
                source.stop()
            except Exception:  # the start's own error is the one to report
                log.exception("stopping a source that failed to start")
            raise
        fs, n = float(source.fs), int(source.n_channels)
        if fs != self.fs or n != self.n_channels:  # not what the caller expected: rings and filter for this source
            log.info("source opened at %g Hz x %d channels (expected %g Hz x %d)", fs, n, self.fs, self.n_channels)
            self.fs, self.n_channels = fs, n
            self._spec = self._filter_spec_at(fs, self._spec)
            if self._pending_spec is not None and self._pending_spec.fs != fs:
                self._pending_spec = self._filter_spec_at(fs, self._pending_spec)
            self._make_rings()
            with self._lock:
                self._stats.fs_nominal = fs
        if self.units is None:
            self.units = getattr(source, "units", "uV")
        self.info = SourceInfo.of(source, self.kind, self.note)
        self._set(device=source.description)
        self.source = source
        self.task = "the EMG stream"
        self.opened.emit(self.info)
        return source

    def work(self) -> None:
        self._set(state=StreamState.CONNECTING, message="")
        source = self._open()
        failed = False
        try:
            self._stream(source)
        except BaseException:
            failed = True
            raise
        finally:
            source.stop()
            if not failed and self._stats.state not in (StreamState.ERROR, StreamState.UNREACHABLE):
                self._set(state=StreamState.STOPPED)

    def _stream(self, source: EmgSource) -> None:  # noqa: C901 - one loop, documented in the module docstring
        for w in getattr(source, "warnings", []):
            self._set(message=w)
        mapper = BoardTimeMapper(self.clock)
        drops = DropCounter(source.package_modulus)
        filt = StreamingFilter(self._spec, self.n_channels)
        env = RmsEnvelope(self.fs, 0.2, self.n_channels)
        arrivals: deque[tuple[float, int]] = deque()
        started = time.monotonic()
        last_data = None
        last_t = None
        last_quality = 0.0
        reconnect_at = 0.0
        streaming = False
        while not self.isInterruptionRequested():
            tick = time.monotonic()
            if self._pending_spec is not None:
                self._spec, self._pending_spec = self._pending_spec, None
                filt = StreamingFilter(self._spec, self.n_channels)
            try:
                packet = source.read()
            except AshaError as exc:
                log.warning("read failed: %s", exc)
                packet = None
            now = time.monotonic()
            if packet is not None and packet.n:
                arrival = self.clock.now()
                if not streaming:
                    streaming = True
                    self._set(state=StreamState.STREAMING)
                t = source.session_times(packet.board_t)
                if t is None:
                    t = mapper.map(packet.board_t, arrival)
                if last_t is not None and t[0] - last_t > 2.0 / self.fs and drops.last is None:
                    # after a reconnect the package counter is not comparable: count the gap by time
                    missing = int(round((t[0] - last_t) * self.fs)) - 1
                    if missing > 0:
                        with self._lock:
                            self._stats.dropped += missing
                            self._stats.gaps += 1
                lost = drops.update(packet.package)
                raw = packet.emg
                filtered = filt.process(raw)
                marker = packet.marker
                if self._marker_requests:
                    marker = marker.copy()
                    marker[-1] = self._marker_requests.popleft()
                self.emg_ring.write(t=t, board_t=packet.board_t, raw=raw, filtered=filtered, package=packet.package,
                                   marker=marker)
                if packet.accel is not None and packet.gyro is not None:
                    self.imu_ring.write(t=t, accel=packet.accel, gyro=packet.gyro)
                rms = env.process(filtered)[-1]
                arrivals.append((now, packet.n))
                while arrivals and now - arrivals[0][0] > 2.0:
                    arrivals.popleft()
                span = now - arrivals[0][0] if len(arrivals) > 1 else 0.0
                rate = sum(n for _, n in list(arrivals)[1:]) / span if span > 0.5 else 0.0
                nz = marker[marker != 0]
                with self._lock:
                    s = self._stats
                    s.samples += packet.n
                    s.dropped += lost
                    s.gaps = s.gaps + (1 if lost else 0)
                    s.loops = drops.restarts
                    s.rate_hz = rate
                    s.rms = rms
                    if packet.battery is not None and len(packet.battery):
                        s.battery = float(packet.battery[-1])
                    if nz.size:
                        s.last_marker = float(nz[-1])
                last_data = now
                last_t = float(t[-1])
                if now - last_quality > 0.25:
                    last_quality = now
                    window = self.emg_ring.latest(int(self.fs))
                    flags = assess_channels(window.data["raw"], window.data["filtered"], self.fs, self.mains_hz,
                                            units=self.units)
                    self._set(quality=flags)
            else:
                timeout = source.no_data_timeout_s
                if last_data is None and now - started > timeout:
                    msg = (f"No data from {source.description} within {timeout:.0f} s. Check that the armband is on "
                           "(LED lit), that this computer is on the armband's WiFi network, and the IP address in "
                           "Settings. You can start the demo on real recordings meanwhile.")
                    self._set(state=StreamState.UNREACHABLE, message=msg)
                    self.unreachable.emit(msg)
                    return
                if last_data is not None and now - last_data > timeout and now >= reconnect_at:
                    streaming = False
                    with self._lock:
                        self._stats.reconnects += 1
                        n_tries = self._stats.reconnects
                    self._set(state=StreamState.RECONNECTING,
                              message=f"Connection lost {now - last_data:.0f} s ago; reconnecting (attempt {n_tries}).")
                    try:
                        source.stop()
                        source.start()
                    except AshaError as exc:
                        self._set(message=f"Reconnect failed: {exc}")
                    drops.reset()
                    mapper.reset()
                    reconnect_at = now + min(10.0, 2.0 * n_tries)
                    self._set(state=StreamState.LOST)
            spent = time.monotonic() - tick
            if spent < self.period_s:
                self.msleep(max(1, int((self.period_s - spent) * 1000)))

    def insert_marker(self, code: float) -> None:
        """Stamp a marker code on the next block's last sample (thread-safe)."""
        self._marker_requests.append(float(code))
