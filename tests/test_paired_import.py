"""Importer of the paired Myo/MediaPipe data, on the real slice in tests/assets/paired_slice."""

from pathlib import Path

import numpy as np
import pytest

from asha_app.core.errors import RecordingFileError
from asha_app.data.importers.paired_myo_mediapipe import FINGER_NAMES, _mmss_seconds, load_paired, resample_causal

SLICE = Path(__file__).parent / "assets" / "paired_slice"


def test_slice_imports_as_recording():
    rec = load_paired(SLICE)
    assert rec.fs == 50.0 and rec.n_channels == 8
    assert rec.target_names == FINGER_NAMES and rec.targets.shape[1] == 5
    assert np.allclose(np.diff(rec.emg_t), 0.02)
    assert 70 < rec.duration <= 75.0
    assert rec.valid.all() and len(rec.valid) == len(rec.label_t) > 1000
    # MediaPipe frames lie inside the EMG span (session t=0 at the first EMG row)
    assert rec.label_t[0] >= 0 and rec.label_t[-1] <= rec.emg_t[-1]
    # angles in degrees, 180 = straight
    assert 0 < rec.targets.min() and rec.targets.max() <= 181
    assert "MIT" in rec.meta["licence"] and rec.meta["filter_hint"]["band"] is None


def test_clock_alignment_drops_hour_and_unwraps():
    # 12-hour "12:25:17.533" and 24-hour "00:25:17.533" map to the same second
    a = _mmss_seconds(["12:25:17.533", "12:59:59.990", "01:00:00.010"], Path("x"))
    b = _mmss_seconds(["23/06/22 00:25:17.533"], Path("y"))
    assert a[0] == pytest.approx(b[0])
    assert a[2] - a[1] == pytest.approx(0.02)


def test_resampling_is_causal_bin_mean():
    t = np.array([0.0, 0.005, 0.031, 0.2])
    x = np.array([[1.0], [3.0], [10.0], [-4.0]])
    grid = np.arange(0, 0.22, 0.02)
    y = resample_causal(t, x, grid, 50.0)[:, 0]
    assert y[0] == 1.0  # only the row at t=0 is <= 0
    assert y[1] == 3.0  # rows in (0, 0.02]: 0.005 -> 3
    assert y[2] == 10.0  # (0.02, 0.04]: 0.031
    assert np.all(y[3:10] == 10.0)  # empty bins hold the last row, never the future -4
    assert y[10] == -4.0


def test_missing_or_foreign_files(tmp_path):
    with pytest.raises(RecordingFileError, match="not a folder"):
        load_paired(tmp_path / "nope")
    with pytest.raises(RecordingFileError, match="expected one"):
        load_paired(tmp_path)
    (tmp_path / "EMG_data_1.csv").write_text("time,a\n12:00:00.000,1\n")
    (tmp_path / "mediapipe_1.csv").write_text("timestamp,thumb,index,middle,ring,little\n")
    with pytest.raises(RecordingFileError, match="columns"):
        load_paired(tmp_path)
