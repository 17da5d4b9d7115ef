"""Tangent-space regression on covariance matrices of EMG windows (a Riemannian candidate for issue 13).

Per horizon ``h`` (the last ``h`` ms of the window) the model forms the *augmented* second-moment matrix of the
normalised EMG ``X`` (C channels x L samples)::

    S = [[X X^T / L, m], [m^T, 1]] + eps * I        (m: each channel's mean over the horizon)

which is symmetric positive definite, of size C + 1, and holds each channel's level (``m``), power (the diagonal)
and the co-activation of channel pairs (the off-diagonal).  Covariance matrices live on a curved manifold; the
classic way to use them with linear methods (Barachant et al., 2012, "Multiclass brain-computer interface
classification by Riemannian geometry", IEEE TBME 59(4); Tuzel et al., 2008) is to *whiten* them by a reference
point ``R`` (here the log-Euclidean mean of the training windows, Arsigny et al., 2007) and take the matrix
logarithm: ``T = logm(R^-1/2 S R^-1/2)``, a symmetric matrix whose upper triangle (off-diagonal terms times
sqrt 2, so Euclidean distances equal the Riemannian ones at ``R``) is the feature vector.  Several horizons give
the regressor the window's recent history, in the spirit of the Temporal Riemannian Regressor of EMG-FK (Colot et
al., arXiv 2604.22499, which reported 9.79 deg within subject on 8-channel MindRove sEMG with MediaPipe labels).
The features are standardised and a ridge regression maps them to the targets in closed form (as
:class:`~asha_app.models.ridge.RidgeRegressor`, whose solver and penalty choice by validation error it reuses).

Streaming: the model is a function of the last ``history`` samples, so the runner's window path applies and the
output at every sample equals the batch output (tests check it).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from asha_app.models.ridge import RidgeRegressor

DEFAULTS: dict[str, Any] = {"horizons_ms": [150.0, 500.0, 1500.0], "shrinkage": 1e-3,
                            "alphas": [0.1, 1.0, 10.0, 100.0, 1000.0]}
#: windows per chunk when computing reference matrices and features (bounds memory on long recordings)
_CHUNK = 4096


def augmented_moments(x: torch.Tensor, shrinkage: float) -> torch.Tensor:
    """Augmented second-moment matrices of windows.

    Parameters
    ----------
    x : tensor (B, C, L)
        Normalised EMG windows.
    shrinkage : float
        Added to the diagonal (keeps the matrices positive definite when channels are silent or collinear).

    Returns
    -------
    tensor (B, C + 1, C + 1), float64
    """
    xd = x.double()
    B, C, L = xd.shape
    ones = torch.ones(B, 1, L, dtype=xd.dtype)
    z = torch.cat([xd, ones], dim=1)  # the constant row puts each channel's mean in the last row and column
    s = z @ z.transpose(1, 2) / L
    return s + shrinkage * torch.eye(C + 1, dtype=xd.dtype)


def sym_fn(s: torch.Tensor, fn) -> torch.Tensor:
    """``fn`` applied to the eigenvalues of symmetric matrices ``s`` (..., D, D)."""
    w, v = torch.linalg.eigh(s)
    return (v * fn(w).unsqueeze(-2)) @ v.transpose(-1, -2)


def whitening(mean_log: torch.Tensor) -> torch.Tensor:
    """``R^-1/2`` of the reference ``R = expm(mean_log)`` (..., D, D): the map that re-centres matrices on ``R``."""
    return sym_fn(mean_log, lambda w: torch.exp(-0.5 * w))


def tangent_vectors(s: torch.Tensor, whiten: torch.Tensor) -> torch.Tensor:
    """Tangent vectors (..., D (D+1) / 2) of SPD matrices ``s`` (..., D, D) at the reference whose ``R^-1/2`` is
    ``whiten``: the upper triangle of ``logm(W s W)``, off-diagonal terms times sqrt 2 (so the vector's norm is the
    affine-invariant distance to the reference)."""
    d = s.shape[-1]
    iu = torch.triu_indices(d, d)
    t = sym_fn(whiten @ s @ whiten, torch.log)
    weights = torch.where(iu[0] != iu[1], math.sqrt(2.0), 1.0).to(t.dtype)
    return t[..., iu[0], iu[1]] * weights


class RiemannRegressor(RidgeRegressor):
    """Ridge regression on tangent-space features of multi-horizon augmented covariance matrices.

    Parameters
    ----------
    horizons_ms : list of float
        The lengths (ms) of the window's last stretches whose matrices are used; the longest is the history.
    shrinkage : float
        Diagonal loading of each matrix (normalised units squared).
    alphas : list of float
        Ridge penalties tried; the one with the lowest validation MSE is kept.
    """

    name = "riemann"
    # buffers (register_buffer), declared for the type checker
    whiten: torch.Tensor

    def __init__(self, n_channels: int, n_targets: int, fs: float, horizons_ms: list[float] | None = None,
                 shrinkage: float = 1e-3, alphas: list[float] | None = None) -> None:
        self.horizons_ms = sorted(float(h) for h in (horizons_ms or DEFAULTS["horizons_ms"]))
        self.shrinkage = float(shrinkage)
        self._d = n_channels + 1
        super().__init__(n_channels, n_targets, fs, window_ms=self.horizons_ms[-1], alphas=alphas)
        self._lengths = [max(4, int(round(h * fs / 1000.0))) for h in self.horizons_ms]
        self._history = self._lengths[-1]
        n_feat = len(self._lengths) * self._d * (self._d + 1) // 2
        self.register_buffer("feat_mean", torch.zeros(n_feat))
        self.register_buffer("feat_std", torch.ones(n_feat))
        self.linear = torch.nn.Linear(n_feat, n_targets)
        eye = torch.eye(self._d, dtype=torch.float64)
        self.register_buffer("whiten", eye.repeat(len(self._lengths), 1, 1))  # R_h^-1/2 per horizon

    def config(self) -> dict:
        return {"horizons_ms": self.horizons_ms, "shrinkage": self.shrinkage, "alphas": self.alphas}

    def _moments(self, x: torch.Tensor) -> list[torch.Tensor]:
        # a NaN sample (a dropped packet, flagged on the scopes) must not stop the eigendecomposition live
        x = torch.nan_to_num(self.crop(x))
        return [augmented_moments(x[..., -n:], self.shrinkage) for n in self._lengths]

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Tangent-space features (B, H * (C+1)(C+2)/2) of windows (B, C, L >= history), float32."""
        out = []
        for i in range(0, x.shape[0], _CHUNK):
            parts = [tangent_vectors(s, self.whiten[h]) for h, s in enumerate(self._moments(x[i:i + _CHUNK]))]
            out.append(torch.cat(parts, dim=1))
        return torch.cat(out).float() if out else torch.zeros(0, len(self.feat_mean))

    @torch.no_grad()
    def fit_reference(self, x_train: torch.Tensor) -> None:
        """Set each horizon's reference point: the log-Euclidean mean of the training windows' matrices."""
        sums = [torch.zeros(self._d, self._d, dtype=torch.float64) for _ in self._lengths]
        n = 0
        for i in range(0, x_train.shape[0], _CHUNK):
            for h, s in enumerate(self._moments(x_train[i:i + _CHUNK])):
                sums[h] += sym_fn(s, torch.log).sum(0)
            n += min(_CHUNK, x_train.shape[0] - i)
        for h, acc in enumerate(sums):
            mean_log = acc / max(n, 1)
            self.whiten[h] = whitening(mean_log)

    def data_init(self, x: torch.Tensor, again: bool = False) -> None:
        """``again`` (calibration to a new person): re-centre on the person's windows ``x`` (B, C, L), i.e. their
        log-Euclidean mean becomes the reference point, so their average window maps to the population's average
        features (the Riemannian re-centring of Zanini et al., 2018, "Transfer learning: a Riemannian geometry
        framework with applications to brain-computer interfaces", IEEE TBME 65(5)).  The first fit sets the
        reference in :meth:`fit_closed_form`."""
        if again:
            self.fit_reference(x)

    @torch.no_grad()
    def fit_closed_form(self, x_train: torch.Tensor, y_train: torch.Tensor, x_val: torch.Tensor | None = None,
                        y_val: torch.Tensor | None = None) -> dict:
        """Reference points from the training windows, then the ridge fit (see :class:`RidgeRegressor`)."""
        self.fit_reference(x_train)
        return super().fit_closed_form(x_train, y_train, x_val, y_val)
