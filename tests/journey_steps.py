"""The clinician's journey through the real app, step by step, shared by the journey test and ``benchmarks/journey.py``.

New recording (built-in "Quick tour" protocol, demo EMG + demo video) -> Model → Train or fine-tune… with the
wizard's defaults -> Live → Calibrate… (Record now) -> Use this profile -> the live hand moves -> Stop.

Every step is driven through the menus and buttons a person uses, on the app's own composition
(:func:`asha_app.app.create_window`), and records whether it reached the result a person sees.
Needs a QApplication; no pytest (the benchmark runs it headless).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from asha_app.core.errors import AshaError


class JourneyError(AssertionError):
    """A step did not reach its user-visible result (the message says which and what was seen)."""


@dataclass
class Step:
    """One step's outcome: wall time (s), whether it reached its result, and what was seen."""

    name: str
    wall_s: float = 0.0
    reached: bool = False
    detail: dict = field(default_factory=dict)


def wait_until(cond: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Run the Qt event loop until ``cond()`` is true; :class:`JourneyError` naming ``what`` after ``timeout_s``."""
    from PySide6.QtCore import QCoreApplication, QEventLoop

    end = time.perf_counter() + timeout_s
    while not cond():
        if time.perf_counter() > end:
            raise JourneyError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        time.sleep(0.005)


def pump(seconds: float) -> None:
    """Run the event loop for ``seconds``."""
    end = time.perf_counter() + seconds
    wait_until(lambda: time.perf_counter() >= end, seconds + 5, "time to pass")


def menu_action(window, menu: str, text: str):
    """The action of ``window.menus[menu]`` whose text is ``text`` (as a person finds it in the menu bar)."""
    for act in window.menus[menu].actions():
        if act.text() == text:
            return act
    raise JourneyError(f"menu {menu!r} has no {text!r}: {[a.text() for a in window.menus[menu].actions()]}")


def check(cond: bool, message: str) -> None:
    if not cond:
        raise JourneyError(message)


class ClinicianJourney:
    """Drives journey 1 on a window made by :func:`asha_app.app.create_window` (demo sources).

    Parameters
    ----------
    window : MainWindow
        With every UI feature installed and the demo (EMG + camera) started.
    train_threads : int
        Torch threads for the training wizard.
    live_seconds : float
        How long the live hand is watched after "Use this profile".

    Attributes
    ----------
    steps : list of Step
    """

    def __init__(self, window, train_threads: int = 1, live_seconds: float = 4.0, snapshot=None) -> None:
        self.w = window
        self._snapshot = snapshot
        self.train_threads = train_threads
        self.live_seconds = live_seconds
        self.steps: list[Step] = []
        self.session_path: Path | None = None
        self.checkpoint_path: Path | None = None
        self.profile_path: Path | None = None

    def run(self, until: str | None = None) -> list[Step]:
        """Run every step in order (or up to and including ``until``); a failed step raises :class:`JourneyError`."""
        for name in ("start", "record", "train", "calibrate", "live", "stop"):
            self.step(name)
            if name == until:
                break
        return self.steps

    def snap(self, name: str) -> None:
        """Let the caller take a picture of what the person sees now (``snapshot(name)``; docs screenshots)."""
        if self._snapshot is not None:
            pump(0.4)  # let the window paint
            self._snapshot(name)

    def step(self, name: str) -> Step:
        st = Step(name)
        self.steps.append(st)
        t0 = time.perf_counter()
        try:
            getattr(self, f"_{name}")(st)
            st.reached = True
        finally:
            st.wall_s = time.perf_counter() - t0
        return st

    # ------------------------------------------------------------------ steps
    def _start(self, st: Step) -> None:
        w = self.w
        wait_until(lambda: w.worker is not None and w.worker.emg_ring.total > 300, 20, "the demo EMG to stream")
        cam = w.camera_panel.worker
        check(cam is not None, "the demo camera did not start")
        wait_until(lambda: cam.snapshot()["labelled"] >= 3, 60, "the demo video's hand to be labelled")
        st.detail = {"emg_samples": int(w.worker.emg_ring.total), "camera_labelled": int(cam.snapshot()["labelled"])}
        self.snap("start")

    def _record(self, st: Step) -> None:
        w = self.w
        menu_action(w, "session", "New recording…").trigger()
        wiz = w.recording_wizard
        p1 = wiz.participant_page
        p1.pseudonym.setText("J01")
        p1.consent.setChecked(True)
        wiz.next()
        check(wiz.currentPage() is wiz.check_page, f"participant page refused: {p1.error.text()}")
        page = wiz.check_page
        page.poll()
        if page.result.warnings:
            page.acknowledge.setChecked(True)
        wiz.next()
        pp = wiz.protocol_page
        check(wiz.currentPage() is pp, f"device check refused: {page.error.text()}")
        names = [p.name for p in pp.protocols]
        check("Quick tour" in names, f"no built-in Quick tour protocol: {names}")
        pp.list.setCurrentRow(names.index("Quick tour"))
        wiz.next()
        sp = wiz.session_page
        check(wiz.currentPage() is sp, f"protocol page refused: {pp.error.text()}")
        sp.start_button.click()
        if self._snapshot is not None:
            wait_until(lambda: sp.procedure.state.name == "PROMPT" or sp.failed, 30, "the first prompt")
            pump(1.0)
            self.snap("recording")
        wait_until(lambda: wiz.currentPage() is wiz.summary_page or sp.failed, 120, "the recording to finish")
        check(not sp.failed, f"recording failed: {sp.failed}")
        self.session_path = Path(sp.path)
        from asha_app.data.reader import SessionFile

        with SessionFile(self.session_path) as sf:
            valid = float(np.mean(sf.dataset("labels/valid")[()])) if sf.n_frames else 0.0
            st.detail = {"seconds": round(sf.n_emg / sf.fs, 1), "label_frames": int(sf.n_frames),
                         "valid_share": round(valid, 3), "finalized": bool(sf.finalized)}
        check(st.detail["finalized"] and st.detail["label_frames"] > 0 and valid > 0.3,
              f"the session file is not a finished labelled recording: {st.detail}")
        self.snap("recording_summary")
        wiz.accept()

    def _train(self, st: Step) -> None:
        w = self.w
        menu_action(w, "model", "Train or fine-tune…").trigger()
        wiz = w.training.wizard
        wiz.threads = self.train_threads
        wiz.warmup.wait(120000)
        wiz.sessions_page.set_checked([self.session_path])  # ticked when its row has been read
        wait_until(lambda: not wiz.loading, 60, "the session rows to be read")
        for page_id in (wiz.PAGE_MODEL, wiz.PAGE_WINDOWS, wiz.PAGE_SPLIT, wiz.PAGE_RUN):
            wiz.next()  # each page's check reads files off the GUI thread, then moves on by itself
            wait_until(lambda: not wiz.loading, 120, "the page's check (sessions, checkpoint, prepared run)")
            check(wiz.currentId() == page_id, f"the training wizard stopped before page {page_id}: "
                  f"{[p.error.text() for p in (wiz.sessions_page, wiz.model_page, wiz.split_page) if p.error.text()]}")
            if page_id == wiz.PAGE_MODEL:
                st.detail["targets"] = wiz.model_page.targets.text()
        check(wiz.run_page.start(), "the training did not start")
        wait_until(lambda: wiz.currentId() == wiz.PAGE_REPORT or (wiz.worker is not None and wiz.worker.isFinished()
                                                                 and wiz.result is None and not wiz.run_page.running),
                   600, "training to finish")
        wait_until(lambda: wiz.currentId() == wiz.PAGE_REPORT, 30, "the training report page")
        wait_until(lambda: not wiz.report_page.view.loading, 60, "the training report to be read")
        res = wiz.result
        self.checkpoint_path = Path(res["checkpoint"])
        from asha_app.models import checkpoint as C

        ck = C.load(self.checkpoint_path)
        st.detail.update({"model": ck.model_name, "target_kind": ck.target_kind, "n_targets": len(ck.target_names),
                          "epochs": len(wiz.run_page.epoch_x),
                          "report": wiz.report_page.view.metric_texts()})
        check(ck.target_kind == "joint_angles", f"the default training target is {ck.target_kind}, not joint angles")
        self.snap("training_report")
        wiz.accept()

    def _calibrate(self, st: Step) -> None:
        w = self.w
        menu_action(w, "live", "Calibrate…").trigger()
        wiz = w.calibration_wizard
        wiz.setup.participant.setText("J01")
        wiz.setup.base.setText(str(self.checkpoint_path))
        wiz.setup.check_base()  # loads the checkpoint off the GUI thread ("loading model…")
        wait_until(lambda: not wiz.setup.checking, 60, "the base model to load")
        check(wiz.setup.base_ok, f"the base model was refused: {wiz.setup.base_status.text()}")
        wiz.next()
        page = wiz.record
        check(wiz.currentPage() is page, "the calibration wizard did not reach the recording page")
        page.record_button.click()
        if self._snapshot is not None:
            pump(4.0)
            self.snap("calibration_recording")
        wait_until(lambda: page.isComplete() or "⚠" in page.message.text() and page.record_button.isEnabled(), 120,
                   "the calibration recording and its quality gate")
        check(page.isComplete(), f"the calibration recording did not pass: {page.message.text()}")
        wiz.next()
        tp = wiz.train
        wait_until(lambda: tp.isComplete() or "⚠" in tp.status.text(), 300, "fine-tuning")
        check(tp.isComplete(), f"fine-tuning failed: {tp.status.text()}")
        self.profile_path = Path(tp.result.profile_path)
        st.detail = {"summary": tp.status.text(), "finetune_s": round(tp.result.finetune_s, 1),
                     "before_mae": tp.result.before.get("mae_mean"), "after_mae": tp.result.after.get("mae_mean")}
        self.snap("calibration_card")
        wiz.accept()  # "Use this profile"

    def _live(self, st: Step) -> None:
        from asha_app.ui.hand_view import HandView

        w = self.w
        live = w.live
        wait_until(lambda: live.worker is not None and live.mode == "profile", 10, "the profile to run live")
        try:
            wait_until(lambda: live.drawn > 0, 20, "the first pose drawn from the profile")
        except JourneyError as exc:
            raise JourneyError(f"{exc}; handed {live.handed}, dock: {live.dock.rate.text()!r} "
                               f"{live.dock.what.text()!r}") from None
        view = w.hand_view
        img0 = view.render() if isinstance(view, HandView) else None
        drawn0, t0 = live.drawn, time.perf_counter()
        pump(self.live_seconds)
        rate = (live.drawn - drawn0) / (time.perf_counter() - t0)
        self.snap("live")
        st.detail = {"poses_drawn_per_s": round(rate, 1), "dock_rate": live.dock.rate.text(),
                     "fingers": live.dock.pose_text.text(), "live_error": live.dock.error_mm.text(),
                     "live_error_median_mm": (round(float(live.drift.median_mm), 1)
                                              if np.isfinite(live.drift.median_mm) else None)}
        check(rate > 0, f"no pose drawn after Use this profile ({live.dock.rate.text()})")
        if img0 is not None:
            img1 = view.render()
            changed = float(np.mean(np.any(img0 != img1, axis=-1)))
            st.detail["pixels_changed"] = round(changed, 4)
            check(changed > 0.001, "the 3D hand's pixels did not change while the live hand ran")

    def _stop(self, st: Step) -> None:
        from asha_app.ui.hand_view import HandView
        from asha_app.ui.main_window import NO_RATE_TEXT, NO_SOURCE_TEXT, STREAM_HAND_SLOTS

        w = self.w
        w.stop_action.trigger()
        wait_until(lambda: w.worker is None, 10, "the stream to stop")
        pump(0.3)
        live, view = w.live, w.hand_view
        hands = ({s: view._hands[s].has_data for s in STREAM_HAND_SLOTS if s in view.slots}
                 if isinstance(view, HandView) else {})
        st.detail = {"live_worker": live.worker is not None, "source": w.source_label.text(),
                     "rate": w.status_rate.text(), "quality": w.status_quality.text(), "marker": w.status_marker.text(),
                     "dock_rate": live.dock.rate.text(), "hands_drawn": hands}
        check(live.worker is None, "the live model still runs after Stop")
        check(st.detail["source"] == NO_SOURCE_TEXT, f"the source line still says {st.detail['source']!r}")
        check(st.detail["rate"] == NO_RATE_TEXT, f"the rate still says {st.detail['rate']!r}")
        check(not st.detail["quality"] and not st.detail["marker"],
              f"quality {st.detail['quality']!r} / last marker {st.detail['marker']!r} left after Stop")
        check(st.detail["dock_rate"] == "—", f"the Live dock still says {st.detail['dock_rate']!r}")
        check(not any(hands.values()), f"hands still drawn after Stop: {hands}")


def new_window(settings=None):
    """The app's own window with every feature, the demo started (EMG + camera), as ``asha --demo`` does."""
    from asha_app.app import create_window
    from asha_app.core.settings import AppSettings

    try:
        w = create_window(demo=True, settings=settings or AppSettings())
    except AshaError as exc:  # pragma: no cover - reported by the caller
        raise JourneyError(f"the app did not start: {exc}") from exc
    w.show()
    return w
