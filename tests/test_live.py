"""Live inference: streaming worker == batch, decimation by package number, the Live demo in the main window."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import torch

from asha_app.inference.live_demo import DECIMATION, demo_assets
from asha_app.inference.runner import DecimatedRunner
from asha_app.core.ringbuffer import RingBuffer
from asha_app.dsp.filters import filter_offline
from asha_app.models import checkpoint as C

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def assets(demo_assets_home):
    return demo_assets_home


@pytest.fixture(scope="module")
def file_rows(assets):
    """The first 16 s of the bundled 500 Hz playback file: raw EMG rows and package numbers."""
    from mindrove.board_shim import BoardIds, BoardShim
    from mindrove.data_filter import DataFilter

    d = BoardShim.get_board_descr(BoardIds.MINDROVE_WIFI_BOARD)
    data = DataFilter.read_file(str(assets.emg_file))[:, :8000]
    return data[d["emg_channels"]].T.copy(), data[d["package_num_channel"]].copy()


def batch_predict(ckpt, emg50: np.ndarray) -> np.ndarray:
    """Whole-signal batch inference: filter, normalise, one window per sample (ends >= history - 1)."""
    model = ckpt.build_model()
    xn = ckpt.normalizer.emg_recording(filter_offline(emg50, ckpt.filter_spec), ckpt.fs)  # fixed or running
    view = np.lib.stride_tricks.sliding_window_view(xn, model.history, axis=0)
    with torch.no_grad():
        y = model(torch.from_numpy(np.ascontiguousarray(view)))
    return ckpt.normalizer.y_inverse(y.numpy())


def test_decimated_runner_equals_batch_and_restarts_on_loop(assets, file_rows):
    ckpt = C.load(assets.model_path)
    raw, pk = file_rows
    ref = batch_predict(ckpt, raw[::DECIMATION])
    dr = DecimatedRunner(ckpt.runner(), DECIMATION)
    outs = []
    rng = np.random.default_rng(1)
    i = 0
    while i < len(raw):
        n = int(rng.integers(1, 40))
        rows, poses = dr.process(raw[i:i + n], pk[i:i + n])
        outs += [(pk[i + r], p) for r, p in zip(rows, poses)]
        i += n
    got_pk = np.array([o[0] for o in outs])
    assert np.all(got_pk % DECIMATION == 0)
    k = (got_pk // DECIMATION).astype(int) - (ckpt.history - 1)
    np.testing.assert_allclose(np.array([o[1] for o in outs]), ref[k], atol=1e-3)
    # the playback file loops: packages restart at 0 -> a new signal, same outputs again
    rows, poses = dr.process(raw[:2000], pk[:2000])
    assert dr.restarts == 1
    np.testing.assert_allclose(poses, ref[(pk[rows] // DECIMATION).astype(int) - (ckpt.history - 1)], atol=1e-3)


@pytest.mark.gui
def test_inference_worker_streaming_equals_batch(qtbot, assets, file_rows):
    from asha_app.workers.inference import InferenceWorker

    ckpt = C.load(assets.model_path)
    raw, pk = file_rows
    ring = RingBuffer(4096, {"t": 1, "board_t": 1, "raw": 8, "filtered": 8, "package": 1, "marker": 1})
    worker = InferenceWorker(ckpt, ring, decimation=DECIMATION, keep_history=100000)
    worker.start()
    try:
        qtbot.waitUntil(lambda: worker.runner is not None, timeout=10000)  # JIT step traced in the thread

        def feed():  # like the acquisition worker: blocks of 8 samples
            for i in range(0, len(raw), 8):
                sl = slice(i, i + 8)
                n = len(raw[sl])
                ring.write(t=np.arange(i, i + n) / 500.0, board_t=np.zeros(n), raw=raw[sl], filtered=raw[sl],
                           package=pk[sl], marker=np.zeros(n))
                time.sleep(0.002)

        th = threading.Thread(target=feed)
        th.start()
        th.join()
        want = (len(raw) // DECIMATION) - (ckpt.history - 1)
        qtbot.waitUntil(lambda: len(worker.history) >= want, timeout=10000)
    finally:
        worker.stop()
    qtbot.waitUntil(worker.isFinished, timeout=3000)
    hist = list(worker.history)
    ref = batch_predict(ckpt, raw[::DECIMATION])
    k = (np.array([h.package for h in hist]) // DECIMATION).astype(int) - (ckpt.history - 1)
    np.testing.assert_allclose(np.array([h.raw_pose for h in hist]), ref[k], atol=1e-3)
    assert worker._reader.lost_total == 0
    assert len(hist) == want and worker.slot.count <= want
    assert np.all(np.diff([h.t_seen for h in hist]) >= 0)


def _window(qtbot):
    from asha_app.core.clock import SessionClock
    from asha_app.core.settings import AppSettings
    from asha_app.ui import live
    from asha_app.ui.main_window import MainWindow

    w = MainWindow(AppSettings(), SessionClock())
    qtbot.addWidget(w)
    live.install(w)
    return w


@pytest.mark.gui
def test_live_demo_drives_the_hand(qtbot):
    w = _window(qtbot)
    w.show()  # poses count as drawn when the 3D view has painted them
    try:
        assert [a.text() for a in w.menus["live"].actions()][:3] == ["Calibrate…", "Load profile…", "Live demo"]
        assert w.live.start_demo()
        qtbot.waitUntil(lambda: w.live_dock.last_pose is not None, timeout=15000)
        first = w.live_dock.last_pose.copy()
        n0, s0 = w.live.drawn, w.scopes.frames_drawn
        scope_ms = w.draw_timer.interval()
        qtbot.wait(2500)
        assert w.live.drawn > n0 + 40  # >= ~20 poses/s even on a loaded test machine
        # the scopes keep moving: the window's own timer draws them, between the 3D frames (its pacer decides);
        # the live view never rewrites the timer
        assert w.scope_pacer.live and w.scopes.frames_drawn > s0 + 15
        assert w.draw_timer.interval() == scope_ms and w.draw_timer.isActive()
        w.live_dock.scopes_check.setChecked(False)  # pause the scopes, the hand goes on
        s1, n1 = w.scopes.frames_drawn, w.live.drawn
        qtbot.wait(600)
        assert w.scopes.frames_drawn <= s1 + 1 and w.live.drawn > n1 + 5
        w.live_dock.scopes_check.setChecked(True)
        qtbot.waitUntil(lambda: w.scopes.frames_drawn > s1 + 5, timeout=3000)
        assert not np.allclose(w.live_dock.last_pose, first, atol=0.5)
        assert w.live_dock.last_angles is not None and w.live_dock.last_angles.shape[0] > 5
        assert "mm" in w.live_dock.error_mm.text()  # live error vs the recorded reference hand
        st = w.live.stats()
        assert st["latency_p50_ms"] < 200
        assert w.device_kind == "file"  # the demo plays its recording through the playback board
        w.live.stop()
        assert w.worker is None and w.live.worker is None
        assert not w.scope_pacer.live and w.draw_timer.interval() == scope_ms  # every tick draws again
        assert w.device_kind == w.settings.device.kind  # the picker shows the user's device again
    finally:
        w.shutdown()
    from asha_app.workers.base import running_workers

    qtbot.waitUntil(lambda: not running_workers(), timeout=5000)


@pytest.mark.gui
def test_profile_for_another_device_is_refused_clearly(qtbot, tmp_path):
    from asha_app.calibration import profile as P

    w = _window(qtbot)
    try:
        assert w.live.start_demo()
        qtbot.waitUntil(lambda: w.live.mode == "demo", timeout=15000)  # its model loads off the GUI thread
        ck = C.load(demo_assets().model_path)
        p = P.save_profile(P.UserProfile("bob", ck, {"name": "x", "fs": 250.0, "n_channels": 8}),
                           tmp_path / "b.ashaprofile")
        assert w.live.load_profile(p)  # read in the background: refused when it is in
        qtbot.waitUntil(lambda: not w.live.loading, timeout=15000)
        assert "250 Hz" in w.banner.text.text() and "Calibrate" in w.banner.text.text()
        assert w.live.mode == "demo" and w.live.profile is None  # refused: the demo runs on
        assert w.live.load_profile(tmp_path / "none.ashaprofile")
        qtbot.waitUntil(lambda: not w.live.loading, timeout=15000)
        assert "does not exist" in w.banner.text.text() and w.live.profile is None
    finally:
        w.shutdown()


@pytest.mark.gui
def test_live_demo_renders_changing_pixels(qtbot):
    from asha_app.ui.hand_view import HandView

    w = _window(qtbot)
    try:
        if not isinstance(w.hand_view, HandView):
            pytest.skip("no OpenGL 3D view on this display")
        w.show()
        assert w.live.start_demo()
        qtbot.waitUntil(lambda: w.live_dock.last_pose is not None, timeout=15000)
        img1 = w.hand_view.render()
        qtbot.wait(1500)
        img2 = w.hand_view.render()
        assert img1.shape == img2.shape
        assert np.mean(np.any(img1 != img2, axis=-1)) > 0.001
    finally:
        w.shutdown()


@pytest.mark.gui
def test_stop_live_clears_the_hands_and_figures_and_nothing_restarts_by_itself(qtbot, tmp_path):
    """Stop (live demo): the EMG and reference hands, the dock's figures, the source line and the side-by-side
    layout go; the demo's EMG is labelled in its own unit while it runs. Stop (profile): the profile's hand goes,
    the device keeps streaming, and the next start of a device does not bring the profile back silently."""
    from asha_app.calibration import profile as P
    from asha_app.ui.hand_view import HandView
    from asha_app.ui.main_window import NO_SOURCE_TEXT

    w = _window(qtbot)
    w.show()
    try:
        hv = w.hand_view
        has_view = isinstance(hv, HandView)
        assert w.live.start_demo()
        qtbot.waitUntil(lambda: w.live.mode == "demo", timeout=15000)  # its model loads off the GUI thread
        assert "MiniVIE" in w.scopes.unit_label.text() and "µV" not in w.range_spin.suffix()
        qtbot.waitUntil(lambda: w.live_dock.last_pose is not None and w.live_dock.rate.text() != "—", timeout=15000)
        if has_view:
            qtbot.waitUntil(lambda: hv._hands["emg"].has_data and hv._hands["reference"].has_data, timeout=5000)
            assert {"emg", "reference"} <= {e[0] for e in hv.legend_entries()}
        w.live_dock.stop_button.click()
        assert w.worker is None and w.live.worker is None and w.source_label.text() == NO_SOURCE_TEXT
        d = w.live_dock
        assert [d.rate.text(), d.latency.text(), d.error_mm.text(), d.pose_text.text()] == ["—"] * 4
        if has_view:
            assert not hv._hands["emg"].has_data and not hv._hands["reference"].has_data
            assert hv.legend_entries() == [] and w.hands.layout == "overlay"

        ck = C.load(demo_assets().model_path)
        prof = P.save_profile(P.UserProfile("ann", ck,
                                            {"name": "demo", "fs": 500.0, "n_channels": 8, "decimation": 10}),
                              tmp_path / "ann.ashaprofile")
        w.start_demo()
        assert w.live.load_profile(prof)
        qtbot.waitUntil(lambda: w.live.handed > 5, timeout=15000)
        if has_view:
            qtbot.waitUntil(lambda: hv._hands["emg"].has_data, timeout=5000)
        w.live.stop()
        assert w.live.worker is None and w.worker is not None  # the device goes on streaming
        if has_view:
            assert not hv._hands["emg"].has_data
        w.stop_acquisition()
        w.start_demo()
        qtbot.wait(800)
        assert w.live.worker is None and w.live.mode == "idle"  # stopped means stopped
    finally:
        w.shutdown()
