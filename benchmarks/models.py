"""Real-data benchmark of the models: the paired Myo/MediaPipe session (default) and NinaPro DB1 (``--data db1``).

Part ``paired`` (ridge, the seed Conv1D+LSTM, EnvelopeTCN, msenv on the paired Myo/MediaPipe session):

Data: ../shared/data/paired_myo_mediapipe (resolved from the repository root;
exit 2 when missing -- never made-up data).  Imported at a uniform 50 Hz
(causal bin-mean of MiniVIE's ~54 irregular rows/s), no band-pass/notch
(the data is already processed and decimated).

Protocol: one set of windows for all models (as long as the longest model
history, at least 1500 ms; stride 20 ms = every sample; label = finger angles
interpolated at the window end), split
into 10 contiguous time blocks of ~62 s (train/train/val/train/test, twice:
60/20/20) with a gap of one window (at least 1500 ms) at every boundary between different sets;
normalisation from the training blocks only.  Each model uses the last
``history`` samples of the window: ridge 500 ms (25 samples), the seed
1000 ms (50 samples: the seed's 8 x 50 input, which was 100 ms at 500 Hz;
nothing else of its architecture changes), EnvelopeTCN its 1480 ms receptive
field, msenv its 3.24 s.  Early stopping on the validation blocks, best epoch
restored; metrics on the test blocks.

Part ``db1`` (``--data db1``; ../shared/data/ninapro_db1_dev, exit 2 when missing):
the customary within-subject protocol on each development subject: train
repetitions 1, 3, 4, 6, 8, 9, validate 7, test 2, 5, 10; 22 glove channels; no
filter (the EMG is the electrodes' RMS envelope at 100 Hz); windows assigned by
the repetition of their label time, scored at every 100 Hz sample of the test
repetitions (:mod:`benchmarks._db1`); R^2 per channel averaged over channels,
then over subjects.  Training windows every ``--stride-ms`` (20 ms), batch 64
(256 for msenv), early stopping on repetition 7, at most ``--max-time-s`` per
model and subject.

Prints ONE JSON object on its last line.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from asha_app.core.jsonout import print_line  # noqa: E402

import torch  # noqa: E402


def load_hand_model():
    """The built-in right hand model, or None when asha_app.pose.hand_model is not in this checkout."""
    try:
        from asha_app.pose.hand_model import HandModel
    except ImportError:
        return None
    return HandModel.builtin("right")


#: models compared and their settings per data set (the seed's input: its 8 x 50 shape on the paired set; the
#: 200 ms windows of the DB1 reference)
PAIRED_MODELS = {"ridge": {"window_ms": 500.0}, "seed": {"window_ms": 1000.0}, "envtcn": {}, "msenv": {}, "msriem": {}}
DB1_MODELS = {"ridge": {"window_ms": 500.0}, "seed": {"window_ms": 200.0}, "envtcn": {}, "msenv": {}, "msriem": {}}


def db1(args) -> int:
    """Within-subject DB1 protocol (see the module docstring)."""
    import numpy as np

    from asha_app.data.normalisation import Normalizer
    from asha_app.models import train as T
    from asha_app.models.registry import build
    from benchmarks import _candidates, _db1

    _candidates.register()
    configs = {**DB1_MODELS, **_candidates.DB1_CONFIGS, **json.loads(args.configs)}

    if not _db1.available():
        print_line({"error": f"NinaPro DB1 development data missing: {_db1.DB1}"})
        return 2
    t_all = time.perf_counter()
    subjects = [int(s) for s in args.subjects.split(",")] if args.subjects else (
        [8, 21] if args.quick else list(_db1.SUBJECTS))
    names = args.models.split(",") if args.models else list(DB1_MODELS)
    assign = {r: k for k, rs in _db1.WITHIN.items() for r in rs}
    stride = 200.0 if args.quick else args.stride_ms
    results = {n: {} for n in names}
    for s in subjects:
        rec = _db1.recording(s)
        test = _db1.sample_sets(rec, {r: "test" for r in _db1.WITHIN["test"]})
        inter = _db1.interleaved(rec)
        test_inter = _db1.sample_sets(inter, {r: "test" for r in _db1.WITHIN["test"]})
        for name in names:
            mcfg = configs.get(name, {})
            torch.manual_seed(args.seed)
            model = build(name, n_channels=rec.n_channels, n_targets=rec.targets.shape[1], fs=rec.fs, **mcfg)
            ws, split = _db1.windows([rec], model.history * 1000.0 / rec.fs, stride, assign)
            norm = Normalizer.fit(ws, split.indices("train"))
            job = T.Job(ws, split, norm, model)
            tcfg = T.TrainConfig(max_epochs=2 if args.quick else 40, patience=6, seed=args.seed, progress_every=0,
                                 batch_size=args.batch_size or (256 if name in ("msenv", "velocity", "msriem") else 64),
                                 max_time_s=args.max_time_s)
            t0 = time.perf_counter()
            ev = None
            for ev in T.train(model, job.dataset("train"), job.dataset("val"), tcfg):
                if ev.kind == "epoch":
                    logging.info("S%d %s epoch %d train %.4f val %.4f (%.0f s)", s, name, ev.epoch, ev.train_loss,
                                 ev.val_loss, ev.elapsed_s)
            ck = T.make_checkpoint(job, tcfg, ev.result, {})
            y, p = _db1.predict_sets(ck, rec, test, 2, model=model)
            yi, pi = _db1.predict_sets(ck, inter, test_inter, 2, model=model)
            results[name][f"S{s}"] = {"r2_mean": round(_db1.r2_mean(y, p), 4),
                                      "r2_mean_interleaved": round(_db1.r2_mean(yi, pi), 4),
                                      "train_s": round(time.perf_counter() - t0, 1),
                                      "epochs_run": ev.result["epochs_run"], "best_epoch": ev.result["best_epoch"]}
            logging.warning("S%d %s: %s", s, name, results[name][f"S{s}"])
    table = {}
    for name in names:
        v = np.array([r["r2_mean"] for r in results[name].values()])
        vi = np.array([r["r2_mean_interleaved"] for r in results[name].values()])
        table[name] = {"r2_mean": round(float(v.mean()), 4), "r2_std_over_subjects": round(float(v.std()), 4),
                       "r2_min": round(float(v.min()), 4), "r2_mean_interleaved": round(float(vi.mean()), 4),
                       "params": int(sum(p.numel() for p in build(name, n_channels=10, n_targets=22, fs=100.0,
                                                                   **configs.get(name, {})).parameters()))}
    print_line({"benchmark": "models_ninapro_db1_within_subject", "quick": args.quick, "data": str(_db1.DB1),
                "subjects": [f"S{s}" for s in subjects], "protocol": {"train_reps": _db1.WITHIN["train"],
                "val_reps": _db1.WITHIN["val"], "test_reps": _db1.WITHIN["test"], "assigned_by": "label time",
                "targets": "22 CyberGlove channels", "filter": "none (RMS envelope, 100 Hz)",
                "train_stride_ms": stride, "test": "every 100 Hz sample of the test repetitions"},
                "interleaved": ("the same models scored on the recording replayed in interleaved order (every "
                                "repetition after another movement; benchmarks/_db1.interleaved): how much comes from "
                                "the block design"),
                "model_configs": {n: configs.get(n, {}) for n in names}, "max_time_s_per_model": args.max_time_s,
                "table": table, "per_subject": results, "threads": args.threads, "seed": args.seed,
                "wall_s": round(time.perf_counter() - t_all, 1)})
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="< 60 s: stride 200 ms, 2 seed / 6 EnvelopeTCN epochs")
    ap.add_argument("--data", choices=["paired", "db1"], default="paired")
    ap.add_argument("--models", default=None, help="comma-separated registry names (default: all compared)")
    ap.add_argument("--subjects", default=None, help="DB1 subject numbers, comma-separated (default: all 13)")
    ap.add_argument("--stride-ms", type=float, default=20.0, help="DB1 training window stride")
    ap.add_argument("--configs", default="{}",
                    help='DB1: model settings as JSON by model, e.g. \'{"msenv": {"hidden": 512}}\'')
    ap.add_argument("--max-time-s", type=float, default=None, help="DB1: training time cap per model and subject")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (1: the shared 2-core machine oversubscribes with more)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch-size", type=int, default=0,
                    help="DB1: training batch (0: 256 for msenv and msriem, 64 for the others)")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    torch.set_num_threads(args.threads)
    if args.data == "db1":
        return db1(args)
    data = (ROOT / ".." / "shared" / "data" / "paired_myo_mediapipe").resolve()
    if not data.is_dir():
        print_line({"error": f"real data folder missing: {data}"})
        return 2

    from asha_app.data.importers.paired_myo_mediapipe import load_paired
    from asha_app.data.normalisation import Normalizer
    from asha_app.data.splits import split_time_blocks
    from asha_app.data.windows import WindowSpec, build_windows
    from asha_app.dsp.filters import FilterSpec
    from asha_app.models import train as T
    from asha_app.models.registry import build

    t_all = time.perf_counter()
    rec = load_paired(data, fs=50.0)
    fspec = FilterSpec(fs=50.0, band=None, notch_hz=None)
    stride = 200.0 if args.quick else 20.0
    names = args.models.split(",") if args.models else list(PAIRED_MODELS)
    longest = max(build(n, n_channels=8, n_targets=5, fs=50.0, **PAIRED_MODELS.get(n, {})).history for n in names)
    window_ms = max(1500.0, longest * 1000.0 / 50.0)
    ws = build_windows(rec, WindowSpec(window_ms, stride), fspec, "targets")
    split = split_time_blocks(ws, 10, gap_ms=window_ms)  # no window crosses a boundary (msenv: 6.42 s)
    split.check(("train", "val", "test"))
    norm = Normalizer.fit(ws, split.indices("train"))
    hand = load_hand_model()
    epochs = {"seed": (2, 30), "envtcn": (6, 40), "msenv": (6, 40), "msriem": (6, 40)}
    setups = {n: (PAIRED_MODELS.get(n, {}), None if n == "ridge" else T.TrainConfig(
        max_epochs=epochs.get(n, (6, 40))[0 if args.quick else 1], patience=5 if n == "seed" else 6, seed=args.seed,
        progress_every=0, batch_size=256 if n in ("msenv", "msriem") else 64)) for n in names}
    results = {}
    for name, (mcfg, tcfg) in setups.items():
        torch.manual_seed(args.seed)
        model = build(name, n_channels=ws.n_channels, n_targets=len(ws.target_names), fs=ws.fs, **mcfg)
        job = T.Job(ws, split, norm, model, hand)
        t0 = time.perf_counter()
        ev = None
        for ev in T.train(model, job.dataset("train"), job.dataset("val"), tcfg or T.TrainConfig(seed=args.seed)):
            if ev.kind == "epoch":
                logging.warning("%s epoch %d train %.4f val %.4f (%.0f s)", name, ev.epoch, ev.train_loss,
                                ev.val_loss, ev.elapsed_s)
        m, _, _ = T.evaluate_job(job, model, "test")
        res = {
            "history_samples": model.history, "history_ms": model.history * 1000.0 / ws.fs,
            "params": int(sum(p.numel() for p in model.parameters())),
            "train_s": time.perf_counter() - t0, "epochs_run": ev.result["epochs_run"],
            "best_epoch": ev.result["best_epoch"], "best_val_mse_norm": ev.result["best_val_loss"],
            "mae_deg_mean": m["mae_mean"], "mae_deg_per_finger": m["mae_per_target"],
            "r2_per_finger": m["r2_per_target"], "r2_mean": m["r2_mean"],
        }
        if "hand_model_mpjpe_wrist_rel_mm" in m:
            res["mpjpe_wrist_rel_mm_hand_model"] = m["hand_model_mpjpe_wrist_rel_mm"]
            res["pck20_hand_model"] = m["hand_model_pck20_wrist_rel"]
        results[name] = res
        logging.warning("%s: %s", name, json.dumps(res, default=float))

    best_name = "msenv" if "msenv" in results else "envtcn"
    best = results.get(best_name)
    ratios = {}
    for base in ("ridge", "seed", "envtcn"):
        if best is None or base not in results or base == best_name:
            continue
        b = results[base]
        r = {"mae_ratio_best_over_base": best["mae_deg_mean"] / b["mae_deg_mean"],
             "r2_mean_best_minus_base": best["r2_mean"] - b["r2_mean"],
             "r2_better_on_all_fingers": all(best["r2_per_finger"][f] > b["r2_per_finger"][f]
                                             for f in b["r2_per_finger"]),
             "mae_better_on_all_fingers": all(best["mae_deg_per_finger"][f] < b["mae_deg_per_finger"][f]
                                              for f in b["mae_deg_per_finger"])}
        if "mpjpe_wrist_rel_mm_hand_model" in b:
            r["mpjpe_ratio_best_over_base"] = best["mpjpe_wrist_rel_mm_hand_model"] / b["mpjpe_wrist_rel_mm_hand_model"]
        ratios[f"{best_name}_vs_{base}"] = r
    out = {
        "benchmark": "models_paired_myo_mediapipe", "quick": args.quick, "data": str(data),
        "fs_hz": ws.fs, "window_ms": window_ms, "stride_ms": stride, "split": split.to_dict(),
        "filter": fspec.to_dict(), "threads": args.threads, "seed": args.seed,
        "hand_model": type(hand).__name__ if hand is not None else None,
        "mpjpe_note": None if hand is not None else "asha_app.pose.hand_model not available: MPJPE not computed",
        "models": results, "ratios": ratios, "wall_s": time.perf_counter() - t_all,
    }
    print_line(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
