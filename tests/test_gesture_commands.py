"""``asha train --task gesture`` / ``asha evaluate`` of a gesture checkpoint, end to end on the real demo recording."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
import torch

from asha_app.core.jsonout import loads_strict
from asha_app.data.recording import Prompt
from asha_app.gestures.datasets import demo_gesture_recording
from asha_app.gestures.labels import REST, gesture_timeline
from asha_app.models.commands import register
from asha_app.models.recordings_io import save_npz

SLICE = Path(__file__).parent / "assets" / "paired_slice"
torch.set_num_threads(1)


def parser():
    p = argparse.ArgumentParser(prog="asha")
    register(p.add_subparsers(dest="command", required=True))
    return p


@pytest.fixture(scope="module")
def demo_npz(tmp_path_factory):
    """The demo recording with its gesture markers written as protocol prompts (as the recording wizard stores them)."""
    rec = demo_gesture_recording()
    tl = gesture_timeline(rec)
    ends = list(tl.change_t[1:]) + [float(rec.emg_t[-1])]
    seen: dict[str, int] = {}
    prompts = []
    for t0, t1, lab in zip(tl.change_t, ends, tl.labels, strict=True):
        if lab != REST:
            prompts.append(Prompt(lab, float(t0), float(t1), seen.setdefault(lab, 0)))
            seen[lab] += 1
    rec.prompts = prompts
    rec.extras = {}
    return save_npz(rec, tmp_path_factory.mktemp("g") / "demo.npz")


def test_train_gesture_then_evaluate(demo_npz, tmp_path, capsys):
    out = tmp_path / "g.pt"
    a = parser().parse_args(["train", str(demo_npz), "--task", "gesture", "--model", "lda", "--out", str(out),
                             "--stride-ms", "100", "--threads", "1"])
    assert a.func(a) == 0
    res = loads_strict(capsys.readouterr().out.strip().splitlines()[-1])
    assert res["task"] == "gesture" and res["classes"][0] == "rest" and len(res["classes"]) == 8
    # two occurrences per gesture: the first trains, the second tests (repetition split)
    assert res["split"]["train"] > 0 and res["split"]["test"] > 0
    test = res["test"]
    assert test["balanced_accuracy"] > 3 / 8 and len(test["confusion"]) == 8
    assert Path(res["report"]["confusion"]).stat().st_size > 1000 and Path(res["report"]["html"]).exists()
    a = parser().parse_args(["evaluate", str(out), str(demo_npz), "--report", str(tmp_path / "eval.pt")])
    assert a.func(a) == 0
    m = loads_strict(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(m["per_class"]) == set(res["classes"]) and sum(map(sum, m["confusion"])) == m["n"]
    assert Path(m["report"]["confusion"]).exists()
    a = parser().parse_args(["evaluate", str(out), str(demo_npz), "--gestures", "rest,fist"])
    assert a.func(a) == 0
    sub = loads_strict(capsys.readouterr().out.strip().splitlines()[-1])
    # decisions only among the active set: nothing is decided as any other gesture
    other = [i for i, c in enumerate(sub["classes"]) if c not in ("rest", "fist")]
    assert all(row[j] == 0 for row in sub["confusion"] for j in other)


def test_gesture_bad_input(demo_npz, tmp_path, capsys):
    out = tmp_path / "g.pt"
    a = parser().parse_args(["train", str(demo_npz), "--task", "gesture", "--model", "lda", "--out", str(out)])
    assert a.func(a) == 0
    capsys.readouterr()
    a = parser().parse_args(["evaluate", str(out), str(demo_npz), "--gestures", "rest,thumbs up"])
    assert a.func(a) == 2
    err = capsys.readouterr().err
    assert "thumbs up" in err and "knows: rest, fist" in err
    a = parser().parse_args(["train", str(SLICE), "--task", "gesture", "--out", str(tmp_path / "x.pt")])
    assert a.func(a) == 2
    assert "no gesture labels" in (err := capsys.readouterr().err) and "pose" in err
    a = parser().parse_args(["train", str(demo_npz), "--model", "lda", "--out", str(tmp_path / "y.pt")])
    assert a.func(a) == 2
    assert "--task gesture" in capsys.readouterr().err
    a = parser().parse_args(["train", str(demo_npz), "--task", "gesture", "--model", "ridge", "--out", str(out)])
    assert a.func(a) == 2
    assert "is a pose model" in capsys.readouterr().err
