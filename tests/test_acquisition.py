"""Acquisition worker on real SDK boards: rings, session clock, filtering, drops, unreachable armband, reconnect."""

import numpy as np
import pytest
from mindrove.board_shim import BoardIds, BoardShim
from mindrove.data_filter import DataFilter

from asha_app.core.clock import SessionClock
from asha_app.devices.emg import ArmbandSource, DemoSource, PlaybackSource
from asha_app.dsp.filters import FilterSpec, filter_offline
from asha_app.workers.acquisition import AcquisitionWorker

pytestmark = pytest.mark.gui


def _worker(source, **kw):
    return AcquisitionWorker(lambda: source, SessionClock(), source.fs, source.n_channels, **kw)


def test_demo_stream_reaches_the_rings_filtered_like_offline(qtbot):
    source = DemoSource()
    spec = FilterSpec(fs=500.0, notch_hz=50.0)
    w = _worker(source, filter_spec=spec)
    reader = w.emg_ring.reader()
    w.start()
    qtbot.waitUntil(lambda: w.emg_ring.total >= 600, timeout=5000)
    w.stop()
    qtbot.waitUntil(w.isFinished, timeout=5000)
    r = reader.read()
    assert r.lost == 0 and r.n == w.emg_ring.total
    t = r.data["t"][:, 0]
    # session-clock times from the board's timestamps: increasing, ~2 ms apart, near "now"
    assert np.all(np.diff(t) >= 0)
    assert abs(np.median(np.diff(t)) - 0.002) < 0.0005
    assert 0 <= t[0] < 5
    # the streaming filter in the worker equals filtering the same raw samples whole
    np.testing.assert_allclose(r.data["filtered"], filter_offline(r.data["raw"], spec), atol=1e-6)
    pkg = r.data["package"][:, 0]
    assert np.all(np.diff(pkg) == 1)
    s = w.stats()
    assert s.samples == r.n and s.dropped == 0 and s.state == "stopped"
    assert len(s.quality) == 8 and len(s.rms) == 8


def test_unreachable_armband_is_reported_quickly(qtbot):
    w = _worker(ArmbandSource(ip_address="127.0.0.1", ip_port=4210, timeout_s=1.0))
    with qtbot.waitSignal(w.unreachable, timeout=6000) as blocker:
        w.start()
    assert "No data" in blocker.args[0] and "demo" in blocker.args[0]
    qtbot.waitUntil(w.isFinished, timeout=5000)
    assert w.stats().state == "unreachable"


def test_dropout_midstream_reconnects_and_counts_the_gap(qtbot, tmp_path):
    d = BoardShim.get_board_descr(BoardIds.MINDROVE_WIFI_BOARD)
    n = 400  # 0.8 s, no loop: the stream "drops out" when the file ends
    data = np.zeros((d["num_rows"], n))
    data[d["emg_channels"]] = np.random.default_rng(0).normal(0, 30, (8, n))
    data[d["package_num_channel"]] = np.arange(n)
    data[d["timestamp_channel"]] = 1.7e9 + np.arange(n) / 500
    path = tmp_path / "short.tsv"
    DataFilter.write_file(data, str(path), "w")
    source = PlaybackSource(path, loop=False)
    source.no_data_timeout_s = 0.5
    w = _worker(source)
    states = []
    w.state_changed.connect(states.append)
    w.start()
    qtbot.waitUntil(lambda: w.stats().reconnects >= 1 and w.emg_ring.total > n + 50, timeout=8000)
    w.stop()
    qtbot.waitUntil(w.isFinished, timeout=5000)
    s = w.stats()
    assert "reconnecting" in states and states.count("streaming") >= 2
    # the gap (>= 0.5 s of silence at 500 Hz) is counted as dropped samples
    assert s.dropped >= 200 and s.gaps >= 1


def test_nan_samples_do_not_break_the_worker(qtbot, tmp_path):
    d = BoardShim.get_board_descr(BoardIds.MINDROVE_WIFI_BOARD)
    n = 1000
    data = np.zeros((d["num_rows"], n))
    data[d["emg_channels"]] = np.random.default_rng(1).normal(0, 30, (8, n))
    data[d["emg_channels"][2], 100:110] = np.nan
    data[d["package_num_channel"]] = np.arange(n)
    data[d["timestamp_channel"]] = 1.7e9 + np.arange(n) / 500
    path = tmp_path / "nan.tsv"
    DataFilter.write_file(data, str(path), "w")
    w = _worker(PlaybackSource(path, loop=False))
    reader = w.emg_ring.reader()
    w.start()
    qtbot.waitUntil(lambda: w.emg_ring.total >= 400, timeout=5000)
    qtbot.waitUntil(lambda: w.stats().quality != [], timeout=3000)
    w.stop()
    qtbot.waitUntil(w.isFinished, timeout=5000)
    r = reader.read()
    raw = r.data["raw"]
    assert np.isnan(raw[100:110, 2]).all()
    assert np.isfinite(r.data["filtered"][200:, 2]).all()  # the filter state survived the NaNs
