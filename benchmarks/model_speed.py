"""Speed of a model (default: DEFAULT_MODEL): one-window latency, streaming step, training time, memory.

Inputs are real: windows cut from ../shared/data/paired_myo_mediapipe
(Myo EMG via MiniVIE, 8 channels, imported at 50 Hz); the benchmark exits 2
when that folder is missing.  At 50 Hz EnvelopeTCN's history is 74 samples
(1.48 s), so its windows are 8 x 74 (the seed's are 8 x 50).

Measures (torch CPU):

Latencies are given as wall time and as the calling thread's CPU time
(``time.thread_time``), which excludes time spent waiting for a shared core.

* one window (1, 8, history) through the model on ONE thread: eager
  PyTorch and the frozen TorchScript (:meth:`EmgModel.frozen`); p50/p99/mean ms;
* one streaming step (one new raw sample -> filter -> normalise -> frozen
  stateful step -> pose) through :class:`StreamingRunner`, ONE thread;
* training to convergence (early stopping, patience 6, at most 40 epochs, best epoch restored)
  on 24,000 real training windows (stride 20 ms, 8 of 10 time blocks; the
  other 2 blocks validate), batch 64, ``--train-threads`` threads; wall time, epochs, final
  validation error; and the seed's time per epoch on the same windows;
* peak resident memory of the process.

The machine's 2 cores are shared with other jobs: the 1-minute load average
is reported with the figures.  Prints ONE JSON object on its last line.
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import sys
import time
from collections import deque
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from asha_app.core.jsonout import print_line  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402


def _lat(fn, n: int) -> dict:
    for _ in range(min(50, n)):
        fn()
    ts = np.empty(n)
    cs = np.empty(n)
    for i in range(n):
        c = time.thread_time()
        t = time.perf_counter()
        fn()
        ts[i] = time.perf_counter() - t
        cs[i] = time.thread_time() - c
    ts *= 1000.0
    cs *= 1000.0
    return {"p50_ms": float(np.percentile(ts, 50)), "p99_ms": float(np.percentile(ts, 99)),
            "mean_ms": float(ts.mean()), "cpu_p50_ms": float(np.percentile(cs, 50)),
            "cpu_p99_ms": float(np.percentile(cs, 99)), "n": n}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="< 60 s: fewer latency runs, 3,000 windows, 3 epochs")
    ap.add_argument("--train-threads", type=int, default=2, help="torch threads for the training part")
    ap.add_argument("--latency-only", action="store_true", help="skip the training part")
    ap.add_argument("--model", default=None, help="registry model (default: DEFAULT_MODEL)")
    ap.add_argument("--fs", type=float, default=50.0,
                    help="model rate, Hz: 50 = the paired data as is; higher rates repeat each sample "
                         "(500: the armband)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
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
    from asha_app.models.dataset import WindowDataset
    from asha_app.models.registry import DEFAULT_MODEL, build
    from asha_app.models.streaming import StreamingRunner

    name = args.model or DEFAULT_MODEL

    rec = load_paired(data, fs=50.0)
    fspec = FilterSpec(50.0, band=None, notch_hz=None)
    torch.manual_seed(0)
    model = build(name, n_channels=8, n_targets=5, fs=50.0)
    ws = build_windows(rec, WindowSpec(model.history * 20.0, 20.0), fspec, "targets")
    pattern = ["train"] * 10
    pattern[3] = pattern[8] = "val"
    split = split_time_blocks(ws, 10, pattern)
    n_train = 3000 if args.quick else 24000
    tr_idx = split.indices("train")
    if len(tr_idx) < n_train:
        print_line({"error": f"only {len(tr_idx)} training windows in the real data, need {n_train}"})
        return 2
    rng = np.random.default_rng(0)
    tr_idx = np.sort(rng.choice(tr_idx, n_train, replace=False)) if len(tr_idx) > n_train else tr_idx
    norm = Normalizer.fit(ws, tr_idx)
    va_idx = split.indices("val")

    # ---- latency (one thread); at --fs above 50 Hz the model is built for that rate and each sample repeated
    torch.set_num_threads(1)
    n_lat = 300 if args.quick else 3000
    factor = max(1, int(round(args.fs / 50.0)))
    lat_model = (model if factor == 1 else build(name, n_channels=8, n_targets=5, fs=50.0 * factor)).eval()
    raw = np.repeat(rec.emg, factor, axis=0)
    x1 = torch.from_numpy(np.ascontiguousarray(norm.emg_rows(raw[1000:1000 + lat_model.history]).T[None]))
    with torch.inference_mode():
        eager = _lat(lambda: lat_model(x1), n_lat)
    frozen_m = lat_model.frozen()
    with torch.no_grad():
        frozen = _lat(lambda: frozen_m(x1), n_lat)
    runner = StreamingRunner(lat_model, norm, FilterSpec(50.0 * factor, band=None, notch_hz=None), stride=1)
    pos = {"i": 0}

    def one_sample():
        i = pos["i"] % (len(raw) - 1)
        runner.process(raw[i:i + 1])
        pos["i"] += 1

    for _ in range(lat_model.history):
        one_sample()
    stream = _lat(one_sample, n_lat)
    seed = build("seed", n_channels=8, n_targets=5, fs=50.0, window_ms=1000.0).eval()
    xs = torch.from_numpy(norm.emg(ws.x(tr_idx[:1], seed.history)))
    with torch.inference_mode():
        seed_lat = _lat(lambda: seed(xs), n_lat // 3)

    if args.latency_only:
        print_line({"benchmark": "model_speed", "latency_only": True, "model": name, "fs_hz": 50.0 * factor,
                   "window_shape": [1, 8, lat_model.history], "one_window_eager_1thread": eager,
                   "one_window_frozen_torchscript_1thread": frozen, "streaming_step_1thread": stream,
                   "seed_one_window_eager_1thread": seed_lat, "load_avg_1min": os.getloadavg()[0],
                   "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0})
        return 0

    # ---- training
    torch.set_num_threads(args.train_threads)
    torch.manual_seed(0)
    model = build(name, n_channels=8, n_targets=5, fs=50.0)
    tds = WindowDataset(ws, tr_idx, norm, model.history)
    vds = WindowDataset(ws, va_idx, norm, model.history)
    cfg = T.TrainConfig(max_epochs=3 if args.quick else 40, patience=6, batch_size=64, progress_every=0)
    t0 = time.perf_counter()
    ev = None
    for ev in T.train(model, tds, vds, cfg):
        if ev.kind == "epoch":
            logging.warning("epoch %d train %.4f val %.4f (%.0f s)", ev.epoch, ev.train_loss, ev.val_loss, ev.elapsed_s)
    train_s = time.perf_counter() - t0
    pred = norm.y_inverse(T.predict(model, vds))
    val_mae = float(np.abs(pred - ws.y[va_idx]).mean())
    seed_epoch = None
    if not args.quick:
        torch.manual_seed(0)
        sm = build("seed", n_channels=8, n_targets=5, fs=50.0, window_ms=1000.0)
        sds = WindowDataset(ws, tr_idx, norm, sm.history)
        t1 = time.perf_counter()
        deque(T.train(sm, sds, WindowDataset(ws, va_idx[:64], norm, sm.history),
                      T.TrainConfig(max_epochs=1, batch_size=64, progress_every=0)), maxlen=0)
        seed_epoch = time.perf_counter() - t1

    out = {
        "benchmark": "model_speed", "quick": args.quick, "data": str(data), "device": "cpu",
        "inputs": "real windows of the paired Myo/MediaPipe session at 50 Hz (not synthetic)",
        "model": name, "params": int(sum(p.numel() for p in model.parameters())),
        "window_shape": [1, 8, model.history],
        "one_window_eager_1thread": eager, "one_window_frozen_torchscript_1thread": frozen,
        "streaming_step_1thread": stream, "seed_one_window_eager_1thread": seed_lat,
        "goal_one_window_p99_ms": 2.0, "goal_streaming_step_ms": 1.0,
        "training": {"windows": int(len(tds)), "val_windows": int(len(vds)), "threads": args.train_threads, "batch": 64,
                     "wall_s": train_s, "epochs_run": ev.result["epochs_run"], "best_epoch": ev.result["best_epoch"],
                     "s_per_epoch": train_s / max(1, ev.result["epochs_run"]),
                     "final_val_mse_normalised": ev.result["best_val_loss"], "final_val_mae_deg": val_mae,
                     "goal_wall_s": 600},
        "seed_s_per_epoch_same_windows": seed_epoch,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "load_avg_1min": os.getloadavg()[0],
    }
    print_line(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
