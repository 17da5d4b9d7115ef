"""Ring buffer: wrap-around, per-reader cursors, fall-behind accounting, consistency of fields."""

import threading

import numpy as np
import pytest

from asha_app.core.ringbuffer import ItemRing, RingBuffer


def _block(start, n, c=2):
    idx = np.arange(start, start + n, dtype=float)
    return {"t": idx / 500.0, "x": np.repeat(idx[:, None], c, axis=1)}


def test_wraparound_keeps_newest_in_order():
    ring = RingBuffer(10, {"t": 1, "x": 2})
    for start in range(0, 37, 3):
        ring.write(**_block(start, 3))
    assert ring.total == 39
    latest = ring.latest(10)
    np.testing.assert_array_equal(latest.data["x"][:, 0], np.arange(29, 39))
    assert latest.start == 29


def test_reader_reads_each_sample_once():
    ring = RingBuffer(16, {"t": 1, "x": 2})
    reader = ring.reader()
    seen = []
    for start in range(0, 100, 5):
        ring.write(**_block(start, 5))
        r = reader.read()
        assert r.lost == 0
        seen.extend(r.data["x"][:, 0].tolist())
    assert seen == list(range(100))
    assert reader.read().n == 0


def test_reader_learns_it_fell_behind():
    ring = RingBuffer(16, {"t": 1, "x": 2})
    slow = ring.reader()
    fast = ring.reader()
    for start in range(0, 40, 8):
        ring.write(**_block(start, 8))
        fast.read()
    r = slow.read()
    assert r.lost == 40 - 16
    np.testing.assert_array_equal(r.data["x"][:, 0], np.arange(24, 40))
    assert slow.lost_total == 24 and fast.lost_total == 0
    assert slow.cursor == 40


def test_max_samples_and_block_bigger_than_capacity():
    ring = RingBuffer(8, {"t": 1, "x": 2})
    reader = ring.reader()
    ring.write(**_block(0, 20))  # only the newest 8 survive
    r = reader.read(max_samples=5)
    assert r.lost == 12 and r.n == 5
    np.testing.assert_array_equal(r.data["x"][:, 0], np.arange(12, 17))
    r = reader.read()
    np.testing.assert_array_equal(r.data["x"][:, 0], np.arange(17, 20))


def test_write_validation():
    ring = RingBuffer(8, {"t": 1, "x": 2})
    with pytest.raises(ValueError, match="fields"):
        ring.write(t=np.zeros(3))
    with pytest.raises(ValueError, match="columns"):
        ring.write(t=np.zeros(3), x=np.zeros((3, 3)))
    with pytest.raises(ValueError, match="same number"):
        ring.write(t=np.zeros(3), x=np.zeros((2, 2)))


def test_concurrent_writer_and_reader_see_consistent_rows():
    ring = RingBuffer(64, {"t": 1, "x": 2})
    reader = ring.reader()
    got = []
    done = threading.Event()

    def writer():
        for start in range(0, 5000, 7):
            ring.write(**_block(start, 7))
        done.set()

    th = threading.Thread(target=writer)
    th.start()
    lost = 0
    while not done.is_set() or reader.available:
        r = reader.read()
        lost += r.lost
        if r.n:
            # time and value columns were written together and must agree
            np.testing.assert_allclose(r.data["t"][:, 0] * 500.0, r.data["x"][:, 0])
            got.append(r.data["x"][:, 0])
    th.join()
    flat = np.concatenate(got)
    assert len(flat) + lost == ring.total
    assert np.all(np.diff(flat) > 0)


def test_item_ring_readers_have_their_own_cursors_and_learn_what_they_lost():
    ring = ItemRing(3)
    early, late = ring.reader(), None
    for i in range(2):
        ring.put(f"label {i}")
    late = ring.reader()  # from the current end: sees only what comes next
    assert early.read() == ["label 0", "label 1"] and early.read() == []
    for i in range(2, 7):
        ring.put(f"label {i}")
    assert len(ring) == 3 and ring.total == 7
    assert late.read(max_items=1) == ["label 4"] and late.lost == 2  # labels 2, 3 were overwritten: lost, counted
    assert late.read() == ["label 5", "label 6"] and late.lost == 0 and late.lost_total == 2
    assert early.read() == ["label 4", "label 5", "label 6"] and early.lost_total == 2  # a reader takes nothing away
    assert ring.reader(from_start=True).read() == ["label 4", "label 5", "label 6"]
    with pytest.raises(ValueError):
        ItemRing(0)


def test_item_ring_concurrent_writer_and_reader_see_every_item_once_or_count_it_lost():
    ring = ItemRing(64)
    reader = ring.reader()
    got = []

    def write():
        for i in range(20000):
            ring.put(i)

    th = threading.Thread(target=write)
    th.start()
    while th.is_alive() or reader.available:
        got += reader.read()
    th.join()
    got += reader.read()
    assert got == sorted(got) and len(got) + reader.lost_total == 20000 and got[-1] == 19999
