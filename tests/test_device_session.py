"""The device registry and the session controller: every source starts one way, built in the acquisition thread,
and every message about the stream reaches one sink."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import QThread

from asha_app.core.clock import SessionClock
from asha_app.core.errors import AshaError
from asha_app.core.settings import AppSettings
from asha_app.devices.registry import DEVICES, DeviceRegistry, DeviceSpec, SourceInfo, UnknownDeviceError
from asha_app.devices.session import Notice
from asha_app.workers.base import WorkerState
from asha_app.workers.session import QtSession
from tests.recording_helpers import write_session

pytestmark = pytest.mark.gui


class ListSink:
    """Stands where the window's banner stands: remembers what was shown, and by whom."""

    def __init__(self) -> None:
        self.shown: list[tuple[str, str, Notice]] = []
        self.current: tuple[object, str] | None = None

    def show(self, message: str, traceback: str = "", *, owner: object = None, notice: Notice = Notice.ERROR) -> None:
        self.shown.append((message, traceback, notice))
        self.current = (owner, message)

    def clear(self, owner: object) -> None:
        if self.current is not None and self.current[0] is owner:
            self.current = None


def _recording_registry(calls: dict) -> DeviceRegistry:
    """The app's own devices, each factory noting the thread it runs in."""

    def recorded(spec: DeviceSpec):
        def factory(params, clock):
            calls[spec.kind] = (threading.get_ident(), QThread.currentThread())
            return spec.factory(params, clock)

        return replace(spec, factory=factory)

    return DeviceRegistry([recorded(s) for s in DEVICES])


def _playback_file(path):
    from mindrove.board_shim import BoardIds, BoardShim
    from mindrove.data_filter import DataFilter

    d = BoardShim.get_board_descr(BoardIds.MINDROVE_WIFI_BOARD)
    n = 2000
    data = np.zeros((d["num_rows"], n))
    data[d["emg_channels"]] = np.random.default_rng(3).normal(0, 30, (8, n))
    data[d["package_num_channel"]] = np.arange(n)
    data[d["timestamp_channel"]] = 1.7e9 + np.arange(n) / 500
    DataFilter.write_file(data, str(path), "w")
    return path


def _lsl_amplifier(stop: threading.Event, fs: float, n_channels: int, name: str):
    """A real LSL outlet on loopback: a 70 Hz sine per channel, in the EMG band (rate, channels unlike the armband)."""
    from asha_app.devices import lsl as L

    st = L.lsl_status(True, "machine")
    if not st.available:
        pytest.skip(st.message)
    pl = L.configure("machine")
    chans = [L.ChannelDesc(f"EMG {i + 1}", "microvolts", "EMG") for i in range(n_channels)]
    outlet = pl.StreamOutlet(L.stream_info(pl, name, "EMG", chans, fs, pl.cf_float32, f"{name}-{time.monotonic_ns()}"))

    def run():
        i, t0 = 0, pl.local_clock()
        while not stop.is_set():
            k = int((pl.local_clock() - t0) * fs) - i
            if k > 0:
                t = (i + np.arange(k)) / fs
                x = 50 * np.sin(2 * np.pi * 70 * t[:, None] + np.arange(n_channels)[None, :]).astype(np.float32)
                outlet.push_chunk(x, (t0 + t).tolist())
                i += k
            time.sleep(0.01)

    th = threading.Thread(target=run, daemon=True)
    th.start()
    return th, outlet


KINDS = ["armband", "synthetic", "file", "demo", "replay", "lsl"]


def test_every_source_is_registered_once_and_the_picker_offers_the_live_ones():
    assert sorted(DEVICES.kinds()) == sorted(KINDS)
    assert [k for k, _ in DEVICES.picker()] == ["armband", "demo", "synthetic", "file", "lsl"]  # replay: the library
    with pytest.raises(ValueError, match="already registered"):
        DEVICES.register(DEVICES.get("demo"))
    from asha_app.ui.main_window import DEVICE_CHOICES

    assert DEVICE_CHOICES == DEVICES.picker()


def test_an_unknown_device_is_a_clear_error(qtbot):
    with pytest.raises(UnknownDeviceError, match=r"Unknown device 'bluetooth-glove'.*armband, demo") as err:
        DEVICES.get("bluetooth-glove")
    assert isinstance(err.value, AshaError)  # a message for the person, shown as it is
    sink = ListSink()
    session = QtSession(AppSettings(), SessionClock(), sink)
    assert session.start("bluetooth-glove") is False
    assert session.worker is None
    assert "Unknown device 'bluetooth-glove'" in sink.shown[-1][0] and sink.shown[-1][1] == ""


def test_a_start_that_cannot_work_is_refused_before_any_thread(qtbot, tmp_path):
    sink = ListSink()
    session = QtSession(AppSettings(), SessionClock(), sink)
    assert session.start("file") is False and "No recording file chosen" in sink.shown[-1][0]
    assert session.start("file", path=str(tmp_path / "gone.tsv")) is False and "gone.tsv" in sink.shown[-1][0]
    assert session.start("replay", path=str(tmp_path / "gone.h5")) is False and "gone.h5" in sink.shown[-1][0]
    assert session.worker is None


def test_the_description_before_starting_reads_no_file():
    from asha_app.core import paths

    req = DEVICES.request("demo", AppSettings())
    assert (req.info.fs, req.info.n_channels, req.info.units, req.info.has_imu) == (500.0, 8, "uV", False)
    assert "Myo" in req.info.description and not req.info.opened
    assert not any(paths.cache_dir().glob("myo_gestures_500hz*"))  # the demo is unpacked by its factory, later
    live_demo = DEVICES.get("file").describe({"path": "/somewhere/demo.tsv", "units": "MiniVIE normalised"})
    assert live_demo.units == "MiniVIE normalised" and live_demo.description == "Recording demo.tsv"


@pytest.mark.parametrize("kind", KINDS)
def test_each_source_starts_through_the_controller_built_in_the_acquisition_thread(qtbot, tmp_path, kind):
    calls: dict = {}
    settings = AppSettings()
    settings.device.armband_ip, settings.device.armband_port, settings.device.armband_timeout_s = "127.0.0.1", 4217, 1.0
    settings.lsl.enabled, settings.lsl.scope = True, "machine"
    sink = ListSink()
    session = QtSession(settings, SessionClock(), sink, registry=_recording_registry(calls))
    opened: list = []
    session.started.connect(opened.append)
    overrides: dict = {}
    stop = threading.Event()
    amp = None
    if kind == "file":
        overrides = {"path": str(_playback_file(tmp_path / "rec.tsv"))}
    elif kind == "replay":
        overrides = {"path": str(write_session(tmp_path / "P05.h5", seconds=4.0))}
    elif kind == "lsl":
        amp = _lsl_amplifier(stop, 250.0, 4, "Session test amp")
        overrides = {"stream": "Session test amp"}
    try:
        assert session.start(kind, **overrides), sink.shown
        worker = session.worker
        assert worker is not None and session.info.kind == kind and not session.info.opened
        if kind == "armband":  # nothing answers at that address: said on the sink, with the demo offered
            qtbot.waitUntil(lambda: any(n == Notice.UNREACHABLE for _, _, n in sink.shown), timeout=10_000)
            assert "No data" in sink.shown[-1][0]
        else:
            qtbot.waitUntil(lambda: bool(opened) and worker.emg_ring.total > 50, timeout=15_000)
            info = session.info
            assert opened == [worker] and info.opened and session.ready
            assert info.kind == kind and info.fs == worker.fs and info.n_channels == worker.n_channels
            assert worker.emg_ring.latest(1).data["raw"].shape[1] == info.n_channels  # the rings fit the source
            if kind == "lsl":  # known only once the stream was found: the rings were made for it
                assert (info.fs, info.n_channels) == (250.0, 4) and "Session test amp" in info.description
            if kind == "replay":
                assert worker.source.n_samples == 2000 and info.units == "uV"
        ident, qthread = calls[kind]
        assert ident != threading.main_thread().ident and qthread is worker  # the factory ran in the worker's thread
        assert session.stop() is True
        assert worker.isFinished() and session.worker is None
        assert worker.state in (WorkerState.FINISHED,) and worker.failure is None
    finally:
        stop.set()
        session.stop()
        if amp is not None:
            amp[0].join(2)


def test_an_unexpected_error_in_a_factory_reaches_the_banner_with_its_traceback(qtbot):
    from asha_app.ui.main_window import MainWindow

    def exploding(_params, _clock):
        raise RuntimeError("driver exploded")

    reg = DeviceRegistry(list(DEVICES))
    reg.register(DeviceSpec("broken", None, exploding, lambda p: SourceInfo("broken", "Broken amplifier", 500.0, 8)))
    win = MainWindow(AppSettings(), SessionClock())
    qtbot.addWidget(win)
    try:
        win.session.controller.registry = reg
        assert win.session.start("broken")
        worker = win.worker
        assert win.source_label.text() == "Broken amplifier" and not win.start_action.isEnabled()
        qtbot.waitUntil(lambda: win.last_error is not None, timeout=5000)
        message, tb = win.last_error
        assert message.startswith("opening the EMG source: an unexpected error occurred "
                                  "(RuntimeError: driver exploded)")
        assert "asha-errors.log" in message and message in win.banner.text.text()
        assert "Traceback (most recent call last)" in tb and "driver exploded" in tb
        qtbot.waitUntil(worker.isFinished, timeout=5000)
        assert worker.state is WorkerState.FAILED and worker.stats().state == "error"
        qtbot.waitUntil(win.start_action.isEnabled, timeout=2000)  # it can be started again
    finally:
        win.shutdown()


def test_a_source_that_does_not_stop_in_time_is_said_so_and_waited_for(qtbot):
    release = threading.Event()

    def stuck(_params, _clock):  # a driver call that ignores the stop request for a while
        release.wait(10)
        raise AshaError("the driver gave up")

    reg = DeviceRegistry([DeviceSpec("stuck", None, stuck, lambda p: SourceInfo("stuck", "Stuck driver", 500.0, 8))])
    sink = ListSink()
    session = QtSession(AppSettings(), SessionClock(), sink, registry=reg)
    stopped = []
    session.stopped.connect(lambda: stopped.append(True))
    assert session.start("stuck")
    worker = session.worker
    qtbot.waitUntil(lambda: worker.state is WorkerState.RUNNING, timeout=5000)
    assert session.stop(timeout_ms=100) is False
    assert "Stuck driver" in sink.shown[-1][0] and "did not stop within 0.1 s" in sink.shown[-1][0]
    assert sink.shown[-1][2] == Notice.WARNING and stopped == [True]
    assert session.worker is None and worker in session.controller.stragglers and worker.isRunning()
    release.set()
    qtbot.waitUntil(lambda: worker not in session.controller.stragglers, timeout=5000)
    assert worker.isFinished()
    assert not any(m == "the driver gave up" for m, _, _ in sink.shown)  # a replaced stream's error is not the user's


def test_the_controller_clears_only_its_own_message(qtbot):
    from asha_app.ui.main_window import MainWindow

    win = MainWindow(AppSettings(), SessionClock())
    qtbot.addWidget(win)
    win.show()
    try:
        win.start_demo()
        qtbot.waitUntil(lambda: win.session.ready, timeout=10_000)
        c = win.session.controller
        c.acquisition_state(win.worker, "reconnecting", "Connection lost 3 s ago; reconnecting (attempt 1).")
        assert win.banner.isVisible() and "Connection lost" in win.banner.text.text()
        c.acquisition_state(win.worker, "streaming")  # back: the notice goes
        assert not win.banner.isVisible()
        win.show_error("the camera is busy")  # someone else's message
        c.acquisition_state(win.worker, "streaming")
        assert win.banner.isVisible() and win.banner.text.text() == "the camera is busy"
    finally:
        win.shutdown()


def test_a_stream_whose_rate_is_known_only_once_open_fills_the_window(qtbot):
    """An LSL amplifier at 250 Hz with 4 channels, picked in the device picker: the rings, the scopes, the levels and
    the status follow the stream found, not the 500 Hz x 8 assumed before it was found."""
    from asha_app.ui.main_window import MainWindow

    stop = threading.Event()
    amp = _lsl_amplifier(stop, 250.0, 4, "Four channel amp")
    s = AppSettings()
    s.device.kind, s.device.lsl_stream = "lsl", "Four channel amp"
    s.lsl.enabled, s.lsl.scope = True, "machine"
    win = MainWindow(s, SessionClock())
    qtbot.addWidget(win)
    opened = []
    win.acquisition_opened.connect(opened.append)
    try:
        assert win.start_acquisition()
        assert "LSL EMG stream 'Four channel amp'" in win.source_label.text()  # what is known before it is found
        qtbot.waitUntil(lambda: bool(opened) and win.scopes.frames_drawn > 3, timeout=15_000)
        assert opened == [win.worker] and win.worker.fs == 250.0 and win.worker.n_channels == 4
        assert win.scopes.ring is win.worker.emg_ring and win.scopes.fs == 250.0
        assert "Four channel amp" in win.source_label.text() and "250 Hz" in win.source_label.text()
        qtbot.waitUntil(lambda: "nominal 250" in win.status_rate.text(), timeout=5000)
        x, y = win.scopes.curves[3].getData()
        assert y is not None and np.ptp(y) > 10  # the 4th channel's sine is drawn
        assert win.scopes.curves[4].getData()[1] is None or len(win.scopes.curves[4].getData()[1]) == 0
    finally:
        stop.set()
        win.shutdown()
        amp[0].join(2)
