"""The inference package without Qt: the bundled live-demo recording streamed through PoseStream gives the model's
batch output, smoothed poses with their hands, and the recorded reference hands."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from asha_app.inference.hands import LiveHands
from asha_app.inference.live_demo import DECIMATION
from asha_app.inference.pipeline import PoseStream
from asha_app.models import checkpoint as C
from tests.test_live import batch_predict

torch.set_num_threads(1)
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def assets(demo_assets_home):
    return demo_assets_home


def _file_rows(assets, n):
    from mindrove.board_shim import BoardIds, BoardShim
    from mindrove.data_filter import DataFilter

    d = BoardShim.get_board_descr(BoardIds.MINDROVE_WIFI_BOARD)
    data = DataFilter.read_file(str(assets.emg_file))[:, :n]
    return data[d["emg_channels"]].T.copy(), data[d["package_num_channel"]].copy()


def test_pose_stream_gives_batch_poses_with_hands_and_reference_hands(assets):
    ckpt = C.load(assets.model_path)
    raw, pk = _file_rows(assets, 6000)  # 12 s at 500 Hz
    t = np.arange(len(raw)) / 500.0
    hands = LiveHands.for_checkpoint(ckpt, reference=assets)
    history: list = []
    stream = PoseStream(ckpt, DECIMATION, hands=hands, history=history)
    published = []
    for i in range(0, len(raw), 25):  # chunks as the worker reads them (50 ms at 500 Hz)
        lp = stream.process(raw[i:i + 25], t[i:i + 25], pk[i:i + 25], start=i, t_seen=float(i))
        if lp is not None:
            published.append(lp)
    # every model output equals batch inference on the 50 Hz signal
    ref = batch_predict(ckpt, raw[::DECIMATION])
    k = (np.array([h.package for h in history]) // DECIMATION).astype(int) - (ckpt.history - 1)
    np.testing.assert_allclose(np.array([h.raw_pose for h in history]), ref[k], atol=1e-3)
    assert stream.outputs == len(history) == len(raw) // DECIMATION - (ckpt.history - 1)
    # one published pose per chunk with an output, numbered, each with its hand: the mapper's angles of the
    # smoothed pose and the joints by forward kinematics
    assert [lp.seq for lp in published] == list(range(1, len(published) + 1)) and stream.seq == len(published)
    hm = hands.hand_model
    for lp in published[::20]:
        assert lp.hand is not None and lp.hand.model is hm
        np.testing.assert_allclose(lp.angles, hm.angles_from_finger_flexion(lp.pose))
        np.testing.assert_allclose(lp.joints, hm.forward_np(lp.angles), atol=1e-6)
    # the recorded reference hand, aligned by package number, wherever the demo has reference frames
    with_ref = [lp for lp in published if lp.reference is not None]
    assert len(with_ref) > 0.8 * len(published)
    lp = with_ref[len(with_ref) // 2]
    want = hm.angles_from_finger_flexion(assets.reference_at(lp.package))
    np.testing.assert_allclose(lp.reference.angles_deg, want)
    assert lp.reference.joints_mm.shape == (21, 3) and np.all(np.isfinite(lp.reference.joints_mm))
    # smoothing changes the published pose, not the model output
    assert not np.allclose(np.array([p.pose for p in published]), np.array([p.raw_pose for p in published]))


def test_pose_stream_restarts_when_the_playback_file_loops(assets):
    ckpt = C.load(assets.model_path)
    raw, pk = _file_rows(assets, 3000)
    t = np.arange(len(raw)) / 500.0
    stream = PoseStream(ckpt, DECIMATION, hands=LiveHands.for_checkpoint(ckpt))
    first = stream.process(raw, t, pk)
    again = stream.process(raw, t + 6.0, pk)  # package numbers back to 0: a new signal, the same output
    assert stream.restarts == 1 and first is not None and again is not None
    np.testing.assert_allclose(again.raw_pose, first.raw_pose, atol=1e-4)
    assert again.reference is None  # no reference without the demo assets


def test_pose_stream_follows_a_running_checkpoint_and_restarts_its_statistics(assets):
    """The live path with a RunningNorm checkpoint (the demo model's weights, its statistics as the prior): streamed
    poses equal batch inference on the recording normalised from its first sample, and a restarted stream starts the
    moving statistics again from the prior."""
    from dataclasses import replace

    base = C.load(assets.model_path)
    ckpt = replace(base, normalizer=replace(base.normalizer, kind="running", tau_s=5.0))
    raw, pk = _file_rows(assets, 6000)
    t = np.arange(len(raw)) / 500.0
    history: list = []
    stream = PoseStream(ckpt, DECIMATION, hands=LiveHands.for_checkpoint(ckpt), history=history)
    for i in range(0, len(raw), 25):
        stream.process(raw[i:i + 25], t[i:i + 25], pk[i:i + 25])
    ref = batch_predict(ckpt, raw[::DECIMATION])
    k = (np.array([h.package for h in history]) // DECIMATION).astype(int) - (ckpt.history - 1)
    got = np.array([h.raw_pose for h in history])
    np.testing.assert_allclose(got, ref[k], atol=1e-3)
    assert np.abs(got - batch_predict(base, raw[::DECIMATION])[k]).max() > 1.0  # degrees: the kind is followed
    first = np.array([h.raw_pose for h in history[:50]])
    stream.process(raw[:1000], t[:1000] + 20.0, pk[:1000])  # package numbers back to 0: a new signal
    assert stream.restarts == 1
    again = np.array([h.raw_pose for h in history[len(got):]])
    assert len(again) >= 20
    np.testing.assert_allclose(again, first[:len(again)], atol=1e-3)


def test_the_inference_package_runs_without_qt(assets):
    """Streamed in a fresh interpreter: poses and reference hands come out, and Qt was never imported."""
    code = f"""
import json, sys
import numpy as np
from mindrove.board_shim import BoardIds, BoardShim
from mindrove.data_filter import DataFilter
from asha_app.inference.live_demo import demo_assets
from asha_app.inference.hands import LiveHands
from asha_app.inference.pipeline import PoseStream
from asha_app.models import checkpoint as C
a = demo_assets()
d = BoardShim.get_board_descr(BoardIds.MINDROVE_WIFI_BOARD)
data = DataFilter.read_file(str(a.emg_file))[:, :4000]
raw, pk = data[d["emg_channels"]].T, data[d["package_num_channel"]]
ck = C.load(a.model_path)
s = PoseStream(ck, {DECIMATION}, hands=LiveHands.for_checkpoint(ck, reference=a))
poses = [s.process(raw[i:i + 40], np.arange(i, i + 40) / 500.0, pk[i:i + 40]) for i in range(0, 4000, 40)]
poses = [p for p in poses if p is not None]
print(json.dumps({{"poses": len(poses), "hands": sum(p.hand is not None for p in poses),
                   "references": sum(p.reference is not None for p in poses),
                   "qt": sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6", "vispy",
                                                                               "pyqtgraph"))}}))
"""
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""),
               ASHA_HOME=str(assets.emg_file.parent.parent))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300, cwd=REPO)
    assert out.returncode == 0, out.stderr[-3000:]
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["qt"] == []
    assert res["poses"] > 20 and res["hands"] == res["poses"] and res["references"] > 0.8 * res["poses"]
