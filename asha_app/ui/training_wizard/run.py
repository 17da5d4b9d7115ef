"""Pages 5 and 6: training in a child process with live loss curves, then the evaluation report."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QGridLayout, QHBoxLayout, QLabel, QPushButton, QSpinBox,
                               QVBoxLayout, QWizard, QWizardPage)

from asha_app.gestures.jobs import prepare_gesture_plan
from asha_app.ui.report_view import ReportView
from asha_app.ui.training_wizard.common import error_label, hms, show_error
from asha_app.ui.training_wizard.gesture import GestureReport
from asha_app.workers.export import BackgroundLoad
from asha_app.workers.training import TrainingWorker, prepare_plan

if TYPE_CHECKING:
    from asha_app.ui.training_wizard.wizard import TrainingWizard


def training_devices() -> list[tuple[str, str]]:
    """(torch device, label) choices: the CPU and every CUDA GPU torch sees."""
    import torch  # noqa: PLC0415 - torch on first use

    out = [("cpu", "CPU")]
    if torch.cuda.is_available():
        out = [(f"cuda:{i}", f"GPU {i}: {torch.cuda.get_device_name(i)}")
               for i in range(torch.cuda.device_count())] + out
    return out


def best_text(ev, task: str = "pose") -> str:
    """The best epoch line: its validation loss, or (gestures) its validation balanced accuracy."""
    if ev.best_val_loss is None:
        return f"best epoch {ev.best_epoch} (no validation set)"
    if task == "gesture":
        return f"best epoch {ev.best_epoch} (val balanced accuracy {100 * (1 - ev.best_val_loss):.1f} %)"
    return f"best epoch {ev.best_epoch} (val {ev.best_val_loss:.4g})"


class RunPage(QWizardPage):
    """Start / Stop, live loss curves, epochs, elapsed and remaining time."""

    POLL_MS = 100  # 10 Hz
    REDRAW_S = 0.5  # batch-loss points are drawn at most twice a second (epochs at once)

    def __init__(self, wizard: TrainingWizard) -> None:
        super().__init__()
        self.wiz = wizard
        self.setTitle("Train")
        self.setSubTitle("Training runs in the background; the app stays usable. Stop keeps the best epoch so far.")
        lay = QVBoxLayout(self)
        settings = QHBoxLayout()
        self.epochs_spin = QSpinBox()
        self.epochs_spin.setRange(1, 10000)
        self.epochs_spin.setValue(60)
        self.batch_spin = QSpinBox()
        self.batch_spin.setRange(1, 4096)
        self.batch_spin.setValue(64)
        self.lr_spin = QDoubleSpinBox()
        self.lr_spin.setDecimals(5)
        self.lr_spin.setRange(1e-5, 1.0)
        self.lr_spin.setSingleStep(1e-4)
        self.lr_spin.setValue(1e-3)
        self.patience_spin = QSpinBox()
        self.patience_spin.setRange(1, 1000)
        self.patience_spin.setValue(8)
        self.device_combo = QComboBox()
        for dev, text in training_devices():
            self.device_combo.addItem(text, dev)
        for label, w in (("Max epochs", self.epochs_spin), ("Batch", self.batch_spin), ("Learning rate", self.lr_spin),
                         ("Patience", self.patience_spin), ("Device", self.device_combo)):
            settings.addWidget(QLabel(label))
            settings.addWidget(w)
        settings.addStretch(1)
        lay.addLayout(settings)
        row = QHBoxLayout()
        self.start_button = QPushButton("Start")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        row.addWidget(self.start_button)
        row.addWidget(self.stop_button)
        self.state_label = QLabel("Ready.")
        row.addWidget(self.state_label, 1)
        lay.addLayout(row)
        grid = QGridLayout()
        self.counts_label = QLabel()
        self.epoch_label = QLabel("epoch —")
        self.best_label = QLabel("best epoch —")
        self.time_label = QLabel("elapsed —")
        self.eta_label = QLabel("remaining —")
        grid.addWidget(self.counts_label, 0, 0, 1, 4)
        for j, w in enumerate((self.epoch_label, self.best_label, self.time_label, self.eta_label)):
            # fixed sizes: changing texts must not re-lay out (and repaint) the plot below
            w.setFixedWidth(230)
            w.setFixedHeight(w.sizeHint().height())
            grid.addWidget(w, 1, j)
        self.state_label.setMinimumWidth(200)
        self.state_label.setFixedHeight(self.state_label.sizeHint().height())
        lay.addLayout(grid)
        self.plot = pg.PlotWidget()
        self.plot.setBackground("w")
        self.plot.addLegend(offset=(-10, 10))
        self.plot.setLabel("bottom", "epoch")
        self.plot.setLabel("left", "loss (MSE, normalised targets)")
        # no grid: pyqtgraph's alpha-blended grid costs ~25 ms per repaint (measured, offscreen raster) vs ~5 ms
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self.batch_curve = self.plot.plot([], [], pen=pg.mkPen((150, 150, 150), width=1), name="batch (running mean)")
        self.train_curve = self.plot.plot([], [], pen=pg.mkPen("b", width=2), symbol="o", symbolSize=5,
                                          symbolBrush="b", name="train")
        self.val_curve = self.plot.plot([], [], pen=pg.mkPen("r", width=2), symbol="s", symbolSize=5,
                                        symbolBrush="r", name="validation")
        self.best_line = pg.InfiniteLine(angle=90, pen=pg.mkPen((0, 150, 0), style=Qt.PenStyle.DashLine))
        self.best_line.hide()
        self.plot.addItem(self.best_line)
        lay.addWidget(self.plot, 1)
        self.saved_label = QLabel()
        self.saved_label.setWordWrap(True)
        self.saved_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.saved_label)
        self.error = error_label()
        lay.addWidget(self.error)
        self.timer = QTimer(self)
        self.timer.setInterval(self.POLL_MS)
        self.timer.timeout.connect(self.poll)
        #: a second run is prepared again (fresh windows and model) off the GUI thread
        self.loader = BackgroundLoad("preparing the training run", self)
        self._reset_curves()
        self._t_start = None
        self._eta = None
        self._eta_at = None
        self._last_draw = 0.0
        self._last_clock = 0.0
        self._pending = False

    def _reset_curves(self) -> None:
        self.batch_x, self.batch_y = [], []
        self.epoch_x, self.train_y, self.val_y = [], [], []
        self.best_epoch = 0
        self.events_seen: list[str] = []
        for c in (self.batch_curve, self.train_curve, self.val_curve):
            c.setData([], [])
        self.best_line.hide()

    def initializePage(self) -> None:  # noqa: N802 - Qt name
        fine = self.wiz.checkpoint is not None
        if fine and not getattr(self, "_ft_defaults", False):
            self.epochs_spin.setValue(20)
            self.lr_spin.setValue(3e-4)
            self.patience_spin.setValue(5)
            self._ft_defaults = True
        c = self.wiz.prepared.counts() if self.wiz.prepared else {}
        gesture = self.wiz.task == "gesture"
        self.device_combo.setEnabled(not gesture)  # gesture models train on the CPU (small, fast)
        self.plot.setLabel("left", "train: cross-entropy · validation: 1 − balanced accuracy" if gesture
                           else "loss (MSE, normalised targets)")
        what = (f"Fine-tuning {self.wiz.checkpoint.model_name} ({self.wiz.finetune_mode})" if fine
                else f"Training {self.wiz.plan.model_name}" + (" (gesture classes)" if gesture else ""))
        self.counts_label.setText(f"{what} on {', '.join(self.wiz.sources)} — windows: {c.get('train', 0)} train, "
                                  f"{c.get('val', 0)} validation, {c.get('test', 0)} test")
        self.start_button.setEnabled(not self.running)

    @property
    def running(self) -> bool:
        """True while a worker thread runs."""
        return self.wiz.worker is not None and self.wiz.worker.isRunning()

    def config(self):
        """TrainConfig from the settings row (the gesture task's: :class:`asha_app.gestures.train.TrainConfig`)."""
        from asha_app.models.train import TrainConfig  # noqa: PLC0415 - torch on first use

        if self.wiz.task == "gesture":
            from asha_app.gestures.train import TrainConfig as GestureConfig  # noqa: PLC0415 - torch on first use

            return GestureConfig(max_epochs=self.epochs_spin.value(), batch_size=self.batch_spin.value(),
                                 lr=self.lr_spin.value(), patience=self.patience_spin.value())

        kw = {"device": self.device_combo.currentData()} if "device" in TrainConfig.__dataclass_fields__ else {}
        return TrainConfig(max_epochs=self.epochs_spin.value(), batch_size=self.batch_spin.value(),
                           lr=self.lr_spin.value(), patience=self.patience_spin.value(),
                           progress_every=self.wiz.progress_every, **kw)

    def start(self) -> bool:
        """Start training; False if it cannot start.

        When the prepared run was used already, it is prepared again in the background
        ("preparing…") and training starts when it is ready (an error shows on the page).
        """
        if self.running or self.loader.busy:
            return False
        show_error(self.error, "")
        self.saved_label.setText("")
        w = self.wiz
        if w.prepared is None or w.prepared_used:
            plan = w.plan
            prepare = prepare_gesture_plan if w.task == "gesture" else prepare_plan
            self.loader.start(lambda: prepare(plan), self._on_prepared, self._on_prepare_failed)
            self.start_button.setEnabled(False)
            self.state_label.setText("Preparing the run: reading and windowing the sessions…")
            w.button(QWizard.WizardButton.BackButton).setEnabled(False)
            return True
        return self._start_prepared()

    def _on_prepared(self, prepared) -> None:
        self.wiz.prepared = prepared
        self._start_prepared()

    def _on_prepare_failed(self, message: str) -> None:
        self.state_label.setText("Ready.")
        self.start_button.setEnabled(True)
        self.wiz.button(QWizard.WizardButton.BackButton).setEnabled(True)
        show_error(self.error, message)

    def _start_prepared(self) -> bool:
        w = self.wiz
        w.prepared_used = True
        w.result = None
        self.completeChanged.emit()
        self._reset_curves()
        cfg = self.config()
        self.plot.setXRange(0, cfg.max_epochs, padding=0.02)
        self.plot.enableAutoRange(axis="x", enable=False)
        worker = TrainingWorker(w.prepared, cfg, threads=w.threads)
        worker.error.connect(self._on_error)
        worker.status.connect(self._on_status)
        worker.finished.connect(self._on_finished)
        w.worker = worker
        self._t_start = time.monotonic()
        self._eta = None
        self.start_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.state_label.setText("Training…")
        worker.start()
        self.timer.start()
        w.button(QWizard.WizardButton.BackButton).setEnabled(False)
        return True

    def stop(self) -> None:
        """Stop training at the next batch; the best epoch is kept, evaluated and saved."""
        if self.running:
            self.wiz.worker.cancel()
            self.stop_button.setEnabled(False)
            self.state_label.setText("Stopping: restoring the best epoch, evaluating and saving…")

    def poll(self) -> None:
        """Drain the worker's progress queue and draw (GUI timer, 10 Hz)."""
        worker = self.wiz.worker
        if worker is None:
            return
        changed = False
        for ev in worker.drain():
            self.events_seen.append(ev.kind)
            if ev.kind == "start" and ev.message:
                self.state_label.setText(f"Training… ({ev.message})")
            elif ev.kind == "batch" and ev.train_loss is not None and ev.n_batches:
                self.batch_x.append(ev.epoch - 1 + ev.batch / ev.n_batches)
                self.batch_y.append(ev.train_loss)
                changed = changed or "batch"
            elif ev.kind == "epoch":
                self.epoch_x.append(ev.epoch)
                # a closed-form gesture model has no training loss; no validation set, no validation value
                self.train_y.append(np.nan if ev.train_loss is None else ev.train_loss)
                self.val_y.append(np.nan if ev.val_loss is None else ev.val_loss)
                if ev.train_loss is not None and (not self.batch_x or self.batch_x[-1] < ev.epoch):
                    self.batch_x.append(float(ev.epoch))  # the epoch's mean closes the batch curve
                    self.batch_y.append(ev.train_loss)
                self.best_epoch = ev.best_epoch
                self.epoch_label.setText(f"epoch {ev.epoch} / {ev.max_epochs}")
                self.best_label.setText(best_text(ev, self.wiz.task))
                self._eta, self._eta_at = ev.eta_s, time.monotonic()
                changed = "epoch"
            elif ev.kind == "cancelled":
                self.state_label.setText("Stopped: best epoch restored; evaluating and saving…")
            elif ev.kind == "done":
                self.best_epoch = ev.best_epoch
                if "cancelled" not in self.events_seen:
                    self.state_label.setText("Finished: evaluating and saving…")
                self._eta, self._eta_at = 0.0, time.monotonic()
        now = time.monotonic()
        self._pending = self._pending or bool(changed)
        if self._pending and (changed == "epoch" or now - self._last_draw >= self.REDRAW_S):
            self._pending = False
            self._last_draw = now
            self.batch_curve.setData(self.batch_x, self.batch_y)
            self.train_curve.setData(self.epoch_x, self.train_y, connect="finite")
            self.val_curve.setData(self.epoch_x, self.val_y, connect="finite")
            if self.best_epoch:
                self.best_line.setValue(self.best_epoch)
                self.best_line.show()
        if self._t_start is not None and worker.isRunning() and now - self._last_clock >= 1.0:
            self._last_clock = now
            self.time_label.setText(f"elapsed {hms(time.monotonic() - self._t_start)}")
            if self._eta is not None:
                left = max(0.0, self._eta - (time.monotonic() - self._eta_at))
                self.eta_label.setText(f"remaining ≤ {hms(left)}")

    def _on_status(self, st: dict) -> None:
        phase = st.get("phase")
        if phase == "evaluating":
            self.state_label.setText("Evaluating on the held-out set and writing the report…")

    def _on_error(self, message: str) -> None:
        show_error(self.error, message)

    def _on_finished(self) -> None:
        worker = self.wiz.worker
        self.poll()
        self.timer.stop()
        self.start_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        self.wiz.button(QWizard.WizardButton.BackButton).setEnabled(True)
        if worker is not None and self._t_start is not None:
            self.time_label.setText(f"elapsed {hms(time.monotonic() - self._t_start)}")
        self.eta_label.setText("remaining —")
        res = worker.result if worker is not None else None
        self.wiz.result = res
        self.completeChanged.emit()
        if res is None:
            self.state_label.setText("Training ended with an error (see below); nothing was saved.")
            return
        how = "Stopped by you" if res["cancelled"] else "Finished"
        self.state_label.setText(f"{how}: best epoch {res['best_epoch']} of {res['epochs_run']} kept.")
        self.saved_label.setText(f"Checkpoint saved: {res['checkpoint']}")
        if self.wiz.currentPage() is self and self.wiz.auto_advance:
            self.wiz.next()

    def isComplete(self) -> bool:  # noqa: N802 - Qt name
        return self.wiz.result is not None and not self.running and not self.loader.busy


class ReportPage(QWizardPage):
    """The evaluation report of the trained (or calibrated) model, and where it was saved."""

    def __init__(self, wizard: TrainingWizard) -> None:
        super().__init__()
        self.wiz = wizard
        self.setTitle("Evaluation report")
        lay = QVBoxLayout(self)
        self.view = ReportView()
        lay.addWidget(self.view, 1)
        #: the gesture task's report (balanced accuracy, per gesture, confusion matrix, Use in gesture mode)
        self.gesture = GestureReport(wizard)
        self.gesture.hide()
        lay.addWidget(self.gesture, 1)

    def initializePage(self) -> None:  # noqa: N802 - Qt name
        res = self.wiz.result
        gesture = bool(res) and res.get("task") == "gesture"
        self.view.setVisible(not gesture)
        self.gesture.setVisible(gesture)
        if gesture:
            self.gesture.show_result(res)
            self.setSubTitle(f"Gesture classifier: metrics on the held-out {res['eval_set']} set. "
                             f"Saved to {res['checkpoint']}")
        elif res:
            self.view.load(res["checkpoint"])
            held = "held-out test set" if res["eval_set"] == "test" else "validation blocks of the calibration data"
            self.setSubTitle(f"Metrics on the {held}. Saved to {res['checkpoint']}")
