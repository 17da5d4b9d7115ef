"""The training wizard's gesture task end to end, and profiles that bring their gesture model (issue 14), offscreen.

The session is the bundled demo recording (real Myo sEMG at 500 Hz, its gesture markers named) written as an Asha
session file; the wizard trains an LDA on it through the same child process as pose training, shows the gesture
report, and "Use in gesture mode" runs it in the Gestures dock on the demo stream (the same person and armband).
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from asha_app.core.clock import SessionClock
from asha_app.core.paths import data_dir
from asha_app.core.settings import AppSettings
from asha_app.data.importers.session import write_recording
from asha_app.models.registry import available
from tests.journey_steps import wait_until

pytestmark = pytest.mark.gui
torch.set_num_threads(1)

_REC = {}


def demo_session(name: str = "demo_gestures.h5") -> Path:
    """The demo recording with its gesture markers, as a session file in data_dir()/sessions."""
    from asha_app.gestures.datasets import demo_gesture_recording

    if "rec" not in _REC:
        _REC["rec"] = demo_gesture_recording()
    path = data_dir() / "sessions" / name
    write_recording(copy.deepcopy(_REC["rec"]), path)
    return path


@pytest.fixture
def window(qtbot):
    from asha_app.ui import gesture_panel, live, training
    from asha_app.ui.main_window import MainWindow

    w = MainWindow(AppSettings(), SessionClock())
    qtbot.addWidget(w)
    live.install(w)
    gesture_panel.install(w)
    training.install(w)
    yield w
    w.shutdown()
    from asha_app.workers.base import running_workers

    qtbot.waitUntil(lambda: not running_workers(), timeout=10000)


def open_gesture_wizard(window, sessions: list[Path]):
    wiz = window.training.open_wizard(threads=1)
    wiz.progress_every = 2
    wiz.restart()
    wiz.sessions_page.set_task("gesture")
    wiz.sessions_page.set_checked(sessions)
    wiz.warmup.wait(60000)
    wait_until(lambda: not wiz.loading, 60, "the session rows")
    return wiz


def next_page(wiz) -> None:
    wiz.next()
    wait_until(lambda: not wiz.loading, 120, "the page's background check")


def test_wizard_trains_gestures_shows_the_report_and_runs_gesture_mode(qtbot, window, tmp_path):
    session = demo_session()
    wiz = open_gesture_wizard(window, [session])
    next_page(wiz)
    assert wiz.currentId() == wiz.PAGE_MODEL, wiz.sessions_page.error.text()
    mp = wiz.model_page
    names = [mp.model_list.item(i).data(0x0100) for i in range(mp.model_list.count())]
    assert names == available("gesture") and mp.model_name == "proto"  # the registry's gesture models, proto default
    assert mp.ft_radio.isHidden() and "8 gestures" in mp.targets.text() and "wrist flexion" in mp.targets.text()
    mp.select_model("lda")
    next_page(wiz)
    wp = wiz.windows_page
    assert wiz.currentId() == wiz.PAGE_WINDOWS
    assert not wp.form.isRowVisible(wp.lag_spin) and wp.form.isRowVisible(wp.gesture_options)
    opts, norm = wp.gesture_options, wp.norm_options
    assert (opts.settle_spin.value(), norm.norm, norm.tau_spin.value()) == (0.5, "running", 60.0)  # the CLI's
    wp.stride_spin.setValue(100.0)
    next_page(wiz)
    sp = wiz.split_page
    assert wiz.currentId() == wiz.PAGE_SPLIT
    assert sp.kind() == "repetitions" and "each gesture" in sp.radios["repetitions"].text()
    assert sp.assign_table.isHidden()
    next_page(wiz)
    assert wiz.currentId() == wiz.PAGE_RUN, sp.error.text()
    assert "Training windows per gesture: rest" in sp.counts_label.text()
    assert wiz.plan.norm == "running" and wiz.plan.split_kind is None and wiz.plan.model_name == "lda"
    assert wiz.run_page.start()
    wait_until(lambda: wiz.currentId() == wiz.PAGE_REPORT or (not wiz.run_page.running and wiz.run_page.error.text()),
               180, "gesture training to finish")
    assert wiz.currentId() == wiz.PAGE_REPORT, wiz.run_page.error.text()
    res = wiz.result
    assert res["task"] == "gesture" and res["eval_set"] == "test" and len(res["classes"]) == 8
    assert wiz.run_page.events_seen[-1] == "done" and wiz.run_page.epoch_x == [1]
    rep = wiz.report_page.gesture
    assert rep.isVisibleTo(wiz.report_page) and not wiz.report_page.view.isVisibleTo(wiz.report_page)
    bacc = res["metrics"]["balanced_accuracy"]
    assert 1 / 8 < bacc <= 1.0  # better than chance on the held-out repetitions
    assert f"{100 * bacc:.1f} %" in rep.bacc_label.text()
    assert rep.table.rowCount() == 8 and rep.table.item(0, 0).text() in res["classes"]
    assert not rep.confusion_label.pixmap().isNull()  # the confusion matrix image
    assert Path(res["report"]["confusion"]).is_file()
    rep.grab().save(str(tmp_path / "gesture_report.png"))

    # Use in gesture mode: the checkpoint goes into the Gestures dock and runs on the stream
    window.start_demo(with_camera=False)
    wait_until(lambda: window.worker is not None and window.worker.isRunning(), 20, "the demo stream")
    g = window.gestures
    rep.use_button.click()
    wait_until(lambda: not rep.loader.busy, 30, "the gesture model to load")
    assert g.model_path == Path(res["checkpoint"]) and list(g.panel.boxes) == res["classes"]
    wait_until(lambda: len(g.shown) > 5, 30, "gesture decisions on the demo stream")
    assert g.worker is not None and g.panel.name_label.text() in res["classes"]
    assert "trained in the wizard" in g.panel.what.text() and "Gesture mode runs" in rep.use_status.text()
    wiz.accept()


def test_a_session_without_gesture_labels_says_so_and_offers_the_pose_task(window):
    from tests.test_training_ui import write_session

    session = write_session()  # the real paired slice: pose labels, no protocol prompts, no markers
    wiz = open_gesture_wizard(window, [session])
    next_page(wiz)
    sp = wiz.sessions_page
    assert wiz.currentId() == wiz.PAGE_SESSIONS
    assert "no gesture labels" in sp.error.text() and "paired_slice.h5" in sp.error.text()
    assert sp.pose_button.isVisibleTo(sp)
    sp.pose_button.click()
    assert sp.task() == "pose" and not sp.error.isVisibleTo(sp) and sp.pose_button.isHidden()
    next_page(wiz)
    assert wiz.currentId() == wiz.PAGE_MODEL  # the pose task goes on with the same session
    assert wiz.model_page.ft_radio.isVisibleTo(wiz.model_page) and wiz.model_page.model_name == "envtcn"
    wiz.reject()


def test_a_gesture_with_too_few_windows_is_named(window):
    wiz = open_gesture_wizard(window, [demo_session()])
    next_page(wiz)
    wiz.model_page.select_model("lda")
    next_page(wiz)
    wiz.windows_page.stride_spin.setValue(1000.0)  # one window a second: too few per gesture
    next_page(wiz)
    next_page(wiz)
    sp = wiz.split_page
    assert wiz.currentId() == wiz.PAGE_SPLIT
    assert "too little training data for some gestures" in sp.error.text() and "'fist' has" in sp.error.text()
    wiz.reject()


def _gesture_checkpoint(path: Path, classes: list[str]) -> Path:
    """An LDA gesture model on the demo recording for the given gestures (fast), saved at ``path``."""
    from asha_app.data.windows import WindowSpec
    from asha_app.gestures import train as G
    from asha_app.gestures.datasets import demo_gesture_recording
    from asha_app.models import checkpoint as C

    job = G.prepare([demo_gesture_recording()], WindowSpec(500, 200), None, classes=classes, norm="running")
    model = G.new_model("lda", job)
    G.fit(model, job)
    C.save(G.make_checkpoint(job, model), path)
    return path


def test_load_profile_brings_its_gesture_model(qtbot, window, tmp_path):
    from asha_app.calibration import profile as P
    from asha_app.core import paths
    from asha_app.inference.live_demo import demo_assets
    from asha_app.models import checkpoint as C

    w, g = window, window.gestures
    ck = C.load(demo_assets().model_path)
    device = {"name": "demo", "fs": 500.0, "n_channels": 8, "decimation": 10}
    ann = P.save_profile(P.UserProfile("ann", ck, device), tmp_path / "ann.ashaprofile")
    shutil.copy(paths.resource("gestures", "demo_gestures.pt"), P.gestures_path(ann))
    assert P.gestures_path(ann).name == "ann.gestures.pt"

    # no stream: the pose profile and the gesture model are both loaded, gesture mode waits for the stream
    assert w.live.load_profile(ann)
    qtbot.waitUntil(lambda: not w.live.loading, timeout=30000)
    assert w.live.mode == "profile" and w.live.profile is not None
    line = w.live_dock.gesture_line
    assert line.text() == "Gesture model loaded from the profile: 8 gestures" and line.isVisibleTo(w.live_dock)
    assert g.model_path == P.gestures_path(ann) and len(g.panel.boxes) == 8 and g.worker is None
    assert "gesture mode starts with it" in g.panel.message.text()
    w.start_demo()
    qtbot.waitUntil(lambda: g.worker is not None and len(g.shown) > 3, timeout=30000)
    qtbot.waitUntil(lambda: w.live.worker is not None, timeout=15000)  # the pose profile runs too

    # another profile whose gesture set differs: which gestures changed is said
    bob = P.save_profile(P.UserProfile("bob", ck, device), tmp_path / "bob.ashaprofile")
    _gesture_checkpoint(P.gestures_path(bob), ["rest", "fist", "wrist flexion"])
    assert w.live.load_profile(bob)
    qtbot.waitUntil(lambda: not w.live.loading, timeout=30000)
    assert line.text().startswith("Gesture model loaded from the profile: 3 gestures; no longer: ")
    assert "pronation" in line.text() and "fist" not in line.text().split("no longer:")[1]
    qtbot.waitUntil(lambda: g.worker is not None and list(g.worker.classes) == ["rest", "fist", "wrist flexion"],
                    timeout=15000)

    # a profile without a .gestures.pt: gesture mode keeps what it runs, the line goes
    cid = P.save_profile(P.UserProfile("cid", ck, device), tmp_path / "cid.ashaprofile")
    assert w.live.load_profile(cid)
    qtbot.waitUntil(lambda: not w.live.loading, timeout=30000)
    assert w.live.profile.participant == "cid" and line.isHidden() and len(g.panel.boxes) == 3
    assert np.all([b.isChecked() for b in g.panel.boxes.values()])
