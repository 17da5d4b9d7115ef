"""Gesture mode, Qt-free: labels from prompts/markers, RunningNorm, classifiers, streaming == batch, subsets."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from asha_app.core.errors import DatasetError
from asha_app.data.recording import Prompt, Recording
from asha_app.data.windows import WindowSpec
from asha_app.dsp.filters import FilterSpec
from asha_app.dsp.running_norm import RunningNorm, RunningNormSpec, running_norm_offline
from asha_app.gestures import labels as GL
from asha_app.gestures.datasets import demo_gesture_recording
from asha_app.gestures.models import masked_argmax
from asha_app.gestures.streaming import GestureRunner, MajorityVote
from asha_app.gestures.train import (GestureError, GestureNorm, TrainConfig, adapt, check_subset, evaluate, fit,
                                     load_gesture_checkpoint, make_checkpoint, new_model, norm_of, prepare)
from asha_app.gestures.windows import build_gesture_windows
from asha_app.models import checkpoint as C


def _rec(prompts, seconds=20.0, fs=200.0, seed=0, extras=None, meta=None):
    n = int(seconds * fs)
    rng = np.random.default_rng(seed)
    return Recording(emg=rng.normal(size=(n, 4)).astype(np.float32), emg_t=np.arange(n) / fs, fs=fs,
                     prompts=prompts, extras=extras or {}, meta=meta or {"session": "s", "participant": "p"})


@pytest.fixture(scope="module")
def demo():
    return demo_gesture_recording()


# ------------------------------------------------------------------------------------------------ labels


def test_prompts_become_gestures_with_rest_between():
    rec = _rec([Prompt("Fist", 2.0, 4.0, 0), Prompt("open", 6.0, 8.0, 0), Prompt("note", 9.0, 9.0, -1),
                Prompt("Rest", 10.0, 12.0, 1), Prompt("fist", 12.0, 14.0, 1)])
    tl = GL.gesture_timeline(rec)
    assert tl.source == "prompts"
    names, _ = tl.label_at(np.array([1.0, 3.0, 5.0, 7.0, 9.0, 11.0, 13.0, 15.0]))
    # the free marker at 9 s is not a gesture; an explicit "Rest" prompt is rest; names are canonical
    assert list(names) == ["rest", "fist", "rest", "open", "rest", "rest", "fist", "rest"]
    assert tl.gestures == ["rest", "fist", "open"]


def test_settling_time_and_straddling_windows_are_not_clean():
    rec = _rec([Prompt("fist", 2.0, 4.0, 0)])
    tl = GL.gesture_timeline(rec, settle_s=0.5)
    names, clean = tl.window_labels(np.array([2.1, 2.6, 1.8, 3.5]), np.array([2.3, 2.8, 2.2, 4.1]))
    assert list(names) == ["fist", "fist", "fist", "rest"]
    assert list(clean) == [False, True, False, False]


def test_markers_become_gestures(demo):
    """The demo's real gesture markers (code = label + 1, names stored with the session) label the stream."""
    tl = GL.gesture_timeline(demo)
    assert tl.source == "markers"
    assert tl.gestures == ["rest", "fist", "pronation", "radial deviation", "supination", "ulnar deviation",
                           "wrist extension", "wrist flexion"]
    # the demo: 20 s per gesture, rest 5 s / gesture 5 s / rest 5 s / gesture 5 s, flexion first
    names, _ = tl.label_at(np.array([2.5, 7.5, 12.5, 17.5, 27.5, 137.5]))
    assert list(names) == ["rest", "wrist flexion", "rest", "wrist flexion", "wrist extension", "fist"]
    codes = demo.extras["emg/marker"]
    first = np.flatnonzero(codes)[1]
    assert abs(tl.change_t[0] - demo.emg_t[first]) < 1e-9


def test_unnamed_markers_are_ignored():
    n = 4000
    codes = np.zeros(n)
    codes[[1000, 2000]] = [100.0, 2.0]
    rec = _rec([], extras={"emg/marker": codes}, meta={"device": {"marker_names": {"2": "fist", "1": "rest"}}})
    tl = GL.gesture_timeline(rec)
    assert list(tl.change_t) == [pytest.approx(rec.emg_t[2000])]
    assert tl.labels == ["fist"]


def test_no_gesture_labels_says_so_and_offers_pose():
    rec = _rec([Prompt("marker", 3.0, 3.0, -1)])
    with pytest.raises(DatasetError, match="no gesture labels.*pose"):
        GL.gesture_timeline(rec)


def test_class_with_too_few_windows_is_named():
    prompts = [Prompt("fist", 2.0 + 4 * k, 4.0 + 4 * k, k) for k in range(4)] + [Prompt("pinch", 18.5, 19.2, 0)]
    rec = _rec(prompts, seconds=20.0)
    with pytest.raises(DatasetError, match=r"'pinch' has \d window.*at least 8"):
        prepare(rec, WindowSpec(200, 50), FilterSpec(fs=200, band=None, notch_hz=None), split="time_blocks",
                split_args={"n_blocks": 1, "pattern": ["train"]})


# ------------------------------------------------------------------------------------------------ RunningNorm


def test_running_norm_chunked_equals_whole():
    rng = np.random.default_rng(1)
    x = rng.normal(3.0, 2.0, (5000, 3)) * np.array([1.0, 10.0, 0.1])
    spec = RunningNormSpec(2.0, (0.0, 0.0, 0.0), (1.0, 1.0, 1.0))
    whole = running_norm_offline(x, spec, 500.0)
    rn = RunningNorm(spec, 500.0)
    cuts = [0, 1, 2, 40, 41, 1000, 1003, 5000]
    parts = [rn.process(x[a:b]) for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
    assert np.allclose(np.concatenate(parts), whole, rtol=1e-6, atol=1e-6)
    # after a few time constants every channel is near zero mean and unit variance, whatever its gain
    tail = whole[-2000:]
    assert np.allclose(tail.mean(0), 0.0, atol=0.2) and np.allclose(tail.std(0), 1.0, atol=0.2)


def test_running_norm_starts_from_the_prior_and_holds_over_nan():
    spec = RunningNormSpec(10.0, (5.0,), (2.0,))
    rn = RunningNorm(spec, 100.0)
    y = rn.process(np.array([[7.0]]))
    assert y[0, 0] == pytest.approx(1.0, rel=0.02)  # (7 - 5) / 2 with the prior
    m, s = rn.mean.copy(), rn.std.copy()
    y = rn.process(np.array([[np.nan]]))
    assert np.isnan(y[0, 0]) and np.allclose(rn.mean, m) and np.allclose(rn.std, s)


# ------------------------------------------------------------------------------------------------ classifiers


@pytest.fixture(scope="module")
def demo_job(demo):
    # occurrence 0 of every gesture trains, occurrence 1 tests (the demo holds each gesture twice)
    return prepare(demo, WindowSpec(500, 100), FilterSpec(fs=500), split="repetitions",
                   split_args={"assign_rep": {0: "train", 1: "test"}}, norm="running", tau_s=20.0)


def test_lda_classifies_the_demo_above_chance(demo_job):
    m = new_model("lda", demo_job)
    fit(m, demo_job)
    res = evaluate(m, demo_job, demo_job.split.indices("test"))
    assert res["n"] > 100 and set(res["per_class"]) == set(demo_job.classes)
    chance = 1.0 / len(demo_job.classes)
    assert res["balanced_accuracy"] > 3 * chance, res
    assert np.asarray(res["confusion"]).sum() == res["n"]


@pytest.mark.parametrize("name,norm", [("lda", "fixed"), ("lda", "running"), ("mhcnn", "running"),
                                       ("proto", "fixed"), ("mlp", "running"), ("mlpx", "running")])
def test_streaming_equals_batch(demo, name, norm):
    job = prepare(demo, WindowSpec(500, 100), FilterSpec(fs=500), split="repetitions",
                  split_args={"assign_rep": {0: "train", 1: "test"}}, norm=norm, tau_s=20.0)
    torch.manual_seed(0)
    m = new_model(name, job)
    fit(m, job, TrainConfig(max_epochs=1, batch_size=512))
    ck = make_checkpoint(job, m)
    raw = demo.emg[:9000]
    runner = GestureRunner(ck.build_model(), ck.filter_spec, norm_of(ck), ck.fs, stride=20)
    cuts = [0, 7, 130, 131, 2000, 4096, 9000]
    outs = [runner.process(raw[a:b]) for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
    idx = np.concatenate([o[0] for o in outs])
    scores = np.concatenate([o[1] for o in outs])
    # batch: the offline pipeline (filter -> normalisation -> model on the window ending at each index)
    from asha_app.dsp.filters import filter_offline
    from asha_app.gestures.train import predict_scores, windows_of

    xn = norm_of(ck).apply(filter_offline(raw, ck.filter_spec), ck.fs)
    batch = predict_scores(ck.build_model(), windows_of(xn, idx, m.history))
    assert len(idx) == (9000 - m.history) // 20 + 1 and np.all(np.diff(idx) == 20)
    assert np.allclose(scores, batch, atol=2e-4, rtol=1e-4)


def test_log_input_is_taken_for_rectified_envelopes_only(demo):
    args = dict(split="repetitions", split_args={"assign_rep": {0: "train", 1: "test"}}, norm="running", tau_s=20.0)
    raw = prepare(demo, WindowSpec(500, 100), FilterSpec(fs=500), **args)
    assert raw.norm.log_eps is None  # band-passed sEMG swings around zero: no log
    rectified = dataclasses.replace(demo, emg=np.abs(demo.emg))  # as a device's RMS envelope: never below zero
    env = prepare(rectified, WindowSpec(500, 100), FilterSpec(fs=500, band=None, notch_hz=None), **args)
    assert env.ws.emg.min() >= 0 and env.norm.log_eps is not None
    # the normalised log envelope is what the model sees, live and in training alike
    x = env.ws.emg[:2000]
    assert np.allclose(env.norm.streamer(500.0).process(x), env.norm.apply(x, 500.0), atol=1e-5)
    assert np.isfinite(env.xn).all()


def test_gain_augmentation_scales_linear_inputs_and_leaves_log_inputs():
    from asha_app.gestures.train import _gain_augment

    x = torch.ones(4, 3, 10)
    lin = GestureNorm("fixed", np.zeros(3, np.float32), np.ones(3, np.float32))
    log = GestureNorm("fixed", np.zeros(3, np.float32), np.full(3, 2.0, np.float32), log_eps=0.1)
    y = _gain_augment(x, np.random.default_rng(0), 0.3, lin)
    assert torch.all(y > 0) and not torch.allclose(y, x)  # a factor per window and channel, sign kept
    assert torch.allclose(y, y[..., :1].expand_as(y))
    assert torch.equal(_gain_augment(x, np.random.default_rng(0), 0.3, log), x)


def test_mlp_ensemble_scores_are_the_members_mean_probabilities(demo_job):
    torch.manual_seed(0)
    m = new_model("mlp", demo_job, {"members": 3})
    fit(m, demo_job, TrainConfig(max_epochs=2, batch_size=512))
    x = torch.from_numpy(demo_job.x(demo_job.split.indices("test")[:64], m.history))
    with torch.no_grad():
        members = torch.softmax(m.member_logits(x), dim=-1)
        scores = m(x)
    assert members.shape[0] == 3 and not torch.allclose(members[0], members[1])  # trained apart, they differ
    assert torch.allclose(torch.softmax(scores, -1), members.mean(0), atol=1e-5)
    assert len(m.head_modules()) == 3  # calibration fine-tunes every member's output layer
    res = evaluate(m, demo_job, demo_job.split.indices("test"))
    assert res["balanced_accuracy"] > 2.0 / len(demo_job.classes)


def test_mlp_correlation_features_are_pairwise_and_gain_free(demo_job):
    m = new_model("mlp", demo_job, {"corr": True})
    C = demo_job.ws.n_channels
    x = torch.from_numpy(demo_job.x(demo_job.split.indices("train")[:50], m.history))
    f = m.features(x)
    n_pairs = C * (C - 1) // 2
    assert f.shape == (50, 6 * C + n_pairs) and m.config()["corr"] is True
    corr = f[:, -n_pairs:]
    assert torch.all(corr.abs() <= 1.0 + 1e-5)
    gains = torch.linspace(0.5, 3.0, C)[None, :, None]
    # a channel's gain changes nothing (up to the small variance floor)
    assert torch.allclose(m.features(x * gains)[:, -n_pairs:], corr, atol=1e-2)
    # channels 0 and 1 made identical: their correlation is 1 (pair 0 is (0, 1))
    x2 = x.clone()
    x2[:, 1] = 2.0 * x2[:, 0] + 0.5
    assert torch.allclose(m.features(x2)[:, -n_pairs], torch.ones(50), atol=1e-2)


def test_subset_decision_is_the_masked_argmax(demo_job):
    m = new_model("proto", demo_job)
    fit(m, demo_job, TrainConfig(max_epochs=1))
    x = demo_job.x(demo_job.split.indices("test")[:300], m.history)
    with torch.no_grad():
        scores = m(torch.from_numpy(x)).numpy()
    active = ["rest", "fist", "wrist flexion", "wrist extension"]
    mask = check_subset(demo_job.classes, active)
    dec = masked_argmax(scores, mask)
    sub = np.flatnonzero(mask)
    assert np.array_equal(dec, sub[scores[:, sub].argmax(1)])
    vote = MajorityVote(demo_job.classes, n=1, active=active)
    assert [vote.push(s).index for s in scores] == list(dec)
    d = vote.push(scores[0])
    assert d.probs[~mask].sum() == 0 and d.probs.sum() == pytest.approx(1.0, abs=1e-5)


def test_majority_vote_needs_a_majority():
    v = MajorityVote(["rest", "fist"], n=5)
    rest, fist = np.array([5.0, 0.0]), np.array([0.0, 5.0])
    names = [v.push(s).name for s in [rest, rest, rest, fist, fist, fist, rest]]
    assert names == ["rest", "rest", "rest", "rest", "rest", "fist", "fist"]


def test_subset_with_an_untrained_gesture_is_refused():
    with pytest.raises(GestureError, match="not trained on.*knows: rest, fist"):
        check_subset(["rest", "fist"], ["fist", "thumbs up"])


def test_prototype_calibration_moves_prototypes_and_lifts_accuracy(demo_job):
    m = new_model("proto", demo_job)
    fit(m, demo_job, TrainConfig(max_epochs=2))
    te = demo_job.split.indices("test")
    before = evaluate(m, demo_job, te)["balanced_accuracy"]
    p0 = m.prototypes.detach().clone()
    assert adapt(m, demo_job, te, "prototypes", weight=1.0) == "prototypes"
    assert not torch.allclose(p0, m.prototypes)
    after = evaluate(m, demo_job, te)["balanced_accuracy"]
    assert after >= before - 1e-9  # prototypes at the person's own class means cannot score worse on those windows


def test_gesture_checkpoint_roundtrip_and_pose_refusal(demo_job, tmp_path):
    m = new_model("lda", demo_job)
    fit(m, demo_job)
    ck = make_checkpoint(demo_job, m, metrics={"test": {"balanced_accuracy": 0.5}})
    path = C.save(ck, tmp_path / "g.pt")
    ck2 = load_gesture_checkpoint(path, n_channels=8, fs=500.0)
    assert ck2.target_names == demo_job.classes and ck2.target_kind == "gesture"
    assert norm_of(ck2).kind == "running"
    x = demo_job.x(demo_job.split.indices("test")[:50], m.history)
    with torch.no_grad():
        assert torch.allclose(ck2.build_model()(torch.from_numpy(x)), m(torch.from_numpy(x)))
    pose = C.Checkpoint.from_model(
        __import__("asha_app.models.registry", fromlist=["build"]).build("ridge", n_channels=8, n_targets=2, fs=500.0),
        normalizer=ck.normalizer, channel_names=ck.channel_names, fs=500.0, window=ck.window,
        filter_spec=ck.filter_spec, target_names=["a", "b"], target_kind="targets")
    C.save(pose, tmp_path / "p.pt")
    with pytest.raises(GestureError, match="is a pose model"):
        load_gesture_checkpoint(tmp_path / "p.pt")


def test_fixed_and_running_norms_differ_only_in_time(demo):
    ws = build_gesture_windows(demo, WindowSpec(500, 100), FilterSpec(fs=500))
    gn = GestureNorm("running", ws.emg.mean(0), ws.emg.std(0), tau_s=5.0)
    fixed = GestureNorm("fixed", ws.emg.mean(0), ws.emg.std(0))
    a, b = gn.apply(ws.emg[:50], 500.0), fixed.apply(ws.emg[:50], 500.0)
    assert np.allclose(a[0], b[0], atol=1e-4)  # both start at the population statistics
    assert not np.allclose(gn.apply(ws.emg, 500.0)[-1000:], fixed.apply(ws.emg, 500.0)[-1000:])


# ------------------------------------------------------------------------------------------------ calibration


def test_calibration_adapts_the_bundled_model_to_the_demo_person(demo):
    """The bundled model (trained on the demo person's other sessions) adapted with the demo's first repetition of
    every gesture scores better on the second."""
    from asha_app.core import paths
    from asha_app.gestures.calibrate import calibrate_gestures

    base = load_gesture_checkpoint(paths.resource("gestures", "demo_gestures.pt"))
    res = calibrate_gestures(base, demo)
    assert res.method == "prototypes" and res.notes == [] and res.n_calibration > 100 and res.n_heldout > 100
    assert res.after["balanced_accuracy"] > res.before["balanced_accuracy"]
    assert set(res.after["per_class"]) == set(base.target_names)
    assert "→" in res.summary() and res.checkpoint.training["calibration"]["method"] == "prototypes"
    # the base checkpoint is untouched
    assert not all(torch.equal(res.checkpoint.state_dict[k], base.state_dict[k]) for k in base.state_dict)


def test_differing_gesture_sets_are_explained():
    from asha_app.gestures.calibrate import gesture_set_notes

    notes = gesture_set_notes(["rest", "fist", "open"], ["rest", "fist", "pinch"])
    assert len(notes) == 2
    assert "pinch" in notes[0] and "not trained on" in notes[0]
    assert "open" in notes[1] and "did not prompt" in notes[1]
