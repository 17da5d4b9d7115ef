"""Session library, as a user: import a NinaPro file that lacks its sampling rate (the dialog asks), clear the
import list, imported sessions keep their recording date (emg2pose, BrainFlow, paired Myo+MediaPipe; NinaPro has
none and shows its import date), and Delete… moves a session to the trash folder after a confirmation."""

from __future__ import annotations

from datetime import datetime

import pytest
from fixtures.make_fixtures import make_brainflow_file, make_emg2pose_file, make_ninapro_mat
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from asha_app.core import paths
from asha_app.core.clock import SessionClock
from asha_app.core.settings import AppSettings
from asha_app.data.reader import SessionFile
from asha_app.ui.main_window import MainWindow
from asha_app.ui.recording import install
from asha_app.ui.session_library import sessions_dir
from tests.conftest import REPO
from tests.journey_steps import wait_until
from tests.recording_helpers import write_session

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot):
    win = MainWindow(AppSettings(), SessionClock())
    qtbot.addWidget(win)
    install(win)
    yield win
    win.shutdown()


def _import(qtbot, dlg):
    seen = []
    dlg.finished_import.connect(seen.append)
    worker = dlg.start_import()
    assert worker is not None, dlg.status.text()
    qtbot.waitUntil(lambda: bool(seen), timeout=60_000)
    qtbot.waitUntil(worker.isFinished, timeout=5000)
    assert not seen[0]["failed"], dlg.log.toPlainText()
    return seen[0]


def _row_date(lib, path):
    wait_until(lambda: not lib.loading, 10, "the library's summaries")  # read in a worker thread
    row = next(r for r, e in enumerate(lib.entries) if e["path"] == path)
    return lib.table.item(row, 2)


def test_import_asks_for_a_missing_sampling_rate_and_the_list_can_be_cleared(qtbot, window, tmp_path):
    lib = window.session_library
    dlg = lib.open_import()
    qtbot.addWidget(dlg)
    db1 = tmp_path / "S1_A1_E1.mat"
    make_ninapro_mat(db1)  # like NinaPro DB1: no 'frequency' variable
    with_rate = tmp_path / "S2_A1_E1.mat"
    make_ninapro_mat(with_rate, with_frequency=True)
    dlg.add_items([with_rate])
    assert not dlg.fs_spin.isVisibleTo(dlg)  # a file that names its rate: nothing to ask
    dlg.add_items([db1])
    assert dlg.fs_spin.isVisibleTo(dlg) and dlg.fs_prompt.isVisibleTo(dlg)
    assert "S1_A1_E1.mat has no EMG sampling rate" in dlg.fs_prompt.text() and "DB1: 100 Hz" in dlg.fs_prompt.text()
    assert dlg.start_import() is None  # not given yet: asked again, nothing runs
    assert "Enter the EMG sampling rate of S1_A1_E1.mat" in dlg.status.text()
    qtbot.mouseClick(dlg.clear_button, Qt.MouseButton.LeftButton)
    assert dlg.items == [] and dlg.list.count() == 0 and not dlg.fs_spin.isVisibleTo(dlg)
    dlg.add_items([db1, with_rate])
    dlg.fs_spin.setValue(100.0)
    _import(qtbot, dlg)
    out = sessions_dir() / "S1_A1_E1.h5"
    with SessionFile(out) as sf:
        assert sf.fs == 100.0
    with SessionFile(sessions_dir() / "S2_A1_E1.h5") as sf:
        assert sf.fs == 200.0  # the file's own rate wins over the one typed for the other file
    # NinaPro has no recording date: the library shows the import date and says why
    item = _row_date(lib, out)
    assert item.text()[:10] == datetime.now().strftime("%Y-%m-%d")
    assert "no recording date" in item.toolTip()
    dlg.close()


def test_imported_sessions_keep_their_recording_date(qtbot, window, tmp_path):
    lib = window.session_library
    dlg = lib.open_import()
    qtbot.addWidget(dlg)
    make_emg2pose_file(tmp_path / "e2p.hdf5")  # emg2pose: Unix times from 1.6e9
    make_brainflow_file(tmp_path / "mindrove.csv")  # MindRove/BrainFlow: board timestamps from 1.7e9
    dlg.add_items([tmp_path / "e2p.hdf5", tmp_path / "mindrove.csv"], "auto")
    _import(qtbot, dlg)
    dlg.clear_items()
    dlg.add_items([REPO / "tests" / "assets" / "paired_slice"], "paired")  # MediaPipe stamps: 23/06/22 00:25:10.854
    _import(qtbot, dlg)
    lib.refresh()
    expect = {"e2p.h5": datetime.fromtimestamp(1.6e9), "mindrove.h5": datetime.fromtimestamp(1.7e9),
              "paired_slice.h5": datetime(2023, 6, 22, 0, 25, 17)}  # its first EMG row, 00:25:17.533
    for name, when in expect.items():
        item = _row_date(lib, sessions_dir() / name)
        assert item.text() == when.strftime("%Y-%m-%d %H:%M"), name
        assert "no recording date" not in item.toolTip()
    lib.select_path(sessions_dir() / "paired_slice.h5")
    details = lib.show_details()
    qtbot.waitUntil(lambda: details.loaded, timeout=10_000)  # read in a worker thread
    assert "recorded 2023-06-22 00:25:17" in details.text.toPlainText()
    details.close()
    dlg.close()


def _answer(qtbot, button):
    def click():
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox) and "trash" in box.text()
        qtbot.mouseClick(box.button(button), Qt.MouseButton.LeftButton)

    QTimer.singleShot(0, click)


def test_delete_moves_a_session_to_the_trash_after_asking(qtbot, window):
    lib = window.session_library
    keep = write_session(sessions_dir() / "P01_keep.h5", seconds=2.0)
    doomed = write_session(sessions_dir() / "P02_doomed.h5", seconds=2.0)
    lib.refresh()
    lib.select_path(doomed)
    _answer(qtbot, QMessageBox.StandardButton.No)  # changed their mind: nothing happens
    qtbot.mouseClick(lib.delete_button, Qt.MouseButton.LeftButton)
    assert doomed.exists() and lib.entry(doomed) is not None
    lib.select_path(doomed)
    _answer(qtbot, QMessageBox.StandardButton.Yes)
    qtbot.mouseClick(lib.delete_button, Qt.MouseButton.LeftButton)
    trashed = paths.data_dir() / "trash" / "P02_doomed.h5"
    assert not doomed.exists() and trashed.is_file() and lib.entry(doomed) is None
    assert keep.exists() and lib.entry(keep) is not None
    assert str(paths.data_dir() / "trash") in lib.message.text()
    with SessionFile(trashed) as sf:  # moved whole, still a readable session
        assert sf.n_emg == 1000
    # a second session of the same name never overwrites the first in the trash
    write_session(doomed, seconds=1.0)
    lib.refresh()
    lib.select_path(doomed)
    assert lib.delete_selected(confirm=False) == [paths.data_dir() / "trash" / "P02_doomed_2.h5"]
    # the session being replayed is refused
    lib.select_path(keep)
    assert lib.start_replay(keep)
    lib.select_path(keep)
    assert lib.delete_selected(confirm=False) == [] and "stop the replay" in lib.message.text() and keep.exists()
    lib.stop_replay()


def test_recording_date_falls_back_to_the_file_date_when_the_source_has_none():
    from asha_app.ui.session_library import recording_start_unix

    assert recording_start_unix({"session_t0_unix": 1.7e9, "created_unix": 1.8e9}, 2.5) == (1.7e9 + 2.5, "recorded")
    for t0 in (float("nan"), 0.0, None):  # NinaPro (NaN), a board counting from 0, an old file without it
        assert recording_start_unix({"session_t0_unix": t0, "created_unix": 1.8e9}, 0.0) == (1.8e9, "file written")
    assert recording_start_unix({}, None) == (None, "")


def test_the_library_lists_at_once_and_reads_the_summaries_off_the_gui_thread(qtbot, window, monkeypatch):
    """Refresh shows every file at once ("reading…"); summaries are read in a worker thread and fill in their rows."""
    import threading

    from asha_app.ui import session_library as L

    good = write_session(sessions_dir() / "P01_good.h5", seconds=2.0)
    (sessions_dir() / "broken.h5").write_bytes(b"\x00garbage" * 200)
    threads, release = [], threading.Event()
    real = L.summarize_file

    def summarize(path):  # the real summary, noting where it runs; held back until the test has looked
        threads.append(threading.current_thread())
        release.wait(5)
        return real(path)

    monkeypatch.setattr("asha_app.ui.session_library.library.summarize_file", summarize)  # where refresh looks it up
    lib = window.session_library
    loaded = []
    lib.rows_loaded.connect(lambda: loaded.append(True))
    lib.refresh()
    assert [e["path"].name for e in lib.entries] == ["P01_good.h5", "broken.h5"]  # listed before any file is read
    assert lib.loading and lib.table.item(0, 8).text() == "reading…" and lib.entry(good)["n_emg"] is None
    release.set()
    qtbot.waitUntil(lambda: bool(loaded), timeout=10_000)
    assert not lib.loading and lib.entry(good)["n_emg"] == 1000 and lib.entry(good)["participant"] == "P01"
    assert lib.table.item(0, 1).text() == "P01" and lib.table.item(0, 3).text() == "2.0 s"
    assert "not an HDF5 file" in lib.table.item(1, 8).text()  # the bad file, in its own row
    assert len(threads) == 2 and threading.main_thread() not in threads


def test_a_replay_of_an_unreadable_file_is_reported_and_its_controls_go_back(qtbot, window):
    """The replayed file is opened in the acquisition thread: a file that cannot be read says so in the banner and the
    dock, and nothing stays running."""
    broken = sessions_dir() / "broken.h5"
    broken.write_bytes(b"\x00garbage" * 200)
    lib = window.session_library
    assert lib.start_replay(broken)  # tried: the file is read where the replay runs
    qtbot.waitUntil(lambda: "not an HDF5 file" in lib.message.text(), timeout=10_000)
    assert "not an HDF5 file" in window.banner.text.text() and window.last_error[1] == ""  # an AshaError: no traceback
    assert window.worker is None and lib.replay is None and not lib.stop_button.isEnabled()
    assert window.start_action.isEnabled()
