"""Live gesture worker: EMG ring -> gesture runner -> majority vote -> latest-decision slot.

The worker owns its :class:`~asha_app.core.ringbuffer.RingReader` on the
acquisition ``emg`` ring (``raw``, ``t``, ``marker``), feeds a
:class:`~asha_app.gestures.streaming.GestureRunner` (streaming == batch; one
decision every 40 ms by default), votes with a
:class:`~asha_app.gestures.streaming.MajorityVote` over the active gesture set and
puts the newest :class:`LiveGesture` into a :class:`~asha_app.core.slot.LatestSlot`;
``decision_ready`` (no payload) wakes the GUI, which takes the newest one, so
decisions the GUI cannot show in time are skipped, never queued.

``t_seen`` is ``time.perf_counter()`` when the read that delivered the window's
last sample returned; the panel stamps when it has painted the label, so the
latency it reports is ring -> pixels.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import Signal

from asha_app.core.errors import AshaError
from asha_app.core.ringbuffer import RingBuffer
from asha_app.core.slot import LatestSlot
from asha_app.gestures.streaming import DECISION_MS, VOTE_N, GestureRunner, MajorityVote
from asha_app.models.checkpoint import Checkpoint
from asha_app.workers.base import Worker

log = logging.getLogger(__name__)


@dataclass
class LiveGesture:
    """One published decision.

    Attributes
    ----------
    seq : int
    name : str
        The voted gesture.
    index : int
        Its class index.
    probs : float32 array (n_classes,)
        Vote-averaged probabilities over the active set (0 for inactive gestures).
    raw_name : str
        The window's own decision before the vote.
    t : float
        Session time of the window's last sample, s.
    t_seen : float
        ``time.perf_counter()`` when the worker read that sample.
    marker : float
        Last marker code seen on the stream up to that sample (0: none yet).
    """

    seq: int
    name: str
    index: int
    probs: np.ndarray
    raw_name: str
    t: float
    t_seen: float
    marker: float = 0.0


class GestureWorker(Worker):
    """Runs a gesture checkpoint on the live EMG ring.

    Parameters
    ----------
    ckpt : Checkpoint
        A gesture classifier (``target_kind == "gesture"``).
    emg_ring : RingBuffer
    decision_ms : float
        Time between decisions, ms.
    vote_n : int
        Decisions in the majority vote.
    active : list of str, optional
        Active gestures (default all).
    poll_s : float
        Ring polling interval, s.

    Signals
    -------
    decision_ready()
        A new decision is in :attr:`slot`.
    status(dict)
        ``{"decisions", "rate_hz", "lost"}`` about 4 times a second.
    error(str)
        A user-facing message; the worker stops.
    """

    decision_ready = Signal()
    status = Signal(dict)
    error = Signal(str)

    def __init__(self, ckpt: Checkpoint, emg_ring: RingBuffer, decision_ms: float = DECISION_MS,
                 vote_n: int = VOTE_N, active: list[str] | None = None, poll_s: float = 0.002, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("GestureWorker")
        self.ckpt = ckpt
        self.ring = emg_ring
        self.decision_ms = float(decision_ms)
        self.poll_s = float(poll_s)
        self.classes = list(ckpt.target_names)
        self.vote = MajorityVote(self.classes, vote_n, active)  # raises GestureError for an unknown gesture
        self.slot = LatestSlot()
        self.decisions = 0
        self._pending: tuple | None = None
        self._lock = threading.Lock()
        self._reader = emg_ring.reader()

    def set_active(self, active: list[str] | None) -> None:
        """Change the active gesture set (any thread; applied before the next decision).

        Raises
        ------
        GestureError
            A gesture the model was not trained on, or an empty set (checked here, at once).
        """
        MajorityVote(self.classes, 1, active)  # validate in the caller's thread: the message reaches the user
        with self._lock:
            self._pending = ("active", active)

    def set_vote(self, n: int) -> None:
        """Change the number of decisions voted over (any thread)."""
        with self._lock:
            self._pending = ("vote", max(1, int(n)))

    def _apply_pending(self) -> None:
        with self._lock:
            p, self._pending = self._pending, None
        if p is None:
            return
        if p[0] == "active":
            self.vote.set_active(p[1])
        else:
            active = [c for c, a in zip(self.classes, self.vote.active, strict=True) if a]
            self.vote = MajorityVote(self.classes, p[1], active)

    def run(self) -> None:
        try:
            import torch  # noqa: PLC0415 - torch on first use

            torch.set_num_threads(1)
            runner = GestureRunner.from_checkpoint(self.ckpt, self.decision_ms)
        except (AshaError, RuntimeError, ValueError) as exc:
            self.error.emit(f"the gesture model cannot run: {exc}")
            return
        seq = 0
        marker = 0.0
        last_status = rate_t = time.perf_counter()
        rate_n = 0
        while not self.isInterruptionRequested():
            self._apply_pending()
            r = self._reader.read()
            if r.n == 0:
                time.sleep(self.poll_s)
            else:
                t_seen = time.perf_counter()
                if r.lost:  # fell behind the ring: the window would join two distant stretches
                    runner.reset()
                    self.vote.reset()
                raw = r.data["raw"]
                try:
                    idx, scores = runner.process(raw)
                except (RuntimeError, ValueError) as exc:
                    self.error.emit(f"gesture recognition failed: {exc}")
                    return
                if "marker" in r.data:
                    codes = r.data["marker"][:, 0]
                else:
                    codes = np.zeros(r.n)
                if len(idx):
                    d = self.vote.push(scores)
                    rows = idx - (runner.count - r.n)  # rows of this read
                    last = int(rows[-1])
                    nz = np.flatnonzero(codes[: last + 1])
                    if len(nz):
                        marker = float(codes[nz[-1]])
                    seq += 1
                    rate_n += len(idx)
                    self.decisions += len(idx)
                    self.slot.put(LiveGesture(seq, d.name, d.index, d.probs, self.classes[d.raw_index],
                                              float(r.data["t"][last, 0]), t_seen, marker))
                    self.decision_ready.emit()
                nz = np.flatnonzero(codes)
                if len(nz):
                    marker = float(codes[nz[-1]])
            now = time.perf_counter()
            if now - last_status >= 0.25:
                self.status.emit({"decisions": self.decisions, "rate_hz": rate_n / max(1e-6, now - rate_t),
                                  "lost": self._reader.lost_total})
                rate_n, rate_t, last_status = 0, now, now


class GestureCalibrationWorker(Worker):
    """Adapts a gesture checkpoint to a calibration recording off the GUI thread.

    Runs :func:`asha_app.gestures.calibrate.calibrate_gestures`; :attr:`result` holds the
    :class:`~asha_app.gestures.calibrate.GestureCalibration` when ``finished`` fires, or
    ``error`` carries the user-facing message.
    """

    error = Signal(str)

    def __init__(self, ckpt: Checkpoint, recording, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("GestureCalibrationWorker")
        self.ckpt = ckpt
        self.recording = recording
        self.result = None

    def run(self) -> None:
        from asha_app.gestures.calibrate import calibrate_gestures  # noqa: PLC0415 - torch, scipy.signal on first use

        try:
            import torch  # noqa: PLC0415 - torch on first use

            torch.set_num_threads(1)
            self.result = calibrate_gestures(self.ckpt, self.recording)
        except AshaError as exc:
            self.error.emit(str(exc))
