"""Import MindRove/BrainFlow files written by ``DataFilter.write_file``.

Such a file is tab-separated, one sample per line, with every row of the
board (EMG, resistance, battery, IMU, package number, timestamp, marker ...).
Which row is which comes from ``BoardShim.get_board_descr(board_id)``; no row
number is hard-coded here.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from asha_app.core.errors import RecordingFileError
from asha_app.data.recording import Prompt, Recording

log = logging.getLogger(__name__)


def read_brainflow_csv(path: str | Path, board_id: int | None = None) -> Recording:
    """Read a ``DataFilter.write_file`` file into a :class:`Recording`.

    Parameters
    ----------
    path : str or Path
    board_id : int, optional
        The board that recorded it (default ``BoardIds.MINDROVE_WIFI_BOARD``).

    Returns
    -------
    Recording
        EMG in microvolts, ``emg_t`` = board timestamps minus the first
        (``meta["session_t0_unix"]`` the first), ``extras`` with package
        numbers, board times, markers, accelerometer and gyroscope; non-zero
        markers become free markers in ``prompts``.

    Raises
    ------
    RecordingFileError
        Missing/unreadable file, or a row count that does not match the board.
    """
    from mindrove.board_shim import BoardIds, BoardShim  # noqa: PLC0415  (heavy native library)
    from mindrove.data_filter import DataFilter  # noqa: PLC0415 - the MindRove SDK on first use

    path = Path(path)
    if board_id is None:
        board_id = BoardIds.MINDROVE_WIFI_BOARD.value
    board_id = int(board_id)
    if not path.is_file():
        raise RecordingFileError(f"{path}: no such file.")
    try:
        data = np.asarray(DataFilter.read_file(str(path)))
    except Exception as exc:  # the SDK raises its own MindRoveError and ValueError types
        raise RecordingFileError(f"{path}: cannot read as a MindRove/BrainFlow data file ({exc}).") from exc
    try:
        descr = BoardShim.get_board_descr(board_id)
    except Exception as exc:  # the SDK's own error type for an unknown board
        raise RecordingFileError(f"board id {board_id} is not a board the MindRove SDK knows ({exc}); "
                                 "give the id of the board that recorded the file.") from exc
    warnings = _truncation_warnings(path)
    if data.ndim == 2 and data.shape[1] == 0:
        raise RecordingFileError(f"{path}: holds no complete sample.")
    if data.ndim != 2 or data.shape[0] != descr["num_rows"]:
        raise RecordingFileError(
            f"{path}: has {data.shape[0] if data.ndim == 2 else '?'} values per sample, board "
            f"{descr.get('name', board_id)} has {descr['num_rows']}; was it recorded with another board?"
        )
    emg_rows = descr.get("emg_channels") or descr.get("exg_channels")
    ts_row = descr["timestamp_channel"]
    board_t = data[ts_row].astype(np.float64)
    fs = float(descr["sampling_rate"])
    if not np.all(np.isfinite(board_t)) or np.all(board_t == board_t[0]):
        warnings.append("the time stamps are missing (all equal or not numbers); sample times are taken as "
                        f"sample index / {fs:g} Hz.")
        board_t = np.arange(board_t.size) / fs
    elif np.any(np.diff(board_t) < 0):
        warnings.append(f"{int(np.sum(np.diff(board_t) < 0))} time stamps go backwards; the time axis is unreliable.")
    t0 = float(board_t[0]) if board_t.size else 0.0
    t = board_t - t0
    extras = {"emg/board_t": board_t}
    if "package_num_channel" in descr:
        extras["emg/package"] = data[descr["package_num_channel"]].astype(np.float64)
    marker = data[descr["marker_channel"]].astype(np.float64) if "marker_channel" in descr else np.zeros(t.size)
    extras["emg/marker"] = marker
    if "accel_channels" in descr and "gyro_channels" in descr:
        extras["imu/t"] = t.copy()
        extras["imu/accel"] = data[descr["accel_channels"]].T.astype(np.float32)
        extras["imu/gyro"] = data[descr["gyro_channels"]].T.astype(np.float32)
    prompts = [Prompt(f"marker {marker[i]:g}", float(t[i]), float(t[i]), -1) for i in np.flatnonzero(marker != 0)]
    emg = data[emg_rows].T.astype(np.float32)
    if not np.isfinite(emg).any():
        raise RecordingFileError(f"{path}: every EMG value is NaN or infinite; there is no signal to import.")
    meta = {"source_format": "brainflow_csv", "source_file": str(path), "session_t0_unix": t0,
            "signal_kind": "raw_semg",
            "device": {"board_id": board_id, "name": descr.get("name", "")}}
    for w in warnings:
        log.warning("%s: %s", path, w)
    if warnings:
        meta["warnings"] = warnings
    return Recording(
        emg=emg, emg_t=t, fs=fs, channel_names=[f"ch{i + 1}" for i in range(len(emg_rows))],
        emg_units="uV", prompts=prompts, extras=extras, meta=meta,
    )


def _truncation_warnings(path: Path) -> list[str]:
    """A warning when the last line is cut short (the SDK's reader skips it silently)."""
    try:
        with open(path, "rb") as fh:
            head = fh.readline()
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(max(0, size - 65536))
            tail = fh.read()
    except OSError:
        return []
    lines = tail.splitlines()
    if not lines or not head.strip():
        return []
    n_fields = len(head.rstrip(b"\r\n").split(b"\t"))
    if not tail.endswith(b"\n") or len(lines[-1].split(b"\t")) != n_fields:
        return ["the last line is incomplete (the file was cut short); that sample is skipped."]
    return []
