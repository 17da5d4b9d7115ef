"""The LSL outlets Asha publishes (:data:`OUTLETS`), fed with samples stamped on the session clock."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Sequence

import numpy as np

from asha_app.devices.lsl.clock import LslClock
from asha_app.devices.lsl.streams import ChannelDesc, stream_info

#: outlets Asha can publish (key -> what the user reads)
OUTLETS = {
    "emg": "EMG (µV, the device's sample times)",
    "imu": "IMU (accelerometer g, gyroscope °/s)",
    "camera_pose": "camera pose labels (joint angles, °, with validity)",
    "predicted_pose": "EMG-predicted pose (joint angles, °)",
    "gestures": "gestures (string markers)",
    "markers": "Asha's prompts and markers (string markers)",
}
#: electrode placement written into the EMG stream's description when the source gives none
DEFAULT_PLACEMENT = "armband around the proximal forearm, electrodes evenly spaced, channel 1 over the extensors"


def _source_id(key: str, tag: str = "") -> str:
    return f"asha-{key}-{socket.gethostname()}" + (f"-{tag}" if tag else "") + f"-{os.getpid()}"


# ---------------------------------------------------------------------- outlets
class Outlet:
    """One LSL outlet fed with samples stamped on the session clock.

    Parameters
    ----------
    key : str
        Key of :data:`OUTLETS`.
    info : pylsl.StreamInfo
    lsl_clock : LslClock
        Converts session seconds to LSL time stamps.

    Attributes
    ----------
    pushed : int
        Samples pushed so far.
    """

    def __init__(self, key: str, info, lsl_clock: LslClock, pylsl) -> None:
        self.key = key
        self.info = info
        self.clock = lsl_clock
        self._outlet = pylsl.StreamOutlet(info, 0, 360)
        self.pushed = 0
        self.name = info.name()
        self.source_id = info.source_id()

    def push(self, t_session: np.ndarray | list[float], values) -> None:
        """Push samples with their session times (s); the stamps are those times on the LSL clock."""
        t_session = np.asarray(t_session, np.float64).reshape(-1)
        if t_session.size == 0:
            return
        stamps = self.clock.to_lsl(t_session)
        if isinstance(values, np.ndarray):
            self._outlet.push_chunk(values, stamps.tolist())
        else:  # strings: one sample per value
            for v, ts in zip(values, stamps):
                self._outlet.push_sample([str(v)], float(ts))
        self.pushed += int(t_session.size)

    def have_consumers(self) -> bool:
        """True when at least one inlet is connected."""
        return bool(self._outlet.have_consumers())

    def close(self) -> None:
        """Withdraw the stream from the network."""
        self._outlet = None


def open_outlet(key: str, lsl_clock: LslClock, pylsl, *, fs: float = 0.0, channel_names: Sequence[str] = (),
                dof_names: Sequence[str] = (), device: str = "", placement: str = DEFAULT_PLACEMENT,
                tag: str = "") -> Outlet:
    """Open the outlet ``key`` (see :data:`OUTLETS`).

    Parameters
    ----------
    fs : float
        Nominal rate of the EMG/IMU source (Hz); pose and marker streams are irregular.
    channel_names : list of str
        EMG channel labels.
    dof_names : list of str
        Joint-angle names (``HandModel.builtin('right').dof_names``) for the pose outlets.
    device : str
        The EMG device's description (written as the manufacturer/model).
    """
    if key == "emg":
        chans = [ChannelDesc(c, "microvolts", "EMG", f"{placement}; electrode {i + 1}")
                 for i, c in enumerate(channel_names)]
        info = stream_info(pylsl, "Asha EMG", "EMG", chans, fs, pylsl.cf_float32, _source_id(key, tag),
                           manufacturer=device, model=device, reference="armband's own reference electrode",
                           extra={"asha_time_base": "the device's sample times on the LSL clock"})
    elif key == "imu":
        chans = [ChannelDesc(f"accel_{a}", "g", "Accelerometer") for a in "xyz"]
        chans += [ChannelDesc(f"gyro_{a}", "degrees/second", "Gyroscope") for a in "xyz"]
        info = stream_info(pylsl, "Asha IMU", "IMU", chans, fs, pylsl.cf_float32, _source_id(key, tag),
                           manufacturer=device, model=device)
    elif key in ("camera_pose", "predicted_pose"):
        if not dof_names:
            raise ValueError("pose outlets need the hand model's joint-angle names")
        chans = [ChannelDesc(d, "degrees", "JointAngle")
                 for d in dof_names] + [ChannelDesc("valid", "boolean", "Validity")]
        name = "Asha camera pose" if key == "camera_pose" else "Asha EMG-predicted pose"
        info = stream_info(pylsl, name, "Pose", chans, 0.0, pylsl.cf_float32, _source_id(key, tag),
                           extra={"asha_pose": "hand-model joint angles (asha_app.pose.contract)"})
    elif key in ("gestures", "markers"):
        name = "Asha gestures" if key == "gestures" else "Asha markers"
        info = stream_info(pylsl, name, "Markers", [ChannelDesc("marker", "", "Marker")], 0.0, pylsl.cf_string,
                           _source_id(key, tag))
    else:
        raise ValueError(f"unknown outlet {key!r}; use one of {', '.join(OUTLETS)}")
    return Outlet(key, info, lsl_clock, pylsl)


def marker_json(kind: str, label: str, **fields) -> str:
    """The string Asha's ``markers`` outlet sends: compact JSON ``{"event": kind, "label": label, ...}``."""
    return json.dumps({"event": kind, "label": label, **fields}, separators=(",", ":"), ensure_ascii=False)
