"""The Riemannian tangent-space regressor: its geometry, and that it learns on real data."""

from __future__ import annotations

import numpy as np
import scipy.linalg
import torch

from asha_app.models.registry import build
from asha_app.models.riemann import augmented_moments


def _model(**cfg):
    return build("riemann", n_channels=4, n_targets=2, fs=100.0, horizons_ms=[100.0, 300.0], **cfg)


def test_augmented_moments_hold_level_power_and_coactivation():
    x = torch.tensor([[[1.0, 3.0], [2.0, 2.0]]])  # 2 channels, 2 samples
    s = augmented_moments(x, 0.0)[0].numpy()
    assert np.allclose(s, [[5.0, 4.0, 2.0], [4.0, 4.0, 2.0], [2.0, 2.0, 1.0]])  # X X^T / L, means, 1
    assert np.all(np.linalg.eigvalsh(augmented_moments(x, 1e-3)[0].numpy()) > 0)


def test_tangent_features_are_zero_at_the_reference_and_their_norm_is_the_riemannian_distance():
    rng = np.random.default_rng(0)
    m = _model()
    train = torch.from_numpy(rng.standard_normal((200, 4, m.history)).astype(np.float32))
    m.fit_reference(train)
    # one window repeated: its matrix is the reference, so its tangent vector is 0
    one = train[:1].repeat(5, 1, 1)
    m.fit_reference(one)
    assert torch.allclose(m.features(one), torch.zeros(1), atol=1e-5)
    # another window: ||t|| = the affine-invariant distance sqrt(sum log^2 lambda), lambda of (S, R)
    other = train[1:2]
    f = m.features(other).double()
    n_tri = 5 * 6 // 2
    for h, n in enumerate([10, 30]):
        s = augmented_moments(other[..., -n:], m.shrinkage)[0].numpy()
        r = augmented_moments(one[:1, :, -n:], m.shrinkage)[0].numpy()
        lam = scipy.linalg.eigh(s, r, eigvals_only=True)
        dist = np.sqrt(np.sum(np.log(lam) ** 2))
        assert np.isclose(f[0, h * n_tri:(h + 1) * n_tri].norm().item(), dist, rtol=1e-4)


def test_a_nan_sample_gives_finite_features_instead_of_a_failed_eigendecomposition():
    m = _model().eval()
    x = torch.randn(3, 4, m.history)
    x[1, 2, -5] = float("nan")
    assert torch.isfinite(m(x)).all()


def test_riemann_learns_pose_from_real_emg_better_than_the_mean():
    from asha_app.data.windows import WindowSpec
    from asha_app.dsp.filters import FilterSpec
    from asha_app.models import train as T
    from tests.test_models_train import paired

    job = T.prepare(paired(), model_name="riemann", window=WindowSpec(1000.0, 60.0),
                    filter_spec=FilterSpec(50.0, band=None, notch_hz=None), split_args={"n_blocks": 5})
    list(T.run(job, T.TrainConfig(max_epochs=1, progress_every=0)))
    assert torch.all(torch.isfinite(job.model.whiten))
    train, test = job.dataset("train"), job.dataset("test")
    y_train = train.batch(np.arange(len(train)))[1].numpy()
    y_test = test.batch(np.arange(len(test)))[1].numpy()
    err = np.abs(T.predict(job.model, test) - y_test).mean()
    err_mean = np.abs(y_train.mean(0) - y_test).mean()  # predicting the training mean (normalised targets)
    assert err < 0.8 * err_mean  # held-out time blocks of a real session


def test_recenter_calibration_moves_the_reference_to_the_person():
    """The 'recenter' strategy: the person's windows become the reference (their mean features ~ 0), then the head
    is solved in closed form; the safeguard decides which checkpoint comes back."""
    from asha_app.calibration.strategies import run_strategy
    from asha_app.data.windows import WindowSpec
    from asha_app.dsp.filters import FilterSpec
    from asha_app.models import train as T
    from tests.test_models_train import paired

    rec = paired()
    job = T.prepare(rec, model_name="riemann", window=WindowSpec(1000.0, 60.0),
                    filter_spec=FilterSpec(50.0, band=None, notch_hz=None), split_args={"n_blocks": 5})
    ck = list(T.run(job, T.TrainConfig(max_epochs=1, progress_every=0)))[-1].checkpoint
    # another "person": the same windows with every channel's gain changed (an electrode-skin difference)
    x = torch.from_numpy(job.dataset("test").batch(np.arange(len(job.dataset("test"))))[0].numpy() * 1.7)
    m = ck.build_model().eval()
    before = m.features(x).mean(0).abs().mean().item()
    m.data_init(x, again=True)
    assert m.features(x).mean(0).abs().mean().item() < 0.5 * before  # re-centred on the person's windows
    # the reference is the windows' log-Euclidean mean: whiten = expm(mean logm S)^-1/2 (scipy, independently)
    n = m.history
    s_all = augmented_moments(x[..., -n:], m.shrinkage).numpy()
    ref = scipy.linalg.expm(np.mean([scipy.linalg.logm(s).real for s in s_all], axis=0))
    expect = np.real(scipy.linalg.inv(scipy.linalg.sqrtm(ref)))
    assert np.allclose(m.whiten[-1].numpy(), expect, atol=1e-6 * np.abs(expect).max() + 1e-8)
    events = list(run_strategy(ck, rec, "recenter"))
    done = events[-1]
    assert done.kind == "done" and done.checkpoint is not None and done.result["closed_form"]
    assert done.checkpoint.training["calibration_kept"] in ("base", "calibrated")
