"""Import NinaPro ``.mat`` files (``emg``, ``glove``, ``stimulus``, ``repetition``, ``restimulus``, ``rerepetition``).

NinaPro databases (Atzori et al., 2014, "Electromyography data for
non-invasive naturally-controlled robotic hand prostheses", Sci. Data) store
one MATLAB file per subject and exercise; the sampling rate differs per
database (DB1: 100 Hz after RMS rectification, DB2/DB3/DB7: 2 kHz, DB5:
200 Hz), so it is a parameter here unless the file has a ``frequency``
variable.  ``restimulus`` / ``rerepetition`` (relabelled movement intervals)
are preferred over ``stimulus`` / ``repetition`` when present.

What the ``emg`` variable holds differs too, and the importer records it
(``meta["signal_kind"]``, :mod:`asha_app.data.signal_kind`): DB1's Otto Bock
13E200 electrodes deliver their own RMS-rectified envelope at 100 Hz, and DB1
files have no ``frequency`` variable; DB2/DB3/DB5/DB7 files give
``frequency`` and hold raw sEMG.  So a file without ``frequency`` sampled at
200 Hz or less is read as a DB1-style envelope (no band-pass, no notch when
training), one with ``frequency`` as raw sEMG.

NinaPro files carry no recording date (the MATLAB header's "Created on" is
when the file was written), so an imported session has none: the session
library shows the date it was imported.
"""

from __future__ import annotations

import logging
import math
import struct
import zlib
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import scipy.io
from scipy.io.matlab import MatReadError

from asha_app.core.errors import RecordingFileError
from asha_app.data.recording import Prompt, Recording


log = logging.getLogger(__name__)


def _load_mat73(path: Path) -> dict:
    """Variables of a MATLAB v7.3 file (HDF5 inside); MATLAB stores arrays column-major, so each is transposed."""
    out = {}
    with h5py.File(path, "r") as f:
        for key, obj in f.items():
            if key.startswith("#") or not isinstance(obj, h5py.Dataset):
                continue
            arr = obj[()]
            out[key] = arr.T if isinstance(arr, np.ndarray) and arr.ndim >= 2 else arr
    return out


def _load_mat(path: Path) -> dict:
    if h5py.is_hdf5(path):  # MATLAB v7.3 (-v7.3 files are HDF5)
        try:
            return _load_mat73(path)
        except (OSError, RuntimeError, ValueError, KeyError, TypeError) as exc:
            raise RecordingFileError(f"{path}: a MATLAB v7.3 (HDF5) file that cannot be read ({exc}); it may be "
                                     "truncated. Re-save it in MATLAB, or with -v7 for a smaller file.") from exc
    try:
        return scipy.io.loadmat(path)
    except (OSError, ValueError, NotImplementedError, IndexError, TypeError, EOFError, MatReadError, KeyError,
            AttributeError, MemoryError, OverflowError, zlib.error, struct.error) as exc:
        raise RecordingFileError(
            f"{path}: not a readable MATLAB .mat file ({exc}). NinaPro files are MATLAB v5 files with an 'emg' "
            "variable."
        ) from exc


def _numeric(path: Path, name: str, value) -> np.ndarray:
    """``value`` as a real float array, or a clear error (strings, cell arrays, structs, complex numbers)."""
    arr = np.asarray(value)
    if arr.dtype.kind == "c":
        raise RecordingFileError(f"{path}: '{name}' holds complex numbers; NinaPro data is real-valued. "
                                 "The file is not a NinaPro recording, or it is damaged.")
    if arr.dtype.kind not in "biuf":
        raise RecordingFileError(f"{path}: '{name}' holds {arr.dtype.kind!r}-type data ({arr.dtype}), not numbers; "
                                 "the file is not a NinaPro recording, or it is damaged.")
    return arr.astype(np.float64 if arr.dtype.kind == "f" and arr.dtype.itemsize > 4 else np.float32)


def _runs(labels: np.ndarray) -> list[tuple[int, int, int]]:
    """(value, start index, end index exclusive) of constant non-zero runs."""
    lab = np.asarray(labels).reshape(-1)
    if lab.size == 0:
        return []
    change = np.flatnonzero(np.diff(lab) != 0) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [lab.size]])
    return [(int(lab[s]), int(s), int(e)) for s, e in zip(starts, ends, strict=True) if lab[s] != 0]


def signal_of(has_frequency: bool, fs: float) -> dict:
    """``signal_kind``, ``filter_hint`` and a ``signal_note`` of a NinaPro file (see the module docstring)."""
    from asha_app.data.signal_kind import RAW_SEMG, RMS_ENVELOPE, filter_for_kind  # noqa: PLC0415

    if not has_frequency and fs <= 200.0:
        kind, note = RMS_ENVELOPE, (f"no 'frequency' variable and {fs:g} Hz: NinaPro DB1-style EMG, the Otto Bock "
                                    "electrodes' own RMS envelope (not raw sEMG); trained without band-pass or notch")
    else:
        kind, note = RAW_SEMG, (f"raw sEMG at {fs:g} Hz ({'rate from the file' if has_frequency else 'rate given'}; "
                                "NinaPro DB2/DB3/DB5/DB7-style)")
    return {"signal_kind": kind, "filter_hint": filter_for_kind(kind, fs).to_dict(), "signal_note": note}


def read_ninapro(path: str | Path, fs: float | None = None) -> Recording:  # noqa: C901
    """Read a NinaPro ``.mat`` file into a :class:`Recording`.

    Parameters
    ----------
    path : str or Path
    fs : float, optional
        EMG sampling rate in Hz; required unless the file has ``frequency``.

    Returns
    -------
    Recording
        ``emg`` in the file's units, ``targets`` = the data-glove channels
        (``glove_1``...) at every EMG sample, ``prompts`` = one per movement
        repetition (``"movement <k>"``, repetition 0-based); ``meta`` with
        ``signal_kind``, ``filter_hint``, ``signal_note``, ``participant``
        (``"S<subject>"``) and ``session`` (the file's stem).

    Raises
    ------
    RecordingFileError
        If the file is not a readable MATLAB file or lacks ``emg``, or no rate is known.
    """
    path = Path(path)
    if not path.is_file():
        raise RecordingFileError(f"{path}: no such file.")
    m = _load_mat(path)
    if "emg" not in m:
        raise RecordingFileError(f"{path}: no 'emg' variable; not a NinaPro file (variables: "
                                 f"{sorted(k for k in m if not k.startswith('__'))}).")
    warnings: list[str] = []
    emg = _numeric(path, "emg", m["emg"]).astype(np.float32)
    if emg.ndim != 2:
        raise RecordingFileError(f"{path}: 'emg' has shape {emg.shape}, expected (samples, channels).")
    if emg.shape[0] < emg.shape[1]:
        warnings.append(f"'emg' is stored as {emg.shape[0]} x {emg.shape[1]}; read as {emg.shape[1]} samples of "
                        f"{emg.shape[0]} channel(s) (transposed).")
        emg = np.ascontiguousarray(emg.T)
    if emg.shape[0] == 0 or emg.shape[1] == 0:
        raise RecordingFileError(f"{path}: 'emg' is empty ({emg.shape}).")
    if not np.isfinite(emg).any():
        raise RecordingFileError(f"{path}: every 'emg' value is NaN or infinite; there is no signal to import.")
    has_frequency = "frequency" in m
    if fs is None and has_frequency:
        try:
            fs = float(_numeric(path, "frequency", m["frequency"]).reshape(-1)[0])
        except IndexError:
            fs = None
    if fs is None:
        raise RecordingFileError(f"{path}: the sampling rate is not in the file; give it (NinaPro DB1: 100 Hz, "
                                 "DB2/DB3/DB7: 2000 Hz, DB5: 200 Hz; 'asha import --fs 100', or the rate field of "
                                 "the import dialog).")
    if not math.isfinite(float(fs)) or fs <= 0:
        raise RecordingFileError(f"{path}: the sampling rate {fs!r} Hz is not a positive number; give the right one "
                                 "(NinaPro DB1: 100 Hz, DB2/DB3/DB7: 2000 Hz, DB5: 200 Hz).")
    n = emg.shape[0]
    t = np.arange(n) / float(fs)
    targets = None
    names: list[str] = []
    if "glove" in m:
        targets = _numeric(path, "glove", m["glove"]).astype(np.float32)
        if targets.ndim == 1:
            targets = targets[:, None]
        if targets.ndim != 2:
            raise RecordingFileError(f"{path}: 'glove' has shape {targets.shape}, expected (samples, sensors).")
        if targets.shape[0] != n and targets.shape[1] == n:
            targets = np.ascontiguousarray(targets.T)
        if targets.shape[0] != n:
            raise RecordingFileError(f"{path}: 'glove' has {targets.shape[0]} rows, 'emg' {n}; they must be sampled "
                                     "together.")
        names = [f"glove_{i + 1}" for i in range(targets.shape[1])]
    stim_key = "restimulus" if "restimulus" in m else ("stimulus" if "stimulus" in m else None)
    rep_key = "rerepetition" if "rerepetition" in m else ("repetition" if "repetition" in m else None)
    prompts = []
    if stim_key is not None:
        stim = _numeric(path, stim_key, m[stim_key]).reshape(-1)
        reps = _numeric(path, rep_key, m[rep_key]).reshape(-1) if rep_key is not None else np.zeros_like(stim)
        if stim.size > n:
            raise RecordingFileError(f"{path}: '{stim_key}' has {stim.size} entries, more than the {n} EMG samples.")
        if stim.size < n:
            warnings.append(f"'{stim_key}' covers only the first {stim.size} of {n} EMG samples; the rest has no "
                            "movement labels.")
        if reps.size != stim.size:
            warnings.append(f"'{rep_key}' has {reps.size} entries, '{stim_key}' {stim.size}; repetitions are left out.")
            rep_key, reps = None, np.zeros_like(stim)
        stim = np.where(np.isfinite(stim), stim, 0).astype(np.int64)
        reps = np.where(np.isfinite(reps), reps, 0).astype(np.int64)
        for value, s, e in _runs(stim):
            rep = int(reps[s]) - 1 if rep_key is not None else -1
            prompts.append(Prompt(f"movement {value}", float(t[s]), float(t[e - 1] + 1.0 / fs), rep))
    meta: dict[str, Any] = {"source_format": "ninapro", "source_file": str(path), "label_key": stim_key,
                            "session": path.stem, **signal_of(has_frequency, float(fs))}
    for w in warnings:
        log.warning("%s: %s", path, w)
    if warnings:
        meta["warnings"] = warnings
    for key in ("subject", "exercise"):
        if key in m and np.asarray(m[key]).dtype.kind in "biuf":
            meta[key] = np.asarray(m[key]).reshape(-1).tolist()
    if meta.get("subject"):
        meta["participant"] = f"S{int(meta['subject'][0])}"
    log.info("%s: %s", path.name, meta["signal_note"])
    return Recording(
        emg=emg, emg_t=t, fs=float(fs), label_t=t.copy() if targets is not None else np.zeros(0), targets=targets,
        valid=np.ones(n if targets is not None else 0, bool), target_names=names,
        channel_names=[f"ch{i + 1}" for i in range(emg.shape[1])], emg_units="as recorded (NinaPro)",
        prompts=prompts, meta=meta,
    )
