"""The seed system's Conv1D + LSTM regressor, reproduced exactly.

Architecture (input: normalised EMG windows (B, 8, 50): 100 ms at 500 Hz in
the seed system):

* Conv1d(C -> 64, kernel 5, 'same' padding) + BatchNorm1d + ReLU + MaxPool1d(2)
* Conv1d(64 -> 128, kernel 5, 'same' padding) + BatchNorm1d + ReLU + MaxPool1d(2)
* LSTM, 2 layers, hidden 256, over the remaining time steps (batch first)
* last time step -> Linear(256 -> 128) + ReLU -> Linear(128 -> n_targets)
  (63 joint coordinates in the seed; any target count here)

About 1.0 M parameters with 63 outputs.  Only the input length (``window_ms``
converted with ``fs``) and the channel count adapt to the data.  The padded
convolutions see the whole window, so the output depends on all
``history`` samples; streaming runs the model on a ring of the last
``history`` samples.
"""

from __future__ import annotations

import torch
from torch import nn

from asha_app.models.base import EmgModel

DEFAULTS = {"window_ms": 100.0}


class SeedConvLSTM(EmgModel):
    """Conv1D + LSTM of the seed system.

    Parameters
    ----------
    window_ms : float
        Input length, ms (100 ms = 50 samples at 500 Hz in the seed).
    """

    name = "seed"

    def __init__(self, n_channels: int, n_targets: int, fs: float, window_ms: float = 100.0) -> None:
        super().__init__(n_channels, n_targets, fs)
        self.window_ms = float(window_ms)
        self._history = max(4, int(round(window_ms * fs / 1000.0)))
        self.conv = nn.Sequential(
            nn.Conv1d(n_channels, 64, 5, padding=2), nn.BatchNorm1d(64), nn.ReLU(), nn.MaxPool1d(2),
            nn.Conv1d(64, 128, 5, padding=2), nn.BatchNorm1d(128), nn.ReLU(), nn.MaxPool1d(2),
        )
        self.lstm = nn.LSTM(128, 256, num_layers=2, batch_first=True)
        self.fc = nn.Sequential(nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, n_targets))

    @property
    def history(self) -> int:
        return self._history

    def config(self) -> dict:
        return {"window_ms": self.window_ms}

    def head_modules(self) -> list[nn.Module]:
        return [self.fc]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv(self.crop(x))  # (B, 128, L/4)
        out, _ = self.lstm(h.transpose(1, 2))
        return self.fc(out[:, -1])
