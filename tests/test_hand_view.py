"""3D hand view renders real pixels (read back with canvas.render()); needs Xvfb or a desktop."""

import os

import numpy as np
import pytest

pytestmark = [
    pytest.mark.opengl,
    pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="needs an OpenGL context: run under xvfb-run -a"),
]


def _count(img, colour):
    rgb = img[..., :3].astype(int)
    if colour == "orange":
        return int(((rgb[..., 0] > rgb[..., 2] + 60) & (rgb[..., 0] > 90)).sum())
    return int(((rgb[..., 2] > rgb[..., 0] + 60) & (rgb[..., 2] > 90)).sum())


@pytest.fixture()
def view(qtbot):
    from asha_app.ui.hand_view import HandView

    v = HandView()
    qtbot.addWidget(v)
    v.resize(400, 400)
    v.show()
    qtbot.waitExposed(v)
    return v


def test_two_hands_render_in_their_colours(view):
    from asha_app.pose.hand_model import HandModel

    m = HandModel.builtin("right")
    empty = view.render()
    assert _count(empty, "orange") == 0 and _count(empty, "blue") == 0
    view.set_pose("camera", angles_deg=m.rest_deg)
    view.set_pose("emg", angles_deg=m.angles_from_finger_flexion([100, 90, 90, 90, 90]))
    view.set_layout("side_by_side")
    img = view.render()
    assert img.ndim == 3 and img.shape[2] == 4
    assert _count(img, "orange") > 500 and _count(img, "blue") > 500
    # side by side: the camera hand (slot 0) is left of the EMG hand
    ys, xs = np.nonzero((img[..., 0].astype(int) > img[..., 2].astype(int) + 60) & (img[..., 0] > 90))
    yb, xb = np.nonzero((img[..., 2].astype(int) > img[..., 0].astype(int) + 60) & (img[..., 2] > 90))
    assert xs.mean() < xb.mean() - 50

    view.set_visible("emg", False)
    img2 = view.render()
    assert _count(img2, "blue") == 0 and _count(img2, "orange") > 500
    view.set_visible("emg", True)
    view.set_layout("overlay")
    view.set_pose("emg", joints_mm=m.rest_landmarks_mm)  # skeleton only
    view.set_pose("camera")  # nothing: hidden
    img3 = view.render()
    assert _count(img3, "orange") == 0 and _count(img3, "blue") > 20


def test_mesh_given_directly_is_drawn(view):
    from asha_app.pose.hand_model import HandModel

    m = HandModel.builtin("left")
    view.set_pose("emg", vertices_mm=m.vertices_mm, faces=m.faces, joints_mm=m.rest_landmarks_mm)
    assert _count(view.render(), "blue") > 500
    with pytest.raises(ValueError):
        view.set_layout("stacked")


def test_new_pose_moves_the_drawn_mesh(view):
    """Pose updates go through the fast vertex-upload path; the rendered hand must follow them."""
    from asha_app.pose.hand_model import HandModel

    m = HandModel.builtin("right")
    view.set_visible("emg", True)
    view.set_pose("emg", angles_deg=m.rest_deg)  # first call creates the mesh
    view.set_pose("emg", angles_deg=m.rest_deg)  # second call takes the fast path
    open_img = view.render()
    fist = m.angles_from_finger_flexion([60, 40, 40, 40, 40])
    view.set_pose("emg", angles_deg=fist)
    fist_img = view.render()
    view.set_pose("emg", angles_deg=m.rest_deg)
    again = view.render()
    n_open, n_fist = _count(open_img, "blue"), _count(fist_img, "blue")
    assert n_open > 500 and n_fist > 200
    changed = np.mean(np.any(open_img[..., :3] != fist_img[..., :3], axis=-1))
    assert changed > 0.01  # the fist looks different from the open hand
    np.testing.assert_array_equal(again[..., :3], open_img[..., :3])  # and going back restores the open hand


def test_side_by_side_places_only_drawn_hands(view):
    from asha_app.pose.hand_model import HandModel
    from asha_app.ui.hand_view import SIDE_BY_SIDE_GAP_MM

    m = HandModel.builtin("right")
    view.set_layout("side_by_side")
    view.set_pose("emg", angles_deg=m.rest_deg)
    view.set_pose("reference", angles_deg=m.rest_deg)  # the "camera" slot exists but stays empty
    xs = {k: float(view._hands[k].node.transform.translate[0]) for k in ("emg", "reference")}
    assert xs["emg"] == -SIDE_BY_SIDE_GAP_MM / 2 and xs["reference"] == SIDE_BY_SIDE_GAP_MM / 2
    view.clear("reference")
    assert float(view._hands["emg"].node.transform.translate[0]) == 0.0
