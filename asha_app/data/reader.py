"""Read-only access to Asha session files (layout in :mod:`asha_app.data.schema`).

::

    with SessionFile("session.h5") as sf:
        print(sf.summary, sf.n_emg, sf.crashed)
        raw = sf.emg_raw[1000:2000]        # lazy: reads only this slice
        rec = sf.to_recording()            # everything in memory

Opening checks the file is HDF5, carries ``format = "asha-session"`` and a
``schema_version`` this code understands, and has the mandatory groups; any
problem raises :class:`~asha_app.core.errors.RecordingFileError` naming the
file and what is wrong.  A file whose writer was killed (still flagged "open
for writing" by HDF5) is opened in SWMR read mode, which HDF5 allows for
files written in SWMR mode; :attr:`SessionFile.crashed` is then True.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from asha_app.core.errors import RecordingFileError
from asha_app.data import schema as S
from asha_app.data.recording import Prompt, Recording

log = logging.getLogger(__name__)

#: meta key: seconds already added to ``Recording.label_t`` (see :meth:`SessionFile.to_recording`)
VIDEO_OFFSET_APPLIED = "video_offset_applied_s"

_REQUIRED = (S.Emg.GROUP + "/" + S.Emg.RAW, S.Emg.GROUP + "/" + S.Emg.T)


def _decode_attr(value: Any) -> Any:
    if isinstance(value, bytes | np.bytes_):
        value = value.decode("utf-8", errors="replace")
    if isinstance(value, np.ndarray):
        return [_decode_attr(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    return value


def open_h5_readonly(path: Path) -> tuple[h5py.File, bool]:
    """Open an HDF5 file read-only; returns ``(file, crashed)``.

    ``crashed`` is True when the file was left flagged open-for-write by a
    writer that did not close it (kill -9, power cut) and was opened in SWMR
    read mode instead.

    Raises
    ------
    RecordingFileError
        If the file is missing, not HDF5, or truncated/corrupt.
    """
    path = Path(path)
    if not path.exists():
        raise RecordingFileError(f"{path}: no such file.")
    if path.is_dir():
        raise RecordingFileError(f"{path}: is a folder, not a session file.")
    if not h5py.is_hdf5(path):
        raise RecordingFileError(f"{path}: not an HDF5 file (no HDF5 signature); it is not an Asha session file.")
    try:
        return h5py.File(path, "r"), False
    except OSError as exc:
        text = str(exc)
        if _locked(text):
            raise RecordingFileError(_LOCKED.format(path=path)) from exc
        if "already open for write" in text or "consistency flags" in text:
            try:
                return h5py.File(path, "r", swmr=True), True
            except OSError as exc2:
                if _locked(str(exc2)):
                    raise RecordingFileError(_LOCKED.format(path=path)) from exc2
                raise RecordingFileError(
                    f"{path}: the recording was interrupted while the file was open without crash protection "
                    f"(written by an older Asha or another program), and HDF5 cannot open it ({exc2}). "
                    "'asha check --recover' tries to repair it."
                ) from exc2
        raise RecordingFileError(f"{path}: the HDF5 file is truncated or corrupt and cannot be opened ({text}).") from exc


_LOCKED = ("{path}: the file is locked by another program that is writing it (a recording still running, or "
           "another Asha); wait until it is closed, or open a copy.")


def _locked(text: str) -> bool:
    """True when HDF5's message says another process holds the file's lock."""
    return "unable to lock file" in text or "Resource temporarily unavailable" in text or "errno = 11" in text


class SessionFile:
    """Read-only, lazy view of one session file.

    Parameters
    ----------
    path : str or Path
        The session file.

    Attributes
    ----------
    path : Path
    crashed : bool
        True when the file is still flagged open by its writer: the recording
        was interrupted (kill -9, power cut) or is still running.  The data up
        to the writer's last flush is readable either way.
    finalized : bool
        True when the writer's :meth:`~asha_app.data.writer.SessionWriter.finalize` ran.

    Raises
    ------
    RecordingFileError
        Missing, foreign (not ``format = "asha-session"``), newer-schema,
        truncated or corrupt files, naming the file and the problem.

    Notes
    -----
    Dataset properties (``emg_raw``, ``emg_t`` ...) return :class:`h5py.Dataset`
    objects: slicing them reads only that part from disk.  Reading a whole
    dataset costs about its size (8 channels x 500 Hz x 4 B = 16 kB per second
    of EMG).
    """

    def __init__(self, path: str | Path, *, h5file: h5py.File | None = None) -> None:
        self.path = Path(path)
        self._owned = h5file is None
        if h5file is None:
            self._f, self.crashed = open_h5_readonly(self.path)
        else:  # the writer's own open file (finalize): read through it, never close it here
            self._f, self.crashed = h5file, False
        try:
            self._validate()
        except RecordingFileError:
            self.close()
            raise
        except (OSError, KeyError, ValueError, RuntimeError, TypeError) as exc:
            self.close()
            raise RecordingFileError(f"{self.path}: the session file is damaged ({exc}).") from exc

    def _validate(self) -> None:
        a = self._f.attrs
        fmt = _decode_attr(a.get(S.Root.FORMAT))
        if fmt != S.FORMAT_NAME:
            raise RecordingFileError(
                f"{self.path}: HDF5 file but not an Asha session file (root attribute 'format' is {fmt!r}, "
                f"expected {S.FORMAT_NAME!r}). To use data from another tool, import it with 'asha import'."
            )
        version = _decode_attr(a.get(S.Root.SCHEMA_VERSION))
        if not isinstance(version, int):
            raise RecordingFileError(f"{self.path}: the session file has no valid schema_version attribute ({version!r}).")
        if version > S.SCHEMA_VERSION:
            raise RecordingFileError(
                f"{self.path}: written with session-format version {version}, this Asha reads up to version "
                f"{S.SCHEMA_VERSION}. Update Asha to open it."
            )
        for key in _REQUIRED:
            if key not in self._f:
                raise RecordingFileError(f"{self.path}: the session file lacks the dataset /{key}; it is damaged or incomplete.")
        for key in _REQUIRED:
            if not isinstance(self._f[key], h5py.Dataset):
                raise RecordingFileError(f"{self.path}: /{key} is a group, not a dataset; the file is damaged or foreign.")
        raw, t = self._f[_REQUIRED[0]], self._f[_REQUIRED[1]]
        if raw.ndim != 2 or t.ndim != 1:
            raise RecordingFileError(f"{self.path}: /emg/raw has shape {raw.shape} and /emg/t {t.shape}; expected "
                                     "(samples, channels) and (samples,). The file is damaged or foreign.")
        n_raw, n_t = raw.shape[0], t.shape[0]
        if n_raw != n_t:
            raise RecordingFileError(f"{self.path}: /emg/raw has {n_raw} rows but /emg/t has {n_t}; the file is damaged.")
        fs = _decode_attr(a.get(S.Root.FS))
        try:
            fs_value = float(fs)
        except (TypeError, ValueError):
            fs_value = float("nan")
        if not np.isfinite(fs_value) or fs_value <= 0:
            raise RecordingFileError(
                f"{self.path}: the sampling rate (root attribute 'fs') is {'missing' if fs is None else repr(fs)}; "
                "it must be a positive number of Hz. The file is damaged; re-import or re-record it.")
        self._fs = fs_value
        cam_t = f"{S.Camera.GROUP}/{S.Camera.T}"
        if cam_t in self._f:
            n_frames = self._f[cam_t].shape[0]
            for key in (S.Labels.JOINT_ANGLES, S.Labels.JOINTS_MM, S.Labels.VALID):
                full = f"{S.Labels.GROUP}/{key}"
                if full in self._f and self._f[full].shape[0] != n_frames:
                    raise RecordingFileError(
                        f"{self.path}: /{full} has {self._f[full].shape[0]} rows but /{cam_t} has {n_frames}; "
                        "the labels do not match their time axis. The file is damaged.")
        targets = S.Targets.GROUP
        if f"{targets}/{S.Targets.T}" in self._f and f"{targets}/{S.Targets.VALUES}" in self._f:
            nt, nv = self._f[f"{targets}/{S.Targets.T}"].shape[0], self._f[f"{targets}/{S.Targets.VALUES}"].shape[0]
            if nt != nv:
                raise RecordingFileError(f"{self.path}: /{targets}/values has {nv} rows but /{targets}/t has {nt}; "
                                         "the file is damaged.")
        self.finalized = bool(_decode_attr(a.get(S.Root.FINALIZED, False)))
        self.schema_version = version

    # ------------------------------------------------------------------ context
    def close(self) -> None:
        """Close the file (unless it is a writer's file handed in with ``h5file``)."""
        if self._owned:
            self._f.close()

    def __enter__(self) -> SessionFile:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ attributes
    @property
    def attrs(self) -> dict[str, Any]:
        """Root attributes, JSON attributes decoded into dicts."""
        out = {}
        for k, v in self._f.attrs.items():
            v = _decode_attr(v)
            if k in S.Root.JSON_ATTRS and isinstance(v, str):
                try:
                    v = json.loads(v)
                except json.JSONDecodeError:
                    log.warning("%s: attribute %s is not valid JSON", self.path, k)
            out[k] = v
        return out

    @property
    def summary(self) -> dict:
        """The end-of-session summary written by ``finalize()`` (empty when the session was interrupted).

        A summary that is not a JSON object (damaged or written by another
        tool) is ignored with a warning: the caller recomputes it.
        """
        value = self.attrs.get(S.Root.SUMMARY) or {}
        if not isinstance(value, dict):
            log.warning("%s: the 'summary' attribute is not a JSON object (%s); ignored", self.path, type(value).__name__)
            return {}
        return value

    @property
    def fs(self) -> float:
        """Nominal EMG sampling rate (Hz; checked positive and finite when the file was opened)."""
        return self._fs

    @property
    def emg_units(self) -> str:
        """Unit of ``/emg/raw``: ``"uV"`` for Asha's recordings; imported files keep their source's
        (:mod:`asha_app.core.units`)."""
        return str(_decode_attr(self._f[S.Emg.GROUP].attrs.get(S.Emg.UNITS, "uV")))

    @property
    def channel_names(self) -> list[str]:
        """EMG channel names."""
        names = _decode_attr(self._f[S.Emg.GROUP].attrs.get(S.Emg.CHANNEL_NAMES, []))
        return list(names) if names else [f"ch{i + 1}" for i in range(self.n_channels)]

    @property
    def angle_names(self) -> list[str]:
        """Joint-angle DOF names (``/labels`` attribute)."""
        if S.Labels.GROUP not in self._f:
            return []
        return list(_decode_attr(self._f[S.Labels.GROUP].attrs.get(S.Labels.ANGLE_NAMES, [])) or [])

    def has(self, key: str) -> bool:
        """True if the dataset or group ``key`` (e.g. ``"camera/t"``) exists."""
        return key in self._f

    def dataset(self, key: str) -> h5py.Dataset:
        """The dataset at ``key`` (lazy); raises RecordingFileError naming the file if absent."""
        if key not in self._f:
            raise RecordingFileError(f"{self.path}: the session file has no /{key}.")
        return self._f[key]

    # ------------------------------------------------------------------ lazy datasets
    @property
    def emg_raw(self) -> h5py.Dataset:
        """(n, C) float32 raw sEMG in :attr:`emg_units` (microvolts for Asha's recordings)."""
        return self._f[S.Emg.GROUP][S.Emg.RAW]

    @property
    def emg_t(self) -> h5py.Dataset:
        """(n,) float64 session seconds."""
        return self._f[S.Emg.GROUP][S.Emg.T]

    @property
    def n_emg(self) -> int:
        """EMG samples in the file."""
        return int(self.emg_raw.shape[0])

    @property
    def n_channels(self) -> int:
        """EMG channels."""
        return int(self.emg_raw.shape[1])

    @property
    def n_frames(self) -> int:
        """Camera/label frames in the file."""
        key = f"{S.Camera.GROUP}/{S.Camera.T}"
        return int(self._f[key].shape[0]) if key in self._f else 0

    def _read(self, key: str, default=None):
        return self._f[key][()] if key in self._f else default

    def prompts(self, include_discarded: bool = False) -> list[Prompt]:
        """Prompts (``/prompts``) and free markers (``/markers``, ``end == start``, repetition -1), by start time.

        Parameters
        ----------
        include_discarded : bool
            Also return discarded repetitions (cut short or redone).  By
            default they are left out, together with the completed record each
            of them cancels (same label, start, end and repetition).
        """
        out = []
        recs = self._read(S.Prompts.DATASET)
        if recs is not None:
            names = recs.dtype.names or ()
            cancelled: dict[tuple, int] = {}
            rows = []
            for r in recs:
                p = Prompt(S.decode_label(r[S.Prompts.LABEL]), float(r[S.Prompts.START]), float(r[S.Prompts.END]),
                           int(r[S.Prompts.REPETITION]))
                discarded = bool(r[S.Prompts.DISCARDED]) if S.Prompts.DISCARDED in names else False
                rows.append((p, discarded))
                if discarded:
                    key = (p.label, p.start, p.end, p.repetition)
                    cancelled[key] = cancelled.get(key, 0) + 1
            for p, discarded in rows:
                key = (p.label, p.start, p.end, p.repetition)
                if discarded:
                    if include_discarded:
                        out.append(p)
                elif cancelled.get(key, 0) > 0 and not include_discarded:
                    cancelled[key] -= 1
                else:
                    out.append(p)
        recs = self._read(S.Markers.DATASET)
        if recs is not None:
            for r in recs:
                t = float(r[S.Markers.T])
                out.append(Prompt(S.decode_label(r[S.Markers.LABEL]), t, t, -1))
        out.sort(key=lambda p: (p.start, p.end))
        return out

    def dropped(self) -> np.ndarray:
        """``/dropped`` records (structured array: t, first_missing_package, n_missing, source)."""
        recs = self._read(S.Dropped.DATASET)
        return recs if recs is not None else np.zeros(0, dtype=S.Dropped.DTYPE)

    # ------------------------------------------------------------------ whole file
    def to_recording(self, apply_video_offset: bool = True) -> Recording:
        """Load the session into a :class:`Recording` (see :meth:`_to_recording`).

        Raises
        ------
        RecordingFileError
            A data block cannot be read (a damaged chunk: disk or copy error),
            or the EMG time axis holds NaN or infinite values inside the
            recording (trailing NaN rows, space a crashed writer never filled,
            are dropped with a warning in ``meta["warnings"]``).
        """
        try:
            rec = self._to_recording(apply_video_offset)
        except RecordingFileError:
            raise
        except (OSError, RuntimeError, ValueError, KeyError, TypeError) as exc:
            raise RecordingFileError(
                f"{self.path}: part of the data cannot be read ({type(exc).__name__}: {exc}); the file is damaged "
                "(a disk or copy error). 'asha check' tells which part; restore the file from a backup if you have one."
            ) from exc
        return _clean_time_axes(rec, self.path)

    def _to_recording(self, apply_video_offset: bool = True) -> Recording:
        """Load the session into a :class:`Recording` (raw EMG, labels, prompts, meta).

        ``joint_angles``, ``joints_mm`` and ``valid`` come from ``/labels``,
        ``label_t`` from ``/camera/t`` (capture times); imported files without
        camera frames give their ``/targets`` instead.  Invalid label frames
        keep NaN.  ``extras`` carries package numbers, board times, markers,
        IMU, world joints and fit errors.

        Parameters
        ----------
        apply_video_offset : bool
            Add the root attribute ``emg_to_video_offset_s`` to ``label_t`` so
            that labels line up with the EMG (default).  The offset applied is
            in ``meta["video_offset_applied_s"]``; :func:`asha_app.data.importers.session.write_recording`
            subtracts it again, so a read/write round trip keeps the stored
            capture times.
        """
        f = self._f
        emg = f[S.Emg.GROUP]
        extras = {}
        for key in (S.Emg.PACKAGE, S.Emg.BOARD_T, S.Emg.MARKER):
            if key in emg:
                extras[f"{S.Emg.GROUP}/{key}"] = emg[key][()]
        if S.Imu.GROUP in f and f[S.Imu.GROUP][S.Imu.T].shape[0]:
            for key in (S.Imu.T, S.Imu.ACCEL, S.Imu.GYRO):
                extras[f"{S.Imu.GROUP}/{key}"] = f[S.Imu.GROUP][key][()]
        label_t = np.zeros(0)
        joint_angles = joints_mm = targets = None
        valid = np.zeros(0, bool)
        angle_names = self.angle_names
        target_names: list[str] = []
        if self.n_frames:
            lab = f[S.Labels.GROUP]
            label_t = f[S.Camera.GROUP][S.Camera.T][()]
            if apply_video_offset:
                offset = float(f.attrs.get(S.Root.EMG_TO_VIDEO_OFFSET_S, 0.0))
                label_t = label_t + offset
            ja = lab[S.Labels.JOINT_ANGLES]
            joint_angles = ja[()] if ja.shape[1] > 0 else None
            joints_mm = lab[S.Labels.JOINTS_MM][()]
            valid = lab[S.Labels.VALID][()].astype(bool)
            extras[f"{S.Labels.GROUP}/{S.Labels.JOINTS_WORLD_MM}"] = lab[S.Labels.JOINTS_WORLD_MM][()]
            for key in (S.Labels.FIT_ERROR_MM, S.Labels.GLOBAL_ROT, S.Labels.TRANSLATION_MM):
                if key in lab:
                    extras[f"{S.Labels.GROUP}/{key}"] = lab[key][()]
        if S.Targets.GROUP in f:
            g = f[S.Targets.GROUP]
            targets = g[S.Targets.VALUES][()]
            target_names = list(_decode_attr(g.attrs.get(S.Targets.NAMES, [])) or [])
            if not self.n_frames:
                label_t = g[S.Targets.T][()]
                valid = np.all(np.isfinite(targets), axis=1)
        attrs = self.attrs
        meta = {k: v for k, v in attrs.items() if k != S.Root.SOURCE}
        source = attrs.get(S.Root.SOURCE) or {}
        if isinstance(source, dict):
            for k, v in source.items():
                meta.setdefault(k, v)
        meta["file"] = str(self.path)
        meta["crashed"] = self.crashed
        meta[VIDEO_OFFSET_APPLIED] = (
            float(f.attrs.get(S.Root.EMG_TO_VIDEO_OFFSET_S, 0.0)) if (apply_video_offset and self.n_frames) else 0.0
        )
        return Recording(
            emg=emg[S.Emg.RAW][()], emg_t=emg[S.Emg.T][()], fs=self.fs, label_t=label_t, joint_angles=joint_angles,
            joints_mm=joints_mm, targets=targets, valid=valid, angle_names=angle_names if joint_angles is not None else [],
            target_names=target_names, channel_names=self.channel_names,
            emg_units=self.emg_units, prompts=self.prompts(), meta=meta, extras=extras,
        )


def _clean_time_axes(rec: Recording, path: Path) -> Recording:
    """Drop trailing rows whose time is NaN (never written), refuse NaN times elsewhere, warn about NaN EMG."""
    warnings = list(rec.meta.get("warnings") or [])
    t = np.asarray(rec.emg_t, np.float64)
    bad = ~np.isfinite(t)
    if bad.any():
        good_idx = np.flatnonzero(~bad)
        n_keep = int(good_idx[-1]) + 1 if good_idx.size else 0
        if bad[:n_keep].any():
            raise RecordingFileError(
                f"{path}: {int(bad[:n_keep].sum())} EMG samples have a NaN or infinite time stamp inside the "
                "recording; the file is damaged and cannot be used for training as it is.")
        warnings.append(f"{t.size - n_keep} EMG rows at the end were never written (the writer was interrupted) "
                        "and are left out.")
        rec.emg, rec.emg_t = rec.emg[:n_keep], t[:n_keep]
        for key in [k for k in rec.extras if k.startswith("emg/")]:
            if len(rec.extras[key]) == t.size:
                rec.extras[key] = rec.extras[key][:n_keep]
    if len(rec.label_t):
        lt = np.asarray(rec.label_t, np.float64)
        ok = np.isfinite(lt)
        if not ok.all():
            warnings.append(f"{int((~ok).sum())} label frames without a valid time are left out.")
            rec.label_t = lt[ok]
            for name in ("joint_angles", "joints_mm", "targets"):
                v = getattr(rec, name)
                if v is not None and len(v) == lt.size:
                    setattr(rec, name, v[ok])
            if len(rec.valid) == lt.size:
                rec.valid = rec.valid[ok]
            for key in [k for k in rec.extras if k.startswith("labels/")]:
                if len(rec.extras[key]) == lt.size:
                    rec.extras[key] = rec.extras[key][ok]
    n_nan = int(np.count_nonzero(~np.isfinite(rec.emg))) if rec.emg.size else 0
    if n_nan:
        warnings.append(f"{n_nan} EMG values are NaN or infinite (invalid samples from the device).")
        log.warning("%s: %d EMG values are NaN or infinite", path, n_nan)
    if warnings:
        rec.meta["warnings"] = warnings
    return rec


def read_recording(path: str | Path) -> Recording:
    """Shortcut: ``SessionFile(path).to_recording()`` with the file closed afterwards."""
    with SessionFile(path) as sf:
        return sf.to_recording()
