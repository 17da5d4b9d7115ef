"""Fine-tuning strategies for per-user calibration, and held-out evaluation.

Four strategies:

* ``head``    -- only the output layer adapts: with a linear head it is solved in
  closed form on the frozen network's features (ridge regression shrunk towards
  the base model's head, ``W = (F^T F + a I)^-1 (F^T Y + a W0)``, ``a`` chosen on
  a validation time block), otherwise :func:`asha_app.models.train.finetune` mode ``head``;
* ``bn_head`` -- BatchNorm running statistics re-estimated on the person's data
  (AdaBN, Li et al. 2016, "Revisiting batch normalization for practical domain
  adaptation"), then the head as above;
* ``all``     -- every weight by gradient descent with a small learning rate
  (:func:`asha_app.models.train.finetune` mode ``all``), time-bounded;
* ``recenter`` -- the model's input statistics re-estimated on the person (``EmgModel.data_init(again=True)``:
  the reference point of ``riemann``'s covariance features, the log-amplitude zero of ``msenv``; a no-op for
  the others), then the head as above.

:data:`DEFAULT_STRATEGY` is the one measured best on real data
(``benchmarks/calibration.py``; figures in docs/live.md).
"""

from __future__ import annotations

import logging
import time as _time
from collections.abc import Iterator
from typing import Any

from dataclasses import replace

import numpy as np
import torch
from torch import nn

from asha_app.data.recording import Prompt, Recording
from asha_app.data.labels import select_targets
from asha_app.data.splits import split_time_blocks
from asha_app.data.windows import build_windows
from asha_app.models import metrics as M
from asha_app.models import train as T
from asha_app.models.checkpoint import Checkpoint
from asha_app.models.dataset import WindowDataset

log = logging.getLogger(__name__)

STRATEGIES: dict[str, dict[str, Any]] = {
    "head": {"mode": "head", "lr": 3e-3, "label": "output layer only"},
    "bn_head": {"mode": "bn_head", "lr": 3e-3, "label": "BatchNorm statistics + output layer"},
    "all": {"mode": "all", "lr": 3e-4, "label": "whole network, small learning rate"},
    "recenter": {"mode": "head", "lr": 3e-3, "adapt_input": True,
                 "label": "input statistics re-centred on the person (riemann, msenv) + output layer"},
}
#: measured best on the paired Myo + MediaPipe session with a 3-minute calibration (benchmarks/calibration.py,
#: full run; docs/live.md): best in both scenarios (same placement, armband rotated by one electrode); 36 s of
#: fine-tuning on 3 minutes of 500 Hz data on 2 cores
DEFAULT_STRATEGY = "all"


def finetune_config(strategy: str, max_time_s: float = 45.0, max_epochs: int = 15) -> T.TrainConfig:
    """Training settings of a strategy (time-bounded so calibration stays within a minute)."""
    if strategy not in STRATEGIES:
        raise T.TrainingError(f"unknown calibration strategy {strategy!r}; use one of {sorted(STRATEGIES)}")
    spec = STRATEGIES[strategy]
    return T.TrainConfig(max_epochs=max_epochs, batch_size=spec.get("batch_size", 64), lr=spec["lr"],
                         patience=spec.get("patience", 4), progress_every=10, max_time_s=max_time_s,
                         weight_decay=spec.get("weight_decay", 1e-4), seed=0)


ALPHAS = (1.0, 10.0, 100.0, 1000.0, 10000.0)
VAL_PATTERN = ["train", "train", "train", "val", "train"]


def _linear_head(model) -> nn.Linear | None:
    hm = model.head_modules()
    return hm[0] if len(hm) == 1 and isinstance(hm[0], nn.Linear) else None


@torch.no_grad()
def _head_inputs(model, head: nn.Linear, ds: WindowDataset, batch: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """Inputs of the head layer (N, H) and normalised targets (N, T) over a dataset, eval mode."""
    feats = []
    hook = head.register_forward_pre_hook(
        lambda _m, args: feats.append(args[0].detach().reshape(-1, args[0].shape[-1])))
    model.eval()
    ys = []
    try:
        for i in range(0, len(ds), batch):
            x, y = ds.batch(np.arange(i, min(i + batch, len(ds))))
            model(x)
            ys.append(y.numpy())
    finally:
        hook.remove()
    return torch.cat(feats).numpy().astype(np.float64), np.concatenate(ys).astype(np.float64)


@torch.no_grad()
def _reestimate_bn(model, ds: WindowDataset, batch: int = 256) -> int:
    """AdaBN: recompute every BatchNorm's running mean/var on ``ds`` (cumulative average); returns the BN count."""
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]  # noqa: SLF001 - torch's only common base of BatchNorm1d/2d/3d
    if not bns:
        return 0
    model.eval()
    saved = [bn.momentum for bn in bns]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None
        bn.train()
    for i in range(0, len(ds), batch):
        x, _ = ds.batch(np.arange(i, min(i + batch, len(ds))))
        model(x)
    for bn, m in zip(bns, saved):
        bn.momentum = m
    model.eval()
    return len(bns)


def _ridge_to_prior(f: np.ndarray, y: np.ndarray, w0: np.ndarray, alpha: float) -> np.ndarray:
    """Ridge with a bias column, shrunk towards ``w0`` ((H+1, T), bias last; bias unpenalised)."""
    fa = np.hstack([f, np.ones((len(f), 1))])
    reg = alpha * np.eye(fa.shape[1])
    reg[-1, -1] = 1e-6
    return np.linalg.solve(fa.T @ fa + reg, fa.T @ y + reg @ w0)


def _closed_form(ckpt: Checkpoint, recording, strategy: str, cancel=None) -> Iterator[T.ProgressEvent]:
    t0 = _time.perf_counter()
    yield T.ProgressEvent("start", max_epochs=1, message=f"{strategy}: closed-form head")
    model = ckpt.build_model()
    first = recording[0] if isinstance(recording, (list, tuple)) else recording  # or a list of pieces
    ws = build_windows(recording, T.calibration_window(ckpt.window, first.fs), ckpt.filter_spec,
                       ckpt.target_kind)
    split = split_time_blocks(ws, 5, VAL_PATTERN)
    split.check(("train", "val"))
    tr = WindowDataset(ws, split.indices("train"), ckpt.normalizer, model.history)
    va = WindowDataset(ws, split.indices("val"), ckpt.normalizer, model.history)
    if STRATEGIES[strategy].get("adapt_input"):
        pick = np.random.default_rng(0).choice(len(tr), size=min(len(tr), 512), replace=False)
        model.data_init(tr.batch(np.sort(pick))[0], again=True)
    n_bn = _reestimate_bn(model, tr) if STRATEGIES[strategy]["mode"] == "bn_head" else 0
    head = _linear_head(model)
    assert head is not None, "run_strategy only takes this path for a linear head"
    ft, yt = _head_inputs(model, head, tr)
    if T.is_cancelled(cancel):
        yield T.ProgressEvent("cancelled", 0, 1, message="cancelled")
        return
    fv, yv = _head_inputs(model, head, va)
    w0 = np.vstack([head.weight.detach().numpy().T, head.bias.detach().numpy()[None]]).astype(np.float64)
    base_val = float(np.mean((np.hstack([fv, np.ones((len(fv), 1))]) @ w0 - yv) ** 2))
    best: tuple[float, float | None, np.ndarray] = (base_val, None, w0)
    for a in ALPHAS:
        w = _ridge_to_prior(ft, yt, w0, a)
        v = float(np.mean((np.hstack([fv, np.ones((len(fv), 1))]) @ w - yv) ** 2))
        if v < best[0]:
            best = (v, a, w)
    alpha = best[1]
    w = _ridge_to_prior(np.vstack([ft, fv]), np.vstack([yt, yv]), w0, alpha) if alpha is not None else w0
    with torch.no_grad():
        head.weight.copy_(torch.as_tensor(w[:-1].T, dtype=head.weight.dtype))
        head.bias.copy_(torch.as_tensor(w[-1], dtype=head.bias.dtype))
    el = _time.perf_counter() - t0
    yield T.ProgressEvent("epoch", 1, 1, 1, 1, None, best[0], best[0], 1, el, 0.0)
    info = {"strategy": strategy, "closed_form": True, "alpha": alpha, "bn_layers_reestimated": n_bn,
            "val_mse_base_head": base_val, "val_mse": best[0], "windows": {"train": len(tr), "val": len(va)},
            "elapsed_s": el}
    new = replace(ckpt, state_dict={k: v.detach().clone() for k, v in model.state_dict().items()},
                  metrics={}, training={"finetuned_from": {"strategy": strategy, "previous": ckpt.training,
                                                           "data": ckpt.data}, **info})
    yield T.ProgressEvent("done", 1, 1, val_loss=best[0], best_val_loss=best[0], best_epoch=1, elapsed_s=el,
                          eta_s=0.0, result=info, checkpoint=new)


def run_strategy(ckpt: Checkpoint, recording: Recording, strategy: str, cancel=None, max_time_s: float = 45.0,
                 max_epochs: int = 15) -> Iterator[T.ProgressEvent]:
    """Fine-tune ``ckpt`` on ``recording`` with a strategy; the last event carries the new checkpoint.

    Safeguard: the base model and the fine-tuned one are both scored on the
    recording's validation time block (the 4th of 5, never trained on); when
    fine-tuning does not lower that error, the last event carries the BASE
    checkpoint, unchanged, with ``training["calibration_kept"] == "base"``
    (``"calibrated"`` otherwise) and both errors in ``training["safeguard"]``
    (:func:`safeguard_check`).

    Raises
    ------
    TrainingError, DatasetError, CheckpointMismatchError
        Unknown strategy, unusable data or a model that does not fit the data.
    """
    if strategy not in STRATEGIES:
        raise T.TrainingError(f"unknown calibration strategy {strategy!r}; use one of {sorted(STRATEGIES)}")
    first = recording[0] if isinstance(recording, (list, tuple)) else recording  # or a list of pieces
    _, names, _ = select_targets(first, ckpt.target_kind)
    ckpt.check_compatible(n_channels=first.n_channels, fs=first.fs, target_names=names)
    if STRATEGIES[strategy]["mode"] in ("head", "bn_head") and _linear_head(ckpt.build_model()):
        inner = _closed_form(ckpt, recording, strategy, cancel)
    else:
        cfg = finetune_config(strategy, max_time_s, max_epochs)
        inner = T.finetune(ckpt, recording, mode=STRATEGIES[strategy]["mode"], cfg=cfg, cancel=cancel,
                           split_args={"n_blocks": 5, "pattern": VAL_PATTERN},
                           adapt_input=bool(STRATEGIES[strategy].get("adapt_input")))
    for ev in inner:
        if ev.kind == "done" and ev.checkpoint is not None:
            ev.checkpoint = safeguard_check(ckpt, ev.checkpoint, recording)
        yield ev


def validation_error(ckpt: Checkpoint, recording: Recording | list[Recording],
                     scale: np.ndarray | None = None) -> float:
    """Mean squared error on the recording's validation time block (4th of 5), per target divided by ``scale**2``.

    ``recording`` may be a list of pieces (each cut into its own blocks).  ``scale`` defaults to the checkpoint's
    target standard deviations, so the figure is the training loss's unit; pass the same ``scale`` to compare two
    checkpoints whose normalisations differ.
    """
    first = recording[0] if isinstance(recording, (list, tuple)) else recording
    ws = build_windows(recording, T.calibration_window(ckpt.window, first.fs), ckpt.filter_spec,
                       ckpt.target_kind)
    split = split_time_blocks(ws, 5, VAL_PATTERN)
    model = ckpt.build_model()
    ds = WindowDataset(ws, split.indices("val"), ckpt.normalizer, model.history)
    if len(ds) == 0:  # pieces too short for a validation block: nothing to compare on
        return float("nan")
    pred = ckpt.normalizer.y_inverse(T.predict(model, ds))
    sc = np.asarray(ckpt.normalizer.target_std if scale is None else scale, np.float64)
    return float(np.mean(((pred - ws.y[ds.indices]) / sc) ** 2))


def safeguard_check(base: Checkpoint, new: Checkpoint, recording: Recording | list[Recording]) -> Checkpoint:
    """``new`` when it has a lower validation error than ``base`` on ``recording``, else ``base`` (unchanged weights).

    Either way the returned checkpoint's ``training`` records ``calibration_kept``
    (``"calibrated"`` or ``"base"``) and ``safeguard`` = ``{"val_error_base", "val_error_calibrated"}``.  Without a
    validation block to compare on, ``new`` is kept here and the held-out comparison of
    :func:`asha_app.calibration.procedure.keep_better` decides.
    """
    scale = np.asarray(base.normalizer.target_std, np.float64)
    e_base = validation_error(base, recording, scale)
    e_new = validation_error(new, recording, scale)
    info = {"val_error_base": e_base, "val_error_calibrated": e_new}
    if not np.isfinite(e_base) or (np.isfinite(e_new) and e_new < e_base):
        return replace(new, training={**new.training, "calibration_kept": "calibrated", "safeguard": info})
    log.info("calibration kept the base model: validation error %.4f (base) <= %.4f (fine-tuned)", e_base, e_new)
    rejected = {k: new.training[k] for k in ("strategy", "best_epoch", "epochs_run", "alpha") if k in new.training}
    return replace(base, training={**base.training, "calibration_kept": "base", "safeguard": info,
                                   "rejected": rejected})


def slice_recording(rec: Recording, t0: float, t1: float) -> Recording:
    """The part of a recording with session times ``t0 <= t < t1`` (EMG, labels, prompts; extras dropped)."""
    e = (rec.emg_t >= t0) & (rec.emg_t < t1)
    lab = (rec.label_t >= t0) & (rec.label_t < t1)

    def cut(a):
        return None if a is None else np.asarray(a)[lab]

    prompts = [Prompt(p.label, p.start, p.end, p.repetition) for p in rec.prompts if p.start >= t0 and p.end < t1]
    return Recording(emg=rec.emg[e], emg_t=rec.emg_t[e], fs=rec.fs, label_t=rec.label_t[lab],
                     joint_angles=cut(rec.joint_angles), joints_mm=cut(rec.joints_mm), targets=cut(rec.targets),
                     valid=np.asarray(rec.valid)[lab], angle_names=list(rec.angle_names),
                     target_names=list(rec.target_names), channel_names=list(rec.channel_names),
                     emg_units=rec.emg_units, prompts=prompts, meta={**rec.meta, "slice_s": [float(t0), float(t1)]})


def split_holdout(rec: Recording, holdout_fraction: float = 0.25, gap_s: float = 2.0) -> tuple[Recording, Recording]:
    """Calibration part (first ``1 - holdout_fraction``) and held-out block (the rest), ``gap_s`` apart."""
    t_start, t_end = float(rec.emg_t[0]), float(rec.emg_t[-1])
    cut = t_start + (t_end - t_start) * (1.0 - holdout_fraction)
    return slice_recording(rec, t_start, cut), slice_recording(rec, cut + gap_s, t_end + 1.0)


def predict_recording(ckpt: Checkpoint, rec: Recording, stride_ms: float | None = None, model=None
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Predictions on every labelled window of a recording: (label times, true (N, T), predicted (N, T))."""
    spec = ckpt.window if stride_ms is None else replace(ckpt.window, stride_ms=stride_ms)
    ws = build_windows(rec, spec, ckpt.filter_spec, ckpt.target_kind)
    model = model or ckpt.build_model()
    ds = WindowDataset(ws, np.arange(len(ws)), ckpt.normalizer, model.history)
    pred = ckpt.normalizer.y_inverse(T.predict(model, ds))
    return ws.label_time, ws.y, pred


def evaluate_on(ckpt: Checkpoint, rec: Recording, hand_model=None, stride_ms: float | None = None) -> dict:
    """Held-out metrics (per target MAE / R^2, hand-model MPJPE for finger flexion) of a checkpoint on a recording.

    ``stride_ms`` (default: the checkpoint's) lets two checkpoints be scored on the same windows: a calibrated one
    stores the fine-tuning's denser stride."""
    _, y, p = predict_recording(ckpt, rec, stride_ms)
    return M.evaluate(p, y, ckpt.target_names, ckpt.target_kind, hand_model)
