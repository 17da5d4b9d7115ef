"""Live inference: filter, normalise and run a model on a stream of EMG chunks.

:class:`StreamingRunner` keeps the causal filter state
(:class:`~asha_app.dsp.filters.StreamingFilter`) and the model's context:

* models with ``forward_chunk`` (EnvelopeTCN) carry their per-layer context
  between calls, so each new sample costs a few small matrix products; a
  one-sample call runs a traced and frozen TorchScript step;
* other models (ridge, seed) keep a buffer of the last ``history - 1``
  normalised samples and run ``forward`` on the ``history`` samples ending
  at each output sample.

The normalisation follows the checkpoint's :class:`~asha_app.data.normalisation.Normalizer`:
fixed statistics, or a :class:`~asha_app.dsp.running_norm.RunningNorm` whose state is
carried between calls and starts again from its prior at :meth:`StreamingRunner.reset`
(a new stream: a new person or the armband put on again).

Either way the output at sample ``i`` equals the model applied to the
training window ending at ``i`` (tests check streaming == batch).
"""

from __future__ import annotations

import logging

import numpy as np
import torch

from asha_app.data.normalisation import Normalizer
from asha_app.dsp.filters import FilterSpec, StreamingFilter
from asha_app.models.base import EmgModel

log = logging.getLogger(__name__)


class _ChunkStep(torch.nn.Module):
    def __init__(self, model: EmgModel) -> None:
        super().__init__()
        self.m = model

    def forward(self, x: torch.Tensor, state: list[torch.Tensor]):
        return self.m.forward_chunk(x, *state)  # type: ignore[operator]  # stateful models define it


class StridedWindows:
    """The tail of a normalised stream, cut into the windows that end at every ``stride``-th sample.

    Shared by the pose and gesture runners: feed normalised chunks with :meth:`push` and get the
    ``history``-sample windows that end in them, at global sample indices ``i >= history - 1`` with
    ``i % stride == phase``.  The last ``history - 1`` samples are kept between calls, so the windows equal
    the ones cut from the whole signal at once.

    Parameters
    ----------
    n_channels, history : int
        Window shape (channels, samples).
    stride : int
    phase : int, optional
        Default ``(history - 1) % stride``.
    """

    def __init__(self, n_channels: int, history: int, stride: int = 1, phase: int | None = None) -> None:
        self.n_channels, self.history = int(n_channels), int(history)
        self.stride = max(1, int(stride))
        self.phase = (self.history - 1) % self.stride if phase is None else int(phase) % self.stride
        self.reset()

    def reset(self) -> None:
        """A new signal: the kept samples and the count are forgotten."""
        self._buf = np.zeros((0, self.n_channels), dtype=np.float32)
        self.count = 0

    def advance(self, n_new: int) -> np.ndarray:
        """Count ``n_new`` samples (without keeping them); int64 array of the window ends among them."""
        self.count += int(n_new)
        first = max(self.count - n_new, self.history - 1)
        first += (self.phase - first) % self.stride
        return np.arange(first, self.count, self.stride, dtype=np.int64)

    def push(self, xn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Feed normalised samples ``(n, n_channels)``.

        Returns
        -------
        ends : int64 array (k,)
            Global index (since :meth:`reset`) of each window's last sample.
        windows : float32 array (k, n_channels, history)
        """
        H = self.history
        full = np.concatenate([self._buf, xn]) if len(self._buf) else np.asarray(xn)
        start = self.count - len(self._buf)  # global index of full[0]
        ends = self.advance(len(xn))
        self._buf = (full[-(H - 1):] if H > 1 else full[:0]).astype(np.float32, copy=False)
        if len(ends) == 0:
            return ends, np.zeros((0, self.n_channels, H), dtype=np.float32)
        view = np.lib.stride_tricks.sliding_window_view(full, H, axis=0)  # (n - H + 1, C, H)
        return ends, np.ascontiguousarray(view[ends - start - H + 1], dtype=np.float32)


class StreamingRunner:
    """Chunk-in, poses-out inference with state carried between calls.

    Parameters
    ----------
    model : EmgModel
        Put in eval mode here.
    norm : Normalizer
        The checkpoint's normalisation (fixed or running).
    filter_spec : FilterSpec
        The checkpoint's filter chain (its ``fs`` is the stream's sampling rate).
    stride : int
        Emit an output every ``stride`` samples (at global sample indices
        ``i >= history - 1`` with ``i % stride == phase``).
    phase : int, optional
        See ``stride``; default ``(history - 1) % stride``.
    jit : bool
        Use a frozen TorchScript step for one-sample calls (stateful models).
    """

    def __init__(self, model: EmgModel, norm: Normalizer, filter_spec: FilterSpec, stride: int = 1,
                 phase: int | None = None, jit: bool = True) -> None:
        self.model = model.eval()
        self.norm = norm
        self.history = int(model.history)
        self.filter = StreamingFilter(filter_spec, model.n_channels)
        self.emg_norm = norm.emg_streamer(filter_spec.fs)
        self.windows = StridedWindows(model.n_channels, self.history, stride, phase)
        self.stride, self.phase = self.windows.stride, self.windows.phase
        self.stateful = hasattr(model, "forward_chunk")
        self._step = None
        if self.stateful and jit:
            with torch.no_grad():
                st = model.init_state()  # type: ignore[operator]  # stateful models define it
                self._step = torch.jit.freeze(torch.jit.trace(
                    _ChunkStep(model).eval(), (torch.zeros(1, model.n_channels), st)))
                try:  # inference passes (conv/batch-norm folding, ...): per-step CPU p99 ~1.3 -> ~1.1 ms here
                    self._step = torch.jit.optimize_for_inference(self._step)
                except (RuntimeError, AttributeError) as exc:
                    log.debug("optimize_for_inference not applied: %s", exc)
        self.reset()

    def reset(self) -> None:
        """Start a new signal (filter state, running normalisation and model context forgotten)."""
        self.filter.reset()
        self.emg_norm.reset()
        self.windows.reset()
        self._state = self.model.init_state() if self.stateful else None  # type: ignore[operator]

    @property
    def count(self) -> int:
        """Samples fed since :meth:`reset`."""
        return self.windows.count

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
        xn = self.emg_norm.process(self.filter.process(raw))
        n = len(xn)
        if n == 0:
            return np.zeros(0, np.int64), np.zeros((0, self.model.n_targets), np.float32)
        if self.stateful:
            xt = torch.from_numpy(np.ascontiguousarray(xn))
            out = self._step(xt, self._state) if (n == 1 and self._step is not None) else \
                self.model.forward_chunk(xt, *self._state)  # type: ignore[operator, misc]
            y_all, self._state = out[0], list(out[1:])
            ends = self.windows.advance(n)
            y = y_all.numpy()[ends - (self.windows.count - n)]
            return ends, self.norm.y_inverse(y)
        ends, windows = self.windows.push(xn)
        if len(ends) == 0:
            return ends, np.zeros((0, self.model.n_targets), dtype=np.float32)
        return ends, self.norm.y_inverse(self.model(torch.from_numpy(windows)).numpy())
