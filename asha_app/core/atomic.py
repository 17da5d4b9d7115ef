"""Atomic file writes: every file Asha writes appears complete under its final name, or not at all.

A writer gets a temporary name in the destination's own folder (so the final
rename never crosses file systems), writes there, and the temporary file is
renamed over the destination only when the writing code returned normally;
on any error, ``KeyboardInterrupt`` included, it is removed.  A kill or a
power cut leaves at most a hidden ``.NAME.*.tmp`` beside the destination
(never a truncated file under the real name, which would block a retry with
"already exists")::

    with atomic_write("model.pt") as tmp:
        torch.save(state, tmp)

    atomic_write_text(path, json.dumps(data))

Folders (a CSV export is three files in one folder) use
:func:`atomic_folder`: the folder is filled under a temporary name and
renamed when complete.

This module depends on the standard library only.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

#: suffix of every temporary file or folder made here (``.NAME.<random>.tmp``)
TMP_SUFFIX = ".tmp"


class OutputExistsError(FileExistsError):
    """The destination exists and replacing it was not allowed."""


def _fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX; a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _umask() -> int:
    """The process's umask, read without changing it (Linux); 0o022 elsewhere."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def temp_path_for(path: str | Path, *, directory: bool = False) -> Path:
    """A fresh hidden temporary path beside ``path`` (``.NAME.<random>.tmp``); the file or folder is created empty.

    Its permissions are those a plainly created file or folder would get (the
    umask applied), not :mod:`tempfile`'s owner-only ones.
    """
    path = Path(path)
    if directory:
        out = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=TMP_SUFFIX, dir=path.parent))
        mode = 0o777
    else:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TMP_SUFFIX, dir=path.parent)
        os.close(fd)
        out, mode = Path(name), 0o666
    with contextlib.suppress(OSError):
        os.chmod(out, mode & ~_umask())
    return out


def _check_destination(path: Path, overwrite: bool) -> None:
    if path.is_dir() and not path.is_symlink():
        raise IsADirectoryError(errno.EISDIR, "is a folder, not a file", str(path))
    if not overwrite and path.exists():
        raise OutputExistsError(errno.EEXIST, "already exists", str(path))


@contextlib.contextmanager
def atomic_write(path: str | Path, *, overwrite: bool = True, fsync: bool = True, mkdir: bool = True) -> Iterator[Path]:
    """Write a file under a temporary name and rename it to ``path`` when the block succeeds.

    Parameters
    ----------
    path : str or Path
        Final file name.
    overwrite : bool
        Replace an existing ``path`` (default).  ``False`` raises
        :class:`OutputExistsError` before anything is written, and again at
        the rename if the file appeared meanwhile (the temporary file is
        removed then).
    fsync : bool
        Flush the file and its folder to disk before and after the rename, so
        that a power cut leaves the old or the new content, never neither.
    mkdir : bool
        Create the folder if needed.

    Yields
    ------
    Path
        The temporary file (already created, empty) to write; writers that
        append a suffix of their own must not be given it (see
        :func:`asha_app.data.exporters.export_windows_npz`).

    Raises
    ------
    OutputExistsError
        ``path`` exists and ``overwrite`` is False.
    IsADirectoryError
        ``path`` is a folder.
    OSError
        The folder cannot be written; nothing is left behind.
    """
    path = Path(path)
    if mkdir:
        path.parent.mkdir(parents=True, exist_ok=True)
    _check_destination(path, overwrite)
    tmp = temp_path_for(path)
    try:
        yield tmp
        if fsync:
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            try:  # link + unlink: fails instead of replacing a file that appeared meanwhile
                os.link(tmp, path)
            except FileExistsError as exc:
                raise OutputExistsError(errno.EEXIST, "already exists", str(path)) from exc
            except OSError:  # file systems without hard links
                _check_destination(path, overwrite)
                os.replace(tmp, path)
            else:
                tmp.unlink()
        if fsync:
            _fsync_dir(path.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def atomic_write_bytes(path: str | Path, data: bytes, **kwargs) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_write`); returns ``path``."""
    with atomic_write(path, **kwargs) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(path: str | Path, text: str, encoding: str = "utf-8", **kwargs) -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_write`); returns ``path``."""
    return atomic_write_bytes(path, text.encode(encoding), **kwargs)


@contextlib.contextmanager
def atomic_folder(path: str | Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Fill a folder under a temporary name and rename it to ``path`` when the block succeeds.

    An existing ``path`` is refused unless ``overwrite``; with ``overwrite``
    it is replaced only after the new folder is complete (moved aside, then
    removed).

    Raises
    ------
    OutputExistsError
        ``path`` exists and ``overwrite`` is False.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and not overwrite:
        raise OutputExistsError(errno.EEXIST, "already exists", str(path))
    if path.exists() and not path.is_dir():
        raise FileExistsError(errno.EEXIST, "exists and is not a folder", str(path))
    tmp = temp_path_for(path, directory=True)
    try:
        yield tmp
        old = None
        if path.exists():
            old = temp_path_for(path, directory=True)
            os.rmdir(old)
            os.replace(path, old)
        os.replace(tmp, path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        _fsync_dir(path.parent)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def is_temporary(path: str | Path) -> bool:
    """True for a name made by this module (``.NAME.<random>.tmp``): leftovers of a killed write."""
    name = Path(path).name
    return name.startswith(".") and name.endswith(TMP_SUFFIX)


__all__ = ["OutputExistsError", "atomic_folder", "atomic_write", "atomic_write_bytes", "atomic_write_text",
           "is_temporary", "temp_path_for"]
