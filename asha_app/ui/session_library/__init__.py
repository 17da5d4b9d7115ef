"""Session library dock: the recorded sessions with their summaries, details, and replay as a live source.

Lists every ``*.h5`` in ``data_dir()/sessions`` plus files the user added
(remembered in ``config_dir()/session_library.json``).  Each row shows the
participant, date, duration, samples, dropped samples and the share of valid
hand labels, read from the file's ``summary`` attribute (or computed by
:func:`asha_app.data.integrity.check_session` for a file that was never
finalized).  A corrupt or foreign file is listed with its error message; the
other rows are unaffected.

No file is read on the GUI thread: :meth:`SessionLibrary.refresh` lists the
files at once ("reading…"), and a :class:`~asha_app.workers.export.JobWorker`
summarizes them one by one; each row fills in as its summary arrives
(``rows_loaded`` when all have).  The details dialog reads its file the same way.

Replay is the session controller's ``replay`` device
(:mod:`asha_app.devices.registry`): the window's session builds the
:class:`~asha_app.devices.replay.SessionReplaySource` in its acquisition thread,
with the rate, channels and unit the library's row already knows, so the file's
EMG reaches the scopes like a live stream; once the source is open, the label
frame at the replay position is shown in the window's hands model (``"replay"``
slot), which the 3D view draws.  Play, pause and a scrubber (seek) control it.

One module per job:

==============  ===============================================================
``files.py``    Qt-free: the sessions folder, added files, trash, one row per file
``library.py``  :class:`SessionLibrary`: the dock, its table, export/import/delete
``details.py``  :class:`DetailsDialog`: one file's report and attributes
``replay.py``   :class:`ReplayControls`: replay, play/pause, scrubber
==============  ===============================================================
"""

from asha_app.ui.session_library.details import DetailsDialog
from asha_app.ui.session_library.files import (COLUMNS, details_text, emg_text, load_extra_files, move_to_trash,
                                               placeholder_row, recording_start_unix, save_extra_files, sessions_dir,
                                               summarize_file, trash_dir)
from asha_app.ui.session_library.library import SessionLibrary
from asha_app.ui.session_library.replay import REPLAY_SLOT, ReplayControls

__all__ = ["COLUMNS", "REPLAY_SLOT", "DetailsDialog", "ReplayControls", "SessionLibrary", "details_text", "emg_text",
           "load_extra_files", "move_to_trash", "placeholder_row", "recording_start_unix", "save_extra_files",
           "sessions_dir", "summarize_file", "trash_dir"]
