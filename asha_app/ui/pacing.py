"""When the EMG scopes redraw while the live hand runs (Qt-free; the window's draw timer asks, the live view tells).

A scope frame takes 8-20 ms of the GUI thread on a slow machine (software
OpenGL, two cores).  Drawn at an arbitrary moment, it often started just before
the next live pose arrived and made that pose wait: the hand's latency is what
the live view is measured by.  The poses come at a steady rate (the model's
output rate, 50 Hz in the live demo), so there is a quiet stretch after each
painted hand frame before the next pose is due.

:class:`ScopePacer` is the one place that decides.  The main window's draw timer
ticks every :data:`TICK_S` (its own interval, never changed by anyone) and asks
:meth:`ScopePacer.scopes_due` on every tick; the live controller says when live
runs (:meth:`ScopePacer.start_live`), when a hand frame was painted and how long
the GUI thread spent on it (:meth:`ScopePacer.hand_frame`), and whether the user
wants the scopes to move while live (:attr:`ScopePacer.scopes_while_live`).
Without a live hand the scopes draw :data:`IDLE_SCOPE_HZ` times a second.  While
live, a tick draws only as the first tick after a hand frame or when the scope frame fits in
the quiet stretch before the next pose (from the measured pose period, hand-frame
time and scope-frame time), at most :data:`LIVE_SCOPE_HZ` times a second, and at least every
:data:`FALLBACK_S` (no hand frames: the 3D dock is closed).  The fine tick lets a
scope frame start within a few milliseconds of the quiet stretch's beginning
(measured: ``benchmarks/live.py``, docs/live.md).
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

#: the window's draw timer interval (s): the pacer's resolution
TICK_S = 0.005
#: without a live hand the scopes redraw this often (Hz)
IDLE_SCOPE_HZ = 40.0
#: while live, the scopes redraw at most this often (Hz)
LIVE_SCOPE_HZ = 20.0
#: and at least this often (s), whatever the hand frames do
FALLBACK_S = 0.25
#: a scope frame's cost assumed before one was measured (s)
DEFAULT_SCOPE_COST_S = 0.008


class ScopePacer:
    """Decides, tick by tick, whether the scopes redraw now.

    Parameters
    ----------
    idle_hz : float
        Scope frames per second without a live hand.
    live_hz : float
        Most scope frames per second while live.
    fallback_s : float
        Longest time without a scope frame while live (when the user lets the scopes move).
    history : int
        Hand frames and scope frames remembered for the medians.

    Attributes
    ----------
    live : bool
        A live hand runs.
    scopes_while_live : bool
        The scopes move while live (the Live dock's "Scopes run while live").
    """

    def __init__(self, idle_hz: float = IDLE_SCOPE_HZ, live_hz: float = LIVE_SCOPE_HZ, fallback_s: float = FALLBACK_S,
                 history: int = 25) -> None:
        self.idle_interval_s = 1.0 / float(idle_hz)
        self.live_interval_s = 1.0 / float(live_hz)
        self.fallback_s = float(fallback_s)
        self.live = False
        self.scopes_while_live = True
        self._frames: deque = deque(maxlen=history)
        self._busy: deque = deque(maxlen=history)
        self._costs: deque = deque(maxlen=history)
        self._last_scope = -math.inf
        self._next_due = -math.inf  # while live: when the next scope frame is due (20 Hz on average)
        self._n_frames = 0  # hand frames reported, and how many the last tick had seen
        self._n_seen = 0
        self._period: float | None = None  # medians, updated when a frame is reported (ticks only compare)
        self._busy_s = 0.0
        self._cost_s = DEFAULT_SCOPE_COST_S

    # ------------------------------------------------------------------ what the others say
    def start_live(self) -> None:
        """A live hand starts: from now on the scopes wait for the quiet stretch between poses."""
        self.live = True
        self._frames.clear()
        self._busy.clear()
        self._period, self._busy_s = None, 0.0

    def stop_live(self) -> None:
        """No live hand any more: every tick draws again."""
        self.live = False

    def hand_frame(self, t: float, busy_s: float = 0.0) -> None:
        """A live hand frame was painted at ``t`` (s, ``time.perf_counter``); the GUI thread spent ``busy_s`` on it."""
        self._frames.append(float(t))
        self._busy.append(max(0.0, float(busy_s)))
        self._n_frames += 1
        if len(self._frames) >= 2:
            self._period = float(np.median(np.diff(np.asarray(self._frames))))
        self._busy_s = float(np.median(self._busy))

    def scopes_drawn(self, t: float, cost_s: float) -> None:
        """The scopes were drawn at ``t``, which took ``cost_s`` of the GUI thread."""
        self._last_scope = float(t)
        # the schedule keeps its average rate whether a frame came a little early or late; a frame much later than
        # due (a busy loop, the fallback) restarts it from now instead of building up a backlog
        self._next_due = max(self._next_due + self.live_interval_s, t + self.live_interval_s / 2)
        self._costs.append(max(0.0, float(cost_s)))
        self._cost_s = float(np.median(self._costs))

    # ------------------------------------------------------------------ the decision
    @property
    def pose_period_s(self) -> float | None:
        """Median time between the recent hand frames (None before two frames)."""
        return self._period

    @property
    def scope_cost_s(self) -> float:
        """Median cost of the recent scope frames."""
        return self._cost_s

    def allows_scopes(self) -> bool:
        """The scopes move at all now (False only while live with the scopes paused by the user)."""
        return not self.live or self.scopes_while_live

    def scopes_due(self, t: float) -> bool:
        """Draw the scopes on this tick at ``t`` (s, ``time.perf_counter``)?"""
        since_scope = t - self._last_scope + TICK_S / 2  # a tick early is on time
        first_after_frame = self._n_frames != self._n_seen
        self._n_seen = self._n_frames
        if not self.live:
            return since_scope >= self.idle_interval_s
        if not self.scopes_while_live or since_scope < self.live_interval_s / 2:
            return False
        if since_scope >= self.fallback_s:
            return True
        period = self._period
        if period is None or t - self._frames[-1] > self.fallback_s:  # no hand frames come: the fallback rate
            return False
        # The first tick after a hand frame is the best moment there is (even when the scopes do not fit before the
        # next pose, and however late a busy event loop delivers the tick): taken when the schedule is nearer to it
        # than to the next frame, so that frames every 20 ms give scopes every 40 or 60 ms, 20 /s on average.
        if first_after_frame:
            return t >= self._next_due - period / 2
        # later in the gap only when due and the scope frame fits: the next pose is due about one period after the
        # last one arrived, i.e. (period - busy) after its frame
        return t >= self._next_due and (t - self._frames[-1]) + self._cost_s <= period - self._busy_s
