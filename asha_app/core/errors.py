"""Errors that reach the user.

Every error raised on purpose by Asha derives from :class:`AshaError` and
carries a message written for the person in front of the app: what happened,
and what to do about it.  Workers catch these and forward ``str(exc)`` to the
GUI unchanged.
"""

from __future__ import annotations


class AshaError(Exception):
    """Base class of errors whose message is shown to the user as it is."""


class DeviceError(AshaError):
    """A device (armband, playback file, camera) could not be opened or read."""


class DeviceNotFoundError(DeviceError):
    """The device is not reachable (switched off, wrong network, unplugged)."""


class RecordingFileError(AshaError):
    """A recording or session file is missing, truncated, foreign or corrupt."""


class ConfigError(AshaError):
    """A settings, protocol or profile file is invalid; the message says where."""


class DatasetError(AshaError):
    """The recordings cannot make a training/evaluation set (no valid labels, NaNs, empty split ...)."""
