"""Errors that reach the user.

Every error raised on purpose by Asha derives from :class:`AshaError` and
carries a message written for the person in front of the app: what happened,
and what to do about it.  Workers catch these and forward ``str(exc)`` to the
GUI unchanged.
"""

from __future__ import annotations

import errno


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


def describe_os_error(exc: BaseException) -> str:
    """What an OS error while writing a file means for the person, as a phrase ("the disk is full").

    Parameters
    ----------
    exc : BaseException
        Usually an :class:`OSError` (its ``errno``), or an HDF5 error whose text names the cause.

    Returns
    -------
    str
        The cause in words; the error's own text when the cause is not one of the known ones.
    """
    text = str(exc)
    code = getattr(exc, "errno", None)
    if code == errno.ENOSPC or "No space" in text:
        return "the disk is full"
    if code == getattr(errno, "EDQUOT", None) or "quota" in text.lower():
        return "the disk quota is exceeded"
    if code == errno.EFBIG or "File too large" in text:
        return "the file system refused to let the file grow (disk full or file-size limit)"
    if code == errno.EROFS or "read-only" in text.lower():
        return "the disk is read-only"
    if code in (errno.EACCES, errno.EPERM) or "ermission" in text:
        return "the folder is not writable"
    if code in (errno.ENOENT, errno.ENOTDIR):
        return "the folder does not exist"
    return text or type(exc).__name__
