"""Importers (BrainFlow/MindRove CSV, NinaPro .mat, emg2pose HDF5), exporters (npz, emg2pose, CSV) and the CLI."""

import csv

import h5py
import numpy as np
import pytest

from asha_app.core.errors import RecordingFileError
from asha_app.core.jsonout import loads_strict
from asha_app.cli import main as cli_main
from asha_app.data.exporters import export_csv, export_emg2pose, export_windows_npz
from asha_app.data.labels import pose_labels
from asha_app.data.importers import detect_format, import_file, import_to_session
from asha_app.data.integrity import check_session
from asha_app.data.reader import read_recording
from asha_app.data.recording import Prompt, Recording
from asha_app.data.importers.session import write_recording
from fixtures.make_fixtures import make_brainflow_file, make_emg2pose_file, make_ninapro_mat, myo_emg


def test_brainflow_import_uses_board_description(tmp_path):
    path = tmp_path / "mindrove.csv"
    data, descr = make_brainflow_file(path)
    assert detect_format(path) == "brainflow"
    rec = import_file(path)
    np.testing.assert_allclose(rec.emg, data[descr["emg_channels"]].T, rtol=1e-5)
    ts = data[descr["timestamp_channel"]]
    np.testing.assert_allclose(rec.emg_t, ts - ts[0], atol=1e-5)
    assert rec.fs == 500.0 and rec.n_channels == 8
    np.testing.assert_array_equal(rec.extras["emg/package"], data[descr["package_num_channel"]])
    np.testing.assert_allclose(rec.extras["imu/accel"], data[descr["accel_channels"]].T, rtol=1e-5)
    assert [p.label for p in rec.prompts] == ["marker 3", "marker 3"]
    # into a session file: the dropped packet shows up in the integrity report
    out = tmp_path / "mr.h5"
    import_to_session(path, out)
    rep = check_session(out)
    assert rep.dropped_samples == 5 and rep.n_emg == data.shape[1]
    back = read_recording(out)
    np.testing.assert_allclose(back.emg, rec.emg)
    assert back.meta["session_t0_unix"] == pytest.approx(ts[0])


def test_brainflow_wrong_board_is_a_clear_error(tmp_path):
    path = tmp_path / "mindrove.csv"
    make_brainflow_file(path)
    from mindrove.board_shim import BoardIds

    with pytest.raises(RecordingFileError, match="another board") as err:
        import_file(path, "brainflow", board_id=BoardIds.SYNTHETIC_BOARD.value)
    assert str(path) in str(err.value)


def test_ninapro_import_prompts_targets_and_rate(tmp_path):
    path = tmp_path / "S1_E1_A1.mat"
    d = make_ninapro_mat(path)
    with pytest.raises(RecordingFileError, match="sampling rate"):
        import_file(path)
    rec = import_file(path, fs=200.0)
    assert rec.fs == 200.0 and rec.emg.shape == d["emg"].shape
    np.testing.assert_allclose(rec.targets, d["glove"])
    np.testing.assert_allclose(rec.emg_t[1], 1 / 200.0)
    stim = d["restimulus"].ravel()
    n_runs = int(np.sum(np.diff(np.concatenate([[0], stim])) == 1))
    assert len(rec.prompts) == n_runs >= 1
    first = np.flatnonzero(stim)[0]
    assert rec.prompts[0].start == pytest.approx(first / 200.0)  # restimulus, not stimulus
    assert rec.prompts[0].repetition == 0 and rec.prompts[0].label == "movement 1"
    with pytest.raises(RecordingFileError, match="board_id do not apply to ninapro"):
        import_file(path, "ninapro", board_id=0)
    make_ninapro_mat(tmp_path / "f.mat", with_frequency=True)
    assert import_file(tmp_path / "f.mat").fs == 200.0
    out = tmp_path / "np.h5"
    import_to_session(path, out, fs=200.0)
    back = read_recording(out)
    np.testing.assert_allclose(back.targets, d["glove"])
    assert back.target_names[0] == "glove_1" and len(back.prompts) == n_runs


def test_emg2pose_import(tmp_path):
    path = tmp_path / "e2p.hdf5"
    rows = make_emg2pose_file(path)
    assert detect_format(path) == "emg2pose"
    rec = import_file(path, label_rate_hz=None)
    assert rec.fs == 2000.0 and rec.n_channels == 16
    np.testing.assert_allclose(rec.emg, rows["emg"])
    np.testing.assert_allclose(rec.joint_angles[:1000], np.rad2deg(rows["joint_angles"][:1000]), rtol=1e-5)
    assert not rec.valid[1000:1200].any() and rec.valid[:1000].all()
    assert np.isnan(rec.joint_angles[1100]).all()  # IK failure stays unlabelled, not a zero pose
    dec = import_file(path)  # default 50 Hz labels
    assert len(dec.label_t) == 4000 // 40


def test_foreign_files_refused_by_importers(tmp_path):
    p = tmp_path / "x.hdf5"
    with h5py.File(p, "w") as f:
        f["a"] = 1
    with pytest.raises(RecordingFileError, match="unknown layout"):
        import_file(p)
    with pytest.raises(RecordingFileError, match="not an emg2pose"):
        import_file(p, "emg2pose")
    bad = tmp_path / "bad.mat"
    bad.write_bytes(b"MATLAB 5.0 MAT-file garbage")
    with pytest.raises(RecordingFileError, match=r"bad\.mat"):
        import_file(bad, fs=100.0)


def _session_with_labels(tmp_path):
    """A session from real Myo EMG (as 500 Hz) with 25 fps labels, one invalid stretch and prompts."""
    emg, label = myo_emg()
    n = emg.shape[0]
    t = np.arange(n) / 500.0
    lt = np.arange(0, t[-1], 0.04)
    angles = np.column_stack([10 * lt, -5 * lt]).astype(np.float32)
    valid = np.ones(lt.size, bool)
    valid[30:40] = False
    angles[~valid] = np.nan
    prompts = [Prompt("fist", 0.5, 1.5, 0), Prompt("fist", 2.0, 3.0, 1), Prompt("rest", 3.0, 3.9, 0)]
    rec = Recording(emg=emg.astype(np.float32), emg_t=t, fs=500.0, label_t=lt, joint_angles=angles, valid=valid,
                    angle_names=["index_mcp_flex", "wrist_flex"], prompts=prompts,
                    meta={"session_t0_unix": 1.7e9, "participant": {"pseudonym": "P09", "hand": "right"}})
    path = tmp_path / "sess.h5"
    write_recording(rec, path)
    return path, rec


def test_emg2pose_export_read_by_independent_reader(tmp_path):
    path, rec = _session_with_labels(tmp_path)
    out = tmp_path / "out.hdf5"
    calls = []
    info = export_emg2pose(path, out, progress=lambda a, b: calls.append((a, b)), block=700)
    assert calls[-1] == (rec.emg.shape[0], rec.emg.shape[0]) and [a for a, _ in calls] == sorted(a for a, _ in calls)
    # independent reader: plain h5py, following the published layout only
    with h5py.File(out, "r") as f:
        g = f["emg2pose"]
        ts = g["timeseries"]
        assert set(ts.dtype.fields) >= {"time", "emg", "joint_angles"}
        data = ts[()]
        attrs = dict(g.attrs)
    for key in ("session", "side", "stage", "start", "end", "num_channels", "dataset", "user", "sample_rate"):
        assert key in attrs
    assert attrs["user"] == "P09" and attrs["num_channels"] == 8 and attrs["sample_rate"] == 500.0
    np.testing.assert_allclose(data["time"], rec.emg_t + 1.7e9)
    assert (np.diff(data["time"]) >= 0).all()
    np.testing.assert_allclose(data["emg"], rec.emg)
    # at an EMG sample that coincides with a valid label frame the angle is that frame's, in radians
    k = 250  # t = 0.5 s = label frame 12.5 -> between frames 12 and 13, both valid
    expected = np.deg2rad(np.interp(0.5, rec.label_t, rec.joint_angles[:, 0]))
    assert data["joint_angles"][k, 0] == pytest.approx(expected, rel=1e-5)
    # samples around invalid frames 30..39 (1.2-1.56 s) are IK failures: all-zero rows
    bad = (rec.emg_t > 1.17) & (rec.emg_t < 1.59)
    assert np.all(data["joint_angles"][bad] == 0)
    assert info["valid_share"] < 1.0
    # and our importer reads it back
    back = import_file(out, label_rate_hz=None)
    np.testing.assert_allclose(back.joint_angles[k], data["joint_angles"][k] * 180 / np.pi, rtol=1e-5)


def test_npz_windows_labels_and_groups(tmp_path):
    path, rec = _session_with_labels(tmp_path)
    out = tmp_path / "w.npz"
    calls = []
    info = export_windows_npz(path, out, window=50, stride=25, progress=lambda a, b: calls.append((a, b)))
    z = np.load(out)
    assert z["emg"].shape == (info["windows"], 50, 8) and calls[-1] == (info["windows"], info["windows"])
    i = 7
    end = int(round(z["t_end"][i] * 500))
    np.testing.assert_array_equal(z["emg"][i], rec.emg[end - 49: end + 1])
    y, ok = pose_labels(rec, z["t_end"][i:i + 1])
    np.testing.assert_allclose(z["y"][i], y[0])
    assert ok[0] and z["valid"].all()
    assert not ((z["t_end"] > 1.2) & (z["t_end"] < 1.55)).any()  # no windows labelled from invalid frames
    labels = list(z["prompt_labels"])
    fist = labels.index("fist")
    in_rep1 = (z["t_end"] >= 2.0) & (z["t_end"] < 3.0)
    assert (z["prompt"][in_rep1] == fist).all() and (z["repetition"][in_rep1] == 1).all()
    assert list(z["y_names"]) == ["index_mcp_flex", "wrist_flex"]


def test_csv_export(tmp_path):
    path, rec = _session_with_labels(tmp_path)
    paths = export_csv(path, tmp_path / "csv")
    emg = np.loadtxt(paths["emg"], delimiter=",", skiprows=1)
    np.testing.assert_allclose(emg[:, 1:], rec.emg, atol=1e-5)
    with open(paths["labels"]) as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["t_s", "valid", "index_mcp_flex", "wrist_flex"] and len(rows) == len(rec.label_t) + 1
    assert rows[31][1] == "0" and rows[31][2] == ""
    with open(paths["prompts"]) as fh:
        rows = list(csv.reader(fh))
    # repetitions numbered from 1 for people (stored 0, 1, 0)
    assert rows == [["label", "start_s", "end_s", "repetition"], ["fist", "0.500000", "1.500000", "1"],
                    ["fist", "2.000000", "3.000000", "2"], ["rest", "3.000000", "3.900000", "1"]]


def test_cli_check_import_export(tmp_path, capsys):
    path, _ = _session_with_labels(tmp_path)
    assert cli_main(["check", str(path), "--json"]) == 0
    out = loads_strict(capsys.readouterr().out.strip().splitlines()[-1])  # one strict JSON line
    assert out[0]["n_emg"] == 2000 and out[0]["finalized"]
    # repetitions numbered from 1, as a person counts them (the file stores 0, 1, 0)
    assert [(p["label"], p["repetition"]) for p in out[0]["prompts"]] == [("fist", 1), ("fist", 2), ("rest", 1)]
    bad = tmp_path / "bad.h5"
    bad.write_text("nope")
    assert cli_main(["check", str(bad)]) == 2
    assert str(bad) in capsys.readouterr().err
    src = tmp_path / "S1.mat"
    make_ninapro_mat(src)
    assert cli_main(["import", str(src), "--fs", "200", "-o", str(tmp_path / "imp.h5"), "-q"]) == 0
    assert read_recording(tmp_path / "imp.h5").fs == 200.0
    assert cli_main(["export", str(path), "--format", "emg2pose", "-o", str(tmp_path / "e.hdf5"), "-q"]) == 0
    assert cli_main(["export", str(path), "--format", "npz", "--filtered", "-o", str(tmp_path / "w.npz"), "-q"]) == 0
    assert np.load(tmp_path / "w.npz")["emg"].shape[1:] == (100, 8)


def test_summary_claims_imu_samples_only_for_a_source_with_imu(tmp_path):
    from asha_app.data.integrity import check_session
    from asha_app.data.writer import SessionWriter

    def session(name, imu):
        w = SessionWriter(tmp_path / name, 8, 500.0, [])
        t = np.arange(1000) / 500.0
        w.append_emg(t, np.ones((1000, 8), np.float32))
        if imu is not None:
            w.append_imu(t, imu[0], imu[1])
        w.finalize()
        return check_session(tmp_path / name).format_text()

    moving = np.random.default_rng(0).normal(size=(1000, 3)).astype(np.float32)
    zeros = np.zeros((1000, 3), np.float32)
    assert "1000 EMG samples, no IMU," in session("none.h5", None)
    # written by the demo before the recorder stopped storing a source's empty IMU rows
    assert "no IMU (the source has none" in session("zeros.h5", (zeros, zeros))
    assert "1000 IMU samples" in session("armband.h5", (moving, moving))


def test_one_sentence_for_each_os_error_of_every_write_path():
    """Writer, importer and exports say the same thing for the same OS error (core.errors.describe_os_error)."""
    import errno

    from asha_app.core.errors import describe_os_error

    said = {code: describe_os_error(OSError(code, "x")) for code in
            (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOENT)}
    assert said[errno.ENOSPC] == "the disk is full" and said[errno.EDQUOT] == "the disk quota is exceeded"
    assert said[errno.EROFS] == "the disk is read-only" and said[errno.EACCES] == said[errno.EPERM]
    assert "file-size limit" in said[errno.EFBIG] and said[errno.ENOENT] == "the folder does not exist"
    assert describe_os_error(OSError(errno.EIO, "Input/output error")) == "[Errno 5] Input/output error"
    assert describe_os_error(RuntimeError("Can't write data (No space left on device)")) == "the disk is full"
