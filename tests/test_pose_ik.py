"""IK: recovers known poses from noisy synthetic landmarks, respects limits, never invents a pose."""

import numpy as np
import pytest
import torch

from asha_app.pose.hand_model import HandModel
from asha_app.pose.ik import HandTracker, IKResult, IKSolver, kabsch

torch.set_num_threads(1)


def _random_rotation(rng):
    from scipy.spatial.transform import Rotation

    return Rotation.from_rotvec(rng.normal(0, 1.0, 3)).as_matrix()


def _make_target(model, angles_deg, R, t, rng, noise_mm, scale=None):
    bs = None if scale is None else torch.as_tensor(scale)
    with torch.no_grad():
        hand = model.forward(torch.as_tensor(np.radians(angles_deg))[None], bone_scale=bs)[0].numpy()
    return hand @ R.T + t + rng.normal(0, noise_mm, size=(21, 3))


def _sample_angles(model, rng):
    # keep away from the limits so that the truth is identifiable, but cover the range
    lo, hi = model.lower_deg, model.upper_deg
    return lo + (hi - lo) * rng.uniform(0.15, 0.85, size=model.n_dof)


@pytest.mark.parametrize("side", ["right", "left"])
def test_ik_recovers_known_angles_with_noise(side):
    model = HandModel.builtin(side)
    rng = np.random.default_rng(3)
    errs_deg, fit = [], []
    for _ in range(6):
        truth = _sample_angles(model, rng)
        R, t = _random_rotation(rng), rng.normal(0, 80, 3)
        target = _make_target(model, truth, R, t, rng, noise_mm=1.0)
        solver = IKSolver(model, calib_frames=0, cold_iter=60)
        res = solver.solve(target)
        assert res.valid
        errs_deg.append(np.abs(res.angles_deg - truth))
        fit.append(res.fit_error_mm)
        # world joints = R * hand joints + t
        with torch.no_grad():
            j = model.forward(torch.as_tensor(np.radians(res.angles_deg.astype(np.float64)))[None])[0].numpy()
        np.testing.assert_allclose(res.joints_hand_mm, j, atol=1e-3)
    errs = np.concatenate(errs_deg)
    # flexion/abduction angles recovered to a few degrees from 1 mm noise
    assert np.median(errs) < 3.0, np.median(errs)
    assert np.percentile(errs, 90) < 10.0
    assert np.median(fit) < 2.0  # close to the noise level (1 mm per axis ~ 1.6 mm per joint)


def test_ik_tracks_a_sequence_with_warm_start_and_limits():
    model = HandModel.builtin("right")
    rng = np.random.default_rng(5)
    a0, a1 = _sample_angles(model, rng), _sample_angles(model, rng)
    R, t = _random_rotation(rng), np.array([10.0, -20.0, 400.0])
    solver = IKSolver(model, calib_frames=0)
    errs = []
    for k in np.linspace(0, 1, 25):
        truth = (1 - k) * a0 + k * a1
        res = solver.solve(_make_target(model, truth, R, t, rng, noise_mm=0.5))
        errs.append(np.abs(res.angles_deg - truth).mean())
        assert res.iterations <= solver.max_iter + solver.cold_iter
    assert np.median(errs) < 3.0


def test_limits_are_never_violated_even_for_impossible_targets():
    model = HandModel.builtin("right")
    rng = np.random.default_rng(7)
    solver = IKSolver(model, calib_frames=0)
    for _ in range(5):
        # poses far outside the limits (hyper-extended, over-flexed) cannot be reached
        wild = model.lower_deg + (model.upper_deg - model.lower_deg) * rng.uniform(-0.8, 1.8, size=model.n_dof)
        with torch.no_grad():
            hand = model.forward(torch.as_tensor(np.radians(wild))[None])[0].numpy()
        res = solver.solve(hand + rng.normal(0, 2, (21, 3)))
        assert np.all(res.angles_deg >= model.lower_deg - 1e-4)
        assert np.all(res.angles_deg <= model.upper_deg + 1e-4)


def test_bone_scale_calibration_recovers_a_bigger_hand():
    model = HandModel.builtin("right")
    rng = np.random.default_rng(11)
    scale = np.full(20, 1.15)
    solver = IKSolver(model, calib_frames=10)
    for _ in range(12):
        truth = _sample_angles(model, rng)
        res = solver.solve(_make_target(model, truth, _random_rotation(rng), rng.normal(0, 50, 3), rng, 0.5,
                                        scale=scale))
    assert solver.scales_frozen
    np.testing.assert_allclose(np.median(solver.bone_scale), 1.15, atol=0.03)
    assert res.fit_error_mm < 2.0
    solver.reset()
    assert not solver.scales_frozen and np.allclose(solver.bone_scale, 1.0)


def test_no_hand_and_bad_fit_are_invalid_not_neutral():
    tracker = HandTracker()
    res = tracker.update(None, None)
    assert not res.valid and np.all(np.isnan(res.angles_deg)) and np.isnan(res.fit_error_mm)
    # landmarks that are no hand at all (random cloud) give a large error -> invalid, angles kept as fitted
    rng = np.random.default_rng(0)
    res = tracker.update(rng.normal(0, 0.08, (21, 3)), "right")
    assert not res.valid and res.fit_error_mm > tracker.solvers["right"].valid_threshold_mm
    assert isinstance(res, IKResult) and res.side == "right"


def test_kabsch_exact():
    rng = np.random.default_rng(2)
    src = rng.normal(size=(6, 3))
    R = _random_rotation(rng)
    R2, t2 = kabsch(src, src @ R.T + [1, 2, 3])
    np.testing.assert_allclose(R2, R, atol=1e-9)
    np.testing.assert_allclose(t2, [1, 2, 3], atol=1e-9)


def test_handedness_flip_is_not_fitted_with_the_wrong_hand():
    right = HandModel.builtin("right")
    rng = np.random.default_rng(4)
    tracker = HandTracker(switch_frames=3, calib_frames=0)
    R, t = _random_rotation(rng), np.zeros(3)
    world_m = _make_target(right, _sample_angles(right, rng), R, t, rng, 0.5) / 1000.0
    assert tracker.update(world_m, "right").valid
    flips = [tracker.update(world_m, "left") for _ in range(2)]
    assert all(not f.valid and f.status == "handedness_flip" and np.all(np.isnan(f.angles_deg)) for f in flips)
    assert tracker.update(world_m, "right").valid and tracker.side == "right"
    # a lasting change of side is followed
    for _ in range(3):
        res = tracker.update(world_m, "left")
    assert tracker.side == "left" and res.side == "left" and res.status in ("ok", "poor_fit")


def test_size_factor_absorbs_mediapipe_size_changes():
    model = HandModel.builtin("right")
    rng = np.random.default_rng(8)
    truth = _sample_angles(model, rng)
    R, t = _random_rotation(rng), rng.normal(0, 30, 3)
    target = _make_target(model, truth, R, t, rng, 0.3) * 1.0  # same skeleton
    small = (target - t) * 0.9 + t  # the whole hand 10 % smaller, as MediaPipe does with the view
    fixed = IKSolver(model, calib_frames=0, fit_global_scale=False, cold_iter=60).solve(small)
    free = IKSolver(model, calib_frames=0, fit_global_scale=True, scale_prior_mm=30, cold_iter=60).solve(small)
    assert free.fit_error_mm < fixed.fit_error_mm
    assert 0.88 < free.size_factor < 0.95
    # hand-frame joints keep the skeleton's size
    np.testing.assert_allclose(np.linalg.norm(free.joints_hand_mm[9]), np.linalg.norm(model.rest_landmarks_mm[9]),
                               rtol=1e-6)
