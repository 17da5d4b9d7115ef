"""The pose contract: one pose representation from camera labels to the live hand.

**Canonical pose: hand-model joint angles** (``target_kind = "joint_angles"``),
degrees, one value per degree of freedom of the built-in hand model in the order
of :attr:`asha_app.pose.hand_model.HandModel.dof_names` (22 angles: MCP
flexion/abduction, PIP and DIP flexion of the four fingers, two-axis thumb CMC,
thumb MCP and IP, ring and little CMC).  The inverse-kinematics fit of every camera
frame produces them (:class:`asha_app.pose.ik.IKResult`), recordings store them
(``/labels/joint_angles``), training picks them by default (``--target auto``),
calibration fine-tunes models that predict them, profiles carry such models, and
the live view drives the 3D hand with them.  The 21 joints in millimetres used for
MPJPE and PCK are derived from them by forward kinematics
(:meth:`~asha_app.pose.hand_model.HandModel.forward`).

Other target kinds still exist, and map onto the canonical pose where a mapping
is known (:func:`hand_mapper`):

==================  =====================================================  ============================
kind                what it is                                             onto the hand model
==================  =====================================================  ============================
``joint_angles``    hand-model angles (deg), any subset of ``dof_names``   by name; absent ones at rest
``targets``         5 finger flexions thumb..little (deg, 180 = straight)  ``angles_from_finger_flexion``
                    (the paired Myo + MediaPipe set)
``joints_mm``       21 hand-frame joints (63 values, mm)                   inverse kinematics per pose
``targets``         NinaPro CyberGlove channels (device units), others     none: evaluation only
``joint_angles``    emg2pose's 20 angles under its own names               none: evaluation only
==================  =====================================================  ============================

A model whose targets have no mapping can be trained and evaluated, but the app
refuses it where a live hand is asked of it (calibration base model, Load
profile, live view) with :class:`PoseContractError`, whose message says why and
what to pick instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from asha_app.core.errors import AshaError
from asha_app.pose.chain import FINGERS  # thumb..little (MediaPipe says "pinky" where Asha says "little")

#: the canonical target kind (hand-model joint angles, degrees)
CANONICAL_KIND = "joint_angles"
#: the order in which ``select_targets(kind="auto")`` looks for labels
AUTO_ORDER = ("joint_angles", "targets", "joints_mm")

_WHAT_TO_DO = ("Train a model on sessions recorded with the camera on (Model → Train or fine-tune…, the default "
               "target is the hand model's joint angles), or calibrate without a base model.")


class PoseContractError(AshaError):
    """A model's targets cannot drive the hand model (the message says why and what to pick instead)."""


def normalise_name(name: str) -> str:
    """A target name in the hand model's vocabulary (lower case, ``pinky`` -> ``little``)."""
    return str(name).strip().lower().replace("pinky", "little")


def is_finger_flexion(names: Sequence[str]) -> bool:
    """True for the 5 per-finger flexion targets thumb..little (degrees, 180 = straight)."""
    return [normalise_name(n) for n in names] == list(FINGERS)


def describe_targets(kind: str, names: Sequence[str]) -> str:
    """A short phrase for what a model predicts, e.g. ``"22 hand-model joint angles (deg)"``."""
    n = len(names)
    if is_finger_flexion(names):
        return "5 finger flexion angles (deg)"
    if kind == "joint_angles":
        return f"{n} joint angles (deg)"
    if kind == "joints_mm":
        return f"{n // 3} joint positions (mm)"
    if names and all(normalise_name(x).startswith("glove_") for x in names):
        return f"{n} data-glove channels (device units)"
    return f"{n} imported targets ({', '.join(list(names)[:3])}{'…' if n > 3 else ''})"


class HandMapper:
    """Maps one model output (target units) to hand-model joint angles (deg); callable.

    Build it with :func:`hand_mapper`.  Stateless except for the ``joints_mm`` kind,
    whose inverse kinematics is warm-started from the previous pose: use one mapper
    per stream (it is not thread-safe; the inference worker owns its own).

    Attributes
    ----------
    kind : str
        ``"angles"`` (by name), ``"flexion"`` (5 finger flexions) or ``"ik"`` (joints).
    description : str
        What the model predicts, in words.
    """

    def __init__(self, hand_model, kind: str, description: str, index: np.ndarray | None = None) -> None:
        self.hand_model = hand_model
        self.kind = kind
        self.description = description
        self._index = index
        self._ik = None

    def angles(self, pose: np.ndarray) -> np.ndarray:
        """Joint angles of one pose.

        Parameters
        ----------
        pose : array (n_targets,)
            One model output in target units.

        Returns
        -------
        float64 array (n_dof,)
            Hand-model joint angles, degrees, order ``dof_names``, clipped into the limits.
            NaN everywhere when the pose is not finite (the caller skips it).
        """
        hm = self.hand_model
        p = np.asarray(pose, dtype=np.float64).reshape(-1)
        if not np.all(np.isfinite(p)):
            return np.full(hm.n_dof, np.nan)
        if self.kind == "flexion":
            return hm.angles_from_finger_flexion(p)
        if self.kind == "angles":
            a = np.asarray(hm.rest_deg, dtype=np.float64).copy()
            a[self._index] = p
            return hm.clamp_deg(a)
        if self._ik is None:
            from asha_app.pose.ik import IKSolver

            self._ik = IKSolver(hm, calib_frames=0, calibrate_palm=False, fit_global_scale=False)
        res = self._ik.solve(p.reshape(21, 3))
        return np.asarray(res.angles_deg, dtype=np.float64)

    __call__ = angles

    def angles_batch(self, poses: np.ndarray) -> np.ndarray:
        """Joint angles (N, n_dof), degrees, of poses (N, n_targets) (IK poses are fitted in order)."""
        p = np.asarray(poses, dtype=np.float64)
        hm = self.hand_model
        if self.kind == "flexion":
            return np.atleast_2d(hm.angles_from_finger_flexion(p))
        if self.kind == "angles":
            a = np.tile(np.asarray(hm.rest_deg, dtype=np.float64), (len(p), 1))
            a[:, self._index] = p
            return hm.clamp_deg(a)
        return np.stack([self.angles(x) for x in p]) if len(p) else np.zeros((0, self.hand_model.n_dof))

    def hand(self, pose: np.ndarray, bone_scale: np.ndarray | None = None):
        """Joint angles and 21 hand-frame joints of one pose, for the 3D view.

        Parameters
        ----------
        pose : array (n_targets,)
            One model output in target units.
        bone_scale : float array (20,), optional
            The person's bone scales (from the IK calibration).

        Returns
        -------
        (angles_deg (n_dof,), joints_mm (21, 3)) or (None, None) when the pose is not finite.
        """
        a = self.angles(pose)
        if not np.all(np.isfinite(a)):
            return None, None
        return a, self.hand_model.forward_np(a, bone_scale)

    def joints_mm(self, poses: np.ndarray, bone_scale: np.ndarray | None = None) -> np.ndarray:
        """21 hand-frame joints (N, 21, 3), mm, of poses (N, n_targets), by forward kinematics."""
        return np.asarray(self.hand_model.forward_np(self.angles_batch(poses), bone_scale), dtype=np.float64)


def finger_flexion_deg(angles_deg: np.ndarray, dof_names: Sequence[str]) -> np.ndarray:
    """Total flexion per finger (thumb..little), degrees, 0 = straight: the sum of the finger's flexion angles.

    Parameters
    ----------
    angles_deg : array (..., n_dof)
        Hand-model joint angles, degrees.
    dof_names : list of str
        Their names (``HandModel.dof_names``); CMC flexion of the ring and little
        fingers (palm cupping) is not counted.

    Returns
    -------
    float64 array (..., 5)
    """
    a = np.asarray(angles_deg, dtype=np.float64)
    names = [normalise_name(n) for n in dof_names]
    cols = [[i for i, n in enumerate(names) if n.startswith(f + "_") and n.endswith("_flexion")
             and (f == "thumb" or "_cmc_" not in n)] for f in FINGERS]
    return np.stack([a[..., c].sum(-1) for c in cols], axis=-1)


def hand_mapper(target_kind: str, target_names: Sequence[str], hand_model=None) -> HandMapper:
    """The mapping of a model's outputs onto the hand model, or a refusal that says why.

    Parameters
    ----------
    target_kind : {"joint_angles", "targets", "joints_mm"}
        The checkpoint's ``target_kind``.
    target_names : list of str
        The checkpoint's target names.
    hand_model : HandModel, optional
        Default: the built-in right hand.

    Returns
    -------
    HandMapper

    Raises
    ------
    PoseContractError
        The targets have no mapping onto the hand model (data-glove channels,
        angles under foreign names, an unknown kind).
    """
    if hand_model is None:
        from asha_app.pose.hand_model import HandModel

        hand_model = HandModel.builtin("right")
    names = [normalise_name(n) for n in target_names]
    what = describe_targets(target_kind, target_names)
    if is_finger_flexion(names):
        return HandMapper(hand_model, "flexion", what)
    if target_kind == "joint_angles":
        dofs = list(hand_model.dof_names)
        unknown = [n for n in names if n not in dofs]
        if names and not unknown and len(set(names)) == len(names):
            return HandMapper(hand_model, "angles", what, np.asarray([dofs.index(n) for n in names]))
        raise PoseContractError(
            f"This model predicts {what} under names the hand model does not have ({', '.join(unknown[:4])}"
            f"{'…' if len(unknown) > 4 else ''}), so it cannot drive the 3D hand. {_WHAT_TO_DO}")
    if target_kind == "joints_mm":
        if len(names) == 63:
            return HandMapper(hand_model, "ik", what)
        raise PoseContractError(f"This model predicts {len(names)} joint coordinates; the hand needs 21 joints × 3. "
                                + _WHAT_TO_DO)
    raise PoseContractError(f"This model predicts {what}, which have no mapping onto the hand model's joints, so it "
                            f"can be evaluated but cannot drive the 3D hand. {_WHAT_TO_DO}")


def check_drives_hand(ckpt, hand_model=None) -> HandMapper:
    """:func:`hand_mapper` of a checkpoint (anything with ``target_kind`` and ``target_names``)."""
    return hand_mapper(ckpt.target_kind, ckpt.target_names, hand_model)
