"""Read and clear the "open for writing" flags of an HDF5 file's superblock (what ``h5clear -s`` does).

HDF5 files with superblock version 2 or 3 (``libver="latest"``, as Asha writes
them) carry a byte of file-consistency flags: bit 0 "opened for writing", bit 2
"opened for SWMR writing".  A writer sets them when it opens the file and clears
them when it closes it.  A file whose writer was killed keeps them set:

* bits 0 and 2 (a SWMR writer): readers may open it in SWMR mode (Asha does);
* bit 0 alone (a plain writer, e.g. older Asha versions writing the summary with
  ``h5py.File(path, "r+")``): HDF5 refuses to open it at all ("file is already
  open for write").  Its content is normally consistent (the killed writer's
  last changes never reached the disk), so clearing the flags on a *copy* makes
  it readable again; :func:`asha_app.data.recovery.recover_session` does that.

The superblock ends with a Jenkins lookup3 checksum, recomputed here after the
flags are cleared (the algorithm is Bob Jenkins' public-domain ``hashlittle``,
which HDF5 uses for its metadata checksums).
"""

from __future__ import annotations

from pathlib import Path

SIGNATURE = b"\x89HDF\r\n\x1a\n"
WRITE_ACCESS = 0x01
SWMR_WRITE_ACCESS = 0x04
_M = 0xFFFFFFFF


def _rot(x: int, k: int) -> int:
    return ((x << k) | (x >> (32 - k))) & _M


def lookup3(data: bytes, initval: int = 0) -> int:
    """Bob Jenkins' lookup3 ``hashlittle`` of ``data`` (HDF5's metadata checksum)."""
    n = len(data)
    a = b = c = (0xDEADBEEF + n + initval) & _M
    i = 0
    while n - i > 12:
        a = (a + int.from_bytes(data[i:i + 4], "little")) & _M
        b = (b + int.from_bytes(data[i + 4:i + 8], "little")) & _M
        c = (c + int.from_bytes(data[i + 8:i + 12], "little")) & _M
        a = (a - c) & _M; a ^= _rot(c, 4); c = (c + b) & _M  # noqa: E702
        b = (b - a) & _M; b ^= _rot(a, 6); a = (a + c) & _M  # noqa: E702
        c = (c - b) & _M; c ^= _rot(b, 8); b = (b + a) & _M  # noqa: E702
        a = (a - c) & _M; a ^= _rot(c, 16); c = (c + b) & _M  # noqa: E702
        b = (b - a) & _M; b ^= _rot(a, 19); a = (a + c) & _M  # noqa: E702
        c = (c - b) & _M; c ^= _rot(b, 4); b = (b + a) & _M  # noqa: E702
        i += 12
    rest = data[i:]
    if not rest:
        return c
    rest = rest + b"\0" * (12 - len(rest))
    a = (a + int.from_bytes(rest[0:4], "little")) & _M
    b = (b + int.from_bytes(rest[4:8], "little")) & _M
    c = (c + int.from_bytes(rest[8:12], "little")) & _M
    c ^= b; c = (c - _rot(b, 14)) & _M  # noqa: E702
    a ^= c; a = (a - _rot(c, 11)) & _M  # noqa: E702
    b ^= a; b = (b - _rot(a, 25)) & _M  # noqa: E702
    c ^= b; c = (c - _rot(b, 16)) & _M  # noqa: E702
    a ^= c; a = (a - _rot(c, 4)) & _M  # noqa: E702
    b ^= a; b = (b - _rot(a, 14)) & _M  # noqa: E702
    c ^= b; c = (c - _rot(b, 24)) & _M  # noqa: E702
    return c


def _superblock(fh) -> tuple[int, bytes] | None:
    """(offset, bytes up to and including the checksum) of a version 2/3 superblock, else None."""
    offset = 0
    while offset <= 1 << 20:  # the superblock sits at 0, 512, 1024, 2048, ... (after a user block)
        fh.seek(offset)
        head = fh.read(12)
        if len(head) < 12:
            return None
        if head[:8] == SIGNATURE:
            if head[8] not in (2, 3):
                return None
            size = 12 + 4 * head[9] + 4
            fh.seek(offset)
            return offset, fh.read(size)
        offset = 512 if offset == 0 else offset * 2
    return None


def open_flags(path: str | Path) -> int | None:
    """The consistency-flag byte of ``path``'s superblock (None: no version 2/3 superblock)."""
    with open(path, "rb") as fh:
        found = _superblock(fh)
    return None if found is None else found[1][11]


def clear_open_flags(path: str | Path) -> bool:
    """Clear the "open for writing" flags of ``path`` in place (use a copy); returns True if it changed anything.

    Refuses (returns False) when the stored checksum does not match: the
    superblock is damaged and clearing would hide it.
    """
    with open(path, "r+b") as fh:
        found = _superblock(fh)
        if found is None:
            return False
        offset, sb = found
        end = len(sb) - 4
        if lookup3(sb[:end]) != int.from_bytes(sb[end:], "little") or sb[11] == 0:
            return False
        new = bytearray(sb)
        new[11] = 0
        new[end:] = lookup3(bytes(new[:end])).to_bytes(4, "little")
        fh.seek(offset)
        fh.write(bytes(new))
    return True


__all__ = ["SWMR_WRITE_ACCESS", "WRITE_ACCESS", "clear_open_flags", "lookup3", "open_flags"]
