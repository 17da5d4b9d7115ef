"""Live inference: filter, normalise and run a model on a stream of EMG chunks.

:class:`StreamingRunner` keeps the causal filter state
(:class:`~asha_app.dsp.filters.StreamingFilter`) and a buffer of the last
``model.history - 1`` normalised samples, so the output at sample ``i`` is the
model applied to exactly the ``history`` samples ending at ``i`` -- the same
computation as on the training windows (tests check streaming == batch).
"""

from __future__ import annotations

import numpy as np
import torch

from asha_app.data.windows import Normalizer
from asha_app.dsp.filters import FilterSpec, StreamingFilter
from asha_app.models.base import EmgModel


class StreamingRunner:
    """Chunk-in, poses-out inference with state carried between calls.

    Parameters
    ----------
    model : EmgModel
        Put in eval mode here.
    norm : Normalizer
        The checkpoint's normalisation.
    filter_spec : FilterSpec
        The checkpoint's filter chain.
    stride : int
        Emit an output every ``stride`` samples (at global sample indices
        ``i >= history - 1`` with ``i % stride == phase``).
    phase : int
        See ``stride``.
    """

    def __init__(self, model: EmgModel, norm: Normalizer, filter_spec: FilterSpec, stride: int = 1,
                 phase: int | None = None) -> None:
        self.model = model.eval()
        self.norm = norm
        self.history = int(model.history)
        self.filter = StreamingFilter(filter_spec, model.n_channels)
        self.stride = max(1, int(stride))
        self.phase = (self.history - 1) % self.stride if phase is None else int(phase) % self.stride
        self.reset()

    def reset(self) -> None:
        """Start a new signal (filter state and history forgotten)."""
        self.filter.reset()
        self._buf = np.zeros((0, self.model.n_channels), dtype=np.float32)
        self._count = 0

    @torch.no_grad()
    def process(self, raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Feed the next raw chunk.

        Parameters
        ----------
        raw : array (n_samples, n_channels)
            Raw EMG in the recording's units.

        Returns
        -------
        sample_index : int64 array (k,)
            Global index (since :meth:`reset`) of the sample each output belongs to.
        poses : float32 array (k, n_targets)
            Predictions in target units (degrees / mm) for those samples.
        """
        xn = self.norm.emg_rows(self.filter.process(raw))
        full = np.concatenate([self._buf, xn]) if len(self._buf) else xn
        start = self._count - len(self._buf)  # global index of full[0]
        self._count += len(xn)
        self._buf = full[-(self.history - 1):] if self.history > 1 else full[:0]
        # end positions (global) among the new samples
        first = max(self._count - len(xn), self.history - 1)
        first += (self.phase - first) % self.stride
        ends = np.arange(first, self._count, self.stride, dtype=np.int64)
        if len(ends) == 0:
            return ends, np.zeros((0, self.model.n_targets), dtype=np.float32)
        view = np.lib.stride_tricks.sliding_window_view(full, self.history, axis=0)  # (n-H+1, C, H)
        x = torch.from_numpy(np.ascontiguousarray(view[ends - start - self.history + 1]))
        y = self.model(x).numpy()
        return ends, self.norm.y_inverse(y)
