"""The LSL EMG device source: any LSL EMG stream as an Asha EMG source (device picker: *LSL EMG stream*)."""

from __future__ import annotations

from typing import Any

import numpy as np

from asha_app.core.clock import SessionClock
from asha_app.core.errors import DeviceError, DeviceNotFoundError
from asha_app.devices.emg import N_EMG, EmgPacket, EmgSource
from asha_app.devices.lsl.clock import LslClock
from asha_app.devices.lsl.config import SCOPES, LslUnavailableError, configured_scope, require_lsl
from asha_app.devices.lsl.streams import channel_labels, list_streams


# ---------------------------------------------------------------------- the LSL EMG device source
_UNIT_SCALE = {"microvolts": 1.0, "microvolt": 1.0, "uv": 1.0, "µv": 1.0, "μv": 1.0,
               "millivolts": 1e3, "millivolt": 1e3, "mv": 1e3, "volts": 1e6, "volt": 1e6, "v": 1e6}


def lsl_description(stream: str) -> str:
    """An LSL EMG source's line before its stream is found (name or source id; empty: the first of type EMG)."""
    stream = (stream or "").strip()
    return f"LSL EMG stream {stream!r}" if stream else "LSL EMG stream (first of type EMG)"


class LslEmgSource(EmgSource):
    """Any LSL EMG stream as an Asha EMG source (device picker: *LSL EMG stream*).

    The stream's own time stamps, corrected onto this computer's LSL clock by
    liblsl's clock synchronisation, are the samples' board times; they map
    onto the session clock through :class:`LslClock` exactly (no anchoring on
    arrival).  LSL has no package numbers: a counter stands in, advanced over
    gaps in the time stamps so that the drop counter sees them.

    Parameters
    ----------
    stream : str
        Name or source id of the stream; empty takes the first stream of type ``EMG``.
    clock : SessionClock
        The app's session clock.
    scope : str
        LSL resolve scope (see :data:`SCOPES`).
    enabled : bool
        The LSL switch in Settings.
    timeout_s : float
        How long to look for the stream, and the no-data timeout.
    max_channels : int
        Channels used (the first ones), as for the armband.
    """

    kind = "lsl"

    def __init__(self, stream: str, clock: SessionClock, scope: str = "site", enabled: bool = True,
                 timeout_s: float = 3.0, max_channels: int = N_EMG) -> None:
        self.stream = (stream or "").strip()
        self.clock = clock
        self.scope = scope
        self.enabled = enabled
        self.no_data_timeout_s = float(timeout_s)
        self.max_channels = int(max_channels)
        self.warnings = []
        self.description = lsl_description(self.stream)
        self.package_modulus = None
        self._fs = 500.0
        self._n = max_channels
        self._names: list[str] = []
        self._scale = 1.0
        self._inlet: Any = None
        self._new_inlet: Any = None
        self._pylsl: Any = None
        self._lsl_clock: LslClock | None = None
        self._counter = 0
        self._last_ts: float | None = None

    @property
    def fs(self) -> float:
        return self._fs

    @property
    def n_channels(self) -> int:
        return self._n

    def channel_names(self) -> list[str]:
        return list(self._names) or super().channel_names()

    def resolve(self) -> Any:
        """Find the stream (blocks up to the timeout); sets rate, channels and units from its description.

        Raises
        ------
        DeviceNotFoundError
            LSL off or unavailable, or no matching stream.
        DeviceError
            The stream cannot be an EMG source (irregular rate, not numeric, no channels).
        """
        try:
            pl = require_lsl(self.enabled, self.scope)
        except LslUnavailableError as exc:
            raise DeviceNotFoundError(str(exc)) from exc
        self._pylsl = pl
        wait = self.no_data_timeout_s
        if self.stream:
            found = (pl.resolve_byprop("name", self.stream, 1, wait)
                     or pl.resolve_byprop("source_id", self.stream, 1, 0.5))
        else:
            found = pl.resolve_byprop("type", "EMG", 1, wait)
        if not found:
            where = SCOPES.get(configured_scope() or self.scope, "")
            what = f"named {self.stream!r}" if self.stream else "of type EMG"
            others = list_streams(pl, timeout_s=0.5)
            seen = ("; streams seen: " + ", ".join(f"'{s['name']}' ({s['type']})" for s in others)) if others else ""
            raise DeviceNotFoundError(
                f"No LSL stream {what} found on {where} within {wait:.0f} s{seen}. Start the amplifier's LSL program, "
                "pick the stream in the device picker, or widen the LSL scope in Settings.")
        info = found[0]
        if info.nominal_srate() <= 0:
            raise DeviceError(f"LSL stream '{info.name()}' has an irregular rate; an EMG source needs a fixed sampling "
                              "rate.")
        if info.channel_format() in (pl.cf_string, pl.cf_undefined) or info.channel_count() < 1:
            raise DeviceError(f"LSL stream '{info.name()}' carries no numeric channels; it cannot be an EMG source.")
        self._fs = float(info.nominal_srate())
        n = int(info.channel_count())
        self._n = min(n, self.max_channels)
        if n > self.max_channels:
            self.warnings.append(f"LSL stream '{info.name()}' has {n} channels; Asha uses the first "
                                 f"{self.max_channels}.")
        self._new_inlet = pl.StreamInlet(info, max_buflen=60, recover=True, processing_flags=pl.proc_clocksync)
        try:  # a resolved info has no description: the inlet fetches the full one
            labels = channel_labels(self._new_inlet.info(self.no_data_timeout_s))
        except Exception as exc:  # pylsl's TimeoutError
            raise DeviceNotFoundError(f"LSL stream '{info.name()}' was found but does not answer: {exc}") from exc
        self._names = [(labels[i]["label"] or f"EMG {i + 1}") if i < len(labels) else f"EMG {i + 1}"
                       for i in range(self._n)]
        units = {(c.get("unit") or "").strip().lower() for c in labels[: self._n]}
        units.discard("")
        if len(units) == 1 and next(iter(units)) in _UNIT_SCALE:
            self._scale = _UNIT_SCALE[next(iter(units))]
        elif units:
            self.warnings.append(f"LSL stream '{info.name()}' gives units {sorted(units)}; shown unscaled as µV.")
        self.description = f"LSL EMG stream '{info.name()}' ({info.hostname()}, {self._fs:g} Hz)"
        return info

    def start(self) -> None:
        self.stop()
        info = self.resolve()
        pl = self._pylsl
        self._lsl_clock = LslClock(self.clock, pl)
        inlet, self._new_inlet = self._new_inlet, None
        try:
            inlet.open_stream(self.no_data_timeout_s)
        except Exception as exc:  # pylsl's TimeoutError / LostError
            raise DeviceNotFoundError(f"LSL stream '{info.name()}' was found but did not open: {exc}") from exc
        self._inlet = inlet
        self._last_ts = None

    def read(self) -> EmgPacket | None:
        if self._inlet is None:
            return None
        try:
            data, ts = self._inlet.pull_chunk(timeout=0.0, max_samples=4096)
        except Exception as exc:  # LostError only when not recoverable
            raise DeviceError(f"Reading the LSL stream failed: {exc}") from exc
        if not ts:
            return None
        x = np.asarray(data, np.float64)[:, : self._n] * self._scale
        t = np.asarray(ts, np.float64)
        steps = np.ones(t.size, np.int64)
        prev = np.concatenate([[self._last_ts if self._last_ts is not None else t[0] - 1.0 / self._fs], t[:-1]])
        gap = (t - prev) * self._fs
        big = gap > 1.5
        steps[big] = np.round(gap[big]).astype(np.int64)
        package = self._counter + np.cumsum(steps) - 1
        self._counter = int(package[-1]) + 1
        self._last_ts = float(t[-1])
        return EmgPacket(emg=x, board_t=t, package=package.astype(np.float64), marker=np.zeros(t.size))

    def session_times(self, board_t: np.ndarray) -> np.ndarray | None:
        """Session seconds of the board times (LSL clock) through the measured LSL clock offset."""
        return None if self._lsl_clock is None else self._lsl_clock.to_session(board_t)

    def stop(self) -> None:
        inlet, self._inlet = self._inlet, None
        if inlet is not None:
            try:
                inlet.close_stream()
            except Exception:  # noqa: BLE001 - closing a lost stream
                pass
