"""Windows, labels, splits and normalisation (asha_app.data.windows, .labels, .splits, .normalisation)."""

from pathlib import Path

import numpy as np
import pytest

from asha_app.data.importers.paired_myo_mediapipe import load_paired
from asha_app.data.recording import Prompt, Recording
from asha_app.core.errors import DatasetError
from asha_app.data.normalisation import Normalizer
from asha_app.data.splits import split_by_participants, split_by_repetitions, split_by_sessions, split_time_blocks
from asha_app.data.windows import WindowSpec, build_windows
from asha_app.dsp.filters import FilterSpec, filter_offline
from asha_app.models.dataset import WindowDataset

SLICE = Path(__file__).parent / "assets" / "paired_slice"
NOFILT50 = FilterSpec(50.0, band=None, notch_hz=None)


def ramp_recording(fs=500.0, seconds=20.0, label_hz=17.0, session="s1", participant="p1", n_ch=8):
    """EMG channel 0 = session time; label = 3 t + 1 at ~17 Hz camera frames (jittered)."""
    n = int(seconds * fs)
    t = np.arange(n) / fs + 100.0
    emg = np.random.default_rng(0).normal(size=(n, n_ch)).astype(np.float32)
    emg[:, 0] = t
    lt = np.arange(t[0], t[-1], 1.0 / label_hz) + np.random.default_rng(1).uniform(0, 0.01, int(np.ceil((t[-1] - t[0]) * label_hz)))[: len(np.arange(t[0], t[-1], 1.0 / label_hz))]
    y = (3.0 * lt + 1.0)[:, None].astype(np.float64)
    return Recording(emg=emg, emg_t=t, fs=fs, label_t=lt, targets=np.hstack([y, -y]).astype(np.float32),
                     valid=np.ones(len(lt), bool), target_names=["a", "b"],
                     meta={"session": session, "participant": participant})


@pytest.mark.parametrize("fs,lag_ms", [(500.0, 0.0), (200.0, 80.0), (100.0, -50.0), (50.0, 0.0)])
def test_window_ends_line_up_with_labels(fs, lag_ms):
    rec = ramp_recording(fs=fs)
    rec.emg = rec.emg.astype(np.float64)
    spec = WindowSpec(window_ms=200.0, stride_ms=30.0, label_lag_ms=lag_ms)
    ws = build_windows(rec, spec, FilterSpec(fs, band=None, notch_hz=None))
    W = spec.window_samples(fs)
    assert ws.window == W
    x = ws.x(np.arange(len(ws)))
    assert x.shape == (len(ws), 8, W)
    # the window's last sample is the sample at end_t, the first at start_t
    assert np.allclose(x[:, 0, -1], ws.end_t, atol=1e-3)
    assert np.allclose(x[:, 0, 0], ws.start_t, atol=1e-3)
    # the label is the pose at window end + lag (float32 labels of a 3t+1 ramp around t ~ 100 s)
    assert np.allclose(ws.label_time, ws.end_t + lag_ms / 1000.0)
    assert np.allclose(ws.y[:, 0], 3.0 * ws.label_time + 1.0, atol=2e-3)
    assert np.allclose(ws.y[:, 1], -(3.0 * ws.label_time + 1.0), atol=2e-3)
    # stride in ms
    assert np.allclose(np.diff(ws.end_t), round(30.0 * fs / 1000) / fs)


def test_windows_are_the_causally_filtered_signal():
    rec = ramp_recording(fs=500.0, seconds=6.0)
    spec = FilterSpec(500.0)  # the live default chain
    ws = build_windows(rec, WindowSpec(100.0, 50.0), spec)
    xf = filter_offline(rec.emg, spec)
    i = len(ws) // 2
    e = ws.ends[i]
    assert np.allclose(ws.x(np.array([i]))[0], xf[e - 49:e + 1].T, atol=1e-4)


def test_invalid_label_frames_drop_windows():
    rec = ramp_recording(fs=100.0)
    rec.valid[50:60] = False
    ws = build_windows(rec, WindowSpec(100.0, 10.0), FilterSpec(100.0, band=None, notch_hz=None))
    bad_lo, bad_hi = rec.label_t[49], rec.label_t[60]
    assert not np.any((ws.label_time > bad_lo) & (ws.label_time < bad_hi))
    assert np.any(ws.label_time <= bad_lo) and np.any(ws.label_time >= bad_hi)


def _check_gaps(ws, split, gap_s):
    a = split.assign
    keep = a >= 0
    for r in np.unique(ws.rec_index):
        sel = np.flatnonzero(keep & (ws.rec_index == r))
        lo = np.minimum(ws.start_t[sel], ws.label_time[sel])
        hi = np.maximum(ws.end_t[sel], ws.label_time[sel])
        sets = a[sel]
        for s1 in range(3):
            for s2 in range(3):
                if s1 == s2:
                    continue
                h1 = hi[sets == s1]
                l2 = lo[sets == s2]
                if len(h1) == 0 or len(l2) == 0:
                    continue
                # every window of s2 that starts after a window of s1 starts at least gap after it ends
                for h in h1[:: max(1, len(h1) // 200)]:
                    later = l2[l2 > h - 1e-9]
                    if len(later):
                        assert later.min() - h >= gap_s - 1e-9
                # and no overlap in time at all
                assert not np.any((l2[:, None] < h1[None, :]) & (hi[sets == s2][:, None] > lo[sets == s1][None, :]))


def test_time_block_split_has_gaps_and_no_straddling():
    rec = load_paired(SLICE)
    spec = WindowSpec(1000.0, 20.0, label_lag_ms=100.0)
    ws = build_windows(rec, spec, NOFILT50)
    split = split_time_blocks(ws, 5)
    c = split.counts()
    assert c["train"] > 0 and c["val"] > 0 and c["test"] > 0 and c["dropped"] > 0
    _check_gaps(ws, split, 1.0)
    with pytest.raises(DatasetError, match="at least one window"):
        split_time_blocks(ws, 5, gap_ms=500.0)
    # a larger gap drops more
    assert split_time_blocks(ws, 5, gap_ms=3000.0).counts()["dropped"] > c["dropped"]


def test_repetition_session_participant_splits():
    r1 = ramp_recording(fs=100.0, session="s1", participant="p1")
    r2 = ramp_recording(fs=100.0, session="s2", participant="p2")
    r1.prompts = [Prompt("fist", 100.0 + 4 * k, 100.0 + 4 * k + 2, repetition=k) for k in range(5)]
    ws = build_windows([r1, r2], WindowSpec(200.0, 10.0), FilterSpec(100.0, band=None, notch_hz=None))
    s = split_by_sessions(ws, {"s1": "train", "s2": "test"})
    assert set(ws.rec_index[s.indices("train")]) == {0} and set(ws.rec_index[s.indices("test")]) == {1}
    p = split_by_participants(ws, {"p2": "train"})
    assert p.counts()["train"] == int((ws.rec_index == 1).sum()) and p.counts()["test"] == 0
    with pytest.raises(DatasetError, match="test set empty"):
        p.check(("train", "test"))
    with pytest.raises(DatasetError, match="not in the data"):
        split_by_sessions(ws, {"s9": "train"})
    ws1 = build_windows(r1, WindowSpec(200.0, 10.0), FilterSpec(100.0, band=None, notch_hz=None))
    rep = split_by_repetitions(ws1, {0: "train", 1: "train", 2: "val", 3: "test", 4: "train"})
    _check_gaps(ws1, rep, 0.2)
    tr = ws1.label_time[rep.indices("test")]
    assert tr.min() >= 112.0 and tr.max() < 116.0  # repetition 3 runs from its start to the next prompt


def test_normaliser_uses_training_windows_only():
    rec = load_paired(SLICE)
    ws = build_windows(rec, WindowSpec(1000.0, 20.0), NOFILT50)
    split = split_time_blocks(ws, 5)
    n1 = Normalizer.fit(ws, split.indices("train"))
    test = split.indices("test")
    ws.emg[ws.ends[test]] *= 100.0  # corrupt test-window samples
    ws.y[test] += 1000.0
    n2 = Normalizer.fit(ws, split.indices("train"))
    assert np.allclose(n1.emg_std, n2.emg_std) and np.allclose(n1.target_mean, n2.target_mean)
    ds = WindowDataset(ws, split.indices("train"), n2)
    x, y = ds.batch(np.arange(len(ds)))
    assert abs(float(y.mean())) < 1e-3 and abs(float(y.std()) - 1.0) < 0.01
    assert Normalizer.from_dict(n2.to_dict()).emg_mean.tolist() == n2.emg_mean.tolist()


def test_bad_input_errors():
    rec = ramp_recording(fs=100.0)
    spec = WindowSpec(100.0, 10.0)
    f = FilterSpec(100.0, band=None, notch_hz=None)
    bad = ramp_recording(fs=100.0)
    bad.emg[123, 3] = np.nan
    with pytest.raises(DatasetError, match="NaN.*sample 123"):
        build_windows(bad, spec, f)
    nolab = ramp_recording(fs=100.0)
    nolab.valid[:] = False
    with pytest.raises(DatasetError, match="no valid label"):
        build_windows(nolab, spec, f)
    with pytest.raises(DatasetError, match="sampled at"):
        build_windows([rec, ramp_recording(fs=200.0)], spec, f)
    with pytest.raises(DatasetError, match="channels"):
        build_windows([rec, ramp_recording(fs=100.0, n_ch=4)], spec, f)
    with pytest.raises(DatasetError, match="filter"):
        build_windows(rec, spec, FilterSpec(500.0))


def test_nan_in_invalid_label_frames_is_harmless():
    """Session files keep NaN in invalid label frames: they must never leak into labels."""
    rec = ramp_recording(fs=100.0)
    rec.valid[30:33] = False
    rec.targets[30:33] = np.nan
    ws = build_windows(rec, WindowSpec(100.0, 10.0), FilterSpec(100.0, band=None, notch_hz=None))
    assert np.isfinite(ws.y).all()
    assert not np.any((ws.label_time > rec.label_t[29]) & (ws.label_time < rec.label_t[33]))
    # exactly on the last valid frame before an invalid one: kept, finite
    rec2 = ramp_recording(fs=100.0)
    rec2.label_t = np.round(rec2.label_t, 2)
    rec2.valid[31] = False
    rec2.targets[31] = np.nan
    ws2 = build_windows(rec2, WindowSpec(100.0, 10.0), FilterSpec(100.0, band=None, notch_hz=None))
    assert np.isfinite(ws2.y).all() and np.any(np.isclose(ws2.label_time, rec2.label_t[30]))


# ------------------------------------------------------------------------------------- one labels_at for everyone


def test_labels_at_gaps_and_invalid_frames_give_nan_and_not_ok():
    """The one interpolation of label frames: values between valid frames, NaN (never 0) where there is no label."""
    from asha_app.data.labels import labels_at

    lt = np.array([0.0, 0.1, 0.2, 0.3, 0.9, 1.0, 1.1])
    y = np.stack([10 * lt, -lt], 1)
    valid = np.array([True, True, False, True, True, True, True])
    y[2] = np.nan  # invalid frames hold NaN in session files
    y[5, 1] = np.inf  # a non-finite value makes a frame invalid even when flagged valid
    tq = np.array([-0.05, 0.0, 0.05, 0.1, 0.15, 0.25, 0.3, 0.6, 0.9, 0.95, 1.05, 1.1, 1.2])
    vals, ok = labels_at(lt, y, valid, tq, max_gap_s=0.25)
    want_ok = [False,  # before the first frame
               True, True, True,  # on a frame / between two valid frames / on a frame
               False, False,  # next to the invalid frame at 0.2
               True,  # on the valid frame at 0.3 although its predecessor is invalid
               False,  # 0.3 -> 0.9 is a gap wider than 0.25 s
               True,  # on a frame
               False, False,  # next to the frame with an infinite value
               True,  # on the last frame
               False]  # after the last frame
    assert ok.tolist() == want_ok
    assert vals.dtype == np.float32 and np.isnan(vals[~ok]).all() and np.isfinite(vals[ok]).all()
    np.testing.assert_allclose(vals[ok, 0], 10 * tq[ok], atol=1e-5)  # exact linear interpolation of 10 t
    # unsorted frames are sorted first; a missing validity flag means "every finite frame"
    order = np.random.default_rng(0).permutation(len(lt))
    v2, ok2 = labels_at(lt[order], y[order], valid[order], tq, 0.25)
    assert ok2.tolist() == want_ok and np.array_equal(np.isnan(v2), np.isnan(vals))
    y_flagged_only = y.copy()
    y_flagged_only[2] = [2.0, -0.2]
    _, ok3 = labels_at(lt, y_flagged_only, None, tq, 0.25)
    assert ok3[4] and not ok3[9]  # without flags the finite frame at 0.2 counts; the inf frame still does not
    assert labels_at(np.zeros(0), np.zeros((0, 2)), np.zeros(0, bool), tq, 0.25)[1].sum() == 0


def test_training_windows_and_exports_share_labels_at():
    """Windows and exports label the same times identically (both through data.labels.labels_at)."""
    from asha_app.data.labels import pose_labels

    rec = ramp_recording(fs=100.0)
    rec.valid[40:44] = False
    rec.targets[40:44] = np.nan
    spec = WindowSpec(100.0, 10.0, max_label_gap_ms=100.0)
    ws = build_windows(rec, spec, FilterSpec(100.0, band=None, notch_hz=None))
    y, ok = pose_labels(rec, ws.label_time, max_gap_s=0.1)
    assert ok.all()
    np.testing.assert_array_equal(y, ws.y)
    every = rec.emg_t
    y_all, ok_all = pose_labels(rec, every, max_gap_s=0.1)
    assert not ok_all.all() and np.isnan(y_all[~ok_all]).all()
    assert not np.isin(np.round(every[~ok_all], 6), np.round(ws.label_time, 6)).any()  # unlabelled: no window


# ------------------------------------------------------------------------------------------- one split module


def test_make_split_knows_every_kind_and_matches_the_split_functions():
    from asha_app.data.splits import SPLIT_KINDS, make_split

    r1 = ramp_recording(fs=100.0, session="s1", participant="p1")
    r2 = ramp_recording(fs=100.0, session="s2", participant="p2")
    r3 = ramp_recording(fs=100.0, session="s3", participant="p2")
    for r in (r1, r2, r3):
        r.prompts = [Prompt("fist", 100.0 + 4 * k, 100.0 + 4 * k + 2, repetition=k) for k in range(5)]
    ws = build_windows([r1, r2, r3], WindowSpec(200.0, 10.0), FilterSpec(100.0, band=None, notch_hz=None))
    args = {"time_blocks": {"n_blocks": 5, "gap_ms": 400.0},
            "repetitions": {"assign_rep": {0: "train", 1: "train", 2: "val", 3: "test", 4: "unused"}},
            "sessions": {"assign_session": {"s1": "train", "s2": "val", "s3": "test"}},
            "participants": {"assign_participant": {"p1": "train", "p2": "test"}}}
    direct = {"time_blocks": split_time_blocks(ws, 5, gap_ms=400.0),
              "repetitions": split_by_repetitions(ws, {0: "train", 1: "train", 2: "val", 3: "test"}),
              "sessions": split_by_sessions(ws, {"s1": "train", "s2": "val", "s3": "test"}),
              "participants": split_by_participants(ws, {"p1": "train", "p2": "test"})}
    assert set(SPLIT_KINDS) == set(args)
    for kind in SPLIT_KINDS:
        s = make_split(ws, kind, **args[kind])
        assert s.kind == kind and np.array_equal(s.assign, direct[kind].assign), kind
        assert s.counts()["train"] > 0
    # repetition 4 ("unused") is dropped, exactly like a repetition not named
    rep = make_split(ws, "repetitions", **args["repetitions"])
    last = ws.label_time >= 116.0 + 0.2
    assert (rep.assign[last] == -1).all()
    with pytest.raises(DatasetError, match="unknown split kind"):
        make_split(ws, "random")
    with pytest.raises(DatasetError, match="takes assign_session"):
        make_split(ws, "sessions", n_blocks=3)
    with pytest.raises(DatasetError, match="unknown set name"):
        make_split(ws, "participants", assign_participant={"p1": "training"})


def test_prepare_splits_by_repetitions_like_the_wizard():
    """models.train.prepare takes every split kind: the wizard's repetition split goes the same way as the CLI's."""
    from asha_app.models import train as T
    from asha_app.models.plan import TrainingPlan, prepare_plan

    r1 = ramp_recording(fs=100.0, seconds=40.0)
    r1.prompts = [Prompt("fist", 100.0 + 4 * k, 100.0 + 4 * k + 2, repetition=k) for k in range(10)]
    split_args = {"assign_rep": {k: "train" for k in range(7)} | {7: "val", 8: "test", 9: "unused"}, "gap_ms": 300.0}
    job = T.prepare(r1, model_name="ridge", window=WindowSpec(200.0, 20.0), split_kind="repetitions",
                    split_args=split_args, filter_spec=FilterSpec(100.0, band=None, notch_hz=None))
    plan = TrainingPlan([r1], model_name="ridge", window_ms=200.0, stride_ms=20.0, split_kind="repetitions",
                        split_args={**split_args, "n_blocks": 5}, filter_spec=FilterSpec(100.0, band=None, notch_hz=None))
    prepared = prepare_plan(plan)
    assert prepared.job.split.kind == "repetitions" and prepared.job.split.info["gap_ms"] == 300.0
    assert np.array_equal(prepared.job.split.assign, job.split.assign)
    assert prepared.counts()["test"] > 0 and prepared.counts()["val"] > 0
    assert np.allclose(prepared.job.norm.emg_mean, job.norm.emg_mean)
