"""Loading recordings for the command line: session files (.h5), saved Recordings (.npz) and import folders.

``.npz`` is a plain numpy archive of a :class:`Recording` written by
:func:`save_npz` (arrays as arrays, names/meta/prompts as a JSON string).
``.h5`` goes through ``asha_app.data.reader.SessionFile(path).to_recording()``
when that reader exists.  A folder holding the paired Myo/MediaPipe CSV files
is imported with :mod:`asha_app.data.importers.paired_myo_mediapipe`.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import asdict
from pathlib import Path

import numpy as np

from asha_app.core.atomic import atomic_write
from asha_app.core.errors import RecordingFileError
from asha_app.data.recording import Prompt, Recording

_ARRAYS = ("emg", "emg_t", "label_t", "joint_angles", "joints_mm", "targets", "valid")


def save_npz(rec: Recording, path: str | Path) -> Path:
    """Write a Recording as ``.npz`` (arrays + a JSON header)."""
    path = Path(path)
    arrays = {k: getattr(rec, k) for k in _ARRAYS if getattr(rec, k) is not None}
    header = {"fs": rec.fs, "angle_names": rec.angle_names, "target_names": rec.target_names,
              "channel_names": rec.channel_names, "emg_units": rec.emg_units, "meta": rec.meta,
              "prompts": [asdict(p) for p in rec.prompts], "format": "asha-recording-npz", "version": 1}
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")  # numpy's rule, made explicit: the returned path is the file written
    with atomic_write(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, header=np.array(json.dumps(header, default=str)), **arrays)
    return path


def load_npz(path: str | Path) -> Recording:
    """Read a Recording written by :func:`save_npz`.

    Raises
    ------
    RecordingFileError
        Missing, unreadable or foreign file.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            header = json.loads(str(z["header"]))
            arrays = {k: z[k] for k in _ARRAYS if k in z.files}
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise RecordingFileError(f"{path} is not a readable Asha recording (.npz): {exc}") from exc
    if header.get("format") != "asha-recording-npz":
        raise RecordingFileError(f"{path} is not an Asha recording archive")
    meta = dict(header.get("meta", {}))
    meta.setdefault("source_file", path.name)
    return Recording(fs=float(header["fs"]), angle_names=header["angle_names"], target_names=header["target_names"],
                     channel_names=header["channel_names"], emg_units=header["emg_units"], meta=meta,
                     prompts=[Prompt(**p) for p in header.get("prompts", [])], **arrays)


def load_any(path: str | Path, fs: float | None = None) -> Recording:
    """A Recording from a session file, an ``.npz`` archive or a paired-data folder.

    Raises
    ------
    RecordingFileError
        Unknown kind of path, or the session reader is not available.
    """
    path = Path(path)
    if path.is_dir():
        from asha_app.data.importers.paired_myo_mediapipe import load_paired  # noqa: PLC0415 - h5py on first use

        return load_paired(path, fs=fs or 50.0)
    if path.suffix == ".npz":
        return load_npz(path)
    if path.suffix in (".h5", ".hdf5"):
        try:
            from asha_app.data.reader import SessionFile  # noqa: PLC0415 - h5py on first use
        except ImportError as exc:
            raise RecordingFileError(f"{path}: this build cannot read session files yet (no session reader)") from exc
        with SessionFile(path) as sf:
            rec = sf.to_recording()
        rec.meta.setdefault("source_file", path.name)
        return rec
    raise RecordingFileError(f"{path}: give a session file (.h5), a recording archive (.npz) or a paired-data folder")
