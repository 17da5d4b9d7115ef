"""The guided recording wizard: thin Qt pages over :class:`asha_app.protocols.wizard.SessionWizard`.

Pages::

    Participant -> Device & camera check -> Protocol -> Session -> Summary

* The **check** page shows the live per-channel quality flags of the running
  acquisition worker and the camera's share of valid hand labels over the last
  few seconds; problems must be acknowledged to go on.
* The **session** page opens the session file
  (``data_dir()/sessions/<participant>_<date>.h5``), starts a
  :class:`~asha_app.workers.recorder.RecorderWorker` on the acquisition rings
  and on the camera worker's labels ring (the recorder reads both with its own
  cursors: camera labels never pass through the GUI thread; a camera started
  again while recording is followed), and drives the
  :class:`~asha_app.protocols.procedure.RecordingProcedure` with
  ``window.clock.now()`` on a QTimer; what the participant sees (prompt,
  countdown, progress, target hand, Pause/Redo/Abort) is the
  :class:`~asha_app.ui.procedure_view.ProcedureView` that the calibration
  wizard shows too.  Prompt records go to the recorder as the
  procedure emits them; redone or cut-short repetitions are written as
  discarded records.  A recorder error (disk full, folder not writable) aborts
  the procedure and is shown; the file stays valid up to its last flush.
* The **summary** page shows the integrity report of the written file.

One module per page:

==================  ===========================================================
``participant.py``  :class:`ParticipantPage`: pseudonym, arm, hand, consent
``check.py``        :class:`DeviceCheckPage`: EMG quality flags, camera labels
``protocol.py``     :class:`ProtocolPage`: built-in or loaded protocol
``session.py``      :class:`SessionPage`: the file, the recorder, the procedure
``summary.py``      :class:`SummaryPage`: the integrity report
``wizard.py``       :class:`RecordingWizard`: the pages in order
``common.py``       :func:`session_path`, the error line, the camera worker
==================  ===========================================================
"""

from asha_app.ui.recording_wizard.check import CHECK_WINDOW_S, DeviceCheckPage
from asha_app.ui.recording_wizard.common import session_path
from asha_app.ui.recording_wizard.participant import ParticipantPage
from asha_app.ui.recording_wizard.protocol import ProtocolPage
from asha_app.ui.recording_wizard.session import SessionPage
from asha_app.ui.recording_wizard.summary import SummaryPage
from asha_app.ui.recording_wizard.wizard import RecordingWizard

__all__ = ["CHECK_WINDOW_S", "DeviceCheckPage", "ParticipantPage", "ProtocolPage", "RecordingWizard", "SessionPage",
           "SummaryPage", "session_path"]
