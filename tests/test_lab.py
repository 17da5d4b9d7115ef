"""Asha in the lab (Qt-free parts): LSL outlets and inlets on loopback, EMG-BIDS export read back with mne-bids,
XDF import, the synchronization self-test, and every bad input of the issue."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from asha_app.core.clock import SessionClock
from asha_app.core.errors import AshaError, RecordingFileError
from asha_app.data import bids
from asha_app.data.integrity import check_session
from asha_app.data.reader import SessionFile, read_recording
from asha_app.devices import lsl as L
from asha_app.devices import lsl_sync

sys.path.insert(0, str(Path(__file__).parent))
from lab_helpers import write_real_session, write_xdf  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def pl():
    st = L.lsl_status(True, "machine")
    if not st.available:
        pytest.skip(st.message)
    return L.configure("machine")


def _resolve(pl, source_id: str):
    found = pl.resolve_byprop("source_id", source_id, 1, 5.0)
    assert found, f"stream {source_id} not found on loopback"
    return found[0]


# ---------------------------------------------------------------------- LSL off / unavailable
def test_lsl_switched_off_says_so_and_the_source_refuses_with_the_reason():
    st = L.lsl_status(False, "site")
    assert not st.available and "LSL is off" in st.message and "Settings" in st.message
    src = L.LslEmgSource("", SessionClock(), enabled=False, timeout_s=0.5)
    with pytest.raises(AshaError, match="LSL is off"):
        src.start()


def test_no_network_interface_turns_lsl_off_with_a_reason():
    """In a network namespace without interfaces (loopback down) LSL is off and Asha says why."""
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True)
    if shutil.which("unshare") is None or probe.returncode != 0:
        pytest.skip("cannot make a network namespace here (unshare -n not permitted)")
    code = ("import json; from asha_app.devices.lsl import lsl_status; s = lsl_status(True, 'machine'); "
            "print(json.dumps({'available': s.available, 'message': s.message}))")
    out = subprocess.run(["unshare", "-n", sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         cwd=REPO, env={**__import__("os").environ, "PYTHONPATH": str(REPO)})
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["available"] is False
    assert "no usable network interface" in res["message"] and "runs without it" in res["message"]


def test_scope_machine_keeps_lsl_on_loopback():
    text = L.config_text("machine")
    assert "ResolveScope = machine" in text and "AddressesOverride = {127.0.0.1}" in text and "IPv6 = disable" in text
    assert L.effective_scope("site") == "machine"  # the test suite's ASHA_LSL_SCOPE wins over the setting
    with pytest.raises(ValueError, match="unknown LSL scope"):
        L.config_text("galaxy")


# ---------------------------------------------------------------------- outlets
def test_emg_outlet_stamps_samples_with_the_board_sample_times_and_describes_channels(pl):
    clock = SessionClock()
    lc = L.LslClock(clock, pl)
    names = [f"EMG {i + 1}" for i in range(8)]
    out = L.open_outlet("emg", lc, pl, fs=500.0, channel_names=names, device="test armband", tag="t1")
    info = _resolve(pl, out.source_id)
    chans = L.channel_labels(pl.StreamInlet(info).info(2.0))
    assert [c["label"] for c in chans] == names and {c["unit"] for c in chans} == {"microvolts"}
    assert all("electrode" in c["placement"] for c in chans)
    inlet = pl.StreamInlet(info, processing_flags=pl.proc_clocksync)
    inlet.open_stream(5.0)
    # board sample times on the session clock: jittered, with a gap, in the past (not the push time)
    t = 10.0 + np.arange(300) / 500.0 + np.random.default_rng(1).normal(0, 2e-4, 300)
    t[200:] += 0.1
    x = np.random.default_rng(2).normal(0, 80, (300, 8)).astype(np.float32)
    out.push(t[:150], x[:150])
    out.push(t[150:], x[150:])
    got_x, got_t = [], []
    end = time.monotonic() + 5.0
    while sum(len(g) for g in got_t) < 300 and time.monotonic() < end:
        d, ts = inlet.pull_chunk(timeout=0.2)
        if ts:
            got_x.append(np.asarray(d, np.float32))
            got_t.append(np.asarray(ts))
    gx, gt = np.concatenate(got_x), np.concatenate(got_t)
    assert gx.shape == (300, 8) and np.array_equal(gx, x)
    # the stamps are the sample times on the LSL clock (same computer: liblsl's correction is microseconds)
    assert np.max(np.abs(lc.to_session(gt) - t)) < 1e-3
    assert out.pushed == 300


# ---------------------------------------------------------------------- marker inlets
def test_marker_inlet_puts_markers_on_the_session_clock_and_notes_a_stream_that_stops(pl):
    clock = SessionClock()
    lc = L.LslClock(clock, pl)
    sid = f"psychopy-test-{time.monotonic_ns()}"
    info = pl.StreamInfo("PsychoPy", "Markers", 1, 0, pl.cf_string, sid)
    outlet = pl.StreamOutlet(info)
    inlets = L.MarkerInlets(lc, pl)
    assert L.wait_for(lambda: (inlets.poll() is not None) and sid in inlets.tracked, 5.0)
    sent = {}
    for i in range(3):
        t_lsl = pl.local_clock() - 0.25  # the sender's own time of the event, a quarter second ago
        outlet.push_sample([f"trial {i}"], t_lsl)
        sent[f"trial {i}"] = t_lsl
    events = []
    L.wait_for(lambda: bool(events.extend(inlets.poll())) or len(events) >= 3, 3.0)
    marks = [e for e in events if e.kind == "marker"]
    assert [e.label for e in marks] == ["trial 0", "trial 1", "trial 2"]
    for e in marks:
        assert e.t == pytest.approx(lc.to_session(sent[e.label]), abs=1e-3)  # the sender's time, not arrival
        assert e.arrival > e.t + 0.2
    del outlet  # the stream stops
    lost = []
    L.wait_for(lambda: bool(lost.extend(e for e in inlets.poll() if e.kind == "lost")) or bool(lost), 5.0)
    assert lost and "PsychoPy" in lost[0].label and "stopped" in lost[0].label
    outlet2 = pl.StreamOutlet(pl.StreamInfo("PsychoPy", "Markers", 1, 0, pl.cf_string, sid))  # it comes back
    back = []
    L.wait_for(lambda: bool(back.extend(e for e in inlets.poll() if e.kind == "back")) or bool(back), 8.0)
    assert back and "is back" in back[0].label
    gaps = inlets.summary()[0]["gaps"]
    assert len(gaps) == 1 and gaps[0][1] > gaps[0][0]
    inlets.close()
    del outlet2


# ---------------------------------------------------------------------- the LSL EMG source
def test_lsl_emg_source_delivers_samples_on_the_session_clock_and_counts_gaps(pl):
    clock = SessionClock()
    sid = f"amp-{time.monotonic_ns()}"
    chans = [L.ChannelDesc(f"C{i}", "volts", "EMG") for i in range(16)]
    info = L.stream_info(pl, "Lab amplifier", "EMG", chans, 1000.0, pl.cf_float32, sid)
    outlet = pl.StreamOutlet(info)
    src = L.LslEmgSource("Lab amplifier", clock, scope="machine", timeout_s=5.0)
    src.start()
    try:
        assert src.fs == 1000.0 and src.n_channels == 8 and src.channel_names()[:2] == ["C0", "C1"]
        assert any("16 channels" in w for w in src.warnings)
        lc = L.LslClock(clock, pl)
        t_sess = clock.now() + np.arange(400) / 1000.0
        t_sess[300:] += 0.05  # 50 samples missing
        x = np.random.default_rng(3).normal(0, 1e-4, (400, 16)).astype(np.float32)  # volts
        outlet.push_chunk(x, lc.to_lsl(t_sess).tolist())
        packets = []
        L.wait_for(lambda: bool(packets.append(src.read()) or sum(p.n for p in packets if p) >= 400), 5.0)
        pk = [p for p in packets if p]
        emg = np.concatenate([p.emg for p in pk])
        t = np.concatenate([src.session_times(p.board_t) for p in pk])
        package = np.concatenate([p.package for p in pk])
        assert emg.shape == (400, 8)
        assert np.allclose(emg, x[:, :8].astype(np.float64) * 1e6, rtol=1e-5)  # volts -> µV
        assert np.max(np.abs(t - t_sess)) < 1e-3
        from asha_app.devices.drops import DropCounter

        assert DropCounter().update(package) == 50
    finally:
        src.stop()


def test_lsl_emg_source_without_a_stream_names_what_it_saw(pl):
    sid = f"only-markers-{time.monotonic_ns()}"
    outlet = pl.StreamOutlet(pl.StreamInfo("Game events", "Markers", 1, 0, pl.cf_string, sid))
    _resolve(pl, sid)  # announced before the source looks (discovery is slower on a loaded machine)
    src = L.LslEmgSource("no such amplifier", SessionClock(), scope="machine", timeout_s=1.0)
    with pytest.raises(AshaError, match="No LSL stream named 'no such amplifier'.*Game events"):
        src.start()
    del outlet


# ---------------------------------------------------------------------- synchronization self-test
def test_selftest_command_measures_loopback_and_marker_offset():
    env = {**__import__("os").environ, "PYTHONPATH": str(REPO), "ASHA_HOME": str(Path("/tmp") / "asha-selftest-home")}
    out = subprocess.run([sys.executable, "-m", "asha_app", "lsl", "selftest", "--seconds", "1", "--json"],
                         capture_output=True, text=True, timeout=120, cwd=REPO, env=env)
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout.strip().splitlines()[-1])
    lb, mk = res["emg_loopback"], res["marker"]
    assert lb["received"] == lb["sent"] == 500 and lb["in_order"]
    assert abs(lb["stamp_error"]["max_abs_ms"]) < 1.0  # stamps arrive as sent (same clock)
    assert lb["latency"]["n"] > 10 and lb["jitter_ms"] is not None
    assert mk["received"] == mk["sent"] == 10 and mk["offset"]["max_abs_ms"] < 1.0
    assert res["emg_video"]["offset_ms"] is None and "camera" in res["emg_video"]["message"]
    assert "EMG loopback: 500/500" in out.stdout


def test_tap_offset_finds_the_delay_between_emg_bursts_and_hand_jolts():
    fs = 500.0
    t = np.arange(int(6 * fs)) / fs
    rng = np.random.default_rng(4)
    emg = rng.normal(0, 5, (t.size, 8))
    lt = np.arange(0, 6, 1 / 30.0) + 0.004
    joints = np.zeros((lt.size, 21, 3)) + rng.normal(0, 0.2, (lt.size, 21, 3))
    for tap in (1.0, 2.5, 4.0):
        emg[(t >= tap) & (t < tap + 0.05)] += rng.normal(0, 200, (int(0.05 * fs), 8))
        joints[lt >= tap + 0.06] += 25.0  # the hand jolts 60 ms after the muscle fires, then stays
    res = lsl_sync.tap_offset(t, emg, lt, joints, fs)
    assert res["taps"] == 3
    assert 40 <= res["offset_ms"] <= 100  # 60 ms, within one camera frame (33 ms)
    quiet = lsl_sync.tap_offset(t, rng.normal(0, 5, (t.size, 8)), lt, np.zeros((lt.size, 21, 3)), fs)
    assert quiet["offset_ms"] is None and "tap the table" in quiet["message"]


# ---------------------------------------------------------------------- EMG-BIDS export
@pytest.fixture(scope="module")
def real_session(tmp_path_factory):
    d = tmp_path_factory.mktemp("lab")
    return write_real_session(d / "P-01_a.h5", seconds=12.3, lsl_clock_offset_s=1234.5)


def test_bids_export_round_trips_through_mne_bids(real_session, tmp_path):
    root = tmp_path / "bids"
    res = bids.export_bids(real_session, root)
    assert res["subject"] == "P01a" and res["session"] == "1" and res["task"] == "basicposes"
    assert any("not BIDS-safe" in n and "P01a" in n for n in res["notes"])
    rec = read_recording(real_session)
    raw = bids.read_back(root, "P01a", "1", "basicposes")
    n = rec.emg.shape[0]
    assert raw.info["sfreq"] == rec.fs == 500.0
    assert raw.n_times == n + res["padded"] and res["padded"] == 350  # 12.3 s -> whole 1 s records
    types = raw.get_channel_types()
    assert types[:8] == ["emg"] * 8 and set(types[8:]) == {"misc"}
    data = raw.get_data()
    emg_uv = data[:8, :n].T * 1e6
    step = (rec.emg.max(0) - rec.emg.min(0)) / (2**24 - 1)  # one 24-bit step of each channel's range
    assert np.all(np.abs(emg_uv - rec.emg) <= step + 1e-3)
    # joint angles as MISC channels, degrees, on the EMG samples; pose_valid marks labelled samples
    from asha_app.data.labels import pose_labels

    ang, valid = pose_labels(rec, rec.emg_t, 0.1)
    names = raw.ch_names
    k = names.index(bids.short_channel_name("index_mcp_flexion"))
    v = names.index(bids.VALID_CHANNEL)
    assert np.array_equal(data[v, :n] > 0.5, valid) and 0.2 < valid.mean() < 1.0
    j = rec.angle_names.index("index_mcp_flexion")
    assert np.allclose(data[k, :n][valid], ang[valid, j], atol=1e-3)
    # channels.tsv: units and full names
    base = Path(res["path"]).parent
    ch = (base / "sub-P01a_ses-1_task-basicposes_channels.tsv").read_text()
    assert "index_mcp_fl\tMISC\tdeg" in ch and "joint angle index_mcp_flexion" in ch and "\tEMG\tuV\t" in ch
    # events: prompts with duration and repetition, markers, the LSL marker, the padding
    ann = raw.annotations
    prompts = [p for p in rec.prompts if p.end > p.start]
    fist = [a for a in ann if a["description"] == "fist"]
    assert len(fist) == 2 and fist[0]["duration"] == pytest.approx(1.5, abs=2 / 500)
    t0 = rec.emg_t[0]
    assert fist[0]["onset"] == pytest.approx(prompts[0].start - t0, abs=2 / 500)
    assert any(a["description"] == "LSL PsychoPy: trial 1" for a in ann)
    ev = (base / "sub-P01a_ses-1_task-basicposes_events.tsv").read_text().splitlines()
    assert ev[0].split("\t")[-2:] == ["repetition", "asha_kind"]
    assert any(r.startswith("5.0\t1.5\tfist") and r.endswith("\t2\tprompt") for r in ev)
    meta = json.loads((base / "sub-P01a_ses-1_task-basicposes_emg.json").read_text())
    assert meta["SamplingFrequency"] == 500.0 and meta["PowerLineFrequency"] == 50.0
    assert meta["EMGPlacementScheme"] == "Other" and meta["AshaLslClockOffsetS"] == 1234.5
    assert "Asha" in meta["SoftwareVersions"]
    part = (root / "participants.tsv").read_text()
    assert "sub-P01a" in part and "P-01" not in part  # pseudonymous, BIDS-safe ID only


def test_bids_export_passes_the_bids_validator(real_session, tmp_path):
    exe = shutil.which("bids-validator-deno") or (str(Path(sys.executable).parent / "bids-validator-deno")
                                                  if (Path(sys.executable).parent / "bids-validator-deno").exists() else None)
    if exe is None:
        pytest.skip("bids-validator-deno is not installed (pip install bids-validator-deno; the npm bids-validator 1.x "
                    "does not know EMG-BIDS)")
    root = tmp_path / "bids"
    bids.export_bids(real_session, root)
    out = subprocess.run([exe, "--format", "json", str(root)], capture_output=True, text=True, timeout=180)
    report = json.loads(out.stdout)
    errors = [i for i in report["issues"]["issues"] if i["severity"] == "error"]
    assert not errors, errors


def test_bids_export_adds_to_an_existing_dataset_and_never_overwrites(real_session, tmp_path):
    root = tmp_path / "bids"
    first = bids.export_bids(real_session, root)
    bdf = Path(first["path"])
    before = bdf.read_bytes()
    second = bids.export_bids(real_session, root, subject="P02")  # another subject
    third = bids.export_bids(real_session, root)  # the same subject again: the next session
    assert (second["subject"], second["session"]) == ("P02", "1") and third["session"] == "2"
    rows = (root / "participants.tsv").read_text().splitlines()
    assert [r.split("\t")[0] for r in rows[1:]] == ["sub-P01a", "sub-P02"]
    with pytest.raises(bids.BidsExportError, match="already in .*Nothing was changed.*--overwrite"):
        bids.export_bids(real_session, root, session="1")
    assert bdf.read_bytes() == before
    again = bids.export_bids(real_session, root, session="1", overwrite=True)  # asked for: replaced
    assert Path(again["path"]) == bdf
    other = tmp_path / "not_bids"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(bids.BidsExportError, match="not a BIDS dataset"):
        bids.export_bids(real_session, other)
    assert [p.name for p in other.iterdir()] == ["notes.txt"]


def test_participant_id_that_is_not_bids_safe_says_how_it_will_be_written(real_session, tmp_path):
    label, note = bids.bids_label("P-01_a")
    assert label == "P01a" and "'P-01_a' is not BIDS-safe" in note and "'P01a'" in note
    assert bids.bids_label("P01") == ("P01", None)
    with pytest.raises(bids.BidsExportError, match="no participant ID BIDS can use.*--subject"):
        bids.plan_export(real_session, tmp_path / "b", subject="__")
    from asha_app.data.commands import cmd_export
    import argparse

    args = argparse.Namespace(file=str(real_session), format="bids", output=str(tmp_path / "cli"), subject=None,
                              session=None, task=None, overwrite=False, quiet=True, window=100, stride=25, filtered=False)
    err = []
    import io
    import contextlib

    buf = io.StringIO()
    with contextlib.redirect_stderr(buf):
        assert cmd_export(args) == 0
    err = buf.getvalue()
    assert "participant ID 'P-01_a' is not BIDS-safe" in err and "sub-P01a" in err


# ---------------------------------------------------------------------- XDF import
def _xdf_streams(offset_s: float = 0.0):
    """An EMG stream (volts), a PsychoPy marker stream, Asha's marker stream and a pose stream; the marker
    computer's clock runs ``offset_s`` behind the recorder's (its clock offsets say so)."""
    from lab_helpers import demo_emg, real_angles

    emg = demo_emg(4.0).astype(np.float64) * 1e-6
    t = 100.0 + np.arange(emg.shape[0]) / 500.0 + np.random.default_rng(5).normal(0, 3e-4, emg.shape[0])
    lt, ang, names = real_angles(60)
    pose = np.column_stack([ang, np.ones(len(lt))])
    pose[5, -1] = 0.0
    asha_mk = [json.dumps({"event": "prompt_start", "label": "fist", "repetition": 0}),
               json.dumps({"event": "prompt_end", "label": "fist", "repetition": 0, "duration_s": 1.5})]
    return [
        {"name": "Asha EMG", "type": "EMG", "n": 8, "fs": 500, "format": "float32", "time_stamps": t, "values": emg,
         "channels": [(f"EMG {i + 1}", "volts", "EMG") for i in range(8)], "source_id": "a"},
        {"name": "PsychoPy", "type": "Markers", "n": 1, "fs": 0, "format": "string",
         "time_stamps": np.array([101.0, 102.0]) - offset_s, "values": ["go", "stop"], "source_id": "p",
         "clock_offsets": [(100.0 - offset_s, offset_s), (104.0 - offset_s, offset_s)]},
        {"name": "Asha markers", "type": "Markers", "n": 1, "fs": 0, "format": "string",
         "time_stamps": np.array([100.5, 102.0]), "values": asha_mk, "source_id": "m"},
        {"name": "Asha camera pose", "type": "Pose", "n": len(names) + 1, "fs": 0, "format": "float32",
         "time_stamps": 100.0 + lt, "values": pose,
         "channels": [(nm, "degrees", "JointAngle") for nm in names] + [("valid", "boolean", "Validity")], "source_id": "c"},
    ]


def test_xdf_import_applies_clock_offsets_and_makes_an_ordinary_session(tmp_path):
    from asha_app.data.importers import detect_format, import_to_session
    from asha_app.data.importers.xdf import list_streams

    xdf = write_xdf(tmp_path / "rec.xdf", _xdf_streams(offset_s=0.75))
    assert detect_format(xdf) == "xdf"
    assert [s["name"] for s in list_streams(xdf)] == ["Asha EMG", "PsychoPy", "Asha markers", "Asha camera pose"]
    out = import_to_session(xdf, tmp_path / "rec.h5")
    rec = read_recording(out)
    assert rec.emg.shape == (2000, 8) and rec.fs == 500.0 and rec.emg_units == "uV"
    from lab_helpers import demo_emg

    assert np.allclose(rec.emg, demo_emg(4.0), atol=1e-3)  # volts -> µV
    d = np.diff(rec.emg_t)
    assert np.allclose(d, 1 / 500.0, atol=1e-6)  # dejittered
    assert rec.emg_t[0] == 0.0
    with SessionFile(out) as sf:
        assert sf.attrs["lsl_clock_offset_s"] == pytest.approx(100.0, abs=0.01)
    marks = {p.label: p.start for p in rec.prompts if p.end == p.start}
    # PsychoPy's clock was 0.75 s behind: its markers land where they happened on the recorder's clock
    assert marks["LSL PsychoPy: go"] == pytest.approx(1.0, abs=0.01)
    assert marks["LSL PsychoPy: stop"] == pytest.approx(2.0, abs=0.01)
    fist = [p for p in rec.prompts if p.label == "fist"]
    assert len(fist) == 1 and fist[0].start == pytest.approx(0.5, abs=0.01) and fist[0].end == pytest.approx(2.0, abs=0.01)
    assert rec.joint_angles is not None and rec.joint_angles.shape[1] == 22 and not rec.valid[5] and rec.valid[6]


def test_xdf_without_an_emg_stream_says_which_streams_it_has(tmp_path):
    from asha_app.data.importers import import_file

    streams = [s for s in _xdf_streams() if s["type"] != "EMG"]
    xdf = write_xdf(tmp_path / "no_emg.xdf", streams)
    with pytest.raises(RecordingFileError) as exc:
        import_file(xdf)
    msg = str(exc.value)
    assert "has no EMG stream" in msg and "'PsychoPy' (type Markers, irregular, 1 ch" in msg
    assert "'Asha camera pose' (type Pose" in msg and "--emg-stream" in msg
    with pytest.raises(RecordingFileError, match="no stream 'nope'"):
        import_file(xdf, emg_stream="nope")


# ---------------------------------------------------------------------- session summary
def test_session_summary_shows_lsl_offset_marker_streams_gaps_and_selftest(tmp_path):
    from asha_app.data.writer import SessionWriter

    path = tmp_path / "s.h5"
    selftest = {"available": True, "message": "LSL on", "emg_loopback": {
        "sent": 500, "received": 500, "stamp_error": {"p99_ms": 0.01}, "latency": {"p50_ms": 1.0, "p99_ms": 3.0},
        "jitter_ms": 0.5}, "emg_video": {"offset_ms": None, "message": "not measured"}}
    w = SessionWriter(path, 8, 500.0, [], lsl_clock_offset_s=42.5, lsl={"scope": "machine"}, sync_selftest=selftest)
    w.append_emg(np.arange(1000) / 500.0, np.zeros((1000, 8), np.float32), package=np.arange(1000.0))
    w.append_marker("LSL PsychoPy: go", 0.3)
    w.append_marker("LSL marker stream 'PsychoPy' stopped", 0.5)
    w.append_marker("LSL marker stream 'PsychoPy' is back (silent 0.7 s)", 1.2)
    w.finalize()
    rep = check_session(path)
    assert rep.lsl["clock_offset_s"] == 42.5 and rep.lsl["lsl_markers"] == 1
    assert rep.lsl["stream_gaps"] == [[0.5, 1.2, "PsychoPy"]]
    text = rep.format_text()
    assert "LSL: clock offset 42.500000 s" in text and "EMG loopback: 500/500" in text
    assert any("PsychoPy' stopped at 0.5 s and came back at 1.2 s" in x for x in rep.warnings)
