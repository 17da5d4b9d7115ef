"""Gesture training as a plan, a prepared run and one train-evaluate-save function (Qt-free).

``asha train --task gesture`` (:mod:`asha_app.gestures.commands`) and the training wizard's gesture task share
:func:`train_and_save`: :func:`asha_app.gestures.train.fit_events` on a prepared
:class:`~asha_app.gestures.train.GestureJob`, the test-set metrics, the checkpoint and its gesture report.
The wizard's run goes through :func:`prepare_gesture_plan` (every check before anything trains) and
:func:`run_gesture_training`, the child-process target (:class:`asha_app.core.child.ChildJob`) that
:class:`asha_app.workers.training.TrainingWorker` starts, as it starts the pose task's
:func:`asha_app.models.jobs.run_training`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from asha_app.core.errors import ConfigError, DatasetError
from asha_app.data.splits import SPLIT_CHOICES
from asha_app.data.windows import WindowSpec, check_recording
from asha_app.gestures.labels import gesture_timeline
from asha_app.gestures.train import RUNNING_TAU_S

if TYPE_CHECKING:  # torch stays out of import time
    from asha_app.dsp.filters import FilterSpec
    from asha_app.gestures.train import GestureJob, TrainConfig

log = logging.getLogger(__name__)

#: the gesture model ``asha train --task gesture`` and the wizard's gesture task use unless told otherwise
DEFAULT_MODEL = "proto"
#: the child-process target of a prepared gesture run
JOB_TARGET = "asha_app.gestures.jobs:run_gesture_training"


def check_gesture_recordings(recordings: list, settle_s: float | None = None) -> list[list[str]]:
    """Check recordings for the gesture task: EMG usable and consistent, gesture labels present.

    Parameters
    ----------
    recordings : list of Recording
    settle_s : float, optional
        As :func:`asha_app.gestures.labels.gesture_timeline`.

    Returns
    -------
    list of list of str
        The gestures found in each recording.

    Raises
    ------
    DatasetError
        No recording, broken or mismatched EMG, or a recording without gesture labels (the message names it and
        offers the pose task).
    """
    if not recordings:
        raise DatasetError("no sessions chosen: pick at least one session recorded with a protocol")
    out = []
    for r in recordings:
        check_recording(r, recordings[0].fs, recordings[0].n_channels, need_labels=False)
        out.append(list(gesture_timeline(r, settle_s=settle_s).gestures))
    return out


@dataclass
class GesturePlan:
    """What the wizard chose for the gesture task (the options of ``asha train --task gesture``).

    Attributes
    ----------
    recordings : list of Recording
    sources : list of str
        File names (titles, the checkpoint's summary).
    model_name : str
        A registered gesture model (``task == "gesture"``).
    window_ms, stride_ms : float
        Window length (raised to the model's history when shorter, as the CLI does) and stride, ms.
    filter_spec : FilterSpec or None
    settle_s : float or None
        Seconds left out at each gesture's start (None: the labels' default, 0.5 s).
    norm : {"running", "fixed"}
    tau_s : float
        RunningNorm time constant, s.
    split_kind : str or None
        None: repetitions of each gesture (:func:`asha_app.gestures.train.default_split`).
    split_args : dict
    min_windows : int
        Fewest training windows a gesture needs.
    """

    recordings: list
    sources: list[str] = field(default_factory=list)
    model_name: str = DEFAULT_MODEL
    model_config: dict = field(default_factory=dict)
    window_ms: float = 0.0
    stride_ms: float = 20.0
    filter_spec: FilterSpec | None = None
    settle_s: float | None = None
    norm: str = "running"
    tau_s: float = RUNNING_TAU_S
    split_kind: str | None = None
    split_args: dict = field(default_factory=dict)
    min_windows: int = 8
    task = "gesture"
    finetune_from = None  # the worker's naming asks; gesture calibration is the calibration wizard's

    @property
    def is_finetune(self) -> bool:
        """Always False: the wizard trains new gesture models."""
        return False


@dataclass
class PreparedGestureRun:
    """A checked gesture plan: its job (windows, split, normalisation) and the set the report evaluates."""

    plan: GesturePlan
    job: GestureJob
    eval_set: str
    job_target = JOB_TARGET

    def counts(self) -> dict:
        """Windows per split set and dropped."""
        return self.job.split.counts()

    def train_per_class(self) -> dict[str, int]:
        """Training windows per gesture."""
        return self.job.ws.counts(self.job.split.indices("train"))


def window_for(model_name: str, recordings: list, window_ms: float, stride_ms: float, config: dict | None = None):
    """The window of a gesture run: ``window_ms`` or the model's history, whichever is longer (as the CLI)."""
    from asha_app.models.registry import build  # noqa: PLC0415 - torch on first use

    r0 = recordings[0]
    probe = build(model_name, n_channels=r0.n_channels, n_targets=2, fs=r0.fs, **(config or {}))
    return WindowSpec(max(float(window_ms or 0.0), probe.history / r0.fs * 1000.0), float(stride_ms))


def prepare_gesture_plan(plan: GesturePlan) -> PreparedGestureRun:
    """Check and prepare a gesture plan before anything trains.

    Raises
    ------
    AshaError
        DatasetError (no gesture labels, a gesture with too few training windows -- named with its count --,
        an empty training set), ConfigError (a pose model, an unknown split).
    """
    from asha_app.gestures import train as G  # noqa: PLC0415 - torch, scipy.signal on first use
    from asha_app.models.registry import available, task_of  # noqa: PLC0415 - torch on first use

    recs = list(plan.recordings)
    check_gesture_recordings(recs, plan.settle_s)
    if task_of(plan.model_name) != "gesture":
        raise ConfigError(f"{plan.model_name} is a pose model; gesture models are {', '.join(available('gesture'))}")
    if plan.split_kind is not None and plan.split_kind not in SPLIT_CHOICES:
        raise ConfigError(f"unknown split {plan.split_kind!r}; use one of {', '.join(SPLIT_CHOICES)}")
    window = window_for(plan.model_name, recs, plan.window_ms, plan.stride_ms, plan.model_config)
    job = G.prepare(recs, window, plan.filter_spec, settle_s=plan.settle_s, split=plan.split_kind,
                    split_args=plan.split_args, norm=plan.norm, tau_s=plan.tau_s,
                    min_windows=int(plan.min_windows))
    sets = job.split.counts()
    eval_set = "test" if sets.get("test") else "val" if sets.get("val") else "test"
    return PreparedGestureRun(plan, job, eval_set)


def train_and_save(job: GestureJob, name: str, tcfg: TrainConfig, out: str | Path, *, config: dict | None = None,
                   title: str = "", eval_set: str = "test", write_report: bool = True,
                   on_event: Callable[[dict], None] | None = None, cancel: Callable[[], bool] | None = None,
                   data: dict | None = None) -> dict:
    """Train a gesture model on a prepared job, evaluate it, save the checkpoint and its report.

    Parameters
    ----------
    job : GestureJob
        From :func:`asha_app.gestures.train.prepare`.
    name : str
        Registered gesture model.
    tcfg : asha_app.gestures.train.TrainConfig
    out : path
        Checkpoint file (the report files go beside it: :func:`asha_app.gestures.report.write_gesture_report`).
    config : dict, optional
        Model configuration overrides.
    title : str
        Report title.
    eval_set : str
        Split set the metrics are computed on (no windows there: no metrics, no report).
    on_event : callable, optional
        Called with every :func:`~asha_app.gestures.train.fit_events` event.
    cancel : callable, optional
        True stops training after the current batch (best epoch kept, evaluated and saved).
    data : dict, optional
        Extra entries for the checkpoint's ``data`` (e.g. ``sources``).

    Returns
    -------
    dict
        ``checkpoint`` (str), ``metrics`` (:func:`~asha_app.gestures.train.classification_metrics`, {} without
        windows), ``report`` (paths), ``done`` (the last training event), ``window_ms`` (the window each
        decision sees: the model's history, ms).
    """
    from asha_app.gestures import train as G  # noqa: PLC0415 - torch, scipy.signal on first use
    from asha_app.gestures.report import write_gesture_report  # noqa: PLC0415 - matplotlib on first use
    from asha_app.models import checkpoint as C  # noqa: PLC0415 - torch on first use
    from asha_app.models.registry import default_config  # noqa: PLC0415 - torch on first use

    cfg = dict(config or {})
    model = G.new_model(name, job, cfg)
    done: dict = {}
    for ev in G.fit_events(model, job, tcfg, cancel=cancel):
        if on_event is not None:
            on_event(ev)
        done = ev
    idx = job.split.indices(eval_set)
    metrics = G.evaluate(model, job, idx) if len(idx) else {}
    out = Path(out)
    ck = G.make_checkpoint(job, model, metrics={eval_set: metrics} if metrics else {},
                           training={"best_epoch": done.get("best_epoch"), "epochs": done.get("epochs"),
                                     "stopped": done.get("stopped"), "history": done.get("history", []),
                                     "config": {**default_config(name), **cfg}})
    ck.data.update(data or {})
    C.save(ck, out)
    report = write_gesture_report(out, metrics, title=title) if metrics and write_report else {}
    return {"checkpoint": str(out), "metrics": metrics, "report": report, "done": done,
            "window_ms": model.history / job.ws.fs * 1000.0}


def _progress(ev: dict):
    """A :func:`fit_events` event as the pose task's :class:`~asha_app.models.train.ProgressEvent`.

    The wizard's curves: ``train_loss`` is the class-weighted cross-entropy, ``val_loss`` the validation
    error ``1 - balanced accuracy`` (None without a validation set).
    """
    import math  # noqa: PLC0415 - only here

    from asha_app.models.train import ProgressEvent  # noqa: PLC0415 - torch on first use

    def err(bacc) -> float | None:
        return None if bacc is None or not math.isfinite(bacc) or bacc < 0 else 1.0 - float(bacc)

    if ev["kind"] == "epoch":
        loss = ev.get("train_loss")
        return ProgressEvent("epoch", epoch=ev["epoch"], max_epochs=ev["max_epochs"],
                             train_loss=None if loss is None or not math.isfinite(loss) else float(loss),
                             val_loss=err(ev.get("val_bacc")), best_val_loss=err(ev.get("best_val_bacc")),
                             best_epoch=ev["best_epoch"], elapsed_s=ev["elapsed_s"], eta_s=ev.get("eta_s"))
    return ProgressEvent("done", epoch=ev.get("epochs", 0), best_epoch=ev.get("best_epoch", 0),
                         message=str(ev.get("stopped", "")))


def run_gesture_training(prepared: PreparedGestureRun, config: TrainConfig, out_path: str | Path,
                         write_report: bool = True, *, emit, cancelled) -> dict:
    """Child-process target: train, evaluate and save a prepared gesture run (see :mod:`asha_app.core.child`).

    Returns
    -------
    dict
        As :func:`asha_app.models.jobs.run_training` (``checkpoint``, ``report``, ``metrics``, ``eval_set``,
        ``cancelled``, ``best_epoch``, ``epochs_run``, ``counts``) plus ``task == "gesture"``, ``classes`` and
        ``window_ms``.
    """
    plan, job = prepared.plan, prepared.job
    emit(("status", {"phase": "training", "counts": prepared.counts()}))
    stopped = []

    def on_event(ev: dict) -> None:
        if ev["kind"] == "done" and ev.get("stopped") == "cancelled":
            from asha_app.models.train import ProgressEvent  # noqa: PLC0415 - torch on first use

            stopped.append(True)
            emit(("progress", ProgressEvent("cancelled")))
        emit(("progress", _progress(ev)))
        if ev["kind"] == "done":
            emit(("status", {"phase": "evaluating"}))

    title = f"{plan.model_name} on {', '.join(plan.sources) or 'sessions'}: {prepared.eval_set} set"
    res = train_and_save(job, plan.model_name, config, out_path, config=plan.model_config, title=title,
                         eval_set=prepared.eval_set, write_report=write_report, on_event=on_event,
                         cancel=cancelled, data={"sources": list(plan.sources)})
    done = res["done"]
    log.info("gesture training saved %s (best epoch %s, %s)", out_path, done.get("best_epoch"), done.get("stopped"))
    return {"checkpoint": res["checkpoint"], "report": res["report"], "metrics": res["metrics"],
            "eval_set": prepared.eval_set, "cancelled": bool(stopped), "best_epoch": done.get("best_epoch"),
            "epochs_run": done.get("epochs"), "counts": prepared.counts(), "task": "gesture",
            "classes": list(job.classes), "window_ms": res["window_ms"]}
