"""Session writer and reader: round trip, crash safety (kill -9), disk full, damaged and foreign files."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from asha_app.core.errors import RecordingFileError
from asha_app.data import schema as S
from asha_app.data.reader import SessionFile, read_recording
from asha_app.data.recording import Prompt, Recording
from asha_app.data.importers.session import write_recording
from asha_app.data.writer import SessionWriter
from asha_app.dsp.filters import FilterSpec
from asha_app.pose.ik import IKResult

CHILD = Path(__file__).parent / "fixtures" / "session_writer_child.py"
REPO = Path(__file__).resolve().parents[1]
ANGLES = ["index_mcp_flex", "index_pip_flex", "thumb_cmc_abd"]


def _frames(rng, m, t0=0.0):
    frames = []
    for i in range(m):
        valid = i % 4 != 3
        ik = IKResult.from_labels(rng.normal(size=3) * 30, rng.normal(size=(21, 3)) * 50,
                                  rng.normal(size=(21, 3)) * 50 + 400,
                        float(rng.uniform(1, 5)), valid)
        hand = i % 5 != 0
        frames.append(S.CameraLabelFrame(
            t0 + i / 30.0, rng.uniform(size=(21, 3)) if hand else None,
            rng.normal(size=(21, 3)) * 0.05 if hand else None,
            "Right" if hand else "", 0.95 if hand else 0.0, ik if hand else None,
        ))
    return frames


def test_round_trip_every_stream(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "s.h5"
    spec = FilterSpec(500.0, notch_hz=60.0)
    w = SessionWriter(path, 8, 500.0, ANGLES, filter_spec=spec, participant={"pseudonym": "P03", "arm": "right"},
                      device={"board": "MindRoveWifi"}, session_t0_unix=1.7e9, emg_to_video_offset_s=0.042,
                      offset_source="measured", video_shape=(4, 6))
    n = 1500
    t = np.arange(n) / 500.0
    raw = rng.normal(size=(n, 8)).astype(np.float32) * 100
    pk = np.arange(n, dtype=float)
    for s in range(0, n, 37):  # odd block size: many appends, few flushes
        w.append_emg(t[s:s + 37], raw[s:s + 37], package=pk[s:s + 37], marker=np.zeros(len(t[s:s + 37])),
                     board_t=t[s:s + 37] + 1.7e9)
        if s % 370 == 0:
            w.flush()
    w.append_imu(t[::10], rng.normal(size=(150, 3)), rng.normal(size=(150, 3)))
    frames = _frames(rng, 60)
    w.append_frames(frames[:30])
    w.flush()
    w.append_frames(frames[30:])
    w.append_prompt(Prompt("fist", 0.5, 1.5, 0))
    w.append_prompt(Prompt("open", 1.8, 2.5, 1))
    w.append_marker("cough", 1.0)
    w.append_video(0.1, np.full((4, 6, 3), 7, np.uint8))
    summary = w.finalize()
    assert summary["n_emg"] == n and summary["finalized"]
    # fist 0.5-1.5 s holds frames 15..44 (t = i/30); every 4th frame has a failed fit, every 5th no hand
    fist = [f.valid for f in frames if 0.5 <= f.t < 1.5]
    assert summary["valid_share_by_label"]["fist"] == pytest.approx(np.mean(fist))

    with SessionFile(path) as sf:
        assert sf.finalized and not sf.crashed
        np.testing.assert_array_equal(sf.emg_raw[100:200], raw[100:200])  # lazy slice
        rec = sf.to_recording()
        attrs = sf.attrs
        assert FilterSpec.from_dict(attrs["filter"]) == spec
        assert attrs["participant"]["pseudonym"] == "P03"
        assert attrs["emg_to_video_offset_s"] == pytest.approx(0.042) and attrs["offset_source"] == "measured"
        assert attrs["format"] == "asha-session" and attrs["schema_version"] == S.SCHEMA_VERSION
        np.testing.assert_array_equal(sf.dataset("video/frames")[0], np.full((4, 6, 3), 7))
        assert sf.dataset("camera/handedness")[0] == b""
    np.testing.assert_array_equal(rec.emg, raw)
    np.testing.assert_array_equal(rec.emg_t, t)
    np.testing.assert_array_equal(rec.extras["emg/package"], pk)
    np.testing.assert_allclose(rec.extras["emg/board_t"], t + 1.7e9)
    assert rec.extras["imu/accel"].shape == (150, 3)
    assert rec.angle_names == ANGLES and rec.fs == 500.0
    np.testing.assert_allclose(rec.label_t, np.array([f.t for f in frames]) + 0.042)  # aligned to EMG
    assert rec.meta["video_offset_applied_s"] == pytest.approx(0.042)
    with SessionFile(path) as sf:
        np.testing.assert_array_equal(sf.to_recording(apply_video_offset=False).label_t, [f.t for f in frames])
    # a read -> write round trip keeps the stored capture times and the offset
    write_recording(rec, tmp_path / "copy.h5")
    with SessionFile(tmp_path / "copy.h5") as sf:
        np.testing.assert_allclose(sf.dataset("camera/t")[()], [f.t for f in frames])
        assert sf.attrs["emg_to_video_offset_s"] == pytest.approx(0.042) and sf.attrs["offset_source"] == "measured"
        np.testing.assert_allclose(sf.to_recording().label_t, rec.label_t)
    exp_valid = np.array([f.valid for f in frames])
    np.testing.assert_array_equal(rec.valid, exp_valid)
    for i, f in enumerate(frames):
        if f.valid:
            np.testing.assert_allclose(rec.joint_angles[i], f.ik.angles_deg, rtol=1e-6)
            np.testing.assert_allclose(rec.joints_mm[i], f.ik.joints_hand_mm, rtol=1e-6)
        else:  # invalid frames stay NaN, never a neutral pose
            assert np.isnan(rec.joint_angles[i]).all() and np.isnan(rec.joints_mm[i]).all()
    assert [(p.label, p.start, p.end, p.repetition) for p in rec.prompts] == [
        ("fist", 0.5, 1.5, 0), ("cough", 1.0, 1.0, -1), ("open", 1.8, 2.5, 1)]


def test_package_gaps_become_dropped_records(tmp_path):
    path = tmp_path / "gaps.h5"
    w = SessionWriter(path, 2, 500.0)
    pk = np.arange(100.0)
    keep = np.ones(100, bool)
    keep[[10, 11, 12, 50]] = False
    t = np.arange(100) / 500.0
    w.append_emg(t[keep][:40], np.zeros((40, 2)), package=pk[keep][:40])
    w.append_emg(t[keep][40:], np.zeros((56, 2)), package=pk[keep][40:])  # gap 50 is inside the 2nd block
    w.finalize()
    with SessionFile(path) as sf:
        d = sf.dropped()
        assert list(d["first_missing_package"]) == [10.0, 50.0] and list(d["n_missing"]) == [3, 1]
        assert d["t"][0] == pytest.approx(13 / 500.0)
        assert sf.summary["dropped_samples"] == 4


def test_write_recording_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    rec = Recording(emg=rng.normal(size=(1000, 4)).astype(np.float32), emg_t=np.arange(1000) / 200.0, fs=200.0,
                    label_t=np.arange(50) / 10.0, joint_angles=rng.normal(size=(50, 2)).astype(np.float32),
                    valid=np.ones(50, bool), angle_names=["a", "b"], channel_names=["w", "x", "y", "z"],
                    emg_units="counts",
                    prompts=[Prompt("fist", 1.0, 2.0, 0), Prompt("note", 3.0, 3.0, -1)],
                    meta={"dataset": "x", "user": "u1"})
    done = []
    write_recording(rec, tmp_path / "r.h5", progress=lambda a, b: done.append((a, b)), block=300)
    assert done[-1] == (1000, 1000) and len(done) == 4
    back = read_recording(tmp_path / "r.h5")
    np.testing.assert_array_equal(back.emg, rec.emg)
    np.testing.assert_allclose(back.joint_angles, rec.joint_angles)
    assert back.channel_names == rec.channel_names and back.emg_units == "counts"
    assert back.meta["user"] == "u1" and back.prompts == rec.prompts


def _run_child(args, **kw):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen([sys.executable, str(CHILD), *args], stdout=subprocess.PIPE, text=True, env=env, **kw)


POSIX_ONLY = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL / RLIMIT_FSIZE are POSIX")


@POSIX_ONLY
@pytest.mark.slow
def test_kill_9_loses_at_most_one_second(tmp_path):
    path = tmp_path / "killed.h5"
    proc = _run_child([str(path), "kill"])
    written_t = 0.0
    written_n = 0
    deadline = time.monotonic() + 30
    try:
        for line in proc.stdout:
            if line.startswith("WRITTEN"):
                _, n, t = line.split()
                written_n, written_t = int(n), float(t)
                if written_t >= 2.7:  # mid-session, between flushes
                    break
            assert time.monotonic() < deadline, "child too slow"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(10)
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    with SessionFile(path) as sf:  # opens although the writer never closed it
        assert sf.crashed and not sf.finalized
        n = sf.n_emg
        t = sf.emg_t[()]
        raw = sf.emg_raw[()]
        frames = sf.n_frames
        angles = sf.dataset("labels/joint_angles")[()]
    assert 0 < n <= written_n
    lost_s = written_t - t[-1]
    assert lost_s < 1.0, f"lost {lost_s:.3f} s of data"
    idx = np.arange(n)
    np.testing.assert_array_equal(t, idx / 500.0)  # every stored sample intact and in order
    np.testing.assert_allclose(raw, idx[:, None] + np.arange(8)[None, :] / 10.0, rtol=1e-6)
    assert frames > 0 and np.all(angles[:, 0] == np.arange(frames))
    # recovery copies it into a closed, finalized file with the same data
    from asha_app.data.recovery import recover_session

    out = recover_session(path)
    with SessionFile(out) as sf:
        assert sf.finalized and not sf.crashed and sf.summary["recovered_from"] == str(path)
        np.testing.assert_array_equal(sf.emg_t[()], t)


@POSIX_ONLY
@pytest.mark.slow
def test_disk_full_stops_cleanly_file_valid_to_last_flush(tmp_path):
    """A real OS write failure: the child runs under RLIMIT_FSIZE, so the file cannot grow past the limit (EFBIG)."""
    path = tmp_path / "full.h5"
    proc = _run_child([str(path), "fsize", str(2_000_000)])
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 3, out[-2000:]
    flushed = [int(line.split()[1]) for line in out.splitlines() if line.startswith("FLUSHED")]
    error = [line for line in out.splitlines() if line.startswith("ERROR")][0]
    assert str(path) in error and "recording stopped" in error
    assert flushed, "the limit was hit before any flush"
    with SessionFile(path) as sf:
        n = sf.n_emg
        t = sf.emg_t[: flushed[-1]]
        raw = sf.emg_raw[: flushed[-1]]
    assert n >= flushed[-1]
    idx = np.arange(flushed[-1])
    np.testing.assert_array_equal(t, idx / 500.0)
    np.testing.assert_allclose(raw, idx[:, None] + np.arange(8)[None, :] / 10.0, rtol=1e-6)


def test_disk_nearly_full_stops_before_hdf5_fails(tmp_path, monkeypatch):
    path = tmp_path / "enospc.h5"
    w = SessionWriter(path, 2, 500.0)
    w.append_emg(np.arange(100) / 500.0, np.ones((100, 2)))
    w.flush()
    w.append_emg(np.arange(100, 200) / 500.0, np.ones((100, 2)))
    real = __import__("shutil").disk_usage

    def almost_full(p):
        u = real(p)
        return type(u)(u.total, u.total - 1000, 1000)

    monkeypatch.setattr("asha_app.data.disk_space.shutil.disk_usage", almost_full)
    with pytest.raises(RecordingFileError, match="disk is full") as err:
        w.flush()
    assert str(path) in str(err.value)
    monkeypatch.undo()
    assert not w.is_open
    with pytest.raises(RecordingFileError):
        w.append_emg([1.0], np.ones((1, 2)))
    with SessionFile(path) as sf:
        assert sf.n_emg >= 100
        np.testing.assert_array_equal(sf.emg_t[:100], np.arange(100) / 500.0)


def test_unwritable_folder_and_existing_file(tmp_path):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    with pytest.raises(RecordingFileError, match="cannot create session file") as err:
        SessionWriter(blocker / "s.h5", 2, 500.0)
    assert "not_a_folder" in str(err.value)
    existing = tmp_path / "e.h5"
    existing.write_text("keep me")
    with pytest.raises(RecordingFileError, match="already exists"):
        SessionWriter(existing, 2, 500.0)
    assert existing.read_text() == "keep me"


def _good_file(path):
    w = SessionWriter(path, 2, 500.0)
    w.append_emg(np.arange(5000) / 500.0, np.ones((5000, 2)))
    w.finalize()
    return path


def test_damaged_foreign_and_newer_files_are_refused_clearly(tmp_path):
    text = tmp_path / "notes.h5"
    text.write_text("hello, not hdf5")
    with pytest.raises(RecordingFileError, match="not an HDF5 file") as err:
        SessionFile(text)
    assert str(text) in str(err.value)

    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f["data"] = np.zeros(3)
    with pytest.raises(RecordingFileError, match="not an Asha session file") as err:
        SessionFile(foreign)
    assert str(foreign) in str(err.value)

    good = _good_file(tmp_path / "good.h5")
    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(RecordingFileError) as err:
        SessionFile(truncated)
    assert str(truncated) in str(err.value)

    newer = _good_file(tmp_path / "newer.h5")
    with h5py.File(newer, "r+") as f:
        f.attrs[S.Root.SCHEMA_VERSION] = S.SCHEMA_VERSION + 1
    with pytest.raises(RecordingFileError, match="Update Asha") as err:
        SessionFile(newer)
    assert str(newer) in str(err.value)

    with pytest.raises(RecordingFileError, match="no such file"):
        SessionFile(tmp_path / "missing.h5")


def test_package_gaps_wrap_restart_and_modulus():
    from asha_app.data.drops import package_gaps

    # 8-bit counter wrapping, with 2 lost across the wrap (254, [255, 0] missing, 1)
    idx, first, n = package_gaps(np.array([252.0, 253, 254, 1, 2]))
    assert list(n) == [2] and list(first) == [255.0] and list(idx) == [3]
    # with an explicit modulus
    idx, first, n = package_gaps(np.array([98.0, 99, 2, 3]), modulus=100)
    assert list(n) == [2] and list(first) == [0.0]
    # a looping playback restarts at its first number: no loss
    assert package_gaps(np.array([5.0, 6, 7, 5, 6]))[2].size == 0
    # NaN (unknown) entries are skipped
    assert list(package_gaps(np.array([1.0, np.nan, 2, 4]))[2]) == [1]


def test_maybe_flush_bounds_unsaved_data_time_after_a_stall(tmp_path):
    """After a stall the recorder drains seconds of EMG at once; no more than ~1 s may stay unsaved."""
    w = SessionWriter(tmp_path / "stall.h5", 2, 500.0, flush_interval_s=1.0)
    worst = 0.0
    for s in range(0, 5000, 10):  # 10 s of data appended far faster than real time
        t = np.arange(s, s + 10) / 500.0
        w.append_emg(t, np.zeros((10, 2)))
        w.maybe_flush()
        on_disk = w.counts["emg"] / 500.0
        worst = max(worst, t[-1] + 1 / 500.0 - on_disk)
    assert worst <= 0.92, worst
    w.close()
