"""Export session files for training and for other tools.

* :func:`export_windows_npz`: windowed EMG with the label at each window's
  end, plus the prompt/repetition of every window so that splits can follow
  repetitions or time blocks (never a random split of overlapping windows).
* :func:`export_emg2pose`: the emg2pose HDF5 layout (group ``emg2pose``, one
  compound dataset ``timeseries`` with fields ``time``, ``emg``,
  ``joint_angles``, and metadata attributes on the group), as read by
  facebookresearch/emg2pose's ``Emg2PoseSessionData``.  Labels are put on the
  EMG sample times, as emg2pose has them; label frames that are invalid (or
  EMG samples with no valid label within ``max_label_gap_s``) get all-zero
  joint angles, emg2pose's mark of an IK failure.
* :func:`export_csv`: three plain CSV files (EMG, labels, prompts).

Every exporter takes ``progress(done, total)``, called as work proceeds.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np

from asha_app.core.errors import RecordingFileError
from asha_app.data.reader import read_recording
from asha_app.data.recording import Recording

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], None]

#: Key names of the emg2pose layout (facebookresearch/emg2pose, ``Emg2PoseSessionData``).
EMG2POSE_GROUP = "emg2pose"
EMG2POSE_TIMESERIES = "timeseries"
EMG2POSE_TIME = "time"
EMG2POSE_EMG = "emg"
EMG2POSE_JOINT_ANGLES = "joint_angles"
EMG2POSE_META = ("session", "side", "stage", "start", "end", "num_channels", "dataset", "user", "sample_rate")


def _load(source: str | Path | Recording) -> Recording:
    return source if isinstance(source, Recording) else read_recording(source)


def labels_at(rec: Recording, t: np.ndarray, max_label_gap_s: float = 0.1, interpolate: bool = True):
    """Joint angles (and validity) of ``rec`` at times ``t``.

    Linear interpolation between the two neighbouring label frames when both
    are valid and at most ``max_label_gap_s`` apart; otherwise the sample has
    no label (NaN, ``valid`` False).  With ``interpolate=False`` the nearest
    earlier valid frame within ``max_label_gap_s`` is used.

    Parameters
    ----------
    rec : Recording
    t : array (k,)
        Session seconds.

    Returns
    -------
    angles : float32 array (k, d)
    valid : bool array (k,)
    """
    t = np.asarray(t, np.float64)
    values = rec.joint_angles if rec.joint_angles is not None else rec.targets
    if values is None or len(rec.label_t) == 0:
        return np.full((t.size, 0), np.nan, np.float32), np.zeros(t.size, bool)
    lt = np.asarray(rec.label_t, np.float64)
    ok = np.asarray(rec.valid, bool) if len(rec.valid) == len(lt) else np.ones(len(lt), bool)
    ok &= np.all(np.isfinite(values), axis=1)
    order = np.argsort(lt, kind="stable")
    lt, vals, ok = lt[order], np.asarray(values, np.float64)[order], ok[order]
    out = np.full((t.size, vals.shape[1]), np.nan)
    valid = np.zeros(t.size, bool)
    hi = np.searchsorted(lt, t, side="right")  # first frame after t
    lo = hi - 1
    inside = (lo >= 0) & (hi < lt.size)
    if interpolate:
        sel = np.flatnonzero(inside)
        a, b = lo[sel], hi[sel]
        good = ok[a] & ok[b] & ((lt[b] - lt[a]) <= max_label_gap_s)
        sel, a, b = sel[good], a[good], b[good]
        w = ((t[sel] - lt[a]) / np.maximum(lt[b] - lt[a], 1e-12))[:, None]
        out[sel] = (1 - w) * vals[a] + w * vals[b]
        valid[sel] = True
        # exactly on the last frame
        last = (lo == lt.size - 1) & (lo >= 0)
        exact = np.flatnonzero(last & (np.abs(t - lt[-1]) < 1e-9) & ok[-1])
        out[exact] = vals[-1]
        valid[exact] = True
    else:
        sel = np.flatnonzero(lo >= 0)
        a = lo[sel]
        good = ok[a] & ((t[sel] - lt[a]) <= max_label_gap_s)
        out[sel[good]] = vals[a[good]]
        valid[sel[good]] = True
    return out.astype(np.float32), valid


def _prompt_index(rec: Recording, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Per time: index into the list of prompt labels (-1 outside prompts) and repetition (-1)."""
    labels = sorted({p.label for p in rec.prompts if p.end > p.start})
    label_id = np.full(t.size, -1, np.int32)
    rep = np.full(t.size, -1, np.int32)
    for p in rec.prompts:
        if p.end > p.start:
            sel = (t >= p.start) & (t < p.end)
            label_id[sel] = labels.index(p.label)
            rep[sel] = p.repetition
    return label_id, rep, labels


def export_windows_npz(
    source: str | Path | Recording,
    out_path: str | Path,
    *,
    window: int = 100,
    stride: int = 25,
    filter_spec=None,
    max_label_gap_s: float = 0.1,
    only_valid: bool = True,
    progress: ProgressCallback | None = None,
) -> dict:
    """Cut the session into EMG windows labelled at their last sample and save an ``.npz``.

    Parameters
    ----------
    source : path or Recording
        Session file (or an already loaded recording).
    out_path : path
        ``.npz`` to write.
    window, stride : int
        Window length and hop in EMG samples (default 200 ms / 50 ms at 500 Hz).
    filter_spec : FilterSpec, optional
        Filter the EMG causally first (:func:`asha_app.dsp.filters.filter_offline`),
        the same chain as live; ``None`` keeps raw EMG.
    max_label_gap_s : float
        See :func:`labels_at`.
    only_valid : bool
        Keep only windows whose end has a valid label.

    Returns
    -------
    dict
        ``{"windows": N, "path": str}``.

    Notes
    -----
    Arrays in the file: ``emg`` (N, window, C) float32, ``y`` (N, d) float32
    (joint angles in degrees or targets), ``valid`` (N,), ``t_end`` (N,)
    session seconds, ``prompt`` (N,) index into ``prompt_labels`` (-1 outside
    prompts), ``repetition`` (N,), ``y_names``, ``channel_names``, ``fs``,
    ``meta`` (JSON).  Windows overlap: split by ``repetition`` or by time
    blocks of ``t_end``, never at random.
    """
    rec = _load(source)
    emg = rec.emg.astype(np.float32)
    if filter_spec is not None:
        from asha_app.dsp.filters import filter_offline  # noqa: PLC0415

        emg = filter_offline(emg, filter_spec).astype(np.float32)
    n = emg.shape[0]
    if n < window:
        raise RecordingFileError(f"{rec.meta.get('file', 'recording')}: only {n} EMG samples, fewer than one window of {window}.")
    ends = np.arange(window - 1, n, stride)
    t_end = rec.emg_t[ends]
    y, valid = labels_at(rec, t_end, max_label_gap_s)
    keep = np.flatnonzero(valid) if only_valid else np.arange(ends.size)
    out = np.empty((keep.size, window, emg.shape[1]), np.float32)
    total = int(keep.size)
    step = max(1, total // 100)
    for j, i in enumerate(keep):
        e = ends[i]
        out[j] = emg[e - window + 1: e + 1]
        if progress is not None and (j % step == 0):
            progress(j, total)
    label_id, rep, labels = _prompt_index(rec, t_end[keep])
    names = rec.angle_names if rec.joint_angles is not None else rec.target_names
    np.savez(
        out_path, emg=out, y=y[keep], valid=valid[keep], t_end=t_end[keep], prompt=label_id, repetition=rep,
        prompt_labels=np.array(labels, dtype=str), y_names=np.array(names, dtype=str),
        channel_names=np.array(rec.channel_names, dtype=str), fs=np.float64(rec.fs),
        meta=json.dumps({"window": window, "stride": stride, "filtered": filter_spec is not None,
                         "source": str(rec.meta.get("file", "")), "emg_units": rec.emg_units}, default=str),
    )
    if progress is not None:
        progress(total, total)
    return {"windows": total, "path": str(out_path)}


def export_emg2pose(
    source: str | Path | Recording,
    out_path: str | Path,
    *,
    user: str | None = None,
    session: str | None = None,
    stage: str = "asha",
    side: str | None = None,
    angles_in_radians: bool = True,
    max_label_gap_s: float = 0.1,
    block: int = 100_000,
    progress: ProgressCallback | None = None,
) -> dict:
    """Write the session in the emg2pose HDF5 layout.

    Parameters
    ----------
    source : path or Recording
    out_path : path
        ``.hdf5`` to create (overwritten).
    user, session, stage, side : str, optional
        Metadata attributes (defaults from the participant attributes and file name).
    angles_in_radians : bool
        emg2pose stores joint angles in radians; Asha stores degrees.  The
        unit written is also recorded in the extra attribute ``joint_angles_units``.
    max_label_gap_s : float
        See :func:`labels_at`.

    Returns
    -------
    dict
        ``{"samples": n, "valid_share": share of samples with a label, "path": str}``.

    Notes
    -----
    ``time`` is Unix seconds when the session's clock origin is known
    (``session_t0_unix``), session seconds otherwise.  The DOFs are Asha's
    hand-model DOFs, named in the extra attribute ``joint_angle_names``; they
    are not emg2pose's 20 UmeTrack angles, so emg2pose's forward kinematics
    does not apply to them.
    """
    rec = _load(source)
    n, c = rec.emg.shape
    if rec.joint_angles is None:
        raise RecordingFileError(f"{rec.meta.get('file', 'recording')}: has no joint-angle labels; emg2pose files need them.")
    d = rec.joint_angles.shape[1]
    dtype = np.dtype([(EMG2POSE_TIME, "<f8"), (EMG2POSE_EMG, "<f4", (c,)), (EMG2POSE_JOINT_ANGLES, "<f4", (d,))])
    t0 = rec.meta.get("session_t0_unix")
    t0 = float(t0) if t0 is not None and np.isfinite(float(t0)) else 0.0
    participant = rec.meta.get("participant") or {}
    n_valid = 0
    with h5py.File(out_path, "w") as f:
        g = f.create_group(EMG2POSE_GROUP)
        ds = g.create_dataset(EMG2POSE_TIMESERIES, shape=(n,), dtype=dtype, chunks=(min(max(n, 1), 10_000),))
        for s in range(0, n, block):
            e = min(n, s + block)
            ang, valid = labels_at(rec, rec.emg_t[s:e], max_label_gap_s)
            ang = np.where(valid[:, None], ang, 0.0)
            if angles_in_radians:
                ang = np.deg2rad(ang)
            rows = np.zeros(e - s, dtype)
            rows[EMG2POSE_TIME] = rec.emg_t[s:e] + t0
            rows[EMG2POSE_EMG] = rec.emg[s:e]
            rows[EMG2POSE_JOINT_ANGLES] = ang
            ds[s:e] = rows
            n_valid += int(valid.sum())
            if progress is not None:
                progress(e, n)
        a = g.attrs
        a["session"] = session or Path(str(rec.meta.get("file", "session"))).stem
        a["user"] = user or str(participant.get("pseudonym", "unknown"))
        a["side"] = side or str(participant.get("hand", "unknown"))
        a["stage"] = stage
        a["start"] = float(rec.emg_t[0] + t0) if n else 0.0
        a["end"] = float(rec.emg_t[-1] + t0) if n else 0.0
        a["num_channels"] = c
        a["dataset"] = "asha"
        a["sample_rate"] = float(rec.fs)
        a["joint_angle_names"] = list(rec.angle_names)
        a["joint_angles_units"] = "rad" if angles_in_radians else "deg"
        a["emg_units"] = rec.emg_units
    return {"samples": n, "valid_share": n_valid / n if n else 0.0, "path": str(out_path)}


def export_csv(source: str | Path | Recording, out_dir: str | Path, *, progress: ProgressCallback | None = None,
               block: int = 50_000) -> dict:
    """Write ``emg.csv`` (t, channels), ``labels.csv`` (t, valid, angles) and ``prompts.csv`` into ``out_dir``.

    ``prompts.csv`` has ``label, start_s, end_s, repetition`` with repetitions
    numbered from 1 (empty for free markers), as people count them; the session
    file stores them from 0.

    Returns
    -------
    dict
        Paths of the three files.
    """
    rec = _load(source)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    n = rec.emg.shape[0]
    paths = {"emg": out / "emg.csv", "labels": out / "labels.csv", "prompts": out / "prompts.csv"}
    with open(paths["emg"], "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["t_s", *[f"{c}_{rec.emg_units}" for c in (rec.channel_names or [f"ch{i + 1}" for i in range(rec.n_channels)])]])
        for s in range(0, n, block):
            e = min(n, s + block)
            np.savetxt(fh, np.column_stack([rec.emg_t[s:e], rec.emg[s:e]]), delimiter=",", fmt="%.6f")
            if progress is not None:
                progress(e, n)
    values = rec.joint_angles if rec.joint_angles is not None else rec.targets
    names = rec.angle_names if rec.joint_angles is not None else rec.target_names
    with open(paths["labels"], "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["t_s", "valid", *names])
        if values is not None and len(rec.label_t):
            valid = rec.valid if len(rec.valid) == len(rec.label_t) else np.ones(len(rec.label_t), bool)
            for t, v, row in zip(rec.label_t, valid, values, strict=True):
                w.writerow([f"{t:.6f}", int(bool(v)), *(("" if not np.isfinite(x) else f"{x:.4f}") for x in row)])
    with open(paths["prompts"], "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["label", "start_s", "end_s", "repetition"])
        for p in rec.prompts:  # repetitions numbered from 1 for people (the session file stores them from 0)
            w.writerow([p.label, f"{p.start:.6f}", f"{p.end:.6f}", p.repetition + 1 if p.repetition >= 0 else ""])
    if progress is not None and n == 0:
        progress(0, 0)
    return {k: str(v) for k, v in paths.items()}
