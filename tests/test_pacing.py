"""The scope pacer (Qt-free): while the live hand runs, the scopes redraw in the quiet stretch between hand frames."""

from __future__ import annotations

import numpy as np

from asha_app.ui.pacing import FALLBACK_S, IDLE_SCOPE_HZ, LIVE_SCOPE_HZ, TICK_S, ScopePacer


def _live_pacer(period=0.020, busy=0.005, cost=0.005, frames=10):
    p = ScopePacer()
    p.start_live()
    for i in range(frames):
        p.hand_frame(1.0 + i * period, busy)
    last = 1.0 + (frames - 1) * period  # the last hand frame
    p.scopes_drawn(last - 0.1, cost)  # 100 ms before it: more than 1/20 s, less than the fallback
    return p, last


def test_without_a_live_hand_the_scopes_draw_at_their_own_rate():
    p = ScopePacer()
    assert p.scopes_due(0.0) and p.allows_scopes()
    p.scopes_drawn(0.0, 0.004)
    ticks = [i * TICK_S for i in range(1, 41)]  # 0.2 s of the window's draw timer
    drawn = []
    for t in ticks:
        if p.scopes_due(t):
            p.scopes_drawn(t, 0.004)
            drawn.append(t)
    assert len(drawn) == round(0.2 * IDLE_SCOPE_HZ)  # 40 Hz, evenly
    p.scopes_while_live = False  # only matters while live
    assert p.scopes_due(1.0)


def test_live_scopes_wait_for_the_quiet_stretch_after_a_hand_frame():
    p, last = _live_pacer(period=0.020, busy=0.005, cost=0.005)
    assert abs(p.pose_period_s - 0.020) < 1e-9
    assert p.scopes_due(last + 0.002)  # just after a frame: 2 + 5 ms of scopes end before the next pose (15 ms)
    assert not p.scopes_due(last + 0.012)  # 12 + 5 ms would run into the next pose
    p.scopes_drawn(last + 0.002, 0.005)
    p.hand_frame(last + 0.020, 0.005)
    assert not p.scopes_due(last + 0.021)  # quiet, but the scopes were drawn less than 1/20 s ago
    p.hand_frame(last + 0.040, 0.005)
    p.hand_frame(last + 0.060, 0.005)
    assert p.scopes_due(last + 0.061)  # 59 ms later, quiet again
    assert 1.0 / LIVE_SCOPE_HZ < 0.059


def test_live_scopes_fall_back_to_a_slow_rate_without_hand_frames_and_stop_when_paused():
    p, last = _live_pacer()
    assert p.scopes_due(last + 0.001)  # the first tick after the last hand frame
    p.scopes_drawn(last + 0.001, 0.005)
    t = last + 0.5  # no hand frame for 0.5 s (the 3D dock is closed)
    assert not p.scopes_due(last + 0.1)
    assert p.scopes_due(last + 0.001 + FALLBACK_S)
    p.scopes_while_live = False
    assert not p.scopes_due(t) and not p.allows_scopes()
    p.stop_live()
    assert p.scopes_due(t) and p.allows_scopes()


def test_scopes_slower_than_the_gap_between_poses_draw_right_after_a_hand_frame():
    p, last = _live_pacer(period=0.020, busy=0.012, cost=0.015)  # a slow display: never quiet long enough
    assert p.scopes_due(last + 3 * TICK_S)  # the first tick after a frame, however late a busy loop delivers it
    assert not p.scopes_due(last + 4 * TICK_S)  # a later one in the gap: it would delay the next pose
    assert p.scopes_due(last - 0.1 + FALLBACK_S)  # and the scopes never freeze while the user lets them move


def test_live_scopes_come_after_hand_frames_at_twenty_per_second_on_average():
    """Hand frames every 20 ms (50 poses/s): every scope frame starts on the first tick after a hand frame, 40 or
    60 ms apart, 20 a second on average."""
    p = ScopePacer()
    p.start_live()
    drawn, frames = [], []
    t, next_frame = 0.0, 0.0
    while t < 2.0:
        if t >= next_frame - 1e-9:
            p.hand_frame(t, 0.006)
            frames.append(t)
            next_frame += 0.020
        if p.scopes_due(t):
            p.scopes_drawn(t, 0.008)
            drawn.append(t)
        t = round(t + TICK_S, 6)
    gaps = np.diff(drawn[5:])
    assert abs(len(drawn) / 2.0 - LIVE_SCOPE_HZ) <= 1.5
    assert gaps.min() >= 0.04 - 1e-9 and gaps.max() <= 0.06 + 1e-9
    for d in drawn[1:]:  # on the tick of a hand frame, or where the 8 ms scope frame ends before the next pose
        since = d - max(f for f in frames if f <= d + 1e-9)
        assert since < 1e-9 or since + 0.008 <= 0.020 - 0.006 + 1e-9
