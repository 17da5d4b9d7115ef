"""Lab Streaming Layer (LSL): configuration, the LSL clock, outlets, marker inlets and an LSL EMG source.

Asha talks LSL through ``pylsl``, whose wheel bundles ``liblsl`` (no system
library is needed).  Everything here is Qt-free; the worker that drives the
outlets and inlets of the running app is :mod:`asha_app.workers.lsl`.

Clocks
------
LSL stamps samples on its own clock, :func:`pylsl.local_clock` (a monotonic
clock in seconds).  Asha's session clock (:class:`asha_app.core.clock.SessionClock`)
is another monotonic clock.  :class:`LslClock` measures the offset between the
two (``lsl = session + offset``) by bracketing reads of one clock between two
reads of the other, and every conversion goes through it: the EMG outlet stamps
each sample with the board's own sample time (session time from the board's
timestamps, :class:`~asha_app.core.clock.BoardTimeMapper`) plus the offset, never
with the time the chunk was pushed; marker inlets convert the sender's time
stamps (corrected to this computer's LSL clock by liblsl's clock
synchronisation) back to session time.  Session files store the offset
(root attribute ``lsl_clock_offset_s``), so LSL times and Asha times convert
either way after the fact.

Scope
-----
liblsl finds streams by multicast.  :data:`SCOPES` are its resolve scopes:
``machine`` keeps all LSL traffic on this computer (loopback), ``link`` and
``site`` reach the lab's network (``site`` is liblsl's default).  The scope is
applied once per process, before the first LSL object is made
(:func:`configure`); the environment variable ``ASHA_LSL_SCOPE`` overrides the
setting (the test suite sets ``machine``).

Streams Asha publishes (:data:`OUTLETS`)
---------------------------------------
=================  ===============  ========  ====================================================
key                type             rate      channels
=================  ===============  ========  ====================================================
``emg``            ``EMG``          source's  sEMG, float32, microvolts, one per electrode
``imu``            ``IMU``          source's  accelerometer x/y/z (g), gyroscope x/y/z (deg/s)
``camera_pose``    ``Pose``         irregular hand-model joint angles (deg) + ``valid`` (0/1)
``predicted_pose`` ``Pose``         irregular the same angles predicted from EMG + ``valid``
``gestures``       ``Markers``      irregular string: the device's marker codes by name (the demo's gestures)
``markers``        ``Markers``      irregular string, JSON: Asha's prompts and markers
=================  ===============  ========  ====================================================

Channel labels, units, types and (EMG) electrode placement are in each
stream's XML description (``desc/channels/channel``), as the XDF meta-data
conventions have them.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import psutil

from asha_app.core.clock import SessionClock
from asha_app.core.errors import AshaError, DeviceError, DeviceNotFoundError
from asha_app.devices.emg import N_EMG, EmgPacket, EmgSource

log = logging.getLogger(__name__)

#: liblsl resolve scopes offered in Settings (key -> what the user reads)
SCOPES = {
    "machine": "this computer only",
    "link": "this computer and the local network segment",
    "site": "the lab's network (liblsl's default)",
}
#: environment variable that overrides the scope setting for this process
SCOPE_ENV = "ASHA_LSL_SCOPE"
#: outlets Asha can publish (key -> what the user reads)
OUTLETS = {
    "emg": "EMG (µV, the device's sample times)",
    "imu": "IMU (accelerometer g, gyroscope °/s)",
    "camera_pose": "camera pose labels (joint angles, °, with validity)",
    "predicted_pose": "EMG-predicted pose (joint angles, °)",
    "gestures": "gestures (string markers)",
    "markers": "Asha's prompts and markers (string markers)",
}
#: electrode placement written into the EMG stream's description when the source gives none
DEFAULT_PLACEMENT = "armband around the proximal forearm, electrodes evenly spaced, channel 1 over the extensors"

_config_lock = threading.Lock()
_configured_scope: str | None = None


class LslUnavailableError(AshaError):
    """LSL cannot be used here (off in Settings, liblsl missing, or no network interface); the message says which."""


# ---------------------------------------------------------------------- configuration and status
def config_text(scope: str) -> str:
    """The ``lsl_api.cfg`` content Asha gives liblsl for ``scope`` (a key of :data:`SCOPES`)."""
    if scope not in SCOPES:
        raise ValueError(f"unknown LSL scope {scope!r}; use one of {', '.join(SCOPES)}")
    lines = ["[multicast]", f"ResolveScope = {scope}"]
    if scope == "machine":  # loopback only: no multicast or broadcast leaves this computer
        lines += ["AddressesOverride = {127.0.0.1}", "Interfaces = {127.0.0.1}", "[ports]", "IPv6 = disable"]
    lines += ["[log]",
              "level = -3"]  # liblsl logs only fatal errors (its INFO/ERR lines on every reconnect would flood)
    return "\n".join(lines) + "\n"


def effective_scope(scope: str = "site") -> str:
    """``scope``, unless ``ASHA_LSL_SCOPE`` names another one (then that)."""
    env = os.environ.get(SCOPE_ENV, "").strip()
    return env if env in SCOPES else scope


def configure(scope: str = "site"):
    """Load pylsl with Asha's configuration for ``scope`` (once per process) and return the module.

    liblsl reads its configuration once, when the first stream object is made,
    so a later call with another scope changes nothing (logged); the new scope
    applies after a restart.

    Raises
    ------
    LslUnavailableError
        If pylsl or its bundled liblsl cannot be loaded.
    """
    global _configured_scope
    scope = effective_scope(scope)
    try:
        import pylsl  # noqa: PLC0415 - optional at run time: Asha runs without LSL
    except (ImportError, OSError, RuntimeError) as exc:
        raise LslUnavailableError(f"LSL is off: the LSL library could not be loaded ({exc}). Reinstall Asha "
                             "(scripts/install.sh installs pylsl, which bundles liblsl).") from exc
    with _config_lock:
        if _configured_scope is None:
            pylsl.set_config_content(config_text(scope))
            _configured_scope = scope
        elif _configured_scope != scope:
            log.warning("LSL scope %r applies after a restart (this process uses %r)", scope, _configured_scope)
    return pylsl


def configured_scope() -> str | None:
    """The scope liblsl runs with in this process (None before :func:`configure`)."""
    return _configured_scope


def loopback_usable() -> bool:
    """True when this computer can send to itself over IP (no packet is sent: a UDP connect only routes)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("127.0.0.1", 9))
        return True
    except OSError:
        return False
    finally:
        s.close()


def network_interfaces_up() -> list[str]:
    """Names of the network interfaces that are up, loopback excluded."""
    try:
        stats = psutil.net_if_stats()
        addrs = psutil.net_if_addrs()
    except OSError:
        return []
    out = []
    for name, st in stats.items():
        if not st.isup or name == "lo" or name.startswith("lo"):
            continue
        if any(a.family in (socket.AF_INET, socket.AF_INET6) for a in addrs.get(name, [])):
            out.append(name)
    return out


@dataclass
class LslStatus:
    """Whether LSL can run here, and what the user should read about it.

    Attributes
    ----------
    available : bool
        LSL objects can be made and reach at least this computer.
    message : str
        One sentence for the status bar / CLI ("LSL is off: ...", "LSL on: ...").
    scope : str
        The resolve scope in force (or that would be).
    version : int
        liblsl's version (e.g. 118), 0 when not loaded.
    """

    available: bool
    message: str
    scope: str = "site"
    version: int = 0


def lsl_status(enabled: bool = True, scope: str = "site") -> LslStatus:
    """Check whether LSL can run: switched on, liblsl loadable, a network interface (loopback at least) usable.

    Never raises; Asha runs as before when LSL is off, and says so.
    """
    scope = effective_scope(scope)
    if not enabled:
        return LslStatus(False, "LSL is off (Settings → Lab Streaming Layer to switch it on).", scope)
    if not loopback_usable():
        return LslStatus(False, "LSL is off: this computer has no usable network interface (not even loopback), "
                                "and LSL needs one even between programs on this computer. Asha runs without it.",
                         scope)
    try:
        pylsl = configure(scope)
    except LslUnavailableError as exc:
        return LslStatus(False, str(exc), scope)
    version = int(pylsl.library_version())
    scope = _configured_scope or scope
    if scope != "machine" and not network_interfaces_up():
        return LslStatus(True, f"LSL on (liblsl {version}); no network interface is up, so only programs on this "
                               "computer see Asha's streams.", scope, version)
    return LslStatus(True, f"LSL on (liblsl {version}), reaching {SCOPES[scope]}.", scope, version)


def require_lsl(enabled: bool = True, scope: str = "site"):
    """The configured pylsl module, or :class:`LslUnavailableError` with the reason."""
    st = lsl_status(enabled, scope)
    if not st.available:
        raise LslUnavailableError(st.message)
    return configure(scope)


# ---------------------------------------------------------------------- the clock
class LslClock:
    """The offset between the LSL clock and the session clock (``lsl = session + offset``).

    Parameters
    ----------
    clock : SessionClock
        The session clock.
    pylsl : module, optional
        The configured pylsl (default: :func:`configure` with the default scope).

    Attributes
    ----------
    offset : float
        ``local_clock() - clock.now()`` (s), measured as the midpoint of the
        tightest of several brackets.
    uncertainty : float
        Half the width of that bracket (s).
    """

    def __init__(self, clock: SessionClock, pylsl=None) -> None:
        self.clock = clock
        self._pylsl = pylsl or configure()
        self.offset, self.uncertainty = self.measure()

    def measure(self, n: int = 50) -> tuple[float, float]:
        """Measure the offset ``n`` times and keep the tightest bracket; returns ``(offset, uncertainty)``."""
        best = (0.0, float("inf"))
        lc, now = self._pylsl.local_clock, self.clock.now
        for _ in range(max(1, n)):
            a = now()
            b = lc()
            c = now()
            if (c - a) / 2 < best[1]:
                best = (b - (a + c) / 2, (c - a) / 2)
        self.offset, self.uncertainty = best
        return best

    def now(self) -> float:
        """The LSL clock now (s)."""
        return float(self._pylsl.local_clock())

    def to_lsl(self, t_session):
        """Session seconds (scalar or array) -> LSL clock seconds."""
        return np.asarray(t_session, np.float64) + self.offset if np.ndim(t_session) else float(t_session) + self.offset

    def to_session(self, t_lsl):
        """LSL clock seconds (scalar or array) -> session seconds."""
        return np.asarray(t_lsl, np.float64) - self.offset if np.ndim(t_lsl) else float(t_lsl) - self.offset


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


def _source_id(key: str, tag: str = "") -> str:
    return f"asha-{key}-{socket.gethostname()}" + (f"-{tag}" if tag else "") + f"-{os.getpid()}"


# ---------------------------------------------------------------------- outlets
class Outlet:
    """One LSL outlet fed with samples stamped on the session clock.

    Parameters
    ----------
    key : str
        Key of :data:`OUTLETS`.
    info : pylsl.StreamInfo
    lsl_clock : LslClock
        Converts session seconds to LSL time stamps.

    Attributes
    ----------
    pushed : int
        Samples pushed so far.
    """

    def __init__(self, key: str, info, lsl_clock: LslClock, pylsl) -> None:
        self.key = key
        self.info = info
        self.clock = lsl_clock
        self._outlet = pylsl.StreamOutlet(info, 0, 360)
        self.pushed = 0
        self.name = info.name()
        self.source_id = info.source_id()

    def push(self, t_session: np.ndarray | list[float], values) -> None:
        """Push samples with their session times (s); the stamps are those times on the LSL clock."""
        t_session = np.asarray(t_session, np.float64).reshape(-1)
        if t_session.size == 0:
            return
        stamps = self.clock.to_lsl(t_session)
        if isinstance(values, np.ndarray):
            self._outlet.push_chunk(values, stamps.tolist())
        else:  # strings: one sample per value
            for v, ts in zip(values, stamps):
                self._outlet.push_sample([str(v)], float(ts))
        self.pushed += int(t_session.size)

    def have_consumers(self) -> bool:
        """True when at least one inlet is connected."""
        return bool(self._outlet.have_consumers())

    def close(self) -> None:
        """Withdraw the stream from the network."""
        self._outlet = None


def open_outlet(key: str, lsl_clock: LslClock, pylsl, *, fs: float = 0.0, channel_names: Sequence[str] = (),
                dof_names: Sequence[str] = (), device: str = "", placement: str = DEFAULT_PLACEMENT,
                tag: str = "") -> Outlet:
    """Open the outlet ``key`` (see :data:`OUTLETS`).

    Parameters
    ----------
    fs : float
        Nominal rate of the EMG/IMU source (Hz); pose and marker streams are irregular.
    channel_names : list of str
        EMG channel labels.
    dof_names : list of str
        Joint-angle names (``HandModel.builtin('right').dof_names``) for the pose outlets.
    device : str
        The EMG device's description (written as the manufacturer/model).
    """
    if key == "emg":
        chans = [ChannelDesc(c, "microvolts", "EMG", f"{placement}; electrode {i + 1}")
                 for i, c in enumerate(channel_names)]
        info = stream_info(pylsl, "Asha EMG", "EMG", chans, fs, pylsl.cf_float32, _source_id(key, tag),
                           manufacturer=device, model=device, reference="armband's own reference electrode",
                           extra={"asha_time_base": "the device's sample times on the LSL clock"})
    elif key == "imu":
        chans = [ChannelDesc(f"accel_{a}", "g", "Accelerometer") for a in "xyz"]
        chans += [ChannelDesc(f"gyro_{a}", "degrees/second", "Gyroscope") for a in "xyz"]
        info = stream_info(pylsl, "Asha IMU", "IMU", chans, fs, pylsl.cf_float32, _source_id(key, tag),
                           manufacturer=device, model=device)
    elif key in ("camera_pose", "predicted_pose"):
        if not dof_names:
            raise ValueError("pose outlets need the hand model's joint-angle names")
        chans = [ChannelDesc(d, "degrees", "JointAngle")
                 for d in dof_names] + [ChannelDesc("valid", "boolean", "Validity")]
        name = "Asha camera pose" if key == "camera_pose" else "Asha EMG-predicted pose"
        info = stream_info(pylsl, name, "Pose", chans, 0.0, pylsl.cf_float32, _source_id(key, tag),
                           extra={"asha_pose": "hand-model joint angles (asha_app.pose.contract)"})
    elif key in ("gestures", "markers"):
        name = "Asha gestures" if key == "gestures" else "Asha markers"
        info = stream_info(pylsl, name, "Markers", [ChannelDesc("marker", "", "Marker")], 0.0, pylsl.cf_string,
                           _source_id(key, tag))
    else:
        raise ValueError(f"unknown outlet {key!r}; use one of {', '.join(OUTLETS)}")
    return Outlet(key, info, lsl_clock, pylsl)


def marker_json(kind: str, label: str, **fields) -> str:
    """The string Asha's ``markers`` outlet sends: compact JSON ``{"event": kind, "label": label, ...}``."""
    return json.dumps({"event": kind, "label": label, **fields}, separators=(",", ":"), ensure_ascii=False)


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


# ---------------------------------------------------------------------- listing streams
def list_streams(pylsl, stype: str = "", timeout_s: float = 1.0) -> list[dict]:
    """Streams visible within ``timeout_s``: ``{"name", "type", "channels", "fs", "source_id", "hostname"}``."""
    infos = pylsl.resolve_byprop("type", stype, 0, timeout_s) if stype else pylsl.resolve_streams(timeout_s)
    return [{"name": i.name(), "type": i.type(), "channels": i.channel_count(), "fs": i.nominal_srate(),
             "source_id": i.source_id(), "hostname": i.hostname()} for i in infos]


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


def wait_for(predicate, timeout_s: float, period_s: float = 0.01) -> bool:
    """Poll ``predicate()`` until it is true or ``timeout_s`` passed; returns its last value."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(period_s)
    return bool(predicate())
