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
import sys
from pathlib import Path

import numpy as np

from asha_app.core.cli_args import (NONNEGATIVE_FLOAT, NONNEGATIVE_INT, POSITIVE_FLOAT, float_range,
                                    int_range, json_object)
from asha_app.core.errors import AshaError
from asha_app.core.jsonout import print_line

log = logging.getLogger(__name__)


def _filter_spec(args, fs: float, rec_meta: dict):
    from asha_app.dsp.filters import FilterSpec

    if args.filter == "none":
        return FilterSpec(fs=fs, band=None, notch_hz=None)
    if args.filter == "auto" and "filter_hint" in rec_meta:
        return FilterSpec.from_dict(rec_meta["filter_hint"])
    band = tuple(args.band) if args.band else (20.0, min(200.0, 0.45 * fs))
    return FilterSpec(fs=fs, band=band, notch_hz=args.notch if args.notch > 0 else None)


def _load(paths: list[str]):
    from asha_app.models.recordings_io import load_any

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
    import os

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
    import torch

    from asha_app.data.windows import WindowSpec
    from asha_app.models import checkpoint as C
    from asha_app.models import train as T
    from asha_app.models.report import write_report

    if args.band and not args.band[0] < args.band[1]:
        raise AshaError(f"--band {args.band[0]:g} {args.band[1]:g}: the low edge must be below the high edge.")
    if getattr(args, "task", "pose") == "gesture":  # gesture classifiers: asha_app.gestures.commands
        from asha_app.gestures.commands import cmd_train as train_gestures

        return train_gestures(args)
    from asha_app.models.registry import task_of

    args.model = args.model or "envtcn"
    if task_of(args.model) != "pose":
        raise AshaError(f"--model {args.model} is a gesture classifier; add --task gesture to train it.")
    _check_out(args.out, "checkpoint")
    if args.band and not args.band[0] < args.band[1]:
        raise AshaError(f"--band {args.band[0]:g} {args.band[1]:g}: the low edge must be below the high edge.")
    if args.threads:
        torch.set_num_threads(args.threads)
    recs = _load(args.inputs)
    if args.band and args.band[1] >= recs[0].fs / 2:
        raise AshaError(f"--band: the high edge {args.band[1]:g} Hz must be below half the sampling rate "
                        f"({recs[0].fs / 2:g} Hz).")
    fspec = _filter_spec(args, recs[0].fs, recs[0].meta)
    cfg = args.config or {}
    window = WindowSpec(args.window_ms, args.stride_ms, args.label_lag_ms)
    job = T.prepare(recs, model_name=args.model, model_config=cfg, window=window, filter_spec=fspec,
                    target_kind=args.target, split_args={"n_blocks": args.blocks}, seed=args.seed)
    job.hand_model = T.builtin_hand_for(job.ws)
    log.info("split: %s", job.split.counts())
    tcfg = T.TrainConfig(max_epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, patience=args.patience,
                         seed=args.seed, max_time_s=args.max_time_s)
    ev = None
    for ev in T.run(job, tcfg):
        if ev.kind == "epoch":
            sys.stderr.write(f"epoch {ev.epoch}/{ev.max_epochs} train {ev.train_loss:.4f} val {ev.val_loss:.4f} "
                             f"best {ev.best_val_loss:.4f}@{ev.best_epoch} {ev.elapsed_s:.0f}s\n")
    out = Path(args.out)
    C.save(ev.checkpoint, out)
    m, yt, yp = T.evaluate_job(job, set_name="test")
    files = write_report(out, m, job.ws.label_time[job.split.indices("test")], yt, yp, job.ws.target_names,
                         title=f"{args.model} on {', '.join(Path(p).name for p in args.inputs)}")
    print_line({"checkpoint": str(out), "split": job.split.counts(), "best_epoch": ev.result["best_epoch"],
                "test": m, "report": files})
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Run ``asha evaluate``: metrics over all labelled windows of the given (held-out) recordings."""
    import torch

    from asha_app.data.labels import select_targets
    from asha_app.data.windows import build_windows
    from asha_app.models import checkpoint as C
    from asha_app.models.dataset import WindowDataset
    from asha_app.models import metrics as M
    from asha_app.models.train import predict

    if args.report:
        _check_out(args.report, "report")
    from asha_app.gestures.commands import cmd_evaluate as evaluate_gestures, is_gesture_file

    if is_gesture_file(args.checkpoint):
        return evaluate_gestures(args)
    torch.set_num_threads(args.threads or 1)
    recs = _load(args.inputs)
    _, names, _ = select_targets(recs[0], "auto")
    ck = C.load(args.checkpoint, n_channels=recs[0].n_channels, fs=recs[0].fs)
    ws = build_windows(recs, ck.window, ck.filter_spec, ck.target_kind)
    ck.check_compatible(target_names=ws.target_names)
    model = ck.build_model()
    ds = WindowDataset(ws, np.arange(len(ws)), ck.normalizer, model.history)
    pred = ck.normalizer.y_inverse(predict(model, ds))
    from asha_app.models.train import builtin_hand_for

    m = M.evaluate(pred, ws.y, ws.target_names, ws.target_kind, builtin_hand_for(ws))
    m["checkpoint"] = str(args.checkpoint)
    m["inputs"] = [str(p) for p in args.inputs]
    if args.report:
        from asha_app.models.report import write_report

        m["report"] = write_report(args.report, m, ws.label_time, ws.y, pred, ws.target_names)
    print_line(m)
    return 0


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
    from asha_app.models.registry import available

    p = subparsers.add_parser("train", help="train an EMG-to-pose model on recordings",
                              description="Train a model on session files (.h5), recording archives (.npz) or a "
                                          "paired Myo/MediaPipe folder; writes the checkpoint and its report.")
    p.add_argument("inputs", nargs="+", help="session files, .npz recordings or an import folder")
    p.add_argument("--model", default=None, choices=available(None),
                   help="pose: ridge, seed, envtcn (default); gesture: lda, mhcnn, proto (default)")
    p.add_argument("--config", type=json_object, help="model settings as JSON, e.g. '{\"hidden\": 48}'")
    p.add_argument("--out", default="model.pt", help="checkpoint path (report files go beside it)")
    p.add_argument("--target", default="auto", choices=["auto", "joint_angles", "targets", "joints_mm"],
                   help="what the model predicts; auto: hand-model joint angles (deg, the pose the live hand is "
                        "drawn from) when the data has them, else the imported targets, else joints (mm)")
    p.add_argument("--window-ms", type=float_range(0.0, 60_000.0), default=0.0, help="window length, ms (default: the model's history)")
    p.add_argument("--stride-ms", type=float_range(0.0, 60_000.0, lo_open=True), default=20.0, help="stride between windows, ms")
    p.add_argument("--label-lag-ms", type=float_range(0.0, 10_000.0), default=0.0, help="label taken this long after the window end")
    p.add_argument("--filter", choices=["auto", "default", "none"], default="auto",
                   help="auto: the data set's own spec if it has one, else the live default chain")
    p.add_argument("--band", type=POSITIVE_FLOAT, nargs=2, metavar=("LOW", "HIGH"), help="band-pass edges, Hz")
    p.add_argument("--notch", type=NONNEGATIVE_FLOAT, default=50.0, help="mains notch, Hz (0: off)")
    p.add_argument("--blocks", type=int_range(3, 10_000), default=10, help="contiguous time blocks for train/val/test (60/20/20)")
    p.add_argument("--epochs", type=int_range(1, 100_000), default=60)
    p.add_argument("--batch-size", type=int_range(1, 1_000_000), default=64)
    p.add_argument("--lr", type=float_range(0.0, 10.0, lo_open=True), default=1e-3)
    p.add_argument("--patience", type=NONNEGATIVE_INT, default=8)
    p.add_argument("--seed", type=int_range(0, 2**32 - 1), default=0)
    p.add_argument("--max-time-s", type=POSITIVE_FLOAT, default=None)
    p.add_argument("--threads", type=int_range(0, 1024), default=0, help="torch CPU threads (0: torch default)")
    from asha_app.gestures.commands import add_arguments as add_gesture_arguments, add_evaluate_arguments

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
