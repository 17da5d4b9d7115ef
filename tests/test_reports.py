"""Readable reports: targets grouped per finger, R^2 only over targets that vary, strict JSON out."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from asha_app.core.jsonout import dumps, loads_strict, print_line
from asha_app.data.labels import joint_target_names
from asha_app.models import metrics as M
from asha_app.models.fingers import FINGERS, finger_of, finger_traces, group_by_finger, target_unit, units_of
from asha_app.pose.hand_model import HandModel

JOINT_NAMES = joint_target_names()


def test_every_target_kind_groups_by_finger():
    dofs = HandModel.builtin("right").dof_names
    g = group_by_finger(dofs)
    assert list(g) == list(FINGERS)  # no wrist, no other: every DOF belongs to a finger
    assert [dofs[i] for i in g["ring"]] == ["ring_mcp_flexion", "ring_mcp_abduction", "ring_pip_flexion",
                                            "ring_dip_flexion", "ring_cmc_flexion"]
    assert [dofs[i] for i in g["thumb"]][:2] == ["thumb_cmc_flexion", "thumb_cmc_abduction"]
    j = group_by_finger(JOINT_NAMES)
    assert list(j) == [*FINGERS, "wrist"] and j["wrist"] == [0, 1, 2]
    assert [JOINT_NAMES[i] for i in j["little"]][:3] == ["little_mcp_x_mm", "little_mcp_y_mm", "little_mcp_z_mm"]
    # names written before Asha said "little" everywhere (MediaPipe's "pinky") group the same way
    assert group_by_finger([n.replace("little_", "pinky_") for n in JOINT_NAMES]) == j
    assert all(len(j[f]) == 12 for f in FINGERS)
    assert group_by_finger(["thumb", "index", "middle", "ring", "little"]) == {f: [i] for i, f in enumerate(FINGERS)}
    assert group_by_finger([f"glove_{i + 1}" for i in range(22)]) == {"other": list(range(22))}
    assert finger_of("Pinky-DIP") == "little" and finger_of("wrist_flexion") == "wrist" and finger_of("") == "other"


def test_units_are_named_per_kind():
    assert units_of(JOINT_NAMES, "joints_mm") == "mm"
    assert units_of(HandModel.builtin("right").dof_names, "joint_angles") == "deg"
    assert units_of(list(FINGERS), "targets") == "deg"
    assert target_unit("glove_3", "targets") == "glove units"
    assert units_of(["thumb", "glove_1"], "targets") == "mixed units"


def test_r2_leaves_out_near_constant_targets_and_says_why():
    """The wrist in the hand frame is 0 up to float32 rounding: R^2 of that alone was -8e25."""
    rng = np.random.default_rng(1)
    n = 500
    true = rng.normal(0, 30, (n, 63)).astype(np.float32)
    true[:, :3] = rng.normal(0, 1e-6, (n, 3)).astype(np.float32)  # wrist x, y, z: rounding noise
    pred = true + rng.normal(0, 3, true.shape).astype(np.float32)
    raw = M.r2_per_target(pred, true)  # the unguarded definition: astronomically negative
    assert raw[:3].max() < -1e6
    m = M.evaluate(pred, true, JOINT_NAMES, "joints_mm")
    assert set(m["r2_excluded"]) == {"wrist_x_mm", "wrist_y_mm", "wrist_z_mm"}
    assert all(why.startswith("near-constant in the evaluated set") and "mm" in why for why in m["r2_excluded"].values())
    assert all(math.isnan(m["r2_per_target"][k]) for k in m["r2_excluded"])
    scored = [v for k, v in m["r2_per_target"].items() if k not in m["r2_excluded"]]
    assert m["r2_mean"] == pytest.approx(np.mean(scored)) and 0.9 < m["r2_mean"] < 1.0
    assert math.isnan(m["r2_per_finger"]["wrist"]) and 0.9 < m["r2_per_finger"]["index"] < 1.0
    assert m["units"] == "mm" and set(m["mae_per_finger"]) == {*FINGERS, "wrist"}


def test_locked_joint_angle_is_left_out_and_per_finger_figures_are_in_degrees():
    hand = HandModel.builtin("right")
    names = list(hand.dof_names)
    n = 400
    t = np.arange(n) / 50.0
    true = np.zeros((n, len(names)))
    for i, name in enumerate(names):
        if name.endswith("_flexion") and "cmc" not in name:
            true[:, i] = 30 + 20 * np.sin(t + i)
    true[:, names.index("ring_cmc_flexion")] = 3.0 + 0.5 * np.sin(t)  # a locked CMC: std 0.35 deg
    pred = true + np.random.default_rng(2).normal(0, 4, true.shape)
    m = M.evaluate(pred, true, names, "joint_angles", hand)
    assert "ring_cmc_flexion" in m["r2_excluded"] and "index_mcp_abduction" in m["r2_excluded"]
    assert "index_pip_flexion" not in m["r2_excluded"] and "deg" in m["r2_excluded"]["ring_cmc_flexion"]
    assert m["units"] == "deg" and m["mean_angle_error_deg"] == pytest.approx(m["mae_mean"])
    assert list(m["mae_per_finger"]) == list(FINGERS) and all(2 < v < 5 for v in m["mae_per_finger"].values())
    assert 0.5 < m["r2_per_finger"]["ring"] < 1.0  # the locked CMC does not drag the ring finger down
    # joint angles named like the hand model's DOFs: MPJPE of its forward kinematics, per finger
    assert m["hand_model_mpjpe_wrist_rel_mm"] > 0 and list(m["hand_model_per_finger_mpjpe_wrist_rel_mm"]) == list(FINGERS)


def test_no_target_varies_gives_no_r2_mean_and_strict_json():
    true = np.full((50, 5), 170.0)
    m = M.evaluate(true + 1.0, true, list(FINGERS), "targets")
    assert len(m["r2_excluded"]) == 5 and math.isnan(m["r2_mean"])
    line = dumps(m)
    back = loads_strict(line)
    assert back["r2_mean"] is None and back["r2_per_target"]["thumb"] is None and back["mae_mean"] == 1.0
    assert M.evaluate(true[:1], true[:1], list(FINGERS), "targets")["r2_excluded"]["thumb"].startswith("only 1")


def test_finger_traces_reduce_each_kind_to_one_trace_per_finger():
    hand = HandModel.builtin("right")
    ang = np.zeros((3, hand.n_dof))
    ang[1, hand.dof_names.index("index_pip_flexion")] = 90.0
    tr, quantity, unit = finger_traces(ang, hand.dof_names, "joint_angles")
    assert list(tr) == list(FINGERS) and unit == "deg" and quantity == "summed flexion"
    assert tr["index"].tolist() == [0.0, 90.0, 0.0]
    joints = hand.forward_np(ang).reshape(3, -1)
    tj, quantity, unit = finger_traces(joints, JOINT_NAMES, "joints_mm")
    assert unit == "mm" and quantity == "fingertip to wrist" and tj["index"][1] < tj["index"][0] - 10  # curled: closer
    tg, _, unit = finger_traces(np.ones((3, 22)), [f"glove_{i + 1}" for i in range(22)], "targets")
    assert list(tg) == ["glove_1", "glove_2", "glove_3", "glove_4", "glove_5"] and unit == "glove units"


def test_strict_json_writes_null_for_non_finite_numbers(capsys):
    value = {"a": float("nan"), "b": [np.float32(np.inf), -np.inf, np.int64(3)], "c": np.array([1.5, np.nan]),
             "d": np.bool_(True)}
    with pytest.raises(ValueError):
        loads_strict(json.dumps(value["a"]))  # what json.dumps alone writes is not JSON
    print("log line")
    print_line(value, indent=2)  # one line even when asked to indent
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "log line" and len(out) == 2
    assert loads_strict(out[-1]) == {"a": None, "b": [None, None, 3], "c": [1.5, None], "d": True}
    with pytest.raises(TypeError, match="object has no JSON form"):
        dumps({"x": object()})
