"""The hands model the 3D view observes (Qt-free): changes notify the observers, batches notify once, layout and
legend follow the drawn hands."""

from __future__ import annotations

import numpy as np
import pytest

from asha_app.pose.scene import DEFAULT_COLOURS, HandPose, HandScene


def _joints(seed=0):
    return np.random.default_rng(seed).normal(size=(21, 3)) * 30


def test_every_change_notifies_the_observers_with_what_changed():
    scene = HandScene()
    seen = []
    scene.connect(seen.append)
    g1 = scene.set_pose("emg", joints_mm=_joints())
    assert [(c.slots, c.layout, c.generation) for c in seen] == [(frozenset({"emg"}), True, g1)]
    assert scene["emg"].drawn and scene["emg"].generation == g1
    g2 = scene.set_pose("emg", joints_mm=_joints(1))  # same place, new pose: no new layout
    assert seen[-1].slots == {"emg"} and not seen[-1].layout and g2 == g1 + 1
    scene.set_visible("emg", False)
    assert seen[-1].layout and not scene["emg"].drawn and scene["emg"].has_data  # hidden keeps its pose
    scene.set_visible("emg", True)
    scene.set_label("reference", "recorded finger angles")
    assert seen[-1].slots == {"reference"} and [e[:2] for e in scene.legend_entries()] == [("emg", "EMG model")]
    assert scene.legend_entries()[0][2].startswith("#4") and len(scene.legend_entries()[0][2]) == 7  # blue
    scene.clear("emg")
    assert seen[-1].layout and not scene["emg"].has_data and scene.legend_entries() == []
    n = len(seen)
    scene.clear("emg")  # nothing there: nothing happens
    scene.clear("no such slot")
    assert len(seen) == n
    scene.disconnect(seen.append)
    scene.set_pose("emg", joints_mm=_joints())
    assert len(seen) == n and scene.generation > g2


def test_a_batch_notifies_once_and_can_ask_for_an_immediate_paint():
    scene = HandScene()
    seen = []
    scene.connect(seen.append)
    with scene.batch(draw_now=True):
        g_emg = scene.show("emg", HandPose(joints_mm=_joints()))
        scene.show("reference", HandPose(joints_mm=_joints(2)))
        with scene.batch():  # nested: still one notification, at the outer end
            scene.set_layout("side_by_side")
        assert seen == []
    assert len(seen) == 1
    c = seen[0]
    assert c.slots == {"emg", "reference"} and c.layout and c.draw_now and c.generation > g_emg
    assert scene.groups() == [["emg"], ["reference"]]
    with scene.batch():
        pass
    assert len(seen) == 1  # an empty batch says nothing


def test_layout_groups_and_new_slots():
    scene = HandScene()
    assert list(scene.slots)[:3] == ["camera", "emg", "reference"] and "target" in scene
    for s in ("camera", "emg", "target"):
        scene.set_pose(s, angles_deg=np.zeros(22))
    assert scene.groups() == [["camera", "emg"], ["target"]]  # a prompt's target stands beside, even overlaid
    scene.set_layout("side_by_side")
    assert scene.groups() == [["camera"], ["emg"], ["target"]]
    with pytest.raises(ValueError, match="overlay"):
        scene.set_layout("stacked")
    scene.set_pose("mano", joints_mm=_joints())  # a new slot, with a colour of its own
    assert scene["mano"].colour not in [tuple(c) for c in DEFAULT_COLOURS.values()][:3]
    assert [e[0] for e in scene.legend_entries()] == ["camera", "emg", "target", "mano"]
    scene.set_pose("emg", angles_deg=np.full(22, np.nan))  # a pose that is not finite draws nothing
    assert not scene["emg"].drawn


def test_skeleton_only_keeps_the_joints_and_drops_the_mesh_inputs():
    p = HandPose(joints_mm=_joints(), angles_deg=np.zeros(22), bone_scale=np.ones(20))
    s = p.skeleton_only()
    assert s.angles_deg is None and s.joints_mm is p.joints_mm and s.has_data
    only_angles = HandPose(angles_deg=np.zeros(22))
    assert only_angles.skeleton_only() is only_angles  # the view needs the angles to compute the joints
