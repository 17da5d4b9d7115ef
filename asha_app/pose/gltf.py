"""Reading a WebXR skinned hand from a glTF binary (``.glb``) file.

The built-in hands (``resources/hand_model/{right,left}.glb``, WebXR generic
hand, MIT; see the README there) store a skinned mesh and the 25 joints of the
WebXR Hand Input spec, in glTF units (metres) and axes.  This module only reads
them (:func:`load_glb`) into plain numpy arrays (:class:`GlbHand`); the
kinematic chain built on top lives in :mod:`asha_app.pose.chain`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class GlbHand:
    """The raw content of one WebXR hand glb (glTF units: metres, glTF axes).

    Attributes
    ----------
    joint_names : list[str]
        The 25 skin joint names (WebXR Hand Input names), in skin order.
    joint_pos : float64 (25, 3)
        Joint world positions in the rest (bind) pose, metres.
    joint_rot : float64 (25, 3, 3)
        Joint world rotations in the rest pose.
    vertices, normals : float64 (V, 3)
        Bind-pose vertices (metres) and normals.
    faces : int64 (F, 3)
    skin_joints : int64 (V, 4)
        Skin joint indices (into ``joint_names``) per vertex.
    skin_weights : float64 (V, 4)
    inverse_bind : float64 (25, 4, 4)
    """

    joint_names: list[str]
    joint_pos: np.ndarray
    joint_rot: np.ndarray
    vertices: np.ndarray
    normals: np.ndarray
    faces: np.ndarray
    skin_joints: np.ndarray
    skin_weights: np.ndarray
    inverse_bind: np.ndarray


_COMPONENT = {5120: np.int8, 5121: np.uint8, 5122: np.int16, 5123: np.uint16, 5125: np.uint32, 5126: np.float32}
_NCOMP = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT4": 16}


def _accessor(gltf, blob: bytes, index: int) -> np.ndarray:
    acc = gltf.accessors[index]
    view = gltf.bufferViews[acc.bufferView]
    dtype = np.dtype(_COMPONENT[acc.componentType]).newbyteorder("<")
    n = _NCOMP[acc.type]
    start = (view.byteOffset or 0) + (acc.byteOffset or 0)
    stride = view.byteStride or dtype.itemsize * n
    if stride == dtype.itemsize * n:
        arr = np.frombuffer(blob, dtype=dtype, count=acc.count * n, offset=start).reshape(acc.count, n)
    else:
        rows = [np.frombuffer(blob, dtype=dtype, count=n, offset=start + i * stride) for i in range(acc.count)]
        arr = np.stack(rows)
    return arr.copy()


def load_glb(path: str | Path) -> GlbHand:
    """Read a WebXR skinned hand from a glb file with :mod:`pygltflib`.

    Joint rest transforms are the inverses of the skin's inverse bind matrices
    (glTF 2.0 spec, section "Skins"), so node hierarchy and scene placement do
    not matter.

    Raises
    ------
    ValueError
        If the file has no skinned mesh with the 25 WebXR joints.
    """
    import pygltflib

    gltf = pygltflib.GLTF2().load(str(path))
    blob = gltf.binary_blob()
    if not gltf.skins or not gltf.meshes:
        raise ValueError(f"{path}: no skinned mesh in this glb")
    skin = gltf.skins[0]
    names = [gltf.nodes[j].name for j in skin.joints]
    if len(names) != 25 or "wrist" not in names:
        raise ValueError(f"{path}: expected the 25 WebXR hand joints, found {names}")
    ibm = _accessor(gltf, blob, skin.inverseBindMatrices).reshape(-1, 4, 4).transpose(0, 2, 1).astype(np.float64)
    bind = np.linalg.inv(ibm)
    prim = gltf.meshes[0].primitives[0]
    vertices = _accessor(gltf, blob, prim.attributes.POSITION).astype(np.float64)
    normals = _accessor(gltf, blob, prim.attributes.NORMAL).astype(np.float64)
    faces = _accessor(gltf, blob, prim.indices).reshape(-1, 3).astype(np.int64)
    skin_joints = _accessor(gltf, blob, prim.attributes.JOINTS_0).astype(np.int64)
    skin_weights = _accessor(gltf, blob, prim.attributes.WEIGHTS_0).astype(np.float64)
    skin_weights /= np.maximum(skin_weights.sum(1, keepdims=True), 1e-12)
    # a mesh node with its own transform would place the bind-pose vertices; apply it
    mesh_nodes = [n for n in gltf.nodes if n.mesh is not None]
    if mesh_nodes and mesh_nodes[0].matrix:
        m = np.array(mesh_nodes[0].matrix, dtype=np.float64).reshape(4, 4).T
        vertices = vertices @ m[:3, :3].T + m[:3, 3]
        normals = normals @ m[:3, :3].T
    return GlbHand(
        joint_names=names,
        joint_pos=bind[:, :3, 3].copy(),
        joint_rot=bind[:, :3, :3].copy(),
        vertices=vertices,
        normals=normals,
        faces=faces,
        skin_joints=skin_joints,
        skin_weights=skin_weights,
        inverse_bind=ibm,
    )
