"""Protocol files, the recording procedure state machine and the wizard model, all without Qt."""

import pytest

from asha_app.core.errors import ConfigError
from asha_app.protocols import (
    EventKind, Page, RecordingProcedure, SessionWizard, State, WizardInputError, builtin_protocols, load_protocol,
    parse_protocol,
)

SMALL = """
name = "test"
countdown_s = 2.0
order = "blocked"

[poses.fist]
index_mcp_flexion = 80.0

[[prompts]]
label = "fist"
duration_s = 4.0
repetitions = 2
rest_s = 1.0
target = "fist"

[[prompts]]
label = "open"
duration_s = 3.0
repetitions = 1
target = { index_mcp_flexion = 0.0 }
"""


def kinds(events):
    return [e.kind for e in events]


def test_builtin_protocols_load_and_cover_required_sets():
    ps = builtin_protocols()
    assert {"basic_poses", "finger_flexions", "wrist_movements", "free_movement"} <= set(ps)
    labels = {p.label for p in ps["basic_poses"].prompts}
    assert {"open", "fist", "point", "pinch", "rest"} <= labels
    for proto in ps.values():
        for step in proto.expand():
            assert step.duration_s > 0
    # every named target resolves to angles in degrees
    fist = ps["basic_poses"].target_angles(next(p for p in ps["basic_poses"].prompts if p.label == "fist"))
    assert fist["index_mcp_flexion"] > 45


def test_builtin_targets_use_hand_model_dofs_within_limits():
    from asha_app.pose.chain import DEFAULT_LIMITS_DEG

    for name, proto in builtin_protocols().items():
        assert proto.unknown_dofs(list(DEFAULT_LIMITS_DEG)) == set(), name
        for pose_name, angles in proto.poses.items():
            for dof, deg in angles.items():
                lo, hi = DEFAULT_LIMITS_DEG[dof]
                assert lo <= deg <= hi, f"{name}: pose {pose_name}: {dof} = {deg} outside {lo}..{hi}"
    wrist = builtin_protocols()["wrist_movements"].expand()[0]
    assert wrist.wrist["flexion"] == 60.0 and wrist.target is not None


def test_procedure_runs_prompts_on_planned_times():
    proc = RecordingProcedure(parse_protocol(SMALL))
    assert kinds(proc.start(10.0)) == [EventKind.COUNTDOWN]
    assert proc.state == State.COUNTDOWN
    ev = proc.tick(12.5)  # countdown ended at 12.0, fist rep 0 started at 12.0
    assert kinds(ev) == [EventKind.PROMPT_START] and ev[0].t == 12.0
    assert proc.state == State.PROMPT and proc.current_step.label == "fist"
    ev = proc.tick(100.0)  # one late tick catches up every boundary exactly
    assert proc.state == State.DONE
    got = [(p.label, p.start, p.end, p.repetition) for p in proc.prompts]
    assert got == [("fist", 12.0, 16.0, 0), ("fist", 17.0, 21.0, 1), ("open", 22.0, 25.0, 0)]
    assert ev[-1].kind == EventKind.DONE and ev[-1].t == 25.0
    assert proc.progress(100.0) == 1.0


def test_progress_grows_monotonically():
    proc = RecordingProcedure(parse_protocol(SMALL))
    proc.start(0.0)
    values = []
    for t in [1, 3, 5, 7, 9, 12, 15, 18, 21, 23]:
        proc.tick(float(t))
        values.append(proc.progress(float(t)))
    assert values == sorted(values) and 0 < values[3] < 1
    assert values[0] == 0.0  # countdown is not progress


def test_pause_during_prompt_discards_and_repeats_it():
    proc = RecordingProcedure(parse_protocol(SMALL), resume_countdown_s=1.0)
    proc.start(0.0)
    proc.tick(3.0)  # fist rep 0 from 2.0
    ev = proc.pause(4.0)
    assert kinds(ev) == [EventKind.PROMPT_DISCARDED, EventKind.PAUSED]
    assert proc.state == State.PAUSED
    assert proc.tick(50.0) == [] and proc.state == State.PAUSED  # time passes, nothing happens
    ev = proc.resume(60.0)
    assert kinds(ev) == [EventKind.RESUMED, EventKind.COUNTDOWN]
    proc.tick(61.0)
    assert proc.state == State.PROMPT and proc.current_step.repetition == 0
    proc.tick(65.0)
    assert [(p.start, p.end, p.repetition) for p in proc.prompts] == [(61.0, 65.0, 0)]


def test_pause_during_rest_keeps_time_left():
    proc = RecordingProcedure(parse_protocol(SMALL))
    proc.start(0.0)
    proc.tick(6.5)  # prompt 2..6, rest 6..7
    assert proc.state == State.REST
    proc.pause(6.5)
    assert proc.time_left(6.5) == pytest.approx(0.5)
    proc.resume(20.0)
    assert proc.state == State.REST
    proc.tick(20.6)
    assert proc.state == State.PROMPT and proc.prompts[-1].end == 6.0
    assert proc.prompts[-1].repetition == 0 and proc.current_step.repetition == 1


def test_redo_last_repetition_replaces_it():
    proc = RecordingProcedure(parse_protocol(SMALL), resume_countdown_s=1.0)
    proc.start(0.0)
    proc.tick(6.5)  # fist rep 0 done (2..6), resting
    assert proc.can_redo
    ev = proc.redo_last_repetition(6.5)
    assert ev[0].kind == EventKind.PROMPT_DISCARDED and ev[0].prompt.start == 2.0
    assert proc.prompts == []
    proc.tick(7.5)
    assert proc.state == State.PROMPT and proc.current_step.repetition == 0
    proc.tick(11.5)
    assert [(p.start, p.end, p.repetition) for p in proc.prompts] == [(7.5, 11.5, 0)]
    # redo while the prompt is running discards the partial repetition
    proc.tick(13.0)  # rest 11.5..12.5, fist rep 1 from 12.5
    ev = proc.redo_last_repetition(13.0)
    assert ev[0].kind == EventKind.PROMPT_DISCARDED and ev[0].prompt.repetition == 1
    assert len(proc.prompts) == 1


def test_abort_and_markers():
    proc = RecordingProcedure(parse_protocol(SMALL))
    proc.start(0.0)
    proc.tick(7.5)
    m = proc.add_marker("sneeze", 7.6)
    assert m.prompt.start == m.prompt.end == 7.6 and m.prompt.repetition == -1
    ev = proc.abort(8.0)
    assert kinds(ev) == [EventKind.PROMPT_DISCARDED, EventKind.ABORTED]
    assert proc.state == State.ABORTED and len(proc.prompts) == 1
    assert proc.tick(100.0) == [] and not proc.can_redo
    assert proc.markers[0].label == "sneeze"


def test_valid_share_per_prompt_from_fed_labels():
    proc = RecordingProcedure(parse_protocol(SMALL))
    proc.start(0.0)
    proc.tick(100.0)
    import numpy as np

    t = np.arange(0.0, 26.0, 0.1)
    valid = (t < 7.0) | (t >= 11.0)  # fist rep 1 (7..11) all invalid
    proc.feed_labels(t, valid)
    shares = dict((p.repetition, s) for p, s in proc.valid_share_per_prompt() if p.label == "fist")
    assert shares[0] == 1.0 and shares[1] == 0.0
    assert proc.valid_share_by_label()["fist"] == pytest.approx(0.5, abs=0.02)
    assert proc.valid_share_by_label()["open"] == 1.0


def test_protocol_error_names_file_line_and_key(tmp_path):
    bad = SMALL.replace("duration_s = 3.0", "duration_s = -3.0")
    path = tmp_path / "mine.toml"
    path.write_text(bad)
    with pytest.raises(ConfigError) as err:
        load_protocol(path)
    msg = str(err.value)
    line = bad.splitlines().index("duration_s = -3.0") + 1
    assert str(path) in msg and f"line {line}" in msg and "prompts[1].duration_s" in msg


def test_protocol_unknown_target_and_syntax_error(tmp_path):
    with pytest.raises(ConfigError, match="target pose 'fistt'"):
        parse_protocol(SMALL.replace('target = "fist"', 'target = "fistt"'), "p.toml")
    with pytest.raises(ConfigError, match=r"p\.toml: not valid TOML.*line 4"):
        parse_protocol('name = "x"\n\n[[prompts]]\nlabel = = 3\n', "p.toml")
    with pytest.raises(ConfigError, match="unexpected|Extra inputs"):
        parse_protocol(SMALL.replace("rest_s = 1.0", "rest_s = 1.0\nreps = 3"), "p.toml")


def test_device_check_from_real_quality_flags():

    from asha_app.dsp.filters import FilterSpec, filter_offline
    from asha_app.dsp.quality import assess_channels
    from fixtures.make_fixtures import myo_emg
    from asha_app.protocols import evaluate_device_check

    emg, _ = myo_emg()
    raw = emg[:1000] * 20.0  # real Myo sEMG, counts scaled to a plausible microvolt range
    raw[:, 5] = 3.0  # electrode off the skin: a flat channel
    flags = assess_channels(raw, filter_offline(raw, FilterSpec(200.0, band=(20.0, 90.0))), 200.0)
    result = evaluate_device_check(flags, label_valid_share=0.9)
    assert len(result.warnings) == 1 and result.warnings[0].startswith("EMG channel 6: flat")
    assert "electrode" in result.warnings[0]  # the quality module's advice reaches the user
    assert evaluate_device_check(["ok"] * 8, 0.9).ok


def test_wizard_pages_require_consent_and_acknowledged_warnings():
    wiz = SessionWizard()
    with pytest.raises(WizardInputError, match="consent"):
        wiz.set_participant(pseudonym="P01", arm="right", hand="right", consent_given=False)
    with pytest.raises(WizardInputError, match="pseudonym"):
        wiz.set_participant(pseudonym="Jane Doe", arm="right", hand="right", consent_given=True)
    with pytest.raises(WizardInputError):
        wiz.advance()
    p = wiz.set_participant(pseudonym="P01", arm="right", hand="right", consent_given=True)
    assert p.consent_time is not None
    assert wiz.advance() == Page.DEVICE_CHECK
    check = wiz.set_device_check(["ok"] * 7 + [["flat"]], label_valid_share=0.5)
    assert len(check.warnings) == 2 and "channel 8" in check.warnings[0]
    assert not wiz.can_advance()[0]
    wiz.acknowledge_warnings()
    assert wiz.advance() == Page.PROTOCOL
    wiz.choose_protocol(parse_protocol(SMALL))
    assert wiz.advance() == Page.SESSION
    proc = wiz.start_session()
    proc.start(0.0)
    assert not wiz.can_advance()[0]
    proc.tick(100.0)
    wiz.finish(report={"ok": True})
    assert wiz.page == Page.SUMMARY
    meta = wiz.session_metadata()
    assert meta["participant"]["pseudonym"] == "P01" and meta["app_settings"]["warnings_acknowledged"]


def test_guided_session_end_to_end_into_a_session_file(tmp_path):
    """Wizard -> procedure -> writer, as the Qt pages will drive them; the file's prompts are the procedure's."""
    import numpy as np

    from asha_app.data.integrity import check_session
    from asha_app.data.reader import SessionFile
    from asha_app.data.schema import CameraLabelFrame
    from asha_app.pose.ik import IKResult
    from asha_app.data.writer import SessionWriter

    wiz = SessionWizard()
    wiz.set_participant(pseudonym="P11", arm="right", hand="right", consent_given=True)
    wiz.advance()
    wiz.set_device_check(["ok"] * 8, label_valid_share=0.95)
    wiz.advance()
    wiz.choose_protocol(parse_protocol(SMALL))
    wiz.advance()
    proc = wiz.start_session(resume_countdown_s=1.0)
    writer = SessionWriter(tmp_path / "guided.h5", 8, 500.0, ["index_mcp_flexion"], **wiz.session_metadata())

    def handle(events):
        for ev in events:
            if ev.kind == EventKind.PROMPT_END:
                writer.append_prompt(ev.prompt)
            elif ev.kind == EventKind.PROMPT_DISCARDED:
                writer.append_prompt(ev.prompt, discarded=True)
            elif ev.kind == EventKind.MARKER:
                writer.append_marker(ev.prompt.label, ev.prompt.start)

    handle(proc.start(0.0))
    frame = 0
    for k in range(1, 1500):  # 30 s at 20 ms ticks
        now = k * 0.02
        writer.append_emg(np.arange(k * 10 - 10, k * 10) / 500.0, np.zeros((10, 8)))
        while frame / 25.0 < now:
            ok = not (11.0 <= frame / 25.0 < 12.5)  # hand out of view during the repeated fist
            ik = IKResult.from_labels(np.array([45.0]), np.zeros((21, 3)), np.zeros((21, 3)), 3.0, ok)
            fr = CameraLabelFrame(frame / 25.0, np.zeros((21, 3)), np.zeros((21, 3)), "right", 0.9, ik)
            writer.append_frames([fr])
            proc.feed_labels(fr.t, fr.valid)
            frame += 1
        if k == 400:
            handle(proc.pause(now))
        if k == 450:
            handle(proc.resume(now))
        if k == 500:
            handle([proc.add_marker("sneeze", now)])
        if k == 910:  # 18.2 s: the protocol is done -> redo the last (completed) "open"
            assert proc.state == State.DONE
            handle(proc.redo_last_repetition(now))
        handle(proc.tick(now))
        writer.maybe_flush()
        if proc.finished and k > 910:
            break
    assert proc.state == State.DONE
    wiz.finish(writer.finalize())
    with SessionFile(tmp_path / "guided.h5") as sf:
        stored = [p for p in sf.prompts() if p.repetition >= 0]
        assert [(p.label, p.start, p.end, p.repetition) for p in stored] == [
            (p.label, p.start, p.end, p.repetition) for p in proc.prompts]
        assert any(p.label == "sneeze" for p in sf.prompts())
        history = [p for p in sf.prompts(include_discarded=True) if p.repetition >= 0]
        assert len(history) == len(stored) + 3  # fist cut short + the completed "open" and its discarded copy
        opens = [p for p in stored if p.label == "open"]
        assert len(opens) == 1 and opens[0].start == pytest.approx(19.2)
        assert sf.attrs["participant"]["pseudonym"] == "P11"
    report = check_session(tmp_path / "guided.h5")
    by_label = report.per_label()
    assert by_label["fist"] == pytest.approx(proc.valid_share_by_label()["fist"])
    assert by_label["fist"] < 1.0 and by_label["open"] == 1.0
