"""Fault injection: nothing lost, nothing crashes.

Files built here and then damaged (truncated at several offsets, bit-flipped data chunks, foreign layouts,
locked by another process); a writer process killed with ``kill -9`` inside ``finalize``; a disk that fills up
under HDF5 (a small tmpfs mounted for the test, skipped where mounting is not allowed) and a write that fails
inside HDF5 in-process; bad input on every command line path.  Each asserts what the user sees: the file opens
afterwards, the samples in it equal the samples flushed, no zero-filled rows, no traceback, exit status 2 with a
message naming the file.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
import scipy.io

from asha_app.cli import main
from asha_app.core.atomic import OutputExistsError, atomic_folder, atomic_write, atomic_write_text
from asha_app.core.errors import AshaError, RecordingFileError
from asha_app.data import schema as S
from asha_app.data.integrity import check_session
from asha_app.data.recovery import recover_session
from asha_app.data.reader import SessionFile, read_recording
from asha_app.data.writer import SessionWriter
from tests.recording_helpers import write_session

REPO = Path(__file__).resolve().parents[1]
CHILD = Path(__file__).parent / "fixtures" / "fault_child.py"
POSIX_ONLY = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL, tmpfs and file locks are POSIX here")


def _cli(args, capsys):
    """Run ``asha ARGS`` in-process; returns (status, stdout, stderr)."""
    status = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "Traceback" not in out
    return status, out, err


def _no_tmp_left(folder: Path) -> None:
    left = [p.name for p in folder.iterdir() if p.name.endswith((".tmp", ".reserve"))]
    assert not left, f"temporary files left behind: {left}"


# ---------------------------------------------------------------------- atomic writes
def test_atomic_write_replaces_only_on_success(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_write(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("killed mid-write")
    assert target.read_bytes() == b"old"
    _no_tmp_left(tmp_path)
    with pytest.raises(OutputExistsError):
        atomic_write_text(target, "new", overwrite=False)
    atomic_write_text(target, "new")
    assert target.read_text() == "new"
    assert (target.stat().st_mode & 0o777) == 0o666 & ~_umask()  # not tempfile's owner-only mode
    with pytest.raises(IsADirectoryError):
        atomic_write_text(tmp_path, "x")
    _no_tmp_left(tmp_path)


def _umask() -> int:
    old = os.umask(0)
    os.umask(old)
    return old


def test_atomic_folder_keeps_the_old_folder_until_the_new_one_is_complete(tmp_path):
    out = tmp_path / "csv"
    with atomic_folder(out) as tmp:
        (tmp / "a.csv").write_text("1")
    with pytest.raises(OutputExistsError), atomic_folder(out):
        pass
    with pytest.raises(ValueError), atomic_folder(out, overwrite=True) as tmp:
        (tmp / "a.csv").write_text("2")
        raise ValueError("disk full")
    assert (out / "a.csv").read_text() == "1"
    _no_tmp_left(tmp_path)


# ---------------------------------------------------------------------- exports
def test_export_never_overwrites_its_source_or_an_existing_file(tmp_path, capsys):
    src = write_session(tmp_path / "a.h5", seconds=4.0)
    before = src.read_bytes()
    for fmt in ("emg2pose", "csv"):
        for extra in ([], ["--overwrite"]):
            status, _, err = _cli(["export", src, "--format", fmt, "-o", src, "-q", *extra], capsys)
            assert status == 2 and str(src) in err, (fmt, extra, err)
    status, out, _ = _cli(["export", src, "--format", "npz", "-o", src, "-q"], capsys)  # numpy's suffix rule
    assert status == 0 and out.strip() == str(src) + ".npz"
    assert src.read_bytes() == before
    with SessionFile(src) as sf:
        assert sf.finalized and sf.n_emg == 2000
    other = tmp_path / "b.hdf5"
    other.write_bytes(b"precious")
    status, _, err = _cli(["export", src, "--format", "emg2pose", "-o", other, "-q"], capsys)
    assert status == 2 and "already exists" in err and other.read_bytes() == b"precious"
    status, out, _ = _cli(["export", src, "--format", "emg2pose", "-o", other, "-q", "--overwrite"], capsys)
    assert status == 0 and out.strip() == str(other) and h5py.is_hdf5(other)
    # the printed path is the file written (numpy adds .npz)
    status, out, _ = _cli(["export", src, "--format", "npz", "-o", tmp_path / "win", "-q"], capsys)
    assert status == 0 and out.strip() == str(tmp_path / "win.npz") and (tmp_path / "win.npz").is_file()
    _no_tmp_left(tmp_path)


def test_export_too_large_asks_first(tmp_path, capsys, monkeypatch):
    from asha_app.data import exporters

    src = write_session(tmp_path / "a.h5", seconds=4.0)
    monkeypatch.setattr(exporters, "SANE_EXPORT_BYTES", 1_000_000)
    status, _, err = _cli(["export", src, "--window", "500", "--stride", "1", "-q"], capsys)
    assert status == 2 and "GB" in err and "--allow-large" in err
    assert not src.with_suffix(".windows.npz").exists()
    status, _, _ = _cli(["export", src, "--window", "500", "--stride", "1", "-q", "--allow-large"], capsys)
    assert status == 0 and src.with_suffix(".windows.npz").is_file()


def test_gui_export_names_never_collide_and_existing_outputs_are_kept(tmp_path, qtbot):
    from asha_app.ui.export_dialog import ExportDialog, export_outputs

    (tmp_path / "day1").mkdir()
    (tmp_path / "day2").mkdir()
    a = write_session(tmp_path / "day1" / "s.h5", seconds=3.0)
    b = write_session(tmp_path / "day2" / "s.h5", seconds=3.0)
    outs = export_outputs([a, b], "emg2pose", tmp_path / "exp")
    assert len(set(outs)) == 2
    out_dir = tmp_path / "exp"
    out_dir.mkdir()
    (out_dir / "s.emg2pose.hdf5").write_bytes(b"an older export")
    dlg = ExportDialog([a, b], out_dir=out_dir)
    qtbot.addWidget(dlg)
    dlg.format.setCurrentIndex([dlg.format.itemData(i) for i in range(dlg.format.count())].index("emg2pose"))
    assert dlg.start_export(existing="cancel") is None
    worker = dlg.start_export(existing="rename")
    qtbot.waitUntil(lambda: dlg.last_result is not None, timeout=60_000)
    worker.wait(5000)
    assert dlg.last_result["failed"] == {}
    assert (out_dir / "s.emg2pose.hdf5").read_bytes() == b"an older export"
    written = sorted(p.name for p in out_dir.iterdir())
    assert len(written) == 3, written
    dlg.done(0)


# ---------------------------------------------------------------------- kill -9 inside finalize
def _child(args):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen([sys.executable, str(CHILD), *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def _kill_at(proc, marker: str, timeout: float = 60.0) -> list[str]:
    lines = []
    deadline = time.monotonic() + timeout
    for line in proc.stdout:
        lines.append(line.strip())
        if line.startswith(marker):
            break
        assert time.monotonic() < deadline, "child too slow"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    proc.stdout.close()
    proc.stderr.close()
    return lines


def _assert_intact(path: Path, n_expected: int) -> None:
    with SessionFile(path) as sf:
        t = sf.emg_t[()]
        raw = sf.emg_raw[()]
    assert t.size == n_expected
    idx = np.arange(n_expected)
    np.testing.assert_array_equal(t, idx / 500.0)
    np.testing.assert_allclose(raw, idx[:, None] + np.arange(8)[None, :] / 10.0, rtol=1e-6)


@POSIX_ONLY
@pytest.mark.parametrize("where", ["before_summary", "after_summary"])
def test_kill_inside_finalize_loses_nothing(tmp_path, where, capsys):
    path = tmp_path / "s.h5"
    lines = _kill_at(_child([path, "finalize", where]), "PAUSE")
    flushed = [int(x.split()[1]) for x in lines if x.startswith("FLUSHED")]
    assert "FINALIZING" in lines and flushed[-1] == 1500
    _assert_intact(path, 1500)
    with SessionFile(path) as sf:
        assert sf.crashed  # killed while the writer held the file
        assert sf.finalized == (where == "after_summary")
    status, out, _ = _cli(["check", path, "--recover"], capsys)
    assert status == 0 and "recovered into" in out
    rec = tmp_path / "s.recovered.h5"
    _assert_intact(rec, 1500)
    with SessionFile(rec) as sf:
        assert sf.finalized and not sf.crashed and sf.summary["n_emg"] == 1500


@POSIX_ONLY
def test_kill_at_random_moments_of_finalize(tmp_path):
    """A few deterministic delays into finalize (benchmarks/faults.py runs many random ones)."""
    for i, delay in enumerate((0.0, 0.003, 0.01, 0.03)):
        path = tmp_path / f"r{i}.h5"
        proc = _child([path, "finalize", "none"])
        for line in proc.stdout:
            if line.startswith("FINALIZING"):
                break
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()
        _assert_intact(path, 1500)


# ---------------------------------------------------------------------- disk full
def _mount_tmpfs(folder: Path, size: str) -> bool:
    folder.mkdir()
    if shutil.which("mount") is None or not hasattr(os, "geteuid") or os.geteuid() != 0:
        return False
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True)
    return res.returncode == 0


@POSIX_ONLY
def test_disk_full_inside_hdf5_shrinks_back_and_closes_cleanly(tmp_path):
    """A real full disk (8 MB tmpfs) met by HDF5 itself (the free-space check switched off: the race)."""
    mnt = tmp_path / "small"
    if not _mount_tmpfs(mnt, "8m"):
        pytest.skip("cannot mount a small tmpfs here (needs root and mount permission); "
                    "test_failed_hdf5_write_rolls_back covers the same path in-process")
    try:
        path = mnt / "full.h5"
        proc = _child([path, "fill"])
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 3, (proc.returncode, err[-2000:])  # not 139 (SIGSEGV)
        assert "Traceback" not in err
        flushed = [int(x.split()[1]) for x in out.splitlines() if x.startswith("FLUSHED")]
        error = [x for x in out.splitlines() if x.startswith("ERROR")][0]
        assert str(path) in error and "disk is full" in error
        with SessionFile(path) as sf:
            assert not sf.crashed  # closed cleanly, not left open
        _assert_intact(path, flushed[-1])  # exactly the last good flush: no zero-filled rows
        _no_tmp_left(mnt)
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)


def test_failed_hdf5_write_rolls_back_to_the_last_flush(tmp_path, monkeypatch):
    """ENOSPC raised inside the dataset write, after the resize: the file keeps exactly the flushed rows."""
    from asha_app.data.layout import StreamBuffer

    path = tmp_path / "enospc.h5"
    w = SessionWriter(path, 8, 500.0, ["a"])
    t = np.arange(1000) / 500.0
    w.append_emg(t, np.ones((1000, 8)), package=np.arange(1000))
    w.flush()
    w.append_emg(t + 2.0, np.ones((1000, 8)), package=np.arange(1000, 2000))
    real = StreamBuffer.write

    def failing(self):
        if "raw" in self.datasets:
            for ds in self.datasets.values():
                ds.resize(self.n_written + self.n_pending, axis=0)
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self)

    monkeypatch.setattr(StreamBuffer, "write", failing)
    with pytest.raises(RecordingFileError, match="disk is full") as exc:
        w.flush()
    assert str(path) in str(exc.value) and not w.is_open
    with SessionFile(path) as sf:
        assert not sf.crashed and sf.n_emg == 1000
        assert np.all(sf.emg_t[()] == t)
    _no_tmp_left(tmp_path)


# ---------------------------------------------------------------------- looping playback: no false drops
def test_playback_loop_is_a_restart_not_a_drop(tmp_path):
    path = tmp_path / "loop.h5"
    w = SessionWriter(path, 2, 500.0, package_restart=1000)
    # the recording starts mid-file (package 1500); the file loops back to its first package (1000) twice
    pk = np.concatenate([np.arange(1500, 2000), np.arange(1000, 2000), np.arange(1000, 1300)]).astype(float)
    w.append_emg(np.arange(pk.size) / 500.0, np.ones((pk.size, 2)), package=pk)
    summary = w.finalize()
    assert w.dropped_device == 0 and summary["dropped_samples"] == 0 and not summary["warnings"]
    assert check_session(path).dropped_samples == 0
    # a real gap is still counted
    w = SessionWriter(tmp_path / "gap.h5", 2, 500.0, package_restart=1000)
    pk = np.concatenate([np.arange(1500, 1600), np.arange(1610, 1700)]).astype(float)
    w.append_emg(np.arange(pk.size) / 500.0, np.ones((pk.size, 2)), package=pk)
    assert w.finalize()["dropped_samples"] == 10


def test_playback_source_knows_where_it_restarts(tmp_path):
    from mindrove.board_shim import BoardIds, BoardShim
    from mindrove.data_filter import DataFilter

    from asha_app.devices.emg import PlaybackSource

    d = BoardShim.get_board_descr(BoardIds.MINDROVE_WIFI_BOARD.value)
    data = np.zeros((d["num_rows"], 100))
    data[d["package_num_channel"]] = np.arange(100) + 4242
    data[d["timestamp_channel"]] = 1.7e9 + np.arange(100) / 500.0
    f = tmp_path / "rec.csv"
    DataFilter.write_file(data, str(f), "w")
    assert PlaybackSource(f, loop=True).package_restart == 4242
    assert PlaybackSource(f, loop=False).package_restart is None


# ---------------------------------------------------------------------- damaged and foreign session files
def _data_offsets(path: Path) -> list[int]:
    """File offsets of the stored EMG chunks (where a bit flip hits data, not metadata)."""
    with h5py.File(path, "r") as f:
        ds = f["emg/raw"]
        return [ds.id.get_chunk_info(i).byte_offset for i in range(ds.id.get_num_chunks())]


def test_truncated_and_bit_flipped_sessions_give_a_clear_message(tmp_path, capsys):
    good = write_session(tmp_path / "good.h5", seconds=6.0)
    raw = good.read_bytes()
    cases = {}
    for frac in (0.0, 0.1, 0.35, 0.6, 0.9, 0.999):
        p = tmp_path / f"trunc_{int(frac * 1000)}.h5"
        p.write_bytes(raw[: int(len(raw) * frac)])
        cases[p] = "truncated"
    for k, off in enumerate(_data_offsets(good)[:3]):
        b = bytearray(raw)
        for j in range(16):
            b[off + 40 + j] ^= 0xFF
        p = tmp_path / f"flip_{k}.h5"
        p.write_bytes(bytes(b))
        cases[p] = "flip"
    for p in cases:
        status, _, err = _cli(["check", p], capsys)
        assert status in (0, 2)
        if status == 2:
            assert str(p) in err and len(err.strip().splitlines()) == 1, err
        try:
            read_recording(p)
        except RecordingFileError as exc:
            assert str(p) in str(exc)
    # every bit-flipped data chunk is found by the check (compressed chunks fail their decompression)
    flips = [p for p, kind in cases.items() if kind == "flip"]
    for p in flips:
        with pytest.raises(RecordingFileError, match="damaged"):
            check_session(p)


def _edit(path: Path, fn) -> Path:
    with h5py.File(path, "r+") as f:
        fn(f)
    return path


def test_foreign_layouts_are_named(tmp_path, capsys):
    def make(name):
        return write_session(tmp_path / name, seconds=2.0)

    def group_for_raw(f):
        del f["emg/raw"]
        f.create_group("emg/raw")

    def short_labels(f):
        v = f["labels/joint_angles"]
        v.resize(v.shape[0] - 5, axis=0)

    cases = {
        "group.h5": (group_for_raw, "is a group"),
        "short_labels.h5": (short_labels, "labels do not match"),
        "no_fs.h5": (lambda f: f.attrs.__delitem__("fs"), "sampling rate"),
        "zero_fs.h5": (lambda f: f.attrs.__setitem__("fs", 0.0), "sampling rate"),
        "nan_fs.h5": (lambda f: f.attrs.__setitem__("fs", float("nan")), "sampling rate"),
    }
    for name, (fn, words) in cases.items():
        p = _edit(make(name), fn)
        status, _, err = _cli(["check", p], capsys)
        assert status == 2 and str(p) in err and words in err, (name, err)
    # a summary that is not a JSON object is ignored (recomputed), never a crash
    p = _edit(make("list_summary.h5"), lambda f: f.attrs.__setitem__("summary", "[1, 2]"))
    with SessionFile(p) as sf:
        assert sf.summary == {}
    # NaN samples and time stamps are reported
    def nan_rows(f):
        f["emg/raw"][10:13] = np.nan
        t = f["emg/t"]
        t[20] = np.nan
        t[30] = t[29]
    p = _edit(make("nan.h5"), nan_rows)
    rep = check_session(p)
    assert rep.nonfinite_emg == 3 and rep.nonfinite_t == 1 and rep.backward_t >= 1
    text = " ".join(rep.warnings)
    assert "NaN or infinite" in text and "do not increase" in text
    with pytest.raises(RecordingFileError, match="NaN or infinite time"):
        read_recording(p)


@POSIX_ONLY
def test_a_file_locked_by_another_writer_is_reported_as_locked(tmp_path):
    p = write_session(tmp_path / "locked.h5", seconds=2.0)
    code = ("import h5py, sys, time\nf = h5py.File(sys.argv[1], 'r+')\nprint('OPEN', flush=True)\ntime.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(p)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "OPEN"
        with pytest.raises(RecordingFileError, match="locked by another program"):
            SessionFile(p)
    finally:
        proc.kill()
        proc.wait(10)
        proc.stdout.close()


def test_session_library_survives_a_malformed_summary(tmp_path, monkeypatch, qtbot):
    from asha_app.ui import session_library as L

    good = write_session(tmp_path / "good.h5", seconds=2.0)
    bad = _edit(write_session(tmp_path / "bad.h5", seconds=2.0),
                lambda f: f.attrs.__setitem__("summary", json.dumps({"duration_s": "long", "n_emg": [1]})))
    listed = _edit(write_session(tmp_path / "list.h5", seconds=2.0), lambda f: f.attrs.__setitem__("summary", "[]"))
    rows = [L.summarize_file(p) for p in (good, bad, listed)]
    assert rows[0]["error"] is None and rows[0]["n_emg"] == 1000
    assert rows[1]["error"] and "summary is malformed" in rows[1]["error"]
    assert rows[2]["error"] is None and rows[2]["n_emg"] == 1000  # not an object: recomputed
    # Details shows any error, not only AshaError
    monkeypatch.setattr("asha_app.ui.session_library.details.details_text",
                        lambda p: (_ for _ in ()).throw(TypeError("boom")))
    dlg = L.DetailsDialog(good)
    qtbot.addWidget(dlg)
    qtbot.waitUntil(lambda: dlg.loaded, timeout=10_000)  # read in a worker thread
    assert "unexpected error" in dlg.text.toPlainText() and "asha-errors.log" in dlg.text.toPlainText()


# ---------------------------------------------------------------------- importers
def test_ninapro_bad_inputs(tmp_path, capsys):
    n = 400
    emg = np.random.default_rng(0).normal(size=(n, 4))
    stim = np.repeat(np.arange(4), n // 4)[:, None]
    cases = {
        "strings.mat": ({"emg": np.array(["a", "b"]), "frequency": 100.0}, "not numbers"),
        "complex.mat": ({"emg": emg + 1j, "frequency": 100.0}, "complex"),
        "nan_fs.mat": ({"emg": emg, "frequency": float("nan")}, "not a positive number"),
        "all_nan.mat": ({"emg": np.full((n, 4), np.nan), "frequency": 100.0}, "NaN"),
    }
    for name, (mdict, words) in cases.items():
        p = tmp_path / name
        scipy.io.savemat(p, mdict)
        status, _, err = _cli(["import", p, "-q"], capsys)
        assert status == 2 and str(p) in err and words in err, (name, err)
        assert not p.with_suffix(".asha.h5").exists()
    with pytest.raises(SystemExit) as exc:
        main(["import", str(tmp_path / "strings.mat"), "--fs", "nan"])
    assert exc.value.code == 2 and "--fs" in capsys.readouterr().err
    # usable with a warning: transposed EMG, stimulus shorter than EMG
    from asha_app.data.importers.ninapro import read_ninapro

    p = tmp_path / "transposed.mat"
    scipy.io.savemat(p, {"emg": emg.T, "stimulus": stim[: n // 2], "frequency": 100.0})
    rec = read_ninapro(p)
    assert rec.emg.shape == (n, 4)
    assert any("transposed" in w for w in rec.meta["warnings"])
    assert any("covers only" in w for w in rec.meta["warnings"])
    # MATLAB v7.3 (HDF5 inside, arrays stored transposed)
    p = tmp_path / "v73.mat"
    with h5py.File(p, "w", userblock_size=512) as f:
        f["emg"] = emg.T
        f["frequency"] = np.array([[100.0]])
    with open(p, "r+b") as fh:
        fh.write(b"MATLAB 7.3 MAT-file, written by a test")
    status, out, err = _cli(["import", p, "-q"], capsys)
    assert status == 0, err
    np.testing.assert_allclose(read_recording(out.strip()).emg, emg.astype(np.float32), rtol=1e-6)


def _emg2pose(path: Path, n=200, c=4, fields=None, sample_rate=2000.0, emg=None):
    dt = fields or [("time", "<f8"), ("emg", "<f4", (c,)), ("joint_angles", "<f4", (3,))]
    rows = np.zeros(n, np.dtype(dt))
    if "time" in rows.dtype.names and rows.dtype["time"].kind == "f":
        rows["time"] = 1.7e9 + np.arange(n) / 2000.0
    if emg is not None:
        rows["emg"] = emg
    with h5py.File(path, "w") as f:
        g = f.create_group("emg2pose")
        g.create_dataset("timeseries", data=rows)
        if sample_rate is not None:
            g.attrs["sample_rate"] = sample_rate
    return path


def test_emg2pose_bad_inputs(tmp_path, capsys):
    from asha_app.data.importers.emg2pose import read_emg2pose

    good = _emg2pose(tmp_path / "good.hdf5", emg=np.ones((200, 4)))
    trunc = tmp_path / "trunc.hdf5"
    trunc.write_bytes(good.read_bytes()[:1500])
    group = tmp_path / "group.hdf5"
    with h5py.File(group, "w") as f:
        f.create_group("emg2pose/timeseries")
    cases = {
        trunc: "truncated",
        group: "is a group",
        _emg2pose(tmp_path / "scalar.hdf5",
                  fields=[("time", "<f8"), ("emg", "<f4"), ("joint_angles", "<f4", (3,))]): "per-sample shape",
        _emg2pose(tmp_path / "twod.hdf5",
                  fields=[("time", "<f8"), ("emg", "<f4", (2, 2)), ("joint_angles", "<f4", (3,))]): "per-sample shape",
        _emg2pose(tmp_path / "strtime.hdf5",
                  fields=[("time", "S8"), ("emg", "<f4", (4,)), ("joint_angles", "<f4", (3,))]): "not numbers",
        _emg2pose(tmp_path / "nan.hdf5", emg=np.full((200, 4), np.nan)): "NaN",
    }
    for p, words in cases.items():
        status, _, err = _cli(["import", p, "--format", "emg2pose", "-q"], capsys)
        assert status == 2 and str(p) in err and words in err, (p.name, err)
    for sr in (-500.0, "fast"):
        rec = read_emg2pose(_emg2pose(tmp_path / "rate.hdf5", emg=np.ones((200, 4)), sample_rate=sr))
        assert abs(rec.fs - 2000.0) < 1 and "sample_rate" in rec.meta["warnings"][0]


def test_brainflow_truncated_line_and_missing_timestamps(tmp_path):
    from mindrove.board_shim import BoardIds, BoardShim
    from mindrove.data_filter import DataFilter

    from asha_app.data.importers.brainflow_csv import read_brainflow_csv

    d = BoardShim.get_board_descr(BoardIds.MINDROVE_WIFI_BOARD.value)
    data = np.ones((d["num_rows"], 50))
    data[d["timestamp_channel"]] = 0.0
    f = tmp_path / "bf.csv"
    DataFilter.write_file(data, str(f), "w")
    f.write_bytes(f.read_bytes()[:-30])
    rec = read_brainflow_csv(f)
    assert rec.emg.shape[0] == 49
    assert any("incomplete" in w for w in rec.meta["warnings"])
    assert any("time stamps" in w for w in rec.meta["warnings"])
    np.testing.assert_allclose(np.diff(rec.emg_t), 1 / d["sampling_rate"])


def test_import_never_leaves_a_partial_file(tmp_path, monkeypatch):
    """A kill or full disk during an import: nothing under the final name, so a retry is not blocked."""
    from asha_app.data import writer as W
    from asha_app.data.importers import import_to_session

    src = _emg2pose(tmp_path / "in.hdf5", emg=np.ones((200, 4)))
    out = tmp_path / "in.asha.h5"

    def boom(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(W.SessionWriter, "finalize", boom)
    with pytest.raises((RecordingFileError, OSError)):
        import_to_session(src, out)
    assert not out.exists()
    _no_tmp_left(tmp_path)
    monkeypatch.undo()
    assert import_to_session(src, out) == out and SessionFile(out).finalized


# ---------------------------------------------------------------------- command line
@pytest.mark.parametrize("args, words", [
    (["export", "S", "--window", "0"], "--window"),
    (["export", "S", "--stride", "-3"], "--stride"),
    (["check", "S", "--min-valid", "2"], "--min-valid"),
    (["train", "S", "--lr", "nan"], "--lr"),
    (["train", "S", "--epochs", "0"], "--epochs"),
    (["train", "S", "--batch-size", "-1"], "--batch-size"),
    (["train", "S", "--blocks", "1"], "--blocks"),
    (["train", "S", "--threads", "-2"], "--threads"),
    (["train", "S", "--band", "20", "inf"], "--band"),
    (["train", "S", "--config", "[1, 2]"], "--config"),
    (["train", "S", "--config", "{oops"], "--config"),
    (["evaluate", "m.pt", "S", "--threads", "0"], "--threads"),
])
def test_numeric_arguments_are_range_checked(args, words, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and words in err and "Traceback" not in err


def test_train_refuses_an_unwritable_output_before_any_work(tmp_path, capsys):
    src = write_session(tmp_path / "a.h5", seconds=2.0)
    status, _, err = _cli(["train", src, "--out", tmp_path], capsys)
    assert status == 2 and "is a folder" in err
    status, _, err = _cli(["train", src, "--band", "200", "20"], capsys)
    assert status == 2 and "low edge" in err


def test_unexpected_errors_are_logged_not_shown(tmp_path, capsys, monkeypatch):
    from asha_app.core import paths
    from asha_app.data import commands

    def broken(args):
        raise TypeError("an internal mistake")

    monkeypatch.setattr(commands, "cmd_check", broken)
    status, _, err = _cli(["check", "whatever.h5"], capsys)
    log = paths.log_dir() / "asha-errors.log"
    assert status == 2 and str(log) in err and len(err.strip().splitlines()) == 1
    assert "Traceback" in log.read_text() and "an internal mistake" in log.read_text()


def test_cli_subprocess_exit_status_and_no_traceback(tmp_path):
    bad = tmp_path / "not_a_session.h5"
    bad.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    res = subprocess.run([sys.executable, "-m", "asha_app", "check", str(bad)], capture_output=True, text=True,
                         env=env, timeout=120)
    assert res.returncode == 2 and str(bad) in res.stderr and "Traceback" not in res.stderr


# ---------------------------------------------------------------------- checkpoints and settings
def _checkpoint_dict():
    import torch

    return torch.load(REPO / "resources" / "live_demo" / "model.pt", map_location="cpu", weights_only=True)


def test_checkpoint_with_wrong_shapes_or_nan_rate_is_refused_at_load(tmp_path):
    import torch

    from asha_app.models.checkpoint import CheckpointError, load

    d = _checkpoint_dict()
    key = next(k for k, v in d["state_dict"].items() if v.ndim >= 2)
    d["state_dict"][key] = torch.zeros(3, 3)
    torch.save(d, tmp_path / "shapes.pt")
    with pytest.raises(CheckpointError, match="do not fit the declared model"):
        load(tmp_path / "shapes.pt")
    d = _checkpoint_dict()
    d["fs"] = float("nan")
    torch.save(d, tmp_path / "nan.pt")
    with pytest.raises(CheckpointError, match="sampling rate"):
        load(tmp_path / "nan.pt")


@pytest.mark.parametrize("text", ["[1, 2]", '"settings"', '{"version": null}', '{"version": "1"}', "{bad json"])
def test_settings_that_are_not_an_object_are_backed_up_and_replaced(tmp_path, text):
    from asha_app.core.settings import AppSettings

    p = tmp_path / "settings.json"
    p.write_text(text)
    settings, problem = AppSettings.load(p)
    assert settings == AppSettings() and problem and str(p) in problem and "using defaults" in problem
    assert (tmp_path / "settings.json.bad").read_text() == text and not p.exists()
    settings.save(p)
    assert AppSettings.load(p) == (AppSettings(), None)


def test_protocol_with_an_unknown_dof_names_it():
    from asha_app.core.errors import ConfigError
    from asha_app.protocols.model import parse_protocol

    text = ('name = "x"\n[poses.fist]\nindex_mcp_flexon = 80.0\n'
            '[[prompts]]\nlabel = "fist"\nduration_s = 1\ntarget = "fist"\n')
    with pytest.raises(ConfigError, match=r"line 3: 'index_mcp_flexon'"):
        parse_protocol(text, "mine.toml")


def test_recover_is_atomic_and_never_replaces_its_source(tmp_path):
    p = write_session(tmp_path / "s.h5", seconds=2.0)
    with pytest.raises(RecordingFileError, match="cannot replace the file"):
        recover_session(p, p, overwrite=True)
    out = recover_session(p)
    with SessionFile(out) as sf:
        assert sf.finalized and sf.n_emg == 1000
    with pytest.raises(AshaError):
        recover_session(p)
    _no_tmp_left(tmp_path)


def test_unwritten_rows_read_as_nan_and_recovery_drops_them(tmp_path):
    """Rows a killed writer never filled read as NaN (fill value), never as zeros, and recovery trims them."""
    p = tmp_path / "s.h5"
    w = SessionWriter(p, 2, 500.0)
    w.append_emg(np.arange(100) / 500.0 + 1.0, np.ones((100, 2)))
    w.close()
    with h5py.File(p, "r+") as f:  # what a torn write would look like: the extent grew, the data never came
        for k in ("raw", "t", "board_t", "package", "marker"):
            f["emg"][k].resize(150, axis=0)
    with SessionFile(p) as sf:
        assert np.isnan(sf.emg_t[100:]).all() and np.isnan(sf.emg_raw[100:]).all()
    rec = read_recording(p)
    assert rec.emg.shape[0] == 100 and "never written" in rec.meta["warnings"][0]
    out = recover_session(p)
    with SessionFile(out) as sf:
        assert sf.n_emg == 100 and sf.summary["unwritten_rows_removed"] == {f"{S.Emg.GROUP}/{S.Emg.T}": 50}


@POSIX_ONLY
def test_recover_opens_a_file_left_by_a_killed_plain_writer(tmp_path, capsys):
    """Older versions wrote the summary through h5py.File(path, "r+"); a kill then left a file HDF5 refuses."""
    from asha_app.data.h5flags import open_flags

    p = write_session(tmp_path / "legacy.h5", seconds=2.0)
    code = ("import h5py, sys\nf = h5py.File(sys.argv[1], 'r+')\nprint('OPEN', flush=True)\n"
            "while True:\n    f.attrs['summary'] = '{}'\n    f.flush()\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(p)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "OPEN"
    time.sleep(0.3)
    proc.kill()
    proc.wait(10)
    proc.stdout.close()
    assert open_flags(p) == 1
    before = p.read_bytes()
    status, _, err = _cli(["check", p], capsys)
    assert status == 2 and "--recover" in err
    status, out, _ = _cli(["check", p, "--recover"], capsys)
    assert status == 0 and "recovered into" in out
    assert p.read_bytes() == before  # the original is never modified
    with SessionFile(tmp_path / "legacy.recovered.h5") as sf:
        assert sf.finalized and sf.n_emg == 1000
    _no_tmp_left(tmp_path)


def test_gui_excepthook_logs_and_shows_one_sentence(monkeypatch):
    import threading

    from asha_app.app import install_excepthook
    from asha_app.core.crashlog import error_log_path

    shown = []

    class Window:
        def show_error(self, message):
            shown.append(message)

    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    install_excepthook(lambda: Window())
    try:
        raise KeyError("slot failed")
    except KeyError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    assert len(shown) == 1 and str(error_log_path()) in shown[0] and "\n" not in shown[0]
    assert "KeyError" in error_log_path().read_text() and "slot failed" in error_log_path().read_text()


@POSIX_ONLY
def test_train_warns_about_a_session_still_being_recorded(tmp_path, capsys):
    from asha_app.models.commands import _load

    path = tmp_path / "live.h5"
    _kill_at(_child([path, "finalize", "before_summary"]), "PAUSE")
    recs = _load([str(path)])
    err = capsys.readouterr().err
    assert recs[0].emg.shape[0] == 1500 and "still being recorded" in err and str(path) in err
