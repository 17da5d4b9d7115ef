"""MANO backend on a generated MANO-shaped model (never the licensed data): loading, joints, fitting, errors."""

import pickle
import sys
import types

import numpy as np
import pytest
import torch

from asha_app.pose.hand_model import HandModel
from asha_app.pose.mano import MANO_TIP_VERTICES, ManoFileError, ManoFitter, ManoHand, load_hand, load_mano_arrays
from tests.mano_fake import fake_mano_arrays

torch.set_num_threads(1)


@pytest.fixture()
def npz_file(tmp_path):
    path = tmp_path / "MANO_RIGHT.npz"
    np.savez(path, **fake_mano_arrays())
    return path


def _chumpy_pickle(path, arrays):
    """Write a pickle whose arrays are wrapped in classes named like chumpy's (chumpy itself is not needed)."""
    mod = types.ModuleType("chumpy.ch")

    class Ch:  # stand-in with chumpy's module path
        def __init__(self, x):
            self.x = x

    Ch.__module__ = "chumpy.ch"
    Ch.__qualname__ = "Ch"
    mod.Ch = Ch
    sys.modules["chumpy"] = types.ModuleType("chumpy")
    sys.modules["chumpy.ch"] = mod
    try:
        wrapped = {k: (Ch(v) if k in ("v_template", "shapedirs", "posedirs", "weights") else v)
                   for k, v in arrays.items()}
        import scipy.sparse

        wrapped["J_regressor"] = scipy.sparse.csc_matrix(arrays["J_regressor"])
        with open(path, "wb") as fh:
            pickle.dump(wrapped, fh, protocol=2)
    finally:
        del sys.modules["chumpy.ch"], sys.modules["chumpy"]


def test_npz_loads_and_gives_mediapipe_ordered_joints(npz_file):
    hand = ManoHand.from_file(npz_file, "right")
    arrays = fake_mano_arrays()
    joints, verts = hand(torch.zeros(2, 45))
    assert joints.shape == (2, 21, 3) and verts.shape == (2, 778, 3)
    # zero pose: joints are the regressed template joints (mm); tips are the tip vertices, in MediaPipe order
    J = arrays["J_regressor"] @ arrays["v_template"] * 1000.0
    np.testing.assert_allclose(joints[0, 0].numpy(), J[0], atol=1e-3)
    np.testing.assert_allclose(joints[0, 5].numpy(), J[1], atol=1e-3)  # index MCP = MANO joint 1
    np.testing.assert_allclose(joints[0, 1].numpy(), J[13], atol=1e-3)  # thumb CMC = MANO joint 13
    np.testing.assert_allclose(joints[0, 4].numpy(), arrays["v_template"][MANO_TIP_VERTICES["thumb"]] * 1000, atol=1e-3)
    np.testing.assert_allclose(joints[0, 20].numpy(), arrays["v_template"][MANO_TIP_VERTICES["little"]] * 1000,
                               atol=1e-3)


def test_chumpy_pickle_loads_without_chumpy(tmp_path):
    path = tmp_path / "MANO_RIGHT.pkl"
    arrays = fake_mano_arrays()
    _chumpy_pickle(path, arrays)
    assert "chumpy" not in sys.modules
    data = load_mano_arrays(path)
    np.testing.assert_allclose(data["v_template"], arrays["v_template"])
    np.testing.assert_allclose(data["J_regressor"], arrays["J_regressor"])
    ManoHand(data, "right", str(path))


def test_restricted_unpickler_refuses_other_classes(tmp_path):
    path = tmp_path / "evil.pkl"
    with open(path, "wb") as fh:
        pickle.dump({"v_template": __import__("collections").OrderedDict()}, fh)
    with pytest.raises(ManoFileError, match="evil.pkl"):
        load_mano_arrays(path)


@pytest.mark.parametrize("content", [b"", b"not a pickle at all", None])
def test_bad_or_missing_file_gives_clear_error_and_fallback(tmp_path, content):
    path = tmp_path / "MANO_RIGHT.pkl"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ManoFileError, match="MANO_RIGHT.pkl"):
        load_mano_arrays(path)
    hand, msg = load_hand(path, "right")
    assert isinstance(hand, HandModel) and "MANO_RIGHT.pkl" in msg and "built-in" in msg


def test_wrong_shapes_are_named(tmp_path):
    arrays = fake_mano_arrays()
    arrays["J_regressor"] = arrays["J_regressor"][:10]
    path = tmp_path / "m.npz"
    np.savez(path, **arrays)
    with pytest.raises(ManoFileError, match="J_regressor"):
        load_mano_arrays(path)


def test_fitter_recovers_a_generated_pose(npz_file):
    hand = ManoHand.from_file(npz_file)
    torch.manual_seed(0)
    with torch.no_grad():
        target, _ = hand(torch.randn(1, 45) * 0.3, torch.tensor([[0.3, -0.2, 0.1]]),
                         transl_mm=torch.tensor([[5.0, 10.0, 400.0]]))
    fitter = ManoFitter(hand, iters=30)
    first = fitter.fit(target[0].numpy())
    for _ in range(3):
        res = fitter.fit(target[0].numpy())
    assert res["joints_mm"].shape == (21, 3) and res["vertices_mm"].shape == (778, 3)
    assert res["fit_error_mm"] < 3.0 and res["fit_error_mm"] <= first["fit_error_mm"] + 1e-6
