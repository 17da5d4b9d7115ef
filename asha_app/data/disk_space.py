"""Room on the disk for a session being written: the reserve file kept beside it and the bytes a flush may use.

A write that fails inside HDF5 (the disk filled between the free-space check and the write, a quota)
leaves HDF5 unable to close the file unless some space is freed: the writer keeps a small reserve file
beside the session (``.NAME.reserve``, :func:`make_reserve`) and frees it (:func:`release_reserve`) before
shrinking the datasets back and closing.  :func:`usable_bytes` is what the writer checks before each flush.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

try:  # POSIX only: the process's file-size limit
    import resource
except ImportError:  # Windows
    resource = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

#: Bytes of the reserve file kept beside a session being written (freed when a write fails inside
#: HDF5 so that the shrunk file can be flushed and closed): HDF5's dirty chunk caches (64 KiB per
#: dataset, about 25 datasets) plus metadata.
RESERVE_BYTES = 4 * 1024 * 1024


def make_reserve(session_path: Path, n_bytes: int) -> Path | None:
    """Create the reserve file beside the session (freed when a write fails inside HDF5).

    Returns its path, or None when ``n_bytes`` is 0 or there is no room for it (logged; the session
    is written all the same, without the reserve).
    """
    if n_bytes <= 0:
        return None
    path = session_path.with_name(f".{session_path.name}.reserve")
    try:
        with open(path, "wb") as fh:
            if hasattr(os, "posix_fallocate"):
                os.posix_fallocate(fh.fileno(), 0, n_bytes)
            else:  # pragma: no cover - Windows, macOS
                block = b"\0" * (1 << 20)
                for _ in range(0, n_bytes, len(block)):
                    fh.write(block)
    except OSError as exc:
        log.warning("%s: no room for the %d-byte reserve file (%s)", session_path, n_bytes, exc)
        path.unlink(missing_ok=True)
        return None
    return path


def release_reserve(reserve: Path | None) -> None:
    """Delete the reserve file (None: nothing to do); a failure is logged, never raised."""
    if reserve is not None:
        try:
            reserve.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("could not remove the reserve file %s: %s", reserve, exc)


def usable_bytes(path: Path, min_free_bytes: int) -> int:
    """Bytes the file ``path`` may still grow by: free disk space less ``min_free_bytes``, within the file-size limit.

    Raises
    ------
    OSError
        If the free space or the file's size cannot be read.
    """
    free = shutil.disk_usage(path.parent).free - min_free_bytes
    if resource is not None:
        limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
        if limit != resource.RLIM_INFINITY:
            free = min(free, limit - os.stat(path).st_size)
    return free
