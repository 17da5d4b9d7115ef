"""Importers record what their EMG is, and training filters it accordingly (--filter auto, the wizard, the API).

NinaPro files here are tiny synthetic .mat files written by the test with scipy (never the real DB1 data).
"""

from __future__ import annotations

import logging

import numpy as np
import pytest
import scipy.io

from asha_app.core.errors import DatasetError
from asha_app.data.importers import import_file, import_to_session
from asha_app.data.importers.paired_myo_mediapipe import load_paired
from asha_app.data.reader import read_recording
from asha_app.data.signal_kind import auto_filter_spec, signal_info
from asha_app.data.windows import WindowSpec, build_windows
from asha_app.dsp.filters import FilterSpec
from tests.split_helpers import SLICE


def _ninapro_mat(path, fs: float, frequency: bool, n_reps: int = 3, n_moves: int = 2, n_ch: int = 10):
    """A NinaPro-layout file: movements ordered movement by movement, each repetition 2 s + 1 s rest."""
    rng = np.random.default_rng(0)
    per = int(3 * fs)
    n = per * n_reps * n_moves + per
    stim = np.zeros(n)
    rep = np.zeros(n)
    for m in range(n_moves):
        for r in range(n_reps):
            s = per * (m * n_reps + r) + per // 2
            stim[s:s + int(2 * fs)] = m + 1
            rep[s:s + int(2 * fs)] = r + 1
    d = {"emg": np.abs(rng.normal(0, 1, (n, n_ch))), "glove": rng.normal(0, 1, (n, 22)),
         "restimulus": stim[:, None], "rerepetition": rep[:, None], "subject": np.array([[7]])}
    if frequency:
        d["frequency"] = np.array([[fs]])
    scipy.io.savemat(path, d)
    return path


def test_ninapro_db1_is_an_envelope_and_db2_style_is_raw(tmp_path):
    db1 = import_file(_ninapro_mat(tmp_path / "S7_A1_E1.mat", 100.0, frequency=False), fs=100.0)
    assert db1.meta["signal_kind"] == "rms_envelope" and "DB1" in db1.meta["signal_note"]
    assert db1.meta["participant"] == "S7" and db1.meta["session"] == "S7_A1_E1"
    spec, why = auto_filter_spec(db1)
    assert spec.band is None and spec.notch_hz is None and "envelope" in why
    db2 = import_file(_ninapro_mat(tmp_path / "S7_E1_A1_db2.mat", 2000.0, frequency=True, n_ch=12))
    assert db2.meta["signal_kind"] == "raw_semg" and db2.fs == 2000.0
    spec2, why2 = auto_filter_spec(db2)
    assert spec2.band == (20.0, 200.0) and spec2.notch_hz == 50.0 and "raw sEMG" in why2


def test_signal_kind_survives_the_session_file_and_drives_the_windows(tmp_path):
    """Import -> session file -> read back: still an envelope, so windows are cut without band-pass or notch
    (the live chain's 50 Hz notch cannot even exist at 100 Hz)."""
    h5 = import_to_session(_ninapro_mat(tmp_path / "S7_A1_E1.mat", 100.0, frequency=False), tmp_path / "s7.h5",
                           fs=100.0)
    rec = read_recording(h5)
    assert signal_info(rec).kind == "rms_envelope" and not signal_info(rec).inferred
    ws = build_windows(rec, WindowSpec(200.0, 20.0))  # no filter given: the one the signal asks for
    assert ws.filter_spec.band is None and ws.filter_spec.notch_hz is None
    np.testing.assert_allclose(ws.emg, rec.emg, rtol=1e-6)  # the envelope is used as recorded
    assert [p.repetition for p in rec.prompts[:3]] == [0, 1, 2] and rec.prompts[3].label == "movement 2"


def test_other_importers_say_what_they_read():
    assert load_paired(SLICE).meta["signal_kind"] == "normalised"
    assert auto_filter_spec(load_paired(SLICE))[0].band is None


def test_old_files_without_the_attribute_infer_it_from_the_rate_and_say_so(tmp_path, caplog):
    rec = import_file(_ninapro_mat(tmp_path / "a.mat", 100.0, frequency=False), fs=100.0)
    for key in ("signal_kind", "filter_hint"):
        rec.meta.pop(key)
    with caplog.at_level(logging.INFO, logger="asha_app.data.signal_kind"):
        spec, _ = auto_filter_spec(rec)
    assert spec.band is None and "no signal kind recorded" in caplog.text and "inferred" in caplog.text
    raw = import_file(_ninapro_mat(tmp_path / "b.mat", 1000.0, frequency=True))
    raw.meta.pop("signal_kind")
    raw.meta.pop("filter_hint")
    assert signal_info(raw).inferred and auto_filter_spec(raw)[0] == FilterSpec.raw_semg_default(1000.0)


def test_recordings_of_different_kinds_are_refused_together(tmp_path):
    a = import_file(_ninapro_mat(tmp_path / "a.mat", 100.0, frequency=False), fs=100.0)
    b = import_file(_ninapro_mat(tmp_path / "b.mat", 100.0, frequency=False), fs=100.0)
    b.meta["signal_kind"] = "raw_semg"
    with pytest.raises(DatasetError, match="different kinds of EMG"):
        auto_filter_spec([a, b])


def test_a_checkpoint_trained_with_an_impossible_filter_says_to_retrain(demo_assets_home, tmp_path):
    """Checkpoints from before the Nyquist check may hold a 20-200 Hz band at 50 Hz (it ran as a high-pass)."""
    import torch

    from asha_app.models import checkpoint as C

    d = torch.load(demo_assets_home.model_path, map_location="cpu", weights_only=True)
    d["filter"] = {**d["filter"], "band": [20.0, 200.0]}
    torch.save(d, tmp_path / "old.pt")
    with pytest.raises(C.CheckpointError, match=r"old.pt was trained with a filter that cannot exist.*high edge 200 Hz"
                                                r".*Nyquist frequency 25 Hz.*Retrain"):
        C.load(tmp_path / "old.pt")


def test_the_default_model_follows_the_signal_kind(tmp_path, capsys):
    """`asha train` without --model: msriem on an RMS envelope (measured best on NinaPro DB1), envtcn on raw sEMG
    (the live armband's kind) and on a mix; --model always wins."""
    import argparse

    from asha_app.core.jsonout import loads_strict
    from asha_app.models.checkpoint import load
    from asha_app.models.commands import register
    from asha_app.models.registry import DEFAULT_MODEL, default_model

    assert default_model(["rms_envelope", "rms_envelope"]) == "msriem"
    assert default_model(["raw_semg"]) == default_model(["normalised"]) == DEFAULT_MODEL == "envtcn"
    assert default_model(["rms_envelope", "raw_semg"]) == default_model([]) == DEFAULT_MODEL
    p = argparse.ArgumentParser(prog="asha")
    register(p.add_subparsers(dest="command", required=True))
    h5 = import_to_session(_ninapro_mat(tmp_path / "S7_A1_E1.mat", 100.0, frequency=False, n_reps=4),
                           tmp_path / "s7.h5", fs=100.0)
    common = ["--epochs", "1", "--stride-ms", "100", "--threads", "1", "--val-reps", "2", "--test-reps", "4"]
    small = ["--config", '{"scales_ms": [40, 400], "horizons_ms": [200, 600]}']  # windows within a repetition
    for extra, want in ((small, "msriem"), (["--model", "ridge"], "ridge")):
        out = tmp_path / f"{want}.pt"
        a = p.parse_args(["train", str(h5), "--out", str(out), *common, *extra])
        assert a.func(a) == 0, capsys.readouterr().err
        res = loads_strict(capsys.readouterr().out.strip().splitlines()[-1])
        assert res["model"] == want and load(out).model_name == want
