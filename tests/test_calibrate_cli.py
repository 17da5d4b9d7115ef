"""``asha calibrate`` end to end: the wizard's calibration job on a session file, JSON last line, clear errors.

Base model: the bundled live-demo model (trained on the paired Myo + MediaPipe session); session: the real
paired slice with NinaPro-style prompts laid over it (tests/split_helpers.py), written as a session file.
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import numpy as np
import pytest
import torch

from asha_app.calibration import profile as P
from asha_app.calibration.commands import register
from asha_app.core.jsonout import loads_strict
from tests.split_helpers import prompted_slice, write_h5

torch.set_num_threads(1)


def run(argv, capsys):
    p = argparse.ArgumentParser(prog="asha")
    register(p.add_subparsers(dest="command", required=True))
    a = p.parse_args(argv)
    rc = a.func(a)
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    return write_h5(prompted_slice(n_moves=2, n_reps=3, participant="anna"),
                    tmp_path_factory.mktemp("cal") / "anna.h5")


def test_calibrate_by_repetitions_prints_before_after_and_writes_the_profile(demo_assets_home, session, tmp_path,
                                                                             capsys):
    out = tmp_path / "anna.ashaprofile"
    rc, stdout, err = run(["calibrate", str(demo_assets_home.model_path), str(session), "--calib-reps", "1,2",
                           "--strategy", "head", "-o", str(out), "--threads", "1"], capsys)
    assert rc == 0, err
    res = loads_strict(stdout.strip().splitlines()[-1])
    assert res["parts"]["by"] == "repetitions" and res["parts"]["calib_reps"] == [1, 2]
    assert res["parts"]["held_out_reps"] == [3] and res["parts"]["calib_pieces"] == 2  # one per movement
    assert 45.0 < res["parts"]["calib_s"] < 50.0 and res["participant"] == "anna"
    for key in ("before", "after"):
        assert set(res[key]["mae_per_target"]) == {"thumb", "index", "middle", "ring", "little"}
        assert np.isfinite(res[f"{key}_summary"]["mae_mean"])
    assert res["after"]["mae_mean"] != res["before"]["mae_mean"]  # the head was refitted
    assert res["improved"] == (res["after"]["mae_mean"] < res["before"]["mae_mean"])
    prof = P.load_profile(out, fs=50.0, n_channels=8)  # the wizard's profile, with the same numbers
    assert prof.metrics["after"]["mae_mean"] == pytest.approx(res["after"]["mae_mean"])
    assert prof.calibration["strategy"] == "head" and (tmp_path / "anna_report.png").stat().st_size > 10_000
    assert "finetune:" in err and "done:" in err


def test_calibrate_by_seconds(demo_assets_home, session, tmp_path, capsys):
    rc, stdout, err = run(["calibrate", str(demo_assets_home.model_path), str(session), "--calib-seconds", "45",
                           "--strategy", "head", "-o", str(tmp_path / "p.ashaprofile"), "--threads", "1"], capsys)
    assert rc == 0, err
    res = loads_strict(stdout.strip().splitlines()[-1])
    assert res["parts"]["by"] == "seconds" and 44.0 < res["parts"]["calib_s"] <= 45.0
    assert 25.0 < res["parts"]["held_out_s"] < 29.0  # 75 s - 45 s - the 2 s gap


def test_clear_errors(demo_assets_home, session, tmp_path, capsys):
    base = str(demo_assets_home.model_path)
    prof = str(tmp_path / "p.ashaprofile")
    rc, _, err = run(["calibrate", base, str(session), "--calib-reps", "2,9", "-o", prof], capsys)
    assert rc == 2 and "repetition(s) 9 are not in" in err and "it has repetitions 1, 2, 3" in err
    rc, _, err = run(["calibrate", base, str(session), "--calib-reps", "1,2,3", "-o", prof], capsys)
    assert rc == 2 and "leaves none to test on" in err
    rc, _, err = run(["calibrate", str(session), str(session), "-o", prof], capsys)  # a session as the checkpoint
    assert rc == 2 and "not a readable model checkpoint" in err
    rc, _, err = run(["calibrate", base, str(session), "--calib-seconds", "80", "-o", prof], capsys)
    assert rc == 2 and "leaves nothing to test on" in err
    unlabelled = prompted_slice()
    unlabelled = replace(unlabelled, label_t=np.zeros(0), targets=None, valid=np.zeros(0, bool))
    bare = write_h5(unlabelled, tmp_path / "bare.h5")
    rc, _, err = run(["calibrate", base, str(bare), "-o", prof], capsys)
    assert rc == 2 and "has no pose labels" in err
    assert not (tmp_path / "p.ashaprofile").exists()  # nothing written on any error


def test_parts_by_repetitions_are_pieces_apart_from_each_other():
    """NinaPro order (all repetitions of a movement, then the next): repetitions 1-2 are one piece per movement,
    and no calibration piece comes within the gap of a held-out piece."""
    from asha_app.calibration.parts import calibration_parts

    rec = prompted_slice(n_moves=3, n_reps=4)
    calib, held, info = calibration_parts(rec, calib_reps=[1, 2], gap_s=2.0)
    assert len(calib) == 3 and len(held) == 3 and info["held_out_reps"] == [3, 4]
    spans = sorted([(r.emg_t[0], r.emg_t[-1], "c") for r in calib] + [(r.emg_t[0], r.emg_t[-1], "h") for r in held])
    for (_a0, a1, ka), (b0, _b1, kb) in zip(spans, spans[1:]):
        assert ka != kb and b0 - a1 >= 2.0 - 0.03  # alternating parts, one sample (20 ms) of rounding
    for piece in calib:  # only repetitions 1-2 (stored 0-1) inside a calibration piece
        assert {p.repetition for p in piece.prompts} <= {0, 1}


def test_calibrate_a_riemannian_base_by_recentring(session, tmp_path, capsys):
    """A closed-form riemann base, calibrated with 'recenter' (its covariance reference re-centred on the person,
    then the closed-form head): the profile holds the person's own reference when the safeguard keeps it."""
    from asha_app.data.windows import WindowSpec
    from asha_app.dsp.filters import FilterSpec
    from asha_app.models import checkpoint as C
    from asha_app.models import train as T
    from tests.test_models_train import paired

    job = T.prepare(paired(), model_name="riemann", window=WindowSpec(1000.0, 60.0),
                    filter_spec=FilterSpec(50.0, band=None, notch_hz=None), split_args={"n_blocks": 5})
    base = C.save(list(T.run(job, T.TrainConfig(max_epochs=1, progress_every=0)))[-1].checkpoint,
                  tmp_path / "riemann.pt")
    out = tmp_path / "anna.ashaprofile"
    rc, stdout, err = run(["calibrate", str(base), str(session), "--calib-reps", "1,2", "--strategy", "recenter",
                           "-o", str(out), "--threads", "1"], capsys)
    assert rc == 0, err
    res = loads_strict(stdout.strip().splitlines()[-1])
    assert res["strategy"] == "recenter" and np.isfinite(res["after"]["mae_mean"])
    prof = P.load_profile(out, fs=50.0, n_channels=8)
    moved = not torch.equal(prof.checkpoint.state_dict["whiten"], C.load(base).state_dict["whiten"])
    # the safeguard decides what is saved: the person's reference with the calibrated model, the base's otherwise
    assert prof.calibration["kept"] in ("base", "calibrated") and res["strategy_label"].startswith("input statistics")
    assert moved == (prof.calibration["kept"] == "calibrated")
