"""3D hand view: vispy SceneCanvas (PySide6 backend) in a QWidget, showing one or more hands.

Each *slot* (``"camera"``, ``"emg"``, ...) is one hand drawn as a shaded skinned
mesh, a skeleton (21 landmarks joined by MediaPipe's connections) and joint
markers, in its own colour (:data:`DEFAULT_COLOURS`), named in a legend at the
top left while drawn.  Hands can be shown overlaid (same place, e.g. the camera
label and the EMG prediction) or side by side; a recording prompt's target pose
(slot ``"target"``) always stands beside the others.  The places run along the
longer side of the view, and the camera distance follows the view's size and
aspect so that every hand shown is whole and centred whatever the dock's shape
(:meth:`_HandScene.fit_distance`); the mouse wheel zooms on top of that.

The view mirrors a model: callers push what to draw with :meth:`HandView.set_pose`;
the view stores nothing but its visuals.

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

``ASHA_3D_BACKEND=offscreen|widget`` forces one.  Mouse: drag rotates, the wheel
zooms, a double click resets the view (both backends).
"""

from __future__ import annotations

import logging
import os
import time
from collections import deque

import numpy as np
from PySide6.QtCore import QRect, Qt, Signal
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget
from vispy import scene
from vispy.visuals.transforms import STTransform

from asha_app.pose.chain import HAND_CONNECTIONS
from asha_app.pose.hand_model import HandModel

log = logging.getLogger(__name__)

DEFAULT_COLOURS = {
    "camera": (0.95, 0.55, 0.25, 1.0),  # orange: camera label
    "emg": (0.30, 0.60, 0.95, 1.0),  # blue: EMG prediction
    "reference": (0.40, 0.80, 0.40, 1.0),  # green: recorded reference pose (live demo)
    "target": (0.80, 0.45, 0.90, 1.0),  # violet: the pose a recording prompt asks for
    "replay": (0.90, 0.82, 0.30, 1.0),  # yellow: a recorded camera label (session replay)
}
#: what the legend calls each slot (others are shown by their slot name)
SLOT_LABELS = {
    "camera": "camera (IK fit)",
    "emg": "EMG model",
    "reference": "recorded reference",
    "target": "target pose",
    "replay": "recorded label (replay)",
}
#: slots that stand beside the others even in the overlay layout: a prompt's goal, not a measurement to compare
BESIDE_SLOTS = frozenset({"target"})
_EXTRA = [(0.85, 0.40, 0.80, 1.0), (0.90, 0.85, 0.30, 1.0), (0.40, 0.85, 0.85, 1.0)]
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
        self.lines = scene.visuals.Line(parent=self.node, color=self.colour * [0.6, 0.6, 0.6, 1], width=3, connect=_EDGES, method="gl")
        self.lines.visible = False
        self.markers = scene.visuals.Markers(parent=self.node)
        self.markers.visible = False
        self.shown = True
        self.has_data = False
        #: the landmarks (21, 3) mm of the last pose drawn, None when hidden
        self.joints: np.ndarray | None = None

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
                    md._vertex_normals = np.asarray(normals, dtype=np.float32)
                    md._vertex_normals_indexed_by_faces = None
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


_EGL: dict = {}


def offscreen_gl_app():
    """vispy's EGL application for off-screen rendering, or None when EGL cannot start here.

    Mesa needs ``EGL_PLATFORM=surfaceless`` to give a display without a window
    system; the variable is set only while vispy opens the EGL display.  The
    reason for a failure is kept in :func:`offscreen_gl_error`.
    """
    if "app" not in _EGL:
        old = os.environ.get("EGL_PLATFORM")
        if old is None:
            os.environ["EGL_PLATFORM"] = "surfaceless"
        try:
            from vispy import app as vispy_app

            _EGL["app"] = vispy_app.Application("egl")
            _EGL["error"] = ""
        except Exception as exc:  # ImportError, RuntimeError: no libEGL, no usable display
            _EGL["app"] = None
            _EGL["error"] = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            log.info("off-screen OpenGL (EGL) unavailable: %s", _EGL["error"])
        finally:
            if old is None:
                os.environ.pop("EGL_PLATFORM", None)
    return _EGL["app"]


def offscreen_gl_error() -> str:
    """Why :func:`offscreen_gl_app` gave None ("" when it works or was not tried)."""
    return _EGL.get("error", "")


def _release_qt_gl() -> None:
    """Release a Qt (GLX) context current in this thread: glvnd refuses an EGL context while one is current."""
    from PySide6.QtGui import QOpenGLContext

    ctx = QOpenGLContext.currentContext()
    if ctx is not None:
        ctx.doneCurrent()


def _release_egl() -> None:
    """Release an EGL context that off-screen rendering left current in this thread: Qt's own OpenGL contexts
    (the widget canvas) then fail to become current ("QOpenGLWidget: Failed to make context current")."""
    if _EGL.get("app") is None:
        return
    try:
        from vispy.app.backends import _egl
        from vispy.ext import egl

        egl.eglMakeCurrent(_egl._EGL_DISPLAY, egl.EGL_NO_SURFACE, egl.EGL_NO_SURFACE, egl.EGL_NO_CONTEXT)
    except Exception as exc:  # never fatal: at worst the widget canvas reports its own error
        log.debug("could not release the EGL context: %s", exc)


def _widget_gl_possible() -> bool:
    from PySide6.QtGui import QGuiApplication

    return QGuiApplication.platformName() not in ("offscreen", "minimal")


def choose_backend(requested: str | None = None) -> str:
    """The backend a new :class:`HandView` uses: ``requested``, ``$ASHA_3D_BACKEND``, else the best available.

    Raises
    ------
    RuntimeError
        No OpenGL at all here (no EGL and a window system without OpenGL), with the reason.
    ValueError
        An unknown backend name.
    """
    want = requested or os.environ.get("ASHA_3D_BACKEND") or None
    if want not in (None, "offscreen", "widget"):
        raise ValueError(f"3D backend must be 'offscreen' or 'widget', got {want!r}")
    if want in (None, "offscreen") and offscreen_gl_app() is not None:
        return "offscreen"
    if want in (None, "widget") and _widget_gl_possible():
        return "widget"
    raise RuntimeError("no OpenGL for the 3D view: EGL failed (" + (offscreen_gl_error() or "not tried")
                       + ") and this display has no OpenGL windows")


class _HandScene:
    """Every vispy object of one view (canvas, camera, hands); used from exactly one thread.

    The commands (:meth:`set_pose`, :meth:`clear`, :meth:`set_visible`,
    :meth:`set_layout`, :meth:`orbit`, :meth:`zoom`, :meth:`reset_camera`) are what
    :class:`HandView` forwards; it renders in ``paintEvent`` (offscreen) or lets the
    widget canvas draw.
    """

    def __init__(self, app, slots) -> None:
        self.egl = app != "pyside6"
        if self.egl:
            _release_qt_gl()
        else:
            _release_egl()
        self.canvas = scene.SceneCanvas(app=app, keys=None, bgcolor=(0.12, 0.12, 0.14, 1.0), show=False, size=(480, 480))
        self.view = self.canvas.central_widget.add_view()
        self.view.camera = scene.TurntableCamera(fov=FOV_DEG, elevation=10.0, azimuth=90.0, distance=520.0,
                                                 center=FRAME_CENTRE_MM, up="+y")
        # near/far clip = distance / and * sqrt(10 * depth_value); vispy's default (1e6: 0.16 mm to 1.6 km at
        # 520 mm) leaves a 16-bit depth buffer too coarse, and the back of the fingers bled through the front
        self.view.camera.depth_value = DEPTH_VALUE
        self.layout = "overlay"
        #: the places run along y (a tall, narrow view) instead of x
        self.stacked = False
        #: the user's zoom (wheel) on top of the distance that frames the hands
        self.zoom_factor = 1.0
        # vispy's canvas resizes its view on this event; the camera distance then follows the new aspect
        self.canvas.events.resize.connect(self._on_resize, position="last")
        #: skip the back faces of the built-in skinned meshes
        self.cull_back_faces = True
        self.hands: dict[str, _HandVisual] = {}
        self._fbo = None
        if slots is None:
            slots = DEFAULT_COLOURS
        if isinstance(slots, dict):
            for name, col in slots.items():
                self.slot(name, col)
        else:
            for name in slots:
                self.slot(name)

    def slot(self, name: str, colour=None) -> _HandVisual:
        h = self.hands.get(name)
        if h is None:
            if colour is None:
                colour = DEFAULT_COLOURS.get(name, _EXTRA[len(self.hands) % len(_EXTRA)])
            h = _HandVisual(self.view.scene, colour)
            self.hands[name] = h
            self.apply_layout()
        return h

    def set_pose(self, slot, joints_mm, angles_deg, model, side, vertices_mm, faces, bone_scale, show_mesh) -> None:
        h = self.slot(slot)
        had_data = h.has_data
        verts, normals, own_mesh = vertices_mm, None, False
        if angles_deg is not None and np.all(np.isfinite(angles_deg)):
            model = model or HandModel.builtin(side)
            if show_mesh and verts is None:
                verts, normals = model.skin_np(angles_deg, bone_scale)
                faces = model.faces
                own_mesh = True
            if joints_mm is None:
                joints_mm = model.forward_np(angles_deg, bone_scale)
        if not show_mesh:
            verts = None
        # the built-in meshes are closed with outward winding (tested); meshes given as they are may not be
        h.update(joints_mm, verts, faces if verts is not None else None, normals,
                 cull=own_mesh and self.cull_back_faces)
        h.has_data = joints_mm is not None and bool(np.all(np.isfinite(joints_mm)))
        if h.has_data != had_data:
            self.apply_layout()

    def clear(self, slot: str) -> None:
        if slot in self.hands:
            h = self.hands[slot]
            h.update(None, None, None)
            if h.has_data:
                h.has_data = False
                self.apply_layout()

    def set_visible(self, slot: str, visible: bool) -> None:
        self.slot(slot).set_shown(bool(visible))
        self.apply_layout()

    def set_layout(self, layout: str) -> None:
        self.layout = layout
        self.apply_layout()

    def groups(self) -> list[list[str]]:
        """The drawn slots, grouped by place from left to right (each group shares one place)."""
        drawn = [name for name, h in self.hands.items() if h.shown and h.has_data]
        if self.layout == "side_by_side":
            return [[name] for name in drawn]
        main = [name for name in drawn if name not in BESIDE_SLOTS]
        return ([main] if main else []) + [[name] for name in drawn if name in BESIDE_SLOTS]

    def apply_layout(self) -> None:
        # places only the hands that are drawn, so an empty slot leaves no hole; the places run side by side,
        # or stacked when the view is so tall and narrow that this shows the hands clearly larger
        groups = self.groups()
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
            n = max(1, len(self.groups()))
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
        from vispy import gloo

        if self.egl:
            _release_qt_gl()
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
    """A QWidget showing hands in 3D with vispy.

    Parameters
    ----------
    slots : dict[str, colour] or list[str], optional
        Slots to create (default ``camera``, ``emg`` and ``reference``).  More are created on first use.
    parent : QWidget, optional
    show_mesh : bool
        Draw the skinned mesh (True) or only the skeleton.
    backend : {"offscreen", "widget"}, optional
        See the module notes; default :func:`choose_backend`.

    Attributes
    ----------
    frames_painted : int
        New pictures put on screen since creation.
    render_ms : deque of float
        Offscreen render + read-back times, ms, newest last.

    Signals
    -------
    frame_painted(float, int)
        A new picture reached the screen: ``time.perf_counter()`` at the end of the
        paint and the generation of the newest command it shows (compare with the
        value :meth:`set_pose` returned).

    Raises
    ------
    RuntimeError
        No OpenGL here (see :func:`choose_backend`); callers show a placeholder.
    """

    frame_painted = Signal(float, int)

    def __init__(self, slots=None, parent=None, show_mesh: bool = True, backend: str | None = None) -> None:
        super().__init__(parent)
        self.backend = choose_backend(backend)
        self.show_mesh = show_mesh
        self.frames_painted = 0
        self._gen = 0  # command generation
        self._image_gen = -1  # offscreen: generation of the image kept in self._image
        self._image: QImage | None = None
        self._image_buf = None
        self._drag = None
        self.render_ms: deque = deque(maxlen=200)
        app = offscreen_gl_app() if self.backend == "offscreen" else "pyside6"
        try:
            self._scene = _HandScene(app, slots)
        except Exception as exc:  # EGL came up but no context or surface: the widget canvas may still work
            if self.backend != "offscreen" or backend or os.environ.get("ASHA_3D_BACKEND") or not _widget_gl_possible():
                raise
            log.warning("off-screen 3D rendering failed (%s); using the OpenGL widget canvas", exc)
            self.backend = "widget"
            self._scene = _HandScene("pyside6", slots)
        log.info("3D view: %s rendering%s", self.backend,
                 "" if self.backend == "offscreen" else f" (off-screen unavailable: {offscreen_gl_error() or 'not chosen'})")
        if self.backend == "offscreen":
            self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
            self.setMinimumSize(120, 120)
        else:
            layout = QVBoxLayout(self)
            layout.setContentsMargins(0, 0, 0, 0)
            layout.addWidget(self._scene.canvas.native)
            self._scene.canvas.events.draw.connect(self._on_widget_drawn, position="last")
        #: what the legend calls each slot (:data:`SLOT_LABELS`, changed with :meth:`set_slot_label`)
        self.slot_labels = dict(SLOT_LABELS)
        self.legend = QLabel(self)
        self.legend.setObjectName("handLegend")
        self.legend.setStyleSheet("#handLegend { background: rgba(0, 0, 0, 150); color: white; padding: 3px 6px;"
                                  " border-radius: 3px; }")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.legend.move(6, 6)
        self.legend.hide()
        self._legend_key = None

    def sizeHint(self):  # noqa: N802 - Qt naming
        from PySide6.QtCore import QSize

        return QSize(480, 480)  # what vispy's own canvas widget asks for: docks give the view a useful size

    # ------------------------------------------------------------------ commands
    def _submit(self, name: str, *args) -> int:
        if self._scene is None:  # closed
            return self._gen
        getattr(self._scene, name)(*args)
        self._gen += 1
        if name not in ("orbit", "zoom"):
            self._update_legend()
        if self.backend == "offscreen":
            self.update()  # rendered in the next paint: poses set in one event-loop pass share a frame
        else:
            self._scene.canvas.update()
        return self._gen

    @property
    def _hands(self) -> dict:
        """The slots' visuals (tests)."""
        return self._scene.hands

    @property
    def slots(self) -> list[str]:
        return list(self._hands)

    def set_pose(
        self,
        slot: str,
        joints_mm: np.ndarray | None = None,
        angles_deg: np.ndarray | None = None,
        model: HandModel | None = None,
        side: str = "right",
        vertices_mm: np.ndarray | None = None,
        faces: np.ndarray | None = None,
        bone_scale: np.ndarray | None = None,
    ) -> int:
        """Draw one hand.

        Parameters
        ----------
        slot : str
            Which hand (created on first use).
        joints_mm : array (21, 3), optional
            Landmarks in the hand frame, mm (skeleton).  Computed from ``angles_deg`` when omitted.
        angles_deg : array (n_dof,), optional
            Joint angles of ``model`` (degrees); gives the skinned mesh.
        model : HandModel, optional
            Defaults to the built-in hand of ``side``.
        vertices_mm, faces : arrays, optional
            A mesh to show as it is (e.g. MANO's), hand frame mm.
        bone_scale : array (20,), optional

        Returns
        -------
        int
            The command's generation (see :attr:`frame_painted`).

        Passing nothing (or NaN joints) hides the hand's drawing for that slot.
        """
        return self._submit("set_pose", slot, joints_mm, angles_deg, model, side, vertices_mm, faces, bone_scale,
                            self.show_mesh)

    def clear(self, slot: str) -> None:
        """Hide what a slot draws."""
        self._submit("clear", slot)

    def set_visible(self, slot: str, visible: bool) -> None:
        """Show or hide a slot (its last drawing is redrawn on the next set_pose)."""
        self._submit("set_visible", slot, bool(visible))

    def set_layout(self, layout: str) -> None:
        """``"overlay"`` (all hands in one place) or ``"side_by_side"`` (along x)."""
        if layout not in ("overlay", "side_by_side"):
            raise ValueError(f"layout must be 'overlay' or 'side_by_side', got {layout!r}")
        self._submit("set_layout", layout)

    def set_slot_label(self, slot: str, label: str) -> None:
        """Name a slot in the legend (e.g. ``"reference"`` -> "recorded finger angles")."""
        self.slot_labels[slot] = str(label)
        self._legend_key = None
        self._update_legend()

    def legend_entries(self) -> list[tuple[str, str, str]]:
        """``(slot, label, colour "#rrggbb")`` of each hand drawn now, left to right (what the legend shows)."""
        if self._scene is None:
            return []
        out = []
        for group in self._scene.groups():
            for name in group:
                rgb = np.clip(np.asarray(self._scene.hands[name].colour[:3]) * 255, 0, 255).round().astype(int)
                out.append((name, self.slot_labels.get(name, name), "#{:02x}{:02x}{:02x}".format(*rgb)))
        return out

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
        """Paint the poses set so far at once (offscreen: a synchronous repaint of this widget only),
        instead of waiting for the window's next update pass (live view: saves a few ms of latency)."""
        if self.backend == "offscreen" and self._scene is not None and self._image_gen != self._gen and self.isVisible():
            self.repaint()

    def reset_camera(self) -> None:
        """Back to the default view of the palm."""
        self._submit("reset_camera")

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
        new = self._image is None or self._image_gen != self._gen or self._image.size().toTuple() != size
        if new:
            t0 = time.perf_counter()
            arr = np.ascontiguousarray(self._scene.render_array(size))
            self.render_ms.append((time.perf_counter() - t0) * 1000.0)
            img = QImage(arr.data, arr.shape[1], arr.shape[0], arr.strides[0], QImage.Format.Format_RGBA8888)
            img.setDevicePixelRatio(self.devicePixelRatioF())
            self._image, self._image_buf = img, arr  # the QImage borrows the array's memory
            self._image_gen = self._gen
        p = QPainter(self)
        p.drawImage(QRect(0, 0, self.width(), self.height()), self._image)
        p.end()
        if new:
            self._frame_done(self._image_gen)

    def _on_widget_drawn(self, _event=None) -> None:
        self._frame_done(self._gen)

    def _frame_done(self, gen: int) -> None:
        self.frames_painted += 1
        self.frame_painted.emit(time.perf_counter(), gen)

    # ------------------------------------------------------------------ mouse (offscreen; the widget canvas has vispy's own)
    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt naming
        self._drag = event.position()
        event.accept()

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 - Qt naming
        if self._drag is None or self.backend != "offscreen":
            return
        pos = event.position()
        dx, dy = pos.x() - self._drag.x(), pos.y() - self._drag.y()
        self._drag = pos
        self._submit("orbit", -0.5 * dx, 0.5 * dy)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 - Qt naming
        self._drag = None

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802 - Qt naming
        self.reset_camera()

    def wheelEvent(self, event) -> None:  # noqa: N802 - Qt naming
        if self.backend != "offscreen":
            return
        self._submit("zoom", 0.9 ** (event.angleDelta().y() / 120.0))
        event.accept()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt naming
        self.close_canvas()
        super().closeEvent(event)

    def close_canvas(self) -> None:
        """Free the GL resources (also done when the widget closes); later poses are ignored."""
        if self._scene is not None:
            self._scene.close()
            self._scene = None
