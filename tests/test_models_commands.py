"""``asha train`` / ``asha evaluate`` (argparse sub-commands) end to end on the real slice."""

import argparse
from pathlib import Path

import numpy as np
import pytest
import torch

from asha_app.core.jsonout import loads_strict
from asha_app.models.commands import register
from asha_app.models.recordings_io import load_npz, save_npz
from asha_app.data.importers.paired_myo_mediapipe import load_paired

SLICE = Path(__file__).parent / "assets" / "paired_slice"
torch.set_num_threads(1)


def parser():
    p = argparse.ArgumentParser(prog="asha")
    register(p.add_subparsers(dest="command", required=True))
    return p


def test_help_lists_both_commands(capsys):
    with pytest.raises(SystemExit):
        parser().parse_args(["train", "--help"])
    assert "--window-ms" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        parser().parse_args(["evaluate", "--help"])
    assert "JSON" in capsys.readouterr().out


def test_train_then_evaluate_prints_one_strict_json_line(tmp_path, capsys):
    npz = save_npz(load_paired(SLICE), tmp_path / "slice.npz")
    assert load_npz(npz).emg.shape == load_paired(SLICE).emg.shape
    out = tmp_path / "m.pt"
    a = parser().parse_args(["train", str(npz), "--model", "ridge", "--out", str(out), "--blocks", "5",
                             "--stride-ms", "40", "--threads", "1"])
    assert a.func(a) == 0
    train_out = loads_strict(capsys.readouterr().out.strip().splitlines()[-1])  # no NaN / Infinity: null
    assert Path(train_out["report"]["bars"]).exists() and train_out["split"]["test"] > 0
    test = train_out["test"]
    # the slice's test blocks hold some fingers nearly still: those get no R^2, and say why
    assert set(test["r2_excluded"]) == {n for n, v in test["r2_per_target"].items() if v is None}
    assert all("near-constant" in why for why in test["r2_excluded"].values())
    assert (test["r2_mean"] is None) == (len(test["r2_excluded"]) == 5)
    assert loads_strict(Path(train_out["report"]["json"]).read_text())["n"] == test["n"]
    a = parser().parse_args(["evaluate", str(out), str(SLICE)])
    assert a.func(a) == 0
    m = loads_strict(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(m["r2_per_target"]) == {"thumb", "index", "middle", "ring", "little"} and m["n"] > 1000
    # over the whole slice every finger moves (std > 2 deg): all five scored, figures per finger in degrees
    assert m["r2_excluded"] == {} and np.isfinite(m["r2_mean"]) and m["units"] == "deg"
    assert list(m["mae_per_finger"]) == ["thumb", "index", "middle", "ring", "little"]
    assert list(m["hand_model_per_finger_mpjpe_wrist_rel_mm"]) == list(m["mae_per_finger"])
    assert m["hand_model_mpjpe_wrist_rel_mm"] > 0 and 0 <= m["hand_model_pck20_wrist_rel"] <= 1
    assert np.isfinite(m["mae_mean"])


def test_bad_input_gives_message_and_status_2(tmp_path, capsys):
    a = parser().parse_args(["evaluate", str(tmp_path / "none.pt"), str(SLICE)])
    assert a.func(a) == 2
    assert "does not exist" in capsys.readouterr().err
    a = parser().parse_args(["train", str(tmp_path / "x.txt")])
    assert a.func(a) == 2
    assert "give a session file" in capsys.readouterr().err


def test_train_on_a_session_file(tmp_path, capsys):
    """`asha train SESSION.h5` reads through asha_app.data.reader (real slice written with the session writer)."""
    writer_mod = pytest.importorskip("asha_app.data.writer")
    rec = load_paired(SLICE)
    path = tmp_path / "s.h5"
    w = writer_mod.SessionWriter(path, 8, rec.fs, target_names=rec.target_names, swmr=False,
                                 emg_units=rec.emg_units, device={"name": "myo-minivie"})
    w.append_emg(rec.emg_t, rec.emg)
    w.append_targets(rec.label_t, rec.targets)
    w.finalize()
    w.close()
    out = tmp_path / "m.pt"
    a = parser().parse_args(["train", str(path), "--model", "ridge", "--out", str(out), "--blocks", "5",
                             "--filter", "none", "--threads", "1"])
    assert a.func(a) == 0, capsys.readouterr().err
    res = loads_strict(capsys.readouterr().out.strip().splitlines()[-1])
    assert res["test"]["n"] > 100 and set(res["test"]["r2_per_target"]) == set(rec.target_names)
    from asha_app.models.checkpoint import load

    assert load(out).device == "myo-minivie"


def test_old_checkpoint_with_pinky_joint_names_loads_evaluates_and_finetunes(tmp_path, capsys):
    """Checkpoints saved when joint targets were named after MediaPipe (``pinky_mcp_x_mm``) keep working."""
    from dataclasses import replace

    from asha_app.data.labels import joint_target_names
    from asha_app.models import checkpoint as C
    from asha_app.models import train as T
    from asha_app.pose.hand_model import HandModel

    rec = load_paired(SLICE)
    hm = HandModel.builtin("right")
    joints = hm.forward_np(hm.angles_from_finger_flexion(rec.targets))  # the slice's fingers, driven on the hand
    rec = replace(rec, joints_mm=joints.astype(np.float32), targets=None, target_names=[])
    npz = save_npz(rec, tmp_path / "joints.npz")
    out = tmp_path / "joints.pt"
    a = parser().parse_args(["train", str(npz), "--model", "ridge", "--out", str(out), "--blocks", "5",
                             "--stride-ms", "40", "--threads", "1", "--target", "joints_mm", "--filter", "none"])
    assert a.func(a) == 0, capsys.readouterr().err
    capsys.readouterr()
    new = C.load(out)
    assert new.target_names == joint_target_names() and new.target_names[51] == "little_mcp_x_mm"
    # the same checkpoint as an older Asha wrote it: MediaPipe's word for the fifth finger
    d = torch.load(out, map_location="cpu", weights_only=True)
    d["targets"]["names"] = [n.replace("little_", "pinky_") for n in d["targets"]["names"]]
    old_path = tmp_path / "old.pt"
    torch.save(d, old_path)
    old = C.load(old_path, n_channels=8, fs=rec.fs, target_names=joint_target_names())
    assert old.target_names == new.target_names
    a = parser().parse_args(["evaluate", str(old_path), str(npz)])
    assert a.func(a) == 0, capsys.readouterr().err
    m = loads_strict(capsys.readouterr().out.strip().splitlines()[-1])
    assert m["mpjpe_wrist_rel_mm"] >= 0 and m["n"] > 1000
    assert list(m["per_finger_mpjpe_wrist_rel_mm"]) == ["thumb", "index", "middle", "ring", "little"]
    assert "little_tip" in m["per_joint_mpjpe_wrist_rel_mm"] and not any("pinky" in k for k in m["per_joint_mpjpe_wrist_rel_mm"])
    # calibration from the old checkpoint: new data's names match, the run finishes with a new checkpoint
    last = list(T.finetune(old, rec, mode="head", cfg=T.TrainConfig(max_epochs=1, progress_every=0)))[-1]
    assert last.kind == "done" and last.checkpoint.target_names == joint_target_names()
