"""Calibration as a job for a child process (:class:`asha_app.core.child.ChildJob`); Qt-free."""

from __future__ import annotations

import time
from dataclasses import replace

from asha_app.calibration.procedure import calibrate


def run_calibration(recording, settings, profile_path=None, kwargs: dict | None = None, *, emit, cancelled):
    """:func:`asha_app.calibration.procedure.calibrate` as a job: each event is emitted; returns the result.

    Events are sent as ``("calibration", CalibrationEvent)`` with their ``result`` left out (it is the return
    value) and at most 5 per second except stage changes and the last.
    """
    result, last_t, last_stage = None, 0.0, None
    for ev in calibrate(recording, settings, cancel=cancelled, profile_path=profile_path, **(kwargs or {})):
        now = time.perf_counter()
        if ev.stage == "done":
            result = ev.result
        elif now - last_t < 0.2 and ev.stage == last_stage:
            continue
        last_t, last_stage = now, ev.stage
        emit(("calibration", replace(ev, result=None,
                                     progress=replace(ev.progress, checkpoint=None) if ev.progress else None)))
    return result
