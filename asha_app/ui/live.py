"""Live hand from EMG: the "Live hand" dock, the Live menu (Calibrate…, Load profile…, Live demo), shadow mode.

The GUI thread only draws: an :class:`~asha_app.workers.inference.InferenceWorker`
runs the model on the acquisition ring, fills a latest-pose slot and signals
``pose_ready``; the controller here then takes the newest pose, drives the 3D
hand's ``emg`` slot, the reference (live demo) or compares with the camera's
hand (shadow mode), and updates the indicators.  A pose counts as drawn, and its
latency is measured, when the 3D view has painted the frame that shows it.

* **Live demo**: the bundled real paired Myo + MediaPipe recording
  (``resources/live_demo``, held-out stretch) replayed by the MindRove playback
  board at 500 Hz, the bundled 50 Hz model fed every 10th sample, the recorded
  finger angles shown as the ``reference`` hand, aligned by package number.
* **Profile**: a user profile made by Live → Calibrate… runs on the running device.
* **Shadow mode**: while the camera runs, the live error (mm) between the EMG hand
  and the camera's hand, and a recalibration prompt when its running median stays high.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (QCheckBox, QFileDialog, QFormLayout, QFrame, QGridLayout, QHBoxLayout, QLabel,
                               QProgressBar, QPushButton, QScrollArea, QVBoxLayout, QWidget)

from asha_app.calibration.drift import DriftMonitor, mpjpe_mm
from asha_app.calibration.live_demo import demo_assets
from asha_app.calibration.ood import InputMonitor
from asha_app.calibration.profile import SUFFIX, ProfileError, load_profile
from asha_app.core.errors import AshaError
from asha_app.models import checkpoint as C
from asha_app.pose.contract import FINGERS, PoseContractError, check_drives_hand, finger_flexion_deg
from asha_app.workers.inference import InferenceWorker

log = logging.getLogger(__name__)

#: while live runs, the EMG scopes redraw right after a 3D frame, at most this often (Hz), and at least
#: every ``SCOPE_FALLBACK_MS`` (when no frame comes, e.g. the 3D dock is closed)
SCOPE_HZ_LIVE = 20.0
SCOPE_FALLBACK_MS = 250
#: median time to skin and render a pose above which the skinned mesh is switched off (skeleton only):
#: 25 ms is under 40 frames/s
MESH_BUDGET_MS = 25.0


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
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        scroll.setWidget(body)
        outer.addWidget(scroll)
        lay = QVBoxLayout(body)
        self.what = QLabel("Nothing running. Try Live → Live demo, or load a profile.")
        self.what.setWordWrap(True)
        lay.addWidget(self.what)
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
        self._bs = None
        self._receiver = _GuiReceiver(self.poll, window)
        self._scope_t = 0.0
        self._scope_interval = None  # the scopes' own timer interval, put back when live stops
        d = self.dock
        d.demo_button.clicked.connect(self.start_demo)
        d.profile_button.clicked.connect(self.choose_profile)
        d.calibrate_button.clicked.connect(self.open_calibration)
        d.stop_button.clicked.connect(self.stop)
        d.scopes_check.toggled.connect(self._scopes_toggled)
        window.acquisition_stopped.connect(self._on_acquisition_stopped)
        window.acquisition_started.connect(self._on_acquisition_started)
        window.camera_panel.label_ready.connect(self._on_camera_label)

    # ------------------------------------------------------------------ helpers
    def _hand(self):
        if self.hand_model is None:
            from asha_app.pose.hand_model import HandModel

            self.hand_model = HandModel.builtin("right")
        return self.hand_model

    def _view(self):
        from asha_app.ui.hand_view import HandView

        v = self.window.hand_view
        return v if isinstance(v, HandView) else None

    def _bone_scale(self) -> np.ndarray | None:
        """Per-bone scale of the profile's person (bone lengths from the IK calibration), None without."""
        bl = getattr(self.profile, "bone_lengths_mm", None) if self.profile is not None else None
        if not bl or len(bl) != len(self.hand_model.bone_lengths_mm):
            return None
        return np.asarray(bl, float) / self.hand_model.bone_lengths_mm

    def _to_hand_fn(self):
        """Worker thread callable: pose -> (angles deg, joints mm) with the person's bone lengths.

        A fresh :class:`~asha_app.pose.contract.HandMapper` per worker (the joints kind keeps IK state).
        Raises :class:`~asha_app.pose.contract.PoseContractError` when the model cannot drive the hand.
        """
        mapper = check_drives_hand(self.ckpt, self._hand())
        bs = self._bs

        def to_hand(pose: np.ndarray):
            return mapper.hand(pose, bs)

        return to_hand

    def _reference(self, package: float):
        """Worker thread: the recorded reference hand at a demo file sample."""
        assets = self.assets
        ref = assets.reference_at(package) if assets is not None else None
        if ref is None:
            return None
        a = self.hand_model.angles_from_finger_flexion(ref)
        return a, self.hand_model.forward_np(a)

    # ------------------------------------------------------------------ start / stop
    def start_demo(self) -> bool:
        """Live demo from the bundled real recording (no armband, no camera needed)."""
        w = self.window
        self.stop()
        try:
            assets = demo_assets()
            ckpt = C.load(assets.model_path)
        except AshaError as exc:
            w.show_error(f"The live demo cannot start: {exc}")
            return False
        # the playback file goes through the window's own acquisition path (device "file"); the user's
        # device choice and file are put back in the settings right after the source is built
        dev = w.settings.device
        old = (dev.kind, dev.playback_file)
        dev.kind, dev.playback_file = "file", str(assets.emg_file)
        try:
            w.device_combo.setCurrentIndex(w.device_combo.findData("file"))
            ok = w.start_acquisition()
        finally:
            dev.kind, dev.playback_file = old
        if not ok or w.worker is None:
            self.mode = "idle"
            return False
        w.set_emg_units(assets.meta.get("emg_units", "uV"))  # MiniVIE units x 100, not microvolts
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
            f"(reference). Held-out R² {m.get('r2_mean', float('nan')):.2f}, MAE {m.get('mae_mean', float('nan')):.1f}°.")
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
        from asha_app.calibration.profile import default_path

        start = str(default_path("x").parent)
        path, _ = QFileDialog.getOpenFileName(self.window, "Load a user profile", start,
                                              f"Asha profiles (*{SUFFIX});;All files (*)")
        if path:
            self.load_profile(path)

    def load_profile(self, path: str | Path) -> bool:
        """Load a profile; runs at once when a matching device streams, else when one starts."""
        w = self.window
        wk = w.worker
        try:
            prof = load_profile(path, n_channels=wk.n_channels if wk else None, fs=wk.fs if wk else None)
            check_drives_hand(prof.checkpoint, self._hand())
        except (ProfileError, PoseContractError) as exc:
            w.show_error(f"{Path(path).name}: {exc}")
            return False
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
        if wk is not None:
            return self._start_worker()
        return True

    def _start_worker(self) -> bool:
        w = self.window
        if w.worker is None or self.ckpt is None:
            return False
        if self.profile is not None:
            try:
                self.profile.check_device(n_channels=w.worker.n_channels, fs=w.worker.fs)
            except ProfileError as exc:
                w.show_error(str(exc))
                return False
        self._stop_worker()
        self._hand()  # load the hand model now, not in the first draw
        self._bs = self._bone_scale()
        try:
            to_hand = self._to_hand_fn()
        except PoseContractError as exc:
            w.show_error(str(exc))
            self.dock.what.setText(f"⚠ {exc}")
            return False
        worker = InferenceWorker(self.ckpt, w.worker.emg_ring, decimation=self.decimation,
                                 monitor=self.monitor, to_hand=to_hand,
                                 reference=self._reference if self.mode == "demo" else None)
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
        self._lock_scopes_to_frames(True)
        if view is not None:  # the EMG hand beside the camera's (shadow mode) or the demo's reference, never inside
            view.set_layout("side_by_side")
        self._show_hand_view()
        self.dock.stop_button.setEnabled(True)
        return True

    def _stop_worker(self) -> None:
        wk, self.worker = self.worker, None
        if wk is not None:
            wk.stop(3000)
            self.dock.clear_figures()  # what the stopped run drew goes with it
            view = self._view()
            if view is not None:
                view.clear("emg")
                view.clear("reference")
                view.set_layout("overlay")  # the view's own layout again (live put the hands side by side)
        self._pending.clear()
        self._lock_scopes_to_frames(False)

    def stop(self) -> None:
        """Stop live inference (and the demo's playback); a profile does not start again by itself."""
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
        from asha_app.ui.calibration_wizard import CalibrationWizard

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

    def _lock_scopes_to_frames(self, on: bool) -> None:
        """While live runs, redraw the scopes just after a 3D frame instead of on their own timer.

        A scope frame takes 8-20 ms of the GUI thread on a slow machine; on its own
        timer it often started just before a pose arrived and made that pose wait.  Drawn
        right after a frame it fits in the ~20 ms until the next pose (50 Hz model).
        """
        timer = self.window.draw_timer
        if on and self._scope_interval is None and timer.isActive():  # (stopped scopes stay stopped)
            self._scope_interval = timer.interval()
            timer.setInterval(SCOPE_FALLBACK_MS)
            if not self.dock.scopes_check.isChecked():
                timer.stop()
        elif not on and self._scope_interval is not None:
            timer.setInterval(self._scope_interval)
            self._scope_interval = None
            timer.start()

    def _scopes_toggled(self, on: bool) -> None:
        if self._scope_interval is None:  # live not running: the choice applies when it starts
            return
        if on:
            self.window.draw_timer.start()
        else:
            self.window.draw_timer.stop()

    def _on_frame_painted(self, t: float, gen: int) -> None:
        """The 3D view put a frame on screen: the newest pose handed to it up to ``gen`` is now visible.

        Poses handed before it and never painted on their own were merged into this
        frame: they do not count as drawn.
        """
        if (self._scope_interval is not None and self.dock.scopes_check.isChecked()
                and t - self._scope_t >= 1.0 / SCOPE_HZ_LIVE):
            self._scope_t = t
            QTimer.singleShot(0, self.window.refresh_scopes)
        shown = None
        while self._pending and self._pending[0][0] <= gen:
            shown = self._pending.popleft()
        if shown is None or self.worker is None:
            return
        self.latencies_ms.append((t - shown[1]) * 1000.0)
        self.draw_times.append(t)
        self.drawn += 1

    def poll(self) -> None:
        """On ``pose_ready``: hand the newest pose (if not shown yet) to the 3D view and update the indicators."""
        wk = self.worker
        if wk is None:
            return
        _, lp = wk.slot.get()
        if lp is None or lp.seq == self._last_seq:
            return
        self._last_seq = lp.seq
        angles, joints = lp.angles, lp.joints
        view = self._view()
        hm = self.hand_model
        mesh = self.dock.mesh_check.isChecked()
        t_a = time.perf_counter()
        if view is not None and joints is not None:
            gen = view.set_pose("emg", joints_mm=joints, angles_deg=angles if mesh else None, model=hm,
                                bone_scale=self._bs)
            self._pending.append((gen, lp.t_seen))
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
        if self.mode == "demo" and lp.ref_joints is not None:
            ref_joints = lp.ref_joints
            if view is not None:
                view.set_pose("reference", joints_mm=ref_joints, angles_deg=lp.ref_angles if mesh else None, model=hm)
        elif self._camera_joints is not None and now - self._camera_t < 0.5:
            ref_joints = self._camera_joints
        if view is not None:
            view.draw_now()
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
