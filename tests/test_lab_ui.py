"""Asha in the lab, through the window: LSL off by default, the demo published over LSL with the board's sample
times, LSL markers recorded into a session on the session clock, an LSL amplifier in the device picker, the
Settings group and its self-test button, BIDS export and XDF import through the dialogs."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from asha_app.core.clock import SessionClock
from asha_app.core.settings import AppSettings
from asha_app.data.reader import SessionFile
from asha_app.data.writer import SessionWriter
from asha_app.devices import lsl as L
from asha_app.ui import lab
from asha_app.ui.main_window import MainWindow
from asha_app.workers.recorder import RecorderWorker

sys.path.insert(0, str(Path(__file__).parent))
from lab_helpers import demo_emg, write_real_session, write_xdf

pytestmark = pytest.mark.gui


def _window(qtbot, settings: AppSettings) -> MainWindow:
    win = MainWindow(settings, SessionClock())
    qtbot.addWidget(win)
    lab.install(win)
    return win


@pytest.fixture
def pl():
    st = L.lsl_status(True, "machine")
    if not st.available:
        pytest.skip(st.message)
    return L.configure("machine")


def test_lsl_is_off_by_default_and_the_app_runs_as_before(qtbot):
    s = AppSettings()
    s.device.kind = "demo"
    win = _window(qtbot, s)
    try:
        assert win.lab.label.text() == "LSL: off" and "LSL is off" in win.lab.label.toolTip()  # says so, and why
        assert win.lab.worker is None and win.lab.session_attrs() == {}
        win.start_demo()
        qtbot.waitUntil(lambda: win.worker.emg_ring.total > 500, timeout=8000)
    finally:
        win.shutdown()


def test_demo_over_lsl_with_board_times_and_lsl_markers_recorded_into_the_session(qtbot, pl, tmp_path):
    s = AppSettings()
    s.device.kind = "demo"
    s.lsl.enabled = True
    s.lsl.scope = "machine"
    win = _window(qtbot, s)
    rec = None
    try:
        win.start_demo()
        wk = win.lab.worker
        assert wk is not None and wk.ready.wait(10)
        qtbot.waitUntil(lambda: "outlets" in win.lab.label.text(), timeout=5000)
        qtbot.waitUntil(lambda: "emg" in wk.outlets, timeout=5000)
        # by this window's own source id: another Asha on this machine (a parallel run) publishes "Asha EMG" too
        found = pl.resolve_byprop("source_id", wk.outlets["emg"].source_id, 1, 5.0)
        assert found
        inlet = pl.StreamInlet(found[0], processing_flags=pl.proc_clocksync)
        inlet.open_stream(5.0)
        got_x, got_t = [], []
        qtbot.waitUntil(lambda: bool(_pull(inlet, got_x, got_t)) and sum(len(t) for t in got_t) > 600, timeout=8000)
        gx, gt = np.concatenate(got_x), np.concatenate(got_t)
        # every received sample is in the EMG ring with the same values; its stamp is its ring time on the LSL clock
        ring = win.worker.emg_ring.latest(win.worker.emg_ring.total if win.worker.emg_ring.total < 20000 else 20000)
        rt, rx = ring.data["t"][:, 0], ring.data["raw"].astype(np.float32)
        # find the received run of 10 samples in the ring by value (all 8 channels), then its stamps must be
        # the ring's times of those samples on the LSL clock (well within one 2 ms sample period)
        starts = [j for j in np.flatnonzero(np.all(np.abs(rx - gx[100]) < 1e-3, axis=1))
                  if j + 10 <= len(rx) and np.allclose(rx[j:j + 10], gx[100:110], atol=1e-3)]
        assert starts, "the samples received over LSL are not in the EMG ring"
        err = np.abs(rt[starts[0]:starts[0] + 10] - wk.lsl_clock.to_session(gt[100:110]))
        assert err.max() < 1e-3, f"LSL stamps are {err.max() * 1000:.2f} ms off the samples' ring times"
        # a recording: its file gets the LSL clock offset, and a marker from another program lands at its time
        attrs = win.lab.session_attrs()
        assert abs(attrs["lsl_clock_offset_s"] - wk.lsl_clock.offset) < 1e-3 and "emg" in attrs["lsl"]["outlets"]
        writer = SessionWriter(tmp_path / "s.h5", 8, win.worker.fs, [], **attrs)
        rec = RecorderWorker(writer, win.worker.emg_ring, win.worker.imu_ring)
        win.lab.recorder_provider = lambda: rec
        rec.start()
        sid = f"psychopy-{time.monotonic_ns()}"
        outlet = pl.StreamOutlet(pl.StreamInfo("PsychoPy", "Markers", 1, 0, pl.cf_string, sid))
        qtbot.waitUntil(lambda: any(t["source_id"] == sid for t in wk.inlets.summary()), timeout=8000)
        t_event = win.clock.now() - 0.2
        outlet.push_sample(["go"], wk.lsl_clock.to_lsl(t_event))
        qtbot.waitUntil(lambda: any(m[0] == "LSL PsychoPy: go" for m in win.lab.markers_recorded), timeout=5000)
        del outlet  # PsychoPy stops: the session notes it
        qtbot.waitUntil(lambda: any(e[0] == "lost" for e in win.lab.stream_events), timeout=8000)
        rec.stop(5000)
        with SessionFile(tmp_path / "s.h5") as sf:
            marks = {p.label: p.start for p in sf.prompts() if p.end == p.start}
            assert sf.attrs["lsl_clock_offset_s"] == pytest.approx(wk.lsl_clock.offset, abs=1e-3)
        assert marks["LSL PsychoPy: go"] == pytest.approx(t_event, abs=1e-3)
        assert any(k.startswith("LSL marker stream 'PsychoPy' stopped") for k in marks)
    finally:
        if rec is not None and rec.isRunning():
            rec.stop(3000)
        win.shutdown()


def _pull(inlet, xs, ts):
    d, t = inlet.pull_chunk(timeout=0.0)
    if t:
        xs.append(np.asarray(d, np.float32))
        ts.append(np.asarray(t))
    return True


def test_an_lsl_amplifier_feeds_the_scopes_through_the_device_picker(qtbot, pl):
    """A lab amplifier's LSL stream (real demo sEMG, pushed as an LSL app would) -> device picker -> scopes."""
    sid = f"amp-{time.monotonic_ns()}"
    chans = [L.ChannelDesc(f"EMG {i + 1}", "microvolts", "EMG") for i in range(8)]
    name = f"Lab amplifier {os.getpid()}"  # unique: another process on this machine may run the same test
    outlet = pl.StreamOutlet(L.stream_info(pl, name, "EMG", chans, 500.0, pl.cf_float32, sid))
    x = demo_emg(8.0)
    stop = threading.Event()

    def amplifier():
        i, t0 = 0, pl.local_clock()
        while not stop.is_set() and i < len(x):
            n = min(len(x), int((pl.local_clock() - t0) * 500)) - i
            if n > 0:
                outlet.push_chunk(x[i:i + n], (t0 + (i + np.arange(n)) / 500.0).tolist())
                i += n
            time.sleep(0.01)

    th = threading.Thread(target=amplifier, daemon=True)
    th.start()
    s = AppSettings()
    s.device.kind = "lsl"
    s.device.lsl_stream = name
    s.lsl.enabled = True
    s.lsl.scope = "machine"
    win = _window(qtbot, s)
    try:
        assert win.start_acquisition()
        qtbot.waitUntil(lambda: win.worker.emg_ring.total > 600 and win.scopes.frames_drawn > 3, timeout=10000)
        assert name in win.source_label.text() and win.worker.stats().state == "streaming"
        r = win.worker.emg_ring.latest(500)
        v = r.data["raw"].astype(np.float32)
        # locate the received block in the pushed recording (all 8 channels of its first sample: the demo's
        # values repeat on one channel), then the next 50 samples must follow it unchanged
        starts = np.flatnonzero(np.all(np.abs(x - v[0]) < 1e-3, axis=1))
        assert any(np.allclose(x[k:k + 50], v[:50], atol=1e-3) for k in starts if k + 50 <= len(x))
        assert win.worker.stats().dropped == 0
    finally:
        stop.set()
        th.join(2)
        win.shutdown()


def test_settings_dialog_lsl_group_round_trips_and_runs_the_selftest(qtbot):
    from asha_app.ui.settings_dialog import SettingsDialog

    s = AppSettings()
    win = _window(qtbot, s)
    try:
        dlg = SettingsDialog(win.settings, win)
        qtbot.addWidget(dlg)
        assert not dlg.lsl_enabled.isChecked() and dlg.selftest_button.isEnabled()
        dlg.lsl_enabled.setChecked(True)
        dlg.lsl_scope.setCurrentIndex(dlg.lsl_scope.findData("machine"))
        dlg.lsl_outlets["imu"].setChecked(False)
        dlg.lsl_marker_stream.setText("PsychoPy")
        new = dlg.result_settings()
        assert new.lsl.enabled and new.lsl.scope == "machine" and "imu" not in new.lsl.outlets
        assert new.lsl.marker_stream == "PsychoPy"
        job = win.lab.open_selftest(dlg)
        with qtbot.waitSignal(job.all_done, timeout=30000):
            pass
        res = win.lab.last_selftest
        assert res["available"] and res["emg_loopback"]["received"] == res["emg_loopback"]["sent"]
        qtbot.waitUntil(lambda: hasattr(win.lab, "result_box") and "EMG loopback" in win.lab.result_box.text(),
                        timeout=3000)
        assert win.lab.session_attrs()["sync_selftest"] is res  # new recordings store it
        win.lab.result_box.close()
    finally:
        win.shutdown()


def test_export_dialog_writes_bids_and_import_dialog_picks_xdf_streams(qtbot, tmp_path):
    from asha_app.data.reader import read_recording
    from asha_app.ui.export_dialog import ExportDialog
    from asha_app.ui.import_dialog import ImportDialog

    sess = write_real_session(tmp_path / "sessions" / "P-01_a.h5", seconds=4.0)
    dlg = ExportDialog([sess], out_dir=tmp_path / "exports")
    qtbot.addWidget(dlg)
    dlg.format.setCurrentIndex(dlg.format.findData("bids"))
    assert dlg.out_dir.text().endswith("bids") and dlg.replace.isEnabled()
    worker = dlg.start_export()
    with qtbot.waitSignal(worker.all_done, timeout=60000):
        pass
    assert dlg.last_result["done"] == [0], dlg.log.toPlainText()
    log = dlg.log.toPlainText()
    assert "sub-P01a ses-1 (new BIDS dataset)" in log and "not BIDS-safe" in log
    assert (tmp_path / "bids" / "sub-P01a" / "ses-1" / "emg").is_dir()
    worker = dlg.start_export()  # again: added as the next session, nothing replaced
    with qtbot.waitSignal(worker.all_done, timeout=60000):
        pass
    assert "ses-2 (adding to the BIDS dataset)" in dlg.log.toPlainText()
    # XDF: the picker lists the streams; choosing another EMG stream is honoured
    xdf_path = tmp_path / "rec.xdf"
    t = 50.0 + np.arange(1000) / 500.0
    emg = demo_emg(2.0)
    write_xdf(xdf_path, [
        {"name": "Other EEG", "type": "EEG", "n": 8, "fs": 500, "format": "float32", "time_stamps": t,
         "values": emg * 0.5, "channels": [(f"E{i}", "microvolts", "EEG") for i in range(8)]},
        {"name": "Arm EMG", "type": "EMG", "n": 8, "fs": 500, "format": "float32", "time_stamps": t, "values": emg,
         "channels": [(f"M{i}", "microvolts", "EMG") for i in range(8)]},
        {"name": "Game", "type": "Markers", "n": 1, "fs": 0, "format": "string", "time_stamps": [50.5],
         "values": ["level 1"]},
    ])
    imp = ImportDialog(tmp_path / "imported")
    qtbot.addWidget(imp)
    imp.add_items([xdf_path])
    assert imp.xdf_emg.currentText().startswith("Arm EMG") and imp.xdf_markers.count() == 1
    imp.xdf_emg.setCurrentIndex(0)  # the user picks the other stream
    worker = imp.start_import()
    with qtbot.waitSignal(worker.all_done, timeout=60000):
        pass
    assert imp.last_result["done"] == [0], imp.log.toPlainText()
    rec = read_recording(next((tmp_path / "imported").glob("*.h5")))
    assert np.allclose(rec.emg, emg * 0.5, atol=1e-3) and rec.channel_names[0] == "E0"
    assert [p.label for p in rec.prompts] == ["LSL Game: level 1"]
