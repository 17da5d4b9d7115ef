"""Streaming per-channel normalisation (RunningNorm): an exponential moving mean and variance.

A model trained on some people meets a new person whose electrodes sit a little
differently and whose skin, fat and muscles give other amplitudes.  Fixed
training-split statistics (:class:`asha_app.data.normalisation.Normalizer`) keep
the training people's scale; :class:`RunningNorm` instead follows the person in
front of the armband: every channel is centred and scaled by an exponential
moving mean and variance of that person's own signal, causally, so a new person
gets a usable start before any calibration (the idea of the EPN612 cross-user
classifier's streaming normalisation).

Definition, per channel, with ``a = 1 - exp(-1 / (tau_s * fs))``::

    m_t = (1 - a) m_{t-1} + a x_t            (moving mean)
    q_t = (1 - a) q_{t-1} + a x_t^2          (moving mean square)
    y_t = (x_t - m_t) / sqrt(max(q_t - m_t^2, floor))

``m_0`` and ``q_0`` start from a *prior* (the training population's mean and
mean square), so the first seconds of a new person are normalised like the
population and drift towards the person with time constant ``tau_s``.  The
recursions run as first-order IIR filters (:func:`scipy.signal.lfilter` with
its ``zi`` state) in float64, so normalising a signal in chunks of any size
gives the output of normalising it whole (tests check it).

Choosing ``tau_s``: long enough to span several different movements (the
statistics should describe the person, not the current movement), short enough
to follow the person within a minute or two.  Recordings that hold one movement
for minutes (NinaPro's exercise files are ordered movement by movement) need
the long end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import signal


@dataclass(frozen=True)
class RunningNormSpec:
    """Settings of a :class:`RunningNorm`.

    Attributes
    ----------
    tau_s : float
        Time constant of the moving averages, seconds (> 0).
    prior_mean, prior_std : tuple of float
        Per-channel start values (the training population's statistics, in the
        units of the signal fed in, i.e. after the filter chain).
    floor : float
        Smallest variance used, as a fraction of the prior variance (per channel), so a
        flat channel cannot be blown up to noise of unit variance.
    """

    tau_s: float
    prior_mean: tuple[float, ...]
    prior_std: tuple[float, ...]
    floor: float = 1e-3

    def to_dict(self) -> dict:
        """Plain dict for checkpoints."""
        return {"tau_s": float(self.tau_s), "prior_mean": [float(v) for v in self.prior_mean],
                "prior_std": [float(v) for v in self.prior_std], "floor": float(self.floor)}

    @classmethod
    def from_dict(cls, d: dict) -> RunningNormSpec:
        """Inverse of :meth:`to_dict`."""
        return cls(float(d["tau_s"]), tuple(float(v) for v in d["prior_mean"]),
                   tuple(float(v) for v in d["prior_std"]), float(d.get("floor", 1e-3)))


class RunningNorm:
    """Causal per-channel normalisation by an exponential moving mean and variance.

    Parameters
    ----------
    spec : RunningNormSpec
    fs : float
        Sampling rate of the signal, Hz.

    Raises
    ------
    ValueError
        ``tau_s`` or ``fs`` not positive, or prior lengths that differ.
    """

    def __init__(self, spec: RunningNormSpec, fs: float) -> None:
        if not (spec.tau_s > 0 and math.isfinite(spec.tau_s)):
            raise ValueError(f"RunningNorm: tau_s must be a positive number of seconds, got {spec.tau_s!r}")
        if not (fs > 0 and math.isfinite(fs)):
            raise ValueError(f"RunningNorm: the sampling rate must be positive, got {fs!r}")
        if len(spec.prior_mean) != len(spec.prior_std):
            raise ValueError("RunningNorm: prior_mean and prior_std have different lengths")
        self.spec = spec
        self.fs = float(fs)
        self.n_channels = len(spec.prior_mean)
        self.alpha = 1.0 - math.exp(-1.0 / (spec.tau_s * self.fs))
        self._b = np.array([self.alpha])
        self._a = np.array([1.0, -(1.0 - self.alpha)])
        mean = np.asarray(spec.prior_mean, np.float64)
        std = np.asarray(spec.prior_std, np.float64)
        self._prior = (mean, std ** 2 + mean ** 2)
        self._var_floor = np.maximum(std ** 2 * spec.floor, 1e-12)
        self.reset()

    def reset(self) -> None:
        """Start again from the prior (a new person or a new stream)."""
        m0, q0 = self._prior
        # lfilter's state for y[-1] = v is (1 - a) * v for this first-order filter
        self._zm = ((1.0 - self.alpha) * m0)[None, :]
        self._zq = ((1.0 - self.alpha) * q0)[None, :]

    @property
    def mean(self) -> np.ndarray:
        """Current moving mean per channel (float64 (n_channels,))."""
        return self._zm[0] / (1.0 - self.alpha)

    @property
    def std(self) -> np.ndarray:
        """Current moving standard deviation per channel (float64 (n_channels,))."""
        m = self.mean
        return np.sqrt(np.maximum(self._zq[0] / (1.0 - self.alpha) - m * m, self._var_floor))

    def process(self, x: np.ndarray) -> np.ndarray:
        """Normalise the next chunk and update the statistics.

        Parameters
        ----------
        x : array (n_samples, n_channels)
            Next samples (any length, 0 allowed), already filtered.

        Returns
        -------
        float32 array (n_samples, n_channels)
            ``(x - m_t) / s_t`` with the statistics that include sample ``t``.
            Non-finite input samples leave the statistics unchanged and come out as NaN.

        Raises
        ------
        ValueError
            A chunk with another number of channels.
        """
        x = np.asarray(x, np.float64)
        if x.ndim != 2 or x.shape[1] != self.n_channels:
            raise ValueError(f"RunningNorm: expected a chunk of shape (n, {self.n_channels}), got {x.shape}")
        if x.shape[0] == 0:
            return np.zeros((0, self.n_channels), np.float32)
        bad = ~np.isfinite(x)
        if bad.any():  # hold the statistics over a bad sample: feed the current mean (no change to m, q by design)
            out = np.empty_like(x)
            for i in range(len(x)):  # rare path: exactness over speed
                row = x[i:i + 1]
                rb = bad[i]
                if rb.any():
                    row = np.where(rb, self.mean, row)
                    saved_m, saved_q = self._zm.copy(), self._zq.copy()
                    o = self._step(row)
                    self._zm[0, rb], self._zq[0, rb] = saved_m[0, rb], saved_q[0, rb]
                    o[0, rb] = np.nan
                else:
                    o = self._step(row)
                out[i] = o[0]
            return out.astype(np.float32)
        return self._step(x).astype(np.float32)

    def _step(self, x: np.ndarray) -> np.ndarray:
        m, self._zm = signal.lfilter(self._b, self._a, x, axis=0, zi=self._zm)
        q, self._zq = signal.lfilter(self._b, self._a, x * x, axis=0, zi=self._zq)
        var = np.maximum(q - m * m, self._var_floor)
        return (x - m) / np.sqrt(var)


def running_norm_offline(x: np.ndarray, spec: RunningNormSpec, fs: float) -> np.ndarray:
    """Normalise a whole (filtered) recording exactly as the live :class:`RunningNorm` would.

    Parameters
    ----------
    x : array (n_samples, n_channels)
    spec : RunningNormSpec
    fs : float
        Hz.

    Returns
    -------
    float32 array (n_samples, n_channels)
    """
    return RunningNorm(spec, fs).process(x)
