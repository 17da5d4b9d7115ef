"""Training plans, Qt-free: what the training wizard chose, checked and prepared before anything trains.

* :class:`TrainingPlan` and :func:`prepare_plan`: turn the wizard's choices into a
  :class:`PreparedRun`, checking everything the model layer checks (labels, NaNs,
  channel count and rate of a checkpoint, empty split sets) BEFORE any training
  starts.  Errors are the model layer's own :class:`~asha_app.core.errors.AshaError` messages.
* :func:`new_checkpoint_path`, :func:`headline` and :func:`warm_up`, which the wizard and the
  training job share.  Splits (every kind, and the group helpers the wizard shows) are
  :mod:`asha_app.data.splits`.

The training itself runs in a child process (:mod:`asha_app.models.jobs`, started by
:class:`asha_app.workers.training.TrainingWorker`).
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from asha_app.core.errors import ConfigError, DatasetError
from asha_app.core.paths import data_dir, unique_path
from asha_app.data.labels import select_targets
from asha_app.data.normalisation import POSE_TAU_S
from asha_app.data.splits import SPLIT_CHOICES, SPLIT_TAKES, split_time_blocks
from asha_app.data.windows import WindowSpec, build_windows, check_recording
from asha_app.models.fingers import units_of
from asha_app.models.threads import training_threads

if TYPE_CHECKING:  # torch stays out of import time: these types only for the type checker
    from asha_app.dsp.filters import FilterSpec
    from asha_app.models.checkpoint import Checkpoint
    from asha_app.models.train import Job
    from asha_app.pose.hand_model import HandModel

log = logging.getLogger(__name__)


def default_threads() -> int:
    """Torch threads for training: the free cores but one (the GUI keeps a core), at most 8, at least 1.

    Free cores are estimated without blocking (:func:`asha_app.models.threads.training_threads`), so a machine
    loaded by other programs does not get an oversubscribed, many times slower training.
    """

    return training_threads(reserve=1, interval_s=0.0)


def target_units(target_kind: str, target_names: list[str] | None = None) -> str:
    """Units of a target set for axis labels: ``joints_mm`` -> mm, angles and flexion -> deg, glove channels ->
    glove units (:func:`asha_app.models.fingers.units_of` when the names are given)."""
    if target_names:
        return units_of(target_names, target_kind)
    return "mm" if target_kind == "joints_mm" else "deg"


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
    split_kind : {"auto", "time_blocks", "repetitions", "sessions", "participants"}
        Passed to :func:`asha_app.data.splits.make_split` (the one split path of the
        API, the CLI and the wizard).
    split_args : dict
        ``time_blocks``: ``n_blocks``, ``gap_ms`` (and optionally ``pattern``);
        ``repetitions``: ``assign_rep`` {rep: set}, ``gap_ms``; ``sessions``:
        ``assign_session``; ``participants``: ``assign_participant``; ``auto``: those
        of time blocks and repetitions.
    hand_model : HandModel or None
        Drives 5 finger-flexion targets to 21 joints for MPJPE in the report.
    norm : {"fixed", "running"}
        EMG normalisation of a new model (:func:`asha_app.models.train.prepare`); fine-tuning keeps the checkpoint's.
    tau_s : float
        RunningNorm time constant, s.
    """

    recordings: list
    sources: list[str] = field(default_factory=list)
    model_name: str | None = None
    model_config: dict = field(default_factory=dict)
    finetune_from: Checkpoint | None = None
    finetune_mode: str = "head"
    window_ms: float = 0.0
    stride_ms: float = 20.0
    label_lag_ms: float = 0.0
    filter_spec: FilterSpec | None = None
    target_kind: str = "auto"
    split_kind: str = "time_blocks"
    split_args: dict = field(default_factory=dict)
    hand_model: HandModel | None = None
    seed: int = 0
    norm: str = "fixed"
    tau_s: float = POSE_TAU_S

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
    job: Job
    eval_set: str

    def counts(self) -> dict:
        """Windows per split set and dropped."""
        return self.job.split.counts()


def _window_spec(plan: TrainingPlan, history_ms: float):
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
    from asha_app.models import train as T  # noqa: PLC0415 - torch on first use
    from asha_app.models.registry import build  # noqa: PLC0415 - torch on first use

    recs = list(plan.recordings)
    if not recs:
        raise DatasetError("no sessions chosen: pick at least one session with pose labels")
    for r in recs:
        check_recording(r, recs[0].fs, recs[0].n_channels)
    if plan.split_kind not in SPLIT_CHOICES:
        raise ConfigError(f"unknown split {plan.split_kind!r}; use one of {', '.join(SPLIT_CHOICES)}")

    if (ck := plan.finetune_from) is not None:  # fine-tuning
        if plan.finetune_mode not in T.FINETUNE_MODES:
            raise T.TrainingError(f"fine-tuning mode {plan.finetune_mode!r} unknown: use one of {T.FINETUNE_MODES}")
        _, names, _ = select_targets(recs[0], ck.target_kind)
        ck.check_compatible(n_channels=recs[0].n_channels, fs=recs[0].fs, target_names=names)
        if plan.split_kind not in ("time_blocks", "auto"):
            raise ConfigError("fine-tuning (calibration) splits the new data into contiguous time blocks only")
        ws = build_windows(recs, ck.window, ck.filter_spec, ck.target_kind)
        split = split_time_blocks(ws, **finetune_split_args(plan.split_args))
        split.check(("train", "val"))
        model = ck.build_model()
        job = T.Job(ws, split, ck.normalizer, model, plan.hand_model)
        add_builtin_hand(job)
        return PreparedRun(plan, job, "val")

    if not plan.model_name:
        raise ConfigError("choose a model to train or a checkpoint to fine-tune")
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
                    split_args=split_args_for(plan.split_kind, plan.split_args), seed=plan.seed,
                    hand_model=plan.hand_model, norm=plan.norm, tau_s=plan.tau_s)
    add_builtin_hand(job)
    return PreparedRun(plan, job, "test")


def add_builtin_hand(job) -> None:
    """Give 5-finger-flexion jobs the built-in hand model (MPJPE of the driven hand), as the model layer chooses it."""
    from asha_app.models import train as T  # noqa: PLC0415 - torch on first use

    if job.hand_model is None and hasattr(T, "builtin_hand_for"):
        try:
            job.hand_model = T.builtin_hand_for(job.ws)
        except (FileNotFoundError, ValueError) as exc:
            log.warning("no hand model for MPJPE: %s", exc)


def split_args_for(kind: str, args: dict) -> dict:
    """The wizard's split settings reduced to what :func:`asha_app.data.splits.make_split` takes for ``kind``.

    The wizard keeps settings of every kind it showed (a block count after switching to
    sessions); only the chosen kind's keys go on.
    """
    keep = SPLIT_TAKES.get(kind, ())
    return {k: v for k, v in dict(args).items() if k in keep}


def finetune_split_args(a: dict) -> dict:
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
    """Do the GUI process's first-use imports for training plans once; returns the seconds it took (0 when done).

    Training runs in a child process (:mod:`asha_app.models.jobs`), so the GUI process
    only needs what :func:`prepare_plan` uses: torch (building the model to learn its
    history), the model registry and the windowing code.  Imported in a thread while the
    user is still choosing sessions.  Afterwards the heap is frozen for the cyclic
    garbage collector (:func:`gc.freeze`): a full collection over torch's and Qt's
    long-lived objects otherwise holds the GIL for a visible time.
    """
    if _WARM_DONE.is_set():
        return 0.0
    with _WARM_LOCK:
        if _WARM_DONE.is_set():
            return 0.0
        t0 = time.perf_counter()
        import torch  # noqa: F401, PLC0415 - the warm-up imports in its thread
        import asha_app.data.windows  # noqa: PLC0415 - the warm-up imports in its thread
        import asha_app.models.registry  # noqa: PLC0415 - the warm-up imports in its thread
        import asha_app.models.train  # noqa: F401, PLC0415 - the warm-up imports in its thread

        # No gc.collect() here: a collection in a worker thread that frees a Qt object deadlocks PySide; the
        # app collects on a GUI-thread timer instead (asha_app.app.run_gui).
        gc.freeze()
        _WARM_DONE.set()
        dt = time.perf_counter() - t0
        log.info("training libraries loaded in %.1f s", dt)
        return dt


def new_checkpoint_path(model_name: str, folder: Path | None = None) -> Path:
    """A fresh ``<data_dir>/models/<model>_<YYYYmmdd-HHMMSS>.pt`` (suffixed when taken)."""
    folder = Path(folder) if folder is not None else data_dir() / "models"
    folder.mkdir(parents=True, exist_ok=True)
    return unique_path(folder / f"{model_name}_{time.strftime('%Y%m%d-%H%M%S')}.pt")


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
