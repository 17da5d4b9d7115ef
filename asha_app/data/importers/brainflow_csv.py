"""Import MindRove/BrainFlow files written by ``DataFilter.write_file``.

Such a file is tab-separated, one sample per line, with every row of the
board (EMG, resistance, battery, IMU, package number, timestamp, marker ...).
Which row is which comes from ``BoardShim.get_board_descr(board_id)``; no row
number is hard-coded here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from asha_app.core.errors import RecordingFileError
from asha_app.data.recording import Prompt, Recording


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
    from mindrove.data_filter import DataFilter  # noqa: PLC0415

    path = Path(path)
    if board_id is None:
        board_id = BoardIds.MINDROVE_WIFI_BOARD.value
    board_id = int(board_id)
    if not path.is_file():
        raise RecordingFileError(f"{path}: no such file.")
    try:
        data = np.asarray(DataFilter.read_file(str(path)))
    except Exception as exc:  # noqa: BLE001  (the SDK raises its own MindRoveError and ValueError types)
        raise RecordingFileError(f"{path}: cannot read as a MindRove/BrainFlow data file ({exc}).") from exc
    descr = BoardShim.get_board_descr(board_id)
    if data.ndim != 2 or data.shape[0] != descr["num_rows"]:
        raise RecordingFileError(
            f"{path}: has {data.shape[0] if data.ndim == 2 else '?'} values per sample, board "
            f"{descr.get('name', board_id)} has {descr['num_rows']}; was it recorded with another board?"
        )
    emg_rows = descr.get("emg_channels") or descr.get("exg_channels")
    ts_row = descr["timestamp_channel"]
    board_t = data[ts_row].astype(np.float64)
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
    fs = float(descr["sampling_rate"])
    return Recording(
        emg=data[emg_rows].T.astype(np.float32), emg_t=t, fs=fs, channel_names=[f"ch{i + 1}" for i in range(len(emg_rows))],
        emg_units="uV", prompts=prompts, extras=extras,
        meta={"source_format": "brainflow_csv", "source_file": str(path), "session_t0_unix": t0,
              "device": {"board_id": board_id, "name": descr.get("name", "")}},
    )
