"""LSL marker inlets: every marker stream recorded on the session clock, noting when one stops or returns."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any


from asha_app.devices.lsl.clock import LslClock

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------- marker inlets
@dataclass
class MarkerEvent:
    """One thing a marker inlet saw.

    Attributes
    ----------
    kind : str
        ``"marker"`` (a sample), ``"lost"`` (the stream stopped), ``"back"`` (it returned).
    stream : str
        The stream's name.
    label : str
        The marker text (``"lost"``/``"back"`` events: a sentence).
    t : float
        Session seconds: the sender's time stamp on this computer's clock for
        markers; when it was noticed for ``lost``/``back``.
    t_lsl : float
        The same on the LSL clock.
    arrival : float
        Session seconds when the inlet received it.
    """

    kind: str
    stream: str
    label: str
    t: float
    t_lsl: float
    arrival: float


@dataclass
class _Tracked:
    info: Any
    inlet: Any | None
    name: str
    source_id: str
    lost_at: float | None = None
    markers: int = 0
    gaps: list = field(default_factory=list)


class MarkerInlets:
    """Record every LSL marker stream (type ``Markers``) on the session clock, noting when one stops.

    Call :meth:`poll` regularly from one thread (it may block up to
    ``open_timeout_s`` when a new stream appears, so not from the GUI thread).

    Parameters
    ----------
    lsl_clock : LslClock
    pylsl : module
        The configured pylsl.
    stream : str
        Only the stream with this name or source id; empty: every marker stream.
    exclude_source_ids : set of str
        Streams not to record (Asha's own outlets, unless wanted).
    stream_type : str
        LSL content type to look for.
    """

    def __init__(self, lsl_clock: LslClock, pylsl, stream: str = "", exclude_source_ids: set[str] | None = None,
                 stream_type: str = "Markers", open_timeout_s: float = 2.0) -> None:
        self.clock = lsl_clock
        self._pylsl = pylsl
        self.stream = stream.strip()
        self.exclude = set(exclude_source_ids or ())
        self.open_timeout_s = open_timeout_s
        self._resolver = pylsl.ContinuousResolver(prop="type", value=stream_type, forget_after=3.0)
        self.tracked: dict[str, _Tracked] = {}

    def _wanted(self, info) -> bool:
        if info.source_id() in self.exclude:
            return False
        return not self.stream or self.stream in (info.name(), info.source_id())

    def poll(self) -> list[MarkerEvent]:
        """Connect to new streams, pull what arrived, and note streams that stopped or came back."""
        pl = self._pylsl
        events: list[MarkerEvent] = []
        now_s = self.clock.clock.now()
        for info in self._resolver.results():
            if not self._wanted(info) or info.channel_format() != pl.cf_string:
                continue
            key = info.source_id() or info.name()
            tr = self.tracked.get(key)
            if tr is not None and tr.inlet is not None:
                continue
            inlet = pl.StreamInlet(info, recover=False, processing_flags=pl.proc_clocksync)
            try:
                inlet.open_stream(self.open_timeout_s)
            except Exception as exc:  # noqa: BLE001 - pylsl raises TimeoutError or LostError
                log.info("marker stream %s did not open: %s", info.name(), exc)
                continue
            if tr is None:
                self.tracked[key] = _Tracked(info, inlet, info.name(), info.source_id())
            else:
                tr.inlet = inlet
                if tr.lost_at is not None:
                    tr.gaps.append((tr.lost_at, now_s))
                    events.append(MarkerEvent("back", tr.name, f"LSL marker stream '{tr.name}' is back "
                                                               f"(silent {now_s - tr.lost_at:.1f} s)",
                                              now_s, self.clock.to_lsl(now_s), now_s))
                    tr.lost_at = None
        for tr in self.tracked.values():
            if tr.inlet is None:
                continue
            try:
                samples, stamps = tr.inlet.pull_chunk(timeout=0.0)
            except pl.util.LostError:
                tr.inlet = None
                tr.lost_at = now_s
                events.append(MarkerEvent("lost", tr.name, f"LSL marker stream '{tr.name}' stopped", now_s,
                                          self.clock.to_lsl(now_s), now_s))
                continue
            for s, ts in zip(samples, stamps):
                tr.markers += 1
                events.append(MarkerEvent("marker", tr.name, str(s[0]), self.clock.to_session(ts), float(ts), now_s))
        return events

    def summary(self) -> list[dict]:
        """Per stream: name, source id, markers received, gaps ``[[from, to], ...]`` (to = None: still silent)."""
        return [{"name": t.name, "source_id": t.source_id, "markers": t.markers,
                 "gaps": [list(g) for g in t.gaps] + ([[t.lost_at, None]] if t.lost_at is not None else [])}
                for t in self.tracked.values()]

    def close(self) -> None:
        """Drop every inlet and the resolver."""
        for t in self.tracked.values():
            t.inlet = None
        self.tracked.clear()
        self._resolver = None
