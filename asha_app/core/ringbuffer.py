"""Bounded, thread-safe ring buffer with a monotonically increasing sample counter.

One writer (the acquisition worker) appends blocks of samples; any number of
readers (scopes, recorder, inference) each keep their own :class:`RingReader`
cursor.  Because the counter never wraps, a reader always knows exactly which
samples it has seen and learns how many it lost when it fell more than
``capacity`` samples behind.  The idea follows LibEMG's shared ``emg_count``;
the storage is preallocated once, so writing allocates nothing per packet.

Several named fields (for example ``t``, ``raw`` and ``filtered``) share one
counter and one lock, so a reader gets samples and their timestamps together.

:class:`ItemRing` does the same for Python objects (the camera worker's labels):
the recorder and the GUI's displays each read it with their own
:class:`ItemReader`, as they read the EMG ring.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ReadResult:
    """What a reader got from one :meth:`RingReader.read` call.

    Attributes
    ----------
    data : dict[str, numpy.ndarray]
        One array per field, shape ``(n, width)``.
    start : int
        Sample counter of the first returned sample.
    lost : int
        Samples that were overwritten before this reader got to them (0 when
        the reader kept up).
    """

    data: dict[str, np.ndarray]
    start: int
    lost: int

    @property
    def n(self) -> int:
        """Number of samples returned."""
        first = next(iter(self.data.values()))
        return int(first.shape[0])


class RingBuffer:
    """Fixed-capacity multi-field ring buffer.

    Parameters
    ----------
    capacity : int
        Samples kept per field (the newest ``capacity`` samples).
    fields : dict[str, int]
        Field name to number of columns, e.g. ``{"t": 1, "raw": 8}``.
    dtype : numpy dtype, optional
        Storage type of every field (default float64, so that session times in
        seconds keep microsecond resolution for days).

    Raises
    ------
    ValueError
        If ``capacity`` is not positive or ``fields`` is empty.
    """

    def __init__(self, capacity: int, fields: dict[str, int], dtype=np.float64) -> None:
        if capacity <= 0:
            raise ValueError(f"capacity must be positive, got {capacity}")
        if not fields:
            raise ValueError("a ring buffer needs at least one field")
        self.capacity = int(capacity)
        self.fields = dict(fields)
        self._store = {name: np.zeros((self.capacity, width), dtype=dtype) for name, width in fields.items()}
        self._total = 0
        self._lock = threading.Lock()

    @property
    def total(self) -> int:
        """Samples written since creation (or the last :meth:`clear`); never decreases otherwise."""
        return self._total

    def clear(self) -> None:
        """Forget all samples and restart the counter at 0 (a new stream)."""
        with self._lock:
            self._total = 0

    def write(self, **blocks: np.ndarray) -> int:
        """Append one block of samples to every field.

        Parameters
        ----------
        **blocks : numpy.ndarray
            One array per field, shape ``(n, width)`` (or ``(n,)`` for width 1);
            every field must be given, with the same ``n``.

        Returns
        -------
        int
            The counter after the write.

        Raises
        ------
        ValueError
            If a field is missing or unknown, or the blocks differ in length or width.
        """
        if set(blocks) != set(self.fields):
            raise ValueError(f"write needs exactly the fields {sorted(self.fields)}, got {sorted(blocks)}")
        arrays = {}
        n = None
        for name, block in blocks.items():
            arr = np.asarray(block)
            if arr.ndim == 1:
                arr = arr[:, None]
            if arr.shape[1] != self.fields[name]:
                raise ValueError(f"field {name!r} has {self.fields[name]} columns, block has {arr.shape[1]}")
            if n is None:
                n = arr.shape[0]
            elif arr.shape[0] != n:
                raise ValueError("all fields of one write must have the same number of samples")
            arrays[name] = arr
        assert n is not None
        if n == 0:
            return self._total
        with self._lock:
            keep = min(n, self.capacity)
            start = (self._total + n - keep) % self.capacity
            first = min(keep, self.capacity - start)
            for name, arr in arrays.items():
                store = self._store[name]
                src = arr[n - keep :]
                store[start : start + first] = src[:first]
                if first < keep:
                    store[: keep - first] = src[first:]
            self._total += n
            return self._total

    def _copy_range(self, begin: int, end: int) -> dict[str, np.ndarray]:
        # caller holds the lock; begin..end are absolute counters within the kept window
        n = end - begin
        start = begin % self.capacity
        first = min(n, self.capacity - start)
        out = {}
        for name, store in self._store.items():
            block = np.empty((n, store.shape[1]), dtype=store.dtype)
            block[:first] = store[start : start + first]
            if first < n:
                block[first:] = store[: n - first]
            out[name] = block
        return out

    def read_range(self, begin: int, end: int) -> ReadResult:
        """Copy samples with counters ``begin <= i < end``, clipped to what is still kept.

        ``lost`` counts the requested samples that were already overwritten.
        """
        with self._lock:
            end = min(end, self._total)
            oldest = max(0, self._total - self.capacity)
            lost = max(0, oldest - begin)
            begin = max(begin, oldest)
            if end < begin:
                end = begin
            return ReadResult(self._copy_range(begin, end), begin, lost)

    def latest(self, n: int) -> ReadResult:
        """Copy the newest ``min(n, available)`` samples (for scopes that redraw a window)."""
        with self._lock:
            n = max(0, min(n, self._total, self.capacity))
            return ReadResult(self._copy_range(self._total - n, self._total), self._total - n, 0)

    def reader(self, from_start: bool = False) -> RingReader:
        """A new cursor at the current end (or at the oldest kept sample)."""
        return RingReader(self, from_start=from_start)


class RingReader:
    """One consumer's cursor into a :class:`RingBuffer`.

    Parameters
    ----------
    ring : RingBuffer
        Buffer to read.
    from_start : bool
        Start at the oldest kept sample instead of the newest.
    """

    def __init__(self, ring: RingBuffer, from_start: bool = False) -> None:
        self.ring = ring
        self.cursor = max(0, ring.total - ring.capacity) if from_start else ring.total
        self.lost_total = 0

    @property
    def available(self) -> int:
        """Samples written that this reader has not read yet (may exceed capacity)."""
        return self.ring.total - self.cursor

    def read(self, max_samples: int | None = None) -> ReadResult:
        """Return the samples written since the last read and advance the cursor.

        Parameters
        ----------
        max_samples : int, optional
            Return at most this many (oldest first); the rest stays for the next call.
        """
        ring = self.ring
        with ring._lock:  # noqa: SLF001 - the ring's own reader
            total = ring._total  # noqa: SLF001 - the ring's own reader
            oldest = max(0, total - ring.capacity)
            begin = max(self.cursor, oldest)
            end = total if max_samples is None else min(total, begin + max_samples)
            result = ReadResult(ring._copy_range(begin, end), begin, begin - self.cursor)  # noqa: SLF001 - the ring's own reader
        self.lost_total += result.lost
        self.cursor = result.start + result.n
        return result

    def reset_to_end(self) -> None:
        """Skip everything written so far (e.g. after a pause)."""
        self.cursor = self.ring.total


class ItemRing:
    """Bounded, thread-safe ring of Python objects (e.g. camera labels) with a never-wrapping item counter.

    The object counterpart of :class:`RingBuffer`: one writer puts items, any
    number of readers (the recorder, the GUI's displays) each keep their own
    :class:`ItemReader` cursor and learn how many items they lost when they fell
    more than ``capacity`` items behind.  No reader takes items away from another.

    Parameters
    ----------
    capacity : int
        Items kept (the newest ``capacity``).

    Raises
    ------
    ValueError
        If ``capacity`` is not positive.
    """

    def __init__(self, capacity: int) -> None:
        if capacity <= 0:
            raise ValueError(f"capacity must be positive, got {capacity}")
        self.capacity = int(capacity)
        self._items: list = [None] * self.capacity
        self._total = 0
        self._lock = threading.Lock()

    @property
    def total(self) -> int:
        """Items put since creation; never decreases."""
        with self._lock:
            return self._total

    def __len__(self) -> int:
        """Items held now (at most ``capacity``)."""
        with self._lock:
            return min(self._total, self.capacity)

    def put(self, item) -> int:
        """Append one item (the oldest is overwritten when full); returns the new total."""
        with self._lock:
            self._items[self._total % self.capacity] = item
            self._total += 1
            return self._total

    def reader(self, from_start: bool = False) -> ItemReader:
        """A new cursor at the current end (or at the oldest item still held)."""
        return ItemReader(self, from_start=from_start)

    def _read(self, cursor: int, max_items: int | None) -> tuple[list, int, int]:
        with self._lock:
            oldest = max(0, self._total - self.capacity)
            begin = max(cursor, oldest)
            end = self._total if max_items is None else min(self._total, begin + max_items)
            items = [self._items[i % self.capacity] for i in range(begin, end)]
            return items, begin - cursor, end


class ItemReader:
    """One consumer's cursor into an :class:`ItemRing`.

    Parameters
    ----------
    ring : ItemRing
    from_start : bool
        Start at the oldest item held (anything older counts as lost) instead of the newest.

    Attributes
    ----------
    lost : int
        Items overwritten before the last :meth:`read` got to them.
    lost_total : int
        The same, summed over every read.
    """

    def __init__(self, ring: ItemRing, from_start: bool = False) -> None:
        self.ring = ring
        self.cursor = 0 if from_start else ring.total
        self.lost = 0
        self.lost_total = 0

    @property
    def available(self) -> int:
        """Items put that this reader has not read yet (may exceed capacity)."""
        return self.ring.total - self.cursor

    def read(self, max_items: int | None = None) -> list:
        """The items put since the last read, oldest first (at most ``max_items``); advances the cursor."""
        items, self.lost, self.cursor = self.ring._read(self.cursor, max_items)  # noqa: SLF001 - the ring's own reader
        self.lost_total += self.lost
        return items

    def reset_to_end(self) -> None:
        """Skip everything put so far."""
        self.cursor = self.ring.total
