"""Camera worker and panel on the bundled real video (pytest-qt, offscreen); no thread may be left running."""

import numpy as np
import pytest

from asha_app.core.clock import SessionClock
from asha_app.devices.camera import CameraSource, demo_video_path
from asha_app.workers.camera import CameraLabel, CameraWorker, stack_labels

pytestmark = pytest.mark.gui


def test_worker_labels_the_bundled_video(qtbot):
    clock = SessionClock()
    worker = CameraWorker(CameraSource(demo_video_path(), clock, pace=False), max_frames=60, queue_size=40)
    errors = []
    worker.error.connect(lambda message, _traceback: errors.append(message))
    t_start = clock.now()
    reader = worker.labels.reader()
    worker.start()
    qtbot.waitUntil(worker.isFinished, timeout=60000)
    assert not errors
    snap = worker.snapshot()
    assert snap["captured"] == 60 and snap["skipped"] == 0
    assert snap["labelled"] >= 50  # the real hand is visible in (almost) every frame
    labels = reader.read()
    assert len(labels) == 40 and reader.lost_total == 20  # the bounded ring overwrote the oldest
    assert [lab.frame_index for lab in labels] == list(range(20, 60))
    t = np.array([lab.t for lab in labels])
    assert np.all(np.diff(t) > 0) and t[0] >= t_start
    good = [lab for lab in labels if lab.valid]
    assert good and all(isinstance(lab, CameraLabel) for lab in good)
    lab = good[-1]
    assert lab.handedness == "right" and lab.confidence > 0.5
    assert lab.ik.joints_hand_mm.shape == (21, 3) and np.all(np.isfinite(lab.ik.angles_deg))
    assert np.median([g.ik.fit_error_mm for g in good]) < 12.0
    _, latest = worker.latest.get()
    assert latest.frame_index == 59
    arrays = stack_labels(labels)
    assert arrays["joint_angles"].shape == (40, 22) and arrays["joints_mm"].shape == (40, 21, 3)
    np.testing.assert_array_equal(arrays["valid"], [lab.valid for lab in labels])
    np.testing.assert_array_equal(arrays["label_t"], t)
    _, prev = worker.preview.get()
    assert prev.rgb.shape[1] <= 480 and prev.rgb.dtype == np.uint8


def test_paced_worker_stops_on_request(qtbot):
    worker = CameraWorker(CameraSource(demo_video_path(), SessionClock(), pace=True, loop=True))
    worker.start()
    qtbot.waitUntil(lambda: worker.latest.get()[0] >= 5, timeout=30000)
    assert worker.stop(5000)
    qtbot.waitUntil(worker.isFinished, timeout=5000)


def test_worker_reports_a_missing_file(qtbot, tmp_path):
    worker = CameraWorker(CameraSource(tmp_path / "gone.mp4", SessionClock()))
    with qtbot.waitSignal(worker.error, timeout=10000) as blocker:
        worker.start()
    qtbot.waitUntil(worker.isFinished, timeout=10000)
    assert "gone.mp4" in blocker.args[0]


def test_camera_panel_runs_the_demo(qtbot):
    from asha_app.pose.scene import HandScene
    from asha_app.ui.camera_panel import CameraPanel

    panel = CameraPanel(SessionClock(), probe_cameras=False)
    qtbot.addWidget(panel)
    items = [panel.picker.itemText(i) for i in range(panel.picker.count())]
    assert "Demo video" in items and "Video file..." in items
    hands = HandScene()  # what the 3D view observes: the panel shows each new label in slot "camera"
    changes = []
    hands.connect(changes.append)
    panel.hands = hands
    with qtbot.waitSignal(panel.label_ready, timeout=30000):
        panel.start("demo")
    qtbot.waitUntil(lambda: panel.preview.pixmap() is not None and not panel.preview.pixmap().isNull(), timeout=10000)
    qtbot.waitUntil(lambda: hands["camera"].has_data, timeout=10000)
    assert hands["camera"].pose.joints_mm.shape == (21, 3) and any("camera" in c.slots for c in changes)
    assert "mm" in panel.fit_label.text()
    panel.stop()
    qtbot.waitUntil(panel.worker.isFinished, timeout=10000)
    qtbot.waitUntil(lambda: panel.start_button.text() == "Start", timeout=5000)


def test_worker_fits_mano_when_given_a_mano_hand(qtbot, tmp_path):
    from asha_app.pose.mano import ManoHand
    from tests.mano_fake import fake_mano_arrays

    mano = ManoHand(fake_mano_arrays(), "right", "generated")
    worker = CameraWorker(CameraSource(demo_video_path(), SessionClock(), pace=False), max_frames=20, mano=mano,
                          mano_hz=1000.0)
    worker.start()
    qtbot.waitUntil(worker.isFinished, timeout=60000)
    labels = [lab for lab in worker.labels.reader(from_start=True).read() if lab.valid]
    with_mesh = [lab for lab in labels if lab.mano_vertices_mm is not None]
    assert with_mesh, "no MANO fit ran"
    lab = with_mesh[-1]
    assert lab.mano_vertices_mm.shape == (778, 3) and np.isfinite(lab.mano_fit_error_mm)
    # the mesh lies in the hand frame of the IK fit, around the fitted skeleton
    centre = lab.ik.joints_hand_mm.mean(0)
    assert np.linalg.norm(lab.mano_vertices_mm.mean(0) - centre) < 80


def test_panel_reports_a_bad_mano_file_and_keeps_the_builtin_hand(qtbot, tmp_path):
    from asha_app.ui.camera_panel import CameraPanel

    bad = tmp_path / "MANO_RIGHT.pkl"
    bad.write_bytes(b"garbage")
    panel = CameraPanel(SessionClock(), probe_cameras=False)
    qtbot.addWidget(panel)
    panel.mano_path = str(bad)
    with qtbot.waitSignal(panel.error, timeout=10000) as blocker:
        panel.start("demo")
    assert "MANO_RIGHT.pkl" in blocker.args[0] and "built-in" in blocker.args[0]
    assert panel.worker.mano is None
    panel.stop()
    qtbot.waitUntil(panel.worker.isFinished, timeout=10000)


def test_find_cameras_probes_off_the_gui_thread(qtbot, monkeypatch):
    """'Find cameras' runs the probe in a worker: the panel stays responsive, then the picker is refilled."""
    import threading
    import time

    from PySide6.QtCore import QTimer

    from asha_app.ui import camera_panel as CP

    real = CP.list_cameras
    seen = {}

    def slow_driver(*a, **k):  # a camera driver that takes its time to answer, as some do
        seen["thread"] = threading.current_thread() is threading.main_thread()
        time.sleep(0.6)
        return real(*a, **k) + [7]

    monkeypatch.setattr(CP, "list_cameras", slow_driver)
    panel = CP.CameraPanel(SessionClock(), probe_cameras=False)
    qtbot.addWidget(panel)
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(10)
    panel.refresh_sources()
    assert not panel.refresh_button.isEnabled() and "Looking" in panel.refresh_button.text()
    qtbot.waitUntil(lambda: panel.refresh_button.isEnabled(), timeout=10_000)
    timer.stop()
    assert seen["thread"] is False  # probed in the worker thread
    labels = [panel.picker.itemText(i) for i in range(panel.picker.count())]
    assert labels[-3:] == ["Camera 7", "Demo video", "Video file..."]
    assert len(ticks) > 20 and np.max(np.diff(ticks)) < 0.3  # the GUI ticked on while the probe waited
    panel.stop()
