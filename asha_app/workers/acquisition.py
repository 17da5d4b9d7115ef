"""Acquisition worker: drains an EMG source every ~15 ms into ring buffers on the session clock.

States (``AcquisitionStats.state``)::

    idle -> connecting -> streaming <-> lost -> (reconnecting -> streaming) ... -> stopped
                       \\-> unreachable (no data ever arrived: the user is offered the demo)
                       \\-> error (the source raised; message in ``error``)

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
from asha_app.devices.drops import DropCounter
from asha_app.devices.emg import EmgSource
from asha_app.dsp.filters import FilterSpec, RmsEnvelope, StreamingFilter
from asha_app.dsp.quality import Flag, assess_channels
from asha_app.workers.base import Worker

log = logging.getLogger(__name__)


@dataclass
class AcquisitionStats:
    """Snapshot of the acquisition state for the status bar (copied under a lock)."""

    state: str = "idle"
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
        connect never blocks the GUI.
    clock : SessionClock
        The session clock every stream shares.
    fs : float
        Nominal sampling rate of the source (sizes the rings before it opens).
    n_channels : int
        EMG channels of the source.
    filter_spec : FilterSpec
        Filter applied to the ``filtered`` field.
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

    Signals
    -------
    error(str)
        A user-facing message; the worker has stopped.
    unreachable(str)
        No data ever arrived within the source's timeout (the GUI offers the demo).
    state_changed(str)
        New value of ``stats.state``.
    """

    error = Signal(str)
    unreachable = Signal(str)
    state_changed = Signal(str)

    def __init__(self, source_factory: Callable[[], EmgSource], clock: SessionClock, fs: float, n_channels: int,
                 filter_spec: FilterSpec | None = None, buffer_s: float = 60.0, period_s: float = 0.015,
                 mains_hz: float = 50.0, units: str | None = None, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("AcquisitionWorker")
        self._factory = source_factory
        self.clock = clock
        self.fs = float(fs)
        self.n_channels = int(n_channels)
        self.period_s = period_s
        self.mains_hz = mains_hz
        self.units = units
        self._spec = filter_spec or FilterSpec(fs=self.fs, notch_hz=mains_hz)
        self._pending_spec: FilterSpec | None = None
        cap = int(buffer_s * self.fs)
        self.emg_ring = RingBuffer(cap, {"t": 1, "board_t": 1, "raw": n_channels, "filtered": n_channels, "package": 1,
                                         "marker": 1})
        self.imu_ring = RingBuffer(cap, {"t": 1, "accel": 3, "gyro": 3})
        self._lock = threading.Lock()
        self._stats = AcquisitionStats(fs_nominal=self.fs)
        self._marker_requests: deque[float] = deque()
        self.source: EmgSource | None = None

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

    def run(self) -> None:  # noqa: C901 - one loop, documented in the module docstring
        self._set(state="connecting", message="")
        try:
            source = self._factory()
            self.source = source
            if self.units is None:
                self.units = getattr(source, "units", "uV")
            self._set(device=source.description)
            source.start()
        except AshaError as exc:
            self._set(state="error", message=str(exc))
            self.error.emit(str(exc))
            return
        except Exception as exc:  # a foreign failure must still reach the user
            log.exception("opening the EMG source failed")
            self._set(state="error", message=f"Could not open the device: {exc}")
            self.error.emit(f"Could not open the device: {exc}")
            return
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
        try:
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
                        self._set(state="streaming")
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
                        self._set(state="unreachable", message=msg)
                        self.unreachable.emit(msg)
                        return
                    if last_data is not None and now - last_data > timeout and now >= reconnect_at:
                        streaming = False
                        with self._lock:
                            self._stats.reconnects += 1
                            n_tries = self._stats.reconnects
                        self._set(state="reconnecting",
                                  message=f"Connection lost {now - last_data:.0f} s ago; reconnecting (attempt {n_tries}).")
                        try:
                            source.stop()
                            source.start()
                        except AshaError as exc:
                            self._set(message=f"Reconnect failed: {exc}")
                        drops.reset()
                        mapper.reset()
                        reconnect_at = now + min(10.0, 2.0 * n_tries)
                        self._set(state="lost")
                spent = time.monotonic() - tick
                if spent < self.period_s:
                    self.msleep(max(1, int((self.period_s - spent) * 1000)))
        finally:
            source.stop()
            if self._stats.state not in ("error", "unreachable"):
                self._set(state="stopped")

    def insert_marker(self, code: float) -> None:
        """Stamp a marker code on the next block's last sample (thread-safe)."""
        self._marker_requests.append(float(code))
