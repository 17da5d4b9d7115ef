"""Calibration benchmark: which fine-tuning strategy works on real data, how long it takes, does the GUI stay live.

Part A -- strategies on real data (the JHU-BCIS paired Myo + MediaPipe session, ../shared/data):

* ``--quick``: base = the bundled live-demo model (``resources/live_demo/model.pt``, trained on
  the session's time blocks 0-3 and 6-9); calibration data = the first 75 % of the held-out
  stretch (blocks 4-5, ~94 s), held-out evaluation = its last 25 % (~29 s, after a 2 s gap).
* full (no ``--quick``): base = EnvelopeTCN trained here on the first 250 s of the session;
  calibration = the next 3 minutes (252-432 s); held-out = the block after it (434-624 s).

For base and each strategy (head, bn_head, all): held-out MAE (deg) and R^2 per finger.

Part B -- timing on 3 minutes of 500 Hz data: 180 s of the session's EMG repeated 10x per sample
(zero-order hold, as the live demo's playback file) to 500 Hz, with the finger angles; an
EnvelopeTCN built at 500 Hz (history 163 samples) is the base; the whole calibration
(:func:`calibrate`: quality gate, split, base evaluation, fine-tuning with the default
strategy, evaluation, input statistics) runs in a :class:`CalibrationWorker` while a
QApplication's 5 ms QTimer measures the longest gap between event-loop ticks.

ONE JSON object on the last line.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks._common import SHARED_DATA, emit  # noqa: E402

PAIRED = SHARED_DATA / "paired_myo_mediapipe"


def _metrics(m: dict) -> dict:
    return {"mae_mean_deg": round(m["mae_mean"], 2), "r2_mean": round(m["r2_mean"], 3),
            "mae_per_finger_deg": {k: round(v, 2) for k, v in m["mae_per_target"].items()},
            "r2_per_finger": {k: round(v, 3) for k, v in m["r2_per_target"].items()}}


def strategies_experiment(quick: bool, threads: int, rotate: int = 0, model: str = "envtcn",
                          scratch_models: tuple[str, ...] = ()) -> dict:
    import numpy as np

    from asha_app.calibration import strategies as S
    from asha_app.inference.live_demo import EMG_SCALE, MODEL_FS, demo_assets, demo_recording
    from asha_app.data.importers.paired_myo_mediapipe import filter_spec_hint, load_paired
    from asha_app.data.windows import WindowSpec
    from asha_app.dsp.filters import FilterSpec
    from asha_app.models import checkpoint as C
    from asha_app.models import train as T

    if quick:
        assets = demo_assets()
        base = C.load(assets.model_path)
        rec = demo_recording(assets)
        rec.emg = np.roll(rec.emg, rotate, axis=1)
        calib, held = S.split_holdout(rec, 0.25)
        data = ("quick: base = bundled live-demo model (blocks 0-3, 6-9 of the session); calibration = first 75 % "
                "of the held-out stretch (blocks 4-5); held-out = its last 25 %")
    else:
        rec = load_paired(PAIRED, fs=MODEL_FS)
        rec.emg = rec.emg * np.float32(EMG_SCALE)
        first = S.slice_recording(rec, 0.0, 250.0)
        rec.emg = np.roll(rec.emg, rotate, axis=1)
        calib = S.slice_recording(rec, 252.0, 432.0)
        held = S.slice_recording(rec, 434.0, 1e9)
        job = T.prepare(first, model_name=model, window=WindowSpec(1500.0, 60.0),
                        filter_spec=FilterSpec.from_dict(filter_spec_hint(MODEL_FS)),
                        split_args={"n_blocks": 5, "pattern": ["train", "train", "train", "val", "train"]},
                        require_test=False)
        evs = list(T.run(job, T.TrainConfig(max_epochs=30, lr=2e-3, patience=5, progress_every=0, max_time_s=600)))
        base = evs[-1].checkpoint
        data = f"full: base = {model} on 0-250 s; calibration = 252-432 s (3 min); held-out = 434-624 s"
    if rotate:
        data += f"; calibration and held-out EMG channels rolled by {rotate} (armband re-donned one electrode off)"
    out = {"data": data, "calibration_s": round(calib.duration, 1), "held_out_s": round(held.duration, 1),
           "base": _metrics(S.evaluate_on(base, held))}
    for name in S.STRATEGIES:
        t0 = time.perf_counter()
        new = None
        for ev in S.run_strategy(base, calib, name, max_time_s=40.0 if quick else 120.0):
            new = ev.checkpoint if ev.kind == "done" else new
        out[name] = {**_metrics(S.evaluate_on(new, held)), "wall_s": round(time.perf_counter() - t0, 1)}
    out["best"] = min(S.STRATEGIES, key=lambda k: out[k]["mae_mean_deg"])
    for name in scratch_models:  # the wizard's path without a base model, with each model
        from asha_app.calibration.procedure import CalibrationSettings, scratch_checkpoint

        t0 = time.perf_counter()
        evs = list(scratch_checkpoint(calib, CalibrationSettings("bench"), model_name=name))
        out[f"scratch_{name}"] = {**_metrics(S.evaluate_on(evs[-1].checkpoint, held)),
                                  "wall_s": round(time.perf_counter() - t0, 1)}
    return out


def timing_experiment(strategy: str, budget_s: float) -> dict:
    import numpy as np
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from asha_app.calibration import strategies as S
    from asha_app.inference.live_demo import DECIMATION, EMG_SCALE, FILE_FS, MODEL_FS
    from asha_app.calibration.procedure import CalibrationSettings
    from asha_app.data.importers.paired_myo_mediapipe import load_paired
    from asha_app.data.recording import Recording
    from asha_app.data.windows import WindowSpec
    from asha_app.dsp.filters import FilterSpec
    from asha_app.models import checkpoint as C
    from asha_app.models import train as T
    from asha_app.workers.finetune import CalibrationWorker

    rec = S.slice_recording(load_paired(PAIRED, fs=MODEL_FS), 252.0, 432.0)
    emg = np.repeat(rec.emg * np.float32(EMG_SCALE), DECIMATION, axis=0)
    t = rec.emg_t[0] + np.arange(len(emg)) / FILE_FS
    r500 = Recording(emg=emg, emg_t=t, fs=FILE_FS, label_t=rec.label_t, targets=rec.targets, valid=rec.valid,
                     target_names=rec.target_names, channel_names=rec.channel_names, meta={"session": "paired500"})
    spec = FilterSpec(FILE_FS, band=None, notch_hz=None)
    job = T.prepare(r500, model_name="envtcn", window=WindowSpec(1500.0, 60.0), filter_spec=spec,
                    split_args={"n_blocks": 5, "pattern": ["train", "train", "train", "val", "train"]},
                    require_test=False)
    ck = T.make_checkpoint(job, T.TrainConfig(), {"epochs_run": 0}, {})
    tmp = Path(tempfile.mkdtemp(prefix="asha_bench_cal_"))
    C.save(ck, tmp / "base500.pt")
    app = QApplication.instance() or QApplication([])
    ticks = []
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    # baseline: the same event loop with nothing running beside it (the machine's own scheduling gaps)
    timer.start()
    t_b = time.perf_counter()
    while time.perf_counter() - t_b < 5.0:
        app.processEvents()
        time.sleep(0.001)
    timer.stop()
    base_gaps = np.diff(ticks) * 1000
    ticks.clear()
    settings = CalibrationSettings("bench", base_checkpoint=tmp / "base500.pt", strategy=strategy, max_time_s=budget_s)
    wk = CalibrationWorker(r500, settings, profile_path=tmp / "bench.ashaprofile")
    t0 = time.perf_counter()
    timer.start()
    wk.start()
    while not wk.isFinished():
        app.processEvents()
        time.sleep(0.001)
    total = time.perf_counter() - t0
    timer.stop()
    gaps = np.diff(ticks) * 1000 if len(ticks) > 1 else np.array([np.nan])
    tk = np.asarray(ticks)
    st = wk.stage_times
    ft = [t for t, s in st if s == "finetune"]
    ft0 = ft[0] if ft else next((t for t, s in st if s == "evaluate"), t0)
    ft1 = next((t for t, s in st if s == "evaluate" and t > ft0 + 1e-4), ft0)
    during = gaps[(tk[1:] >= ft0) & (tk[:-1] <= ft1)] if len(tk) > 1 else np.array([])
    stage_gaps = {}
    for (ta, sa), (tb, _) in zip(st, st[1:] + [(time.perf_counter(), "end")]):
        sel = gaps[(tk[1:] >= ta) & (tk[:-1] <= tb)] if len(tk) > 1 else np.array([])
        if len(sel):
            stage_gaps[sa] = round(max(stage_gaps.get(sa, 0.0), float(sel.max())), 1)
    res = wk.result
    return {"data": "180 s of the paired session (252-432 s) zero-order-hold upsampled to 500 Hz (90,000 samples), "
                    "EnvelopeTCN built at 500 Hz as base",
            "strategy": strategy, "samples": int(len(emg)), "history_samples": ck.history,
            "finetune_wall_s": round(res.finetune_s, 1) if res else None,
            "calibration_total_wall_s": round(total, 1), "error": wk.failed,
            "gui_max_event_loop_gap_ms": round(float(np.nanmax(gaps)), 1),
            "gui_max_event_loop_gap_ms_during_finetuning": round(float(during.max()), 1) if len(during) else None,
            "gui_max_event_loop_gap_ms_by_stage": stage_gaps,
            "gui_p99_event_loop_gap_ms": round(float(np.nanpercentile(gaps, 99)), 1),
            "gui_max_event_loop_gap_ms_idle_baseline_5s": round(float(base_gaps.max()), 1),
            "profile_written": (tmp / "bench.ashaprofile").is_file()}


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--strategy", default=None, help="strategy timed in part B (default: the default strategy)")
    p.add_argument("--model", default="envtcn", help="part A, full run: the base model trained on 0-250 s")
    p.add_argument("--no-timing", action="store_true", help="part A only")
    p.add_argument("--scratch-models", default="",
                   help="part A: also train these models from scratch on the calibration minutes (comma-separated)")
    a = p.parse_args()
    if not PAIRED.is_dir():
        print(f"{PAIRED} is missing: this benchmark needs the real paired data (../shared/data)", file=sys.stderr)
        return 2
    os.environ.setdefault("ASHA_HOME", tempfile.mkdtemp(prefix="asha_bench_"))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import torch

    torch.set_num_threads(a.threads)
    from asha_app.calibration import strategies as S

    t0 = time.perf_counter()
    scratch = tuple(m for m in a.scratch_models.split(",") if m)
    strat = {"same_placement": strategies_experiment(a.quick, a.threads, model=a.model, scratch_models=scratch),
             "armband_rotated": strategies_experiment(a.quick, a.threads, rotate=1, model=a.model)}
    timing: dict | None = None
    if not a.no_timing:
        timing = timing_experiment(a.strategy or S.DEFAULT_STRATEGY, 40.0)
        if not a.quick:
            timing = {"default": timing, "all": timing_experiment("all", 45.0)}
    emit({"ok": True, "default_strategy": S.DEFAULT_STRATEGY, "strategies": strat, "timing_500hz_3min": timing,
          "goal": {"finetune_wall_s": "<= 60 on 3 min of 500 Hz", "gui_max_event_loop_gap_ms": "<= 50"},
          "cpu_count": os.cpu_count(), "load_avg_1min": round(os.getloadavg()[0], 2), "threads": a.threads,
          "bench_wall_s": round(time.perf_counter() - t0, 1)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
