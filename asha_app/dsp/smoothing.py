"""One Euro filter for smoothing live pose output.

Casiez, Roussel and Vogel, "1 Euro Filter: A Simple Speed-based Low-pass
Filter for Noisy Input in Interactive Systems", CHI 2012.  An exponential
low-pass whose cutoff rises with the signal's speed: heavy smoothing when the
hand is still (no jitter), little lag when it moves.

    alpha(fc) = 1 / (1 + tau / dt),  tau = 1 / (2 pi fc)
    dx_hat    = lowpass(dx, alpha(d_cutoff))
    fc        = min_cutoff + beta * |dx_hat|
    x_hat     = lowpass(x, alpha(fc))
"""

from __future__ import annotations

import numpy as np


class OneEuroFilter:
    """Vector One Euro filter (each element filtered independently).

    Parameters
    ----------
    min_cutoff : float
        Cutoff in Hz when still (lower = smoother, more lag at rest).
    beta : float
        Speed coefficient (higher = less lag when moving), per unit of the
        signal per second.
    d_cutoff : float
        Cutoff in Hz of the derivative's low-pass.
    """

    def __init__(self, min_cutoff: float = 1.0, beta: float = 0.05, d_cutoff: float = 1.0) -> None:
        if min_cutoff <= 0 or d_cutoff <= 0:
            raise ValueError("cutoffs must be positive")
        self.min_cutoff = min_cutoff
        self.beta = beta
        self.d_cutoff = d_cutoff
        self.reset()

    def reset(self) -> None:
        """Forget the state; the next sample passes unchanged."""
        self._x: np.ndarray | None = None
        self._dx: np.ndarray | None = None
        self._t: float | None = None

    @staticmethod
    def _alpha(cutoff, dt: float):
        tau = 1.0 / (2.0 * np.pi * cutoff)
        return 1.0 / (1.0 + tau / dt)

    def __call__(self, x, t: float) -> np.ndarray:
        """Filter sample ``x`` (any shape) taken at time ``t`` (seconds, increasing)."""
        x = np.asarray(x, dtype=np.float64)
        if self._x is None or self._t is None or t <= self._t:
            if self._x is None or self._t is None:
                self._x, self._dx, self._t = x.copy(), np.zeros_like(x), t
            return self._x.copy()
        dt = t - self._t
        dx = (x - self._x) / dt
        a_d = self._alpha(self.d_cutoff, dt)
        self._dx = a_d * dx + (1 - a_d) * self._dx
        cutoff = self.min_cutoff + self.beta * np.abs(self._dx)
        a = self._alpha(cutoff, dt)
        self._x = a * x + (1 - a) * self._x
        self._t = t
        return self._x.copy()
