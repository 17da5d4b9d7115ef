"""Multi-scale envelopes and Riemannian covariance features side by side (``msriem``), then an MLP.

Why this design: :mod:`asha_app.models.msenv` describes each channel's amplitude history (log envelopes
averaged over 10 ms ... 6.4 s) and leaves how channels work together to its MLP; :mod:`asha_app.models.riemann`
describes exactly that co-activation (tangent-space features of augmented covariance matrices over 150, 500 and
1500 ms) but maps it linearly.  Given both, one MLP reads a pose from the amplitude history *and* the channel
pairs' co-activation.  Measured on NinaPro DB1 within subject (docs/models.md, "Envelopes and covariances
together"): R^2 0.803 against msenv's 0.795, and 0.735 against 0.685 when the recording is replayed in
interleaved order, so it leans less on DB1's block design; on the paired Myo session 11.4 deg against
EnvelopeTCN's 11.8.

Pipeline (input: normalised EMG windows (B, C, L), L >= :attr:`history`):

1. msenv's fixed features: ``2 C x n_scales`` multi-scale log envelopes (:meth:`MultiScaleEnvelopeNet.
   fixed_features`);
2. riemann's features: ``n_horizons x (C + 1)(C + 2) / 2`` tangent vectors at the reference point, the
   log-Euclidean mean of the training windows (:meth:`RiemannRegressor.features`);
3. BatchNorm over both, an MLP (``depth`` layers of ``hidden`` units, GELU, dropout) and a linear head.

Both fronts are parameter-free once their data-dependent constants are set (:meth:`MsRiemNet.data_init`: the
log-amplitude floor and the covariance reference point), so the training loop trains on cached features.
Calibration to a new person (strategy ``recenter``) re-estimates both constants on the person's windows: the
Riemannian re-centring of Zanini et al. (2018) and a new log-amplitude zero.

Streaming: the output is a function of the last ``history`` samples, so the streaming runner's window path
applies and the output at every sample equals the batch output (tests check it).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from asha_app.models.base import EmgModel
from asha_app.models.msenv import DEFAULTS as MSENV_DEFAULTS
from asha_app.models.msenv import MultiScaleEnvelopeNet
from asha_app.models.riemann import DEFAULTS as RIEMANN_DEFAULTS
from asha_app.models.riemann import RiemannRegressor

DEFAULTS: dict[str, Any] = {"scales_ms": list(MSENV_DEFAULTS["scales_ms"]), "smooth_ms": MSENV_DEFAULTS["smooth_ms"],
                            "horizons_ms": list(RIEMANN_DEFAULTS["horizons_ms"]),
                            "shrinkage": RIEMANN_DEFAULTS["shrinkage"], "hidden": 256, "depth": 2, "dropout": 0.2}


class MsRiemNet(EmgModel):
    """msenv's multi-scale log envelopes + riemann's tangent-space features -> BatchNorm -> MLP -> head.

    Parameters
    ----------
    scales_ms, smooth_ms : list of float, float
        The envelope front's averaging windows and pre-log smoothing, ms (:class:`MultiScaleEnvelopeNet`).
    horizons_ms, shrinkage : list of float, float
        The covariance front's horizons, ms, and diagonal loading (:class:`RiemannRegressor`).
    hidden, depth, dropout : int, int, float
        MLP units per layer, layers, and dropout after each.
    """

    name = "msriem"

    def __init__(self, n_channels: int, n_targets: int, fs: float, scales_ms: list[float] | None = None,
                 smooth_ms: float = 50.0, horizons_ms: list[float] | None = None, shrinkage: float = 1e-3,
                 hidden: int = 256, depth: int = 2, dropout: float = 0.2) -> None:
        super().__init__(n_channels, n_targets, fs)
        # the two fronts; their own heads are unused (depth 0 keeps the envelope front's small)
        self.env = MultiScaleEnvelopeNet(n_channels, n_targets, fs, scales_ms=scales_ms, smooth_ms=smooth_ms,
                                         depth=0)
        self.cov = RiemannRegressor(n_channels, n_targets, fs, horizons_ms=horizons_ms, shrinkage=shrinkage)
        for p in (*self.env.feat_norm.parameters(), *self.env.head.parameters(), *self.cov.parameters()):
            p.requires_grad_(False)
        self.cfg: dict[str, Any] = {"scales_ms": list(self.env.cfg["scales_ms"]), "smooth_ms": float(smooth_ms),
                                    "horizons_ms": list(self.cov.horizons_ms), "shrinkage": float(shrinkage),
                                    "hidden": int(hidden), "depth": int(depth), "dropout": float(dropout)}
        width = self.env.feat_norm.num_features + len(self.cov.feat_mean)
        self.feat_norm = nn.BatchNorm1d(width)
        layers: list[nn.Module] = []
        for _ in range(int(depth)):
            layers += [nn.Linear(width, hidden), nn.GELU(), nn.Dropout(dropout)]
            width = hidden
        self.mlp = nn.Sequential(*layers)
        self.head = nn.Linear(width, n_targets)
        self.ref_ready: torch.Tensor
        self.register_buffer("ref_ready", torch.tensor(False))

    @property
    def history(self) -> int:
        return max(self.env.history, self.cov.history)

    def config(self) -> dict:
        return {k: (list(v) if isinstance(v, list) else v) for k, v in self.cfg.items()}

    def head_modules(self) -> list[nn.Module]:
        return [self.head]

    def data_init(self, x: torch.Tensor, again: bool = False) -> None:
        """Set both fronts' constants from normalised windows ``x`` (B, C, L): the log-amplitude floor and the
        covariance reference point (their log-Euclidean mean).  ``again`` (calibration to a new person):
        re-estimate both on the person's windows."""
        self.env.data_init(x, again)
        if again or not bool(self.ref_ready):
            self.cov.fit_reference(x)
            self.ref_ready.fill_(True)

    def fixed_features(self, x: torch.Tensor) -> torch.Tensor:
        """Both fronts' features (B, 2C n_scales + n_horizons (C+1)(C+2)/2) of normalised windows (B, C, L)."""
        return torch.cat([self.env.fixed_features(x), self.cov.features(x)], dim=1)

    def feature_cache_ok(self) -> bool:
        return True

    def from_features(self, f: torch.Tensor) -> torch.Tensor:
        return self.head(self.mlp(self.feat_norm(f)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # the first batch seen in training mode sets the constants not set yet (as LogAmplitude does)
        self.env.amp.init_from(self.env.crop(x))
        if self.training and not bool(self.ref_ready):
            self.data_init(x)
        return self.from_features(self.fixed_features(x))
