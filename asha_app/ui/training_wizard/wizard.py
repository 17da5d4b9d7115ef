"""The wizard itself: its pages in order, the plan built from their choices, and a clean shutdown."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtWidgets import QWizard

from asha_app.core.errors import AshaError
from asha_app.core.paths import data_dir
from asha_app.data.signal_kind import auto_filter_spec, signal_info
from asha_app.dsp.filters import FilterSpec
from asha_app.gestures.jobs import GesturePlan
from asha_app.models.plan import split_args_for
from asha_app.ui.report_view import fit_to_screen
from asha_app.ui.training_wizard.common import describe_filter
from asha_app.ui.training_wizard.model import ModelPage
from asha_app.ui.training_wizard.run import ReportPage, RunPage
from asha_app.ui.training_wizard.sessions import SessionsPage
from asha_app.ui.training_wizard.split import SplitPage
from asha_app.ui.training_wizard.windows import WindowsPage
from asha_app.workers.training import TrainingPlan, TrainingWorker, WarmUpWorker

log = logging.getLogger(__name__)


class TrainingWizard(QWizard):
    """Train a new EMG-to-pose model or fine-tune one, or train a gesture classifier (the sessions page's task
    choice), with live progress and an honest evaluation report.

    Parameters
    ----------
    settings : AppSettings, optional
        Its filter settings give the live filter chain offered for raw sEMG.
    sessions_dir : Path, optional
        Default ``data_dir()/"sessions"``.
    threads : int, optional
        Torch threads of the training worker (default all cores but one).
    """

    PAGE_SESSIONS, PAGE_MODEL, PAGE_WINDOWS, PAGE_SPLIT, PAGE_RUN, PAGE_REPORT = range(6)

    def __init__(self, settings=None, parent=None, sessions_dir: Path | None = None,
                 threads: int | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Train or fine-tune a model")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.resize(fit_to_screen(self, 1120, 800))  # 1120 x 800, shrunk to a 1366 x 768 laptop screen
        self.app_settings = settings
        self.sessions_dir = Path(sessions_dir) if sessions_dir is not None else data_dir() / "sessions"
        self.threads = threads
        self.progress_every = 10
        self.auto_advance = True
        self.recording_cache: dict[Path, object] = {}
        self.recordings: list = []
        self.sources: list[str] = []
        self.gestures_found: list[list[str]] = []  # the gesture task: each session's gestures
        self.checkpoint = None
        self.finetune_mode = "head"
        self.plan: TrainingPlan | None = None
        self.prepared = None
        self.prepared_used = False
        self.worker: TrainingWorker | None = None
        self.result: dict | None = None
        self.sessions_page = SessionsPage(self)
        self.model_page = ModelPage(self)
        self.windows_page = WindowsPage(self)
        self.split_page = SplitPage(self)
        self.run_page = RunPage(self)
        self.report_page = ReportPage(self)
        for pid, page in enumerate((self.sessions_page, self.model_page, self.windows_page, self.split_page,
                                    self.run_page, self.report_page)):
            self.setPage(pid, page)
        self.currentIdChanged.connect(self._page_changed)
        # first-use imports (torch's optimizer machinery, matplotlib) while the user picks sessions
        self.warmup = WarmUpWorker()
        self.warmup.start()

    def _page_changed(self, pid: int) -> None:
        if pid == self.PAGE_SPLIT:
            self.prepared_used = False

    def filter_choices(self, rec) -> list[tuple[str, object]]:
        """(label, FilterSpec) choices for a recording, the recommended first.

        The recommendation follows the recording's signal kind (:func:`asha_app.data.signal_kind.auto_filter_spec`,
        as ``asha train --filter auto``): the live chain for raw sEMG, none for an envelope or normalised values.
        """
        out = []
        try:
            rec_spec, why = auto_filter_spec(rec)
            out.append((f"Recommended for {signal_info(rec).describe()}: {describe_filter(rec_spec)}", rec_spec))
        except AshaError as exc:
            log.warning("no recommended filter: %s", exc)
        try:
            live = (FilterSpec.from_settings(self.app_settings.filter, rec.fs) if self.app_settings is not None
                    else FilterSpec.raw_semg_default(rec.fs))
            if all(live != s for _, s in out):
                out.append((f"The live chain: {describe_filter(live)}", live))
        except ValueError as exc:
            log.info("live filter not usable at %g Hz: %s", rec.fs, exc)
        none = FilterSpec(rec.fs, band=None, notch_hz=None)
        if all(none != s for _, s in out):
            out.append(("None (EMG already processed)", none))
        return out

    @property
    def task(self) -> str:
        """``"pose"`` (hand pose, the default) or ``"gesture"`` (gesture classes), chosen on the sessions page."""
        return self.sessions_page.task()

    def build_plan(self) -> TrainingPlan | GesturePlan:
        """The plan from the pages' current choices (finger-flexion data gets the built-in hand model for MPJPE).

        The gesture task gives a :class:`~asha_app.gestures.jobs.GesturePlan` (the split over each gesture's
        repetitions when repetitions are chosen, as ``asha train --task gesture``).
        """
        if self.task == "gesture":
            kind, opts = self.split_page.kind(), self.windows_page.gesture_options
            norm = self.windows_page.norm_options
            return GesturePlan(
                recordings=self.recordings, sources=self.sources, model_name=self.model_page.model_name,
                window_ms=self.windows_page.window_spin.value(), stride_ms=self.windows_page.stride_spin.value(),
                filter_spec=self.windows_page.filter_spec(), settle_s=opts.settle_spin.value(), norm=norm.norm,
                tau_s=norm.tau_spin.value(), split_kind=None if kind == "repetitions" else kind,
                split_args={} if kind == "repetitions" else split_args_for(kind, self.split_page.split_args()))
        return TrainingPlan(
            recordings=self.recordings, sources=self.sources,
            model_name=None if self.checkpoint is not None else self.model_page.model_name,
            finetune_from=self.checkpoint, finetune_mode=self.finetune_mode,
            window_ms=self.windows_page.window_spin.value(), stride_ms=self.windows_page.stride_spin.value(),
            label_lag_ms=self.windows_page.lag_spin.value(), filter_spec=self.windows_page.filter_spec(),
            split_kind=self.split_page.kind(), split_args=self.split_page.split_args(),
            norm=self.windows_page.norm_options.norm, tau_s=self.windows_page.norm_options.tau_spin.value())

    @property
    def loading(self) -> bool:
        """True while a page reads files, a checkpoint or prepares the run in the background (Next waits for it)."""
        return (self.sessions_page.reading or self.model_page.loader.busy or self.split_page.loader.busy
                or self.run_page.loader.busy or self.report_page.view.loading)

    def shutdown(self, timeout_ms: int = 10000) -> None:
        """Stop a running training (its best epoch is still saved) and wait for the threads.

        A file or checkpoint still being read is dropped (its thread stopped with the checked stop).
        """
        self.run_page.timer.stop()
        self.sessions_page.shutdown()
        for page in (self.model_page, self.split_page, self.run_page, self.report_page.gesture,
                     self.report_page.view):
            page.loader.cancel()
        if self.warmup.isRunning() and not self.warmup.wait(timeout_ms):  # an import cannot be interrupted
            log.warning("training warm-up still running after %d ms", timeout_ms)
        w = self.worker
        if w is not None and w.isRunning():
            w.cancel()
            if not w.stop(timeout_ms):
                log.warning("training worker did not stop within %d ms", timeout_ms)

    def reject(self) -> None:  # closing stops training (best epoch saved)
        self.shutdown()
        super().reject()

    def done(self, r: int) -> None:
        self.shutdown()
        super().done(r)
