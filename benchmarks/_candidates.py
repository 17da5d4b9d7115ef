"""Model candidates measured on DB1 that did not become app models (docs/models.md has their figures).

:func:`register` adds them to the app's registry for a benchmark run, so they
train through the same code (:func:`asha_app.models.train.train`) as the app's
models.  They are batch models (no streaming state), enough for scoring.

* ``seed_log``: the seed Conv1D+LSTM on the log amplitude of the input
  (:class:`asha_app.models.frontend.LogAmplitude`), as in the 500 ms / log(1+x)
  reference run of the issue;
* ``envtcn_log``: EnvelopeTCN fed the normalised EMG and its log amplitude
  (an envelope front end for inputs that are already envelopes);
* ``velocity``: a velocity-plus-integration head in the spirit of vemg2pose
  (Salter et al., 2024): from msenv's multi-scale features at every sample of
  the last ``integrate_ms``, one MLP predicts the pose at the start of that
  stretch and another the pose's velocity at each sample; the output is the
  start pose plus the integrated velocities.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from asha_app.models.base import EmgModel
from asha_app.models.frontend import LogAmplitude
from asha_app.models.msenv import MultiScaleEnvelopeNet
from asha_app.models.seed import SeedConvLSTM
from asha_app.models.tcn import EnvelopeTCN


class SeedLog(SeedConvLSTM):
    name = "seed_log"

    def __init__(self, n_channels: int, n_targets: int, fs: float, window_ms: float = 500.0) -> None:
        super().__init__(n_channels, n_targets, fs, window_ms)
        self.amp = LogAmplitude(n_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(self.amp(self.crop(x)))


class EnvTCNLog(EmgModel):
    name = "envtcn_log"

    def __init__(self, n_channels: int, n_targets: int, fs: float, **cfg) -> None:
        super().__init__(n_channels, n_targets, fs)
        self.amp = LogAmplitude(n_channels)
        self.inner = EnvelopeTCN(2 * n_channels, n_targets, fs, **cfg)
        self.cfg = dict(cfg)

    @property
    def history(self) -> int:
        return self.inner.history

    def config(self) -> dict:
        return dict(self.cfg)

    def head_modules(self) -> list[nn.Module]:
        return self.inner.head_modules()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.crop(x)
        return self.inner(torch.cat([x, self.amp(x)], dim=1))


class VelocityIntegration(MultiScaleEnvelopeNet):
    """msenv features -> start pose + integrated velocities over the last ``integrate_ms``."""

    name = "velocity"

    def __init__(self, n_channels: int, n_targets: int, fs: float, integrate_ms: float = 500.0, **cfg) -> None:
        super().__init__(n_channels, n_targets, fs, **cfg)
        self.k = max(2, int(round(integrate_ms * fs / 1000.0)))
        self.cfg["integrate_ms"] = float(integrate_ms)
        width = self.head.in_features
        self.vel_mlp = nn.Sequential(nn.Linear(self.feat_norm.num_features, width), nn.GELU(),
                                     nn.Linear(width, n_targets))
        self._history = self._history + self.k - 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.crop(x)
        self.amp.init_from(x)
        env = self.log_envelopes(x)  # (B, 2C, L')
        c = F.pad(torch.cumsum(env, -1), (1, 0))
        top = env.shape[-1]
        ends = torch.arange(top - self.k + 1, top + 1)  # the last k samples
        feats = torch.cat([(c[..., ends] - c[..., ends - s]) / s for s in self.scales], dim=1)  # (B, F, k)
        feats = self.feat_norm(feats)
        f_t = feats.transpose(1, 2)  # (B, k, F)
        start = self.head(self.mlp(f_t[:, 0]))
        vel = self.vel_mlp(f_t[:, 1:]).sum(1) / self.k
        return start + vel


#: their settings in the DB1 benchmark
DB1_CONFIGS = {"seed_log": {"window_ms": 500.0}, "envtcn_log": {}, "velocity": {"integrate_ms": 500.0}}


def register() -> None:
    """Add the candidates to the app's model registry (for this process)."""
    from asha_app.models import registry

    registry.available()  # load the built-in models first
    registry.register("seed_log", SeedLog, {"window_ms": 500.0})
    registry.register("envtcn_log", EnvTCNLog, {})
    registry.register("velocity", VelocityIntegration, {"integrate_ms": 500.0})
