"""Qt-free training loop: a generator of progress events, cancellable, with early stopping.

Typical use (the training wizard runs this in a worker thread and forwards events)::

    job = prepare(recordings, model_name="envtcn", window=WindowSpec(2000, 20), filter_spec=spec)
    for ev in run(job, TrainConfig(), cancel=stop_event.is_set):
        print(ev.kind, ev.epoch, ev.train_loss, ev.val_loss, ev.eta_s)
    ckpt = ev.checkpoint  # on the final "done" event

Properties:

* seeds fixed (``TrainConfig.seed``): same data + seed -> same weights;
* batches in the order of a :class:`torch.utils.data.DistributedSampler`
  (one replica when not distributed), so a data-parallel run under
  ``torchrun`` with N processes and per-process batch ``batch_size / N`` sees
  exactly the same effective batches as one process (see
  :mod:`asha_app.models.distributed`);
* early stopping on the validation loss with the BEST epoch's weights
  restored at the end (also after cancelling);
* loss: MSE on normalised targets (each target weighs the same).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from asha_app.core.errors import AshaError, DatasetError
from asha_app.data.labels import select_targets
from asha_app.data.normalisation import POSE_TAU_S, Normalizer, check_kind
from asha_app.data.recording import Recording
from asha_app.data.splits import Split, make_split, split_time_blocks
from asha_app.data.windows import WindowSet, WindowSpec, build_windows
from asha_app.dsp.filters import FilterSpec
from asha_app.models import metrics as M
from asha_app.models.base import EmgModel
from asha_app.models.checkpoint import Checkpoint
from asha_app.models.dataset import FeatureDataset, WindowDataset
from asha_app.models.registry import build
from asha_app.pose.contract import PoseContractError, hand_mapper
from asha_app.pose.hand_model import HandModel

log = logging.getLogger(__name__)

FINETUNE_MODES = ("all", "head", "bn_head")


class TrainingError(AshaError):
    """Training cannot start or continue (bad settings, diverged loss)."""


@dataclass
class TrainConfig:
    """Settings of one training run.

    Attributes
    ----------
    max_epochs : int
    batch_size : int
        Effective (global) batch size; divided among processes under torchrun.
    lr, weight_decay : float
        AdamW settings.
    patience : int
        Epochs without validation improvement before stopping.
    seed : int
    progress_every : int
        Emit a ``"batch"`` event every this many batches.
    max_time_s : float or None
        Stop (keeping the best epoch) after this much wall time.
    grad_clip : float
        Gradient-norm clip.
    device : str
        Torch device of the model and batches (``"cpu"``, ``"cuda:0"``); the model is moved there.
    """

    max_epochs: int = 60
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-4
    patience: int = 8
    seed: int = 0
    progress_every: int = 50
    max_time_s: float | None = None
    grad_clip: float = 5.0
    device: str = "cpu"

    def to_dict(self) -> dict:
        """Plain dict for the checkpoint."""
        return dict(self.__dict__)


@dataclass
class ProgressEvent:
    """One progress report.

    ``kind``: ``"start"``, ``"batch"``, ``"epoch"``, ``"done"`` or ``"cancelled"``
    (the last event is always ``"done"``; a cancelled run yields
    ``"cancelled"`` and then ``"done"`` with the best weights restored).
    Losses are MSE on normalised targets; ``eta_s`` is an upper bound
    (remaining epochs at the mean epoch time).
    """

    kind: str
    epoch: int = 0
    max_epochs: int = 0
    batch: int = 0
    n_batches: int = 0
    train_loss: float | None = None
    val_loss: float | None = None
    best_val_loss: float | None = None
    best_epoch: int = 0
    elapsed_s: float = 0.0
    eta_s: float | None = None
    message: str = ""
    result: dict | None = None
    checkpoint: Checkpoint | None = None


def _rank_world() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


@torch.no_grad()
def predict(model: nn.Module, ds: WindowDataset, batch: int = 1024) -> np.ndarray:
    """Normalised predictions (N, T) of a model over a dataset, in eval mode."""
    was = model.training
    model.eval()
    p0 = next(iter(model.parameters()), None)
    dev = p0.device if p0 is not None else torch.device("cpu")
    out = []
    for i in range(0, len(ds), batch):
        x, _ = ds.batch(np.arange(i, min(i + batch, len(ds))))
        out.append(model(x.to(dev)).cpu().numpy())
    model.train(was)
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


def _val_loss(model: nn.Module, ds: WindowDataset) -> float:
    p = predict(model, ds)
    y = ds.norm.y(ds.ws.y[ds.indices])
    return float(np.mean((p - y) ** 2))


def is_cancelled(cancel) -> bool:
    """True when ``cancel`` (None, a callable or a :class:`threading.Event`-like object) says stop."""
    if cancel is None:
        return False
    if callable(cancel):
        return bool(cancel())
    return bool(getattr(cancel, "is_set", lambda: False)())


def train(model: EmgModel, train_ds: WindowDataset, val_ds: WindowDataset, cfg: TrainConfig | None = None,  # noqa: C901
          cancel: Callable[[], bool] | None = None, trainable: list[nn.Parameter] | None = None,
          train_mode: Callable[[nn.Module], None] | None = None, ddp_model: nn.Module | None = None
          ) -> Iterator[ProgressEvent]:
    """Train ``model`` in place, yielding progress events; the best epoch's weights are restored.

    Parameters
    ----------
    model : EmgModel
    train_ds, val_ds : WindowDataset
        Normalised training and validation windows (``val_ds`` may not be empty).
    cfg : TrainConfig
    cancel : callable or threading.Event, optional
        Checked every batch; when true, training stops at once and the best weights so far are restored.
    trainable : list of Parameter, optional
        Parameters to optimise (fine-tuning); default all.
    train_mode : callable, optional
        Called with the model at the start of every epoch to set train/eval
        modes (fine-tuning keeps frozen parts in eval mode); default ``model.train()``.
    ddp_model : nn.Module, optional
        A ``DistributedDataParallel`` wrapper of ``model`` to run the forward pass through.

    Yields
    ------
    ProgressEvent
        The final one has kind ``"done"`` and ``result`` = ``{"best_epoch", "best_val_loss", "epochs_run",
        "history": [{"epoch", "train_loss", "val_loss", "time_s"}], "cancelled", "stopped_early"}``.

    Raises
    ------
    TrainingError
        Empty training/validation set or a loss that is not finite.
    """
    cfg = cfg or TrainConfig()
    if len(train_ds) == 0 or len(val_ds) == 0:
        raise TrainingError(f"cannot train: {len(train_ds)} training and {len(val_ds)} validation windows")
    rank, world = _rank_world()
    t0 = time.perf_counter()
    torch.manual_seed(cfg.seed)
    yield ProgressEvent("start", max_epochs=cfg.max_epochs, message=f"{len(train_ds)} training windows")

    if model.closed_form:
        xt, yt = train_ds.batch(np.arange(len(train_ds)))
        xv, yv = val_ds.batch(np.arange(len(val_ds)))
        info = model.fit_closed_form(xt, yt, xv, yv)  # type: ignore[operator]  # closed-form models define it
        model.eval()
        vl = _val_loss(model, val_ds)
        tl = float(np.mean((predict(model, train_ds) - yt.numpy()) ** 2))
        el = time.perf_counter() - t0
        yield ProgressEvent("epoch", 1, 1, 1, 1, tl, vl, vl, 1, el, 0.0)
        result = {"best_epoch": 1, "best_val_loss": vl, "epochs_run": 1, "cancelled": False, "stopped_early": False,
                  "history": [{"epoch": 1, "train_loss": tl, "val_loss": vl, "time_s": el}], "closed_form": info}
        yield ProgressEvent("done", 1, 1, val_loss=vl, best_val_loss=vl, best_epoch=1, elapsed_s=el, eta_s=0.0,
                            result=result)
        return

    if ddp_model is None and _cacheable(model, cfg):
        yield from _train_on_features(model, train_ds, val_ds, cfg, cancel, trainable, train_mode, t0)
        return

    model.to(cfg.device)
    net = ddp_model if ddp_model is not None else model
    params = trainable if trainable is not None else [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.batch_size % world:
        raise TrainingError(f"batch size {cfg.batch_size} does not divide among {world} processes")
    local_b = cfg.batch_size // world
    sampler: torch.utils.data.DistributedSampler[int]
    sampler = torch.utils.data.DistributedSampler(train_ds, num_replicas=world, rank=rank, shuffle=True,
                                                  seed=cfg.seed, drop_last=True)
    n_batches = (len(train_ds) // world) // local_b
    if n_batches == 0:
        raise TrainingError(f"cannot train: {len(train_ds)} training windows are fewer than one batch of "
                            f"{cfg.batch_size}")
    loss_fn = nn.MSELoss()
    best = (float("inf"), 0, {k: v.detach().cpu().clone() for k, v in model.state_dict().items()})
    history = []
    cancelled = stopped_early = False
    epoch_times = []
    for epoch in range(1, cfg.max_epochs + 1):
        te = time.perf_counter()
        (train_mode or (lambda m: m.train()))(model)
        sampler.set_epoch(epoch)
        order = np.fromiter(iter(sampler), dtype=np.int64)
        running = 0.0
        for b in range(n_batches):
            if is_cancelled(cancel):
                cancelled = True
                break
            x, y = train_ds.batch(order[b * local_b:(b + 1) * local_b])
            x, y = x.to(cfg.device, non_blocking=True), y.to(cfg.device, non_blocking=True)
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(x), y)
            loss.backward()
            if cfg.grad_clip:
                nn.utils.clip_grad_norm_(params, cfg.grad_clip)
            opt.step()
            lv = float(loss.detach())
            if not np.isfinite(lv):
                model.load_state_dict(best[2])
                raise TrainingError(f"the training loss became {lv} at epoch {epoch}; lower the learning rate")
            running += lv
            if cfg.progress_every and (b + 1) % cfg.progress_every == 0:
                yield ProgressEvent("batch", epoch, cfg.max_epochs, b + 1, n_batches, running / (b + 1),
                                    best_val_loss=best[0] if best[1] else None, best_epoch=best[1],
                                    elapsed_s=time.perf_counter() - t0)
        if cancelled:
            break
        tl = running / n_batches
        if world > 1:
            t = torch.tensor([tl], dtype=torch.float64)
            dist.all_reduce(t)
            tl = float(t) / world
        vl = _val_loss(model, val_ds)
        epoch_times.append(time.perf_counter() - te)
        history.append({"epoch": epoch, "train_loss": tl, "val_loss": vl, "time_s": epoch_times[-1]})
        if vl < best[0]:
            best = (vl, epoch, {k: v.detach().cpu().clone() for k, v in model.state_dict().items()})
        el = time.perf_counter() - t0
        eta = float(np.mean(epoch_times)) * (cfg.max_epochs - epoch)
        yield ProgressEvent("epoch", epoch, cfg.max_epochs, n_batches, n_batches, tl, vl, best[0], best[1], el, eta)
        if epoch - best[1] >= cfg.patience:
            stopped_early = True
            break
        if cfg.max_time_s is not None and el > cfg.max_time_s:
            stopped_early = True
            break
    if best[1]:
        model.load_state_dict(best[2])
    model.to("cpu").eval()
    result = {"best_epoch": best[1], "best_val_loss": best[0], "epochs_run": len(history), "history": history,
              "cancelled": cancelled, "stopped_early": stopped_early}
    if cancelled:
        yield ProgressEvent("cancelled", len(history), cfg.max_epochs, best_val_loss=best[0], best_epoch=best[1],
                            elapsed_s=time.perf_counter() - t0, message="cancelled; best epoch restored")
    yield ProgressEvent("done", len(history), cfg.max_epochs, val_loss=best[0], best_val_loss=best[0],
                        best_epoch=best[1], elapsed_s=time.perf_counter() - t0, eta_s=0.0, result=result)


class _FromFeatures(nn.Module):
    """A model seen from its cached features: ``forward(f) = model.from_features(f)`` (same parameters)."""

    closed_form = False

    def __init__(self, model: EmgModel) -> None:
        super().__init__()
        self.inner = model

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        return self.inner.from_features(f)


def _cacheable(model: nn.Module, cfg: TrainConfig) -> bool:
    """True when the training loop may run on the model's cached fixed features (see
    :meth:`asha_app.models.base.EmgModel.fixed_features`): the model says so (a parameter-free front, no input
    augmentation), on the CPU."""
    ok = getattr(model, "feature_cache_ok", None)
    return bool(ok is not None and ok() and not model.closed_form and str(cfg.device) == "cpu")


@torch.no_grad()
def cached_features(model: EmgModel, ds: WindowDataset, batch: int = 512) -> torch.Tensor:
    """:meth:`~asha_app.models.base.EmgModel.fixed_features` (N, F) of every window of ``ds``, eval mode."""
    was = model.training
    model.eval()
    seq = getattr(model, "fixed_features_sequence", None)
    if seq is not None and len(ds):  # O(n) over each recording instead of O(n x window)
        ws, rows = ds.ws, ds.ws.ends[ds.indices]
        cached: torch.Tensor | None = None
        for lo, hi in ws.rec_bounds:
            sel = np.flatnonzero((rows >= lo) & (rows < hi))
            if not len(sel):
                continue
            xn = ds.norm.emg_rows(ws.emg[lo:hi]) if ds.ws_normalised is None else ds.ws_normalised.emg[lo:hi]
            f = seq(torch.from_numpy(np.ascontiguousarray(xn)))
            cached = torch.zeros(len(ds), f.shape[1]) if cached is None else cached
            cached[torch.from_numpy(sel)] = f[torch.from_numpy(rows[sel] - lo)]
        model.train(was)
        return cached if cached is not None else torch.zeros(0, 0)
    out: list[torch.Tensor] = []
    for i in range(0, len(ds), batch):
        x, _ = ds.batch(np.arange(i, min(i + batch, len(ds))))
        f = model.fixed_features(x)
        assert f is not None  # only called for models with a fixed front (feature_cache_ok)
        out.append(f)
    model.train(was)
    return torch.cat(out) if out else torch.zeros(0, 0)


def _train_on_features(model, train_ds, val_ds, cfg, cancel, trainable, train_mode, t0):
    """:func:`train` on cached fixed features: the same batches, losses and early stopping, the front run once."""

    rank, world = _rank_world()
    sampler = torch.utils.data.DistributedSampler(train_ds, num_replicas=world, rank=rank, shuffle=True,
                                                  seed=cfg.seed, drop_last=True)
    sampler.set_epoch(1)
    first = np.fromiter(iter(sampler), dtype=np.int64)[:max(1, cfg.batch_size // world)]
    model.data_init(train_ds.batch(first)[0])  # what the first training batch would set
    ftr = FeatureDataset(train_ds, cached_features(model, train_ds))
    fva = FeatureDataset(val_ds, cached_features(model, val_ds))
    wrapper = _FromFeatures(model)
    mode = train_mode or (lambda m: m.train())
    params = trainable if trainable is not None else [p for p in model.parameters() if p.requires_grad]
    for ev in train(wrapper, ftr, fva, cfg, cancel, params, lambda _w: mode(model)):
        if ev.kind == "start":
            continue
        ev.elapsed_s = time.perf_counter() - t0
        if ev.kind == "done":
            ev.result["feature_cache"] = {"features": int(ftr.features.shape[1])}
        yield ev


# ------------------------------------------------------------------------------------------------------------ jobs


@dataclass
class Job:
    """Everything prepared for one training run (data, split, normalisation, model)."""

    ws: WindowSet
    split: Split
    norm: Normalizer
    model: EmgModel
    hand_model: object | None = None
    extra: dict = field(default_factory=dict)
    _xn: np.ndarray | None = field(default=None, repr=False)

    def dataset(self, name: str, model: EmgModel | None = None) -> WindowDataset:
        """Normalised dataset of one split, cropped to the (job's) model's history.

        A running normalisation is computed once per job (every recording from its first sample) and shared.
        """
        if not self.norm.per_window and self._xn is None:
            self._xn = self.norm.emg_set(self.ws)
        return WindowDataset(self.ws, self.split.indices(name), self.norm, (model or self.model).history, self._xn)


def prepare(recordings: list[Recording] | Recording, *, model_name: str, model_config: dict | None = None,
            window: WindowSpec | None = None, filter_spec: FilterSpec | None = None, target_kind: str = "auto",
            split_kind: str = "time_blocks", split_args: dict | None = None, seed: int = 0,
            require_test: bool = True, hand_model: object | None = None, norm: str = "fixed",
            tau_s: float = POSE_TAU_S, log_input: bool = False) -> Job:
    """Check the data, cut windows, split, normalise and build the model -- all before training starts.

    The window length is the larger of ``window.window_ms`` and the model's
    history, so every model sees exactly what it needs.

    Parameters
    ----------
    norm : {"fixed", "running"}
        EMG normalisation (:class:`~asha_app.data.normalisation.Normalizer`): the training split's statistics, or a
        :class:`~asha_app.dsp.running_norm.RunningNorm` with those as its prior, run over every recording from its
        first sample (as live).
    tau_s : float
        RunningNorm time constant, s.
    log_input : bool
        Normalise the log of the (rectified envelope) EMG.

    Raises
    ------
    DatasetError
        NaNs, no valid labels, mismatched recordings, an empty split, an unknown ``norm``.
    ConfigError
        Unknown model or setting.
    """
    recs = [recordings] if isinstance(recordings, Recording) else list(recordings)
    if not recs:
        raise DatasetError("no recordings given")
    check_kind(norm)
    r0 = recs[0]
    _, names, _ = select_targets(r0, target_kind)
    torch.manual_seed(seed)
    model = build(model_name, n_channels=r0.n_channels, n_targets=len(names), fs=r0.fs, **(model_config or {}))
    hist_ms = model.history * 1000.0 / r0.fs
    window = window or WindowSpec(window_ms=hist_ms, stride_ms=max(1000.0 / r0.fs, 10.0))
    if window.window_ms < hist_ms - 1e-6:
        window = WindowSpec(hist_ms, window.stride_ms, window.label_lag_ms, window.max_label_gap_ms)
    ws = build_windows(recs, window, filter_spec, target_kind)
    split = make_split(ws, split_kind, **(split_args or {}))
    split.check(("train", "val", "test") if require_test else ("train", "val"))
    nz = Normalizer.fit(ws, split.indices("train"), norm, tau_s, log_input)
    return Job(ws, split, nz, model, hand_model)


def evaluate_job(job: Job, model: EmgModel | None = None,
                 set_name: str = "test") -> tuple[dict, np.ndarray, np.ndarray]:
    """Metrics of a model on one split, in target units; returns (metrics, y_true, y_pred)."""
    model = model or job.model
    ds = job.dataset(set_name, model)
    pred = job.norm.y_inverse(predict(model, ds))
    true = job.ws.y[ds.indices]
    return M.evaluate(pred, true, job.ws.target_names, job.ws.target_kind, job.hand_model), true, pred


def builtin_hand_for(ws: WindowSet, side: str = "right"):
    """The built-in hand model when the targets map onto it (:mod:`asha_app.pose.contract`), else None.

    Joint angles and finger flexions then also get MPJPE/PCK of the driven hand (forward kinematics).
    """
    if ws.target_kind == "joints_mm":
        return None  # joints are compared directly
    hm = HandModel.builtin(side)
    try:
        hand_mapper(ws.target_kind, ws.target_names, hm)
    except PoseContractError:
        return None
    return hm


def hand_model_info(hand_model) -> dict | None:
    """What the checkpoint records about the hand model (name, side, bone lengths)."""
    if hand_model is None:
        return None
    info = {"name": type(hand_model).__name__, "side": getattr(hand_model, "side", None)}
    bl = getattr(hand_model, "bone_lengths_mm", None)
    if bl is not None:
        bl = bl() if callable(bl) else bl
        info["bone_lengths_mm"] = np.asarray(bl, dtype=float).tolist()
    return info


def make_checkpoint(job: Job, cfg: TrainConfig, result: dict, metrics: dict) -> Checkpoint:
    """Checkpoint of the job's (trained) model with its data summary and metrics."""
    return Checkpoint.from_model(
        job.model, normalizer=job.norm, channel_names=job.ws.channel_names, fs=job.ws.fs, window=job.ws.spec,
        filter_spec=job.ws.filter_spec, target_names=job.ws.target_names, target_kind=job.ws.target_kind,
        device=job.ws.device, hand_model=job.ws.hand_model_meta or hand_model_info(job.hand_model),
        data={**job.ws.summary(), "split": job.split.to_dict()}, metrics=metrics,
        training={"config": cfg.to_dict(), "norm": job.norm.describe(),
                  **{k: v for k, v in result.items() if k != "closed_form"}})


def run(job: Job, cfg: TrainConfig | None = None, cancel=None) -> Iterator[ProgressEvent]:
    """Train a prepared job; the final ``"done"`` event carries the :class:`Checkpoint` with test metrics."""
    cfg = cfg or TrainConfig()
    last = None
    for ev in train(job.model, job.dataset("train"), job.dataset("val"), cfg, cancel):
        if ev.kind == "done":
            last = ev
            break
        yield ev
    metrics = {}
    if len(job.split.indices("test")):
        metrics["test"], _, _ = evaluate_job(job, set_name="test")
    metrics["val"], _, _ = evaluate_job(job, set_name="val")
    assert last is not None and last.result is not None, "train() ends with a done event"
    last.checkpoint = make_checkpoint(job, cfg, last.result, metrics)
    yield last


def calibration_window(spec: WindowSpec, fs: float) -> WindowSpec:
    """The windows fine-tuning cuts from a short calibration recording: the checkpoint's, with a stride of at most
    10 ms (or one sample when samples are further apart), so a few minutes give every window they hold (a base
    model trained on hours may have used a coarser stride)."""
    stride = min(spec.stride_ms, max(1000.0 / fs, 10.0))
    return replace(spec, stride_ms=stride)


def finetune(ckpt: Checkpoint, recordings: list[Recording] | Recording, mode: str = "head",
             cfg: TrainConfig | None = None, cancel=None, split_args: dict | None = None,
             adapt_input: bool = False) -> Iterator[ProgressEvent]:
    """Adapt a checkpoint to new recordings (calibration), yielding progress events.

    Parameters
    ----------
    ckpt : Checkpoint
        Its normalisation, filter, window and targets are kept unchanged, so
        inference after calibration uses the same statistics as training.
    recordings : Recording or list
        Must match the checkpoint's channels, rate and targets.
    mode : {"all", "head", "bn_head"}
        ``all``: every weight adapts; ``head``: only the output layers;
        ``bn_head``: BatchNorm running statistics re-estimated on the new data
        plus the output layers (other weights frozen).
    cfg : TrainConfig
    split_args : dict
        Time-block split of the new data (default 5 blocks, the 4th validation, no test).
    adapt_input : bool
        Redo the model's data-dependent input initialisation on the new
        training windows first (:meth:`~asha_app.models.base.EmgModel.data_init`,
        e.g. msenv's log-amplitude zero: a new person's resting level).

    Yields
    ------
    ProgressEvent
        The last (``"done"``) carries the new checkpoint.

    Raises
    ------
    CheckpointMismatchError, DatasetError, TrainingError
        Before any weight changes.
    """
    if mode not in FINETUNE_MODES:
        raise TrainingError(f"fine-tuning mode {mode!r} unknown: use one of {FINETUNE_MODES}")
    recs = [recordings] if isinstance(recordings, Recording) else list(recordings)
    _, names, _ = select_targets(recs[0], ckpt.target_kind)
    ckpt.check_compatible(n_channels=recs[0].n_channels, fs=recs[0].fs, target_names=names)
    model = ckpt.build_model()
    model.without_augmentation()  # one person's data: no electrode-shift augmentation (and cached features)
    ws = build_windows(recs, calibration_window(ckpt.window, recs[0].fs), ckpt.filter_spec, ckpt.target_kind)
    split = split_time_blocks(ws,
                              **(split_args or {"n_blocks": 5, "pattern": ["train", "train", "train", "val", "train"]}))
    split.check(("train", "val"))
    job = Job(ws, split, ckpt.normalizer, model)
    cfg = cfg or TrainConfig(max_epochs=20, lr=3e-4, patience=5)
    if adapt_input:
        tr = job.dataset("train")
        pick = np.random.default_rng(cfg.seed).choice(len(tr), size=min(len(tr), 512), replace=False)
        model.data_init(tr.batch(np.sort(pick))[0], again=True)
    head = [p for m in model.head_modules() for p in m.parameters()]
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]  # noqa: SLF001 - torch's only common base of BatchNorm1d/2d/3d
    trainable: list[nn.Parameter] | None
    mode_fn: Callable[[nn.Module], None] | None
    if mode == "all":
        trainable, mode_fn = list(model.parameters()), None
    else:
        for p in model.parameters():
            p.requires_grad_(False)
        for p in head:
            p.requires_grad_(True)
        trainable = head

        def mode_fn(m: nn.Module) -> None:
            m.eval()
            for h in m.head_modules():  # type: ignore[operator]  # m is the EmgModel
                h.train()
            if mode == "bn_head":
                for bn in bns:
                    bn.train()

    if model.closed_form:
        trainable, mode_fn = None, None
    last = None
    for ev in train(model, job.dataset("train"), job.dataset("val"), cfg, cancel, trainable, mode_fn):
        if ev.kind == "done":
            last = ev
            break
        yield ev
    for p in model.parameters():
        p.requires_grad_(True)
    metrics = {"val": evaluate_job(job, model, "val")[0]}
    assert last is not None and last.result is not None, "train() ends with a done event"
    new = make_checkpoint(job, cfg, last.result, metrics)
    new.training["finetuned_from"] = {"mode": mode, "previous": ckpt.training, "data": ckpt.data}
    last.checkpoint = new
    yield last
