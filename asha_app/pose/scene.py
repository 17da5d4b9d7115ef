"""What the 3D view shows: a Qt-free model of the hands on screen, which views observe.

A :class:`HandScene` holds one :class:`HandSlot` per hand (``"camera"``,
``"emg"``, ``"reference"``, ``"target"``, ``"replay"``, ...): the pose to draw
(a :class:`HandPose`: joint angles and/or joints, the hand model, the person's
bone scale, or a mesh given as it is), its colour, its legend label and whether
it is shown; and the layout (hands ``"overlay"``, in one place, or
``"side_by_side"``).  Every part of the app that shows a hand changes the scene,
never a view: the live controller (EMG hand, live-demo reference), the session
replay (recorded label), the recording and calibration pages (a prompt's target
pose) and the camera panel (the camera's fitted hand).

A view (:class:`asha_app.ui.hand_view.HandView`) subscribes with
:meth:`HandScene.connect` and redraws from the scene on each
:class:`SceneChange` it receives; with no OpenGL there is no view, and the scene
still says what would be drawn (the live controller and the tests read it).
:attr:`HandScene.generation` grows by one per change; a view reports which
generation a painted frame shows, which is how the live latency is taken (a pose
counts as drawn when the frame showing it has been painted).

Changes made inside ``with scene.batch(...):`` reach the observers as one
:class:`SceneChange` when the block ends (the live controller sets the EMG hand
and the reference together, drawn in one frame); ``draw_now=True`` asks views
to paint at once instead of at the next pass of the event loop.

Threading: change a scene from one thread (the GUI thread); observers are
called synchronously, in that thread, and an observer's exception reaches the
caller that made the change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import numpy as np

#: the colour (RGBA, 0..1) of each known slot
DEFAULT_COLOURS: dict[str, tuple[float, float, float, float]] = {
    "camera": (0.95, 0.55, 0.25, 1.0),  # orange: camera label
    "emg": (0.30, 0.60, 0.95, 1.0),  # blue: EMG prediction
    "reference": (0.40, 0.80, 0.40, 1.0),  # green: recorded reference pose (live demo)
    "target": (0.80, 0.45, 0.90, 1.0),  # violet: the pose a recording prompt asks for
    "replay": (0.90, 0.82, 0.30, 1.0),  # yellow: a recorded camera label (session replay)
}
#: the slots a scene starts with (more are created on first use)
DEFAULT_SLOTS = tuple(DEFAULT_COLOURS)
#: what the legend calls each slot (others are shown by their slot name)
SLOT_LABELS: dict[str, str] = {
    "camera": "camera (IK fit)",
    "emg": "EMG model",
    "reference": "recorded reference",
    "target": "target pose",
    "replay": "recorded label (replay)",
}
#: slots that stand beside the others even in the overlay layout: a prompt's goal, not a measurement to compare
BESIDE_SLOTS = frozenset({"target"})
LAYOUTS = ("overlay", "side_by_side")
_EXTRA = [(0.85, 0.40, 0.80, 1.0), (0.90, 0.85, 0.30, 1.0), (0.40, 0.85, 0.85, 1.0)]


def _finite(a) -> bool:
    return a is not None and bool(np.all(np.isfinite(a)))


@dataclass(frozen=True)
class HandPose:
    """One hand to draw (hand frame, millimetres: wrist at the origin, fingers along +y).

    Attributes
    ----------
    joints_mm : array (21, 3), optional
        Landmarks (skeleton); computed by the view from ``angles_deg`` when omitted.
    angles_deg : array (n_dof,), optional
        Joint angles of ``model`` (degrees, order ``dof_names``): what the skinned mesh is posed with.
    model : HandModel, optional
        The hand model the angles belong to (default: the built-in hand of ``side``).
    side : {"right", "left"}
    vertices_mm, faces : arrays, optional
        A mesh to show as it is (e.g. a MANO fit), instead of skinning ``model``.
    bone_scale : array (20,), optional
        The person's bone length factors (from the IK calibration), used by forward kinematics and skinning.
    """

    joints_mm: np.ndarray | None = None
    angles_deg: np.ndarray | None = None
    model: object | None = None
    side: str = "right"
    vertices_mm: np.ndarray | None = None
    faces: np.ndarray | None = None
    bone_scale: np.ndarray | None = None

    @property
    def has_data(self) -> bool:
        """Something can be drawn: finite joints, or finite angles to compute them from."""
        return _finite(self.joints_mm) or _finite(self.angles_deg)

    def skeleton_only(self) -> HandPose:
        """The same hand without what a skinned mesh needs (joints kept; the view computes them if absent)."""
        return replace(self, angles_deg=None, vertices_mm=None, faces=None) if _finite(self.joints_mm) else self


@dataclass
class HandSlot:
    """One hand of a scene.

    Attributes
    ----------
    name : str
    colour : tuple (r, g, b, a), 0..1
    label : str
        What the legend calls it.
    visible : bool
        Shown (the user's choice); a hidden slot keeps its pose.
    pose : HandPose or None
        What to draw; None (or a pose without data) draws nothing.
    generation : int
        The scene's generation of this slot's last change.
    """

    name: str
    colour: tuple
    label: str
    visible: bool = True
    pose: HandPose | None = None
    generation: int = 0

    @property
    def has_data(self) -> bool:
        """The slot holds a drawable pose."""
        return self.pose is not None and self.pose.has_data

    @property
    def drawn(self) -> bool:
        """The slot is drawn: visible with a drawable pose."""
        return self.visible and self.has_data


@dataclass(frozen=True)
class SceneChange:
    """What changed, as one notification to the observers.

    Attributes
    ----------
    generation : int
        The scene's generation after the change.
    slots : frozenset of str
        Slots whose pose, visibility, label or existence changed.
    layout : bool
        The layout (or the set of drawn hands) changed: places must be recomputed.
    draw_now : bool
        Paint at once (a live pose whose latency counts) rather than at the next event-loop pass.
    """

    generation: int
    slots: frozenset = field(default_factory=frozenset)
    layout: bool = False
    draw_now: bool = False


class HandScene:
    """The hands to show and their layout, with observers.

    Parameters
    ----------
    slots : dict[str, colour] or iterable of str, optional
        Slots to create at once (default :data:`DEFAULT_SLOTS` in their :data:`DEFAULT_COLOURS`).

    Attributes
    ----------
    layout : {"overlay", "side_by_side"}
    generation : int
        Grows by one per change.
    """

    def __init__(self, slots: dict | Iterable[str] | None = None) -> None:
        self.layout = "overlay"
        self.generation = 0
        self._slots: dict[str, HandSlot] = {}
        self._observers: list[Callable[[SceneChange], None]] = []
        self._batch: dict | None = None
        if slots is None:
            slots = {name: DEFAULT_COLOURS[name] for name in DEFAULT_SLOTS}
        items = slots.items() if isinstance(slots, dict) else ((name, None) for name in slots)
        for name, colour in items:
            self._add(name, colour)
        self.generation = 0

    # ------------------------------------------------------------------ observers
    def connect(self, callback: Callable[[SceneChange], None]) -> None:
        """Call ``callback(SceneChange)`` after every change (or batch of changes)."""
        if callback not in self._observers:
            self._observers.append(callback)

    def disconnect(self, callback: Callable[[SceneChange], None]) -> None:
        """Stop notifying ``callback`` (no error when it was not connected)."""
        if callback in self._observers:
            self._observers.remove(callback)

    @contextmanager
    def batch(self, draw_now: bool = False) -> Iterator[HandScene]:
        """Changes inside the block reach the observers as one :class:`SceneChange` at its end.

        ``draw_now`` asks the views to paint the result at once.  Batches nest (the outermost one notifies).
        """
        outer = self._batch is None
        if self._batch is None:
            self._batch = {"slots": set(), "layout": False, "draw_now": False, "changed": False}
        self._batch["draw_now"] |= draw_now
        try:
            yield self
        finally:
            if outer:
                b, self._batch = self._batch, None
                if b is not None and b["changed"]:
                    self._notify(SceneChange(self.generation, frozenset(b["slots"]), b["layout"], b["draw_now"]))

    def _changed(self, slots=(), layout: bool = False) -> int:
        self.generation += 1
        for name in slots:
            self._slots[name].generation = self.generation
        if self._batch is not None:
            self._batch["slots"].update(slots)
            self._batch["layout"] |= layout
            self._batch["changed"] = True
        else:
            self._notify(SceneChange(self.generation, frozenset(slots), layout))
        return self.generation

    def _notify(self, change: SceneChange) -> None:
        for cb in list(self._observers):
            cb(change)

    # ------------------------------------------------------------------ slots
    def _add(self, name: str, colour=None) -> HandSlot:
        if colour is None:
            colour = DEFAULT_COLOURS.get(name, _EXTRA[len(self._slots) % len(_EXTRA)])
        s = HandSlot(name, tuple(float(c) for c in colour), SLOT_LABELS.get(name, name))
        self._slots[name] = s
        return s

    def slot(self, name: str) -> HandSlot:
        """The slot ``name``, created (with its default colour, empty) on first use."""
        s = self._slots.get(name)
        if s is None:
            s = self._add(name)
            self._changed([name])
        return s

    @property
    def slots(self) -> dict[str, HandSlot]:
        """Every slot, in creation order (a copy of the mapping; the slots themselves are live)."""
        return dict(self._slots)

    def __getitem__(self, name: str) -> HandSlot:
        return self._slots[name]

    def __contains__(self, name: str) -> bool:
        return name in self._slots

    # ------------------------------------------------------------------ changes
    def show(self, slot: str, pose: HandPose | None) -> int:
        """Draw ``pose`` in ``slot`` (None, or a pose without data, draws nothing there).

        Returns
        -------
        int
            The scene's generation after the change (compare with what a view says it painted).
        """
        s = self.slot(slot)
        had = s.drawn
        s.pose = pose
        return self._changed([slot], layout=s.drawn != had)

    def set_pose(self, slot: str, joints_mm: np.ndarray | None = None, angles_deg: np.ndarray | None = None,
                 model=None, side: str = "right", vertices_mm: np.ndarray | None = None,
                 faces: np.ndarray | None = None, bone_scale: np.ndarray | None = None) -> int:
        """:meth:`show` a :class:`HandPose` made of these fields (see there); passing nothing clears the slot."""
        return self.show(slot, HandPose(joints_mm, angles_deg, model, side, vertices_mm, faces, bone_scale))

    def clear(self, slot: str) -> int:
        """Draw nothing in ``slot`` (an unknown slot is left alone)."""
        if slot not in self._slots or self._slots[slot].pose is None:
            return self.generation
        return self.show(slot, None)

    def set_visible(self, slot: str, visible: bool) -> int:
        """Show or hide a slot (it keeps its pose)."""
        s = self.slot(slot)
        if s.visible == bool(visible):
            return self.generation
        had = s.drawn
        s.visible = bool(visible)
        return self._changed([slot], layout=s.drawn != had)

    def set_label(self, slot: str, label: str) -> int:
        """Name a slot in the legend (e.g. ``"reference"`` -> "recorded finger angles")."""
        s = self.slot(slot)
        s.label = str(label)
        return self._changed([slot])

    def set_layout(self, layout: str) -> int:
        """``"overlay"`` (all hands in one place, a target beside them) or ``"side_by_side"`` (one place each).

        Raises
        ------
        ValueError
            Another layout name.
        """
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be 'overlay' or 'side_by_side', got {layout!r}")
        if layout == self.layout:
            return self.generation
        self.layout = layout
        return self._changed(layout=True)

    # ------------------------------------------------------------------ queries
    def groups(self) -> list[list[str]]:
        """The drawn slots grouped by place, first place first (each group shares one place)."""
        drawn = [name for name, s in self._slots.items() if s.drawn]
        if self.layout == "side_by_side":
            return [[name] for name in drawn]
        main = [name for name in drawn if name not in BESIDE_SLOTS]
        return ([main] if main else []) + [[name] for name in drawn if name in BESIDE_SLOTS]

    def legend_entries(self) -> list[tuple[str, str, str]]:
        """``(slot, label, colour "#rrggbb")`` of each hand drawn now, in place order (what a legend shows)."""
        out = []
        for group in self.groups():
            for name in group:
                s = self._slots[name]
                rgb = np.clip(np.asarray(s.colour[:3]) * 255, 0, 255).round().astype(int)
                out.append((name, s.label, "#{:02x}{:02x}{:02x}".format(*rgb)))
        return out


__all__ = ["BESIDE_SLOTS", "DEFAULT_COLOURS", "DEFAULT_SLOTS", "LAYOUTS", "SLOT_LABELS", "HandPose", "HandScene",
           "HandSlot", "SceneChange"]
