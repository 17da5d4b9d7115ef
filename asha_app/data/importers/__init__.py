"""Importers: external recordings -> :class:`~asha_app.data.recording.Recording` (and session files).

=================  =========================================  ======================================
format             reader                                     typical file
=================  =========================================  ======================================
``emg2pose``       :func:`.emg2pose.read_emg2pose`            ``*.hdf5`` with group ``emg2pose``
``ninapro``        :func:`.ninapro.read_ninapro`              ``S1_E1_A1.mat``
``brainflow``      :func:`.brainflow_csv.read_brainflow_csv`  ``DataFilter.write_file`` output (.csv/.txt)
``xdf``            :func:`.xdf.read_xdf`                      ``*.xdf`` (LabRecorder; EMG + marker + pose streams)
=================  =========================================  ======================================

``paired_myo_mediapipe`` (the paired Myo + MediaPipe CSV session in
``../shared/data``) has its own reader in
:mod:`asha_app.data.importers.paired_myo_mediapipe`.

:func:`import_file` guesses the format from the file when not given, and
:func:`import_to_session` writes the result as an Asha session file with
:func:`asha_app.data.importers.session.write_recording`.
"""

from __future__ import annotations

from pathlib import Path

import h5py

from asha_app.core.errors import RecordingFileError
from asha_app.data.recording import Recording

FORMATS = ("emg2pose", "ninapro", "brainflow", "paired", "xdf")
#: Reader options each format accepts.
OPTIONS = {"emg2pose": {"label_rate_hz"}, "ninapro": {"fs"}, "brainflow": {"board_id"}, "paired": {"fs"},
           "xdf": {"emg_stream", "marker_streams", "pose_stream"}}


def detect_format(path: str | Path) -> str:
    """Guess the format of ``path`` from its content and suffix.

    Raises
    ------
    RecordingFileError
        If the format cannot be told.
    """
    path = Path(path)
    if path.is_dir():
        return "paired"  # a folder holding the paired Myo EMG + MediaPipe CSV pair
    if not path.is_file():
        raise RecordingFileError(f"{path}: no such file.")
    with open(path, "rb") as fh:
        head = fh.read(128)
    if path.suffix.lower() == ".xdf" or head.startswith(b"XDF:"):
        return "xdf"
    if path.suffix.lower() == ".mat" or head.startswith(b"MATLAB"):
        return "ninapro"  # MATLAB v5, or v7.3 (HDF5 behind a MATLAB header)
    if h5py.is_hdf5(path):
        try:
            with h5py.File(path, "r") as f:
                if "emg2pose" in f:
                    return "emg2pose"
                if f.attrs.get("format") in ("asha-session", b"asha-session"):
                    raise RecordingFileError(f"{path}: already an Asha session file; open it directly.")
        except OSError as exc:
            raise RecordingFileError(f"{path}: an HDF5 file that cannot be opened ({exc}); it is truncated or corrupt.") from exc
        raise RecordingFileError(f"{path}: HDF5 file of an unknown layout (no 'emg2pose' group).")
    if path.suffix.lower() in (".csv", ".txt", ".tsv") or b"\t" in head:
        return "brainflow"
    raise RecordingFileError(f"{path}: unknown file format; give it explicitly (one of {', '.join(FORMATS)}).")


def needs_sampling_rate(path: str | Path, fmt: str | None = None) -> bool:
    """True when ``path`` can only be imported with the EMG sampling rate given (``fs=...``).

    Only NinaPro files lack it (DB1 has no ``frequency`` variable; its rate is 100 Hz): the variables are
    listed without loading the data.  Files that cannot be read or told apart answer False (the import
    itself then says what is wrong).
    """
    try:
        fmt = fmt or detect_format(path)
    except RecordingFileError:
        return False
    if fmt != "ninapro":
        return False
    import scipy.io  # noqa: PLC0415

    try:
        names = {name for name, _shape, _cls in scipy.io.whosmat(str(path))}
    except Exception:  # noqa: BLE001 - scipy raises many types on a damaged file; the import reports it
        return False
    return "emg" in names and "frequency" not in names


def import_file(path: str | Path, fmt: str | None = None, **options) -> Recording:
    """Read an external file as a :class:`Recording`.

    Parameters
    ----------
    path : str or Path
    fmt : str, optional
        One of :data:`FORMATS`; guessed when omitted.
    **options
        Passed to the reader (``fs`` for NinaPro, ``board_id`` for BrainFlow,
        ``label_rate_hz`` for emg2pose, ``emg_stream``/``marker_streams``/``pose_stream`` for XDF).
    """
    fmt = fmt or detect_format(path)
    allowed = OPTIONS.get(fmt)
    if allowed is not None:
        wrong = sorted(set(options) - allowed)
        if wrong:
            raise RecordingFileError(
                f"{path}: option(s) {', '.join(wrong)} do not apply to {fmt} files (they take: {', '.join(sorted(allowed)) or 'none'})."
            )
    if fmt == "emg2pose":
        from asha_app.data.importers.emg2pose import read_emg2pose  # noqa: PLC0415

        return read_emg2pose(path, **options)
    if fmt == "ninapro":
        from asha_app.data.importers.ninapro import read_ninapro  # noqa: PLC0415

        return read_ninapro(path, **options)
    if fmt == "brainflow":
        from asha_app.data.importers.brainflow_csv import read_brainflow_csv  # noqa: PLC0415

        return read_brainflow_csv(path, **options)
    if fmt == "paired":
        from asha_app.data.importers.paired_myo_mediapipe import load_paired  # noqa: PLC0415

        return load_paired(path, **options)
    if fmt == "xdf":
        from asha_app.data.importers.xdf import read_xdf  # noqa: PLC0415

        return read_xdf(path, **options)
    raise RecordingFileError(f"unknown import format {fmt!r}; use one of {', '.join(FORMATS)}.")


def import_to_session(path: str | Path, out_path: str | Path, fmt: str | None = None, *, overwrite: bool = False,
                      progress=None, **options) -> Path:
    """Import ``path`` and write it as an Asha session file ``out_path``; returns ``out_path``."""
    from asha_app.data.importers.session import write_recording  # noqa: PLC0415

    src, out = Path(path), Path(out_path)
    if out.exists() and (not overwrite or (src.exists() and out.resolve() == src.resolve())):
        raise RecordingFileError(f"{out}: already exists{' (it is the input)' if out.resolve() == src.resolve() else ''}; "
                                 "choose another name" + ("" if out.resolve() == src.resolve() else " or allow replacing it")
                                 + ". Nothing was imported.")
    rec = import_file(path, fmt, **options)
    return write_recording(rec, out_path, overwrite=overwrite, progress=progress)
