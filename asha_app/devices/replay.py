"""Replay a recorded Asha session file as a live EMG source (Qt-free).

:class:`SessionReplaySource` is an :class:`~asha_app.devices.emg.EmgSource`:
the main window's :class:`~asha_app.workers.acquisition.AcquisitionWorker`
drains it like the armband, so a recorded session flows through the same
filter, rings, scopes and quality checks as a live one.

Two time axes
-------------
* **file time**: the session seconds stored in the file (``/emg/t``);
  :attr:`SessionReplaySource.position` is the file time of the next sample to
  play.  The GUI uses it to show the label frame of that moment
  (:meth:`SessionReplaySource.label_index_at`), so labels follow the EMG
  through pause and seek.
* **delivery time**: the board timestamps handed to the acquisition worker are
  Unix seconds of the moment each sample is played (spaced exactly ``1/fs``),
  so the live session clock keeps running forward through pause, seek and
  loop, and the drop counter sees consecutive package numbers.

The file's own package numbers and board times are not replayed (a seek would
look like a gap); its marker channel is.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import numpy as np

from asha_app.core.errors import RecordingFileError
from asha_app.core.units import emg_unit_label, emg_unit_to_uv
from asha_app.data.reader import SessionFile
from asha_app.devices.emg import EmgPacket, EmgSource

log = logging.getLogger(__name__)


def replay_description(path: str | Path, fs: float | None = None, duration_s: float | None = None,
                       units: str | None = None) -> str:
    """A replay's line in the status bar: file name, rate, duration and a unit other than volts (as far as known)."""
    parts = []
    if fs is not None:
        parts.append(f"{fs:g} Hz")
    if duration_s is not None:
        parts.append(f"{duration_s:.1f} s")
    if units and emg_unit_to_uv(units) is None:
        parts.append(f"EMG in {emg_unit_label(units)}")
    return f"Replay of {Path(path).name}" + (f" ({', '.join(parts)})" if parts else "")


class SessionReplaySource(EmgSource):
    """Play a session file's raw EMG (and IMU, markers) at its own rate.

    Parameters
    ----------
    path : str or Path
        Asha session file (read completely into memory on construction:
        8 channels x 500 Hz x 4 B = 16 kB per second, about 1 MB per minute).
    speed : float
        Playback speed (1 = real time).
    loop : bool
        Start again at the beginning at the end (default: pause at the end).
    max_block_s : float
        At most this many seconds are delivered per :meth:`read` (after a
        stall the source catches up over several reads).

    Attributes
    ----------
    label_t : float64 array (m,)
        Label frame times on the EMG clock (``emg_to_video_offset_s`` applied).
    joint_angles : float32 array (m, d) or None
    joints_mm : float32 array (m, 21, 3) or None
    valid : bool array (m,)
    angle_names : list of str
    participant : dict
        The file's participant attribute.
    units : str
        The file's EMG unit (``/emg`` attribute ``units``: ``"uV"`` for Asha's own recordings).

    Raises
    ------
    RecordingFileError
        If the file cannot be read as a session file or holds fewer than two EMG samples.
    """

    kind = "file"

    def __init__(self, path: str | Path, speed: float = 1.0, loop: bool = False, max_block_s: float = 0.25) -> None:
        self.path = Path(path)
        with SessionFile(self.path) as sf:
            rec = sf.to_recording()
        if rec.emg.shape[0] < 2:
            raise RecordingFileError(f"{self.path}: holds {rec.emg.shape[0]} EMG samples; nothing to replay.")
        self._emg = np.asarray(rec.emg, np.float64)
        self._t = np.asarray(rec.emg_t, np.float64)
        self._marker = np.asarray(rec.extras.get("emg/marker", np.zeros(len(self._t))), np.float64)
        self._marker = np.nan_to_num(self._marker)
        imu_t = rec.extras.get("imu/t")
        self._accel = self._gyro = None
        if imu_t is not None and len(imu_t) == len(self._t):
            self._accel = np.asarray(rec.extras["imu/accel"], np.float64)
            self._gyro = np.asarray(rec.extras["imu/gyro"], np.float64)
        self._fs = float(rec.fs)
        self.units = str(rec.emg_units or "uV")  # imported sessions keep their source's unit
        self._channel_names = list(rec.channel_names)
        self.label_t = np.asarray(rec.label_t, np.float64)
        self.joint_angles = rec.joint_angles
        self.joints_mm = rec.joints_mm
        self.valid = (np.asarray(rec.valid, bool) if len(rec.valid) == len(self.label_t)
                      else np.zeros(len(self.label_t), bool))
        self.angle_names = list(rec.angle_names)
        device = rec.meta.get("device")
        names = device.get("marker_names", {}) if isinstance(device, dict) else {}
        #: marker code -> name recorded with the session (e.g. the demo's gesture labels)
        self.marker_names: dict[float, str] = {}
        for k, v in (names.items() if isinstance(names, dict) else []):
            try:
                self.marker_names[float(k)] = str(v)
            except ValueError:
                continue
        participant = rec.meta.get("participant")
        self.participant = participant if isinstance(participant, dict) else {"pseudonym": str(participant or "")}
        self.prompts = list(rec.prompts)
        self.speed = float(speed)
        self.loop = bool(loop)
        self.max_block_s = float(max_block_s)
        self.warnings = []
        self.no_data_timeout_s = 1e9  # pauses are not lost connections
        self.package_modulus = None
        self.description = replay_description(self.path, self._fs, self.duration, self.units)
        self._lock = threading.Lock()
        self._index = 0  # next sample to deliver
        self._playing = False
        self._anchor_wall: float | None = None  # wall time at which sample _anchor_index is due
        self._anchor_index = 0
        self._package = 0
        self._next_board_t: float | None = None
        self.delivered = 0  # samples handed out since start()

    # ------------------------------------------------------------------ EmgSource
    @property
    def fs(self) -> float:
        return self._fs

    @property
    def n_channels(self) -> int:
        return int(self._emg.shape[1])

    @property
    def has_imu(self) -> bool:
        return self._accel is not None

    def channel_names(self) -> list[str]:
        return list(self._channel_names)

    def start(self) -> None:
        """Begin playing from the current position."""
        with self._lock:
            self._playing = True
            self._anchor_wall = time.monotonic()
            self._anchor_index = self._index

    def stop(self) -> None:
        """Stop playing (the position is kept)."""
        with self._lock:
            self._playing = False
            self._anchor_wall = None

    def read(self) -> EmgPacket | None:
        """Samples due since the last read at ``speed`` x real time (None when paused or at the end)."""
        with self._lock:
            if not self._playing or self._anchor_wall is None:
                return None
            now = time.monotonic()
            due = self._anchor_index + int((now - self._anchor_wall) * self._fs * self.speed)
            n_total = len(self._t)
            if due >= n_total and self.loop and self._index >= n_total:
                self._index = 0
                self._anchor_index, self._anchor_wall = 0, now
                due = 0
            end = min(due, n_total, self._index + max(1, int(self.max_block_s * self._fs)))
            if end <= self._index:
                if self._index >= n_total and not self.loop:
                    self._playing = False  # reached the end: pause there
                return None
            s, e = self._index, end
            self._index = e
            n = e - s
            unix_now = time.time()
            if self._next_board_t is None or abs(self._next_board_t - unix_now) > 0.5:
                self._next_board_t = unix_now - (n - 1) / self._fs
            board_t = self._next_board_t + np.arange(n) / self._fs
            self._next_board_t = float(board_t[-1]) + 1.0 / self._fs
            package = self._package + np.arange(n, dtype=np.float64)
            self._package += n
            self.delivered += n
            return EmgPacket(
                emg=self._emg[s:e].copy(), board_t=board_t, package=package, marker=self._marker[s:e].copy(),
                accel=None if self._accel is None else self._accel[s:e].copy(),
                gyro=None if self._gyro is None else self._gyro[s:e].copy(),
            )

    # ------------------------------------------------------------------ transport (any thread)
    @property
    def t_start(self) -> float:
        """File time of the first sample (s)."""
        return float(self._t[0])

    @property
    def t_end(self) -> float:
        """File time of the last sample (s)."""
        return float(self._t[-1])

    @property
    def duration(self) -> float:
        """Seconds from the first to the last sample."""
        return self.t_end - self.t_start

    @property
    def n_samples(self) -> int:
        """EMG samples in the file."""
        return int(len(self._t))

    @property
    def playing(self) -> bool:
        """True while samples are being delivered."""
        return self._playing

    @property
    def index(self) -> int:
        """Index of the next sample to deliver."""
        return self._index

    @property
    def position(self) -> float:
        """File time (s) of the last delivered sample (``t_start`` before the first)."""
        i = max(0, min(self._index, len(self._t)) - 1)
        return float(self._t[i])

    def pause(self) -> None:
        """Stop delivering; :meth:`play` continues from here."""
        self.stop()

    def play(self) -> None:
        """Continue delivering from the current position (from the start when at the end)."""
        with self._lock:
            if self._index >= len(self._t):
                self._index = 0
        self.start()

    def seek(self, t: float) -> None:
        """Jump to file time ``t`` (clipped to the recording); playing continues from there if it was playing."""
        with self._lock:
            self._index = int(np.searchsorted(self._t, float(t), side="left"))
            self._index = min(max(self._index, 0), len(self._t) - 1)
            self._anchor_index = self._index
            self._anchor_wall = time.monotonic() if self._playing else None

    def label_index_at(self, t: float, max_age_s: float = 0.2) -> int | None:
        """Index of the label frame shown at file time ``t``: the newest frame at or before ``t``.

        Returns None when there is no frame within ``max_age_s`` before ``t``.
        """
        if self.label_t.size == 0:
            return None
        i = int(np.searchsorted(self.label_t, t, side="right")) - 1
        if i < 0 or t - self.label_t[i] > max_age_s:
            return None
        return i

    def emg_between(self, t0: float, t1: float) -> np.ndarray:
        """Raw EMG (n, C) with file times ``t0 <= t < t1`` (tests, previews)."""
        a, b = np.searchsorted(self._t, [t0, t1], side="left")
        return self._emg[a:b]
