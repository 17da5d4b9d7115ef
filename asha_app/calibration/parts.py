"""The calibration part and the held-out part of a recording, by prompt repetitions or by seconds.

The wizard calibrates on the first 75 % of its short recording and tests on the
rest (:func:`asha_app.calibration.strategies.split_holdout`).  A researcher
calibrating on a longer session chooses the part instead (``asha calibrate
--calib-reps 1,2`` or ``--calib-seconds 180``): the repetitions named (every
movement's first two repetitions, about 3 minutes of NinaPro DB1) calibrate and
every other repetition is held out, or the first N seconds calibrate and the
rest is held out.  Parts are lists of contiguous pieces (a NinaPro file is
ordered movement by movement, so repetitions 1-2 of every movement are 12
pieces); windows never cross from one piece into another, and pieces of
different parts lie ``gap_s`` apart.
"""

from __future__ import annotations

import numpy as np

from asha_app.calibration.strategies import slice_recording
from asha_app.core.errors import AshaError
from asha_app.data.recording import Recording


class CalibrationPartsError(AshaError):
    """The calibration part cannot be cut as asked (repetitions that do not exist, too many seconds)."""


def as_list(part) -> list[Recording]:
    """A part as a list of recordings (a single recording is a one-piece part)."""
    return list(part) if isinstance(part, (list, tuple)) else [part]


def duration_s(part) -> float:
    """Total seconds of EMG of a part."""
    return float(sum(float(r.emg_t[-1] - r.emg_t[0]) for r in as_list(part) if len(r.emg_t) > 1))


def has_valid_labels(part) -> bool:
    """True when some piece of a part has a valid label frame."""
    return any(np.asarray(r.valid, bool).any() for r in as_list(part))


def _name(rec: Recording) -> str:
    return str(rec.meta.get("source_file") or rec.meta.get("file") or rec.meta.get("session") or "the session")


def calibration_parts(rec: Recording, calib_reps: list[int] | None = None, calib_seconds: float | None = None,
                      gap_s: float = 2.0, min_piece_s: float = 1.0) -> tuple[list[Recording], list[Recording], dict]:
    """Cut ``rec`` into the calibration part and the held-out part.

    Parameters
    ----------
    rec : Recording
    calib_reps : list of int, optional
        Repetitions (numbered from 1, as shown everywhere) that calibrate; every other repetition is
        held out.  Time from a prompt's start to the next prompt's start belongs to that prompt's
        repetition (as in :func:`asha_app.data.splits.split_by_repetitions`).
    calib_seconds : float, optional
        The first ``calib_seconds`` s calibrate, the rest (after ``gap_s``) is held out.
    gap_s : float
        Seconds between pieces of different parts (no window sees both).
    min_piece_s : float
        Pieces shorter than this are left out (too short for a window).

    Returns
    -------
    (calibration pieces, held-out pieces, info)
        ``info``: ``{"by": "repetitions", "calib_reps": [...], "held_out_reps": [...]}`` or
        ``{"by": "seconds", "calib_seconds": s}``, with ``calib_s`` and ``held_out_s``.

    Raises
    ------
    CalibrationPartsError
        Both or neither of ``calib_reps`` / ``calib_seconds``; repetitions that are not in the
        recording (the message lists those that are); no prompts with repetition numbers; a
        calibration part that leaves nothing held out.
    """
    if (calib_reps is None) == (calib_seconds is None):
        raise CalibrationPartsError("give the calibration part either by repetitions or by seconds, not both")
    t_start, t_end = float(rec.emg_t[0]), float(rec.emg_t[-1])
    if calib_seconds is not None:
        if not calib_seconds > 0:
            raise CalibrationPartsError(f"--calib-seconds {calib_seconds:g}: give a positive number of seconds")
        cut = t_start + float(calib_seconds)
        if cut + gap_s + 2.0 > t_end:
            raise CalibrationPartsError(
                f"{_name(rec)} lasts {t_end - t_start:.0f} s: calibrating on its first {calib_seconds:g} s leaves "
                f"nothing to test on (the held-out part starts {gap_s:g} s later); calibrate on at most "
                f"{max(0.0, t_end - t_start - gap_s - 2.0):.0f} s")
        calib = [slice_recording(rec, t_start, cut)]
        held = [slice_recording(rec, cut + gap_s, t_end + 1.0)]
        info = {"by": "seconds", "calib_seconds": float(calib_seconds)}
    else:
        prompts = sorted([p for p in rec.prompts if p.repetition >= 0], key=lambda p: p.start)
        if not prompts:
            raise CalibrationPartsError(f"{_name(rec)} has no prompts with repetition numbers; give the "
                                        "calibration part in seconds (--calib-seconds) instead")
        present = sorted({p.repetition + 1 for p in prompts})
        assert calib_reps is not None  # exactly one of the two was given (checked above)
        wanted = sorted({int(r) for r in calib_reps})
        missing = [r for r in wanted if r not in present]
        if missing:
            raise CalibrationPartsError(
                f"repetition(s) {', '.join(map(str, missing))} are not in {_name(rec)}: it has repetitions "
                f"{', '.join(map(str, present))}")
        if set(wanted) >= set(present):
            raise CalibrationPartsError(f"calibrating on every repetition ({', '.join(map(str, present))}) leaves "
                                        "none to test on; name fewer repetitions")
        bounds = [t_start] + [p.start for p in prompts[1:]] + [t_end + 1.0]
        is_calib = [p.repetition + 1 in wanted for p in prompts]
        # merge consecutive prompts of the same part into pieces: (start, end, calib?)
        runs: list[list] = []
        for j, c in enumerate(is_calib):
            if runs and runs[-1][2] == c:
                runs[-1][1] = bounds[j + 1]
            else:
                runs.append([bounds[j], bounds[j + 1], c])
        calib, held = [], []
        for k, (a, b, c) in enumerate(runs):
            a = a + (gap_s / 2 if k > 0 else 0.0)
            b = b - (gap_s / 2 if k < len(runs) - 1 else 0.0)
            if b - a < min_piece_s:
                continue
            (calib if c else held).append(slice_recording(rec, a, b))
        info = {"by": "repetitions", "calib_reps": wanted, "held_out_reps": [r for r in present if r not in wanted]}
    calib = [r for r in calib if len(r.emg_t) > 1]
    held = [r for r in held if len(r.emg_t) > 1]
    if not calib or not held:
        raise CalibrationPartsError(f"{_name(rec)}: the {'calibration' if not calib else 'held-out'} part is empty")
    info.update(calib_s=duration_s(calib), held_out_s=duration_s(held), calib_pieces=len(calib),
                held_out_pieces=len(held))
    return calib, held, info
