"""ChildJob: long jobs (training, calibration) in a spawned process, progress and result over a pipe."""

from __future__ import annotations

import os

import numpy as np
import pytest

from asha_app.core.child import ChildJob, run_inline


def _collect(job: ChildJob, timeout_s: float = 60.0):
    import time

    events, end = [], time.perf_counter() + timeout_s
    while job.pending:
        assert time.perf_counter() < end, "the child job did not finish"
        events.extend(job.poll(0.1))
    job.terminate()
    return events


def test_events_then_result_from_another_process():
    job = ChildJob("tests.child_targets:count", {"n": 5})
    job.start()
    msgs = _collect(job)
    assert [p for k, p in msgs if k == "event"] == [0, 1, 2, 3, 4]
    kind, res = msgs[-1]
    assert kind == "result" and res["sum"] == 10 and res["pid"] != os.getpid()


def test_tensors_in_the_result_survive_the_child_exiting():
    job = ChildJob("tests.child_targets:tensors", {})
    job.start()
    kind, res = _collect(job)[-1]
    assert kind == "result"
    assert res["t"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0] and np.array_equal(res["a"], [0, 1, 2])


def test_cancel_reaches_the_job():
    job = ChildJob("tests.child_targets:until_cancelled", {})
    job.start()
    import time

    end = time.perf_counter() + 60
    seen = []
    while "started" not in seen:
        assert time.perf_counter() < end
        seen += [p for k, p in job.poll(0.1) if k == "event"]
    job.cancel()
    assert _collect(job)[-1] == ("result", "cancelled")


@pytest.mark.parametrize("target, message, has_traceback", [
    ("refuse", "the data has no labels: record with the camera on", False),  # an AshaError: its own sentence
    ("crash", "ZeroDivisionError: boom", True),  # anything else: one line, and the traceback for the log
    ("die", "ended without a result (exit code 3)", False),  # killed / out of memory: said, not hung
])
def test_failures_come_back_as_one_message(target, message, has_traceback):
    job = ChildJob(f"tests.child_targets:{target}", {})
    job.start()
    kind, (msg, tb) = _collect(job)[-1]
    assert kind == "error" and message in msg
    assert (tb is not None and "ZeroDivisionError" in tb) if has_traceback else tb is None


def test_inline_runs_the_same_target():
    assert run_inline("tests.child_targets:count", {"n": 3})["sum"] == 3
