"""``asha train`` and ``asha evaluate``: command-line training and evaluation.

Gesture classifiers (``asha train --task gesture``, and ``asha evaluate`` of a
gesture checkpoint) are handed to :mod:`asha_app.gestures.commands`.

The lead wires :func:`register` into :mod:`asha_app.cli`::

    sub = parser.add_subparsers(dest="command")
    asha_app.models.commands.register(sub)
    ...
    if getattr(args, "func", None): return args.func(args)

``asha train`` and ``asha evaluate`` print their results as ONE line of strict
JSON (non-finite numbers as ``null``; :func:`asha_app.core.jsonout.print_line`)
as their last line.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

import numpy as np

from asha_app.core.cli_args import (NONNEGATIVE_FLOAT, NONNEGATIVE_INT, POSITIVE_FLOAT, float_range,
                                    int_range, json_object)
from asha_app.core.errors import AshaError
from asha_app.core.jsonout import print_line
from asha_app.data.labels import select_targets
from asha_app.models import metrics as M
from asha_app.models.recordings_io import load_any
from asha_app.models.report import write_report
from asha_app.models.threads import training_threads

log = logging.getLogger(__name__)


def _filter_spec(args, recs: list):
    """The filter chain ``--filter``/``--band``/``--notch`` ask for, and why (a phrase for the log and the JSON).

    ``auto`` follows the recordings' signal kind (:func:`asha_app.data.signal_kind.auto_filter_spec`); ``--band`` or
    ``--notch`` make it the live chain with those settings.  A chain that cannot exist at the data's rate raises
    :class:`~asha_app.dsp.filters.FilterDesignError` naming the rate and the edge.
    """
    from asha_app.data.signal_kind import auto_filter_spec  # noqa: PLC0415 - scipy.signal on first use
    from asha_app.dsp.filters import FilterSpec  # noqa: PLC0415 - scipy.signal on first use

    fs = recs[0].fs
    explicit = bool(args.band) or args.notch is not None
    if args.filter == "none":
        if explicit:
            raise AshaError("--filter none and --band/--notch contradict each other; give one or the other.")
        return FilterSpec(fs=fs, band=None, notch_hz=None), "none (--filter none)"
    if args.filter == "auto" and not explicit:
        return auto_filter_spec(recs)
    spec = FilterSpec.raw_semg_default(fs)
    band = tuple(args.band) if args.band else spec.band
    notch = spec.notch_hz if args.notch is None else (args.notch if args.notch > 0 else None)
    why = "the live sEMG chain" + (" with --band/--notch" if explicit else "")
    return FilterSpec(fs=fs, band=band, notch_hz=notch), why


def _split_choice(args, recs: list) -> tuple[str, dict]:
    """``--split`` and the held-out groups as :func:`asha_app.data.splits.make_split`'s kind and arguments.

    Repetitions are numbered from 1 on the command line (as everywhere a person sees them) and
    stored from 0.  Naming held-out groups of one kind with ``--split auto`` picks that kind.
    """
    from asha_app.data import splits as SP  # noqa: PLC0415 - scipy.signal on first use

    held = {"repetitions": (args.val_reps, args.test_reps, "--val-reps/--test-reps"),
            "sessions": (args.val_sessions, args.test_sessions, "--val-sessions/--test-sessions"),
            "participants": (args.val_participants, args.test_participants, "--val-participants/--test-participants")}
    named = [k for k, (v, t, _) in held.items() if v or t]
    kind = args.split
    if len(named) > 1:
        raise AshaError(f"{' and '.join(held[k][2] for k in named)} name held-out groups of different splits; "
                        "give those of one split only.")
    if kind == "auto" and named:
        kind = named[0]
    for k in named:
        if k != kind:
            raise AshaError(f"{held[k][2]} apply to --split {k}, not --split {kind}.")
    gap = {"gap_ms": args.gap_ms} if args.gap_ms else {}
    if kind in ("auto", "time_blocks"):
        return kind, {"n_blocks": args.blocks, **gap}
    val, test, _ = held[kind]
    if kind == "repetitions":
        reps = SP.repetitions_of(recs)
        if not reps:
            raise AshaError("--split repetitions: a recording has no prompts with repetition numbers; use --split "
                            "time_blocks (or auto).")
        if not (val or test):
            return kind, {"assign_rep": SP.default_repetition_assignment(reps), **gap}
        a = SP.held_out_assignment([r + 1 for r in reps], val, test, "repetition")
        return kind, {"assign_rep": {k - 1: v for k, v in a.items()}, **gap}
    sessions, participants = SP.group_names(recs)
    keys = sessions if kind == "sessions" else participants
    assign = (SP.held_out_assignment(keys, val, test, kind[:-1]) if (val or test)
              else SP.default_group_assignment(keys))
    return kind, {"assign_session" if kind == "sessions" else "assign_participant": assign}


def add_norm_arguments(parser) -> None:
    """``--norm`` and ``--tau-s`` of ``asha train``, for pose models and gesture classifiers alike.

    Both default to None, which :func:`norm_choice` and :func:`tau_choice` resolve per task (pose: fixed, 300 s;
    gesture: running, 60 s: the time constants measured best on NinaPro DB1, docs/models.md and docs/gestures.md).
    """
    from asha_app.data.normalisation import NORM_KINDS  # noqa: PLC0415 - scipy.signal on first use

    g = parser.add_argument_group("EMG normalisation (pose and gesture models)")
    g.add_argument("--norm", choices=list(NORM_KINDS), default=None,
                   help="fixed: the training split's per-channel statistics; running: RunningNorm, a moving mean and "
                        "variance that follows the person from the first sample (the training statistics as its "
                        "start), for a usable start before calibration (default: fixed for pose models, running "
                        "for gesture classifiers)")
    g.add_argument("--tau-s", type=POSITIVE_FLOAT, default=None,
                   help="RunningNorm time constant, s (--norm running; long enough to span several different "
                        "movements; default 300 for pose models, 60 for gesture classifiers)")


def _norm_words(norm) -> str:
    """E.g. ``"running normalisation (tau 60 s)"`` for report titles."""
    d = norm.describe()
    words = f"{d['kind']} normalisation" + (f" (tau {d['tau_s']:g} s)" if "tau_s" in d else "")
    return words + (" of the log envelope" if d["log_input"] else "")


def norm_choice(args: argparse.Namespace, default: str) -> str:
    """``--norm``, or ``default`` (the task's) when not given."""
    return getattr(args, "norm", None) or default


def tau_choice(args: argparse.Namespace, default: float) -> float:
    """``--tau-s``, or ``default`` (the task's) when not given."""
    return float(getattr(args, "tau_s", None) or default)


def int_list(text: str) -> list[int]:
    """``"2,5,10"`` -> [2, 5, 10] (positive integers), for argparse."""
    try:
        out = [int(x) for x in text.replace(" ", "").split(",") if x]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a comma-separated list of whole numbers (e.g. 2,5,10)") from None
    if not out or min(out) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give numbers from 1 up, separated by commas (e.g. 2,5,10)")
    return out


def str_list(text: str) -> list[str]:
    """``"S1,S2"`` -> ["S1", "S2"], for argparse."""
    out = [x.strip() for x in text.split(",") if x.strip()]
    if not out:
        raise argparse.ArgumentTypeError(f"{text!r}: give one or more names separated by commas")
    return out


def _load(paths: list[str]):
    recs = [load_any(p) for p in paths]
    for p, rec in zip(paths, recs, strict=True):
        if rec.meta.get("crashed"):
            sys.stderr.write(f"warning: {p} is still being recorded, or its recording was interrupted: only the part "
                             "saved so far is used ('asha check --recover' closes an interrupted one).\n")
        for w in rec.meta.get("warnings") or []:
            sys.stderr.write(f"warning: {p}: {w}\n")
    return recs


def _check_out(path: str, what: str) -> Path:
    """Refuse an output path that cannot be written, before minutes of training."""
    out = Path(path)
    if out.is_dir():
        raise AshaError(f"{out}: is a folder; give a file name for the {what} (e.g. {out / 'model.pt'}).")
    probe = out.parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise AshaError(f"{out}: the folder {probe} is not writable; choose another place for the {what}.")
    return out


def cmd_train(args: argparse.Namespace) -> int:
    """Run ``asha train``."""
    import torch  # noqa: PLC0415 - torch on first use

    from asha_app.data.windows import WindowSpec  # noqa: PLC0415 - scipy.signal on first use
    from asha_app.models import checkpoint as C  # noqa: PLC0415 - torch, scipy.signal on first use
    from asha_app.models import train as T  # noqa: PLC0415 - torch, scipy.signal on first use

    if args.band and not args.band[0] < args.band[1]:
        raise AshaError(f"--band {args.band[0]:g} {args.band[1]:g}: the low edge must be below the high edge.")
    if getattr(args, "task", "pose") == "gesture":  # gesture classifiers: asha_app.gestures.commands
        from asha_app.gestures.commands import cmd_train as train_gestures  # noqa: PLC0415 - upward (pyproject)

        return train_gestures(args)
    from asha_app.models.registry import task_of  # noqa: PLC0415 - torch on first use

    if args.model and task_of(args.model) != "pose":
        raise AshaError(f"--model {args.model} is a gesture classifier; add --task gesture to train it.")
    _check_out(args.out, "checkpoint")
    if args.band and not args.band[0] < args.band[1]:
        raise AshaError(f"--band {args.band[0]:g} {args.band[1]:g}: the low edge must be below the high edge.")
    if args.threads:
        torch.set_num_threads(args.threads)
    else:

        torch.set_num_threads(training_threads())
    recs = _load(args.inputs)
    if not args.model:
        from asha_app.data.signal_kind import signal_info  # noqa: PLC0415 - scipy.signal on first use
        from asha_app.models.registry import default_model  # noqa: PLC0415 - torch on first use

        kinds = [signal_info(r).kind for r in recs]
        args.model = default_model(kinds)
        log.info("model: %s, the default for %s", args.model, " and ".join(sorted(set(kinds))))
    fspec, why = _filter_spec(args, recs)
    log.info("filter: %s", why)
    kind, split_args = _split_choice(args, recs)
    cfg = args.config or {}
    window = WindowSpec(args.window_ms, args.stride_ms, args.label_lag_ms)
    job = T.prepare(recs, model_name=args.model, model_config=cfg, window=window, filter_spec=fspec,
                    target_kind=args.target, split_kind=kind, split_args=split_args, seed=args.seed,
                    norm=norm_choice(args, "fixed"), tau_s=tau_choice(args, T.POSE_TAU_S))
    log.info("normalisation: %s", job.norm.describe())
    job.hand_model = T.builtin_hand_for(job.ws)
    log.info("split: %s %s", job.split.kind, job.split.counts())
    tcfg = T.TrainConfig(max_epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, patience=args.patience,
                         seed=args.seed, max_time_s=args.max_time_s)
    ev = None
    for ev in T.run(job, tcfg):
        if ev.kind == "epoch":
            sys.stderr.write(f"epoch {ev.epoch}/{ev.max_epochs} train {ev.train_loss:.4f} val {ev.val_loss:.4f} "
                             f"best {ev.best_val_loss:.4f}@{ev.best_epoch} {ev.elapsed_s:.0f}s\n")
    assert ev is not None and ev.checkpoint is not None and ev.result is not None, "run() ends with a done event"
    out = Path(args.out)
    C.save(ev.checkpoint, out)
    m, yt, yp = T.evaluate_job(job, set_name="test")
    files = write_report(out, m, job.ws.label_time[job.split.indices("test")], yt, yp, job.ws.target_names,
                         title=f"{args.model}, {_norm_words(job.norm)}, on "
                               f"{', '.join(Path(p).name for p in args.inputs)}")
    info = {k: v for k, v in job.split.to_dict().items() if k not in ("counts", "warnings")}
    print_line({"checkpoint": str(out), "model": args.model, "split": job.split.counts(), "split_kind": job.split.kind,
                "split_info": info,
                "warnings": job.split.warnings, "filter": {**fspec.to_dict(), "why": why}, "norm": job.norm.describe(),
                "best_epoch": ev.result["best_epoch"], "test": m, "report": files})
    return 0


def _grouped(pred: np.ndarray, ws, hand, inputs: list[str]) -> dict:
    """Headline metrics per recording and per participant, and mean ± std over participants."""
    from asha_app.models.plan import headline  # noqa: PLC0415 - scipy.signal on first use

    def scores(sel: np.ndarray) -> dict:
        m = M.evaluate(pred[sel], ws.y[sel], ws.target_names, ws.target_kind, hand)
        return {**headline(m), "mae_mean": m["mae_mean"]}

    per_rec = []
    for r in range(len(ws.rec_bounds)):
        sel = ws.rec_index == r
        if sel.any():
            per_rec.append({"recording": str(inputs[r]) if r < len(inputs) else ws.sessions[r],
                            "session": ws.sessions[r], "participant": ws.participants[r], **scores(sel)})
    parts = list(dict.fromkeys(ws.participants))
    per_part = {}
    for p in parts:
        sel = np.isin(ws.rec_index, [r for r, q in enumerate(ws.participants) if q == p])
        if sel.any():
            per_part[p] = scores(sel)
    over = {}
    for key in ("r2_mean", "mae_mean", "mpjpe_mm", "angle_err_deg", "pck20"):
        vals = np.array([v[key] for v in per_part.values() if v.get(key) is not None], float)
        vals = vals[np.isfinite(vals)]
        if len(vals):
            over[key] = {"mean": float(vals.mean()), "std": float(vals.std(ddof=1)) if len(vals) > 1 else None,
                         "n_participants": int(len(vals))}
    return {"per_recording": per_rec, "per_participant": per_part, "over_participants": over}


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Run ``asha evaluate``: metrics over all labelled windows of the given (held-out) recordings, and per
    recording and per participant with mean ± std (sample standard deviation) over participants."""
    import torch  # noqa: PLC0415 - torch on first use

    from asha_app.data.windows import build_windows  # noqa: PLC0415 - scipy.signal on first use
    from asha_app.models import checkpoint as C  # noqa: PLC0415 - torch, scipy.signal on first use
    from asha_app.models.dataset import WindowDataset  # noqa: PLC0415 - torch, scipy.signal on first use
    from asha_app.models.train import predict  # noqa: PLC0415 - torch, scipy.signal on first use

    if args.report:
        _check_out(args.report, "report")
    from asha_app.gestures.commands import cmd_evaluate as evaluate_gestures, is_gesture_file  # noqa: PLC0415 - upward

    if is_gesture_file(args.checkpoint):
        return evaluate_gestures(args)
    torch.set_num_threads(args.threads or 1)
    recs = _load(args.inputs)
    _, names, _ = select_targets(recs[0], "auto")
    ck = C.load(args.checkpoint, n_channels=recs[0].n_channels, fs=recs[0].fs)
    _check_signal_kind(ck, recs)
    ws = build_windows(recs, ck.window, ck.filter_spec, ck.target_kind)
    ck.check_compatible(target_names=ws.target_names)
    model = ck.build_model()
    ds = WindowDataset(ws, np.arange(len(ws)), ck.normalizer, model.history)
    pred = ck.normalizer.y_inverse(predict(model, ds))
    from asha_app.models.train import builtin_hand_for  # noqa: PLC0415 - torch, scipy.signal on first use

    hand = builtin_hand_for(ws)
    m = M.evaluate(pred, ws.y, ws.target_names, ws.target_kind, hand)
    m["checkpoint"] = str(args.checkpoint)
    m["inputs"] = [str(p) for p in args.inputs]
    m.update(_grouped(pred, ws, hand, list(args.inputs)))
    for p, v in m["per_participant"].items():
        sys.stderr.write(f"{p}: " + ", ".join(f"{k} {v[k]:.3g}" for k in ("r2_mean", "mae_mean", "mpjpe_mm")
                                              if v.get(k) is not None) + "\n")
    for k, v in m["over_participants"].items():
        sys.stderr.write(f"{k} over {v['n_participants']} participant(s): {v['mean']:.3g}"
                         + (f" ± {v['std']:.3g}" if v["std"] is not None else "") + "\n")
    if args.report:
        m["report"] = write_report(args.report, m, ws.label_time, ws.y, pred, ws.target_names)
    print_line(m)
    return 0


def _check_signal_kind(ck, recs: list) -> None:
    """Warn when a checkpoint's filter does not suit the recordings' signal (a raw-sEMG chain on an envelope)."""
    from asha_app.data.signal_kind import RAW_SEMG, signal_info  # noqa: PLC0415 - scipy.signal on first use

    info = signal_info(recs[0])
    filtered = ck.filter_spec.band is not None or ck.filter_spec.notch_hz is not None
    if filtered and info.kind != RAW_SEMG:
        log.warning("the checkpoint band-passes/notches its input, but %s holds %s: it was trained for another "
                    "kind of signal", recs[0].meta.get("file", "the recording"), info.describe())


def _wrap(fn):
    def run(args):
        try:
            return fn(args)
        except AshaError as exc:
            sys.stderr.write(f"error: {exc}\n")
            return 2

    return run


def register(subparsers) -> None:
    """Add ``train`` and ``evaluate`` to an argparse sub-parser collection; each sets ``func``."""
    from asha_app.data.splits import SPLIT_CHOICES  # noqa: PLC0415 - scipy.signal on first use
    from asha_app.models.registry import DEFAULT_MODEL, available  # noqa: PLC0415 - torch on first use

    p = subparsers.add_parser("train", help="train an EMG-to-pose model on recordings",
                              description="Train a model on session files (.h5), recording archives (.npz) or a "
                                          "paired Myo/MediaPipe folder; writes the checkpoint and its report.")
    p.add_argument("inputs", nargs="+", help="session files, .npz recordings or an import folder")
    p.add_argument("--model", default=None, choices=available(None),
                   help=f"pose: ridge, riemann, seed, envtcn, msenv, msriem (default {DEFAULT_MODEL}; msriem for "
                        "recordings of RMS envelopes, such as NinaPro DB1); "
                        "gesture: lda, mlp, mlpx, mhcnn, proto (default proto)")
    p.add_argument("--config", type=json_object, help="model settings as JSON, e.g. '{\"hidden\": 48}'")
    p.add_argument("--out", default="model.pt", help="checkpoint path (report files go beside it)")
    p.add_argument("--target", default="auto", choices=["auto", "joint_angles", "targets", "joints_mm"],
                   help="what the model predicts; auto: hand-model joint angles (deg, the pose the live hand is "
                        "drawn from) when the data has them, else the imported targets, else joints (mm)")
    p.add_argument("--window-ms", type=float_range(0.0, 60_000.0), default=0.0,
                   help="window length, ms (default: the model's history)")
    p.add_argument("--stride-ms", type=float_range(0.0, 60_000.0, lo_open=True), default=20.0,
                   help="stride between windows, ms")
    p.add_argument("--label-lag-ms", type=float_range(0.0, 10_000.0), default=0.0,
                   help="label taken this long after the window end")
    p.add_argument("--filter", choices=["auto", "default", "none"], default="auto",
                   help="auto: what the recording's signal asks for (the data set's own spec; the live chain for "
                        "raw sEMG, none for an RMS envelope or normalised values); default: the live sEMG chain; "
                        "--band/--notch imply default")
    p.add_argument("--band", type=POSITIVE_FLOAT, nargs=2, metavar=("LOW", "HIGH"),
                   help="band-pass edges, Hz (below half the sampling rate)")
    p.add_argument("--notch", type=NONNEGATIVE_FLOAT, default=None,
                   help="mains notch, Hz (0: off; default 50 when below half the sampling rate)")
    p.add_argument("--split", choices=list(SPLIT_CHOICES), default="auto",
                   help="how windows are held out (never at random): auto = repetitions when every recording "
                        "repeats its prompts (at least 3 times), else time blocks")
    p.add_argument("--blocks", type=int_range(3, 10_000), default=10,
                   help="time_blocks: contiguous blocks per recording for train/val/test (60/20/20)")
    p.add_argument("--gap-ms", type=POSITIVE_FLOAT, default=None,
                   help="gap between windows of different sets, ms (default: one window)")
    p.add_argument("--val-reps", type=int_list, default=None, metavar="N,N",
                   help="repetitions (from 1) for validation, e.g. 7; the rest not held out trains")
    p.add_argument("--test-reps", type=int_list, default=None, metavar="N,N",
                   help="repetitions (from 1) for test, e.g. 2,5,10 (default: NinaPro's 7 / 2,5,10 for 10 repetitions, "
                        "else about 30 %% spread over the session)")
    p.add_argument("--val-sessions", type=str_list, default=None, metavar="NAME,NAME")
    p.add_argument("--test-sessions", type=str_list, default=None, metavar="NAME,NAME",
                   help="sessions held out for test (--split sessions)")
    p.add_argument("--val-participants", type=str_list, default=None, metavar="ID,ID")
    p.add_argument("--test-participants", type=str_list, default=None, metavar="ID,ID",
                   help="participants held out for test: held-out-user evaluation (--split participants)")
    p.add_argument("--epochs", type=int_range(1, 100_000), default=60)
    p.add_argument("--batch-size", type=int_range(1, 1_000_000), default=64)
    p.add_argument("--lr", type=float_range(0.0, 10.0, lo_open=True), default=1e-3)
    p.add_argument("--patience", type=NONNEGATIVE_INT, default=8)
    p.add_argument("--seed", type=int_range(0, 2**32 - 1), default=0)
    p.add_argument("--max-time-s", type=POSITIVE_FLOAT, default=None)
    p.add_argument("--threads", type=int_range(0, 1024), default=0,
                   help="torch CPU threads (0: the cores that are free now)")
    add_norm_arguments(p)
    from asha_app.gestures.commands import (  # noqa: PLC0415 - upward (see pyproject's layers contract)
        add_arguments as add_gesture_arguments,
        add_evaluate_arguments,
    )

    add_gesture_arguments(p)
    p.set_defaults(func=_wrap(cmd_train))

    e = subparsers.add_parser("evaluate", help="evaluate a checkpoint on held-out recordings",
                              description="Evaluate a checkpoint on every labelled window of the given recordings; "
                                          "prints the metrics as one JSON object on the last line.")
    e.add_argument("checkpoint")
    e.add_argument("inputs", nargs="+")
    e.add_argument("--report", help="write report files beside this path")
    e.add_argument("--threads", type=int_range(1, 1024), default=1)
    add_evaluate_arguments(e)
    e.set_defaults(func=_wrap(cmd_evaluate))
