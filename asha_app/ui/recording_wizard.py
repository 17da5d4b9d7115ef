"""The guided recording wizard: thin Qt pages over :class:`asha_app.protocols.wizard.SessionWizard`.

Pages::

    Participant -> Device & camera check -> Protocol -> Session -> Summary

* The **check** page shows the live per-channel quality flags of the running
  acquisition worker and the camera's share of valid hand labels over the last
  few seconds; problems must be acknowledged to go on.
* The **session** page opens the session file
  (``data_dir()/sessions/<participant>_<date>.h5``), starts a
  :class:`~asha_app.workers.recorder.RecorderWorker` on the acquisition rings
  and on a queue that this page fills from the camera worker's labels (each
  :class:`~asha_app.workers.camera.CameraLabel` converted to a
  :class:`~asha_app.data.schema.CameraLabelFrame` by
  :func:`camera_label_to_frame`), and drives the
  :class:`~asha_app.protocols.procedure.RecordingProcedure` with
  ``window.clock.now()`` on a QTimer; what the participant sees (prompt,
  countdown, progress, target hand, Pause/Redo/Abort) is the
  :class:`~asha_app.ui.procedure_view.ProcedureView` that the calibration
  wizard shows too.  Prompt records go to the recorder as the
  procedure emits them; redone or cut-short repetitions are written as
  discarded records.  A recorder error (disk full, folder not writable) aborts
  the procedure and is shown; the file stays valid up to its last flush.
* The **summary** page shows the integrity report of the written file.
"""

from __future__ import annotations

import logging
import queue
from datetime import datetime
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QFormLayout, QGridLayout, QHBoxLayout, QLabel,
                               QLineEdit, QListWidget, QListWidgetItem, QPlainTextEdit, QPushButton,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWizard, QWizardPage)

from asha_app.core import paths
from asha_app.core.errors import AshaError, ConfigError, RecordingFileError
from asha_app.data.integrity import check_session
from asha_app.data.schema import CameraLabelFrame, OffsetSource
from asha_app.data.writer import SessionWriter
from asha_app.protocols.model import Protocol, builtin_protocols, load_protocol
from asha_app.protocols.procedure import EventKind, RecordingProcedure, State
from asha_app.protocols.wizard import Page, SessionWizard, WizardInputError, evaluate_device_check
from asha_app.ui.procedure_view import ProcedureView
from asha_app.workers.recorder import RecorderWorker, make_frame_queue

log = logging.getLogger(__name__)

#: Seconds of camera labels the device check looks at.
CHECK_WINDOW_S = 3.0


# ---------------------------------------------------------------------- Qt-free helpers
def camera_label_to_frame(label) -> CameraLabelFrame:
    """Convert the camera worker's :class:`~asha_app.workers.camera.CameraLabel` into a :class:`CameraLabelFrame`.

    A label without a fit keeps ``ik=None``.  Arrays are copied (:meth:`IKResult.copy`) so
    that the recorder thread never shares them with the camera thread.
    """
    ik = getattr(label, "ik", None)
    ikr = None if ik is None else ik.copy()

    def arr(x):
        return None if x is None else np.array(x, np.float32, copy=True)

    return CameraLabelFrame(t=float(label.t), image_landmarks=arr(label.image_landmarks),
                            world_landmarks=arr(label.world_landmarks), handedness=label.handedness or "",
                            confidence=float(label.confidence or 0.0), ik=ikr)


def session_path(pseudonym: str, when: datetime | None = None, folder: Path | None = None) -> Path:
    """``<folder>/<pseudonym>_<YYYY-mm-dd_HHMMSS>.h5`` (default folder ``data_dir()/sessions``), never an existing file."""
    folder = folder or (paths.data_dir() / "sessions")
    stamp = (when or datetime.now()).strftime("%Y-%m-%d_%H%M%S")
    return paths.unique_path(folder / f"{pseudonym}_{stamp}.h5")


def _error_label() -> QLabel:
    lab = QLabel("")
    lab.setWordWrap(True)
    lab.setStyleSheet("color: #b00020;")
    lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return lab


def _camera_worker(window):
    panel = getattr(window, "camera_panel", None)
    return getattr(panel, "worker", None) if panel is not None else None


# ---------------------------------------------------------------------- pages
class ParticipantPage(QWizardPage):
    """Pseudonymous ID, arm, hand, notes and consent."""

    def __init__(self, wizard: RecordingWizard) -> None:
        super().__init__()
        self.wiz = wizard
        self.setTitle("Participant")
        self.setSubTitle("Use a code (such as P07), never a name. Consent is recorded with its time.")
        self.pseudonym = QLineEdit()
        self.pseudonym.setPlaceholderText("P07")
        self.arm = QComboBox()
        self.arm.addItems(["right", "left"])
        self.hand = QComboBox()
        self.hand.addItems(["right", "left"])
        self.notes = QPlainTextEdit()
        self.notes.setMaximumHeight(80)
        self.consent = QCheckBox("The participant has given informed consent to this recording")
        self.error = _error_label()
        form = QFormLayout(self)
        form.addRow("Participant ID", self.pseudonym)
        form.addRow("Arm wearing the armband", self.arm)
        form.addRow("Hand filmed", self.hand)
        form.addRow("Notes", self.notes)
        form.addRow(self.consent)
        form.addRow(self.error)

    def validatePage(self) -> bool:  # noqa: N802 - Qt name
        m = self.wiz.model
        try:
            m.set_participant(pseudonym=self.pseudonym.text().strip(), arm=self.arm.currentText(),
                              hand=self.hand.currentText(), notes=self.notes.toPlainText(),
                              consent_given=self.consent.isChecked())
            m.page = Page.PARTICIPANT
            m.advance()
        except WizardInputError as exc:
            self.error.setText(str(exc))
            return False
        self.error.setText("")
        return True


class DeviceCheckPage(QWizardPage):
    """Live EMG channel quality and camera label validity; warnings must be acknowledged."""

    def __init__(self, wizard: RecordingWizard) -> None:
        super().__init__()
        self.wiz = wizard
        self.setTitle("Device and camera check")
        self.setSubTitle("Ask the participant to relax, then to move the hand in front of the camera.")
        self.channel_labels = [QLabel("—") for _ in range(8)]
        grid = QGridLayout()
        for i, lab in enumerate(self.channel_labels):
            grid.addWidget(QLabel(f"EMG {i + 1}"), i // 4, 2 * (i % 4))
            grid.addWidget(lab, i // 4, 2 * (i % 4) + 1)
        self.device_label = QLabel("")
        self.device_label.setWordWrap(True)
        self.camera_label = QLabel("camera: not running")
        self.warnings = QLabel("")
        self.warnings.setWordWrap(True)
        self.acknowledge = QCheckBox("I have read the warnings and want to record anyway")
        self.acknowledge.setEnabled(False)
        self.demo_button = QPushButton("Start demo EMG + demo video")
        self.camera_button = QPushButton("Start camera (demo video)")
        self.error = _error_label()
        buttons = QHBoxLayout()
        buttons.addWidget(self.demo_button)
        buttons.addWidget(self.camera_button)
        buttons.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addWidget(self.device_label)
        lay.addLayout(grid)
        lay.addWidget(self.camera_label)
        lay.addLayout(buttons)
        lay.addWidget(self.warnings)
        lay.addWidget(self.acknowledge)
        lay.addWidget(self.error)
        lay.addStretch(1)
        self.demo_button.clicked.connect(lambda: self.wiz.window.start_demo(with_camera=True))
        self.camera_button.clicked.connect(lambda: self.wiz.window.camera_panel.start("demo"))
        self._frames: list[tuple[float, bool]] = []
        self.flags: list = []
        self.share: float | None = None
        self.result = None
        self.timer = QTimer(self)
        self.timer.setInterval(300)
        self.timer.timeout.connect(self.poll)

    def initializePage(self) -> None:  # noqa: N802 - Qt name
        self._frames = []
        self.acknowledge.setChecked(False)
        self.poll()
        self.timer.start()

    def cleanupPage(self) -> None:  # noqa: N802 - Qt name
        self.timer.stop()
        self.wiz.model.page = Page.DEVICE_CHECK
        self.wiz.model.back()

    def poll(self) -> None:
        """Refresh flags, camera share and warnings (timer, GUI thread)."""
        w = self.wiz.window
        worker = w.worker
        now = w.clock.now()
        if worker is None:
            self.flags = []
            self.device_label.setText("No EMG device is running: start one in the main window, or the demo.")
        else:
            s = worker.stats()
            self.flags = list(s.quality)
            self.device_label.setText(f"{worker.source.description if worker.source else 'EMG'}: {s.state}, "
                                      f"{s.rate_hz:.0f} Hz, dropped {s.dropped}")
        for i, lab in enumerate(self.channel_labels):
            if i < len(self.flags):
                name = getattr(self.flags[i], "value", str(self.flags[i]))
                lab.setText(name)
                lab.setStyleSheet("color: #1b7f3b;" if name == "ok" else "color: #b00020; font-weight: bold;")
            else:
                lab.setText("—")
                lab.setStyleSheet("")
        cam = _camera_worker(w)
        if cam is not None and cam.isRunning():
            for lab in cam.labels.drain():
                self._frames.append((float(lab.t), bool(lab.valid)))
            self._frames = [f for f in self._frames if f[0] >= now - CHECK_WINDOW_S]
            self.share = float(np.mean([v for _, v in self._frames])) if self._frames else None
            self.camera_label.setText(
                f"camera: {len(self._frames)} frames in the last {CHECK_WINDOW_S:g} s, "
                + ("no frames yet" if self.share is None else f"{100 * self.share:.0f} % with a valid hand pose"))
        else:
            self._frames = []
            self.share = None
            self.camera_label.setText("camera: not running (the session will have no hand-pose labels)")
        self.result = evaluate_device_check(self.flags, self.share)
        if self.result.warnings:
            self.warnings.setText("Warnings:\n• " + "\n• ".join(self.result.warnings))
            self.warnings.setStyleSheet("color: #8a5a00;")
        else:
            self.warnings.setText("All channels and the camera look fine.")
            self.warnings.setStyleSheet("color: #1b7f3b;")
        self.acknowledge.setEnabled(bool(self.result.warnings))

    def validatePage(self) -> bool:  # noqa: N802 - Qt name
        self.poll()
        m = self.wiz.model
        if self.wiz.window.worker is None:
            self.error.setText("Start the EMG device (or the demo) first: a session needs an EMG stream.")
            return False
        m.set_device_check(self.flags, self.share)
        if not m.device_check.ok and self.acknowledge.isChecked():
            m.acknowledge_warnings()
        try:
            m.page = Page.DEVICE_CHECK
            m.advance()
        except WizardInputError as exc:
            self.error.setText(str(exc))
            return False
        self.error.setText("")
        self.timer.stop()
        return True


class ProtocolPage(QWizardPage):
    """Choose a built-in protocol or load a protocol file."""

    def __init__(self, wizard: RecordingWizard) -> None:
        super().__init__()
        self.wiz = wizard
        self.setTitle("Protocol")
        self.setSubTitle("What the participant will be asked to do.")
        self.list = QListWidget()
        self.load_button = QPushButton("Load protocol file…")
        self.details = QLabel("")
        self.details.setWordWrap(True)
        self.error = _error_label()
        lay = QVBoxLayout(self)
        lay.addWidget(self.list, 1)
        row = QHBoxLayout()
        row.addWidget(self.load_button)
        row.addStretch(1)
        lay.addLayout(row)
        lay.addWidget(self.details)
        lay.addWidget(self.error)
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, "To the recording")
        self.protocols: list[Protocol] = []
        try:
            for _key, proto in builtin_protocols().items():
                self.add_protocol(proto, select=False)
        except ConfigError as exc:  # a damaged installation: say so, let the user load a file
            self.error.setText(str(exc))
        if self.list.count():
            self.list.setCurrentRow(0)
        self.list.currentRowChanged.connect(self._show_details)
        self.load_button.clicked.connect(self._choose_file)
        self._show_details(self.list.currentRow())

    def add_protocol(self, protocol: Protocol, select: bool = True, source: str = "built-in") -> None:
        """Add ``protocol`` to the list (and select it)."""
        self.protocols.append(protocol)
        item = QListWidgetItem(f"{protocol.name}  ({protocol.planned_duration_s / 60:.1f} min, {source})")
        self.list.addItem(item)
        if select:
            self.list.setCurrentRow(self.list.count() - 1)

    def load_file(self, path: str | Path) -> bool:
        """Load a protocol TOML file; on error show the message (it names the file, line and key)."""
        try:
            proto = load_protocol(path)
        except ConfigError as exc:
            self.error.setText(str(exc))
            return False
        self.error.setText("")
        self.add_protocol(proto, source=Path(path).name)
        return True

    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load a protocol", "", "Protocols (*.toml);;All files (*)")
        if path:
            self.load_file(path)

    def _show_details(self, row: int) -> None:
        if not 0 <= row < len(self.protocols):
            self.details.setText("")
            return
        p = self.protocols[row]
        prompts = ", ".join(f"{s.label} ×{s.repetitions} ({s.duration_s:g} s)" for s in p.prompts)
        self.details.setText(f"<b>{p.name}</b>: {p.description}<br>{prompts}<br>"
                             f"planned {p.planned_duration_s:.0f} s, order {p.order}")

    @property
    def selected(self) -> Protocol | None:
        row = self.list.currentRow()
        return self.protocols[row] if 0 <= row < len(self.protocols) else None

    def cleanupPage(self) -> None:  # noqa: N802 - Qt name
        self.wiz.model.page = Page.PROTOCOL
        self.wiz.model.back()

    def validatePage(self) -> bool:  # noqa: N802 - Qt name
        proto = self.selected
        m = self.wiz.model
        if proto is None:
            self.error.setText("Choose a protocol.")
            return False
        m.choose_protocol(proto)
        try:
            m.page = Page.PROTOCOL
            m.advance()
        except WizardInputError as exc:
            self.error.setText(str(exc))
            return False
        return True


class SessionPage(QWizardPage):
    """Run the protocol: prompt, target pose, countdown, progress, valid labels, pause/redo/abort, markers.

    Keys: ``M`` sets a marker, ``1``..``9`` numbered markers, ``Space`` pauses/resumes.
    """

    def __init__(self, wizard: RecordingWizard) -> None:
        super().__init__()
        self.wiz = wizard
        self.setTitle("Recording")
        self.view = ProcedureView(lambda: self.wiz.window.clock.now(), self._handle, self.wiz.hand_view)
        # the view's parts, under the names this page has always had
        v = self.view
        self.prompt_label, self.instruction, self.countdown, self.progress = v.prompt_label, v.instruction, v.countdown, v.progress
        self.next_label, self.valid_label = v.next_label, v.valid_label
        self.pause_button, self.redo_button, self.abort_button = v.pause_button, v.redo_button, v.abort_button
        self.prompt_label.setText("Press Start when the participant is ready.")
        self.recorder_label = QLabel("")
        self.file_label = QLabel("")
        self.file_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error = _error_label()
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
        self.frames: queue.Queue = make_frame_queue(4096)
        self.failed: str | None = None
        self.recorder_status: dict = {}
        self.frames_sent = 0
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
        from asha_app.pose.hand_model import HandModel  # noqa: PLC0415 - heavy import, only when recording

        side = self.wiz.model.participant.hand if self.wiz.model.participant else "right"
        return HandModel.builtin(side)

    def _metadata(self, worker) -> dict:
        w = self.wiz.window
        src = worker.source
        cam = _camera_worker(w)
        md = self.wiz.model.session_metadata()
        md["app_settings"] = {**md["app_settings"], "app": w.settings.model_dump(mode="json")}
        model = self._hand_model()
        camera = {"running": cam is not None and cam.isRunning()}
        if cam is not None:
            camera.update(name=str(getattr(cam.source, "name", "")), mirror=bool(getattr(cam.source, "mirror", False)),
                          is_file=bool(getattr(cam.source, "is_file", False)))
        return dict(
            device={"kind": getattr(src, "kind", ""), "description": getattr(src, "description", ""),
                    "fs": worker.fs, "n_channels": worker.n_channels,
                    "channel_names": src.channel_names() if src is not None else [],
                    "package_modulus": getattr(src, "package_modulus", None),
                    "has_imu": bool(getattr(src, "has_imu", False)),
                    # names of the board's marker codes (the demo's gesture labels), so a replay can show them
                    "marker_names": {f"{k:g}": v for k, v in getattr(src, "marker_names", {}).items()}},
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
        if worker is None or not worker.isRunning():
            self.error.setText("No EMG stream is running: start the device (or the demo) in the main window first.")
            return False
        model = self._hand_model()
        self._dof_names = list(model.dof_names)
        self._rest_deg = getattr(model, "rest_deg", None)
        try:
            self.writer = SessionWriter(self.path, worker.n_channels, worker.fs, self._dof_names,
                                        package_modulus=getattr(worker.source, "package_modulus", None),
                                        package_restart=getattr(worker.source, "package_restart", None),
                                        **self._metadata(worker))
        except (RecordingFileError, ValueError) as exc:
            self.error.setText(str(exc))
            w.show_error(str(exc))
            return False
        self.error.setText("")
        cam = _camera_worker(w)
        if cam is not None:
            cam.labels.drain()  # frames from before the start do not belong to the session
        imu = worker.imu_ring if getattr(worker.source, "has_imu", False) else None  # no IMU: no all-zero IMU rows
        self.recorder = RecorderWorker(self.writer, worker.emg_ring, imu, self.frames, poll_ms=50)
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
    def _pump_labels(self) -> None:
        cam = _camera_worker(self.wiz.window)
        if cam is None:
            return
        labels = cam.labels.drain()
        if not labels:
            return
        frames = [camera_label_to_frame(lab) for lab in labels]
        self.procedure.feed_labels([f.t for f in frames], [f.valid for f in frames])
        for f in frames:
            try:
                self.frames.put_nowait(f)
                self.frames_sent += 1
            except queue.Full:
                log.warning("recorder frame queue full; a camera frame was dropped")

    def _handle(self, events) -> None:
        rec = self.recorder
        lab = getattr(self.wiz.window, "lab", None)
        for ev in events:
            if lab is not None and ev.kind in (EventKind.PROMPT_START, EventKind.PROMPT_END, EventKind.PROMPT_DISCARDED):
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
            self._pump_labels()
            self._handle(p.tick(now))
        self._draw(now)
        if p.finished and not self._stopping_started():
            self._stop_recorder()

    def _stopping_started(self) -> bool:
        return getattr(self, "_stop_requested", False)

    def _stop_recorder(self) -> None:
        self._stop_requested = True
        if self.failed is None:
            self._pump_labels()  # the last frames of the final repetition
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

    def _on_recorder_error(self, message: str) -> None:
        self.failed = message
        self.error.setText(message)
        self.wiz.window.show_error(message)
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
            msg = "The EMG stream stopped during the session; the session was aborted (the file keeps what was recorded)."
            self.error.setText(msg)
            self._handle(self.procedure.abort(self.wiz.window.clock.now()))
            self.tick()

    def shutdown(self, timeout_ms: int = 8000) -> None:
        """Abort and wait for the recorder (window closing)."""
        if self.running and self.procedure is not None and not self.procedure.finished:
            self.error.setText("The wizard was closed during the session; the session was aborted.")
            self._handle(self.procedure.abort(self.wiz.window.clock.now()))
        if self.recorder is not None and self.recorder.isRunning():
            self.recorder.stop(timeout_ms)
        self.timer.stop()


class SummaryPage(QWizardPage):
    """The end-of-session integrity report."""

    def __init__(self, wizard: RecordingWizard) -> None:
        super().__init__()
        self.wiz = wizard
        self.setTitle("Summary")
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["Prompt", "Repetition", "Start (s)", "Frames", "Valid labels"])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.library_button = QPushButton("Show in the session library")
        lay = QVBoxLayout(self)
        lay.addWidget(self.text, 1)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.library_button)
        self.library_button.clicked.connect(self._show_library)
        self.setFinalPage(True)

    def initializePage(self) -> None:  # noqa: N802 - Qt name
        page = self.wiz.session_page
        rep = self.wiz.model.report
        parts = []
        if page.failed:
            parts.append("RECORDING STOPPED WITH AN ERROR:\n" + page.failed + "\n")
        if page.procedure is not None and page.procedure.state == State.ABORTED and not page.failed:
            parts.append("The session was aborted; completed repetitions are saved.\n")
        if rep is not None:
            parts.append(rep.format_text())
            self.table.setRowCount(len(rep.prompts))
            for r, p in enumerate(rep.prompts):
                share = p["valid_share"]
                vals = [p["label"], str(p["repetition"] + 1), f"{p['start']:.2f}", str(p["frames"]),
                        "no frames" if share is None else f"{100 * share:.0f} %"]
                for c, v in enumerate(vals):
                    self.table.setItem(r, c, QTableWidgetItem(v))
        else:
            parts.append(f"No report: the file {page.path} could not be read.")
        self.text.setPlainText("\n".join(parts))

    def _show_library(self) -> None:
        lib = getattr(self.wiz.window, "session_library", None)
        if lib is not None and self.wiz.session_page.path is not None:
            lib.refresh()
            lib.select_path(self.wiz.session_page.path)
            dock = self.wiz.window.panels.get("sessions")
            if dock is not None:
                dock.show()
                dock.raise_()


class RecordingWizard(QWizard):
    """The guided session wizard (non-modal; the main window stays live).

    Parameters
    ----------
    window : MainWindow
        Gives the clock, the acquisition worker, the camera panel and the 3D view.
    sessions_dir : Path, optional
        Where session files go (default ``data_dir()/sessions``).
    """

    def __init__(self, window, sessions_dir: Path | None = None, parent=None) -> None:
        super().__init__(parent)
        self.window = window
        self.sessions_dir = sessions_dir or (paths.data_dir() / "sessions")
        self.model = SessionWizard()
        self.setWindowTitle("New recording")
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)
        self.participant_page = ParticipantPage(self)
        self.check_page = DeviceCheckPage(self)
        self.protocol_page = ProtocolPage(self)
        self.session_page = SessionPage(self)
        self.summary_page = SummaryPage(self)
        for p in (self.participant_page, self.check_page, self.protocol_page, self.session_page, self.summary_page):
            self.addPage(p)
        self.resize(760, 620)
        if hasattr(window, "acquisition_stopped"):
            window.acquisition_stopped.connect(self.session_page.acquisition_lost)

    def hand_view(self):
        """The main window's HandView, or None without OpenGL."""
        try:
            from asha_app.ui.hand_view import HandView  # noqa: PLC0415
        except ImportError:
            return None
        hv = getattr(self.window, "hand_view", None)
        return hv if isinstance(hv, HandView) else None

    def session_finished(self) -> None:
        """Go to the summary once the file is saved and checked."""
        if self.currentPage() is self.session_page:
            self.next()
        lib = getattr(self.window, "session_library", None)
        if lib is not None:
            lib.refresh()

    def reject(self) -> None:
        """Cancel: a running session is aborted and its file finalized first."""
        self.shutdown()
        super().reject()

    def shutdown(self) -> None:
        """Stop timers and the recorder (idempotent)."""
        self.check_page.timer.stop()
        self.session_page.shutdown()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt name
        self.shutdown()
        super().closeEvent(event)
