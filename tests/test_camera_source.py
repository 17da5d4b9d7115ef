"""Camera sources: the bundled real video through the VideoCapture path, pacing, looping, stamps, errors."""

import time

import numpy as np
import pytest

from asha_app.core.clock import SessionClock
from asha_app.core.errors import DeviceError
from asha_app.devices.camera import CameraNotFoundError, CameraSource, VideoFileError, demo_video_path, list_cameras


def test_video_file_frames_are_stamped_at_capture_on_the_session_clock():
    clock = SessionClock()
    with CameraSource(demo_video_path(), clock, pace=False) as src:
        assert src.fps == pytest.approx(25.0, abs=0.5)
        frames = []
        while (f := src.read()) is not None:
            frames.append(f)
    assert len(frames) == 202  # the whole file, no frame lost
    assert frames[0].image.shape == (360, 640, 3) and frames[0].image.dtype == np.uint8
    t = np.array([f.t for f in frames])
    assert np.all(np.diff(t) > 0) and 0 <= t[0] <= clock.now()
    assert [f.index for f in frames] == list(range(202))


def test_paced_file_runs_at_file_rate_and_unpaced_faster():
    clock = SessionClock()
    with CameraSource(demo_video_path(), clock, pace=True) as src:
        t = [src.read().t for _ in range(20)]
    rate = 19 / (t[-1] - t[0])
    # never faster than the file's rate; a busy machine may deliver a little slower
    assert 0.7 * 25.0 < rate < 1.1 * 25.0
    with CameraSource(demo_video_path(), clock, pace=True, fps=50.0) as src:
        t = [src.read().t for _ in range(20)]
    assert 0.7 * 50.0 < 19 / (t[-1] - t[0]) < 1.1 * 50.0
    with CameraSource(demo_video_path(), clock, pace=False) as src:
        start = time.perf_counter()
        for _ in range(20):
            src.read()
        assert time.perf_counter() - start < 19 / 25.0  # decoding is faster than the file rate


def test_loop_restarts_and_resize_and_mirror():
    clock = SessionClock()
    with CameraSource(demo_video_path(), clock, pace=False) as plain:
        first = plain.read().image
    with CameraSource(demo_video_path(), clock, pace=False, loop=True, mirror=True, width=320, height=240) as src:
        frames = [src.read() for _ in range(210)]
    assert all(f is not None for f in frames)
    assert frames[0].image.shape == (240, 320, 3)
    assert frames[205].index == 205
    import cv2

    expect = cv2.resize(cv2.flip(first, 1), (320, 240), interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(frames[0].image, expect)
    np.testing.assert_array_equal(frames[202].image, frames[0].image)  # looped to the start


def test_missing_file_is_a_clear_device_error(tmp_path):
    missing = tmp_path / "nope.mp4"
    with pytest.raises(VideoFileError, match="not found") as exc:
        CameraSource(missing, SessionClock()).open()
    assert isinstance(exc.value, DeviceError) and "nope.mp4" in str(exc.value)


def test_undecodable_file_is_a_clear_device_error(tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40)
    with pytest.raises(VideoFileError, match="broken.mp4"):
        CameraSource(bad, SessionClock()).open()


def test_absent_camera_index_and_read_before_open():
    with pytest.raises(CameraNotFoundError, match="no camera at index 97"):
        CameraSource(97, SessionClock()).open()
    with pytest.raises(DeviceError, match="not open"):
        CameraSource(demo_video_path(), SessionClock()).read()


def test_list_cameras_is_quick_and_returns_indices():
    start = time.perf_counter()
    found = list_cameras(max_index=4)
    assert time.perf_counter() - start < 10
    assert all(isinstance(i, int) for i in found)
