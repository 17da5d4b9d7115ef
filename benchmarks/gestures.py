"""Gesture benchmark: cross-user, across sessions, gesture subsets and live decision speed.

Data (real; ``../shared/data``, see its README):

* **Cross-user** — NinaPro DB1 development subjects (``ninapro_db1_dev``: 13 people, exercise 1, 12 finger
  movements + rest = 13 classes, 10 electrodes' RMS envelopes at 100 Hz). Leave one person out: train on 12,
  test on the 13th. Test windows: the held-out person's repetitions 3-10 (1-based). *Zero-shot*: the model as
  trained; *calibrated*: adapted with the held-out person's repetitions 1-2 of every movement (2 repetitions per
  gesture; prototype update for ``proto``, head fine-tuning for ``mhcnn``, refit for ``lda``). Balanced accuracy
  per held-out person (per 500 ms window, one every ``--stride-ms``, no vote), mean ± std, worst person.
  Models: ``lda`` on linear envelopes with fixed training statistics (the field's baseline); ``lda``, ``mlp``,
  ``mhcnn`` and ``proto`` with RunningNorm (time constant ``--tau``) on the log envelope.
* **Subsets** — on the same folds: 4 of the 13 classes active (rest + 3 movements drawn with a fixed seed), the
  ``proto`` model trained on 13 deciding over the 4 (masked argmax), against a ``proto`` model retrained on only
  those 4 classes; balanced accuracy over the 4 classes' test windows.
* **Across sessions** — the Myo gesture recordings (``emg_myo_gestures``: one person, 3 sessions, 8 classes, raw
  sEMG at 200 Hz): train on two sessions, test on the third, each way round.
* **Live** — the bundled demo stream (real Myo sEMG at 500 Hz) fed in real time in 15 ms chunks (the acquisition
  worker's drain period) to the gesture runner (decision every 40 ms) while a pose model (EnvelopeTCN, 500 Hz,
  stride 10 samples) runs on the same chunks in another thread: decisions per second and latency from the chunk's
  arrival to its decision (p50/p95). **Live in the window** — the real main window (Qt offscreen): demo stream, the
  Gestures dock with the bundled model, a pose model in an InferenceWorker on the same ring: decisions painted per
  second and latency from the worker's ring read to the painted label.

``--quick`` (< 60 s): 1 cross-user fold with short training, 1 subset, 1 cross-session fold, 3 s of live stream,
5 s in the window.
ONE JSON object on the last line.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks._common import SHARED_DATA, emit  # noqa: E402

NINAPRO = SHARED_DATA / "ninapro_db1_dev"
MYO = SHARED_DATA / "emg_myo_gestures" / "_readings_right_hand"


#: the compared classifiers: name -> (registry model, normalisation); lda_fixed is the field's baseline
VARIANTS = {
    "lda_fixed": ("lda", "fixed"),
    "lda_running": ("lda", "running"),
    "mlp_running": ("mlp", "running"),
    "mlpx_running": ("mlpx", "running"),
    "mhcnn_running": ("mhcnn", "running"),
    "proto_running": ("proto", "running"),
}


def _r(v, n=3):
    return None if v is None else round(float(v), n)


def _summary(per_person: dict) -> dict:
    import numpy as np

    v = np.array(list(per_person.values()), float)
    worst = min(per_person, key=per_person.get)
    return {
        "mean": _r(v.mean()),
        "std": _r(v.std()),
        "worst_person": worst,
        "worst": _r(per_person[worst]),
        "per_person": {k: _r(x) for k, x in per_person.items()},
    }


def cross_user(quick: bool, tau: float, epochs: int, stride: float, seed: int = 0, mlp_epochs: int = 30,
               mlp_members: int = 1, only: list[str] | None = None, mlp_config: dict | None = None) -> dict:
    import numpy as np

    from asha_app.data.splits import make_split
    from asha_app.data.windows import WindowSpec
    from asha_app.dsp.filters import FilterSpec
    from asha_app.gestures.datasets import read_ninapro_gestures
    from asha_app.gestures.train import GestureJob, TrainConfig, adapt, evaluate, fit, fit_norm, new_model
    from asha_app.gestures.windows import build_gesture_windows, window_repetitions

    t0 = time.monotonic()
    files = sorted(NINAPRO.glob("S*_A1_E1.mat"), key=lambda p: int(p.stem.split("_")[0][1:]))
    recs = [read_ninapro_gestures(f, fs=100.0) for f in files]
    people = [r.meta["participant"] for r in recs]
    ws = build_gesture_windows(recs, WindowSpec(500.0, stride), FilterSpec(fs=100.0, band=None, notch_hz=None))
    reps = window_repetitions(ws)
    held_out = people[:1] if quick else people
    variants = dict(VARIANTS)
    if quick:
        variants.pop("mhcnn_running")
        variants.pop("lda_running")
        variants.pop("mlpx_running")
    if only:
        variants = {k: v for k, v in variants.items() if k in only or k == "lda_fixed"}
    cfg = TrainConfig(max_epochs=epochs, seed=seed, batch_size=256)
    cfg_mlp = TrainConfig(max_epochs=mlp_epochs, seed=seed, batch_size=256)  # ~1 s an epoch: it can afford more
    zs = {k: {} for k in variants}
    cal = {k: {} for k in variants}
    subsets_masked, subsets_retrained = {}, {}
    rng = np.random.default_rng(seed)
    n_sub = 1 if quick else 2
    subset_folds = set(held_out[:1] if quick else held_out[:2])
    fold_s = []
    for person in held_out:
        tf = time.monotonic()
        split = make_split(
            ws, "participants", assign_participant={p: ("test" if p == person else "train") for p in people}
        )
        tr, te = split.indices("train"), split.indices("test")
        cal_idx, test_idx = te[(reps[te] >= 0) & (reps[te] < 2)], te[reps[te] >= 2]
        jobs = {}
        for name, (model_name, norm) in variants.items():
            if norm not in jobs:
                # the baseline as the field runs it: linear envelopes, training statistics; RunningNorm on the
                # log envelope (what `asha train --task gesture` does with rectified envelopes)
                gn = fit_norm(ws, tr, norm, tau, log_input=norm == "running")
                jobs[norm] = GestureJob(ws, split, gn, gn.apply_windows(ws))
            job = jobs[norm]
            mcfg = {"members": mlp_members, **(mlp_config or {})} if model_name == "mlp" else None
            m = new_model(model_name, job, mcfg)
            fit(m, job, cfg_mlp if model_name in ("mlp", "mlpx") else cfg, train_idx=tr, val_idx=np.zeros(0, np.int64))
            zs[name][person] = evaluate(m, job, test_idx)["balanced_accuracy"]
            if name == "proto_running" and person in subset_folds:
                for _ in range(n_sub):
                    chosen = [0, *sorted(rng.choice(np.arange(1, len(ws.classes)), 3, replace=False).tolist())]
                    mask = np.zeros(len(ws.classes), bool)
                    mask[chosen] = True
                    key = f"{person}:" + ",".join(ws.classes[i] for i in chosen)
                    te4 = test_idx[mask[ws.labels[test_idx]]]
                    subsets_masked[key] = evaluate(m, job, te4, active=mask)["balanced_accuracy"]
                    m4 = new_model(model_name, job)
                    fit(m4, job, cfg, train_idx=tr[mask[ws.labels[tr]]], val_idx=np.zeros(0, np.int64))
                    subsets_retrained[key] = evaluate(m4, job, te4, active=mask)["balanced_accuracy"]
            adapt(m, job, cal_idx)
            cal[name][person] = evaluate(m, job, test_idx)["balanced_accuracy"]
        fold_s.append(time.monotonic() - tf)
        print(
            f"fold {person}: " + ", ".join(f"{k} {zs[k][person]:.3f}->{cal[k][person]:.3f}" for k in variants),
            file=sys.stderr,
            flush=True,
        )
    out = {
        "data": "NinaPro DB1 dev (13 people, exercise 1, 13 classes incl. rest, 100 Hz envelopes)",
        "protocol": "leave one person out; test = held-out person's repetitions 3-10; calibration = repetitions 1-2",
        "window_ms": 500,
        "decision_stride_ms": stride,
        "running_norm_tau_s": tau,
        "epochs": epochs,
        "mlp_epochs": mlp_epochs,
        "mlp_members": mlp_members,
        "mlp_config": mlp_config or {},
        "held_out": held_out,
        "fold_seconds_mean": _r(np.mean(fold_s), 1),
        "zero_shot": {k: _summary(v) for k, v in zs.items()},
        "calibrated": {k: _summary(v) for k, v in cal.items()},
    }
    out["calibration_lifts_every_person"] = {k: all(cal[k][p] > zs[k][p] for p in held_out) for k in variants}
    best = max((k for k in variants if not k.startswith("lda")), key=lambda k: out["zero_shot"][k]["mean"])
    out["best_model"] = best
    out["best_minus_lda_fixed_points"] = _r(
        100 * (out["zero_shot"][best]["mean"] - out["zero_shot"]["lda_fixed"]["mean"]), 1
    )
    if "lda_running" in variants:
        out["best_minus_lda_running_points"] = _r(
            100 * (out["zero_shot"][best]["mean"] - out["zero_shot"]["lda_running"]["mean"]), 1
        )
        out["running_norm_gain_lda_points"] = _r(
            100 * (out["zero_shot"]["lda_running"]["mean"] - out["zero_shot"]["lda_fixed"]["mean"]), 1
        )
    diffs = [subsets_masked[k] - subsets_retrained[k] for k in subsets_masked]
    out["subsets"] = {
        "model": "proto_running",
        "masked_13_to_4": {k: _r(v) for k, v in subsets_masked.items()},
        "retrained_on_4": {k: _r(v) for k, v in subsets_retrained.items()},
        "mean_masked_minus_retrained_points": _r(100 * float(np.mean(diffs)), 1) if diffs else None,
    }
    out["elapsed_s"] = _r(time.monotonic() - t0, 1)
    return out


def across_sessions(quick: bool, epochs: int, seed: int = 0, mlp_epochs: int | None = None) -> dict:
    import numpy as np

    from asha_app.data.windows import WindowSpec
    from asha_app.dsp.filters import FilterSpec
    from asha_app.gestures.datasets import read_myo_gesture_session
    from asha_app.gestures.train import TrainConfig, evaluate, fit, new_model, prepare

    t0 = time.monotonic()
    sessions = sorted(p for p in MYO.iterdir() if p.is_dir())
    recs = [r for s in sessions for r in read_myo_gesture_session(s)]
    names = [s.name for s in sessions]
    fspec = FilterSpec(fs=200.0, band=(20.0, 95.0), notch_hz=50.0)
    variants = dict(VARIANTS)
    res = {k: {} for k in variants}
    for test in names[-1:] if quick else names:
        for key, (model_name, norm) in variants.items():
            if quick and model_name in ("mhcnn", "mlpx"):
                continue
            job = prepare(
                recs,
                WindowSpec(500.0, 100.0 if quick else 50.0),
                fspec,
                split="sessions",
                split_args={"assign_session": {s: ("test" if s == test else "train") for s in names}},
                norm=norm,
                tau_s=60.0,
            )
            m = new_model(model_name, job)
            n_ep = mlp_epochs if model_name in ("mlp", "mlpx") and mlp_epochs else epochs
            fit(m, job, TrainConfig(max_epochs=n_ep, seed=seed), val_idx=np.zeros(0, np.int64))
            res[key][f"test {test}"] = evaluate(m, job, job.split.indices("test"))["balanced_accuracy"]
        print(
            f"sessions, test {test}: "
            + ", ".join(f"{k} {v.get('test ' + test, float('nan')):.3f}" for k, v in res.items()),
            file=sys.stderr,
            flush=True,
        )
    return {
        "data": "myo-readings-dataset 12345-1..3 (one person, 8 classes incl. rest, raw sEMG 200 Hz)",
        "protocol": "train on two sessions, test on the third",
        "window_ms": 500,
        "balanced_accuracy": {
            k: {"mean": _r(np.mean(list(v.values()))) if v else None, **{s: _r(x) for s, x in v.items()}}
            for k, v in res.items()
        },
        "elapsed_s": _r(time.monotonic() - t0, 1),
    }


def live(quick: bool, seconds: float) -> dict:
    import numpy as np
    import torch

    from asha_app.data.normalisation import Normalizer
    from asha_app.data.windows import WindowSpec
    from asha_app.dsp.filters import FilterSpec
    from asha_app.gestures.datasets import demo_gesture_recording
    from asha_app.gestures.streaming import GestureRunner, MajorityVote
    from asha_app.gestures.train import TrainConfig, fit, load_gesture_checkpoint, make_checkpoint, new_model, prepare
    from asha_app.models.registry import build
    from asha_app.models.streaming import StreamingRunner

    rec = demo_gesture_recording()
    bundled = REPO / "resources" / "gestures" / "demo_gestures.pt"
    if bundled.is_file():
        ck = load_gesture_checkpoint(bundled)
        which = f"bundled {bundled.name} ({ck.model_name})"
    else:
        job = prepare(rec, WindowSpec(500, 100), FilterSpec(fs=500), norm="running", tau_s=60.0)
        m = new_model("proto", job)
        fit(m, job, TrainConfig(max_epochs=1))
        ck = make_checkpoint(job, m)
        which = "proto trained here for 1 epoch"
    runner = GestureRunner.from_checkpoint(ck, 40.0)
    vote = MajorityVote(ck.target_names)
    pose_model = build("envtcn", n_channels=8, n_targets=22, fs=500.0)
    norm = Normalizer(
        np.zeros(8, np.float32), np.full(8, 50.0, np.float32), np.zeros(22, np.float32), np.ones(22, np.float32)
    )
    pose = StreamingRunner(pose_model, norm, FilterSpec(fs=500.0), stride=10)
    torch.set_num_threads(1)
    chunk_s = 0.015
    n_total = int(seconds * 500)
    emg = rec.emg[:n_total]
    q_pose: list = []
    lock = threading.Condition()
    done = threading.Event()
    poses = [0]

    def pose_loop():
        while not done.is_set() or q_pose:
            with lock:
                while not q_pose and not done.is_set():
                    lock.wait(0.05)
                items, q_pose[:] = list(q_pose), []
            for c in items:
                poses[0] += len(pose.process(c)[0])

    th = threading.Thread(target=pose_loop, daemon=True)
    th.start()
    lat, n_dec = [], 0
    start = time.perf_counter()
    sent = 0
    while sent < n_total:
        due = int((time.perf_counter() - start) * 500)
        if due <= sent:
            time.sleep(chunk_s - ((time.perf_counter() - start) % chunk_s))
            continue
        c = emg[sent : min(due, n_total)]
        sent += len(c)
        arrived = time.perf_counter()
        with lock:
            q_pose.append(c)
            lock.notify()
        idx, scores = runner.process(c)
        if len(idx):
            vote.push(scores)
            n_dec += len(idx)
            lat.append((time.perf_counter() - arrived) * 1000.0)
    wall = time.perf_counter() - start
    done.set()
    th.join(5)
    lat = np.asarray(lat)
    return {
        "stream": "bundled demo (real Myo sEMG, 500 Hz) paced in real time, 15 ms chunks",
        "gesture_model": which,
        "pose_model": "EnvelopeTCN 500 Hz (untrained weights, same cost), stride 10, separate thread",
        "seconds": _r(wall, 1),
        "decisions_per_s": _r(n_dec / wall, 1),
        "poses_per_s": _r(poses[0] / wall, 1),
        "latency_chunk_to_decision_ms": {
            "p50": _r(np.percentile(lat, 50), 2),
            "p95": _r(np.percentile(lat, 95), 2),
            "max": _r(lat.max(), 2),
        },
        "torch_threads": 1,
    }


def live_gui(seconds: float) -> dict:
    """The real main window (offscreen): demo stream, the Gestures dock with the bundled model, and a pose model
    (EnvelopeTCN at 500 Hz, untrained weights: the same cost) in an InferenceWorker on the same ring."""
    import os

    import numpy as np

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from asha_app.app import create_window
    from asha_app.core.settings import AppSettings
    from asha_app.data.normalisation import Normalizer
    from asha_app.data.windows import WindowSpec
    from asha_app.dsp.filters import FilterSpec
    from asha_app.models.checkpoint import Checkpoint
    from asha_app.models.registry import build
    from asha_app.workers.inference import InferenceWorker

    app = QApplication.instance() or QApplication([])
    w = create_window(demo=False, settings=AppSettings())
    w.show()
    g = w.gestures
    g.start_demo_model()
    pose_model = build("envtcn", n_channels=8, n_targets=22, fs=500.0)
    ck = Checkpoint.from_model(
        pose_model,
        normalizer=Normalizer(
            np.zeros(8, np.float32), np.full(8, 50.0, np.float32), np.zeros(22, np.float32), np.ones(22, np.float32)
        ),
        channel_names=[f"ch{i + 1}" for i in range(8)],
        fs=500.0,
        window=WindowSpec(400, 20),
        filter_spec=FilterSpec(fs=500.0),
        target_names=[f"a{i}" for i in range(22)],
        target_kind="joint_angles",
    )
    pose = InferenceWorker(ck, w.worker.emg_ring, stride=10)
    pose.start()
    res = {}

    warm = {}

    def after_start():  # rates are counted from here: loading the model and starting the demo take a few seconds
        warm.update(painted=g.painted, poses=pose.outputs, t=time.perf_counter())
        g.latency_ms.clear()

    def finish():
        lat = np.asarray(g.latency_ms)
        dt = time.perf_counter() - warm["t"]
        res.update(
            decisions_painted_per_s=_r((g.painted - warm["painted"]) / dt, 1),
            poses_per_s=_r((pose.outputs - warm["poses"]) / dt, 1),
            measured_s=_r(dt, 1),
            latency_ring_to_label_ms={"p50": _r(np.percentile(lat, 50), 1), "p95": _r(np.percentile(lat, 95), 1)},
        )
        pose.stop()
        w.shutdown()
        app.quit()

    QTimer.singleShot(3000, after_start)
    QTimer.singleShot(int((seconds + 3) * 1000), finish)
    app.exec()
    res.update(
        window="real main window, Qt offscreen platform, demo stream (500 Hz) and the bundled gesture model",
        pose_model="EnvelopeTCN 500 Hz in an InferenceWorker on the same ring, stride 10",
        seconds=seconds,
    )
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--tau", type=float, default=300.0, help="RunningNorm time constant for NinaPro, s")
    ap.add_argument("--epochs", type=int, default=None, help="training epochs (default 1 quick, 5 full)")
    ap.add_argument("--mlp-epochs", type=int, default=None, help="epochs of the mlp model (default 5 quick, 30 full)")
    ap.add_argument("--mlp-members", type=int, default=1, help="mlp: independently trained members averaged")
    ap.add_argument("--mlp-config", default="{}", help="cross-user: mlp settings as JSON, e.g. '{\"corr\": true}'")
    ap.add_argument("--variants", default=None,
                    help="cross-user: comma-separated variants to run (lda_fixed, the baseline, always runs)")
    ap.add_argument("--stride-ms", type=float, default=200.0, help="cross-user window stride (train and test), ms")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (more than 1 is much slower on shared cores)")
    ap.add_argument("--only", choices=["cross_user", "sessions", "live", "live_gui"], action="append")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    out = {"quick": args.quick}
    if not SHARED_DATA.exists():
        out["skipped"] = f"{SHARED_DATA} is missing: cross-user and cross-session parts need ../shared/data"
    parts = args.only or ["cross_user", "sessions", "live", "live_gui"]
    epochs = args.epochs or (1 if args.quick else 5)
    mlp_epochs = args.mlp_epochs or (5 if args.quick else 30)
    if "cross_user" in parts and NINAPRO.exists():
        out["cross_user"] = cross_user(args.quick, args.tau, epochs, args.stride_ms, mlp_epochs=mlp_epochs,
                                       mlp_members=args.mlp_members,
                                       only=args.variants.split(",") if args.variants else None,
                                       mlp_config=json.loads(args.mlp_config))
    if "sessions" in parts and MYO.exists():
        out["across_sessions"] = across_sessions(args.quick, epochs, mlp_epochs=mlp_epochs)
    if "live" in parts:
        out["live"] = live(args.quick, 3.0 if args.quick else 60.0)
    if "live_gui" in parts:
        out["live_gui"] = live_gui(5.0 if args.quick else 30.0)
    emit(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
