"""Normalisation of the filtered EMG between the filter chain and a model, and of the pose targets.

Two kinds of EMG normalisation (:data:`NORM_KINDS`), one implementation
(:class:`EmgNorm`) shared by the pose models (through :class:`Normalizer`) and
the gesture classifiers (:class:`asha_app.gestures.train.GestureNorm`):

* ``"fixed"``: per-channel mean/std of the filtered EMG samples that training
  windows cover (the TRAINING split only), applied unchanged to validation,
  test and live data;
* ``"running"``: :class:`asha_app.dsp.running_norm.RunningNorm` (an
  exponential moving mean and variance, time constant ``tau_s``) run over each
  recording from its first sample, starting from the training statistics as
  its prior, so a new person is normalised by their own signal within a minute
  or two and gets a usable start before any calibration.

Either may first take the logarithm of a rectified envelope
(``log(max(x, 0) + log_eps)``), where a person's electrode gain becomes an
offset that normalisation removes.

:class:`Normalizer` holds the pose models' statistics (EMG and targets) and
which kind applies; it is stored in the checkpoint and followed by training
(:class:`asha_app.models.dataset.WindowDataset`), evaluation, calibration and
live inference (:class:`asha_app.models.streaming.StreamingRunner`) without
any caller having to know the kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from asha_app.core.errors import DatasetError
from asha_app.dsp.running_norm import RunningNorm, RunningNormSpec, running_norm_offline

if TYPE_CHECKING:
    from asha_app.data.windows import WindowSet

#: the EMG normalisation kinds
NORM_KINDS = ("fixed", "running")
#: default RunningNorm time constant, s (long enough to span several movements)
RUNNING_TAU_S = 60.0
#: the pose models' default RunningNorm time constant, s: on NinaPro DB1 300 s beat 60 s zero-shot (docs/models.md;
#: the statistics must span several different movements, not follow the current one)
POSE_TAU_S = 300.0


def log_offset(emg: np.ndarray) -> float:
    """The ``log_eps`` of a log input: 5 % of the mean level of ``emg`` (at least 1e-6)."""
    return float(max(0.05 * float(np.mean(emg)), 1e-6))


def check_kind(kind: str) -> str:
    """``kind`` if it is one of :data:`NORM_KINDS`.

    Raises
    ------
    DatasetError
        Another value (the message names the choices).
    """
    if kind not in NORM_KINDS:
        raise DatasetError(f"unknown normalisation {kind!r}; use {' or '.join(NORM_KINDS)}")
    return kind


@dataclass
class EmgNorm:
    """Per-channel normalisation of filtered EMG: fixed statistics or a RunningNorm from them.

    Attributes
    ----------
    kind : {"fixed", "running"}
    mean, std : float32 arrays (n_channels,)
        Training-split statistics of the filtered EMG (of its log when ``log_eps`` is set); fixed: used as they
        are; running: the prior.
    tau_s : float
        RunningNorm time constant, s (running only).
    log_eps : float or None
        When set, the filtered EMG is first mapped to ``log(max(x, 0) + log_eps)`` (rectified envelopes).
    """

    kind: str
    mean: np.ndarray
    std: np.ndarray
    tau_s: float = RUNNING_TAU_S
    log_eps: float | None = None

    def pre(self, x: np.ndarray) -> np.ndarray:
        """The transform before normalisation (log for envelopes, else the identity), float64."""
        x = np.asarray(x, np.float64)
        return np.log(np.maximum(x, 0.0) + self.log_eps) if self.log_eps else x

    def running_spec(self) -> RunningNormSpec:
        """The :class:`RunningNormSpec` of a running normalisation."""
        return RunningNormSpec(self.tau_s, tuple(map(float, self.mean)), tuple(map(float, self.std)))

    def apply(self, x: np.ndarray, fs: float) -> np.ndarray:
        """Normalise one recording's filtered EMG (n_samples, n_channels) from its first sample (float32)."""
        x = self.pre(x)
        if self.kind == "running":
            return running_norm_offline(x, self.running_spec(), fs)
        return ((x - self.mean) / self.std).astype(np.float32)

    def apply_bounds(self, emg: np.ndarray, rec_bounds: list[tuple[int, int]], fs: float) -> np.ndarray:
        """Concatenated recordings' EMG (N, C), normalised recording by recording (float32 (N, C))."""
        out = np.empty(emg.shape, dtype=np.float32)
        for a, b in rec_bounds:
            out[a:b] = self.apply(emg[a:b], fs)
        return out

    def streamer(self, fs: float) -> EmgStreamer:
        """The live form: ``process(chunk)`` and ``reset()`` (chunked == :meth:`apply` on the whole)."""
        return EmgStreamer(self, fs)

    def to_dict(self) -> dict:
        """Plain dict for checkpoints."""
        return {"kind": self.kind, "mean": self.mean.tolist(), "std": self.std.tolist(),
                "tau_s": float(self.tau_s), "log_eps": self.log_eps}

    @classmethod
    def from_dict(cls, d: dict):
        """Inverse of :meth:`to_dict`."""
        eps = d.get("log_eps")
        return cls(str(d["kind"]), np.asarray(d["mean"], np.float32), np.asarray(d["std"], np.float32),
                   float(d.get("tau_s", RUNNING_TAU_S)), None if eps is None else float(eps))


class EmgStreamer:
    """Live form of an :class:`EmgNorm`: chunk in, normalised chunk out, state carried between chunks.

    Parameters
    ----------
    norm : EmgNorm
    fs : float
        Sampling rate, Hz.
    """

    def __init__(self, norm: EmgNorm, fs: float) -> None:
        self.norm = norm
        self._running = RunningNorm(norm.running_spec(), fs) if norm.kind == "running" else None

    def reset(self) -> None:
        """Start a new signal (a running normalisation starts again from its prior)."""
        if self._running is not None:
            self._running.reset()

    def process(self, x: np.ndarray) -> np.ndarray:
        """Normalise the next chunk of filtered EMG (n, n_channels) -> float32 (n, n_channels)."""
        x = self.norm.pre(x)
        if self._running is not None:
            return self._running.process(x)
        return ((x - self.norm.mean) / self.norm.std).astype(np.float32)


def _covered(ws: WindowSet, train_idx: np.ndarray) -> np.ndarray:
    """Mask (len(ws.emg),) of the samples that the windows ``train_idx`` cover."""
    cover = np.zeros(len(ws.emg) + 1, dtype=np.int32)
    ends = ws.ends[train_idx]
    np.add.at(cover, ends - ws.window + 1, 1)
    np.add.at(cover, ends + 1, -1)
    return np.cumsum(cover[:-1]) > 0


@dataclass
class Normalizer:
    """Per-channel EMG and per-target statistics from the TRAINING split, and how the EMG is normalised.

    Attributes
    ----------
    emg_mean, emg_std : float32 arrays (n_channels,)
        Of the filtered EMG samples covered by training windows (of their log when ``log_eps`` is set).
    target_mean, target_std : float32 arrays (n_targets,)
        Of the training labels.
    kind : {"fixed", "running"}
        EMG normalisation (:class:`EmgNorm`); ``"fixed"`` for checkpoints written before the choice existed.
    tau_s : float
        RunningNorm time constant, s (running only).
    log_eps : float or None
        Log input offset (:class:`EmgNorm`), or None for the plain signal.
    """

    emg_mean: np.ndarray
    emg_std: np.ndarray
    target_mean: np.ndarray
    target_std: np.ndarray
    kind: str = "fixed"
    tau_s: float = RUNNING_TAU_S
    log_eps: float | None = None

    @classmethod
    def fit(cls, ws: WindowSet, train_idx: np.ndarray, kind: str = "fixed", tau_s: float = RUNNING_TAU_S,
            log_input: bool = False, log_eps: float | None = None) -> Normalizer:
        """Statistics over the training windows only.

        Parameters
        ----------
        ws : WindowSet
        train_idx : int array
            Training window indices.
        kind : {"fixed", "running"}
        tau_s : float
            RunningNorm time constant, s.
        log_input : bool
            Normalise ``log(max(x, 0) + log_eps)`` instead of ``x`` (rectified envelopes).
        log_eps : float, optional
            The log offset; default :func:`log_offset` of the training samples.

        Raises
        ------
        DatasetError
            If ``train_idx`` is empty or ``kind`` unknown.
        """
        check_kind(kind)
        train_idx = np.asarray(train_idx)
        if len(train_idx) == 0:
            raise DatasetError("cannot compute normalisation statistics: the training set is empty")
        xs = ws.emg[_covered(ws, train_idx)].astype(np.float64)
        if log_input:
            log_eps = log_offset(xs) if log_eps is None else float(log_eps)
            xs = np.log(np.maximum(xs, 0.0) + log_eps)
        else:
            log_eps = None
        ys = ws.y[train_idx].astype(np.float64)

        def _std(a):
            s = a.std(axis=0)
            return np.where(s > 1e-8, s, 1.0)

        return cls(xs.mean(0).astype(np.float32), _std(xs).astype(np.float32), ys.mean(0).astype(np.float32),
                   _std(ys).astype(np.float32), kind, float(tau_s), log_eps)

    @property
    def emg_norm(self) -> EmgNorm:
        """The EMG normalisation as an :class:`EmgNorm`."""
        return EmgNorm(self.kind, self.emg_mean, self.emg_std, self.tau_s, self.log_eps)

    @property
    def per_window(self) -> bool:
        """True when a window can be normalised on its own (fixed); False when it needs its recording's past."""
        return self.kind == "fixed"

    def describe(self) -> dict:
        """``{"kind", "tau_s" (running), "log_input"}`` for reports and JSON."""
        d: dict = {"kind": self.kind, "log_input": self.log_eps is not None}
        if self.kind == "running":
            d["tau_s"] = float(self.tau_s)
        return d

    def _need_fixed(self, what: str) -> None:
        if not self.per_window:
            raise ValueError(f"Normalizer.{what}: a running normalisation depends on the recording's past; "
                             "normalise whole recordings (emg_recording) or stream them (emg_streamer)")

    def emg(self, x: np.ndarray) -> np.ndarray:
        """Normalise EMG windows shaped (..., n_channels, n_samples) (fixed only; raises ValueError if running)."""
        self._need_fixed("emg")
        if self.log_eps:
            x = np.log(np.maximum(x, 0.0) + np.float32(self.log_eps))
        return ((x - self.emg_mean[:, None]) / self.emg_std[:, None]).astype(np.float32)

    def emg_rows(self, x: np.ndarray) -> np.ndarray:
        """Normalise EMG samples shaped (n_samples, n_channels) (fixed only; raises ValueError if running)."""
        self._need_fixed("emg_rows")
        if self.log_eps:
            x = np.log(np.maximum(x, 0.0) + np.float32(self.log_eps))
        return ((x - self.emg_mean) / self.emg_std).astype(np.float32)

    def emg_recording(self, x: np.ndarray, fs: float) -> np.ndarray:
        """Normalise one whole recording's filtered EMG (n_samples, n_channels) from its first sample, as live."""
        if self.per_window:
            return self.emg_rows(x)
        return self.emg_norm.apply(x, fs)

    def emg_set(self, ws: WindowSet) -> np.ndarray:
        """Every recording of a window set normalised from its first sample: float32 (len(ws.emg), n_channels)."""
        if self.per_window:
            return self.emg_rows(ws.emg)
        return self.emg_norm.apply_bounds(ws.emg, ws.rec_bounds, ws.fs)

    def emg_streamer(self, fs: float) -> EmgStreamer | _RowStreamer:
        """Live normalisation (``process``/``reset``) at ``fs`` Hz, equal to :meth:`emg_recording` chunk by chunk."""
        if self.per_window:
            return _RowStreamer(self)
        return self.emg_norm.streamer(fs)

    def y(self, y: np.ndarray) -> np.ndarray:
        """Normalise targets (..., n_targets)."""
        return ((y - self.target_mean) / self.target_std).astype(np.float32)

    def y_inverse(self, yn: np.ndarray) -> np.ndarray:
        """Targets in their units from normalised values."""
        return (yn * self.target_std + self.target_mean).astype(np.float32)

    def to_dict(self) -> dict:
        """Plain lists for checkpoints (the kind only when it is not the plain fixed one, so fixed files keep
        the layout older Asha versions wrote and read)."""
        d = {k: getattr(self, k).tolist() for k in ("emg_mean", "emg_std", "target_mean", "target_std")}
        if self.kind != "fixed" or self.log_eps is not None:
            d.update(kind=self.kind, tau_s=float(self.tau_s), log_eps=self.log_eps)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Normalizer:
        """Inverse of :meth:`to_dict`; a dict without ``kind`` (older checkpoints) is fixed.

        Raises
        ------
        KeyError, ValueError
            A missing statistic, or an unknown kind.
        """
        kind = str(d.get("kind", "fixed"))
        if kind not in NORM_KINDS:
            raise ValueError(f"normalizer kind {kind!r} (known: {', '.join(NORM_KINDS)})")
        eps = d.get("log_eps")
        return cls(**{k: np.asarray(d[k], dtype=np.float32)
                      for k in ("emg_mean", "emg_std", "target_mean", "target_std")},
                   kind=kind, tau_s=float(d.get("tau_s", RUNNING_TAU_S)),
                   log_eps=None if eps is None else float(eps))


class _RowStreamer:
    """A fixed :class:`Normalizer`'s live form (stateless)."""

    def __init__(self, norm: Normalizer) -> None:
        self.norm = norm

    def reset(self) -> None:
        """Nothing to forget."""

    def process(self, x: np.ndarray) -> np.ndarray:
        """:meth:`Normalizer.emg_rows`."""
        return self.norm.emg_rows(x)
