"""``asha calibrate``: the calibration wizard's fine-tuning and before/after test, from the command line.

::

    asha calibrate BASE.pt SESSION.h5 [--calib-reps 1,2 | --calib-seconds 180] --strategy head -o PROFILE

It runs the very job the wizard's child process runs
(:func:`asha_app.calibration.jobs.run_calibration` ->
:func:`asha_app.calibration.procedure.calibrate`) on a recorded session: the
calibration part fine-tunes the base model with the chosen strategy, the
held-out part scores it before and after, and the user profile (with its
report card PNG beside it) is written atomically.  Without ``--calib-reps`` or
``--calib-seconds`` the part is the wizard's (the first 75 %, the rest held
out).  The last line of standard output is one strict JSON object with the
before/after metrics (:func:`asha_app.core.jsonout.print_line`).
"""

from __future__ import annotations

import argparse
import logging
import sys

import numpy as np

from asha_app.core.cli_args import POSITIVE_FLOAT, float_range, int_range
from asha_app.core.errors import AshaError
from asha_app.core.jsonout import print_line
from asha_app.data.labels import select_targets
from asha_app.models.commands import _check_out, _load, _wrap, int_list

log = logging.getLogger(__name__)


def _summary(m: dict) -> dict:
    """The headline numbers of a metrics dict, with the mean absolute error."""
    from asha_app.models.plan import headline  # noqa: PLC0415 - scipy.signal on first use

    return {**headline(m), "mae_mean": m.get("mae_mean"), "units": m.get("units")}


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Run ``asha calibrate``."""
    import torch  # noqa: PLC0415 - torch on first use

    from asha_app.calibration import strategies as S  # noqa: PLC0415 - torch on first use
    from asha_app.calibration.jobs import run_calibration  # noqa: PLC0415 - torch on first use
    from asha_app.calibration.parts import calibration_parts  # noqa: PLC0415 - torch on first use
    from asha_app.calibration.procedure import CalibrationSettings  # noqa: PLC0415 - torch on first use
    from asha_app.data.windows import participant_key  # noqa: PLC0415 - scipy.signal on first use
    from asha_app.models import checkpoint as C  # noqa: PLC0415 - torch on first use

    out = _check_out(args.out, "profile")
    if args.threads:
        torch.set_num_threads(args.threads)
    rec = _load([args.session])[0]
    if len(rec.valid) == 0 or not np.asarray(rec.valid, bool).any():
        raise AshaError(f"{args.session}: has no pose labels (no camera-fitted hand, no imported targets); "
                        "calibration needs EMG recorded together with the hand's pose.")
    try:
        base = C.load(args.base, n_channels=rec.n_channels, fs=rec.fs)
        _, names, _ = select_targets(rec, base.target_kind)
        base.check_compatible(target_names=names)
    except C.CheckpointError as exc:
        raise AshaError(f"the base model cannot calibrate on this session: {exc}") from exc
    except AshaError as exc:  # the session lacks the checkpoint's kind of targets
        raise AshaError(f"{args.session} has no labels of the kind {args.base} predicts ({base.target_kind}): {exc}"
                        ) from exc
    parts, part_info = None, {"by": "wizard", "holdout_fraction": 0.25}
    if args.calib_reps is not None or args.calib_seconds is not None:
        calib, held, part_info = calibration_parts(rec, calib_reps=args.calib_reps, calib_seconds=args.calib_seconds)
        parts = (calib, held)
    participant = args.participant or participant_key(rec.meta)
    settings = CalibrationSettings(participant, base_checkpoint=str(args.base), strategy=args.strategy,
                                   max_time_s=args.max_time_s)

    def emit(msg) -> None:
        _, ev = msg
        sys.stderr.write(f"{ev.stage}: {ev.message}\n")

    res = run_calibration(rec, settings, out, {"parts": parts, "require_hand": False}, emit=emit,
                          cancelled=lambda: False)
    before, after = res.before, res.after
    better = after["mae_mean"] < before["mae_mean"]
    if not better:
        sys.stderr.write("warning: the calibrated model is NOT better than the base model on the held-out part.\n")
    print_line({"profile": str(res.profile_path), "report_png": str(res.report_png) if res.report_png else None,
                "base": str(args.base), "session": str(args.session), "participant": participant,
                "strategy": args.strategy, "strategy_label": S.STRATEGIES[args.strategy]["label"],
                "parts": part_info, "finetune_s": res.finetune_s, "improved": bool(better),
                "before_summary": _summary(before), "after_summary": _summary(after),
                "before": before, "after": after})
    return 0


def register(subparsers) -> None:
    """Add ``calibrate`` to an argparse sub-parser collection; it sets ``func``."""
    from asha_app.calibration.strategies import DEFAULT_STRATEGY, STRATEGIES  # noqa: PLC0415 - torch on first use

    p = subparsers.add_parser(
        "calibrate", help="calibrate a base model on a person's recorded session (the wizard's calibration)",
        description="Fine-tune a base model on part of a session (the calibration wizard's job), test it before "
                    "and after on the rest, and write the user profile; prints the before/after metrics as one "
                    "JSON object on the last line.")
    p.add_argument("base", help="the base model checkpoint (.pt)")
    p.add_argument("session", help="the person's session file (.h5), .npz recording or paired-data folder")
    part = p.add_mutually_exclusive_group()
    part.add_argument("--calib-reps", type=int_list, metavar="N,N",
                      help="repetitions (from 1) that calibrate, e.g. 1,2; every other repetition is held out")
    part.add_argument("--calib-seconds", type=POSITIVE_FLOAT, metavar="S",
                      help="the first S seconds calibrate, the rest is held out (e.g. 180)")
    p.add_argument("--strategy", choices=sorted(STRATEGIES), default=DEFAULT_STRATEGY,
                   help="what adapts: " + "; ".join(f"{k}: {v['label']}" for k, v in STRATEGIES.items()))
    p.add_argument("-o", "--out", required=True, help="user profile to write (.ashaprofile); the report card PNG "
                                                      "goes beside it")
    p.add_argument("--participant", help="name in the profile (default: the session's participant)")
    p.add_argument("--max-time-s", type=float_range(1.0, 3600.0), default=45.0, help="fine-tuning time budget, s")
    p.add_argument("--threads", type=int_range(0, 1024), default=0, help="torch CPU threads (0: torch default)")
    p.set_defaults(func=_wrap(cmd_calibrate))
