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

Safety: every exporter writes under a temporary name in the output's folder
and renames when complete (:mod:`asha_app.core.atomic`), so a kill or a full
disk never leaves a partial file under the output name; it refuses to
replace an existing output unless ``overwrite=True``, and never writes over
the session it reads, whatever ``overwrite`` says.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np

from asha_app.core.atomic import OutputExistsError, atomic_folder, atomic_write
from asha_app.core.errors import AshaError, RecordingFileError, describe_os_error
from asha_app.data.labels import pose_labels
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


#: an export larger than this asks first (``allow_large``): window 20000 / stride 1 once made 4.6 GB of a 1.2 MB session
SANE_EXPORT_BYTES = 2 * 1024**3


class ExportError(AshaError):
    """An export cannot be written: the output exists, is the input, or is not writable."""


class ExportTooLargeError(ExportError):
    """The export would be larger than :data:`SANE_EXPORT_BYTES`; repeat with ``allow_large=True`` to write it.

    Attributes
    ----------
    estimated_bytes : int
    """

    def __init__(self, message: str, estimated_bytes: int) -> None:
        super().__init__(message)
        self.estimated_bytes = int(estimated_bytes)


def _load(source: str | Path | Recording) -> Recording:
    return source if isinstance(source, Recording) else read_recording(source)


def _source_path(source) -> Path | None:
    if isinstance(source, Recording):
        f = source.meta.get("file")
        return Path(f) if f else None
    return Path(source)


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def check_output(source, out_path: str | Path, *, overwrite: bool = False, folder: bool = False) -> Path:
    """Refuse an output path before any work: the input itself, an existing file (without ``overwrite``), a folder
    where a file goes (or the reverse), or a folder that cannot be written.

    Returns
    -------
    Path
        ``out_path`` as a Path.

    Raises
    ------
    ExportError
        With a message naming the path and what to do.
    """
    out = Path(out_path)
    src = _source_path(source)
    if src is not None and (_same_file(out, src) or (folder and src.resolve().is_relative_to(out.resolve()))):
        raise ExportError(f"{out}: is the session being exported; choose another output name (the session is never "
                          "overwritten, even with --overwrite).")
    if out.exists():
        if folder and not out.is_dir():
            raise ExportError(f"{out}: exists and is a file; CSV exports go into a folder. Choose another name.")
        if not folder and out.is_dir():
            raise ExportError(f"{out}: is a folder; give a file name for the export.")
        if not overwrite:
            raise ExportError(f"{out}: already exists; choose another name, or replace it explicitly "
                              "(--overwrite on the command line).")
    parent = out.parent
    probe = parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise ExportError(f"{out}: the folder {probe} is not writable; choose another output folder.")
    return out


def estimate_npz_bytes(path: str | Path, window: int, stride: int) -> int:
    """Upper bound of the size of :func:`export_windows_npz`'s output for a session file (bytes, EMG windows only)."""
    from asha_app.data.reader import SessionFile  # noqa: PLC0415

    with SessionFile(path) as sf:
        n, c = sf.n_emg, sf.n_channels
    n_windows = (n - window) // max(int(stride), 1) + 1 if n >= window else 0
    return int(n_windows) * int(window) * int(c) * 4


def _check_room(out: Path, estimated: int, allow_large: bool, what: str) -> None:
    probe = out.parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        free = shutil.disk_usage(probe).free
    except OSError:
        free = None
    if free is not None and estimated > free:
        raise ExportError(f"{out}: the {what} would take about {estimated / 1e9:.2f} GB, more than the "
                          f"{free / 1e9:.2f} GB free on that disk; use a larger stride or shorter windows, or free space.")
    if estimated > SANE_EXPORT_BYTES and not allow_large:
        raise ExportTooLargeError(
            f"{out}: the {what} would take about {estimated / 1e9:.2f} GB on disk and in memory; check the window "
            "and stride (a stride of a few samples repeats every sample many times), or confirm to write it anyway "
            "(--allow-large on the command line).", estimated)


def _wrap_os_error(out: Path, exc: BaseException) -> ExportError:
    if isinstance(exc, OutputExistsError):
        return ExportError(f"{out}: appeared while the export was written; the export was not saved. Choose another name.")
    return ExportError(f"could not write {out}: {describe_os_error(exc)}. Nothing was left under that name.")


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
    overwrite: bool = False,
    allow_large: bool = False,
) -> dict:
    """Cut the session into EMG windows labelled at their last sample and save an ``.npz``.

    Parameters
    ----------
    source : path or Recording
        Session file (or an already loaded recording).
    out_path : path
        ``.npz`` to write (``.npz`` is appended when the name lacks it, as
        numpy does; the returned ``path`` is the name written).
    window, stride : int
        Window length and hop in EMG samples (default 200 ms / 50 ms at 500 Hz), both >= 1.
    filter_spec : FilterSpec, optional
        Filter the EMG causally first (:func:`asha_app.dsp.filters.filter_offline`),
        the same chain as live; ``None`` keeps raw EMG.
    max_label_gap_s : float
        See :func:`asha_app.data.labels.pose_labels`.
    only_valid : bool
        Keep only windows whose end has a valid label.
    overwrite : bool
        Replace an existing output (never the session being read).
    allow_large : bool
        Write even when the output would pass :data:`SANE_EXPORT_BYTES`.

    Returns
    -------
    dict
        ``{"windows": N, "path": str}``.

    Raises
    ------
    ExportError
        Output exists, is the input, or cannot be written; window or stride
        below 1; the output would not fit on the disk.
    ExportTooLargeError
        The output would pass :data:`SANE_EXPORT_BYTES` (without ``allow_large``).

    Notes
    -----
    Arrays in the file: ``emg`` (N, window, C) float32, ``y`` (N, d) float32
    (joint angles in degrees or targets), ``valid`` (N,), ``t_end`` (N,)
    session seconds, ``prompt`` (N,) index into ``prompt_labels`` (-1 outside
    prompts), ``repetition`` (N,), ``y_names``, ``channel_names``, ``fs``,
    ``meta`` (JSON).  Windows overlap: split by ``repetition`` or by time
    blocks of ``t_end``, never at random.
    """
    window, stride = int(window), int(stride)
    if window < 1 or stride < 1:
        raise ExportError(f"window ({window}) and stride ({stride}) must be at least 1 sample.")
    out_path = Path(out_path)
    if out_path.suffix != ".npz":
        out_path = out_path.with_name(out_path.name + ".npz")
    check_output(source, out_path, overwrite=overwrite)
    rec = _load(source)
    n = rec.emg.shape[0]
    if n < window:
        raise RecordingFileError(f"{rec.meta.get('file', 'recording')}: only {n} EMG samples, fewer than one window of {window}.")
    ends = np.arange(window - 1, n, stride)
    _check_room(out_path, int(ends.size) * window * rec.n_channels * 4, allow_large, "windowed export")
    emg = rec.emg.astype(np.float32)
    if filter_spec is not None:
        from asha_app.dsp.filters import filter_offline  # noqa: PLC0415

        emg = filter_offline(emg, filter_spec).astype(np.float32)
    t_end = rec.emg_t[ends]
    y, valid = pose_labels(rec, t_end, max_label_gap_s)
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
    try:
        with atomic_write(out_path, overwrite=overwrite) as tmp, open(tmp, "wb") as fh:
            np.savez(
                fh, emg=out, y=y[keep], valid=valid[keep], t_end=t_end[keep], prompt=label_id, repetition=rep,
                prompt_labels=np.array(labels, dtype=str), y_names=np.array(names, dtype=str),
                channel_names=np.array(rec.channel_names, dtype=str), fs=np.float64(rec.fs),
                meta=json.dumps({"window": window, "stride": stride, "filtered": filter_spec is not None,
                                 "source": str(rec.meta.get("file", "")), "emg_units": rec.emg_units}, default=str),
            )
    except OSError as exc:
        raise _wrap_os_error(out_path, exc) from exc
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
    max_label_gap_s: float = 0.25,
    block: int = 100_000,
    progress: ProgressCallback | None = None,
    overwrite: bool = False,
) -> dict:
    """Write the session in the emg2pose HDF5 layout.

    Parameters
    ----------
    source : path or Recording
    out_path : path
        ``.hdf5`` to create (an existing file only with ``overwrite``; never the session read).
    user, session, stage, side : str, optional
        Metadata attributes (defaults from the participant attributes and file name).
    angles_in_radians : bool
        emg2pose stores joint angles in radians; Asha stores degrees.  The
        unit written is also recorded in the extra attribute ``joint_angles_units``.
    max_label_gap_s : float
        See :func:`asha_app.data.labels.pose_labels`; the default equals training's ``max_label_gap_ms`` (250 ms), so a model
        evaluated on the export and on the session sees the same labelled windows.

    Returns
    -------
    dict
        ``{"samples": n, "valid_share": share of samples with a label, "path": str}``.

    Notes
    -----
    A recording without joint angles but with imported targets (e.g. the 5 finger flexions
    of the paired Myo set, degrees, 180 = straight) is written with its targets in the
    ``joint_angles`` field, unconverted (``joint_angles_units = "deg"``), and the extra
    attribute ``asha_target_kind = "targets"``, so Asha reads them back as targets.

    ``time`` is Unix seconds when the session's clock origin is known
    (``session_t0_unix``), session seconds otherwise.  The DOFs are Asha's
    hand-model DOFs, named in the extra attribute ``joint_angle_names``; they
    are not emg2pose's 20 UmeTrack angles, so emg2pose's forward kinematics
    does not apply to them.
    """
    out_path = check_output(source, out_path, overwrite=overwrite)
    rec = _load(source)
    n, c = rec.emg.shape
    if rec.joint_angles is not None:  # the canonical pose: hand-model joint angles
        kind, names, d = "joint_angles", list(rec.angle_names), rec.joint_angles.shape[1]
    elif rec.targets is not None:  # imported targets (e.g. 5 finger flexions), kept as they are
        kind, names, d = "targets", list(rec.target_names), rec.targets.shape[1]
        angles_in_radians = False
    else:
        raise RecordingFileError(f"{rec.meta.get('file', 'recording')}: has no pose labels (joint angles or imported "
                                 "targets); emg2pose files need them.")
    dtype = np.dtype([(EMG2POSE_TIME, "<f8"), (EMG2POSE_EMG, "<f4", (c,)), (EMG2POSE_JOINT_ANGLES, "<f4", (d,))])
    t0 = rec.meta.get("session_t0_unix")
    t0 = float(t0) if t0 is not None and np.isfinite(float(t0)) else 0.0
    participant = rec.meta.get("participant") or {}
    if not isinstance(participant, dict):  # imports may give a bare pseudonym
        participant = {"pseudonym": str(participant)}
    _check_room(out_path, n * (8 + 4 * c + 4 * d), True, "emg2pose export")
    try:
        with atomic_write(out_path, overwrite=overwrite) as tmp:
            n_valid = _write_emg2pose(tmp, rec, dtype, t0, participant, n, c, block, max_label_gap_s, angles_in_radians,
                                      user, session, stage, side, progress, kind, names)
    except OSError as exc:
        raise _wrap_os_error(out_path, exc) from exc
    return {"samples": n, "valid_share": n_valid / n if n else 0.0, "path": str(out_path)}


def _write_emg2pose(tmp, rec, dtype, t0, participant, n, c, block, max_label_gap_s, angles_in_radians, user, session,
                    stage, side, progress, kind, names) -> int:
    n_valid = 0
    with h5py.File(tmp, "w") as f:
        g = f.create_group(EMG2POSE_GROUP)
        ds = g.create_dataset(EMG2POSE_TIMESERIES, shape=(n,), dtype=dtype, chunks=(min(max(n, 1), 10_000),))
        for s in range(0, n, block):
            e = min(n, s + block)
            ang, valid = pose_labels(rec, rec.emg_t[s:e], max_label_gap_s)
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
        a["joint_angle_names"] = names
        a["joint_angles_units"] = "rad" if angles_in_radians else "deg"
        a["asha_target_kind"] = kind  # Asha's own: "targets" are not joint angles, read them back as targets
        a["emg_units"] = rec.emg_units
    return n_valid


def export_csv(source: str | Path | Recording, out_dir: str | Path, *, progress: ProgressCallback | None = None,
               block: int = 50_000, overwrite: bool = False) -> dict:
    """Write ``emg.csv`` (t, channels), ``labels.csv`` (t, valid, angles) and ``prompts.csv`` into ``out_dir``.

    The folder is filled under a temporary name and renamed when complete; an
    existing ``out_dir`` is replaced only with ``overwrite`` (and only once
    the new one is complete).
    ``prompts.csv`` has ``label, start_s, end_s, repetition`` with repetitions
    numbered from 1 (empty for free markers), as people count them; the session
    file stores them from 0.

    Returns
    -------
    dict
        Paths of the three files.

    Raises
    ------
    ExportError
        ``out_dir`` exists (without ``overwrite``), is a file, holds the
        session being read, or cannot be written.
    """
    out = check_output(source, out_dir, overwrite=overwrite, folder=True)
    rec = _load(source)
    _check_room(out, int(rec.emg.size * 14 + rec.emg.shape[0] * 12), True, "CSV export")
    names_ = {"emg": "emg.csv", "labels": "labels.csv", "prompts": "prompts.csv"}
    try:
        with atomic_folder(out, overwrite=overwrite) as tmp:
            _write_csv(rec, {k: tmp / v for k, v in names_.items()}, progress, block)
    except OSError as exc:
        raise _wrap_os_error(out, exc) from exc
    return {k: str(out / v) for k, v in names_.items()}


def _write_csv(rec: Recording, paths: dict[str, Path], progress, block: int) -> None:
    n = rec.emg.shape[0]
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
