"""Hand model: glb loading, frame convention, batched FK in MediaPipe order, limits, skinning."""

import numpy as np
import pytest
import torch

from asha_app.pose.chain import LANDMARK_PARENTS
from asha_app.pose.hand_model import HandModel

torch.set_num_threads(1)


@pytest.fixture(scope="module", params=["right", "left"])
def model(request):
    return HandModel.builtin(request.param)


def test_dofs_and_limits(model):
    assert model.n_dof == len(model.dof_names) == 22
    assert len(set(model.dof_names)) == model.n_dof
    for name in ("index_mcp_flexion", "index_mcp_abduction", "index_pip_flexion", "index_dip_flexion",
                 "thumb_cmc_flexion", "thumb_cmc_abduction", "thumb_mcp_flexion", "thumb_ip_flexion"):
        assert name in model.dof_names
    assert np.all(model.lower_deg < model.upper_deg)
    assert np.all((model.rest_deg >= model.lower_deg) & (model.rest_deg <= model.upper_deg))


def test_hand_frame_convention(model):
    lm = model.rest_landmarks_mm
    np.testing.assert_allclose(lm[0], 0, atol=1e-9)  # wrist at origin
    np.testing.assert_allclose(lm[9][[0, 2]], 0, atol=1e-6)  # middle MCP on +y
    assert lm[9][1] > 60
    assert lm[5][0] > 0 > lm[17][0]  # index side is +x
    # mesh rest pose reproduces the glb joints exactly
    j = model.forward(torch.as_tensor(np.radians(model.rest_deg))[None])
    np.testing.assert_allclose(j[0].numpy(), lm, atol=1e-9)


def test_fk_batched_shapes_and_equivalence(model):
    rng = np.random.default_rng(1)
    B = 7
    a = rng.uniform(model.lower_deg, model.upper_deg, size=(B, model.n_dof))
    rot = rng.normal(0, 0.5, size=(B, 3))
    out = model.forward(torch.as_tensor(np.radians(a)), torch.as_tensor(rot))
    assert out.shape == (B, 21, 3)
    for b in range(B):  # batch entries are independent
        one = model.forward(torch.as_tensor(np.radians(a[b : b + 1])), torch.as_tensor(rot[b : b + 1]))
        np.testing.assert_allclose(one[0].numpy(), out[b].numpy(), atol=1e-9)
    # a global rotation preserves bone lengths
    hand = model.forward(torch.as_tensor(np.radians(a)))
    L = lambda x: np.linalg.norm(x[:, 1:] - x[:, LANDMARK_PARENTS[1:]], axis=-1)  # noqa: E731
    np.testing.assert_allclose(L(out.numpy()), L(hand.numpy()), atol=1e-9)


def test_mediapipe_order_flexion_moves_tip_towards_palm(model):
    straight = model.forward_np(np.zeros(model.n_dof))
    a = np.zeros(model.n_dof)
    for n in ("index_mcp_flexion", "index_pip_flexion", "index_dip_flexion"):
        a[model.dof_names.index(n)] = 60.0
    flexed = model.forward_np(a)
    # index tip (8) comes closer to the wrist (0); other fingers do not move
    assert np.linalg.norm(flexed[8]) < np.linalg.norm(straight[8]) - 40
    np.testing.assert_allclose(flexed[[12, 16, 20, 4]], straight[[12, 16, 20, 4]], atol=1e-9)
    np.testing.assert_allclose(flexed[5], straight[5], atol=1e-9)  # MCP itself stays
    # flexion goes to the palmar side: +z for the right hand, -z for the left (right-handed frame)
    palmar = 1.0 if model.side == "right" else -1.0
    assert palmar * (flexed[8, 2] - straight[8, 2]) > 40
    # straight finger: PIP, DIP, tip nearly collinear with MCP
    d = np.diff(straight[5:9], axis=0)
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    assert np.all(np.sum(d[:-1] * d[1:], axis=1) > 0.98)


def test_abduction_spreads_away_from_middle(model):
    base = model.forward_np(np.zeros(model.n_dof))
    for finger, tip in (("index", 8), ("little", 20)):
        a = np.zeros(model.n_dof)
        a[model.dof_names.index(f"{finger}_mcp_abduction")] = 20.0
        moved = model.forward_np(a)
        assert abs(moved[tip, 0] - base[12, 0]) > abs(base[tip, 0] - base[12, 0]) + 10


def test_bone_scale(model):
    a = torch.zeros(1, model.n_dof, dtype=torch.float64)
    s = torch.ones(20, dtype=torch.float64)
    s[5] = 1.5  # index MCP -> PIP
    j = model.forward(a, bone_scale=s)[0].numpy()
    j0 = model.forward(a)[0].numpy()
    assert np.linalg.norm(j[6] - j[5]) == pytest.approx(1.5 * np.linalg.norm(j0[6] - j0[5]))
    assert np.linalg.norm(j[7] - j[6]) == pytest.approx(np.linalg.norm(j0[7] - j0[6]))


def test_angles_from_finger_flexion(model):
    straight = model.angles_from_finger_flexion(np.full(5, 180.0))
    flex_idx = [i for i, n in enumerate(model.dof_names) if "flexion" in n and "cmc" not in n]
    np.testing.assert_allclose(straight[flex_idx], 0.0)
    bent = model.angles_from_finger_flexion(np.array([[150, 100, 90, 90, 90.0]]))
    assert bent.shape == (1, model.n_dof)
    i = model.dof_names.index
    total_index = bent[0, i("index_mcp_flexion")] + bent[0, i("index_pip_flexion")] + bent[0, i("index_dip_flexion")]
    assert total_index == pytest.approx(80.0)
    assert bent[0, i("index_dip_flexion")] == pytest.approx(2 / 3 * bent[0, i("index_pip_flexion")])
    extreme = model.angles_from_finger_flexion(np.array([0, 0, 0, 0, 0.0]))
    assert np.all(extreme <= model.upper_deg) and np.all(extreme >= model.lower_deg)


def test_skinning(model):
    rest = torch.as_tensor(np.radians(model.rest_deg))[None]
    v, f = model.skin(rest)
    assert v.shape == (1, 1360, 3) and f.shape == (2314, 3)
    np.testing.assert_allclose(v[0].numpy(), model.vertices_mm, atol=1e-9)
    fist = torch.as_tensor(np.radians(model.angles_from_finger_flexion(np.full(5, 60.0))))[None]
    vf, _ = model.skin(fist)
    # the mesh follows the skeleton: vertices near the index tip move with it
    j_rest = model.forward(rest)[0].numpy()
    j_fist = model.forward(fist)[0].numpy()
    near = np.linalg.norm(model.vertices_mm - j_rest[8], axis=1) < 8
    assert near.sum() > 3
    assert np.linalg.norm(vf[0].numpy()[near].mean(0) - j_fist[8]) < 15


def test_left_is_mirror_of_right():
    r, lh = HandModel.builtin("right"), HandModel.builtin("left")
    assert r.dof_names == lh.dof_names
    a = r.angles_from_finger_flexion(np.array([120, 100, 140, 90, 160.0]))
    jr, jl = r.forward_np(a), lh.forward_np(a)
    np.testing.assert_allclose(jr[:, :2], jl[:, :2], atol=5.0)  # the two meshes differ by a few mm
    np.testing.assert_allclose(jr[:, 2], -jl[:, 2], atol=5.0)  # the two meshes differ by a few mm


def test_numpy_fk_matches_torch_fk(model):
    rng = np.random.default_rng(9)
    a = np.radians(rng.uniform(model.lower_deg, model.upper_deg))
    from scipy.spatial.transform import Rotation

    R = Rotation.from_rotvec(rng.normal(size=3)).as_matrix()
    offs = model.offsets_mm * rng.uniform(0.8, 1.2, size=(25, 1))
    p, r, s0 = model.fk_nodes_np(a, R, offs)
    pt, rt, st = model.fk_nodes(torch.as_tensor(a)[None], rot_matrix=torch.as_tensor(R)[None], offsets_mm=torch.as_tensor(offs))
    np.testing.assert_allclose(p, pt[0].numpy(), atol=1e-9)
    np.testing.assert_allclose(r, rt[0].numpy(), atol=1e-12)


def test_skinning_equals_per_vertex_blend_of_moved_positions():
    """skin() blends affine transforms first; it must equal blending each bone's moved vertex (LBS definition)."""
    import numpy as np
    import torch

    from asha_app.pose.hand_model import HandModel

    m = HandModel.builtin("right")
    a = torch.as_tensor(np.radians(np.random.default_rng(0).uniform(m.lower_deg, m.upper_deg, (3, m.n_dof))))
    pos, rot, _ = m.fk_nodes(a, None, None)
    v = torch.as_tensor(m.vertices_mm, dtype=a.dtype)
    sj = torch.as_tensor(m.skin_joints)
    sw = torch.as_tensor(m.skin_weights, dtype=a.dtype)
    local = v[:, None, :] - torch.as_tensor(m.rest_nodes_mm, dtype=a.dtype)[sj]
    expected = (((rot[:, sj] @ local[None, ..., None])[..., 0] + pos[:, sj]) * sw[None, ..., None]).sum(2)
    verts, faces = m.skin(a)
    assert verts.shape == (3, len(m.vertices_mm), 3) and faces.shape[1] == 3
    torch.testing.assert_close(verts, expected, atol=1e-9, rtol=0)
    # the posed mesh really moved
    assert float((verts[0] - v).abs().max()) > 5.0


def test_single_pose_numpy_chain_equals_batched_torch(model):
    """forward_np (numpy: one pose for the live view, a batch for evaluation) gives the torch twin's landmarks."""
    rng = np.random.default_rng(3)
    for _ in range(4):
        a = np.clip(model.rest_deg + rng.normal(0, 25, model.n_dof), model.lower_deg, model.upper_deg)
        bs = rng.uniform(0.8, 1.25, 20)
        np.testing.assert_allclose(model.forward_np(a, bs), model.forward_np(a[None], bs)[0], atol=1e-9)
        np.testing.assert_allclose(model.forward_np(a), model.forward_np(a[None])[0], atol=1e-9)
        with torch.no_grad():
            t = model.forward(torch.as_tensor(np.radians(a))[None], None, torch.as_tensor(bs))[0].numpy()
        np.testing.assert_allclose(model.forward_np(a, bs), t, atol=1e-9)
    # a batch with one bone scale per pose equals the poses one by one
    a = np.clip(model.rest_deg + rng.normal(0, 25, (5, model.n_dof)), model.lower_deg, model.upper_deg)
    bs = rng.uniform(0.8, 1.25, (5, 20))
    batch = model.forward_np(a, bs)
    assert batch.shape == (5, 21, 3)
    for b in range(5):
        np.testing.assert_allclose(batch[b], model.forward_np(a[b], bs[b]), atol=1e-9)
    # a scaled bone really moves the joints below it
    bs = np.ones(20)
    bs[5] = 1.3  # index metacarpal
    assert np.linalg.norm(model.forward_np(model.rest_deg, bs)[8] - model.forward_np(model.rest_deg)[8]) > 5


def test_numpy_skinning_equals_torch_and_gives_unit_normals(model):
    """skin_np (live view) places the vertices exactly where skin() does, with the posed surface's normals."""
    from vispy.geometry import MeshData

    rng = np.random.default_rng(5)
    a = np.clip(model.rest_deg + rng.normal(0, 25, model.n_dof), model.lower_deg, model.upper_deg)
    bs = rng.uniform(0.85, 1.2, 20)
    v, n = model.skin_np(a, bs)
    vt = model.skin(torch.as_tensor(np.radians(a))[None], bone_scale=torch.as_tensor(bs))[0][0].numpy()
    np.testing.assert_allclose(v, vt, atol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(n, axis=1), 1.0, atol=1e-9)
    # the normals vispy computes from the posed faces
    np.testing.assert_allclose(n, MeshData(vertices=v, faces=model.faces).get_vertex_normals(), atol=1e-9)
    # a flexed finger turns its normals: not just the rest normals returned
    _, n0 = model.skin_np(model.rest_deg)
    assert np.mean(np.sum(n0 * n, axis=1) < 0.95) > 0.05


def test_chain_and_reader_need_no_torch():
    """The glTF reader, the numpy chain and HandModel itself import without torch (the twin loads on first use)."""
    import subprocess
    import sys

    code = ("import sys; from asha_app.pose.hand_model import HandModel; m = HandModel.builtin('right'); "
            "m.forward_np(m.rest_deg); m.skin_np(m.rest_deg); from asha_app.pose.ik import HandTracker; "
            "assert 'torch' not in sys.modules, 'torch was imported'")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
