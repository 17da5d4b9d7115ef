"""The Asha session file format, as code.

One recording session is one HDF5 file written by exactly one
:class:`~asha_app.data.writer.SessionWriter` and read with
:class:`~asha_app.data.reader.SessionFile`.  Every key name lives in this
module as a constant, grouped in one class per HDF5 group, so no other module
spells a key as a string.  The idea follows emg2pose's
``Emg2PoseSessionData`` (key names as class constants) and ScopeFoundry's
``h5_io`` (settings as attributes, datasets that grow along time).

File tree (``n`` EMG samples, ``C`` channels, ``k`` IMU samples, ``m`` camera
frames, ``d`` joint-angle DOFs; every time ``t`` is in seconds on the session
clock, see :mod:`asha_app.core.clock`)::

    /                                   attrs: format="asha-session", schema_version,
    |                                          created_unix, session_t0_unix, finalized,
    |                                          participant, device, filter, camera,
    |                                          hand_model, app (JSON strings), app_version,
    |                                          h5py_version, hdf5_version, fs (nominal Hz),
    |                                          emg_to_video_offset_s, offset_source,
    |                                          summary (JSON, written by finalize()),
    |                                          source (JSON: origin of imported data),
    |                                          lsl_clock_offset_s (LSL clock minus session
    |                                          clock, s; NaN when LSL was off), lsl (JSON:
    |                                          outlets, marker streams), sync_selftest (JSON)
    |-- emg/                            attrs: channel_names, units="uV", package_modulus (0 = unknown), package_restart
    |   |-- raw        (n, C) float32   raw sEMG, microvolts
    |   |-- t          (n,)   float64   session seconds (from board timestamps)
    |   |-- board_t    (n,)   float64   board timestamps as received (NaN if unknown)
    |   |-- package    (n,)   float64   board package numbers (gaps = dropped packets)
    |   `-- marker     (n,)   float64   board marker channel
    |-- imu/
    |   |-- t          (k,)   float64
    |   |-- accel      (k, 3) float32   g
    |   `-- gyro       (k, 3) float32   deg/s
    |-- dropped        (r,)   compound  (t f8, first_missing_package f8, n_missing i8, source i1)
    |                                   source 0 = device (package gap), 1 = host (ring overflow)
    |-- camera/                         attrs: camera settings mirror root "camera"
    |   |-- t               (m,)       float64  frame capture time (session s)
    |   |-- image_landmarks (m, 21, 3) float32  x, y normalised to the image, z relative depth
    |   |-- world_landmarks (m, 21, 3) float32  metres (MediaPipe world frame)
    |   |-- handedness      (m,)       S8       "right" / "left" (real hand) / "" (no hand)
    |   `-- confidence      (m,)       float32
    |-- labels/                         attrs: angle_names (d strings), units="deg"
    |   |-- joint_angles    (m, d)     float32  degrees
    |   |-- joints_mm       (m, 21, 3) float32  hand frame (wrist origin), millimetres
    |   |-- joints_world_mm (m, 21, 3) float32  camera/world frame, millimetres
    |   |-- fit_error_mm    (m,)       float32
    |   |-- global_rot      (m, 3)     float32  axis-angle (rad) of the hand frame in the world frame
    |   |-- translation_mm  (m, 3)     float32  world position of the wrist, millimetres
    |   `-- valid           (m,)       bool     invalid frames keep NaN, never a neutral pose
    |-- prompts        (p,)   compound  (label S128, start f8, end f8, repetition i4, discarded bool)
    |                                   discarded: a repetition cut short (pause, abort) or thrown away
    |                                   (redo); it cancels an earlier identical completed record
    |-- markers        (q,)   compound  (label S128, t f8)
    |-- targets/        optional, imported data without a hand model (e.g. NinaPro glove)
    |   |-- t          (m2,)    float64
    |   `-- values     (m2, T)  float32   attrs: names
    `-- video/          optional, off by default (privacy)
        |-- t          (v,)          float64
        `-- frames     (v, H, W, 3)  uint8  RGB

Row ``i`` of every dataset in ``camera/`` and ``labels/`` belongs to the same
camera frame.  Datasets are chunked with ``maxshape=None`` along time and grow
as the session runs.  The writer opens the file in HDF5 SWMR mode
(``libver="latest"``), so a crash or ``kill -9`` leaves a file that still opens
with everything up to the last flush (at most one second old); such a file is
marked by ``finalized = False``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

#: Version of this layout; readers refuse files with a higher major version.
SCHEMA_VERSION = 1
#: Value of the root attribute :attr:`Root.FORMAT` that identifies an Asha session file.
FORMAT_NAME = "asha-session"
#: Number of hand landmarks (MediaPipe order: 0 wrist, 1-4 thumb, 5-8 index ... 17-20 pinky).
N_LANDMARKS = 21
#: Fixed width (bytes, UTF-8) of prompt and marker labels.
LABEL_BYTES = 128
#: Fixed width of the handedness string.
HANDEDNESS_BYTES = 8


class Root:
    """Attributes of the file's root group."""

    FORMAT = "format"
    SCHEMA_VERSION = "schema_version"
    CREATED_UNIX = "created_unix"
    SESSION_T0_UNIX = "session_t0_unix"
    FINALIZED = "finalized"
    PARTICIPANT = "participant"
    DEVICE = "device"
    FILTER = "filter"
    CAMERA = "camera"
    HAND_MODEL = "hand_model"
    APP = "app"
    APP_VERSION = "app_version"
    H5PY_VERSION = "h5py_version"
    HDF5_VERSION = "hdf5_version"
    FS = "fs"
    EMG_TO_VIDEO_OFFSET_S = "emg_to_video_offset_s"
    OFFSET_SOURCE = "offset_source"
    SUMMARY = "summary"
    SOURCE = "source"
    #: LSL clock (``pylsl.local_clock``) minus session clock, s: ``t_lsl = t_session + offset``; NaN without LSL
    LSL_CLOCK_OFFSET_S = "lsl_clock_offset_s"
    #: JSON: LSL outlets published and marker streams recorded (with their gaps) during the session
    LSL = "lsl"
    #: JSON: the last synchronization self-test before the session (asha_app.devices.lsl_sync)
    SYNC_SELFTEST = "sync_selftest"
    #: attributes stored as JSON strings (nested dicts)
    JSON_ATTRS = (PARTICIPANT, DEVICE, FILTER, CAMERA, HAND_MODEL, APP, SUMMARY, SOURCE, LSL, SYNC_SELFTEST)


class OffsetSource:
    """Allowed values of :attr:`Root.OFFSET_SOURCE`."""

    ASSUMED = "assumed"
    MEASURED = "measured"


class Emg:
    """Group ``/emg``: the armband's sEMG stream."""

    GROUP = "emg"
    RAW = "raw"
    T = "t"
    BOARD_T = "board_t"
    PACKAGE = "package"
    MARKER = "marker"
    CHANNEL_NAMES = "channel_names"
    UNITS = "units"
    #: value at which the board's package counter wraps (0 = unknown)
    PACKAGE_MODULUS = "package_modulus"
    #: package number a looping source starts again from (a playback file's first; NaN = unknown)
    PACKAGE_RESTART = "package_restart"


class Imu:
    """Group ``/imu``: accelerometer (g) and gyroscope (deg/s)."""

    GROUP = "imu"
    T = "t"
    ACCEL = "accel"
    GYRO = "gyro"


class Dropped:
    """Dataset ``/dropped``: one record per gap."""

    DATASET = "dropped"
    T = "t"
    FIRST_MISSING_PACKAGE = "first_missing_package"
    N_MISSING = "n_missing"
    SOURCE = "source"
    SOURCE_DEVICE = 0
    SOURCE_HOST = 1
    DTYPE = np.dtype([(T, "<f8"), (FIRST_MISSING_PACKAGE, "<f8"), (N_MISSING, "<i8"), (SOURCE, "i1")])


class Camera:
    """Group ``/camera``: MediaPipe output per captured frame."""

    GROUP = "camera"
    T = "t"
    IMAGE_LANDMARKS = "image_landmarks"
    WORLD_LANDMARKS = "world_landmarks"
    HANDEDNESS = "handedness"
    CONFIDENCE = "confidence"


class Labels:
    """Group ``/labels``: inverse-kinematics result per camera frame."""

    GROUP = "labels"
    JOINT_ANGLES = "joint_angles"
    JOINTS_MM = "joints_mm"
    JOINTS_WORLD_MM = "joints_world_mm"
    FIT_ERROR_MM = "fit_error_mm"
    GLOBAL_ROT = "global_rot"
    TRANSLATION_MM = "translation_mm"
    VALID = "valid"
    ANGLE_NAMES = "angle_names"
    UNITS = "units"


class Prompts:
    """Dataset ``/prompts``: prompted movements on the session clock."""

    DATASET = "prompts"
    LABEL = "label"
    START = "start"
    END = "end"
    REPETITION = "repetition"
    DISCARDED = "discarded"
    DTYPE = np.dtype([(LABEL, f"S{LABEL_BYTES}"), (START, "<f8"), (END, "<f8"), (REPETITION, "<i4"), (DISCARDED, "?")])


class Markers:
    """Dataset ``/markers``: free markers set by the user."""

    DATASET = "markers"
    LABEL = "label"
    T = "t"
    DTYPE = np.dtype([(LABEL, f"S{LABEL_BYTES}"), (T, "<f8")])


class Targets:
    """Optional group ``/targets``: regression targets of imported data without a hand model."""

    GROUP = "targets"
    T = "t"
    VALUES = "values"
    NAMES = "names"


class Video:
    """Optional group ``/video`` (off by default: video identifies the participant)."""

    GROUP = "video"
    T = "t"
    FRAMES = "frames"


def _json_default(obj: Any):
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def to_json(value: Any) -> str:
    """JSON text of a root attribute value (the JSON-valued attributes of :class:`Root`; numpy arrays become lists).

    Raises
    ------
    TypeError
        A value JSON cannot hold (an object without ``to_dict``).
    """
    return json.dumps(value, default=_json_default, sort_keys=True)


def encode_label(label: str) -> bytes:
    """UTF-8 bytes of a label, cut to :data:`LABEL_BYTES` without splitting a character."""
    raw = label.encode("utf-8")
    if len(raw) <= LABEL_BYTES:
        return raw
    return raw[:LABEL_BYTES].decode("utf-8", errors="ignore").encode("utf-8")


def decode_label(raw: bytes) -> str:
    """Inverse of :func:`encode_label`."""
    return raw.decode("utf-8", errors="replace") if isinstance(raw, bytes | np.bytes_) else str(raw)


@dataclass
class CameraLabelFrame:
    """One camera frame with its landmarks and IK labels, as the recorder stores it.

    The writer takes this class or any object with the same attributes (the
    camera worker's ``asha_app.workers.camera.CameraLabel``).  The fit is the
    pose layer's :class:`asha_app.pose.ik.IKResult` (its ``angles_deg``,
    ``joints_hand_mm``, ``joints_world_mm``, ``fit_error_mm``, ``valid``,
    ``global_rot`` and ``translation_mm`` are stored; the hand-frame joints go
    to ``labels/joints_mm``).  Frames where no hand was found have ``None``
    landmarks and an invalid (or ``None``) ``ik``.

    Attributes
    ----------
    t : float
        Capture time of the frame on the session clock (s), stamped at capture,
        not after MediaPipe and IK.
    image_landmarks : float array (21, 3) or None
        MediaPipe image landmarks (x, y normalised, z relative depth).
    world_landmarks : float array (21, 3) or None
        MediaPipe world landmarks in metres.
    handedness : str or None
        As the camera worker gives it (``"right"``/``"left"``), ``""`` or None when no hand.
    confidence : float
        MediaPipe handedness score (0 when no hand).
    ik : asha_app.pose.ik.IKResult or None
        The hand-model fit; ``None`` when no hand or no fit.
    """

    t: float
    image_landmarks: np.ndarray | None = None
    world_landmarks: np.ndarray | None = None
    handedness: str | None = ""
    confidence: float = 0.0
    ik: Any = None

    @property
    def valid(self) -> bool:
        """True when the frame carries a valid IK fit."""
        return self.ik is not None and bool(self.ik.valid) and not math.isnan(float(self.t))
