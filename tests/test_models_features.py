"""Training on cached fixed features (msenv's parameter-free front) equals training on the windows."""

from pathlib import Path

import numpy as np
import pytest
import torch

from asha_app.data.importers.paired_myo_mediapipe import load_paired
from asha_app.data.windows import WindowSpec
from asha_app.dsp.filters import FilterSpec
from asha_app.models import train as T

SLICE = Path(__file__).parent / "assets" / "paired_slice"
torch.set_num_threads(1)


def _train(cache: bool, **cfg):
    job = T.prepare(load_paired(SLICE), model_name="msenv", model_config={"scales_ms": [40.0, 200.0, 800.0], **cfg},
                    window=WindowSpec(1000.0, 60.0), filter_spec=FilterSpec(50.0, band=None, notch_hz=None),
                    split_args={"n_blocks": 5})
    if not cache:
        job.model.feature_cache_ok = lambda: False
    evs = list(T.train(job.model, job.dataset("train"), job.dataset("val"), T.TrainConfig(max_epochs=3,
                                                                                           progress_every=0)))
    return job, evs


@pytest.mark.parametrize("aug", [{}, {"gain_std": 0.3, "ring": 8, "rotate_p": 0.3}], ids=["plain", "augmented"])
def test_cached_features_train_the_same_model_as_windows(aug):
    """Same batches, same losses, same weights to float rounding (the cache's running sums are float64, the
    windows' means float32): the cache only removes repeated work (the electrode-shift augmentation works on
    features, so it is the same with and without the cache)."""
    job_c, ev_c = _train(True, **aug)
    job_w, ev_w = _train(False, **aug)
    assert "feature_cache" in ev_c[-1].result and "feature_cache" not in ev_w[-1].result
    assert [e.kind for e in ev_c] == [e.kind for e in ev_w]
    hc, hw = ev_c[-1].result["history"], ev_w[-1].result["history"]
    assert np.allclose([h["val_loss"] for h in hc], [h["val_loss"] for h in hw], rtol=1e-4)
    for (k, a), b in zip(job_c.model.state_dict().items(), job_w.model.state_dict().values()):
        assert torch.allclose(a.float(), b.float(), atol=1e-3), (k, float((a.float() - b.float()).abs().max()))
    ds = job_c.dataset("test")
    assert np.allclose(T.predict(job_c.model, ds), T.predict(job_w.model, ds), atol=1e-3)


def test_forward_is_the_front_then_the_rest():
    job, _ = _train(True)
    x, _ = job.dataset("val").batch(np.arange(16))
    job.model.eval()
    with torch.no_grad():
        assert torch.allclose(job.model(x), job.model.from_features(job.model.fixed_features(x)), atol=1e-6)


def test_augmentation_rotates_the_ring_and_shifts_log_gains():
    from asha_app.models.registry import build

    m = build("msenv", n_channels=10, n_targets=3, fs=100.0, scales_ms=[10.0, 20.0], ring=8, rotate_p=1.0)
    f = torch.arange(2 * 2 * 10, dtype=torch.float32).repeat(64, 1)  # (B, scales x paths x channels)
    m.train()
    g = m.augment_features(f).reshape(64, 2, 2, 10)
    ring = f.reshape(64, 2, 2, 10)[..., :8]
    rolled = [torch.equal(g[i, ..., :8], ring[i].roll(s, -1)) for i in range(64) for s in (-1, 0, 1)]
    assert sum(rolled) == 64  # every window's ring rotated by -1, 0 or +1 electrode
    assert torch.equal(g[..., 8:], f.reshape(64, 2, 2, 10)[..., 8:])  # the other electrodes stay
    m2 = build("msenv", n_channels=10, n_targets=3, fs=100.0, scales_ms=[10.0, 20.0], gain_std=0.5)
    m2.train()
    d = (m2.augment_features(f) - f).reshape(64, 2, 2, 10)
    # 2 log g, all scales
    assert torch.allclose(d[:, :, 1], 2 * d[:, :, 0], atol=1e-4) and torch.allclose(d[:, 0], d[:, 1], atol=1e-4)
    m2.eval()
    assert torch.equal(m2.augment_features(f), f)


def test_calibration_uses_every_window_of_a_short_recording():
    spec = WindowSpec(1000.0, 50.0)
    assert T.calibration_window(spec, 100.0).stride_ms == 10.0  # every 10 ms at 100 Hz
    assert T.calibration_window(spec, 50.0).stride_ms == 20.0  # one sample at 50 Hz
    assert T.calibration_window(WindowSpec(1000.0, 4.0), 500.0).stride_ms == 4.0  # never coarser than the base
    assert T.calibration_window(spec, 100.0).window_ms == 1000.0


def test_adapt_input_redoes_the_log_amplitude_zero_on_the_new_data():
    """A new person's resting level: ``adapt_input`` sets msenv's log-amplitude floor from their windows."""
    from dataclasses import replace

    job, evs = _train(True)
    ck = T.make_checkpoint(job, T.TrainConfig(), evs[-1].result, {})
    rec = load_paired(SLICE)
    louder = replace(rec, emg=(rec.emg + 3.0 * rec.emg.std(0)).astype(np.float32))  # 3 sd higher
    cfg = T.TrainConfig(max_epochs=1, progress_every=0)
    kept = list(T.finetune(ck, louder, "head", cfg))[-1].checkpoint
    adapted = list(T.finetune(ck, louder, "head", cfg, adapt_input=True))[-1].checkpoint
    assert torch.equal(kept.state_dict["amp.floor"], ck.state_dict["amp.floor"])
    shift = adapted.state_dict["amp.floor"] - ck.state_dict["amp.floor"]  # normalised units (sd)
    assert (shift > 0).all() and shift.mean() > 1.5, shift  # (the base floor came from one batch only)


def test_features_of_a_whole_recording_equal_those_of_each_window():
    """The O(n) running-sum path over each recording gives every window's features (two recordings joined)."""
    from asha_app.models.dataset import WindowDataset

    rec = load_paired(SLICE)
    job = T.prepare([rec, rec], model_name="msenv", model_config={"scales_ms": [40.0, 200.0, 800.0]},
                    window=WindowSpec(1000.0, 60.0), filter_spec=FilterSpec(50.0, band=None, notch_hz=None),
                    split_args={"n_blocks": 5})
    ds = job.dataset("train")
    model = job.model
    model.data_init(ds.batch(np.arange(64))[0])
    fast = T.cached_features(model, ds)
    model.eval()
    with torch.no_grad():
        slow = torch.cat([model.fixed_features(ds.batch(np.arange(i, min(i + 256, len(ds))))[0])
                          for i in range(0, len(ds), 256)])
    assert len(set(job.ws.rec_index[ds.indices])) == 2
    assert fast.shape == slow.shape and torch.allclose(fast, slow, atol=1e-4)
    full = WindowDataset(job.ws, np.arange(len(job.ws)), job.norm, model.history)
    assert T.cached_features(model, full).abs().sum(1).min() > 0  # every window got its row
