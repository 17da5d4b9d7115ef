"""Importer of the JHU-BCIS NTX 2023 paired Myo EMG + MediaPipe finger-angle session.

Source: github.com/JHU-BCIS/NTX-Competition-2023-Public (MIT licence,
Copyright (c) 2023 JHU-BCIS), commit 45b5c7ee.  Two CSV files:

* ``EMG_data_*.csv``: ``time`` (``HH:MM:SS.mmm``, 12-hour clock, no date),
  ``currentData_1 .. currentData_8``: Myo EMG after MiniVIE's decimation and
  normalisation (about 54 irregular rows per second, values about -1.2..1.3,
  unitless).
* ``mediapipe_*.csv``: ``timestamp`` (``YY/MM/DD HH:MM:SS.mmm``, 24-hour clock:
  ``23/06/22`` is 22 June 2023, the date in the EMG file's name),
  ``thumb, index, middle, ring, little``: per-finger flexion angle in degrees
  (180 = straight), about 17 Hz.

Clock alignment
---------------
The two files only share wall-clock time, one on a 12-hour and one on a
24-hour clock (12:25 vs 00:25 the same night).  As the upstream MATLAB scripts
do, the hour is dropped and both are aligned on ``minutes:seconds.milliseconds``
(a wrap past the full hour is unwrapped).  Session time 0 is the first EMG row.

Recording date
--------------
Only the MediaPipe file carries a date.  ``meta["session_t0_unix"]`` (the Unix
time of session time 0, which a session file keeps and the session library
shows) is its first timestamp minus that frame's session time.  The file names
no time zone, so its wall-clock time is read as local time: the library shows
the date and time written in the file.

Resampling
----------
The EMG rows arrive irregularly (10-50 ms apart).  Models and the live
pipeline need a uniform grid, so the rows are resampled **causally** onto a
uniform grid of ``fs`` Hz (default 50 Hz: just under the mean row rate of
~54 rows/s, so almost no information is lost and no samples are invented):
grid sample ``k`` at time ``t_k`` is the mean of the rows in
``(t_k - 1/fs, t_k]``, or, when that interval holds no row, the last row at or
before ``t_k`` (zero-order hold).  No sample uses a row from its future, so a
model trained on this grid stays causal.

Filtering
---------
The data are already processed by MiniVIE and sampled at ~50 Hz, so the raw
sEMG band-pass (20-200 Hz) and a 50 Hz mains notch are impossible (above
Nyquist) and meaningless here.  :data:`FILTER_SPEC_HINT` gives the filter
spec to use with this data set (no band-pass, no notch); training stores it
in the checkpoint like any other spec.
"""

from __future__ import annotations

import csv
import logging
from datetime import datetime
from pathlib import Path

import numpy as np

from asha_app.core.errors import RecordingFileError
from asha_app.data.recording import Recording

log = logging.getLogger(__name__)

FINGER_NAMES = ["thumb", "index", "middle", "ring", "little"]
LICENSE_NOTE = "MIT, Copyright (c) 2023 JHU-BCIS (github.com/JHU-BCIS/NTX-Competition-2023-Public)"
DEFAULT_FS = 50.0


def filter_spec_hint(fs: float = DEFAULT_FS) -> dict:
    """The filter spec (as :meth:`FilterSpec.to_dict` dict) suitable for this data set: no band-pass, no notch."""
    return {"fs": float(fs), "band": None, "order": 4, "notch_hz": None, "notch_q": 30.0, "notch_harmonics": False}


def _mmss_seconds(clock: list[str], path: Path) -> np.ndarray:
    """Seconds within the hour from ``...HH:MM:SS.mmm`` strings, unwrapped past the full hour."""
    out = np.empty(len(clock))
    for i, s in enumerate(clock):
        hhmmss = s.strip().split(" ")[-1]
        parts = hhmmss.split(":")
        if len(parts) != 3:
            raise RecordingFileError(f"{path.name}: row {i + 2}: time {s!r} is not HH:MM:SS.mmm")
        try:
            out[i] = int(parts[1]) * 60 + float(parts[2])
        except ValueError as exc:
            raise RecordingFileError(f"{path.name}: row {i + 2}: time {s!r} is not HH:MM:SS.mmm") from exc
    # unwrap a pass over the full hour (mm:ss goes 59:59 -> 00:00)
    jumps = np.diff(out) < -1800.0
    if jumps.any():
        out[1:] += 3600.0 * np.cumsum(jumps)
    return out


def _wall_clock_unix(stamp: str) -> float | None:
    """Unix time of a MediaPipe ``YY/MM/DD HH:MM:SS.mmm`` timestamp read as local time (None if it has no date)."""
    try:
        return datetime.strptime(stamp.strip(), "%y/%m/%d %H:%M:%S.%f").timestamp()
    except ValueError:
        return None


def _read_csv(path: Path, n_values: int) -> tuple[list[str], np.ndarray, list[str]]:
    if not path.is_file():
        raise RecordingFileError(f"{path} does not exist: give the folder holding the paired EMG and MediaPipe CSV "
                                 "files")
    try:
        return _read_csv_rows(path, n_values)
    except UnicodeDecodeError as exc:
        raise RecordingFileError(f"{path}: not a text CSV file (byte {exc.start} is not UTF-8); it is damaged or "
                                 "not a paired EMG/MediaPipe export.") from exc
    except csv.Error as exc:
        raise RecordingFileError(f"{path}: not a readable CSV file ({exc}).") from exc


def _read_csv_rows(path: Path, n_values: int) -> tuple[list[str], np.ndarray, list[str]]:
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        try:
            header = next(reader)
        except StopIteration as exc:
            raise RecordingFileError(f"{path.name} is empty") from exc
        if len(header) != n_values + 1:
            raise RecordingFileError(f"{path.name}: expected {n_values + 1} columns, found {len(header)} ({header})")
        times, rows = [], []
        for i, row in enumerate(reader):
            if not row:
                continue
            if len(row) != n_values + 1:
                raise RecordingFileError(f"{path.name}: row {i + 2} has {len(row)} columns, expected {n_values + 1}")
            times.append(row[0])
            rows.append(row[1:])
    try:
        values = np.asarray(rows, dtype=np.float64)
    except ValueError as exc:
        raise RecordingFileError(f"{path.name}: a value is not a number ({exc})") from exc
    return times, values, header


def resample_causal(t: np.ndarray, x: np.ndarray, grid: np.ndarray, fs: float) -> np.ndarray:
    """Causal resampling of irregular rows onto a uniform grid.

    Parameters
    ----------
    t : array (n,)
        Row times, seconds, non-decreasing.
    x : array (n, c)
        Row values.
    grid : array (m,)
        Uniform grid times, seconds, ``grid[0] >= t[0]``.
    fs : float
        Grid rate, Hz (bin width ``1/fs``).

    Returns
    -------
    float32 array (m, c)
        Mean of the rows in ``(grid_k - 1/fs, grid_k]``; the last earlier row where that bin is empty.
    """
    hi = np.searchsorted(t, grid, side="right")  # rows with t <= grid_k are [0, hi)
    lo = np.searchsorted(t, grid - 1.0 / fs, side="right")  # rows with t <= grid_k - dt are [0, lo)
    csum = np.vstack([np.zeros((1, x.shape[1])), np.cumsum(x, axis=0)])
    count = hi - lo
    out = np.empty((len(grid), x.shape[1]))
    has = count > 0
    out[has] = (csum[hi[has]] - csum[lo[has]]) / count[has, None]
    held = np.clip(hi[~has] - 1, 0, len(t) - 1)
    out[~has] = x[held]
    return out.astype(np.float32)


def find_files(folder: str | Path) -> tuple[Path, Path]:
    """The (EMG csv, MediaPipe csv) pair in ``folder``.

    Raises
    ------
    RecordingFileError
        If the folder is missing or does not hold exactly one file of each kind.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise RecordingFileError(f"{folder} is not a folder: give the folder of the paired Myo/MediaPipe CSV files")
    emg = sorted(folder.glob("EMG_data_*.csv"))
    pose = sorted(folder.glob("mediapipe_*.csv"))
    if len(emg) != 1 or len(pose) != 1:
        raise RecordingFileError(
            f"{folder}: expected one EMG_data_*.csv and one mediapipe_*.csv, found {len(emg)} and {len(pose)}"
        )
    return emg[0], pose[0]


def load_paired(folder: str | Path | None = None, *, emg_csv: str | Path | None = None,
                pose_csv: str | Path | None = None,
                fs: float = DEFAULT_FS) -> Recording:
    """Import the paired session as a :class:`Recording`.

    Parameters
    ----------
    folder : path, optional
        Folder with one ``EMG_data_*.csv`` and one ``mediapipe_*.csv``.
    emg_csv, pose_csv : path, optional
        The two files, instead of ``folder``.
    fs : float
        Uniform EMG grid rate in Hz (default 50; see the module docstring).

    Returns
    -------
    Recording
        ``emg`` (n, 8) float32 unitless MiniVIE values on a uniform ``fs`` grid
        (``emg_units="MiniVIE normalised"``); ``label_t`` the MediaPipe frame
        times; ``targets`` (n_frames, 5) finger flexion angles in degrees
        (``target_names`` thumb..little, 180 = straight); ``valid`` all True;
        ``meta`` with source files, licence, the resampling and the filter hint.

    Raises
    ------
    RecordingFileError
        Missing files, wrong columns, unparsable times or values, or no time overlap.
    """
    if folder is not None:
        emg_path, pose_path = find_files(folder)
    else:
        if emg_csv is None or pose_csv is None:
            raise RecordingFileError("give either the folder or both emg_csv and pose_csv")
        emg_path, pose_path = Path(emg_csv), Path(pose_csv)
    et_str, emg_rows, _ = _read_csv(emg_path, 8)
    pt_str, angles, pheader = _read_csv(pose_path, 5)
    if [h.strip() for h in pheader[1:]] != FINGER_NAMES:
        raise RecordingFileError(f"{pose_path.name}: expected columns {FINGER_NAMES}, found {pheader[1:]}")
    et = _mmss_seconds(et_str, emg_path)
    pt = _mmss_seconds(pt_str, pose_path)
    if len(et) < 2 or len(pt) < 2:
        raise RecordingFileError(f"{emg_path.name} / {pose_path.name}: too few rows to import")
    if np.any(np.diff(et) < 0) or np.any(np.diff(pt) < 0):
        raise RecordingFileError(f"{emg_path.name} / {pose_path.name}: timestamps go backwards")
    if not np.isfinite(emg_rows).all():
        raise RecordingFileError(f"{emg_path.name}: EMG holds NaN or inf values")
    t0 = et[0]
    et = et - t0
    pt = pt - t0
    n = int(np.floor(et[-1] * fs)) + 1
    grid = np.arange(n) / fs
    emg = resample_causal(et, emg_rows, grid, fs)
    keep = (pt >= 0) & (pt <= grid[-1])
    if not keep.any():
        raise RecordingFileError(f"{emg_path.name} and {pose_path.name} do not overlap in time (mm:ss)")
    label_t = pt[keep]
    targets = angles[keep].astype(np.float32)
    first_frame_unix = _wall_clock_unix(pt_str[0])
    t0_unix = None if first_frame_unix is None else first_frame_unix - float(pt[0])
    if t0_unix is None:
        log.info("paired import: %s has no date in its first timestamp %r; no recording date", pose_path.name,
                 pt_str[0])
    log.info("paired import: %d EMG rows -> %d samples at %.1f Hz; %d pose frames", len(et), n, fs, len(label_t))
    return Recording(
        emg=emg,
        emg_t=grid,
        fs=float(fs),
        label_t=label_t,
        targets=targets,
        valid=np.isfinite(targets).all(axis=1),
        target_names=list(FINGER_NAMES),
        channel_names=[f"myo{i + 1}" for i in range(8)],
        emg_units="MiniVIE normalised",
        meta={
            "source": "JHU-BCIS NTX 2023 paired Myo + MediaPipe",
            "source_files": [emg_path.name, pose_path.name],
            "licence": LICENSE_NOTE,
            "device": "myo-minivie",
            "session": emg_path.stem,
            "participant": "ntx2023",
            "target_kind": "finger_flexion_deg",
            "resampling": f"causal bin-mean onto a uniform {fs:g} Hz grid from {len(et)} irregular rows",
            "clock_alignment": "hour dropped; aligned on mm:ss.mmm; t=0 at the first EMG row",
            "filter_hint": filter_spec_hint(fs),
            "signal_kind": "normalised",
            **({"session_t0_unix": t0_unix} if t0_unix is not None else {}),
        },
    )
