"""The bundled live demo (``resources/live_demo``): real paired EMG replayed through the MindRove playback board.

The paired Myo + MediaPipe session (JHU-BCIS NTX 2023, MIT) exists only as
MiniVIE's ~50 Hz output.  The SDK's playback board replays a file at its master
board's rate (MindRove WiFi: 500 Hz), so the demo file repeats every 50 Hz
sample :data:`DECIMATION` (10) times (zero-order hold), and the live path keeps
every 10th sample again (:class:`asha_app.inference.runner.DecimatedRunner`,
phase from the package numbers), which gives back exactly the 50 Hz samples the
model was trained on: live output == batch output on the 50 Hz recording.

The package-number row holds the sample index in the file, so the reference
finger angles (``reference_angles.csv``) are aligned to the replayed EMG by
package number, not by wall clock.
"""

from __future__ import annotations

import csv
import gzip
import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asha_app.core.atomic import atomic_write
from asha_app.core import paths
from asha_app.core.errors import RecordingFileError
from asha_app.data.recording import Recording

log = logging.getLogger(__name__)

MODEL_FS = 50.0
FILE_FS = 500.0
DECIMATION = 10
EMG_SCALE = 100.0
RESOURCE_DIR = "live_demo"
EMG_FILE = "paired_emg_500hz.tsv.gz"
FINGERS = ["thumb", "index", "middle", "ring", "little"]


def write_wifi_playback(emg: np.ndarray, path: str | Path, factor: int = DECIMATION, fs_file: float = FILE_FS,
                        t0: float = 1_700_000_000.0) -> int:
    """Write EMG as a MindRove WiFi board recording (``DataFilter.write_file`` text layout), optionally gzip.

    Parameters
    ----------
    emg : array (n, 8)
        EMG samples on a uniform grid.
    path : path
        Output; ``.gz`` suffix writes gzip.
    factor : int
        Each input sample is repeated ``factor`` times (zero-order hold) to reach ``fs_file``.
    fs_file : float
        Rate of the file (the playback board's master rate), Hz.
    t0 : float
        Timestamp of the first sample (s, Unix).

    Returns
    -------
    int
        Samples written.  Package numbers are 0..n-1 (the file sample index).
    """
    from mindrove.board_shim import BoardIds, BoardShim  # noqa: PLC0415 - the MindRove SDK on first use

    d = BoardShim.get_board_descr(BoardIds.MINDROVE_WIFI_BOARD)
    emg = np.asarray(emg, dtype=np.float64)
    if emg.ndim != 2 or emg.shape[1] > len(d["emg_channels"]):
        raise ValueError(f"need (n, <= {len(d['emg_channels'])}) EMG, got {emg.shape}")
    up = np.repeat(emg, int(factor), axis=0)
    n = len(up)
    rows = np.zeros((int(d["num_rows"]), n))
    rows[d["emg_channels"][: emg.shape[1]]] = up.T
    rows[d["package_num_channel"]] = np.arange(n)
    rows[d["timestamp_channel"]] = t0 + np.arange(n) / fs_file
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    opener = gzip.open if path.suffix == ".gz" else open
    with atomic_write(path) as tmp, opener(tmp, "wt") as f:
        np.savetxt(f, rows.T, fmt="%.6f", delimiter="\t")
    return n


@dataclass
class DemoAssets:
    """Paths and metadata of the bundled live demo.

    Attributes
    ----------
    folder : Path
    model_path : Path
        The checkpoint (50 Hz model).
    emg_file : Path
        The unpacked 500 Hz playback file (in the user cache).
    meta : dict
        ``live_demo.json``.
    ref_sample : int array (m,)
        File sample index (= package number) of each reference frame.
    ref_angles : float32 array (m, 5)
        Recorded finger flexion angles, degrees (180 = straight), thumb..little.
    """

    folder: Path
    model_path: Path
    emg_file: Path
    meta: dict
    ref_sample: np.ndarray
    ref_angles: np.ndarray

    def reference_at(self, package: float) -> np.ndarray | None:
        """Reference angles (5,) at a file sample (linear interpolation), None outside the recorded frames."""
        s = self.ref_sample
        if len(s) < 2 or package < s[0] or package > s[-1]:
            return None
        j = int(np.searchsorted(s, package, side="right")) - 1
        j = min(max(j, 0), len(s) - 2)
        w = (package - s[j]) / max(1.0, float(s[j + 1] - s[j]))
        if s[j + 1] - s[j] > FILE_FS:  # gap of more than 1 s between frames: no reference
            return None
        return (1 - w) * self.ref_angles[j] + w * self.ref_angles[j + 1]


def load_reference(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read ``reference_angles.csv`` -> (file sample index (m,), angles (m, 5))."""
    path = Path(path)
    if not path.is_file():
        raise RecordingFileError(f"{path} is missing; rebuild the live demo with scripts/build_live_demo.py")
    with open(path, newline="") as f:
        r = csv.DictReader(f)
        rows = [(int(row["file_sample"]), [float(row[k]) for k in FINGERS]) for row in r]
    if not rows:
        raise RecordingFileError(f"{path} holds no reference frames")
    return np.array([a for a, _ in rows], np.int64), np.array([b for _, b in rows], np.float32)


def demo_assets(folder: str | Path | None = None) -> DemoAssets:
    """Locate the bundled demo and unpack its EMG file into the cache (once per file version).

    Raises
    ------
    RecordingFileError
        A file of the demo is missing (the message says how to rebuild it).
    """
    folder = Path(folder) if folder is not None else paths.resource(RESOURCE_DIR)
    need = ["model.pt", EMG_FILE, "reference_angles.csv", "live_demo.json"]
    missing = [n for n in need if not (folder / n).is_file()]
    if missing:
        raise RecordingFileError(f"the live demo in {folder} lacks {', '.join(missing)}; "
                                 "rebuild it with scripts/build_live_demo.py")
    meta = json.loads((folder / "live_demo.json").read_text())
    src = folder / EMG_FILE
    dst = paths.cache_dir() / EMG_FILE.removesuffix(".gz")
    if not dst.exists() or dst.stat().st_mtime < src.stat().st_mtime:
        dst.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(dst) as tmp, gzip.open(src, "rb") as fin, open(tmp, "wb") as fout:
            shutil.copyfileobj(fin, fout)
    s, a = load_reference(folder / "reference_angles.csv")
    return DemoAssets(folder, folder / "model.pt", dst, meta, s, a)


def demo_recording(assets: DemoAssets, max_s: float | None = None):
    """The demo stretch as a 50 Hz :class:`Recording`.

    Every ``decimation``-th file row, the reference angles as labels.

    The EMG is exactly what the demo model was trained on (MiniVIE units x ``emg_scale``);
    used by tests and the calibration benchmark.
    """
    from mindrove.board_shim import BoardIds, BoardShim  # noqa: PLC0415 - the MindRove SDK on first use
    from mindrove.data_filter import DataFilter  # noqa: PLC0415 - the MindRove SDK on first use

    d = BoardShim.get_board_descr(BoardIds.MINDROVE_WIFI_BOARD)
    data = DataFilter.read_file(str(assets.emg_file))
    pk = np.round(data[d["package_num_channel"]]).astype(np.int64)
    dec = int(assets.meta.get("decimation", DECIMATION))
    keep = pk % dec == 0
    if max_s is not None:
        keep &= pk < int(max_s * FILE_FS)
    emg = data[d["emg_channels"]][:, keep].T.astype(np.float32)
    fs = FILE_FS / dec
    t = pk[keep] / FILE_FS
    lab_t = assets.ref_sample / FILE_FS
    sel = lab_t <= t[-1]
    return Recording(emg=emg, emg_t=t.astype(np.float64), fs=fs, label_t=lab_t[sel], targets=assets.ref_angles[sel],
                     valid=np.ones(int(sel.sum()), bool), target_names=list(FINGERS),
                     channel_names=[f"myo{i + 1}" for i in range(emg.shape[1])],
                     emg_units=assets.meta.get("emg_units", ""),
                     meta={"session": "live_demo", "device": "myo-minivie", "participant": "ntx2023",
                           "source": assets.meta.get("source", "")})
