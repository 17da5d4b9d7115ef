"""One session clock for every stream.

Every time stamp that Asha stores or compares is in **seconds on the session
clock**: 0 is the moment the session clock was created (the app start, or the
start of a recording).  Sources map their own time bases onto it:

* the armband's per-sample timestamps (row ``timestamp_channel`` of the board,
  Unix seconds) go through :class:`BoardTimeMapper`;
* camera frames are stamped with :meth:`SessionClock.now` at capture;
* prompts and markers are stamped with :meth:`SessionClock.now`.

The session clock runs on :func:`time.perf_counter` (monotonic) and remembers
the Unix time at its origin, so Unix timestamps convert with
:meth:`SessionClock.from_unix`.
"""

from __future__ import annotations

import time

import numpy as np


class SessionClock:
    """Monotonic seconds since the session started.

    Attributes
    ----------
    t0_unix : float
        Unix time (s) at the clock's origin.
    """

    def __init__(self) -> None:
        self._t0_perf = time.perf_counter()
        self.t0_unix = time.time()

    def now(self) -> float:
        """Seconds since the origin (monotonic, never jumps with NTP)."""
        return time.perf_counter() - self._t0_perf

    def from_unix(self, t_unix):
        """Convert Unix seconds (scalar or array) to session seconds."""
        return np.asarray(t_unix, dtype=np.float64) - self.t0_unix if np.ndim(t_unix) else float(t_unix) - self.t0_unix

    def to_unix(self, t_session):
        """Convert session seconds back to Unix seconds."""
        if np.ndim(t_session):
            return np.asarray(t_session, dtype=np.float64) + self.t0_unix
        return float(t_session) + self.t0_unix


class BoardTimeMapper:
    """Map a board's own per-sample timestamps onto the session clock.

    A live armband stamps samples in Unix seconds close to the host's clock;
    those map directly with :meth:`SessionClock.from_unix`.  A playback file
    that keeps its recorded timestamps (``old_timestamps``) or a device with
    its own epoch is far from the host clock: then the mapper anchors the
    board clock once, on the first block, so that its newest sample lands at
    the session time the block arrived, and keeps that offset fixed.  Either
    way the board's own sample spacing is kept (never host arrival time plus
    ``arange/fs``).

    Parameters
    ----------
    clock : SessionClock
        The session clock.
    max_unix_skew : float
        Board timestamps within this many seconds of the host's Unix time are
        taken as Unix time.
    """

    def __init__(self, clock: SessionClock, max_unix_skew: float = 5.0) -> None:
        self.clock = clock
        self.max_unix_skew = max_unix_skew
        self.offset: float | None = None  # session = board + offset
        self.anchored = False

    def reset(self) -> None:
        """Forget the anchor (e.g. after a reconnect or a playback rewind)."""
        self.offset = None
        self.anchored = False

    def map(self, board_ts: np.ndarray, arrival_session: float | None = None) -> np.ndarray:
        """Convert board timestamps (s) of one block to session seconds.

        Parameters
        ----------
        board_ts : numpy.ndarray, shape (n,)
            The board's timestamp row for the block.
        arrival_session : float, optional
            Session time the block arrived (defaults to ``clock.now()``); used
            only to anchor a board clock that is not Unix time.
        """
        board_ts = np.asarray(board_ts, dtype=np.float64)
        if board_ts.size == 0:
            return board_ts
        if self.offset is None:
            arrival = self.clock.now() if arrival_session is None else arrival_session
            unix_now = self.clock.to_unix(arrival)
            if abs(float(board_ts[-1]) - unix_now) <= self.max_unix_skew:
                self.offset = -self.clock.t0_unix
                self.anchored = False
            else:
                self.offset = arrival - float(board_ts[-1])
                self.anchored = True
        return board_ts + self.offset
