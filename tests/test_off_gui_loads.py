"""No file or checkpoint is read on the GUI thread (issue 12, step 4).

Each loader the pages and docks call is wrapped to record the thread it runs on
and held at a gate until the test has seen the page wait ("reading…", "loading
model…", controls disabled, the event loop running); then the gate opens and the
page fills in with the result.  Closing mid-load drops the result.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from asha_app.core.clock import SessionClock
from asha_app.core.paths import data_dir
from asha_app.core.settings import AppSettings

pytestmark = pytest.mark.gui

SLICE = Path(__file__).parent / "assets" / "paired_slice"


class Gate:
    """Wrap ``owner.name`` so that each call records its thread and waits until :meth:`open`."""

    def __init__(self, monkeypatch, owner, name: str) -> None:
        self.threads: list[threading.Thread] = []
        self._event = threading.Event()
        real = getattr(owner, name)

        def wrapped(*args, **kwargs):
            self.threads.append(threading.current_thread())
            self._event.wait(30)
            return real(*args, **kwargs)

        monkeypatch.setattr(owner, name, wrapped)

    def open(self) -> None:
        self._event.set()

    def off_gui_thread(self) -> bool:
        return bool(self.threads) and all(t is not threading.main_thread() for t in self.threads)


@pytest.fixture
def window(qtbot):
    from asha_app.ui import live
    from asha_app.ui.main_window import MainWindow
    from asha_app.ui.training import install

    win = MainWindow(AppSettings(), SessionClock())
    qtbot.addWidget(win)
    install(win)
    live.install(win)
    yield win
    win.shutdown()


def test_training_wizard_reads_sessions_checkpoint_and_run_off_the_gui_thread(qtbot, window, monkeypatch):
    from asha_app.data.importers.paired_myo_mediapipe import load_paired
    from asha_app.data.importers.session import write_recording
    from asha_app.inference.live_demo import demo_assets
    from asha_app.models import checkpoint as C
    from asha_app.ui.training_wizard import sessions, split

    session = data_dir() / "sessions" / "paired_slice.h5"
    write_recording(load_paired(SLICE), session)
    rows = Gate(monkeypatch, sessions, "describe_file")
    recs = Gate(monkeypatch, sessions, "load_any")
    wiz = window.training.open_wizard(threads=1)
    wiz.restart()
    page = wiz.sessions_page
    qtbot.waitUntil(lambda: bool(rows.threads), timeout=10000)
    # listed at once, read in the background: the row says so and cannot be ticked yet; Next waits
    assert "reading…" in page.list.item(0).text() and wiz.loading and not page.isComplete()
    assert page.busy.isVisibleTo(wiz) and "reading" in page.busy.text()
    page.set_checked([session])  # asked for while the row is read: ticked when it arrives
    rows.open()
    qtbot.waitUntil(lambda: not wiz.loading, timeout=30000)
    assert rows.off_gui_thread()
    assert "5 (imported)" in page.list.item(0).text() and page.checked_paths() == [session]
    assert page.isComplete() and not page.busy.isVisible()

    # Next reads the ticked session in the background (an .h5 is read, not taken from the row's summary)
    wiz.warmup.wait(60000)
    wiz.next()
    assert wiz.currentId() == wiz.PAGE_SESSIONS and wiz.loading and not page.isEnabled()
    recs.open()
    qtbot.waitUntil(lambda: wiz.currentId() == wiz.PAGE_MODEL, timeout=30000)  # moved on by itself
    assert recs.off_gui_thread() and len(wiz.recordings) == 1 and page.isEnabled()

    # a checkpoint to fine-tune loads (and is checked against the data) in the background, then Next goes on
    model = wiz.model_page
    ckpts = Gate(monkeypatch, C, "load")
    model.select_checkpoint(demo_assets().model_path)  # the bundled 50 Hz model fits the 50 Hz slice
    wiz.next()
    qtbot.waitUntil(lambda: bool(ckpts.threads), timeout=10000)
    assert wiz.currentId() == wiz.PAGE_MODEL and "loading model" in model.busy.text() and not model.isComplete()
    ckpts.open()
    qtbot.waitUntil(lambda: wiz.currentId() == wiz.PAGE_WINDOWS, timeout=30000)
    assert ckpts.off_gui_thread() and wiz.checkpoint is not None and not model.error.text()
    wiz.back()

    # the run is prepared (filtered, windowed, split) in the background too
    model.select_model("ridge")
    wiz.next()
    assert wiz.currentId() == wiz.PAGE_WINDOWS
    wiz.next()
    prep = Gate(monkeypatch, split, "prepare_plan")
    wiz.next()
    qtbot.waitUntil(lambda: bool(prep.threads), timeout=10000)
    assert wiz.currentId() == wiz.PAGE_SPLIT and wiz.loading and not wiz.split_page.isEnabled()
    prep.open()
    qtbot.waitUntil(lambda: wiz.currentId() == wiz.PAGE_RUN, timeout=60000)
    assert prep.off_gui_thread() and wiz.prepared is not None
    assert "train" in wiz.split_page.counts_label.text()
    wiz.close()


def test_calibration_wizard_loads_the_base_model_and_a_file_off_the_gui_thread(qtbot, window, monkeypatch):
    from asha_app.inference.live_demo import demo_assets, demo_recording
    from asha_app.ui import calibration_wizard as CW

    assets = demo_assets()
    base = Gate(monkeypatch, CW, "load_base_model")
    window.live.open_calibration()
    wiz = window.calibration_wizard
    setup = wiz.setup
    setup.participant.setText("ida")
    setup.base.setText(str(assets.model_path))
    setup.check_base()
    qtbot.waitUntil(lambda: bool(base.threads), timeout=10000)
    assert setup.checking and "loading model" in setup.base_status.text() and not setup.isComplete()
    assert not setup.base.isEnabled()
    base.open()
    qtbot.waitUntil(lambda: not setup.checking, timeout=30000)
    assert base.off_gui_thread() and setup.base_ok and setup.base_status.text().startswith("✓")
    assert setup.isComplete() and setup.base.isEnabled()

    wiz.next()
    page = wiz.record
    monkeypatch.setattr(CW, "load_recording", lambda _path: demo_recording(assets))
    files = Gate(monkeypatch, CW, "load_recording")
    page.use_recording_file(data_dir() / "calibration" / "demo.h5")
    qtbot.waitUntil(lambda: bool(files.threads), timeout=10000)
    assert page.reading and "reading demo.h5" in page.message.text() and not page.file_button.isEnabled()
    files.open()
    qtbot.waitUntil(lambda: not page.reading, timeout=30000)
    assert files.off_gui_thread() and page.isComplete() and page.message.text().startswith("✓")
    assert page.file_button.isEnabled() and wiz.currentPage() is page  # a chosen file does not advance by itself
    wiz.reject()


def test_closing_the_calibration_wizard_mid_load_drops_the_result(qtbot, window, monkeypatch):
    from asha_app.inference.live_demo import demo_assets
    from asha_app.ui import calibration_wizard as CW

    base = Gate(monkeypatch, CW, "load_base_model")
    window.live.open_calibration()
    wiz = window.calibration_wizard
    wiz.setup.base.setText(str(demo_assets().model_path))
    wiz.setup.check_base()
    qtbot.waitUntil(lambda: bool(base.threads), timeout=10000)
    threading.Timer(0.3, base.open).start()  # the load ends while the close waits for it (checked stop)
    wiz.reject()
    assert not wiz.setup.checking
    qtbot.wait(300)
    assert "loading model" in wiz.setup.base_status.text()  # the late result was dropped, not shown
    assert not window.banner.isVisible() or "did not stop" not in window.banner.text.text()


def test_live_dock_loads_the_demo_model_and_a_profile_off_the_gui_thread(qtbot, window, monkeypatch, tmp_path):
    from asha_app.calibration import profile as P
    from asha_app.inference.live_demo import demo_assets
    from asha_app.models import checkpoint as C
    from asha_app.ui import live

    ck = C.load(demo_assets().model_path)
    prof = P.save_profile(P.UserProfile("eva", ck, {"name": "demo", "fs": 500.0, "n_channels": 8, "decimation": 10}),
                          tmp_path / "eva.ashaprofile")
    profiles = Gate(monkeypatch, live, "load_profile")
    dock = window.live_dock
    assert window.live.load_profile(prof)
    qtbot.waitUntil(lambda: bool(profiles.threads), timeout=10000)
    assert window.live.loading and "loading model" in dock.what.text()
    assert not dock.demo_button.isEnabled() and not dock.profile_button.isEnabled()
    profiles.open()
    qtbot.waitUntil(lambda: not window.live.loading, timeout=30000)
    assert profiles.off_gui_thread() and window.live.mode == "profile"
    assert "Profile of eva" in dock.what.text() and dock.demo_button.isEnabled()

    demo = Gate(monkeypatch, live, "demo_assets")
    assert window.live.start_demo()
    qtbot.waitUntil(lambda: bool(demo.threads), timeout=10000)
    assert window.live.loading and "loading model" in dock.what.text() and window.worker is None
    demo.open()
    qtbot.waitUntil(lambda: window.live.mode == "demo" and window.live.worker is not None, timeout=30000)
    assert demo.off_gui_thread() and "Live demo" in dock.what.text()
    window.live.stop()


def test_gestures_dock_reads_its_model_off_the_gui_thread(qtbot, window, monkeypatch):
    from asha_app.core import paths
    from asha_app.gestures import train as GT
    from asha_app.inference.live_demo import demo_assets
    from asha_app.ui import gesture_panel

    gesture_panel.install(window)
    g = window.gestures
    gate = Gate(monkeypatch, GT, "load_gesture_checkpoint")
    assert g.load_model(paths.resource("gestures", "demo_gestures.pt"))
    qtbot.waitUntil(lambda: bool(gate.threads), timeout=10000)
    assert g.loading and "reading" in g.panel.what.text()
    assert not g.panel.load_btn.isEnabled() and not g.panel.demo_btn.isEnabled()
    gate.open()
    qtbot.waitUntil(lambda: not g.loading, timeout=30000)
    assert gate.off_gui_thread() and g.ckpt is not None and g.panel.load_btn.isEnabled()
    assert "demo_gestures.pt" in g.panel.what.text() and "No stream" in g.panel.message.text()
    # a pose model is refused in the dock; the gesture model that was loaded stays, and so does its line
    model = g.ckpt
    assert g.load_model(demo_assets().model_path)
    qtbot.waitUntil(lambda: not g.loading, timeout=30000)
    assert "is a pose model" in g.panel.message.text()
    assert g.ckpt is model and "demo_gestures.pt" in g.panel.what.text() and g.panel.demo_btn.isEnabled()


def test_report_dialog_reads_the_checkpoint_off_the_gui_thread(qtbot, window, monkeypatch):
    from asha_app.inference.live_demo import demo_assets
    from asha_app.ui import report_view

    gate = Gate(monkeypatch, report_view, "read_report")
    dlg = window.training.open_report(demo_assets().model_path)
    shown = []
    dlg.view.shown.connect(shown.append)
    qtbot.waitUntil(lambda: bool(gate.threads), timeout=10000)
    assert dlg.view.loading and "Reading" in dlg.view.title.text() and dlg.view.metrics_table.rowCount() == 0
    gate.open()
    qtbot.waitUntil(lambda: not dlg.view.loading, timeout=30000)
    assert gate.off_gui_thread() and shown == [True] and dlg.view.metrics_table.rowCount() > 0
    # closing mid-read drops the result and stops the thread
    gate2 = Gate(monkeypatch, report_view, "read_report")
    dlg2 = window.training.open_report(demo_assets().model_path)
    qtbot.waitUntil(lambda: bool(gate2.threads), timeout=10000)
    dlg2.close()
    gate2.open()
    qtbot.waitUntil(lambda: not dlg2.view.loading, timeout=10000)
    assert dlg2.view.metrics_table.rowCount() == 0
