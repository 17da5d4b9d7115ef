"""Real-data benchmark: ridge vs the seed Conv1D+LSTM vs EnvelopeTCN on the paired Myo/MediaPipe session.

Data: ../shared/data/paired_myo_mediapipe (resolved from the repository root;
exit 2 when missing -- never made-up data).  Imported at a uniform 50 Hz
(causal bin-mean of MiniVIE's ~54 irregular rows/s), no band-pass/notch
(the data is already processed and decimated).

Protocol: one set of windows for all models (1500 ms long, stride 20 ms =
every sample, label = finger angles interpolated at the window end), split
into 10 contiguous time blocks of ~62 s (train/train/val/train/test, twice:
60/20/20) with a 1500 ms gap at every boundary between different sets;
normalisation from the training blocks only.  Each model uses the last
``history`` samples of the window: ridge 500 ms (25 samples), the seed
1000 ms (50 samples: the seed's 8 x 50 input, which was 100 ms at 500 Hz;
nothing else of its architecture changes), EnvelopeTCN its 1480 ms receptive
field.  Early stopping on the validation blocks, best epoch restored; metrics
on the test blocks.

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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="< 60 s: stride 200 ms, 2 seed / 6 EnvelopeTCN epochs")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (1: the shared 2-core machine oversubscribes with more)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(args.threads)
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
    ws = build_windows(rec, WindowSpec(1500.0, stride), fspec, "targets")
    split = split_time_blocks(ws, 10, gap_ms=1500.0)
    split.check(("train", "val", "test"))
    norm = Normalizer.fit(ws, split.indices("train"))
    hand = load_hand_model()
    setups = {
        "ridge": ({"window_ms": 500.0}, None),
        "seed": ({"window_ms": 1000.0}, T.TrainConfig(max_epochs=2 if args.quick else 30, patience=5, seed=args.seed,
                                                         progress_every=0)),
        "envtcn": ({}, T.TrainConfig(max_epochs=6 if args.quick else 40, patience=6, seed=args.seed,
                                     progress_every=0)),
    }
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

    best = results["envtcn"]
    ratios = {}
    for base in ("ridge", "seed"):
        b = results[base]
        r = {"mae_ratio_best_over_base": best["mae_deg_mean"] / b["mae_deg_mean"],
             "r2_mean_best_minus_base": best["r2_mean"] - b["r2_mean"],
             "r2_better_on_all_fingers": all(best["r2_per_finger"][f] > b["r2_per_finger"][f]
                                             for f in b["r2_per_finger"]),
             "mae_better_on_all_fingers": all(best["mae_deg_per_finger"][f] < b["mae_deg_per_finger"][f]
                                              for f in b["mae_deg_per_finger"])}
        if "mpjpe_wrist_rel_mm_hand_model" in b:
            r["mpjpe_ratio_best_over_base"] = best["mpjpe_wrist_rel_mm_hand_model"] / b["mpjpe_wrist_rel_mm_hand_model"]
        ratios[f"envtcn_vs_{base}"] = r
    out = {
        "benchmark": "models_paired_myo_mediapipe", "quick": args.quick, "data": str(data),
        "fs_hz": ws.fs, "window_ms": 1500.0, "stride_ms": stride, "split": split.to_dict(),
        "filter": fspec.to_dict(), "threads": args.threads, "seed": args.seed,
        "hand_model": type(hand).__name__ if hand is not None else None,
        "mpjpe_note": None if hand is not None else "asha_app.pose.hand_model not available: MPJPE not computed",
        "models": results, "ratios": ratios, "wall_s": time.perf_counter() - t_all,
    }
    print_line(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
