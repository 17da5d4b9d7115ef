"""RunningNorm for the pose models (issue 14): training, checkpoint, live runner, evaluation, calibration and CLI
all follow the checkpoint's normalisation kind; old checkpoints load as fixed."""

import argparse
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
import torch

from asha_app.core.errors import DatasetError
from asha_app.core.jsonout import loads_strict
from asha_app.data.importers.paired_myo_mediapipe import load_paired
from asha_app.data.normalisation import Normalizer
from asha_app.data.windows import WindowSpec, build_windows
from asha_app.dsp.filters import FilterSpec
from asha_app.models import checkpoint as C
from asha_app.models import train as T
from asha_app.models.commands import register
from asha_app.models.dataset import WindowDataset
from asha_app.models.recordings_io import save_npz

SLICE = Path(__file__).parent / "assets" / "paired_slice"
# a real causal filter chain, so the runner must carry filter AND normalisation state
FILT = FilterSpec(50.0, band=(0.5, 20.0), order=2, notch_hz=None)
TAU = 5.0  # s: short against the 75 s slice, so the running statistics move a lot
torch.set_num_threads(1)


@lru_cache(maxsize=1)
def paired():
    return load_paired(SLICE)


@lru_cache(maxsize=4)
def trained(name, kind="running"):
    job = T.prepare(paired(), model_name=name, window=WindowSpec(1000.0, 60.0), filter_spec=FILT,
                    split_args={"n_blocks": 5}, norm=kind, tau_s=TAU)
    ev = list(T.run(job, T.TrainConfig(max_epochs=2, progress_every=0)))[-1]
    return job, ev.checkpoint


def _stream(ck, emg, seed=0):
    """The checkpoint's live runner fed ``emg`` in random chunk sizes: (sample index, pose) of every output."""
    runner = ck.runner(stride=1)
    rng = np.random.default_rng(seed)
    pos, idx, outs = 0, [], []
    while pos < len(emg):
        k = min(int(rng.integers(1, 40)), len(emg) - pos)
        i, y = runner.process(emg[pos:pos + k])
        idx.append(i)
        outs.append(y)
        pos += k
    return runner, np.concatenate(idx), np.concatenate(outs)


@pytest.mark.parametrize("name", ["ridge", "msenv"])
def test_running_checkpoint_streams_like_batch_on_the_real_recording(name, tmp_path):
    """Train with RunningNorm -> save/load -> live runner in random chunks == batch predictions on the windows of the
    offline-normalised recording; reset starts the normalisation again from its prior."""
    job, ck = trained(name)
    assert job.norm.kind == "running" and ck.training["norm"] == {"kind": "running", "tau_s": TAU, "log_input": False}
    ck = C.load(C.save(ck, tmp_path / "run.pt"), n_channels=8, fs=50.0)
    assert ck.normalizer.kind == "running" and ck.normalizer.tau_s == TAU
    rec = paired()
    n = 2000
    runner, idx, stream = _stream(ck, rec.emg[:n])
    assert idx[0] == ck.history - 1 and np.all(np.diff(idx) == 1) and idx[-1] == n - 1
    ws = build_windows(rec, WindowSpec(ck.window.window_ms, 20.0), FILT, "targets")
    sel = np.flatnonzero(ws.ends < n)
    batch = ck.normalizer.y_inverse(T.predict(ck.build_model(), WindowDataset(ws, sel, ck.normalizer, ck.history)))
    got = stream[np.searchsorted(idx, ws.ends[sel])]
    assert np.abs(got - batch).max() < 1e-3 * (1 + np.abs(batch).max())
    # the same weights with the same statistics held fixed predict something else: the running kind is in use
    fixed = Normalizer(ck.normalizer.emg_mean, ck.normalizer.emg_std, ck.normalizer.target_mean,
                       ck.normalizer.target_std)
    other = fixed.y_inverse(T.predict(ck.build_model(), WindowDataset(ws, sel, fixed, ck.history)))
    assert np.abs(other - batch).max() > 0.05 * np.abs(batch).max()
    # a new stream (reset) starts from the prior again: the same first outputs as the first stream
    runner.reset()
    i2, y2 = runner.process(rec.emg[:500])
    assert np.array_equal(i2, idx[:len(i2)]) and np.allclose(y2, stream[:len(i2)], atol=1e-4)


def test_running_norm_of_a_recording_chunked_equals_whole():
    """The normaliser's live form (any chunks) == its offline form over the whole recording (what training used)."""
    job, _ = trained("ridge")
    x = paired().emg.astype(np.float64)
    whole = job.norm.emg_recording(x, 50.0)
    s = job.norm.emg_streamer(50.0)
    cuts = np.cumsum(np.random.default_rng(1).integers(0, 50, 200))
    parts = [s.process(c) for c in np.split(x, cuts[cuts < len(x)])]
    assert np.allclose(np.concatenate(parts), whole, atol=1e-5)
    # and it follows the signal: late samples are near zero mean and unit variance per channel
    late = whole[len(whole) // 2:]
    assert np.all(np.abs(late.mean(0)) < 0.5) and np.all(np.abs(late.std(0) - 1.0) < 0.5)
    with pytest.raises(ValueError, match="running normalisation depends on the recording's past"):
        job.norm.emg_rows(x)


def test_checkpoint_without_the_kind_loads_as_fixed(tmp_path):
    """A checkpoint written before the choice existed (no kind in its normalizer) is fixed, and a fixed one is
    still written in that layout."""
    _, ck = trained("ridge", "fixed")
    path = C.save(ck, tmp_path / "fixed.pt")
    d = torch.load(path, weights_only=True)
    assert set(d["normalizer"]) == {"emg_mean", "emg_std", "target_mean", "target_std"}
    _, run = trained("ridge")
    d = torch.load(C.save(run, tmp_path / "run.pt"), weights_only=True)
    assert d["normalizer"]["kind"] == "running"
    for k in ("kind", "tau_s", "log_eps"):
        del d["normalizer"][k]
    torch.save(d, tmp_path / "old.pt")
    old = C.load(tmp_path / "old.pt")
    assert old.normalizer.kind == "fixed" and old.normalizer.per_window
    x = paired().emg[:300]
    assert np.array_equal(old.normalizer.emg_streamer(50.0).process(x), old.normalizer.emg_rows(x))
    d["normalizer"]["kind"] = "sliding"
    torch.save(d, tmp_path / "bad.pt")
    with pytest.raises(C.CheckpointError, match="damaged.*sliding"):
        C.load(tmp_path / "bad.pt")
    with pytest.raises(DatasetError, match="unknown normalisation 'sliding'"):
        T.prepare(paired(), model_name="ridge", window=WindowSpec(1000.0, 60.0), norm="sliding")


def test_calibration_of_a_running_checkpoint_keeps_running():
    """Fine-tuning (the wizard's and `asha calibrate`'s path) normalises the new data with the checkpoint's running
    normalisation and hands it on unchanged."""
    _, ck = trained("msenv")
    last = list(T.finetune(ck, paired(), mode="all", cfg=T.TrainConfig(max_epochs=1, progress_every=0)))[-1]
    new = last.checkpoint
    assert new.normalizer.kind == "running" and new.normalizer.tau_s == TAU
    assert np.array_equal(new.normalizer.emg_mean, ck.normalizer.emg_mean)
    assert np.isfinite(new.metrics["val"]["mae_mean"])


def parser():
    p = argparse.ArgumentParser(prog="asha")
    register(p.add_subparsers(dest="command", required=True))
    return p


def test_asha_train_norm_running_writes_a_running_checkpoint_that_evaluate_follows(tmp_path, capsys):
    npz = save_npz(paired(), tmp_path / "slice.npz")
    out = tmp_path / "m.pt"
    a = parser().parse_args(["train", str(npz), "--model", "ridge", "--out", str(out), "--blocks", "5",
                             "--stride-ms", "40", "--threads", "1", "--norm", "running", "--tau-s", "7.5"])
    assert a.func(a) == 0, capsys.readouterr().err
    res = loads_strict(capsys.readouterr().out.strip().splitlines()[-1])
    assert res["norm"] == {"kind": "running", "tau_s": 7.5, "log_input": False}
    assert "running normalisation (tau 7.5 s)" in Path(res["report"]["html"]).read_text()
    ck = C.load(out)
    assert ck.normalizer.kind == "running" and ck.normalizer.tau_s == 7.5
    # asha evaluate follows the kind: its figures are those of the live runner streaming the whole recording
    a = parser().parse_args(["evaluate", str(out), str(npz)])
    assert a.func(a) == 0, capsys.readouterr().err
    m = loads_strict(capsys.readouterr().out.strip().splitlines()[-1])
    rec = paired()
    ws = build_windows(rec, ck.window, ck.filter_spec, ck.target_kind)
    idx, stream = _stream(ck, rec.emg)[1:]
    err = np.abs(stream[np.searchsorted(idx, ws.ends)] - ws.y).mean()
    assert m["mae_mean"] == pytest.approx(err, rel=1e-3)
    # the pose default stays fixed
    a = parser().parse_args(["train", str(npz), "--model", "ridge", "--out", str(tmp_path / "f.pt"), "--blocks",
                             "5", "--stride-ms", "40", "--threads", "1"])
    assert a.func(a) == 0
    assert loads_strict(capsys.readouterr().out.strip().splitlines()[-1])["norm"]["kind"] == "fixed"
    assert C.load(tmp_path / "f.pt").normalizer.kind == "fixed"
