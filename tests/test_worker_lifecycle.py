"""One worker lifecycle (asha_app.workers.base): states, one error path with its traceback, a stop that is checked."""

from __future__ import annotations

import threading
import time

import pytest

from asha_app.core.errors import DeviceError
from asha_app.workers.base import Worker, WorkerState, running_workers, stop_checked

pytestmark = pytest.mark.gui


class Looping(Worker):
    """Loops until asked to stop, as every streaming worker does."""

    task = "a test loop"

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.cleaned_up = False

    def work(self) -> None:
        self.entered.set()
        try:
            while not self.stop_requested:
                self.msleep(5)
        finally:
            self.cleaned_up = True


class Raising(Worker):
    """Its work raises what it is given (an unexpected error, or an AshaError)."""

    task = "a test job"

    def __init__(self, exc: BaseException) -> None:
        super().__init__()
        self.exc = exc

    def work(self) -> None:
        raise self.exc


class Deaf(Worker):
    """Ignores the stop request for a while (an import, a blocking driver call)."""

    def __init__(self, busy_s: float) -> None:
        super().__init__()
        self.busy_s = busy_s

    def work(self) -> None:
        time.sleep(self.busy_s)


def _errors(worker: Worker) -> list[tuple[str, str]]:
    got: list[tuple[str, str]] = []
    worker.error.connect(lambda message, tb: got.append((message, tb)))
    return got


def test_states_from_idle_to_finished_and_stop_reports_the_thread_ended(qtbot):
    w = Looping()
    assert w.state is WorkerState.IDLE and not w.state.active
    assert w.stop(100)  # nothing started: nothing to wait for, and still IDLE
    assert w.state is WorkerState.IDLE
    errors = _errors(w)
    w.start()
    assert w.state in (WorkerState.STARTING, WorkerState.RUNNING)
    assert w.entered.wait(5)
    assert w.state is WorkerState.RUNNING and w.state.active
    assert w.stop(5000) is True
    assert w.isFinished() and w.cleaned_up
    assert w.state is WorkerState.FINISHED and w.failure is None and errors == []
    assert w.stop(100)  # twice is harmless


def test_an_unexpected_exception_is_reported_with_its_traceback_not_swallowed(qtbot):
    from asha_app.core.crashlog import error_log_path

    w = Raising(ZeroDivisionError("division by zero in the test job"))
    errors = _errors(w)
    with qtbot.waitSignal(w.error, timeout=5000):
        w.start()
    qtbot.waitUntil(w.isFinished, timeout=5000)
    assert w.state is WorkerState.FAILED
    (message, tb), = errors
    # one sentence for the user, naming what failed and where the details are; the traceback travels with it
    assert message.startswith("a test job: an unexpected error occurred (ZeroDivisionError")
    assert str(error_log_path()) in message
    assert "Traceback (most recent call last)" in tb and "ZeroDivisionError" in tb and "in work" in tb
    assert w.failure == message and w.failure_traceback == tb
    assert "ZeroDivisionError: division by zero in the test job" in error_log_path().read_text()


def test_an_asha_error_reaches_the_user_as_written_without_a_traceback(qtbot):
    w = Raising(DeviceError("The armband is switched off. Switch it on and press Start."))
    errors = _errors(w)
    w.start()
    qtbot.waitUntil(w.isFinished, timeout=5000)
    qtbot.waitUntil(lambda: bool(errors), timeout=2000)
    assert errors == [("The armband is switched off. Switch it on and press Start.", "")]
    assert w.state is WorkerState.FAILED


def test_fail_reports_once_and_the_thread_goes_on_to_clean_up(qtbot):
    class Relay(Worker):
        def work(self) -> None:
            self.fail("the child process failed", "Traceback: in the child")
            self.fail("a second message after the first")  # logged, not emitted again
            self.cleaned = True

    w = Relay()
    errors = _errors(w)
    w.start()
    qtbot.waitUntil(w.isFinished, timeout=5000)
    qtbot.waitUntil(lambda: bool(errors), timeout=2000)
    qtbot.wait(50)
    assert errors == [("the child process failed", "Traceback: in the child")]
    assert w.cleaned and w.state is WorkerState.FAILED


def test_a_worker_that_does_not_stop_in_time_is_said_so_and_kept_until_it_ends(qtbot):
    w = Deaf(busy_s=1.0)
    w.start()
    qtbot.waitUntil(lambda: w.state is WorkerState.RUNNING, timeout=5000)
    reported: list[tuple[str, str]] = []
    assert stop_checked(w, "the test worker", 50, lambda m, tb: reported.append((m, tb))) is False
    assert w.state is WorkerState.STOPPING and w.isRunning()
    assert len(reported) == 1 and reported[0][0].startswith("The test worker did not stop within 0.05 s")
    assert w in running_workers()
    w = None  # the caller lets go: the thread must still end normally (a destroyed running QThread aborts)
    qtbot.waitUntil(lambda: not any(isinstance(x, Deaf) for x in running_workers()), timeout=5000)


def test_stop_checked_is_true_for_a_worker_that_stops_and_for_none(qtbot):
    assert stop_checked(None, "nothing")
    w = Looping()
    w.start()
    assert w.entered.wait(5)
    reported = []
    assert stop_checked(w, "the loop", 5000, lambda m, tb: reported.append(m)) and reported == []


def test_every_app_worker_declares_no_error_of_its_own_and_implements_work():
    """The one error path: no worker class redeclares ``error`` or overrides ``run``."""
    import asha_app.ui.camera_panel as camera_panel
    from asha_app.workers import acquisition, camera, export, finetune, inference, lsl, recorder, training

    classes = [acquisition.AcquisitionWorker, camera.CameraWorker, recorder.RecorderWorker, training.TrainingWorker,
               training.WarmUpWorker, finetune.CalibrationWorker, inference.InferenceWorker, export.JobWorker,
               lsl.LslWorker, camera_panel._CameraProbe]
    for cls in classes:
        assert issubclass(cls, Worker), cls
        assert "error" not in vars(cls) and "run" not in vars(cls), cls
        assert "work" in vars(cls), cls


def test_a_started_worker_that_nobody_holds_runs_to_its_end(qtbot):
    """Dropping the last reference to a running worker (a closed dialog's reader) must not destroy its QThread."""
    import gc

    done = threading.Event()

    class Short(Worker):
        def work(self) -> None:
            time.sleep(0.3)
            done.set()

    Short().start()
    gc.collect()  # nothing refers to it here: it must survive until its thread ends
    assert done.wait(5)
    qtbot.waitUntil(lambda: not any(isinstance(w, Short) for w in running_workers()), timeout=5000)
