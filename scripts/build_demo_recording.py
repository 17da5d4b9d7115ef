"""Build the bundled demo recording from the real Myo recordings in ../shared/data.

The MindRove SDK's playback board replays files written by
``DataFilter.write_file`` in the row layout of a "master" board.  This script
turns real 8-channel Myo armband sEMG (myo-readings-dataset, MIT, one
participant, right forearm, 200 Hz, signed 8-bit counts) into such a file for
the MindRove WiFi board:

* 20 s of each of the seven gestures of session ``12345-1`` (rest 5 s,
  gesture 5 s, rest 5 s, gesture 5 s), one after the other (140 s in all);
* resampled 200 Hz -> 500 Hz with a polyphase anti-imaging filter
  (:func:`scipy.signal.resample_poly`, up 5 / down 2);
* scaled from Myo counts to microvolts by an ASSUMED 5 uV per count (the Myo's
  raw EMG has no published calibration; 5 uV/count gives rest ~10-25 uV and
  strong contraction ~300-600 uV, typical forearm sEMG amplitudes);
* laid out in the rows that ``BoardShim.get_board_descr(MINDROVE_WIFI_BOARD)``
  reports (never hard-coded), with package numbers 0..N-1, timestamps at
  500 Hz, and each change of gesture label written to the marker row as
  ``label + 1`` (0 means "no marker" in BrainFlow-family files).  The SDK's
  playback board does not replay the marker row (measured), so the playback
  source reads the markers from the file itself.
* The Myo recordings hold no IMU or battery data: those rows stay 0 and the
  demo says so.

Run from the repository root (needs ../shared/data)::

    python scripts/build_demo_recording.py
"""

from __future__ import annotations

import gzip
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
from mindrove.board_shim import BoardIds, BoardShim
from mindrove.data_filter import DataFilter
from scipy.signal import resample_poly

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT.parent / "shared" / "data" / "emg_myo_gestures"
OUT = ROOT / "resources" / "demo"
GESTURES = {0: "rest", 1: "wrist flexion", 2: "wrist extension", 3: "radial deviation", 4: "ulnar deviation",
            5: "pronation", 6: "supination", 7: "fist"}
UV_PER_COUNT = 5.0
MYO_FS = 200
FS = 500
SESSION = "12345-1"
SECONDS_PER_GESTURE = 20


def main() -> int:
    if not SRC.exists():
        print(f"{SRC} is missing: this script needs ../shared/data beside the repository", file=sys.stderr)
        return 2
    descr = BoardShim.get_board_descr(BoardIds.MINDROVE_WIFI_BOARD)
    emg_rows = descr["emg_channels"]
    pieces, labels = [], []
    for g in range(1, 8):
        rows = np.loadtxt(SRC / "_readings_right_hand" / SESSION / f"{g}.txt", delimiter=",", dtype=np.int64)
        n = SECONDS_PER_GESTURE * MYO_FS
        pieces.append(rows[:n, :8].astype(np.float64))
        labels.append(rows[:n, 8])
    emg = np.vstack(pieces)
    label = np.concatenate(labels)
    emg500 = resample_poly(emg, 5, 2, axis=0) * UV_PER_COUNT
    n500 = emg500.shape[0]
    # label of each 500 Hz sample = label of the 200 Hz sample at the same time
    label500 = label[np.minimum((np.arange(n500) * MYO_FS) // FS, len(label) - 1)]
    data = np.zeros((descr["num_rows"], n500))
    data[emg_rows] = np.round(emg500.T, 2)
    data[descr["package_num_channel"]] = np.arange(n500)
    data[descr["timestamp_channel"]] = 1_700_000_000.0 + np.arange(n500) / FS
    change = np.flatnonzero(np.diff(np.concatenate([[-1], label500])) != 0)
    data[descr["marker_channel"], change] = label500[change] + 1
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tsv = Path(tmp) / "demo.tsv"
        DataFilter.write_file(data, str(tsv), "w")
        with open(tsv, "rb") as src, gzip.open(OUT / "myo_gestures_500hz.tsv.gz", "wb", compresslevel=9) as dst:
            shutil.copyfileobj(src, dst)
    meta = {
        "title": "Demo: real Myo armband sEMG, resampled to 500 Hz (not a MindRove recording)",
        "source": "myo-readings-dataset (github.com/aljazfrancic/myo-readings-dataset, commit 2630b1dd), "
                  f"_readings_right_hand/{SESSION}/1..7.txt, first {SECONDS_PER_GESTURE} s of each",
        "license": "MIT, see LICENSE.myo-readings-dataset beside this file",
        "master_board": "MINDROVE_WIFI_BOARD",
        "sampling_rate_hz": FS,
        "original_sampling_rate_hz": MYO_FS,
        "uv_per_count_assumed": UV_PER_COUNT,
        "n_samples": int(n500),
        "duration_s": n500 / FS,
        "markers": {str(k + 1): v for k, v in GESTURES.items()},
        "has_imu": False,
        "has_battery": False,
    }
    (OUT / "myo_gestures_500hz.json").write_text(json.dumps(meta, indent=2) + "\n")
    shutil.copy(SRC / "LICENSE.upstream", OUT / "LICENSE.myo-readings-dataset")
    print(f"wrote {OUT / 'myo_gestures_500hz.tsv.gz'}: {n500} samples, {n500 / FS:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
