"""Is the live input like the calibration data?  Mahalanobis distance of log-RMS features.

Features: per-channel log RMS of the filtered EMG over the last ``window_s``
(the amplitude features of Hudgins et al. 1993 / Phinyomark et al. 2012).  The
calibration data give their mean and covariance; live, the squared Mahalanobis
distance ``d2 = (f - mu)^T S^-1 (f - mu)`` is compared with the 99th percentile
of the calibration windows' own distances.  A second check counts samples
beyond +/- 4 standard deviations of the calibration statistics (a loose or
lifted electrode, saturation).
"""

from __future__ import annotations

from collections import deque

import numpy as np

from asha_app.dsp.filters import FilterSpec, StreamingFilter, filter_offline

_EPS = 1e-6


def log_rms_features(x: np.ndarray, win: int, step: int | None = None) -> np.ndarray:
    """Log RMS per channel over windows of ``win`` rows every ``step`` rows: (n, C) -> (m, C)."""
    x = np.asarray(x, np.float64)
    step = step or max(1, win // 2)
    if len(x) < win:
        return np.zeros((0, x.shape[1]))
    c = np.vstack([np.zeros((1, x.shape[1])), np.cumsum(x ** 2, axis=0)])
    ends = np.arange(win, len(x) + 1, step)
    ms = (c[ends] - c[ends - win]) / win
    return 0.5 * np.log(ms + _EPS)


class InputMonitor:
    """Live check of EMG input against calibration statistics.

    Parameters
    ----------
    filter_spec : FilterSpec
        The model's filter chain (features use the filtered signal).
    n_channels : int
    window_s : float
        Feature window, seconds.
    """

    def __init__(self, filter_spec: FilterSpec, n_channels: int, window_s: float = 0.5) -> None:
        self.spec = filter_spec
        self.n_channels = int(n_channels)
        self.window_s = float(window_s)
        self.win = max(4, int(round(window_s * filter_spec.fs)))
        self.mean = np.zeros(n_channels)
        self.icov = np.eye(n_channels)
        self.threshold = np.inf
        self.x_mean = np.zeros(n_channels)
        self.x_std = np.ones(n_channels)
        self.fitted = False
        self._filter = StreamingFilter(filter_spec, n_channels)
        self._buf: deque = deque(maxlen=self.win)

    def fit(self, emg: np.ndarray) -> InputMonitor:
        """Statistics of calibration EMG (raw rows at ``filter_spec.fs``, (n, C))."""
        xf = filter_offline(np.asarray(emg, np.float64), self.spec)
        f = log_rms_features(xf, self.win)
        if len(f) < 3:
            raise ValueError("too little calibration EMG for input statistics")
        self.mean = f.mean(0)
        cov = np.cov(f, rowvar=False) + 1e-3 * np.eye(self.n_channels)
        self.icov = np.linalg.inv(cov)
        d = self._d2(f)
        self.threshold = float(np.percentile(d, 99)) * 1.5
        self.x_mean = xf.mean(0)
        self.x_std = xf.std(0) + _EPS
        self.fitted = True
        return self

    def _d2(self, f: np.ndarray) -> np.ndarray:
        z = np.atleast_2d(f) - self.mean
        return np.einsum("ij,jk,ik->i", z, self.icov, z)

    def reset(self) -> None:
        """Forget the live buffer and filter state."""
        self._filter.reset()
        self._buf.clear()

    def update(self, raw: np.ndarray) -> None:
        """Feed raw rows at the model rate."""
        if len(raw):
            for row in self._filter.process(np.asarray(raw, np.float64)):
                self._buf.append(row)

    def assess(self) -> dict:
        """``{"d2", "threshold", "outlier_share", "confidence" (0..1), "out_of_range" (bool)}`` of the last window."""
        if not self.fitted or len(self._buf) < self.win:
            return {"d2": float("nan"), "threshold": self.threshold, "outlier_share": 0.0, "confidence": float("nan"),
                    "out_of_range": False}
        x = np.asarray(self._buf)
        f = 0.5 * np.log((x ** 2).mean(0) + _EPS)
        d2 = float(self._d2(f)[0])
        outl = float((np.abs((x - self.x_mean) / self.x_std) > 4.0).mean())
        conf = float(np.exp(-max(0.0, d2 / self.threshold - 1.0)) * (1.0 - min(1.0, outl * 10)))
        return {"d2": d2, "threshold": self.threshold, "outlier_share": outl, "confidence": conf,
                "out_of_range": bool(d2 > self.threshold or outl > 0.05)}

    def to_dict(self) -> dict:
        """Plain dict for the profile."""
        return {"window_s": self.window_s, "filter": self.spec.to_dict(), "n_channels": self.n_channels,
                "mean": self.mean.tolist(), "icov": self.icov.tolist(), "threshold": float(self.threshold),
                "x_mean": self.x_mean.tolist(), "x_std": self.x_std.tolist(), "fitted": self.fitted}

    @classmethod
    def from_dict(cls, d: dict) -> InputMonitor:
        """Inverse of :meth:`to_dict`."""
        m = cls(FilterSpec.from_dict(d["filter"]), int(d["n_channels"]), float(d["window_s"]))
        m.mean = np.asarray(d["mean"], float)
        m.icov = np.asarray(d["icov"], float)
        m.threshold = float(d["threshold"])
        m.x_mean = np.asarray(d["x_mean"], float)
        m.x_std = np.asarray(d["x_std"], float)
        m.fitted = bool(d.get("fitted", True))
        return m
