"""The session page: the session file, the recorder on the acquisition and camera rings, and the procedure."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWizardPage

from asha_app.core.errors import AshaError, RecordingFileError
from asha_app.data.integrity import check_session
from asha_app.data.schema import OffsetSource
from asha_app.data.writer import SessionWriter
from asha_app.pose.hand_model import HandModel
from asha_app.protocols.procedure import EventKind, RecordingProcedure
from asha_app.ui.procedure_view import CameraLabelFeed, ProcedureView
from asha_app.ui.recording_wizard.common import camera_worker, error_label, session_path
from asha_app.workers.base import stop_checked
from asha_app.workers.recorder import RecorderWorker

if TYPE_CHECKING:
    from asha_app.ui.recording_wizard.wizard import RecordingWizard


class SessionPage(QWizardPage):
    """Run the protocol: prompt, target pose, countdown, progress, valid labels, pause/redo/abort, markers.

    Keys: ``M`` sets a marker, ``1``..``9`` numbered markers, ``Space`` pauses/resumes.
    """

    def __init__(self, wizard: RecordingWizard) -> None:
        super().__init__()
        self.wiz = wizard
        self.setTitle("Recording")
        self.view = ProcedureView(lambda: self.wiz.window.clock.now(), self._handle,
                                  getattr(self.wiz.window, "hands", None))
        # the view's parts, under the names this page has always had
        v = self.view
        self.prompt_label, self.instruction = v.prompt_label, v.instruction
        self.countdown, self.progress = v.countdown, v.progress
        self.next_label, self.valid_label = v.next_label, v.valid_label
        self.pause_button, self.redo_button, self.abort_button = v.pause_button, v.redo_button, v.abort_button
        self.prompt_label.setText("Press Start when the participant is ready.")
        self.recorder_label = QLabel("")
        self.file_label = QLabel("")
        self.file_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error = error_label()
        self.start_button = QPushButton("Start")
        self.marker_button = QPushButton("Marker (M)")
        self.marker_button.setEnabled(False)
        for b in (self.start_button, self.marker_button):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys (M, 1-9, Space) go to the page, never click a focused Abort
        v.buttons.insertWidget(0, self.start_button)
        v.buttons.addWidget(self.marker_button)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        lay = QVBoxLayout(self)
        lay.addWidget(self.view)
        lay.addWidget(self.recorder_label)
        lay.addWidget(self.file_label)
        lay.addWidget(self.error)
        lay.addStretch(1)
        self.start_button.clicked.connect(self.start_recording)
        self.marker_button.clicked.connect(lambda: self.add_marker("marker"))
        self.timer = QTimer(self)
        self.timer.setInterval(40)
        self.timer.timeout.connect(self.tick)
        self.procedure: RecordingProcedure | None = None
        self.recorder: RecorderWorker | None = None
        self.writer: SessionWriter | None = None
        self.path: Path | None = None
        self._labels = CameraLabelFeed(wizard.window)
        self.failed: str | None = None
        self.recorder_status: dict = {}
        self._done = False
        self._dof_names: list[str] = []
        self._t_started = 0.0
        self._rest_deg = None

    # ------------------------------------------------------------------ lifecycle
    def initializePage(self) -> None:  # noqa: N802 - Qt name
        self.procedure = self.wiz.model.start_session()
        m = self.wiz.model
        self.path = session_path(m.participant.pseudonym, folder=self.wiz.sessions_dir)
        self.file_label.setText(f"File: {self.path}")
        self.prompt_label.setText("Press Start when the participant is ready.")
        self.instruction.setText(f"{m.protocol.name}: about {m.protocol.planned_duration_s:.0f} s.")

    def isComplete(self) -> bool:  # noqa: N802 - Qt name
        return self._done

    @property
    def running(self) -> bool:
        """True while the recorder thread runs."""
        return self.recorder is not None and self.recorder.isRunning()

    def _hand_model(self):
        side = self.wiz.model.participant.hand if self.wiz.model.participant else "right"
        return HandModel.builtin(side)

    def _metadata(self, worker) -> dict:
        w = self.wiz.window
        info = w.session.info  # the opened source, as the session controller reports it
        cam = camera_worker(w)
        md = self.wiz.model.session_metadata()
        md["app_settings"] = {**md["app_settings"], "app": w.settings.model_dump(mode="json")}
        model = self._hand_model()
        camera = {"running": cam is not None and cam.isRunning()}
        if cam is not None:
            camera.update(name=str(getattr(cam.source, "name", "")), mirror=bool(getattr(cam.source, "mirror", False)),
                          is_file=bool(getattr(cam.source, "is_file", False)))
        return dict(
            device={"kind": info.kind, "description": info.description,
                    "fs": worker.fs, "n_channels": worker.n_channels,
                    "channel_names": list(info.channel_names),
                    "package_modulus": info.package_modulus,
                    "has_imu": bool(info.has_imu),
                    # names of the board's marker codes (the demo's gesture labels), so a replay can show them
                    "marker_names": {f"{k:g}": v for k, v in info.marker_names.items()}},
            camera=camera,
            hand_model={"kind": "builtin WebXR generic hand", "side": model.side if hasattr(model, "side") else "",
                        "dof_names": list(model.dof_names), "ik_valid_threshold_mm": 15.0},
            filter_spec=worker.filter_spec, session_t0_unix=w.clock.t0_unix,
            emg_to_video_offset_s=0.0, offset_source=OffsetSource.ASSUMED, **md,
            **(w.lab.session_attrs() if getattr(w, "lab", None) is not None else {}),  # LSL clock offset, self-test
        )

    def start_recording(self) -> bool:
        """Open the session file, start the recorder and the procedure; False (message shown) if it cannot."""
        if self.procedure is None or self.recorder is not None:
            return False
        w = self.wiz.window
        worker = w.worker
        if worker is None or not w.session.ready:
            self.error.setText("No EMG stream is running: start the device (or the demo) in the main window first.")
            return False
        info = w.session.info
        model = self._hand_model()
        self._dof_names = list(model.dof_names)
        self._rest_deg = getattr(model, "rest_deg", None)
        try:
            self.writer = SessionWriter(self.path, worker.n_channels, worker.fs, self._dof_names,
                                        package_modulus=info.package_modulus,
                                        package_restart=info.package_restart,
                                        **self._metadata(worker))
        except (RecordingFileError, ValueError) as exc:
            self.error.setText(str(exc))
            w.show_error(str(exc))
            return False
        self.error.setText("")
        self._labels = CameraLabelFeed(w)
        self._labels.follow()  # labels from before the start do not belong to the session (the recorder too reads
        # the camera's ring from its current end)
        imu = worker.imu_ring if info.has_imu else None  # no IMU: no all-zero IMU rows
        self.recorder = RecorderWorker(self.writer, worker.emg_ring, imu, self._labels.ring, poll_ms=50)
        self.recorder.setObjectName("RecorderWorker")
        self.recorder.error.connect(self._on_recorder_error)
        self.recorder.status.connect(self._on_recorder_status)
        self.recorder.finished.connect(self._on_recorder_finished)
        self.recorder.start()
        self._t_started = w.clock.now()
        side = self.wiz.model.participant.hand if self.wiz.model.participant else "right"
        self.view.attach(self.procedure, self._dof_names, self._rest_deg, side)
        self._handle(self.procedure.start(self._t_started))
        self.start_button.setEnabled(False)
        self.view.set_active(True)
        self.marker_button.setEnabled(True)
        self.timer.start()
        self.setFocus()
        self.tick()
        return True

    # ------------------------------------------------------------------ user actions
    def toggle_pause(self) -> None:
        """Pause (a prompt in progress is discarded and repeated) or resume."""
        self.view.toggle_pause()

    def redo(self) -> None:
        """Throw away the current or last repetition and record it again."""
        self.view.redo()

    def abort(self) -> None:
        """Stop the session for good (completed repetitions are kept in the file)."""
        self.view.abort()

    def add_marker(self, label: str = "marker") -> None:
        """Set a free marker now (key M or 1-9)."""
        p = self.procedure
        if p is None or self.recorder is None or not self.running:
            return
        now = self.wiz.window.clock.now()
        ev = p.add_marker(label, now)
        self.recorder.add_marker(ev.prompt.label, ev.prompt.start)
        lab = getattr(self.wiz.window, "lab", None)
        if lab is not None:
            lab.prompt_event("marker", ev.prompt.label, ev.prompt.start)
        if self.wiz.window.worker is not None:
            self.wiz.window.worker.insert_marker(100.0)
        self.recorder_label.setText(f"marker '{label}' at {now:.2f} s")

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt name
        key = event.key()
        if key == Qt.Key.Key_M:
            self.add_marker("marker")
        elif Qt.Key.Key_1 <= key <= Qt.Key.Key_9:
            self.add_marker(f"marker {key - Qt.Key.Key_0}")
        elif key == Qt.Key.Key_Space:
            self.toggle_pause()
        else:
            super().keyPressEvent(event)

    # ------------------------------------------------------------------ the loop (GUI thread)
    def _read_labels(self) -> None:
        """The valid-label share of the procedure from the camera's labels (the recorder reads them itself); a
        camera started again while recording is handed to the recorder."""
        if self._labels.follow() and self.recorder is not None and self.recorder.isRunning():
            self.recorder.set_labels(self._labels.ring)
        labels = self._labels.read()
        if labels:
            self.procedure.feed_labels([float(lab.t) for lab in labels], [bool(lab.valid) for lab in labels])

    def _handle(self, events) -> None:
        rec = self.recorder
        lab = getattr(self.wiz.window, "lab", None)
        for ev in events:
            if lab is not None and ev.kind in (EventKind.PROMPT_START, EventKind.PROMPT_END,
                                               EventKind.PROMPT_DISCARDED):
                p, step = ev.prompt, ev.step
                label = p.label if p is not None else (getattr(step, "label", "") or "")
                rep = p.repetition if p is not None else int(getattr(step, "repetition", -1))
                extra = {"duration_s": p.end - p.start} if (ev.kind == EventKind.PROMPT_END and p is not None) else {}
                lab.prompt_event(ev.kind.value, label, p.end if extra else ev.t, repetition=rep, **extra)
            if rec is not None and rec.isRunning():
                if ev.kind == EventKind.PROMPT_END:
                    rec.add_prompt(ev.prompt)
                elif ev.kind == EventKind.PROMPT_DISCARDED:
                    rec.add_prompt(ev.prompt, discarded=True)

    def tick(self) -> None:
        """Advance the procedure to ``clock.now()`` and redraw (QTimer, 25 Hz)."""
        p = self.procedure
        if p is None or self.recorder is None:
            return
        now = self.wiz.window.clock.now()
        if not p.finished:
            self._read_labels()
            self._handle(p.tick(now))
        self._draw(now)
        if p.finished and not self._stopping_started():
            self._stop_recorder()

    def _stopping_started(self) -> bool:
        return getattr(self, "_stop_requested", False)

    def _stop_recorder(self) -> None:
        self._stop_requested = True
        self.view.set_active(False)
        self.marker_button.setEnabled(False)
        self.recorder_label.setText("saving and checking the file…")
        if self.recorder is not None:
            self.recorder.requestInterruption()  # it drains, finalizes, then finishes (no wait here)

    def _draw(self, now: float) -> None:
        p = self.procedure
        self.view.draw(now)
        s = self.recorder_status
        if s and not p.finished:
            secs = max(0.0, s.get("seconds", 0.0) - self._t_started)
            self.recorder_label.setText(f"recorded {secs:.1f} s · {s.get('emg', 0)} EMG samples · "
                                        f"{s.get('frames', 0)} camera frames · dropped {s.get('dropped_device', 0)}"
                                        f"+{s.get('dropped_host', 0)}")

    # ------------------------------------------------------------------ recorder signals
    def _on_recorder_status(self, status: dict) -> None:
        self.recorder_status = status

    def _on_recorder_error(self, message: str, traceback: str = "") -> None:
        self.failed = message
        self.error.setText(message)
        self.wiz.window.show_error(message, traceback)
        if self.procedure is not None and not self.procedure.finished:
            self.procedure.abort(self.wiz.window.clock.now())
        self._stop_requested = True

    def _on_recorder_finished(self) -> None:
        self.timer.stop()
        if self.procedure is not None and not self.procedure.finished:  # stopped from outside: end the procedure too
            self.procedure.abort(self.wiz.window.clock.now())
        self.view.set_active(False)
        report = None
        try:
            report = check_session(self.path)
        except AshaError as exc:
            self.failed = (self.failed + "\n" if self.failed else "") + str(exc)
        self.wiz.model.finish(report)
        self._done = True
        self.recorder_label.setText("file saved" if self.failed is None else "recording stopped with an error")
        self.completeChanged.emit()
        self.wiz.session_finished()

    def acquisition_lost(self) -> None:
        """The EMG stream stopped under a running session: abort it (the file keeps what was recorded)."""
        if self.running and self.procedure is not None and not self.procedure.finished:
            msg = ("The EMG stream stopped during the session; the session was aborted "
                   "(the file keeps what was recorded).")
            self.error.setText(msg)
            self._handle(self.procedure.abort(self.wiz.window.clock.now()))
            self.tick()

    def shutdown(self, timeout_ms: int = 8000) -> None:
        """Abort and wait for the recorder (window closing)."""
        if self.running and self.procedure is not None and not self.procedure.finished:
            self.error.setText("The wizard was closed during the session; the session was aborted.")
            self._handle(self.procedure.abort(self.wiz.window.clock.now()))
        if self.recorder is not None and self.recorder.isRunning():
            stop_checked(self.recorder, "the recorder", timeout_ms, self.wiz.window.show_error)
        self.timer.stop()
