"""Shadow-mode drift detection: when does the live EMG hand drift away from the camera's?

The live error (MPJPE, wrist-relative, mm, between the EMG-driven hand and the
camera's fitted hand) is noisy frame to frame; a running median over
``window_s`` is robust to single bad frames.  When that median stays above
``threshold_mm`` for ``hold_s`` seconds, :meth:`DriftMonitor.update` reports
drift once (until the median falls back below the threshold), and the GUI
offers to recalibrate (electrode shift, sweat and fatigue change the signal;
see docs/live.md).
"""

from __future__ import annotations

from collections import deque

import numpy as np


def mpjpe_mm(a: np.ndarray, b: np.ndarray) -> float:
    """Mean per-joint distance of two (21, 3) hands after moving both wrists to the origin, mm."""
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    return float(np.linalg.norm((a - a[0]) - (b - b[0]), axis=-1).mean())


class DriftMonitor:
    """Running median of the live error with a hold time.

    Parameters
    ----------
    threshold_mm : float
    window_s : float
        Running-median window.
    hold_s : float
        How long the median must stay above the threshold.
    """

    def __init__(self, threshold_mm: float = 25.0, window_s: float = 5.0, hold_s: float = 10.0) -> None:
        self.threshold_mm = float(threshold_mm)
        self.window_s = float(window_s)
        self.hold_s = float(hold_s)
        self.reset()

    def reset(self) -> None:
        """Forget the history."""
        self._buf: deque = deque()
        self._above_since: float | None = None
        self._reported = False
        self.median_mm = float("nan")

    def update(self, t: float, error_mm: float) -> bool:
        """Add one error at time ``t`` (s); True exactly once when drift is detected."""
        if not np.isfinite(error_mm):
            return False
        self._buf.append((t, error_mm))
        while self._buf and self._buf[0][0] < t - self.window_s:
            self._buf.popleft()
        self.median_mm = float(np.median([e for _, e in self._buf]))
        if self.median_mm <= self.threshold_mm:
            self._above_since = None
            self._reported = False
            return False
        if self._above_since is None:
            self._above_since = t
        if not self._reported and t - self._above_since >= self.hold_s:
            self._reported = True
            return True
        return False
