"""One chunk of the EMG ring in, the newest live pose out: everything the inference worker computes (Qt-free).

:class:`PoseStream` chains, for each chunk the worker reads from the
acquisition ring: the :class:`~asha_app.inference.runner.DecimatedRunner`
(streaming == batch; a playback file that loops starts a new signal), One Euro
smoothing of the newest output (:class:`~asha_app.dsp.smoothing.OneEuroFilter`),
the :class:`~asha_app.inference.ood.InputMonitor`'s confidence, and the hands
(:class:`~asha_app.inference.hands.LiveHands`: the EMG hand and, for the live
demo, the recorded reference hand).  The worker puts the :class:`LivePose` it
returns into a :class:`~asha_app.core.slot.LatestSlot`, which the GUI reads:
poses the GUI cannot draw in time are replaced, never queued.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from asha_app.dsp.smoothing import OneEuroFilter
from asha_app.inference.hands import LiveHands
from asha_app.inference.ood import InputMonitor
from asha_app.inference.runner import DecimatedRunner
from asha_app.pose.scene import HandPose

#: One Euro parameters of the live hand, in target units (degrees for angles)
DEFAULT_SMOOTHING = {"min_cutoff": 1.0, "beta": 0.02, "d_cutoff": 1.0}


@dataclass
class LivePose:
    """One published pose.

    Attributes
    ----------
    seq : int
        Increases by one per published pose (0: an unsmoothed history entry).
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
    hand : HandPose or None
        The hand of ``pose`` (joint angles, joints, bone scale) when the stream has :class:`LiveHands`.
    reference : HandPose or None
        The recorded reference hand at this sample (live demo).
    """

    seq: int
    pose: np.ndarray
    raw_pose: np.ndarray
    t: float
    package: float
    t_seen: float
    confidence: dict
    hand: HandPose | None = None
    reference: HandPose | None = None

    @property
    def angles(self) -> np.ndarray | None:
        """Hand-model joint angles (deg, (n_dof,)) of ``pose``, None without a hand."""
        return None if self.hand is None else self.hand.angles_deg

    @property
    def joints(self) -> np.ndarray | None:
        """The 21 hand-frame joints (mm, (21, 3)) of ``pose``, None without a hand."""
        return None if self.hand is None else self.hand.joints_mm


class PoseStream:
    """Chunks of the acquisition ring in, the newest smoothed pose (with its hands) out.

    Parameters
    ----------
    ckpt : Checkpoint
        The model (its normalisation and filter are used unchanged); its streaming
        runner is built here (a stateful model is traced, which takes a moment:
        build the stream in the thread that runs it).
    decimation : int
        Ring rows per model sample (the live demo: 10, 500 Hz -> 50 Hz).
    stride : int
        Model samples per output.
    monitor : InputMonitor, optional
        Calibration statistics for the confidence figure.
    smoothing : dict, optional
        One Euro parameters (default :data:`DEFAULT_SMOOTHING`).
    hands : LiveHands, optional
        Pose -> hand (and the reference hand); without, poses carry no hand.
    history : deque, optional
        When given, every model output is appended as a :class:`LivePose` (tests,
        benchmarks); only the newest of a chunk is smoothed and has hands.

    Raises
    ------
    AshaError, RuntimeError, ValueError
        The checkpoint's model cannot be built or traced.
    """

    def __init__(self, ckpt, decimation: int = 1, stride: int = 1, monitor: InputMonitor | None = None,
                 smoothing: dict | None = None, hands: LiveHands | None = None, history: deque | None = None) -> None:
        self.runner = DecimatedRunner(ckpt.runner(stride=stride), decimation)
        self.decimation = self.runner.factor
        self.monitor = monitor
        self.hands = hands
        self.history = history
        self.euro = OneEuroFilter(**(smoothing or DEFAULT_SMOOTHING))
        #: poses published (the seq of the last one)
        self.seq = 0
        #: model outputs computed
        self.outputs = 0
        self._restarts = self.runner.restarts

    @property
    def restarts(self) -> int:
        """Times the stream started a new signal (package numbers went back: a playback file looped)."""
        return self.runner.restarts

    def process(self, raw: np.ndarray, t: np.ndarray, package: np.ndarray | None = None, start: int = 0,
                t_seen: float = 0.0) -> LivePose | None:
        """Feed one chunk read from the ring.

        Parameters
        ----------
        raw : array (n, n_channels)
            Raw EMG rows.
        t : array (n,)
            Their session times, s.
        package : array (n,), optional
            Their package numbers (without: rows are counted from ``start``).
        start : int
            The ring's sample counter of the first row (numbers rows without package numbers).
        t_seen : float
            ``time.perf_counter()`` when the chunk was read (carried into the pose for the latency).

        Returns
        -------
        LivePose or None
            The newest output of the chunk, smoothed, with its hands; None when the chunk gave no output.

        Raises
        ------
        RuntimeError, ValueError
            The model failed on the chunk (wrong channel count, ...).
        """
        raw = np.asarray(raw)
        t = np.asarray(t, dtype=np.float64).reshape(-1)
        pk = None if package is None else np.asarray(package, dtype=np.float64).reshape(-1)
        rows, poses = self.runner.process(raw, pk)
        if self.runner.restarts != self._restarts:
            self._restarts = self.runner.restarts
            self.euro.reset()
            if self.monitor is not None:
                self.monitor.reset()
        if self.monitor is not None:
            if self.decimation > 1 and pk is not None:
                self.monitor.update(raw[np.mod(np.round(pk).astype(np.int64), self.decimation) == 0])
            else:
                self.monitor.update(raw[:: self.decimation])
        self.outputs += len(rows)
        if not len(rows):
            return None

        def package_of(row: int) -> float:
            return float(pk[row]) if pk is not None else float(start + row)

        i = int(rows[-1])
        smooth = self.euro(poses[-1].astype(np.float64), float(t[i]))
        conf = self.monitor.assess() if self.monitor is not None else {}
        self.seq += 1
        package_i = package_of(i)
        hand = ref = None
        if self.hands is not None:
            hand = self.hands.hand(smooth)
            ref = self.hands.reference_hand(package_i)
        lp = LivePose(self.seq, smooth, poses[-1].astype(np.float64), float(t[i]), package_i, t_seen, conf, hand, ref)
        if self.history is not None:
            for j, row in enumerate(rows[:-1]):
                p = poses[j].astype(np.float64)
                self.history.append(LivePose(0, p, p, float(t[row]), package_of(int(row)), t_seen, {}))
            self.history.append(lp)
        return lp


__all__ = ["DEFAULT_SMOOTHING", "LivePose", "PoseStream"]
