"""Gesture mode: the "Gestures" dock beside the live hand, and its Live-menu entries.

The dock shows the recognised gesture's name, one confidence bar per trained
gesture with a tick box (the gesture set: only ticked gestures can be decided,
the decision is the argmax over them, no retraining), how decisions are
smoothed (a **majority vote** over the last N decisions, one every 40 ms; N is
set in the dock), the decision rate and the latency from the EMG ring to the
painted label.  A :class:`~asha_app.workers.gesture.GestureWorker` does the work
off the GUI thread; this module only draws.

Entries (menu Live): **Gesture mode (demo model)** — the bundled model
(``resources/gestures/demo_gestures.pt``, trained on two other sessions of the
person in the demo recording) on the running stream; **Gesture model…** — a
checkpoint from ``asha train --task gesture``.  On the demo stream the dock also
shows the demo's own gesture marker beside the decision.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QFont
from PySide6.QtWidgets import (QCheckBox, QFileDialog, QGridLayout, QHBoxLayout, QLabel, QProgressBar,
                               QPushButton, QSpinBox, QWidget)

from asha_app.calibration.profile import gestures_path
from asha_app.core import paths
from asha_app.core.errors import AshaError
from asha_app.gestures.streaming import DECISION_MS, VOTE_N
from asha_app.ui.widgets import scrolling_body
from asha_app.workers.export import BackgroundLoad
from asha_app.workers.gesture import GestureWorker

log = logging.getLogger(__name__)

DEMO_MODEL = ("gestures", "demo_gestures.pt")


class GesturePanel(QWidget):
    """The "Gestures" dock's widgets (no logic beyond layout; the controller fills them)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        lay = scrolling_body(self)
        self.what = QLabel("No gesture model. Live → Gesture mode (demo model), or load one.")
        self.what.setWordWrap(True)
        lay.addWidget(self.what)
        self.name_label = QLabel("—")
        f = QFont(self.name_label.font())
        f.setPointSizeF(f.pointSizeF() * 2.0)
        f.setBold(True)
        self.name_label.setFont(f)
        self.name_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.name_label.setMinimumHeight(int(f.pointSizeF() * 2.2))
        lay.addWidget(self.name_label)
        self.marker_label = QLabel("")
        self.marker_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.marker_label.setWordWrap(True)
        lay.addWidget(self.marker_label)
        vote_row = QHBoxLayout()
        vote_row.addWidget(QLabel("Smoothing:"))
        self.vote_spin = QSpinBox()
        self.vote_spin.setRange(1, 25)
        self.vote_spin.setValue(VOTE_N)
        self.vote_spin.setSuffix(" decisions")
        self.vote_spin.setToolTip("Decisions come every 40 ms; the shown gesture is the most frequent decision over "
                                  "this many (1: no smoothing). More: steadier, slower to change.")
        vote_row.addWidget(self.vote_spin)
        vote_row.addStretch(1)
        lay.addLayout(vote_row)
        self.vote_ms = QLabel("")
        self.vote_ms.setWordWrap(True)
        lay.addWidget(self.vote_ms)
        hint = QLabel("Tick the gestures that are active; only they can be decided.")
        hint.setWordWrap(True)
        lay.addWidget(hint)
        self.grid = QGridLayout()
        self.grid.setColumnStretch(1, 1)
        lay.addLayout(self.grid)
        self.boxes: dict[str, QCheckBox] = {}
        self.bars: dict[str, QProgressBar] = {}
        self.stats = QLabel("")
        self.stats.setWordWrap(True)
        lay.addWidget(self.stats)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b00020;")
        lay.addWidget(self.message)
        row = QHBoxLayout()
        self.demo_btn = QPushButton("Demo model")
        self.load_btn = QPushButton("Load…")
        self.stop_btn = QPushButton("Stop")
        for b in (self.demo_btn, self.load_btn, self.stop_btn):
            row.addWidget(b)
        lay.addLayout(row)
        lay.addStretch(1)
        self.set_vote_text(VOTE_N)

    def set_vote_text(self, n: int) -> None:
        """The vote's span in words."""
        self.vote_ms.setText(f"Majority vote: the gesture shown is the most frequent of the last {n} decisions "
                             f"({n * DECISION_MS:.0f} ms; one every {DECISION_MS:.0f} ms).")

    def set_classes(self, classes: list[str], active: list[str]) -> None:
        """One tick box and confidence bar per trained gesture."""
        for w in list(self.boxes.values()) + list(self.bars.values()):
            self.grid.removeWidget(w)
            w.deleteLater()
        self.boxes, self.bars = {}, {}
        for i, c in enumerate(classes):
            box = QCheckBox(c)
            box.setChecked(c in active)
            bar = QProgressBar()
            bar.setRange(0, 100)
            bar.setFormat("%p %")
            bar.setMaximumHeight(18)
            self.grid.addWidget(box, i, 0)
            self.grid.addWidget(bar, i, 1)
            self.boxes[c], self.bars[c] = box, bar

    def active(self) -> list[str]:
        """The ticked gestures."""
        return [c for c, b in self.boxes.items() if b.isChecked()]


class GestureController(QObject):
    """Starts/stops the gesture worker with the stream and shows its decisions in the panel.

    Attributes
    ----------
    last : LiveGesture or None
        The last decision shown (tests read it).
    shown : list of (str, float)
        (gesture name, marker code) of every decision painted, newest last (bounded).
    """

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.panel = GesturePanel()
        self.ckpt = None
        self.model_path: Path | None = None
        self.worker: GestureWorker | None = None
        self.last = None
        self.shown: deque = deque(maxlen=5000)
        self.latency_ms: deque = deque(maxlen=500)
        self.painted = 0
        self._seq = 0
        self._cal_worker = None
        self.loader = BackgroundLoad("loading the gesture model", self)
        p = self.panel
        p.demo_btn.clicked.connect(self.start_demo_model)
        p.load_btn.clicked.connect(self.choose_model)
        p.stop_btn.clicked.connect(self.stop)
        p.vote_spin.valueChanged.connect(self._vote_changed)
        window.acquisition_started.connect(self._stream_started)
        # the session controller opens a source in its thread and may make its rings anew then: (re)start on open
        window.acquisition_opened.connect(self._stream_opened)
        window.acquisition_stopped.connect(self._stream_stopped)

    # -------------------------------------------------------------------------------------------- model
    def start_demo_model(self) -> bool:
        """Gesture mode with the bundled demo model on the running stream (the demo is started if nothing runs).

        Returns True when the model's read started (:meth:`load_model`), False (message shown) without it.
        """
        try:
            path = paths.resource(*DEMO_MODEL)
        except FileNotFoundError as exc:
            self._message(str(exc))
            return False
        w = self.window
        acq = getattr(w, "worker", None)
        if w.device_kind != "demo" or acq is None or not acq.isRunning():  # the model belongs to the demo stream
            w.start_demo(with_camera=False)
        return self.load_model(path)

    def choose_model(self) -> None:
        """Ask for a gesture checkpoint and start it."""
        path, _ = QFileDialog.getOpenFileName(self.window, "Open a gesture model", "",
                                              "Asha models (*.pt);;All files (*)")
        if path:
            self.load_model(Path(path))

    @property
    def loading(self) -> bool:
        """True while a gesture checkpoint is being read (off the GUI thread)."""
        return self.loader.busy

    def load_model(self, path) -> bool:
        """Read a gesture checkpoint off the GUI thread, then run it on the stream (:meth:`use_checkpoint`).

        The dock says "reading…" and disables its Demo model and Load… buttons until the file is read; a file that
        cannot be used (unreadable, damaged, a pose model, another armband's) is said in the dock and the model
        that was loaded stays.  Returns True: the read started (its outcome shows in the dock; :attr:`loading`
        is True until then).
        """
        from asha_app.gestures.train import load_gesture_checkpoint  # noqa: PLC0415 - torch, scipy.signal on first use

        path = Path(path)
        p = self.panel
        before = p.what.text()
        p.what.setText(f"{path.name}: reading…")
        self._message("")
        self._set_buttons(False)

        def loaded(ck) -> None:
            self._set_buttons(True)
            self.use_checkpoint(ck, path)

        def failed(message: str) -> None:
            self._set_buttons(True)
            p.what.setText(before)
            self._message(message)

        self.loader.start(lambda: load_gesture_checkpoint(path), loaded, failed)
        return True

    def _set_buttons(self, enabled: bool) -> None:
        self.panel.demo_btn.setEnabled(enabled)
        self.panel.load_btn.setEnabled(enabled)

    def use_checkpoint(self, ck, path, origin: str = "") -> bool:
        """Run a gesture checkpoint already read (off the GUI thread: a profile's, the training wizard's).

        Raises the dock, shows the model's gestures (all ticked) and starts gesture mode on the running stream;
        without one it is ready and starts with the stream.  ``origin`` is said after the file name
        (e.g. "from the profile").  False (message shown) when it cannot start now.
        """
        self.ckpt, self.model_path = ck, Path(path)
        dock = getattr(self.window, "panels", {}).get("gestures")
        if dock is not None:
            dock.raise_()
        self.panel.set_classes(list(ck.target_names), list(ck.target_names))
        for box in self.panel.boxes.values():
            box.toggled.connect(self._active_changed)
        norm = (ck.data.get("gesture") or {}).get("norm", {}).get("kind", "fixed")
        where = f"{Path(path).name}{f' ({origin})' if origin else ''}"
        self.panel.what.setText(f"{where}: {ck.model_name}, {len(ck.target_names)} gestures, "
                                f"{'RunningNorm' if norm == 'running' else 'fixed normalisation'}.")
        if self.panel.stats.text() == "Stopped.":  # a model chosen now runs, whatever stopped before
            self.panel.stats.setText("")
        return self._start_worker()

    def _start_worker(self) -> bool:
        self._stop_worker()
        w = self.window
        acq = getattr(w, "worker", None)
        if self.ckpt is None:
            return False
        if acq is None or not acq.isRunning():
            self._message("No stream is running: press Start (or pick the demo); gesture mode starts with it.")
            return False
        session = getattr(w, "session", None)
        if session is not None and not session.ready:  # the source is still opening: its rings are not final yet
            self._message("")
            self.panel.stats.setText("Waiting for the stream to open…")
            return True  # _stream_opened starts the worker
        from asha_app.models.checkpoint import CheckpointMismatchError  # noqa: PLC0415 - torch, scipy.signal on first use

        try:
            self.ckpt.check_compatible(n_channels=acq.n_channels, fs=acq.fs)
            worker = GestureWorker(self.ckpt, acq.emg_ring, vote_n=self.panel.vote_spin.value(),
                                   active=self.panel.active() or None)
        except (CheckpointMismatchError, AshaError) as exc:
            self._message(str(exc))
            return False
        worker.decision_ready.connect(self._on_decision)
        worker.status.connect(self._on_status)
        worker.error.connect(self._message)
        self.worker = worker
        self.latency_ms.clear()
        self._message("")
        worker.start()
        return True

    def _stop_worker(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            self.worker = None

    def stop(self) -> None:
        """Stop gesture mode (the model stays loaded; Demo model / Load… start it again)."""
        self._stop_worker()
        self.panel.name_label.setText("—")
        self.panel.marker_label.setText("")
        for bar in self.panel.bars.values():
            bar.setValue(0)
        self.panel.stats.setText("Stopped.")

    def shutdown(self) -> None:
        """Window closing: stop the workers (a checkpoint being read is dropped)."""
        self.loader.cancel()
        self._stop_worker()
        if self._cal_worker is not None:
            self._cal_worker.stop()

    # -------------------------------------------------------------------------------------------- stream
    @Slot(object)
    def _stream_started(self, _worker) -> None:
        if self.ckpt is not None and self.worker is None and self.panel.stats.text() != "Stopped.":
            self._start_worker()

    def _stream_opened(self, _worker) -> None:
        """The source is open with its final rings: run the loaded model on them (again, if it ran on older ones)."""
        if self.ckpt is not None and self.panel.stats.text() != "Stopped.":
            self._start_worker()

    @Slot()
    def _stream_stopped(self) -> None:
        was = self.worker is not None
        self._stop_worker()
        if was:
            self.panel.name_label.setText("—")
            self.panel.stats.setText("The stream stopped; gesture mode resumes when it starts again.")

    # -------------------------------------------------------------------------------------------- set, vote
    def _active_changed(self, _checked: bool) -> None:
        active = self.panel.active()
        if not active:
            self._message("Tick at least one gesture (rest counts as one).")
            return
        if self.worker is not None:
            try:
                self.worker.set_active(active)
            except AshaError as exc:
                self._message(str(exc))
                return
        self._message("")

    def set_active(self, active: list[str]) -> None:
        """Tick exactly these gestures (what a click on the boxes does); unknown names are refused with a message."""
        from asha_app.gestures.train import check_subset  # noqa: PLC0415 - torch, scipy.signal on first use

        if self.ckpt is None:
            return
        try:
            check_subset(list(self.ckpt.target_names), active)
        except AshaError as exc:
            self._message(str(exc))
            return
        for c, box in self.panel.boxes.items():
            box.blockSignals(True)
            box.setChecked(c in active)
            box.blockSignals(False)
        self._active_changed(True)

    def _vote_changed(self, n: int) -> None:
        self.panel.set_vote_text(n)
        if self.worker is not None:
            self.worker.set_vote(n)

    # -------------------------------------------------------------------------------------------- calibration
    def calibrate_from(self, recording, report_label: QLabel | None = None, save_beside=None) -> bool:
        """Adapt the loaded gesture model to a calibration recording (in a worker); False when no model is loaded.

        The result (balanced accuracy and per-gesture accuracy before -> after on the held-out repetition, and any
        difference between the model's gestures and the recording's, explained) goes to ``report_label`` and the
        dock; the adapted model replaces the running one and, with ``save_beside`` (a profile path), is saved as
        ``<profile>.gestures.pt``.
        """
        from asha_app.workers.gesture import GestureCalibrationWorker  # noqa: PLC0415 - torch, scipy.signal on first use

        if self.ckpt is None:
            return False
        wk = GestureCalibrationWorker(self.ckpt, recording)
        self._cal_worker = wk

        def show(text: str) -> None:
            for lab in (report_label, self.panel.stats):
                if lab is not None:
                    lab.setText(text)

        def done() -> None:
            res = wk.result
            if res is None:
                return
            text = res.summary()
            if save_beside is not None:
                from asha_app.models import checkpoint as C  # noqa: PLC0415 - torch, scipy.signal on first use

                out = gestures_path(save_beside)
                try:
                    C.save(res.checkpoint, out)
                    text += f" Saved: {out.name}."
                except AshaError as exc:
                    text += f" Not saved: {exc}"
            show(text)
            self.ckpt = res.checkpoint
            if self.worker is not None:
                self._start_worker()

        wk.error.connect(lambda msg: show(f"Gesture calibration: {msg}"))
        wk.finished.connect(done)
        show("Adapting the gesture model to this recording…")
        wk.start()
        return True

    # -------------------------------------------------------------------------------------------- display
    @Slot()
    def _on_decision(self) -> None:
        if self.worker is None:
            return
        _, d = self.worker.slot.get()
        if d is None or d.seq == self._seq:
            return
        self._seq = d.seq
        p = self.panel
        p.name_label.setText(d.name)
        for c, prob in zip(self.worker.classes, d.probs, strict=True):
            bar = p.bars.get(c)
            if bar is not None:
                bar.setValue(int(round(100 * float(prob))))
        names = getattr(self.window.scopes, "marker_names", {})
        if d.marker:
            p.marker_label.setText(f"stream marker: {names.get(d.marker, f'{d.marker:g}')}")
        p.name_label.repaint()  # painted now: the latency below is ring -> pixels
        self.latency_ms.append((time.perf_counter() - d.t_seen) * 1000.0)
        self.painted += 1
        self.last = d
        self.shown.append((d.name, d.marker))

    @Slot(dict)
    def _on_status(self, s: dict) -> None:
        lat = np.asarray(self.latency_ms)
        text = f"{s['rate_hz']:.0f} decisions/s"
        if len(lat):
            text += f"; latency ring → label p50 {np.percentile(lat, 50):.0f} ms, p95 {np.percentile(lat, 95):.0f} ms"
        if s.get("lost"):
            text += f"; {s['lost']} samples skipped (could not keep up)"
        self.panel.stats.setText(text)

    def _message(self, text: str) -> None:
        self.panel.message.setText(text)


def install(window) -> None:
    """Add the "Gestures" dock and the Live-menu entries (``window.gestures`` is the controller)."""
    ctl = GestureController(window)
    window.gestures = ctl
    dock = window.add_panel("gestures", "Gestures", ctl.panel, Qt.DockWidgetArea.RightDockWidgetArea)
    live = window.panels.get("live")
    if live is not None:
        window.tabifyDockWidget(live, dock)
        # the live hand is the tab shown first (once the window is laid out); gesture mode brings its tab forward
        QTimer.singleShot(0, live.raise_)
    menu = window.menus["live"]
    menu.addSeparator()
    for text, fn in (("Gesture mode (demo model)", ctl.start_demo_model), ("Gesture model…", ctl.choose_model),
                     ("Stop gestures", ctl.stop)):
        act = QAction(text, window)
        act.triggered.connect(fn)
        menu.addAction(act)
    window.add_shutdown_hook(ctl.shutdown)
