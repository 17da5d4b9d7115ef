"""The hand model the app uses: the numpy kinematic chain over the built-in WebXR hand, with its torch twin.

Three rooms, one object:

* :mod:`asha_app.pose.gltf` reads the skinned mesh and its 25 WebXR joints from a ``.glb`` file;
* :mod:`asha_app.pose.chain` builds Asha's 22-angle chain on it in numpy (limits, forward
  kinematics, skinning; the chain, the angle convention and the hand frame are described there);
* :mod:`asha_app.pose.hand_torch` is the batched, differentiable torch twin of the same chain.

:class:`HandModel` is the chain with the torch twin as methods (:meth:`~HandModel.fk_nodes`,
:meth:`~HandModel.forward`, :meth:`~HandModel.skin`) and the bundled hands
(:meth:`HandModel.builtin`).  Importing it does not import torch; the twin loads on first use.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from asha_app.core.paths import resource
from asha_app.pose.chain import HandChain
from asha_app.pose.gltf import load_glb

if TYPE_CHECKING:
    import numpy as np
    import torch


class HandModel(HandChain):
    """A right or left hand: the numpy chain (:class:`~asha_app.pose.chain.HandChain`) plus its torch twin.

    Build one with :meth:`builtin` (or :meth:`from_glb`).  Attributes, limits and the numpy
    methods (``fk_nodes_np``, ``forward_np``, ``skin_np``, ``angles_from_finger_flexion``,
    ``clamp_deg``) are the chain's.
    """

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_glb(cls, path: str | Path, side: str) -> HandModel:
        """Build a hand from a WebXR hand glb file (see :func:`asha_app.pose.gltf.load_glb`)."""
        return cls(load_glb(path), side)

    @classmethod
    def builtin(cls, side: str = "right") -> HandModel:
        """The bundled WebXR generic hand (``resources/hand_model/<side>.glb``), cached per side."""
        if side not in _BUILTIN:
            if side not in ("right", "left"):
                raise ValueError(f"side must be 'right' or 'left', got {side!r}")
            _BUILTIN[side] = cls.from_glb(resource("hand_model", f"{side}.glb"), side)
        return _BUILTIN[side]

    # ------------------------------------------------------------------ torch twin
    def fk_nodes(self, angles_rad: torch.Tensor, global_rot: torch.Tensor | None = None,
                 bone_scale: torch.Tensor | None = None, *, rot_matrix: torch.Tensor | None = None,
                 offsets_mm: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Batched forward kinematics of the 25 nodes in torch: see :func:`asha_app.pose.hand_torch.fk_nodes`."""
        from asha_app.pose import hand_torch  # noqa: PLC0415 - torch only when the twin is used

        return hand_torch.fk_nodes(self, angles_rad, global_rot, bone_scale, rot_matrix=rot_matrix,
                                   offsets_mm=offsets_mm)

    def forward(self, angles_rad: torch.Tensor, global_rot: torch.Tensor | None = None,
                bone_scale: torch.Tensor | None = None, translation: torch.Tensor | None = None) -> torch.Tensor:
        """The 21 landmarks (B, 21, 3), mm, batched and differentiable: see :func:`asha_app.pose.hand_torch.landmarks`."""
        from asha_app.pose import hand_torch  # noqa: PLC0415 - torch only when the twin is used

        return hand_torch.landmarks(self, angles_rad, global_rot, bone_scale, translation)

    __call__ = forward

    def skin(self, angles_rad: torch.Tensor, global_rot: torch.Tensor | None = None,
             bone_scale: torch.Tensor | None = None) -> tuple[torch.Tensor, np.ndarray]:
        """Linear blend skinning in torch, ``(vertices (B, V, 3), faces)``: see :func:`asha_app.pose.hand_torch.skin`."""
        from asha_app.pose import hand_torch  # noqa: PLC0415 - torch only when the twin is used

        return hand_torch.skin(self, angles_rad, global_rot, bone_scale)


_BUILTIN: dict[str, HandModel] = {}
