"""Import NinaPro ``.mat`` files (``emg``, ``glove``, ``stimulus``, ``repetition``, ``restimulus``, ``rerepetition``).

NinaPro databases (Atzori et al., 2014, "Electromyography data for
non-invasive naturally-controlled robotic hand prostheses", Sci. Data) store
one MATLAB file per subject and exercise; the sampling rate differs per
database (DB1: 100 Hz after RMS rectification, DB2/DB3/DB7: 2 kHz, DB5:
200 Hz), so it is a parameter here unless the file has a ``frequency``
variable.  ``restimulus`` / ``rerepetition`` (relabelled movement intervals)
are preferred over ``stimulus`` / ``repetition`` when present.

NinaPro files carry no recording date (the MATLAB header's "Created on" is
when the file was written), so an imported session has none: the session
library shows the date it was imported.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.io
from scipy.io.matlab import MatReadError

from asha_app.core.errors import RecordingFileError
from asha_app.data.recording import Prompt, Recording


def _runs(labels: np.ndarray) -> list[tuple[int, int, int]]:
    """(value, start index, end index exclusive) of constant non-zero runs."""
    lab = np.asarray(labels).reshape(-1)
    if lab.size == 0:
        return []
    change = np.flatnonzero(np.diff(lab) != 0) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [lab.size]])
    return [(int(lab[s]), int(s), int(e)) for s, e in zip(starts, ends, strict=True) if lab[s] != 0]


def read_ninapro(path: str | Path, fs: float | None = None) -> Recording:
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
        repetition (``"movement <k>"``, repetition 0-based).

    Raises
    ------
    RecordingFileError
        If the file is not a readable MATLAB file or lacks ``emg``, or no rate is known.
    """
    path = Path(path)
    try:
        m = scipy.io.loadmat(path)
    except (OSError, ValueError, NotImplementedError, IndexError, TypeError, EOFError, MatReadError) as exc:
        raise RecordingFileError(
            f"{path}: not a readable MATLAB .mat file ({exc}). NinaPro files are MATLAB v5 files with an 'emg' variable."
        ) from exc
    if "emg" not in m:
        raise RecordingFileError(f"{path}: no 'emg' variable; not a NinaPro file (variables: {sorted(k for k in m if not k.startswith('__'))}).")
    emg = np.asarray(m["emg"], np.float32)
    if emg.ndim != 2:
        raise RecordingFileError(f"{path}: 'emg' has shape {emg.shape}, expected (samples, channels).")
    if fs is None and "frequency" in m:
        fs = float(np.asarray(m["frequency"]).reshape(-1)[0])
    if fs is None or fs <= 0:
        raise RecordingFileError(f"{path}: the sampling rate is not in the file; give it (NinaPro DB1: 100 Hz, "
                                 "DB2/DB3/DB7: 2000 Hz, DB5: 200 Hz; 'asha import --fs 100', or the rate field of "
                                 "the import dialog).")
    n = emg.shape[0]
    t = np.arange(n) / float(fs)
    targets = None
    names: list[str] = []
    if "glove" in m:
        targets = np.asarray(m["glove"], np.float32)
        if targets.shape[0] != n:
            raise RecordingFileError(f"{path}: 'glove' has {targets.shape[0]} rows, 'emg' {n}.")
        names = [f"glove_{i + 1}" for i in range(targets.shape[1])]
    stim_key = "restimulus" if "restimulus" in m else ("stimulus" if "stimulus" in m else None)
    rep_key = "rerepetition" if "rerepetition" in m else ("repetition" if "repetition" in m else None)
    prompts = []
    if stim_key is not None:
        stim = np.asarray(m[stim_key]).reshape(-1)
        reps = np.asarray(m[rep_key]).reshape(-1) if rep_key is not None else np.zeros_like(stim)
        for value, s, e in _runs(stim):
            rep = int(reps[s]) - 1 if rep_key is not None else -1
            prompts.append(Prompt(f"movement {value}", float(t[s]), float(t[e - 1] + 1.0 / fs), rep))
    meta = {"source_format": "ninapro", "source_file": str(path), "label_key": stim_key}
    for key in ("subject", "exercise"):
        if key in m:
            meta[key] = np.asarray(m[key]).reshape(-1).tolist()
    return Recording(
        emg=emg, emg_t=t, fs=float(fs), label_t=t.copy() if targets is not None else np.zeros(0), targets=targets,
        valid=np.ones(n if targets is not None else 0, bool), target_names=names,
        channel_names=[f"ch{i + 1}" for i in range(emg.shape[1])], emg_units="as recorded (NinaPro)",
        prompts=prompts, meta=meta,
    )
