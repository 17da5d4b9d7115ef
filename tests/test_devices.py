"""EMG sources on the real MindRove SDK boards (synthetic, playback, bundled demo) and their errors."""

import time

import numpy as np
import pytest
from mindrove.board_shim import BoardIds, BoardShim
from mindrove.data_filter import DataFilter

from asha_app.core.errors import RecordingFileError
from asha_app.devices.drops import DropCounter
from asha_app.devices.emg import BoardLayout, DemoSource, PlaybackSource, SyntheticSource


def _drain(source, seconds):
    packets = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        p = source.read()
        if p is not None:
            packets.append(p)
        time.sleep(0.015)
    return packets


def _write_recording(path, n=1500, rows=None):
    d = BoardShim.get_board_descr(BoardIds.MINDROVE_WIFI_BOARD)
    data = np.zeros((d["num_rows"], n))
    t = np.arange(n) / 500.0
    for k, r in enumerate(d["emg_channels"]):
        data[r] = 100.0 * np.sin(2 * np.pi * (10 + k) * t) + k
    data[d["package_num_channel"]] = np.arange(n)
    data[d["timestamp_channel"]] = 1.7e9 + t
    data[d["marker_channel"], 250] = 3.0
    DataFilter.write_file(np.ascontiguousarray(data[: rows or d["num_rows"]]), str(path), "w")
    return data, d


def test_layout_comes_from_the_sdk():
    lay = BoardLayout.from_board(BoardIds.MINDROVE_WIFI_BOARD)
    d = BoardShim.get_board_descr(BoardIds.MINDROVE_WIFI_BOARD)
    assert lay.emg_rows == d["emg_channels"][:8] and lay.fs == d["sampling_rate"]
    assert lay.package_row == d["package_num_channel"] and lay.timestamp_row == d["timestamp_channel"]
    syn = BoardLayout.from_board(BoardIds.SYNTHETIC_BOARD)
    assert syn.emg_rows == BoardShim.get_emg_channels(BoardIds.SYNTHETIC_BOARD)[:8]


def test_synthetic_board_streams_at_its_rate():
    src = SyntheticSource()
    src.start()
    try:
        packets = _drain(src, 1.0)
    finally:
        src.stop()
    n = sum(p.n for p in packets)
    assert 150 <= n <= 350  # 250 Hz for ~1 s
    emg = np.vstack([p.emg for p in packets])
    assert emg.shape[1] == 8 and np.all(emg.std(axis=0) > 0)
    assert packets[0].accel is not None and packets[0].accel.shape[1] == 3


def test_playback_replays_file_samples_in_order_with_markers(tmp_path):
    path = tmp_path / "rec.tsv"
    data, d = _write_recording(path)
    src = PlaybackSource(path, loop=False)
    assert src.n_samples == 1500 and src.markers == {250: 3.0}
    src.start()
    try:
        packets = _drain(src, 1.2)
    finally:
        src.stop()
    pkg = np.concatenate([p.package for p in packets]).astype(int)
    emg = np.vstack([p.emg for p in packets])
    marker = np.concatenate([p.marker for p in packets])
    assert len(pkg) > 400 and np.all(np.diff(pkg) == 1) and pkg[0] == 0
    # values come through unchanged, in the EMG rows the SDK names
    np.testing.assert_allclose(emg, data[d["emg_channels"]][:, pkg].T, atol=1e-5)
    assert marker[250] == 3.0 and np.count_nonzero(marker) == 1


def test_playback_file_errors_name_the_file(tmp_path):
    with pytest.raises(RecordingFileError, match="not found.*missing.tsv"):
        PlaybackSource(tmp_path / "missing.tsv")
    wrong = tmp_path / "wrong_rows.tsv"
    _write_recording(wrong, rows=20)
    with pytest.raises(RecordingFileError, match="wrong_rows.tsv has 20 rows per sample.*39"):
        PlaybackSource(wrong)
    garbage = tmp_path / "garbage.tsv"
    garbage.write_text("\t".join(["x"] * 39) + "\n")
    with pytest.raises(RecordingFileError, match="garbage.tsv"):
        PlaybackSource(garbage)
    empty = tmp_path / "empty.tsv"
    empty.write_text("")
    with pytest.raises(RecordingFileError, match="empty"):
        PlaybackSource(empty)


def test_truncated_playback_file_warns_and_plays_complete_samples(tmp_path):
    path = tmp_path / "cut.tsv"
    _write_recording(path, n=600)
    text = path.read_text()
    path.write_text(text[: len(text) - 40])  # cut inside the last line
    src = PlaybackSource(path, loop=False)
    assert src.n_samples == 599
    assert any("truncated" in w and "cut.tsv" in w for w in src.warnings)


def test_demo_is_real_myo_data_at_500hz_with_gesture_markers():
    src = DemoSource()
    assert src.fs == 500 and src.n_channels == 8
    assert "Myo" in src.description and "500 Hz" in src.description
    assert src.meta["original_sampling_rate_hz"] == 200
    # seven gestures, each alternating rest/gesture: marker codes 1 (rest) .. 8 (fist)
    assert set(src.markers.values()) == set(float(c) for c in range(1, 9))
    src.start()
    try:
        packets = _drain(src, 0.6)
    finally:
        src.stop()
    emg = np.vstack([p.emg for p in packets])
    assert emg.shape[0] > 200 and np.all(emg.std(axis=0) > 1.0)


def test_drop_counter_counts_gaps_wraps_and_restarts():
    dc = DropCounter(modulus=256)
    assert dc.update(np.arange(250, 256)) == 0
    assert dc.update(np.array([0, 1, 5, 6])) == 3  # wrap 255 -> 0 is fine; 1 -> 5 loses 3
    assert dc.dropped == 3 and dc.events == [(5, 3)]
    guess = DropCounter()
    guess.update(np.arange(10, 250))
    assert guess.update(np.array([252, 253])) == 2  # 250 and 251 missing
    loop = DropCounter()
    loop.update(np.arange(0, 100))
    assert loop.update(np.arange(0, 10)) == 0 and loop.restarts == 1


def test_armband_busy_port_gets_a_message_saying_what_to_do():
    from asha_app.core.errors import DeviceNotFoundError
    from asha_app.devices.emg import ArmbandSource

    first = ArmbandSource("127.0.0.1", 4212, 1.0)
    first.start()
    try:
        with pytest.raises(DeviceNotFoundError, match="another program"):
            ArmbandSource("127.0.0.1", 4212, 1.0).start()
    finally:
        first.stop()
