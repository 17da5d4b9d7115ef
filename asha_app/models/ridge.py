"""Ridge regression on classic per-channel amplitude features: the closed-form baseline.

Features per channel over the window (Hudgins et al., 1993, "A new strategy
for multifunction myoelectric control"; Phinyomark et al., 2012, "Feature
reduction and selection for EMG signal classification"):
log RMS, log mean absolute value (MAV), log waveform length (WL, mean absolute
first difference), and the log RMS of the last quarter of the window (a
shorter envelope that follows fast changes).  Features are standardised with
training statistics and the weights solved in closed form,
``W = (F^T F + alpha I)^-1 F^T Y`` (bias unpenalised); ``alpha`` is picked
from a grid by validation error.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import torch
from torch import nn

from asha_app.models.base import EmgModel

log = logging.getLogger(__name__)

DEFAULTS: dict[str, Any] = {"window_ms": 500.0, "alphas": [0.1, 1.0, 10.0, 100.0, 1000.0]}
_EPS = 1e-3


class RidgeRegressor(EmgModel):
    """Linear map from amplitude features of one window to the targets.

    Parameters
    ----------
    window_ms : float
        Feature window (the model's history), ms.
    alphas : list of float
        Ridge penalties tried; the one with the lowest validation MSE is kept.
    """

    name = "ridge"
    closed_form = True
    # buffers (register_buffer), declared for the type checker
    feat_mean: torch.Tensor
    feat_std: torch.Tensor
    alpha: torch.Tensor

    def __init__(self, n_channels: int, n_targets: int, fs: float, window_ms: float = 500.0,
                 alphas: list[float] | None = None) -> None:
        super().__init__(n_channels, n_targets, fs)
        self.window_ms = float(window_ms)
        self.alphas = list(alphas if alphas is not None else DEFAULTS["alphas"])
        self._history = max(4, int(round(window_ms * fs / 1000.0)))
        n_feat = 4 * n_channels
        self.register_buffer("feat_mean", torch.zeros(n_feat))
        self.register_buffer("feat_std", torch.ones(n_feat))
        self.register_buffer("alpha", torch.tensor(float(self.alphas[0])))
        self.linear = nn.Linear(n_feat, n_targets)

    @property
    def history(self) -> int:
        return self._history

    def config(self) -> dict:
        return {"window_ms": self.window_ms, "alphas": self.alphas}

    def head_modules(self) -> list[nn.Module]:
        return [self.linear]

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Raw features (B, 4*C) of windows (B, C, L)."""
        x = self.crop(x)
        q = max(2, x.shape[-1] // 4)
        rms = torch.sqrt((x ** 2).mean(-1))
        mav = x.abs().mean(-1)
        wl = (x[..., 1:] - x[..., :-1]).abs().mean(-1)
        rms_q = torch.sqrt((x[..., -q:] ** 2).mean(-1))
        return torch.log(torch.cat([rms, mav, wl, rms_q], dim=1) + _EPS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = (self.features(x) - self.feat_mean) / self.feat_std
        return self.linear(f)

    @torch.no_grad()
    def fit_closed_form(self, x_train: torch.Tensor, y_train: torch.Tensor, x_val: torch.Tensor | None = None,
                        y_val: torch.Tensor | None = None) -> dict:
        """Solve the ridge weights; choose alpha on the validation set when given.

        Parameters
        ----------
        x_train : tensor (N, C, L)
            Normalised EMG windows.
        y_train : tensor (N, T)
            Normalised targets.

        Returns
        -------
        dict
            ``{"alpha": chosen, "val_mse": {alpha: mse}}``.
        """
        f = self.features(x_train).double()
        mu, sd = f.mean(0), f.std(0).clamp_min(1e-8)
        self.feat_mean.copy_(mu.float())
        self.feat_std.copy_(sd.float())
        fz = ((f - mu) / sd).numpy()
        y = y_train.double().numpy()
        ym = y.mean(0)
        gram = fz.T @ fz
        rhs = fz.T @ (y - ym)
        fv = ((self.features(x_val).double() - mu) / sd).numpy() if x_val is not None else None
        best, scores = None, {}
        for a in self.alphas:
            w = np.linalg.solve(gram + a * np.eye(len(gram)), rhs)
            if fv is None:
                best = (a, w)
                break
            assert y_val is not None, "validation inputs without targets"
            mse = float(np.mean((fv @ w + ym - y_val.double().numpy()) ** 2))
            scores[a] = mse
            if best is None or mse < scores[best[0]]:
                best = (a, w)
        assert best is not None  # the loop runs at least once: alphas is never empty
        a, w = best
        self.linear.weight.copy_(torch.from_numpy(w.T).float())
        self.linear.bias.copy_(torch.from_numpy(ym).float())
        self.alpha.fill_(a)
        log.info("ridge: alpha %g (validation MSE per alpha %s)", a, scores)
        return {"alpha": a, "val_mse": scores}
