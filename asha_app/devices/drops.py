"""Dropped samples, counted from gaps in a board's package-number sequence.

Two views of the same rule: :class:`DropCounter` counts live, block by block, as
the acquisition worker receives packets; :func:`package_gaps` finds the gaps in a
whole (or a later block of a) recorded sequence, for the session writer's
``dropped`` records and the integrity check.  A backwards jump is a counter wrap
(at ``modulus``, or at the next power of two above the last number for 8- and
16-bit counters) unless it returns to the first number ever seen: a playback
file looping, which loses nothing.
"""

from __future__ import annotations

import numpy as np


class DropCounter:
    """Count dropped samples from gaps in the package-number row.

    Parameters
    ----------
    modulus : int, optional
        Package numbers run ``0 .. modulus-1`` and wrap.  When None, a backwards
        jump is taken as a wrap at the next power of two above the last number
        (8- and 16-bit counters), and as a restart (no loss counted) when the
        new number is the first one ever seen (a playback file looping).
    """

    def __init__(self, modulus: int | None = None) -> None:
        self.modulus = modulus
        self.last: int | None = None
        self.first: int | None = None
        self.dropped = 0
        self.restarts = 0
        self.events: list[tuple[int, int]] = []  # (package after the gap, samples missing)

    def reset(self) -> None:
        """Forget the last package number (after a reconnect the next gap is not comparable)."""
        self.last = None

    def update(self, package: np.ndarray) -> int:
        """Account for a block of package numbers; returns the samples dropped within/before it."""
        if len(package) == 0:
            return 0
        pk = np.asarray(package, dtype=np.int64)
        if self.first is None:
            self.first = int(pk[0])
        prev = np.concatenate([[self.last if self.last is not None else pk[0] - 1], pk[:-1]])
        step = pk - prev
        lost = 0
        for i in np.flatnonzero(step != 1):
            gap = int(step[i]) - 1
            if gap < 0:
                if self.modulus:
                    gap = (int(pk[i]) - int(prev[i]) - 1) % self.modulus
                elif int(pk[i]) == self.first:
                    self.restarts += 1
                    continue
                else:
                    wrap = 1 << int(prev[i]).bit_length()
                    gap = wrap - int(prev[i]) - 1 + int(pk[i])
            if gap > 0:
                self.events.append((int(pk[i]), gap))
                lost += gap
        self.dropped += lost
        self.last = int(pk[-1])
        return lost


def package_gaps(package: np.ndarray, modulus: int | None = None, first: float | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Find gaps in a board's package-number sequence.

    Parameters
    ----------
    package : array (n,)
        Package numbers in arrival order (NaN entries are ignored).
    modulus : int, optional
        Counter wrap value (the number after ``modulus - 1`` is 0).  Without
        it, a backwards jump to the first number ever seen (``first``, default
        ``package[0]``) is a restart (a playback file looping; no loss), and
        any other backwards jump a wrap at the next power of two above the
        last number (8- and 16-bit counters), as
        :class:`DropCounter` counts them live.
    first : float, optional
        First package number of the stream (when ``package`` is a later block).

    Returns
    -------
    index : int array (g,)
        Index of the first sample after each gap.
    first_missing : float array (g,)
        First missing package number of each gap.
    n_missing : int array (g,)
        Missing packages in each gap.
    """
    p = np.asarray(package, dtype=np.float64).reshape(-1)
    ok = np.flatnonzero(np.isfinite(p))
    if ok.size < 2:
        return np.zeros(0, int), np.zeros(0), np.zeros(0, int)
    q = p[ok]
    first = float(q[0]) if first is None else float(first)
    d = np.diff(q)
    back = np.flatnonzero(d <= 0)
    wraps = np.full(d.shape, np.nan)
    for i in back:
        if modulus:
            wraps[i] = modulus
        elif q[i + 1] == first:
            d[i] = 1.0  # restart: no loss
        else:
            wraps[i] = float(1 << int(q[i]).bit_length())
    fix = np.isfinite(wraps)
    d[fix] += wraps[fix]
    gap = np.flatnonzero(d > 1)
    first_missing = q[gap] + 1
    wrap_at = np.where(np.isfinite(wraps[gap]), wraps[gap], modulus or np.inf)
    first_missing = np.where(first_missing >= wrap_at, first_missing - wrap_at, first_missing)
    return ok[gap + 1], first_missing, (d[gap] - 1).astype(np.int64)
