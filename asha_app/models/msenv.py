"""Multi-scale envelope network (``msenv``): log envelopes averaged over several time scales, then an MLP.

Why this design: hand pose follows the *amplitude* of the forearm muscles'
activity, and a held pose is better told apart by how the amplitude evolved
over the last seconds than by the last few samples (measured on NinaPro DB1:
context up to 3.2 s beats 1.6 s, which beats 0.8 s; docs/models.md).  Box
averages of the log envelope over nested windows (10 ms ... 3.2 s) are a
cheap, fixed temporal filter bank that sees that far back at any sampling
rate, in the spirit of the multi-window features of the NinaPro literature
(Atzori et al., 2014) and the multi-scale temporal features of EMG-FK's
Temporal Riemannian Regressor (Colot et al.); a small MLP maps them to the
pose.

Pipeline (input: normalised EMG windows (B, C, L), L >= :attr:`history`):

1. two amplitude paths per channel, each averaged over ``smooth_ms``:
   a learned monotone rectifier ``softplus(a_c x + b_c)`` (suits inputs that
   are already envelopes, such as NinaPro DB1's RMS electrodes; for raw sEMG it
   is a half-wave rectifier), and the energy ``x^2`` (raw sEMG); then
   ``log(eps + .)``;
2. the mean of each log envelope over the last ``scales_ms`` (box filters,
   all ending at the current sample);
3. BatchNorm over those features (re-estimated on a new person's data by the
   ``bn_head`` calibration strategy: a per-person input normalisation), an
   MLP (``depth`` layers of ``hidden`` units, GELU, dropout) and a linear head.

Batch and streaming computation coincide by construction: the output at
sample ``t`` depends on exactly the ``history`` samples ending at ``t``, and
:meth:`MultiScaleEnvelopeNet.forward_chunk` carries running sums between calls
so each new sample costs O(1) in the window length.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from asha_app.models.base import EmgModel
from asha_app.models.frontend import LogAmplitude

DEFAULTS: dict[str, Any] = {
    "scales_ms": [10.0, 50.0, 100.0, 200.0, 400.0, 800.0, 1600.0, 3200.0, 6400.0], "smooth_ms": 50.0,
    "hidden": 256, "depth": 2, "dropout": 0.2, "gain_std": 0.0, "ring": 0, "rotate_p": 0.0}
_EPS = 1e-3


class MultiScaleEnvelopeNet(EmgModel):
    """Log envelopes at several time scales + MLP.

    Parameters
    ----------
    scales_ms : list of float
        Averaging windows of the log envelopes, ms (converted with ``fs``; at least one sample each).
    smooth_ms : float
        Moving mean of the rectified signal and of the energy before the log, ms.
    hidden : int
        Units per MLP layer.
    depth : int
        MLP layers (0: a linear map of the features).
    dropout : float
        Dropout after each MLP layer.
    gain_std, ring, rotate_p : float, int, float
        Training-time electrode-shift augmentation, applied to the features
        (:meth:`augment_features`; off by default): per-window, per-channel log
        gains of standard deviation ``gain_std``, and the first ``ring``
        channels (electrodes evenly spaced around the forearm) rotated by -1, 0
        or +1 electrode with probability ``rotate_p``.
    """

    name = "msenv"

    def __init__(self, n_channels: int, n_targets: int, fs: float, scales_ms: list[float] | None = None,
                 smooth_ms: float = 50.0, hidden: int = 256, depth: int = 2, dropout: float = 0.2,
                 gain_std: float = 0.0, ring: int = 0, rotate_p: float = 0.0) -> None:
        super().__init__(n_channels, n_targets, fs)
        scales: list[float] = [float(s) for s in (scales_ms if scales_ms is not None else DEFAULTS["scales_ms"])]
        self.cfg: dict[str, Any] = {
                    "scales_ms": scales, "smooth_ms": float(smooth_ms), "hidden": int(hidden),
                    "depth": int(depth), "dropout": float(dropout), "gain_std": float(gain_std), "ring": int(ring),
                    "rotate_p": float(rotate_p)}
        self.smooth = max(1, int(round(smooth_ms * fs / 1000.0)))
        self.scales = sorted({max(1, int(round(s * fs / 1000.0))) for s in scales})
        self.amp = LogAmplitude(n_channels)
        n_feat = 2 * n_channels * len(self.scales)
        self.feat_norm = nn.BatchNorm1d(n_feat)
        layers: list[nn.Module] = []
        width = n_feat
        for _ in range(int(depth)):
            layers += [nn.Linear(width, hidden), nn.GELU(), nn.Dropout(dropout)]
            width = hidden
        self.mlp = nn.Sequential(*layers)
        self.head = nn.Linear(width, n_targets)
        self._history = self.smooth + self.scales[-1] - 1

    @property
    def history(self) -> int:
        return self._history

    def config(self) -> dict:
        return {k: (list(v) if isinstance(v, list) else v) for k, v in self.cfg.items()}

    def head_modules(self) -> list[nn.Module]:
        return [self.head]

    # ------------------------------------------------------------------------------------------------ features
    def log_envelopes(self, x: torch.Tensor) -> torch.Tensor:
        """Normalised EMG (B, C, L) -> log envelopes (B, 2C, L - smooth + 1), the amplitude path first."""
        amp = self.amp(x)[..., self.smooth - 1:]
        energy = x * x
        if self.smooth > 1:
            energy = F.avg_pool1d(energy, self.smooth, stride=1)
        return torch.cat([amp, torch.log(_EPS + energy)], dim=1)

    def _multiscale(self, env: torch.Tensor) -> torch.Tensor:
        """Means of the last ``s`` samples of (B, 2C, L') for every scale -> (B, 2C * n_scales), scale-major."""
        return torch.cat([env[..., -s:].mean(-1) for s in self.scales], dim=1)

    def _from_features(self, f: torch.Tensor) -> torch.Tensor:
        return self.head(self.mlp(self.feat_norm(self.augment_features(f))))

    def augment_features(self, f: torch.Tensor) -> torch.Tensor:
        """Electrode-shift augmentation of features (B, 2C * n_scales) in training mode; identity in eval mode.

        A channel's gain ``g`` shifts its log envelopes by ``log g`` (amplitude
        path) and ``2 log g`` (energy path) at every scale (exact where the
        envelope is far above its floor ``eps``); rotating the ring of
        electrodes permutes the channels' features.  Working on features keeps
        training on cached features possible (:meth:`fixed_features`).
        """
        gain, rot = self.cfg["gain_std"], self.cfg["ring"] > 1 and self.cfg["rotate_p"] > 0
        if not self.training or not (gain > 0 or rot):
            return f
        b, c = f.shape[0], self.n_channels
        g = f.reshape(b, len(self.scales), 2, c)
        if rot:
            ring = self.cfg["ring"]
            shift = torch.randint(-1, 2, (b,)) * (torch.rand(b) < self.cfg["rotate_p"])
            idx = torch.arange(c).repeat(b, 1)
            idx[:, :ring] = (torch.arange(ring)[None, :] - shift[:, None]) % ring
            g = torch.gather(g, 3, idx[:, None, None, :].expand_as(g))
        if gain > 0:
            lg = gain * torch.randn(b, 1, 1, c)
            g = g + lg * torch.tensor([1.0, 2.0]).view(1, 1, 2, 1)
        return g.reshape(b, -1)

    def fixed_features(self, x: torch.Tensor) -> torch.Tensor:
        """Multi-scale log envelopes (B, 2C * n_scales) of normalised windows (B, C, L >= history), no augmentation.

        Parameter-free once the log-amplitude floor is set (:meth:`data_init`), so
        the training loop may cache them (:meth:`~asha_app.models.base.EmgModel.fixed_features`).
        """
        return self._multiscale(self.log_envelopes(self.crop(x)))

    def from_features(self, f: torch.Tensor) -> torch.Tensor:
        return self._from_features(f)

    @torch.no_grad()
    def fixed_features_sequence(self, x: torch.Tensor) -> torch.Tensor:
        """:meth:`fixed_features` of the windows ending at every sample of one continuous recording, in O(n).

        Parameters
        ----------
        x : tensor (n, C)
            Normalised EMG, time-major.

        Returns
        -------
        tensor (n, 2C * n_scales)
            Row ``t`` equals ``fixed_features`` of the window ``x[t - history + 1 : t + 1]``
            for ``t >= history - 1`` (running sums in float64); earlier rows are zero.
        """
        n = x.shape[0]
        out = torch.zeros(n, 2 * self.n_channels * len(self.scales))
        if n < self.history:
            return out
        env = self.log_envelopes(x.t()[None])[0].t().double()  # (n - smooth + 1, 2C): env[j] is sample j + smooth - 1
        c = torch.cat([torch.zeros(1, env.shape[1], dtype=torch.float64), torch.cumsum(env, 0)])
        e = torch.arange(self.history - self.smooth, env.shape[0])  # env rows of samples history - 1 .. n - 1
        out[self.history - 1:] = torch.cat([(c[e + 1] - c[e + 1 - s]) / s for s in self.scales], dim=1).float()
        return out

    def feature_cache_ok(self) -> bool:
        # a subclass with its own forward (e.g. a benchmark candidate) is not split this way
        return type(self).forward is MultiScaleEnvelopeNet.forward

    def without_augmentation(self) -> None:
        """Switch the electrode-shift augmentation off (fine-tuning on one person's calibration,
        :func:`asha_app.models.train.finetune`); :meth:`config` says so."""
        self.cfg.update(gain_std=0.0, rotate_p=0.0)

    def data_init(self, x: torch.Tensor, again: bool = False) -> None:
        if again:
            self.amp.floor_ready.fill_(False)
        was = self.amp.training
        self.amp.train()
        self.amp.init_from(self.crop(x))
        self.amp.train(was)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.crop(x)
        self.amp.init_from(x)
        return self._from_features(self._multiscale(self.log_envelopes(x)))

    # ------------------------------------------------------------------------------------------------ streaming
    def init_state(self) -> list[torch.Tensor]:
        """Zero context for :meth:`forward_chunk`: ``[raw x (smooth - 1, C), log envelopes (max scale, 2C)]``.

        Outputs of the first ``history - 1`` samples after this are warm-up.
        """
        return [torch.zeros(self.smooth - 1, self.n_channels), torch.zeros(self.scales[-1], 2 * self.n_channels)]

    def forward_chunk(self, x_new: torch.Tensor, *state: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Outputs for new samples, carrying context (use in eval mode, under no_grad).

        Parameters
        ----------
        x_new : tensor (n, C)
            Next normalised samples, time-major.
        *state : tensors
            From :meth:`init_state` or the previous call.

        Returns
        -------
        tuple
            ``(y, *new_state)`` with ``y`` (n, T), equal to ``forward`` on the
            ``history`` samples ending at each new sample once that many were seen.
        """
        x_ctx, env_ctx = state
        n = x_new.shape[0]
        xs = torch.cat([x_ctx, x_new], dim=0)  # (smooth - 1 + n, C)
        env_new = self.log_envelopes(xs.t()[None])[0].t()  # (n, 2C)
        env = torch.cat([env_ctx, env_new], dim=0)  # (S + n, 2C)
        c = torch.cat([torch.zeros(1, env.shape[1], dtype=env.dtype), torch.cumsum(env, 0)], dim=0)
        top = env.shape[0]
        ends = torch.arange(top - n + 1, top + 1)
        feats = [(c[ends] - c[ends - s]) / s for s in self.scales]  # (n, 2C) each
        y = self._from_features(torch.cat(feats, dim=1))
        return (y, xs[xs.shape[0] - x_ctx.shape[0]:], env[env.shape[0] - env_ctx.shape[0]:])
