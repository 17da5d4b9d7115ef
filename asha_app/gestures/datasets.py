"""Readers for gesture data sets that are not Asha sessions (for benchmarks and the command line).

* :func:`read_myo_gesture_session`: one session folder of the myo-readings-dataset
  (github.com/aljazfrancic/myo-readings-dataset, MIT): ``<label>.txt`` files of
  comma-separated rows ``ch1..ch8,label`` (signed 8-bit Myo counts, about 200 Hz);
  each file holds 60 s in which rest (label 0, "hibernation") and the file's
  gesture alternate every 5 s.  One :class:`Recording` per file, with one
  prompt per gesture stretch, so :func:`asha_app.gestures.labels.gesture_timeline`
  reads its labels like any protocol's.
* :func:`read_ninapro_gestures`: a NinaPro file through Asha's importer, with the
  participant named from its ``subject`` variable (``"S8"``) for held-out-user splits.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from asha_app.core.errors import RecordingFileError
from asha_app.data.recording import Prompt, Recording
import json
from asha_app.core import paths

#: the data set's gesture codes (its README): 0 is "hibernation", read as rest
MYO_GESTURES = {
    0: "rest",
    1: "wrist flexion",
    2: "wrist extension",
    3: "radial deviation",
    4: "ulnar deviation",
    5: "pronation",
    6: "supination",
    7: "fist",
}
MYO_FS = 200.0


def is_myo_gesture_folder(path: str | Path) -> bool:
    """Whether ``path`` is a folder of ``<digit>.txt`` files (a myo-readings-dataset session)."""
    p = Path(path)
    return p.is_dir() and any(f.stem.isdigit() and f.suffix == ".txt" for f in p.iterdir())


def _runs(lab: np.ndarray) -> list[tuple[int, int, int]]:
    change = np.flatnonzero(np.diff(lab) != 0) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [lab.size]])
    return [(int(lab[s]), int(s), int(e)) for s, e in zip(starts, ends, strict=True)]


def read_myo_gesture_session(folder: str | Path, participant: str | None = None) -> list[Recording]:
    """One myo-readings-dataset session folder as recordings (one per gesture file).

    Parameters
    ----------
    folder : path
        E.g. ``../shared/data/emg_myo_gestures/_readings_right_hand/12345-1``.
    participant : str, optional
        Default: the folder name before the dash (``"12345"``).

    Returns
    -------
    list of Recording
        ``emg`` float32 (n, 8) in Myo counts at 200 Hz, ``prompts`` one per
        non-rest run (repetition = its index in the file), ``meta`` with
        ``session`` (folder name) and ``participant``.

    Raises
    ------
    RecordingFileError
        Not a folder of ``<label>.txt`` files, or a file that is not 9 comma-separated integer columns.
    """
    folder = Path(folder)
    if not is_myo_gesture_folder(folder):
        raise RecordingFileError(f"{folder}: not a myo-readings-dataset session folder (no <label>.txt files)")
    session = folder.name
    participant = participant or session.split("-")[0]
    out = []
    for f in sorted(
        (f for f in folder.iterdir() if f.stem.isdigit() and f.suffix == ".txt"), key=lambda f: int(f.stem)
    ):
        try:
            rows = np.loadtxt(f, delimiter=",", dtype=np.int64, ndmin=2)
        except ValueError as exc:
            raise RecordingFileError(f"{f}: not rows of 8 EMG values and a label ({exc})") from exc
        if rows.shape[1] != 9 or len(rows) < 2:
            raise RecordingFileError(
                f"{f}: expected rows of 9 comma-separated integers (8 EMG + label), got shape {rows.shape}"
            )
        emg = rows[:, :8].astype(np.float32)
        lab = rows[:, 8]
        t = np.arange(len(rows)) / MYO_FS
        prompts = []
        rep = 0
        for code, s, e in _runs(lab):
            if code == 0:
                continue
            prompts.append(
                Prompt(MYO_GESTURES.get(code, f"gesture {code}"), float(t[s]), float(t[e - 1] + 1 / MYO_FS), rep)
            )
            rep += 1
        if not prompts:  # the rest-only file (0.txt): one rest prompt, so it is labelled, not unlabelled
            prompts.append(Prompt(MYO_GESTURES[0], 0.0, float(t[-1] + 1 / MYO_FS), 0))
        out.append(
            Recording(
                emg=emg,
                emg_t=t,
                fs=MYO_FS,
                channel_names=[f"ch{i + 1}" for i in range(8)],
                emg_units="Myo counts",
                prompts=prompts,
                meta={
                    "session": session,
                    "participant": participant,
                    "source_file": str(f),
                    "source_format": "myo-readings-dataset",
                    "device": "Myo armband",
                },
            )
        )
    return out


def read_ninapro_gestures(path: str | Path, fs: float = 100.0) -> Recording:
    """A NinaPro file (DB1: ``fs=100``) with ``participant`` = ``"S<subject>"`` and ``session`` = the file name.

    Raises
    ------
    RecordingFileError
        From :func:`asha_app.data.importers.ninapro.read_ninapro`.
    """
    from asha_app.data.importers.ninapro import read_ninapro  # noqa: PLC0415 - h5py, scipy.io on first use

    rec = read_ninapro(path, fs=fs)
    subj = rec.meta.get("subject")
    rec.meta["participant"] = f"S{int(subj[0])}" if subj else Path(path).stem
    rec.meta["session"] = Path(path).stem
    return rec


def demo_gesture_recording() -> Recording:
    """The bundled demo recording (real Myo sEMG at 500 Hz, ``resources/demo``) with its gesture markers named.

    The demo marks every change of gesture with code ``label + 1`` (``resources/demo/myo_gestures_500hz.json``:
    1 rest, 2 wrist flexion, ... 8 fist); the names are put where a recorded session keeps them
    (``meta["device"]["marker_names"]``), so :func:`asha_app.gestures.labels.gesture_timeline` reads them.

    Returns
    -------
    Recording
        ``session`` ``"demo"``, ``participant`` ``"demo"``.
    """

    from asha_app.data.importers.brainflow_csv import read_brainflow_csv  # noqa: PLC0415 - h5py on first use
    from asha_app.devices.emg import DemoSource, unpack_demo_recording  # noqa: PLC0415 - mindrove on first use

    meta = json.loads(paths.resource("demo", DemoSource.RESOURCE + ".json").read_text())
    rec = read_brainflow_csv(unpack_demo_recording())
    rec.meta["device"] = {"kind": "demo", "marker_names": dict(meta.get("markers", {}))}
    rec.meta.update(session="demo", participant="demo", source_file="demo recording")
    return rec
