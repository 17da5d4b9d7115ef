"""Test configuration: isolated user folders, offscreen Qt, and a check that no worker thread leaks."""

from __future__ import annotations

import gc
import os
from pathlib import Path

import pytest

# LSL traffic of the tests stays on this computer (loopback; liblsl's "machine" scope), whatever Settings say.
os.environ["ASHA_LSL_SCOPE"] = "machine"

# Widgets and pyqtgraph render offscreen; OpenGL tests run under xvfb-run (DISPLAY set, platform xcb).
if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    """Every test gets its own settings/data/cache folders (ASHA_HOME)."""
    monkeypatch.setenv("ASHA_HOME", str(tmp_path / "asha_home"))
    yield


@pytest.fixture(scope="session", autouse=True)
def _garbage_collection_in_the_main_thread():
    """Collect garbage only in the main thread (after each test), never from a worker thread.

    Python's automatic collector runs in whichever thread allocates; when it frees a Qt widget left
    in a reference cycle by an earlier test from a worker thread, PySide deadlocks (seen: an import
    worker stuck in QMenu::~QMenu). The app does the same with pyqtgraph's GarbageCollector.
    """
    gc.disable()
    yield
    gc.enable()


@pytest.fixture(autouse=True)
def _no_worker_left_running(request):
    """Fail a test that leaves an Asha worker thread running (napari does the same for QThreads)."""
    yield
    gc.collect()
    if "qtbot" not in request.fixturenames and "qapp" not in request.fixturenames:
        return
    from asha_app.workers.base import running_workers

    left = running_workers()
    for w in left:
        w.stop(3000)
    assert not left, f"test left worker threads running: {[w.objectName() or type(w).__name__ for w in left]}"


@pytest.fixture(scope="module")
def demo_assets_home(tmp_path_factory):
    """The bundled live-demo assets, unpacked into a module-wide ASHA_HOME that is restored afterwards."""
    from asha_app.inference.live_demo import demo_assets

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ASHA_HOME", str(tmp_path_factory.mktemp("home")))
        yield demo_assets()
