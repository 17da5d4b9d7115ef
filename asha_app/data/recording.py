"""The in-memory form of one recording, shared by readers, importers, datasets and models.

A :class:`Recording` is what a session file (or an imported external file)
holds, as plain numpy arrays on the session clock.  Session-file readers and
every importer return one; the training datasets consume one.  It is the
contract between :mod:`asha_app.data` and :mod:`asha_app.models`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Prompt:
    """One prompted movement or marker on the session clock.

    Attributes
    ----------
    label : str
        What was asked (``"fist"``, ``"index flexion"``) or marked.
    start, end : float
        Session seconds; ``end == start`` for an instantaneous marker.
    repetition : int
        Repetition number within the protocol (0-based), -1 for free markers.
    """

    label: str
    start: float
    end: float
    repetition: int = -1


@dataclass
class Recording:
    """sEMG with its pose labels, on one session clock.

    Attributes
    ----------
    emg : float32 array (n_samples, n_channels)
        Raw sEMG in microvolts (imported data in its own units; see ``emg_units``).
    emg_t : float64 array (n_samples,)
        Session seconds of each EMG sample (from the board's timestamps).
    fs : float
        Nominal EMG sampling rate in Hz (500 armband, 200 Myo, 100 NinaPro ...).
    label_t : float64 array (n_frames,)
        Session seconds of each label frame (camera capture time).
    joint_angles : float32 array (n_frames, n_angles) or None
        Joint angles in degrees, names in ``angle_names``.
    joints_mm : float32 array (n_frames, 21, 3) or None
        The 21 MediaPipe-order joints in millimetres, hand frame (wrist origin).
    targets : float32 array (n_frames, n_targets) or None
        Target vector as given for imported data without a hand model (e.g.
        NinaPro glove channels); names in ``target_names``.
    valid : bool array (n_frames,)
        True where the label frame is a valid fit; invalid frames are never
        replaced by a neutral pose.
    prompts : list of Prompt
        Prompts and markers.
    meta : dict
        Free-form attributes (participant, device, channel map, source file ...).
    extras : dict[str, numpy.ndarray]
        Optional further streams keyed by their session-file path
        (``"emg/package"``, ``"emg/board_t"``, ``"emg/marker"``, ``"imu/t"``,
        ``"imu/accel"``, ``"imu/gyro"``, ``"labels/joints_world_mm"``,
        ``"labels/fit_error_mm"``, ``"labels/global_rot"``,
        ``"labels/translation_mm"``); empty when the source has none.
    """

    emg: np.ndarray
    emg_t: np.ndarray
    fs: float
    label_t: np.ndarray = field(default_factory=lambda: np.zeros(0))
    joint_angles: np.ndarray | None = None
    joints_mm: np.ndarray | None = None
    targets: np.ndarray | None = None
    valid: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    angle_names: list[str] = field(default_factory=list)
    target_names: list[str] = field(default_factory=list)
    channel_names: list[str] = field(default_factory=list)
    emg_units: str = "uV"
    prompts: list[Prompt] = field(default_factory=list)
    meta: dict = field(default_factory=dict)
    extras: dict = field(default_factory=dict)

    @property
    def n_channels(self) -> int:
        """Number of EMG channels."""
        return int(self.emg.shape[1])

    @property
    def duration(self) -> float:
        """Seconds from the first to the last EMG sample (0 when empty)."""
        return float(self.emg_t[-1] - self.emg_t[0]) if len(self.emg_t) > 1 else 0.0
