"""The user's journeys, end to end, on the real demo sources: each step must reach what a person expects to see.

1. Clinician (GUI): New recording -> Train with the wizard's defaults -> Calibrate (Record now) -> Use this
   profile -> the 3D hand moves -> Stop clears what live started.
2. Researcher (CLI only): import -> train -> evaluate -> export emg2pose -> import it -> evaluate: same figures;
   every JSON last line is strict JSON.
3. Replay: a recorded session replays into the scopes and the 3D view, and a profile runs live on the replay.
4. Gestures: the protocol session journey 1 recorded (its prompts are gesture labels) trains a gesture classifier
   in the same wizard, and "Use in gesture mode" loads it into the Gestures dock.

Journey 1 runs once per module (about a minute and a half); journey 3 replays what it recorded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.journey_steps import ClinicianJourney, new_window, pump, wait_until
from tests.recording_helpers import short_protocol

pytestmark = [pytest.mark.gui, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
PAIRED = REPO / "tests" / "assets" / "paired_slice"


def _close(w) -> None:
    for name in ("recording_wizard", "calibration_wizard"):
        wiz = getattr(w, name, None)
        if wiz is not None:
            wiz.close()
    w.shutdown()
    w.close()
    w.deleteLater()


@pytest.fixture(scope="module")
def clinician(qapp, tmp_path_factory):
    """Journey 1 on the app's own window, once: its steps, session and profile (ASHA_HOME isolated)."""
    from asha_app.protocols.model import load_protocol
    from asha_app.ui import calibration_wizard as CW

    home = tmp_path_factory.mktemp("journey_home")
    # the calibration protocol shortened to ~20 s (the real one is 2.2 minutes); everything else as shipped
    calib = short_protocol(home / "calib.toml", duration=4.0, reps=2, rest=0.5)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ASHA_HOME", str(home / "asha"))
        mp.setattr(CW, "calibration_protocol", lambda: load_protocol(calib))
        w = new_window()
        j = ClinicianJourney(w, train_threads=1, live_seconds=3.0)
        error = None
        try:
            j.run()
        except AssertionError as exc:  # reported by the test, with the steps that were reached
            error = exc
        finally:
            _close(w)
            qapp.processEvents()
        yield j, error


def test_clinician_records_trains_calibrates_and_sees_the_live_hand(clinician):
    j, error = clinician
    reached = [(s.name, s.reached, round(s.wall_s, 1)) for s in j.steps]
    assert error is None, f"{error} (steps: {reached})"
    steps = {s.name: s for s in j.steps}
    assert [s.name for s in j.steps] == ["start", "record", "train", "calibrate", "live", "stop"]
    assert all(s.reached for s in j.steps), reached
    # what the person saw at each step
    assert steps["record"].detail["valid_share"] > 0.3
    assert steps["train"].detail["target_kind"] == "joint_angles"
    assert "can drive the live hand" in steps["train"].detail["targets"]
    assert steps["calibrate"].detail["after_mae"] is not None
    live = steps["live"].detail
    assert live["poses_drawn_per_s"] > 0
    assert "drawn" in live["dock_rate"] and not live["dock_rate"].startswith("0 /s")
    assert live["fingers"] not in ("", "—")
    assert live.get("pixels_changed", 1.0) > 0.001
    stop = steps["stop"].detail
    assert not stop["live_worker"] and not any(stop["hands_drawn"].values()) and stop["dock_rate"] == "—"


def test_replay_drives_the_scopes_the_3d_view_and_a_profile(clinician, qtbot):
    j, error = clinician
    if error is not None or j.profile_path is None:
        pytest.fail(f"journey 1 did not make a session and a profile: {error}")
    from asha_app.ui.hand_view import HandView
    from asha_app.ui.session_library import REPLAY_SLOT

    w = new_window()
    qtbot.addWidget(w)
    try:
        w.stop_acquisition()  # the user stops the demo, then opens the library
        lib = w.session_library
        lib.add_files([j.session_path])
        lib.select_path(j.session_path)
        lib.replay_button.click()
        wait_until(lambda: lib.replay is not None, 15, "the replayed session to open")
        wait_until(lambda: w.worker is not None and w.worker.emg_ring.total > 500, 15, "replayed EMG in the ring")
        pump(0.5)
        # the scopes draw the replayed EMG
        w.refresh_scopes()
        _, y = w.scopes.curves[0].getData()
        assert y is not None and len(y) > 0 and np.isfinite(y).any(), "the scopes show no replayed EMG"
        # the 3D view shows the recorded camera hand
        view = w.hand_view
        if isinstance(view, HandView):
            wait_until(lambda: REPLAY_SLOT in view.slots and view._hands[REPLAY_SLOT].has_data, 10,
                       "the recorded hand in the 3D view")
        # and a profile runs live on the replay
        assert w.live.load_profile(j.profile_path), "the profile did not load on the replay"
        wait_until(lambda: not w.live.loading, 30, "the profile to load")  # read off the GUI thread
        assert w.live.mode == "profile", f"the profile did not load on the replay: {w.banner.text.text()}"
        wait_until(lambda: w.live.drawn > 0, 20, "the profile's hand drawn on the replay")
        drawn0 = w.live.drawn
        pump(1.5)
        assert w.live.drawn > drawn0
        lib.stop_button.click()
        wait_until(lambda: w.worker is None, 10, "the replay to stop")
        assert w.live.worker is None
    finally:
        _close(w)


def test_the_recorded_protocol_session_trains_a_gesture_classifier(clinician, qtbot):
    j, error = clinician
    if error is not None or j.session_path is None:
        pytest.fail(f"journey 1 did not record a session: {error}")
    from asha_app.core.clock import SessionClock
    from asha_app.core.settings import AppSettings
    from asha_app.ui import gesture_panel, live, training
    from asha_app.ui.main_window import MainWindow

    w = MainWindow(AppSettings(), SessionClock())
    qtbot.addWidget(w)
    live.install(w)
    gesture_panel.install(w)
    training.install(w)
    try:
        wiz = w.training.open_wizard(threads=1)
        wiz.sessions_page.set_task("gesture")
        wiz.sessions_page.add_paths([j.session_path])
        wiz.warmup.wait(60000)
        wait_until(lambda: not wiz.loading, 60, "the session row")
        wiz.next()
        wait_until(lambda: not wiz.loading, 60, "the sessions' check")
        assert wiz.currentId() == wiz.PAGE_MODEL, wiz.sessions_page.error.text()
        # the Quick tour's prompts are the gestures, the time between them rest
        found = wiz.model_page.targets.text().split("4 gestures: ")[-1].split(" (rest")[0]
        assert sorted(found.split(", ")) == ["fist", "open", "point", "rest"], wiz.model_page.targets.text()
        wiz.model_page.select_model("lda")
        for page_id in (wiz.PAGE_WINDOWS, wiz.PAGE_SPLIT, wiz.PAGE_RUN):
            wiz.next()
            wait_until(lambda: not wiz.loading, 120, "the page's check")
            assert wiz.currentId() == page_id, wiz.split_page.error.text()
        assert wiz.run_page.start()
        wait_until(lambda: wiz.currentId() == wiz.PAGE_REPORT or (not wiz.run_page.running
                                                                   and bool(wiz.run_page.error.text())),
                   120, "gesture training")
        assert wiz.currentId() == wiz.PAGE_REPORT, wiz.run_page.error.text()
        res = wiz.result
        assert res["task"] == "gesture" and "rest" in res["classes"] and 0.0 <= res["metrics"]["balanced_accuracy"]
        rep = wiz.report_page.gesture
        assert rep.use_in_gesture_mode()
        wait_until(lambda: not rep.loader.busy, 30, "the gesture model to load")
        assert list(w.gestures.panel.boxes) == res["classes"]
        assert "gesture mode starts with it" in w.gestures.panel.message.text()  # no stream: ready for one
        wiz.accept()
    finally:
        w.shutdown()


def _cli(*args, cwd, home):
    env = {**os.environ, "ASHA_HOME": str(home), "PYTHONPATH": str(REPO)}
    p = subprocess.run([sys.executable, "-m", "asha_app", *map(str, args)], cwd=cwd, env=env, capture_output=True,
                       text=True, timeout=600)
    assert p.returncode == 0, f"asha {' '.join(map(str, args))} exited {p.returncode}:\n{p.stderr[-2000:]}"
    return p.stdout


def ev2_samples(path) -> int:
    from asha_app.data.reader import SessionFile

    with SessionFile(path) as sf:
        return int(sf.n_emg)


def _no_constants(name):
    raise ValueError(f"non-standard JSON constant {name} (NaN and Infinity must be null)")


def _strict_json_last_line(out: str) -> dict:
    lines = [x for x in out.strip().splitlines() if x.strip()]
    assert lines, "no output"
    return json.loads(lines[-1], parse_constant=_no_constants)


def test_researcher_import_train_evaluate_export_reimport_gives_the_same_figures(tmp_path):
    home = tmp_path / "home"
    s1 = tmp_path / "paired.h5"
    _cli("import", PAIRED, "-o", s1, cwd=tmp_path, home=home)
    train = _strict_json_last_line(_cli("train", s1, "--model", "ridge", "--out", tmp_path / "m.pt", cwd=tmp_path,
                                        home=home))
    assert Path(train["checkpoint"]).name == "m.pt" and (tmp_path / "m.pt").is_file()
    assert train["test"]["n"] > 0
    ev1 = _strict_json_last_line(_cli("evaluate", tmp_path / "m.pt", s1, cwd=tmp_path, home=home))
    _cli("export", s1, "--format", "emg2pose", "-o", tmp_path / "e.hdf5", cwd=tmp_path, home=home)
    s2 = tmp_path / "reimported.h5"
    _cli("import", tmp_path / "e.hdf5", "-o", s2, cwd=tmp_path, home=home)
    ev2 = _strict_json_last_line(_cli("evaluate", tmp_path / "m.pt", s2, cwd=tmp_path, home=home))
    assert ev1["n"] == ev2["n"] > 0
    for key in ("mae_mean", "r2_mean", "hand_model_mpjpe_wrist_rel_mm"):
        assert ev2[key] == pytest.approx(ev1[key], rel=1e-4, abs=1e-6), key
    for name, v in ev1["mae_per_target"].items():
        assert ev2["mae_per_target"][name] == pytest.approx(v, rel=1e-4, abs=1e-6)
    report = json.loads(_cli("check", s2, "--json", cwd=tmp_path, home=home), parse_constant=_no_constants)
    assert report[0]["finalized"] and report[0]["n_emg"] == ev2_samples(s2)
