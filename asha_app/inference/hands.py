"""Model outputs as drawable hands, for the live view (Qt-free; computed in the inference worker).

:class:`LiveHands` turns one model output (target units) into a
:class:`~asha_app.pose.scene.HandPose`: the hand-model joint angles through the
pose contract's :class:`~asha_app.pose.contract.HandMapper`, the 21 joints by
forward kinematics with the person's bone scale, and the inputs the view's
skinning needs (angles, hand model, bone scale).  For the live demo it also
gives the recorded reference hand at a file sample (package number).  The live
controller only forwards these poses to the scene; nothing here runs on the GUI
thread.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from asha_app.pose.contract import HandMapper, check_drives_hand
from asha_app.pose.scene import HandPose


def bone_scale_from_lengths(hand_model, bone_lengths_mm: Sequence[float] | None) -> np.ndarray | None:
    """Per-bone scale (20,) of a person's bone lengths (mm) over the hand model's, None when unknown or mismatched."""
    if not bone_lengths_mm or len(bone_lengths_mm) != len(hand_model.bone_lengths_mm):
        return None
    return np.asarray(bone_lengths_mm, float) / hand_model.bone_lengths_mm


class LiveHands:
    """Pose -> hand (and the live demo's reference hand) for one live stream.

    Parameters
    ----------
    mapper : HandMapper
        The model's mapping onto the hand model (not thread-safe: one per stream).
    bone_scale : float array (20,), optional
        The person's bone scale (calibration profile); None draws the model's own bones.
    reference : object with ``reference_at(package) -> array (5,) or None``, optional
        The recorded finger flexions (deg) of the live demo (:class:`~asha_app.inference.live_demo.DemoAssets`).
    """

    def __init__(self, mapper: HandMapper, bone_scale: np.ndarray | None = None, reference=None) -> None:
        self.mapper = mapper
        self.hand_model = mapper.hand_model
        self.bone_scale = None if bone_scale is None else np.asarray(bone_scale, float)
        self.reference = reference

    @classmethod
    def for_checkpoint(cls, ckpt, hand_model=None, bone_lengths_mm: Sequence[float] | None = None,
                       reference=None) -> LiveHands:
        """The hands of a checkpoint's outputs.

        Parameters
        ----------
        ckpt : Checkpoint
            Anything with ``target_kind`` and ``target_names``.
        hand_model : HandModel, optional
            Default: the built-in right hand.
        bone_lengths_mm : list of float (20,), optional
            The person's bone lengths (a profile's ``bone_lengths_mm``).
        reference : DemoAssets, optional
            See the class.

        Raises
        ------
        PoseContractError
            The model's targets cannot drive the hand model (the message says why and what to pick instead).
        """
        mapper = check_drives_hand(ckpt, hand_model)
        return cls(mapper, bone_scale_from_lengths(mapper.hand_model, bone_lengths_mm), reference)

    @property
    def side(self) -> str:
        return str(getattr(self.hand_model, "side", "right"))

    def hand(self, pose: np.ndarray) -> HandPose | None:
        """The hand of one model output (target units), None when the output is not finite."""
        angles, joints = self.mapper.hand(pose, self.bone_scale)
        if angles is None:
            return None
        return HandPose(joints_mm=joints, angles_deg=angles, model=self.hand_model, side=self.side,
                        bone_scale=self.bone_scale)

    def reference_hand(self, package: float) -> HandPose | None:
        """The recorded reference hand at a demo file sample (its own bones), None without one there."""
        ref = self.reference.reference_at(package) if self.reference is not None else None
        if ref is None:
            return None
        hm = self.hand_model
        a = hm.angles_from_finger_flexion(ref)
        return HandPose(joints_mm=hm.forward_np(a), angles_deg=a, model=hm, side=self.side)
