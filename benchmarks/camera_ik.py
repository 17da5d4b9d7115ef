"""Benchmark of the camera labelling pipeline on real hand videos and photos.

Reads ``../shared/data/hand_media`` (relative to the repository root; exits 2
when it is missing, never falls back to made-up data).  For each real video,
frames are resized to 640x480 and pushed through the same code the camera
worker runs: ``CameraSource`` (unpaced) -> ``LandmarkDetector`` (MediaPipe Hands,
tracking mode) -> ``HandTracker`` (IK).  Torch runs on one thread.

Measured per video: MediaPipe ms/frame (median, p95), IK ms/frame (median,
p95), whole-pipeline frames/s and the share of time in decode, MediaPipe and
IK, IK CPU time of the fitting thread (``time.thread_time``: the machine may be
shared, so wall time also counts waiting for a core), IK fit error (mean
per-joint distance to MediaPipe's world landmarks, mm; median and p95 over the
fitted frames), joint-limit violations, and the
frame-to-frame jitter of the fitted joints in the hand frame (median over
consecutive labelled frames of the mean per-joint displacement, mm; and of the
second difference, which ignores steady motion) beside the same figures for
MediaPipe's own landmarks taken into the fitted hand frame, and the median fit
error per joint.
Photos are fitted from a cold start (static image mode).  Finally the real
``CameraWorker`` (capture thread overlapping MediaPipe + IK) is offered the
video at 60 frames/s and its processed frames per second are counted.

Wall-clock figures depend on what else runs on the machine; the JSON also gives
CPU time per stage (``time.process_time``, all threads of this process) and the
1-minute load average at start and end, so a busy run can be recognised.

Usage::

    python benchmarks/camera_ik.py [--quick] [--complexity 0|1]

The last line of stdout is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from asha_app.core.jsonout import print_line  # noqa: E402

VIDEOS = ["hand_landmarker_test_video.mp4", "gesture_test_video.mp4"]
PHOTOS = ["gesture_hand_thumb_up.jpg", "hand_landmarker_test_image.jpg", "ios_thumbs-up.png"]


def _stats(x) -> dict:
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0:
        return {"median": None, "p95": None, "n": 0}
    return {"median": round(float(np.median(x)), 3), "p95": round(float(np.percentile(x, 95)), 3), "n": int(x.size)}


def run_video(path: Path, complexity: int, max_frames: int | None) -> dict:
    import cv2  # noqa: F401 - decode happens in CameraSource
    import torch

    from asha_app.core.clock import SessionClock
    from asha_app.devices.camera import CameraSource
    from asha_app.pose.hand_model import HandModel
    from asha_app.pose.ik import HandTracker
    from asha_app.pose.landmarks import LandmarkDetector

    torch.set_num_threads(1)
    models = {s: HandModel.builtin(s) for s in ("right", "left")}
    tracker = HandTracker(models)
    det = LandmarkDetector(model_complexity=complexity, mirrored=False)
    src = CameraSource(path, SessionClock(), width=640, height=480, pace=False).open()
    # warm MediaPipe's graph on the first frame (its start-up is not per-frame cost)
    first = src.read()
    det.process(first.image)
    src.close()
    det.close()
    det = LandmarkDetector(model_complexity=complexity, mirrored=False)
    src = CameraSource(path, SessionClock(), width=640, height=480, pace=False).open()

    t_dec, t_mp, t_ik, cpu_ik, cpu_dec, cpu_mp = [], [], [], [], [], []
    statuses: dict[str, int] = {}
    per_joint_err: list = []
    fit, fit_after_calib, viol, n_frames, n_hand, n_valid = [], [], 0, 0, 0, 0
    fitted, mp_in_hand, valid_seq = [], [], []
    sides = {}
    t0 = time.perf_counter()
    p0 = time.process_time()
    while True:
        a = time.perf_counter()
        pa = time.process_time()
        fr = src.read()
        b = time.perf_counter()
        pb = time.process_time()
        if fr is None:
            break
        hand = det.process(fr.image)
        c = time.perf_counter()
        pc = time.process_time()
        cpu_dec.append(pb - pa)
        cpu_mp.append(pc - pb)
        cpu0 = time.thread_time()
        if hand is None:
            res = tracker.update(None, None)
        else:
            res = tracker.update(hand.world, hand.handedness)
        d = time.perf_counter()
        cpu1 = time.thread_time()
        n_frames += 1
        t_dec.append(b - a)
        t_mp.append(c - b)
        if hand is not None:
            t_ik.append(d - c)
            cpu_ik.append(cpu1 - cpu0)
            statuses[res.status] = statuses.get(res.status, 0) + 1
            n_hand += 1
            sides[hand.handedness] = sides.get(hand.handedness, 0) + 1
            n_valid += int(res.valid)
            if res.status in ("ok", "poor_fit"):
                fit.append(res.fit_error_mm)
                per_joint_err.append(res.per_joint_error_mm)
                if tracker.solvers[res.side].scales_frozen:
                    fit_after_calib.append(res.fit_error_mm)
                m = models[res.side]
                viol += int(np.sum((res.angles_deg < m.lower_deg - 1e-6) | (res.angles_deg > m.upper_deg + 1e-6)))
                from asha_app.pose.hand_torch import axis_angle_to_matrix

                R = axis_angle_to_matrix(torch.as_tensor(res.global_rot.astype(np.float64))).numpy()
                mp_in_hand.append((hand.world * 1000.0 - res.translation_mm) @ R / res.size_factor)
                fitted.append(res.joints_hand_mm)
            else:
                mp_in_hand.append(np.full((21, 3), np.nan))
                fitted.append(np.full((21, 3), np.nan))
            valid_seq.append(res.valid)
        else:
            fitted.append(np.full((21, 3), np.nan))
            mp_in_hand.append(np.full((21, 3), np.nan))
            valid_seq.append(False)
        if max_frames and n_frames >= max_frames:
            break
    total = time.perf_counter() - t0
    total_cpu = time.process_time() - p0
    src.close()
    det.close()

    fitted = np.asarray(fitted)
    mp_in_hand = np.asarray(mp_in_hand)
    ok = np.asarray(valid_seq)
    pair = ok[1:] & ok[:-1]
    jit_fit = np.linalg.norm(np.diff(fitted, axis=0), axis=2).mean(1)[pair]
    jit_mp = np.linalg.norm(np.diff(mp_in_hand, axis=0), axis=2).mean(1)[pair]
    # second differences (x[t+1] - 2 x[t] + x[t-1]) ignore steady motion: closer to pure jitter
    triple = ok[2:] & ok[1:-1] & ok[:-2]
    acc_fit = np.linalg.norm(np.diff(fitted, 2, axis=0), axis=2).mean(1)[triple]
    acc_mp = np.linalg.norm(np.diff(mp_in_hand, 2, axis=0), axis=2).mean(1)[triple]
    per_joint = np.nanmedian(np.asarray(per_joint_err), 0) if per_joint_err else np.full(21, np.nan)
    shares = {k: round(float(np.sum(v) / total), 3) for k, v in (("decode_resize", t_dec), ("mediapipe", t_mp), ("ik", t_ik))}
    return {
        "video": path.name,
        "frames": n_frames,
        "frames_with_hand": n_hand,
        "frames_valid": n_valid,
        "handedness": sides,
        "mediapipe_ms": _stats(np.asarray(t_mp) * 1e3),
        "ik_ms": _stats(np.asarray(t_ik) * 1e3),
        "ik_cpu_ms": _stats(np.asarray(cpu_ik) * 1e3),
        "ik_status": statuses,
        "decode_resize_ms": _stats(np.asarray(t_dec) * 1e3),
        "pipeline_fps": round(n_frames / total, 2),
        "mediapipe_cpu_ms": _stats(np.asarray(cpu_mp) * 1e3),
        "decode_resize_cpu_ms": _stats(np.asarray(cpu_dec) * 1e3),
        "pipeline_cpu_ms_per_frame": round(total_cpu / max(n_frames, 1) * 1e3, 2),
        "time_share": shares,
        "dominant": max(shares, key=shares.get),
        "fit_error_mm": _stats(fit),
        "fit_error_after_calibration_mm": _stats(fit_after_calib),
        "limit_violations": viol,
        "jitter_fitted_mm": _stats(jit_fit),
        "jitter_mediapipe_mm": _stats(jit_mp),
        "jitter2_fitted_mm": _stats(acc_fit),
        "jitter2_mediapipe_mm": _stats(acc_mp),
        "per_joint_fit_error_mm_median": [round(float(v), 1) for v in per_joint],
    }


def run_worker(path: Path, complexity: int, seconds: float) -> dict:
    """Throughput of the real CameraWorker (capture thread + MediaPipe + IK) fed faster than it can go.

    The video is paced at 60 frames/s (like a 60 Hz camera), resized to 640x480 and
    looped; the worker labels the newest frame whenever it is free and counts the
    frames it had to skip.  Processed frames per second is the pipeline rate the
    app gets.
    """
    from PySide6.QtCore import QCoreApplication

    from asha_app.core.clock import SessionClock
    from asha_app.devices.camera import CameraSource
    from asha_app.pose.landmarks import LandmarkDetector
    from asha_app.workers.camera import CameraWorker

    app = QCoreApplication.instance() or QCoreApplication([])
    src = CameraSource(path, SessionClock(), width=640, height=480, pace=True, loop=True, fps=60.0)
    worker = CameraWorker(src, detector_factory=lambda: LandmarkDetector(model_complexity=complexity, mirrored=False))
    worker.start()
    # let MediaPipe start, then measure over a fixed window
    t_end = time.perf_counter() + 1.5
    while time.perf_counter() < t_end:
        app.processEvents()
        time.sleep(0.01)
    a = worker.snapshot()
    t0 = time.perf_counter()
    while time.perf_counter() < t0 + seconds:
        app.processEvents()
        time.sleep(0.01)
    b = worker.snapshot()
    dt = time.perf_counter() - t0
    worker.stop(5000)
    processed = sum(b[k] - a[k] for k in ("labelled", "invalid", "no_hand"))
    return {
        "video": path.name,
        "offered_fps": 60.0,
        "processed_fps": round(processed / dt, 2),
        "labelled_fps": round((b["labelled"] - a["labelled"]) / dt, 2),
        "skipped_fps": round((b["skipped"] - a["skipped"]) / dt, 2),
        "seconds": round(dt, 2),
    }


def run_photos(folder: Path, complexity: int) -> list[dict]:
    import cv2
    import torch

    from asha_app.pose.hand_model import HandModel
    from asha_app.pose.ik import IKSolver
    from asha_app.pose.landmarks import LandmarkDetector

    torch.set_num_threads(1)
    out = []
    for name in PHOTOS:
        img = cv2.imread(str(folder / name))
        if img is None:
            out.append({"photo": name, "error": "cannot read"})
            continue
        with LandmarkDetector(static_image_mode=True, model_complexity=complexity, max_num_hands=1) as det:
            hand = det.process(img)
        if hand is None:
            out.append({"photo": name, "hand": False})
            continue
        solver = IKSolver(HandModel.builtin(hand.handedness), calib_frames=0)  # one photo: no calibration
        t = time.perf_counter()
        res = solver.solve(hand.world * 1000.0)
        out.append(
            {
                "photo": name,
                "hand": True,
                "handedness": hand.handedness,
                "score": round(hand.score, 3),
                "fit_error_mm": round(res.fit_error_mm, 2),
                "cold_ik_ms": round((time.perf_counter() - t) * 1e3, 2),
            }
        )
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="first 120 frames of each video (< 60 s)")
    ap.add_argument("--complexity", type=int, default=1, choices=(0, 1), help="MediaPipe model complexity")
    args = ap.parse_args(argv)
    media = (REPO / ".." / "shared" / "data" / "hand_media").resolve()
    missing = [v for v in VIDEOS if not (media / v).is_file()]
    if missing:
        print(f"hand media not found: {media} (missing {missing}); this benchmark needs ../shared/data", file=sys.stderr)
        print_line({"error": f"missing {media}", "missing": missing})
        return 2
    import torch

    t_start = time.perf_counter()
    load_start = round(os.getloadavg()[0], 2)
    videos = [run_video(media / v, args.complexity, 120 if args.quick else None) for v in VIDEOS]
    photos = run_photos(media, args.complexity)
    workers = [run_worker(media / v, args.complexity, 4.0 if args.quick else 10.0) for v in VIDEOS]
    for v in videos:
        print(
            f"{v['video']}: {v['frames']} frames, hand in {v['frames_with_hand']}, valid {v['frames_valid']} | "
            f"MediaPipe {v['mediapipe_ms']['median']} ms (p95 {v['mediapipe_ms']['p95']}) | "
            f"IK {v['ik_ms']['median']} ms (p95 {v['ik_ms']['p95']}; CPU {v['ik_cpu_ms']['median']}) | pipeline {v['pipeline_fps']} frames/s | "
            f"fit {v['fit_error_mm']['median']} mm (p95 {v['fit_error_mm']['p95']}) | violations {v['limit_violations']} | "
            f"jitter fitted {v['jitter_fitted_mm']['median']} mm vs MediaPipe {v['jitter_mediapipe_mm']['median']} mm "
            f"(2nd diff {v['jitter2_fitted_mm']['median']} vs {v['jitter2_mediapipe_mm']['median']}) | "
            f"time share {v['time_share']} | CPU per frame: MediaPipe {v['mediapipe_cpu_ms']['median']} ms, "
            f"whole pipeline {v['pipeline_cpu_ms_per_frame']} ms"
        )
    for p in photos:
        print(f"photo {p}")
    for w in workers:
        print(f"camera worker (capture thread + MediaPipe + IK, offered 60 frames/s at 640x480): {w}")
    all_fit = [v["fit_error_mm"]["median"] for v in videos]
    summary = {
        "benchmark": "camera_ik",
        "quick": args.quick,
        "mediapipe_complexity": args.complexity,
        "torch_threads": torch.get_num_threads(),
        "machine": f"{platform.machine()} {platform.processor() or ''} cpus={os.cpu_count()}".strip(),
        "videos": videos,
        "photos": photos,
        "worker": workers,
        "worker_processed_fps_worst_video": min(w["processed_fps"] for w in workers),
        "ik_ms_median_worst_video": max(v["ik_ms"]["median"] for v in videos),
        "ik_cpu_ms_median_worst_video": max(v["ik_cpu_ms"]["median"] for v in videos),
        "mediapipe_ms_median_worst_video": max(v["mediapipe_ms"]["median"] for v in videos),
        "pipeline_fps_worst_video": min(v["pipeline_fps"] for v in videos),
        "fit_error_mm_median_per_video": all_fit,
        "limit_violations_total": sum(v["limit_violations"] for v in videos),
        "goals": {"ik_ms_median": 5.0, "pipeline_fps": 30.0, "fit_error_mm_median": 5.0, "limit_violations": 0},
        "seconds": round(time.perf_counter() - t_start, 1),
        "load_average_1min_start_end": [load_start, round(os.getloadavg()[0], 2)],
    }
    print_line(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
