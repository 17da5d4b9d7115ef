"""Live gesture decisions: the training pipeline run chunk by chunk, with a vote against flicker.

:class:`GestureRunner` carries the causal filter state, the normalisation state
(fixed statistics or :class:`~asha_app.dsp.running_norm.RunningNorm`) and the
last ``history - 1`` normalised samples between calls; at every ``stride``-th
sample it scores the window ending there.  The scores at sample ``i`` equal the
model applied to the offline-normalised window ending at ``i`` (tests check
streaming == batch for every classifier).

:class:`MajorityVote` turns per-window decisions into the displayed gesture:
the most frequent decision over the last ``n`` windows (ties go to the most
recent of the tied classes), and the displayed confidences are the class
probabilities (softmax over the active set) averaged over the same windows.
At the default 25 decisions/s and ``n = 5`` the vote spans 200 ms, so a new
gesture shows after at most 3 agreeing windows (~120 ms).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
import torch

from asha_app.dsp.filters import StreamingFilter
from asha_app.gestures.models import GestureModel, masked_argmax, masked_softmax
from asha_app.gestures.train import check_subset, norm_of
from asha_app.models.checkpoint import Checkpoint
from asha_app.models.streaming import StridedWindows

#: default decision stride, ms (25 decisions per second)
DECISION_MS = 40.0
#: default vote length, decisions
VOTE_N = 5


class GestureRunner:
    """Chunk-in, scores-out gesture classification with state carried between calls.

    Parameters
    ----------
    model : GestureModel
    filter_spec : FilterSpec
    norm : GestureNorm
    fs : float
        Hz.
    stride : int
        Score every ``stride`` samples (at global indices ``i >= history - 1`` with ``i % stride == phase``).
    phase : int, optional
        Default ``(history - 1) % stride``.
    """

    def __init__(self, model: GestureModel, filter_spec, norm, fs: float, stride: int = 1,
                 phase: int | None = None) -> None:
        self.model = model.eval()
        self.history = int(model.history)
        self.fs = float(fs)
        self.filter = StreamingFilter(filter_spec, model.n_channels)
        self.norm = norm.streamer(fs)
        self.windows = StridedWindows(model.n_channels, self.history, stride, phase)
        self.stride, self.phase = self.windows.stride, self.windows.phase
        self.reset()

    @classmethod
    def from_checkpoint(cls, ck: Checkpoint, decision_ms: float = DECISION_MS) -> GestureRunner:
        """A runner for a gesture checkpoint, deciding every ``decision_ms`` ms."""
        stride = max(1, int(round(decision_ms * ck.fs / 1000.0)))
        return cls(ck.build_model(), ck.filter_spec, norm_of(ck), ck.fs, stride=stride)

    def reset(self) -> None:
        """Start a new signal (filter, normalisation and window buffer forgotten)."""
        self.filter.reset()
        self.norm.reset()
        self.windows.reset()

    @property
    def count(self) -> int:
        """Samples fed since :meth:`reset`."""
        return self.windows.count

    @torch.no_grad()
    def process(self, raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Feed the next raw chunk.

        Parameters
        ----------
        raw : array (n_samples, n_channels)
            Raw EMG in the recording's units.

        Returns
        -------
        sample_index : int64 array (k,)
            Global index (since :meth:`reset`) of the sample each decision belongs to.
        scores : float32 array (k, n_classes)
            Class scores (logits) of the windows ending there.
        """
        xn = self.norm.process(self.filter.process(raw)).astype(np.float32)
        n = len(xn)
        K = self.model.n_targets
        if n == 0:
            return np.zeros(0, np.int64), np.zeros((0, K), np.float32)
        ends, windows = self.windows.push(xn)
        if len(ends) == 0:
            return ends, np.zeros((0, K), np.float32)
        # a NaN sample (flagged on the scopes) must not freeze the decision
        x = torch.nan_to_num(torch.from_numpy(windows))
        return ends, self.model(x).numpy()


@dataclass
class Decision:
    """What the live view shows after a window.

    Attributes
    ----------
    index : int
        The winning class (index into the model's classes).
    name : str
    probs : float32 array (n_classes,)
        Softmax over the active classes averaged over the vote (0 for inactive ones).
    raw_index : int
        This window's own decision, before the vote.
    """

    index: int
    name: str
    probs: np.ndarray
    raw_index: int


class MajorityVote:
    """Majority vote over the last ``n`` per-window decisions, restricted to an active gesture set.

    Parameters
    ----------
    classes : list of str
    n : int
        Decisions voted over (1: no smoothing).
    active : list of str, optional
        Active gestures (default all); see :meth:`set_active`.
    """

    def __init__(self, classes: list[str], n: int = VOTE_N, active: list[str] | None = None) -> None:
        self.classes = list(classes)
        self.n = max(1, int(n))
        self.set_active(active)

    def set_active(self, active: list[str] | None) -> None:
        """Change the active set (raises :class:`~asha_app.gestures.train.GestureError` for unknown names)."""
        self.active = check_subset(self.classes, active)
        self.reset()

    def reset(self) -> None:
        """Forget the recent decisions."""
        self._dec: deque[int] = deque(maxlen=self.n)
        self._prob: deque[np.ndarray] = deque(maxlen=self.n)

    def push(self, scores: np.ndarray) -> Decision | None:
        """Add windows' scores (k, K) in time order; returns the decision after the last one (None if k == 0)."""
        scores = np.asarray(scores)
        if scores.ndim == 1:
            scores = scores[None, :]
        if len(scores) == 0:
            return None
        raw = masked_argmax(scores, self.active)
        probs = masked_softmax(scores, self.active)
        for r, p in zip(raw, probs, strict=True):
            self._dec.append(int(r))
            self._prob.append(p)
        counts = np.bincount(np.fromiter(self._dec, np.int64), minlength=len(self.classes))
        best = np.flatnonzero(counts == counts.max())
        win = next(d for d in reversed(self._dec) if d in best)
        return Decision(int(win), self.classes[win], np.mean(self._prob, axis=0).astype(np.float32), int(raw[-1]))
