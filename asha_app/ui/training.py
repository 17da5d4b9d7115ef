"""Model menu: train or fine-tune (wizard), open a report, list trained models.

``install(window)`` adds to ``window.menus["model"]``:

* **Train or fine-tune…** -> :class:`~asha_app.ui.training_wizard.TrainingWizard` (non-modal);
* **Open report…** -> a checkpoint's evaluation report (:class:`~asha_app.ui.report_view.ReportDialog`);
* **Models…** -> checkpoints in ``data_dir()/"models"`` with headline metrics
  (:class:`~asha_app.ui.models_dialog.ModelsDialog`).

The feature object is kept as ``window.training``; a shutdown hook on the main window
makes a running training stop (its best epoch saved)
before the window goes.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog

from asha_app.ui.models_dialog import ModelsDialog
from asha_app.ui.report_view import ReportDialog, models_dir
from asha_app.ui.training_wizard import TrainingWizard

log = logging.getLogger(__name__)


class TrainingFeature(QObject):
    """The Model menu's actions and the dialogs they open."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.wizard: TrainingWizard | None = None
        self.report_dialogs: list[ReportDialog] = []
        self.models_dialog: ModelsDialog | None = None
        menu = window.menus["model"]
        self.train_action = QAction("Train or fine-tune…", window)
        self.train_action.setToolTip("Train an EMG-to-pose model on recorded sessions, or calibrate one")
        self.train_action.triggered.connect(lambda: self.open_wizard())
        self.report_action = QAction("Open report…", window)
        self.report_action.triggered.connect(lambda: self.open_report())
        self.models_action = QAction("Models…", window)
        self.models_action.triggered.connect(lambda: self.open_models())
        for a in (self.train_action, self.report_action, self.models_action):
            menu.addAction(a)

    def open_wizard(self, **kw) -> TrainingWizard:
        """Show the training wizard (the running one if any); keyword arguments go to a new wizard."""
        if self.wizard is not None and self.wizard.isVisible():
            self.wizard.raise_()
            self.wizard.activateWindow()
            return self.wizard
        if self.wizard is not None:
            self.wizard.shutdown()
            self.wizard.deleteLater()
        self.wizard = TrainingWizard(getattr(self.window, "settings", None), self.window, **kw)
        self.wizard.finished.connect(self._wizard_finished)
        self.wizard.show()
        return self.wizard

    def _wizard_finished(self, _result: int) -> None:
        if self.models_dialog is not None:
            self.models_dialog.refresh()

    def open_report(self, path: str | Path | None = None) -> ReportDialog | None:
        """Show a checkpoint's report (asks for the file when ``path`` is None)."""
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self.window, "Open a model report", str(models_dir()),
                                                  "Asha checkpoints (*.pt);;All files (*)")
            if not path:
                return None
        dlg = ReportDialog(path, self.window)
        dlg.finished.connect(lambda _r, d=dlg: self.report_dialogs.remove(d) if d in self.report_dialogs else None)
        self.report_dialogs.append(dlg)
        dlg.show()
        return dlg

    def open_models(self) -> ModelsDialog:
        """Show the list of trained models."""
        if self.models_dialog is None:
            self.models_dialog = ModelsDialog(self.window, open_report=self.open_report)
        else:
            self.models_dialog.refresh()
        self.models_dialog.show()
        self.models_dialog.raise_()
        return self.models_dialog

    def shutdown(self) -> None:
        """Stop a running training and close the dialogs."""
        if self.wizard is not None:
            self.wizard.shutdown()
            self.wizard.close()
        for d in list(self.report_dialogs):
            d.close()


def install(window) -> None:
    """Add the Model menu's training actions to the main window (``window.training``)."""
    feature = TrainingFeature(window)
    window.training = feature
    window.add_shutdown_hook(feature.shutdown)
