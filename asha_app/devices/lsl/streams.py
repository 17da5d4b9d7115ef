"""LSL stream descriptions (channel labels, units, types and placement, as the XDF meta-data conventions
have them) and listing the streams visible on the network.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass


# ---------------------------------------------------------------------- stream descriptions
@dataclass
class ChannelDesc:
    """One channel of a stream description (XDF meta-data conventions)."""

    label: str
    unit: str
    type: str
    placement: str = ""


def stream_info(pylsl, name: str, stype: str, channels: Sequence[ChannelDesc], fs: float, fmt, source_id: str,
                *, manufacturer: str = "", model: str = "", reference: str = "", extra: dict | None = None):
    """A :class:`pylsl.StreamInfo` with channel labels, units, types and placement in its XML description."""
    info = pylsl.StreamInfo(name, stype, len(channels), float(fs), fmt, source_id)
    desc = info.desc()
    chans = desc.append_child("channels")
    for ch in channels:
        c = chans.append_child("channel")
        c.append_child_value("label", ch.label)
        c.append_child_value("unit", ch.unit)
        c.append_child_value("type", ch.type)
        if ch.placement:
            c.append_child_value("placement", ch.placement)
    if manufacturer or model:
        acq = desc.append_child("acquisition")
        acq.append_child_value("manufacturer", manufacturer)
        acq.append_child_value("model", model)
    if reference:
        desc.append_child_value("reference", reference)
    for k, v in (extra or {}).items():
        desc.append_child_value(k, str(v))
    return info


def channel_labels(info) -> list[dict]:
    """``[{"label", "unit", "type"}...]`` read back from a :class:`pylsl.StreamInfo`'s description (may be empty)."""
    out = []
    ch = info.desc().child("channels").child("channel")
    while not ch.empty():
        out.append({k: ch.child_value(k) for k in ("label", "unit", "type", "placement")})
        ch = ch.next_sibling("channel")
    return out


# ---------------------------------------------------------------------- listing streams
def list_streams(pylsl, stype: str = "", timeout_s: float = 1.0) -> list[dict]:
    """Streams visible within ``timeout_s``: ``{"name", "type", "channels", "fs", "source_id", "hostname"}``."""
    infos = pylsl.resolve_byprop("type", stype, 0, timeout_s) if stype else pylsl.resolve_streams(timeout_s)
    return [{"name": i.name(), "type": i.type(), "channels": i.channel_count(), "fs": i.nominal_srate(),
             "source_id": i.source_id(), "hostname": i.hostname()} for i in infos]


def wait_for(predicate, timeout_s: float, period_s: float = 0.01) -> bool:
    """Poll ``predicate()`` until it is true or ``timeout_s`` passed; returns its last value."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(period_s)
    return bool(predicate())
