"""Live inference worker: EMG ring -> :class:`~asha_app.inference.pipeline.PoseStream` -> latest-pose slot.

The worker owns its :class:`~asha_app.core.ringbuffer.RingReader` on the
acquisition ``emg`` ring (``raw`` field, package numbers, session times) and
feeds every chunk it reads to a Qt-free
:class:`~asha_app.inference.pipeline.PoseStream` (streaming model == batch, One
Euro smoothing, input monitor, the hands: joint angles, joints and skinning
inputs of the EMG hand and the live demo's reference hand), built in this
thread.  The newest :class:`~asha_app.inference.pipeline.LivePose` goes into a
:class:`~asha_app.core.slot.LatestSlot` (``get()`` -> ``(count, pose)``).  A
``pose_ready`` signal (no payload, one per pose) wakes the GUI, which takes the
newest pose from the slot: poses the GUI cannot draw in time are skipped, never
queued.  ``status`` (<= 5 Hz) and the base's ``error(message, traceback)``
(:mod:`asha_app.workers.base`) are the only other signals.

Timing: ``t_seen`` of a pose is ``time.perf_counter()`` when the worker's read
returned the sample the pose belongs to (the ring's write happened at most
one polling interval, 2 ms, before); the GUI stamps when the frame showing the
pose has been painted, so the latency measured is ring -> pixels.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections import deque

import torch
from PySide6.QtCore import Signal

from asha_app.core.errors import AshaError
from asha_app.core.ringbuffer import RingBuffer
from asha_app.core.slot import LatestSlot
from asha_app.inference.hands import LiveHands
from asha_app.inference.ood import InputMonitor
from asha_app.inference.pipeline import DEFAULT_SMOOTHING, PoseStream
from asha_app.models.checkpoint import Checkpoint
from asha_app.workers.base import Worker

log = logging.getLogger(__name__)

class InferenceWorker(Worker):
    """Runs a checkpoint on the live EMG ring.

    Parameters
    ----------
    ckpt : Checkpoint
        The model (its normalisation and filter are used unchanged).
    emg_ring : RingBuffer
        The acquisition ring (fields ``t``, ``raw``, ``package`` used).
    decimation : int
        Ring rows per model sample (the live demo: 10, 500 Hz -> 50 Hz).
    stride : int
        Model samples per output.
    monitor : InputMonitor, optional
        Calibration statistics for the confidence indicator.
    smoothing : dict, optional
        One Euro parameters (``min_cutoff``, ``beta``, ``d_cutoff``) in target units.
    poll_s : float
        Ring polling interval.
    keep_history : int
        Keep the last this many model outputs in :attr:`history` (tests, benchmarks; 0: none).
    hands : LiveHands, optional
        Pose -> hand and the live demo's reference hand (Qt-free; used in this thread only).

    Signals
    -------
    pose_ready()
        A new pose is in :attr:`slot` (emitted once per pose).
    status(dict)
        ``{"poses", "rate_hz", "lost", "restarts"}`` about 4 times a second.
    error(str, str)
        A user-facing message and a traceback text; the worker stops.
    """

    pose_ready = Signal()
    status = Signal(dict)

    task = "live inference"
    stop_timeout_ms = 3000

    def __init__(self, ckpt: Checkpoint, emg_ring: RingBuffer, decimation: int = 1, stride: int = 1,
                 monitor: InputMonitor | None = None, smoothing: dict | None = None, poll_s: float = 0.002,
                 keep_history: int = 0, hands: LiveHands | None = None, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("InferenceWorker")
        self.ckpt = ckpt
        self.ring = emg_ring
        self.decimation = int(decimation)
        self.stride = int(stride)
        self.monitor = monitor
        self.smoothing = smoothing or DEFAULT_SMOOTHING
        self.poll_s = float(poll_s)
        self.slot = LatestSlot()
        self.hands = hands
        #: every model output kept for tests/benchmarks when keep_history > 0 (bounded deque)
        self.history: deque = deque(maxlen=max(1, keep_history)) if keep_history else deque(maxlen=1)
        self.keep_history = keep_history
        #: the Qt-free pipeline, built in the thread (tracing the model takes a moment)
        self.stream: PoseStream | None = None
        #: reads that returned data (published poses = reads with an output)
        self.reads = 0
        self._reader = emg_ring.reader()

    @property
    def runner(self):
        """The stream's :class:`~asha_app.inference.runner.DecimatedRunner` (None until the thread built it)."""
        return self.stream.runner if self.stream is not None else None

    @property
    def outputs(self) -> int:
        """Model outputs computed so far."""
        return self.stream.outputs if self.stream is not None else 0

    def work(self) -> None:
        try:
            torch.set_num_threads(1)
            stream = PoseStream(self.ckpt, self.decimation, self.stride, self.monitor, self.smoothing, self.hands,
                                self.history if self.keep_history else None)
        except (AshaError, RuntimeError, ValueError) as exc:
            self.fail(f"the model cannot run: {exc}", traceback.format_exc())
            return
        self.stream = stream
        last_status = time.perf_counter()
        rate_n, rate_t = 0, last_status
        while not self.isInterruptionRequested():
            r = self._reader.read()
            if r.n == 0:
                time.sleep(self.poll_s)
            else:
                t_seen = time.perf_counter()
                self.reads += 1
                d = r.data
                try:
                    lp = stream.process(d["raw"], d["t"][:, 0], d["package"][:, 0] if "package" in d else None,
                                        r.start, t_seen)
                except (RuntimeError, ValueError) as exc:
                    self.fail(f"live inference failed: {exc}", traceback.format_exc())
                    return
                if lp is not None:
                    rate_n += 1
                    self.slot.put(lp)
                    self.pose_ready.emit()
            now = time.perf_counter()
            if now - last_status >= 0.25:
                self.status.emit({"poses": stream.seq, "rate_hz": rate_n / max(1e-6, now - rate_t),
                                  "lost": self._reader.lost_total, "restarts": stream.restarts})
                rate_n, rate_t, last_status = 0, now, now
