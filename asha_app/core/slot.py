"""A thread-safe "latest value" slot: one producer thread puts, consumers take the newest.

Producers (the camera worker's labels and preview frames, the inference worker's
poses) overwrite the value; consumers (GUI timers, the LSL outlets) read the newest
together with the number of puts so far and skip a value they have seen.  Values
a consumer is too slow for are dropped, never queued.
"""

from __future__ import annotations

import threading
from typing import Any


class LatestSlot:
    """A lock-protected latest value with a put counter.

    Attributes
    ----------
    count : int
        Number of :meth:`put` calls so far (0: nothing yet); grows by one per put.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value: Any = None
        self._count = 0

    @property
    def count(self) -> int:
        """Puts so far."""
        with self._lock:
            return self._count

    def put(self, value: Any) -> None:
        """Replace the value (counts one put)."""
        with self._lock:
            self._value = value
            self._count += 1

    def get(self) -> tuple[int, Any]:
        """``(count, value)``: the number of puts so far and the newest value (None before the first put)."""
        with self._lock:
            return self._count, self._value

    def clear(self) -> None:
        """Forget the value (the count stays, so readers never mistake a later put for one they saw)."""
        with self._lock:
            self._value = None
