"""3D hand view renders real pixels (read back with render()), on both backends.

``offscreen`` (EGL, render thread) runs wherever Mesa's EGL works, also on Qt's
offscreen platform; ``widget`` (QOpenGLWidget) needs a display (xvfb-run -a) and
is marked ``opengl``.
"""

import os

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent

pytestmark = pytest.mark.gui


def _count(img, colour):
    rgb = img[..., :3].astype(int)
    if colour == "orange":
        return int(((rgb[..., 0] > rgb[..., 2] + 60) & (rgb[..., 0] > 90)).sum())
    return int(((rgb[..., 2] > rgb[..., 0] + 60) & (rgb[..., 2] > 90)).sum())


@pytest.fixture(params=["offscreen", pytest.param("widget", marks=pytest.mark.opengl)])
def view(request, qtbot):
    from asha_app.ui.hand_view import HandView, offscreen_gl_app, offscreen_gl_error

    if request.param == "widget" and not os.environ.get("DISPLAY"):
        pytest.skip("the QOpenGLWidget backend needs a display: run under xvfb-run -a")
    if request.param == "offscreen" and offscreen_gl_app() is None:
        pytest.skip(f"no EGL here: {offscreen_gl_error()}")
    v = HandView(backend=request.param)
    qtbot.addWidget(v)
    v.resize(400, 400)
    v.show()
    qtbot.waitExposed(v)
    yield v
    v.close_canvas()


def test_two_hands_render_in_their_colours(view):
    from asha_app.pose.hand_model import HandModel

    m = HandModel.builtin("right")
    empty = view.render()
    assert _count(empty, "orange") == 0 and _count(empty, "blue") == 0
    view.hands.set_pose("camera", angles_deg=m.rest_deg)
    view.hands.set_pose("emg", angles_deg=m.angles_from_finger_flexion([100, 90, 90, 90, 90]))
    view.hands.set_layout("side_by_side")
    img = view.render()
    assert img.ndim == 3 and img.shape[2] == 4
    assert _count(img, "orange") > 500 and _count(img, "blue") > 500
    # side by side: the camera hand (slot 0) is left of the EMG hand
    ys, xs = np.nonzero((img[..., 0].astype(int) > img[..., 2].astype(int) + 60) & (img[..., 0] > 90))
    yb, xb = np.nonzero((img[..., 2].astype(int) > img[..., 0].astype(int) + 60) & (img[..., 2] > 90))
    assert xs.mean() < xb.mean() - 50

    view.hands.set_visible("emg", False)
    img2 = view.render()
    assert _count(img2, "blue") == 0 and _count(img2, "orange") > 500
    view.hands.set_visible("emg", True)
    view.hands.set_layout("overlay")
    view.hands.set_pose("emg", joints_mm=m.rest_landmarks_mm)  # skeleton only
    view.hands.set_pose("camera")  # nothing: hidden
    img3 = view.render()
    assert _count(img3, "orange") == 0 and _count(img3, "blue") > 20


def test_mesh_given_directly_is_drawn(view):
    from asha_app.pose.hand_model import HandModel

    m = HandModel.builtin("left")
    view.hands.set_pose("emg", vertices_mm=m.vertices_mm, faces=m.faces, joints_mm=m.rest_landmarks_mm)
    assert _count(view.render(), "blue") > 500
    with pytest.raises(ValueError):
        view.hands.set_layout("stacked")


def test_new_pose_moves_the_drawn_mesh(view):
    """Pose updates go through the fast vertex-upload path; the rendered hand must follow them."""
    from asha_app.pose.hand_model import HandModel

    m = HandModel.builtin("right")
    view.hands.set_visible("emg", True)
    view.hands.set_pose("emg", angles_deg=m.rest_deg)  # first call creates the mesh
    view.hands.set_pose("emg", angles_deg=m.rest_deg)  # second call takes the fast path
    open_img = view.render()
    fist = m.angles_from_finger_flexion([60, 40, 40, 40, 40])
    view.hands.set_pose("emg", angles_deg=fist)
    fist_img = view.render()
    view.hands.set_pose("emg", angles_deg=m.rest_deg)
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
    view.hands.set_layout("side_by_side")
    view.hands.set_pose("emg", angles_deg=m.rest_deg)
    view.hands.set_pose("reference", angles_deg=m.rest_deg)  # the "camera" slot exists but stays empty
    xs = {k: float(view._hands[k].node.transform.translate[0]) for k in ("emg", "reference")}
    assert xs["emg"] == -SIDE_BY_SIDE_GAP_MM / 2 and xs["reference"] == SIDE_BY_SIDE_GAP_MM / 2
    view.hands.clear("reference")
    assert float(view._hands["emg"].node.transform.translate[0]) == 0.0


def test_offscreen_view_paints_frames_and_reports_which_pose(qtbot):
    """Offscreen frames reach the screen; frame_painted says which set_pose they show."""
    from asha_app.pose.hand_model import HandModel
    from asha_app.ui.hand_view import HandView, offscreen_gl_app

    if offscreen_gl_app() is None:
        pytest.skip("no EGL here")
    v = HandView(backend="offscreen")
    qtbot.addWidget(v)
    v.resize(300, 260)
    v.show()
    qtbot.waitExposed(v)
    seen = []
    v.frame_painted.connect(lambda t, gen: seen.append(gen))
    m = HandModel.builtin("right")
    try:
        gen = v.hands.set_pose("emg", angles_deg=m.rest_deg)
        qtbot.waitUntil(lambda: bool(seen) and seen[-1] >= gen, timeout=5000)
        assert v.frames_painted >= 1 and v.render().shape == (260, 300, 4)
        # the widget shows what was rendered: grab the screen pixels, not the render buffer
        shot = v.grab().toImage()
        px = shot.pixelColor(QPoint(150, 130))
        assert (px.red(), px.green(), px.blue()) != (0, 0, 0)
        # a burst of poses set in one go shares one frame, which shows the newest
        gens = [v.hands.set_pose("emg", angles_deg=m.angles_from_finger_flexion([120 + i, 90, 90, 90, 90]))
                for i in range(20)]
        n = len(seen)
        qtbot.waitUntil(lambda: seen[-1] >= gens[-1], timeout=5000)
        assert len(seen) == n + 1 and v._hands["emg"].has_data
        # drag rotates the camera, wheel zooms, double click resets
        cam = v._scene.view.camera
        az0, d0 = cam.azimuth, cam.distance
        v.mousePressEvent(_mouse(QMouseEvent.Type.MouseButtonPress, 100, 100))
        v.mouseMoveEvent(_mouse(QMouseEvent.Type.MouseMove, 160, 110))
        v.mouseReleaseEvent(_mouse(QMouseEvent.Type.MouseButtonRelease, 160, 110))
        assert cam.azimuth == pytest.approx((az0 - 30.0) % 360) and cam.elevation > 10.0
        v.wheelEvent(_Wheel(240))
        assert cam.distance < d0
        v.mouseDoubleClickEvent(None)
        assert cam.azimuth == 90.0 and cam.elevation == 10.0 and cam.distance == d0
    finally:
        v.close_canvas()
    v.hands.set_pose("emg", angles_deg=m.rest_deg)  # after closing: ignored, no crash


def _mouse(kind, x, y):
    return QMouseEvent(kind, QPointF(x, y), QPointF(x, y), Qt.MouseButton.LeftButton, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)


class _Wheel:
    """The part of a QWheelEvent the view reads."""

    def __init__(self, dy):
        self._dy = dy

    def angleDelta(self):  # noqa: N802 - Qt naming
        return QPoint(0, self._dy)

    def accept(self):
        pass


@pytest.mark.parametrize("side", ["right", "left"])
def test_back_faces_are_never_seen(view, side):
    """Depth precision and winding: rendering the back faces or culling them gives the same picture.

    Fails when the clip planes are too far apart (back of the fingers bleeding through, as with vispy's
    default depth range) and when a mesh's winding is inverted (culling would remove its front).
    """
    from asha_app.pose.hand_model import HandModel

    m = HandModel.builtin(side)
    a = m.angles_from_finger_flexion([150, 170, 180, 175, 165])
    imgs = []
    for cull in (False, True):
        view._scene.cull_back_faces = cull
        view.hands.set_pose("emg", angles_deg=a, model=m)
        assert view._hands["emg"]._cull == cull
        imgs.append(view.render()[..., :3].astype(int))
    hand = _count(imgs[1], "blue")
    differ = int(np.sum(np.any(np.abs(imgs[0] - imgs[1]) > 30, axis=-1)))
    assert hand > 2000 and differ < 0.01 * hand


@pytest.mark.opengl
def test_falls_back_to_the_widget_canvas_when_offscreen_rendering_fails(qtbot, monkeypatch):
    """EGL answers but cannot give a context (seen with some drivers): the view uses vispy's widget canvas."""
    if not os.environ.get("DISPLAY"):
        pytest.skip("the widget canvas needs a display: run under xvfb-run -a")
    from asha_app.ui import hand_view as HV

    monkeypatch.delenv("ASHA_3D_BACKEND", raising=False)
    monkeypatch.setattr(HV, "choose_backend", lambda requested=None: "offscreen")
    monkeypatch.setattr(HV, "offscreen_gl_app", lambda: "no-such-vispy-backend")  # canvas creation fails
    v = HV.HandView()
    qtbot.addWidget(v)
    try:
        assert v.backend == "widget"
        v.resize(300, 300)
        v.show()
        qtbot.waitExposed(v)
        v.hands.set_pose("emg", angles_deg=HV.HandModel.builtin("right").rest_deg)
        assert _count(v.render(), "blue") > 500
    finally:
        v.close_canvas()
    with pytest.raises(ValueError):  # asked for explicitly: no silent fallback
        HV.HandView(backend="offscreen")


def test_no_opengl_at_all_gives_a_placeholder_that_says_why(qtbot, monkeypatch):
    """No EGL and a display without OpenGL windows (Qt's offscreen platform): the app still opens, the 3D dock
    says why it is empty, and asking for a backend by name that cannot work is a clear error."""
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QLabel

    from asha_app.ui import gl_backend as GL
    from asha_app.ui import main_window as MW

    if QGuiApplication.platformName() != "offscreen":
        pytest.skip("runs on Qt's offscreen platform (no OpenGL windows)")
    monkeypatch.delenv("ASHA_3D_BACKEND", raising=False)
    monkeypatch.setattr(GL, "offscreen_gl_app", lambda: None)
    monkeypatch.setitem(GL._EGL, "error", "libEGL.so.1: cannot open shared object file")
    with pytest.raises(RuntimeError, match="cannot open shared object"):
        GL.choose_backend()
    with pytest.raises(ValueError, match="'offscreen' or 'widget'"):
        GL.choose_backend("vulkan")
    view = MW.create_hand_view()
    qtbot.addWidget(view)
    assert isinstance(view, QLabel) and "3D view unavailable" in view.text() and "libEGL" in view.text()


def _bbox(img):
    """Bounding box (x0, x1, y0, y1) of the pixels that differ from the background (the corner pixel)."""
    bg = img[1, 1, :3].astype(int)
    ys, xs = np.nonzero(np.any(np.abs(img[..., :3].astype(int) - bg) > 12, axis=-1))
    assert xs.size > 500, "no hand drawn"
    return xs.min(), xs.max(), ys.min(), ys.max()


@pytest.mark.parametrize("backend", ["offscreen", pytest.param("widget", marks=pytest.mark.opengl)])
def test_the_hands_are_whole_and_centred_at_every_dock_size(qtbot, backend):
    """The 3D view renders at the size of its dock: at three dock shapes (square, wide, tall and narrow) every hand
    shown (one; two side by side; the camera hand with a target beside it) lies inside the picture, centred, and
    large enough to read. (The vispy view used to stay 480 x 480 inside a resized canvas: the hand sat off-centre
    with its thumb clipped, and a second hand was cut off.)"""
    from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow

    from asha_app.pose.hand_model import HandModel
    from asha_app.ui.hand_view import HandView, offscreen_gl_app

    if backend == "widget" and not os.environ.get("DISPLAY"):
        pytest.skip("the QOpenGLWidget backend needs a display: run under xvfb-run -a")
    if backend == "offscreen" and offscreen_gl_app() is None:
        pytest.skip("no EGL here")
    win = QMainWindow()
    qtbot.addWidget(win)
    win.setCentralWidget(QLabel("scopes"))
    dock = QDockWidget("3D hand", win)
    view = HandView(backend=backend)
    dock.setWidget(view)
    win.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
    win.show()
    qtbot.waitExposed(win)
    m = HandModel.builtin("right")
    cases = [({"emg"}, "overlay"), ({"emg", "reference"}, "side_by_side"), ({"camera", "target"}, "overlay")]
    sizes = []
    try:
        for w, h in [(420, 420), (700, 380), (300, 640)]:
            win.resize(w + 200, h + 40)
            win.resizeDocks([dock], [w], Qt.Orientation.Horizontal)
            qtbot.waitUntil(lambda w=w: abs(view.width() - w) < 40, timeout=3000)
            sizes.append((view.width(), view.height()))
            for slots, layout in cases:
                for s in ("camera", "emg", "reference", "target"):
                    view.hands.clear(s)
                view.hands.set_layout(layout)
                for s in sorted(slots):
                    view.hands.set_pose(s, angles_deg=m.rest_deg)
                img = view.render()
                H, W = img.shape[:2]
                assert (W, H) == (round(view.width() * view.devicePixelRatioF()),
                                  round(view.height() * view.devicePixelRatioF()))
                x0, x1, y0, y1 = _bbox(img)
                where = f"{slots} {layout} at {W}x{H}: box x {x0}-{x1}, y {y0}-{y1}"
                assert x0 >= 3 and y0 >= 3 and x1 <= W - 4 and y1 <= H - 4, "cut off: " + where
                assert abs((x0 + x1) / 2 / W - 0.5) < 0.05 and abs((y0 + y1) / 2 / H - 0.5) < 0.05, \
                    "off-centre: " + where
                assert max((x1 - x0) / W, (y1 - y0) / H) > 0.45, "too small to read: " + where
        assert len({s for s in sizes}) == 3 and sizes[1][0] > sizes[1][1] and sizes[2][1] > sizes[2][0]
    finally:
        view.close_canvas()


def test_legend_names_each_hand_drawn_in_its_own_colour_and_the_target_stands_beside(view):
    """The camera hand, the EMG hand, the reference and the target pose each have a distinct colour and a legend
    entry while drawn; a recording prompt's target never overlays the camera hand, even in the overlay layout."""
    from asha_app.pose.hand_model import HandModel
    from asha_app.pose.scene import BESIDE_SLOTS, DEFAULT_COLOURS
    from asha_app.ui.hand_view import SIDE_BY_SIDE_GAP_MM
    from asha_app.ui.procedure_view import TARGET_SLOT

    # the slot the recording and calibration pages draw their prompt's target pose into
    assert TARGET_SLOT in BESIDE_SLOTS
    m = HandModel.builtin("right")
    cols = [tuple(DEFAULT_COLOURS[s]) for s in ("camera", "emg", "reference", "target", "replay")]
    assert len(set(cols)) == len(cols)
    assert not view.legend.isVisible() and view.legend_entries() == []
    view.hands.set_layout("overlay")
    view.hands.set_pose("camera", angles_deg=m.rest_deg)
    view.hands.set_pose("emg", angles_deg=m.rest_deg)
    view.hands.set_pose("target", angles_deg=m.angles_from_finger_flexion([100, 90, 90, 90, 90]))
    entries = view.legend_entries()
    assert [e[0] for e in entries] == ["camera", "emg", "target"]
    assert len({e[2] for e in entries}) == 3
    assert view.legend.isVisible()
    for label in ("camera", "EMG", "target"):
        assert label in view.legend.text()
    x = {s: float(view._hands[s].node.transform.translate[0]) for s in ("camera", "emg", "target")}
    assert x["camera"] == x["emg"] and x["target"] - x["camera"] == pytest.approx(SIDE_BY_SIDE_GAP_MM)
    img = view.render()  # the target (violet) is drawn right of the camera hand (orange), not inside it
    rgb = img[..., :3].astype(int)
    violet = (rgb[..., 0] > 150) & (rgb[..., 2] > 150) & (rgb[..., 1] < rgb[..., 2] - 40)
    orange = (rgb[..., 0] > rgb[..., 2] + 60) & (rgb[..., 0] > 90) & (rgb[..., 1] > rgb[..., 2])
    assert violet.sum() > 300 and orange.sum() > 300
    assert np.nonzero(violet)[1].min() > np.nonzero(orange)[1].max() - 5
    view.hands.set_label("reference", "recorded finger angles")
    view.hands.set_pose("reference", angles_deg=m.rest_deg)
    assert ("reference", "recorded finger angles") in [e[:2] for e in view.legend_entries()]
    for s in ("camera", "emg", "target", "reference"):
        view.hands.clear(s)
    assert not view.legend.isVisible() and view.legend_entries() == []
