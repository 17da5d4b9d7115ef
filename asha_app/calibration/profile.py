"""User profiles: one person's calibrated model and everything live inference needs to trust it.

A profile is ONE file (``*.ashaprofile``, a ``torch.save`` of a plain dict,
read with ``weights_only=True``):

================  ===============================================================
key               content
================  ===============================================================
format            ``"asha-profile"``
format_version    :data:`FORMAT_VERSION`
participant       name / code
created           ISO 8601 UTC time
checkpoint        :meth:`Checkpoint.to_dict` of the fine-tuned model (with its normalisation)
device            ``{"name", "fs", "n_channels", "channel_names", "channel_map", "decimation"}``:
                  the input stream the model runs on (``fs`` = stream rate; the model's rate is
                  ``fs / decimation``)
placement_notes   free text (armband position, orientation, skin preparation)
bone_lengths_mm   the person's bone lengths from the IK calibration, or None
metrics           before/after held-out metrics of the calibration
monitor           :class:`~asha_app.inference.ood.InputMonitor` statistics
calibration       strategy, durations, protocol, data summary
================  ===============================================================

Writing is atomic: the dict goes to a temporary file in the same folder, is
flushed to disk, then renamed over the target, so a crash leaves either the
old profile or the new one, never half of one.
"""

from __future__ import annotations

import datetime as _dt
import logging
from dataclasses import dataclass, field
from pathlib import Path

import torch

from asha_app.core import paths
from asha_app.core.atomic import atomic_write
from asha_app.inference.ood import InputMonitor
from asha_app.core.errors import ConfigError
from asha_app.models.checkpoint import FORMAT_VERSION as CKPT_VERSION
from asha_app.models.checkpoint import Checkpoint
from asha_app.models.checkpoint import from_dict as ckpt_from_dict

log = logging.getLogger(__name__)

FORMAT = "asha-profile"
FORMAT_VERSION = 1
SUFFIX = ".ashaprofile"
#: a profile's gesture model beside it (:func:`gestures_path`)
GESTURES_SUFFIX = ".gestures.pt"


class ProfileError(ConfigError):
    """A profile file is missing, unreadable, damaged or of an unknown version."""


class ProfileMismatchError(ProfileError):
    """A profile was made for another device, channel count or sampling rate."""


def checkpoint_from_dict(d: dict) -> Checkpoint:
    """A :class:`Checkpoint` from its :meth:`Checkpoint.to_dict` form (raises KeyError/TypeError/ValueError)."""
    if d.get("format_version") != CKPT_VERSION:
        raise ValueError(f"model format version {d.get('format_version')!r} (this Asha reads {CKPT_VERSION})")
    return ckpt_from_dict(d)


@dataclass
class UserProfile:
    """In-memory profile (see the module docstring)."""

    participant: str
    checkpoint: Checkpoint
    device: dict
    placement_notes: str = ""
    bone_lengths_mm: list | None = None
    metrics: dict = field(default_factory=dict)
    monitor: dict | None = None
    calibration: dict = field(default_factory=dict)
    created: str = field(default_factory=lambda: _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))

    @property
    def decimation(self) -> int:
        """Input rows per model sample."""
        return int(self.device.get("decimation", 1))

    @property
    def input_fs(self) -> float:
        """Rate of the stream the profile runs on, Hz."""
        return float(self.device.get("fs", self.checkpoint.fs))

    def input_monitor(self) -> InputMonitor | None:
        """The calibration statistics as a live monitor (None when the profile has none)."""
        return InputMonitor.from_dict(self.monitor) if self.monitor else None

    def check_device(self, *, n_channels: int | None = None, fs: float | None = None,
                     device: str | None = None) -> None:
        """Raise :class:`ProfileMismatchError` when the live stream differs from the calibration's."""
        problems = []
        if n_channels is not None and int(n_channels) != int(self.device.get("n_channels", self.checkpoint.n_channels)):
            problems.append(f"it was calibrated with {self.device.get('n_channels')} EMG channels, this stream has "
                            f"{n_channels}")
        if fs is not None and abs(float(fs) - self.input_fs) > 1e-6:
            problems.append(f"it was calibrated at {self.input_fs:g} Hz, this stream runs at {float(fs):g} Hz")
        if device is not None and self.device.get("name") and device != self.device["name"]:
            problems.append(f"it was calibrated on {self.device['name']!r}, this device is {device!r}")
        if problems:
            raise ProfileMismatchError(f"profile of {self.participant!r} does not fit: " + "; ".join(problems)
                                       + ". Pick the matching device or run Live → Calibrate… for this one.")

    def to_dict(self) -> dict:
        """The plain dict written to disk."""
        return {"format": FORMAT, "format_version": FORMAT_VERSION, "participant": self.participant,
                "created": self.created, "checkpoint": self.checkpoint.to_dict(), "device": dict(self.device),
                "placement_notes": self.placement_notes, "bone_lengths_mm": self.bone_lengths_mm,
                "metrics": self.metrics, "monitor": self.monitor, "calibration": self.calibration}


def default_path(participant: str, folder: str | Path | None = None) -> Path:
    """``<data dir>/profiles/<participant>.ashaprofile`` (safe file name)."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in participant.strip()) or "profile"
    folder = Path(folder) if folder is not None else paths.data_dir() / "profiles"
    return folder / (safe + SUFFIX)


def gestures_path(profile_path: str | Path) -> Path:
    """Where a profile's gesture model lies: ``P.ashaprofile`` -> ``P.gestures.pt`` beside it.

    The calibration wizard's gesture adaptation writes it; Live → Load profile… loads it into gesture mode.
    """
    return Path(str(profile_path)).with_suffix(GESTURES_SUFFIX)


def save_profile(profile: UserProfile, path: str | Path) -> Path:
    """Write a profile atomically (temp file in the same folder, fsync, rename).

    Raises
    ------
    ProfileError
        The folder cannot be written (the message names it); no partial file is left.
    """
    path = Path(path)
    try:
        with atomic_write(path) as tmp, open(tmp, "wb") as f:
            torch.save(profile.to_dict(), f)
    except OSError as exc:
        raise ProfileError(f"could not write the profile {path} ({exc.strerror or exc}); "
                           "choose a folder you can write to and free some disk space") from exc
    log.info("profile written: %s", path)
    return path


def load_profile(path: str | Path, *, n_channels: int | None = None, fs: float | None = None,
                 device: str | None = None) -> UserProfile:
    """Read and validate a profile.

    Parameters
    ----------
    path : path
    n_channels, fs, device : optional
        The live stream's channel count, rate (Hz) and device name; a mismatch raises.

    Raises
    ------
    ProfileError
        Missing, unreadable, foreign or damaged file, unknown version.
    ProfileMismatchError
        Made for another device, channel count or sampling rate.
    """
    path = Path(path)
    if not path.is_file():
        raise ProfileError(f"profile {path} does not exist; pick another file or run Live → Calibrate… to make one")
    try:
        d = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for foreign or truncated files
        raise ProfileError(f"{path} is not a readable Asha profile ({type(exc).__name__}); it may be damaged: "
                           "calibrate again or pick another file") from exc
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise ProfileError(f"{path} is not an Asha user profile; pick a *{SUFFIX} file")
    if d.get("format_version") != FORMAT_VERSION:
        raise ProfileError(f"{path} has profile version {d.get('format_version')!r}; this Asha reads version "
                           f"{FORMAT_VERSION}. Calibrate again with this version.")
    try:
        ckpt = checkpoint_from_dict(d["checkpoint"])
        prof = UserProfile(participant=str(d["participant"]), checkpoint=ckpt, device=dict(d["device"]),
                           placement_notes=str(d.get("placement_notes", "")), bone_lengths_mm=d.get("bone_lengths_mm"),
                           metrics=d.get("metrics", {}), monitor=d.get("monitor"), calibration=d.get("calibration", {}),
                           created=str(d.get("created", "")))
        ckpt.build_model()  # weights must fit the architecture
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise ProfileError(f"{path} is damaged (bad or missing entry: {exc}); calibrate again") from exc
    prof.check_device(n_channels=n_channels, fs=fs, device=device)
    return prof
