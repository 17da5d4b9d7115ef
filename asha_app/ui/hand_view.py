"""3D hand view: vispy SceneCanvas (PySide6 backend) in a QWidget, showing one or more hands.

Each *slot* (``"camera"``, ``"emg"``, ...) is one hand drawn as a shaded skinned
mesh, a skeleton (21 landmarks joined by MediaPipe's connections) and joint
markers, in its slot's colour (:data:`asha_app.pose.scene.DEFAULT_COLOURS`), named in a legend at the
top left while drawn.  Hands can be shown overlaid (same place, e.g. the camera
label and the EMG prediction) or side by side; a recording prompt's target pose
(slot ``"target"``) always stands beside the others.  The places run along the
longer side of the view, and the camera distance follows the view's size and
aspect so that every hand shown is whole and centred whatever the dock's shape
(:meth:`_VispyScene.fit_distance`); the mouse wheel zooms on top of that.

The view observes a model: what to draw (each slot's pose, colour, label and
visibility, and the layout) lives in a Qt-free :class:`~asha_app.pose.scene.HandScene`
that the live controller, the session replay, the recording and calibration pages
and the camera panel change; the view subscribes to it, brings its vispy visuals
up to date on each :class:`~asha_app.pose.scene.SceneChange` (forward kinematics
and skinning of the changed slots happen here, in the GUI thread, only for hands
that changed) and repaints.  It stores nothing but its visuals and the camera.

Coordinates are the hand frame in millimetres (wrist at the origin, fingers
along +y, +z out of the right palm): the camera looks at the palm by default.

Two ways to put the picture on screen (``backend``):

* ``"offscreen"`` (preferred): vispy renders through its EGL backend into a
  framebuffer object, in ``paintEvent``, and the widget paints the read-back
  image with QPainter, so the main window stays on Qt's raster path.  A ``QOpenGLWidget`` anywhere in a
  window makes Qt compose the *whole* window through OpenGL on every repaint;
  with software OpenGL (Mesa llvmpipe, Xvfb, remote desktops) that doubled the
  cost of every scope frame (``docs/live.md``).  Reading back the image costs
  about 1 ms at 480 x 480.  (Rendering in a separate thread was tried and was
  slower: the skinning and vispy's Python code then fight the GUI thread for
  the GIL, and each pose needs two hops through the GUI event loop.)
* ``"widget"``: vispy's own ``QOpenGLWidget`` canvas, used where EGL is missing
  (Windows, macOS, drivers without EGL).

Which one can draw here is :mod:`asha_app.ui.gl_backend`; ``ASHA_3D_BACKEND=offscreen|widget`` forces one.
Mouse: drag rotates, the wheel zooms, a double click resets the view (both backends).
"""

from __future__ import annotations

import logging
import os
import time
from collections import deque

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget
from vispy import gloo, scene
from vispy.visuals.transforms import STTransform

from asha_app.pose.chain import HAND_CONNECTIONS
from asha_app.pose.hand_model import HandModel
from asha_app.pose.scene import DEFAULT_SLOTS, HandScene, HandSlot, SceneChange
from asha_app.ui.gl_backend import (choose_backend, offscreen_gl_app, offscreen_gl_error, release_egl, release_qt_gl,
                                    widget_gl_possible)

log = logging.getLogger(__name__)

SIDE_BY_SIDE_GAP_MM = 220.0
#: spacing of hands stacked on top of each other (a tall, narrow view): a hand is about 212 mm tall
STACKED_GAP_MM = 250.0
#: hands are stacked only when that shows them this much larger (distance ratio): side by side reads better
STACK_GAIN = 0.85
#: the camera's depth range factor: clip planes at distance / 10 and distance * 10
DEPTH_VALUE = 10.0
#: the sphere (hand frame, mm) that holds a built-in hand in any pose: the rest-pose mesh spans x -61..87 (little
#: finger to thumb), y -22..190 (forearm stub to middle fingertip), z -54..54 (both sides); radius with a margin
FRAME_CENTRE_MM = (13.0, 84.0, 0.0)
FRAME_RADIUS_MM = 145.0
FOV_DEG = 35.0
_EDGES = np.array(HAND_CONNECTIONS, dtype=np.int32)


class _HandVisual:
    """The visuals of one slot, under one parent node (moved for side-by-side)."""

    def __init__(self, parent_scene, colour) -> None:
        self.node = scene.Node(parent=parent_scene)
        self.node.transform = STTransform()
        self.colour = np.asarray(colour, dtype=np.float32)
        self.mesh = scene.visuals.Mesh(parent=self.node, color=self.colour, shading="smooth")
        self.mesh.visible = False
        self._lit = False
        self._cull = False
        self._faces = None
        self._n_verts = 0
        self.lines = scene.visuals.Line(parent=self.node, color=self.colour * [0.6, 0.6, 0.6, 1], width=3,
                                        connect=_EDGES, method="gl")
        self.lines.visible = False
        self.markers = scene.visuals.Markers(parent=self.node)
        self.markers.visible = False
        self.shown = True
        self.has_data = False
        #: the landmarks (21, 3) mm of the last pose drawn, None when hidden
        self.joints: np.ndarray | None = None
        #: the scene's HandPose these visuals show (None: nothing)
        self.pose = None

    def update(self, joints: np.ndarray | None, vertices: np.ndarray | None, faces: np.ndarray | None,
               normals: np.ndarray | None = None, cull: bool = False) -> None:
        if vertices is not None and cull != self._cull:
            # back faces of a closed mesh with outward winding are never seen: not rasterising them
            # halves the fragment work (software OpenGL: 8 -> 5 ms for two hands at 520 x 464)
            self.mesh.set_gl_state(depth_test=True, cull_face="back" if cull else False)
            self._cull = cull
        if vertices is not None and faces is not None:
            verts = np.asarray(vertices, dtype=np.float32)
            buf = getattr(self.mesh, "_vertices", None)
            if self._faces is not None and faces is self._faces and len(verts) == self._n_verts and buf is not None:
                # Same mesh, new pose: upload the moved vertices (and their normals) into the existing GPU
                # buffers. MeshVisual's own data path installs new shader functions on every update, so
                # vispy recompiles the program each frame (measured ~11 ms per hand with software GL).
                md = self.mesh.mesh_data
                md.set_vertices(verts)
                if normals is not None and hasattr(md, "_vertex_normals"):
                    # skinned normals given: spare MeshData recomputing them from the faces (~1 ms per hand)
                    md._vertex_normals = np.asarray(normals, dtype=np.float32)  # noqa: SLF001 - vispy has no public setter for given normals
                    md._vertex_normals_indexed_by_faces = None  # noqa: SLF001 - vispy has no public setter for given normals
                buf.set_data(md.get_vertices(indexed="faces"), convert=True)
                sf = self.mesh.shading_filter
                if sf is not None:
                    sf.on_mesh_data_updated(None)  # uploads the new normals; uniforms keep their types
                self.mesh.update()
            else:
                self.mesh.set_data(vertices=verts, faces=np.asarray(faces, dtype=np.uint32), color=self.colour)
                self._faces, self._n_verts = faces, len(verts)
            self.mesh.visible = self.shown
            sf = self.mesh.shading_filter
            if sf is not None and not self._lit:
                sf.light_dir = (-0.3, -0.4, -1.0)
                sf.ambient_light = (1, 1, 1, 0.35)
                self._lit = True
        else:
            self.mesh.visible = False
        ok = joints is not None and np.all(np.isfinite(joints))
        self.joints = np.asarray(joints, dtype=np.float32) if ok else None
        if self.mesh.visible:  # the skeleton lies inside the mesh: not drawn (saves two visuals per frame)
            self.lines.visible = self.markers.visible = False
        elif ok:
            j = self.joints
            self.lines.set_data(pos=j)  # the connectivity was given once, at creation
            self.markers.set_data(j, face_color=self.colour, edge_color="white", size=7)
            self.lines.visible = self.markers.visible = self.shown
        else:
            self.lines.visible = self.markers.visible = False

    @property
    def drawn(self) -> bool:
        """Something of this hand is visible (mesh or skeleton)."""
        return bool(self.mesh.visible or self.markers.visible)

    def set_shown(self, shown: bool) -> None:
        # hiding hides everything; showing takes effect with the next update()
        self.shown = shown
        if not shown:
            self.mesh.visible = self.lines.visible = self.markers.visible = False

    def show_pose(self, pose, show_mesh: bool, cull_back_faces: bool) -> None:
        """Pose the visuals as the scene's :class:`~asha_app.pose.scene.HandPose` says (None: nothing).

        Forward kinematics (joints from angles) and skinning (vertices and normals
        from angles, the hand model and the bone scale) happen here.
        """
        self.pose = pose
        if pose is None or not pose.has_data:
            self.update(None, None, None)
            self.has_data = False
            return
        joints, verts, faces, normals, own_mesh = pose.joints_mm, pose.vertices_mm, pose.faces, None, False
        angles = pose.angles_deg
        if angles is not None and np.all(np.isfinite(angles)):
            model = pose.model or HandModel.builtin(pose.side)
            if show_mesh and verts is None:
                verts, normals = model.skin_np(angles, pose.bone_scale)
                faces = model.faces
                own_mesh = True
            if joints is None:
                joints = model.forward_np(angles, pose.bone_scale)
        if not show_mesh:
            verts = None
        # the built-in meshes are closed with outward winding (tested); meshes given as they are may not be
        self.update(joints, verts, faces if verts is not None else None, normals, cull=own_mesh and cull_back_faces)
        self.has_data = joints is not None and bool(np.all(np.isfinite(joints)))


class _VispyScene:
    """Every vispy object of one view (canvas, camera, the hands' visuals); used from exactly one thread.

    :meth:`sync` brings a slot's visuals up to date with the model, :meth:`apply_layout`
    places the drawn hands; the camera (:meth:`orbit`, :meth:`zoom`, :meth:`reset_camera`)
    belongs to the view alone.  It renders in ``paintEvent`` (offscreen) or lets the
    widget canvas draw.
    """

    def __init__(self, app) -> None:
        self.egl = app != "pyside6"
        if self.egl:
            release_qt_gl()
        else:
            release_egl()
        self.canvas = scene.SceneCanvas(app=app, keys=None, bgcolor=(0.12, 0.12, 0.14, 1.0), show=False,
                                        size=(480, 480))
        self.view = self.canvas.central_widget.add_view()
        self.view.camera = scene.TurntableCamera(fov=FOV_DEG, elevation=10.0, azimuth=90.0, distance=520.0,
                                                 center=FRAME_CENTRE_MM, up="+y")
        # near/far clip = distance / and * sqrt(10 * depth_value); vispy's default (1e6: 0.16 mm to 1.6 km at
        # 520 mm) leaves a 16-bit depth buffer too coarse, and the back of the fingers bled through the front
        self.view.camera.depth_value = DEPTH_VALUE
        #: the places run along y (a tall, narrow view) instead of x
        self.stacked = False
        #: the user's zoom (wheel) on top of the distance that frames the hands
        self.zoom_factor = 1.0
        #: the drawn slots grouped by place, as last applied (HandScene.groups)
        self.groups: list[list[str]] = []
        # vispy's canvas resizes its view on this event; the camera distance then follows the new aspect
        self.canvas.events.resize.connect(self._on_resize, position="last")
        #: skip the back faces of the built-in skinned meshes
        self.cull_back_faces = True
        self.hands: dict[str, _HandVisual] = {}
        self._fbo = None

    def sync(self, slot: HandSlot, show_mesh: bool) -> None:
        """Bring the visuals of ``slot`` up to date (created on first use; posed again only when its pose changed)."""
        h = self.hands.get(slot.name)
        if h is None:
            h = _HandVisual(self.view.scene, slot.colour)
            # a fixed draw order whatever slot is posed first: where two hands overlay exactly (same pose), the
            # depth test keeps the one drawn first, and that is the camera's (the label the others are judged by)
            h.node.order = DEFAULT_SLOTS.index(slot.name) if slot.name in DEFAULT_SLOTS else len(DEFAULT_SLOTS)
            self.hands[slot.name] = h
        was_shown = h.shown
        if slot.visible != was_shown:
            h.set_shown(slot.visible)
        if slot.pose is not h.pose or (slot.visible and not was_shown):
            h.show_pose(slot.pose, show_mesh, self.cull_back_faces)

    def apply_layout(self, groups: list[list[str]] | None = None) -> None:
        """Place the drawn hands: ``groups`` (default: the last ones) side by side, or stacked when the view is so
        tall and narrow that this shows them clearly larger; an empty slot leaves no hole."""
        if groups is not None:
            self.groups = [list(g) for g in groups]
        groups = self.groups
        n = max(1, len(groups))
        self.stacked = n > 1 and self.fit_distance(n, True) < STACK_GAIN * self.fit_distance(n, False)
        for h in self.hands.values():
            h.node.transform.translate = (0, 0, 0, 0)
        for i, group in enumerate(groups):
            if self.stacked:  # first place on top
                d = (0.0, ((n - 1) / 2 - i) * STACKED_GAP_MM, 0, 0)
            else:
                d = ((i - (n - 1) / 2) * SIDE_BY_SIDE_GAP_MM, 0.0, 0, 0)
            for name in group:
                if name in self.hands:
                    self.hands[name].node.transform.translate = d
        self.frame()

    def fit_distance(self, n: int | None = None, stacked: bool | None = None) -> float:
        """Camera distance (mm) at which ``n`` places (default: those in use) show whole, at zoom 1.

        Each place holds a hand inside a sphere of :data:`FRAME_RADIUS_MM`; the
        outermost sphere must lie inside the view frustum, whose horizontal
        half-angle follows the view's aspect ratio.  ``stacked``: places along y
        (default: the current arrangement).
        """
        if n is None:
            n = max(1, len(self.groups))
        if stacked is None:
            stacked = self.stacked
        w, h = self.view.size
        aspect = float(w) / float(h) if w > 0 and h > 0 else 1.0
        tv = np.tan(np.radians(FOV_DEG) / 2.0)
        half_v, half_h = np.arctan(tv), np.arctan(tv * aspect)
        r = FRAME_RADIUS_MM
        lat_x = 0.0 if stacked else (n - 1) / 2.0 * SIDE_BY_SIDE_GAP_MM
        lat_y = (n - 1) / 2.0 * STACKED_GAP_MM if stacked else 0.0
        d_v = (r + lat_y * np.cos(half_v)) / np.sin(half_v)
        d_h = (r + lat_x * np.cos(half_h)) / np.sin(half_h)
        return float(max(d_v, d_h))

    def frame(self) -> None:
        """Put the camera at the distance that frames the hands, times the user's zoom."""
        self.view.camera.distance = self.fit_distance() * self.zoom_factor

    def _on_resize(self, _event=None) -> None:
        self.apply_layout()

    def orbit(self, d_azimuth: float, d_elevation: float) -> None:
        cam = self.view.camera
        cam.azimuth = (cam.azimuth + d_azimuth) % 360.0
        cam.elevation = float(np.clip(cam.elevation + d_elevation, -90.0, 90.0))

    def zoom(self, factor: float) -> None:
        self.zoom_factor = float(np.clip(self.zoom_factor * factor, 0.3, 6.0))
        self.frame()

    def reset_camera(self) -> None:
        cam = self.view.camera
        cam.elevation, cam.azimuth = 10.0, 90.0
        self.zoom_factor = 1.0
        self.apply_layout()

    def render_array(self, size: tuple[int, int] | None = None) -> np.ndarray:
        """Draw into a kept framebuffer (``size`` = (w, h) px, default the canvas's); RGBA (h, w, 4) uint8."""
        if self.egl:
            release_qt_gl()
        c = self.canvas
        if size is not None and tuple(c.size) != tuple(size):
            c.size = size
            # vispy's EGL backend emits no resize event: without one the view inside the canvas kept its first
            # size (480 x 480) and the hand sat off-centre and clipped in a larger or narrower dock
            c.events.resize(size=c.size, physical_size=c.physical_size)
        w, h = c.size
        if self._fbo is None or self._fbo[1] != (w, h):
            self._fbo = (gloo.FrameBuffer(color=gloo.RenderBuffer((h, w)), depth=gloo.RenderBuffer((h, w))), (w, h))
        fbo = self._fbo[0]
        c.set_current()
        c.push_fbo(fbo, (0, 0), (w, h))
        try:
            c.context.clear(color=c.bgcolor, depth=True)
            c.draw_visual(c.scene)
            return fbo.read()
        finally:
            c.pop_fbo()

    def close(self) -> None:
        self._fbo = None
        self.canvas.close()


class HandView(QWidget):
    """A QWidget that draws a :class:`~asha_app.pose.scene.HandScene` in 3D with vispy.

    Parameters
    ----------
    hands : HandScene, optional
        The model to observe (default: a new one with the default slots).
    parent : QWidget, optional
    show_mesh : bool
        Draw the skinned mesh (True) or only the skeleton.
    backend : {"offscreen", "widget"}, optional
        See the module notes; default :func:`choose_backend`.

    Attributes
    ----------
    hands : HandScene
        What is drawn; change it, never the view.
    frames_painted : int
        New pictures put on screen since creation.
    render_ms : deque of float
        Offscreen render + read-back times, ms, newest last.

    Signals
    -------
    frame_painted(float, int)
        A new picture reached the screen: ``time.perf_counter()`` at the end of the
        paint and the scene's generation it shows (compare with the value a
        :class:`HandScene` change returned).

    Raises
    ------
    RuntimeError
        No OpenGL here (see :func:`choose_backend`); callers show a placeholder.
    """

    frame_painted = Signal(float, int)

    def __init__(self, hands: HandScene | None = None, parent=None, show_mesh: bool = True,
                 backend: str | None = None) -> None:
        super().__init__(parent)
        self.backend = choose_backend(backend)
        self.show_mesh = show_mesh
        self.hands = hands if hands is not None else HandScene()
        self.frames_painted = 0
        self._synced = 0  # the scene's generation the visuals show
        self._camera_rev = 0  # changes of the view's own camera (drag, wheel, reset)
        self._image_key = None  # offscreen: (generation, camera revision) of the image kept in self._image
        self._image: QImage | None = None
        self._image_buf = None
        self._drag = None
        self.render_ms: deque = deque(maxlen=200)
        app = offscreen_gl_app() if self.backend == "offscreen" else "pyside6"
        try:
            self._scene = _VispyScene(app)
        except Exception as exc:  # EGL came up but no context or surface: the widget canvas may still work
            if self.backend != "offscreen" or backend or os.environ.get("ASHA_3D_BACKEND") or not widget_gl_possible():
                raise
            log.warning("off-screen 3D rendering failed (%s); using the OpenGL widget canvas", exc)
            self.backend = "widget"
            self._scene = _VispyScene("pyside6")
        log.info("3D view: %s rendering%s", self.backend,
                 "" if self.backend == "offscreen"
                 else f" (off-screen unavailable: {offscreen_gl_error() or 'not chosen'})")
        if self.backend == "offscreen":
            self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
            self.setMinimumSize(120, 120)
        else:
            layout = QVBoxLayout(self)
            layout.setContentsMargins(0, 0, 0, 0)
            layout.addWidget(self._scene.canvas.native)
            self._scene.canvas.events.draw.connect(self._on_widget_drawn, position="last")
        self.legend = QLabel(self)
        self.legend.setObjectName("handLegend")
        self.legend.setStyleSheet("#handLegend { background: rgba(0, 0, 0, 150); color: white; padding: 3px 6px;"
                                  " border-radius: 3px; }")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.legend.move(6, 6)
        self.legend.hide()
        self._legend_key = None
        self.hands.connect(self._on_scene_change)
        self._on_scene_change(SceneChange(self.hands.generation, frozenset(self.hands.slots), layout=True))

    def sizeHint(self):  # noqa: N802 - Qt naming
        return QSize(480, 480)  # what vispy's own canvas widget asks for: docks give the view a useful size

    # ------------------------------------------------------------------ the model
    def _on_scene_change(self, change: SceneChange) -> None:
        """The scene changed: update the visuals of the slots it names, the places and the legend, then repaint."""
        sc = self._scene
        if sc is None:  # closed
            return
        slots = self.hands.slots
        for name in change.slots:
            if name in slots:
                sc.sync(slots[name], self.show_mesh)
        groups = self.hands.groups()
        if change.layout or groups != sc.groups:
            sc.apply_layout(groups)
        self._synced = change.generation
        self._update_legend()
        if change.draw_now:
            self.draw_now()
        else:
            self._schedule_paint()

    def _schedule_paint(self) -> None:
        if self.backend == "offscreen":
            self.update()  # rendered in the next paint: changes made in one event-loop pass share a frame
        else:
            self._scene.canvas.update()

    def _camera_changed(self) -> None:
        self._camera_rev += 1
        self._schedule_paint()

    @property
    def _hands(self) -> dict:
        """The slots' visuals (tests)."""
        return self._scene.hands

    @property
    def slots(self) -> list[str]:
        """The scene's slots."""
        return list(self.hands.slots)

    def legend_entries(self) -> list[tuple[str, str, str]]:
        """``(slot, label, colour "#rrggbb")`` of each hand drawn now, left to right (what the legend shows)."""
        return self.hands.legend_entries() if self._scene is not None else []

    def _update_legend(self) -> None:
        entries = self.legend_entries()
        key = tuple(entries)
        if key == self._legend_key:
            return
        self._legend_key = key
        if not entries:
            self.legend.hide()
            return
        self.legend.setText("<br>".join(f'<span style="color:{col}">&#9632;</span>&nbsp;{label}'
                                        for _slot, label, col in entries))
        self.legend.adjustSize()
        self.legend.show()
        self.legend.raise_()

    def draw_now(self) -> None:
        """Paint what the scene holds at once (offscreen: a synchronous repaint of this widget only), instead of
        waiting for the window's next update pass (the live view: saves a few ms of latency)."""
        if self.backend != "offscreen" or self._scene is None:
            if self._scene is not None:
                self._scene.canvas.update()
            return
        if self._image_key != (self._synced, self._camera_rev) and self.isVisible():
            self.repaint()

    def reset_camera(self) -> None:
        """Back to the default view of the palm."""
        if self._scene is not None:
            self._scene.reset_camera()
            self._camera_changed()

    # ------------------------------------------------------------------ drawing
    def render(self) -> np.ndarray:
        """Render now and return the RGBA image (H, W, 4) uint8 (tests, screenshots)."""
        if self.backend == "offscreen":
            return self._scene.render_array(self._pixel_size())
        return self._scene.canvas.render()

    def _pixel_size(self) -> tuple[int, int]:
        dpr = self.devicePixelRatioF()
        return max(1, round(self.width() * dpr)), max(1, round(self.height() * dpr))

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt naming
        if self.backend != "offscreen" or self._scene is None:
            return super().paintEvent(event)
        size = self._pixel_size()
        key = (self._synced, self._camera_rev)
        new = self._image is None or self._image_key != key or self._image.size().toTuple() != size
        if new:
            t0 = time.perf_counter()
            arr = np.ascontiguousarray(self._scene.render_array(size))
            self.render_ms.append((time.perf_counter() - t0) * 1000.0)
            img = QImage(arr.data, arr.shape[1], arr.shape[0], arr.strides[0], QImage.Format.Format_RGBA8888)
            img.setDevicePixelRatio(self.devicePixelRatioF())
            self._image, self._image_buf = img, arr  # the QImage borrows the array's memory
            self._image_key = key
        p = QPainter(self)
        p.drawImage(QRect(0, 0, self.width(), self.height()), self._image)
        p.end()
        if new:
            self._frame_done(key[0])

    def _on_widget_drawn(self, _event=None) -> None:
        self._frame_done(self._synced)

    def _frame_done(self, gen: int) -> None:
        self.frames_painted += 1
        self.frame_painted.emit(time.perf_counter(), gen)

    # ------------------------------------------------------------ mouse (offscreen; the widget canvas has vispy's own)
    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt naming
        self._drag = event.position()
        event.accept()

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 - Qt naming
        if self._drag is None or self.backend != "offscreen":
            return
        pos = event.position()
        dx, dy = pos.x() - self._drag.x(), pos.y() - self._drag.y()
        self._drag = pos
        if self._scene is not None:
            self._scene.orbit(-0.5 * dx, 0.5 * dy)
            self._camera_changed()

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 - Qt naming
        self._drag = None

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802 - Qt naming
        self.reset_camera()

    def wheelEvent(self, event) -> None:  # noqa: N802 - Qt naming
        if self.backend != "offscreen":
            return
        if self._scene is not None:
            self._scene.zoom(0.9 ** (event.angleDelta().y() / 120.0))
            self._camera_changed()
        event.accept()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt naming
        self.close_canvas()
        super().closeEvent(event)

    def close_canvas(self) -> None:
        """Stop observing the scene and free the GL resources (also done when the widget closes)."""
        self.hands.disconnect(self._on_scene_change)
        if self._scene is not None:
            self._scene.close()
            self._scene = None
