"""Recordings with NinaPro-style prompts cut from the real paired Myo + MediaPipe slice (tests/assets/paired_slice).

The slice is 75 s of real EMG and finger angles at 50 Hz; the prompts laid over it are generated: movements
ordered movement by movement (all repetitions of one, then the next), as NinaPro files are.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from asha_app.data.importers.paired_myo_mediapipe import load_paired
from asha_app.data.recording import Prompt, Recording

SLICE = Path(__file__).parent / "assets" / "paired_slice"


def prompted_slice(n_moves: int = 3, n_reps: int = 4, participant: str = "ntx2023", session: str = "slice",
                   rest_share: float = 0.2) -> Recording:
    """The real slice with ``n_moves`` x ``n_reps`` prompts ("movement 1" ..., repetitions stored from 0)."""
    rec = load_paired(SLICE)
    t0, t1 = float(rec.emg_t[0]), float(rec.emg_t[-1])
    span = (t1 - t0) / (n_moves * n_reps)
    prompts = []
    for m in range(n_moves):
        for r in range(n_reps):
            s = t0 + span * (m * n_reps + r)
            prompts.append(Prompt(f"movement {m + 1}", s, s + span * (1 - rest_share), r))
    return replace(rec, prompts=prompts, meta={**rec.meta, "participant": participant, "session": session})


def write_h5(rec: Recording, path: Path) -> Path:
    """Write a recording as a finalized session file (the importers' writer)."""
    from asha_app.data.importers.session import write_recording

    return write_recording(rec, path)
