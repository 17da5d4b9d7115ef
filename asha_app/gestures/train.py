"""Training, evaluation and calibration of gesture classifiers (Qt-free).

Pipeline, the same offline and live (:mod:`asha_app.gestures.streaming`):
causal filter chain -> normalisation -> model over its history -> class scores.
Normalisation (:class:`GestureNorm`) is either **fixed** (per-channel mean/std of
the training split, as the pose models do) or **running**
(:class:`asha_app.dsp.running_norm.RunningNorm`, per recording from its first
sample, starting from the training population's statistics), so a new person
gets a usable start before any calibration.

Typical use::

    job = prepare(recordings, WindowSpec(500, 50), filter_spec, split="repetitions")
    for ev in fit_events(job, "proto", TrainConfig()):
        ...
    ck = make_checkpoint(job, ev["model"], ...)

The loss is class-weighted cross-entropy (every class weighs the same, as
balanced accuracy does); early stopping on the validation balanced accuracy
restores the best epoch's weights.  Metrics: balanced accuracy (mean per-class
recall), per-class accuracy, and the confusion matrix (rows: true class, columns:
decided class).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import numpy as np
import torch
import torch.nn.functional as F

from asha_app.core.errors import AshaError, DatasetError
from asha_app.data.normalisation import RUNNING_TAU_S, EmgNorm, Normalizer, check_kind, log_offset
from asha_app.data.recording import Recording
from asha_app.data.splits import Split, default_group_assignment, make_split
from asha_app.data.windows import WindowSpec
from asha_app.dsp.filters import FilterSpec
from asha_app.gestures.models import GestureModel, PrototypeNet, masked_argmax
from asha_app.gestures.windows import MIN_WINDOWS, GestureWindowSet, build_gesture_windows, check_class_counts
from asha_app.models.checkpoint import Checkpoint
from asha_app.models.registry import build
from asha_app.gestures.labels import canonical_gesture

log = logging.getLogger(__name__)


class GestureError(AshaError):
    """A gesture model cannot be trained, adapted or used as asked."""


# ------------------------------------------------------------------------------------------------ normalisation


class GestureNorm(EmgNorm):
    """The normalisation between the filter chain and a gesture model: an
    :class:`~asha_app.data.normalisation.EmgNorm` (fixed or running, optional log input; the one implementation
    the pose models share) with the gesture side's helpers.  Its :meth:`to_dict` is what gesture checkpoints
    store in ``data["gesture"]["norm"]``."""

    def apply_windows(self, ws: GestureWindowSet) -> np.ndarray:
        """The whole concatenated EMG of a window set, normalised recording by recording (float32 (N, C))."""
        return self.apply_bounds(ws.emg, ws.rec_bounds, ws.fs)

    def normalizer(self, n_classes: int) -> Normalizer:
        """As a checkpoint :class:`Normalizer` (targets: identity over the class scores)."""
        return Normalizer(
            self.mean.astype(np.float32),
            self.std.astype(np.float32),
            np.zeros(n_classes, np.float32),
            np.ones(n_classes, np.float32),
        )


def fit_norm(
    ws: GestureWindowSet,
    train_idx: np.ndarray,
    kind: str = "fixed",
    tau_s: float = RUNNING_TAU_S,
    log_input: bool | str = False,
) -> GestureNorm:
    """Training-split statistics -> :class:`GestureNorm`.

    ``log_input``: True, False or ``"auto"`` (log when every EMG value is >= 0: rectified envelopes, such as
    NinaPro DB1's; raw sEMG swings around zero).  The log offset is 5 % of the mean level
    (:func:`~asha_app.data.normalisation.log_offset`).

    Raises
    ------
    DatasetError
        Unknown kind, or an empty training set.
    """
    check_kind(kind)
    use_log = bool(ws.emg.min() >= 0) if log_input == "auto" else bool(log_input)
    eps = log_offset(ws.emg) if use_log else None
    nz = Normalizer.fit(ws, train_idx, kind, tau_s, log_input=use_log, log_eps=eps)  # type: ignore[arg-type]
    return GestureNorm(kind, nz.emg_mean, nz.emg_std, float(tau_s), eps)


# ------------------------------------------------------------------------------------------------ data


@dataclass
class GestureJob:
    """Windows, split and normalised EMG, ready to train on.

    Attributes
    ----------
    ws : GestureWindowSet
    split : Split
    norm : GestureNorm
    xn : float32 array (N, C)
        ``ws.emg`` normalised by ``norm`` (recording by recording).
    """

    ws: GestureWindowSet
    split: Split
    norm: GestureNorm
    xn: np.ndarray

    def x(self, idx: np.ndarray, length: int | None = None) -> np.ndarray:
        """Normalised windows (n, C, length) ending at the windows ``idx``."""
        return windows_of(self.xn, self.ws.ends[np.asarray(idx)], length or self.ws.window)

    @property
    def classes(self) -> list[str]:
        """Class names."""
        return self.ws.classes


def windows_of(xn: np.ndarray, ends: np.ndarray, length: int) -> np.ndarray:
    """Windows (n, C, length) of ``xn`` (N, C) ending at ``ends``."""
    view = np.lib.stride_tricks.sliding_window_view(xn, int(length), axis=0)
    return np.ascontiguousarray(view[np.asarray(ends) - int(length) + 1])


def default_split(ws: GestureWindowSet) -> tuple[str, dict]:
    """The split kind and arguments used when none is given: repetitions of each gesture (fair to every class).

    Repetition ``r`` (the r-th occurrence of each gesture) goes to test when ``r % 5 == 4``, to validation when
    ``r % 5 == 2``, else to training; with fewer than 3 repetitions the last is test and there is no validation set.
    """
    reps = sorted({p.repetition for ps in ws.rec_prompts for p in ps if p.repetition >= 0})
    if len(reps) >= 5:
        assign = {r: ("test" if r % 5 == 4 else "val" if r % 5 == 2 else "train") for r in reps}
    else:
        assign = default_group_assignment(reps)
    return "repetitions", {"assign_rep": assign}


def prepare(
    recordings: list[Recording] | Recording,
    window: WindowSpec,
    filter_spec: FilterSpec | None = None,
    *,
    source: str = "auto",
    settle_s: float | None = None,
    split: str | None = None,
    split_args: dict | None = None,
    norm: str = "fixed",
    tau_s: float = RUNNING_TAU_S,
    classes: list[str] | None = None,
    min_windows: int = MIN_WINDOWS,
    log_input: bool | str = "auto",
) -> GestureJob:
    """Windows, an honest split and the normalisation for training a gesture classifier.

    Parameters
    ----------
    recordings : Recording or list
    window : WindowSpec
        Window length (the model's history or longer) and stride, ms.
    filter_spec : FilterSpec, optional
    source, settle_s
        Gesture labels (:func:`asha_app.gestures.labels.gesture_timeline`).
    split : str, optional
        A :data:`asha_app.data.splits.SPLIT_KINDS` kind; default :func:`default_split`.
    split_args : dict, optional
        The kind's arguments.
    norm : {"fixed", "running"}
    tau_s : float
        RunningNorm time constant, s.
    classes : list of str, optional
        Fixed class list (default: every gesture found).
    min_windows : int
        Fewest training windows per class.
    log_input : bool or "auto"
        See :func:`fit_norm`; the default takes the log of rectified envelopes (every value >= 0, such as
        NinaPro DB1's), where a person's electrode gain becomes an offset the normalisation removes.

    Raises
    ------
    DatasetError
        No gesture labels, an empty training set, or a class with too few training windows (named).
    """
    ws = build_gesture_windows(recordings, window, filter_spec, source=source, settle_s=settle_s, classes=classes)
    if split is None:
        split, args = default_split(ws)
        args.update(split_args or {})
    else:
        args = dict(split_args or {})
    sp = make_split(ws, split, **args)
    sp.check(("train",))
    check_class_counts(ws, sp.indices("train"), min_windows)
    gn = fit_norm(ws, sp.indices("train"), norm, tau_s, log_input)
    return GestureJob(ws, sp, gn, gn.apply_windows(ws))


# ------------------------------------------------------------------------------------------------ metrics


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray, classes: list[str]) -> dict:
    """Balanced accuracy, accuracy, per-class accuracy (recall) and the confusion matrix.

    Parameters
    ----------
    y_true, y_pred : int arrays (n,)
        Class indices.
    classes : list of str

    Returns
    -------
    dict
        ``balanced_accuracy`` (mean recall over the classes present in ``y_true``, 0..1), ``accuracy``,
        ``per_class`` {name: recall or None when absent}, ``support`` {name: n}, ``confusion``
        (list of rows: true class, columns: decided class), ``classes``, ``n``.
    """
    y_true = np.asarray(y_true, np.int64)
    y_pred = np.asarray(y_pred, np.int64)
    K = len(classes)
    cm = np.zeros((K, K), np.int64)
    np.add.at(cm, (y_true, y_pred), 1)
    support = cm.sum(1)
    rec = np.where(support > 0, np.diag(cm) / np.maximum(support, 1), np.nan)
    present = support > 0
    return {
        "balanced_accuracy": float(np.mean(rec[present])) if present.any() else float("nan"),
        "accuracy": float(np.diag(cm).sum() / max(1, len(y_true))),
        "per_class": {c: (None if not present[i] else float(rec[i])) for i, c in enumerate(classes)},
        "support": {c: int(support[i]) for i, c in enumerate(classes)},
        "confusion": cm.tolist(),
        "classes": list(classes),
        "n": int(len(y_true)),
    }


@torch.no_grad()
def predict_scores(model: GestureModel, x: np.ndarray, batch: int = 2048) -> np.ndarray:
    """Class scores (n, K) of normalised windows (n, C, L)."""
    model.eval()
    out = [model(torch.from_numpy(np.ascontiguousarray(x[i : i + batch]))).numpy() for i in range(0, len(x), batch)]
    return np.concatenate(out) if out else np.zeros((0, model.n_targets), np.float32)


@torch.no_grad()
def embed_windows(model: GestureModel, x: np.ndarray, batch: int = 2048) -> np.ndarray:
    """Embeddings of a :class:`PrototypeNet` (n, embed)."""
    model.eval()
    return np.concatenate(
        [model.embed(torch.from_numpy(np.ascontiguousarray(x[i : i + batch]))).numpy() for i in range(0, len(x), batch)]
    )


def evaluate(model: GestureModel, job: GestureJob, idx: np.ndarray, active: np.ndarray | None = None) -> dict:
    """Metrics of ``model`` on windows ``idx`` of a job (decision = argmax over the active classes)."""
    idx = np.asarray(idx)
    if len(idx) == 0:
        raise DatasetError("no windows to evaluate on")
    scores = predict_scores(model, job.x(idx, model.history))
    return classification_metrics(job.ws.labels[idx], masked_argmax(scores, active), job.classes)


# ------------------------------------------------------------------------------------------------ training


@dataclass
class TrainConfig:
    """Settings of one gesture training run.

    Attributes
    ----------
    max_epochs, batch_size : int
    lr, weight_decay : float
        AdamW.
    patience : int
        Epochs without a better validation balanced accuracy before stopping (no validation set: none).
    seed : int
    gain_aug : float
        Standard deviation of a random log-gain per channel and window (0: off): the amplitude differences
        between people and donnings that a cross-user model must not depend on.
    max_time_s : float or None
    """

    max_epochs: int = 30
    batch_size: int = 256
    lr: float = 2e-3
    weight_decay: float = 1e-3
    patience: int = 6
    seed: int = 0
    gain_aug: float = 0.25
    max_time_s: float | None = None
    extra: dict = field(default_factory=dict)


def _class_weights(y: np.ndarray, K: int) -> torch.Tensor:
    c = np.bincount(y, minlength=K).astype(np.float64)
    w = np.where(c > 0, c.sum() / np.maximum(c, 1) / max(1, int((c > 0).sum())), 0.0)
    return torch.as_tensor(w, dtype=torch.float32)


def _gain_augment(xb: torch.Tensor, rng: np.random.Generator, sd: float, norm: GestureNorm) -> torch.Tensor:
    """A random log-gain per channel and window on linear inputs; log inputs are returned unchanged.

    On a log envelope (``norm.log_eps`` set) a gain is an offset, which RunningNorm already removes; a random
    offset per window would instead hide the activation level, the very thing an envelope classifier reads
    (measured on NinaPro DB1, held-out S8, mlp: balanced accuracy 0.398 without, 0.349 with an offset of
    sd 0.25).
    """
    if norm.log_eps:
        return xb
    lg = torch.from_numpy(rng.normal(0.0, sd, (xb.shape[0], xb.shape[1], 1)).astype(np.float32))
    return xb * lg.exp()


def fit_events(
    model: GestureModel,
    job: GestureJob,
    cfg: TrainConfig | None = None,
    cancel=None,
    train_idx: np.ndarray | None = None,
    val_idx: np.ndarray | None = None,
) -> Iterator[dict]:
    """Train ``model`` on the job's training windows; yields progress events, the last one ``{"kind": "done"}``.

    Events: ``{"kind": "epoch", "epoch", "max_epochs", "train_loss", "val_bacc", "best_epoch", "best_val_bacc",
    "elapsed_s"}`` and finally ``{"kind": "done", "best_epoch", "epochs", "history", "stopped"}`` with the best
    epoch's weights in ``model``.  ``cancel()`` returning True stops after the current batch (best weights kept).
    """
    cfg = cfg or TrainConfig()
    tr = job.split.indices("train") if train_idx is None else np.asarray(train_idx)
    va = job.split.indices("val") if val_idx is None else np.asarray(val_idx)
    if len(tr) == 0:
        raise GestureError("the training set is empty")
    y_all = job.ws.labels
    K = model.n_targets
    L = model.history
    if L > job.ws.window:
        raise GestureError(
            f"{model.name} needs windows of {L} samples ({L / job.ws.fs * 1000:.0f} ms), "
            f"the job cut {job.ws.window}; cut longer windows"
        )
    t0 = time.monotonic()
    if model.closed_form:
        model.fit_closed_form(job.x(tr, L), y_all[tr])
        bacc = evaluate(model, job, va)["balanced_accuracy"] if len(va) else float("nan")
        yield {
            "kind": "epoch",
            "epoch": 1,
            "max_epochs": 1,
            "train_loss": float("nan"),
            "val_bacc": bacc,
            "best_epoch": 1,
            "best_val_bacc": bacc,
            "elapsed_s": time.monotonic() - t0,
        }
        yield {"kind": "done", "best_epoch": 1, "epochs": 1, "history": [], "stopped": "closed form"}
        return
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    weights = _class_weights(y_all[tr], K)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, cfg.max_epochs))
    best = (-1.0, 0, {k: v.detach().clone() for k, v in model.state_dict().items()})
    history, stopped = [], "max epochs"
    for epoch in range(1, cfg.max_epochs + 1):
        model.train()
        order = rng.permutation(tr)
        losses = []
        for i in range(0, len(order), cfg.batch_size):
            if cancel is not None and cancel():
                stopped = "cancelled"
                break
            b = order[i : i + cfg.batch_size]
            xb = torch.from_numpy(job.x(b, L))
            if cfg.gain_aug > 0:
                xb = _gain_augment(xb, rng, cfg.gain_aug, job.norm)
            yb = torch.from_numpy(y_all[b])
            if getattr(model, "members", 1) > 1:  # an ensemble: every member learns on its own loss
                loss = torch.stack([F.cross_entropy(z, yb, weight=weights) for z in model.member_logits(xb)]).mean()
            else:
                loss = F.cross_entropy(model(xb), yb, weight=weights)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            losses.append(float(loss.detach()))
        sched.step()
        if stopped == "cancelled":
            break
        if len(va):
            bacc = evaluate(model, job, va)["balanced_accuracy"]
        else:
            bacc = float("nan")
        improved = (not np.isfinite(bacc)) or bacc > best[0]
        if improved:
            best = (
                bacc if np.isfinite(bacc) else -1.0,
                epoch,
                {k: v.detach().clone() for k, v in model.state_dict().items()},
            )
        history.append(
            {"epoch": epoch, "train_loss": float(np.mean(losses)) if losses else float("nan"), "val_bacc": bacc}
        )
        elapsed = time.monotonic() - t0
        yield {
            "kind": "epoch",
            "epoch": epoch,
            "max_epochs": cfg.max_epochs,
            "train_loss": history[-1]["train_loss"],
            "val_bacc": bacc,
            "best_epoch": best[1],
            "best_val_bacc": best[0],
            "elapsed_s": elapsed,
            "eta_s": elapsed / epoch * (cfg.max_epochs - epoch),
        }
        if len(va) and epoch - best[1] >= cfg.patience:
            stopped = "early stopping"
            break
        if cfg.max_time_s is not None and elapsed > cfg.max_time_s:
            stopped = "time limit"
            break
    if best[1] > 0:
        model.load_state_dict(best[2])
    model.eval()
    yield {"kind": "done", "best_epoch": best[1], "epochs": len(history), "history": history, "stopped": stopped}


def fit(model: GestureModel, job: GestureJob, cfg: TrainConfig | None = None, **kw) -> dict:
    """:func:`fit_events` run to the end; returns the ``done`` event."""
    return list(fit_events(model, job, cfg, **kw))[-1]


def new_model(name: str, job: GestureJob, config: dict | None = None) -> GestureModel:
    """Build a registered gesture model for a job's channels, rate and classes.

    Raises
    ------
    GestureError
        The name is a pose model.
    """
    from asha_app.models.registry import task_of  # noqa: PLC0415 - torch on first use

    if task_of(name) != "gesture":
        raise GestureError(f"{name!r} is a pose model; gesture models: lda, mlp, mlpx, mhcnn, proto")
    return build(name, n_channels=job.ws.n_channels, n_targets=len(job.classes), fs=job.ws.fs, **(config or {}))


def make_checkpoint(
    job: GestureJob, model: GestureModel, metrics: dict | None = None, training: dict | None = None
) -> Checkpoint:
    """A :class:`Checkpoint` of a trained gesture model (``target_kind == "gesture"``, targets = classes).

    The normalisation goes into ``data["gesture"]["norm"]`` (and, as fixed statistics, into the normalizer).
    """
    window = replace(job.ws.spec, window_ms=model.history / job.ws.fs * 1000.0)
    data = {
        **job.ws.summary(),
        "split": job.split.to_dict(),
        "gesture": {
            "norm": job.norm.to_dict(),
            "classes": list(job.classes),
            "train_per_class": job.ws.counts(job.split.indices("train")),
        },
    }
    return Checkpoint.from_model(
        model,
        normalizer=job.norm.normalizer(len(job.classes)),
        channel_names=list(job.ws.channel_names),
        fs=job.ws.fs,
        window=window,
        filter_spec=job.ws.filter_spec,
        target_names=list(job.classes),
        target_kind="gesture",
        device=job.ws.device,
        data=data,
        metrics=metrics or {},
        training=training or {},
    )


def is_gesture_checkpoint(ck: Checkpoint) -> bool:
    """Whether a checkpoint holds a gesture classifier."""
    return ck.target_kind == "gesture"


def norm_of(ck: Checkpoint) -> GestureNorm:
    """The normalisation a gesture checkpoint was trained with."""
    d = (ck.data.get("gesture") or {}).get("norm")
    if d is None:
        return GestureNorm("fixed", ck.normalizer.emg_mean, ck.normalizer.emg_std)
    return GestureNorm.from_dict(d)


def load_gesture_checkpoint(path, *, n_channels: int | None = None, fs: float | None = None) -> Checkpoint:
    """Read a gesture checkpoint.

    Raises
    ------
    CheckpointError
        Unreadable, damaged, or mismatched (channels, rate).
    GestureError
        The checkpoint is a pose model (the message says where pose models go).
    """
    from asha_app.models import checkpoint as C  # noqa: PLC0415 - torch, scipy.signal on first use

    ck = C.load(path, n_channels=n_channels, fs=fs)
    if not is_gesture_checkpoint(ck):
        raise GestureError(
            f"{path} is a pose model ({ck.model_name}, predicts {ck.target_kind}); gesture mode needs "
            "a gesture classifier ('asha train --task gesture'). Load pose models with Live → Load "
            "profile… or evaluate them without --task gesture."
        )
    return ck


def check_subset(classes: list[str], active: list[str] | None) -> np.ndarray:
    """The boolean mask of an active gesture set over a model's classes.

    Parameters
    ----------
    classes : list of str
        The model's (trained) classes.
    active : list of str or None
        Gesture names to keep active (None: all).

    Raises
    ------
    GestureError
        A gesture the model was not trained on (the message lists the trained gestures), or an empty set.
    """

    if active is None:
        return np.ones(len(classes), bool)
    want = [canonical_gesture(a) for a in active]
    unknown = [a for a, w in zip(active, want, strict=True) if w not in classes]
    if unknown:
        raise GestureError(
            f"the gesture set names {unknown}, which the model was not trained on; it knows: "
            f"{', '.join(classes)}. Pick from those, or record and train the new gestures first."
        )
    if not want:
        raise GestureError("the gesture set is empty; tick at least one gesture (rest counts as one)")
    return np.array([c in want for c in classes], bool)


# ------------------------------------------------------------------------------------------------ calibration


def adapt(
    model: GestureModel,
    job: GestureJob,
    idx: np.ndarray,
    method: str = "auto",
    *,
    epochs: int = 15,
    lr: float = 3e-3,
    weight: float = 0.7,
    seed: int = 0,
) -> str:
    """Adapt a trained classifier in place to a person from their labelled windows ``idx`` (calibration).

    Parameters
    ----------
    model : GestureModel
    job : GestureJob
        Holds the person's windows (normalised as the model was trained).
    idx : int array
        Calibration windows.
    method : {"auto", "prototypes", "head", "refit"}
        ``prototypes`` (proto models): move each class's prototype towards the person's mean embedding
        (:meth:`PrototypeNet.update_prototypes`), no gradient steps; ``head``: fine-tune the output layer with
        class-weighted cross-entropy for ``epochs``; ``refit`` (lda): refit on the person's windows.
        ``auto``: prototypes for proto, refit for lda, head otherwise.

    Returns
    -------
    str
        The method used.
    """
    idx = np.asarray(idx)
    if len(idx) == 0:
        raise GestureError("no calibration windows")
    if method == "auto":
        method = "prototypes" if isinstance(model, PrototypeNet) else "refit" if model.closed_form else "head"
    x = job.x(idx, model.history)
    y = job.ws.labels[idx]
    if method == "prototypes":
        if not isinstance(model, PrototypeNet):
            raise GestureError(f"prototype update needs a proto model, not {model.name}")
        model.update_prototypes(embed_windows(model, x), y, weight)
        return method
    if method == "refit":
        if not model.closed_form:
            raise GestureError(f"refit is for closed-form models, not {model.name}")
        model.fit_closed_form(x, y)
        return method
    if method != "head":
        raise GestureError(f"unknown calibration method {method!r}; use prototypes, head or refit")
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    params = [p for m in model.head_modules() for p in m.parameters()]
    for p in model.parameters():
        p.requires_grad_(False)
    for p in params:
        p.requires_grad_(True)
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=1e-3)
    w = _class_weights(y, model.n_targets)
    model.eval()  # BatchNorm statistics and dropout of the trunk stay as trained
    xt = torch.from_numpy(x)
    yt = torch.from_numpy(y)
    for _ in range(epochs):
        for b in np.array_split(rng.permutation(len(y)), max(1, len(y) // 128)):
            loss = F.cross_entropy(model(xt[b]), yt[b], weight=w)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    for p in model.parameters():
        p.requires_grad_(True)
    return method
