"""Soak: demo acquisition + camera labels + recording + live inference, all at once, for a long time.

What runs (the app's real parts in one process, wired as the recording wizard and the Live dock wire them):

* EMG: the bundled demo (real Myo sEMG at 500 Hz replayed by the MindRove SDK's playback board, which
  loops the 140 s file) through the real :class:`AcquisitionWorker`;
* labels: the real :class:`CameraWorker` (MediaPipe Hands + IK) on the bundled demo video, paced at 30 frames/s,
  moved into the recorder's queue every 50 ms as the session page does;
* recording: the real :class:`RecorderWorker` writing a session file (gzip, SWMR, flush <= 1 s), created with
  the source's ``package_restart`` as the wizard does;
* live inference: the real :class:`InferenceWorker` running the bundled live-demo checkpoint (EnvelopeTCN,
  50 Hz after decimation 10) on the same EMG ring.

Reported (last line of stdout: one JSON object): resident memory, threads and open file descriptors of the
process at the start (after everything started), at the end and their maximum; EMG samples delivered to the ring
after the recorder started vs samples in the file; camera frames sent vs in the file; poses published by the
inference worker per second; the dropped samples the finalized file reports (the demo loops: every loop of the
playback file must count as a restart, not as lost samples).

Usage::

    nice -n 10 python benchmarks/soak.py [--quick] [--seconds N]

``--quick``: 60 s; default 30 minutes.
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

LABEL_FPS = 30.0


def _log(msg: str) -> None:
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


def soak(path: Path, seconds: float, sample_every_s: float = 10.0) -> dict:
    """Run everything for ``seconds``; returns the figures."""
    import psutil
    from PySide6.QtCore import QCoreApplication

    from asha_app.calibration.live_demo import demo_assets
    from asha_app.core.clock import SessionClock
    from asha_app.core.settings import AppSettings
    from asha_app.data.reader import SessionFile
    from asha_app.data.writer import SessionWriter
    from asha_app.devices.camera import CameraSource, demo_video_path
    from asha_app.devices.emg import DemoSource
    from asha_app.dsp.filters import FilterSpec
    from asha_app.models import checkpoint as C
    from asha_app.pose.hand_model import HandModel
    from asha_app.ui.recording_wizard import camera_label_to_frame
    from asha_app.workers.acquisition import AcquisitionWorker
    from asha_app.workers.camera import CameraWorker
    from asha_app.workers.inference import InferenceWorker
    from asha_app.workers.recorder import RecorderWorker, make_frame_queue

    app = QCoreApplication.instance() or QCoreApplication([])
    proc = psutil.Process()
    clock = SessionClock()
    spec = FilterSpec.from_settings(AppSettings().filter, 500.0)
    acq = AcquisitionWorker(DemoSource, clock, 500.0, 8, filter_spec=spec)
    cam = CameraWorker(CameraSource(demo_video_path(), clock, pace=True, loop=True, fps=LABEL_FPS))
    acq.start()
    cam.start()
    t_wait = time.monotonic()
    while (acq.emg_ring.total == 0 or acq.source is None) and time.monotonic() - t_wait < 90:
        app.processEvents()
        time.sleep(0.05)
    if acq.emg_ring.total == 0:
        raise SystemExit("the demo EMG source delivered nothing within 90 s")
    assets = demo_assets()
    ckpt = C.load(assets.model_path)
    decimation = max(1, int(round(500.0 / ckpt.fs)))
    inf = InferenceWorker(ckpt, acq.emg_ring, decimation=decimation)
    dof = HandModel.builtin("right").dof_names
    writer = SessionWriter(path, 8, 500.0, dof, filter_spec=spec, package_modulus=acq.source.package_modulus,
                           package_restart=acq.source.package_restart, session_t0_unix=clock.t0_unix,
                           participant={"pseudonym": "SOAK"}, device={"kind": "demo"}, camera={"name": "demo video"},
                           overwrite=True)
    frames = make_frame_queue(8192)
    cam.labels.drain()
    rec = RecorderWorker(writer, acq.emg_ring, acq.imu_ring, frames, poll_ms=50)
    start_total = rec._emg_reader.cursor  # noqa: SLF001 - the recorder records every sample after this counter
    poses = {"n": 0}
    inf.pose_ready.connect(lambda: poses.__setitem__("n", poses["n"] + 1))
    rec.start()
    inf.start()
    frames_sent = 0
    t0 = time.monotonic()
    samples = []

    def sample(now: float) -> dict:
        c, p = writer.counts, writer.pending
        return {"t_s": round(now - t0, 1), "rss_mb": round(proc.memory_info().rss / 1e6, 1),
                "threads": proc.num_threads(), "fds": proc.num_fds(),
                "delivered": int(acq.emg_ring.total - start_total), "recorded": int(c["emg"] + p["emg"]),
                "poses": poses["n"]}

    # the first sample after everything runs (warm-up of MediaPipe and torch inside the window)
    last_sample = t0 - sample_every_s
    last_log = t0
    while True:
        now = time.monotonic()
        if now - t0 >= seconds or not rec.isRunning():
            break
        app.processEvents()
        for lab in cam.labels.drain():
            frames.put_nowait(camera_label_to_frame(lab))
            frames_sent += 1
        if now - last_sample >= sample_every_s:
            last_sample = now
            samples.append(sample(now))
        if now - last_log >= 60.0:
            last_log = now
            s = samples[-1]
            _log(f"  {s['t_s']:6.0f} s: RSS {s['rss_mb']} MB, {s['threads']} threads, {s['fds']} fds, "
                 f"{s['delivered']} delivered / {s['recorded']} recorded, {s['poses']} poses")
        time.sleep(0.05)
    wall = time.monotonic() - t0
    inf.stop(5000)
    acq.stop(5000)
    cam.stop(5000)
    for lab in cam.labels.drain():
        frames.put_nowait(camera_label_to_frame(lab))
        frames_sent += 1
    delivered = acq.emg_ring.total - start_total
    rec.stop(60_000)
    end = sample(time.monotonic())
    with SessionFile(path) as sf:
        n_file, n_frames, summary = sf.n_emg, sf.n_frames, sf.summary
    start = samples[1] if len(samples) > 1 else samples[0]  # 10 s in: every worker has started its thread
    return {
        "seconds": round(wall, 1),
        "rss_mb_start": start["rss_mb"], "rss_mb_end": end["rss_mb"], "rss_mb_max": max(s["rss_mb"] for s in samples),
        "threads_start": start["threads"], "threads_end_running": samples[-1]["threads"],
        "threads_max": max(s["threads"] for s in samples),
        "fds_start": start["fds"], "fds_end_running": samples[-1]["fds"], "fds_max": max(s["fds"] for s in samples),
        "fds_after_stop": end["fds"], "threads_after_stop": end["threads"],
        "samples_delivered": int(delivered), "samples_in_file": int(n_file),
        "samples_equal": int(delivered) == int(n_file),
        "frames_sent": int(frames_sent), "frames_in_file": int(n_frames),
        "poses_per_s": round(poses["n"] / wall, 1),
        "dropped_reported": int(summary.get("dropped_samples", -1)), "dropped_host": int(summary.get("dropped_host", -1)),
        "finalized": bool(summary.get("finalized")),
        "recorder_error": rec.failed,
        "timeline": samples[:: max(1, len(samples) // 12)] + [end],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="60 s")
    ap.add_argument("--seconds", type=float, default=None, help="soak length (default 1800 s)")
    args = ap.parse_args()
    os.environ.setdefault("ASHA_HOME", tempfile.mkdtemp(prefix="asha_soak_"))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import logging

    logging.basicConfig(level=logging.WARNING)
    import torch

    torch.set_num_threads(1)
    seconds = args.seconds or (60.0 if args.quick else 1800.0)
    with tempfile.TemporaryDirectory() as tmp:
        _log(f"soak: {seconds:.0f} s of demo EMG + camera labels + recording + live inference ...")
        res = soak(Path(tmp) / "soak.h5", seconds)
    from asha_app.core.jsonout import print_line

    print_line({"benchmark": "soak", "quick": bool(args.quick), "machine_cpus": os.cpu_count(),
                "load_avg_end": round(os.getloadavg()[0], 2), **res})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
