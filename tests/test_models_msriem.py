"""msriem: msenv's envelopes and riemann's covariance features under one MLP (streaming and checkpoints:
tests/test_models_checkpoint.py)."""

from pathlib import Path

import numpy as np
import torch

from asha_app.data.importers.paired_myo_mediapipe import load_paired
from asha_app.data.windows import WindowSpec
from asha_app.dsp.filters import FilterSpec
from asha_app.models import train as T
from asha_app.models.riemann import sym_fn, tangent_vectors, whitening

SLICE = Path(__file__).parent / "assets" / "paired_slice"
CFG = {"scales_ms": [40.0, 200.0, 800.0], "horizons_ms": [200.0, 600.0], "hidden": 32}
torch.set_num_threads(1)


def _train(cache: bool):
    job = T.prepare(load_paired(SLICE), model_name="msriem", model_config=CFG, window=WindowSpec(1000.0, 60.0),
                    filter_spec=FilterSpec(50.0, band=None, notch_hz=None), split_args={"n_blocks": 5})
    if not cache:
        job.model.feature_cache_ok = lambda: False
    evs = list(T.train(job.model, job.dataset("train"), job.dataset("val"),
                       T.TrainConfig(max_epochs=3, progress_every=0)))
    return job, evs


def test_cached_features_and_windows_set_the_same_reference_and_train_the_same_model():
    """Both training paths take both fronts' constants (log-amplitude floor, covariance reference) from the first
    training batch, so the cache only removes repeated work."""
    job_c, ev_c = _train(True)
    job_w, ev_w = _train(False)
    assert "feature_cache" in ev_c[-1].result and "feature_cache" not in ev_w[-1].result
    for m in (job_c.model, job_w.model):
        assert bool(m.ref_ready) and bool(m.env.amp.floor_ready)
        assert not torch.allclose(m.cov.whiten[0], torch.eye(m.cov.whiten.shape[-1], dtype=torch.float64))
    assert torch.allclose(job_c.model.cov.whiten, job_w.model.cov.whiten, atol=1e-8)
    hc, hw = ev_c[-1].result["history"], ev_w[-1].result["history"]
    assert np.allclose([h["val_loss"] for h in hc], [h["val_loss"] for h in hw], rtol=1e-3)
    ds = job_c.dataset("test")
    assert np.allclose(T.predict(job_c.model, ds), T.predict(job_w.model, ds), atol=1e-3)
    assert hc[-1]["val_loss"] < hc[0]["train_loss"]  # it learns


def test_forward_is_both_fronts_then_the_mlp():
    job, _ = _train(True)
    m = job.model.eval()
    x, _ = job.dataset("val").batch(np.arange(16))
    f = m.fixed_features(x)
    n_env = 2 * 8 * 3
    d = 8 + 1
    assert f.shape == (16, n_env + 2 * d * (d + 1) // 2)
    with torch.no_grad():
        assert torch.allclose(m(x), m.from_features(f), atol=1e-6)
        assert torch.allclose(f[:, :n_env], m.env.fixed_features(x))


def test_recentring_makes_the_persons_mean_the_reference():
    """Calibration's ``data_init(again=True)``: the person's windows' log-Euclidean mean becomes the reference
    point, so their tangent vectors average to about zero (Zanini et al., 2018), and the log-amplitude floor is
    theirs; a plain data_init keeps the first fit's constants."""
    job, _ = _train(True)
    m = job.model
    x, _ = job.dataset("test").batch(np.arange(len(job.dataset("test"))))
    x = 3.0 * x + 0.5  # another person: other gains and levels
    before = m.cov.whiten.clone()
    m.data_init(x)
    assert torch.equal(m.cov.whiten, before)
    s = m.cov._moments(x)
    mean_before = tangent_vectors(s[0], m.cov.whiten[0]).mean(0)
    m.data_init(x, again=True)
    for h in range(len(s)):
        assert torch.allclose(m.cov.whiten[h], whitening(sym_fn(s[h], torch.log).mean(0)), atol=1e-9)
    mean_after = tangent_vectors(s[0], m.cov.whiten[0]).mean(0)
    assert mean_after.norm() < 0.5 * mean_before.norm()  # about: the log-Euclidean, not the affine-invariant, mean
    assert torch.allclose(m.env.amp.floor, x.amin(dim=(0, 2)).float(), atol=1e-6)
