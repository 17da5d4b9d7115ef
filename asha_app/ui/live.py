"""Live hand from EMG: the "Live hand" dock, the Live menu (Calibrate…, Load profile…, Live demo), shadow mode.

The GUI thread only draws: an :class:`~asha_app.workers.inference.InferenceWorker`
runs the Qt-free :mod:`asha_app.inference` pipeline on the acquisition ring (model,
smoothing, input monitor, the EMG hand and the live demo's reference hand), fills
a latest-pose slot and signals ``pose_ready``; the controller here then takes the
newest pose, puts its hands into the window's :class:`~asha_app.pose.scene.HandScene`
(slots ``emg`` and ``reference``; the 3D view observes it), or compares with the
camera's hand (shadow mode), and updates the indicators.  A pose counts as drawn,
and its latency is measured, when the 3D view has painted the frame that shows it.

* **Live demo**: the bundled real paired Myo + MediaPipe recording
  (``resources/live_demo``, held-out stretch) replayed by the MindRove playback
  board at 500 Hz, the bundled 50 Hz model fed every 10th sample, the recorded
  finger angles shown as the ``reference`` hand, aligned by package number.
* **Profile**: a user profile made by Live → Calibrate… runs on the running device.
* **Loading**: the demo's model and a profile are read off the GUI thread
  (:class:`~asha_app.workers.export.BackgroundLoad`); the dock says "loading model…"
  and its Live demo / Load profile buttons wait until the model is in.
* **Shadow mode**: while the camera runs, the live error (mm) between the EMG hand
  and the camera's hand, and a recalibration prompt when its running median stays high.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (QCheckBox, QFileDialog, QFormLayout, QGridLayout, QHBoxLayout, QLabel,
                               QProgressBar, QPushButton, QScrollArea, QWidget)

from asha_app.inference.drift import DriftMonitor, mpjpe_mm
from asha_app.inference.hands import LiveHands
from asha_app.inference.live_demo import demo_assets
from asha_app.inference.ood import InputMonitor
from asha_app.calibration.profile import SUFFIX, ProfileError, default_path, gestures_path, load_profile
from asha_app.core.errors import AshaError
from asha_app.models import checkpoint as C
from asha_app.pose.contract import FINGERS, PoseContractError, check_drives_hand, finger_flexion_deg
from asha_app.pose.hand_model import HandModel
from asha_app.ui.calibration_wizard import CalibrationWizard
from asha_app.ui.widgets import scrolling_body
from asha_app.workers.base import stop_checked
from asha_app.workers.export import BackgroundLoad
from asha_app.workers.inference import InferenceWorker

log = logging.getLogger(__name__)

#: median time to skin and render a pose above which the skinned mesh is switched off (skeleton only):
#: 25 ms is under 40 frames/s
MESH_BUDGET_MS = 25.0


def load_profile_gestures(profile_path, n_channels: int | None, fs: float | None):
    """The gesture model beside a profile (:func:`~asha_app.calibration.profile.gestures_path`), read (worker thread).

    Returns
    -------
    None or (Path, Checkpoint) or (Path, str)
        None when there is no such file; the message when it cannot be used (the profile still loads).
    """
    from asha_app.gestures.train import load_gesture_checkpoint  # noqa: PLC0415 - torch, scipy.signal on first use

    path = gestures_path(profile_path)
    if not path.is_file():
        return None
    try:
        return path, load_gesture_checkpoint(path, n_channels=n_channels, fs=fs)
    except AshaError as exc:
        return path, str(exc)


def gesture_set_change(before: list[str] | None, after: list[str]) -> str:
    """"" when the gesture set is the same (or none was loaded), else "; new: …; no longer: …" (one line)."""
    if before is None or set(before) == set(after):
        return ""
    new, gone = [g for g in after if g not in before], [g for g in before if g not in after]
    return "".join([f"; new: {', '.join(new)}" if new else "", f"; no longer: {', '.join(gone)}" if gone else ""])


class LiveDock(QWidget):
    """The "Live hand" dock: what runs, pose rate, latency, input confidence, live error, buttons.

    Attributes
    ----------
    last_pose : numpy.ndarray or None
        The last pose (target units) this dock handed to the 3D view (tests read it
        where the view is a placeholder).
    last_angles : numpy.ndarray or None
        The hand-model joint angles (deg) drawn for it.
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.last_pose: np.ndarray | None = None
        self.last_angles: np.ndarray | None = None
        # the content scrolls when the dock is short (a small screen) instead of clipping its wrapped lines
        lay = scrolling_body(self)
        self.what = QLabel("Nothing running. Try Live → Live demo, or load a profile.")
        self.what.setWordWrap(True)
        lay.addWidget(self.what)
        #: what a loaded profile brought for gesture mode (its ``.gestures.pt``); hidden when nothing
        self.gesture_line = QLabel("")
        self.gesture_line.setWordWrap(True)
        self.gesture_line.hide()
        lay.addWidget(self.gesture_line)
        form = QFormLayout()
        # long labels go above their values and the values wrap, so growing figures never widen the window
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.rate = QLabel("—")
        self.latency = QLabel("—")
        self.error_mm = QLabel("—")
        self.pose_text = QLabel("—")
        self.confidence = QProgressBar()
        self.confidence.setRange(0, 100)
        self.confidence.setFormat("%p %")
        self.ood = QLabel("")
        for lab in (self.rate, self.latency, self.error_mm, self.pose_text, self.ood):
            lab.setWordWrap(True)
        form.addRow("Pose updates:", self.rate)
        form.addRow("Latency (ring → screen):", self.latency)
        form.addRow("Input like calibration:", self.confidence)
        form.addRow("", self.ood)
        form.addRow("Live error vs reference:", self.error_mm)
        form.addRow("Finger flexion (deg, 0 = straight):", self.pose_text)
        self.mesh_check = QCheckBox("Skinned mesh")
        self.mesh_check.setToolTip("Off: skeleton only. Switched off by itself when drawing is slow.")
        self.mesh_check.setChecked(True)
        self.scopes_check = QCheckBox("Scopes run while live")
        self.scopes_check.setToolTip("Off: the scopes pause while the live hand runs, which leaves the CPU to the hand "
                                     "(on slow or software-OpenGL displays the hand then keeps up with the model)")
        self.scopes_check.setChecked(True)
        checks = QHBoxLayout()  # one row spanning both columns keeps the dock narrow
        checks.addWidget(self.mesh_check)
        checks.addWidget(self.scopes_check)
        checks.addStretch(1)
        form.addRow(checks)
        lay.addLayout(form)
        row = QGridLayout()  # two rows of buttons keep the dock narrow
        self.demo_button = QPushButton("Live demo")
        self.profile_button = QPushButton("Load profile…")
        self.calibrate_button = QPushButton("Calibrate…")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        for i, b in enumerate((self.demo_button, self.profile_button, self.calibrate_button, self.stop_button)):
            row.addWidget(b, i // 2, i % 2)
        lay.addLayout(row)
        lay.addStretch(1)
        # scrolls vertically only: as wide as its widest row (buttons, check boxes) needs
        body, scroll = lay.parentWidget(), self.findChild(QScrollArea)
        scroll.setMinimumWidth(body.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width())

    def clear_figures(self) -> None:
        """Nothing runs: the figures of the last run are not shown as if current."""
        for lab in (self.rate, self.latency, self.error_mm, self.pose_text):
            lab.setText("—")
        self.confidence.reset()
        self.ood.setText("")


class _GuiReceiver(QObject):
    """Lives in the GUI thread so that worker signals connected to it run there (queued)."""

    def __init__(self, on_pose, parent) -> None:
        super().__init__(parent)
        self._on_pose = on_pose

    @Slot()
    def pose_ready(self) -> None:
        self._on_pose()


class LiveController:
    """Owns the inference worker, the loaded model/profile and the pose accounting of one main window.

    Attributes
    ----------
    drawn : int
        Poses shown: frames painted by the 3D view with a new pose (or, without an
        OpenGL view, poses handed to the dock).
    handed : int
        Poses handed to the 3D view (more than ``drawn`` when poses arrive faster than frames).
    latencies_ms : deque of float
        Ring -> painted frame, per drawn pose.
    """

    def __init__(self, window) -> None:
        self.window = window
        self.dock = LiveDock()
        self.worker: InferenceWorker | None = None
        self.ckpt = None
        self.profile = None
        self.decimation = 1
        self.monitor: InputMonitor | None = None
        self.assets = None
        self.mode = "idle"  # idle | demo | profile
        self.hand_model = None
        #: the demo's model and profiles are loaded here, off the GUI thread
        self.loader = BackgroundLoad("loading the live model", self.dock)
        self.drift = DriftMonitor()
        self.latencies_ms: deque = deque(maxlen=2000)
        #: ring -> pose handed to the 3D view (before it is rendered and painted), ms
        self.handed_latencies_ms: deque = deque(maxlen=2000)
        self.draw_times: deque = deque(maxlen=2000)
        self.set_pose_ms: deque = deque(maxlen=200)
        self.drawn = 0
        self.handed = 0
        self._last_seq = 0
        self._pending: deque = deque(maxlen=500)  # (view command generation, t_seen) of poses handed, not yet painted
        self._frame_view = None
        self._camera_joints = None
        self._camera_t = 0.0
        self._prompted = False
        self._receiver = _GuiReceiver(self.poll, window)
        #: the window's scope pacer: told when live runs and when a hand frame was painted (never its timer)
        self.pacer = window.scope_pacer
        self.pacer.scopes_while_live = self.dock.scopes_check.isChecked()
        d = self.dock
        d.demo_button.clicked.connect(self.start_demo)
        d.profile_button.clicked.connect(self.choose_profile)
        d.calibrate_button.clicked.connect(self.open_calibration)
        d.stop_button.clicked.connect(self.stop)
        d.scopes_check.toggled.connect(self._scopes_toggled)
        window.acquisition_stopped.connect(self._on_acquisition_stopped)
        window.acquisition_started.connect(self._on_acquisition_started)
        window.acquisition_opened.connect(self._on_acquisition_started)  # a source whose rate was unknown until open
        window.camera_panel.label_ready.connect(self._on_camera_label)

    # ------------------------------------------------------------------ helpers
    def _hand(self):
        """The hand the live view drives: read off the GUI thread with the demo's or the profile's model (a cached
        copy of the bundled hand when neither has loaded yet)."""
        if self.hand_model is None:
            self.hand_model = HandModel.builtin("right")
        return self.hand_model

    def _view(self):
        from asha_app.ui.hand_view import HandView  # noqa: PLC0415 - vispy on first use

        v = self.window.hand_view
        return v if isinstance(v, HandView) else None

    # ------------------------------------------------------------------ start / stop
    @property
    def loading(self) -> bool:
        """True while the demo's model or a profile is being loaded in the background."""
        return self.loader.busy

    def _set_loading(self, text: str | None) -> None:
        """Say what loads ("loading model…") with the dock's load buttons disabled; None when done."""
        if text:
            self.dock.what.setText(text)
        for b in (self.dock.demo_button, self.dock.profile_button):
            b.setEnabled(not text)

    def start_demo(self) -> bool:
        """Live demo from the bundled real recording (no armband, no camera needed).

        Its model loads in the background ("loading model…"); the playback and live inference
        start when it is in (:attr:`loading` meanwhile).  False when a load is already running.
        """
        if self.loading:
            return False
        self.stop()

        hand = self.hand_model

        def load():
            assets = demo_assets()
            return assets, C.load(assets.model_path), hand or HandModel.builtin("right")

        self._set_loading("Live demo: loading model…")
        self.loader.start(load, self._on_demo_loaded, self._on_demo_failed)
        return True

    def _on_demo_failed(self, message: str) -> None:
        self._set_loading(None)
        self.dock.what.setText("")
        self.window.show_error(f"The live demo cannot start: {message}")

    def _on_demo_loaded(self, loaded) -> bool:
        assets, ckpt, self.hand_model = loaded
        self._set_loading(None)
        w = self.window
        # the playback file goes through the session controller as device "file", its path and unit
        # (MiniVIE units x 100, not microvolts) given for this start only: the user's settings stay as they are
        w.device_combo.setCurrentIndex(w.device_combo.findData("file"))
        ok = w.session.start("file", path=str(assets.emg_file), units=assets.meta.get("emg_units", "uV"))
        if not ok or w.worker is None:
            self.mode = "idle"
            return False
        self.assets = assets
        self.ckpt = ckpt
        self.profile = None
        self.decimation = int(assets.meta.get("decimation", 10))
        mon = assets.meta.get("monitor")
        self.monitor = InputMonitor.from_dict(mon) if mon else None
        self.mode = "demo"
        m = assets.meta.get("metrics_test", {})
        self.dock.what.setText(
            "Live demo: real Myo EMG (JHU-BCIS NTX 2023, held-out stretch, resampled to 500 Hz, not a MindRove "
            f"armband) → {ckpt.model_name} model (50 Hz). Blue: EMG hand; green: recorded finger angles "
            f"(reference). Held-out R² {m.get('r2_mean', float('nan')):.2f}, MAE "
            f"{m.get('mae_mean', float('nan')):.1f}°.")
        return self._start_worker()

    def _show_hand_view(self) -> None:
        """Make the 3D hand the large panel of the left column while live runs (the camera panel keeps a strip)."""
        w = self.window
        hand, cam = w.panels.get("hand3d"), w.panels.get("camera")
        if hand is None:
            return
        hand.show()
        hand.raise_()
        if cam is None or cam.isFloating() or hand.isFloating() or not cam.isVisible():
            return
        camera_running = getattr(w.camera_panel, "worker", None) is not None
        total = cam.height() + hand.height()
        cam_share = 0.45 if camera_running else 0.22
        w.resizeDocks([cam, hand], [int(total * cam_share), int(total * (1 - cam_share))], Qt.Orientation.Vertical)
        if cam.width() < 480:
            w.resizeDocks([hand], [min(560, max(480, w.width() // 3))], Qt.Orientation.Horizontal)

    def choose_profile(self) -> None:
        """Ask for a profile file and use it."""
        start = str(default_path("x").parent)
        path, _ = QFileDialog.getOpenFileName(self.window, "Load a user profile", start,
                                              f"Asha profiles (*{SUFFIX});;All files (*)")
        if path:
            self.load_profile(path)

    def load_profile(self, path: str | Path) -> bool:
        """Load a profile in the background ("loading model…"); it runs at once when a matching device streams,
        else when one starts.  A profile that cannot be used is said in the window's banner, naming the file.

        Returns False when a load is already running (:attr:`loading`), else True (the load started).
        """
        if self.loading:
            return False
        w = self.window
        info = w.session.info if w.worker is not None else None  # known before the source opens (device registry)
        n_channels, fs = (info.n_channels, info.fs) if info else (None, None)
        known = self.hand_model

        def load():
            hand = known or HandModel.builtin("right")  # the bundled hand's glTF, read here the first time
            prof = load_profile(path, n_channels=n_channels, fs=fs)
            check_drives_hand(prof.checkpoint, hand)
            return prof, load_profile_gestures(path, n_channels, fs), hand

        self._set_loading(f"Profile {Path(path).name}: loading model…")
        self.loader.start(load, self._on_profile_loaded,
                          lambda message: self._on_profile_failed(Path(path).name, message))
        return True

    def _on_profile_failed(self, name: str, message: str) -> None:
        self._set_loading(None)
        self.dock.what.setText("")
        self.window.show_error(f"{name}: {message}")

    def _on_profile_loaded(self, loaded) -> bool:
        prof, gestures, self.hand_model = loaded
        self._set_loading(None)
        w = self.window
        wk = w.worker
        self.stop()
        self.profile = prof
        self.ckpt = prof.checkpoint
        self.decimation = prof.decimation
        self.monitor = prof.input_monitor()
        self.assets = None
        self.mode = "profile"
        after = prof.metrics.get("after", {})
        err = after.get("mae_mean")
        err_text = (f"held-out error after calibration {err:.1f} {after.get('units') or ''}".rstrip()
                    if isinstance(err, (int, float)) and np.isfinite(err) else "no held-out error recorded")
        self.dock.what.setText(f"Profile of {prof.participant} ({prof.created[:10]}, {self.ckpt.model_name}); "
                               f"{err_text}. " + ("" if wk else "Start the armband to see the hand."))
        self._use_profile_gestures(gestures)
        if wk is not None:
            return self._start_worker()
        return True

    def _use_profile_gestures(self, gestures) -> None:
        """The profile's gesture model (``P.gestures.pt``) into gesture mode, said in the dock's gesture line.

        ``gestures``: None (no such file: nothing changes), ``(path, checkpoint)`` or ``(path, error message)``.
        """
        line = self.dock.gesture_line
        ctl = getattr(self.window, "gestures", None)
        if gestures is None or ctl is None:
            line.setText("")
            line.hide()
            return
        path, ck = gestures
        if isinstance(ck, str):
            line.setText(f"⚠ The profile's gesture model {path.name} was not loaded: {ck}")
        else:
            before = list(ctl.ckpt.target_names) if ctl.ckpt is not None else None
            ctl.use_checkpoint(ck, path, "from the profile")
            line.setText(f"Gesture model loaded from the profile: {len(ck.target_names)} gestures"
                         + gesture_set_change(before, list(ck.target_names)))
        line.show()

    def _start_worker(self) -> bool:
        w = self.window
        if w.worker is None or self.ckpt is None:
            return False
        info = w.session.info
        if info is None or (info.fs is None and not w.session.ready):
            return self.mode == "profile"  # the source's rate is known once it opens: acquisition_started starts it
        if self.profile is not None:
            try:
                self.profile.check_device(n_channels=info.n_channels, fs=info.fs)
            except ProfileError as exc:
                w.show_error(str(exc))
                return False
        self._stop_worker()
        try:
            # pose -> hand in the worker (Qt-free): a fresh HandMapper per worker (the joints kind keeps IK state),
            # the person's bone lengths from the profile, the recorded reference hand in the demo
            hands = LiveHands.for_checkpoint(
                self.ckpt, self._hand(), getattr(self.profile, "bone_lengths_mm", None) if self.profile else None,
                reference=self.assets if self.mode == "demo" else None)
        except PoseContractError as exc:
            w.show_error(str(exc))
            self.dock.what.setText(f"⚠ {exc}")
            return False
        worker = InferenceWorker(self.ckpt, w.worker.emg_ring, decimation=self.decimation,
                                 monitor=self.monitor, hands=hands)
        worker.error.connect(w.show_error)
        worker.status.connect(self._on_status)
        worker.pose_ready.connect(self._receiver.pose_ready)
        self.worker = worker
        self._last_seq = 0
        self._pending.clear()
        view = self._view()
        if view is not None and self._frame_view is not view:
            view.frame_painted.connect(self._on_frame_painted)
            self._frame_view = view
        self.latencies_ms.clear()
        self.draw_times.clear()
        self.drift.reset()
        self._prompted = False
        worker.start()
        self.pacer.start_live()  # the scopes now redraw between the hand's frames
        # the EMG hand beside the camera's (shadow mode) or the demo's reference, never inside
        w.hands.set_layout("side_by_side")
        self._show_hand_view()
        self.dock.stop_button.setEnabled(True)
        return True

    def _stop_worker(self) -> None:
        wk, self.worker = self.worker, None
        if wk is not None:
            stop_checked(wk, "live inference", report=self.window.show_error)
            self.dock.clear_figures()  # what the stopped run drew goes with it
            with self.window.hands.batch():
                self.window.hands.clear("emg")
                self.window.hands.clear("reference")
                self.window.hands.set_layout("overlay")  # the view's own layout again (live put the hands side by side)
        self._pending.clear()
        self.pacer.stop_live()

    def stop(self) -> None:
        """Stop live inference (and the demo's playback, or a model still loading: dropped); a profile does not
        start again by itself."""
        if self.loader.busy:
            self.loader.cancel(self.window.show_error)
            self._set_loading(None)
            self.dock.what.setText("")
        was_demo = self.mode == "demo"
        self._stop_worker()
        self.dock.stop_button.setEnabled(False)
        if self.mode == "profile":
            self.mode = "idle"
        if was_demo:
            self.mode = "idle"
            self.window.stop_acquisition()
            self._restore_device_picker()

    def _on_acquisition_started(self, _worker) -> None:
        if self.mode == "profile" and self.worker is None:
            self._start_worker()

    def _restore_device_picker(self) -> None:
        """After the live demo, the toolbar's device picker shows the user's own device again."""
        combo = self.window.device_combo
        i = combo.findData(self.window.settings.device.kind)
        if i >= 0:
            combo.blockSignals(True)
            combo.setCurrentIndex(i)
            combo.blockSignals(False)

    def _on_acquisition_stopped(self) -> None:
        self._stop_worker()
        self.dock.stop_button.setEnabled(False)
        if self.mode == "demo":
            self.mode = "idle"
            self._restore_device_picker()

    def open_calibration(self) -> None:
        """Open the calibration wizard."""
        wiz = CalibrationWizard(self.window, on_profile=self.load_profile)
        self.window.calibration_wizard = wiz
        wiz.show()

    # ------------------------------------------------------------------ camera (shadow mode)
    def _on_camera_label(self, lab) -> None:
        ik = getattr(lab, "ik", None)
        if ik is not None and getattr(ik, "valid", False):
            self._camera_joints = np.asarray(ik.joints_hand_mm, float)
            self._camera_t = time.perf_counter()
        else:
            self._camera_joints = None

    # ------------------------------------------------------------------ drawing
    def _on_status(self, st: dict) -> None:
        now = time.perf_counter()
        recent = [t for t in self.draw_times if now - t < 2.0]
        view = self._view()
        drawn = ""
        if view is not None:
            drawn = (f", {len(recent) / 2.0:.0f} /s drawn" if view.isVisible()
                     else ", not drawn: the 3D hand panel is hidden (View → 3D hand)")
        self.dock.rate.setText(f"{st['rate_hz']:.0f} /s from the model{drawn}"
                               + (f", {st['lost']} samples lost" if st["lost"] else ""))

    def _scopes_toggled(self, on: bool) -> None:
        """The dock's *Scopes run while live*: the pacer lets the scopes move (or not) while a live hand runs."""
        self.pacer.scopes_while_live = bool(on)

    def _on_frame_painted(self, t: float, gen: int) -> None:
        """The 3D view put a frame on screen: the newest pose handed to it up to ``gen`` is now visible.

        Poses handed before it and never painted on their own were merged into this
        frame: they do not count as drawn.  The scope pacer learns the hand's rhythm from these frames.
        """
        shown = None
        while self._pending and self._pending[0][0] <= gen:
            shown = self._pending.popleft()
        if shown is None or self.worker is None:
            return
        self.latencies_ms.append((t - shown[1]) * 1000.0)
        self.draw_times.append(t)
        self.drawn += 1
        busy = float(np.median(list(self.set_pose_ms)[-25:])) / 1000.0 if self.set_pose_ms else 0.0
        self.pacer.hand_frame(t, busy)

    def poll(self) -> None:  # noqa: C901
        """On ``pose_ready``: show the newest pose (if not shown yet) in the window's hands and update the indicators.

        The worker computed the hands (:class:`~asha_app.inference.pipeline.LivePose`); this only puts them into the
        :class:`~asha_app.pose.scene.HandScene`, as one change that the 3D view paints at once.
        """
        wk = self.worker
        if wk is None:
            return
        _, lp = wk.slot.get()
        if lp is None or lp.seq == self._last_seq:
            return
        self._last_seq = lp.seq
        hand, angles, joints = lp.hand, lp.angles, lp.joints
        hands = self.window.hands
        view = self._view()
        hm = self.hand_model
        mesh = self.dock.mesh_check.isChecked()
        ref = lp.reference if self.mode == "demo" else None
        t_a = time.perf_counter()
        with hands.batch(draw_now=True):  # the EMG hand and the reference in one frame, painted at once
            if hand is not None:
                gen = hands.show("emg", hand if mesh else hand.skeleton_only())
                if view is not None:
                    self._pending.append((gen, lp.t_seen))
            if ref is not None:
                hands.show("reference", ref if mesh else ref.skeleton_only())
            now = time.perf_counter()
        self.handed += 1
        self.handed_latencies_ms.append((now - lp.t_seen) * 1000.0)
        if view is None:  # no OpenGL view: the dock's figures are what the user sees
            self.latencies_ms.append((now - lp.t_seen) * 1000.0)
            self.draw_times.append(now)
            self.drawn += 1
        self.dock.last_pose = np.array(lp.pose)
        self.dock.last_angles = angles
        ref_joints = None
        if ref is not None:
            ref_joints = ref.joints_mm
        elif self._camera_joints is not None and now - self._camera_t < 0.5:
            ref_joints = self._camera_joints
        if view is not None:
            self.set_pose_ms.append((time.perf_counter() - t_a) * 1000.0)
            recent = np.median(list(self.set_pose_ms)[-25:])  # skinning, rendering and painting
            if mesh and self.handed > 50 and recent > MESH_BUDGET_MS:
                self.dock.mesh_check.setChecked(False)
                self.dock.mesh_check.setToolTip(f"Switched off: skinning and drawing took {recent:.0f} ms "
                                                "per pose on this display")
        if ref_joints is not None and joints is not None:
            err = mpjpe_mm(joints, ref_joints)
            drift = self.drift.update(lp.t, err)
            self.dock.error_mm.setText(f"{err:5.1f} mm (median {self.drift.median_mm:.1f} mm over "
                                       f"{self.drift.window_s:.0f} s)")
            if drift and self.mode != "demo" and not self._prompted:
                self._prompted = True
                self.window.banner.show_message(
                    f"The EMG hand has drifted from the camera's hand (median {self.drift.median_mm:.0f} mm for "
                    f"{self.drift.hold_s:.0f} s). The armband may have moved: recalibrate.",
                    [("Calibrate…", self.open_calibration)])
        if self.handed % 15 == 1 and self.latencies_ms:
            lat = np.asarray(self.latencies_ms)
            self.dock.latency.setText(f"p50 {np.percentile(lat, 50):.1f} ms, p95 {np.percentile(lat, 95):.1f} ms")
            if angles is not None:
                flex = finger_flexion_deg(angles, hm.dof_names)
                self.dock.pose_text.setText("  ".join(f"{f[0].upper()} {v:.0f}" for f, v in zip(FINGERS, flex)))
            c = lp.confidence
            if c and np.isfinite(c.get("confidence", np.nan)):
                self.dock.confidence.setValue(int(round(100 * c["confidence"])))
                self.dock.ood.setText("⚠ input unlike the calibration data (armband moved? loose electrode?)"
                                      if c["out_of_range"] else "")
                self.dock.ood.setStyleSheet("color: #b00;" if c["out_of_range"] else "")

    def stats(self) -> dict:
        """Pose rate drawn (per s), latency percentiles (ms), poses drawn."""
        lat = np.asarray(self.latencies_ms) if self.latencies_ms else np.array([np.nan])
        dt = np.asarray(self.draw_times)
        rate = (len(dt) - 1) / (dt[-1] - dt[0]) if len(dt) > 2 else float("nan")
        return {"draw_rate_hz": float(rate), "latency_p50_ms": float(np.nanpercentile(lat, 50)),
                "latency_p95_ms": float(np.nanpercentile(lat, 95)), "drawn": self.drawn}

    def shutdown(self) -> None:
        """Stop the worker and an open calibration (its recorder and fine-tuning threads) (window closing)."""
        wiz = getattr(self.window, "calibration_wizard", None)
        if wiz is not None:
            wiz.shutdown()
        self.loader.cancel(self.window.show_error)  # a model still loading: its result is dropped
        self._set_loading(None)
        self._stop_worker()


def install(window) -> None:
    """Add the Live menu and the "Live hand" dock to the main window (``window.live`` is the controller)."""
    ctl = LiveController(window)
    window.live = ctl
    window.live_dock = ctl.dock
    window.add_panel("live", "Live hand", ctl.dock, Qt.DockWidgetArea.RightDockWidgetArea)
    menu = window.menus["live"]
    for text, fn in (("Calibrate…", ctl.open_calibration), ("Load profile…", ctl.choose_profile),
                     ("Live demo", ctl.start_demo), ("Stop live", ctl.stop)):
        act = QAction(text, window)
        act.triggered.connect(fn)
        menu.addAction(act)
    window.add_shutdown_hook(ctl.shutdown)
