"""A MANO-shaped model made of generated arrays (never the licensed MANO data), for tests."""

from __future__ import annotations

import numpy as np

PARENTS = [-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 0, 10, 11, 0, 13, 14]


def fake_mano_arrays(seed: int = 0) -> dict[str, np.ndarray]:
    """Arrays with MANO's keys and shapes and a plausible hand-sized skeleton (metres).

    The 16 joints lie on five straight rays from the wrist; each vertex sits near
    one joint (or fingertip) and is skinned to it, so posing moves vertices like a hand.
    """
    rng = np.random.default_rng(seed)
    joints = np.zeros((16, 3))
    dirs = {1: (-0.3, 1.0), 4: (0.0, 1.0), 7: (0.6, 0.8), 10: (0.3, 1.0), 13: (-0.9, 0.5)}
    for first, (dx, dy) in dirs.items():
        d = np.array([dx, dy, 0.0]) / np.hypot(dx, dy)
        for k in range(3):
            joints[first + k] = d * (0.08 + 0.03 * k)
    owner = rng.integers(0, 16, size=778)
    v_template = joints[owner] + rng.normal(0, 0.004, size=(778, 3))
    # fingertip vertices (ids in common use) beyond the last joint of each ray
    for vid, last in zip([745, 317, 444, 556, 673], [15, 3, 6, 12, 9]):
        v_template[vid] = joints[last] * 1.2
        owner[vid] = last
    J_regressor = np.zeros((16, 778))
    for j in range(16):
        idx = np.nonzero(owner == j)[0]
        J_regressor[j, idx] = 1.0 / len(idx)
    weights = np.zeros((778, 16))
    weights[np.arange(778), owner] = 1.0
    return {
        "v_template": v_template,
        "shapedirs": rng.normal(0, 1e-3, size=(778, 3, 10)),
        "posedirs": rng.normal(0, 1e-4, size=(778, 3, 135)),
        "J_regressor": J_regressor,
        "weights": weights,
        "kintree_table": np.array([[4294967295] + PARENTS[1:], list(range(16))], dtype=np.int64),
        "f": rng.integers(0, 778, size=(1538, 3)).astype(np.int64),
        "hands_components": np.eye(45),
        "hands_mean": np.zeros(45),
    }
