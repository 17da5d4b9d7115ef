"""Normalisation of training windows with statistics of the TRAINING split only.

Per-channel mean/std of the filtered EMG samples that training windows cover, and
per-target mean/std of the training labels (:class:`Normalizer`).  They are stored
in the checkpoint and applied unchanged at inference
(:class:`asha_app.models.streaming.StreamingRunner`), so validation, test and live
data never leak into them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from asha_app.core.errors import DatasetError

if TYPE_CHECKING:
    from asha_app.data.windows import WindowSet


@dataclass
class Normalizer:
    """Per-channel EMG and per-target statistics from the TRAINING split.

    Attributes
    ----------
    emg_mean, emg_std : float32 arrays (n_channels,)
        Of the filtered EMG samples covered by training windows.
    target_mean, target_std : float32 arrays (n_targets,)
        Of the training labels.
    """

    emg_mean: np.ndarray
    emg_std: np.ndarray
    target_mean: np.ndarray
    target_std: np.ndarray

    @classmethod
    def fit(cls, ws: WindowSet, train_idx: np.ndarray) -> Normalizer:
        """Statistics over the training windows only.

        Raises
        ------
        DatasetError
            If ``train_idx`` is empty.
        """
        train_idx = np.asarray(train_idx)
        if len(train_idx) == 0:
            raise DatasetError("cannot compute normalisation statistics: the training set is empty")
        cover = np.zeros(len(ws.emg) + 1, dtype=np.int32)
        ends = ws.ends[train_idx]
        np.add.at(cover, ends - ws.window + 1, 1)
        np.add.at(cover, ends + 1, -1)
        mask = np.cumsum(cover[:-1]) > 0
        xs = ws.emg[mask].astype(np.float64)
        ys = ws.y[train_idx].astype(np.float64)

        def _std(a):
            s = a.std(axis=0)
            return np.where(s > 1e-8, s, 1.0)

        return cls(xs.mean(0).astype(np.float32), _std(xs).astype(np.float32), ys.mean(0).astype(np.float32),
                   _std(ys).astype(np.float32))

    def emg(self, x: np.ndarray) -> np.ndarray:
        """Normalise EMG windows shaped (..., n_channels, n_samples)."""
        return ((x - self.emg_mean[:, None]) / self.emg_std[:, None]).astype(np.float32)

    def emg_rows(self, x: np.ndarray) -> np.ndarray:
        """Normalise EMG samples shaped (n_samples, n_channels)."""
        return ((x - self.emg_mean) / self.emg_std).astype(np.float32)

    def y(self, y: np.ndarray) -> np.ndarray:
        """Normalise targets (..., n_targets)."""
        return ((y - self.target_mean) / self.target_std).astype(np.float32)

    def y_inverse(self, yn: np.ndarray) -> np.ndarray:
        """Targets in their units from normalised values."""
        return (yn * self.target_std + self.target_mean).astype(np.float32)

    def to_dict(self) -> dict:
        """Plain lists for checkpoints."""
        return {k: getattr(self, k).tolist() for k in ("emg_mean", "emg_std", "target_mean", "target_std")}

    @classmethod
    def from_dict(cls, d: dict) -> Normalizer:
        """Inverse of :meth:`to_dict`."""
        return cls(**{k: np.asarray(d[k], dtype=np.float32) for k in ("emg_mean", "emg_std", "target_mean", "target_std")})
