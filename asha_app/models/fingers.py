"""Group pose targets by finger, name their units, and reduce them to one trace per finger (Qt-free).

Reports show figures per finger (thumb, index, middle, ring, little) in named
units instead of one figure per target (63 joint coordinates, 22 joint
angles).  The target names of every kind the app trains on are understood:

* ``joint_angles``: the hand model's degrees of freedom
  (:attr:`asha_app.pose.hand_model.HandModel.dof_names`, e.g.
  ``thumb_cmc_flexion``, ``index_mcp_abduction``, ``ring_cmc_flexion``), degrees;
* ``joints_mm``: the 21 hand-frame joints flattened, named like
  ``index_pip_x_mm`` (:func:`asha_app.data.labels.joint_target_names`: the hand
  model's landmark names; checkpoints from before the rename say ``pinky_`` for
  ``little_``, and both group as ``little``), millimetres;
* ``targets``: imported targets, either the 5 finger flexions named
  ``thumb`` .. ``little`` (degrees) or NinaPro data-glove channels
  ``glove_1`` .. ``glove_22`` (the glove's raw sensor units, no finger mapping).

A name belongs to a finger when its first word (split on ``_``, ``-``, ``.``,
space) is a finger name (``pinky`` is ``little``); names starting with
``wrist`` form the ``"wrist"`` group; every other name goes to ``"other"``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from asha_app.pose.contract import FINGERS  # the five fingers, in the order every report shows them

#: groups that are not fingers, shown after them when present
WRIST, OTHER = "wrist", "other"
_ALIASES = {"thumb": "thumb", "index": "index", "middle": "middle", "ring": "ring", "little": "little",
            "pinky": "little", "wrist": WRIST}
#: MediaPipe joint index of each fingertip (joints_mm targets: 21 x 3 values, joint-major)
_TIP = {"thumb": 4, "index": 8, "middle": 12, "ring": 16, "little": 20}


def finger_of(name: str) -> str:
    """The group of one target name: a finger in :data:`FINGERS`, ``"wrist"`` or ``"other"``.

    Examples
    --------
    >>> finger_of("index_mcp_abduction"), finger_of("pinky_tip_x_mm"), finger_of("wrist_y_mm"), finger_of("glove_3")
    ('index', 'little', 'wrist', 'other')
    """
    first = re.split(r"[_\-.\s]+", str(name).strip().lower(), maxsplit=1)[0]
    return _ALIASES.get(first, OTHER)


def group_by_finger(names: Sequence[str]) -> dict[str, list[int]]:
    """Column indices of ``names`` per group, fingers first (thumb..little), then ``wrist``, then ``other``.

    Parameters
    ----------
    names : sequence of str
        Target names, in column order.

    Returns
    -------
    dict
        ``{group: [column indices]}`` with only the groups that have targets,
        in the order of :data:`FINGERS` followed by ``"wrist"`` and ``"other"``.
    """
    groups: dict[str, list[int]] = {g: [] for g in (*FINGERS, WRIST, OTHER)}
    for i, n in enumerate(names):
        groups[finger_of(n)].append(i)
    return {g: idx for g, idx in groups.items() if idx}


def has_fingers(names: Sequence[str]) -> bool:
    """True when at least one target belongs to a finger (else reports show figures per target)."""
    return any(finger_of(n) in FINGERS for n in names)


def target_unit(name: str, kind: str) -> str:
    """Unit of one target: ``"mm"`` (joints), ``"deg"`` (angles, finger flexion) or ``"glove units"``/``"target units"``.

    Parameters
    ----------
    name : str
        Target name.
    kind : {"joints_mm", "joint_angles", "targets"}
        The target kind of the data set.
    """
    if kind == "joints_mm" or str(name).endswith("_mm"):
        return "mm"
    if kind == "joint_angles" or str(name).endswith("_deg"):
        return "deg"
    n = str(name).strip().lower()
    if n in FINGERS or n == "pinky":
        return "deg"  # the paired Myo/MediaPipe finger flexion angles
    if n.startswith("glove"):
        return "glove units"  # NinaPro CyberGlove channels as recorded
    return "target units"


def units_of(names: Sequence[str], kind: str) -> str:
    """The one unit of a target set (see :func:`target_unit`), or ``"mixed units"`` when they differ."""
    units = {target_unit(n, kind) for n in names}
    return units.pop() if len(units) == 1 else "mixed units"


def finger_traces(y: np.ndarray, names: Sequence[str], kind: str) -> tuple[dict[str, np.ndarray], str, str]:
    """One scalar trace per finger from a target matrix, for plots of predicted vs true.

    Parameters
    ----------
    y : array (N, T)
        Targets in their units, columns named by ``names``.
    names : sequence of str
    kind : {"joints_mm", "joint_angles", "targets"}

    Returns
    -------
    traces : dict
        ``{finger: array (N,)}`` for the fingers present, thumb..little.
        ``joints_mm``: fingertip distance from the wrist (mm; a curling
        finger comes closer); ``joint_angles``: summed flexion of the
        finger's joints (deg; abduction left out); 5 flexion targets: the
        flexion itself.  Without finger names (e.g. glove channels): the first
        five targets, by name.
    quantity : str
        What the traces are, for an axis title (e.g. ``"summed flexion"``).
    unit : str
        Their unit.
    """
    y = np.asarray(y, np.float64)
    names = list(names)
    groups = group_by_finger(names)
    if kind == "joints_mm" and len(names) == 63:
        j = y.reshape(len(y), 21, 3)
        return ({f: np.linalg.norm(j[:, _TIP[f]] - j[:, 0], axis=-1) for f in FINGERS},
                "fingertip to wrist", "mm")
    if not has_fingers(names):
        return {n: y[:, i] for i, n in enumerate(names[:5])}, "target", units_of(names, kind)
    out = {}
    flex = any(n.endswith("_flexion") for n in names)
    for f in FINGERS:
        idx = groups.get(f, [])
        if flex:
            idx = [i for i in idx if names[i].endswith("_flexion")]
        if idx:
            out[f] = y[:, idx].sum(1) if len(idx) > 1 else y[:, idx[0]]
    quantity = "summed flexion" if flex else "flexion" if all(n.lower() in FINGERS for n in names) else "target"
    return out, quantity, units_of([names[groups[f][0]] for f in out], kind)
