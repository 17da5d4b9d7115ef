"""Long model jobs as plain functions, run in a child process (:class:`asha_app.core.child.ChildJob`).

Each takes its inputs as keyword arguments plus ``emit`` (sends a picklable
progress object to the parent) and ``cancelled`` (polls the Stop flag), and
returns a picklable result.  They are Qt-free and can be called in-process
too (:func:`asha_app.core.child.run_inline`).

Messages ``emit`` sends: ``("progress", ProgressEvent)`` (weights stripped) and
``("status", dict)`` (phase changes).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from asha_app.models import checkpoint as C
from asha_app.models import train as T
from asha_app.models.plan import add_builtin_hand, finetune_split_args, target_units
from asha_app.models.report import write_report as write

log = logging.getLogger(__name__)


def run_training(prepared, config, out_path: str | Path, write_report: bool = True, *, emit, cancelled) -> dict:
    """Train (or fine-tune) a prepared run, evaluate it, save the checkpoint and its report.

    Parameters
    ----------
    prepared : asha_app.models.plan.PreparedRun
        From :func:`asha_app.models.plan.prepare_plan` (checked before the job starts).
    config : asha_app.models.train.TrainConfig
    out_path : path
        Checkpoint file to write (the report files go beside it).
    write_report : bool
        Write the report files (JSON, PNGs, HTML).
    emit, cancelled : callables
        See the module docstring.  Cancelling keeps the best epoch, evaluates and saves it.

    Returns
    -------
    dict
        ``{"checkpoint", "report", "metrics", "eval_set", "cancelled", "best_epoch", "epochs_run", "counts"}``.

    Raises
    ------
    AshaError
        The model layer's errors (no result, bad data).
    """
    out_path = Path(out_path)
    plan, job = prepared.plan, prepared.job
    if job.hand_model is None:  # not sent over the pipe: rebuilt here
        add_builtin_hand(job)
    emit(("status", {"phase": "training", "counts": prepared.counts()}))
    if plan.is_finetune:
        gen = T.finetune(plan.finetune_from, plan.recordings, plan.finetune_mode, config, cancel=cancelled,
                         split_args=finetune_split_args(plan.split_args))
    else:
        gen = T.run(job, config, cancel=cancelled)
    last = None
    for ev in gen:
        if ev.kind == "done":
            last = ev
        emit(("progress", replace(ev, checkpoint=None)))  # the GUI needs numbers, not the weights
    if last is None or last.checkpoint is None:
        raise T.TrainingError("training ended without a result")
    ckpt = last.checkpoint
    ckpt.data.setdefault("sources", list(plan.sources))
    emit(("status", {"phase": "evaluating"}))
    model = ckpt.build_model() if plan.is_finetune else job.model
    metrics, y_true, y_pred = T.evaluate_job(job, model, prepared.eval_set)
    metrics = {"evaluated_set": prepared.eval_set, **metrics}
    ckpt.metrics.setdefault(prepared.eval_set, metrics)
    C.save(ckpt, out_path)
    report = {}
    if write_report:
        idx = job.split.indices(prepared.eval_set)
        what = f"{ckpt.model_name} calibrated ({plan.finetune_mode})" if plan.is_finetune else ckpt.model_name
        title = f"{what} on {', '.join(plan.sources) or 'sessions'}: {prepared.eval_set} set"
        report = write(out_path, metrics, job.ws.label_time[idx], y_true, y_pred, job.ws.target_names, title=title,
                       units=target_units(job.ws.target_kind, job.ws.target_names))
    res = last.result or {}
    log.info("training saved %s (best epoch %s, %s)", out_path, res.get("best_epoch"),
             "cancelled" if res.get("cancelled") else "finished")
    return {"checkpoint": str(out_path), "report": report, "metrics": metrics, "eval_set": prepared.eval_set,
            "cancelled": bool(res.get("cancelled")), "best_epoch": res.get("best_epoch"),
            "epochs_run": res.get("epochs_run"), "counts": prepared.counts()}
