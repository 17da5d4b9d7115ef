"""3D hand view: vispy SceneCanvas (PySide6 backend) in a QWidget, showing one or more hands.

Each *slot* (``"camera"``, ``"emg"``, ...) is one hand drawn as a shaded skinned
mesh, a skeleton (21 landmarks joined by MediaPipe's connections) and joint
markers, in its own colour.  Two hands can be shown overlaid (same place, e.g.
the camera label and the EMG prediction) or side by side.

The view mirrors a model: callers push what to draw with :meth:`HandView.set_pose`
(from a QTimer that polls the workers); the view stores nothing but its visuals.

Coordinates are the hand frame in millimetres (wrist at the origin, fingers
along +y, +z out of the right palm): the camera looks at the palm by default.
"""

from __future__ import annotations

import logging

import numpy as np
import torch
from PySide6.QtWidgets import QVBoxLayout, QWidget
from vispy import scene
from vispy.visuals.transforms import STTransform

from asha_app.pose.hand_model import HAND_CONNECTIONS, HandModel

log = logging.getLogger(__name__)

DEFAULT_COLOURS = {
    "camera": (0.95, 0.55, 0.25, 1.0),  # orange: camera label
    "emg": (0.30, 0.60, 0.95, 1.0),  # blue: EMG prediction
    "reference": (0.40, 0.80, 0.40, 1.0),  # green: recorded reference pose (live demo)
}
_EXTRA = [(0.40, 0.80, 0.40, 1.0), (0.85, 0.40, 0.80, 1.0), (0.90, 0.85, 0.30, 1.0)]
SIDE_BY_SIDE_GAP_MM = 220.0
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
        self._faces = None
        self._n_verts = 0
        self.lines = scene.visuals.Line(parent=self.node, color=self.colour * [0.6, 0.6, 0.6, 1], width=3, connect=_EDGES, method="gl")
        self.lines.visible = False
        self.markers = scene.visuals.Markers(parent=self.node)
        self.markers.visible = False
        self.shown = True
        self.has_data = False

    def update(self, joints: np.ndarray | None, vertices: np.ndarray | None, faces: np.ndarray | None) -> None:
        if vertices is not None and faces is not None:
            verts = np.asarray(vertices, dtype=np.float32)
            buf = getattr(self.mesh, "_vertices", None)
            if self._faces is not None and faces is self._faces and len(verts) == self._n_verts and buf is not None:
                # Same mesh, new pose: upload the moved vertices (and their normals) into the existing GPU
                # buffers. MeshVisual's own data path installs new shader functions on every update, so
                # vispy recompiles the program each frame (measured ~11 ms per hand with software GL).
                md = self.mesh.mesh_data
                md.set_vertices(verts)
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
        if joints is not None and np.all(np.isfinite(joints)):
            j = np.asarray(joints, dtype=np.float32)
            self.lines.set_data(pos=j)  # the connectivity was given once, at creation
            self.markers.set_data(j, face_color=self.colour, edge_color="white", size=7)
            self.lines.visible = self.markers.visible = self.shown
        else:
            self.lines.visible = self.markers.visible = False

    def set_shown(self, shown: bool) -> None:
        # hiding hides everything; showing takes effect with the next update()
        self.shown = shown
        if not shown:
            self.mesh.visible = self.lines.visible = self.markers.visible = False


class HandView(QWidget):
    """A QWidget with a vispy canvas showing hands.

    Parameters
    ----------
    slots : dict[str, colour] or list[str], optional
        Slots to create (default ``camera`` and ``emg``).  More are created on first use.
    parent : QWidget, optional
    show_mesh : bool
        Draw the skinned mesh (True) or only the skeleton.

    Notes
    -----
    Needs an OpenGL context (a desktop session, or Xvfb in tests).  The canvas
    uses ``app="pyside6"``; rendering happens in the GUI thread.
    """

    def __init__(self, slots=None, parent=None, show_mesh: bool = True) -> None:
        super().__init__(parent)
        self.canvas = scene.SceneCanvas(app="pyside6", keys=None, bgcolor=(0.12, 0.12, 0.14, 1.0), show=False, size=(480, 480))
        self.view = self.canvas.central_widget.add_view()
        self.view.camera = scene.TurntableCamera(fov=35.0, elevation=10.0, azimuth=90.0, distance=520.0, center=(0, 90, 0), up="+y")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas.native)
        self.show_mesh = show_mesh
        self._layout = "overlay"
        self._hands: dict[str, _HandVisual] = {}
        if slots is None:
            slots = DEFAULT_COLOURS
        if isinstance(slots, dict):
            for name, col in slots.items():
                self._slot(name, col)
        else:
            for name in slots:
                self._slot(name)

    # ------------------------------------------------------------------ slots
    def _slot(self, name: str, colour=None) -> _HandVisual:
        h = self._hands.get(name)
        if h is None:
            if colour is None:
                colour = DEFAULT_COLOURS.get(name, _EXTRA[len(self._hands) % len(_EXTRA)])
            h = _HandVisual(self.view.scene, colour)
            self._hands[name] = h
            self._apply_layout()
        return h

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
    ) -> None:
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

        Passing nothing (or NaN joints) hides the hand's drawing for that slot.
        """
        h = self._slot(slot)
        had_data = h.has_data
        verts = vertices_mm
        if angles_deg is not None and np.all(np.isfinite(angles_deg)):
            model = model or HandModel.builtin(side)
            a = torch.as_tensor(np.radians(np.asarray(angles_deg, dtype=np.float64)))[None]
            bs = None if bone_scale is None else torch.as_tensor(np.asarray(bone_scale, dtype=np.float64))
            with torch.no_grad():
                if self.show_mesh and verts is None:
                    v, faces = model.skin(a, bone_scale=bs)
                    verts = v[0].numpy()
                if joints_mm is None:
                    joints_mm = model.forward(a, bone_scale=bs)[0].numpy()
        if not self.show_mesh:
            verts = None
        h.update(joints_mm, verts, faces if verts is not None else None)
        h.has_data = joints_mm is not None and bool(np.all(np.isfinite(joints_mm)))
        if h.has_data != had_data:
            self._apply_layout()
        self.canvas.update()

    def clear(self, slot: str) -> None:
        """Hide what a slot draws."""
        if slot in self._hands:
            h = self._hands[slot]
            h.update(None, None, None)
            if h.has_data:
                h.has_data = False
                self._apply_layout()
            self.canvas.update()

    def set_visible(self, slot: str, visible: bool) -> None:
        """Show or hide a slot (its last drawing is redrawn on the next set_pose)."""
        self._slot(slot).set_shown(bool(visible))
        self._apply_layout()
        self.canvas.update()

    def set_layout(self, layout: str) -> None:
        """``"overlay"`` (all hands in one place) or ``"side_by_side"`` (along x)."""
        if layout not in ("overlay", "side_by_side"):
            raise ValueError(f"layout must be 'overlay' or 'side_by_side', got {layout!r}")
        self._layout = layout
        self._apply_layout()
        self.canvas.update()

    def _apply_layout(self) -> None:
        # side by side places only the hands that are drawn, so an empty slot leaves no hole
        drawn = [h for h in self._hands.values() if h.shown and h.has_data]
        n = max(1, len(drawn))
        for i, h in enumerate(drawn):
            dx = (i - (n - 1) / 2) * SIDE_BY_SIDE_GAP_MM if self._layout == "side_by_side" else 0.0
            h.node.transform.translate = (dx, 0, 0, 0)
        if hasattr(self, "view"):
            self.view.camera.distance = 520.0 + (SIDE_BY_SIDE_GAP_MM * (n - 1) if self._layout == "side_by_side" else 0.0)

    def render(self) -> np.ndarray:
        """Render off-screen and return the RGBA image (H, W, 4) uint8 (tests, screenshots)."""
        return self.canvas.render()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt naming
        self.canvas.close()
        super().closeEvent(event)
