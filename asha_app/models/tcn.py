"""EnvelopeTCN: a causal energy front end and a dilated causal conv stack (our design).

Why this design: hand pose follows the *amplitude* of sEMG (its envelope)
over the last few hundred milliseconds, with a delay and smoothing that
differ per muscle.  The classic baseline computes fixed envelopes per
electrode; the seed model must learn rectification and smoothing from a
short window with max-pooling.  EnvelopeTCN builds both into the network and
then looks further back with dilated causal convolutions, in the spirit of
the time-depth-separable causal front ends of emg2pose (Salter et al., 2024,
"emg2pose: a large and diverse benchmark for surface electromyographic hand
pose estimation") and TCNs (Bai et al., 2018, "An empirical evaluation of
generic convolutional and recurrent networks for sequence modeling"):

1. learned spatial/temporal filter bank ``Conv1d(C -> H, k_front)`` (valid);
2. energy: ``log(eps + moving_mean(h^2))`` over ``envelope_ms`` (a learned
   RMS envelope), concatenated with the same envelope of the raw channels;
   1x1 conv mixes them to ``H`` channels, BatchNorm;
3. residual blocks of ``Conv1d(H, H, k, dilation d)`` (valid, causal) + BN +
   GELU + dropout + 1x1 conv, dilations 1, 2, 4, ... (receptive field
   ``sum((k-1) d)`` samples);
4. a linear head on the last time step.

All convolutions are unpadded ("valid"), so the output at sample ``t``
depends on exactly ``history`` samples ending at ``t``: batch and streaming
computation coincide by construction.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from asha_app.models.base import EmgModel

DEFAULTS = {"hidden": 32, "front_kernel": 3, "envelope_ms": 200.0, "kernel": 3, "dilations": [1, 2, 4, 8, 16],
            "dropout": 0.2, "norm": "batch"}
_EPS = 1e-3


class ChannelLayerNorm(nn.Module):
    """LayerNorm over channels at each time step of (B, C, L): per sample and causal (no batch statistics)."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.ln = nn.LayerNorm(c)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.ln(z.transpose(1, 2)).transpose(1, 2)


def _norm(kind: str, c: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm1d(c)
    if kind == "layer":
        return ChannelLayerNorm(c)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"norm must be 'batch', 'layer' or 'none', not {kind!r}")


class _Block(nn.Module):
    def __init__(self, h: int, k: int, d: int, dropout: float, norm: str) -> None:
        super().__init__()
        self.conv = nn.Conv1d(h, h, k, dilation=d)
        self.bn = _norm(norm, h)
        self.drop = nn.Dropout(dropout)
        self.mix = nn.Conv1d(h, h, 1)
        self.shrink = (k - 1) * d

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        y = self.mix(self.drop(F.gelu(self.bn(self.conv(z)))))
        return z[..., self.shrink:] + y


class EnvelopeTCN(EmgModel):
    """Causal learned-envelope front end + dilated TCN.

    Parameters
    ----------
    hidden : int
        Channels of the filter bank and TCN.
    front_kernel : int
        Kernel of the first (filter-bank) convolution, samples.
    envelope_ms : float
        Moving-mean window of the energy envelope, ms.
    kernel : int
        TCN kernel size.
    dilations : list of int
        One residual block per dilation.
    dropout : float
    norm : {"batch", "layer", "none"}
        Normalisation layers.  ``"layer"`` (per time step over channels) uses
        no batch statistics, so data-parallel training equals one process exactly.
    """

    name = "envtcn"

    def __init__(self, n_channels: int, n_targets: int, fs: float, hidden: int = 32, front_kernel: int = 3,
                 envelope_ms: float = 200.0, kernel: int = 3, dilations: list[int] | None = None,
                 dropout: float = 0.2, norm: str = "batch") -> None:
        super().__init__(n_channels, n_targets, fs)
        self.cfg = {"hidden": hidden, "front_kernel": front_kernel, "envelope_ms": envelope_ms, "kernel": kernel,
                    "dilations": list(dilations if dilations is not None else DEFAULTS["dilations"]),
                    "dropout": dropout, "norm": norm}
        self.env = max(1, int(round(envelope_ms * fs / 1000.0)))
        self.front = nn.Conv1d(n_channels, hidden, front_kernel)
        self.pool = nn.AvgPool1d(self.env, stride=1)
        self.merge = nn.Conv1d(hidden + n_channels, hidden, 1)
        self.bn = _norm(norm, hidden)
        self.blocks = nn.ModuleList([_Block(hidden, kernel, d, dropout, norm) for d in self.cfg["dilations"]])
        self.head = nn.Linear(hidden, n_targets)
        self._history = (front_kernel - 1) + (self.env - 1) + sum(b.shrink for b in self.blocks) + 1

    @property
    def history(self) -> int:
        return self._history

    def config(self) -> dict:
        return dict(self.cfg)

    def head_modules(self) -> list[nn.Module]:
        return [self.head]

    def forward_seq(self, x: torch.Tensor) -> torch.Tensor:
        """Outputs at every sample with a full history: (B, L - history + 1, T)."""
        learned = torch.log(_EPS + self.pool(self.front(x) ** 2))
        raw = torch.log(_EPS + self.pool(x ** 2))[..., -learned.shape[-1]:]
        z = self.bn(self.merge(torch.cat([learned, raw], dim=1)))
        for b in self.blocks:
            z = b(z)
        return self.head(z.transpose(1, 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_seq(self.crop(x))[:, -1]
