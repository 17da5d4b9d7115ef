"""Training loop, fine-tuning and models on the real paired slice (tests/assets/paired_slice)."""

import threading
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
import torch

from asha_app.core.errors import ConfigError, DatasetError
from asha_app.data.importers.paired_myo_mediapipe import load_paired
from asha_app.data.windows import WindowSpec
from asha_app.dsp.filters import FilterSpec
from asha_app.models import train as T
from asha_app.models.registry import available, build

SLICE = Path(__file__).parent / "assets" / "paired_slice"
NOFILT = FilterSpec(50.0, band=None, notch_hz=None)
torch.set_num_threads(1)


@lru_cache(maxsize=1)
def paired():
    return load_paired(SLICE)


def small_job(model="envtcn", cfg=None, stride=100.0):
    return T.prepare(paired(), model_name=model, model_config=cfg or {}, window=WindowSpec(1000.0, stride),
                     filter_spec=NOFILT, split_args={"n_blocks": 5}, seed=0)


def test_registry_builds_every_model_with_declared_history():
    assert {"ridge", "seed", "envtcn"} <= set(available())
    for name in available():
        m = build(name, n_channels=8, n_targets=63, fs=500.0).eval()
        x = torch.randn(3, 8, m.history + 7)
        y = m(x)
        assert y.shape == (3, 63)
        # only the last `history` samples matter
        x2 = x.clone()
        x2[..., :7] = 1e3
        assert torch.allclose(m(x2), y, atol=1e-5)
        with pytest.raises(ValueError):
            m(x[..., : m.history - 1])
    seed = build("seed", n_channels=8, n_targets=63, fs=500.0)
    assert seed.history == 50 and 0.95e6 < sum(p.numel() for p in seed.parameters()) < 1.1e6
    with pytest.raises(ConfigError, match="no setting"):
        build("seed", n_channels=8, n_targets=5, fs=50.0, hidden=3)
    with pytest.raises(ConfigError, match="unknown model"):
        build("nope", n_channels=8, n_targets=5, fs=50.0)


@pytest.mark.parametrize("name,factor,epochs", [("envtcn", 5.0, 30), ("seed", 5.0, 30)])
def test_model_overfits_tiny_real_slice(name, factor, epochs):
    """On 64 real training windows the training loss must fall by `factor` (capacity + working gradients)."""
    job = small_job(name, {"dropout": 0.0} if name == "envtcn" else {})
    tr, va = job.dataset("train"), job.dataset("val")
    tr.indices = tr.indices[:64]
    va.indices = va.indices[:16]
    cfg = T.TrainConfig(max_epochs=epochs, batch_size=32, lr=3e-3, patience=10**6, progress_every=0, weight_decay=0)
    hist = [ev.train_loss for ev in T.train(job.model, tr, va, cfg) if ev.kind == "epoch"]
    assert hist[-1] < hist[0] / factor, hist


def test_events_early_stopping_restores_best_epoch():
    job = small_job("envtcn")
    cfg = T.TrainConfig(max_epochs=12, batch_size=32, lr=1e-2, patience=2, progress_every=5)
    events = list(T.run(job, cfg))
    kinds = [e.kind for e in events]
    assert kinds[0] == "start" and kinds[-1] == "done" and "batch" in kinds and "epoch" in kinds
    ep = [e for e in events if e.kind == "epoch"]
    assert all(e.eta_s is not None and e.elapsed_s > 0 and e.val_loss is not None for e in ep)
    res = events[-1].result
    best = min(ep, key=lambda e: e.val_loss)
    assert res["best_epoch"] == best.epoch
    # the model holds the BEST epoch's weights, not the last one's
    assert T._val_loss(job.model, job.dataset("val")) == pytest.approx(best.val_loss, rel=1e-5)
    if res["stopped_early"]:
        assert res["epochs_run"] - res["best_epoch"] == cfg.patience
    ck = events[-1].checkpoint
    assert ck.metrics["test"]["n"] == len(job.split.indices("test"))
    assert ck.data["split"]["counts"] == job.split.counts()


def test_cancel_stops_and_restores():
    job = small_job("envtcn", stride=40.0)
    flag = threading.Event()
    n = {"epochs": 0}
    events = []
    for ev in T.train(job.model, job.dataset("train"), job.dataset("val"), T.TrainConfig(max_epochs=50), flag):
        events.append(ev)
        if ev.kind == "epoch":
            n["epochs"] += 1
            if n["epochs"] == 2:
                flag.set()
    assert [e.kind for e in events][-2:] == ["cancelled", "done"]
    assert events[-1].result["cancelled"] and events[-1].result["epochs_run"] == 2


def test_seeds_make_runs_repeatable():
    outs = []
    for _ in range(2):
        job = small_job("envtcn")
        list(T.train(job.model, job.dataset("train"), job.dataset("val"), T.TrainConfig(max_epochs=2, progress_every=0)))
        outs.append(T.predict(job.model, job.dataset("test")))
    assert np.array_equal(outs[0], outs[1])


def test_ridge_closed_form_beats_mean_predictor():
    job = small_job("ridge")
    events = list(T.run(job))
    vl = events[-1].result["best_val_loss"]
    yv = job.norm.y(job.ws.y[job.split.indices("val")])
    assert vl < 0.8 * float(np.mean(yv ** 2))  # clearly better than predicting the training mean
    assert events[-1].result["closed_form"]["alpha"] in job.model.alphas


@pytest.mark.parametrize("mode", ["head", "bn_head", "all"])
def test_finetune_modes_adapt_the_chosen_layers(mode):
    job = small_job("envtcn")
    events = list(T.run(job, T.TrainConfig(max_epochs=1, progress_every=0)))
    ck = events[-1].checkpoint
    before = {k: v.clone() for k, v in ck.state_dict.items()}
    evs = list(T.finetune(ck, paired(), mode=mode, cfg=T.TrainConfig(max_epochs=2, lr=1e-2, patience=5, progress_every=0)))
    new = evs[-1].checkpoint
    assert new.training["finetuned_from"]["mode"] == mode
    assert new.normalizer.to_dict() == ck.normalizer.to_dict()  # calibration keeps the model's statistics
    changed = {k for k in before if not torch.equal(before[k], new.state_dict[k])}
    head = {k for k in before if k.startswith("head.")}
    bn_stats = {k for k in before if k.endswith(("running_mean", "running_var"))}
    assert head <= changed
    if mode == "head":
        assert changed <= head | {k for k in before if k.endswith("num_batches_tracked")}
    elif mode == "bn_head":
        assert bn_stats & changed
        assert not any(k.endswith("weight") and k not in head and "bn" not in k for k in changed)
        assert "front.proj.weight" not in changed
    else:
        assert "front.proj.weight" in changed


def test_training_refuses_bad_input_before_starting():
    rec = paired()
    import copy

    bad = copy.deepcopy(rec)
    bad.emg[10, 2] = np.nan
    with pytest.raises(DatasetError, match="NaN"):
        T.prepare(bad, model_name="envtcn", filter_spec=NOFILT)
    nolab = copy.deepcopy(rec)
    nolab.valid[:] = False
    with pytest.raises(DatasetError, match="no valid label"):
        T.prepare(nolab, model_name="envtcn", filter_spec=NOFILT)
    with pytest.raises(DatasetError, match="test set empty"):
        T.prepare(rec, model_name="ridge", filter_spec=NOFILT, split_args={"n_blocks": 2})
