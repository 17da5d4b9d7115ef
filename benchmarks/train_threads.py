"""Training speed under load: one epoch with torch's default thread count vs the free cores (asha_app.models.threads).

torch sizes its thread pool to every core; when other processes load those
cores, the pool's threads wait for each other at every parallel region.  This
benchmark times one training epoch of a model on real windows (the paired
Myo/MediaPipe session, 50 Hz; exit 2 without ../shared/data) three ways:

* ``quiet``: no extra load, torch threads = the usable cores;
* ``hog_all_cores``: ``--hogs`` busy-loop processes running (default: one per usable core), torch
  threads = the usable cores (what training did before: oversubscribed);
* ``hog_free_cores``: the same hogs, torch threads = :func:`asha_app.models.threads.training_threads`
  (measured after the hogs started).

The machine's other load (the 1-minute load average) is reported with the figures.
ONE JSON object on the last line.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks._common import SHARED_DATA, emit  # noqa: E402


def _hog(stop) -> None:  # pragma: no cover (runs in a child process)
    x = 0
    while not stop.is_set():
        for _ in range(100_000):
            x += 1


def _epoch_s(model_name: str, threads: int, n_windows: int, epochs: int) -> float:
    import numpy as np
    import torch

    from asha_app.data.importers.paired_myo_mediapipe import load_paired
    from asha_app.data.normalisation import Normalizer
    from asha_app.data.windows import WindowSpec, build_windows
    from asha_app.models.dataset import WindowDataset
    from asha_app.dsp.filters import FilterSpec
    from asha_app.models import train as T
    from asha_app.models.registry import build

    torch.set_num_threads(threads)
    rec = load_paired(SHARED_DATA / "paired_myo_mediapipe", fs=50.0)
    torch.manual_seed(0)
    model = build(model_name, n_channels=8, n_targets=5, fs=50.0)
    ws = build_windows(rec, WindowSpec(model.history * 20.0, 20.0), FilterSpec(50.0, band=None, notch_hz=None),
                       "targets")
    idx = np.arange(min(n_windows, len(ws)))
    norm = Normalizer.fit(ws, idx)
    tr = WindowDataset(ws, idx, norm, model.history)
    va = WindowDataset(ws, idx[:256], norm, model.history)
    t0 = time.perf_counter()
    for _ in T.train(model, tr, va, T.TrainConfig(max_epochs=epochs, patience=10**6, progress_every=0)):
        pass
    return (time.perf_counter() - t0) / epochs


def _run(queue, *a) -> None:  # pragma: no cover (child process: a fresh torch thread pool per measurement)
    queue.put(_epoch_s(*a))


def measure(model_name: str, threads: int, n_windows: int, epochs: int) -> float:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_run, args=(q, model_name, threads, n_windows, epochs))
    p.start()
    out = q.get()
    p.join()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="2,000 windows, 1 epoch per setting")
    ap.add_argument("--model", default="envtcn")
    ap.add_argument("--hogs", type=int, default=0, help="busy-loop processes (default: one per usable core)")
    args = ap.parse_args()
    if not (SHARED_DATA / "paired_myo_mediapipe").is_dir():
        emit({"ok": False, "error": "real data folder missing: ../shared/data/paired_myo_mediapipe"})
        return 2
    from asha_app.models.threads import free_cores, training_threads, usable_cpus

    n_cpu = len(usable_cpus())
    n_win, epochs = (2000, 1) if args.quick else (12000, 2)
    out = {"benchmark": "train_threads", "model": args.model, "windows": n_win, "epochs_timed": epochs,
           "usable_cpus": n_cpu, "load_avg_1min_start": round(os.getloadavg()[0], 2)}
    out["quiet"] = {"threads": n_cpu, "s_per_epoch": round(measure(args.model, n_cpu, n_win, epochs), 2)}
    ctx = mp.get_context("spawn")
    stop = ctx.Event()
    hogs = [ctx.Process(target=_hog, args=(stop,), daemon=True) for _ in range(args.hogs or n_cpu)]
    for h in hogs:
        h.start()
    try:
        time.sleep(1.0)
        auto = training_threads()
        out["free_cores_with_hogs"] = round(free_cores(), 2)
        out["hog_all_cores"] = {"threads": n_cpu, "s_per_epoch": round(measure(args.model, n_cpu, n_win, epochs), 2)}
        out["hog_free_cores"] = {"threads": auto, "s_per_epoch": round(measure(args.model, auto, n_win, epochs), 2)}
    finally:
        stop.set()
        for h in hogs:
            h.join(5)
    out["hogs"] = len(hogs)
    out["speedup_free_over_all"] = round(out["hog_all_cores"]["s_per_epoch"] / out["hog_free_cores"]["s_per_epoch"], 2)
    out["load_avg_1min_end"] = round(os.getloadavg()[0], 2)
    emit(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
