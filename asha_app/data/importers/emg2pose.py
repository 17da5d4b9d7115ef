"""Import emg2pose HDF5 session files (facebookresearch/emg2pose layout).

Layout (read-only reference: emg2pose's ``Emg2PoseSessionData``): group
``emg2pose`` holding one compound dataset ``timeseries`` with fields ``time``
(Unix s), ``emg`` (T, 16) and ``joint_angles`` (T, 20, radians), and metadata
attributes on the group (``session``, ``user``, ``side``, ``stage``,
``start``, ``end``, ``num_channels``, ``dataset``, ``sample_rate``).  Rows
whose joint angles are all zero are IK failures.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from asha_app.core.errors import RecordingFileError
from asha_app.data.exporters import (EMG2POSE_EMG, EMG2POSE_GROUP, EMG2POSE_JOINT_ANGLES, EMG2POSE_TIME,
                                     EMG2POSE_TIMESERIES)
from asha_app.data.recording import Recording


def _attr(v):
    if isinstance(v, bytes | np.bytes_):
        return v.decode("utf-8", errors="replace")
    if isinstance(v, np.ndarray):
        return [_attr(x) for x in v.tolist()]
    if isinstance(v, np.generic):
        return v.item()
    return v


def _read_timeseries(path: Path, label_rate_hz, block: int):  # noqa: C901
    warnings: list[str] = []
    with h5py.File(path, "r") as f:
        if EMG2POSE_GROUP not in f or not isinstance(f[EMG2POSE_GROUP], h5py.Group) \
                or EMG2POSE_TIMESERIES not in f[EMG2POSE_GROUP]:
            raise RecordingFileError(f"{path}: no '{EMG2POSE_GROUP}/{EMG2POSE_TIMESERIES}' dataset; not an emg2pose "
                                     "session file.")
        g = f[EMG2POSE_GROUP]
        ts = g[EMG2POSE_TIMESERIES]
        if not isinstance(ts, h5py.Dataset):
            raise RecordingFileError(f"{path}: '{EMG2POSE_GROUP}/{EMG2POSE_TIMESERIES}' is a group, not a dataset; "
                                     "not an emg2pose session file.")
        fields = ts.dtype.fields or {}
        missing = [k for k in (EMG2POSE_TIME, EMG2POSE_EMG, EMG2POSE_JOINT_ANGLES) if k not in fields]
        if missing:
            raise RecordingFileError(f"{path}: emg2pose timeseries lacks the field(s) {missing}.")
        if ts.ndim != 1:
            raise RecordingFileError(f"{path}: the emg2pose timeseries has shape {ts.shape}; expected one row per "
                                     "sample.")
        for name, want in ((EMG2POSE_TIME, 0), (EMG2POSE_EMG, 1), (EMG2POSE_JOINT_ANGLES, 1)):
            fdt = fields[name][0]
            base = fdt.base if fdt.subdtype is not None else fdt
            if base.kind not in "biuf":
                raise RecordingFileError(f"{path}: the emg2pose field '{name}' holds {base} values, not numbers.")
            if len(fdt.shape) != want:
                raise RecordingFileError(f"{path}: the emg2pose field '{name}' has per-sample shape {fdt.shape}; "
                                         f"expected {'a number' if want == 0 else 'a vector (channels)'}.")
        meta = {k: _attr(v) for k, v in g.attrs.items()}
        n = ts.shape[0]
        if n == 0:
            raise RecordingFileError(f"{path}: the emg2pose timeseries is empty.")
        time = np.empty(n, np.float64)
        c = fields[EMG2POSE_EMG][0].shape[0]
        d = fields[EMG2POSE_JOINT_ANGLES][0].shape[0]
        if c == 0:
            raise RecordingFileError(f"{path}: the emg2pose 'emg' field has no channels.")
        emg = np.empty((n, c), np.float32)
        fs = _positive(meta.get("sample_rate"))
        if fs is None:
            t_head = np.asarray(ts[: min(n, 1000)][EMG2POSE_TIME], np.float64)
            t_head = t_head[np.isfinite(t_head)]
            fs = (float((len(t_head) - 1) / (t_head[-1] - t_head[0]))
                  if len(t_head) > 1 and t_head[-1] > t_head[0] else None)
            if fs is None or not np.isfinite(fs) or fs <= 0:
                raise RecordingFileError(f"{path}: the sample rate attribute is {meta.get('sample_rate')!r} and the "
                                         "time field does not give one either; the file is damaged.")
            if "sample_rate" in meta:
                warnings.append(f"sample_rate attribute {meta.get('sample_rate')!r} is not a positive number; "
                                f"using {fs:.1f} Hz measured from the time field.")
        step = 1 if label_rate_hz is None else max(1, int(round(fs / label_rate_hz)))
        label_idx = np.arange(0, n, step)
        angles = np.empty((label_idx.size, d), np.float32)
        for s in range(0, n, block):
            e = min(n, s + block)
            rows = ts[s:e]
            time[s:e] = rows[EMG2POSE_TIME]
            emg[s:e] = rows[EMG2POSE_EMG]
            sel = label_idx[(label_idx >= s) & (label_idx < e)]
            angles[np.searchsorted(label_idx, sel)] = rows[EMG2POSE_JOINT_ANGLES][sel - s]
    if not np.isfinite(emg).any():
        raise RecordingFileError(f"{path}: every EMG value is NaN or infinite; there is no signal to import.")
    if not np.all(np.isfinite(time)):
        raise RecordingFileError(f"{path}: {int((~np.isfinite(time)).sum())} time values are NaN or infinite; the file "
                                 "is damaged.")
    if n > 1 and np.any(np.diff(time) <= 0):
        warnings.append(f"{int(np.sum(np.diff(time) <= 0))} time values do not increase; the time axis is unreliable.")
    meta["_warnings"] = warnings
    return time, emg, angles, label_idx, float(fs), meta, c, d


def _positive(value) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) and v > 0 else None


def read_emg2pose(path: str | Path, *, label_rate_hz: float | None = 50.0, block: int = 200_000) -> Recording:
    """Read an emg2pose-layout file into a :class:`Recording`.

    Parameters
    ----------
    path : str or Path
    label_rate_hz : float or None
        emg2pose has a label row per EMG sample (2 kHz); keep one label frame
        every ``fs / label_rate_hz`` samples (``None`` keeps all).

    Returns
    -------
    Recording
        EMG in the file's units, ``emg_t`` in seconds from the first sample
        (``meta["session_t0_unix"]`` is the first Unix time), joint angles in
        degrees, ``valid`` False on IK-failure rows.

    Raises
    ------
    RecordingFileError
        If the file is not HDF5 or lacks the emg2pose group / fields.
    """
    path = Path(path)
    if not path.exists() or not h5py.is_hdf5(path):
        raise RecordingFileError(f"{path}: not an HDF5 file; emg2pose files are HDF5 (.hdf5).")
    try:
        time, emg, angles, label_idx, fs, meta, c, d = _read_timeseries(path, label_rate_hz, block)
    except RecordingFileError:
        raise
    except (OSError, RuntimeError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise RecordingFileError(f"{path}: the emg2pose file cannot be read ({type(exc).__name__}: {exc}); it is "
                                 "truncated or damaged.") from exc
    warnings = meta.pop("_warnings", [])
    units = str(meta.get("joint_angles_units", "rad"))
    valid = ~np.all(np.isclose(angles, 0.0), axis=1)
    angles_deg = np.rad2deg(angles) if units == "rad" else angles
    angles_deg[~valid] = np.nan
    names = meta.get("joint_angle_names")
    if not isinstance(names, list) or len(names) != d:
        names = [f"joint_{i}" for i in range(d)]
    t0 = float(time[0])
    meta.update({"source_format": "emg2pose", "source_file": str(path), "session_t0_unix": t0,
                 "participant": {"pseudonym": str(meta.get("user", "")), "hand": str(meta.get("side", ""))}})
    meta.setdefault("signal_kind", "raw_semg")  # emg2pose's wristband: raw sEMG at 2 kHz (Asha's export says its own)
    names = [str(x) for x in names]
    labels = {"joint_angles": angles_deg.astype(np.float32), "angle_names": names}
    if meta.get("asha_target_kind") == "targets":  # Asha's export of imported targets (not joint angles)
        labels = {"targets": angles_deg.astype(np.float32), "target_names": names}
    if warnings:
        meta["warnings"] = warnings
    return Recording(
        emg=emg, emg_t=time - t0, fs=fs, label_t=time[label_idx] - t0, valid=valid,
        channel_names=[f"ch{i + 1}" for i in range(c)],
        emg_units=str(meta.get("emg_units", "emg2pose (high-pass filtered, as published)")), meta=meta, **labels,
    )
