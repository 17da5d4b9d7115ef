"""The one split module: every kind, auto, warnings about movements training never sees, and gaps at boundaries.

Windows are cut from the real paired Myo slice with NinaPro-style prompts laid over it (tests/split_helpers.py).
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
import pytest

from asha_app.core.errors import DatasetError
from asha_app.data import splits as SP
from asha_app.data.windows import WindowSpec, build_windows
from asha_app.dsp.filters import FilterSpec
from tests.split_helpers import prompted_slice

SPEC = WindowSpec(500.0, 40.0)
NOFILT = FilterSpec(50.0, band=None, notch_hz=None)


@pytest.fixture(scope="module")
def rec():
    return prompted_slice(n_moves=3, n_reps=4)


@pytest.fixture(scope="module")
def ws(rec):
    return build_windows(rec, SPEC, NOFILT)


@pytest.fixture(scope="module")
def ws3():
    """Three recordings from three participants and sessions (thirds of the real slice, prompts kept)."""
    from asha_app.calibration.strategies import slice_recording

    base = prompted_slice(n_moves=3, n_reps=4)
    t = base.emg_t
    cuts = np.linspace(t[0], t[-1] + 1e-3, 4)
    recs = []
    for i in range(3):
        r = slice_recording(base, cuts[i], cuts[i + 1])
        recs.append(replace(r, meta={**r.meta, "participant": f"P{i + 1}", "session": f"s{i + 1}"}))
    return build_windows(recs, SPEC, NOFILT)


def _assert_gaps(ws, split, gap_s):
    """Windows of different sets (same recording) never overlap and lie at least ``gap_s`` apart."""
    a = split.assign
    lo = np.minimum(ws.start_t, ws.label_time)
    hi = np.maximum(ws.end_t, ws.label_time)
    for r in np.unique(ws.rec_index):
        idx = np.flatnonzero((ws.rec_index == r) & (a >= 0))
        for i in idx:
            other = idx[a[idx] != a[i]]
            if len(other):
                sep = np.maximum(lo[other] - hi[i], lo[i] - hi[other])  # > 0: disjoint, the distance between them
                assert sep.min() >= gap_s - 1e-9, (i, sep.min())


@pytest.mark.parametrize("kind, kw", [
    ("time_blocks", {"n_blocks": 5}),
    ("repetitions", {"assign_rep": {0: "train", 1: "val", 2: "train", 3: "test"}}),
    ("repetitions", {}),
    ("auto", {}),
])
def test_no_window_crosses_a_boundary_between_sets(ws, kind, kw):
    split = SP.make_split(ws, kind, **kw)
    split.check(("train", "val", "test"))
    c = split.counts()
    assert c["dropped"] > 0 and c["train"] > c["test"] > 0
    _assert_gaps(ws, split, SPEC.window_ms / 1000.0)
    wide = SP.make_split(ws, kind, gap_ms=2000.0, **kw)
    _assert_gaps(ws, wide, 2.0)
    assert wide.counts()["dropped"] > c["dropped"]


def test_repetition_windows_lie_inside_their_repetition(rec, ws):
    """A repetition owns the time from its prompt's start to the next prompt's start; no window of a set
    reaches into a repetition of another set."""
    split = SP.make_split(ws, "repetitions", assign_rep={0: "train", 1: "val", 2: "train", 3: "test"})
    starts = np.array([p.start for p in rec.prompts] + [np.inf])
    reps = np.array([p.repetition for p in rec.prompts])
    code = {0: 0, 1: 1, 2: 0, 3: 2}
    for i in np.flatnonzero(split.assign >= 0):
        k0 = np.searchsorted(starts, ws.start_t[i], side="right") - 1
        k1 = np.searchsorted(starts, max(ws.end_t[i], ws.label_time[i]), side="right") - 1
        for k in range(max(k0, 0), k1 + 1):
            assert code[int(reps[k])] == split.assign[i]


def test_auto_picks_repetitions_when_every_recording_repeats_its_prompts(rec, ws, caplog):
    with caplog.at_level(logging.INFO, logger="asha_app.data.splits"):
        split = SP.make_split(ws, "auto", n_blocks=5)
    assert split.kind == "repetitions" and "auto: by repetitions" in split.info["auto"]
    assert split.info["assign"] == {"0": "train", "1": "val", "2": "train", "3": "test"}  # the default for 4
    assert split.warnings == [] and "auto: by repetitions" in caplog.text
    bare = build_windows(replace(rec, prompts=[]), SPEC, NOFILT)
    tb = SP.make_split(bare, "auto", n_blocks=5)
    assert tb.kind == "time_blocks" and tb.info["n_blocks"] == 5 and "no prompts" in tb.info["auto"]
    two = build_windows(prompted_slice(n_moves=3, n_reps=2), SPEC, NOFILT)
    assert SP.make_split(two, "auto", n_blocks=5).kind == "time_blocks"  # 2 repetitions cannot give 3 sets


def test_time_blocks_over_movement_ordered_prompts_warn_naming_the_unseen_movements(ws, caplog):
    """NinaPro files are ordered movement by movement: the last time block holds the last movement only."""
    with caplog.at_level(logging.WARNING, logger="asha_app.data.splits"):
        split = SP.make_split(ws, "time_blocks", n_blocks=3, pattern=["train", "val", "test"])
    labels = SP.prompt_labels(ws)
    test_moves = {x for x in labels[split.indices("test")] if x}
    train_moves = {x for x in labels[split.indices("train")] if x}
    unseen = sorted(test_moves - train_moves)
    assert unseen == ["movement 3"]
    assert len(split.warnings) == 2  # test and validation
    assert "test set holds 1 prompted movement(s) absent from training: movement 3" in split.warnings[0]
    assert "--split repetitions" in split.warnings[0] and "movement 3" in caplog.text
    assert split.to_dict()["warnings"] == split.warnings
    # a repetition split of the same windows sees every movement in training
    assert SP.make_split(ws, "repetitions").warnings == []


def test_sessions_and_participants(ws3):
    s = SP.make_split(ws3, "participants", assign_participant={"P1": "train", "P2": "val", "P3": "test"})
    assert set(np.unique(s.assign[ws3.rec_index == 2])) == {SP.SET_CODES["test"]}
    assert s.counts()["dropped"] == 0
    s2 = SP.make_split(ws3, "sessions", assign_session={"s1": "test", "s2": "train", "s3": "val"})
    assert set(np.unique(s2.assign[ws3.rec_index == 0])) == {SP.SET_CODES["test"]}
    # each third holds one movement: held-out users here also means held-out movements, and the split says so
    assert any("movement 1" in w for w in s2.warnings)
    with pytest.raises(DatasetError, match=r"participants \['P9'\] are not in the data"):
        SP.make_split(ws3, "participants", assign_participant={"P9": "test"})


def test_held_out_assignment_and_defaults():
    a = SP.held_out_assignment([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], val=[7], test=[2, 5, 10])
    assert [k for k, v in a.items() if v == "test"] == [2, 5, 10] and a[7] == "val" and a[1] == "train"
    with pytest.raises(DatasetError, match="repetition.*11 are not in the data; it has 1, 2"):
        SP.held_out_assignment([1, 2, 3], test=[11])
    with pytest.raises(DatasetError, match="both validation and test"):
        SP.held_out_assignment([1, 2, 3], val=[2], test=[2])
    ninapro = SP.default_repetition_assignment(list(range(10)))  # stored from 0: NinaPro's 7 / 2, 5, 10
    assert {k + 1 for k, v in ninapro.items() if v == "test"} == {2, 5, 10}
    assert {k + 1 for k, v in ninapro.items() if v == "val"} == {7}
    for n in (3, 5, 6, 8, 12):
        d = SP.default_repetition_assignment(list(range(n)))
        assert d[0] == "train" and {"train", "val", "test"} <= set(d.values())
    with pytest.raises(DatasetError, match="unknown split kind 'random'"):
        SP.make_split(None, "random")
