"""The training and fine-tuning wizard: sessions -> model -> windows -> split -> run -> report.

Thin pages over the Qt-free model layer (:mod:`asha_app.models.plan`,
:mod:`asha_app.data.splits`, :mod:`asha_app.models.checkpoint`), one module per page:

=================  ===========================================================
``sessions.py``    :class:`SessionsPage` (and :func:`describe_file`)
``model.py``       :class:`ModelPage`: a new model, or a checkpoint to fine-tune
``windows.py``     :class:`WindowsPage`: window, stride, label lag, EMG filter
``split.py``       :class:`SplitPage`: the honest evaluation split
``run.py``         :class:`RunPage` (training, live loss curves) and :class:`ReportPage`
``wizard.py``      :class:`TrainingWizard`: the pages in order and the plan they build
``common.py``      the error and busy lines, time and filter texts the pages share
``gesture.py``     the gesture task's pieces: its window options and report (Use in gesture mode)
=================  ===========================================================

The sessions page asks what to train: the hand pose (continuous, the default) or gestures (classes,
:mod:`asha_app.gestures.jobs`, the defaults of ``asha train --task gesture``); the other pages adapt to it.

Every check the model layer makes (labels, NaNs, channel count and rate of a
checkpoint, unknown checkpoint version, empty split sets) runs when the user
presses Next, and its message is shown on the page; the run page is only
reachable with a prepared, valid run.  Those checks read files and checkpoints,
so they run off the GUI thread (:class:`~asha_app.workers.export.BackgroundLoad`):
the page says what it reads, its controls wait, and the wizard moves on by itself
when the check passes (:attr:`TrainingWizard.loading` is true meanwhile).  Training itself runs in a child process
relayed by a :class:`~asha_app.workers.training.TrainingWorker` thread; the run
page polls its progress queue at 10 Hz and draws the loss curves.
"""

from asha_app.ui.training_wizard.model import MODEL_DESCRIPTIONS, ModelPage, describe_model
from asha_app.ui.training_wizard.run import ReportPage, RunPage, training_devices
from asha_app.ui.training_wizard.sessions import SessionsPage, describe_file
from asha_app.ui.training_wizard.split import SplitPage
from asha_app.ui.training_wizard.windows import WindowsPage
from asha_app.ui.training_wizard.wizard import TrainingWizard

__all__ = ["MODEL_DESCRIPTIONS", "ModelPage", "ReportPage", "RunPage", "SessionsPage", "SplitPage", "TrainingWizard",
           "WindowsPage", "describe_file", "describe_model", "training_devices"]
