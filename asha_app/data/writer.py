"""The single writer of an Asha session file (layout in :mod:`asha_app.data.schema`).

The datasets it creates and the buffers that grow them are :mod:`asha_app.data.layout`; the reserve
file and the free-space check before each flush are :mod:`asha_app.data.disk_space`.

Crash safety
------------
The file is created with ``libver="latest"`` and switched to HDF5 SWMR
(single-writer / multiple-reader) mode once its groups exist.  In SWMR mode
HDF5 orders its metadata writes so that the file on disk is consistent after
every :meth:`SessionWriter.flush`; a process killed with ``kill -9`` leaves a
file that opens (read-only, see :class:`~asha_app.data.reader.SessionFile`)
with everything up to the last flush.

Appends are buffered in memory and written to the datasets by
:meth:`SessionWriter.flush`, which the recorder calls at least once per
second (:meth:`SessionWriter.maybe_flush` does it when ``flush_interval_s``
has passed).  So a crash loses at most the last ``flush_interval_s`` of data,
and the HDF5 library sees one resize and one write per dataset per flush
instead of one per 20 ms packet.

Errors
------
Any failure to create or write the file (disk full, folder not writable,
file removed) raises :class:`~asha_app.core.errors.RecordingFileError` naming
the file; the writer then closes the file and refuses further appends, and
the file stays valid up to the last successful flush.

Disk full is caught before HDF5 sees it when possible (free space and the
file-size limit are checked before each flush).  When a write fails inside
HDF5 all the same (another program filled the disk between the check and the
write, a quota), the writer frees a small reserve file it keeps beside the
session (``.NAME.reserve``), shrinks every dataset back to the rows of the last
good flush, and closes the file cleanly: no row that never reached the disk
is left in the file.  Unwritten space reads as NaN (the time, board-time,
package and raw datasets are created with a NaN fill value), never as
plausible zeros.

Finalizing
----------
:meth:`SessionWriter.finalize` writes the summary attributes while the file
is still open in SWMR mode, then closes it: a kill at any moment leaves a file
that opens (at worst flagged as interrupted, with all its data).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from asha_app.core.errors import RecordingFileError, describe_os_error
from asha_app.data import schema as S
from asha_app.data import integrity
from asha_app.data.disk_space import RESERVE_BYTES, make_reserve, release_reserve, usable_bytes
from asha_app.data.drops import package_gaps
from asha_app.data.layout import create_layout
from asha_app.data.reader import SessionFile
from asha_app.data.recording import Prompt

log = logging.getLogger(__name__)

#: Files whose HDF5 write failed and which could not be closed even after shrinking back and freeing
#: the reserve.  Garbage-collecting such a file makes HDF5 2.0 / h5py 3.16 crash the process
#: (measured: SIGSEGV at close after EFBIG), so they are kept here until the process ends.
_FAILED_FILES: list = []


class SessionWriter:
    """Write one session file; the only object that writes it.

    Parameters
    ----------
    path : str or Path
        File to create (``.h5``).  Its folder is created if needed.
    n_channels : int
        EMG channels ``C``.
    fs : float
        Nominal EMG sampling rate (Hz), stored as the root attribute ``fs``.
    angle_names : list of str
        Names of the ``d`` joint-angle DOFs of the hand model (may be empty).
    channel_names : list of str, optional
        EMG channel names (default ``ch1..chC``).
    participant, device, camera, hand_model, app_settings : dict, optional
        Stored as JSON attributes (participant: pseudonymous ID, arm, hand,
        consent time ...; device: board id, name, firmware ...).
    filter_spec : FilterSpec or dict, optional
        The live filter (:meth:`asha_app.dsp.filters.FilterSpec.to_dict`); the
        file keeps raw EMG, the spec says how the live view filtered it.
    session_t0_unix : float, optional
        Unix time of the session clock's origin
        (:attr:`asha_app.core.clock.SessionClock.t0_unix`).
    emg_to_video_offset_s : float
        Seconds to add to camera times to align them with EMG times.
    offset_source : str
        ``"assumed"`` (default 0) or ``"measured"``.
    target_names : list of str, optional
        Creates the optional ``/targets`` group (imported glove data etc.).
    video_shape : tuple (H, W), optional
        Creates the optional ``/video`` group (off by default: privacy).
    compression : str, optional
        ``"gzip"`` (default: deflate, readable by every HDF5 tool), ``"lzf"``
        (h5py only) or ``None`` for the EMG, landmark and label datasets.
        Measured by ``benchmarks/recording.py`` on real Myo sEMG replayed at
        500 Hz x 8 channels (20 min of data): gzip 7.0 ms CPU per second of
        data and 1.0 MB/min, none 4.8 ms and 1.9 MB/min (docs/session_format.md).
    flush_interval_s : float
        :meth:`maybe_flush` flushes when this much time passed (at most 1 s
        is what the crash-safety promise relies on).
    swmr : bool
        Use HDF5 SWMR mode (crash safe; default).  ``False`` only for bulk
        imports where a crash simply means re-running the import.
    package_modulus : int, optional
        Value at which the board's package counter wraps (the EMG source's
        ``package_modulus``); ``None``: see
        :func:`asha_app.data.drops.package_gaps`.
    package_restart : float, optional
        Package number a looping source starts again from (the EMG source's
        ``package_restart``: a playback file's first package); a jump back to
        it is a restart, not a wrap with lost samples.  Default: the first
        package number the writer sees.
    emg_units : str
        Units of ``raw`` (``"uV"`` for the armband; imported data keeps its own).
    min_free_bytes : int
        Stop cleanly (close the file, raise RecordingFileError) when a flush
        would leave less than this free on the disk, or would pass the
        process's file-size limit.  HDF5 itself must never see a failed write:
        after one it cannot close the file without crashing.
    overwrite : bool
        Replace an existing file (default: refuse).
    reserve_bytes : int
        Size of the reserve file kept beside the session while it is written
        (see "Errors" above); 0: none.
    lsl_clock_offset_s : float, optional
        LSL clock minus session clock (s) when LSL runs, so LSL and session times convert either way.
    lsl, sync_selftest : dict, optional
        LSL outlets/marker streams, and the last synchronization self-test (JSON attributes).

    Raises
    ------
    RecordingFileError
        If the file exists (and ``overwrite`` is False) or cannot be created.
    """

    def __init__(
        self,
        path: str | Path,
        n_channels: int,
        fs: float,
        angle_names: Iterable[str] = (),
        *,
        channel_names: Iterable[str] | None = None,
        participant: dict | None = None,
        device: dict | None = None,
        filter_spec: Any = None,
        camera: dict | None = None,
        hand_model: dict | None = None,
        app_settings: dict | None = None,
        source: dict | None = None,
        session_t0_unix: float | None = None,
        emg_to_video_offset_s: float = 0.0,
        offset_source: str = S.OffsetSource.ASSUMED,
        target_names: Iterable[str] | None = None,
        video_shape: tuple[int, int] | None = None,
        compression: str | None = "gzip",
        flush_interval_s: float = 1.0,
        swmr: bool = True,
        package_modulus: int | None = None,
        package_restart: float | None = None,
        emg_units: str = "uV",
        min_free_bytes: int = 20 * 1024 * 1024,
        overwrite: bool = False,
        reserve_bytes: int = RESERVE_BYTES,
        lsl_clock_offset_s: float | None = None,
        lsl: dict | None = None,
        sync_selftest: dict | None = None,
    ) -> None:
        self.path = Path(path)
        self.n_channels = int(n_channels)
        if self.n_channels < 1:
            raise ValueError(f"n_channels must be at least 1, got {n_channels}")
        self.fs = float(fs)
        self.angle_names = [str(a) for a in angle_names]
        self.channel_names = ([str(c) for c in channel_names] if channel_names is not None
                              else [f"ch{i + 1}" for i in range(self.n_channels)])
        if len(self.channel_names) != self.n_channels:
            raise ValueError(f"{len(self.channel_names)} channel names for {self.n_channels} channels")
        if offset_source not in (S.OffsetSource.ASSUMED, S.OffsetSource.MEASURED):
            raise ValueError(f"offset_source must be 'assumed' or 'measured', got {offset_source!r}")
        self.emg_units = str(emg_units)
        self.flush_interval_s = float(flush_interval_s)
        self.min_free_bytes = int(min_free_bytes)
        self.package_modulus = package_modulus
        self.target_names = [str(n) for n in target_names] if target_names is not None else None
        self.video_shape = tuple(video_shape) if video_shape is not None else None
        self._last_package: float | None = None
        self._pending_t0: float | None = None  # session time of the oldest EMG sample not yet on disk
        self._first_package: float | None = (
            float(package_restart) if package_restart is not None and math.isfinite(float(package_restart)) else None)
        self.package_restart = self._first_package
        self._last_flush = time.monotonic()
        self._broken: RecordingFileError | None = None
        self._closed = False
        self.finalized = False
        self.dropped_device = 0
        self.dropped_host = 0
        self._t_range = [math.inf, -math.inf]

        if self.path.exists() and not overwrite:
            raise RecordingFileError(f"{self.path}: a file with this name already exists; choose another name or "
                                     "delete it first.")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # a small per-dataset chunk cache: the default 1 MiB per dataset made a 30-minute session's
            # memory grow by ~100 MB (measured by benchmarks/recording_session.py); data is flushed anyway
            self._f = h5py.File(self.path, "w", libver="latest", rdcc_nbytes=64 * 1024)
        except (OSError, ValueError) as exc:
            raise RecordingFileError(
                f"cannot create session file {self.path}: {describe_os_error(exc)}. Choose a writable folder with free "
                "space."
            ) from exc
        self._reserve = make_reserve(self.path, int(reserve_bytes))
        try:
            self._streams = create_layout(
                self._f, fs=self.fs, channel_names=self.channel_names, emg_units=self.emg_units,
                angle_names=self.angle_names, package_modulus=self.package_modulus,
                package_restart=self.package_restart, target_names=self.target_names, video_shape=self.video_shape,
                participant=participant, device=device, filter_spec=filter_spec, camera=camera, hand_model=hand_model,
                app_settings=app_settings, source=source, session_t0_unix=session_t0_unix,
                emg_to_video_offset_s=emg_to_video_offset_s, offset_source=offset_source, compression=compression,
                lsl_clock_offset_s=lsl_clock_offset_s, lsl=lsl, sync_selftest=sync_selftest,
            )
            self.swmr = False
            if swmr:
                try:
                    self._f.swmr_mode = True
                    self.swmr = True
                except (ValueError, RuntimeError) as exc:  # a file system or HDF5 build without SWMR support
                    log.warning("%s: SWMR mode unavailable (%s); a crash may leave the file unreadable", self.path, exc)
                    self._f.attrs["swmr"] = False
            self._f.flush()
        except (OSError, RuntimeError) as exc:
            self._fail(exc, "creating the file layout")

    # ------------------------------------------------------------------ state
    def _check_open(self) -> None:
        if self._broken is not None:
            raise self._broken
        if self._closed:
            raise RecordingFileError(f"{self.path}: the session file is already closed; start a new recording.")

    def _release_reserve(self) -> None:
        release_reserve(self._reserve)
        self._reserve = None
    def _roll_back_and_close(self) -> bool:
        """After a failed HDF5 write: free the reserve, shrink every dataset to the last good flush, close.

        Returns True when the file was closed cleanly (it then holds exactly the
        rows of the last good flush); False when even that failed (the file is
        then kept open until the process ends, see ``_FAILED_FILES``).
        """
        self._release_reserve()
        try:
            good = getattr(self, "_good_counts", None)
            if good is not None:
                for key, stream in self._streams.items():
                    stream.rollback(good[key])
            self._f.flush()
            self._f.close()
            return True
        except (OSError, RuntimeError, ValueError) as exc:
            log.error("%s: the file could not be closed after a failed write (%s); it is left open "
                      "(closing it would crash HDF5)", self.path, exc)
            _FAILED_FILES.append((self._f, getattr(self, "_streams", None)))
            return False

    def _fail(self, exc: BaseException | str, doing: str, *, hdf5_failed: bool = True) -> None:
        reason = exc if isinstance(exc, str) else describe_os_error(exc)
        err = RecordingFileError(
            f"recording stopped: could not write {self.path} while {doing}: {reason}. "
            "The file keeps everything up to the last save (at most about one second earlier); free disk space "
            "or choose another folder and start a new recording."
        )
        self._broken = err
        if hdf5_failed:
            self._roll_back_and_close()
        else:
            try:
                self._f.close()
            except (OSError, RuntimeError, ValueError) as close_exc:
                log.warning("closing %s after a write error failed too: %s", self.path, close_exc)
            self._release_reserve()
        self._closed = True
        if isinstance(exc, BaseException):
            raise err from exc
        raise err

    def _check_space(self) -> None:
        """Refuse a flush that would fill the disk or pass the file-size limit (before HDF5 tries)."""
        pending = sum(
            sum(a.nbytes for parts in st.pending.values() for a in parts) for st in self._streams.values()
        )
        if pending == 0:
            return
        if not hasattr(self, "_chunk_bytes"):
            self._chunk_bytes = sum(
                int(np.prod(ds.chunks)) * ds.dtype.itemsize
                for st in self._streams.values() for ds in st.datasets.values() if ds.chunks is not None
            )
        needed = 2 * pending + self._chunk_bytes + 256 * 1024
        try:
            free = usable_bytes(self.path, self.min_free_bytes)
        except OSError as exc:
            self._fail(exc, "checking free space", hdf5_failed=False)
        if free < needed:
            self._fail(
                f"the disk is full or nearly full (would need {needed / 1e6:.1f} MB, {max(free, 0) / 1e6:.1f} MB "
                "usable)",
                "saving", hdf5_failed=False,
            )

    @property
    def is_open(self) -> bool:
        """True while appends are accepted."""
        return not self._closed and self._broken is None

    @property
    def counts(self) -> dict[str, int]:
        """Rows written to disk (flushed) per stream: ``emg``, ``imu``, ``frames``, ``prompts`` ..."""
        return {k: s.n_written for k, s in self._streams.items()}

    @property
    def pending(self) -> dict[str, int]:
        """Rows buffered in memory, not yet on disk, per stream."""
        return {k: s.n_pending for k, s in self._streams.items()}

    # ------------------------------------------------------------------ appends
    def append_emg(self, t, raw, package=None, marker=None, board_t=None) -> None:
        """Buffer a block of EMG samples.

        Parameters
        ----------
        t : array (n,)
            Session seconds of each sample (from the board's timestamps).
        raw : array (n, C)
            Raw sEMG in microvolts.
        package : array (n,), optional
            Board package numbers; gaps are recorded in ``/dropped``.
        marker : array (n,), optional
            Board marker channel (0 where none).
        board_t : array (n,), optional
            Board timestamps as received (NaN when not given).
        """
        self._check_open()
        t = np.asarray(t, dtype=np.float64).reshape(-1)
        n = t.shape[0]
        if n == 0:
            return
        raw = np.asarray(raw, dtype=np.float32).reshape(n, -1)
        if raw.shape[1] != self.n_channels:
            raise ValueError(f"EMG block has {raw.shape[1]} channels, the session has {self.n_channels}")
        nan = np.full(n, np.nan)
        package = nan if package is None else np.asarray(package, dtype=np.float64).reshape(n)
        marker = np.zeros(n) if marker is None else np.asarray(marker, dtype=np.float64).reshape(n)
        board_t = nan if board_t is None else np.asarray(board_t, dtype=np.float64).reshape(n)
        self._detect_gaps(t, package)
        self._streams["emg"].add({S.Emg.RAW: raw, S.Emg.T: t, S.Emg.BOARD_T: board_t, S.Emg.PACKAGE: package,
                                  S.Emg.MARKER: marker})
        self._t_range = [min(self._t_range[0], float(t[0])), max(self._t_range[1], float(t[-1]))]
        if self._pending_t0 is None:
            self._pending_t0 = float(t[0])

    def _detect_gaps(self, t: np.ndarray, package: np.ndarray) -> None:
        if np.all(np.isnan(package)):
            return
        prev = self._last_package
        if self._first_package is None:
            finite = package[np.isfinite(package)]
            self._first_package = float(finite[0])
        seq = package if prev is None else np.concatenate([[prev], package])
        idx, first, n_missing = package_gaps(seq, self.package_modulus, self._first_package)
        if prev is not None:
            idx = idx - 1  # index into this block of the first sample after the gap
        for i, fm, nm in zip(idx, first, n_missing, strict=True):
            self.append_dropped(float(t[max(int(i), 0)]), float(fm), int(nm), S.Dropped.SOURCE_DEVICE)
        self._last_package = float(package[-1])

    def append_imu(self, t, accel, gyro) -> None:
        """Buffer IMU samples: ``t`` (k,) session s, ``accel`` (k, 3) g, ``gyro`` (k, 3) deg/s."""
        self._check_open()
        t = np.asarray(t, dtype=np.float64).reshape(-1)
        if t.size == 0:
            return
        self._streams["imu"].add({
            S.Imu.T: t,
            S.Imu.ACCEL: np.asarray(accel, dtype=np.float32).reshape(t.size, 3),
            S.Imu.GYRO: np.asarray(gyro, dtype=np.float32).reshape(t.size, 3),
        })

    def append_dropped(self, t: float, first_missing_package: float, n_missing: int,
                       source: int = S.Dropped.SOURCE_DEVICE) -> None:
        """Record a gap of ``n_missing`` samples before session time ``t``.

        ``source`` is :attr:`Dropped.SOURCE_DEVICE` for package-number gaps and
        :attr:`Dropped.SOURCE_HOST` for samples the recorder lost from the ring
        buffer (``first_missing_package`` NaN then).
        """
        self._check_open()
        rec = np.zeros(1, dtype=S.Dropped.DTYPE)
        rec[0] = (t, first_missing_package, n_missing, source)
        if source == S.Dropped.SOURCE_HOST:
            self.dropped_host += int(n_missing)
        else:
            self.dropped_device += int(n_missing)
        self._streams["dropped"].add({"": rec})

    def append_frames(self, frames: Iterable[S.CameraLabelFrame]) -> None:
        """Buffer camera frames with their landmarks and IK labels.

        Takes :class:`~asha_app.data.schema.CameraLabelFrame` objects or the
        camera worker's ``CameraLabel`` (same attributes).

        A frame without a hand or with a failed fit is stored with NaN
        landmarks/angles and ``valid = False`` (never a neutral pose).
        """
        self._check_open()
        frames = list(frames)
        m = len(frames)
        if m == 0:
            return
        d, L = len(self.angle_names), S.N_LANDMARKS
        t = np.empty(m)
        img = np.full((m, L, 3), np.nan, np.float32)
        wld = np.full((m, L, 3), np.nan, np.float32)
        hand = np.zeros(m, dtype=f"S{S.HANDEDNESS_BYTES}")
        conf = np.zeros(m, np.float32)
        ang = np.full((m, d), np.nan, np.float32)
        jmm = np.full((m, L, 3), np.nan, np.float32)
        jwm = np.full((m, L, 3), np.nan, np.float32)
        err = np.full(m, np.nan, np.float32)
        rot = np.full((m, 3), np.nan, np.float32)
        trans = np.full((m, 3), np.nan, np.float32)
        valid = np.zeros(m, bool)
        for i, fr in enumerate(frames):
            t[i] = fr.t
            if fr.image_landmarks is not None:
                img[i] = fr.image_landmarks
            if fr.world_landmarks is not None:
                wld[i] = fr.world_landmarks
            hand[i] = (fr.handedness or "").encode("ascii", errors="replace")[: S.HANDEDNESS_BYTES]
            conf[i] = fr.confidence
            ik = fr.ik
            if ik is None:
                continue
            a = np.asarray(ik.angles_deg, np.float32).reshape(-1)
            if a.size != d:
                raise ValueError(f"IK result has {a.size} angles, the session has {d} ({self.angle_names})")
            err[i] = ik.fit_error_mm
            if ik.valid:
                joints = getattr(ik, "joints_hand_mm", None)
                ang[i] = a
                if joints is not None:
                    jmm[i] = joints
                jwm[i] = ik.joints_world_mm
                g = getattr(ik, "global_rot", None)
                tr = getattr(ik, "translation_mm", None)
                if g is not None:
                    rot[i] = g
                if tr is not None:
                    trans[i] = tr
                valid[i] = True
        self._streams["frames"].add({
            S.Camera.T: t, S.Camera.IMAGE_LANDMARKS: img, S.Camera.WORLD_LANDMARKS: wld, S.Camera.HANDEDNESS: hand,
            S.Camera.CONFIDENCE: conf, f"l:{S.Labels.JOINT_ANGLES}": ang, f"l:{S.Labels.JOINTS_MM}": jmm,
            f"l:{S.Labels.JOINTS_WORLD_MM}": jwm, f"l:{S.Labels.FIT_ERROR_MM}": err, f"l:{S.Labels.GLOBAL_ROT}": rot,
            f"l:{S.Labels.TRANSLATION_MM}": trans, f"l:{S.Labels.VALID}": valid,
        })

    def append_label_arrays(self, t, joint_angles=None, joints_mm=None, valid=None, *, joints_world_mm=None,
                            fit_error_mm=None, image_landmarks=None, world_landmarks=None) -> None:
        """Buffer label frames given as arrays (importers, :func:`asha_app.data.importers.session.write_recording`).

        Parameters
        ----------
        t : array (m,)
            Frame times (session s).
        joint_angles : array (m, d), optional
            Degrees; NaN where unknown.
        joints_mm, joints_world_mm : array (m, 21, 3), optional
        valid : bool array (m,), optional
            Default: True where every angle is finite.
        """
        self._check_open()
        t = np.asarray(t, np.float64).reshape(-1)
        m, d, L = t.size, len(self.angle_names), S.N_LANDMARKS
        if m == 0:
            return

        def arr(x, shape):
            return np.full(shape, np.nan, np.float32) if x is None else np.asarray(x, np.float32).reshape(shape)

        ang = arr(joint_angles, (m, d))
        if valid is None:
            valid = np.all(np.isfinite(ang), axis=1) if d else np.ones(m, bool)
        self._streams["frames"].add({
            S.Camera.T: t, S.Camera.IMAGE_LANDMARKS: arr(image_landmarks, (m, L, 3)),
            S.Camera.WORLD_LANDMARKS: arr(world_landmarks, (m, L, 3)),
            S.Camera.HANDEDNESS: np.zeros(m, dtype=f"S{S.HANDEDNESS_BYTES}"),
            S.Camera.CONFIDENCE: np.zeros(m, np.float32),
            f"l:{S.Labels.JOINT_ANGLES}": ang, f"l:{S.Labels.JOINTS_MM}": arr(joints_mm, (m, L, 3)),
            f"l:{S.Labels.JOINTS_WORLD_MM}": arr(joints_world_mm, (m, L, 3)),
            f"l:{S.Labels.FIT_ERROR_MM}": arr(fit_error_mm, (m,)), f"l:{S.Labels.GLOBAL_ROT}": arr(None, (m, 3)),
            f"l:{S.Labels.TRANSLATION_MM}": arr(None, (m, 3)),
            f"l:{S.Labels.VALID}": np.asarray(valid, bool).reshape(m),
        })

    def append_prompt(self, prompt: Prompt, discarded: bool = False) -> None:
        """Buffer one prompt record (label, start, end, repetition) on the session clock.

        ``discarded=True`` records a repetition that was cut short or thrown
        away (the procedure's ``PROMPT_DISCARDED`` event); readers then drop
        the identical completed record written before.
        """
        self._check_open()
        rec = np.zeros(1, dtype=S.Prompts.DTYPE)
        rec[0] = (S.encode_label(prompt.label), prompt.start, prompt.end, prompt.repetition, bool(discarded))
        self._streams["prompts"].add({"": rec})

    def append_marker(self, label: str, t: float) -> None:
        """Buffer a free marker at session time ``t``."""
        self._check_open()
        rec = np.zeros(1, dtype=S.Markers.DTYPE)
        rec[0] = (S.encode_label(label), t)
        self._streams["markers"].add({"": rec})

    def append_targets(self, t, values) -> None:
        """Buffer target rows (``/targets``; only when created with ``target_names``)."""
        self._check_open()
        if "targets" not in self._streams:
            raise ValueError("this session was created without target_names; it has no /targets group")
        t = np.asarray(t, np.float64).reshape(-1)
        if t.size:
            self._streams["targets"].add({S.Targets.T: t,
                                          S.Targets.VALUES: np.asarray(values, np.float32).reshape(t.size, -1)})

    def append_video(self, t: float, frame_rgb: np.ndarray) -> None:
        """Buffer one RGB video frame (``/video``; only when created with ``video_shape``)."""
        self._check_open()
        if "video" not in self._streams:
            raise ValueError("video storage is off for this session (create the writer with video_shape=(H, W))")
        self._streams["video"].add({S.Video.T: np.array([t], np.float64),
                                    S.Video.FRAMES: np.asarray(frame_rgb, np.uint8)[None]})

    # ------------------------------------------------------------------ flushing
    def flush(self) -> None:
        """Write everything buffered to the datasets and flush the file to disk.

        Raises
        ------
        RecordingFileError
            If writing fails (disk full, file removed); the writer is then closed.
        """
        self._check_open()
        self._check_space()
        # rows on disk before this flush: a failed write shrinks every dataset back to them
        self._good_counts = {k: s.n_written for k, s in self._streams.items()}
        try:
            for stream in self._streams.values():
                stream.write()
            self._f.flush()
        except (OSError, RuntimeError, ValueError) as exc:
            self._fail(exc, "saving")
        self._good_counts = {k: s.n_written for k, s in self._streams.items()}
        self._last_flush = time.monotonic()
        self._pending_t0 = None

    def maybe_flush(self) -> bool:
        """Flush when due; returns True if it flushed.

        Due when ``flush_interval_s`` of wall time passed since the last flush,
        or when the buffered EMG spans 90 % of ``flush_interval_s`` of session
        time (after a stall the recorder drains several seconds at once; the
        promise "at most the last second is lost" is about data time).
        """
        span = self._t_range[1] - self._pending_t0 if self._pending_t0 is not None else 0.0
        if time.monotonic() - self._last_flush >= self.flush_interval_s or span >= 0.9 * self.flush_interval_s:
            self.flush()
            return True
        return False

    def close(self) -> None:
        """Flush and close without finalizing (the file stays marked ``finalized = False``)."""
        if self._closed:
            return
        self.flush()
        try:
            self._f.close()
        except (OSError, RuntimeError) as exc:
            self._fail(exc, "closing")
        self._closed = True
        self._release_reserve()

    def finalize(self, extra_summary: dict | None = None) -> dict:
        """Flush, write the end-of-session summary attributes, and close.

        Computes :func:`asha_app.data.integrity.check_session` on the file,
        stores it as the root attribute ``summary`` (JSON), sets
        ``finalized = True`` and closes the file.  The attributes are written
        while the file is still in SWMR mode (never through a second,
        non-SWMR opening), so a kill or power cut at any moment leaves a file
        that opens with all its data: at worst flagged as interrupted and
        without the summary, which ``asha check --recover`` then writes.

        Returns
        -------
        dict
            The summary (see :class:`asha_app.data.integrity.SessionReport`).

        Raises
        ------
        RecordingFileError
            The last flush or the summary could not be written (the message
            says what of the data is saved).
        """
        self.flush()
        report = integrity.check_open_session(SessionFile(self.path, h5file=self._f))
        summary = report.to_dict()
        summary["crashed"] = False
        summary["warnings"] = [w for w in summary["warnings"] if "interrupted" not in w]
        if extra_summary:
            summary.update(extra_summary)
        self._good_counts = {k: s.n_written for k, s in self._streams.items()}
        try:
            integrity.write_summary(self._f, summary)
        except (OSError, RuntimeError, ValueError) as exc:
            self._fail(exc, "writing the end-of-session summary (the recorded data itself is saved)")
        self.close()
        self.finalized = True
        return summary

    def __enter__(self) -> SessionWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._closed:
            return
        if exc_type is None:
            self.finalize()
        else:
            try:
                self.close()
            except RecordingFileError as close_exc:
                log.error("%s", close_exc)
