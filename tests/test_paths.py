"""File naming in the user's data folders."""

import datetime as dt


def test_unique_path_never_overwrites(tmp_path):
    """Sessions, checkpoints, exports and calibration recordings all name new files through unique_path."""
    from asha_app.core.paths import unique_path
    from asha_app.ui.recording_wizard import session_path
    from asha_app.workers.training import new_checkpoint_path

    p = tmp_path / "P01_x.h5"
    assert unique_path(p) == p
    p.touch()
    assert unique_path(p) == tmp_path / "P01_x_2.h5"
    (tmp_path / "P01_x_2.h5").touch()
    assert unique_path(p) == tmp_path / "P01_x_3.h5"
    when = dt.datetime(2026, 11, 21, 10, 0, 0)
    first = session_path("P02", when, tmp_path)
    first.touch()
    assert session_path("P02", when, tmp_path) == tmp_path / "P02_2026-11-21_100000_2.h5"
    ck = new_checkpoint_path("envtcn", tmp_path)
    ck.touch()
    assert new_checkpoint_path("envtcn", tmp_path) != ck
