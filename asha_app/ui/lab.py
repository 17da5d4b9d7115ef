"""Lab feature of the main window: LSL outlets and marker inlets, the LSL state in the status bar, the self-test.

``install(window)`` (called by :func:`asha_app.app.install_features`) adds a
:class:`LabController` as ``window.lab``.  It

* runs an :class:`~asha_app.workers.lsl.LslWorker` while LSL is switched on
  (Settings → Lab Streaming Layer) and re-attaches it to each new acquisition;
* shows "LSL: off" / "LSL: 4 outlets" in the status bar (hover: the reason);
* writes every LSL marker into the running recording at its sender's time on
  the session clock (label ``"LSL <stream>: <marker>"``), and notes when a
  marker stream stops and comes back;
* publishes the recording's prompts and markers on the ``markers`` outlet
  (:meth:`LabController.prompt_event`, called by the recording wizard);
* gives the recording wizard the LSL attributes of a new session file
  (:meth:`LabController.session_attrs`): the LSL clock offset, the outlets and
  marker streams, and the last self-test;
* runs the synchronization self-test (:meth:`LabController.open_selftest`, the
  Settings button).
"""

from __future__ import annotations

import logging
import time

import numpy as np
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox, QProgressDialog

from asha_app.core.settings import LslSettings
from asha_app.devices.lsl_sync import run_selftest
from asha_app.pose.hand_model import HandModel
from asha_app.workers.base import stop_checked
from asha_app.workers.export import JobWorker
from asha_app.workers.lsl import LslWorker

log = logging.getLogger(__name__)


def _dof_names() -> list[str]:
    try:
        return list(HandModel.builtin("right").dof_names)
    except Exception as exc:  # noqa: BLE001 - the pose outlets are skipped, the rest runs
        log.warning("hand model unavailable, no pose outlets: %s", exc)
        return []


class LabController:
    """Owns the LSL worker of one main window (see the module docstring)."""

    def __init__(self, window) -> None:
        self.window = window
        self.worker: LslWorker | None = None
        self.last_status: dict = {"available": False, "message": "LSL is off (Settings → Lab Streaming Layer)."}
        self.last_selftest: dict | None = None
        self.markers_recorded: list[tuple[str, float]] = []
        self.stream_events: list[tuple[str, str, float]] = []
        self.recorder_provider = self._wizard_recorder
        self._dofs: list[str] | None = None
        self.label = QLabel("LSL: —")
        self.label.setToolTip(self.last_status["message"])
        window.statusBar().addPermanentWidget(self.label)
        window.acquisition_started.connect(self._on_acquisition)
        window.acquisition_stopped.connect(lambda: self.worker.attach(None) if self.worker else None)

    # ------------------------------------------------------------------ lifecycle
    def apply_settings(self) -> None:
        """Start, restart or stop the LSL worker to match ``window.settings.lsl``."""
        self.stop()
        s = self.window.settings.lsl
        if not s.enabled:
            self._show({"available": False, "message": "LSL is off (Settings → Lab Streaming Layer to switch it on)."})
            return
        if self._dofs is None:
            self._dofs = _dof_names()
        w = self.window
        worker = LslWorker(w.clock, s.model_copy(), self._dofs, camera_slot=self._camera_slot,
                           pose_slot=self._pose_slot)
        worker.status.connect(self._show)
        worker.marker_received.connect(self._on_marker)
        worker.stream_event.connect(self._on_stream_event)
        self.worker = worker
        if w.worker is not None:
            worker.attach(w.worker)
        worker.start()

    def stop(self) -> None:
        """Stop the worker (its outlets leave the network)."""
        wk, self.worker = self.worker, None
        if wk is not None:
            stop_checked(wk, "the LSL worker", report=self.window.show_error)

    def _on_acquisition(self, acq) -> None:
        if self.worker is not None:
            self.worker.attach(acq)

    def _camera_slot(self):
        cam = getattr(getattr(self.window, "camera_panel", None), "worker", None)
        return getattr(cam, "latest", None) if cam is not None and cam.isRunning() else None

    def _pose_slot(self):
        live = getattr(self.window, "live", None)
        wk = getattr(live, "worker", None)
        return getattr(wk, "slot", None) if wk is not None else None

    # ------------------------------------------------------------------ status and markers
    def _show(self, st: dict) -> None:
        self.last_status = st
        if not st.get("available"):
            if self.window.settings.lsl.enabled and self.label.text() != "LSL: off":
                self.window.statusBar().showMessage(st.get("message", ""), 8000)  # switched on, but cannot run
            self.label.setText("LSL: off")
        else:
            n = len(st.get("outlets", {}))
            inl = st.get("inlets", [])
            self.label.setText(f"LSL: {n} outlets" + (f", {len(inl)} marker streams" if inl else ""))
        self.label.setToolTip(st.get("message", ""))

    def _wizard_recorder(self):
        wiz = getattr(self.window, "recording_wizard", None)
        page = getattr(wiz, "session_page", None) if wiz is not None else None
        rec = getattr(page, "recorder", None) if page is not None else None
        return rec if rec is not None and rec.isRunning() else None

    def _on_marker(self, stream: str, label: str, t: float) -> None:
        text = f"LSL {stream}: {label}"
        self.markers_recorded.append((text, t))
        rec = self.recorder_provider()
        if rec is not None:
            rec.add_marker(text, t)
        self.window.statusBar().showMessage(f"{text} at {t:.3f} s" + ("" if rec is not None else " (not recording)"),
                                            3000)

    def _on_stream_event(self, kind: str, text: str, t: float) -> None:
        self.stream_events.append((kind, text, t))
        rec = self.recorder_provider()
        if rec is not None:
            rec.add_marker(text, t)
        self.window.statusBar().showMessage(text, 5000)

    def prompt_event(self, kind: str, label: str, t: float, **fields) -> None:
        """Publish a recording event on the ``markers`` outlet (``prompt_start``, ``prompt_end``, ``marker``...)."""
        if self.worker is not None:
            self.worker.send_marker(kind, label, t, **fields)

    def session_attrs(self) -> dict:
        """Writer keyword arguments for a new session file: LSL clock offset, LSL streams, last self-test."""
        out: dict = {}
        wk = self.worker
        if wk is not None and wk.lsl_clock is not None:
            out["lsl_clock_offset_s"] = float(wk.lsl_clock.measure()[0])
            out["lsl"] = {"scope": wk.settings.scope, "outlets": {k: o.name for k, o in wk.outlets.items()},
                          "clock_offset_uncertainty_ms": wk.lsl_clock.uncertainty * 1e3,
                          "marker_streams": wk.inlets.summary() if wk.inlets is not None else []}
        if self.last_selftest is not None:
            out["sync_selftest"] = self.last_selftest
        return out

    # ------------------------------------------------------------------ self-test
    def camera_tap_data(self, seconds: float = 5.0) -> dict | None:
        """Collect EMG and camera landmarks for ``seconds`` while the user taps (None without both streams)."""
        w = self.window
        cam = getattr(getattr(w, "camera_panel", None), "worker", None)
        if w.worker is None or not w.session.ready or cam is None or not cam.isRunning():
            return None  # (the rings are final once the source is open)
        reader = w.worker.emg_ring.reader()
        frames: list[tuple[float, np.ndarray]] = []
        seen = 0
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            seq, lab = cam.latest.get()
            if lab is not None and seq != seen:
                seen = seq
                j = getattr(lab.ik, "joints_world_mm", None)
                if j is None and lab.world_landmarks is not None:
                    j = np.asarray(lab.world_landmarks) * 1000.0
                frames.append((lab.t, np.full((21, 3), np.nan) if j is None or not lab.valid else np.asarray(j)))
            QApplication.processEvents()
            time.sleep(0.01)
        r = reader.read()
        if not r.n or len(frames) < 10:
            return None
        return {"emg_t": r.data["t"][:, 0], "emg": r.data["filtered"], "label_t": np.array([f[0] for f in frames]),
                "joints_mm": np.stack([f[1] for f in frames]), "fs": w.worker.fs}

    def open_selftest(self, parent=None):
        """Run the self-test in a worker thread (after a tap phase when a camera runs); show and keep the result.

        Returns the :class:`~asha_app.workers.export.JobWorker` running it (its ``all_done`` signals the end).
        """
        from asha_app.data.integrity import format_selftest  # noqa: PLC0415 - h5py on first use

        parent = parent or self.window
        s: LslSettings = self.window.settings.lsl
        camera = None
        cam = getattr(getattr(self.window, "camera_panel", None), "worker", None)
        if cam is not None and cam.isRunning() and self.window.session.ready:
            QMessageBox.information(parent, "Synchronization self-test",
                                    "After OK, tap the table sharply 3 times, about a second apart, with the hand in "
                                    "the camera's view and the armband on.")
            camera = self.camera_tap_data()
        clock = self.window.clock
        job = JobWorker([("synchronization self-test",
                          lambda _progress: run_selftest(clock, enabled=True, scope=s.scope, seconds=2.0,
                                                         camera=camera))])
        busy = QProgressDialog("Measuring LSL loopback and marker timing…", None, 0, 0, parent)
        busy.setWindowTitle("Synchronization self-test")
        busy.setMinimumDuration(0)
        busy.show()

        def done(_i, res) -> None:
            self.last_selftest = res
            box = QMessageBox(parent)
            box.setWindowTitle("Synchronization self-test")
            box.setText(format_selftest(res))
            box.setInformativeText("New recordings store this result and show it in their summary.")
            box.setModal(False)
            box.show()
            self.result_box = box

        job.job_done.connect(done)
        job.job_failed.connect(lambda _i, msg: QMessageBox.warning(parent, "Synchronization self-test", msg))
        job.all_done.connect(lambda _r: busy.close())
        self.selftest_job = job
        job.start()
        return job

def install(window) -> None:
    """Add the lab controller (``window.lab``) and start LSL when the settings switch it on."""
    ctl = LabController(window)
    window.lab = ctl
    if hasattr(window, "settings_changed"):
        window.settings_changed.connect(ctl.apply_settings)
    window.add_shutdown_hook(ctl.stop)
    ctl.apply_settings()
