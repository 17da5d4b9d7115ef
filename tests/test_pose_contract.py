"""The pose contract: one canonical pose (hand-model joint angles) from labels to the live hand."""

import numpy as np
import pytest

from asha_app.core.errors import DatasetError
from asha_app.data.labels import select_targets
from asha_app.data.recording import Recording
from asha_app.pose.contract import (FINGERS, PoseContractError, describe_targets, finger_flexion_deg, hand_mapper,
                                    is_finger_flexion)
from asha_app.pose.hand_model import HandModel


@pytest.fixture(scope="module")
def hm():
    return HandModel.builtin("right")


def _rec(hm, n=50, angles=True, joints=True, targets=None, target_names=()):
    rng = np.random.default_rng(0)
    a = hm.clamp_deg(rng.uniform(0, 40, (n, hm.n_dof))).astype(np.float32)
    return Recording(emg=np.zeros((500, 8), np.float32), emg_t=np.arange(500) / 500.0, fs=500.0,
                     label_t=np.linspace(0, 1, n), joint_angles=a if angles else None,
                     joints_mm=hm.forward_np(a).astype(np.float32) if joints else None,
                     targets=targets, target_names=list(target_names), valid=np.ones(n, bool),
                     angle_names=list(hm.dof_names) if angles else [])


def test_auto_picks_the_canonical_joint_angles_over_joints(hm):
    y, names, kind = select_targets(_rec(hm), "auto")
    assert kind == "joint_angles" and names == list(hm.dof_names) and y.shape == (50, hm.n_dof)
    # the other kinds stay available when asked for by name
    assert select_targets(_rec(hm), "joints_mm")[2] == "joints_mm"


def test_auto_falls_through_all_nan_labels(hm):
    """An emg2pose import whose joints were never computed (all NaN) trains on its angles; no labels at all is an error."""
    rec = _rec(hm)
    rec.joint_angles[:] = np.nan
    assert select_targets(rec, "auto")[2] == "joints_mm"
    rec.joints_mm[:] = np.nan
    with pytest.raises(DatasetError, match="no pose labels"):
        select_targets(rec, "auto")


def test_joint_angles_map_by_name_with_absent_ones_at_rest(hm):
    full = hand_mapper("joint_angles", hm.dof_names, hm)
    a = hm.clamp_deg(np.linspace(0, 60, hm.n_dof))
    np.testing.assert_allclose(full(a), a)
    sub = ["index_pip_flexion", "pinky_dip_flexion"]  # MediaPipe's "pinky" is the hand model's "little"
    m = hand_mapper("joint_angles", sub, hm)
    out = m(np.array([50.0, 30.0]))
    assert out[hm.dof_names.index("index_pip_flexion")] == 50.0
    assert out[hm.dof_names.index("little_dip_flexion")] == 30.0
    rest = np.delete(np.arange(hm.n_dof), [hm.dof_names.index("index_pip_flexion"),
                                           hm.dof_names.index("little_dip_flexion")])
    np.testing.assert_allclose(out[rest], hm.clamp_deg(hm.rest_deg)[rest])
    # batch and single agree
    np.testing.assert_allclose(m.angles_batch(np.array([[50.0, 30.0]]))[0], out)


def test_finger_flexions_drive_the_hand(hm):
    m = hand_mapper("targets", ["Thumb", "index", "middle", "ring", "little"], hm)
    straight = m(np.full(5, 180.0))
    bent = m(np.array([180.0, 90.0, 180.0, 180.0, 180.0]))
    flex = finger_flexion_deg(bent, hm.dof_names) - finger_flexion_deg(straight, hm.dof_names)
    assert flex[1] == pytest.approx(90.0, abs=1e-6) and np.allclose(np.delete(flex, 1), 0.0)
    a, j = m.hand(np.array([180.0, 90.0, 180.0, 180.0, 180.0]))
    assert a.shape == (hm.n_dof,) and j.shape == (21, 3)


def test_joint_positions_drive_the_hand_through_inverse_kinematics(hm):
    m = hand_mapper("joints_mm", [f"j{i}" for i in range(63)], hm)
    a_true = hm.clamp_deg(np.array([10, 20, 15, 10] + [40, 5, 50, 30] * 4 + [5, 8], float))
    joints = hm.forward_np(a_true)
    a, j = m.hand(joints.reshape(-1))
    assert np.linalg.norm(j - joints, axis=1).mean() < 2.0  # mm: the fitted hand shows the predicted joints


def test_targets_without_a_mapping_are_refused_with_what_to_do(hm):
    glove = [f"glove_{i + 1}" for i in range(22)]
    with pytest.raises(PoseContractError, match="data-glove channels.*cannot drive the 3D hand.*Train"):
        hand_mapper("targets", glove, hm)
    with pytest.raises(PoseContractError, match="names the hand model does not have"):
        hand_mapper("joint_angles", [f"joint_{i}" for i in range(20)], hm)
    with pytest.raises(PoseContractError):
        hand_mapper("joints_mm", ["x"] * 10, hm)


def test_non_finite_poses_give_no_hand(hm):
    m = hand_mapper("joint_angles", hm.dof_names, hm)
    assert m.hand(np.full(hm.n_dof, np.nan)) == (None, None)


def test_descriptions_name_units(hm):
    assert describe_targets("joint_angles", hm.dof_names) == "22 joint angles (deg)"
    assert describe_targets("joints_mm", ["x"] * 63) == "21 joint positions (mm)"
    assert "device units" in describe_targets("targets", ["glove_1", "glove_2"])
    assert is_finger_flexion(list(FINGERS)) and not is_finger_flexion(["thumb"])
