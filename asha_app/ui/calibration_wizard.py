"""Calibration wizard: a thin QWizard over :mod:`asha_app.calibration.procedure`.

Pages: 1 settings (participant, base model or none, strategy, armband
placement notes); 2 recording (record the ~2.5 min calibration protocol now
with the running armband and camera through the recording machinery --
:class:`~asha_app.protocols.procedure.RecordingProcedure` and
:class:`~asha_app.workers.recorder.RecorderWorker` -- shown by the recording
wizard's :class:`~asha_app.ui.procedure_view.ProcedureView` with its countdown,
target hand, pause and redo; or use a recorded session file); quality gate
naming the prompts to redo, and on to page 3 by itself when a recording made
here passes it; 3 fine-tuning in a
:class:`~asha_app.workers.finetune.CalibrationWorker` with a progress bar, then
the report card and "Use this profile".

The base model (page 1) and a recorded session file (page 2) are read off the
GUI thread in a :class:`~asha_app.workers.export.BackgroundLoad` ("loading
model…", "reading…"); Next waits for them, and closing the wizard drops them.
"""

from __future__ import annotations

import datetime as _dt
import logging
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QGuiApplication, QPixmap
from PySide6.QtWidgets import (QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit,
                               QProgressBar, QPushButton, QSizePolicy, QVBoxLayout, QWizard, QWizardPage)

from asha_app.calibration import strategies as S
from asha_app.calibration.procedure import (CalibrationError, CalibrationSettings, calibration_protocol, check_quality,
                                            finger_summary, load_base_model)
from asha_app.calibration.profile import default_path
from asha_app.core import paths
from asha_app.core.errors import AshaError
from asha_app.pose.contract import describe_targets
from asha_app.pose.hand_model import HandModel
from asha_app.protocols.procedure import EventKind, RecordingProcedure, State
from asha_app.ui.procedure_view import CameraLabelFeed, ProcedureView
from asha_app.workers.base import stop_checked
from asha_app.workers.export import BackgroundLoad
from asha_app.workers.finetune import CalibrationWorker

log = logging.getLogger(__name__)


def load_recording(path: str | Path):
    """A calibration recording from a session file (.h5) or a folder of the paired Myo/MediaPipe CSV files."""
    path = Path(path)
    if path.is_dir():
        from asha_app.data.importers.paired_myo_mediapipe import load_paired  # noqa: PLC0415 - h5py on first use

        return load_paired(path)
    from asha_app.data.reader import read_recording  # noqa: PLC0415 - h5py on first use

    return read_recording(path)


class SetupPage(QWizardPage):
    def __init__(self, window=None) -> None:
        super().__init__()
        self.window = window
        self._base_ok = True
        self.setTitle("Who and what")
        self.setSubTitle("About 3 minutes: a short recording with the camera on, then about a minute of fine-tuning.")
        form = QFormLayout(self)
        self.participant = QLineEdit()
        self.participant.setPlaceholderText("name or code")
        self.base = QLineEdit()
        self.base.setPlaceholderText("none: train a new model from scratch")
        self.browse = browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.base, 1)
        row.addWidget(browse)
        self.strategy = QComboBox()
        for key, s in S.STRATEGIES.items():
            self.strategy.addItem(s["label"] + (" (recommended)" if key == S.DEFAULT_STRATEGY else ""), key)
        self.strategy.setCurrentIndex(list(S.STRATEGIES).index(S.DEFAULT_STRATEGY))
        self.notes = QPlainTextEdit()
        self.notes.setPlaceholderText("Armband placement: forearm position (cm below the elbow), electrode 1 over …, "
                                      "skin preparation")
        self.notes.setMaximumHeight(90)
        self.base_status = QLabel("")
        self.base_status.setWordWrap(True)
        self.base.editingFinished.connect(self.check_base)
        form.addRow("Participant:", self.participant)
        form.addRow("Base model:", row)
        form.addRow("", self.base_status)
        form.addRow("Fine-tuning:", self.strategy)
        form.addRow("Placement notes:", self.notes)
        self.registerField("participant*", self.participant)
        #: the base model is loaded and checked here, off the GUI thread
        self.loader = BackgroundLoad("loading the base model", self)

    def _browse(self) -> None:
        p, _ = QFileDialog.getOpenFileName(self, "Base model", str(paths.data_dir()),
                                           "Checkpoints (*.pt);;All files (*)")
        if p:
            self.base.setText(p)
            self.check_base()

    @property
    def checking(self) -> bool:
        """True while the base model is being loaded and checked (Next waits)."""
        return self.loader.busy

    @property
    def base_ok(self) -> bool:
        """False when the chosen base model was refused (``base_status`` says why)."""
        return self._base_ok

    def check_base(self) -> None:
        """Check the chosen base model now, in the background: readable, and able to drive the live hand.

        ``base_status`` says "loading model…", then the model and what it predicts, or why it
        is refused (:attr:`base_ok`); the base model's field and Next wait meanwhile.
        """
        path = self.base.text().strip()
        self._base_ok = True
        self.loader.cancel()
        self.base_status.setStyleSheet("")
        if path:
            w = self.window
            wk = getattr(w, "worker", None) if w is not None else None
            n_channels, fs = (wk.n_channels, wk.fs) if wk else (None, None)
            self.base_status.setText(f"loading model {Path(path).name}…")
            self._set_checking(True)
            self.loader.start(lambda: load_base_model(path, n_channels=n_channels, fs=fs),
                              self._on_base_loaded, self._on_base_refused)
        else:
            self.base_status.setText("")
        self.completeChanged.emit()

    def _set_checking(self, on: bool) -> None:
        self.base.setEnabled(not on)
        self.browse.setEnabled(not on)

    def _on_base_loaded(self, ck) -> None:
        self._set_checking(False)
        self.base_status.setText(f"✓ {ck.model_name}, predicts {describe_targets(ck.target_kind, ck.target_names)}")
        self.completeChanged.emit()

    def _on_base_refused(self, message: str) -> None:
        self._set_checking(False)
        self._base_ok = False
        self.base_status.setText(f"⚠ {message}")
        self.base_status.setStyleSheet("color: #b00;")
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # noqa: N802 - Qt naming
        return super().isComplete() and self._base_ok and not self.checking


class RecordPage(QWizardPage):
    """Record the calibration protocol now, or pick a recorded session; then the quality gate.

    While recording, the page is the recording wizard's session view
    (:class:`~asha_app.ui.procedure_view.ProcedureView`): prompt, instruction
    with the repetition, countdown, progress, next prompt, valid hand labels,
    the target hand in the 3D view, Pause/Resume (also Space), Redo last
    repetition and Abort.  "Use a recorded session…" is disabled meanwhile.
    When the protocol is done the file is saved and checked; if the quality
    gate passes the wizard moves on to fine-tuning by itself.
    """

    def __init__(self, window) -> None:
        super().__init__()
        self.window = window
        self.setTitle("Calibration recording")
        proto = calibration_protocol()
        self.setSubTitle(f"{proto.name}: {proto.description} ({proto.planned_duration_s / 60:.1f} min). "
                         "Follow the prompt and the target hand in the 3D view.")
        lay = QVBoxLayout(self)
        row = QHBoxLayout()
        self.record_button = QPushButton("Record now")
        self.file_button = QPushButton("Use a recorded session…")
        for b in (self.record_button, self.file_button):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space goes to the page (pause), never re-clicks a button
            row.addWidget(b)
        row.addStretch(1)
        lay.addLayout(row)
        self.view = ProcedureView(window.clock.now, self._handle, getattr(window, "hands", None))
        self.prompt = self.view.prompt_label
        self.progress = self.view.progress
        lay.addWidget(self.view)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        lay.addWidget(self.message)
        lay.addStretch(1)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.recording = None
        self.quality = None
        self._bone_scales: list = []
        self._proc = None
        self._recorder = None
        self._path = None
        self._stopping = False
        self._labels = CameraLabelFeed(window)
        self._timer = QTimer(self)
        self._timer.setInterval(50)
        self._timer.timeout.connect(self._tick)
        self.record_button.clicked.connect(self.start_recording)
        self.file_button.clicked.connect(self._choose_file)
        #: a recorded session is read here, off the GUI thread
        self.loader = BackgroundLoad("reading the calibration recording", self)

    def isComplete(self) -> bool:  # noqa: N802 - Qt naming
        return self.recording is not None and self.quality is not None and self.quality.ok and not self.reading

    @property
    def reading(self) -> bool:
        """True while a recorded session file is being read in the background."""
        return self.loader.busy

    @property
    def running(self) -> bool:
        """True from Record now until the file is saved and checked."""
        return self._recorder is not None

    def _choose_file(self) -> None:
        p, _ = QFileDialog.getOpenFileName(self, "Calibration recording", str(paths.data_dir()),
                                           "Session files (*.h5 *.hdf5);;All files (*)")
        if p:
            self.use_recording_file(p)

    def use_recording_file(self, path, advance: bool = False) -> None:
        """Read a recorded session in the background ("reading…"), then run the quality gate on it.

        With ``advance``, the wizard moves on to fine-tuning by itself when the recording passes.
        """
        self.message.setText(f"reading {Path(path).name}…")
        self.record_button.setEnabled(False)
        self.file_button.setEnabled(False)
        self.loader.start(lambda: load_recording(path), lambda rec: self._on_file_read(rec, advance),
                          self._on_file_failed)
        self.completeChanged.emit()

    def _on_file_read(self, rec, advance: bool) -> None:
        self.record_button.setEnabled(True)
        self.file_button.setEnabled(True)
        self.set_recording(rec)
        wiz = self.wizard()
        if advance and self.isComplete() and wiz is not None and wiz.currentPage() is self:
            wiz.next()  # at 100 % with good labels: on to fine-tuning without a click

    def _on_file_failed(self, message: str) -> None:
        self.record_button.setEnabled(True)
        self.file_button.setEnabled(True)
        self.message.setText(f"⚠ {message}")
        self.completeChanged.emit()

    def set_recording(self, rec) -> None:
        """Run the quality gate; the page completes when it passes."""
        self.recording = rec
        try:
            self.quality = check_quality(rec)
            self.message.setText(("✓ " if self.quality.ok else "⚠ ") + self.quality.message)
        except CalibrationError as exc:
            self.quality = None
            self.message.setText(f"⚠ {exc}")
        self.completeChanged.emit()

    # ----------------------------------------------------------- live recording through the recording machinery
    def start_recording(self) -> None:
        from asha_app.data.writer import SessionWriter  # noqa: PLC0415 - h5py on first use
        from asha_app.workers.recorder import RecorderWorker  # noqa: PLC0415 - h5py on first use

        if self.running:
            return
        w = self.window
        if w.worker is None or not w.session.ready:
            self.message.setText("⚠ No EMG is streaming: start the armband (toolbar → Start) and try again.")
            return
        cam = w.camera_panel.worker
        if cam is None:
            self.message.setText("⚠ The camera is off: start it in the camera dock so your hand is labelled, "
                                 "then try again.")
            return
        part = self.wizard().field("participant") or "participant"
        stamp = _dt.datetime.now().strftime("%Y%m%d_%H%M%S")
        self._path = paths.unique_path(paths.data_dir() / "calibration" / f"{part}_{stamp}.h5")
        self._path.parent.mkdir(parents=True, exist_ok=True)
        model = HandModel.builtin("right")
        src = w.session.info  # the opened source, as the session controller reports it
        try:
            writer = SessionWriter(self._path, w.worker.n_channels, w.worker.fs, model.dof_names,
                                   participant={"id": part}, device={"name": src.description, "has_imu": src.has_imu},
                                   filter_spec=w.worker.filter_spec.to_dict(),
                                   package_modulus=src.package_modulus, package_restart=src.package_restart)
        except (AshaError, OSError) as exc:
            self.message.setText(f"⚠ cannot create the calibration file: {exc}")
            return
        self.recording = self.quality = None  # a new recording replaces the last one: Next waits for it
        self.completeChanged.emit()
        imu = w.worker.imu_ring if src.has_imu else None  # a source without IMU has no IMU samples to store
        self._labels = CameraLabelFeed(w)
        self._labels.follow()  # the page's own cursor on the camera's labels (valid share, bone scales)
        # the recorder reads the camera's labels ring itself, as it reads the EMG ring: no GUI thread in between
        self._recorder = RecorderWorker(writer, w.worker.emg_ring, imu, self._labels.ring)
        self._recorder.setObjectName("CalibrationRecorder")
        self._recorder.error.connect(self._on_recorder_error)
        self._recorder.finished.connect(self._on_recorder_finished)
        self._proc = RecordingProcedure(calibration_protocol())
        self._bone_scales = []
        self._stopping = False
        self.view.attach(self._proc, model.dof_names, model.rest_deg, "right")
        self._recorder.start()
        self._handle(self._proc.start(w.clock.now()))
        self.view.set_active(True)
        self.record_button.setEnabled(False)
        self.file_button.setEnabled(False)
        self.message.setText("")
        self._timer.start()
        self.setFocus()
        self._tick()

    def _handle(self, events) -> None:
        """Prompt records to the file: completed ones, and those cut short or redone as discarded."""
        rec = self._recorder
        if rec is None:
            return
        for ev in events:
            if ev.kind == EventKind.PROMPT_END and ev.prompt is not None:
                rec.add_prompt(ev.prompt)
            elif ev.kind == EventKind.PROMPT_DISCARDED and ev.prompt is not None:
                rec.add_prompt(ev.prompt, discarded=True)

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt naming
        if event.key() == Qt.Key.Key_Space and self.running:
            self.view.toggle_pause()
        else:
            super().keyPressEvent(event)

    def _read_labels(self) -> None:
        """Feed the procedure (valid-label share) and collect the IK bone scales from the camera's labels; a camera
        started again while recording is handed to the recorder."""
        if self._labels.follow() and self._recorder is not None:
            self._recorder.set_labels(self._labels.ring)
        for lab in self._labels.read():
            if self._proc is not None and not self._proc.finished:
                self._proc.feed_labels(lab.t, lab.valid)
            bs = getattr(lab.ik, "bone_scale", None)
            if lab.valid and bs is not None and len(self._bone_scales) < 5000:
                self._bone_scales.append(bs)

    def bone_lengths_mm(self) -> list | None:
        """The person's bone lengths (mm, 20) from the IK fits during the recording (median scale), or None."""
        if not self._bone_scales:
            return None
        scale = np.median(np.asarray(self._bone_scales, float), axis=0)
        return (scale * HandModel.builtin("right").bone_lengths_mm).tolist()

    def _tick(self) -> None:
        if self._proc is None:
            return
        now = self.window.clock.now()
        if not self._proc.finished:
            self._read_labels()
            self._handle(self._proc.tick(now))
        self.view.draw(now)
        if self._proc.finished and not self._stopping:
            self._stop_recorder()

    def _stop_recorder(self) -> None:
        """The protocol is done or aborted: the recorder drains, saves and closes the file, then finishes."""
        self._stopping = True
        self._timer.stop()
        self.view.set_active(False)
        self.message.setText("saving and checking the calibration recording…")
        if self._recorder is not None:
            self._recorder.requestInterruption()  # no wait here: _on_recorder_finished follows

    def _on_recorder_error(self, message: str, traceback: str = "") -> None:
        self.message.setText(f"⚠ {message}")
        self.window.show_error(message, traceback)
    def _on_recorder_finished(self) -> None:
        rec, self._recorder = self._recorder, None
        if rec is None:  # already handled (the wizard was closed)
            return
        self._timer.stop()
        self.view.set_active(False)
        self.record_button.setEnabled(True)
        self.file_button.setEnabled(True)
        if rec.failed:
            self.message.setText(f"⚠ {rec.failed}")
            return
        self.record_button.setText("Record again")
        if self._proc is not None and self._proc.state == State.ABORTED:
            self.message.setText(f"Recording aborted; what was recorded is kept in {self._path}. "
                                 "Press Record again for a full calibration recording.")
            return
        if self._path is None or not self._path.exists():
            return
        self.use_recording_file(self._path, advance=True)

    def finish_recording(self, timeout_ms: int = 10000) -> None:
        """Abort a recording in progress and wait for its file to be closed (the wizard goes back or closes)."""
        if self._proc is not None and not self._proc.finished and self._recorder is not None:
            self._handle(self._proc.abort(self.window.clock.now()))
        rec, self._recorder = self._recorder, None
        self._timer.stop()
        self.view.set_active(False)
        if rec is not None:
            stop_checked(rec, "the calibration recorder", timeout_ms, self.window.show_error)
        self.record_button.setEnabled(True)
        self.file_button.setEnabled(True)

    def cleanupPage(self) -> None:  # noqa: N802 - Qt naming
        if self.loader.busy:  # a file still being read: its result is dropped
            self.loader.cancel(self.window.show_error)
            self.record_button.setEnabled(True)
            self.file_button.setEnabled(True)
            self.message.setText("")
        if self._recorder is not None:
            self.finish_recording()


class CardImage(QLabel):
    """The report card, scaled down (never up) to fit inside the label, aspect kept: no scrolling, no fixed size."""

    def __init__(self) -> None:
        super().__init__()
        self.card: QPixmap | None = None
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setMinimumSize(240, 150)

    def set_card(self, pix: QPixmap | None) -> None:
        """Show ``pix`` (None clears)."""
        self.card = pix
        if pix is None:
            self.clear()
        self._rescale()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt name
        return self.card.size() if self.card is not None else QSize(480, 300)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt name
        super().resizeEvent(event)
        self._rescale()

    def _rescale(self) -> None:
        if self.card is None:
            return
        size = self.card.size().boundedTo(self.size())
        self.setPixmap(self.card.scaled(size, Qt.AspectRatioMode.KeepAspectRatio,
                                        Qt.TransformationMode.SmoothTransformation))


class TrainPage(QWizardPage):
    """Fine-tune in a worker thread; show progress, then the report card."""

    def __init__(self, window, record_page: RecordPage, setup: SetupPage) -> None:
        super().__init__()
        self.window = window
        self.record_page = record_page
        self.setup = setup
        self.setTitle("Fine-tuning and report card")
        lay = QVBoxLayout(self)
        self.progress = QProgressBar()
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.fingers = QLabel("")  # per-finger error before -> after, in words (the card shows it as bars)
        self.fingers.setWordWrap(True)
        self.fingers.hide()
        self.gesture_text = QLabel("")  # gesture classifier before -> after (when gesture mode has a model)
        self.gesture_text.setWordWrap(True)
        self.gesture_text.hide()
        self.image = CardImage()
        lay.addWidget(self.progress)
        lay.addWidget(self.status)
        lay.addWidget(self.fingers)
        lay.addWidget(self.gesture_text)
        lay.addWidget(self.image, 1)
        self.worker = None
        self.result = None

    def initializePage(self) -> None:  # noqa: N802 - Qt naming
        s = self.setup
        part = s.participant.text().strip() or "participant"
        settings = CalibrationSettings(participant=part, base_checkpoint=s.base.text().strip() or None,
                                       placement_notes=s.notes.toPlainText(), strategy=s.strategy.currentData(),
                                       bone_lengths_mm=self.record_page.bone_lengths_mm())
        self.result = None
        self.worker = CalibrationWorker(self.record_page.recording, settings, default_path(part))
        self.worker.status.connect(self._on_status)
        self.worker.error.connect(self._on_error)
        self.worker.finished.connect(self._on_finished)
        self.worker.start()

    def _on_status(self, st: dict) -> None:
        self.progress.setValue(int(100 * st["fraction"]))
        self.status.setText(st["message"])

    def _on_error(self, msg: str, _traceback: str = "") -> None:
        self.status.setText(f"⚠ {msg}")

    def _on_finished(self) -> None:
        wk = self.worker
        if wk is None or wk.result is None:
            return
        self.result = wk.result
        self.progress.setValue(100)
        mark = "✓" if self.result.kept == "calibrated" else "ℹ"  # (⚠ is for failures: nothing was saved)
        self.status.setText(f"{mark} {self.result.summary()}. Profile: {self.result.profile_path}")
        per_finger = finger_summary(self.result.before, self.result.after)
        self.fingers.setText(per_finger)
        self.fingers.setVisible(bool(per_finger))
        gestures = getattr(self.window, "gestures", None)  # gesture mode: adapt its classifier from the same recording
        if gestures is not None and gestures.calibrate_from(self.record_page.recording, self.gesture_text,
                                                            self.result.profile_path):
            self.gesture_text.show()
        if self.result.report_png:
            pix = QPixmap(str(self.result.report_png))
            self.image.set_card(None if pix.isNull() else pix)
            self._room_for_the_card()
        self.completeChanged.emit()

    def _room_for_the_card(self) -> None:
        """Grow the wizard so the card shows at its own size when the screen has room (never beyond the screen)."""
        wiz = self.wizard()
        card = self.image.card
        if wiz is None or card is None:
            return
        screen = wiz.screen() or QGuiApplication.primaryScreen()
        avail = screen.availableGeometry() if screen is not None else None
        extra_w = wiz.width() - self.image.width()
        extra_h = wiz.height() - self.image.height()
        w, h = card.width() + extra_w, card.height() + extra_h
        if avail is not None:
            w, h = min(w, avail.width() - 20), min(h, avail.height() - 40)
        wiz.resize(max(wiz.width(), w), max(wiz.height(), h))

    def isComplete(self) -> bool:  # noqa: N802 - Qt naming
        return self.result is not None

    def stop(self) -> bool:
        """Cancel fine-tuning and wait for its thread; False (said in the banner) when it did not end in time."""
        return stop_checked(self.worker, "fine-tuning", 10000, self.window.show_error)


class CalibrationWizard(QWizard):
    """Live → Calibrate….  ``on_profile(path)`` is called with the new profile when the user finishes."""

    def __init__(self, window, on_profile=None) -> None:
        super().__init__(window)
        self.setWindowTitle("Calibrate the live hand")
        self.on_profile = on_profile
        self.setup = SetupPage(window)
        self.record = RecordPage(window)
        self.train = TrainPage(window, self.record, self.setup)
        for p in (self.setup, self.record, self.train):
            self.addPage(p)
        self.setButtonText(QWizard.WizardButton.FinishButton, "Use this profile")
        self.resize(820, 640)
        self.finished.connect(self._done)

    def shutdown(self) -> None:
        """Stop a base-model check or file read, a recording in progress (its file is closed) and the fine-tuning
        thread; idempotent."""
        self.setup.loader.cancel(self.record.window.show_error)
        self.record.cleanupPage()
        self.train.stop()

    def _done(self, code: int) -> None:
        self.shutdown()
        if code == QWizard.DialogCode.Accepted and self.train.result and self.on_profile:
            self.on_profile(self.train.result.profile_path)
