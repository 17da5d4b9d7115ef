"""Live inference helpers on top of :class:`asha_app.models.streaming.StreamingRunner`.

:class:`DecimatedRunner` lets a model trained at a lower rate run on a faster
stream (the live demo: a 50 Hz model on the 500 Hz playback board).  It keeps
the rows whose package number is a multiple of ``factor``; on the demo file,
which repeats every 50 Hz sample ``factor`` times starting at package 0, those
are exactly the 50 Hz samples, so live output equals batch output on the 50 Hz
recording.  A package number that jumps backwards (a playback file looping)
starts a new signal.
"""

from __future__ import annotations

import numpy as np

from asha_app.models.streaming import StreamingRunner


class DecimatedRunner:
    """Feed every ``factor``-th row (by package number) of a stream to a streaming runner.

    Parameters
    ----------
    runner : StreamingRunner
        Runner at the model's rate (input rate / ``factor``).
    factor : int
        Decimation factor (1: every row).
    """

    def __init__(self, runner: StreamingRunner, factor: int = 1) -> None:
        self.runner = runner
        self.factor = max(1, int(factor))
        self.restarts = 0
        self.reset()

    def reset(self) -> None:
        """Start a new signal."""
        self.runner.reset()
        self._last_package: float | None = None
        self._fed = 0

    def process(self, raw: np.ndarray, package: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Feed the next chunk at the input rate.

        Parameters
        ----------
        raw : array (n, n_channels)
            Raw EMG rows.
        package : array (n,), optional
            Their package numbers (without: rows are counted from the last reset).

        Returns
        -------
        rows : int64 array (k,)
            Position within this chunk of the row each output belongs to.
        poses : float32 array (k, n_targets)
            Predictions in target units.
        """
        raw = np.asarray(raw)
        n = len(raw)
        if package is None:
            package = self._fed + np.arange(n)
        package = np.asarray(package, dtype=np.float64).reshape(-1)
        if n and self._last_package is not None and package[0] < self._last_package:
            self.restarts += 1
            self.reset()
        if n:
            self._last_package = float(package[-1])
        self._fed += n
        sel = np.flatnonzero(np.mod(np.round(package).astype(np.int64), self.factor) == 0) if self.factor > 1 \
            else np.arange(n)
        if len(sel) == 0:
            return np.zeros(0, np.int64), np.zeros((0, self.runner.model.n_targets), np.float32)
        c0 = self.runner.count
        ends, poses = self.runner.process(raw[sel])
        return sel[ends - c0], poses
