"""Torch threads from the free cores (asha_app.models.threads)."""

import pytest

from asha_app.models import threads as TH


@pytest.mark.parametrize("free,cpus,reserve,expected", [
    (2.0, 2, 0, 2),     # quiet 2-core machine: both cores
    (0.1, 2, 0, 1),     # both cores busy: one thread, never zero
    (1.9, 2, 1, 1),     # the GUI keeps a core
    (7.5, 16, 0, 7),    # 7.5 idle of 16: 7 threads (a core more than 3/4 idle counts)
    (16.0, 16, 0, 8),   # small models gain nothing beyond 8
    (3.0, 4, 1, 2),
])
def test_training_threads_follow_the_free_cores(monkeypatch, free, cpus, reserve, expected):
    monkeypatch.setattr(TH, "free_cores", lambda interval_s=0.2: free)
    monkeypatch.setattr(TH, "usable_cpus", lambda: list(range(cpus)))
    assert TH.training_threads(reserve=reserve) == expected


def test_free_cores_is_between_zero_and_the_usable_cores():
    n = len(TH.usable_cpus())
    assert n >= 1
    for interval in (0.0, 0.05):
        assert 0.0 <= TH.free_cores(interval) <= n


def test_default_training_threads_of_the_wizard_use_the_free_cores(monkeypatch):
    from asha_app.models.plan import default_threads

    monkeypatch.setattr(TH, "usable_cpus", lambda: list(range(8)))
    monkeypatch.setattr(TH.os, "getloadavg", lambda: (6.0, 6.0, 6.0))  # 2 of 8 cores free
    assert default_threads() == 1
    monkeypatch.setattr(TH.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert default_threads() == 7
