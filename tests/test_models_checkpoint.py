"""Checkpoint round trip, validation errors, streaming == batch, metrics and the report."""

from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
import torch

from asha_app.data.importers.paired_myo_mediapipe import load_paired
from asha_app.data.windows import WindowSpec, build_windows
from asha_app.dsp.filters import FilterSpec
from asha_app.models import checkpoint as C
from asha_app.models import metrics as M
from asha_app.models import train as T
from asha_app.models.dataset import WindowDataset
from asha_app.models.report import write_report

SLICE = Path(__file__).parent / "assets" / "paired_slice"
# a real (causal, stateful) filter chain at 50 Hz so streaming must carry filter state correctly
FILT = FilterSpec(50.0, band=(0.5, 20.0), order=2, notch_hz=None)
torch.set_num_threads(1)


@lru_cache(maxsize=1)
def paired():
    return load_paired(SLICE)


@lru_cache(maxsize=4)
def trained(name):
    job = T.prepare(paired(), model_name=name, window=WindowSpec(1000.0, 60.0), filter_spec=FILT,
                    split_args={"n_blocks": 5})
    ev = list(T.run(job, T.TrainConfig(max_epochs=2, progress_every=0)))[-1]
    return job, ev.checkpoint


@pytest.mark.parametrize("name", ["ridge", "seed", "envtcn", "msenv", "riemann", "msriem"])
def test_round_trip_gives_identical_predictions(name, tmp_path):
    job, ck = trained(name)
    path = C.save(ck, tmp_path / f"{name}.pt")
    ck2 = C.load(path, n_channels=8, fs=50.0)
    for key in ("model_name", "model_config", "channel_names", "fs", "window", "filter_spec", "target_names",
                "history"):
        assert getattr(ck2, key) == getattr(ck, key)
    assert ck2.versions["torch"] == str(torch.__version__) and ck2.metrics["test"]["n"] > 0
    ds = WindowDataset(job.ws, job.split.indices("test"), ck2.normalizer, ck2.history)
    assert np.array_equal(T.predict(ck2.build_model(), ds), T.predict(job.model, ds))


@pytest.mark.parametrize("name", ["ridge", "seed", "envtcn", "msenv", "riemann", "msriem"])
def test_streaming_equals_batch(name):
    """Raw EMG fed in random chunk sizes through filter + normalisation + ring = the batch windows' outputs."""
    job, ck = trained(name)
    rec = paired()
    runner = ck.runner(stride=1)
    rng = np.random.default_rng(0)
    n = 1500
    pos, idx, outs = 0, [], []
    while pos < n:
        k = min(int(rng.integers(1, 40)), n - pos)
        i, y = runner.process(rec.emg[pos:pos + k])
        idx.append(i)
        outs.append(y)
        pos += k
    idx, outs = np.concatenate(idx), np.concatenate(outs)
    assert idx[0] == ck.history - 1 and np.all(np.diff(idx) == 1) and idx[-1] == n - 1
    # batch: windows of the same filtered signal ending at the same samples
    ws = build_windows(rec, WindowSpec(ck.window.window_ms, 20.0), FILT, "targets")
    sel = np.flatnonzero(ws.ends < n)
    ds = WindowDataset(ws, sel, ck.normalizer, ck.history)
    batch = ck.normalizer.y_inverse(T.predict(ck.build_model(), ds))
    stream = outs[np.searchsorted(idx, ws.ends[sel])]
    assert np.abs(stream - batch).max() < 1e-3 * (1 + np.abs(batch).max())


def test_load_rejects_foreign_versions_and_mismatches(tmp_path):
    _, ck = trained("ridge")
    path = C.save(ck, tmp_path / "m.pt")
    with pytest.raises(C.CheckpointMismatchError, match="8 EMG channels.*has 16"):
        C.load(path, n_channels=16)
    with pytest.raises(C.CheckpointMismatchError, match="50 Hz.*500 Hz"):
        C.load(path, fs=500.0)
    ck.device = "myo-minivie"
    C.save(ck, path)
    with pytest.raises(C.CheckpointMismatchError, match="device"):
        C.load(path, device="mindrove-wifi")
    d = torch.load(path, weights_only=True)
    d["format_version"] = 99
    torch.save(d, tmp_path / "v99.pt")
    with pytest.raises(C.CheckpointError, match="format version 99"):
        C.load(tmp_path / "v99.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(C.CheckpointError, match="not a readable"):
        C.load(tmp_path / "junk.pt")
    with pytest.raises(C.CheckpointError, match="does not exist"):
        C.load(tmp_path / "missing.pt")
    # the fine-tuning path validates before touching weights
    rec = paired()
    import copy

    r4 = copy.deepcopy(rec)
    r4.emg = r4.emg[:, :4]
    with pytest.raises(C.CheckpointMismatchError, match="channels"):
        next(T.finetune(ck, r4))


def test_metrics_definitions():
    rng = np.random.default_rng(0)
    true = rng.normal(size=(50, 21, 3)) * 30
    pred = true + 5.0  # a pure translation: zero wrist-relative error
    assert M.mpjpe_wrist_rel_mm(pred, true) == pytest.approx(0.0, abs=1e-9)
    pred2 = true.copy()
    pred2[:, 8] += np.array([0.0, 12.0, 0.0])  # index tip 12 mm off
    m = M.joint_metrics(pred2, true)
    assert m["mpjpe_wrist_rel_mm"] == pytest.approx(12.0 / 21)
    assert m["pck10_wrist_rel"] == pytest.approx(20 / 21) and m["pck20_wrist_rel"] == 1.0
    assert m["per_finger_mpjpe_wrist_rel_mm"]["index"] == pytest.approx(3.0)
    assert m["per_joint_mpjpe_wrist_rel_mm"]["index_tip"] == pytest.approx(12.0)
    y = rng.normal(size=(100, 2))
    assert np.allclose(M.r2_per_target(y, y), 1.0)
    assert np.allclose(M.r2_per_target(np.zeros_like(y) + y.mean(0), y), 0.0)
    e = M.evaluate(y + [1.0, -2.0], y, ["thumb", "index"], "targets")  # finger flexions: degrees
    assert e["mae_per_target"] == pytest.approx({"thumb": 1.0, "index": 2.0})
    assert e["mean_angle_error_deg"] == pytest.approx(1.5)
    assert e["units"] == "deg" and e["mae_per_finger"] == pytest.approx({"thumb": 1.0, "index": 2.0})
    g = M.evaluate(y + [1.0, -2.0], y, ["glove_1", "glove_2"], "targets")  # glove channels are not angles
    assert g["units"] == "glove units" and "mean_angle_error_deg" not in g and g["mae_mean"] == pytest.approx(1.5)


def test_report_files(tmp_path):
    job, ck = trained("ridge")
    m, yt, yp = T.evaluate_job(job, set_name="test")
    files = write_report(tmp_path / "m.pt", m, job.ws.label_time[job.split.indices("test")], yt, yp,
                         job.ws.target_names)
    for k in ("json", "bars", "traces", "html"):
        assert Path(files[k]).stat().st_size > 100
    assert Path(files["bars"]).read_bytes()[:4] == b"\x89PNG"
    assert "report_bars.png" in Path(files["html"]).read_text()


@pytest.mark.parametrize("name", ["envtcn", "msenv"])
def test_stateful_one_sample_steps_equal_batch(name):
    """A stateful model's frozen one-sample step (the live path) == batch windows, after the warm-up."""
    job, ck = trained(name)
    rec = paired()
    runner = ck.runner(stride=3)
    assert runner.stateful and runner._step is not None
    idx, outs = [], []
    for i in range(ck.history + 250):
        j, y = runner.process(rec.emg[i:i + 1])
        idx.append(j)
        outs.append(y)
    idx, outs = np.concatenate(idx), np.concatenate(outs)
    assert np.all(np.diff(idx) == 3) and idx[0] == ck.history - 1
    ws = build_windows(rec, WindowSpec(ck.window.window_ms, 20.0), FILT, "targets")
    sel = np.flatnonzero(np.isin(ws.ends, idx))
    batch = ck.normalizer.y_inverse(T.predict(ck.build_model(), WindowDataset(ws, sel, ck.normalizer, ck.history)))
    stream = outs[np.searchsorted(idx, ws.ends[sel])]
    assert len(sel) > 50 and np.abs(stream - batch).max() < 1e-3 * (1 + np.abs(batch).max())
    frozen = ck.build_model().frozen()
    xn = torch.from_numpy(ck.normalizer.emg(ws.x(sel[:1], ck.history)))
    assert torch.allclose(frozen(xn), ck.build_model()(xn), atol=1e-4)


def test_hand_model_mpjpe_of_flexion_targets():
    hm = pytest.importorskip("asha_app.pose.hand_model")
    hand = hm.HandModel.builtin("right")
    names = ["thumb", "index", "middle", "ring", "little"]
    true = np.full((4, 5), 170.0)
    pred = true.copy()
    pred[:, 1] = 110.0  # index bent by 60 deg more
    m = M.evaluate(pred, true, names, "targets", hand)
    f = m["hand_model_per_finger_mpjpe_wrist_rel_mm"]
    assert f["index"] > 10 and f["thumb"] == pytest.approx(0, abs=1e-6) and f["ring"] == pytest.approx(0, abs=1e-6)
    assert m["hand_model_mpjpe_wrist_rel_mm"] == pytest.approx(f["index"] * 4 / 21)
    assert M.evaluate(true, true, names, "targets", hand)["hand_model_mpjpe_wrist_rel_mm"] == pytest.approx(0, abs=1e-9)
