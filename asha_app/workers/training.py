"""Training and fine-tuning off the GUI process.

:class:`TrainingWorker` is a :class:`~asha_app.workers.base.Worker` thread that
starts the run in a child process (:class:`~asha_app.core.child.ChildJob` running
:func:`asha_app.models.jobs.run_training`), so the GUI never shares an interpreter
(or its GIL) with a training loop.  The thread only relays: every
:class:`~asha_app.models.train.ProgressEvent` from the pipe goes into a
lock-protected queue the GUI drains on a timer (:meth:`TrainingWorker.drain`).
The child saves the checkpoint (best epoch, also after Stop) under
``data_dir()/"models"`` and writes its evaluation report beside it.

Only low-rate signals cross threads: ``error(str, str)`` (a user-facing message and the
child's traceback text, the base's one error path, :mod:`asha_app.workers.base`) and
``status(dict)`` (phase changes: preparing, training, evaluating, saved; a
handful per run).  The Qt-free plan (:class:`TrainingPlan`, :func:`prepare_plan`
...) lives in :mod:`asha_app.models.plan` and is re-exported here.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections import deque
from pathlib import Path

from PySide6.QtCore import Signal

from asha_app.core.child import ChildJob
from asha_app.models.plan import (PreparedRun, TrainingPlan, default_threads, headline,  # noqa: F401
                                  new_checkpoint_path, prepare_plan, target_units, warm_up)
from asha_app.workers.base import Worker

log = logging.getLogger(__name__)


class WarmUpWorker(Worker):
    """Runs :func:`warm_up` in its own thread (started when the training wizard opens).

    Warm-up is an optimisation only (training does the same imports itself): a failure goes to the
    log and the ``error`` signal, which the wizard does not show.
    """

    task = "the training warm-up"
    stop_timeout_ms = 2000  # an import cannot be interrupted: waiting longer would only block closing

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("TrainingWarmUp")
        self.seconds: float | None = None

    def work(self) -> None:
        self.seconds = warm_up()


class TrainingWorker(Worker):
    """Runs one prepared training or fine-tuning run in a child process; this thread relays its progress.

    Parameters
    ----------
    prepared : PreparedRun or asha_app.gestures.jobs.PreparedGestureRun
        From :func:`prepare_plan` (or :func:`~asha_app.gestures.jobs.prepare_gesture_plan`), checked before
        starting.  A prepared run with a ``job_target`` attribute runs that child-process target instead of
        :func:`asha_app.models.jobs.run_training`.
    config : TrainConfig
        The task's (:class:`asha_app.models.train.TrainConfig` or :class:`asha_app.gestures.train.TrainConfig`).
    out_path : Path, optional
        Checkpoint file; default :func:`new_checkpoint_path`.
    threads : int, optional
        ``torch.set_num_threads`` in the child process (default all cores but one).
    write_report : bool
        Write the report files (JSON, PNGs, HTML) beside the checkpoint.

    Signals
    -------
    error(str, str)
        A user-facing message and the traceback text of an unexpected failure in the child
        process ("" otherwise); the run ended without a checkpoint.
    status(dict)
        ``{"phase": "training" | "evaluating" | "saved", ...}``, a few per run.

    Notes
    -----
    :meth:`cancel` (the Stop button) ends training at the next batch; the best
    epoch's weights are restored, evaluated and saved.  :meth:`stop` (window
    closing) does the same, then terminates the child if it does not end in time.
    After the thread finishes, :attr:`result` holds ``{"checkpoint", "report",
    "metrics", "eval_set", "cancelled", "best_epoch", "epochs_run"}`` or stays None
    after an error (:attr:`error_message`).
    """

    status = Signal(dict)

    task = "training"
    stop_timeout_ms = 10_000

    def __init__(self, prepared: PreparedRun, config=None, out_path: Path | None = None, threads: int | None = None,
                 write_report: bool = True, parent=None) -> None:
        super().__init__(parent)
        from asha_app.models.train import TrainConfig  # noqa: PLC0415 - torch on first use

        self.setObjectName("TrainingWorker")
        self.prepared = prepared
        self.config = config or TrainConfig()
        plan = prepared.plan
        name = plan.finetune_from.model_name + "_calibrated" if plan.is_finetune else plan.model_name
        self.out_path = Path(out_path) if out_path is not None else new_checkpoint_path(name)
        self.threads = threads or default_threads()
        self.write_report = write_report
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._events: deque = deque(maxlen=100_000)
        self.result: dict | None = None
        self.child_pid: int | None = None

    # ------------------------------------------------------------------ GUI side
    def cancel(self) -> None:
        """Stop training at the next batch, keep the best epoch (non-blocking)."""
        self._cancel.set()

    @property
    def cancel_requested(self) -> bool:
        """True after :meth:`cancel` or :meth:`stop`."""
        return self._cancel.is_set() or self.isInterruptionRequested()

    def drain(self) -> list:
        """Progress events since the last call (oldest first); thread-safe."""
        with self._lock:
            out = list(self._events)
            self._events.clear()
        return out

    @property
    def error_message(self) -> str | None:
        """The user-facing message of the failure (None while none)."""
        return self.failure

    def _request_stop(self) -> None:
        """Cancel: the child keeps the best epoch, evaluates and saves it; the thread ends the child if it lingers."""
        self._cancel.set()

    # ------------------------------------------------------------------ thread side
    def work(self) -> None:
        prepared = self.prepared
        job = prepared.job
        hand = getattr(job, "hand_model", None)
        if hand is not None:
            job.hand_model = None  # rebuilt in the child (no need to pickle the mesh)
        # the pose task's job, or the prepared run's own (the gesture task: asha_app.gestures.jobs)
        target = getattr(prepared, "job_target", "asha_app.models.jobs:run_training")
        child = ChildJob(target,
                         {"prepared": prepared, "config": self.config, "out_path": str(self.out_path),
                          "write_report": self.write_report}, threads=self.threads, name="asha-training")
        try:
            child.start()
        except Exception as exc:  # spawning can fail in many ways (no memory, no fork)
            log.exception("training process did not start")
            self.fail(f"the training process could not start ({type(exc).__name__}: {exc})", traceback.format_exc())
            return
        finally:
            if hand is not None:
                job.hand_model = hand
        self.child_pid = child.pid
        cancelled_sent = False
        try:
            while child.pending:
                if self.cancel_requested and not cancelled_sent:
                    child.cancel()
                    cancelled_sent = True
                for kind, payload in child.poll(0.1):
                    if kind == "event":
                        what, obj = payload
                        if what == "progress":
                            with self._lock:
                                self._events.append(obj)
                        elif what == "status":
                            self.status.emit(obj)
                    elif kind == "result":
                        self.result = payload
                        self.status.emit({"phase": "saved", "checkpoint": payload["checkpoint"],
                                          "cancelled": payload["cancelled"]})
                    elif kind == "error":
                        msg, tb = payload
                        if tb:
                            log.error("training failed in the child process:\n%s", tb)
                            msg = f"training failed unexpectedly ({msg}); see the log"
                        self.fail(msg, tb or "")
        finally:
            child.terminate(grace_s=10.0 if cancelled_sent else 2.0)
