"""The interface every EMG-to-pose model implements."""

from __future__ import annotations

import torch
from torch import nn


class EmgModel(nn.Module):
    """Base class: maps normalised EMG windows (B, C, L) to normalised targets (B, T).

    Every model declares :attr:`history`, the number of past samples (the
    current one included) its output at time ``t`` depends on.  Inputs longer
    than that are cropped to their last ``history`` samples, so feeding a
    longer window never changes the answer; streaming inference keeps exactly
    that many samples (:class:`asha_app.models.streaming.StreamingRunner`).

    Parameters
    ----------
    n_channels : int
        EMG channels.
    n_targets : int
        Output size (63 joint coordinates, n joint angles, 5 finger angles ...).
    fs : float
        Sampling rate in Hz (history in ms is converted with it).
    """

    name = "base"
    #: True for models fitted in closed form (ridge): the training loop calls :meth:`fit_closed_form`.
    closed_form = False

    def __init__(self, n_channels: int, n_targets: int, fs: float) -> None:
        super().__init__()
        self.n_channels = int(n_channels)
        self.n_targets = int(n_targets)
        self.fs = float(fs)

    @property
    def history(self) -> int:
        """Samples of left context (including the current sample) one output needs."""
        raise NotImplementedError

    def config(self) -> dict:
        """The keyword arguments that rebuild this model with :func:`asha_app.models.registry.build`."""
        raise NotImplementedError

    def head_modules(self) -> list[nn.Module]:
        """Modules adapted by ``head`` fine-tuning (the output layers)."""
        raise NotImplementedError

    # -------------------------------------------------------------------------------- cached features (optional)
    def fixed_features(self, x: torch.Tensor) -> torch.Tensor | None:
        """The model's parameter-free front on normalised windows (B, C, L) -> features (B, F), or None.

        A model whose first stage has no trainable weights (fixed filters,
        averages) returns it here, with :meth:`from_features` the rest, so that
        ``forward(x) == from_features(fixed_features(x))`` in eval mode.  The
        training loop then computes the front once per window instead of once
        per epoch (:func:`asha_app.models.train.train`), which makes fine-tuning
        on a calibration recording many times faster.  Default: None (not split).
        """
        return None

    def from_features(self, f: torch.Tensor) -> torch.Tensor:
        """The trainable rest of the model on :meth:`fixed_features` (B, F) -> normalised targets (B, T)."""
        raise NotImplementedError

    def feature_cache_ok(self) -> bool:
        """True when training on cached :meth:`fixed_features` equals training on windows (no augmentation of
        the input in training mode, a split front)."""
        return False

    def without_augmentation(self) -> None:
        """Switch off any training-time input augmentation (no-op by default)."""

    def data_init(self, x: torch.Tensor, again: bool = False) -> None:
        """Data-dependent initialisation from the first training batch (B, C, L), before its features are
        cached; a no-op unless the model needs one (e.g. a learned zero of log amplitude).  ``again``: redo it
        on new data (calibration to a new person: ``adapt_input`` of :func:`asha_app.models.train.finetune`)."""

    def frozen(self) -> torch.jit.ScriptModule:
        """TorchScript of :meth:`forward` for one window (1, C, history), traced and frozen for fast CPU inference.

        Freezing folds BatchNorm into the preceding layers and removes Python
        overhead (about 2x faster for one window of the small models here).
        Outputs equal the eager model's to float32 rounding.
        """
        self.eval()
        with torch.no_grad():
            return torch.jit.freeze(torch.jit.trace(self, torch.zeros(1, self.n_channels, self.history)))

    def crop(self, x: torch.Tensor) -> torch.Tensor:
        """The last :attr:`history` samples of ``x`` (B, C, L); error if shorter."""
        if not torch.jit.is_tracing() and x.shape[-1] < self.history:  # traced: no shape-to-bool conversion
            raise ValueError(f"{self.name} needs windows of {self.history} samples, got {x.shape[-1]}")
        return x[..., -self.history:]
