"""Job targets for tests/test_child.py (run in a spawned child process)."""

from __future__ import annotations

import os
import time

import numpy as np

from asha_app.core.errors import AshaError


def count(n: int, *, emit, cancelled):
    """Emit 0..n-1, return their sum and the child's pid."""
    for i in range(n):
        emit(i)
    return {"sum": sum(range(n)), "pid": os.getpid()}


def until_cancelled(*, emit, cancelled):
    emit("started")
    while not cancelled():
        time.sleep(0.01)
    return "cancelled"


def refuse(*, emit, cancelled):
    raise AshaError("the data has no labels: record with the camera on")


def crash(*, emit, cancelled):
    raise ZeroDivisionError("boom")


def die(*, emit, cancelled):
    emit("about to die")
    os._exit(3)


def tensors(*, emit, cancelled):
    """A result holding a torch tensor and an array: must reach the parent after the child exits."""
    import torch

    return {"t": torch.arange(5.0), "a": np.arange(3)}
