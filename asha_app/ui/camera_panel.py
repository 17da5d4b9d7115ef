"""Camera panel: pick a camera or video, start/stop labelling, see the preview with landmarks and fit figures.

Self-contained QWidget for a dock.  It owns one :class:`CameraWorker` at a time
and polls it on a QTimer (30 Hz); the GUI thread only draws.

Wiring (in the main window)::

    panel = CameraPanel(clock)
    panel.hand_view_target = hand_view          # draws every new label into slot "camera"
    # or, equivalently, connect the signal yourself:
    panel.label_ready.connect(lambda lab: hand_view.set_pose("camera", joints_mm=lab.ik.joints_hand_mm,
                                                             angles_deg=lab.ik.angles_deg, side=lab.ik.side))
    panel.error.connect(main_window.show_error)
    panel.mano_path = settings_mano_path      # optional: show a user's MANO mesh instead of the built-in one
    recorder_source = panel.worker              # its .labels queue is what a recorder drains

Signals
-------
label_ready(object)
    The newest :class:`~asha_app.workers.camera.CameraLabel` (at most once per poll, GUI thread).
running_changed(bool)
    A worker started (True) or finished (False).
error(str)
    User-facing message from the worker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from asha_app.core.clock import SessionClock
from asha_app.core.errors import AshaError
from asha_app.devices.camera import CameraSource, demo_video_path, list_cameras
from asha_app.pose.chain import HAND_CONNECTIONS
from asha_app.pose.landmarks import LandmarkDetector
from asha_app.workers.base import Worker
from asha_app.workers.camera import CameraWorker

log = logging.getLogger(__name__)

DEMO = "demo"
FILE = "file"


def default_worker_factory(spec, clock: SessionClock, hand: str = "any", model_complexity: int = 1,
                           mirror_webcam: bool = True) -> CameraWorker:
    """Build a worker for ``spec``: a camera index, a video path, or ``"demo"`` (looping, paced).

    ``hand`` ("any", "right", "left") and ``model_complexity`` (0 or 1) configure MediaPipe Hands;
    ``mirror_webcam`` shows a webcam as a mirror (selfie view) and tells MediaPipe so.
    """
    if spec == DEMO:
        source = CameraSource(demo_video_path(), clock, pace=True, loop=True)
    elif isinstance(spec, int):
        source = CameraSource(spec, clock, width=640, height=480, mirror=mirror_webcam)
    else:
        source = CameraSource(Path(spec), clock, pace=True, loop=False)
    return CameraWorker(source, detector_factory=lambda: LandmarkDetector(
        model_complexity=model_complexity, hand=hand, mirrored=source.mirror))


def draw_landmarks(rgb: np.ndarray, landmarks: np.ndarray | None) -> QImage:
    """A QImage of ``rgb`` (h, w, 3 uint8) with the 21 normalised landmarks and connections drawn."""
    h, w = rgb.shape[:2]
    img = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
    if landmarks is not None:
        p = QPainter(img)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pts = [QPointF(float(x) * w, float(y) * h) for x, y, _ in landmarks]
        p.setPen(QPen(QColor(255, 255, 255), 2))
        for a, b in HAND_CONNECTIONS:
            p.drawLine(pts[a], pts[b])
        p.setPen(QPen(QColor(240, 140, 60), 1))
        p.setBrush(QColor(240, 140, 60))
        for q in pts:
            p.drawEllipse(q, 3.0, 3.0)
        p.end()
    return img


class _CameraProbe(Worker):
    """Runs :func:`list_cameras` off the GUI thread; ``found(list)`` carries the indices that deliver frames."""

    found = Signal(list)

    def run(self) -> None:
        try:
            cams = list_cameras()
        except Exception:  # an OpenCV backend failing on a strange device must not kill the panel
            log.exception("camera probe failed")
            cams = []
        self.found.emit(cams)


class CameraPanel(QWidget):
    """Preview, picker and figures of the camera labelling pipeline.

    Parameters
    ----------
    clock : SessionClock
        Stamps frames at capture.
    parent : QWidget, optional
    worker_factory : callable(spec, clock) -> CameraWorker, optional
        How a worker is built for a chosen source (default :func:`default_worker_factory`).
    probe_cameras : bool
        Look for cameras when the panel is created (a short blocking probe).
    """

    label_ready = Signal(object)
    running_changed = Signal(bool)
    error = Signal(str)

    def __init__(
        self,
        clock: SessionClock,
        parent=None,
        worker_factory: Callable[[object, SessionClock], CameraWorker] | None = None,
        probe_cameras: bool = True,
    ) -> None:
        super().__init__(parent)
        self.clock = clock
        self.worker_factory = worker_factory or default_worker_factory
        self.worker: CameraWorker | None = None
        self.hand_view_target = None  # a HandView; gets set_pose("camera", ...) per new label
        self.mano_path: str | None = None  # a user's MANO_RIGHT/LEFT.pkl or .npz (a setting); None: built-in hand
        self._mano_cache: dict = {}
        self._seen_label = 0
        self._seen_preview = 0
        self._mano_vertices = None  # newest MANO mesh (MANO fits run slower than labels)

        self.picker = QComboBox()
        self.picker.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.picker.setMinimumContentsLength(8)
        self.refresh_button = QPushButton("Find cameras")
        self.start_button = QPushButton("Start")
        self.start_button.setCheckable(True)
        self.preview = QLabel("no camera running")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumSize(192, 144)  # grows with the dock; a small minimum keeps the window on a small screen
        self.preview.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.confidence_label = QLabel("-")
        self.fit_label = QLabel("-")
        self.frames_label = QLabel("-")
        self.frames_label.setWordWrap(True)  # the counters grow: they wrap instead of widening the dock and the window
        self.fps_label = QLabel("-")
        for lab in (self.confidence_label, self.fit_label, self.fps_label):
            lab.setWordWrap(True)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #d55;")

        top = QHBoxLayout()
        top.addWidget(self.picker, 1)
        top.addWidget(self.refresh_button)
        top.addWidget(self.start_button)
        grid = QGridLayout()
        for row, (name, lab) in enumerate(
            [("Confidence", self.confidence_label), ("Fit error", self.fit_label), ("Frames", self.frames_label), ("Rate", self.fps_label)]
        ):
            grid.addWidget(QLabel(name), row, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(lab, row, 1)
        grid.setColumnStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.preview, 1)
        layout.addLayout(grid)
        layout.addWidget(self.message)

        self.refresh_button.clicked.connect(self.refresh_sources)
        self.start_button.toggled.connect(self._on_start_toggled)
        self._timer = QTimer(self)
        self._timer.setInterval(33)
        self._timer.timeout.connect(self.poll)
        self._probe: _CameraProbe | None = None
        self._fill_picker([])
        if probe_cameras:
            QTimer.singleShot(0, self.refresh_sources)

    # ------------------------------------------------------------------ sources
    def _fill_picker(self, cameras: list[int]) -> None:
        self.picker.clear()
        for i in cameras:
            self.picker.addItem(f"Camera {i}", i)
        self.picker.addItem("Demo video", DEMO)
        self.picker.addItem("Video file...", FILE)

    def refresh_sources(self) -> None:
        """Probe cameras 0..4 in a worker thread and refill the picker when it answers.

        Opening a camera index can block for seconds (drivers, busy devices); the
        GUI shows "Looking for cameras…" meanwhile and stays responsive.
        """
        if (self.worker is not None and self.worker.isRunning()) or (
                self._probe is not None and self._probe.isRunning()):
            return
        self._probe = _CameraProbe(self)
        self._probe.found.connect(self._on_cameras_found)
        self.refresh_button.setEnabled(False)
        self.refresh_button.setText("Looking for cameras…")
        self._probe.start()

    def _on_cameras_found(self, cameras: list) -> None:
        current = self.picker.currentData()
        self._fill_picker(list(cameras))
        i = self.picker.findData(current)
        if i >= 0:
            self.picker.setCurrentIndex(i)
        self.refresh_button.setEnabled(True)
        self.refresh_button.setText("Find cameras")
        if self._probe is not None:
            self._probe.wait(2000)

    def _on_start_toggled(self, on: bool) -> None:
        if on:
            spec = self.picker.currentData()
            if spec == FILE:
                path, _ = QFileDialog.getOpenFileName(self, "Open a hand video", "", "Videos (*.mp4 *.avi *.mov *.mkv);;All files (*)")
                if not path:
                    self.start_button.setChecked(False)
                    return
                spec = path
            self.start(spec)
        else:
            self.stop()

    # ------------------------------------------------------------------ worker control
    def start(self, spec) -> None:
        """Start labelling from ``spec`` (camera index, video path or ``"demo"``)."""
        self.stop()
        self.message.setText("")
        try:
            worker = self.worker_factory(spec, self.clock)
        except AshaError as exc:
            self._on_error(str(exc))
            return
        if self.mano_path and worker.mano is None:
            worker.mano = self._load_mano(self.mano_path)
        self.worker = worker
        worker.error.connect(self._on_error)
        worker.finished.connect(self._on_finished)
        self._seen_label = self._seen_preview = 0
        self._mano_vertices = None
        worker.start()
        self._timer.start()
        self.start_button.blockSignals(True)
        self.start_button.setChecked(True)
        self.start_button.setText("Stop")
        self.start_button.blockSignals(False)
        self.picker.setEnabled(False)
        self.running_changed.emit(True)

    def _load_mano(self, path: str):
        from asha_app.pose.mano import ManoHand, load_hand, side_from_name

        if path not in self._mano_cache:
            hand, msg = load_hand(path, side_from_name(path))
            if msg:
                self._on_error(msg)
            self._mano_cache[path] = hand if isinstance(hand, ManoHand) else None
        return self._mano_cache[path]

    def stop(self, timeout_ms: int = 3000) -> None:
        """Stop the running worker (if any) and a camera probe, and wait for them."""
        if self.worker is not None:
            self.worker.stop(timeout_ms)
        if self._probe is not None:
            self._probe.stop(timeout_ms)  # list_cameras is short; this waits for it to finish

    def _on_finished(self) -> None:
        self.poll()
        self._timer.stop()
        self.start_button.blockSignals(True)
        self.start_button.setChecked(False)
        self.start_button.setText("Start")
        self.start_button.blockSignals(False)
        self.picker.setEnabled(True)
        self.running_changed.emit(False)

    def _on_error(self, msg: str) -> None:
        self.message.setText(msg)
        self.error.emit(msg)

    # ------------------------------------------------------------------ polling (GUI thread)
    def poll(self) -> None:
        """Draw the newest preview and label (called by the panel's QTimer)."""
        w = self.worker
        if w is None:
            return
        seq, prev = w.preview.get()
        if seq != self._seen_preview and prev is not None:
            self._seen_preview = seq
            img = draw_landmarks(prev.rgb, prev.image_landmarks)
            pix = QPixmap.fromImage(img).scaled(self.preview.size(), Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation)
            self.preview.setPixmap(pix)
        seq, lab = w.latest.get()
        if seq != self._seen_label and lab is not None:
            self._seen_label = seq
            self.confidence_label.setText(f"{lab.confidence:.2f} ({lab.handedness})" if lab.handedness else "no hand")
            fe = lab.ik.fit_error_mm
            self.fit_label.setText("-" if not np.isfinite(fe) else f"{fe:.1f} mm" + ("" if lab.ik.valid else " (invalid)"))
            self.label_ready.emit(lab)
            hv = self.hand_view_target
            if hv is not None:
                if not lab.ik.valid:
                    hv.clear("camera")
                elif w.mano is not None and lab.ik.side == w.mano.side:
                    if lab.mano_vertices_mm is not None:
                        self._mano_vertices = lab.mano_vertices_mm
                    hv.set_pose("camera", joints_mm=lab.ik.joints_hand_mm, vertices_mm=self._mano_vertices,
                                faces=w.mano.faces if self._mano_vertices is not None else None)
                else:
                    hv.set_pose("camera", joints_mm=lab.ik.joints_hand_mm, angles_deg=lab.ik.angles_deg, side=lab.ik.side)
        snap = w.snapshot()
        self.frames_label.setText(
            f"{snap['labelled']} labelled, {snap['invalid']} invalid, {snap['no_hand']} no hand, {snap['skipped']} skipped"
        )
        self.fps_label.setText(f"{snap['fps']:.1f} frames/s")

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt naming
        self.stop()
        super().closeEvent(event)
