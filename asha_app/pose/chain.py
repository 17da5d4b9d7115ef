"""Articulated hand: a kinematic chain with anatomical limits over the WebXR glTF hand mesh.

The built-in hand comes from ``resources/hand_model/{right,left}.glb`` (WebXR
generic hand, MIT; see the README there).  The glTF file stores a skinned mesh
and 25 joints named after the WebXR Hand Input spec, but no joint axes or
limits.  This module defines Asha's own chain on top of it:

* 22 degrees of freedom (``HandModel.dof_names``): per finger MCP flexion and
  abduction, PIP and DIP flexion; thumb CMC flexion and (palmar) abduction,
  thumb MCP and IP flexion (the 20 angles of emg2pose's hand), plus flexion of
  the ring and little carpometacarpal joints that lets the palm cup.
* joint axes derived from the rest geometry of the mesh (palm normal, bone
  directions, and the WebXR joint frames whose +Y points out of the back of
  each digit);
* anatomical limits in degrees (values and sources in ``docs/hand_model.md``).

Angles are anatomical: 0 is a straight finger (each phalanx collinear with the
one before it when seen along its flexion axis), positive is flexion towards
the palm; abduction is positive away from the middle finger (radial for the
middle finger); thumb CMC angles are 0 at the mesh's rest pose.

Coordinates: millimetres in the **hand frame**: origin at the wrist landmark,
+y towards the middle-finger MCP, +x towards the index side (radial) in the
palm plane, +z = x cross y.  The frame is right-handed for both hands, so +z
is the palmar normal (out of the palm) for the right hand and the dorsal normal
for the left hand.  A global rotation maps the hand frame into the camera
(world) frame; wrist flexion/deviation are not separate angles because the 21
landmarks contain no forearm point to observe them: they are part of the global
rotation.

Joints follow MediaPipe's 21-landmark order: 0 wrist; thumb 1 CMC, 2 MCP,
3 IP, 4 tip; index 5 MCP, 6 PIP, 7 DIP, 8 tip; middle 9-12; ring 13-16;
little 17-20.
"""

from __future__ import annotations

import numpy as np

from asha_app.pose.gltf import GlbHand

# MediaPipe names of the 21 landmarks (index = landmark id)
LANDMARK_NAMES: list[str] = [
    "wrist",
    "thumb_cmc", "thumb_mcp", "thumb_ip", "thumb_tip",
    "index_mcp", "index_pip", "index_dip", "index_tip",
    "middle_mcp", "middle_pip", "middle_dip", "middle_tip",
    "ring_mcp", "ring_pip", "ring_dip", "ring_tip",
    "little_mcp", "little_pip", "little_dip", "little_tip",
]  # fmt: skip

#: parent landmark of each landmark (-1 for the wrist): MediaPipe's HAND_CONNECTIONS as a tree
LANDMARK_PARENTS: np.ndarray = np.array([-1, 0, 1, 2, 3, 0, 5, 6, 7, 0, 9, 10, 11, 0, 13, 14, 15, 0, 17, 18, 19])

#: drawing connections (pairs of landmark ids): the tree plus the palm arch, as MediaPipe draws it
HAND_CONNECTIONS: list[tuple[int, int]] = [(int(p), c) for c, p in enumerate(LANDMARK_PARENTS) if p >= 0] + [
    (5, 9), (9, 13), (13, 17),
]  # fmt: skip

#: the five fingers, thumb to little: the order of every per-finger list in Asha
FINGERS = ("thumb", "index", "middle", "ring", "little")
_WEBXR_FINGER = {"index": "index", "middle": "middle", "ring": "ring", "little": "pinky"}

#: anatomical limits in degrees (lower, upper); sources and reasoning in docs/hand_model.md
DEFAULT_LIMITS_DEG: dict[str, tuple[float, float]] = {
    "thumb_cmc_flexion": (-25.0, 50.0),
    "thumb_cmc_abduction": (-25.0, 60.0),
    "thumb_mcp_flexion": (-20.0, 70.0),
    "thumb_ip_flexion": (-25.0, 90.0),
    "index_mcp_flexion": (-35.0, 95.0),
    "index_mcp_abduction": (-20.0, 30.0),
    "index_pip_flexion": (-10.0, 115.0),
    "index_dip_flexion": (-20.0, 90.0),
    "middle_mcp_flexion": (-35.0, 95.0),
    "middle_mcp_abduction": (-25.0, 25.0),
    "middle_pip_flexion": (-10.0, 115.0),
    "middle_dip_flexion": (-20.0, 90.0),
    "ring_mcp_flexion": (-35.0, 100.0),
    "ring_mcp_abduction": (-20.0, 30.0),
    "ring_pip_flexion": (-10.0, 115.0),
    "ring_dip_flexion": (-20.0, 90.0),
    "little_mcp_flexion": (-35.0, 100.0),
    "little_mcp_abduction": (-20.0, 40.0),
    "little_pip_flexion": (-10.0, 115.0),
    "little_dip_flexion": (-20.0, 90.0),
    "ring_cmc_flexion": (-5.0, 15.0),
    "little_cmc_flexion": (-5.0, 25.0),
}

#: how a finger's total flexion is shared by its joints (see angles_from_finger_flexion)
FLEXION_SHARE: dict[str, dict[str, float]] = {
    "thumb": {"thumb_cmc_flexion": 0.2, "thumb_mcp_flexion": 0.4, "thumb_ip_flexion": 0.4},
    **{f: {f"{f}_mcp_flexion": 0.375, f"{f}_pip_flexion": 0.375, f"{f}_dip_flexion": 0.25} for f in FINGERS[1:]},
}


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def _orth(v: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Unit component of ``v`` orthogonal to unit ``d``."""
    return _unit(v - (v @ d) * d)


def _signed_angle(u: np.ndarray, v: np.ndarray, axis: np.ndarray) -> float:
    """Angle (rad) rotating ``u`` to ``v`` about ``axis``, both projected onto the plane normal to it."""
    u = u - (u @ axis) * axis
    v = v - (v @ axis) * axis
    return float(np.arctan2(axis @ np.cross(u, v), u @ v))


def _np_skew(v: np.ndarray) -> np.ndarray:
    out = np.zeros(v.shape[:-1] + (3, 3))
    out[..., 0, 1], out[..., 0, 2] = -v[..., 2], v[..., 1]
    out[..., 1, 0], out[..., 1, 2] = v[..., 2], -v[..., 0]
    out[..., 2, 0], out[..., 2, 1] = -v[..., 1], v[..., 0]
    return out


def matrix_to_axis_angle(R: np.ndarray) -> np.ndarray:
    """Rotation matrices ``(..., 3, 3)`` -> axis-angle ``(..., 3)`` (rad), via scipy."""
    from scipy.spatial.transform import Rotation

    R = np.asarray(R, dtype=np.float64)
    return Rotation.from_matrix(R.reshape(-1, 3, 3)).as_rotvec().reshape(*R.shape[:-2], 3)


class HandChain:
    """A right or left hand in numpy: kinematic chain, limits, forward kinematics and skinning.

    Built from the content of a glb (:class:`~asha_app.pose.gltf.GlbHand`); the app uses
    :class:`asha_app.pose.hand_model.HandModel` (this chain plus its torch twin and the
    built-in hands).  All arrays describing the chain are in the hand frame, millimetres
    (see the module docstring).

    Parameters
    ----------
    glb : GlbHand
        The mesh and its 25 WebXR joints in the rest pose.
    side : {"right", "left"}
    limits_deg : dict, optional
        ``{dof name: (lower, upper)}`` replacing entries of :data:`DEFAULT_LIMITS_DEG`.

    Raises
    ------
    ValueError
        Unknown side, or a rest pose outside the limits.

    Attributes
    ----------
    side : str
        ``"right"`` or ``"left"``.
    dof_names : list[str]
        Names of the ``n_dof`` joint angles, in the order of every angle vector.
    lower_deg, upper_deg : float64 (n_dof,)
        Anatomical limits in degrees.
    rest_deg : float64 (n_dof,)
        Angles of the mesh's rest pose (the glb bind pose) in degrees.
    node_names : list[str]
        The 25 WebXR joints of the chain (21 landmarks + 4 finger metacarpal bases).
    landmark_nodes : int64 (21,)
        Node index of each MediaPipe landmark.
    rest_nodes_mm : float64 (25, 3)
        Node positions of the rest pose, hand frame, mm.
    rest_landmarks_mm : float64 (21, 3)
        The 21 landmarks of the rest pose, hand frame, mm.
    bone_lengths_mm : float64 (20,)
        Rest length of bone ``b`` = landmark ``b+1`` to its parent landmark.
    vertices_mm : float64 (V, 3), faces : int64 (F, 3)
        Bind-pose mesh in the hand frame.
    """

    N_BONES = 20

    def __init__(self, glb: GlbHand, side: str, limits_deg: dict[str, tuple[float, float]] | None = None) -> None:
        if side not in ("right", "left"):
            raise ValueError(f"side must be 'right' or 'left', got {side!r}")
        self.side = side
        limits = dict(DEFAULT_LIMITS_DEG)
        if limits_deg:
            limits.update(limits_deg)
        names = glb.joint_names
        idx = {n: i for i, n in enumerate(names)}

        # ---- node list in our order: wrist, thumb (4), then per finger meta, prox, inter, distal, tip
        node_src: list[str] = ["wrist", "thumb-metacarpal", "thumb-phalanx-proximal", "thumb-phalanx-distal", "thumb-tip"]
        parents = [-1, 0, 1, 2, 3]
        node_landmark = [0, 1, 2, 3, 4]
        for k, f in enumerate(FINGERS[1:]):
            w = _WEBXR_FINGER[f]
            base = len(node_src)
            node_src += [f"{w}-finger-{p}" for p in ("metacarpal", "phalanx-proximal", "phalanx-intermediate", "phalanx-distal", "tip")]
            parents += [0, base, base + 1, base + 2, base + 3]
            lm0 = 5 + 4 * k
            node_landmark += [-1, lm0, lm0 + 1, lm0 + 2, lm0 + 3]
        self.node_names = node_src
        self.parents = np.array(parents)
        n_nodes = len(node_src)
        src = np.array([idx[n] for n in node_src])
        self.landmark_nodes = np.array([node_landmark.index(i) for i in range(21)])

        # ---- hand frame from the rest pose
        P = glb.joint_pos[src]
        Rw = glb.joint_rot[src]
        lm = P[self.landmark_nodes]
        wrist = lm[0]
        y = _unit(lm[9] - wrist)
        x = _orth(lm[5] - lm[13], y)
        z = np.cross(x, y)
        self.frame_from_glb = np.stack([x, y, z], 0)  # rows: hand axes in glb coordinates
        self.glb_wrist = wrist
        to_hand = lambda p: (p - wrist) @ self.frame_from_glb.T * 1000.0  # noqa: E731
        nodes = to_hand(P)
        rot_h = np.einsum("ij,njk->nik", self.frame_from_glb, Rw)  # joint frames in hand axes
        dorsal = rot_h[:, :, 1]  # WebXR: +Y out of the back of the hand/digit
        finger_prox = [self.node_names.index(f"{_WEBXR_FINGER[f]}-finger-phalanx-proximal") for f in FINGERS[1:]]
        palmar = _unit(-dorsal[finger_prox].mean(0))
        palmar = _unit(palmar - (palmar @ y) * y)
        self.palmar_normal = palmar
        radial = np.array([1.0, 0.0, 0.0])

        # ---- degrees of freedom: (name, node, slot, axis)
        dofs: list[tuple[str, int, int, np.ndarray]] = []
        rest_deg: dict[str, float] = {}
        # thumb CMC (node 1): slot 0 flexion (about ~palm normal, towards ulnar), slot 1 palmar abduction
        d = _unit(nodes[2] - nodes[1])
        ulnar = _orth(-radial, d)
        a_flex = _orth(palmar, d)
        if np.cross(a_flex, d) @ ulnar < 0:
            a_flex = -a_flex
        a_abd = _unit(np.cross(d, palmar))
        dofs += [("thumb_cmc_flexion", 1, 0, a_flex), ("thumb_cmc_abduction", 1, 1, a_abd)]
        rest_deg["thumb_cmc_flexion"] = rest_deg["thumb_cmc_abduction"] = 0.0
        # thumb MCP (node 2) and IP (node 3): flexion towards the palmar side of the thumb
        for node, name in ((2, "thumb_mcp_flexion"), (3, "thumb_ip_flexion")):
            bone_in = _unit(nodes[node] - nodes[self.parents[node]])
            bone_out = _unit(nodes[node + 1] - nodes[node])
            a = _unit(np.cross(bone_out, -dorsal[node]))
            dofs.append((name, node, 1, a))
            rest_deg[name] = np.degrees(_signed_angle(bone_in, bone_out, a))
        for f in FINGERS[1:]:
            base = self.node_names.index(f"{_WEBXR_FINGER[f]}-finger-metacarpal")
            mcp, pip, dip = base + 1, base + 2, base + 3
            d = _unit(nodes[pip] - nodes[mcp])
            a_flex = _unit(np.cross(d, palmar))
            away = radial if f in ("index", "middle") else -radial
            a_abd = _orth(palmar, d)
            if np.cross(a_abd, d) @ away < 0:
                a_abd = -a_abd
            if f in ("ring", "little"):
                dm = _unit(nodes[mcp] - nodes[base])
                dofs.append((f"{f}_cmc_flexion", base, 1, _unit(np.cross(dm, palmar))))
                rest_deg[f"{f}_cmc_flexion"] = 0.0
            dofs += [
                (f"{f}_mcp_abduction", mcp, 0, a_abd),
                (f"{f}_mcp_flexion", mcp, 1, a_flex),
                (f"{f}_pip_flexion", pip, 1, a_flex),
                (f"{f}_dip_flexion", dip, 1, a_flex),
            ]
            rest_deg[f"{f}_mcp_abduction"] = 0.0
            for node, name in ((mcp, "mcp"), (pip, "pip"), (dip, "dip")):
                rest_deg[f"{f}_{name}_flexion"] = np.degrees(
                    _signed_angle(nodes[node] - nodes[self.parents[node]], nodes[node + 1] - nodes[node], a_flex)
                )
        order = list(DEFAULT_LIMITS_DEG)
        dofs.sort(key=lambda t: order.index(t[0]))
        self.dof_names = [t[0] for t in dofs]
        self.n_dof = len(dofs)
        self.lower_deg = np.array([limits[n][0] for n in self.dof_names], dtype=np.float64)
        self.upper_deg = np.array([limits[n][1] for n in self.dof_names], dtype=np.float64)
        self.rest_deg = np.array([rest_deg[n] for n in self.dof_names], dtype=np.float64)
        if np.any(self.rest_deg < self.lower_deg) or np.any(self.rest_deg > self.upper_deg):
            bad = [n for n, r, lo, hi in zip(self.dof_names, self.rest_deg, self.lower_deg, self.upper_deg) if not lo <= r <= hi]
            raise ValueError(f"rest pose of the {side} hand mesh lies outside the limits of {bad}")
        self.dof_node = np.array([t[1] for t in dofs])
        self.dof_slot = np.array([t[2] for t in dofs])
        axes = np.zeros((n_nodes, 2, 3))
        axes[:, :, 2] = 1.0  # unused slots: any unit axis, angle 0
        slot_dof = -np.ones((n_nodes, 2), dtype=np.int64)
        for k, (_, node, slot, a) in enumerate(dofs):
            axes[node, slot] = a
            slot_dof[node, slot] = k
        self.axes = axes
        self.slot_dof = slot_dof

        # ---- geometry, bones, levels
        self.rest_nodes_mm = nodes
        self.rest_landmarks_mm = nodes[self.landmark_nodes]
        offsets = np.zeros_like(nodes)
        for j in range(1, n_nodes):
            offsets[j] = nodes[j] - nodes[self.parents[j]]
        self.offsets_mm = offsets
        node_bone = -np.ones(n_nodes, dtype=np.int64)
        for j in range(1, n_nodes):
            lmk = node_landmark[j] if node_landmark[j] >= 0 else node_landmark[j + 1]  # metacarpal base: its MCP bone
            node_bone[j] = lmk - 1
        self.node_bone = node_bone
        lpar = LANDMARK_PARENTS
        self.bone_lengths_mm = np.array(
            [np.linalg.norm(self.rest_landmarks_mm[b + 1] - self.rest_landmarks_mm[lpar[b + 1]]) for b in range(self.N_BONES)]
        )
        depth = np.zeros(n_nodes, dtype=np.int64)
        for j in range(1, n_nodes):
            depth[j] = depth[self.parents[j]] + 1
        # levels: the nodes at each depth below the wrist (every node's parent lies in the level before);
        # level_order puts the level-by-level node list back in node order; level_parent_index: each
        # node's parent as an index into the previous level (the torch twin gathers by it)
        self.levels = [np.nonzero(depth == d)[0] for d in range(1, depth.max() + 1)]
        self.level_order = np.argsort(np.concatenate([[0]] + self.levels))
        prev = [np.array([0])] + self.levels[:-1]
        self.level_parent_index = [np.array([list(pv).index(self.parents[j]) for j in lv]) for lv, pv in zip(self.levels, prev)]
        # descendants: which landmarks move with which node's rotation
        desc = np.zeros((n_nodes, 21), dtype=bool)
        for li, node in enumerate(self.landmark_nodes):
            j = self.parents[node]
            while j >= 0:
                desc[j, li] = True
                j = self.parents[j]
        self.node_moves_landmark = desc

        # ---- mesh in hand frame
        self.vertices_mm = to_hand(glb.vertices)
        self.normals = glb.normals @ self.frame_from_glb.T
        self.faces = glb.faces
        remap = {i: self.node_names.index(n) for i, n in enumerate(names)}
        self.skin_joints = np.vectorize(remap.get)(glb.skin_joints)
        self.skin_weights = glb.skin_weights
        self._np_cache: dict = {}  # numpy-path constants, filled on first use by the methods that need them

    @property
    def lower_rad(self) -> np.ndarray:
        return np.radians(self.lower_deg)

    @property
    def upper_rad(self) -> np.ndarray:
        return np.radians(self.upper_deg)

    def _np_constants(self) -> dict:
        c = self._np_cache
        if "K" not in c:
            c.update(K=_np_skew(self.axes), rest=np.radians(self.rest_deg),
                     slot_idx=np.where(self.slot_dof < 0, self.n_dof, self.slot_dof))
            c["K2"] = c["K"] @ c["K"]
        return c

    def fk_nodes_np(
        self, angles_rad: np.ndarray, rot_matrix: np.ndarray | None = None, offsets_mm: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Forward kinematics of all 25 nodes in numpy (the IK's inner loop, the live view, evaluation).

        The same chain as the torch twin :meth:`asha_app.pose.hand_model.HandModel.fk_nodes`
        (:mod:`asha_app.pose.hand_torch`), without autograd.

        Parameters
        ----------
        angles_rad : array (n_dof,) or (B, n_dof)
            Anatomical joint angles in radians (order ``dof_names``).
        rot_matrix : array (3, 3) or (B, 3, 3), optional
            Global rotation from the hand frame to the output frame (default identity).
        offsets_mm : array (25, 3) or (B, 25, 3), optional
            A person's rest skeleton: offset of each node from its parent (default :attr:`offsets_mm`).

        Returns
        -------
        pos : array (25, 3) or (B, 25, 3)
            Node positions, mm, wrist at the origin.
        rot : array (25, 3, 3) or (B, 25, 3, 3)
            Node rotations (hand-frame rest -> posed output frame).
        slot0 : array (25, 3, 3) or (B, 25, 3, 3)
            Rotation of the first axis slot of each node (used for Jacobians).
        """
        c = self._np_constants()
        a = np.asarray(angles_rad, dtype=np.float64)
        offs = self.offsets_mm if offsets_mm is None else np.asarray(offsets_mm, dtype=np.float64)
        n = len(self.node_names)
        if a.ndim == 1:  # one pose: the IK's inner loop, kept free of batch overhead
            theta = np.append(a - c["rest"], 0.0)
            th = theta[c["slot_idx"]][..., None, None]  # (N, 2, 1, 1)
            Rs = np.eye(3) + np.sin(th) * c["K"] + (1.0 - np.cos(th)) * c["K2"]
            R_local = Rs[:, 0] @ Rs[:, 1]
            pos = np.zeros((n, 3))
            rot = np.empty((n, 3, 3))
            rot[0] = np.eye(3) if rot_matrix is None else rot_matrix
            for lv in self.levels:
                par = self.parents[lv]
                Rp = rot[par]
                pos[lv] = pos[par] + (Rp @ offs[lv][:, :, None])[:, :, 0]
                rot[lv] = Rp @ R_local[lv]
            return pos, rot, Rs[:, 0]
        if a.ndim != 2 or a.shape[1] != self.n_dof:
            raise ValueError(f"angles must have shape (n_dof,) or (B, {self.n_dof}), got {a.shape}")
        B = a.shape[0]
        theta = np.concatenate([a - c["rest"], np.zeros((B, 1))], 1)
        th = theta[:, c["slot_idx"]][..., None, None]  # (B, N, 2, 1, 1)
        Rs = np.eye(3) + np.sin(th) * c["K"] + (1.0 - np.cos(th)) * c["K2"]
        R_local = Rs[:, :, 0] @ Rs[:, :, 1]
        pos = np.zeros((B, n, 3))
        rot = np.empty((B, n, 3, 3))
        rot[:, 0] = np.eye(3) if rot_matrix is None else rot_matrix
        for lv in self.levels:
            par = self.parents[lv]
            Rp = rot[:, par]
            pos[:, lv] = pos[:, par] + (Rp @ offs[..., lv, :, None])[..., 0]
            rot[:, lv] = Rp @ R_local[:, lv]
        return pos, rot, Rs[:, :, 0]

    def scaled_offsets(self, bone_scale: np.ndarray) -> np.ndarray:
        """Rest offsets of the nodes with per-bone length factors: ``(20,)`` -> ``(25, 3)``, ``(B, 20)`` -> ``(B, 25, 3)``."""
        bs = np.asarray(bone_scale, dtype=np.float64)
        bs = bs.reshape(self.N_BONES) if bs.ndim <= 1 else bs.reshape(-1, self.N_BONES)
        return self.offsets_mm * bs[..., np.maximum(self.node_bone, 0)][..., None]

    def forward_np(self, angles_deg: np.ndarray, bone_scale: np.ndarray | None = None) -> np.ndarray:
        """The 21 landmarks from joint angles in degrees, in numpy.

        Parameters
        ----------
        angles_deg : array (n_dof,) or (B, n_dof)
            Joint angles, degrees, order ``dof_names``.
        bone_scale : array (20,) or (B, 20), optional
            Per-bone length factors (1 = this hand).

        Returns
        -------
        array (21, 3) or (B, 21, 3)
            Landmarks in MediaPipe order, mm, hand frame.
        """
        a = np.radians(np.asarray(angles_deg, dtype=np.float64))
        offs = None
        if bone_scale is not None:
            bs = np.asarray(bone_scale, dtype=np.float64)
            offs = self.scaled_offsets(bs.reshape(self.N_BONES) if a.ndim == 1 else bs)
        pos, _, _ = self.fk_nodes_np(a, None, offs)
        return pos[..., self.landmark_nodes, :]

    def clamp_deg(self, angles_deg: np.ndarray) -> np.ndarray:
        """Clip angles (degrees, ``(..., n_dof)``) into the limits."""
        return np.clip(angles_deg, self.lower_deg, self.upper_deg)

    def angles_from_finger_flexion(self, flexion_deg: np.ndarray) -> np.ndarray:
        """Joint angles from one total flexion angle per finger.

        The paired Myo + MediaPipe data set gives one angle per finger, thumb..little,
        where 180 deg is a straight finger.  The total flexion ``180 - value`` is
        shared over the finger's joints in the fixed ratio of :data:`FLEXION_SHARE`:
        MCP : PIP : DIP = 0.375 : 0.375 : 0.25 for the fingers (DIP = 2/3 PIP, the
        coupling of Rijpkema & Girard 1991 and Lin, Wu & Huang 2000), and thumb
        CMC : MCP : IP = 0.2 : 0.4 : 0.4.  Abduction angles are 0, the thumb's CMC
        abduction stays at the rest pose, and every angle is clipped into the limits.

        Parameters
        ----------
        flexion_deg : array (B, 5) or (5,)
            Degrees, thumb, index, middle, ring, little; 180 = straight.

        Returns
        -------
        float64 array (B, n_dof) (or (n_dof,))
            Joint angles in degrees, order ``dof_names``.
        """
        f = np.asarray(flexion_deg, dtype=np.float64)
        single = f.ndim == 1
        f = np.atleast_2d(f)
        if f.shape[1] != 5:
            raise ValueError(f"need 5 finger angles (thumb..little), got shape {f.shape}")
        c = self._np_cache
        if "flexion_map" not in c:
            share = np.zeros((5, self.n_dof))  # (finger, dof): the finger's total flexion shared over its joints
            for k, finger in enumerate(FINGERS):
                for name, sh in FLEXION_SHARE[finger].items():
                    share[k, self.dof_names.index(name)] = sh
            base = np.zeros(self.n_dof)
            i = self.dof_names.index("thumb_cmc_abduction")
            base[i] = self.rest_deg[i]
            c["flexion_map"] = (share, base)
        share, base = c["flexion_map"]
        out = self.clamp_deg((180.0 - f) @ share + base)
        return out[0] if single else out

    def skin_np(self, angles_deg: np.ndarray, bone_scale: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """One pose, skinned in numpy, with vertex normals (the live 3D view's path).

        The same blend as :meth:`skin` on the numpy chain (:meth:`fk_nodes_np`).  Normals
        are the area-weighted sums of the posed faces' normals (what vispy's ``MeshData``
        computes), gathered with a precomputed sparse vertex-face matrix instead of
        ``np.add.at``, which is several times slower.

        Parameters
        ----------
        angles_deg : array (n_dof,)
            Joint angles, degrees, order ``dof_names``.
        bone_scale : array (20,), optional
            Per-bone length factors.

        Returns
        -------
        vertices, normals : float64 arrays (V, 3)
            Posed vertices (mm, hand frame) and unit normals; faces are :attr:`faces`.
        """
        c = self._np_cache
        if "vertex_faces" not in c:
            from scipy import sparse

            f = np.asarray(self.faces)
            c["vertex_faces"] = sparse.csr_matrix(
                (np.ones(f.size), (f.ravel(), np.repeat(np.arange(len(f)), 3))), shape=(len(self.vertices_mm), len(f)))
        offs = None if bone_scale is None else self.scaled_offsets(np.asarray(bone_scale).reshape(self.N_BONES))
        pos, rot, _ = self.fk_nodes_np(np.radians(np.asarray(angles_deg, dtype=np.float64)), None, offs)
        t = pos - np.einsum("nij,nj->ni", rot, self.rest_nodes_mm)
        sj, sw = self.skin_joints, self.skin_weights
        R = np.einsum("vk,vkij->vij", sw, rot[sj])  # (V, 3, 3) blended linear part
        T = np.einsum("vk,vki->vi", sw, t[sj])
        verts = np.einsum("vij,vj->vi", R, self.vertices_mm) + T
        f = self.faces
        fn = np.cross(verts[f[:, 1]] - verts[f[:, 0]], verts[f[:, 2]] - verts[f[:, 0]])
        n = c["vertex_faces"] @ fn
        n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)
        return verts, n
