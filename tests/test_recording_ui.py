"""The recording feature in the main window, offscreen: wizard end to end on the demo sources, pause/redo/abort,
session library (good and corrupt files), replay into the acquisition worker, export and import with progress."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from PySide6.QtCore import Qt

from asha_app.core.clock import SessionClock
from asha_app.core.settings import AppSettings
from asha_app.data.reader import SessionFile
from asha_app.protocols.procedure import State
from asha_app.ui.main_window import MainWindow
from asha_app.ui.recording import install, open_wizard
from asha_app.ui.session_library import COLUMNS, sessions_dir
from tests.recording_helpers import FS, emg_signal, short_protocol, write_session

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot):
    win = MainWindow(AppSettings(), SessionClock())
    qtbot.addWidget(win)
    install(win)
    yield win
    wiz = getattr(win, "recording_wizard", None)
    if wiz is not None:
        wiz.shutdown()
        rec = wiz.session_page.recorder
        if rec is not None:
            qtbot.waitUntil(rec.isFinished, timeout=10_000)
    win.shutdown()


def _to_session_page(qtbot, window, proto_path, pseudonym="P07"):
    wiz = open_wizard(window)
    p1 = wiz.participant_page
    p1.pseudonym.setText(pseudonym)
    wiz.next()  # no consent: refused
    assert wiz.currentPage() is p1 and "consent" in p1.error.text()
    p1.consent.setChecked(True)
    wiz.next()
    assert wiz.currentPage() is wiz.check_page and wiz.check_page.timer.isActive()
    wiz.back()  # back and forth keeps the page model in step
    assert wiz.currentPage() is p1 and wiz.model.page.value == "participant" and not wiz.check_page.timer.isActive()
    wiz.next()
    assert wiz.currentPage() is wiz.check_page and wiz.model.page.value == "device_check"
    assert wiz.model.participant.pseudonym == pseudonym and wiz.model.participant.consent_time is not None
    return wiz


def _pass_check(qtbot, wiz):
    page = wiz.check_page
    page.poll()
    if page.result.warnings:
        wiz.next()  # warnings not acknowledged: refused
        assert wiz.currentPage() is page and "confirm" in page.error.text()
        page.acknowledge.setChecked(True)
    wiz.next()
    assert wiz.currentPage() is wiz.protocol_page


def test_wizard_records_a_session_end_to_end_on_the_demo(qtbot, window, tmp_path):
    window.start_demo(with_camera=True)
    qtbot.waitUntil(lambda: window.worker is not None and window.worker.emg_ring.total > 300, timeout=15_000)
    cam = window.camera_panel.worker
    qtbot.waitUntil(lambda: cam.snapshot()["labelled"] >= 3, timeout=40_000)
    wiz = _to_session_page(qtbot, window, None)
    qtbot.waitUntil(lambda: "frames in the last" in wiz.check_page.camera_label.text(), timeout=5000)
    assert wiz.check_page.channel_labels[0].text() != "—"  # live flags of the running worker
    _pass_check(qtbot, wiz)

    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n[[prompts]]\nlabel = "fist"\nduration_s = -1\n')
    assert not wiz.protocol_page.load_file(bad)
    assert str(bad) in wiz.protocol_page.error.text() and "line 4" in wiz.protocol_page.error.text()
    assert wiz.protocol_page.load_file(short_protocol(tmp_path / "p.toml", duration=0.8, reps=2))
    wiz.next()
    page = wiz.session_page
    assert wiz.currentPage() is page and not page.isComplete()
    qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    assert page.running
    qtbot.waitUntil(lambda: page.procedure.state == State.PROMPT, timeout=5000)
    assert page.prompt_label.text() == "fist" and "repetition 1 of 2" in page.instruction.text()  # counted from 1
    qtbot.waitUntil(lambda: "%" in page.valid_label.text(), timeout=5000)  # live valid-label share of this prompt
    qtbot.waitUntil(lambda: wiz.currentPage() is wiz.summary_page, timeout=30_000)
    assert page.failed is None and page.recorder.isFinished()
    assert "duration" in wiz.summary_page.text.toPlainText()
    assert "no IMU," in wiz.summary_page.text.toPlainText()  # the demo has no IMU: the summary claims none
    assert wiz.summary_page.table.rowCount() == 4
    assert [wiz.summary_page.table.item(r, 1).text() for r in range(4)] == ["1", "1", "2", "2"]

    path = page.path
    assert path.parent == sessions_dir() and path.name.startswith("P07_")
    with SessionFile(path) as sf:
        assert sf.finalized and not sf.crashed
        prompts = [p for p in sf.prompts() if p.repetition >= 0]
        assert [(p.label, p.repetition) for p in prompts] == [("fist", 0), ("open", 0), ("fist", 1), ("open", 1)]
        for a, b in zip(prompts, page.procedure.prompts, strict=True):
            assert (a.start, a.end) == (b.start, b.end)
        emg_t = sf.emg_t[()]
        cam_t = sf.dataset("camera/t")[()]
        valid = sf.dataset("labels/valid")[()]
        assert sf.n_emg > 0.8 * FS * (prompts[-1].end - prompts[0].start)
        assert sf.n_frames > 10 and valid.mean() > 0.3
        assert not sf.has("imu/t") or sf.dataset("imu/t").shape[0] == 0
        # one clock: prompts, camera frames and EMG overlap in session time
        assert emg_t[0] <= prompts[0].start and prompts[-1].end <= emg_t[-1] + 0.2
        assert emg_t[0] - 0.5 < cam_t[0] and cam_t[-1] < emg_t[-1] + 0.5
        assert np.all(np.diff(emg_t) > 0)
        a = sf.attrs
        p = a["participant"]
        assert p["pseudonym"] == "P07" and p["consent_given"] and p["consent_time"]
        assert a["emg_to_video_offset_s"] == 0.0 and a["offset_source"] == "assumed"
        assert a["filter"]["fs"] == FS and a["device"]["kind"] == "demo" and a["camera"]["running"]
        assert len(a["hand_model"]["dof_names"]) == len(sf.angle_names) == 22
        assert a["app"]["protocol"]["name"] == "Test poses"
    # the demo's marker names (its gesture labels) travel with the file, so a replay shows them
    from asha_app.devices.replay import SessionReplaySource

    demo_names = window.worker.source.marker_names
    assert demo_names and SessionReplaySource(path).marker_names == demo_names
    lib = window.session_library
    qtbot.waitUntil(lambda: not lib.loading, timeout=10_000)  # the wizard refreshed it; summaries load in a thread
    assert lib.entry(path) is not None and lib.entry(path)["participant"] == "P07"


def test_camera_labels_reach_the_recorder_while_the_gui_thread_is_busy(qtbot, window, tmp_path):
    """Labels flow from the camera worker straight to the recorder: while the GUI thread is blocked (no event loop,
    no timers), the file still gets camera frames, and only the recorder's thread ever hands frames to the writer."""
    import threading
    import time

    window.start_demo(with_camera=True)
    qtbot.waitUntil(lambda: window.worker is not None and window.worker.emg_ring.total > 300, timeout=15_000)
    cam = window.camera_panel.worker
    qtbot.waitUntil(lambda: cam.snapshot()["labelled"] >= 3, timeout=40_000)
    wiz = _to_session_page(qtbot, window, None)
    _pass_check(qtbot, wiz)
    assert wiz.protocol_page.load_file(short_protocol(tmp_path / "p.toml", duration=2.5, reps=2))
    wiz.next()
    page = wiz.session_page
    assert page.start_recording()
    writer = page.writer
    real, calls = writer.append_frames, []

    def append_frames(frames):  # who hands frames to the writer, when, and captured when
        calls.append((threading.get_ident(), time.perf_counter(), max(f.t for f in frames)))
        return real(frames)

    writer.append_frames = append_frames
    qtbot.waitUntil(lambda: bool(calls), timeout=10_000)
    t_block, clock_block = time.perf_counter(), window.clock.now()
    time.sleep(2.0)  # the GUI thread is busy: nothing of the GUI runs, the camera and the recorder go on
    t_end = time.perf_counter()
    # labels captured while the GUI was blocked were written while it was still blocked
    assert any(t_block < when < t_end and newest > clock_block for _, when, newest in calls), calls[-5:]
    qtbot.waitUntil(lambda: wiz.currentPage() is wiz.summary_page, timeout=40_000)
    threads = {tid for tid, _, _ in calls}
    assert page.failed is None and len(threads) == 1 and threading.get_ident() not in threads  # the recorder's
    with SessionFile(page.path) as sf:
        assert sf.n_frames > 10


def test_pause_redo_marker_abort_through_the_ui(qtbot, window, tmp_path):
    window.start_demo(with_camera=False)
    qtbot.waitUntil(lambda: window.worker is not None and window.worker.emg_ring.total > 300, timeout=15_000)
    wiz = _to_session_page(qtbot, window, None, pseudonym="P08")
    _pass_check(qtbot, wiz)  # no camera: a warning to acknowledge
    # rests of 1 s: Redo below is clicked during the rest after the first repetition, not at its edge
    assert wiz.protocol_page.load_file(short_protocol(tmp_path / "p.toml", duration=1.0, reps=3, rest=1.0))
    wiz.next()
    page = wiz.session_page
    qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    proc = page.procedure
    qtbot.waitUntil(lambda: proc.state == State.PROMPT, timeout=5000)
    qtbot.mouseClick(page.pause_button, Qt.MouseButton.LeftButton)
    assert proc.state == State.PAUSED and page.pause_button.text() == "Resume"
    qtbot.mouseClick(page.pause_button, Qt.MouseButton.LeftButton)
    assert proc.state != State.PAUSED
    qtbot.waitUntil(lambda: len(proc.prompts) == 1 and proc.state == State.REST, timeout=6000)
    lib = window.session_library
    lib.refresh()  # the file being written is listed but not opened, and cannot be replayed
    assert lib.entry(page.path)["status"] == "recording now"
    assert not lib.start_replay(page.path) and "recording is running" in lib.message.text()
    first = proc.prompts[0]
    qtbot.mouseClick(page.redo_button, Qt.MouseButton.LeftButton)
    assert proc.prompts == []
    qtbot.keyClick(page, Qt.Key.Key_M)
    qtbot.keyClick(page, Qt.Key.Key_3)
    qtbot.waitUntil(lambda: len(proc.prompts) == 1, timeout=6000)
    qtbot.mouseClick(page.abort_button, Qt.MouseButton.LeftButton)
    assert proc.state == State.ABORTED
    qtbot.waitUntil(lambda: wiz.currentPage() is wiz.summary_page, timeout=15_000)
    assert "aborted" in wiz.summary_page.text.toPlainText()
    with SessionFile(page.path) as sf:
        kept = [p for p in sf.prompts() if p.repetition >= 0]
        everything = sf.prompts(include_discarded=True)
        markers = [p.label for p in sf.prompts() if p.repetition < 0]
    assert [(p.start, p.end) for p in kept] == [(p.start, p.end) for p in proc.prompts]
    assert (first.start, first.end) not in [(p.start, p.end) for p in kept]  # the redone repetition is cancelled
    assert len(everything) > len(kept) + len(markers)  # discarded records (pause, redo, abort) are in the file
    assert markers == ["marker", "marker 3"]


def test_recorder_error_stops_the_session_and_is_shown(qtbot, window, tmp_path, monkeypatch):
    window.start_demo(with_camera=False)
    qtbot.waitUntil(lambda: window.worker is not None and window.worker.emg_ring.total > 300, timeout=15_000)
    wiz = _to_session_page(qtbot, window, None, pseudonym="P09")
    _pass_check(qtbot, wiz)
    assert wiz.protocol_page.load_file(short_protocol(tmp_path / "p.toml", duration=3.0, reps=3))
    wiz.next()
    page = wiz.session_page
    real = __import__("shutil").disk_usage
    state = {"full": False}

    def usage(p):
        u = real(p)
        return type(u)(u.total, u.total - 10, 10) if state["full"] else u

    monkeypatch.setattr("asha_app.data.disk_space.shutil.disk_usage", usage)
    good_path = page.path
    (tmp_path / "not_a_folder").write_text("x")
    page.path = tmp_path / "not_a_folder" / "s.h5"
    qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)  # the file cannot be created: shown, nothing starts
    assert not page.running and page.recorder is None and page.procedure.state == State.IDLE
    assert "cannot create session file" in page.error.text() and "not_a_folder" in page.error.text()
    page.path = good_path
    qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.procedure.state == State.PROMPT, timeout=5000)
    state["full"] = True
    qtbot.waitUntil(lambda: wiz.currentPage() is wiz.summary_page, timeout=15_000)
    assert "disk is full" in page.failed and "disk is full" in page.error.text()
    assert page.procedure.state == State.ABORTED
    assert "disk is full" in window.banner.text.text()
    assert "RECORDING STOPPED" in wiz.summary_page.text.toPlainText()


def test_library_lists_good_corrupt_and_foreign_files(qtbot, window, tmp_path):
    good = write_session(sessions_dir() / "P01_good.h5", seconds=4.0)
    (sessions_dir() / "broken.h5").write_bytes(b"\x00garbage" * 200)
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f["x"] = np.arange(3)
    lib = window.session_library
    lib.add_files([foreign])
    assert lib.table.rowCount() == 3  # listed at once; the summaries are read in a worker thread
    qtbot.waitUntil(lambda: not lib.loading, timeout=10_000)
    e = lib.entry(good)
    assert e["error"] is None and e["participant"] == "P01" and e["n_emg"] == 4 * 500
    assert e["duration_s"] == pytest.approx(4.0 - 1 / FS) and e["dropped"] == 0
    assert e["valid_share"] == pytest.approx(np.mean((np.arange(120) % 7) != 3))
    assert "not an HDF5 file" in lib.entry(sessions_dir() / "broken.h5")["error"]
    assert "not an Asha session file" in lib.entry(foreign)["error"]
    row = [r for r, x in enumerate(lib.entries) if x["path"] == foreign][0]
    assert "not an Asha session file" in lib.table.item(row, COLUMNS.index("Status")).text()
    good_row = [r for r, x in enumerate(lib.entries) if x["path"] == good][0]
    assert lib.table.item(good_row, COLUMNS.index("EMG")).text() == "500 Hz, µV"  # the unit a person reads
    lib.select_path(good)
    dlg = lib.show_details()
    qtbot.waitUntil(lambda: dlg.loaded, timeout=10_000)  # read in a worker thread
    assert "duration 4.0 s" in dlg.text.toPlainText() and "P01" in dlg.text.toPlainText()
    assert "8 channels at 500 Hz, in µV" in dlg.text.toPlainText()
    dlg.close()


def test_replay_feeds_the_scopes_seeks_and_pauses(qtbot, window):
    path = write_session(sessions_dir() / "P01_replay.h5", seconds=12.0)
    lib = window.session_library
    lib.refresh()
    lib.select_path(path)
    assert lib.start_replay()
    worker = window.worker
    assert worker is not None
    qtbot.waitUntil(lambda: worker.source is lib.replay, timeout=5000)
    qtbot.waitUntil(lambda: worker.emg_ring.total > 200, timeout=10_000)
    expected = emg_signal(int(12.0 * FS))
    first = worker.emg_ring.read_range(0, 100).data["raw"]
    np.testing.assert_array_equal(first, expected[:100])
    reader = worker.emg_ring.reader()
    lib.seek(8.0)
    qtbot.waitUntil(lambda: reader.available > 150, timeout=10_000)
    got = reader.read().data["raw"]
    # the first sample after the seek comes from 8.0 s into the file (earlier samples may have been in flight)
    k = int(np.flatnonzero(np.all(got == expected[int(8.0 * FS)], axis=1))[0])
    np.testing.assert_array_equal(got[k:k + 100], expected[int(8.0 * FS): int(8.0 * FS) + 100])
    assert k < 30
    qtbot.waitUntil(lambda: "label frame" in lib.label_status.text(), timeout=3000)
    assert 8000 <= lib.slider.value() <= 9500
    # dragging the scrubber seeks while it moves, not only on release
    lib.slider.setSliderDown(True)
    lib.slider.setValue(3000)
    qtbot.waitUntil(lambda: lib.replay.position - lib.replay.t_start < 4.5, timeout=3000)
    lib.slider.setSliderDown(False)
    lib.toggle_play()
    assert not lib.replay.playing
    qtbot.wait(100)
    n = worker.emg_ring.total
    qtbot.wait(300)
    assert worker.emg_ring.total == n  # paused: nothing delivered
    lib.stop_replay()
    assert window.worker is None and worker.isFinished()


def test_export_dialog_writes_all_formats_with_progress(qtbot, window, tmp_path):
    from asha_app.ui.export_dialog import ExportDialog

    path = write_session(sessions_dir() / "P01_export.h5", seconds=6.0)
    for key, check in (
        ("npz", lambda out: np.load(out / "P01_export.windows.npz")["emg"].shape[1:] == (100, 8)),
        ("emg2pose",
         lambda out: h5py.File(out / "P01_export.emg2pose.hdf5", "r")["emg2pose/timeseries"].shape == (3000,)),
        ("csv", lambda out: (out / "P01_export" / "emg.csv").read_text().count("\n") == 3001),
    ):
        out = tmp_path / key
        dlg = ExportDialog([path], window, out_dir=out)
        qtbot.addWidget(dlg)
        formats = __import__("asha_app.ui.export_dialog", fromlist=["x"]).EXPORT_FORMATS
        dlg.format.setCurrentIndex([k for k, _ in formats].index(key))
        seen = []
        dlg.finished_export.connect(seen.append)
        worker = dlg.start_export()
        qtbot.waitUntil(lambda seen=seen: bool(seen), timeout=20_000)
        qtbot.waitUntil(worker.isFinished, timeout=5000)
        assert seen[0]["done"] == [0] and not seen[0]["failed"], dlg.log.toPlainText()
        assert dlg.progress_values[-1] == 1000 and worker.overall() == 1.0
        assert dlg.progress_values == sorted(dlg.progress_values)
        assert check(out), key
        dlg.close()


def test_import_dialog_imports_the_paired_slice_and_names_a_bad_file(qtbot, window, tmp_path):
    from tests.conftest import REPO

    from asha_app.ui.import_dialog import ImportDialog

    lib = window.session_library
    dlg = lib.open_import()
    qtbot.addWidget(dlg)
    dlg.add_items([REPO / "tests" / "assets" / "paired_slice"], "paired")
    seen = []
    dlg.finished_import.connect(seen.append)
    dlg.start_import()
    qtbot.waitUntil(lambda: bool(seen), timeout=30_000)
    assert seen[0]["done"] == [0], dlg.log.toPlainText()
    out = sessions_dir() / "paired_slice.h5"
    with SessionFile(out) as sf:
        assert sf.n_emg > 100 and sf.has("targets/values")
    qtbot.waitUntil(lambda: not lib.loading, timeout=10_000)  # the summaries are read in a worker thread
    assert lib.entry(out) is not None and lib.entry(out)["error"] is None  # the library refreshed itself
    bad = tmp_path / "junk.mat"
    bad.write_bytes(b"MATLAB 5.0 MAT-file but truncated")
    dlg2 = ImportDialog(sessions_dir(), window)
    qtbot.addWidget(dlg2)
    dlg2.add_items([bad], "ninapro")
    seen2 = []
    dlg2.finished_import.connect(seen2.append)
    w2 = dlg2.start_import()
    qtbot.waitUntil(lambda: bool(seen2), timeout=10_000)
    qtbot.waitUntil(w2.isFinished, timeout=5000)
    assert "junk.mat" in seen2[0]["failed"][0] and "✗" in dlg2.log.toPlainText()


def test_stop_replay_clears_what_it_showed_and_resumes_nothing(qtbot, window):
    """A replay started over the running demo: Stop replay stops the stream, clears the source line, rate, quality,
    last marker and the replayed hand, and the demo that ran before does not come back by itself."""
    from asha_app.ui.main_window import NO_RATE_TEXT, NO_SOURCE_TEXT

    window.start_demo()
    qtbot.waitUntil(lambda: window.worker.stats().state == "streaming", timeout=8000)
    path = write_session(sessions_dir() / "P03_stop.h5", seconds=6.0)
    lib = window.session_library
    lib.refresh()
    assert lib.start_replay(path)
    replay_worker = window.worker
    window.add_marker()
    qtbot.waitUntil(lambda: "user marker" in window.status_marker.text() and "quality" in window.status_quality.text()
                    and "Hz" in window.status_rate.text(), timeout=8000)
    assert "Replay of P03_stop.h5" in window.source_label.text()
    lib.stop_button.click()
    assert window.worker is None and replay_worker.isFinished()
    for _ in range(4):  # a second later nothing has started again
        qtbot.wait(250)
        assert window.worker is None
        assert window.source_label.text() == NO_SOURCE_TEXT and window.status_rate.text() == NO_RATE_TEXT
        assert window.status_quality.text() == "" and window.status_marker.text() == ""
        assert window.status_state.text() == "stopped" and window.status_device.text() == "—"
    assert not any(f.isVisible() for f in window.scopes.flag_labels)
    assert float(np.max(window.rms.bars.opts["height"])) == 0.0
    assert window.start_action.isEnabled() and not window.stop_action.isEnabled() and not lib.stop_button.isEnabled()
    assert window.device_kind == "demo"  # the picker still shows the user's device, not started


def test_a_session_in_other_units_is_labelled_with_them_and_not_flagged_flat(qtbot, window, tmp_path):
    """The paired Myo slice (50 Hz, MiniVIE normalised units) replayed: scopes, levels, range and library say its
    unit, no axis reads µV (let alone kµV), the quality check judges it in its own unit (not "flat"), and the
    export dialog names the unit."""
    from asha_app.data.importers.paired_myo_mediapipe import load_paired
    from asha_app.data.importers.session import write_recording
    from tests.conftest import REPO

    window.resize(1366, 768)
    window.show()
    qtbot.waitExposed(window)
    rec = load_paired(REPO / "tests" / "assets" / "paired_slice")
    path = write_recording(rec, sessions_dir() / "paired.h5")
    lib = window.session_library
    lib.refresh()
    qtbot.waitUntil(lambda: not lib.loading, timeout=10_000)  # the summaries are read in a worker thread
    row = [r for r, x in enumerate(lib.entries) if x["path"] == path][0]
    assert lib.table.item(row, COLUMNS.index("EMG")).text() == "50 Hz, MiniVIE normalised"
    assert lib.start_replay(path)
    assert "MiniVIE normalised" in window.source_label.text()
    sc = window.scopes
    assert sc.units == "MiniVIE normalised" and not sc.unit_label.isHidden() and "MiniVIE" in sc.unit_label.text()
    titles = [p.getAxis("left").labelString() for p in sc.plots]
    assert all("V)" not in t for t in titles), titles
    assert "MiniVIE" in window.rms.unit_label.text() and "µV" not in window.range_spin.suffix()
    qtbot.waitUntil(lambda: "quality" in window.status_quality.text(), timeout=8000)
    qtbot.wait(1200)  # a few quality passes over a full second of the session
    assert "flat" not in window.status_quality.text(), window.status_quality.text()
    assert window.worker.units == "MiniVIE normalised"
    lib.select_path(path)
    dlg = lib.open_export()
    qtbot.addWidget(dlg)
    assert "EMG in MiniVIE normalised" in dlg.list.item(0).text() and "50 Hz" in dlg.list.item(0).text()
    dlg.close()
    lib.stop_replay()
    # a live source in microvolts afterwards: the axes speak volts again, with a prefix that fits the range
    n0 = sc.frames_drawn
    window.start_demo()
    assert sc.units == "uV"
    qtbot.waitUntil(lambda: sc.frames_drawn > n0 + 10, timeout=8000)
    assert sc.unit_label.isHidden() or "µV" in sc.unit_label.text()
    for p in sc.plots:
        s = p.getAxis("left").labelString()
        assert "kµV" not in s and "mµV" not in s, s
        assert "(µV)" in s or "(mV)" in s, s
