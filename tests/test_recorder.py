"""Recorder worker (QThread) with real ring buffers fed by a producer thread."""

import threading
import time

import numpy as np
import pytest

pytest.importorskip("PySide6.QtCore")

from asha_app.core.ringbuffer import ItemRing, RingBuffer
from asha_app.data.reader import SessionFile
from asha_app.data.recording import Prompt
from asha_app.data.schema import CameraLabelFrame
from asha_app.pose.ik import IKResult
from asha_app.data.writer import SessionWriter
from asha_app.workers.recorder import RecorderWorker

C = 8


def _rings():
    emg = RingBuffer(5000, {"t": 1, "raw": C, "filtered": C, "package": 1, "marker": 1})
    imu = RingBuffer(1000, {"t": 1, "accel": 3, "gyro": 3})
    return emg, imu


class Producer(threading.Thread):
    """Plays the acquisition and camera workers: 500 Hz EMG in 10-sample blocks, 50 Hz IMU, 25 fps frames."""

    def __init__(self, emg, imu, frames, skip_packages=(), seconds=1.5):
        super().__init__(daemon=True)
        self.emg, self.imu, self.frames = emg, imu, frames
        self.skip = set(skip_packages)
        self.seconds = seconds
        self.n = 0

    def run(self):
        t0 = time.monotonic()
        frame = 0
        while self.n < self.seconds * 500:
            idx = np.arange(self.n, self.n + 10)
            keep = np.array([i not in self.skip for i in idx])
            i = idx[keep].astype(float)
            raw = i[:, None] + np.arange(C)[None, :] / 10.0
            self.emg.write(t=i / 500.0, raw=raw, filtered=raw, package=i, marker=np.zeros(len(i)))
            self.imu.write(t=np.array([self.n / 500.0]), accel=np.ones((1, 3)), gyro=np.zeros((1, 3)))
            while frame / 25.0 <= self.n / 500.0:
                ik = IKResult.from_labels(np.array([float(frame), 0.0]), np.zeros((21, 3)), np.zeros((21, 3)), 2.0,
                                          frame % 2 == 0)
                self.frames.put(CameraLabelFrame(frame / 25.0, np.zeros((21, 3)), np.zeros((21, 3)), "Right", 0.9, ik))
                frame += 1
            self.n += 10
            delay = t0 + self.n / 500.0 - time.monotonic()
            if delay > 0:
                time.sleep(delay)


@pytest.mark.gui
def test_recorder_writes_everything_and_finalizes(qtbot, tmp_path):
    emg, imu = _rings()
    frames = ItemRing(256)  # the camera worker's labels ring
    path = tmp_path / "rec.h5"
    writer = SessionWriter(path, C, 500.0, ["a", "b"], flush_interval_s=0.5)
    worker = RecorderWorker(writer, emg, imu, frames, poll_ms=20)
    statuses = []
    worker.status.connect(statuses.append)
    errors = []
    worker.error.connect(lambda message, _traceback: errors.append(message))
    worker.start()
    prod = Producer(emg, imu, frames, skip_packages={100, 101, 102})
    prod.start()
    worker.add_prompt(Prompt("fist", 0.2, 0.8, 0))
    worker.add_marker("blink", 0.5)
    qtbot.waitUntil(lambda: not prod.is_alive(), timeout=10_000)  # keeps the event loop running
    qtbot.wait(100)
    assert worker.stop(5000)
    qtbot.waitUntil(worker.isFinished, timeout=5000)
    assert errors == [] and statuses
    with SessionFile(path) as sf:
        assert sf.finalized
        t = sf.emg_t[()]
        raw = sf.emg_raw[()]
        rec = sf.to_recording()
        dropped = sf.dropped()
    expected = np.array([i for i in range(prod.n) if i not in {100, 101, 102}], float)
    np.testing.assert_array_equal(t, expected / 500.0)  # every sample once, in order
    np.testing.assert_allclose(raw[:, 3], expected + 0.3, rtol=1e-6)
    assert list(dropped["n_missing"]) == [3] and worker.summary["dropped_samples"] == 3
    assert rec.extras["imu/t"].shape[0] == prod.n // 10
    assert len(rec.label_t) > 30 and rec.valid[0] and not rec.valid[1]
    np.testing.assert_array_equal(rec.joint_angles[::2, 0], np.arange(0, len(rec.label_t), 2))
    assert [(p.label, p.start) for p in rec.prompts] == [("fist", 0.2), ("blink", 0.5)]


@pytest.mark.gui
def test_recorder_disk_full_emits_error_and_stops(qtbot, tmp_path, monkeypatch):
    emg, imu = _rings()
    path = tmp_path / "full.h5"
    writer = SessionWriter(path, C, 500.0, [], flush_interval_s=0.2)
    worker = RecorderWorker(writer, emg, imu, None, poll_ms=20)
    prod = Producer(emg, imu, ItemRing(10_000), seconds=3.0)
    real = __import__("shutil").disk_usage
    state = {"full": False}

    def usage(p):
        u = real(p)
        return type(u)(u.total, u.total - 10, 10) if state["full"] else u

    monkeypatch.setattr("asha_app.data.disk_space.shutil.disk_usage", usage)
    with qtbot.waitSignal(worker.error, timeout=10_000) as blocker:
        worker.start()
        prod.start()
        qtbot.waitUntil(lambda: writer.counts["emg"] > 200, timeout=5000)
        saved = writer.counts["emg"]
        state["full"] = True
    assert "disk is full" in blocker.args[0] and str(path) in blocker.args[0]
    qtbot.waitUntil(worker.isFinished, timeout=5000)
    prod.join(10)
    with SessionFile(path) as sf:
        assert sf.n_emg >= saved
        np.testing.assert_array_equal(sf.emg_t[:saved], np.arange(saved) / 500.0)


@pytest.mark.gui
def test_recorder_takes_camera_worker_labels(qtbot, tmp_path):
    """The camera worker's own CameraLabel / IKResult objects and its labels ring go straight in."""
    from asha_app.workers.camera import CameraLabel

    emg, imu = _rings()
    labels = ItemRing(64)
    path = tmp_path / "cam.h5"
    writer = SessionWriter(path, C, 500.0, ["a", "b", "c"], flush_interval_s=0.2)
    worker = RecorderWorker(writer, emg, imu, labels, poll_ms=20)
    worker.start()
    rng = np.random.default_rng(3)
    sent = []
    for i in range(10):
        if i == 4:
            ik = IKResult.no_hand(3, "right")
            lab = CameraLabel(i / 30.0, i, None, None, None, 0.0, ik)
        else:
            ik = IKResult(rng.normal(size=3).astype(np.float32) * 20, rng.normal(size=(21, 3)).astype(np.float32),
                          rng.normal(size=(21, 3)).astype(np.float32), np.array([0.1, 0.2, 0.3], np.float32),
                          np.array([1.0, 2.0, 3.0], np.float32), 2.5, np.zeros(21, np.float32), True, "right")
            lab = CameraLabel(i / 30.0, i, rng.uniform(size=(21, 3)).astype(np.float32),
                              rng.normal(size=(21, 3)).astype(np.float32), "right", 0.97, ik)
        labels.put(lab)
        sent.append(lab)
    emg.write(t=np.arange(50) / 500.0, raw=np.ones((50, C)), filtered=np.ones((50, C)), package=np.arange(50.0),
              marker=np.zeros(50))
    qtbot.waitUntil(lambda: writer.counts.get("frames", 0) + writer.pending.get("frames", 0) == 10, timeout=5000)
    assert worker.stop(5000)
    qtbot.waitUntil(worker.isFinished, timeout=5000)
    rec = read_recording_safe(path)
    assert list(rec.valid) == [i != 4 for i in range(10)]
    np.testing.assert_allclose(rec.joints_mm[0], sent[0].ik.joints_hand_mm, rtol=1e-6)
    np.testing.assert_allclose(rec.extras["labels/global_rot"][0], [0.1, 0.2, 0.3], rtol=1e-6)
    assert np.isnan(rec.joint_angles[4]).all()
    with SessionFile(path) as sf:
        assert sf.dataset("camera/handedness")[0] == b"right" and sf.dataset("camera/handedness")[4] == b""


def read_recording_safe(path):
    with SessionFile(path) as sf:
        return sf.to_recording()


@pytest.mark.gui
def test_recorder_follows_a_camera_started_again_while_recording(qtbot, tmp_path):
    """set_labels: what the first camera's ring still holds is written, then the new camera's labels; labels put
    before the recorder started (or before the switch) on the new ring are not part of the session."""
    emg, imu = _rings()
    first, second = ItemRing(64), ItemRing(64)
    first.put(CameraLabelFrame(0.0, None, None, "", 0.0, None))  # before the start: not recorded
    path = tmp_path / "switch.h5"
    writer = SessionWriter(path, C, 500.0, ["a", "b"], flush_interval_s=0.2)
    worker = RecorderWorker(writer, emg, imu, first, poll_ms=20)
    worker.start()

    def frame(t):
        return CameraLabelFrame(t, np.zeros((21, 3)), np.zeros((21, 3)), "Right", 0.9,
                                IKResult.from_labels(np.array([t, 0.0]), np.zeros((21, 3)), np.zeros((21, 3)), 2.0,
                                                     True))

    for t in (0.1, 0.2, 0.3):  # the recorder may or may not have read these when the switch comes: written either way
        first.put(frame(t))
    second.put(frame(9.0))  # the new camera labelled before the switch: not part of the session
    worker.set_labels(second)
    for t in (0.4, 0.5):
        second.put(frame(t))
    qtbot.waitUntil(lambda: writer.counts.get("frames", 0) + writer.pending.get("frames", 0) >= 4, timeout=5000)
    assert worker.stop(5000)
    qtbot.waitUntil(worker.isFinished, timeout=5000)
    rec = read_recording_safe(path)
    np.testing.assert_allclose(rec.label_t, [0.1, 0.2, 0.3, 0.4, 0.5])
