"""Recovering an interrupted session: a closed, finalized copy of a file whose writer was killed.

The original is never modified.  The copy leaves out rows at the end of a stream
that were never written (NaN times) and gets the integrity summary
(:func:`asha_app.data.integrity.write_summary`), so it opens like any finished
session.  ``asha check --recover`` uses it.
"""

from __future__ import annotations

import logging
from pathlib import Path

import h5py
import numpy as np

from asha_app.core.errors import RecordingFileError
from asha_app.data import schema as S
from asha_app.data.integrity import check_session, write_summary
from asha_app.data.reader import SessionFile, open_h5_readonly

log = logging.getLogger(__name__)


_STREAMS = (
    ((S.Emg.GROUP,), f"{S.Emg.GROUP}/{S.Emg.T}"),
    ((S.Imu.GROUP,), f"{S.Imu.GROUP}/{S.Imu.T}"),
    ((S.Camera.GROUP, S.Labels.GROUP), f"{S.Camera.GROUP}/{S.Camera.T}"),
    ((S.Targets.GROUP,), f"{S.Targets.GROUP}/{S.Targets.T}"),
    ((S.Video.GROUP,), f"{S.Video.GROUP}/{S.Video.T}"),
)


def _trim_unwritten(f: h5py.File) -> dict[str, int]:
    """Shrink each stream to its last row with a finite time (rows a killed writer never filled read as NaN).

    Returns the rows removed per stream (only streams that lost any).
    """
    removed = {}
    for groups, tkey in _STREAMS:
        if tkey not in f:
            continue
        t = f[tkey][()]
        ok = np.flatnonzero(np.isfinite(t))
        n_keep = int(ok[-1]) + 1 if ok.size else 0
        if n_keep == t.shape[0]:
            continue
        for g in groups:
            if g not in f:
                continue
            for ds in f[g].values():
                if isinstance(ds, h5py.Dataset) and ds.ndim and ds.shape[0] == t.shape[0] and ds.maxshape[0] is None:
                    ds.resize(n_keep, axis=0)
        removed[tkey] = int(t.shape[0] - n_keep)
    return removed


def recover_session(path: str | Path, out_path: str | Path | None = None, *, overwrite: bool = False) -> Path:
    """Copy an interrupted session (writer killed) into a new, closed and finalized file.

    An interrupted file opens read-only (HDF5 keeps it flagged as open for
    writing; a file left by a killed non-SWMR writer, which HDF5 refuses to
    open, is read from a copy whose flags are cleared, see
    :mod:`asha_app.data.h5flags`); this copies every group, dataset and attribute with
    :meth:`h5py.Group.copy` into ``out_path`` (default ``<name>.recovered.h5``),
    leaves out rows at the end of a stream that were never written (NaN
    times), then writes the integrity summary and ``finalized = True``.  The
    copy is written under a temporary name and renamed when complete; the
    original is left untouched.

    Returns
    -------
    Path
        The recovered file.

    Raises
    ------
    RecordingFileError
        If ``path`` is not a readable session file or ``out_path`` exists.
    """
    from asha_app.core.atomic import OutputExistsError, atomic_write  # noqa: PLC0415

    path = Path(path)
    out = Path(out_path) if out_path is not None else path.with_name(path.stem + ".recovered.h5")
    if out.exists() and not overwrite:
        raise RecordingFileError(f"{out}: already exists; remove it or choose another name.")
    if out.resolve() == path.resolve():
        raise RecordingFileError(f"{out}: the recovered copy cannot replace the file it is made from; choose another name.")
    unflagged = None
    try:
        with SessionFile(path):  # validates format and version
            pass
    except RecordingFileError:
        unflagged = _copy_without_open_flags(path, out)
        if unflagged is None:
            raise
        with SessionFile(unflagged):
            pass
    src, _ = open_h5_readonly(unflagged or path)
    try:
        with atomic_write(out, overwrite=overwrite) as tmp:
            with h5py.File(tmp, "w", libver="latest") as dst:
                for key, value in src.attrs.items():
                    dst.attrs[key] = value
                for name in src:
                    src.copy(src[name], dst, name=name)
                dst.attrs[S.Root.FINALIZED] = False
                removed = _trim_unwritten(dst)
            report = check_session(tmp)
            summary = report.to_dict()
            summary["file"] = str(out)
            summary["recovered_from"] = str(path)
            if removed:
                summary["unwritten_rows_removed"] = removed
            with h5py.File(tmp, "r+") as f:
                write_summary(f, summary)
    except OutputExistsError as exc:
        raise RecordingFileError(f"{out}: already exists; remove it or choose another name.") from exc
    except (OSError, RuntimeError, ValueError, KeyError) as exc:
        raise RecordingFileError(f"cannot write the recovered file {out}: {exc}. Nothing was left under that name; "
                                 "free disk space or choose another folder.") from exc
    finally:
        src.close()
        if unflagged is not None:
            unflagged.unlink(missing_ok=True)
    return out


def _copy_without_open_flags(path: Path, out: Path) -> Path | None:
    """A copy of ``path`` beside ``out`` with HDF5's "open for writing" flags cleared, or None if that does not apply.

    Only for the state a plain (non-SWMR) writer leaves when it is killed: flag
    "write access" set without "SWMR write access" (older Asha versions wrote
    the summary that way).  The original is never modified.
    """
    import shutil  # noqa: PLC0415

    from asha_app.core.atomic import temp_path_for  # noqa: PLC0415
    from asha_app.data.h5flags import SWMR_WRITE_ACCESS, WRITE_ACCESS, clear_open_flags, open_flags  # noqa: PLC0415

    try:
        flags = open_flags(path)
    except OSError:
        return None
    if flags is None or not flags & WRITE_ACCESS or flags & SWMR_WRITE_ACCESS:
        return None
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path_for(out)
    try:
        shutil.copyfile(path, tmp)
        if clear_open_flags(tmp):
            log.warning("%s: left open by a killed writer without crash protection; reading a copy with the "
                        "open-for-writing flags cleared", path)
            return tmp
    except OSError as exc:
        log.warning("could not copy %s to clear its flags: %s", path, exc)
    tmp.unlink(missing_ok=True)
    return None
