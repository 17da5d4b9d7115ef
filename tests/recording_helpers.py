"""Helpers for the recording UI and replay tests: small real session files and short protocols."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from asha_app.data.recording import Prompt
from asha_app.data.writer import SessionWriter

FS = 500.0
C = 8
ANGLES = ["a0", "a1", "a2"]


def emg_signal(n: int) -> np.ndarray:
    """A deterministic multi-channel test signal: channel c at sample i is ``sin(i * (c+1) / 50) * 100 + i % 97``."""
    i = np.arange(n)[:, None]
    c = np.arange(C)[None, :]
    return (np.sin(i * (c + 1) / 50.0) * 100.0 + (i % 97)).astype(np.float32)


def write_session(path: Path, seconds: float = 10.0, label_hz: float = 30.0, participant: str = "P01") -> Path:
    """Write a finalized session with EMG, labels (every 7th frame invalid) and two prompts."""
    n = int(seconds * FS)
    t = np.arange(n) / FS + 2.0  # the session clock started 2 s before the recording
    w = SessionWriter(path, C, FS, ANGLES, participant={"pseudonym": participant, "arm": "right", "hand": "right"})
    w.append_emg(t, emg_signal(n), package=np.arange(n, dtype=float), marker=np.zeros(n))
    m = int(seconds * label_hz)
    lt = 2.0 + np.arange(m) / label_hz
    ang = np.column_stack([np.sin(lt), np.cos(lt), lt]).astype(np.float32) * 10
    valid = (np.arange(m) % 7) != 3
    ang[~valid] = np.nan
    w.append_label_arrays(lt, ang, None, valid)
    w.append_prompt(Prompt("fist", 3.0, 5.0, 0))
    w.append_prompt(Prompt("open", 6.0, 8.0, 0))
    w.finalize()
    return path


def short_protocol(path: Path, duration: float = 0.8, reps: int = 2, rest: float = 0.3, countdown: float = 0.3) -> Path:
    """A protocol made from the built-in basic poses with tiny durations (two prompts)."""
    path.write_text(f"""
name = "Test poses"
description = "Two prompts with tiny durations"
countdown_s = {countdown}
order = "interleaved"

[poses.fist]
index_mcp_flexion = 85.0
index_pip_flexion = 95.0

[poses.open]
index_mcp_flexion = 0.0

[[prompts]]
label = "fist"
instruction = "Make a fist."
duration_s = {duration}
repetitions = {reps}
rest_s = {rest}
target = "fist"

[[prompts]]
label = "open"
instruction = "Open the hand."
duration_s = {duration}
repetitions = {reps}
rest_s = {rest}
target = "open"
""")
    return path
