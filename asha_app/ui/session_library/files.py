"""The library's files, Qt-free: the sessions folder, the remembered added files, the trash, and one
summary row per file (:func:`summarize_file`, read off the GUI thread by the library).
"""

from __future__ import annotations

import json
import logging
import shutil
from datetime import datetime
from pathlib import Path

import numpy as np

from asha_app.core import paths
from asha_app.core.atomic import atomic_write_text
from asha_app.core.crashlog import report_unexpected
from asha_app.core.errors import AshaError
from asha_app.core.units import emg_unit_label
from asha_app.data.integrity import check_session
from asha_app.data.reader import SessionFile

log = logging.getLogger(__name__)


#: The table's columns (one per field of a row that a person reads).
COLUMNS = ["File", "Participant", "Date", "Duration", "EMG", "EMG samples", "Dropped", "Valid labels", "Status"]


# ---------------------------------------------------------------------- Qt-free helpers
def sessions_dir() -> Path:
    """``data_dir()/sessions`` (created on demand)."""
    d = paths.data_dir() / "sessions"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _library_file() -> Path:
    return paths.config_dir() / "session_library.json"


def load_extra_files() -> list[Path]:
    """Files the user added to the library (outside the sessions folder)."""
    try:
        data = json.loads(_library_file().read_text())
        return [Path(p) for p in data.get("files", [])]
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        log.warning("session library list %s unreadable (%s); starting empty", _library_file(), exc)
        return []


def save_extra_files(files: list[Path]) -> None:
    """Remember added files (atomic write)."""
    atomic_write_text(_library_file(), json.dumps({"files": [str(p) for p in files]}, indent=1))


def recording_start_unix(attrs: dict, first_t: float | None) -> tuple[float | None, str]:
    """When the recording started (Unix s) and where that comes from.

    ``session_t0_unix`` (the session clock's origin; an importer sets it from the source's own timestamps)
    plus the first EMG sample's session time, when both are known and make a date after 2001:
    ``(t, "recorded")``.  Otherwise the time
    the file was written, ``created_unix``: ``(t, "file written")`` -- an import of a source without a
    date (NinaPro) shows its import date.  ``(None, "")`` when neither is known.
    """
    t0 = attrs.get("session_t0_unix")
    if isinstance(t0, float | int) and np.isfinite(t0) and first_t is not None and np.isfinite(first_t):
        start = float(t0) + float(first_t)
        if start > 1e9:  # after 2001: a real date (a board without a real-time clock counts from 0)
            return start, "recorded"
    created = attrs.get("created_unix")
    if isinstance(created, float | int) and np.isfinite(created):
        return float(created), "file written"
    return None, ""


def trash_dir() -> Path:
    """``data_dir()/trash``: where deleted sessions go (created on demand)."""
    d = paths.data_dir() / "trash"
    d.mkdir(parents=True, exist_ok=True)
    return d


def move_to_trash(path: str | Path) -> Path:
    """Move a session file into :func:`trash_dir` (never overwriting one there); returns its new path.

    Raises
    ------
    OSError
        If the file cannot be moved (the message names it).
    """
    path = Path(path)
    dest = paths.unique_path(trash_dir() / path.name)
    shutil.move(str(path), str(dest))
    return dest


def summarize_file(path: str | Path) -> dict:
    """One library row: participant, date, duration, samples, dropped, valid share; or the file's error.

    Returns
    -------
    dict
        ``path, participant, date, date_origin, duration_s, fs, units, n_channels, n_emg, n_frames, dropped,
        valid_share, status, error`` (``error`` None for a readable session file, else the reader's message;
        ``units`` the EMG unit as stored).  ``date`` is when the recording started (see
        :func:`recording_start_unix`; ``date_origin`` says "recorded" or "file written").
    """
    path = Path(path)
    row = {"path": path, "participant": "", "date": "", "date_origin": "", "duration_s": None, "fs": None, "units": "",
           "n_channels": None, "n_emg": None, "n_frames": None, "dropped": None, "valid_share": None, "status": "",
           "error": None}
    try:
        with SessionFile(path) as sf:
            attrs = sf.attrs
            row["fs"], row["units"], row["n_channels"] = sf.fs, sf.emg_units, sf.n_channels
            summary = sf.summary if sf.finalized else {}
            crashed, finalized = sf.crashed, sf.finalized
            first_t = float(sf.emg_t[0]) if sf.n_emg else None
        if not summary:
            summary = check_session(path).to_dict()
    except AshaError as exc:
        row["error"] = str(exc)
        row["status"] = "error"
        return row
    except (OSError, KeyError, ValueError, RuntimeError) as exc:  # h5py surprises on damaged files
        row["error"] = f"{path}: cannot read the file ({type(exc).__name__}: {exc})."
        row["status"] = "error"
        return row
    except Exception as exc:  # noqa: BLE001 - one bad file must never empty the library
        row["error"] = report_unexpected(exc, f"reading {path}")
        row["status"] = "error"
        return row
    try:
        _fill_row(row, attrs, summary, crashed, finalized, first_t)
    except (TypeError, ValueError, AttributeError) as exc:  # a summary of the wrong shape: say so in its own row
        row["error"] = (f"{path}: the file's summary is malformed ({type(exc).__name__}: {exc}); "
                        "'asha check' recomputes it.")
        row["status"] = "error"
    return row


def _fill_row(row: dict, attrs: dict, summary: dict, crashed: bool, finalized: bool, first_t: float | None) -> None:
    part = attrs.get("participant")
    row["participant"] = str(part.get("pseudonym", "")) if isinstance(part, dict) else str(part or "")
    start, origin = recording_start_unix(attrs, first_t)
    if start is not None:  # the recording's own date (an import keeps its source's), else the file's
        row["date"] = datetime.fromtimestamp(start).strftime("%Y-%m-%d %H:%M")
        row["date_origin"] = origin
    row["duration_s"] = float(summary.get("duration_s", 0.0))
    row["n_emg"] = int(summary.get("n_emg", 0))
    row["n_frames"] = int(summary.get("n_frames", 0))
    row["dropped"] = int(summary.get("dropped_samples", 0)) + int(summary.get("dropped_host", 0))
    row["valid_share"] = summary.get("valid_label_share")
    row["status"] = "finalized" if finalized else ("interrupted" if crashed else "not finalized")
    if summary.get("warnings"):
        row["status"] += f", {len(summary['warnings'])} warning(s)"


def emg_text(row: dict) -> str:
    """ "500 Hz, µV" for a library row: the sampling rate and the EMG unit a person reads."""
    if row.get("fs") is None:
        return ""
    return f"{row['fs']:g} Hz, {emg_unit_label(row.get('units') or 'uV')}"


def details_text(path: str | Path) -> str:
    """Integrity report plus the participant, device, filter, camera and hand-model attributes."""
    rep = check_session(path)
    lines = [rep.format_text(), ""]
    with SessionFile(path) as sf:
        a = sf.attrs
        start, origin = recording_start_unix(a, float(sf.emg_t[0]) if sf.n_emg else None)
        if start is not None:
            lines.append(("recorded " if origin == "recorded" else "no recording date in the source; file written ")
                         + datetime.fromtimestamp(start).strftime("%Y-%m-%d %H:%M:%S"))
        lines.append(f"EMG: {sf.n_channels} channels at {sf.fs:g} Hz, in {emg_unit_label(sf.emg_units)}")
        for key in ("participant", "device", "filter", "camera", "hand_model", "source"):
            v = a.get(key)
            if v:
                lines.append(f"{key}: {json.dumps(v, default=str)[:600]}")
        lines.append(f"EMG-to-video offset: {a.get('emg_to_video_offset_s', 0.0)} s ({a.get('offset_source', '?')})")
        lines.append(f"app {a.get('app_version', '?')}, h5py {a.get('h5py_version', '?')}, HDF5 "
                     f"{a.get('hdf5_version', '?')}")
        prompts = sf.prompts()
    if prompts:
        lines.append("")
        lines.append("prompts and markers:")
        for p in prompts[:200]:
            repetition = f" (rep {p.repetition + 1})" if p.repetition >= 0 else ""
            lines.append(f"  {p.start:8.2f}-{p.end:8.2f} s  {p.label}" + repetition)
    return "\n".join(lines)


def placeholder_row(path: Path, status: str, busy: bool = False) -> dict:
    """A library row before its summary is read (``status``: "reading…"), or for the file being recorded."""
    return {"path": Path(path), "participant": "", "date": "", "date_origin": "", "duration_s": None, "fs": None,
            "units": "", "n_channels": None, "n_emg": None, "n_frames": None, "dropped": None, "valid_share": None,
            "status": status, "error": None, "busy": busy, "loading": not busy}
