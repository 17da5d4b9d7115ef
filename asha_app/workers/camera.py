"""Camera worker: source -> MediaPipe Hands -> IK, in a QThread, with results the GUI polls.

Lifecycle (the house worker pattern, :class:`asha_app.workers.base.Worker`): construct,
``start()``, and ``stop(timeout_ms)`` (``requestInterruption(); quit(); wait()``).  ``run()`` opens the source and
MediaPipe inside the thread, loops until interrupted or the video ends, and
closes everything on the way out.  Errors reach the GUI once through
``error(str)``; the worker never blocks the GUI thread.

Threads inside the worker
-------------------------
For a live camera or a paced video a small capture thread reads frames as they
come and keeps only the newest one (stamped at capture); the processing loop
takes the newest frame whenever it is free.  Frames overwritten before the
processing loop got to them are counted in ``skipped``: they are not labelled.
An unpaced video (``CameraSource(pace=False)``) is processed frame by frame
with no skipping (benchmarks, offline labelling).

Outputs (all thread-safe, polled by the GUI on a QTimer)
--------------------------------------------------------
``latest``  :class:`~asha_app.core.slot.LatestSlot` of the newest :class:`CameraLabel`.
``labels``  :class:`DropOldestQueue` of every :class:`CameraLabel`, for a recorder to drain.
``preview`` :class:`LatestSlot` of a :class:`PreviewFrame` (<= ``preview_width`` px wide, <= ``preview_hz``).

Signals
-------
error(str)
    A user-facing message (camera missing or busy, undecodable file, MediaPipe failure).
status(dict)
    At most 5 Hz: ``captured, labelled, skipped, no_hand, invalid, dropped, fps, fit_error_mm, confidence``.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import Signal

from asha_app.core.errors import AshaError
from asha_app.core.slot import LatestSlot
from asha_app.devices.camera import CameraSource, Frame
from asha_app.pose.ik import HandTracker, IKResult
from asha_app.pose.landmarks import LandmarkDetector
from asha_app.workers.base import Worker

log = logging.getLogger(__name__)


@dataclass
class CameraLabel:
    """The label of one captured frame.

    Attributes
    ----------
    t : float
        Capture time, session seconds.
    frame_index : int
        Index of the frame in its source.
    image_landmarks : float32 (21, 3) or None
        Normalised image landmarks (of the frame as shown in the preview).
    world_landmarks : float32 (21, 3) or None
        MediaPipe world landmarks of the real hand, metres.
    handedness : str or None
        ``"right"``/``"left"`` (real hand) or None when no hand.
    confidence : float
        MediaPipe's handedness score, 0 without a hand.
    ik : IKResult
        The fit (``ik.valid`` False and NaN without a hand or with a poor fit).
    mano_vertices_mm : float32 (778, 3) or None
        MANO mesh fitted to this frame, hand frame (only on frames where the
        optional MANO fit ran, see ``CameraWorker(mano=...)``).
    mano_fit_error_mm : float
        Mean joint distance of that MANO fit (NaN when it did not run).
    """

    t: float
    frame_index: int
    image_landmarks: np.ndarray | None
    world_landmarks: np.ndarray | None
    handedness: str | None
    confidence: float
    ik: IKResult
    mano_vertices_mm: np.ndarray | None = None
    mano_fit_error_mm: float = float("nan")

    @property
    def valid(self) -> bool:
        """True when the frame carries a usable pose label."""
        return bool(self.ik.valid)


@dataclass
class PreviewFrame:
    """A downscaled frame for display.

    Attributes
    ----------
    rgb : uint8 (h, w, 3)
        RGB image, contiguous.
    t : float
        Capture time, session seconds.
    image_landmarks : float32 (21, 3) or None
        Normalised landmarks to draw (same image coordinates).
    """

    rgb: np.ndarray
    t: float
    image_landmarks: np.ndarray | None


class DropOldestQueue:
    """Bounded FIFO: when full, the oldest item is dropped and counted.

    Parameters
    ----------
    maxlen : int
        Capacity.
    """

    def __init__(self, maxlen: int = 1024) -> None:
        self._dq: collections.deque = collections.deque(maxlen=maxlen)
        self._lock = threading.Lock()
        self.dropped = 0

    def put(self, item) -> None:
        with self._lock:
            if len(self._dq) == self._dq.maxlen:
                self.dropped += 1
            self._dq.append(item)

    def drain(self) -> list:
        """Remove and return everything queued (oldest first)."""
        with self._lock:
            items = list(self._dq)
            self._dq.clear()
            return items

    def __len__(self) -> int:
        with self._lock:
            return len(self._dq)


class CameraWorker(Worker):
    """Capture, detect and fit hands off the GUI thread.

    Parameters
    ----------
    source : CameraSource
        Not yet opened; the worker opens and closes it in its thread.
    detector_factory : callable, optional
        Returns a :class:`LandmarkDetector`; called in the worker thread.  Default:
        complexity 1, one hand, any side, ``mirrored`` = the source's mirroring.
    tracker : HandTracker, optional
        IK (default: built-in hands).  The worker resets it on start.
    queue_size : int
        Capacity of ``labels``.
    preview_width : int
        Preview frames are downscaled to at most this width.
    preview_hz : float
        Maximum preview rate.
    max_frames : int, optional
        Stop after this many processed frames (tests, benchmarks).
    mano : ManoHand, optional
        A user's MANO hand (:mod:`asha_app.pose.mano`): when given, MANO pose and shape
        are also fitted to the world landmarks, at most ``mano_hz`` times per second
        (an L-BFGS fit costs tens of milliseconds), for display.
    mano_hz : float
        Maximum rate of the MANO fits.
    parent : QObject, optional
    """

    error = Signal(str)
    status = Signal(dict)

    def __init__(
        self,
        source: CameraSource,
        detector_factory: Callable[[], LandmarkDetector] | None = None,
        tracker: HandTracker | None = None,
        queue_size: int = 1024,
        preview_width: int = 480,
        preview_hz: float = 15.0,
        max_frames: int | None = None,
        mano=None,
        mano_hz: float = 2.0,
        parent=None,
    ) -> None:
        super().__init__(parent)
        self.source = source
        self._detector_factory = detector_factory or (lambda: LandmarkDetector(mirrored=source.mirror))
        self.tracker = tracker
        self.latest = LatestSlot()
        self.preview = LatestSlot()
        self.labels = DropOldestQueue(queue_size)
        self.preview_width = preview_width
        self.preview_period = 1.0 / preview_hz
        self.max_frames = max_frames
        self._counts_lock = threading.Lock()
        self.counts = {"captured": 0, "labelled": 0, "skipped": 0, "no_hand": 0, "invalid": 0}
        self._last_status = 0.0
        self._last_preview = -1e9
        self._fps_times: collections.deque = collections.deque(maxlen=30)
        self.mano = mano
        self._mano_fitter = None
        self._mano_period = 1.0 / mano_hz if mano_hz > 0 else float("inf")
        self._last_mano = -1e9

    # ------------------------------------------------------------------ lifecycle
    def snapshot(self) -> dict:
        """Current counters plus derived figures (thread-safe copy)."""
        with self._counts_lock:
            d = dict(self.counts)
        d["dropped"] = self.labels.dropped
        ts = list(self._fps_times)
        d["fps"] = (len(ts) - 1) / (ts[-1] - ts[0]) if len(ts) > 1 and ts[-1] > ts[0] else 0.0
        _, lab = self.latest.get()
        d["fit_error_mm"] = float(lab.ik.fit_error_mm) if lab is not None else float("nan")
        d["confidence"] = float(lab.confidence) if lab is not None else 0.0
        return d

    def _count(self, key: str, n: int = 1) -> None:
        with self._counts_lock:
            self.counts[key] += n

    # ------------------------------------------------------------------ thread body
    def run(self) -> None:  # noqa: C901 - one linear loop
        detector = None
        capture_thread = None
        stop_capture = threading.Event()
        try:
            self.source.open()
            detector = self._detector_factory()
            if self.tracker is None:
                self.tracker = HandTracker()
            self.tracker.reset()
            live = not (self.source.is_file and not self.source.pace)
            newest: list = [None]
            cond = threading.Condition()
            capture_error: list = [None]
            ended = threading.Event()

            def capture() -> None:
                try:
                    while not stop_capture.is_set():
                        fr = self.source.read()
                        if fr is None:
                            ended.set()
                            break
                        self._count("captured")
                        with cond:
                            if newest[0] is not None:
                                self._count("skipped")
                            newest[0] = fr
                            cond.notify()
                except AshaError as exc:
                    capture_error[0] = exc
                    ended.set()
                finally:
                    with cond:
                        cond.notify()

            if live:
                capture_thread = threading.Thread(target=capture, name="camera-capture", daemon=True)
                capture_thread.start()
            processed = 0
            while not self.isInterruptionRequested():
                if live:
                    with cond:
                        while newest[0] is None and not ended.is_set() and not self.isInterruptionRequested():
                            cond.wait(0.05)
                        fr, newest[0] = newest[0], None
                    if fr is None:
                        if capture_error[0] is not None:
                            raise capture_error[0]
                        if ended.is_set():
                            break
                        continue
                else:
                    fr = self.source.read()
                    if fr is None:
                        break
                    self._count("captured")
                self._process(fr, detector)
                processed += 1
                if self.max_frames is not None and processed >= self.max_frames:
                    break
        except AshaError as exc:
            log.warning("camera worker: %s", exc)
            self.error.emit(str(exc))
        except Exception as exc:  # a worker must report, not die silently
            log.exception("camera worker failed")
            self.error.emit(f"camera pipeline failed: {exc!r}")
        finally:
            stop_capture.set()
            if capture_thread is not None:
                capture_thread.join(timeout=2.0)
            if detector is not None:
                detector.close()
            self.source.close()
            self.status.emit(self.snapshot())

    def _fit_mano(self, label: CameraLabel) -> None:
        now = time.perf_counter()
        if now - self._last_mano < self._mano_period:
            return
        self._last_mano = now
        from asha_app.pose.hand_torch import axis_angle_to_matrix
        from asha_app.pose.mano import ManoFitter

        if self._mano_fitter is None:
            self._mano_fitter = ManoFitter(self.mano)
        res = self._mano_fitter.fit(label.world_landmarks.astype(np.float64) * 1000.0)
        ik = label.ik
        import torch

        R = axis_angle_to_matrix(torch.as_tensor(ik.global_rot.astype(np.float64))).numpy()
        # into the hand frame of the IK fit, so the mesh overlays the skeleton
        label.mano_vertices_mm = (((res["vertices_mm"] - ik.translation_mm) @ R) / ik.size_factor).astype(np.float32)
        label.mano_fit_error_mm = float(res["fit_error_mm"])

    def _process(self, fr: Frame, detector: LandmarkDetector) -> None:
        import cv2

        hand = detector.process(fr.image)
        if hand is None:
            ik = self.tracker.update(None, None)
            label = CameraLabel(fr.t, fr.index, None, None, None, 0.0, ik)
            self._count("no_hand")
        else:
            ik = self.tracker.update(hand.world, hand.handedness)
            label = CameraLabel(fr.t, fr.index, hand.image, hand.world, hand.handedness, hand.score, ik)
            self._count("labelled" if ik.valid else "invalid")
            if self.mano is not None and ik.valid and ik.side == self.mano.side:
                self._fit_mano(label)
        self.latest.put(label)
        self.labels.put(label)
        now = time.perf_counter()
        self._fps_times.append(now)
        if now - self._last_preview >= self.preview_period:
            self._last_preview = now
            img = fr.image
            h, w = img.shape[:2]
            if w > self.preview_width:
                img = cv2.resize(img, (self.preview_width, int(round(h * self.preview_width / w))), interpolation=cv2.INTER_AREA)
            rgb = np.ascontiguousarray(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
            self.preview.put(PreviewFrame(rgb, fr.t, label.image_landmarks))
        if now - self._last_status >= 0.2:
            self._last_status = now
            self.status.emit(self.snapshot())


def stack_labels(labels: list[CameraLabel], n_dof: int | None = None) -> dict[str, np.ndarray]:
    """Stack drained labels into the arrays of :class:`asha_app.data.recording.Recording`.

    Parameters
    ----------
    labels : list of CameraLabel
        In capture order (as :meth:`DropOldestQueue.drain` returns them).
    n_dof : int, optional
        Number of angles (default: from the first label).

    Returns
    -------
    dict
        ``label_t`` float64 (n,), ``joint_angles`` float32 (n, n_dof) degrees,
        ``joints_mm`` float32 (n, 21, 3) hand frame, ``valid`` bool (n,),
        ``fit_error_mm`` float32 (n,), ``confidence`` float32 (n,),
        ``world_landmarks`` float32 (n, 21, 3) metres (NaN without a hand).
        Invalid frames keep NaN / their fitted values and ``valid=False``; nothing
        is replaced by a neutral pose.
    """
    n = len(labels)
    if n_dof is None:
        n_dof = len(labels[0].ik.angles_deg) if n else 0
    nan_world = np.full((21, 3), np.nan, dtype=np.float32)
    return {
        "label_t": np.array([lab.t for lab in labels], dtype=np.float64),
        "joint_angles": np.array([lab.ik.angles_deg for lab in labels], dtype=np.float32).reshape(n, n_dof),
        "joints_mm": np.array([lab.ik.joints_hand_mm for lab in labels], dtype=np.float32).reshape(n, 21, 3),
        "valid": np.array([lab.valid for lab in labels], dtype=bool),
        "fit_error_mm": np.array([lab.ik.fit_error_mm for lab in labels], dtype=np.float32),
        "confidence": np.array([lab.confidence for lab in labels], dtype=np.float32),
        "world_landmarks": np.array(
            [lab.world_landmarks if lab.world_landmarks is not None else nan_world for lab in labels], dtype=np.float32
        ).reshape(n, 21, 3),
    }
