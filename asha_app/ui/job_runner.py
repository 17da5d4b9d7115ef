"""Running file jobs (export, import) from a dialog: a worker thread, a progress dialog, the outcome logged."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QProgressDialog

from asha_app.workers.base import stop_checked
from asha_app.workers.export import JobWorker


class JobRunner:
    """Shared part of the export and import dialogs: run jobs with a progress dialog and log the outcome.

    Mixed into a QDialog that has ``log`` (QPlainTextEdit), ``status`` (QLabel) and ``run_button``;
    :meth:`_finished` is called with the worker's result when every job ended.
    """

    def _run_jobs(self, jobs, title: str) -> JobWorker | None:
        if not jobs:
            return None
        self.worker = JobWorker(jobs)
        self.worker.job_done.connect(lambda i, res: self.log.appendPlainText(f"✓ {jobs[i][0]}"))
        self.worker.job_failed.connect(lambda i, msg: self.log.appendPlainText(f"✗ {msg}"))
        self.worker.all_done.connect(self._all_done)
        self.progress = QProgressDialog(title, "Cancel", 0, 1000, self)
        self.progress.setWindowTitle(title)
        self.progress.setMinimumDuration(0)
        self.progress.setAutoClose(False)
        self.progress.setAutoReset(False)
        self.progress.canceled.connect(self.worker.requestInterruption)
        self.progress.setValue(0)
        self.progress.show()
        self._jobs = jobs
        self.progress_values: list[int] = [0]
        self._poll = QTimer(self)
        self._poll.setInterval(100)
        self._poll.timeout.connect(self._update_progress)
        self._poll.start()
        self.run_button.setEnabled(False)
        self.worker.start()
        return self.worker

    def _update_progress(self) -> None:
        w = self.worker
        if w is None:
            return
        i, _frac = w.progress()
        value = int(1000 * w.overall())
        self.progress_values.append(value)
        self.progress.setValue(value)
        if i < len(self._jobs):
            self.progress.setLabelText(f"{i + 1}/{len(self._jobs)}: {self._jobs[i][0]}")

    def _all_done(self, result: dict) -> None:
        self._poll.stop()
        self.progress_values.append(int(1000 * self.worker.overall()))
        self.progress.setValue(1000)
        self.progress.close()
        self.run_button.setEnabled(True)
        n_ok, n_bad = len(result["done"]), len(result["failed"])
        text = f"{n_ok} done, {n_bad} failed" + (" (cancelled)" if result["cancelled"] else "")
        self.status.setText(text)
        self.status.setStyleSheet("color: #b00020;" if n_bad else "color: #1b7f3b;")
        self.last_result = result
        self._finished(result)

    def _finished(self, result: dict) -> None:
        pass

    def shutdown(self) -> bool:
        """Cancel the running job (its partial output is removed) and wait; False when it did not end in time."""
        if getattr(self, "worker", None) is not None and self.worker.isRunning():
            return stop_checked(self.worker, "the file job", 10_000)
        return True
