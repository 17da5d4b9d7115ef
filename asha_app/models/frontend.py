"""Input front ends shared by the models: log amplitude of envelope inputs, and training-time augmentation.

Models receive EMG normalised per channel with the training data's mean and
standard deviation (:class:`asha_app.data.normalisation.Normalizer`).  For inputs
that are already amplitude envelopes (NinaPro DB1's Otto Bock electrodes
deliver an RMS envelope; the seed reference used ``log(1 + x)`` inputs) the
informative quantity is the *logarithm* of the amplitude, which needs the
amplitude's zero: in normalised units that is the channel's quietest level.
:class:`LogAmplitude` learns it from the first training batch (a data-dependent
initialisation in the manner of ActNorm, Kingma & Dhariwal, 2018, "Glow") and
stores it with the weights, so the training loop needs no extra step and
inference uses exactly the training transform.

:class:`ElectrodeShiftAugment` changes each training window's channel gains
and, for armbands with electrodes evenly spaced around the forearm, rotates
the ring by a random number of electrodes: what a new person, or the same
person donning the armband again, looks like to a trained model.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class LogAmplitude(nn.Module):
    """``log(eps + relu(x - floor_c))`` per channel of normalised EMG (B, C, L).

    ``floor_c`` (normalised units) is the minimum of channel ``c`` over the
    first batch seen in training mode; ``eps`` (normalised units, i.e. a
    fraction of the channel's standard deviation) keeps the log finite at rest.

    Parameters
    ----------
    n_channels : int
    eps : float
    """

    def __init__(self, n_channels: int, eps: float = 0.03) -> None:
        super().__init__()
        self.eps = float(eps)
        self.floor: torch.Tensor
        self.floor_ready: torch.Tensor
        self.register_buffer("floor", torch.zeros(n_channels))
        self.register_buffer("floor_ready", torch.tensor(False))

    def init_from(self, x: torch.Tensor) -> None:
        """Set the floor from a batch (B, C, L) when in training mode and not set yet."""
        if self.training and not bool(self.floor_ready):
            with torch.no_grad():
                self.floor.copy_(x.detach().amin(dim=(0, 2)))
                self.floor_ready.fill_(True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.init_from(x)
        return torch.log(self.eps + F.relu(x - self.floor[:, None]))


class ElectrodeShiftAugment(nn.Module):
    """Training-time augmentation of normalised EMG windows (B, C, L); identity in eval mode.

    Parameters
    ----------
    gain_std : float
        Standard deviation of the per-window, per-channel log gain (0: off).
        The gain scales the amplitude above the floor of ``floor_from`` when
        given (envelope inputs), else the signal itself (raw sEMG).
    ring : int
        The first ``ring`` channels are electrodes evenly spaced around the
        forearm; each window's ring is rotated by -1, 0 or +1 electrode with
        probability ``rotate_p`` (0: off).
    rotate_p : float
    floor_from : LogAmplitude, optional
    """

    def __init__(self, gain_std: float = 0.0, ring: int = 0, rotate_p: float = 0.0,
                 floor_from: LogAmplitude | None = None) -> None:
        super().__init__()
        self.gain_std = float(gain_std)
        self.ring = int(ring)
        self.rotate_p = float(rotate_p)
        self._floor = [floor_from]  # a list: not a registered submodule (no duplicate state)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return x
        b, c, _ = x.shape
        if self.ring > 1 and self.rotate_p > 0:
            shift = torch.randint(-1, 2, (b,)) * (torch.rand(b) < self.rotate_p)
            idx = torch.arange(c).repeat(b, 1)
            ring = torch.arange(self.ring)
            idx[:, :self.ring] = (ring[None, :] - shift[:, None]) % self.ring
            x = torch.gather(x, 1, idx[:, :, None].expand_as(x))
        if self.gain_std > 0:
            g = torch.exp(self.gain_std * torch.randn(b, c, 1))
            fl = self._floor[0]
            if fl is not None and bool(fl.floor_ready):
                f = fl.floor[None, :, None]
                x = f + g * (x - f)
            else:
                x = g * x
        return x
