"""The layout of a new session file: its root attributes and growing datasets, and the buffers that grow them.

What each group and dataset means is :mod:`asha_app.data.schema`; the one object that writes a session
file is :class:`~asha_app.data.writer.SessionWriter`, which calls :func:`create_layout` once and appends
through the returned :class:`StreamBuffer` objects.
"""

from __future__ import annotations

import time

import h5py
import numpy as np

from asha_app import __version__ as app_version
from asha_app.data import schema as S

#: Rows per chunk along time for each stream (EMG: 2 s at 500 Hz).
EMG_CHUNK = 1024
IMU_CHUNK = 512
FRAME_CHUNK = 64
RECORD_CHUNK = 64


class StreamBuffer:
    """Pending rows of several datasets that grow together (one stream of the file: EMG, IMU, frames ...).

    :meth:`add` buffers rows in memory; :meth:`write` appends them to every dataset at once (one resize and
    one write per dataset); :meth:`rollback` shrinks the datasets back after a failed write.
    """

    def __init__(self, datasets: dict[str, h5py.Dataset]) -> None:
        self.datasets = datasets
        self.pending: dict[str, list[np.ndarray]] = {k: [] for k in datasets}
        self.n_pending = 0
        self.n_written = int(next(iter(datasets.values())).shape[0]) if datasets else 0

    def add(self, rows: dict[str, np.ndarray]) -> None:
        n = None
        for key, arr in rows.items():
            if n is None:
                n = arr.shape[0]
            elif arr.shape[0] != n:
                raise ValueError(f"{key}: {arr.shape[0]} rows, expected {n} like the other fields")
            self.pending[key].append(arr)
        self.n_pending += int(n or 0)

    def rollback(self, n: int) -> None:
        """Shrink every dataset back to ``n`` rows (after a failed write) and forget what is pending."""
        for ds in self.datasets.values():
            if ds.chunks is not None and ds.shape[0] != n:
                ds.resize(n, axis=0)
        self.n_written = n
        self.pending = {k: [] for k in self.datasets}
        self.n_pending = 0

    def write(self) -> None:
        if self.n_pending == 0:
            return
        start, end = self.n_written, self.n_written + self.n_pending
        for key, parts in self.pending.items():
            ds = self.datasets[key]
            block = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=0)
            if ds.chunks is None:  # zero-width dataset (no DOFs): nothing to store
                continue
            ds.resize(end, axis=0)
            ds[start:end] = block
        self.pending = {k: [] for k in self.datasets}
        self.n_written = end
        self.n_pending = 0


def create_layout(f: h5py.File, *, fs: float, channel_names: list[str], emg_units: str, angle_names: list[str],
                  package_modulus: int | None, package_restart: float | None, target_names: list[str] | None,
                  video_shape: tuple[int, ...] | None, participant, device, filter_spec, camera, hand_model,
                  app_settings, source, session_t0_unix, emg_to_video_offset_s, offset_source, compression,
                  lsl_clock_offset_s=None, lsl=None, sync_selftest=None) -> dict[str, StreamBuffer]:
    """Write the root attributes and create every group and growing dataset of a new session file.

    Parameters
    ----------
    f : h5py.File
        The new file, open for writing (not yet in SWMR mode: groups cannot be created then).
    fs, channel_names, emg_units, angle_names, package_modulus, package_restart, target_names, video_shape
        As the :class:`~asha_app.data.writer.SessionWriter` holds them (see its parameters).
    participant, device, filter_spec, camera, hand_model, app_settings, source, lsl, sync_selftest
        Stored as JSON root attributes.

    Returns
    -------
    dict of str to StreamBuffer
        One buffer per stream: ``emg``, ``imu``, ``dropped``, ``frames`` (camera and label datasets, the
        labels' keys prefixed ``l:``), ``prompts``, ``markers``, and ``targets``/``video`` when asked for.
    """
    a = f.attrs
    a[S.Root.FORMAT] = S.FORMAT_NAME
    a[S.Root.SCHEMA_VERSION] = S.SCHEMA_VERSION
    a[S.Root.CREATED_UNIX] = time.time()
    a[S.Root.SESSION_T0_UNIX] = float(session_t0_unix) if session_t0_unix is not None else float("nan")
    a[S.Root.FINALIZED] = False
    if filter_spec is not None and hasattr(filter_spec, "to_dict"):
        filter_spec = filter_spec.to_dict()
    for key, value in (
        (S.Root.PARTICIPANT, participant), (S.Root.DEVICE, device), (S.Root.FILTER, filter_spec),
        (S.Root.CAMERA, camera), (S.Root.HAND_MODEL, hand_model), (S.Root.APP, app_settings),
        (S.Root.SOURCE, source), (S.Root.LSL, lsl), (S.Root.SYNC_SELFTEST, sync_selftest),
    ):
        a[key] = S.to_json(value if value is not None else {})
    a[S.Root.LSL_CLOCK_OFFSET_S] = float(lsl_clock_offset_s) if lsl_clock_offset_s is not None else float("nan")
    a[S.Root.SUMMARY] = S.to_json({})
    a[S.Root.APP_VERSION] = str(app_version)
    a[S.Root.H5PY_VERSION] = h5py.version.version
    a[S.Root.HDF5_VERSION] = h5py.version.hdf5_version
    a[S.Root.FS] = fs
    a[S.Root.EMG_TO_VIDEO_OFFSET_S] = float(emg_to_video_offset_s)
    a[S.Root.OFFSET_SOURCE] = offset_source

    comp = {"compression": compression} if compression else {}
    C, d, L = len(channel_names), len(angle_names), S.N_LANDMARKS

    def grow(group, name, tail, dtype, chunk, compress=False, fill=None):
        kw = dict(comp) if compress else {}
        if fill is not None:
            kw["fillvalue"] = fill
        if any(x == 0 for x in tail):
            return group.create_dataset(name, shape=(0, *tail), dtype=dtype)
        return group.create_dataset(name, shape=(0, *tail), maxshape=(None, *tail), chunks=(chunk, *tail),
                                    dtype=dtype, **kw)

    g = f.create_group(S.Emg.GROUP)
    g.attrs[S.Emg.CHANNEL_NAMES] = channel_names
    g.attrs[S.Emg.UNITS] = emg_units
    g.attrs[S.Emg.PACKAGE_MODULUS] = int(package_modulus or 0)
    g.attrs[S.Emg.PACKAGE_RESTART] = package_restart if package_restart is not None else float("nan")
    nan = np.nan  # unwritten space reads as NaN, never as plausible zeros
    emg = {
        S.Emg.RAW: grow(g, S.Emg.RAW, (C,), "<f4", EMG_CHUNK, True, nan),
        S.Emg.T: grow(g, S.Emg.T, (), "<f8", EMG_CHUNK, True, nan),
        S.Emg.BOARD_T: grow(g, S.Emg.BOARD_T, (), "<f8", EMG_CHUNK, True, nan),
        S.Emg.PACKAGE: grow(g, S.Emg.PACKAGE, (), "<f8", EMG_CHUNK, True, nan),
        S.Emg.MARKER: grow(g, S.Emg.MARKER, (), "<f8", EMG_CHUNK, True),
    }
    g = f.create_group(S.Imu.GROUP)
    imu = {
        S.Imu.T: grow(g, S.Imu.T, (), "<f8", IMU_CHUNK, False, nan),
        S.Imu.ACCEL: grow(g, S.Imu.ACCEL, (3,), "<f4", IMU_CHUNK),
        S.Imu.GYRO: grow(g, S.Imu.GYRO, (3,), "<f4", IMU_CHUNK),
    }
    dropped = {"": f.create_dataset(S.Dropped.DATASET, shape=(0,), maxshape=(None,), chunks=(RECORD_CHUNK,),
                                    dtype=S.Dropped.DTYPE)}
    g = f.create_group(S.Camera.GROUP)
    if camera:
        for k, v in camera.items():
            if isinstance(v, str | int | float | bool):
                g.attrs[k] = v
    hb = f"S{S.HANDEDNESS_BYTES}"
    cam = {
        S.Camera.T: grow(g, S.Camera.T, (), "<f8", FRAME_CHUNK, False, nan),
        S.Camera.IMAGE_LANDMARKS: grow(g, S.Camera.IMAGE_LANDMARKS, (L, 3), "<f4", FRAME_CHUNK, True, np.nan),
        S.Camera.WORLD_LANDMARKS: grow(g, S.Camera.WORLD_LANDMARKS, (L, 3), "<f4", FRAME_CHUNK, True, np.nan),
        S.Camera.HANDEDNESS: grow(g, S.Camera.HANDEDNESS, (), hb, FRAME_CHUNK),
        S.Camera.CONFIDENCE: grow(g, S.Camera.CONFIDENCE, (), "<f4", FRAME_CHUNK),
    }
    g = f.create_group(S.Labels.GROUP)
    g.attrs[S.Labels.ANGLE_NAMES] = angle_names
    g.attrs[S.Labels.UNITS] = "deg"
    lab = {
        S.Labels.JOINT_ANGLES: grow(g, S.Labels.JOINT_ANGLES, (d,), "<f4", FRAME_CHUNK, True, np.nan),
        S.Labels.JOINTS_MM: grow(g, S.Labels.JOINTS_MM, (L, 3), "<f4", FRAME_CHUNK, True, np.nan),
        S.Labels.JOINTS_WORLD_MM: grow(g, S.Labels.JOINTS_WORLD_MM, (L, 3), "<f4", FRAME_CHUNK, True, np.nan),
        S.Labels.FIT_ERROR_MM: grow(g, S.Labels.FIT_ERROR_MM, (), "<f4", FRAME_CHUNK, False, np.nan),
        S.Labels.GLOBAL_ROT: grow(g, S.Labels.GLOBAL_ROT, (3,), "<f4", FRAME_CHUNK, False, np.nan),
        S.Labels.TRANSLATION_MM: grow(g, S.Labels.TRANSLATION_MM, (3,), "<f4", FRAME_CHUNK, False, np.nan),
        S.Labels.VALID: grow(g, S.Labels.VALID, (), "?", FRAME_CHUNK),
    }
    prompts = {"": f.create_dataset(S.Prompts.DATASET, shape=(0,), maxshape=(None,), chunks=(RECORD_CHUNK,),
                                    dtype=S.Prompts.DTYPE)}
    markers = {"": f.create_dataset(S.Markers.DATASET, shape=(0,), maxshape=(None,), chunks=(RECORD_CHUNK,),
                                    dtype=S.Markers.DTYPE)}
    streams: dict[str, StreamBuffer] = {
        "emg": StreamBuffer(emg), "imu": StreamBuffer(imu), "dropped": StreamBuffer(dropped),
        "frames": StreamBuffer({**cam, **{f"l:{k}": v for k, v in lab.items()}}),
        "prompts": StreamBuffer(prompts), "markers": StreamBuffer(markers),
    }
    if target_names is not None:
        g = f.create_group(S.Targets.GROUP)
        g.attrs[S.Targets.NAMES] = target_names
        streams["targets"] = StreamBuffer({
            S.Targets.T: grow(g, S.Targets.T, (), "<f8", FRAME_CHUNK * 16, False, nan),
            S.Targets.VALUES: grow(g, S.Targets.VALUES, (len(target_names),), "<f4", FRAME_CHUNK * 16, True),
        })
    if video_shape is not None:
        h, w = video_shape
        g = f.create_group(S.Video.GROUP)
        streams["video"] = StreamBuffer({
            S.Video.T: grow(g, S.Video.T, (), "<f8", 16, False, nan),
            S.Video.FRAMES: g.create_dataset(S.Video.FRAMES, shape=(0, h, w, 3), maxshape=(None, h, w, 3),
                                             chunks=(1, h, w, 3), dtype="u1"),
        })
    return streams
