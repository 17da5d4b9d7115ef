"""Writing a :class:`~asha_app.data.recording.Recording` as a finalized Asha session file (the importers' last step).

:func:`write_recording` turns an imported (or read-back) recording into a session
file through the one session writer (:class:`~asha_app.data.writer.SessionWriter`),
under a temporary name renamed when complete.  :func:`asha_app.data.importers.import_to_session`
and the export dialog's "save as session" use it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

from asha_app.core.atomic import OutputExistsError, atomic_write
from asha_app.core.errors import RecordingFileError, describe_os_error
from asha_app.data import schema as S
from asha_app.data.recording import Recording
from asha_app.data.writer import SessionWriter

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], None]


def write_recording(
    recording: Recording,
    path: str | Path,
    *,
    overwrite: bool = False,
    progress: ProgressCallback | None = None,
    block: int = 50_000,
    **writer_kwargs,
) -> Path:
    """Write a :class:`Recording` (e.g. from an importer) as a finalized session file.

    Parameters
    ----------
    recording : Recording
        What to write.  ``recording.extras`` may carry ``"emg/package"``,
        ``"emg/board_t"``, ``"emg/marker"``, ``"imu/t"``, ``"imu/accel"``,
        ``"imu/gyro"`` arrays; ``meta`` keys ``participant``, ``device``,
        ``filter``, ``camera``, ``hand_model`` go to the matching attributes,
        the rest to the ``source`` attribute.
    path : str or Path
        Session file to create.
    progress : callable (done, total), optional
        Called after each block of EMG samples.
    **writer_kwargs
        Passed to :class:`SessionWriter`.

    Returns
    -------
    Path
        The written file.  It is written under a temporary name in the same
        folder and renamed when complete: a kill or a full disk never leaves a
        partial file under ``path``.

    Raises
    ------
    RecordingFileError
        ``path`` exists (without ``overwrite``), or cannot be written.
    """
    rec = recording
    meta = dict(rec.meta)
    applied = float(meta.pop("video_offset_applied_s", 0.0) or 0.0)  # see SessionFile.to_recording
    attrs = {k: meta.pop(k) for k in ("participant", "device", "filter", "camera", "hand_model") if k in meta}
    if "filter" in attrs:
        attrs["filter_spec"] = attrs.pop("filter")
    if "app" in meta:
        attrs["app_settings"] = meta.pop("app")
    for key in (S.Root.SESSION_T0_UNIX, S.Root.EMG_TO_VIDEO_OFFSET_S, S.Root.OFFSET_SOURCE, S.Root.LSL_CLOCK_OFFSET_S):
        if key in meta and key not in writer_kwargs:
            value = meta.pop(key)
            if key not in (S.Root.SESSION_T0_UNIX, S.Root.LSL_CLOCK_OFFSET_S) or (
                    value is not None and np.isfinite(float(value))):
                writer_kwargs[key] = value
    for key in (S.Root.LSL, S.Root.SYNC_SELFTEST):
        if isinstance(meta.get(key), dict) and meta[key] and key not in writer_kwargs:
            writer_kwargs[key] = meta.pop(key)
    source = meta.pop(S.Root.SOURCE, None)
    # attributes a session file sets itself are not copied into "source"
    own = {v for k, v in vars(S.Root).items() if k.isupper() and isinstance(v, str)} | {"file", "crashed", "extras"}
    meta = {k: v for k, v in meta.items() if k not in own}
    if isinstance(source, dict):
        meta = {**source, **meta}
    extras = getattr(rec, "extras", {}) or {}
    path = Path(path)
    if path.exists() and not overwrite:
        raise RecordingFileError(f"{path}: a file with this name already exists; choose another name or delete it first.")
    try:
        with atomic_write(path, overwrite=overwrite) as tmp:
            _write_recording_into(rec, tmp, extras, meta, attrs, applied, progress, block, writer_kwargs)
    except OutputExistsError as exc:
        raise RecordingFileError(f"{path}: a file with this name appeared while it was written; the new file was "
                                 "not saved. Choose another name.") from exc
    except OSError as exc:
        raise RecordingFileError(f"cannot write {path}: {describe_os_error(exc)}. Choose a writable folder with "
                                 "free space; nothing was left under that name.") from exc
    return path


def _write_recording_into(rec: Recording, tmp: Path, extras: dict, meta: dict, attrs: dict, applied: float,
                          progress, block: int, writer_kwargs: dict) -> None:
    writer = SessionWriter(
        tmp, rec.n_channels, rec.fs, rec.angle_names if rec.joint_angles is not None else [],
        channel_names=rec.channel_names or None, overwrite=True, emg_units=rec.emg_units,
        target_names=rec.target_names or ([f"target{i}" for i in range(rec.targets.shape[1])] if rec.targets is not None else None),
        source=meta, swmr=writer_kwargs.pop("swmr", False), **attrs, **writer_kwargs,
    )
    try:
        n = rec.emg.shape[0]
        for s in range(0, max(n, 1), block):
            e = min(n, s + block)
            if e > s:
                writer.append_emg(
                    rec.emg_t[s:e], rec.emg[s:e],
                    package=extras.get("emg/package", None)[s:e] if "emg/package" in extras else None,
                    marker=extras.get("emg/marker", None)[s:e] if "emg/marker" in extras else None,
                    board_t=extras.get("emg/board_t", None)[s:e] if "emg/board_t" in extras else None,
                )
                writer.flush()
            if progress is not None:
                progress(e, n)
        if "imu/t" in extras:
            writer.append_imu(extras["imu/t"], extras["imu/accel"], extras["imu/gyro"])
        if len(rec.label_t):
            has_labels = rec.joint_angles is not None or rec.joints_mm is not None
            if has_labels:
                writer.append_label_arrays(
                    np.asarray(rec.label_t) - applied, rec.joint_angles, rec.joints_mm,
                    rec.valid if len(rec.valid) == len(rec.label_t) else None,
                    joints_world_mm=extras.get("labels/joints_world_mm"), fit_error_mm=extras.get("labels/fit_error_mm"),
                )
            if rec.targets is not None:
                writer.append_targets(rec.label_t, rec.targets)
        for p in rec.prompts:
            if p.end == p.start and p.repetition < 0:
                writer.append_marker(p.label, p.start)
            else:
                writer.append_prompt(p)
        writer.finalize()
    except BaseException:
        if writer.is_open:
            try:
                writer.close()
            except RecordingFileError as exc:  # the original error matters; the temporary file is removed anyway
                log.warning("%s", exc)
        raise
