"""The user's journeys, end to end, on the real demo sources: each step must reach what a person expects to see.

1. Clinician (GUI): New recording -> Train with the wizard's defaults -> Calibrate (Record now) -> Use this
   profile -> the 3D hand moves -> Stop clears what live started.
2. Researcher (CLI only): import -> train -> evaluate -> export emg2pose -> import it -> evaluate: same figures;
   every JSON last line is strict JSON.
3. Replay: a recorded session replays into the scopes and the 3D view, and a profile runs live on the replay.
"""

from __future__ import annotations

import pytest

from tests.journey_steps import ClinicianJourney, new_window
from tests.recording_helpers import short_protocol

pytestmark = [pytest.mark.gui, pytest.mark.slow]


@pytest.fixture
def short_calibration(monkeypatch, tmp_path):
    """The calibration protocol shortened to ~20 s (the real one is 2.2 minutes); everything else is as shipped."""
    from asha_app.protocols.model import load_protocol
    from asha_app.ui import calibration_wizard as CW

    path = short_protocol(tmp_path / "calib.toml", duration=4.0, reps=2, rest=0.5)
    monkeypatch.setattr(CW, "calibration_protocol", lambda: load_protocol(path))


@pytest.fixture
def app_window(qtbot):
    w = new_window()
    qtbot.addWidget(w)
    yield w
    for name in ("recording_wizard", "calibration_wizard"):
        wiz = getattr(w, name, None)
        if wiz is not None:
            wiz.close()
    w.shutdown()


def test_clinician_records_trains_calibrates_and_sees_the_live_hand(app_window, short_calibration):
    j = ClinicianJourney(app_window, train_threads=1, live_seconds=3.0)
    steps = {s.name: s for s in j.run()}
    assert all(s.reached for s in steps.values())
    # what the person saw at each step
    assert steps["record"].detail["valid_share"] > 0.3
    assert steps["train"].detail["target_kind"] == "joint_angles"
    assert "can drive the live hand" in steps["train"].detail["targets"]
    assert steps["calibrate"].detail["after_mae"] is not None
    live = steps["live"].detail
    assert live["poses_drawn_per_s"] > 0
    assert "drawn" in live["dock_rate"] and not live["dock_rate"].startswith("0 /s")
    assert live["fingers"] not in ("", "—")
    stop = steps["stop"].detail
    assert not stop["live_worker"]
