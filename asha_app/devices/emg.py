"""EMG sources: the MindRove WiFi armband and the SDK's synthetic and playback boards, behind one interface.

All three go through :class:`mindrove.board_shim.BoardShim`, so the demo and
the tests exercise the same code path as the armband.  Row numbers (EMG, IMU,
battery, package number, timestamp, marker) come from
``BoardShim.get_board_descr(board_id)``; nothing here hard-codes them.

Units: EMG in microvolts (the MindRove SDK delivers uV), accelerometer in g,
gyroscope in degrees per second, battery in percent.

Facts measured on the SDK (mindrove 5.3): ``prepare_session`` on the WiFi
board returns at once even with no armband in reach, and ``start_stream``
too; an unreachable armband shows only as *no data*, so the acquisition
worker applies a timeout.  The playback board passes every row of the file
through except the marker row, which it zeroes; :class:`PlaybackSource` reads
the file's markers itself and puts them back by package number.
"""

from __future__ import annotations

import gzip
import json
import logging
import shutil
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from mindrove.board_shim import BoardIds, BoardShim, MindRoveError, MindRoveInputParams
from mindrove.data_filter import DataFilter

from asha_app.core.atomic import atomic_write
from asha_app.core import paths
from asha_app.core.errors import DeviceError, DeviceNotFoundError, RecordingFileError

log = logging.getLogger(__name__)

N_EMG = 8  # channels shown and recorded; the armband has 8


@dataclass(frozen=True)
class BoardLayout:
    """Where each signal lives in a board's sample rows (from ``get_board_descr``).

    Attributes
    ----------
    name : str
        Board name reported by the SDK.
    fs : float
        Sampling rate, Hz.
    num_rows : int
        Rows per sample.
    emg_rows : list of int
        EMG rows used (the first ``N_EMG`` the board reports).
    accel_rows, gyro_rows : list of int
        IMU rows (empty when the board has none).
    battery_row, package_row, timestamp_row, marker_row : int or None
        Single rows (None when absent).
    """

    name: str
    fs: float
    num_rows: int
    emg_rows: list[int]
    accel_rows: list[int] = field(default_factory=list)
    gyro_rows: list[int] = field(default_factory=list)
    battery_row: int | None = None
    package_row: int | None = None
    timestamp_row: int | None = None
    marker_row: int | None = None

    @classmethod
    def from_board(cls, board_id: int) -> BoardLayout:
        """Read the layout of ``board_id`` from the SDK's board description."""
        d = BoardShim.get_board_descr(board_id)
        emg = list(d.get("emg_channels", []))[:N_EMG]
        if not emg:
            raise DeviceError(f"board {d.get('name', board_id)} reports no EMG channels")
        return cls(
            name=str(d.get("name", board_id)),
            fs=float(d["sampling_rate"]),
            num_rows=int(d["num_rows"]),
            emg_rows=emg,
            accel_rows=list(d.get("accel_channels", [])),
            gyro_rows=list(d.get("gyro_channels", [])),
            battery_row=d.get("battery_channel"),
            package_row=d.get("package_num_channel"),
            timestamp_row=d.get("timestamp_channel"),
            marker_row=d.get("marker_channel"),
        )


@dataclass
class EmgPacket:
    """Samples drained from a source in one read.

    Attributes
    ----------
    emg : float64 array (n, n_channels)
        sEMG, microvolts.
    board_t : float64 array (n,)
        The board's timestamps, seconds (Unix time for live boards).
    package : float64 array (n,)
        Package numbers (gaps are dropped samples).
    marker : float64 array (n,)
        Marker codes (0 = none).
    accel : float64 array (n, 3) or None
        Accelerometer, g.
    gyro : float64 array (n, 3) or None
        Gyroscope, deg/s.
    battery : float64 array (n,) or None
        Battery, percent.
    """

    emg: np.ndarray
    board_t: np.ndarray
    package: np.ndarray
    marker: np.ndarray
    accel: np.ndarray | None = None
    gyro: np.ndarray | None = None
    battery: np.ndarray | None = None

    @property
    def n(self) -> int:
        """Number of samples."""
        return int(self.emg.shape[0])


class EmgSource(ABC):
    """One stream of sEMG samples.

    Lifecycle: :meth:`start` (connect and begin streaming), :meth:`read`
    repeatedly (returns what arrived since the last call, possibly nothing),
    :meth:`stop`.  ``start`` may be called again after ``stop`` (reconnect).
    """

    #: short machine name of the kind ("armband", "demo", "synthetic", "file")
    kind: str = ""
    #: text for the status bar and the device picker
    description: str = ""
    #: unit of the EMG values (:mod:`asha_app.core.units`): microvolts for every live board; a replayed
    #: session gives the unit stored in its file
    units: str = "uV"

    @property
    @abstractmethod
    def fs(self) -> float:
        """Nominal sampling rate, Hz."""

    @property
    @abstractmethod
    def n_channels(self) -> int:
        """Number of EMG channels delivered."""

    @property
    def has_imu(self) -> bool:
        """True when accelerometer and gyroscope data are real."""
        return False

    #: how long without data before the stream counts as lost, seconds
    no_data_timeout_s: float = 3.0
    #: package numbers wrap at this value (None: unknown, guessed from the jump)
    package_modulus: int | None = None
    #: package number a looping source starts again from (a playback file's first; None: not looping)
    package_restart: float | None = None
    #: non-fatal problems found when opening (shown to the user)
    warnings: list[str]

    @abstractmethod
    def start(self) -> None:
        """Connect and begin streaming; raises :class:`DeviceError` with a user-facing message."""

    @abstractmethod
    def read(self) -> EmgPacket | None:
        """Drain the samples that arrived since the last call (None when none)."""

    @abstractmethod
    def stop(self) -> None:
        """Stop streaming and release the device (safe to call twice)."""

    def channel_names(self) -> list[str]:
        """Display names of the EMG channels."""
        return [f"EMG {i + 1}" for i in range(self.n_channels)]

    def session_times(self, board_t: np.ndarray) -> np.ndarray | None:
        """Session seconds of ``board_t`` when the source knows its clock exactly (an LSL stream); None: the
        acquisition worker maps board times with :class:`~asha_app.core.clock.BoardTimeMapper`."""
        return None


class MindRoveSource(EmgSource):
    """A board of the MindRove SDK (armband, synthetic or playback).

    Parameters
    ----------
    board_id : int
        ``BoardIds`` value.
    params : MindRoveInputParams, optional
        Connection settings.
    layout_board : int, optional
        Board whose row layout the data has (the master board for playback).
    """

    def __init__(self, board_id: int, params: MindRoveInputParams | None = None, layout_board: int | None = None) -> None:
        self.board_id = int(board_id)
        self.params = params or MindRoveInputParams()
        self.layout = BoardLayout.from_board(self.board_id if layout_board is None else layout_board)
        self.warnings = []
        self._board: BoardShim | None = None
        BoardShim.disable_board_logger()

    @property
    def fs(self) -> float:
        return self.layout.fs

    @property
    def n_channels(self) -> int:
        return len(self.layout.emg_rows)

    def _configure(self, board: BoardShim) -> None:
        """Hook for board-specific configuration between prepare and start."""

    def start(self) -> None:
        self.stop()
        try:
            board = BoardShim(self.board_id, self.params)
            board.prepare_session()
            self._configure(board)
            board.start_stream()
        except MindRoveError as exc:
            raise DeviceNotFoundError(f"Could not start {self.description or self.layout.name}: {exc}") from exc
        self._board = board

    def read(self) -> EmgPacket | None:
        if self._board is None:
            return None
        try:
            data = self._board.get_board_data()
        except MindRoveError as exc:
            raise DeviceError(f"Reading from {self.description or self.layout.name} failed: {exc}") from exc
        if data.size == 0 or data.shape[1] == 0:
            return None
        return self._packet(data)

    def _packet(self, data: np.ndarray) -> EmgPacket:
        lay = self.layout
        n = data.shape[1]

        def row(r):
            return data[r].astype(np.float64) if r is not None else np.zeros(n)

        return EmgPacket(
            emg=data[lay.emg_rows].T.astype(np.float64),
            board_t=row(lay.timestamp_row),
            package=row(lay.package_row),
            marker=row(lay.marker_row),
            accel=data[lay.accel_rows].T.astype(np.float64) if lay.accel_rows else None,
            gyro=data[lay.gyro_rows].T.astype(np.float64) if lay.gyro_rows else None,
            battery=row(lay.battery_row) if lay.battery_row is not None else None,
        )

    def insert_marker(self, code: float) -> None:
        """Stamp a marker on the newest sample through the SDK (live boards)."""
        if self._board is not None:
            self._board.insert_marker(float(code))

    def stop(self) -> None:
        board, self._board = self._board, None
        if board is None:
            return
        try:
            if board.is_prepared():
                try:
                    board.stop_stream()
                except MindRoveError:
                    pass  # not streaming
                board.release_session()
        except MindRoveError as exc:
            log.warning("releasing %s: %s", self.layout.name, exc)


class ArmbandSource(MindRoveSource):
    """The MindRove WiFi armband (``BoardIds.MINDROVE_WIFI_BOARD``, 500 Hz, 8 EMG channels + IMU).

    Parameters
    ----------
    ip_address : str, optional
        Armband address; empty uses the SDK's default for the armband's own WiFi network.
    ip_port : int, optional
        UDP port; 0 uses the SDK's default.
    timeout_s : float
        Seconds without data before the armband counts as unreachable or lost.
    """

    kind = "armband"

    def __init__(self, ip_address: str = "", ip_port: int = 0, timeout_s: float = 3.0) -> None:
        params = MindRoveInputParams()
        if ip_address:
            params.ip_address = ip_address
        if ip_port:
            params.ip_port = int(ip_port)
        super().__init__(BoardIds.MINDROVE_WIFI_BOARD, params)
        self.no_data_timeout_s = timeout_s
        self.description = "MindRove WiFi armband" + (f" at {ip_address}" if ip_address else "")

    @property
    def has_imu(self) -> bool:
        return True

    def start(self) -> None:
        try:
            super().start()
        except DeviceNotFoundError as exc:
            raise DeviceNotFoundError(
                f"{exc}. The armband's network port could not be opened: another program (or another Asha window) "
                "may be connected to the armband. Close it and press Start again, or start the demo."
            ) from exc


class SyntheticSource(MindRoveSource):
    """The SDK's synthetic board (250 Hz generated signal; first 8 of its 16 EMG rows). Plumbing tests only."""

    kind = "synthetic"
    description = "MindRove SDK synthetic board (generated signal, 250 Hz)"

    def __init__(self) -> None:
        super().__init__(BoardIds.SYNTHETIC_BOARD)
        self.package_modulus = 256

    @property
    def has_imu(self) -> bool:
        return True


def inspect_playback_file(path: Path, layout: BoardLayout) -> tuple[int, dict[int, float], list[str], float | None]:
    """Check a ``DataFilter.write_file`` recording before the SDK replays it.

    Parameters
    ----------
    path : Path
        Tab-separated file, one sample per line, all rows of the master board.
    layout : BoardLayout
        Layout of the master board.

    Returns
    -------
    n_samples : int
        Complete samples in the file.
    markers : dict
        Package number -> marker code for every sample with a marker.
    warnings : list of str
        Non-fatal problems (e.g. a truncated last line).
    first_package : float or None
        Package number of the first sample (where a looping replay starts again).

    Raises
    ------
    RecordingFileError
        Missing, empty or unreadable file, or rows that do not match the master board.
    """
    path = Path(path)
    if not path.is_file():
        raise RecordingFileError(f"Recording file not found: {path}. Choose another file or start the demo.")
    warnings = []
    with open(path, "rb") as fh:
        raw = fh.read()
    if not raw.strip():
        raise RecordingFileError(f"Recording file {path} is empty.")
    lines = raw.splitlines()
    n_fields = len(lines[0].split(b"\t"))
    if n_fields != layout.num_rows:
        raise RecordingFileError(
            f"Recording file {path} has {n_fields} rows per sample, but a {layout.name} recording has "
            f"{layout.num_rows}. It was written for another board; pick the matching board or another file."
        )
    if not raw.endswith(b"\n") or len(lines[-1].split(b"\t")) != n_fields:
        warnings.append(f"{path.name} is truncated: its last sample is incomplete and is skipped.")
    try:
        data = DataFilter.read_file(str(path))
    except MindRoveError as exc:
        raise RecordingFileError(f"Recording file {path} could not be read ({exc}); it is not a MindRove/BrainFlow recording.") from exc
    if data.shape[0] != layout.num_rows:
        raise RecordingFileError(f"Recording file {path} has {data.shape[0]} rows, expected {layout.num_rows} ({layout.name}).")
    if data.shape[1] == 0:
        raise RecordingFileError(f"Recording file {path} holds no complete sample.")
    markers: dict[int, float] = {}
    if layout.marker_row is not None and layout.package_row is not None:
        idx = np.flatnonzero(data[layout.marker_row])
        markers = {int(data[layout.package_row, i]): float(data[layout.marker_row, i]) for i in idx}
    first = float(data[layout.package_row, 0]) if layout.package_row is not None else None
    return int(data.shape[1]), markers, warnings, first


class PlaybackSource(MindRoveSource):
    """The SDK's playback board replaying a recording (``DataFilter.write_file`` format).

    Parameters
    ----------
    path : str or Path
        Recording file; laid out in the rows of ``master_board``.
    master_board : int
        Board the file was recorded from (default: the MindRove WiFi armband).
    loop : bool
        Start again at the end (``loopback_true``).
    keep_timestamps : bool
        Deliver the file's own timestamps (``old_timestamps``) instead of wall-clock ones.

    Raises
    ------
    RecordingFileError
        If the file is missing, unreadable or laid out for another board.
    """

    kind = "file"

    def __init__(self, path, master_board: int = BoardIds.MINDROVE_WIFI_BOARD, loop: bool = True,
                 keep_timestamps: bool = False) -> None:
        self.path = Path(path)
        params = MindRoveInputParams()
        params.file = str(self.path)
        params.master_board = int(master_board)
        super().__init__(BoardIds.PLAYBACK_FILE_BOARD, params, layout_board=master_board)
        self.loop = loop
        self.keep_timestamps = keep_timestamps
        self.n_samples, self.markers, self.warnings, first = inspect_playback_file(self.path, self.layout)
        self.package_modulus = None
        # a looping replay starts again at the file's first package: a restart, not lost samples
        self.package_restart = first if loop else None
        self.description = f"Recording {self.path.name}"
        self._first_package = None

    def _configure(self, board: BoardShim) -> None:
        if self.loop:
            board.config_board("loopback_true")
        if self.keep_timestamps:
            board.config_board("old_timestamps")

    def _packet(self, data: np.ndarray) -> EmgPacket:
        packet = super()._packet(data)
        if self.markers:
            codes = np.array([self.markers.get(int(p), 0.0) for p in packet.package])
            packet.marker = np.where(packet.marker != 0, packet.marker, codes)
        return packet


class DemoSource(PlaybackSource):
    """The bundled demo: real Myo sEMG resampled to 500 Hz, replayed by the playback board in a loop.

    The recording is unpacked from ``resources/demo`` into the user cache on
    first use.  It is *not* a MindRove recording; :attr:`description` says so.
    """

    kind = "demo"
    RESOURCE = "myo_gestures_500hz"

    def __init__(self) -> None:
        meta = json.loads(paths.resource("demo", self.RESOURCE + ".json").read_text())
        super().__init__(unpack_demo_recording(), loop=True)
        self.meta = meta
        self.marker_names = {float(k): v for k, v in meta.get("markers", {}).items()}
        self.description = "Demo: real Myo recording resampled to 500 Hz (not a MindRove armband; no IMU)"


def unpack_demo_recording() -> Path:
    """Unpack the bundled demo recording into the cache folder (once) and return its path."""
    src = paths.resource("demo", DemoSource.RESOURCE + ".tsv.gz")
    dst = paths.cache_dir() / (DemoSource.RESOURCE + ".tsv")
    if not dst.exists() or dst.stat().st_mtime < src.stat().st_mtime:
        with atomic_write(dst) as tmp, gzip.open(src, "rb") as fin, open(tmp, "wb") as fout:
            shutil.copyfileobj(fin, fout)
    return dst
