"""``asha train --task gesture`` and ``asha evaluate`` of gesture checkpoints.

:mod:`asha_app.models.commands` owns the two sub-commands; it adds this module's
options (:func:`add_arguments`) and hands gesture work to :func:`cmd_train` /
:func:`cmd_evaluate` (a pose command given a gesture model, or the reverse, is
told so).  Inputs: session files (.h5), recording archives (.npz), NinaPro
``.mat`` files (``--fs``) and myo-readings-dataset session folders.  Labels
come from the sessions' protocol prompts or gesture markers
(:mod:`asha_app.gestures.labels`).  Output: the checkpoint, its report
(confusion matrix, per-gesture accuracy) and one strict JSON line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from asha_app.core.cli_args import POSITIVE_FLOAT, float_range, int_range
from asha_app.core.errors import AshaError
from asha_app.core.jsonout import print_line
from asha_app.gestures.datasets import is_myo_gesture_folder, read_myo_gesture_session, read_ninapro_gestures
from asha_app.gestures.jobs import DEFAULT_MODEL, train_and_save
from asha_app.models.commands import _load
from asha_app.gestures.report import write_gesture_report
from asha_app.models.commands import _check_out, _filter_spec, norm_choice, tau_choice

GESTURE_DEFAULT_MODEL = DEFAULT_MODEL


def add_arguments(train: argparse.ArgumentParser) -> None:
    """Gesture options of ``asha train`` (ignored by the pose task; ``--norm``/``--tau-s`` are shared:
    :func:`asha_app.models.commands.add_norm_arguments`)."""
    g = train.add_argument_group("gesture task (--task gesture)")
    g.add_argument("--task", choices=["pose", "gesture"], default="pose",
                   help="pose: EMG -> hand pose (default); gesture: EMG -> gesture class "
                        "(models lda, mlp, mlpx, mhcnn, proto)")
    g.add_argument("--labels", choices=["auto", "prompts", "markers"], default="auto",
                   help="where gesture labels come from: the protocol's prompts or the stream's gesture markers")
    g.add_argument("--settle-s", type=float_range(0.0, 10.0), default=None,
                   help="seconds left out at the start of each gesture (reaction time; default 0.5, 0 for NinaPro)")
    g.add_argument("--fs", type=POSITIVE_FLOAT, default=None, help="sampling rate of NinaPro .mat inputs (DB1: 100)")
    g.add_argument("--min-windows", type=int_range(1, 1_000_000), default=8,
                   help="fewest training windows a gesture needs")


def load_inputs(paths: list[str], fs: float | None = None) -> list:
    """Recordings from sessions, archives, NinaPro files and myo-readings-dataset folders."""

    out = []
    for p in paths:
        if is_myo_gesture_folder(p):
            out.extend(read_myo_gesture_session(p))
        elif Path(p).suffix == ".mat":
            out.append(read_ninapro_gestures(p, fs=fs) if fs else read_ninapro_gestures(p))
        else:
            out.extend(_load([p]))
    return out


def cmd_train(args: argparse.Namespace) -> int:
    """``asha train --task gesture``."""
    import torch  # noqa: PLC0415 - torch on first use

    from asha_app.data.windows import WindowSpec  # noqa: PLC0415 - scipy.signal on first use
    from asha_app.gestures import train as G  # noqa: PLC0415 - torch, scipy.signal on first use
    from asha_app.models.registry import available, build, task_of  # noqa: PLC0415 - torch on first use

    name = args.model or GESTURE_DEFAULT_MODEL
    if task_of(name) != "gesture":
        raise AshaError(f"--model {name} is a pose model; gesture models are {', '.join(available('gesture'))} "
                        "(or drop --task gesture to train a pose model).")
    _check_out(args.out, "checkpoint")
    if args.threads:
        torch.set_num_threads(args.threads)
    recs = load_inputs(args.inputs, args.fs)
    fspec, _ = _filter_spec(args, recs)
    cfg = args.config or {}
    probe = build(name, n_channels=recs[0].n_channels, n_targets=2, fs=recs[0].fs, **cfg)
    window_ms = max(args.window_ms, probe.history / recs[0].fs * 1000.0)
    job = G.prepare(recs, WindowSpec(window_ms, args.stride_ms), fspec, source=args.labels, settle_s=args.settle_s,
                    split=None if args.split == "auto" else args.split, norm=norm_choice(args, "running"),
                    tau_s=tau_choice(args, G.RUNNING_TAU_S),
                    min_windows=args.min_windows)
    sys.stderr.write(f"gestures: {', '.join(job.classes)}; windows per set {job.split.counts()}\n")
    tcfg = G.TrainConfig(max_epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, patience=args.patience,
                         seed=args.seed, max_time_s=args.max_time_s)

    def progress(ev: dict) -> None:
        if ev["kind"] == "epoch":
            sys.stderr.write(f"epoch {ev['epoch']}/{ev['max_epochs']} loss {ev['train_loss']:.4f} "
                             f"val balanced accuracy {ev['val_bacc']:.3f} (best {ev['best_val_bacc']:.3f}"
                             f"@{ev['best_epoch']}) {ev['elapsed_s']:.0f}s\n")

    out = Path(args.out)
    res = train_and_save(job, name, tcfg, out, config=cfg, on_event=progress,
                         title=f"{name} on {', '.join(Path(p).name for p in args.inputs)}")
    metrics, files, done = res["metrics"], res["report"], res["done"]
    print_line({"checkpoint": str(out), "task": "gesture", "model": name, "classes": job.classes,
                "split": job.split.counts(), "best_epoch": done.get("best_epoch"), "test": metrics, "report": files})
    return 0


def add_evaluate_arguments(evaluate: argparse.ArgumentParser) -> None:
    """Gesture options of ``asha evaluate`` (used when the checkpoint is a gesture classifier)."""
    evaluate.add_argument("--gestures", help="gesture classifiers: comma-separated active set (default: all trained)")
    evaluate.add_argument("--fs", type=POSITIVE_FLOAT, default=None, help="sampling rate of NinaPro .mat inputs")


def is_gesture_file(path: str) -> bool:
    """Whether a checkpoint file holds a gesture classifier (False for anything unreadable: the pose path explains)."""
    import torch  # noqa: PLC0415 - torch on first use

    try:
        d = torch.load(path, map_location="cpu", weights_only=True)
        return isinstance(d, dict) and d.get("targets", {}).get("kind") == "gesture"
    except Exception:  # noqa: BLE001  (any unreadable file: the pose loader gives the message)
        return False


def cmd_evaluate(args: argparse.Namespace) -> int:
    """``asha evaluate`` of a gesture checkpoint: balanced accuracy, per-gesture accuracy, confusion matrix."""
    import torch  # noqa: PLC0415 - torch on first use

    from asha_app.gestures import train as G  # noqa: PLC0415 - torch, scipy.signal on first use
    from asha_app.gestures.windows import build_gesture_windows  # noqa: PLC0415 - scipy.signal on first use

    torch.set_num_threads(args.threads or 1)
    recs = load_inputs(args.inputs, getattr(args, "fs", None))
    ck = G.load_gesture_checkpoint(args.checkpoint, n_channels=recs[0].n_channels, fs=recs[0].fs)
    model = ck.build_model()
    ws = build_gesture_windows(recs, ck.window, ck.filter_spec, classes=list(ck.target_names))
    if ws.unknown:
        sys.stderr.write(f"note: the data holds gestures the model does not know, left out: {ws.unknown} "
                         f"(it knows {', '.join(ck.target_names)})\n")
    norm = G.norm_of(ck)
    job = G.GestureJob(ws, None, norm, norm.apply_windows(ws))  # type: ignore[arg-type]
    active = G.check_subset(ck.target_names, args.gestures.split(",") if getattr(args, "gestures", None) else None)
    m = G.evaluate(model, job, np.arange(len(ws)), active=active)
    m["checkpoint"] = str(args.checkpoint)
    m["inputs"] = [str(p) for p in args.inputs]
    if args.report:

        m["report"] = write_gesture_report(args.report, m, title=f"{ck.model_name}: {', '.join(m['inputs'])}")
    print_line(m)
    return 0
