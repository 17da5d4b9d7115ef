"""Every EMG source Asha can stream from, registered once: its name, the settings it reads, and its factory.

A :class:`DeviceSpec` says, for one kind of source,

* ``label``: the text of the device picker (None: not in the picker, e.g. a session replay);
* ``from_settings``: which of the user's settings it reads (a plain dict of parameters);
* ``check``: what can be said wrong *before* starting, cheaply (no file is read, no device or
  network touched): a missing file, an unknown parameter;
* ``describe``: what is known of the source before its first sample (:class:`SourceInfo`: rate,
  channels, unit, IMU, description), from the parameters alone;
* ``factory``: builds the :class:`~asha_app.devices.emg.EmgSource`.  It runs **inside the acquisition
  thread** (:class:`~asha_app.workers.acquisition.AcquisitionWorker`), so that reading a whole
  playback file, unpacking the demo or resolving an LSL stream never blocks the GUI.

:data:`DEVICES` holds the built-in sources: ``armband``, ``synthetic``, ``file`` (playback of a
MindRove/BrainFlow recording), ``demo``, ``replay`` (an Asha session file) and ``lsl``.
:meth:`DeviceRegistry.request` turns a kind, the settings and per-start overrides into a
:class:`DeviceRequest`; the session controller (:mod:`asha_app.devices.session`) starts it.

Qt-free; the sources themselves are imported where their factory runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from asha_app.core.clock import SessionClock
from asha_app.core.errors import AshaError, ConfigError, RecordingFileError

#: parameters of one start (built from the settings, then the caller's overrides)
Params = Mapping[str, Any]


class UnknownDeviceError(ConfigError):
    """No device of that kind is registered."""


@dataclass(frozen=True)
class SourceInfo:
    """What the app knows about a source: before its first sample (from its :class:`DeviceSpec`), and once open.

    Attributes
    ----------
    kind : str
        Registered device kind.
    description : str
        The source's line (status bar, source line), e.g. ``"Recording demo.tsv"``.
    fs : float or None
        Nominal sampling rate, Hz (None: known only once open, e.g. an LSL stream).
    n_channels : int or None
        EMG channels delivered (None: known only once open).
    units : str or None
        Unit of the EMG values (:mod:`asha_app.core.units`; None: known only once open).
    has_imu : bool or None
        Accelerometer and gyroscope are real (None: known only once open).
    marker_names : mapping of float to str
        Marker code -> name (the demo's gesture labels).
    channel_names : tuple of str
    warnings : tuple of str
        Non-fatal problems found when opening.
    package_modulus, package_restart
        The source's package-number conventions (see :class:`~asha_app.devices.emg.EmgSource`).
    note : str
        Said after the description in the source line (e.g. what the demo's markers are).
    opened : bool
        True when taken from the opened source (:meth:`of`), False for a description before starting.
    """

    kind: str
    description: str
    fs: float | None = None
    n_channels: int | None = None
    units: str | None = "uV"
    has_imu: bool | None = None
    marker_names: Mapping[float, str] = field(default_factory=dict)
    channel_names: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    package_modulus: int | None = None
    package_restart: float | None = None
    note: str = ""
    opened: bool = False

    @classmethod
    def of(cls, source, kind: str | None = None, note: str = "") -> SourceInfo:
        """The info of an opened :class:`~asha_app.devices.emg.EmgSource` (call it in the thread that opened it)."""
        return cls(kind=kind or source.kind, description=source.description, fs=float(source.fs),
                   n_channels=int(source.n_channels), units=str(getattr(source, "units", "uV") or "uV"),
                   has_imu=bool(source.has_imu),
                   marker_names=dict({float(k): str(v) for k, v in getattr(source, "marker_names", {}).items()}),
                   channel_names=tuple(source.channel_names()), warnings=tuple(getattr(source, "warnings", []) or ()),
                   package_modulus=source.package_modulus, package_restart=source.package_restart, note=note,
                   opened=True)

    @property
    def source_line(self) -> str:
        """Description, note and warnings: the main window's source line."""
        text = self.description + (f" — {self.note}" if self.note else "")
        return text + ("  ⚠ " + " ".join(self.warnings) if self.warnings else "")


@dataclass(frozen=True)
class DeviceSpec:
    """One registered kind of EMG source (see the module docstring).

    Attributes
    ----------
    kind : str
        Machine name (``settings.device.kind`` for the picker's devices).
    label : str or None
        Device picker text; None keeps it out of the picker.
    factory : callable
        ``factory(params, clock) -> EmgSource``; runs in the acquisition thread.
    describe : callable
        ``describe(params) -> SourceInfo`` before starting; cheap (GUI thread).
    from_settings : callable, optional
        ``from_settings(settings) -> dict`` of parameters from the user's settings.
    check : callable, optional
        ``check(params)`` raises :class:`AshaError` for a start that cannot work; cheap (GUI thread).
    settings_fields : tuple of str
        The settings the device reads (``device.armband_ip``...), for documentation and tests.
    """

    kind: str
    label: str | None
    factory: Callable[[Params, Any], Any]
    describe: Callable[[Params], SourceInfo]
    from_settings: Callable[[Any], dict] | None = None
    check: Callable[[Params], None] | None = None
    settings_fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class DeviceRequest:
    """One start of one device: its spec, parameters and the info known before it opens.

    :meth:`open` is the acquisition worker's source factory (call it in that thread).
    """

    spec: DeviceSpec
    params: Params
    info: SourceInfo
    clock: Any = None

    @property
    def kind(self) -> str:
        return self.spec.kind

    def open(self):
        """Build the source (the acquisition thread calls this; it may read files or wait on a network)."""
        return self.spec.factory(self.params, self.clock)


class DeviceRegistry:
    """The registered EMG sources, by kind, in registration order (the device picker's order)."""

    def __init__(self, specs: list[DeviceSpec] | None = None) -> None:
        self._specs: dict[str, DeviceSpec] = {}
        for s in specs or []:
            self.register(s)

    def register(self, spec: DeviceSpec) -> DeviceSpec:
        """Add ``spec``; a kind can be registered once (ValueError otherwise)."""
        if spec.kind in self._specs:
            raise ValueError(f"device kind {spec.kind!r} is already registered")
        self._specs[spec.kind] = spec
        return spec

    def get(self, kind: str) -> DeviceSpec:
        """The spec of ``kind``; :class:`UnknownDeviceError` names the known kinds."""
        try:
            return self._specs[kind]
        except KeyError:
            raise UnknownDeviceError(f"Unknown device {kind!r}. Known devices: {', '.join(self._specs)}. Pick one in "
                                     "the device picker (or fix 'device.kind' in the settings file).") from None

    def __contains__(self, kind: object) -> bool:
        return kind in self._specs

    def __iter__(self) -> Iterator[DeviceSpec]:
        return iter(list(self._specs.values()))

    def kinds(self) -> list[str]:
        """Every registered kind."""
        return list(self._specs)

    def picker(self) -> list[tuple[str, str]]:
        """``(kind, label)`` of the devices the toolbar's picker offers."""
        return [(s.kind, s.label) for s in self._specs.values() if s.label is not None]

    def request(self, kind: str, settings=None, clock=None, **overrides) -> DeviceRequest:
        """Resolve one start: parameters from ``settings`` (when given) updated by ``overrides``, checked, described.

        Raises
        ------
        UnknownDeviceError
            No such kind.
        AshaError
            The device's own check failed (e.g. no recording file chosen, a file that does not exist).
        """
        spec = self.get(kind)
        params = dict(spec.from_settings(settings)) if (spec.from_settings is not None and settings is not None) else {}
        params.update(overrides)
        if spec.check is not None:
            spec.check(params)
        return DeviceRequest(spec, MappingProxyType(params), spec.describe(params), clock)


# ---------------------------------------------------------------------- the built-in sources
def _layout(board: str):
    from mindrove.board_shim import BoardIds  # noqa: PLC0415 - the MindRove SDK on first use

    from asha_app.devices.emg import BoardLayout  # noqa: PLC0415 - the MindRove SDK on first use

    return BoardLayout.from_board(getattr(BoardIds, board))


def _require_file(params: Params, what: str, hint: str) -> None:
    path = params.get("path")
    if not path:
        raise RecordingFileError(f"No {what} chosen. {hint}")
    if not Path(path).is_file():
        raise RecordingFileError(f"{what[:1].upper()}{what[1:]} not found: {path}. "
                                 "Choose another file or start the demo.")


def _armband(params: Params, _clock):
    from asha_app.devices.emg import ArmbandSource  # noqa: PLC0415 - the MindRove SDK on first use

    return ArmbandSource(params.get("ip", ""), int(params.get("port", 0)), float(params.get("timeout_s", 3.0)))


def _describe_armband(params: Params) -> SourceInfo:
    from asha_app.devices.emg import armband_description  # noqa: PLC0415 - the MindRove SDK on first use

    lay = _layout("MINDROVE_WIFI_BOARD")
    return SourceInfo("armband", armband_description(params.get("ip", "")), lay.fs, len(lay.emg_rows), "uV", True)


def _synthetic(_params: Params, _clock):
    from asha_app.devices.emg import SyntheticSource  # noqa: PLC0415 - the MindRove SDK on first use

    return SyntheticSource()


def _describe_synthetic(_params: Params) -> SourceInfo:
    from asha_app.devices.emg import SyntheticSource  # noqa: PLC0415 - the MindRove SDK on first use

    lay = _layout("SYNTHETIC_BOARD")
    return SourceInfo("synthetic", SyntheticSource.description, lay.fs, len(lay.emg_rows), "uV", True)


def _playback(params: Params, _clock):
    from asha_app.devices.emg import PlaybackSource  # noqa: PLC0415 - the MindRove SDK on first use

    src = PlaybackSource(params["path"], loop=bool(params.get("loop", True)))
    if params.get("units"):
        src.units = str(params["units"])  # a recording in other units (the live demo's MiniVIE units)
    return src


def _describe_playback(params: Params) -> SourceInfo:
    from asha_app.devices.emg import playback_description  # noqa: PLC0415 - the MindRove SDK on first use

    lay = _layout("MINDROVE_WIFI_BOARD")
    return SourceInfo("file", playback_description(params["path"]), lay.fs, len(lay.emg_rows),
                      str(params.get("units") or "uV"), False)


def _demo(_params: Params, _clock):
    from asha_app.devices.emg import DemoSource  # noqa: PLC0415 - the MindRove SDK on first use

    return DemoSource()  # unpacks the bundled recording into the cache on first use: in this thread


def _describe_demo(_params: Params) -> SourceInfo:
    from asha_app.devices.emg import DemoSource  # noqa: PLC0415 - the MindRove SDK on first use

    lay = _layout("MINDROVE_WIFI_BOARD")
    return SourceInfo("demo", DemoSource.DESCRIPTION, lay.fs, len(lay.emg_rows), "uV", False,
                      note="markers are the recording's gesture labels")


def _replay(params: Params, _clock):
    from asha_app.devices.replay import SessionReplaySource  # noqa: PLC0415 - h5py, the MindRove SDK on first use

    return SessionReplaySource(params["path"], speed=float(params.get("speed", 1.0)),
                               loop=bool(params.get("loop", False)))


def _describe_replay(params: Params) -> SourceInfo:
    """From what the caller already knows of the file (the session library's row): rate, channels, unit, duration."""
    from asha_app.devices.replay import replay_description  # noqa: PLC0415 - h5py, the MindRove SDK on first use

    fs = params.get("fs")
    n = params.get("n_channels")
    return SourceInfo("replay", replay_description(params["path"], fs, params.get("duration_s"), params.get("units")),
                      float(fs) if fs else None, int(n) if n else None, params.get("units") or None, None)


def _lsl(params: Params, clock):
    from asha_app.devices.lsl.source import LslEmgSource  # noqa: PLC0415 - the MindRove SDK on first use

    return LslEmgSource(params.get("stream", ""), clock or SessionClock(), scope=params.get("scope", "site"),
                        enabled=bool(params.get("enabled", True)), timeout_s=float(params.get("timeout_s", 3.0)))


def _describe_lsl(params: Params) -> SourceInfo:
    from asha_app.devices.lsl.source import lsl_description  # noqa: PLC0415 - the MindRove SDK on first use

    return SourceInfo("lsl", lsl_description(params.get("stream", "")), None, None, "uV", False)


def _check_playback(params: Params) -> None:
    _require_file(params, "recording file", "Pick one with Device → Recording file….")


def _check_replay(params: Params) -> None:
    _require_file(params, "session file", "Select a session in the Sessions dock.")
    if float(params.get("speed", 1.0)) <= 0:
        raise AshaError(f"Replay speed must be above 0 (got {params.get('speed')}).")


def builtin_devices() -> DeviceRegistry:
    """A registry of Asha's own sources, in the device picker's order."""
    return DeviceRegistry([
        DeviceSpec("armband", "MindRove WiFi armband", _armband, _describe_armband,
                   lambda s: {"ip": s.device.armband_ip, "port": s.device.armband_port,
                              "timeout_s": s.device.armband_timeout_s},
                   settings_fields=("device.armband_ip", "device.armband_port", "device.armband_timeout_s")),
        DeviceSpec("demo", "Demo: real Myo recording (resampled to 500 Hz)", _demo, _describe_demo),
        DeviceSpec("synthetic", "Synthetic board (SDK test signal)", _synthetic, _describe_synthetic),
        DeviceSpec("file", "Recording file…", _playback, _describe_playback,
                   lambda s: {"path": s.device.playback_file}, _check_playback,
                   settings_fields=("device.playback_file",)),
        DeviceSpec("lsl", "LSL EMG stream (any LSL amplifier)…", _lsl, _describe_lsl,
                   lambda s: {"stream": s.device.lsl_stream, "scope": s.lsl.scope, "enabled": s.lsl.enabled,
                              "timeout_s": s.device.armband_timeout_s},
                   settings_fields=("device.lsl_stream", "lsl.scope", "lsl.enabled", "device.armband_timeout_s")),
        DeviceSpec("replay", None, _replay, _describe_replay, None, _check_replay),
    ])


#: the app's device registry
DEVICES = builtin_devices()

__all__ = ["DEVICES", "DeviceRegistry", "DeviceRequest", "DeviceSpec", "SourceInfo", "UnknownDeviceError",
           "builtin_devices"]
