"""SessionReplaySource (Qt-free): paced delivery of a real session file, seek, pause, end, labels by time."""

import time

import numpy as np
import pytest

from asha_app.core.errors import RecordingFileError
from asha_app.devices.replay import SessionReplaySource
from tests.recording_helpers import FS, emg_signal, write_session


def _drain(src, seconds):
    out = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        p = src.read()
        if p is not None:
            out.append(p)
        time.sleep(0.01)
    return out


def test_replay_delivers_the_file_in_order_at_its_rate(tmp_path):
    path = write_session(tmp_path / "s.h5", seconds=4.0)
    src = SessionReplaySource(path)
    assert src.fs == FS and src.n_channels == 8 and src.duration == pytest.approx(4.0 - 1 / FS)
    assert src.read() is None  # not started
    src.start()
    t0 = time.monotonic()
    packets = _drain(src, 0.6)
    elapsed = time.monotonic() - t0
    emg = np.concatenate([p.emg for p in packets])
    expected = emg_signal(int(4.0 * FS))
    np.testing.assert_array_equal(emg, expected[: len(emg)])
    assert 0.7 * elapsed * FS < len(emg) <= (elapsed + 0.05) * FS  # real time, not as fast as possible
    board_t = np.concatenate([p.board_t for p in packets])
    np.testing.assert_allclose(np.diff(board_t), 1 / FS, atol=1e-6)  # consecutive, 1/fs apart
    pk = np.concatenate([p.package for p in packets])
    assert np.all(np.diff(pk) == 1)
    assert src.position == pytest.approx(2.0 + (len(emg) - 1) / FS)


def test_seek_pause_end_and_labels(tmp_path):
    path = write_session(tmp_path / "s.h5", seconds=3.0)
    src = SessionReplaySource(path, speed=4.0)
    src.seek(2.0 + 2.5)
    src.start()
    packets = _drain(src, 0.4)
    emg = np.concatenate([p.emg for p in packets])
    expected = emg_signal(int(3.0 * FS))
    np.testing.assert_array_equal(emg, expected[int(2.5 * FS): int(2.5 * FS) + len(emg)])
    assert len(emg) == int(0.5 * FS)  # played to the end, then stopped there
    assert not src.playing and src.read() is None
    src.seek(2.0)
    src.pause()
    assert src.read() is None
    i = src.label_index_at(2.0 + 1.0)
    assert i == 30 and src.valid[i]  # 30 Hz labels; frame 30 at exactly 1.0 s
    assert src.label_index_at(2.0 + 3 / 30.0) == 3 and not src.valid[3]  # every 7th frame (3, 10, ...) invalid
    assert src.label_index_at(1.0) is None  # before the first frame


def test_replay_refuses_a_corrupt_file(tmp_path):
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"not hdf5 at all" * 100)
    with pytest.raises(RecordingFileError, match="not an HDF5 file"):
        SessionReplaySource(bad)
