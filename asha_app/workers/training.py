"""Training and fine-tuning off the GUI thread.

Two parts:

* :class:`TrainingPlan` and :func:`prepare_plan` (Qt-free): turn what the
  training wizard chose into a prepared run, checking everything the model
  layer checks (labels, NaNs, channel count and rate of a checkpoint, empty
  split sets) BEFORE any thread starts.  Errors are the model layer's own
  :class:`~asha_app.core.errors.AshaError` messages.
* :class:`TrainingWorker`: a :class:`~asha_app.workers.base.Worker` that runs
  :func:`asha_app.models.train.run` or :func:`~asha_app.models.train.finetune`
  in its thread, puts every :class:`~asha_app.models.train.ProgressEvent` into
  a lock-protected queue the GUI drains on a timer (:meth:`TrainingWorker.drain`),
  saves the checkpoint (best epoch, also after Stop) under
  ``data_dir()/"models"`` and writes its evaluation report beside it.

Only low-rate signals cross threads: ``error(str)`` (a user-facing message) and
``status(dict)`` (phase changes: preparing, training, evaluating, saved; a
handful per run).
"""

from __future__ import annotations

import gc
import io
import logging
import os
import threading
import time
from collections import deque
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import Signal

from asha_app.core.errors import AshaError
from asha_app.workers.base import Worker

log = logging.getLogger(__name__)

SPLIT_KINDS = ("time_blocks", "repetitions", "sessions", "participants")


def default_threads() -> int:
    """Torch threads for training: all cores but one (the GUI keeps a core), at most 8, at least 1."""
    return max(1, min(8, (os.cpu_count() or 2) - 1))


def target_units(target_kind: str, target_names: list[str] | None = None) -> str:
    """Units of a target set for axis labels: ``joints_mm`` -> mm, angles and flexion -> deg, glove channels ->
    glove units (:func:`asha_app.models.fingers.units_of` when the names are given)."""
    if target_names:
        from asha_app.models.fingers import units_of

        return units_of(target_names, target_kind)
    return "mm" if target_kind == "joints_mm" else "deg"


def group_names(recordings: list) -> tuple[list[str], list[str]]:
    """Session and participant keys of recordings, exactly as :func:`asha_app.data.windows.build_windows` names them."""
    sessions = [str(r.meta.get("session", f"session{i}")) for i, r in enumerate(recordings)]
    participants = [str(r.meta.get("participant", "unknown")) for r in recordings]
    return sessions, participants


def repetitions_of(recordings: list) -> list[int] | None:
    """Repetition numbers present in EVERY recording's prompts (sorted), or None if one recording has none."""
    common = None
    for r in recordings:
        reps = {int(p.repetition) for p in r.prompts if p.repetition >= 0}
        if not reps:
            return None
        common = reps if common is None else common & reps
    return sorted(common or [])


def default_group_assignment(keys: list) -> dict:
    """Default train/val/test of distinct groups (sessions, participants, repetitions): last test, one before val.

    Needs at least 3 distinct keys; fewer leave a set empty (the split check then says so).
    """
    keys = list(dict.fromkeys(keys))
    out = {k: "train" for k in keys}
    if len(keys) >= 2:
        out[keys[-1]] = "test"
    if len(keys) >= 3:
        out[keys[-2]] = "val"
    return out


@dataclass
class TrainingPlan:
    """What the wizard chose: data, model (new or fine-tuned), windows, split and training settings.

    Attributes
    ----------
    recordings : list of Recording
        Loaded sessions (same channel count and rate).
    sources : list of str
        File names they came from (for titles and the checkpoint's summary).
    model_name : str or None
        Registry name of a NEW model; None when fine-tuning.
    finetune_from : Checkpoint or None
        The checkpoint to adapt (loaded with :func:`asha_app.models.checkpoint.load`).
    finetune_mode : {"all", "head", "bn_head"}
    window_ms, stride_ms, label_lag_ms : float
        Window length (0: the model's history), stride and label lag, ms.
        Fine-tuning keeps the checkpoint's window.
    filter_spec : FilterSpec or None
        None: the live default chain at the data's rate.
    split_kind : {"time_blocks", "repetitions", "sessions", "participants"}
    split_args : dict
        ``time_blocks``: ``n_blocks``, ``gap_ms`` (and optionally ``pattern``);
        ``repetitions``: ``assign_rep`` {rep: set}, ``gap_ms``; ``sessions``:
        ``assign_session``; ``participants``: ``assign_participant``.
    hand_model : HandModel or None
        Drives 5 finger-flexion targets to 21 joints for MPJPE in the report.
    """

    recordings: list
    sources: list[str] = field(default_factory=list)
    model_name: str | None = None
    model_config: dict = field(default_factory=dict)
    finetune_from: object | None = None
    finetune_mode: str = "head"
    window_ms: float = 0.0
    stride_ms: float = 20.0
    label_lag_ms: float = 0.0
    filter_spec: object | None = None
    target_kind: str = "auto"
    split_kind: str = "time_blocks"
    split_args: dict = field(default_factory=dict)
    hand_model: object | None = None
    seed: int = 0

    @property
    def is_finetune(self) -> bool:
        """True when adapting an existing checkpoint."""
        return self.finetune_from is not None


@dataclass
class PreparedRun:
    """A plan checked and turned into data ready to train on.

    ``job`` is the :class:`asha_app.models.train.Job` (new model, or the
    fine-tuning data with the checkpoint's normaliser and model);
    ``eval_set`` the split set the report evaluates (``test`` for new
    models, ``val`` for calibration, which has no test set).
    """

    plan: TrainingPlan
    job: object
    eval_set: str

    def counts(self) -> dict:
        """Windows per split set and dropped."""
        return self.job.split.counts()


def _window_spec(plan: TrainingPlan, history_ms: float):
    from asha_app.data.windows import WindowSpec

    w = plan.window_ms if plan.window_ms and plan.window_ms > 0 else history_ms
    return WindowSpec(float(w), float(plan.stride_ms), float(plan.label_lag_ms))


def prepare_plan(plan: TrainingPlan) -> PreparedRun:
    """Check and prepare a plan: windows, split, normalisation, model -- before anything trains.

    Raises
    ------
    AshaError
        The model layer's error (DatasetError: NaNs, no valid labels, an empty
        split set; CheckpointMismatchError: another channel count, rate or
        targets; ConfigError: unknown model or split).
    """
    from asha_app.core.errors import ConfigError
    from asha_app.data.windows import (DatasetError, Normalizer, build_windows, check_recording, select_targets,
                                       split_by_repetitions, split_time_blocks)
    from asha_app.models import train as T
    from asha_app.models.registry import build

    recs = list(plan.recordings)
    if not recs:
        raise DatasetError("no sessions chosen: pick at least one session with pose labels")
    for r in recs:
        check_recording(r, recs[0].fs, recs[0].n_channels)
    if plan.split_kind not in SPLIT_KINDS:
        raise ConfigError(f"unknown split {plan.split_kind!r}; use one of {', '.join(SPLIT_KINDS)}")

    if plan.is_finetune:
        ck = plan.finetune_from
        if plan.finetune_mode not in T.FINETUNE_MODES:
            raise T.TrainingError(f"fine-tuning mode {plan.finetune_mode!r} unknown: use one of {T.FINETUNE_MODES}")
        _, names, _ = select_targets(recs[0], ck.target_kind)
        ck.check_compatible(n_channels=recs[0].n_channels, fs=recs[0].fs, target_names=names)
        if plan.split_kind != "time_blocks":
            raise ConfigError("fine-tuning (calibration) splits the new data into contiguous time blocks only")
        ws = build_windows(recs, ck.window, ck.filter_spec, ck.target_kind)
        split = split_time_blocks(ws, **_finetune_split_args(plan.split_args))
        split.check(("train", "val"))
        model = ck.build_model()
        job = T.Job(ws, split, ck.normalizer, model, plan.hand_model)
        _add_builtin_hand(job)
        return PreparedRun(plan, job, "val")

    if not plan.model_name:
        raise ConfigError("choose a model to train or a checkpoint to fine-tune")
    if plan.split_kind != "repetitions":
        window = None
        if plan.window_ms and plan.window_ms > 0:
            window = _window_spec(plan, 0.0)
        else:  # default window = the model's history, with the chosen stride (prepare re-seeds and rebuilds)
            _, names, _ = select_targets(recs[0], plan.target_kind)
            probe = build(plan.model_name, n_channels=recs[0].n_channels, n_targets=len(names), fs=recs[0].fs,
                          **(plan.model_config or {}))
            window = _window_spec(plan, probe.history * 1000.0 / recs[0].fs)
        job = T.prepare(recs, model_name=plan.model_name, model_config=plan.model_config, window=window,
                        filter_spec=plan.filter_spec, target_kind=plan.target_kind, split_kind=plan.split_kind,
                        split_args=_group_args(plan), seed=plan.seed, hand_model=plan.hand_model)
        _add_builtin_hand(job)
        return PreparedRun(plan, job, "test")

    # By repetitions: models/train.prepare has no "repetitions" kind (make_split lacks it), so the same steps
    # are done here with data.windows.split_by_repetitions (same order as prepare: targets, seeded model,
    # window >= history, windows, split, check, train-only normalisation).
    import torch

    _, names, _ = select_targets(recs[0], plan.target_kind)
    torch.manual_seed(plan.seed)
    model = build(plan.model_name, n_channels=recs[0].n_channels, n_targets=len(names), fs=recs[0].fs,
                  **(plan.model_config or {}))
    hist_ms = model.history * 1000.0 / recs[0].fs
    spec = _window_spec(plan, hist_ms)
    if spec.window_ms < hist_ms - 1e-6:
        spec = replace(spec, window_ms=hist_ms)
    ws = build_windows(recs, spec, plan.filter_spec, plan.target_kind)
    args = dict(plan.split_args)
    assign = {int(k): v for k, v in (args.pop("assign_rep", None) or {}).items() if v in ("train", "val", "test")}
    split = split_by_repetitions(ws, assign, **args)
    split.check(("train", "val", "test"))
    norm = Normalizer.fit(ws, split.indices("train"))
    job = T.Job(ws, split, norm, model, plan.hand_model)
    _add_builtin_hand(job)
    return PreparedRun(plan, job, "test")


def _add_builtin_hand(job) -> None:
    """Give 5-finger-flexion jobs the built-in hand model (MPJPE of the driven hand), as the model layer chooses it."""
    from asha_app.models import train as T

    if job.hand_model is None and hasattr(T, "builtin_hand_for"):
        try:
            job.hand_model = T.builtin_hand_for(job.ws)
        except (FileNotFoundError, ValueError) as exc:
            log.warning("no hand model for MPJPE: %s", exc)


def _group_args(plan: TrainingPlan) -> dict:
    a = dict(plan.split_args)
    if plan.split_kind == "sessions":
        return {"assign_session": {k: v for k, v in a.get("assign_session", {}).items() if v != "unused"}}
    if plan.split_kind == "participants":
        return {"assign_participant": {k: v for k, v in a.get("assign_participant", {}).items() if v != "unused"}}
    return {k: v for k, v in a.items() if k in ("n_blocks", "pattern", "gap_ms")}


def _finetune_split_args(a: dict) -> dict:
    """Time blocks for calibration: train and validation only (the model layer's calibration split has no test)."""
    n = int(a.get("n_blocks", 5))
    pattern = a.get("pattern") or ["val" if k % 5 == 3 else "train" for k in range(n)]
    out = {"n_blocks": n, "pattern": list(pattern)}
    if a.get("gap_ms") is not None:
        out["gap_ms"] = a["gap_ms"]
    return out


_WARM_LOCK = threading.Lock()
_WARM_DONE = threading.Event()


def warm_up() -> float:
    """Do the first-use imports of training once per process; returns the seconds it took (0 when done before).

    The first optimizer step imports ``torch._dynamo`` (hundreds of modules,
    some of whose initialisation holds the GIL for 100-400 ms at a time) and
    the first report loads matplotlib and its fonts.  Done in a thread while
    the user is still choosing sessions, these stalls do not land in the
    middle of training.  Afterwards the heap is frozen for the cyclic garbage
    collector (:func:`gc.freeze`): a full collection over the ~10^6 objects of
    torch, matplotlib and Qt otherwise holds the GIL for ~0.4 s and stalls
    the GUI.
    """
    if _WARM_DONE.is_set():
        return 0.0
    with _WARM_LOCK:
        if _WARM_DONE.is_set():
            return 0.0
        t0 = time.perf_counter()
        import torch
        from torch import nn

        lin = nn.Linear(2, 1)
        opt = torch.optim.AdamW(lin.parameters(), lr=1e-3)
        lin(torch.zeros(1, 2)).sum().backward()
        nn.utils.clip_grad_norm_(list(lin.parameters()), 1.0)
        opt.step()
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(1, 1))
        ax.bar(["a"], [1.0])
        ax.set_title("warm-up")
        fig.tight_layout()
        fig.savefig(io.BytesIO(), format="png")
        plt.close(fig)
        import asha_app.models.report  # noqa: F401 - warm the report module too

        # The imports leave ~10^6 long-lived objects; every full (generation-2) garbage collection walks
        # them all while holding the GIL (measured: 0.4 s, a stalled GUI).  Freezing moves what exists now
        # out of the collector's reach (gc.freeze, Python >= 3.7); objects created later are collected as usual.
        # No gc.collect() here: a collection in a worker thread that frees a Qt object deadlocks PySide; the
        # app collects on a GUI-thread timer instead (asha_app.app.run_gui).
        gc.freeze()
        _WARM_DONE.set()
        dt = time.perf_counter() - t0
        log.info("training libraries loaded in %.1f s", dt)
        return dt


class WarmUpWorker(Worker):
    """Runs :func:`warm_up` in its own thread (started when the training wizard opens)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("TrainingWarmUp")
        self.seconds: float | None = None

    def run(self) -> None:  # noqa: D102 - QThread entry
        try:
            self.seconds = warm_up()
        except Exception:  # warm-up is an optimisation only; training does the same imports itself
            log.exception("training warm-up failed")


def new_checkpoint_path(model_name: str, folder: Path | None = None) -> Path:
    """A fresh ``<data_dir>/models/<model>_<YYYYmmdd-HHMMSS>.pt`` (suffixed when taken)."""
    from asha_app.core.paths import data_dir, unique_path

    folder = Path(folder) if folder is not None else data_dir() / "models"
    folder.mkdir(parents=True, exist_ok=True)
    return unique_path(folder / f"{model_name}_{time.strftime('%Y%m%d-%H%M%S')}.pt")


class TrainingWorker(Worker):
    """Runs one prepared training or fine-tuning run in its thread.

    Parameters
    ----------
    prepared : PreparedRun
        From :func:`prepare_plan` (checked in the GUI thread before starting).
    config : TrainConfig
    out_path : Path, optional
        Checkpoint file; default :func:`new_checkpoint_path`.
    threads : int, optional
        ``torch.set_num_threads`` inside the worker (default all cores but one,
        so the GUI keeps a core).  Note torch's intra-op pool is per process.
    write_report : bool
        Write the report files (JSON, PNGs, HTML) beside the checkpoint.

    Signals
    -------
    error(str)
        A user-facing message; the run ended without a checkpoint.
    status(dict)
        ``{"phase": "training" | "evaluating" | "saved", ...}``, a few per run.

    Notes
    -----
    :meth:`cancel` (the Stop button) ends training at the next batch; the best
    epoch's weights are restored, evaluated and saved.  :meth:`stop` (window
    closing) does the same but skips the report.  After the thread finishes,
    :attr:`result` holds ``{"checkpoint", "report", "metrics", "eval_set",
    "cancelled", "best_epoch", "epochs_run"}`` or stays None after an error.
    """

    error = Signal(str)
    status = Signal(dict)

    def __init__(self, prepared: PreparedRun, config=None, out_path: Path | None = None, threads: int | None = None,
                 write_report: bool = True, parent=None) -> None:
        super().__init__(parent)
        from asha_app.models.train import TrainConfig

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
        self.error_message: str | None = None

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

    # ------------------------------------------------------------------ thread side
    def _push(self, ev) -> None:
        ev = replace(ev, checkpoint=None)  # the GUI needs numbers, not the weights
        with self._lock:
            self._events.append(ev)

    def run(self) -> None:  # noqa: D102 - QThread entry
        import torch

        torch.set_num_threads(self.threads)
        try:
            warm_up()
            self._run()
        except AshaError as exc:
            self.error_message = str(exc)
            self.error.emit(str(exc))
        except Exception as exc:  # an unexpected failure must reach the user, not kill the thread silently
            log.exception("training failed")
            self.error_message = f"training failed unexpectedly ({type(exc).__name__}: {exc}); see the log"
            self.error.emit(self.error_message)

    def _run(self) -> None:
        from asha_app.models import checkpoint as C
        from asha_app.models import train as T

        prep, plan, job = self.prepared, self.prepared.plan, self.prepared.job
        self.status.emit({"phase": "training", "counts": prep.counts()})
        if plan.is_finetune:
            gen = T.finetune(plan.finetune_from, plan.recordings, plan.finetune_mode, self.config,
                             cancel=lambda: self.cancel_requested, split_args=_finetune_split_args(plan.split_args))
        else:
            gen = T.run(job, self.config, cancel=lambda: self.cancel_requested)
        last = None
        for ev in gen:
            if ev.kind == "done":
                last = ev
            self._push(ev)
        if last is None or last.checkpoint is None:
            raise T.TrainingError("training ended without a result")
        ckpt = last.checkpoint
        ckpt.data.setdefault("sources", list(plan.sources))
        self.status.emit({"phase": "evaluating"})
        model = ckpt.build_model() if plan.is_finetune else job.model
        metrics, y_true, y_pred = T.evaluate_job(job, model, prep.eval_set)
        metrics = {"evaluated_set": prep.eval_set, **metrics}
        ckpt.metrics.setdefault(prep.eval_set, metrics)
        C.save(ckpt, self.out_path)
        report = {}
        if self.write_report and not self.isInterruptionRequested():
            from asha_app.models.report import write_report

            idx = job.split.indices(prep.eval_set)
            what = (f"{ckpt.model_name} calibrated ({plan.finetune_mode})" if plan.is_finetune else ckpt.model_name)
            title = f"{what} on {', '.join(plan.sources) or 'sessions'}: {prep.eval_set} set"
            report = write_report(self.out_path, metrics, job.ws.label_time[idx], y_true, y_pred,
                                  job.ws.target_names, title=title, units=target_units(job.ws.target_kind, job.ws.target_names))
        res = last.result or {}
        self.result = {"checkpoint": str(self.out_path), "report": report, "metrics": metrics,
                       "eval_set": prep.eval_set, "cancelled": bool(res.get("cancelled")),
                       "best_epoch": res.get("best_epoch"), "epochs_run": res.get("epochs_run"),
                       "counts": prep.counts()}
        self.status.emit({"phase": "saved", "checkpoint": str(self.out_path),
                          "cancelled": bool(res.get("cancelled"))})
        log.info("training saved %s (best epoch %s, %s)", self.out_path, res.get("best_epoch"),
                 "cancelled" if res.get("cancelled") else "finished")


def headline(metrics: dict) -> dict:
    """The headline numbers of a metrics dict (what lists and tables show).

    Returns
    -------
    dict
        Keys present when computed: ``mpjpe_mm`` (hand frame, wrist-relative;
        of the hand-model-driven skeleton for finger-flexion targets),
        ``pck10``, ``pck20`` (fractions), ``angle_err_deg``, ``r2_mean`` (over the
        targets that vary; absent when none does), ``n``.  Values that are
        None or not finite are left out.
    """
    out = {}

    def num(key: str):  # a report read back from strict JSON has null where the value is undefined
        v = metrics.get(key)
        return None if v is None else float(v)

    for key, name in (("mpjpe_wrist_rel_mm", "mpjpe_mm"), ("pck10_wrist_rel", "pck10"), ("pck20_wrist_rel", "pck20")):
        for prefix in ("", "hand_model_"):
            if num(prefix + key) is not None:
                out[name] = num(prefix + key)
                break
    if num("mean_angle_error_deg") is not None:
        out["angle_err_deg"] = num("mean_angle_error_deg")
    if num("r2_mean") is not None:
        out["r2_mean"] = num("r2_mean")
    if metrics.get("n") is not None:
        out["n"] = int(metrics["n"])
    if "mpjpe_mm" in out and "hand_model_mpjpe_wrist_rel_mm" in metrics and "mpjpe_wrist_rel_mm" not in metrics:
        out["mpjpe_via_hand_model"] = True
    return {k: v for k, v in out.items() if not (isinstance(v, float) and not np.isfinite(v))}
