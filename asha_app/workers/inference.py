"""Live inference worker: EMG ring -> streaming model -> One Euro smoothing -> latest-pose slot.

The worker owns its :class:`~asha_app.core.ringbuffer.RingReader` on the
acquisition ``emg`` ring (``raw`` field, package numbers, session times), feeds
a :class:`~asha_app.calibration.streaming.DecimatedRunner` (streaming ==
batch), smooths each output with a :class:`~asha_app.dsp.smoothing.OneEuroFilter`
and puts the newest pose into a :class:`~asha_app.core.slot.LatestSlot`.  A
``pose_ready`` signal (no payload, one per pose) wakes the GUI, which takes the
newest pose from the slot: poses the GUI cannot draw in time are skipped, never
queued.  ``status`` (<= 5 Hz) and ``error`` are the only other signals.

Timing: ``t_seen`` of a pose is ``time.perf_counter()`` when the worker's read
returned the sample the pose belongs to (the ring's write happened at most
one polling interval, 2 ms, before); the GUI stamps when the frame showing the
pose has been painted, so the latency measured is ring -> pixels.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import Signal

from asha_app.calibration.ood import InputMonitor
from asha_app.calibration.streaming import DecimatedRunner
from asha_app.core.errors import AshaError
from asha_app.core.ringbuffer import RingBuffer
from asha_app.core.slot import LatestSlot
from asha_app.dsp.smoothing import OneEuroFilter
from asha_app.models.checkpoint import Checkpoint
from asha_app.workers.base import Worker

log = logging.getLogger(__name__)


@dataclass
class LivePose:
    """One published pose.

    Attributes
    ----------
    seq : int
        Increases by one per published pose.
    pose : float64 array (n_targets,)
        Smoothed prediction in target units.
    raw_pose : float64 array (n_targets,)
        Unsmoothed prediction.
    t : float
        Session time of the sample it belongs to, s.
    package : float
        Package number of that sample.
    t_seen : float
        ``time.perf_counter()`` when the worker got that sample from the ring.
    confidence : dict
        :meth:`InputMonitor.assess` of the input at that time (empty without a monitor).
    angles, joints : arrays or None
        Hand-model joint angles (deg, (n_dof,)) and joints (mm, (21, 3)) of ``pose`` when the
        worker has a ``to_hand`` function (computed here, off the GUI thread).
    ref_angles, ref_joints : arrays or None
        The reference hand at this sample (live demo) from the ``reference`` function.
    """

    seq: int
    pose: np.ndarray
    raw_pose: np.ndarray
    t: float
    package: float
    t_seen: float
    confidence: dict
    angles: np.ndarray | None = None
    joints: np.ndarray | None = None
    ref_angles: np.ndarray | None = None
    ref_joints: np.ndarray | None = None


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
    to_hand : callable, optional
        ``pose (n_targets,) -> (angles_deg (n_dof,), joints_mm (21, 3))`` or None; run in this thread.
    reference : callable, optional
        ``package -> (angles_deg, joints_mm)`` or None: the reference hand (live demo).

    Signals
    -------
    pose_ready()
        A new pose is in :attr:`slot` (emitted once per pose).
    status(dict)
        ``{"poses", "rate_hz", "lost", "restarts"}`` about 4 times a second.
    error(str)
        A user-facing message; the worker stops.
    """

    pose_ready = Signal()
    status = Signal(dict)
    error = Signal(str)

    def __init__(self, ckpt: Checkpoint, emg_ring: RingBuffer, decimation: int = 1, stride: int = 1,
                 monitor: InputMonitor | None = None, smoothing: dict | None = None, poll_s: float = 0.002,
                 keep_history: int = 0, to_hand=None, reference=None, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("InferenceWorker")
        self.ckpt = ckpt
        self.ring = emg_ring
        self.decimation = int(decimation)
        self.stride = int(stride)
        self.monitor = monitor
        self.smoothing = smoothing or {"min_cutoff": 1.0, "beta": 0.02, "d_cutoff": 1.0}
        self.poll_s = float(poll_s)
        self.slot = LatestSlot()
        self.to_hand = to_hand
        self.reference = reference
        #: every model output kept for tests/benchmarks when keep_history > 0 (bounded deque)
        self.history: deque = deque(maxlen=max(1, keep_history)) if keep_history else deque(maxlen=1)
        self.keep_history = keep_history
        self.runner: DecimatedRunner | None = None
        #: model outputs computed, and reads that returned data (published poses = reads with an output)
        self.outputs = 0
        self.reads = 0
        self._reader = emg_ring.reader()

    def run(self) -> None:
        try:
            import torch

            torch.set_num_threads(1)
            self.runner = DecimatedRunner(self.ckpt.runner(stride=self.stride), self.decimation)
        except (AshaError, RuntimeError, ValueError) as exc:
            self.error.emit(f"the model cannot run: {exc}")
            return
        euro = OneEuroFilter(**self.smoothing)
        seq = 0
        last_status = time.perf_counter()
        rate_n, rate_t = 0, last_status
        restarts = self.runner.restarts
        while not self.isInterruptionRequested():
            r = self._reader.read()
            if r.n == 0:
                time.sleep(self.poll_s)
            else:
                t_seen = time.perf_counter()
                self.reads += 1
                raw = r.data["raw"]
                pk = r.data["package"][:, 0] if "package" in r.data else None
                try:
                    rows, poses = self.runner.process(raw, pk)
                except (RuntimeError, ValueError) as exc:
                    self.error.emit(f"live inference failed: {exc}")
                    return
                if self.runner.restarts != restarts:
                    restarts = self.runner.restarts
                    euro.reset()
                    if self.monitor is not None:
                        self.monitor.reset()
                if self.monitor is not None:
                    if self.decimation > 1 and pk is not None:
                        self.monitor.update(raw[np.mod(np.round(pk).astype(np.int64), self.decimation) == 0])
                    else:
                        self.monitor.update(raw[:: self.decimation])
                self.outputs += len(rows)
                if len(rows):
                    i = int(rows[-1])
                    t = float(r.data["t"][i, 0])
                    smooth = euro(poses[-1].astype(np.float64), t)
                    conf = self.monitor.assess() if self.monitor is not None else {}
                    seq += 1
                    rate_n += 1
                    package = float(pk[i]) if pk is not None else float(r.start + i)
                    ang, jts = self.to_hand(smooth) if self.to_hand is not None else (None, None)
                    ref = self.reference(package) if self.reference is not None else None
                    lp = LivePose(seq, smooth, poses[-1].astype(np.float64), t, package, t_seen, conf, ang, jts,
                                  *(ref if ref is not None else (None, None)))
                    self.slot.put(lp)
                    self.pose_ready.emit()
                    if self.keep_history:  # every output (tests, benchmarks); only the last one is smoothed
                        for j, row in enumerate(rows[:-1]):
                            p = poses[j].astype(np.float64)
                            self.history.append(LivePose(0, p, p, float(r.data["t"][row, 0]),
                                                         float(pk[row]) if pk is not None else float(r.start + row),
                                                         t_seen, {}))
                        self.history.append(lp)
            now = time.perf_counter()
            if now - last_status >= 0.25:
                self.status.emit({"poses": seq, "rate_hz": rate_n / max(1e-6, now - rate_t),
                                  "lost": self._reader.lost_total, "restarts": restarts})
                rate_n, rate_t, last_status = 0, now, now
