"""The torch view of training windows: normalised items and fast batches for the training loop.

:class:`WindowDataset` wraps a :class:`~asha_app.data.windows.WindowSet`, the window
indices of one split set and the training :class:`~asha_app.data.normalisation.Normalizer`;
it is the only place where windows become tensors (the ``data`` package stays free of torch).
A fixed normalisation is applied window by window; a running one
(:class:`~asha_app.dsp.running_norm.RunningNorm`) is run over every recording from its first
sample once, and windows are cut from the result, so each window is normalised as the live
:class:`~asha_app.models.streaming.StreamingRunner` normalises it.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from asha_app.data.normalisation import Normalizer
from asha_app.data.windows import WindowSet


class WindowDataset(torch.utils.data.Dataset):
    """Torch view of some windows, normalised, for DataLoader / DistributedSampler.

    Items are ``(x, y)`` with ``x`` float32 (n_channels, length) and ``y``
    float32 (n_targets,), both normalised.  :meth:`batch` gathers many items at
    once with one fancy-index (the fast path the training loop uses).

    Parameters
    ----------
    ws : WindowSet
    indices : int array
        Window indices of this set.
    norm : Normalizer
    length : int, optional
        Samples per item (the model's history); default the window length.
    xn : float32 array (len(ws.emg), n_channels), optional
        ``norm.emg_set(ws)`` when already computed (a running normalisation; shared by a job's datasets).
    """

    def __init__(self, ws: WindowSet, indices: np.ndarray, norm: Normalizer, length: int | None = None,
                 xn: np.ndarray | None = None) -> None:
        self.ws = ws
        self.indices = np.asarray(indices, dtype=np.int64)
        self.norm = norm
        self.length = ws.window if length is None else int(length)
        self.ws_normalised: WindowSet | None = None  # the window set with its EMG already normalised (running)
        if not norm.per_window:
            self.ws_normalised = replace(ws, emg=norm.emg_set(ws) if xn is None else xn)

    def __len__(self) -> int:
        return int(len(self.indices))

    def __getitem__(self, i: int):
        x, y = self.batch(np.array([i]))
        return x[0], y[0]

    def batch(self, positions: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """Items at ``positions`` (positions into this dataset) as tensors (B, C, L), (B, T)."""
        idx = self.indices[np.asarray(positions)]
        wsn = self.ws_normalised
        x = self.norm.emg(self.ws.x(idx, self.length)) if wsn is None else wsn.x(idx, self.length)
        y = self.norm.y(self.ws.y[idx])
        return torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(y)


class FeatureDataset(WindowDataset):
    """A :class:`WindowDataset` whose items are a model's cached fixed features instead of EMG windows.

    ``x`` is float32 (n_features,) from :meth:`asha_app.models.base.EmgModel.fixed_features`,
    computed once for every window of ``ds``; ``y``, ``ws``, ``indices`` and
    ``norm`` are those of ``ds`` (so losses and metrics are unchanged).

    Parameters
    ----------
    ds : WindowDataset
    features : tensor (len(ds), n_features)
    """

    def __init__(self, ds: WindowDataset, features: torch.Tensor) -> None:
        wsn = ds.ws_normalised
        super().__init__(ds.ws, ds.indices, ds.norm, ds.length, None if wsn is None else wsn.emg)
        if len(features) != len(ds):
            raise ValueError(f"{len(features)} feature rows for {len(ds)} windows")
        self.features = features

    def batch(self, positions: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        pos = np.asarray(positions)
        return self.features[torch.from_numpy(pos.astype(np.int64))], torch.from_numpy(
            self.norm.y(self.ws.y[self.indices[pos]]))
