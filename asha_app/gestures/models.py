"""Gesture classifiers: the LDA baseline, a feature MLP, a multi-horizon CNN (MHCNN) and a prototype network.

All four are :class:`~asha_app.models.base.EmgModel` subclasses with
``task = "gesture"``: they map normalised EMG windows ``(B, C, L)`` to one
score per class ``(B, K)`` (``n_targets`` is the number of classes), declare
their history in samples, and live in the model registry beside the pose
models, so checkpoints, the streaming pipeline and the command line treat them
alike.  The decision over a subset of classes is the argmax of the scores over
that subset (:func:`masked_argmax`).

* ``lda`` — linear discriminant analysis on classic time-domain features of one
  window (the field's standard baseline: Hudgins et al., 1993, "A new strategy
  for multifunction myoelectric control"; Englehart & Hudgins, 2003): per
  channel the window mean, log mean absolute value (MAV), log waveform length
  (WL), zero crossings (ZC) and slope sign changes (SSC), standardised; class
  means and a pooled covariance with shrinkage, solved in closed form.
* ``mlp`` — a multilayer perceptron on the same time-domain features over a
  500 ms window plus each channel's slope (:class:`FeatureMLP`): the
  nonlinear step past LDA that carries over best to people it never saw
  (``benchmarks/gestures.py``, docs/gestures.md).
* ``mlpx`` — the same MLP as three independently trained members (class probabilities averaged) with each
  channel pair's correlation as extra features: the best measured on people it never saw.
* ``mhcnn`` — multi-horizon CNN in the spirit of the EPN612 cross-user
  classifier: parallel branches look at the last ``horizons_ms`` (short and
  long), each a learned spatio-temporal filter bank, a log-energy over short
  sub-windows (a learned envelope) and two convolutions, pooled over time; the
  branches are concatenated and a small head scores the classes.
* ``proto`` — the same multi-horizon trunk embeds a window on the unit sphere;
  every class is a prototype on that sphere and a class's score is the scaled
  cosine similarity (ContrastiveProsthetics' idea of windows and classes in one
  space).  Any subset of the trained classes can be active at run time without
  retraining, and calibration can move prototypes towards a new person's
  embeddings (:meth:`PrototypeNet.update_prototypes`).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from asha_app.models.base import EmgModel

_EPS = 1e-4

LDA_DEFAULTS = {"window_ms": 200.0, "shrinkage": 0.1}
MHCNN_DEFAULTS = {"horizons_ms": [150.0, 500.0], "filters": 24, "hidden": 64, "dropout": 0.3}
MLP_DEFAULTS = {"window_ms": 500.0, "slope_ms": 100.0, "hidden": 512, "dropout": 0.5, "members": 1, "corr": False}
#: the cross-user preset: three members and channel-pair correlations (docs/gestures.md: +10.5 points over the LDA
#: baseline zero-shot on 13 held-out NinaPro DB1 people, against +8.6 for ``mlp``; 60.2 % calibrated against 63.0)
MLPX_DEFAULTS = {**MLP_DEFAULTS, "members": 3, "corr": True}
PROTO_DEFAULTS = {"horizons_ms": [150.0, 500.0], "filters": 24, "embed": 32, "dropout": 0.3, "scale": 12.0}


def masked_argmax(scores: np.ndarray | torch.Tensor, active: np.ndarray | None) -> np.ndarray:
    """The class with the highest score among the active ones.

    Parameters
    ----------
    scores : array (n, K)
    active : bool array (K,) or None
        None: every class.

    Returns
    -------
    int64 array (n,)
        Index into the K classes (never an inactive one).
    """
    s = scores.detach().cpu().numpy() if isinstance(scores, torch.Tensor) else np.asarray(scores)
    if active is None:
        return s.argmax(axis=1).astype(np.int64)
    a = np.asarray(active, bool)
    if not a.any():
        raise ValueError("the active gesture set is empty; tick at least one gesture")
    return np.where(a[None, :], s, -np.inf).argmax(axis=1).astype(np.int64)


def masked_softmax(scores: np.ndarray, active: np.ndarray | None) -> np.ndarray:
    """Softmax over the active classes (inactive ones get probability 0); shapes as :func:`masked_argmax`."""
    s = np.asarray(scores, np.float64)
    if active is not None:
        s = np.where(np.asarray(active, bool)[None, :], s, -np.inf)
    s = s - s.max(axis=1, keepdims=True)
    e = np.exp(s)
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


class GestureModel(EmgModel):
    """Base of the gesture classifiers: ``forward`` gives class scores (logits) ``(B, K)``."""

    task = "gesture"

    @property
    def n_classes(self) -> int:
        """Number of classes (= ``n_targets``)."""
        return self.n_targets

    def init_state(self):  # not stateful; StreamingRunner checks for forward_chunk, which these lack
        return None


def _samples(ms: float, fs: float, least: int = 4) -> int:
    return max(least, int(round(float(ms) * fs / 1000.0)))


def td_features(x: torch.Tensor) -> torch.Tensor:
    """Classic time-domain features of windows, per channel.

    Parameters
    ----------
    x : tensor (B, C, L)
        Normalised EMG.

    Returns
    -------
    tensor (B, 5 C)
        Channel blocks of mean, log MAV, log WL, ZC rate and SSC rate (ZC and SSC about the window mean).
    """
    mean = x.mean(-1)
    xc = x - mean[..., None]
    mav = torch.log(xc.abs().mean(-1) + _EPS)
    d = xc[..., 1:] - xc[..., :-1]
    wl = torch.log(d.abs().mean(-1) + _EPS)
    zc = ((xc[..., 1:] * xc[..., :-1]) < 0).to(x.dtype).mean(-1)
    ssc = ((d[..., 1:] * d[..., :-1]) < 0).to(x.dtype).mean(-1)
    return torch.cat([mean, mav, wl, zc, ssc], dim=1)


class LDAClassifier(GestureModel):
    """Shrinkage LDA on :func:`td_features` of one window.

    Parameters
    ----------
    window_ms : float
        Feature window (the model's history), ms.
    shrinkage : float
        Weight of the scaled identity in the pooled covariance, 0..1.
    """

    name = "lda"
    closed_form = True

    def __init__(self, n_channels: int, n_targets: int, fs: float, window_ms: float = 200.0,
                 shrinkage: float = 0.1) -> None:
        super().__init__(n_channels, n_targets, fs)
        self.window_ms = float(window_ms)
        self.shrinkage = float(shrinkage)
        self._history = _samples(window_ms, fs)
        nf = 5 * n_channels
        self.register_buffer("feat_mean", torch.zeros(nf))
        self.register_buffer("feat_std", torch.ones(nf))
        self.linear = nn.Linear(nf, n_targets)

    @property
    def history(self) -> int:
        return self._history

    def config(self) -> dict:
        return {"window_ms": self.window_ms, "shrinkage": self.shrinkage}

    def head_modules(self) -> list[nn.Module]:
        return [self.linear]

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Standardised features (B, 5 C) of the last ``history`` samples."""
        return (td_features(self.crop(x)) - self.feat_mean) / self.feat_std

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.features(x))

    @torch.no_grad()
    def fit_closed_form(self, x: np.ndarray, y: np.ndarray) -> None:
        """Fit on windows ``x`` (N, C, L >= history), normalised, and class indices ``y`` (N,).

        Classes absent from ``y`` get a score of -inf-like bias (never chosen).  Priors are equal
        (the decision aims at balanced accuracy).
        """
        f = td_features(self.crop(torch.as_tensor(x, dtype=torch.float32))).double()
        mu, sd = f.mean(0), f.std(0)
        sd = torch.where(sd > 1e-6, sd, torch.ones_like(sd))
        z = ((f - mu) / sd).numpy()
        y = np.asarray(y, np.int64)
        d, K = z.shape[1], self.n_targets
        means = np.zeros((K, d))
        present = np.zeros(K, bool)
        cov = np.zeros((d, d))
        for k in range(K):
            zk = z[y == k]
            if len(zk) == 0:
                continue
            present[k] = True
            means[k] = zk.mean(0)
            cov += (zk - means[k]).T @ (zk - means[k])
        cov /= max(1, len(z) - int(present.sum()))
        lam = self.shrinkage
        cov = (1 - lam) * cov + lam * (np.trace(cov) / d) * np.eye(d)
        w = np.linalg.solve(cov, means.T)  # (d, K)
        b = -0.5 * np.einsum("kd,dk->k", means, w)
        b[~present] = -1e9
        self.feat_mean.copy_(mu.float())
        self.feat_std.copy_(sd.float())
        self.linear.weight.copy_(torch.as_tensor(w.T, dtype=torch.float32))
        self.linear.bias.copy_(torch.as_tensor(b, dtype=torch.float32))


class FeatureMLP(GestureModel):
    """Multilayer perceptron on time-domain features of one window.

    The features are :func:`td_features` over the whole window plus, per channel, the slope (mean of the last
    ``slope_ms`` minus the mean of the first ``slope_ms``), standardised by a BatchNorm without affine terms
    (training statistics at run time), then two hidden layers (GELU, dropout) and a linear output layer.  On
    log RMS envelopes under RunningNorm (NinaPro DB1) the window mean and slope carry the movement; on raw sEMG
    the log MAV and WL do.

    Parameters
    ----------
    window_ms : float
        The feature window (the model's history), ms.
    slope_ms : float
        Length of the two ends whose means give the slope, ms.
    hidden : int
        Width of both hidden layers.
    dropout : float
    members : int
        Independently trained networks whose class probabilities are averaged (1: one network).
    corr : bool
        Add the window's correlation between every pair of channels (C (C - 1) / 2 features): which muscles work
        together, whatever each one's level.
    """

    name = "mlp"

    def __init__(self, n_channels: int, n_targets: int, fs: float, window_ms: float = 500.0,
                 slope_ms: float = 100.0, hidden: int = 512, dropout: float = 0.5, members: int = 1,
                 corr: bool = False) -> None:
        super().__init__(n_channels, n_targets, fs)
        self.window_ms, self.slope_ms = float(window_ms), float(slope_ms)
        self.hidden, self.dropout = int(hidden), float(dropout)
        self._history = _samples(window_ms, fs, 8)
        self._slope = min(_samples(slope_ms, fs, 1), self._history // 2)
        self.corr = bool(corr)
        self._pairs = torch.triu_indices(n_channels, n_channels, 1)
        nf = 6 * n_channels + (self._pairs.shape[1] if self.corr else 0)
        self.feat_norm = nn.BatchNorm1d(nf, affine=False)
        self.body = nn.Sequential(
            nn.Linear(nf, self.hidden), nn.GELU(), nn.Dropout(self.dropout),
            nn.Linear(self.hidden, self.hidden), nn.GELU(), nn.Dropout(self.dropout),
        )
        self.head = nn.Linear(self.hidden, n_targets)
        self.members = max(1, int(members))
        self.more = nn.ModuleList([
            nn.Sequential(nn.Linear(nf, self.hidden), nn.GELU(), nn.Dropout(self.dropout),
                          nn.Linear(self.hidden, self.hidden), nn.GELU(), nn.Dropout(self.dropout),
                          nn.Linear(self.hidden, n_targets))
            for _ in range(self.members - 1)
        ])

    @property
    def history(self) -> int:
        return self._history

    def config(self) -> dict:
        return {"window_ms": self.window_ms, "slope_ms": self.slope_ms, "hidden": self.hidden,
                "dropout": self.dropout, "members": self.members, "corr": self.corr}

    def head_modules(self) -> list[nn.Module]:
        return [self.head, *(m[-1] for m in self.more)]

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Features (B, 6 C [+ C (C - 1) / 2]) of the last ``history`` samples, before standardisation."""
        x = self.crop(x)
        s = self._slope
        slope = x[..., -s:].mean(-1) - x[..., :s].mean(-1)
        parts = [td_features(x), slope]
        if self.corr:
            xc = x - x.mean(-1, keepdim=True)
            cov = xc @ xc.transpose(1, 2) / x.shape[-1]
            sd = torch.sqrt(torch.diagonal(cov, dim1=1, dim2=2) + _EPS)
            parts.append((cov / (sd[:, :, None] * sd[:, None, :]))[:, self._pairs[0], self._pairs[1]])
        return torch.cat(parts, dim=1)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The head's input (B, hidden)."""
        return self.body(self.feat_norm(self.features(x)))

    def member_logits(self, x: torch.Tensor) -> torch.Tensor:
        """Each member's class scores (members, B, K); the members share only the features' standardisation."""
        f = self.feat_norm(self.features(x))
        return torch.stack([self.head(self.body(f)), *(m(f) for m in self.more)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.members == 1:
            return self.head(self.embed(x))
        # an ensemble: the log of the members' mean class probabilities
        logp = torch.log_softmax(self.member_logits(x), dim=-1)
        return torch.logsumexp(logp, dim=0) - math.log(self.members)


class CrossUserMLP(FeatureMLP):
    """``mlpx``: :class:`FeatureMLP` preset for people the model never saw (three members, channel-pair correlations).

    The best measured zero-shot across people (``benchmarks/gestures.py``); three times the training of ``mlp``,
    and a few points lower than ``mlp`` once calibrated.  Parameters as :class:`FeatureMLP`.
    """

    name = "mlpx"


class _Branch(nn.Module):
    """One horizon: filter bank -> log energy over sub-windows -> two convolutions -> mean over time."""

    def __init__(self, c_in: int, filters: int, length: int) -> None:
        super().__init__()
        self.length = int(length)
        k = 3 if length < 24 else 5
        self.bank = nn.Conv1d(c_in, filters, k)
        n = length - (k - 1)
        self.pool = max(1, n // 8)
        m = n // self.pool
        k2 = 3 if m >= 5 else 1
        self.conv1 = nn.Conv1d(filters + c_in, filters, k2)
        self.bn1 = nn.BatchNorm1d(filters)
        self.conv2 = nn.Conv1d(filters, filters, 1)
        self.bn2 = nn.BatchNorm1d(filters)
        self.k = k

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x[..., -self.length:]
        h = self.bank(x)
        raw = x[..., self.k - 1:]
        e = torch.cat([h, raw], dim=1)
        e = F.avg_pool1d(e * e, self.pool, self.pool)
        e = torch.log(e + _EPS)
        z = F.gelu(self.bn1(self.conv1(e)))
        z = F.gelu(self.bn2(self.conv2(z)))
        return z.mean(-1)


class MultiHorizonTrunk(nn.Module):
    """Parallel branches over the last ``horizons`` samples, concatenated: (B, C, L) -> (B, filters x n_horizons)."""

    def __init__(self, c_in: int, filters: int, horizons: list[int]) -> None:
        super().__init__()
        self.branches = nn.ModuleList([_Branch(c_in, filters, h) for h in horizons])
        self.out_features = filters * len(horizons)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([b(x) for b in self.branches], dim=1)


class MHCNN(GestureModel):
    """Multi-horizon CNN classifier.

    Parameters
    ----------
    horizons_ms : list of float
        Lengths of the branches' windows, ms; the longest is the model's history.
    filters : int
        Filters per branch.
    hidden : int
        Width of the head's hidden layer.
    dropout : float
    """

    name = "mhcnn"

    def __init__(self, n_channels: int, n_targets: int, fs: float, horizons_ms: list[float] | None = None,
                 filters: int = 24, hidden: int = 64, dropout: float = 0.3) -> None:
        super().__init__(n_channels, n_targets, fs)
        self.horizons_ms = [float(h) for h in (horizons_ms or MHCNN_DEFAULTS["horizons_ms"])]
        self.filters, self.hidden, self.dropout = int(filters), int(hidden), float(dropout)
        self._horizons = [_samples(h, fs, 8) for h in self.horizons_ms]
        self.trunk = MultiHorizonTrunk(n_channels, self.filters, self._horizons)
        self.drop = nn.Dropout(self.dropout)
        self.fc = nn.Linear(self.trunk.out_features, self.hidden)
        self.head = nn.Linear(self.hidden, n_targets)

    @property
    def history(self) -> int:
        return max(self._horizons)

    def config(self) -> dict:
        return {"horizons_ms": self.horizons_ms, "filters": self.filters, "hidden": self.hidden,
                "dropout": self.dropout}

    def head_modules(self) -> list[nn.Module]:
        return [self.head]

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The head's input (B, hidden)."""
        return F.gelu(self.fc(self.drop(self.trunk(self.crop(x)))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.drop(self.embed(x)))


class PrototypeNet(GestureModel):
    """Windows and classes embedded on one unit sphere; scores are scaled cosine similarities to class prototypes.

    Parameters
    ----------
    horizons_ms, filters, dropout
        As :class:`MHCNN`.
    embed : int
        Embedding size.
    scale : float
        Initial scale of the cosine scores (a learned temperature).
    """

    name = "proto"

    def __init__(self, n_channels: int, n_targets: int, fs: float, horizons_ms: list[float] | None = None,
                 filters: int = 24, embed: int = 32, dropout: float = 0.3, scale: float = 12.0) -> None:
        super().__init__(n_channels, n_targets, fs)
        self.horizons_ms = [float(h) for h in (horizons_ms or PROTO_DEFAULTS["horizons_ms"])]
        self.filters, self.embed_dim, self.dropout, self.scale0 = int(filters), int(embed), float(dropout), float(scale)
        self._horizons = [_samples(h, fs, 8) for h in self.horizons_ms]
        self.trunk = MultiHorizonTrunk(n_channels, self.filters, self._horizons)
        self.drop = nn.Dropout(self.dropout)
        self.proj = nn.Sequential(nn.Linear(self.trunk.out_features, 64), nn.GELU(), nn.Linear(64, self.embed_dim))
        g = torch.Generator().manual_seed(1234)
        self.prototypes = nn.Parameter(F.normalize(torch.randn(n_targets, self.embed_dim, generator=g), dim=1))
        self.log_scale = nn.Parameter(torch.tensor(math.log(self.scale0)))

    @property
    def history(self) -> int:
        return max(self._horizons)

    def config(self) -> dict:
        return {"horizons_ms": self.horizons_ms, "filters": self.filters, "embed": self.embed_dim,
                "dropout": self.dropout, "scale": self.scale0}

    def head_modules(self) -> list[nn.Module]:
        return [self.proj]

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Unit-length embeddings (B, embed)."""
        return F.normalize(self.proj(self.drop(self.trunk(self.crop(x)))), dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.log_scale.exp() * self.embed(x) @ F.normalize(self.prototypes, dim=1).T

    @torch.no_grad()
    def update_prototypes(self, emb: np.ndarray, y: np.ndarray, weight: float = 0.7) -> list[int]:
        """Move each class's prototype towards the mean embedding of that class's windows (calibration).

        Parameters
        ----------
        emb : array (n, embed)
            Unit embeddings of calibration windows (:meth:`embed`).
        y : int array (n,)
            Their classes.
        weight : float
            0 keeps the trained prototype, 1 replaces it by the person's mean.

        Returns
        -------
        list of int
            Classes that were updated (those with windows).
        """
        P = F.normalize(self.prototypes, dim=1).clone()
        emb = torch.as_tensor(np.asarray(emb), dtype=P.dtype)
        y = np.asarray(y, np.int64)
        done = []
        for k in range(self.n_targets):
            sel = torch.as_tensor(y == k)
            if not bool(sel.any()):
                continue
            mk = F.normalize(emb[sel].mean(0), dim=0)
            P[k] = F.normalize((1 - weight) * P[k] + weight * mk, dim=0)
            done.append(k)
        self.prototypes.copy_(P)
        return done


def register_all(register) -> None:
    """Add the gesture models to the model registry (called by :mod:`asha_app.models.registry`)."""
    register("lda", LDAClassifier, LDA_DEFAULTS)
    register("mhcnn", MHCNN, MHCNN_DEFAULTS)
    register("mlp", FeatureMLP, MLP_DEFAULTS)
    register("mlpx", CrossUserMLP, MLPX_DEFAULTS)
    register("proto", PrototypeNet, PROTO_DEFAULTS)
